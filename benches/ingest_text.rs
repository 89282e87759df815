//! Ingest and segmentation throughput (MB/s) on a generated campaign.
//!
//! `cargo bench --bench ingest_text` (set DIAOYAN_BENCH_DOCS to change the corpus size; default
//! 2,000 documents ≈ 4 MB of text).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;

fn bench(c: &mut Criterion) {
    let docs: usize = std::env::var("DIAOYAN_BENCH_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().expect("temp dir");
    diaoyan_gen::write_corpus(dir.path(), docs, 42).expect("generate corpus");
    let cfg = diaoyan_ingest::IngestConfig::default();
    let out = diaoyan_ingest::ingest(dir.path(), &cfg).expect("ingest");
    let bytes: u64 = out.submissions.iter().map(|s| s.text.len() as u64).sum();

    let mut g = c.benchmark_group("campaign");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function(format!("ingest_{docs}_docs"), |b| {
        b.iter(|| {
            diaoyan_ingest::ingest(dir.path(), &cfg)
                .expect("ingest")
                .submissions
                .len()
        })
    });
    let seg = diaoyan_text::Segmenter::builtin();
    g.bench_function(format!("segment_{docs}_docs"), |b| {
        b.iter(|| {
            out.submissions
                .par_iter()
                .map(|s| {
                    diaoyan_text::sentences(&s.text)
                        .iter()
                        .map(|sp| seg.words(sp.of(&s.text)).len())
                        .sum::<usize>()
                })
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
