use super::*;
use diaoyan_model::Voice;

fn sugg(id: &str, place: &str, date: &str, theme: &str, text: &str) -> Suggestion {
    Suggestion {
        id: id.into(),
        source: std::sync::Arc::new(diaoyan_model::Source {
            submission: format!("s{id}").into(),
            path: format!("{id}.docx").into(),
            author: "张伟".into(),
            unit: "县委办".into(),
            place: place.into(),
            subject: Default::default(),
            date: date.into(),
            likes: 0,
            excluded: None,
            kept: Default::default(),
        }),
        places: Vec::new(),
        voice: Voice::People,
        empty: false,
        text: text.into(),
        start: 0,
        end: text.len() as u32,
        theme_group: "民生".into(),
        theme: theme.into(),
        issue: None,
        topic: None,
    }
}

fn entries<'a>(data: &'a [Suggestion], title: &'a str) -> Vec<Entry<'a>> {
    data.iter()
        .map(|s| Entry::suggestion(s, title, "蹲点手记", "县级领导", "通过"))
        .collect()
}

/// A whole submission's entry (path 手记.docx).
fn whole<'a>(id: &'a str, title: &'a str, text: &'a str) -> Entry<'a> {
    Entry {
        doc_type: DocType::Submission,
        id,
        submission: id,
        path: "手记.docx",
        title,
        text: text.into(),
        ..Entry::default()
    }
}

/// The index of the suggestions `data` and the whole submissions `subs`, built at `at`.
fn index_of(at: &Path, seg: &Segmenter, data: &[Suggestion], subs: &[Entry]) -> Searcher {
    build(
        at,
        seg,
        entries(data, "").into_iter().chain(subs.iter().cloned()),
    )
    .unwrap();
    Searcher::open(at, seg).unwrap()
}

/// Ids of the hits of `q`, sorted.
fn ids(s: &Searcher, q: Search) -> Vec<String> {
    let mut v: Vec<String> = s
        .search(&Search { limit: 10_000, ..q })
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    v.sort();
    v
}

fn words(w: &str) -> Search {
    Search {
        words: w.into(),
        ..Search::default()
    }
}

/// A search of one issue's entries.
fn in_issue(id: &str) -> Search {
    Search {
        issue: id.into(),
        ..Search::default()
    }
}

#[test]
fn words_and_filters_narrow_the_hits() {
    let seg = Segmenter::builtin();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("index");
    let data = vec![
        sugg(
            "1",
            "石桥村三组",
            "2023-09-18",
            "交通运输",
            "石桥村三组机耕路塌方，拖拉机开不进去",
        ),
        sugg(
            "2",
            "河口村",
            "2023-09-20",
            "环境保护",
            "河口村垃圾池十来天才清运一次",
        ),
        sugg(
            "3",
            "河口村",
            "2023-10-02",
            "交通运输",
            "河口村机耕路坑洼不平",
        ),
    ];
    assert_eq!(build(&at, &seg, entries(&data, "")).unwrap().entries, 3);
    let s = Searcher::open(&at, &seg).unwrap();
    let ids = |q: Search| ids(&s, q);
    assert_eq!(ids(words("机耕路")), ["1", "3"]);
    assert_eq!(ids(words("垃圾")), ["2"]);
    assert_eq!(ids(words("机耕路 塌方")), ["1"]);
    assert_eq!(
        ids(Search {
            place: "石桥村".into(),
            ..words("机耕路")
        }),
        ["1"]
    );
    assert_eq!(
        ids(Search {
            from: "2023-10".into(),
            ..Search::default()
        }),
        ["3"]
    );
    assert_eq!(
        ids(Search {
            theme: "环境保护".into(),
            ..Search::default()
        }),
        ["2"]
    );
    assert_eq!(
        ids(Search {
            theme: "民生".into(),
            to: "2023-09-19".into(),
            ..Search::default()
        }),
        ["1"]
    );
    assert!(ids(words("电梯")).is_empty());
    assert!(s.search(&Search::default()).is_err(), "an empty search");
    assert!(
        s.search(&Search {
            from: "上个月".into(),
            ..Search::default()
        })
        .is_err()
    );
    // Rebuilding replaces the index whole.
    build(&at, &seg, entries(&data[..1], "乡村道路")).unwrap();
    let s = Searcher::open(&at, &seg).unwrap();
    assert_eq!(super::tests::ids(&s, words("机耕路")), ["1"]);
    // Keywords match the submission's title too.
    assert_eq!(super::tests::ids(&s, words("乡村道路 塌方")), ["1"]);
}

#[test]
fn query_syntax_or_not_phrase_and_fields() {
    let seg = Segmenter::builtin();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("index");
    let data = vec![
        sugg("1", "石桥村", "2023-09-18", "交通运输", "石桥村机耕路塌方"),
        sugg(
            "2",
            "河口村",
            "2023-09-20",
            "交通运输",
            "河口村机耕路损毁严重",
        ),
        sugg(
            "3",
            "河口村",
            "2023-09-21",
            "环境保护",
            "河口村垃圾无人清运",
        ),
        sugg(
            "4",
            "东山村",
            "2023-09-22",
            "城乡建设",
            "东山村硬化道路开裂",
        ),
    ];
    build(&at, &seg, entries(&data, "")).unwrap();
    let s = Searcher::open(&at, &seg).unwrap();
    let ids = |q: &str| ids(&s, words(q));
    assert_eq!(ids("塌方 OR 损毁"), ["1", "2"]);
    assert_eq!(ids("机耕路 -石桥村"), ["2"]);
    assert_eq!(ids("-机耕路"), ["3", "4"]);
    assert_eq!(ids("主题:交通运输"), ["1", "2"]);
    assert_eq!(ids("地点：河口村 机耕路"), ["2"]);
    assert_eq!(ids("\"道路开裂\""), ["4"]);
    assert_eq!(ids("“机耕路塌方”"), ["1"]);
    assert!(ids("\"机耕路 开裂\"").is_empty());
    // A bad value inside the query is searched as words, and said.
    let f = s
        .search(&Search {
            limit: 5,
            ..words("结论:很好 机耕路")
        })
        .unwrap();
    assert_eq!(f.total, 0);
    assert!(
        f.notes.iter().any(|n| n.contains("结论只能是")),
        "{:?}",
        f.notes
    );
    // Pasted text with every kind of punctuation never fails.
    for q in [
        "【急】机耕路（石桥村）：塌方！",
        "\"",
        "OR",
        "-",
        "a:b:c",
        "《》",
        "……",
    ] {
        let r = s.search(&Search {
            limit: 5,
            ..words(q)
        });
        if let Err(e) = &r {
            assert!(e.to_string().contains("请给出关键词"), "{q}: {e}");
        }
    }
    assert_eq!(ids("机耕路（石桥村）：塌方！"), ["1"]);
    // As an option a bad value is an error.
    let e = s
        .search(&Search {
            verdict: "很好".into(),
            limit: 5,
            ..words("机耕路")
        })
        .unwrap_err();
    assert!(e.to_string().contains("结论只能是"), "{e}");
}

#[test]
fn word_boundaries_are_substrings_and_the_typed_sequence_ranks_first() {
    let seg = Segmenter::builtin();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("index");
    let data = vec![
        sugg("1", "", "", "城乡建设", "建议对进村道路硬化，解决出行难"),
        sugg("2", "", "", "城乡建设", "硬化道路年久失修"),
        sugg("3", "", "", "城乡建设", "院坝硬化还没完成"),
        sugg("4", "", "", "交通运输", "G107国道沿线路灯不亮"),
        sugg("5", "", "", "通信", "希望尽快建设5G基站"),
        // jieba cuts 丽发新城小区 as 丽发 | 新城 | 小区 without a user dictionary.
        sugg("6", "", "", "城乡建设", "丽发新城小区旁边搅拌站噪音扰民"),
        sugg("7", "", "", "城乡建设", "道路两侧绿化带硬化"),
    ];
    build(&at, &seg, entries(&data, "")).unwrap();
    let s = Searcher::open(&at, &seg).unwrap();
    let ids = |q: &str| ids(&s, words(q));
    assert_eq!(ids("硬化"), ["1", "2", "3", "7"]);
    assert_eq!(ids("道路硬化"), ["1", "2", "7"]);
    assert_eq!(ids("\"道路硬化\""), ["1"]);
    assert_eq!(ids("硬化道路"), ["1", "2", "7"]);
    // The exact sequence ranks first.
    let top = |q: &str| {
        s.search(&Search {
            limit: 1,
            ..words(q)
        })
        .unwrap()
        .hits[0]
            .id
            .clone()
    };
    assert_eq!(top("道路硬化"), "1");
    assert_eq!(top("硬化道路"), "2");
    assert_eq!(ids("G107"), ["4"]);
    assert_eq!(ids("g107国道"), ["4"]);
    assert_eq!(ids("Ｇ１０７"), ["4"], "full-width letters and digits");
    assert_eq!(ids("107"), ["4"]);
    assert_eq!(ids("5G"), ["5"]);
    assert_eq!(ids("5G基站"), ["5"]);
    assert_eq!(ids("丽发新城"), ["6"]);
    assert_eq!(ids("新城小区"), ["6"]);
    // Built and searched with a user dictionary that holds the name whole: same hits.
    let mut lex = diaoyan_text::Lexicons::builtin();
    lex.userdict.push_str("\n丽发新城 100000 ns\n");
    let seg2 = Segmenter::new(&lex);
    let at2 = dir.path().join("index2");
    build(&at2, &seg2, entries(&data, "")).unwrap();
    let s2 = Searcher::open(&at2, &seg2).unwrap();
    assert_eq!(super::tests::ids(&s2, words("丽发新城")), ["6"]);
    assert_eq!(super::tests::ids(&s2, words("丽发")), ["6"]);
    // And the index built without it, searched with it.
    let s3 = Searcher::open(&at, &seg2).unwrap();
    assert_eq!(super::tests::ids(&s3, words("丽发新城小区")), ["6"]);
}

/// No text's words are indexed, a submission's or a suggestion's: each is found by any part of
/// its text, whole words or not, ranked by how often the characters stand together and by its
/// title's words.
#[test]
fn texts_are_found_by_their_characters_without_their_words() {
    let seg = Segmenter::builtin();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("index");
    let data = [
        sugg("1", "", "", "交通运输", "村民反映机耕路塌方"),
        sugg(
            "2",
            "",
            "",
            "交通运输",
            "机耕路一下雨就走不了，机耕路边的水沟也堵了",
        ),
        sugg("3", "", "", "交通运输", "马路灯光太暗"),
    ];
    let subs = [
        whole(
            "s1",
            "第三天手记",
            "今天走访五户，村民反映机耕路塌方，机耕路一下雨就走不了。",
        ),
        whole("s2", "第四天手记", "下午召开座谈会，有人提到机耕路。"),
        whole("s3", "机耕路调研", "路面坑槽多。"),
        whole("s4", "第五天手记", "村里的耕地流转已经完成。"),
    ];
    let s = index_of(&at, &seg, &data, &subs);
    let in_subs = |w: &str| Search {
        scope: Scope::Submissions,
        ..words(w)
    };
    assert_eq!(ids(&s, in_subs("机耕路")), ["s1", "s2", "s3"]);
    assert_eq!(ids(&s, in_subs("耕路塌")), ["s1"], "any part of a word");
    assert_eq!(ids(&s, in_subs("\"路塌方\"")), ["s1"]);
    assert!(ids(&s, in_subs("机耕路 流转")).is_empty());
    // Ranked: the title's word first, then the text where the characters stand together most.
    let order: Vec<String> = s
        .search(&Search {
            limit: 10,
            ..in_subs("机耕路")
        })
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(order, ["s3", "s1", "s2"]);
    // A suggestion alike: found by any part of a word, a word cut across too (马路|灯光 for
    // 路灯), ranked where the characters stand together most; no text's words are indexed.
    assert_eq!(ids(&s, words("耕路塌")), ["1"]);
    assert_eq!(ids(&s, words("\"反映机耕\"")), ["1"]);
    assert_eq!(ids(&s, words("路灯")), ["3"]);
    let ranked: Vec<String> = s
        .search(&Search {
            limit: 10,
            ..words("机耕路")
        })
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(ranked, ["2", "1"]);
    let schema = Index::open_in_dir(&at).unwrap().schema();
    assert!(schema.get_field("words").is_err());
    assert!(schema.get_field(super::FORMAT).is_ok());
}

#[test]
fn snippets_mark_the_words_in_the_best_passage() {
    let seg = Segmenter::builtin();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("index");
    let long = format!(
        "{}村民反映机耕路塌方，拖拉机开不进去。{}",
        "今天继续入户走访，了解情况。".repeat(15),
        "下午召开座谈会。".repeat(15)
    );
    let data = [sugg("1", "", "", "交通运输", &long)];
    let subs = [Entry {
        kind: "蹲点手记",
        verdict: "复核",
        ..whole("s1", "第三天手记", &long)
    }];
    let s = index_of(&at, &seg, &data, &subs);
    let f = s
        .search(&Search {
            limit: 5,
            scope: Scope::All,
            snippet_chars: 30,
            ..words("机耕路 拖拉机")
        })
        .unwrap();
    assert_eq!(f.total, 2);
    for h in &f.hits {
        let m = h.snippet.marked("【", "】");
        assert!(m.contains("【机耕路】塌方，【拖拉机】"), "{m}");
        assert!(m.starts_with('…') && m.ends_with('…'), "{m}");
    }
    let sub = f
        .hits
        .iter()
        .find(|h| h.doc_type == DocType::Submission)
        .unwrap();
    assert!(
        sub.text.is_empty(),
        "a submission's hit carries its passage only"
    );
    assert_eq!(
        (sub.kind.as_str(), sub.verdict.as_str()),
        ("蹲点手记", "复核")
    );
    // Scopes.
    let n = |scope| {
        s.search(&Search {
            limit: 5,
            scope,
            ..words("机耕路")
        })
        .unwrap()
        .total
    };
    assert_eq!(n(Scope::Suggestions), 1);
    assert_eq!(n(Scope::Submissions), 1);
    assert_eq!(n(Scope::All), 2);
    let f = s
        .search(&Search {
            limit: 5,
            scope: Scope::All,
            kind: "手记".into(),
            verdict: "复核".into(),
            ..Search::default()
        })
        .unwrap();
    assert_eq!(f.total, 1, "{:?}", f.hits);
}

#[test]
fn facets_count_every_hit_by_value() {
    let seg = Segmenter::builtin();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("index");
    let mut data = Vec::new();
    for i in 0..30 {
        let (place, theme) = match i % 3 {
            0 => ("石桥村", "交通运输"),
            1 => ("河口村", "交通运输"),
            _ => ("河口村", "环境保护"),
        };
        data.push(sugg(
            &i.to_string(),
            place,
            "2023-09-18",
            theme,
            &format!("第{i}条 机耕路"),
        ));
    }
    build(&at, &seg, entries(&data, "")).unwrap();
    let s = Searcher::open(&at, &seg).unwrap();
    let f = s
        .search(&Search {
            limit: 3,
            count_by: vec!["place".into(), "主题".into(), "verdict".into()],
            ..words("机耕路")
        })
        .unwrap();
    assert_eq!((f.total, f.hits.len()), (30, 3));
    let counts = |i: usize| -> Vec<(String, u64)> { f.facets[i].counts.clone() };
    assert_eq!(f.facets[0].field, "地点");
    assert_eq!(counts(0), [("河口村".into(), 20), ("石桥村".into(), 10)]);
    assert_eq!(
        counts(1),
        [("交通运输".into(), 20), ("环境保护".into(), 10)]
    );
    assert_eq!(counts(2), [("通过".into(), 30)]);
    // The counts follow the query.
    let f = s
        .search(&Search {
            limit: 0,
            count_by: vec!["theme".into()],
            place: "石桥村".into(),
            ..words("机耕路")
        })
        .unwrap();
    assert!(f.hits.is_empty());
    assert_eq!(f.facets[0].counts, [("交通运输".to_owned(), 10)]);
    let e = s
        .search(&Search {
            count_by: vec!["颜色".into()],
            ..words("机耕路")
        })
        .unwrap_err();
    assert!(e.to_string().contains("不能按“颜色”统计"), "{e}");
}

#[test]
fn a_missing_index_says_so_in_chinese() {
    let seg = Segmenter::builtin();
    let e = Searcher::open(Path::new("/nonexistent/index"), &seg)
        .err()
        .unwrap();
    let e = e.to_string();
    assert!(
        e.contains("无法打开检索索引") && e.contains("找不到这个文件夹"),
        "{e}"
    );
    assert!(e.contains("请先运行 diaoyan run"), "{e}");
}

/// An index an older diaoyan wrote (its schema lacks this format's field) is refused with what
/// to do, not searched with fields it does not have; so is a folder holding no index.
#[test]
fn an_old_or_foreign_index_asks_for_a_rerun() {
    let seg = Segmenter::builtin();
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old");
    std::fs::create_dir(&old).unwrap();
    let mut b = tantivy::schema::Schema::builder();
    b.add_text_field("issue", STRING);
    b.add_text_field("diaoyan-index-7", STRING);
    Index::create_in_dir(&old, b.build()).unwrap();
    let e = Searcher::open(&old, &seg).err().unwrap().to_string();
    assert!(e.contains("旧版 diaoyan 写的索引"), "{e}");
    assert!(e.contains("请重新运行 diaoyan run 生成"), "{e}");
    assert!(!e.contains("找不到"), "the folder is there: {e}");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let e = Searcher::open(&empty, &seg).err().unwrap().to_string();
    assert!(e.contains("不是完整的检索索引"), "{e}");
    assert!(e.contains("请重新运行 diaoyan run 生成"), "{e}");
}

#[test]
fn dates_become_day_numbers() {
    assert_eq!(day_number("2023-09-18", false), Some(20230918));
    assert_eq!(day_number("2023-09", true), Some(20230931));
    assert_eq!(day_number("2023", false), Some(20230101));
    assert_eq!(day_number("昨天", false), None);
    assert_eq!(day_number("2023-13-01", false), None);
}

/// Every entry the index holds, as JSON without the score, sorted.
fn everything(s: &Searcher) -> Vec<String> {
    let f = s
        .search(&Search {
            scope: Scope::All,
            words: "-zzzz".into(),
            limit: 10_000,
            ..Search::default()
        })
        .unwrap();
    let mut v: Vec<String> = f
        .hits
        .into_iter()
        .map(|h| {
            let mut j = serde_json::to_value(&h).unwrap();
            j["score"] = serde_json::Value::Null;
            j.to_string()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn an_update_equals_a_full_rebuild_and_leaves_the_old_index_whole() {
    let seg = Segmenter::builtin();
    let dir = tempfile::tempdir().unwrap();
    let mk = |i: usize, text: &str| sugg(&i.to_string(), "石桥村", "2023-09-18", "交通运输", text);
    let before: Vec<Suggestion> = (0..60)
        .map(|i| mk(i, &format!("石桥村{i}组机耕路塌方{i}处")))
        .collect();
    let old = dir.path().join("old");
    let full = build(&old, &seg, entries(&before, "")).unwrap();
    assert!(!full.incremental);
    assert_eq!((full.entries, full.added), (60, 60));
    // Two removed, one changed, a theme changed (a corpus-wide step), three added.
    let mut after: Vec<Suggestion> = before[2..].to_vec();
    after[0].text = "石桥村2组机耕路已经修好".into();
    after[1].theme = "城乡建设".into();
    after.extend((100..103).map(|i| mk(i, &format!("河口村{i}号路灯不亮"))));
    let new = dir.path().join("new");
    // What a caller plans by: the note says this index can be updated.
    assert!(updatable(&old, &seg));
    assert!(!updatable(&new, &seg), "no index there");
    let up = update(
        &new,
        Some(&old),
        &seg,
        entries(&after, ""),
        &Labels::default(),
    )
    .unwrap();
    assert!(up.incremental);
    assert_eq!(
        (up.entries, up.kept, up.added, up.removed),
        (61, 56, 5, 4),
        "{up:?}"
    );
    let rebuilt = dir.path().join("rebuilt");
    build(&rebuilt, &seg, entries(&after, "")).unwrap();
    let (a, b) = (
        Searcher::open(&new, &seg).unwrap(),
        Searcher::open(&rebuilt, &seg).unwrap(),
    );
    assert_eq!(a.len(), b.len());
    assert_eq!(everything(&a), everything(&b));
    for q in [
        "机耕路",
        "修好",
        "路灯 不亮",
        "塌方 -石桥村1组",
        "主题:城乡建设",
    ] {
        assert_eq!(ids(&a, words(q)), ids(&b, words(q)), "{q}");
    }
    // The previous index is untouched: still the 60 entries it had.
    let o = Searcher::open(&old, &seg).unwrap();
    assert_eq!(o.len(), 60);
    assert_eq!(ids(&o, words("修好")), Vec::<String>::new());
    // In place (the index updates itself) and again with nothing changed: nothing written.
    let again = update(
        &new,
        Some(&new),
        &seg,
        entries(&after, ""),
        &Labels::default(),
    )
    .unwrap();
    assert_eq!((again.kept, again.added, again.removed), (61, 0, 0));
    assert_eq!(
        everything(&Searcher::open(&new, &seg).unwrap()),
        everything(&b)
    );
    // Other lexicons cut words differently: a full rebuild.
    let mut lex = diaoyan_text::Lexicons::builtin();
    lex.userdict.push_str("\n机耕路塌方 10 n\n");
    let other = Segmenter::new(&lex);
    assert!(updatable(&new, &seg) && !updatable(&new, &other));
    let r = update(
        &new,
        Some(&new),
        &other,
        entries(&after, ""),
        &Labels::default(),
    )
    .unwrap();
    assert!(!r.incremental && r.added == 61, "{r:?}");
    // An index an older diaoyan wrote (its note names an older format): rebuilt in full, and
    // the rebuilt one is searched as usual.
    let note = new.join(META);
    let m = std::fs::read_to_string(&note).unwrap();
    assert!(m.contains(FORMAT), "{m}");
    std::fs::write(&note, m.replace(FORMAT, "diaoyan-index-7")).unwrap();
    assert!(!updatable(&new, &seg));
    let r = update(
        &new,
        Some(&new),
        &seg,
        entries(&after, ""),
        &Labels::default(),
    )
    .unwrap();
    assert!(!r.incremental && r.added == 61, "{r:?}");
    assert_eq!(
        everything(&Searcher::open(&new, &seg).unwrap()),
        everything(&b)
    );
}

#[test]
fn fold_fast_paths_agree_with_the_general_rule() {
    let ranges = [0u32..0x80, 0x3400..0x4DC0, 0x4E00..0xA000, 0xFF00..0xFF70];
    for c in ranges.into_iter().flatten().filter_map(char::from_u32) {
        assert_eq!(fold(c), fold_slow(c), "{c:?} (U+{:04X})", c as u32);
    }
    assert_eq!(fold('Ａ'), Some('a'));
    assert_eq!(fold('，'), None);
    assert_eq!(fold('村'), Some('村'));
}

#[test]
fn equal_scores_come_newest_first_in_the_same_order_however_the_index_was_built() {
    let seg = Segmenter::builtin();
    let dir = tempfile::tempdir().unwrap();
    // Forty entries with the same words (equal scores), on four dates.
    let data: Vec<Suggestion> = (0..40)
        .map(|i| {
            let date = format!("2023-09-{:02}", 10 + i % 4);
            sugg(&i.to_string(), "石桥村", &date, "交通运输", "机耕路塌方")
        })
        .collect();
    let reversed: Vec<Suggestion> = data.iter().rev().cloned().collect();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    build(&a, &seg, entries(&data, "")).unwrap();
    build(&b, &seg, entries(&reversed, "")).unwrap();
    // Built from half, then updated in place to all of them.
    build(&c, &seg, entries(&data[20..], "")).unwrap();
    assert!(
        update(&c, Some(&c), &seg, entries(&data, ""), &Labels::default())
            .unwrap()
            .incremental
    );
    let ordered = |at: &Path, q: Search| -> Vec<(String, String)> {
        Searcher::open(at, &seg)
            .unwrap()
            .search(&Search { limit: 25, ..q })
            .unwrap()
            .hits
            .into_iter()
            .map(|h| (h.date, h.id))
            .collect()
    };
    for q in [
        words("机耕路"),
        Search {
            theme: "交通运输".into(),
            ..Search::default()
        },
    ] {
        let first = ordered(&a, q.clone());
        assert_eq!(first.len(), 25);
        assert_eq!(first, ordered(&b, q.clone()), "{q:?}");
        assert_eq!(first, ordered(&c, q.clone()), "{q:?}");
        // Newest first: the ten of 09-13, the ten of 09-12, then five of 09-11.
        assert!(first.windows(2).all(|w| w[0].0 >= w[1].0), "{first:?}");
        assert_eq!(first[0].0, "2023-09-13");
        assert_eq!(first[24].0, "2023-09-11");
    }
}

/// Labels as a run makes them from `data`'s issues and topics (each group's members), keys
/// carried over from `previous`.
fn labels_after(previous: &Labels, data: &[Suggestion]) -> Labels {
    let group = |f: fn(&Suggestion) -> Option<&str>| {
        let mut by: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for s in data {
            if let Some(g) = f(s) {
                by.entry(g.to_owned()).or_default().push(s.id.to_string());
            }
        }
        by
    };
    let (issues, topics) = (group(|s| s.issue.as_deref()), group(|s| s.topic.as_deref()));
    Labels::after(
        previous,
        issues.iter().map(|(k, v)| (k.as_str(), v.as_slice())),
        topics.iter().map(|(k, v)| (k.as_str(), v.as_slice())),
    )
}

#[test]
fn renumbered_issues_and_topics_keep_their_entries() {
    let seg = Segmenter::builtin();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("index");
    let mk = |i: usize, issue: &str, topic: &str| {
        let mut s = sugg(
            &i.to_string(),
            "石桥村",
            "2023-09-18",
            "交通运输",
            &format!("石桥村{i}组机耕路塌方"),
        );
        s.issue = (!issue.is_empty()).then(|| issue.into());
        s.topic = (!topic.is_empty()).then(|| topic.into());
        s
    };
    let labels = |data: &[Suggestion]| labels_after(&Labels::default(), data);
    let before: Vec<Suggestion> = (0..10)
        .map(|i| mk(i, if i < 6 { "I0001" } else { "I0002" }, "T0001"))
        .collect();
    update(&at, None, &seg, entries(&before, ""), &labels(&before)).unwrap();
    // The next run ranks the issues the other way round and takes suggestion 9 out of the
    // topic: only that entry changes.
    let after: Vec<Suggestion> = (0..10)
        .map(|i| {
            let issue = if i < 6 { "I0002" } else { "I0001" };
            mk(i, issue, if i == 9 { "" } else { "T0001" })
        })
        .collect();
    let up = update(&at, Some(&at), &seg, entries(&after, ""), &labels(&after)).unwrap();
    assert!(up.incremental);
    assert_eq!((up.kept, up.added, up.removed), (9, 1, 1), "{up:?}");
    let s = Searcher::open(&at, &seg).unwrap();
    assert_eq!(ids(&s, in_issue("I0001")), ["6", "7", "8", "9"]);
    assert_eq!(ids(&s, in_issue("i0002")).len(), 6);
    assert!(ids(&s, in_issue("I0003")).is_empty());
    assert_eq!(ids(&s, words("机耕路 专题:T0001")).len(), 9);
    // Hits carry the new ids; counts by issue and topic show them too, most hits first.
    let found = s
        .search(&Search {
            words: "机耕路".into(),
            count_by: vec!["issue".into(), "专题".into()],
            limit: 20,
            ..Search::default()
        })
        .unwrap();
    assert_eq!(found.hits.len(), 10);
    for h in &found.hits {
        let n: usize = h.id.parse().unwrap();
        assert_eq!(h.issue, if n < 6 { "I0002" } else { "I0001" }, "{h:?}");
        assert_eq!(h.topic.is_empty(), n == 9, "{h:?}");
    }
    assert_eq!(
        found.facets[0].counts,
        [("I0002".to_owned(), 6), ("I0001".to_owned(), 4)]
    );
    assert_eq!(found.facets[1].counts, [("T0001".to_owned(), 9)]);
    // The same as a full build of the new run.
    let full = dir.path().join("full");
    update(&full, None, &seg, entries(&after, ""), &labels(&after)).unwrap();
    assert_eq!(
        everything(&Searcher::open(&full, &seg).unwrap()),
        everything(&s)
    );
    // The previous index's table was not written through a link: a copy made before the
    // update still has the old ids.
    let copy = dir.path().join("copy");
    update(&copy, None, &seg, entries(&before, ""), &labels(&before)).unwrap();
    let linked = dir.path().join("linked");
    update(
        &linked,
        Some(&copy),
        &seg,
        entries(&after, ""),
        &labels(&after),
    )
    .unwrap();
    let old = Searcher::open(&copy, &seg).unwrap();
    assert_eq!(ids(&old, in_issue("I0001")).len(), 6);
    // An index without its table is refused in Chinese, not read with the keys as ids.
    std::fs::remove_file(copy.join("diaoyan-labels.json")).unwrap();
    let err = Searcher::open(&copy, &seg).err().unwrap().to_string();
    assert!(err.contains("索引不完整"), "{err}");
}

/// A large issue that gains a member sorting below all of its old ones and loses the member
/// its key named keeps its key: only the added and the removed entries change (keyed by the
/// smallest member alone, every entry of the issue was re-added — 83,120 of them at 10k).
#[test]
fn an_issue_that_gains_and_loses_members_keeps_its_entries() {
    let seg = Segmenter::builtin();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("index");
    let mk = |id: &str, issue: &str| {
        let mut s = sugg(
            id,
            "石桥村",
            "2023-09-18",
            "交通运输",
            &format!("石桥村{id}组机耕路塌方"),
        );
        s.issue = Some(issue.into());
        s.topic = Some("T0001".into());
        s
    };
    // I0001: members 10–19 (its key names 10); I0002: 20–25.
    let before: Vec<Suggestion> = (10..26)
        .map(|i| mk(&i.to_string(), if i < 20 { "I0001" } else { "I0002" }))
        .collect();
    let first = labels_after(&Labels::default(), &before);
    update(&at, None, &seg, entries(&before, ""), &first).unwrap();
    // Next evening: 10 is gone, 05 joins the first issue, and the two swap ranks.
    let after: Vec<Suggestion> = std::iter::once(mk("05", "I0002"))
        .chain((11..26).map(|i| mk(&i.to_string(), if i < 20 { "I0002" } else { "I0001" })))
        .collect();
    let previous = Labels::of_index(&at).expect("the table beside the index");
    assert_eq!(previous, first);
    let up = update(
        &at,
        Some(&at),
        &seg,
        entries(&after, ""),
        &labels_after(&previous, &after),
    )
    .unwrap();
    assert!(up.incremental);
    assert_eq!((up.kept, up.added, up.removed), (15, 1, 1), "{up:?}");
    let s = Searcher::open(&at, &seg).unwrap();
    assert_eq!(
        ids(&s, in_issue("I0001")),
        ["20", "21", "22", "23", "24", "25"]
    );
    assert_eq!(ids(&s, in_issue("I0002")).len(), 10);
    assert_eq!(ids(&s, in_issue("I0002"))[0], "05");
    // The same answers as a full build of the new run (fresh keys).
    let full = dir.path().join("full");
    update(
        &full,
        None,
        &seg,
        entries(&after, ""),
        &labels_after(&Labels::default(), &after),
    )
    .unwrap();
    assert_eq!(
        everything(&Searcher::open(&full, &seg).unwrap()),
        everything(&s)
    );
}

/// Carried keys: a merge keeps one of the two keys, a split keeps the key on the part holding
/// most anchors and keys the other part afresh, and no two groups ever share a key — even when
/// the member a carried key names now sits in another group.
#[test]
fn carried_keys_survive_merges_and_splits_and_stay_distinct() {
    let of = |groups: &[(&str, Vec<&str>)], previous: &Labels| {
        let owned: Vec<(String, Vec<String>)> = groups
            .iter()
            .map(|(id, m)| (id.to_string(), m.iter().map(|x| x.to_string()).collect()))
            .collect();
        let l = Labels::after(
            previous,
            owned.iter().map(|(id, m)| (id.as_str(), m.as_slice())),
            std::iter::empty(),
        );
        let keys = l.keys();
        let by_id: Vec<(String, String)> = owned
            .iter()
            .map(|(id, _)| (id.clone(), keys.issue(id).to_owned()))
            .collect();
        (l, by_id)
    };
    let key = |v: &[(String, String)], id: &str| v.iter().find(|(i, _)| i == id).unwrap().1.clone();
    let (l0, k0) = of(
        &[
            ("I0001", vec!["a1", "a2", "a3", "a4", "a5", "a6"]),
            ("I0002", vec!["b1", "b2", "b3"]),
            ("I0003", vec!["c1", "c2", "c3", "c4", "c5", "c6"]),
        ],
        &Labels::default(),
    );
    assert_eq!(key(&k0, "I0001"), "ka1");
    // I0001 and I0002 merge; I0003 splits: c1 (its key member) goes alone, c2–c5 (four anchors)
    // stay together with c6.
    let (_, k1) = of(
        &[
            ("I0001", vec!["c2", "c3", "c4", "c5", "c6"]),
            (
                "I0002",
                vec!["a1", "a2", "a3", "b1", "b2", "b3", "a4", "a5", "a6"],
            ),
            ("I0003", vec!["c1"]),
        ],
        &l0,
    );
    assert_eq!(
        key(&k1, "I0002"),
        "ka1",
        "the merge keeps the key with most anchors"
    );
    assert_eq!(
        key(&k1, "I0001"),
        "kc1",
        "the larger part of the split keeps the key"
    );
    let fresh = key(&k1, "I0003");
    assert!(fresh.starts_with('k') && fresh != "kc1", "{fresh}");
    let mut all: Vec<&String> = k1.iter().map(|(_, k)| k).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 3, "distinct keys: {k1:?}");
    // Every key still reads back as its id.
    let ids = l0.ids();
    assert_eq!(ids.issue("ka1"), "I0001");
    assert_eq!(ids.issue("kb1"), "I0002");
}

/// An update never merges the segments of the last full build, whatever their size; the small
/// ones evening re-runs add are merged among themselves.
#[test]
fn a_full_builds_segments_are_never_merged_small_added_ones_are() {
    use tantivy::indexer::MergePolicy;
    let index = Index::create_in_ram(schema().0);
    let segments = |docs: u32, n: usize| -> Vec<tantivy::SegmentMeta> {
        (0..n)
            .map(|_| index.new_segment_meta(tantivy::index::SegmentId::generate_random(), docs))
            .collect()
    };
    // A full build: twelve small segments (as whole submissions flush) and four large ones.
    let mut full = segments(30_000, 12);
    full.extend(segments(MERGE_MAX_ENTRIES as u32 + 40_000, 4));
    let policy = Guarded::new(full.iter().map(|s| s.id()).collect());
    assert!(policy.compute_merge_candidates(&full).is_empty());
    // tantivy's own policy, even with the size bar, would have merged the small ones.
    let mut log = tantivy::indexer::LogMergePolicy::default();
    log.set_max_docs_before_merge(MERGE_MAX_ENTRIES);
    assert!(!log.compute_merge_candidates(&full).is_empty());
    // Beside them, nine small ones evenings added: those nine, and only those, are merged.
    let small = segments(2_000, 9);
    let mut all = full.clone();
    all.extend(small.iter().cloned());
    let merges = policy.compute_merge_candidates(&all);
    assert_eq!(merges.len(), 1, "{merges:?}");
    let mut merged: Vec<_> = merges[0].0.clone();
    let mut want: Vec<_> = small.iter().map(|s| s.id()).collect();
    merged.sort();
    want.sort();
    assert_eq!(merged, want);
}

/// A full build records its segments; an update keeps the record (less any segment gone), so
/// the next update still leaves them alone.
#[test]
fn the_full_builds_segments_are_recorded_and_carried_over() {
    let dir = tempfile::tempdir().unwrap();
    let seg = Segmenter::builtin();
    let at = dir.path().join("index");
    let recorded = |at: &Path| -> Vec<String> {
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(at.join(META)).unwrap()).unwrap();
        let mut v: Vec<String> = m[BUILT]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let live = |at: &Path| -> Vec<String> {
        let mut v: Vec<String> = Index::open_in_dir(at)
            .unwrap()
            .searchable_segment_ids()
            .unwrap()
            .iter()
            .map(|id| id.uuid_string())
            .collect();
        v.sort();
        v
    };
    let mk = |i: usize| {
        sugg(
            &i.to_string(),
            "石桥村",
            "2023-09-18",
            "交通运输",
            &format!("石桥村{i}组机耕路塌方"),
        )
    };
    let before: Vec<Suggestion> = (0..40).map(mk).collect();
    build(&at, &seg, entries(&before, "")).unwrap();
    let first = recorded(&at);
    assert!(!first.is_empty());
    assert_eq!(first, live(&at));
    // An update adding one entry: the full build's segments are still the recorded ones.
    let after: Vec<Suggestion> = (0..41).map(mk).collect();
    let up = update(
        &at,
        Some(&at),
        &seg,
        entries(&after, ""),
        &Labels::default(),
    )
    .unwrap();
    assert!(up.incremental && up.added == 1, "{up:?}");
    assert_eq!(recorded(&at), first);
    assert!(live(&at).len() > first.len());
}

/// Every token a tokenizer gives for `text`: (text, start, end, position).
fn stream(t: &mut JiebaTokenizer, text: &str) -> Vec<(String, usize, usize, usize)> {
    let mut s = t.token_stream(text);
    let mut out = Vec::new();
    while s.advance() {
        let k = s.token();
        out.push((k.text.clone(), k.offset_from, k.offset_to, k.position));
    }
    out
}

#[test]
fn a_remembered_value_gives_the_words_a_fresh_cut_gives() {
    let seg = Segmenter::builtin();
    let long = "石桥村机耕路去年塌方了两处，至今没有修复，群众出行很不方便。".repeat(4);
    assert!(long.len() > REMEMBERED);
    // Values as one field meets them entry after entry: repeats, a change, a value seen two
    // values back, case that folds, an empty value, a long text twice.
    let values = [
        "县委办公室",
        "县委办公室",
        "石桥村",
        "县委办公室",
        "G107国道",
        "g107国道",
        "",
        "",
        long.as_str(),
        long.as_str(),
        "石桥村",
        "石桥村",
    ];
    let mut kept = JiebaTokenizer::new(&seg);
    let mut remembered = 0;
    for (i, v) in values.iter().enumerate() {
        let was = kept.last.as_ref().is_some_and(|(t, _)| t == v);
        remembered += usize::from(was);
        let fresh = stream(&mut JiebaTokenizer::new(&seg), v);
        assert_eq!(stream(&mut kept, v), fresh, "value {i}: {v:?}");
        if !v.is_empty() {
            assert!(!fresh.is_empty(), "value {i} has words: {v:?}");
        }
    }
    // The short repeats (县委办公室, the empty value, 石桥村) came from memory; the long text
    // never did.
    assert_eq!(remembered, 3);
    assert!(kept.last.as_ref().is_some_and(|(t, _)| t == "石桥村"));
}

/// A write that fails for want of disk space says so in Chinese: tantivy reports a full disk
/// only as a killed writer (what a 1M run into a nearly full disk gave).
#[test]
fn a_full_disk_is_named_in_chinese() {
    let killed = "An error occurred in a thread: 'An index writer was killed.. A worker thread \
                  encountered an error (io::Error most likely) or panicked.'";
    let said = write_reason(killed);
    assert!(
        said.contains("磁盘空间不足") && said.contains(killed),
        "{said}"
    );
    let full = "No space left on device (os error 28)";
    assert!(
        write_reason(full).starts_with("磁盘空间不足"),
        "{}",
        write_reason(full)
    );
    let other = "Permission denied (os error 13)";
    assert_eq!(write_reason(other), other);
}

/// The one-shot fingerprint is the digest the fields fed one by one to a streaming hasher gave
/// (what indexes written before hold): an earlier index stays updatable entry by entry.
#[test]
fn a_fingerprint_is_the_streamed_digest_of_the_fields() {
    let streamed = |e: &Entry| {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        let places = e.places.join("\u{1}");
        let text = e.text.read();
        for part in [
            e.doc_type.as_str(),
            e.id,
            e.submission,
            e.path,
            e.author,
            e.unit,
            &places,
            e.date,
            e.kind,
            e.level,
            e.verdict,
            e.voice,
            e.theme_group,
            e.theme,
            e.issue,
            e.topic,
            e.title,
            &text,
        ] {
            h.update(part.as_bytes());
            h.update(&[0xff]);
        }
        h.digest()
    };
    let data = vec![
        sugg(
            "1",
            "石桥村",
            "2023-09-18",
            "交通运输",
            "石桥村机耕路塌方2处",
        ),
        sugg("2", "", "", "", ""),
    ];
    let mut all = entries(&data, "蹲点手记");
    let long = "机耕路".repeat(400);
    all.push(whole("s1", "标题", &long));
    let mut three = all[0].clone();
    three.places = vec!["石桥村", "河口村", "三组"];
    all.push(three);
    let mut buf = Vec::new();
    let mut seen = HashSet::new();
    for e in &all {
        assert_eq!(fingerprint(e, &mut buf), streamed(e), "{:?}", e.places);
        seen.insert(fingerprint(e, &mut buf));
    }
    assert_eq!(seen.len(), all.len(), "different entries, different prints");
}

/// Texts kept out of memory, as a large run keeps them: each with its digest, every read
/// counted.
struct Counted {
    texts: Vec<String>,
    reads: std::sync::atomic::AtomicUsize,
}

impl diaoyan_model::Texts for Counted {
    fn text(&self, i: usize) -> std::borrow::Cow<'_, str> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::borrow::Cow::Owned(self.texts[i].clone())
    }
    fn digest(&self, i: usize) -> Option<u128> {
        Some(xxhash_rust::xxh3::xxh3_128(self.texts[i].as_bytes()))
    }
}

/// An update reads a kept text only for an entry it writes: the entries whose texts (and
/// everything else) are unchanged are known by their texts' digests and ranges, and kept
/// unread. What it writes is the text itself, found as any other.
#[test]
fn an_update_reads_the_kept_texts_of_the_entries_it_writes_only() {
    let seg = Segmenter::builtin();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("index");
    let texts = |t: &[&str]| Counted {
        texts: t.iter().map(|s| (*s).to_owned()).collect(),
        reads: Default::default(),
    };
    let before = texts(&[
        "石桥村三组机耕路塌方两处，群众出行困难。",
        "河口村垃圾池满了没人清运。",
        "龙潭村班车停运，老人进城看病不便。",
    ]);
    let of = |t: &Counted| -> Vec<(String, Option<std::ops::Range<usize>>)> {
        (0..t.texts.len())
            .map(|i| (format!("s{i}"), None))
            .chain(std::iter::once(("s0-1".to_owned(), Some(0..24))))
            .collect()
    };
    let ids_before = of(&before);
    type Ids = [(String, Option<std::ops::Range<usize>>)];
    fn entries<'a>(t: &'a Counted, ids: &'a Ids) -> Vec<Entry<'a>> {
        ids.iter()
            .enumerate()
            .map(|(k, (id, range))| {
                let i = if range.is_some() { 0 } else { k };
                let e = Entry {
                    doc_type: if range.is_some() {
                        DocType::Suggestion
                    } else {
                        DocType::Submission
                    },
                    id: id.as_str(),
                    submission: id.as_str(),
                    path: "手记.docx",
                    text: Text::of(t, i, range.clone()),
                    ..Entry::default()
                };
                assert!(matches!(e.text, Text::Kept { .. }), "{:?}", e.text);
                e
            })
            .collect()
    }
    let full = build(&at, &seg, entries(&before, &ids_before)).unwrap();
    assert_eq!(full.added, 4);
    // A full build reads every text, each once, to write it.
    assert_eq!(before.reads.load(std::sync::atomic::Ordering::Relaxed), 4);
    let all = |w: &str| Search {
        scope: Scope::All,
        ..words(w)
    };
    let s = Searcher::open(&at, &seg).unwrap();
    assert_eq!(ids(&s, all("机耕路")), ["s0", "s0-1"]);
    // The excerpt is its range of the text, nothing more.
    assert_eq!(ids(&s, all("塌方")), ["s0"]);
    assert_eq!(ids(&s, all("\"满了没人\"")), ["s1"]);
    drop(s);

    // The second text changed; the others, and the excerpt of the first, are as they were.
    let after = texts(&[
        "石桥村三组机耕路塌方两处，群众出行困难。",
        "河口村垃圾池满了，三天没人清运。",
        "龙潭村班车停运，老人进城看病不便。",
    ]);
    let up = update(
        &at,
        Some(&at),
        &seg,
        entries(&after, &ids_before),
        &Labels::default(),
    )
    .unwrap();
    assert_eq!((up.kept, up.added, up.removed), (3, 1, 1), "{up:?}");
    assert_eq!(after.reads.load(std::sync::atomic::Ordering::Relaxed), 1);
    let s = Searcher::open(&at, &seg).unwrap();
    assert_eq!(ids(&s, all("三天没人")), ["s1"]);
    assert_eq!(ids(&s, all("\"满了没人\"")), Vec::<String>::new());
    assert_eq!(ids(&s, all("机耕路")), ["s0", "s0-1"]);
}

/// A kept text's fingerprint stands for the text by its digest and range: equal for equal
/// texts and ranges, different when either differs.
#[test]
fn a_kept_texts_fingerprint_follows_its_digest_and_range() {
    let t = Counted {
        texts: vec![
            "机耕路塌方".to_owned(),
            "机耕路塌方".to_owned(),
            "垃圾池".to_owned(),
        ],
        reads: Default::default(),
    };
    let print = |i: usize, range: Option<std::ops::Range<usize>>| {
        let e = Entry {
            id: "1",
            text: Text::of(&t, i, range),
            ..Entry::default()
        };
        fingerprint(&e, &mut Vec::new())
    };
    assert_eq!(print(0, None), print(1, None));
    assert_eq!(print(0, Some(0..9)), print(1, Some(0..9)));
    assert_ne!(print(0, None), print(2, None));
    assert_ne!(print(0, Some(0..9)), print(0, Some(3..9)));
    assert_ne!(print(0, Some(0..15)), print(0, None));
    assert_eq!(t.reads.load(std::sync::atomic::Ordering::Relaxed), 0);
}
