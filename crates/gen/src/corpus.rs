//! Synthetic campaigns of any size, for benchmarks and scale tests.
//!
//! Each cadre writes eight documents (seven daily notes and a report). About 60 % of documents
//! are substantive, 25 % hollow (slogans), 15 % near-copies of an earlier document with new
//! figures. `manifest.csv` in the root gives each file's metadata and its category (the truth).

use crate::banks;
use crate::{Place, Result, Rng, Summary, fill, person, write};
use std::path::Path;

const VILLAGE_A: &[char] = &[
    '青', '石', '白', '红', '金', '龙', '凤', '桃', '李', '梅', '竹', '松', '柳', '枫', '云', '东',
    '西', '南', '北', '新', '高', '长',
];
const VILLAGE_B: &[char] = &[
    '山', '河', '岭', '坡', '坪', '坝', '湾', '沟', '溪', '塘', '桥', '寨', '岗', '林', '田', '庄',
];
const TOWNS: &[&str] = &[
    "白沙镇",
    "清水镇",
    "石门乡",
    "新华镇",
    "龙泉乡",
    "永安镇",
    "河西乡",
    "太平镇",
];
const UNITS: &[(&str, &str)] = &[
    ("县委办公室", "县级领导"),
    ("县交通运输局", "县直部门领导"),
    ("县农业农村局", "县直部门领导"),
    ("县卫生健康局", "县直部门领导"),
    ("乡镇人民政府", "乡镇领导"),
];

/// One generated document.
#[derive(Debug, Clone)]
pub struct GenDoc {
    /// Relative path (`cNN/cadreNNNNN/DATE_蹲点手记.txt`).
    pub path: String,
    /// Author.
    pub author: String,
    /// Unit.
    pub unit: &'static str,
    /// Level (Chinese label).
    pub level: &'static str,
    /// Contact village.
    pub village: String,
    /// `note` or `report`.
    pub kind: &'static str,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `substantive`, `hollow` or `near_copy` (the truth).
    pub category: &'static str,
    /// For a near-copy, the path of its source.
    pub source: String,
    /// The text.
    pub text: String,
}

/// Generates `docs` documents in memory (deterministic for `(docs, seed)`; the first N of a
/// larger corpus with the same seed are the same N documents).
pub fn generate(docs: usize, seed: u64) -> Vec<GenDoc> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<GenDoc> = Vec::with_capacity(docs);
    let mut by_day: Vec<Vec<usize>> = vec![Vec::new(); 8];
    let mut cadre = 0usize;
    while out.len() < docs {
        let name = person(&mut rng);
        let (unit, level) = rng.pick(UNITS);
        let village = format!("{}{}村", rng.pick(VILLAGE_A), rng.pick(VILLAGE_B));
        let place = Place {
            village: village.clone(),
            town: rng.pick(TOWNS).to_owned(),
            households: None,
        };
        let issues: Vec<&banks::Issue> = (0..3).map(|_| rng.pick_ref(banks::ISSUES)).collect();
        for k in 0..8 {
            if out.len() >= docs {
                break;
            }
            let report = k == 7;
            let day = 1 + k as u32;
            let date = format!("2024-03-{:02}", 4 + day);
            let roll = rng.range(0, 99);
            // A copy is made of something already written: only earlier-dated sources
            // (originals are bucketed by day, so this stays linear).
            let earlier: usize = by_day[..k].iter().map(Vec::len).sum();
            let (category, source, text) = if roll < 15 && earlier > 0 {
                let mut pick = rng.range(0, earlier as u64 - 1) as usize;
                let mut j = 0;
                for bucket in &by_day[..k] {
                    if pick < bucket.len() {
                        j = bucket[pick];
                        break;
                    }
                    pick -= bucket.len();
                }
                (
                    "near_copy",
                    out[j].path.clone(),
                    near_copy(&out[j].text, &date, &mut rng),
                )
            } else if roll < 40 {
                (
                    "hollow",
                    String::new(),
                    hollow(&name, unit, &date, report, &mut rng),
                )
            } else {
                (
                    "substantive",
                    String::new(),
                    substantive(&name, unit, &date, report, &issues, &place, &mut rng),
                )
            };
            let path = format!(
                "c{:02}/cadre{:05}/{}_{}.txt",
                cadre / 100,
                cadre,
                date,
                if report {
                    "蹲点调研报告"
                } else {
                    "蹲点手记"
                }
            );
            if category != "near_copy" {
                by_day[k].push(out.len());
            }
            out.push(GenDoc {
                path,
                author: name.clone(),
                unit,
                level,
                village: village.clone(),
                kind: if report { "report" } else { "note" },
                date,
                category,
                source,
                text,
            });
        }
        cadre += 1;
    }
    out
}

/// Writes `docs` documents under `dir` (`cNN/cadreNNNNN/…txt`) plus `manifest.csv` (file,
/// metadata and the truth category of each).
pub fn write_corpus(dir: &Path, docs: usize, seed: u64) -> Result<Summary> {
    let mut summary = Summary::default();
    let mut manifest = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    manifest
        .write_record([
            "文件",
            "姓名",
            "单位",
            "级别",
            "联系点",
            "类型",
            "日期",
            "类别",
            "来源",
        ])
        .expect("in-memory csv");
    for d in generate(docs, seed) {
        write(&dir.join(&d.path), d.text.as_bytes(), &mut summary)?;
        manifest
            .write_record([
                d.path.as_str(),
                d.author.as_str(),
                d.unit,
                d.level,
                d.village.as_str(),
                d.kind,
                d.date.as_str(),
                d.category,
                d.source.as_str(),
            ])
            .expect("in-memory csv");
    }
    let bytes = manifest.into_inner().expect("in-memory csv");
    let mut ignored = Summary::default();
    write(&dir.join("manifest.csv"), &bytes, &mut ignored)?;
    Ok(summary)
}

/// The opening of a generated document: its title and the 姓名/单位/日期 lines.
fn header(name: &str, unit: &str, date: &str, report: bool) -> String {
    let title = if report {
        "蹲点调研报告"
    } else {
        "蹲点手记"
    };
    format!("{title}\n姓名：{name}　单位：{unit}\n日期：{date}\n\n")
}

fn substantive(
    name: &str,
    unit: &str,
    date: &str,
    report: bool,
    issues: &[&banks::Issue],
    place: &Place,
    rng: &mut Rng,
) -> String {
    let mut s = header(name, unit, date, report);
    for _ in 0..rng.range(2, 3) {
        s.push_str(&fill(rng.pick(banks::FACTS), place, rng));
        s.push('。');
    }
    s.push('\n');
    let n = if report { 14 } else { 9 };
    for _ in 0..n {
        let is = rng.pick(issues);
        let line = match rng.range(0, 3) {
            0 => format!(
                "{}。{}。",
                fill(rng.pick(is.problems), place, rng),
                fill(rng.pick(is.suggestions), place, rng)
            ),
            1 => {
                let (cat, sit) = rng.pick(banks::CATEGORY_SITUATION);
                format!(
                    "走访{}{}，{}。",
                    cat,
                    person(rng),
                    fill(rng.pick(sit), place, rng)
                )
            }
            2 => {
                let (p, q) = rng.pick(banks::ONE_OFF);
                format!(
                    "{}说，{}，{}。",
                    person(rng),
                    fill(p, place, rng),
                    fill(q, place, rng)
                )
            }
            _ => format!("{}。", fill(rng.pick(banks::REFLECTIONS), place, rng)),
        };
        s.push_str(&line);
        s.push('\n');
    }
    // Some writers pad with slogans.
    if rng.chance(15) {
        for _ in 0..4 {
            s.push_str(rng.pick(banks::SLOGANS));
            s.push('。');
        }
        s.push('\n');
    }
    s
}

fn hollow(name: &str, unit: &str, date: &str, report: bool, rng: &mut Rng) -> String {
    let mut s = header(name, unit, date, report);
    let n = if report { 26 } else { 16 };
    for k in 0..n {
        s.push_str(rng.pick(banks::SLOGANS));
        s.push_str(if k % 2 == 0 { "，" } else { "。\n" });
    }
    s.push_str("今天继续深入农户走访，与群众拉家常、听心声。\n");
    s
}

/// An earlier document with a new date and a few figures changed.
fn near_copy(src: &str, date: &str, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(src.len());
    let mut changed = 0;
    for line in src.lines() {
        if line.starts_with("日期：") {
            out.push_str(&format!("日期：{date}\n"));
            continue;
        }
        let mut l = line.to_owned();
        if changed < 4
            && rng.chance(30)
            && let Some(pos) = l.find(|c: char| c.is_ascii_digit())
        {
            let d = (b'1' + rng.range(0, 8) as u8) as char;
            l.replace_range(pos..pos + 1, &d.to_string());
            changed += 1;
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}
