//! Scoring throughput (MB/s) and copy detection on generated campaigns.
//!
//! `cargo bench --bench score`; `DIAOYAN_BENCH_DOCS=100000 cargo bench --bench score -- copy`
//! runs copy detection on 100,000 submissions (default 5,000 documents ≈ 9 MB).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use diaoyan_model::{Kind, Submission};

fn corpus(n: usize) -> Vec<Submission> {
    diaoyan_gen::generate(n, 42)
        .into_iter()
        .enumerate()
        .map(|(i, d)| Submission {
            id: format!("{i:08}").into(),
            path: d.path.into(),
            kind: Some(if d.kind == "report" {
                Kind::Report
            } else {
                Kind::Note
            }),
            author: d.author.into(),
            date: d.date.into(),
            text: d.text.into(),
            ..Submission::default()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("DIAOYAN_BENCH_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    let subs = corpus(n);
    let bytes: u64 = subs.iter().map(|s| s.text.len() as u64).sum();
    let scorer = diaoyan_score::ScoreConfig::default()
        .build(diaoyan_text::Segmenter::builtin())
        .expect("scorer");
    let cfg = diaoyan_score::CopyConfig::default();

    let mut g = c.benchmark_group("score");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function(format!("copy_detection_{n}_docs"), |b| {
        let docs: Vec<diaoyan_score::CopyDoc> = subs
            .iter()
            .map(|s| diaoyan_score::CopyDoc {
                id: &s.id,
                path: &s.path,
                author: &s.author,
                date: &s.date,
                text: s.text.as_str().into(),
                reference: false,
                stock: &[],
            })
            .collect();
        b.iter(|| diaoyan_score::detect_copies(&docs, &cfg).0.len())
    });
    if n <= 20_000 {
        g.bench_function(format!("score_all_{n}_docs"), |b| {
            b.iter(|| scorer.score(&subs, &[], &[]).assessments.len())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
