//! Extraction + theming + clustering throughput on generated opinion rows.
//!
//! `cargo bench --bench suggest` runs 10,000 suggestions; `DIAOYAN_BENCH_SUGGESTIONS=1000000`
//! sets the size (the closing notes report 10k, 100k and 1M).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
mod common;

use common::rows;

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("DIAOYAN_BENCH_SUGGESTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let subs = rows(n);
    let suggester = diaoyan_suggest::SuggestConfig::default()
        .build(diaoyan_text::Segmenter::builtin())
        .expect("suggester");
    let mut g = c.benchmark_group("suggest");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("extract_theme_cluster_{n}"), |b| {
        b.iter(|| suggester.run(&subs, None).issues.len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
