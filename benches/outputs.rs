//! The last stages' throughput: the keyword index and the digest writers (CSV, the workbook) over
//! the suggestions of generated opinion rows.
//!
//! (The digest itself has its own bench: `benches/digest.rs`.)
//!
//! `cargo bench --bench outputs` runs 10,000 suggestions; `DIAOYAN_BENCH_SUGGESTIONS=100000` sets
//! the size.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use diaoyan_digest::Table;

mod common;

use common::rows;

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("DIAOYAN_BENCH_SUGGESTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let seg = diaoyan_text::Segmenter::builtin();
    let suggester = diaoyan_suggest::SuggestConfig::default()
        .build(seg.clone())
        .expect("suggester");
    let out = suggester.run(&rows(n), None);
    let mut table = Table::new(
        "意见建议",
        &[
            "ID",
            "文件",
            "作者",
            "地点",
            "日期",
            "内容",
            "主题",
            "问题编号",
        ],
    );
    for s in &out.suggestions {
        table.push(vec![
            s.id.to_string(),
            s.source.path.to_string(),
            s.source.author.to_string(),
            s.source.place.to_string(),
            s.source.date.to_string(),
            s.text.to_string(),
            s.theme.to_string(),
            s.issue.as_deref().unwrap_or_default().to_owned(),
        ]);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut g = c.benchmark_group("outputs");
    g.sample_size(10);
    g.throughput(Throughput::Elements(out.suggestions.len() as u64));
    g.bench_function(format!("index_{n}"), |b| {
        b.iter(|| {
            let entries = out.suggestions.iter().map(|s| {
                diaoyan_index::Entry::suggestion(s, &s.source.path, "蹲点手记", "", "通过")
            });
            diaoyan_index::build(&dir.path().join("index"), &seg, entries).expect("index")
        })
    });
    g.bench_function(format!("csv_{n}"), |b| {
        b.iter(|| diaoyan_digest::write_csv(&dir.path().join("s.csv"), &table).expect("csv"))
    });
    g.bench_function(format!("xlsx_{n}"), |b| {
        b.iter(|| diaoyan_digest::write_xlsx(&dir.path().join("s.xlsx"), &[&table]).expect("xlsx"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
