//! Extraction + theming + clustering throughput on generated opinion rows.
//!
//! `cargo bench --bench suggest` runs 10,000 suggestions; `DIAOYAN_BENCH_SUGGESTIONS=1000000`
//! sets the size (the closing notes report 10k, 100k and 1M).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use diaoyan_model::{Kind, Submission};

/// Opinion rows in the style of a county's message board: problems and requests drawn from the
/// generator's campaign text, one row each.
fn rows(n: usize) -> Vec<Submission> {
    let docs = diaoyan_gen::generate(n / 8 + 1, 7);
    let sentences: Vec<String> = docs
        .iter()
        .flat_map(|d| {
            d.text
                .split(['。', '\n'])
                .filter(|s| s.chars().count() >= 10)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    (0..n)
        .map(|i| Submission {
            id: format!("{i:08}"),
            path: format!("opinions.xlsx#{}", i + 2),
            kind: Some(Kind::Opinion),
            author: format!("居民{}", i % 5000),
            place: docs[i % docs.len()].village.clone(),
            date: format!("2024-03-{:02}", 1 + i % 28),
            text: format!("{}。", sentences[i % sentences.len()]),
            ..Submission::default()
        })
        .collect()
}

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
