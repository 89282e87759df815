//! Campaign rules, per cadre: the stay, daily notes, household quota, 四必到/五必访, forums.

use crate::reason;
use chrono::NaiveDate;
use diaoyan_model::{Assessment, Cadre, CadreReport, Kind, Level, Submission, Texts, Verdict};
use diaoyan_text::chinese_number;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;

/// A household category every cadre must reach, with the words that show it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRule {
    /// The category (困难户 …).
    pub name: String,
    /// Its group (四必到 or 五必访).
    pub group: String,
    /// Other words for it in notes and visit records (低保户 for 困难户 …).
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// The `[score.rules]` table. Quotas live here, not in code.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Minimum days of stay (default 4).
    pub min_days: usize,
    /// Households a county leader must visit (default 20).
    pub quota_county_leader: usize,
    /// Households a county department leader must visit (default 30).
    pub quota_county_dept: usize,
    /// Share of the contact village a township leader must visit (default 1/3), when the roster
    /// gives the village's households.
    pub township_share: f64,
    /// Fewest forum speakers (default 7).
    pub forum_min_speakers: usize,
    /// Most forum speakers (default 9).
    pub forum_max_speakers: usize,
    /// The categories to reach (default: 四必到 and 五必访).
    pub categories: Vec<CategoryRule>,
}

impl Default for RulesConfig {
    fn default() -> Self {
        let c = |name: &str, group: &str, aliases: &[&str]| CategoryRule {
            name: name.to_owned(),
            group: group.to_owned(),
            aliases: aliases.iter().map(|s| (*s).to_owned()).collect(),
        };
        Self {
            min_days: 4,
            quota_county_leader: 20,
            quota_county_dept: 30,
            township_share: 1.0 / 3.0,
            forum_min_speakers: 7,
            forum_max_speakers: 9,
            categories: vec![
                c("困难户", "四必到", &["低保户", "特困户", "特困供养户"]),
                c("上访户", "四必到", &["信访户"]),
                c(
                    "种养专业户",
                    "四必到",
                    &["种养大户", "种植大户", "养殖大户", "养殖户"],
                ),
                c("个体工商户", "四必到", &["个体户"]),
                c("老党员", "五必访", &[]),
                c("老干部", "五必访", &["退休干部"]),
                c("残疾人", "五必访", &["残疾户"]),
                c("下岗职工", "五必访", &["下岗工人"]),
                c("孤寡老人", "五必访", &["五保户", "独居老人"]),
            ],
        }
    }
}

/// A household head in a visit record, with what follows on the line (the group) so that two
/// heads of the same name in different groups count as two households.
static HEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:户\s*主|走访对象|被走访人|受访人)\s*[：:]\s*([\p{Han}]{2,4}?)(?:[\s　，,（(]+([^\s　，,（(：:]*))?(?:[\s　，,。（(]|$)")
        .expect("static regex")
});
static HOUSE_MARK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"第\s*(\d+)\s*户").expect("static regex"));
static NOTE_COUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"走访(?:了|农户|群众)*\s*(\d+|[一二三四五六七八九十两]+)\s*户")
        .expect("static regex")
});
/// Counts the distinct speakers in forum minutes: lines that open with `someone：`, other than
/// the header fields and the host.
pub(crate) fn forum_speakers(text: &str) -> usize {
    let host = diaoyan_text::minutes_host(text);
    let speakers: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| match diaoyan_text::minutes_line(l.trim(), &host) {
            diaoyan_text::MinutesLine::Speaker(label, _) => Some(label),
            _ => None,
        })
        .collect();
    speakers.len()
}

fn cn_date(iso: &str) -> String {
    match NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(d) => d.format("%-m月%-d日").to_string(),
        Err(_) => iso.to_owned(),
    }
}

/// Checks every cadre in the roster, and every author of notes, visit records or reports.
pub(crate) fn check(
    subs: &[Submission],
    texts: &dyn Texts,
    assessments: &[Assessment],
    roster: &[Cadre],
    cfg: &RulesConfig,
) -> Vec<CadreReport> {
    // One pass over the submissions: each author's own (non-opinion) submissions, in order, and
    // the roster's names followed by every other author of own writing, in order of appearance.
    let mut names: Vec<&str> = Vec::new();
    let mut named: HashSet<&str> = HashSet::new();
    let mut on_roster: HashMap<&str, &Cadre> = HashMap::new();
    for c in roster {
        on_roster.entry(c.name.as_str()).or_insert(c);
        named.insert(c.name.as_str());
        names.push(&c.name);
    }
    let mut by_author: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in subs.iter().enumerate() {
        if s.kind != Some(Kind::Opinion) {
            by_author.entry(s.author.as_str()).or_default().push(i);
        }
        let own = matches!(
            s.kind,
            Some(Kind::Note | Kind::Visit | Kind::Report | Kind::Minutes)
        );
        if own && !s.author.is_empty() && named.insert(s.author.as_str()) {
            names.push(&s.author);
        }
    }
    names
        .iter()
        .map(|&name| {
            let mine: &[usize] = by_author.get(name).map_or(&[], Vec::as_slice);
            check_one(
                name,
                mine,
                subs,
                texts,
                assessments,
                on_roster.get(name).copied(),
                cfg,
            )
        })
        .collect()
}

fn check_one(
    name: &str,
    mine: &[usize],
    subs: &[Submission],
    texts: &dyn Texts,
    assessments: &[Assessment],
    cadre: Option<&Cadre>,
    cfg: &RulesConfig,
) -> CadreReport {
    let of = |k: Kind| {
        mine.iter()
            .map(|&i| &subs[i])
            .filter(move |s| s.kind == Some(k))
    };
    let first = mine.first().map(|&i| &subs[i]);
    let mut r = CadreReport {
        name: name.to_owned(),
        unit: cadre
            .map(|c| c.unit.clone())
            .or_else(|| first.map(|s| s.unit.to_string()))
            .unwrap_or_default(),
        level: cadre
            .and_then(|c| c.level)
            .or_else(|| first.and_then(|s| s.level)),
        place: cadre
            .map(|c| c.place.clone())
            .or_else(|| first.map(|s| s.place.to_string()))
            .unwrap_or_default(),
        submissions: mine.len(),
        redo: mine
            .iter()
            .filter(|&&i| assessments[i].verdict == Verdict::Redo)
            .count(),
        ..CadreReport::default()
    };
    let parse = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();

    // The stay: from the roster, else from the dates of the cadre's own material.
    let dated: Vec<NaiveDate> = mine.iter().filter_map(|&i| parse(&subs[i].date)).collect();
    let from_roster = cadre.and_then(|c| Some((parse(&c.start)?, parse(&c.end)?)));
    let from_material = dated
        .iter()
        .min()
        .zip(dated.iter().max())
        .map(|(a, b)| (*a, *b));
    let stay = from_roster.or(from_material);
    if let Some((start, end)) = stay {
        r.stay = Some((start.to_string(), end.to_string()));
        r.days = ((end - start).num_days() + 1).max(0) as usize;
        let covered: BTreeSet<NaiveDate> = of(Kind::Note)
            .filter_map(|s| {
                parse(&s.date).or_else(|| {
                    s.day
                        .and_then(|d| start.checked_add_days(chrono::Days::new(u64::from(d) - 1)))
                })
            })
            .collect();
        r.missing_dates = start
            .iter_days()
            .take(r.days)
            .filter(|d| !covered.contains(d))
            .map(|d| d.to_string())
            .collect();
    }
    r.notes = of(Kind::Note).count();

    // What the cadre's texts say — households visited, categories reached, forum speakers —
    // read in one pass, each text once (a large run reads every text back from disk).
    let mut heads = BTreeSet::new();
    let mut marks = 0usize;
    let mut per_date: BTreeMap<&str, usize> = BTreeMap::new();
    // A category is reached when its name or an alias is in a visit record or a note. Searched
    // text by text; a word holding a line break (none does) could span two texts of the joined
    // whole the check once read, and is searched there; an empty word is in any text, even none.
    fn words(c: &CategoryRule) -> impl Iterator<Item = &String> {
        std::iter::once(&c.name).chain(&c.aliases)
    }
    let joined = cfg
        .categories
        .iter()
        .flat_map(words)
        .any(|w| w.contains('\n'));
    let mut reached: Vec<bool> = cfg
        .categories
        .iter()
        .map(|c| words(c).any(String::is_empty))
        .collect();
    let mark = |reached: &mut [bool], text: &str| {
        for (c, hit) in cfg.categories.iter().zip(reached) {
            *hit = *hit || words(c).any(|w| text.contains(w.as_str()));
        }
    };
    let mut seen: Vec<std::borrow::Cow<'_, str>> = Vec::new();
    for &i in mine {
        let s = &subs[i];
        let Some(kind @ (Kind::Visit | Kind::Note | Kind::Minutes)) = s.kind else {
            continue;
        };
        let text = texts.text(i);
        if kind == Kind::Visit {
            for c in HEAD.captures_iter(&text) {
                let group = c.get(2).map_or("", |m| m.as_str());
                heads.insert(format!("{}|{group}", &c[1]));
            }
            marks += HOUSE_MARK.captures_iter(&text).count();
        }
        if kind == Kind::Note {
            let n: usize = NOTE_COUNT
                .captures_iter(&text)
                .filter_map(|c| {
                    c[1].parse::<usize>()
                        .ok()
                        .or_else(|| chinese_number(&c[1]).map(|n| n as usize))
                })
                .sum();
            let key = if s.date.is_empty() {
                s.path.as_str()
            } else {
                s.date.as_str()
            };
            let e = per_date.entry(key).or_default();
            *e = (*e).max(n);
        }
        if kind == Kind::Minutes {
            r.forums.push((s.path.to_string(), forum_speakers(&text)));
        } else if joined {
            seen.push(text);
        } else {
            mark(&mut reached, &text);
        }
    }
    if joined {
        mark(&mut reached, &seen.join("\n"));
    }
    let from_visits = if heads.is_empty() { marks } else { heads.len() };
    r.households = from_visits.max(per_date.values().sum());
    r.quota = match r.level {
        Some(Level::CountyLeader) => Some(cfg.quota_county_leader),
        Some(Level::CountyDept) => Some(cfg.quota_county_dept),
        Some(Level::Township) => cadre
            .and_then(|c| c.households)
            .map(|h| (f64::from(h) * cfg.township_share - 1e-9).ceil() as usize),
        _ => None,
    };
    for (c, hit) in cfg.categories.iter().zip(reached) {
        if hit {
            r.categories_reached.push(c.name.clone());
        } else {
            r.categories_missing.push(c.name.clone());
        }
    }

    // Reasons.
    if mine.is_empty() {
        r.reasons.push(reason(
            "no_material",
            "未提交任何蹲点材料".into(),
            Verdict::Redo,
        ));
    }
    if r.days > 0 && r.days < cfg.min_days {
        r.reasons.push(reason(
            "short_stay",
            format!("蹲点仅 {} 天，少于 {} 天要求", r.days, cfg.min_days),
            Verdict::Redo,
        ));
    }
    if !r.missing_dates.is_empty() {
        let list: Vec<String> = r.missing_dates.iter().map(|d| cn_date(d)).collect();
        let severity = if r.missing_dates.len() * 2 >= r.days.max(1) {
            Verdict::Redo
        } else {
            Verdict::Review
        };
        r.reasons.push(reason(
            "missing_notes",
            format!(
                "蹲点 {} 天仅提交 {} 篇手记（缺 {}）",
                r.days,
                r.notes,
                list.join("、")
            ),
            severity,
        ));
    }
    match r.quota {
        Some(q) if r.households < q => {
            let who = match r.level {
                Some(Level::Township) => format!("乡镇领导应走访联系村三分之一农户（{q} 户）"),
                Some(l) => format!("{} {q} 户要求", l.label()),
                None => format!("{q} 户要求"),
            };
            r.reasons.push(reason(
                "quota",
                format!("走访 {} 户，低于{who}", r.households),
                Verdict::Redo,
            ));
        }
        None if r.level == Some(Level::Township) => r.reasons.push(reason(
            "quota_unknown",
            format!(
                "花名册未给出联系点户数，无法核对走访户数（已走访 {} 户）",
                r.households
            ),
            Verdict::Review,
        )),
        _ => {}
    }
    if !r.categories_missing.is_empty() {
        r.reasons.push(reason(
            "categories",
            format!("未见走访：{}", r.categories_missing.join("、")),
            Verdict::Review,
        ));
    }
    if r.forums.is_empty() {
        r.reasons
            .push(reason("no_forum", "未见座谈会记录".into(), Verdict::Review));
    }
    for (path, n) in &r.forums {
        if *n < cfg.forum_min_speakers || *n > cfg.forum_max_speakers {
            r.reasons.push(reason(
                "forum_speakers",
                format!(
                    "座谈会《{}》发言 {n} 人，不在 {}–{} 人要求内",
                    path.rsplit('/').next().unwrap_or(path),
                    cfg.forum_min_speakers,
                    cfg.forum_max_speakers
                ),
                Verdict::Review,
            ));
        }
    }
    if of(Kind::Report).next().is_none() && !mine.is_empty() {
        r.reasons.push(reason(
            "no_report",
            "未提交蹲点调研报告".into(),
            Verdict::Review,
        ));
    }
    if r.redo > 0 {
        r.reasons.push(reason(
            "redo_material",
            format!("{} 份材料被退回重写（见 flags.csv）", r.redo),
            Verdict::Review,
        ));
    }
    r.reasons.sort_by_key(|x| std::cmp::Reverse(x.severity));
    r.verdict = Some(
        r.reasons
            .iter()
            .map(|x| x.severity)
            .max()
            .unwrap_or(Verdict::Pass),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forum_speaker_table() {
        let cases = [
            (
                "石桥村座谈会记录\n时间：9月19日\n主持人：张伟\n参加人员：8人\n张伟：请大家说说。\n村民代表王建国：路要修。\n老党员李长贵：水要通。\n村民代表王建国：还有一点。\n张伟：记下了。",
                2,
            ),
            (
                "会议记录\n主持人：李娜\n王一：一\n李二：二\n张三：三\n赵四：四\n钱五：五\n孙六：六\n周七：七",
                7,
            ),
            ("没有发言的记录。", 0),
        ];
        for (text, want) in cases {
            assert_eq!(forum_speakers(text), want, "{text}");
        }
    }

    fn sub(kind: Kind, date: &str, text: &str) -> Submission {
        Submission {
            id: format!("{kind:?}{date}").into(),
            path: format!("王强/{date}.txt").into(),
            kind: Some(kind),
            author: "王强".into(),
            date: date.into(),
            text: text.into(),
            ..Submission::default()
        }
    }

    /// Each submission judged 通过 (80 points).
    fn passed(subs: &[Submission]) -> Vec<Assessment> {
        subs.iter()
            .map(|s| Assessment {
                id: s.id.clone(),
                score: 80.0,
                verdict: Verdict::Pass,
                reasons: vec![],
                signals: Default::default(),
            })
            .collect()
    }

    #[test]
    fn quota_missing_days_and_categories() {
        let roster = vec![Cadre {
            name: "王强".into(),
            level: Some(Level::CountyDept),
            start: "2023-09-19".into(),
            end: "2023-09-22".into(),
            ..Cadre::default()
        }];
        let subs = vec![
            sub(
                Kind::Note,
                "2023-09-19",
                "今天共走访6户，其中有困难户、老党员。",
            ),
            sub(Kind::Note, "2023-09-21", "走访了六户。"),
            sub(
                Kind::Visit,
                "2023-09-19",
                "【第1户】户主：王桂兰　三组　类别：困难户\n【第2户】户主：李长贵　一组",
            ),
        ];
        let assessments = passed(&subs);
        let r = &check(
            &subs,
            &subs.as_slice(),
            &assessments,
            &roster,
            &RulesConfig::default(),
        )[0];
        assert_eq!(r.days, 4);
        assert_eq!(r.missing_dates, vec!["2023-09-20", "2023-09-22"]);
        assert_eq!(r.households, 12, "6 + 6 from notes beats 2 heads");
        assert_eq!(r.quota, Some(30));
        assert!(r.categories_missing.contains(&"残疾人".to_owned()));
        assert!(!r.categories_missing.contains(&"困难户".to_owned()));
        let texts: Vec<&str> = r.reasons.iter().map(|x| x.text.as_str()).collect();
        assert!(
            texts.contains(&"走访 12 户，低于县直部门领导 30 户要求"),
            "{texts:?}"
        );
        assert!(
            texts.contains(&"蹲点 4 天仅提交 2 篇手记（缺 9月20日、9月22日）"),
            "{texts:?}"
        );
        assert_eq!(r.verdict, Some(Verdict::Redo));
    }

    /// Texts that count every read.
    struct Counted<'a>(&'a [Submission], std::sync::atomic::AtomicUsize);

    impl Texts for Counted<'_> {
        fn text(&self, i: usize) -> std::borrow::Cow<'_, str> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            std::borrow::Cow::Borrowed(self.0[i].text.as_str())
        }
    }

    /// The campaign rules read each of a cadre's texts once, and find a category as in the
    /// cadre's visit records and notes joined by line breaks: a name or alias in any of them
    /// (not in minutes, not in opinion rows), an empty alias always, one holding a line break
    /// across two texts.
    #[test]
    fn categories_are_found_as_in_the_joined_texts_reading_each_text_once() {
        let mut subs = vec![
            sub(
                Kind::Note,
                "2023-09-19",
                "走访了低保户张某家，又去了王大爷家",
            ),
            sub(
                Kind::Visit,
                "2023-09-19",
                "【第1户】户主：王桂兰　三组　类别：老党员",
            ),
            sub(
                Kind::Minutes,
                "2023-09-20",
                "主持人：王强\n残疾人代表李某：路不好走",
            ),
            sub(Kind::Note, "2023-09-21", "村口遇到几位留守老人"),
        ];
        let mut opinion = sub(Kind::Opinion, "2023-09-21", "个体工商户反映摊位费高");
        opinion.author = "王强".into();
        subs.push(opinion);
        let assessments = passed(&subs);
        let rule = |name: &str, aliases: &[&str]| CategoryRule {
            name: name.into(),
            group: "四必到".into(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        };
        let found = |categories: Vec<CategoryRule>| {
            let cfg = RulesConfig {
                categories,
                ..RulesConfig::default()
            };
            let texts = Counted(&subs, Default::default());
            let r = check(&subs, &texts, &assessments, &[], &cfg)
                .into_iter()
                .find(|r| r.name == "王强")
                .unwrap();
            // The two notes, the visit record and the minutes, each read once.
            assert_eq!(texts.1.load(std::sync::atomic::Ordering::Relaxed), 4);
            assert_eq!(r.forums.len(), 1);
            r.categories_reached
        };
        assert_eq!(
            found(vec![
                rule("困难户", &["低保户"]),
                rule("老党员", &[]),
                rule("残疾人", &[]),
                rule("个体工商户", &[]),
                rule("孤寡老人", &["留守老人"]),
                rule("上访户", &[""]),
            ]),
            ["困难户", "老党员", "孤寡老人", "上访户"]
        );
        // 王大爷家 ends the first note and 【第1户】 begins the visit record.
        assert_eq!(
            found(vec![
                rule("五保户", &["家\n【"]),
                rule("下岗职工", &["家\n村"])
            ]),
            ["五保户"]
        );
    }
}
