//! The digest: building the polars tables from a run's suggestions, writing the Parquet copies,
//! and aggregating + rendering every format (docx, html, md, xlsx). The run is synthetic plain
//! data (no pipeline), so a million suggestions cost seconds to set up.
//!
//! `cargo bench --bench digest` runs 100,000 suggestions; `DIAOYAN_BENCH_SUGGESTIONS=1000000` sets
//! the size (issue 9 asks for the figure at 1,000,000).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use diaoyan_model::{Heat, Issue, Kind, Submission, Suggestion, Topic, Voice};
use diaoyan_report::{Facts, Filter, Format, RunParts, Tables};

const THEMES: [(&str, &str); 6] = [
    ("四风", "形式主义"),
    ("民生", "交通运输"),
    ("民生", "城乡建设"),
    ("民生", "卫生计生"),
    ("民生", "环境保护"),
    ("民生", "教育文体"),
];

struct Run {
    subs: Vec<Submission>,
    suggestions: Vec<Suggestion>,
    issues: Vec<Issue>,
    topics: Vec<Topic>,
}

/// `n` suggestions, one submission per 5, an issue per 20 (half of them), a topic per 5 issues.
fn run(n: usize) -> Run {
    let subs: Vec<Submission> = (0..n.div_ceil(5))
        .map(|i| Submission {
            id: format!("{i:016x}").into(),
            path: format!("意见表.xlsx#{}", i + 2).into(),
            kind: Some(Kind::Opinion),
            author: format!("村民{i}").into(),
            unit: format!("第{}镇", i % 40).into(),
            place: format!("第{}村", i % 400).into(),
            date: format!("2023-09-{:02}", 1 + i % 28).into(),
            title: format!("关于第{}村道路的意见", i % 400),
            ..Default::default()
        })
        .collect();
    let n_issues = n / 40;
    let heat = Heat {
        total: 50.0,
        people: 10,
        places: 3,
        units: 2,
        concentration: 0.5,
        likes: 0,
    };
    let suggestions: Vec<Suggestion> = (0..n)
        .map(|i| {
            let s = &subs[i / 5];
            let (g, t) = THEMES[i % THEMES.len()];
            let issue = (i % 2 == 0 && n_issues > 0).then(|| format!("I{:06}", (i / 2) % n_issues));
            let topic = issue
                .as_ref()
                .map(|x| format!("T{}", &x[1..x.len() - 1]).into());
            Suggestion {
                id: format!("s{i:015x}").as_str().into(),
                source: std::sync::Arc::new(diaoyan_model::Source {
                    subject: s.title.as_str().into(),
                    ..diaoyan_model::Source::of(s)
                }),
                places: vec![format!("第{}村{}组", i % 400, i % 9).into()],
                voice: Voice::People,
                empty: false,
                text: format!(
                    "第{}村{}组的机耕路坑洼不平，雨天没法走，建议硬化（第{i}条）",
                    i % 400,
                    i % 9
                )
                .into(),
                start: 0,
                end: 0,
                theme_group: g.into(),
                theme: t.into(),
                topic,
                issue: issue.map(Into::into),
            }
        })
        .collect();
    let issues: Vec<Issue> = (0..n_issues)
        .map(|k| Issue {
            id: format!("I{k:06}"),
            title: format!("第{}村机耕路", k % 400),
            keywords: "机耕路".into(),
            topic: Some(format!("T{:05}", k / 10)),
            central: String::new(),
            theme_group: "民生".into(),
            theme: "交通运输".into(),
            heat,
            mentions: 20,
            submissions: 10,
            places: vec![format!("第{}村", k % 400)],
            first: "2023-09-01".into(),
            last: "2023-09-28".into(),
            examples: Vec::new(),
            members: Vec::new(),
        })
        .collect();
    let topics: Vec<Topic> = (0..n_issues.div_ceil(10))
        .map(|k| Topic {
            id: format!("T{k:05}"),
            title: format!("机耕路硬化（第{k}片）"),
            keywords: "机耕路".into(),
            theme_group: "民生".into(),
            theme: "交通运输".into(),
            heat,
            mentions: 200,
            submissions: 100,
            places: vec!["第1村".into()],
            first: "2023-09-01".into(),
            last: "2023-09-28".into(),
            issues: (k * 10..(k * 10 + 10).min(n_issues))
                .map(|i| format!("I{i:06}"))
                .collect(),
            examples: Vec::new(),
            members: Vec::new(),
        })
        .collect();
    Run {
        subs,
        suggestions,
        issues,
        topics,
    }
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("DIAOYAN_BENCH_SUGGESTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let r = run(n);
    let parts = RunParts {
        submissions: &r.subs,
        stats: None,
        assessments: None,
        cadres: &[],
        suggestions: &r.suggestions,
        issues: &r.issues,
        topics: &r.topics,
        reviews: &Default::default(),
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut g = c.benchmark_group("digest");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("tables_{n}"), |b| {
        b.iter(|| Tables::from_parts(&parts).expect("tables"))
    });
    let tables = Tables::from_parts(&parts).expect("tables");
    g.bench_function(format!("parquet_{n}"), |b| {
        b.iter(|| tables.write_parquet(dir.path()).expect("parquet"))
    });
    g.bench_function(format!("digest_all_formats_{n}"), |b| {
        b.iter(|| {
            diaoyan_report::digest_of(
                &tables,
                &Filter::default(),
                &Facts::default(),
                dir.path(),
                "digest",
                &Format::ALL,
            )
            .expect("digest")
        })
    });
    let road = Filter {
        themes: vec!["交通运输".into()],
        ..Default::default()
    };
    g.bench_function(format!("digest_one_theme_md_{n}"), |b| {
        b.iter(|| {
            diaoyan_report::digest_of(
                &tables,
                &road,
                &Facts::default(),
                dir.path(),
                "d",
                &[Format::Md],
            )
            .expect("digest")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
