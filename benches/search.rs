//! Search latency over a large index, with the dictionary already loaded (as the review page
//! serves it): two-word queries, and a query counted by theme, place, unit and verdict.
//! Besides criterion's means it prints p50/p99 over 2,000 queries of each kind.
//!
//! `cargo bench --bench search` indexes 100,000 synthetic suggestions;
//! `DIAOYAN_BENCH_SUGGESTIONS=1000000` sets the size (issue 10 asks for 1,000,000).

#![allow(clippy::print_stderr)]

use criterion::{Criterion, criterion_group, criterion_main};
use diaoyan_index::{Entry, Scope, Search, Searcher};
use diaoyan_model::{Suggestion, Voice};
use std::time::{Duration, Instant};

const THINGS: [&str; 16] = [
    "机耕路",
    "自来水",
    "卫生室",
    "垃圾池",
    "路灯",
    "班车",
    "教学点",
    "水渠",
    "便民桥",
    "公厕",
    "文化广场",
    "电梯",
    "排水沟",
    "养老院",
    "农贸市场",
    "停车位",
];
const PROBLEMS: [&str; 12] = [
    "塌方",
    "停水",
    "没有医生",
    "清运不及时",
    "不亮",
    "停运",
    "漏水",
    "冲毁",
    "堵塞",
    "收费高",
    "年久失修",
    "被占用",
];
const THEMES: [&str; 6] = [
    "交通运输",
    "城乡建设",
    "卫生计生",
    "环境保护",
    "教育文体",
    "形式主义",
];
const SURNAMES: [&str; 8] = [
    "石桥", "河口", "桃源", "新塘", "青山", "柳溪", "龙潭", "白沙",
];

fn suggestions(n: usize) -> Vec<Suggestion> {
    (0..n)
        .map(|i| {
            let place = format!(
                "{}{}村",
                SURNAMES[i % 8],
                ["", "东", "西", "南", "北"][i / 8 % 5]
            );
            let thing = THINGS[(i * 7) % THINGS.len()];
            let problem = PROBLEMS[(i * 11) % PROBLEMS.len()];
            let text = format!(
                "{place}{}组的{thing}{problem}已经{}个月了，涉及{}户，群众希望尽快解决。",
                1 + i % 9,
                1 + i % 12,
                3 + i % 40
            );
            Suggestion {
                id: format!("s{i:015x}").as_str().into(),
                source: std::sync::Arc::new(diaoyan_model::Source {
                    submission: format!("{:016x}", i / 5).into(),
                    path: format!("第{}镇/手记{}.docx", i % 40, i / 5).into(),
                    author: format!("干部{}", i % 500).into(),
                    unit: format!("第{}镇", i % 40).into(),
                    place: place.into(),
                    subject: Default::default(),
                    date: format!("2023-09-{:02}", 1 + i % 28).into(),
                    likes: 0,
                    excluded: None,
                    kept: Default::default(),
                }),
                places: Vec::new(),
                voice: if i % 3 == 0 {
                    Voice::Cadre
                } else {
                    Voice::People
                },
                empty: false,
                start: 0,
                end: text.len() as u32,
                text: text.into(),
                theme_group: "民生".into(),
                theme: THEMES[i % THEMES.len()].into(),
                issue: Some(format!("I{:05}", i % 5000).into()),
                topic: None,
            }
        })
        .collect()
}

fn percentiles(name: &str, s: &Searcher, queries: &[Search]) {
    let mut t: Vec<Duration> = queries
        .iter()
        .cycle()
        .take(2000)
        .map(|q| {
            let at = Instant::now();
            let f = s.search(q).expect("search");
            std::hint::black_box(f.total);
            at.elapsed()
        })
        .collect();
    t.sort();
    let p = |q: f64| t[((t.len() - 1) as f64 * q) as usize];
    eprintln!(
        "{name}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} queries",
        p(0.5).as_secs_f64() * 1e3,
        p(0.99).as_secs_f64() * 1e3,
        p(1.0).as_secs_f64() * 1e3,
        t.len()
    );
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("DIAOYAN_BENCH_SUGGESTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let seg = diaoyan_text::Segmenter::builtin();
    let data = suggestions(n);
    let dir = tempfile::tempdir().expect("temp dir");
    let at = dir.path().join("index");
    let t = Instant::now();
    let entries = data.iter().map(|s| {
        Entry::suggestion(
            s,
            "",
            "蹲点手记",
            "县级领导",
            ["通过", "复核", "退回重写"][s.text.len() % 3],
        )
    });
    diaoyan_index::build(&at, &seg, entries).expect("index");
    eprintln!(
        "indexed {n} suggestions in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let searcher = Searcher::open(&at, &seg).expect("open");
    let two: Vec<Search> = THINGS
        .iter()
        .zip(PROBLEMS.iter().cycle().skip(3))
        .map(|(a, b)| Search {
            words: format!("{a} {b}"),
            limit: 20,
            ..Search::default()
        })
        .collect();
    let facet: Vec<Search> = THINGS
        .iter()
        .map(|a| Search {
            words: (*a).to_owned(),
            scope: Scope::All,
            count_by: ["theme", "place", "unit", "verdict"]
                .map(str::to_owned)
                .to_vec(),
            limit: 20,
            ..Search::default()
        })
        .collect();
    percentiles("two-word query", &searcher, &two);
    percentiles(
        "facet query (theme, place, unit, verdict)",
        &searcher,
        &facet,
    );
    let mut g = c.benchmark_group("search");
    g.sample_size(30);
    let mut i = 0;
    g.bench_function(format!("two_words_{n}"), |b| {
        b.iter(|| {
            i += 1;
            searcher.search(&two[i % two.len()]).expect("search").total
        })
    });
    g.bench_function(format!("facets_{n}"), |b| {
        b.iter(|| {
            i += 1;
            searcher
                .search(&facet[i % facet.len()])
                .expect("search")
                .total
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
