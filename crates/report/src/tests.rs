//! The report crate on a small hand-made run: tables round-trip through Parquet, selections and
//! their errors, and every format — with submission text that tries to be markup.

use crate::*;
use diaoyan_model::{
    Assessment, CadreReport, Heat, Issue, Kind, Reason, Submission, Suggestion, Topic, Verdict,
    Voice,
};
use std::collections::HashMap;

const EVIL: &str = "<script>document.title='PWNED'</script><img src=x onerror=\"alert(1)\">";

fn sub(id: &str, unit: &str, place: &str, date: &str, text: &str) -> Submission {
    Submission {
        id: id.into(),
        path: format!("材料/{id}.docx").into(),
        kind: Some(Kind::Note),
        author: format!("干部{id}").into(),
        unit: unit.into(),
        place: place.into(),
        date: date.into(),
        title: format!("蹲点手记{id}"),
        text: text.into(),
        ..Default::default()
    }
}

fn sugg(
    id: &str,
    s: &Submission,
    theme: (&str, &str),
    issue: &str,
    topic: &str,
    text: &str,
) -> Suggestion {
    Suggestion {
        id: id.into(),
        source: std::sync::Arc::new(diaoyan_model::Source::of(s)),
        places: Vec::new(),
        voice: Voice::People,
        empty: false,
        text: text.into(),
        start: 0,
        end: text.len() as u32,
        theme_group: theme.0.into(),
        theme: theme.1.into(),
        issue: (!issue.is_empty()).then(|| issue.into()),
        topic: (!topic.is_empty()).then(|| topic.into()),
    }
}

struct Run {
    subs: Vec<Submission>,
    assessments: Vec<Assessment>,
    cadres: Vec<CadreReport>,
    suggestions: Vec<Suggestion>,
    issues: Vec<Issue>,
    topics: Vec<Topic>,
    reviews: HashMap<String, (String, String)>,
}

fn run() -> Run {
    let subs = vec![
        sub(
            "a",
            "白沙镇党委",
            "石桥村",
            "2023-09-18",
            "石桥村三组机耕路塌方两处。",
        ),
        sub("b", "县交通局", "石桥村", "2023-09-19", "机耕路坑洼不平。"),
        sub("c", "县卫健局", "新塘村", "2023-09-20", EVIL),
    ];
    let verdict = |id: &str, v: Verdict, score: f64, why: &str| Assessment {
        id: id.into(),
        score,
        verdict: v,
        reasons: vec![Reason {
            code: "x".into(),
            text: why.into(),
            severity: v,
        }],
        signals: Default::default(),
    };
    let assessments = vec![
        verdict("a", Verdict::Pass, 80.0, "有具体发现：石桥村三组"),
        verdict("b", Verdict::Pass, 60.0, "有具体发现"),
        verdict("c", Verdict::Redo, 10.0, &format!("套话为主，例：“{EVIL}”")),
    ];
    let s = &subs;
    let suggestions = vec![
        sugg(
            "s1",
            &s[0],
            ("民生", "交通运输"),
            "I0001",
            "T0001",
            "建议硬化石桥村三组机耕路",
        ),
        sugg(
            "s2",
            &s[1],
            ("民生", "交通运输"),
            "I0001",
            "T0001",
            "石桥村机耕路雨天没法走",
        ),
        sugg("s3", &s[2], ("四风", "形式主义"), "", "", EVIL),
        sugg(
            "s4",
            &s[2],
            ("四风", "形式主义"),
            "I0002",
            "T0002",
            "表格太多",
        ),
        sugg(
            "s5",
            &s[2],
            ("四风", "形式主义"),
            "I0002",
            "T0002",
            "迎检材料太多",
        ),
    ];
    let heat = Heat {
        total: 50.0,
        people: 2,
        places: 1,
        units: 2,
        concentration: 1.0,
        likes: 0,
    };
    let issue = |id: &str, topic: &str, title: &str, theme: (&str, &str), members: &[&str]| Issue {
        id: id.into(),
        title: title.into(),
        keywords: "机耕路".into(),
        topic: Some(topic.into()),
        central: String::new(),
        theme_group: theme.0.into(),
        theme: theme.1.into(),
        heat,
        mentions: members.len(),
        submissions: members.len(),
        places: vec!["石桥村".into()],
        first: "2023-09-18".into(),
        last: "2023-09-19".into(),
        examples: vec![EVIL.into()],
        members: members.iter().map(|&m| m.into()).collect(),
    };
    let issues = vec![
        issue(
            "I0001",
            "T0001",
            "石桥村机耕路",
            ("民生", "交通运输"),
            &["s1", "s2"],
        ),
        issue(
            "I0002",
            "T0002",
            "表格太多",
            ("四风", "形式主义"),
            &["s4", "s5"],
        ),
    ];
    let topic = |id: &str, title: &str, theme: (&str, &str), issue: &str, members: &[&str]| Topic {
        id: id.into(),
        title: title.into(),
        keywords: String::new(),
        theme_group: theme.0.into(),
        theme: theme.1.into(),
        heat,
        mentions: members.len(),
        submissions: 1,
        places: vec!["石桥村".into()],
        first: "2023-09-18".into(),
        last: "2023-09-19".into(),
        issues: vec![issue.into()],
        examples: Vec::new(),
        members: members.iter().map(|&m| m.into()).collect(),
    };
    let topics = vec![
        topic(
            "T0001",
            "石桥村机耕路",
            ("民生", "交通运输"),
            "I0001",
            &["s1", "s2"],
        ),
        topic(
            "T0002",
            "基层填表多",
            ("四风", "形式主义"),
            "I0002",
            &["s4", "s5"],
        ),
    ];
    let cadres = vec![CadreReport {
        name: "干部a".into(),
        unit: "白沙镇党委".into(),
        place: "石桥村".into(),
        days: 4,
        notes: 4,
        households: 21,
        quota: Some(20),
        verdict: Some(Verdict::Pass),
        ..Default::default()
    }];
    Run {
        subs,
        assessments,
        cadres,
        suggestions,
        issues,
        topics,
        reviews: HashMap::new(),
    }
}

fn tables(r: &Run) -> Tables<'_> {
    Tables::from_parts(&RunParts {
        submissions: &r.subs,
        stats: None,
        assessments: Some(&r.assessments),
        cadres: &r.cadres,
        suggestions: &r.suggestions,
        issues: &r.issues,
        topics: &r.topics,
        reviews: &r.reviews,
    })
    .unwrap()
}

#[test]
fn parquet_round_trip_keeps_every_table() {
    let mut r = run();
    r.reviews
        .insert("a".into(), ("改为退回重写".into(), "退回重写".into()));
    let t = tables(&r);
    let dir = tempfile::tempdir().unwrap();
    let names = t.write_parquet(dir.path()).unwrap();
    assert_eq!(names.len(), 5);
    let back = Tables::read_parquet(dir.path()).unwrap();
    let frame = |t: &Tables| t.suggestions.to_frame().unwrap();
    assert!(frame(&back).equals_missing(&frame(&t)));
    assert!(back.topics.equals(&t.topics));
    assert_eq!(back.cadres.height(), 1);
    // The run's submissions are read where they are: every column, score and reason reads as
    // the Parquet copy's (which holds every row's reasons).
    let (rows, copy) = (&t.submissions, &back.submissions);
    assert!(matches!(rows, crate::tables::SubmissionTable::Rows(_)));
    assert!(matches!(copy, crate::tables::SubmissionTable::Frame(_)));
    assert!(
        copy.to_frame()
            .unwrap()
            .equals_missing(&rows.to_frame().unwrap())
    );
    for name in [
        "id",
        "path",
        "kind",
        "author",
        "unit",
        "level",
        "place",
        "date",
        "title",
        "verdict",
        "review",
        "review_verdict",
    ] {
        let col = |t: &crate::tables::SubmissionTable| -> Vec<String> {
            let c = t.strs(name).unwrap();
            c.iter().map(str::to_owned).collect()
        };
        assert_eq!(col(rows), col(copy), "{name}");
    }
    let decided = rows.strs("review_verdict").unwrap();
    assert_eq!(decided.iter().filter(|v| *v == "退回重写").count(), 1);
    assert_eq!(rows.height(), copy.height());
    let scores = |t: &crate::tables::SubmissionTable| -> Vec<String> {
        t.scores()
            .unwrap()
            .iter()
            .map(|x| format!("{x:?}"))
            .collect()
    };
    assert_eq!(scores(rows), scores(copy));
    let want: Vec<Vec<String>> = r
        .assessments
        .iter()
        .map(|a| a.reasons.iter().map(|x| x.text.clone()).collect())
        .collect();
    assert!(want.iter().any(|w| !w.is_empty()));
    for (i, w) in want.iter().enumerate() {
        assert_eq!(&rows.reasons(i).unwrap(), w);
        assert_eq!(&copy.reasons(i).unwrap(), w);
    }
    // Written a few rows (one row group) at a time, the suggestions and the submissions read
    // back the same.
    let small = tempfile::tempdir().unwrap();
    t.write_parquet_in(small.path(), 2).unwrap();
    let batched = Tables::read_parquet(small.path()).unwrap();
    assert!(frame(&batched).equals_missing(&frame(&t)));
    assert!(
        batched
            .submissions
            .to_frame()
            .unwrap()
            .equals_missing(&copy.to_frame().unwrap())
    );
    assert!(
        r.suggestions.len() > 4 && r.subs.len() > 2,
        "several row groups"
    );
    // A missing table is a Chinese message naming the file.
    std::fs::remove_file(dir.path().join("topics.parquet")).unwrap();
    let e = Tables::read_parquet(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("topics.parquet") && e.contains("文件不存在"),
        "{e}"
    );
}

/// The digest a run makes reading its suggestions where they are equals the one `diaoyan digest`
/// makes from the Parquet copy, for the whole run and for a selection.
#[test]
fn the_digest_of_the_runs_rows_equals_the_digest_of_its_parquet() {
    let mut r = run();
    // A suggestion whose submission names no place counts the places it names itself.
    let mut source = (*r.suggestions[1].source).clone();
    source.place = "".into();
    r.suggestions[1].source = std::sync::Arc::new(source);
    r.suggestions[1].places = vec!["石桥村".into(), "白沙镇".into()];
    // A text that passed and that the reviewer sent back: the digest quotes its reasons too.
    r.reviews
        .insert("a".into(), ("改为退回重写".into(), "退回重写".into()));
    let t = tables(&r);
    assert!(matches!(t.suggestions, SuggestionTable::Rows(_)));
    let dir = tempfile::tempdir().unwrap();
    t.write_parquet(dir.path()).unwrap();
    let back = Tables::read_parquet(dir.path()).unwrap();
    assert!(matches!(back.suggestions, SuggestionTable::Frame(_)));
    // What `diaoyan digest` reads: fewer columns, the same digest.
    let projected = Tables::read_parquet_for_digest(dir.path()).unwrap();
    let columns = |t: &Tables| t.suggestions.to_frame().unwrap().width();
    assert!(columns(&projected) < columns(&back));
    let facts = Facts::default();
    for f in [
        Filter::default(),
        Filter {
            themes: vec!["四风".into()],
            ..Default::default()
        },
    ] {
        let of = |t: &Tables| Digest::build(&t.select(&f).unwrap(), &facts, "全部").unwrap();
        let (rows, parquet) = (of(&t), of(&back));
        assert_eq!(of(&projected), parquet, "{}", f.describe());
        assert!(rows.overview.suggestions > 0);
        let sent_back: Vec<(&str, usize)> = rows
            .redo
            .iter()
            .map(|x| (x.path.as_str(), x.reasons.len()))
            .collect();
        assert!(
            sent_back.len() == 2 && sent_back.iter().all(|(_, n)| *n > 0),
            "{sent_back:?}"
        );
        if f.is_empty() {
            let road = rows.topics.iter().find(|t| t.id == "T0001").unwrap();
            assert!(
                road.places.contains(&"白沙镇".to_owned()),
                "{:?}",
                road.places
            );
        }
        assert_eq!(rows, parquet, "{}", f.describe());
    }
    let f = Filter {
        themes: vec!["交通运输".into()],
        places: vec!["石桥村".into()],
        units: vec!["白沙镇".into()],
        ..Default::default()
    };
    let of = |t: &Tables| Digest::build(&t.select(&f).unwrap(), &facts, "全部").unwrap();
    assert_eq!(of(&projected), of(&back));
}

/// A topic's quotes: its examples first, then its members in the order (the people's words
/// before the cadres', in an issue before in none, then row order), three different texts at
/// most; its places by how many of its members name them, then by name. The same from the
/// run's rows and from the Parquet copy.
/// A letter quoted in the written material: its salutation dropped, its opening sentences up
/// to about 120 characters, “……” where it goes on; short words as they are.
#[test]
fn a_long_message_is_quoted_by_its_opening_sentences() {
    let body = "我是魏家坡巷的业主，小区的脏乱差多次向社区反映都得不到解决。现在停车更加困难，车辆乱停乱放，没有消防通道，一旦发生火灾业主的安全没有保障。小区绿化带破烂不堪，路灯倒在绿化带无人管。社区每年搞一次绿化，搞了以后就没有人管了。夏天臭气难闻，蚊叮虫咬。";
    let letter = format!("尊敬的A市政府领导：您们好！{body}谢谢！");
    let q = excerpt(&letter);
    assert!(q.starts_with("我是魏家坡巷的业主"), "{q}");
    assert!(q.ends_with("。……"), "{q}");
    assert!(body.starts_with(q.trim_end_matches('…')), "{q}");
    let n = q.chars().count();
    assert!((40..=122).contains(&n), "{n}: {q}");
    // A greeting alone, a colon that addresses no one, short words: as written.
    assert_eq!(excerpt("您好！路灯不亮。"), "路灯不亮。");
    assert_eq!(excerpt("您好！"), "您好！");
    assert_eq!(
        excerpt("张三提出：建议硬化机耕路"),
        "张三提出：建议硬化机耕路"
    );
    // A speaker in minutes stays; a short name greeted does not.
    assert_eq!(excerpt("村支书李明：水渠要清淤"), "村支书李明：水渠要清淤");
    assert_eq!(excerpt("王市长您好！水渠要清淤"), "水渠要清淤");
    assert_eq!(excerpt("  群众说会车难 "), "群众说会车难");
    assert_eq!(
        excerpt("尊敬的领导您好！我是上海花园业主。"),
        "我是上海花园业主。"
    );
    // No sentence end in the first 120 characters: cut at a clause's end, else at 120.
    let clauses = "小区停车情况不容乐观，".repeat(20);
    let q = excerpt(&clauses);
    assert!(q.ends_with("不容乐观……"), "{q}");
    let run_on = "路".repeat(300);
    assert_eq!(excerpt(&run_on), format!("{}……", "路".repeat(120)));
}

/// The written material quotes a long message by its opening; the workbook's 意见明细 holds it
/// whole.
#[test]
fn a_long_quote_is_cut_in_the_body_and_whole_in_the_workbook() {
    let mut r = run();
    let tail = "最后一句只在原话里。";
    let letter = format!(
        "尊敬的领导：{}{tail}",
        "石桥村三组机耕路坑洼不平，雨天车辆无法通行。".repeat(8)
    );
    let road = ("民生", "交通运输");
    let g = sugg("s6", &r.subs[0], road, "I0001", "T0001", &letter);
    r.suggestions.push(g);
    let topic = r.topics.iter_mut().find(|t| t.id == "T0001").unwrap();
    topic.examples = vec![letter.as_str().into()];
    topic.members.push("s6".into());
    let t = tables(&r);
    let d = Digest::build(&t, &Facts::default(), "全部").unwrap();
    let quote = d
        .topics
        .iter()
        .flat_map(|t| &t.quotes)
        .find(|q| q.full == letter)
        .expect("the letter is quoted");
    assert_eq!(quote.text, excerpt(&letter));
    let dir = tempfile::tempdir().unwrap();
    write_digest(dir.path(), "d", &d, &[Format::Md]).unwrap();
    let md = std::fs::read_to_string(dir.path().join("d.md")).unwrap();
    assert!(md.contains(&quote.text), "{md}");
    assert!(!md.contains(tail) && !md.contains("尊敬的领导"), "{md}");
    let sheets = crate::xlsx::tables(&d);
    let quotes = sheets.iter().find(|t| t.name() == "意见明细").unwrap();
    let mut whole = false;
    quotes
        .each_row(&mut |row| {
            whole |= row.contains(&letter);
            Ok(())
        })
        .unwrap();
    assert!(whole);
}

#[test]
fn a_topics_quotes_and_places_follow_their_order() {
    let mut r = run();
    let road = ("民生", "交通运输");
    let mut add = |id: &str, at: usize, voice: Voice, issue: &str, text: &str| {
        let mut g = sugg(id, &r.subs[at], road, issue, "T0001", text);
        g.voice = voice;
        r.suggestions.push(g);
    };
    // s1 (people, in I0001, 石桥村) and s2 (people, in I0001, 石桥村) are there already.
    add("s6", 2, Voice::Cadre, "I0001", "干部建议拓宽");
    add("s7", 2, Voice::People, "", "群众说会车难");
    add("s8", 0, Voice::People, "I0001", "建议硬化石桥村三组机耕路");
    add("s9", 0, Voice::Cadre, "", "干部记下路边排水沟堵塞");
    // s2 says what s1 says: quoted once.
    let s1 = r.suggestions[0].read().into_owned();
    r.suggestions[1].text = r.suggestions[0].text.clone();
    r.suggestions[1].end = r.suggestions[0].end;
    let topic = r.topics.iter_mut().find(|t| t.id == "T0001").unwrap();
    topic.examples = vec!["干部记下路边排水沟堵塞".into(), "不在成员里的话".into()];
    topic.members = ["s1", "s2", "s6", "s7", "s8", "s9"]
        .iter()
        .map(|&m| m.into())
        .collect();
    let t = tables(&r);
    let dir = tempfile::tempdir().unwrap();
    t.write_parquet(dir.path()).unwrap();
    let back = Tables::read_parquet(dir.path()).unwrap();
    for t in [&t, &back] {
        let d = Digest::build(
            &t.select(&Filter::default()).unwrap(),
            &Facts::default(),
            "全部",
        )
        .unwrap();
        let road = d.topics.iter().find(|t| t.id == "T0001").unwrap();
        let quoted: Vec<&str> = road.quotes.iter().map(|q| q.text.as_str()).collect();
        assert_eq!(
            quoted,
            ["干部记下路边排水沟堵塞", s1.as_str(), "群众说会车难",]
        );
        // 石桥村: s1, s2, s8, s9; 新塘村 (first by name): s6, s7.
        assert_eq!(road.places, ["石桥村", "新塘村"]);
    }
}

#[test]
fn selections_narrow_and_refuse_in_chinese() {
    let r = run();
    let t = tables(&r);
    let only = |f: Filter| t.select(&f).unwrap();
    let road = only(Filter {
        themes: vec!["交通运输".into()],
        ..Default::default()
    });
    assert_eq!(road.suggestions.len(), 2);
    assert_eq!(road.issues.height(), 1);
    assert_eq!(road.topics.height(), 1);
    let group = only(Filter {
        themes: vec!["四风".into()],
        ..Default::default()
    });
    assert_eq!(group.suggestions.len(), 3);
    let dated = only(Filter {
        from: Some("2023-09-19".into()),
        to: Some("2023-09-19".into()),
        ..Default::default()
    });
    assert_eq!(dated.suggestions.len(), 1);
    assert_eq!(dated.submissions.height(), 1);
    let unit = only(Filter {
        units: vec!["卫健".into()],
        ..Default::default()
    });
    assert_eq!(unit.suggestions.len(), 3);
    let err = |f: Filter| t.select(&f).unwrap_err().to_string();
    let e = err(Filter {
        themes: vec!["不存在".into()],
        ..Default::default()
    });
    assert!(
        e.contains("没有主题“不存在”") && e.contains("交通运输"),
        "{e}"
    );
    let e = err(Filter {
        units: vec!["县委办".into()],
        ..Default::default()
    });
    assert!(e.contains("没有单位“县委办”"), "{e}");
    let e = err(Filter {
        from: Some("2030-01-01".into()),
        ..Default::default()
    });
    assert!(
        e.contains("没有意见建议") && e.contains("2030-01-01"),
        "{e}"
    );
}

#[test]
fn every_format_is_written_and_escapes_submission_text() {
    let r = run();
    let t = tables(&r);
    let dir = tempfile::tempdir().unwrap();
    let files = digest_of(
        &t,
        &Filter::default(),
        &Facts::default(),
        dir.path(),
        "digest",
        &Format::ALL,
    )
    .unwrap();
    assert_eq!(
        files,
        ["digest.docx", "digest.html", "digest.md", "digest.xlsx"]
    );

    let html = std::fs::read_to_string(dir.path().join("digest.html")).unwrap();
    assert!(!html.contains("<script>document"), "unescaped script");
    assert!(!html.contains("<img"), "unescaped img");
    assert!(html.contains("&lt;script&gt;document.title="));
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the page's own script"
    );
    assert!(html.contains("Content-Security-Policy"));
    for id in ["s1", "s2", "s3", "s4", "s5", "s6"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    // 四风 comes before 民生.
    assert!(html.find("四风方面").unwrap() < html.find("民生方面").unwrap());

    let md = std::fs::read_to_string(dir.path().join("digest.md")).unwrap();
    assert!(md.contains("\\<script\\>"), "markdown escapes markup");
    assert!(md.contains("## 三、需退回重写的材料"));
    assert!(md.contains("材料/c.docx"));

    // Read the Word file back with the same crate: heading styles and the text are there.
    let bytes = std::fs::read(dir.path().join("digest.docx")).unwrap();
    let doc = docx_rs::read_docx(&bytes).unwrap();
    let json = doc.json();
    for s in [
        "Heading1",
        "Heading2",
        "Heading3",
        "一、基本情况",
        "石桥村机耕路",
        "需退回重写的材料",
    ] {
        assert!(json.contains(s), "{s} missing from the docx");
    }
    assert!(json.contains("PWNED"), "the text is kept, as text");

    let f = std::fs::File::open(dir.path().join("digest.xlsx")).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    assert!(z.by_name("xl/worksheets/sheet6.xml").is_ok(), "six sheets");
}

#[test]
fn formats_parse_and_unknown_ones_are_named() {
    assert_eq!(
        Format::parse_list("md, HTML").unwrap(),
        [Format::Md, Format::Html]
    );
    let e = Format::parse_list("pdf").unwrap_err().to_string();
    assert!(e.contains("pdf"), "{e}");
}

#[test]
fn a_long_redo_list_is_shortened_in_the_body_and_whole_in_the_workbook() {
    let mut r = run();
    let n = REDO_SHOWN + 50;
    for i in 0..n {
        let id = format!("x{i}");
        r.subs
            .push(sub(&id, "县农业局", "河口村", "2023-09-21", "高度重视。"));
        r.assessments.push(Assessment {
            id: id.into(),
            score: i as f64 / 10.0,
            verdict: Verdict::Redo,
            reasons: Vec::new(),
            signals: Default::default(),
        });
    }
    let t = tables(&r);
    let d = Digest::build(&t, &Facts::default(), "全部材料").unwrap();
    assert_eq!(d.redo.len(), n + 1);
    let dir = tempfile::tempdir().unwrap();
    write_digest(dir.path(), "d", &d, &[Format::Md, Format::Html]).unwrap();
    let md = std::fs::read_to_string(dir.path().join("d.md")).unwrap();
    let section = &md[md.find("## 三、").unwrap()..md.find("## 四、").unwrap()];
    let items = section.lines().filter(|l| l.contains("**材料/")).count();
    assert_eq!(items, REDO_SHOWN);
    assert!(
        section.contains(&format!("共 {} 份需退回重写", n + 1)),
        "{section}"
    );
    // Lowest score first.
    assert!(section.contains("**材料/x0.docx**"));
    let sheets = crate::xlsx::tables(&d);
    let redo = sheets.iter().find(|t| t.name() == "需退回重写").unwrap();
    assert_eq!(redo.len(), n + 1);
    // Every row is there, lowest score first.
    let mut rows = Vec::new();
    redo.each_row(&mut |r| {
        rows.push(r.to_vec());
        Ok(())
    })
    .unwrap();
    assert_eq!(rows.len(), n + 1);
    assert_eq!(rows[0][0], "材料/x0.docx");
}
