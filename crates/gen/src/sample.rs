//! The bundled sample campaign: a small county (云岭县) where ten cadres stay at eight villages,
//! with planted cases for every check, and truth files that record them.

use crate::banks::{self, Issue};
use crate::{Place, Result, Rng, Summary, fill, paraphrase, person, write};
use std::collections::BTreeMap;
use std::path::Path;

/// The template the campaign office circulated (also under `corpora/templates/`).
pub const TEMPLATE: &str = include_str!("../../../corpora/templates/蹲点调研报告范文.txt");

#[derive(Clone, Copy, PartialEq)]
enum Enc {
    Utf8,
    Utf8Bom,
    Gbk,
    Docx,
}

#[derive(Clone, Copy, PartialEq)]
enum Report {
    Substantive,
    /// Substantive, with people's names masked as 某某 (not hollow for that).
    Masked,
    Hollow,
    Template,
    /// Copies the problem section of another cadre's report.
    CopyOf(&'static str),
}

struct Spec {
    name: &'static str,
    position: &'static str,
    unit: &'static str,
    level: &'static str,
    town: &'static str,
    village: &'static str,
    households: u32,
    start: u32,
    days: u32,
    notes_on: &'static [u32],
    hollow_notes: &'static [u32],
    visits: u32,
    missing: &'static [&'static str],
    speakers: u32,
    report: Report,
    issues: &'static [&'static str],
    enc: Enc,
    /// Whether notes carry 姓名/单位 header lines (otherwise the folder name and roster tell).
    headers: bool,
    talk: bool,
}

const SPECS: &[Spec] = &[
    Spec {
        name: "张伟",
        position: "县委副书记",
        unit: "云岭县委",
        level: "县级领导",
        town: "白沙镇",
        village: "石桥村",
        households: 320,
        start: 18,
        days: 4,
        notes_on: &[1, 2, 3, 4],
        hollow_notes: &[],
        visits: 24,
        missing: &[],
        speakers: 8,
        report: Report::Substantive,
        issues: &["石桥村机耕路", "慢性病报销"],
        enc: Enc::Docx,
        headers: true,
        talk: true,
    },
    Spec {
        name: "李娜",
        position: "县交通运输局局长",
        unit: "云岭县交通运输局",
        level: "县直部门领导",
        town: "白沙镇",
        village: "柳溪村",
        households: 260,
        start: 18,
        days: 4,
        notes_on: &[1, 2, 4],
        hollow_notes: &[],
        visits: 32,
        missing: &[],
        speakers: 7,
        report: Report::Substantive,
        issues: &["柳溪村柑橘滞销", "基层填表迎检多"],
        enc: Enc::Gbk,
        headers: false,
        talk: false,
    },
    Spec {
        name: "王强",
        position: "县卫生健康局副局长",
        unit: "云岭县卫生健康局",
        level: "县直部门领导",
        town: "清水镇",
        village: "桃源村",
        households: 410,
        start: 19,
        days: 4,
        notes_on: &[1, 2, 3, 4],
        hollow_notes: &[3, 4],
        visits: 12,
        missing: &["上访户", "下岗职工"],
        speakers: 8,
        report: Report::Hollow,
        issues: &["桃源村停水"],
        enc: Enc::Utf8,
        headers: true,
        talk: false,
    },
    Spec {
        name: "刘芳",
        position: "白沙镇党委副书记",
        unit: "白沙镇党委",
        level: "乡镇领导",
        town: "白沙镇",
        village: "青山村",
        households: 185,
        start: 18,
        days: 4,
        notes_on: &[1, 2, 3, 4],
        hollow_notes: &[],
        visits: 64,
        missing: &[],
        speakers: 9,
        report: Report::Template,
        issues: &["基层填表迎检多", "慢性病报销"],
        enc: Enc::Docx,
        headers: true,
        talk: false,
    },
    Spec {
        name: "陈明",
        position: "县农业农村局副局长",
        unit: "云岭县农业农村局",
        level: "县直部门领导",
        town: "清水镇",
        village: "河口村",
        households: 350,
        start: 20,
        days: 4,
        notes_on: &[1, 2, 3, 4],
        hollow_notes: &[],
        visits: 31,
        missing: &[],
        speakers: 8,
        report: Report::CopyOf("张伟"),
        issues: &["河口村垃圾清运"],
        enc: Enc::Gbk,
        headers: true,
        talk: false,
    },
    Spec {
        name: "赵磊",
        position: "县委常委、组织部部长",
        unit: "云岭县委组织部",
        level: "县级领导",
        town: "清水镇",
        village: "龙潭村",
        households: 230,
        start: 18,
        days: 4,
        notes_on: &[1, 2, 3, 4],
        hollow_notes: &[2],
        visits: 21,
        missing: &["上访户", "残疾人", "孤寡老人"],
        speakers: 7,
        report: Report::Substantive,
        issues: &["龙潭村班车停运", "基层填表迎检多"],
        enc: Enc::Utf8Bom,
        headers: true,
        talk: true,
    },
    Spec {
        name: "孙丽",
        position: "清水镇镇长",
        unit: "清水镇人民政府",
        level: "乡镇领导",
        town: "清水镇",
        village: "新塘村",
        households: 300,
        start: 19,
        days: 4,
        notes_on: &[1, 4],
        hollow_notes: &[],
        visits: 45,
        missing: &["种养专业户"],
        speakers: 8,
        report: Report::Substantive,
        issues: &["新塘村卫生室缺医生", "慢性病报销"],
        enc: Enc::Docx,
        headers: true,
        talk: false,
    },
    Spec {
        name: "周建国",
        position: "县人力资源和社会保障局局长",
        unit: "云岭县人力资源和社会保障局",
        level: "县直部门领导",
        town: "白沙镇",
        village: "杨家坪村",
        households: 150,
        start: 18,
        days: 4,
        notes_on: &[1, 2, 3, 4],
        hollow_notes: &[],
        visits: 33,
        missing: &[],
        speakers: 5,
        report: Report::Substantive,
        issues: &["杨家坪村教学点撤并"],
        enc: Enc::Utf8,
        headers: true,
        talk: false,
    },
    Spec {
        name: "吴海燕",
        position: "县教育局副局长",
        unit: "云岭县教育局",
        level: "县直部门领导",
        town: "白沙镇",
        village: "石桥村",
        households: 320,
        start: 20,
        days: 4,
        notes_on: &[1, 2, 3, 4],
        hollow_notes: &[],
        visits: 30,
        missing: &[],
        speakers: 8,
        report: Report::Masked,
        issues: &["石桥村机耕路", "基层填表迎检多"],
        enc: Enc::Utf8,
        headers: true,
        talk: false,
    },
    Spec {
        name: "郑涛",
        position: "清水镇副镇长",
        unit: "清水镇人民政府",
        level: "乡镇领导",
        town: "清水镇",
        village: "河口村",
        households: 350,
        start: 18,
        days: 5,
        notes_on: &[1, 2, 3, 4, 5],
        hollow_notes: &[4, 5],
        visits: 120,
        missing: &[],
        speakers: 8,
        report: Report::Hollow,
        issues: &["河口村垃圾清运"],
        enc: Enc::Gbk,
        headers: true,
        talk: false,
    },
];

/// A generated file before encoding.
struct Doc {
    rel: String,
    lines: Vec<String>,
    enc: Enc,
}

/// Everything the truth files record.
#[derive(Default)]
struct Truth {
    files: Vec<[String; 6]>,
    cadres: Vec<Vec<String>>,
    copies: Vec<[String; 3]>,
    mentions: BTreeMap<&'static str, usize>,
    opinions: Vec<[String; 4]>,
}

fn issue(key: &str) -> &'static Issue {
    banks::ISSUES
        .iter()
        .find(|i| i.key == key)
        .expect("known issue key")
}

fn date(day: u32) -> String {
    format!("2023年9月{day}日")
}

fn iso(day: u32) -> String {
    format!("2023-09-{day:02}")
}

fn weekday(day: u32) -> &'static str {
    // 2023-09-18 was a Monday.
    banks::WEEKDAYS[((day + 7 - 18) % 7) as usize]
}

/// Writes the sample campaign under `dir`: `campaign/` (the input) and `truth*.csv`.
pub fn write_sample(dir: &Path) -> Result<Summary> {
    let mut rng = Rng::new(20230918);
    let mut truth = Truth::default();
    let mut docs: Vec<Doc> = Vec::new();
    let mut reports: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (i, spec) in SPECS.iter().enumerate() {
        cadre_docs(i, spec, &mut rng, &mut truth, &mut docs, &mut reports);
    }
    let mut summary = Summary::default();
    let campaign = dir.join("campaign");
    for d in &docs {
        let text = d.lines.join("\n") + "\n";
        let bytes = match d.enc {
            Enc::Utf8 => text.into_bytes(),
            Enc::Utf8Bom => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
            Enc::Gbk => encoding_rs::GBK.encode(&text).0.into_owned(),
            Enc::Docx => crate::docx_bytes(&d.lines),
        };
        write(&campaign.join(&d.rel), &bytes, &mut summary)?;
    }
    // An Office lock file left behind by an open report: must be skipped, not read.
    write(
        &campaign.join("张伟_县委副书记/~$伟蹲点调研报告.docx"),
        b"\x05lock",
        &mut summary,
    )?;
    roster(&campaign.join("roster.xlsx"), &mut summary)?;
    opinions(
        &campaign.join("意见征求表汇总.xlsx"),
        &mut rng,
        &mut truth,
        &mut summary,
    )?;
    write_truth(dir, &truth)?;
    Ok(summary)
}

fn ext(enc: Enc) -> &'static str {
    if enc == Enc::Docx { "docx" } else { "txt" }
}

fn folder(spec: &Spec) -> String {
    // Some cadres name their folder with the position, some without.
    if spec.headers {
        format!("{}_{}", spec.name, spec.position)
    } else {
        spec.name.to_owned()
    }
}

fn header(spec: &Spec, title: String, day: u32, rng: &mut Rng) -> Vec<String> {
    let mut lines = vec![title];
    if spec.headers {
        lines.push(format!("姓名：{}　单位：{}", spec.name, spec.unit));
    }
    lines.push(format!(
        "{} {} {}",
        date(day),
        weekday(day),
        rng.pick(banks::WEATHER)
    ));
    lines.push(String::new());
    lines
}

/// One household visit: who, which categories, what they said.
struct Visit {
    who: String,
    group: String,
    cats: Vec<&'static str>,
    situation: String,
    problem: String,
    suggestion: String,
    issue: Option<&'static str>,
}

fn plan_visits(spec: &Spec, rng: &mut Rng, place: &Place) -> Vec<Visit> {
    let allowed: Vec<&'static str> = banks::CATEGORIES
        .iter()
        .copied()
        .filter(|c| !spec.missing.contains(c))
        .collect();
    let mut seen: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
    let mut deck: Vec<usize> = (0..banks::ONE_OFF.len()).collect();
    rng.shuffle(&mut deck);
    let mut one_off = 0usize;
    let mut issue_uses: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    (0..spec.visits as usize)
        .map(|i| {
            // Cover every allowed category in the first rounds, then about half the households
            // are ordinary (一般户).
            let cats = if i < allowed.len() || rng.chance(45) {
                vec![allowed[i % allowed.len()]]
            } else {
                vec![]
            };
            let situation = match cats.first() {
                None => fill(
                    "家里{n}口人，种了{smu}亩{crop}，儿子儿媳在外打工",
                    place,
                    rng,
                ),
                Some(c) => {
                    let (_, s) = banks::CATEGORY_SITUATION
                        .iter()
                        .find(|(k, _)| k == c)
                        .expect("category");
                    fill(rng.pick(s), place, rng)
                }
            };
            let roll = rng.range(0, 99);
            // Recurring issues come back in different words; one-off problems are drawn
            // without replacement, so a record never repeats the same complaint verbatim.
            let (problem, suggestion, issue) = if roll < 40 {
                let key = rng.pick(spec.issues);
                let is = issue(key);
                let n = *issue_uses.entry(key).or_insert(0);
                issue_uses.insert(key, n + 1);
                (
                    fill(is.problems[n % is.problems.len()], place, rng),
                    fill(is.suggestions[n % is.suggestions.len()], place, rng),
                    Some(is.key),
                )
            } else if roll < 48 {
                let (p, s) = banks::ONE_OFF[deck[one_off % deck.len()]];
                one_off += 1;
                (fill(p, place, rng), fill(s, place, rng), None)
            } else {
                // A village fixture: composed, so it rarely repeats across the campaign.
                let (p, s) = fixture_problem(place, rng);
                (p, s, None)
            };
            // Two households of one name in one group would be one household to any reader.
            let (who, group) = loop {
                let key = (person(rng), fill("{g}", place, rng));
                if seen.insert(key.clone()) {
                    break key;
                }
            };
            Visit {
                who,
                group,
                cats,
                situation,
                problem,
                suggestion,
                issue,
            }
        })
        .collect()
}

/// A one-off problem with a village fixture (便民桥, 排水沟 …) and what was asked.
fn fixture_problem(place: &Place, rng: &mut Rng) -> (String, String) {
    let f = rng.pick(banks::FIXTURES);
    let p = format!(
        "{}{}的{}{}",
        place.village,
        fill("{g}", place, rng),
        f,
        rng.pick(banks::DEFECTS)
    );
    let s = fill(&rng.pick(banks::REQUESTS).replace("{f}", f), place, rng);
    (p, s)
}

fn cadre_docs(
    style: usize,
    spec: &Spec,
    rng: &mut Rng,
    truth: &mut Truth,
    docs: &mut Vec<Doc>,
    reports: &mut BTreeMap<&'static str, Vec<String>>,
) {
    let place = Place {
        village: spec.village.to_owned(),
        town: spec.town.to_owned(),
        households: Some(spec.households),
    };
    let dir = folder(spec);
    let visits = plan_visits(spec, rng, &place);
    // Split visits across the stay.
    let per_day: Vec<&[Visit]> = {
        let n = spec.days as usize;
        let chunk = visits.len().div_ceil(n);
        visits.chunks(chunk.max(1)).collect()
    };
    let file =
        |truth: &mut Truth, rel: String, kind: &str, expect: &str, planted: &str, note: String| {
            truth.files.push([
                rel,
                spec.name.to_owned(),
                kind.to_owned(),
                expect.to_owned(),
                planted.to_owned(),
                note,
            ]);
        };

    // Daily notes.
    for day in 1..=spec.days {
        if !spec.notes_on.contains(&day) {
            continue;
        }
        let d = spec.start + day - 1;
        let title = format!("蹲点手记（第{day}天）");
        let mut lines = header(spec, title, d, rng);
        let todays = per_day.get(day as usize - 1).copied().unwrap_or(&[]);
        let hollow = spec.hollow_notes.contains(&day);
        if hollow {
            lines.push("今天继续深入农户走访，与群众拉家常、听心声。".to_owned());
            let mut s: Vec<&str> = banks::SLOGANS.to_vec();
            rng.shuffle(&mut s);
            for chunk in s[..8].chunks(2) {
                lines.push(format!("{}。", chunk.join("，")));
            }
        } else {
            let body = note_body(spec, day, todays, rng, &place, truth);
            lines.extend(body.iter().map(|l| paraphrase(l, rng)));
        }
        let rel = format!("{dir}/{}_蹲点手记.{}", iso(d), ext(spec.enc));
        let (expect, planted) = if hollow {
            ("redo", "hollow")
        } else {
            ("pass", "")
        };
        file(truth, rel.clone(), "note", expect, planted, String::new());
        docs.push(Doc {
            rel,
            lines,
            enc: spec.enc,
        });
    }

    // Visit records, one file a day.
    for (i, todays) in per_day.iter().enumerate() {
        let day = i as u32 + 1;
        let d = spec.start + i as u32;
        let mut lines = vec![format!("走访笔录（第{day}天）")];
        if spec.enc == Enc::Docx {
            lines.push(format!("走访人\t{}\t日期\t{}", spec.name, date(d)));
            lines.push(format!("单位\t{}\t地点\t{}", spec.unit, spec.village));
        } else {
            lines.push(format!(
                "走访人：{}　日期：{}　地点：{}",
                spec.name,
                date(d),
                spec.village
            ));
        }
        lines.push(String::new());
        for (k, v) in todays.iter().enumerate() {
            let cats = if v.cats.is_empty() {
                "一般户".to_owned()
            } else {
                v.cats.join("、")
            };
            lines.push(format!(
                "【第{}户】户主：{}　{}{}　类别：{}",
                k + 1,
                v.who,
                spec.village,
                v.group,
                cats
            ));
            let [l1, l2, l3] = banks::VISIT_LABELS[style % banks::VISIT_LABELS.len()];
            lines.push(paraphrase(&format!("{l1}：{}。", v.situation), rng));
            lines.push(paraphrase(&format!("{l2}：{}。", v.problem), rng));
            lines.push(paraphrase(&format!("{l3}：{}。", v.suggestion), rng));
            if let Some(key) = v.issue {
                *truth.mentions.entry(key).or_default() += 1;
            }
        }
        let rel = format!("{dir}/走访笔录_第{day}天.{}", ext(spec.enc));
        file(
            truth,
            rel.clone(),
            "visit",
            "pass",
            "",
            format!("{} 户", todays.len()),
        );
        docs.push(Doc {
            rel,
            lines,
            enc: spec.enc,
        });
    }

    // Forum minutes.
    {
        let d = spec.start + 1;
        let mut lines = vec![
            format!("{}群众座谈会记录", spec.village),
            format!("时间：{}下午", date(d)),
            format!("地点：{}村委会会议室", spec.village),
            format!("主持人：{}", spec.name),
        ];
        let speakers: Vec<(String, String)> = (0..spec.speakers)
            .map(|i| {
                (
                    banks::SPEAKER_ROLES[i as usize % banks::SPEAKER_ROLES.len()].to_owned(),
                    person(rng),
                )
            })
            .collect();
        let roles: Vec<String> = speakers.iter().map(|(r, p)| format!("{r}{p}")).collect();
        lines.push(format!(
            "参加人员：{}，共{}人",
            roles.join("、"),
            spec.speakers
        ));
        lines.push(String::new());
        lines.push(format!(
            "{}：这次来{}蹲点，主要是听听大家的真实想法，有什么说什么。",
            spec.name, spec.village
        ));
        for (i, (role, who)) in speakers.iter().enumerate() {
            let (p, s) = if i % 2 == 0 {
                let key = spec.issues[i / 2 % spec.issues.len()];
                *truth.mentions.entry(key).or_default() += 1;
                let is = issue(key);
                (
                    fill(rng.pick(is.problems), &place, rng),
                    fill(rng.pick(is.suggestions), &place, rng),
                )
            } else {
                let (p, s) = rng.pick(banks::ONE_OFF);
                (fill(p, &place, rng), fill(s, &place, rng))
            };
            lines.push(paraphrase(&format!("{role}{who}：{p}。{s}。"), rng));
        }
        lines.push(format!(
            "{}：{}",
            spec.name,
            banks::FORUM_CLOSINGS[style % banks::FORUM_CLOSINGS.len()]
        ));
        let rel = format!("{dir}/{}座谈会记录.{}", spec.village, ext(spec.enc));
        let ok = (7..=9).contains(&spec.speakers);
        file(
            truth,
            rel.clone(),
            "minutes",
            "pass",
            if ok { "" } else { "few_speakers" },
            format!("{} 人发言", spec.speakers),
        );
        docs.push(Doc {
            rel,
            lines,
            enc: spec.enc,
        });
    }

    // A talk record for some.
    if spec.talk {
        let d = spec.start + 2;
        let who = person(rng);
        let lines = vec![
            "谈心谈话记录".to_owned(),
            format!(
                "谈话人：{}　谈话对象：{}村党支部书记{}　时间：{}",
                spec.name,
                spec.village,
                who,
                date(d)
            ),
            String::new(),
            format!(
                "{who}说，村里今年最难的是钱：{}。",
                fill(rng.pick(banks::FACTS), &place, rng)
            ),
            format!(
                "他坦言，{}。",
                fill(rng.pick(issue("基层填表迎检多").problems), &place, rng)
            ),
            format!(
                "我请他把村里需要县里协调的事列个清单，{}之前交给我。",
                date(d + 3)
            ),
        ];
        *truth.mentions.entry("基层填表迎检多").or_default() += 1;
        let rel = format!("{dir}/谈心谈话记录.{}", ext(spec.enc));
        file(truth, rel.clone(), "talk", "pass", "", String::new());
        docs.push(Doc {
            rel,
            lines,
            enc: spec.enc,
        });
    }

    // The final report.
    let rel = format!("{dir}/{}蹲点调研报告.{}", spec.name, ext(spec.enc));
    let (lines, expect, planted, note) = match spec.report {
        Report::Substantive | Report::Masked => {
            let l = substantive_report(
                spec,
                rng,
                &place,
                truth,
                spec.report == Report::Masked,
                None,
            );
            (
                l,
                "pass",
                if spec.report == Report::Masked {
                    "masked_names"
                } else {
                    ""
                },
                String::new(),
            )
        }
        Report::Hollow => (hollow_report(spec, rng), "redo", "hollow", String::new()),
        Report::Template => {
            let l: Vec<String> = TEMPLATE
                .lines()
                .map(|l| {
                    l.replacen("xx村", spec.village, 1)
                        .replace("xx镇", spec.town)
                })
                .collect();
            truth.copies.push([
                rel.clone(),
                "templates/蹲点调研报告范文.txt".to_owned(),
                "template".to_owned(),
            ]);
            (l, "redo", "template_copy", "照抄范文，数字未填".to_owned())
        }
        Report::CopyOf(other) => {
            let source = reports.get(other).cloned().unwrap_or_default();
            let other_rel = truth
                .files
                .iter()
                .find(|f| f[1] == other && f[2] == "report")
                .map(|f| f[0].clone())
                .unwrap_or_default();
            truth
                .copies
                .push([rel.clone(), other_rel.clone(), "peer".to_owned()]);
            let l = substantive_report(spec, rng, &place, truth, false, Some(&source));
            (l, "redo", "peer_copy", format!("问题部分抄自 {other_rel}"))
        }
    };
    reports.insert(spec.name, lines.clone());
    file(truth, rel.clone(), "report", expect, planted, note);
    docs.push(Doc {
        rel,
        lines,
        enc: spec.enc,
    });

    let quota = match spec.level {
        "县级领导" => 20,
        "县直部门领导" => 30,
        _ => spec.households.div_ceil(3),
    };
    let reached: Vec<&str> = banks::CATEGORIES
        .iter()
        .copied()
        .filter(|c| !spec.missing.contains(c))
        .collect();
    let missing_dates: Vec<String> = (1..=spec.days)
        .filter(|d| !spec.notes_on.contains(d))
        .map(|d| iso(spec.start + d - 1))
        .collect();
    truth.cadres.push(vec![
        spec.name.to_owned(),
        spec.level.to_owned(),
        spec.village.to_owned(),
        spec.days.to_string(),
        quota.to_string(),
        spec.visits.to_string(),
        if spec.visits >= quota { "是" } else { "否" }.to_owned(),
        missing_dates.join("、"),
        spec.missing.join("、"),
        reached.len().to_string(),
        spec.speakers.to_string(),
        if (7..=9).contains(&spec.speakers) {
            "是"
        } else {
            "否"
        }
        .to_owned(),
    ]);
}

fn note_body(
    spec: &Spec,
    day: u32,
    todays: &[Visit],
    rng: &mut Rng,
    place: &Place,
    truth: &mut Truth,
) -> Vec<String> {
    let mut lines = Vec::new();
    let hour = rng.range(7, 9);
    lines.push(format!(
        "早上{hour}点多从{}出发到{}，{}",
        spec.town,
        spec.village,
        if day == 1 {
            "先和村两委班子碰了个头，了解村里的基本情况。".to_owned()
        } else {
            format!(
                "今天跟着{}走{}。",
                fill("网格员{p}", place, rng),
                fill("{g}", place, rng)
            )
        }
    ));
    if day == 1 {
        lines.push(format!("{}。", fill(rng.pick(banks::FACTS), place, rng)));
    }
    let cats: Vec<&str> = todays.iter().flat_map(|v| v.cats.iter().copied()).collect();
    lines.push(format!(
        "今天共走访{}户{}。",
        todays.len(),
        if cats.is_empty() {
            String::new()
        } else {
            format!("，其中有{}", dedup(&cats).join("、"))
        }
    ));
    for v in todays.iter().take(2) {
        lines.push(format!(
            "{}{}：{}。谈到村里的事，{}。",
            v.group, v.who, v.situation, v.problem
        ));
        if let Some(key) = v.issue {
            *truth.mentions.entry(key).or_default() += 1;
        }
    }
    if let Some(v) = todays.get(2) {
        lines.push(format!("{}提出：{}。", v.who, v.suggestion));
    }
    lines.push(format!(
        "{}。",
        fill(rng.pick(banks::REFLECTIONS), place, rng)
    ));
    lines.push(format!(
        "明天计划去{}，重点看看{}。",
        fill("{g}", place, rng),
        rng.pick(&[
            "灌溉渠",
            "通组路",
            "村小",
            "卫生室",
            "合作社的冷库",
            "垃圾池"
        ])
    ));
    lines
}

fn dedup<'a>(v: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for s in v {
        if !out.contains(s) {
            out.push(s);
        }
    }
    out
}

fn substantive_report(
    spec: &Spec,
    rng: &mut Rng,
    place: &Place,
    truth: &mut Truth,
    masked: bool,
    copied_problems: Option<&[String]>,
) -> Vec<String> {
    let end = spec.start + spec.days - 1;
    let mut l = vec![
        format!("关于{}群众急难愁盼问题的蹲点调研报告", spec.village),
        format!("{}　{}", spec.unit, spec.name),
        format!("（{}）", date(end)),
        String::new(),
        format!(
            "9月{}日至{}日，我在{}{}蹲点{}天，走访农户{}户，召开群众座谈会1次，现将了解到的情况报告如下。",
            spec.start, end, spec.town, spec.village, spec.days, spec.visits
        ),
        "一、基本情况".to_owned(),
    ];
    let mut facts: Vec<&str> = banks::FACTS.to_vec();
    rng.shuffle(&mut facts);
    for f in &facts[..3] {
        l.push(format!("{}。", fill(f, place, rng)));
    }
    l.push("二、存在的主要问题".to_owned());
    if let Some(src) = copied_problems {
        // The copied section: everything between the two headings of the source, verbatim.
        let start = src
            .iter()
            .position(|s| s == "二、存在的主要问题")
            .map_or(0, |i| i + 1);
        let stop = src
            .iter()
            .position(|s| s == "三、意见建议")
            .unwrap_or(src.len());
        l.extend(src[start..stop].iter().cloned());
    } else {
        let numerals = ["（一）", "（二）", "（三）"];
        for (i, key) in spec.issues.iter().chain(["ONE"].iter()).take(3).enumerate() {
            let (p, detail) = if *key == "ONE" {
                let (p, _) = rng.pick(banks::ONE_OFF);
                (
                    fill(p, place, rng),
                    fill("走访中有{n}户提到类似情况，涉及{hh}人", place, rng),
                )
            } else {
                *truth.mentions.entry(key).or_default() += 1;
                let is = issue(key);
                (
                    fill(rng.pick(is.problems), place, rng),
                    fill(
                        "走访的{hh}户中有{n}户谈到这个问题，{p}说得最具体",
                        place,
                        rng,
                    ),
                )
            };
            let detail = if masked { mask_names(&detail) } else { detail };
            l.push(format!("{}{}。{}。", numerals[i], p, detail));
        }
    }
    l.push("三、意见建议".to_owned());
    for (i, key) in spec.issues.iter().enumerate() {
        let s = fill(rng.pick(issue(key).suggestions), place, rng);
        l.push(format!(
            "{}. {}，{}。",
            i + 1,
            s,
            fill(
                "估算需要资金{wan}万元，可从衔接资金和部门项目中统筹",
                place,
                rng
            )
        ));
    }
    let (_, s) = rng.pick(banks::ONE_OFF);
    l.push(format!(
        "{}. {}。",
        spec.issues.len() + 1,
        fill(s, place, rng)
    ));
    l.push("四、下一步打算".to_owned());
    let next = rng.pick(banks::NEXT_STEPS).replace("{due}", &date(end + 5));
    l.push(fill(&next, place, rng));
    // Everything but the copied section is in the cadre's own words.
    let copied: Vec<String> = copied_problems.map(<[String]>::to_vec).unwrap_or_default();
    l.into_iter()
        .map(|line| {
            if copied.contains(&line) {
                line
            } else {
                paraphrase(&line, rng)
            }
        })
        .collect()
}

/// Replaces personal names in a line with 某某 (as some offices require).
fn mask_names(s: &str) -> String {
    let mut out = s.to_owned();
    for sn in banks::SURNAMES {
        for g in banks::GIVEN {
            out = out.replace(&format!("{sn}{g}"), &format!("{sn}某某"));
        }
    }
    out
}

fn hollow_report(spec: &Spec, rng: &mut Rng) -> Vec<String> {
    let mut s: Vec<&str> = banks::SLOGANS.to_vec();
    rng.shuffle(&mut s);
    let mut l = vec![
        "蹲点调研报告".to_owned(),
        format!("{}　{}", spec.unit, spec.name),
        format!("（{}）", date(spec.start + spec.days - 1)),
        String::new(),
        format!(
            "根据县委统一安排，本人到{}开展了蹲点调研活动。",
            spec.village
        ),
        format!("{}。{}。", s[0], s[1]),
        "一、主要做法".to_owned(),
        format!("{}。{}。{}。", s[2], s[3], s[4]),
        "二、存在问题".to_owned(),
        format!("{}。{}。", s[5], s[6]),
        "三、意见建议".to_owned(),
        format!("{}。{}。{}。", s[7], s[8], s[9]),
        "四、下一步工作".to_owned(),
        format!("{}。{}。", s[10], s[11]),
    ];
    l.push(format!("{}。", s[12]));
    l
}

fn roster(path: &Path, summary: &mut Summary) -> Result<()> {
    let mut rows = vec![vec![
        "序号".to_owned(),
        "姓名".into(),
        "单位".into(),
        "职务".into(),
        "级别".into(),
        "联系点".into(),
        "所属乡镇".into(),
        "联系点户数".into(),
        "蹲点开始".into(),
        "蹲点结束".into(),
    ]];
    for (i, s) in SPECS.iter().enumerate() {
        rows.push(vec![
            (i + 1).to_string(),
            s.name.into(),
            s.unit.into(),
            s.position.into(),
            s.level.into(),
            s.village.into(),
            s.town.into(),
            s.households.to_string(),
            iso(s.start),
            iso(s.start + s.days - 1),
        ]);
    }
    xlsx(
        path,
        "花名册",
        Some("云岭县“大调研、大走访”蹲点干部花名册"),
        &rows,
        summary,
    )
}

fn opinions(path: &Path, rng: &mut Rng, truth: &mut Truth, summary: &mut Summary) -> Result<()> {
    let mut items: Vec<(String, String, String, Option<&'static str>, bool)> = Vec::new(); // person, place, text, issue, hollow
    let villages = [
        "石桥村",
        "柳溪村",
        "桃源村",
        "青山村",
        "河口村",
        "龙潭村",
        "新塘村",
        "杨家坪村",
    ];
    for is in banks::ISSUES {
        let n = if is.place.is_empty() { 5 } else { 7 };
        for _ in 0..n {
            let village = if is.place.is_empty() {
                rng.pick(&villages)
            } else {
                is.place
            };
            let place = Place {
                village: village.to_owned(),
                town: "白沙镇".to_owned(),
                households: None,
            };
            let p = fill(rng.pick(is.problems), &place, rng);
            let text = if rng.chance(60) {
                format!("{p}。{}。", fill(rng.pick(is.suggestions), &place, rng))
            } else {
                format!("{p}。")
            };
            items.push((
                person(rng),
                format!("{village}{}", fill("{g}", &place, rng)),
                text,
                Some(is.key),
                false,
            ));
        }
    }
    while items.len() < 92 {
        let village = rng.pick(&villages);
        let place = Place {
            village: village.to_owned(),
            town: "清水镇".to_owned(),
            households: None,
        };
        let (p, s) = if rng.chance(20) {
            let (p, s) = rng.pick(banks::ONE_OFF);
            (fill(p, &place, rng), fill(s, &place, rng))
        } else {
            fixture_problem(&place, rng)
        };
        let mut text = format!("{p}。{s}。");
        if rng.chance(15) {
            text.push_str(&format!(
                "联系电话1{}{:09}。",
                rng.range(3, 9),
                rng.range(0, 999_999_999)
            ));
        }
        items.push((
            person(rng),
            format!("{village}{}", fill("{g}", &place, rng)),
            text,
            None,
            false,
        ));
    }
    for h in banks::HOLLOW_OPINIONS
        .iter()
        .chain(banks::HOLLOW_OPINIONS[..2].iter())
    {
        let village = rng.pick(&villages);
        items.push((
            person(rng),
            village.to_owned(),
            format!("{h}。"),
            None,
            true,
        ));
    }
    rng.shuffle(&mut items);
    let mut rows = vec![vec![
        "序号".to_owned(),
        "姓名".into(),
        "村组".into(),
        "联系电话".into(),
        "类型".into(),
        "日期".into(),
        "意见建议内容".into(),
    ]];
    for (i, (who, place, text, key, hollow)) in items.iter().enumerate() {
        if let Some(k) = key {
            *truth.mentions.entry(k).or_default() += 1;
        }
        rows.push(vec![
            (i + 1).to_string(),
            who.clone(),
            place.clone(),
            format!("1{}{:09}", rng.range(3, 9), rng.range(0, 999_999_999)),
            if *hollow {
                "意见建议"
            } else {
                "问题反映"
            }
            .to_owned(),
            format!("2023/9/{}", rng.range(18, 24)),
            text.clone(),
        ]);
        // Row numbers as Excel shows them: title row 1, header row 2, data from row 3.
        truth.opinions.push([
            format!("意见征求表汇总.xlsx#{}", i + 3),
            key.unwrap_or("").to_owned(),
            if *hollow { "是" } else { "否" }.to_owned(),
            text.clone(),
        ]);
    }
    xlsx(
        path,
        "意见建议",
        Some("云岭县“大调研、大走访”群众意见建议汇总表"),
        &rows,
        summary,
    )
}

fn xlsx(
    path: &Path,
    sheet: &str,
    title: Option<&str>,
    rows: &[Vec<String>],
    summary: &mut Summary,
) -> Result<()> {
    let err = |e: rust_xlsxwriter::XlsxError| crate::Error::Xlsx {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut wb = rust_xlsxwriter::Workbook::new();
    // A fixed creation time: the generated sample must be byte-identical on every run.
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2023, 9, 25).map_err(err)?;
    wb.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(err)?;
    let offset = u32::from(title.is_some());
    if let Some(t) = title {
        ws.write_string(0, 0, t).map_err(err)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            match cell.parse::<f64>() {
                Ok(n) if r > 0 && cell.len() < 6 => {
                    ws.write_number(r as u32 + offset, c as u16, n).map(|_| ())
                }
                _ => ws
                    .write_string(r as u32 + offset, c as u16, cell)
                    .map(|_| ()),
            }
            .map_err(err)?;
        }
    }
    let bytes = wb.save_to_buffer().map_err(err)?;
    write(path, &bytes, summary)
}

fn write_truth(dir: &Path, t: &Truth) -> Result<()> {
    let mut ignored = Summary::default();
    let csv = |header: &[&str], rows: Vec<Vec<String>>| -> Vec<u8> {
        let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        // Writing CSV to memory cannot fail.
        w.write_record(header).expect("in-memory csv");
        for r in rows {
            w.write_record(&r).expect("in-memory csv");
        }
        w.into_inner().expect("in-memory csv")
    };
    write(
        &dir.join("truth.csv"),
        &csv(
            &["文件", "作者", "类型", "预期", "植入", "说明"],
            t.files.iter().map(|r| r.to_vec()).collect(),
        ),
        &mut ignored,
    )?;
    write(
        &dir.join("truth_cadres.csv"),
        &csv(
            &[
                "姓名",
                "级别",
                "联系点",
                "蹲点天数",
                "户数要求",
                "走访户数",
                "户数达标",
                "缺少手记日期",
                "未走访类别",
                "已走访类别数",
                "座谈会发言人数",
                "发言人数达标",
            ],
            t.cadres.clone(),
        ),
        &mut ignored,
    )?;
    write(
        &dir.join("truth_copies.csv"),
        &csv(
            &["文件", "来源", "类型"],
            t.copies.iter().map(|r| r.to_vec()).collect(),
        ),
        &mut ignored,
    )?;
    let issues = banks::ISSUES
        .iter()
        .map(|i| {
            vec![
                i.key.to_owned(),
                i.place.to_owned(),
                i.theme.to_owned(),
                t.mentions.get(i.key).copied().unwrap_or(0).to_string(),
                i.keywords.join("|"),
            ]
        })
        .collect();
    write(
        &dir.join("truth_issues.csv"),
        &csv(&["问题", "地点", "主题", "提及次数", "关键词"], issues),
        &mut ignored,
    )?;
    write(
        &dir.join("truth_opinions.csv"),
        &csv(
            &["行", "问题", "空话", "内容"],
            t.opinions.iter().map(|r| r.to_vec()).collect(),
        ),
        &mut ignored,
    )?;
    Ok(())
}
