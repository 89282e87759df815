//! The digest's content as plain data, aggregated from the [`Tables`]: what every renderer
//! (Word, web page, Markdown, Excel) lays out in its own way.

use crate::tables::{counts, floats, nums, positions, strs};
use crate::{Facts, Result, Tables};
use rustc_hash::FxHashMap;
use std::collections::{BTreeSet, HashMap};

/// The themes office material puts first: the 四风 group.
pub const FOUR_WINDS: &str = "四风";

/// How many submissions to send back the body of the Word, Markdown and web material lists (the
/// lowest scores first; the full list is the 需退回重写 sheet of `digest.xlsx` and `flags.csv`).
pub const REDO_SHOWN: usize = 100;

/// How many topics a theme shows in the body (the rest are in the annex tables).
pub const TOPICS_PER_THEME: usize = 8;

/// One quoted opinion with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// The words as the written material quotes them: a long message's opening sentences, its
    /// salutation dropped ([`excerpt`]).
    pub text: String,
    /// The words whole (the workbook's 意见明细 lists them).
    pub full: String,
    /// Who, which unit, when, which file.
    pub source: String,
}

/// Characters a quote in the written material runs to before it is cut at a sentence's end.
const QUOTE_CHARS: usize = 120;

/// A suggestion's words as the written material quotes them. A citizen's message is one
/// suggestion, often a whole letter (尊敬的A市政府领导：您们好！我是……, 500 characters and more),
/// and three of those under every topic bury the material: the salutation (an addressee before
/// a colon, a greeting) is dropped, and past [`QUOTE_CHARS`] characters the words end at the
/// last sentence end within them (else a clause's, else the limit) with “……”. Short words stay
/// as they are.
pub fn excerpt(text: &str) -> String {
    // Who a letter is addressed to (尊敬的A市政府领导：); a speaker in minutes (村支书李明：) is
    // not, and stays.
    const ADDRESSEES: [&str; 3] = ["尊敬", "领导", "政府"];
    let addressee = |to: &str| to.is_empty() || ADDRESSEES.iter().any(|w| to.contains(w));
    let whole = text.trim();
    let mut t = whole;
    // A salutation at the start (twice at most: 尊敬的领导：您好！).
    for _ in 0..2 {
        let head: String = t.chars().take(24).collect();
        // 您好 at the start or after an addressee (尊敬的领导您好！).
        let greeting = ["您们好", "你们好", "您好", "你好"]
            .iter()
            .filter_map(|g| head.find(g).map(|at| (at, g.len())))
            .min()
            .filter(|&(at, _)| {
                // …or after a short name (王市长您好！).
                let to = &head[..at];
                addressee(to) || to.chars().count() <= 6 && !to.contains(['。', '，', '！', '：'])
            })
            .map(|(at, len)| at + len);
        // 尊敬的A市政府领导：
        let addressed = head
            .find(['：', ':'])
            .filter(|&at| at > 0 && addressee(&head[..at]))
            .map(|at| at + head[at..].chars().next().map_or(0, char::len_utf8));
        let Some(cut) = greeting.or(addressed) else {
            break;
        };
        t = t[cut..].trim_start_matches(['！', '!', '，', ',', '。', ' ', '　', '：', ':']);
    }
    // Nothing but a greeting: as written.
    if t.is_empty() {
        t = whole;
    }
    if t.chars().count() <= QUOTE_CHARS {
        return t.to_owned();
    }
    let end = t
        .char_indices()
        .nth(QUOTE_CHARS)
        .map_or(t.len(), |(i, _)| i);
    let head = &t[..end];
    // The last end of a sentence (else of a clause) at least a third of the way in.
    let last_end = |ends: &[char]| {
        head.char_indices()
            .rev()
            .filter(|(_, c)| ends.contains(c))
            .map(|(i, c)| (i, i + c.len_utf8()))
            .find(|&(_, after)| head[..after].chars().count() >= QUOTE_CHARS / 3)
    };
    let cut = match last_end(&['。', '！', '？', '；', '!', '?', ';']) {
        Some((_, after)) => after,
        // A clause's end: the comma itself is left out.
        None => last_end(&['，', ',', '、']).map_or(end, |(at, _)| at),
    };
    format!("{}……", &head[..cut])
}

/// An issue under a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueBlock {
    /// `I0001`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Heat.
    pub heat: f64,
    /// People who raised it.
    pub people: u32,
    /// Mentions in the selection.
    pub mentions: usize,
    /// Places, most frequent first.
    pub places: Vec<String>,
    /// First and last date.
    pub first: String,
    /// Last date.
    pub last: String,
    /// Up to three quotes.
    pub quotes: Vec<Quote>,
}

/// A topic with its issues.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicBlock {
    /// `T0001`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Key words.
    pub keywords: String,
    /// Theme group and theme.
    pub theme_group: String,
    /// Theme.
    pub theme: String,
    /// Heat and its parts.
    pub heat: f64,
    /// People.
    pub people: u32,
    /// Distinct places.
    pub place_count: u32,
    /// Units.
    pub units: u32,
    /// Mentions in the selection.
    pub mentions: usize,
    /// Submissions.
    pub submissions: u32,
    /// Places, most frequent first.
    pub places: Vec<String>,
    /// First date.
    pub first: String,
    /// Last date.
    pub last: String,
    /// Its issues, hottest first.
    pub issues: Vec<IssueBlock>,
    /// Up to three quotes.
    pub quotes: Vec<Quote>,
}

/// A theme and its topics.
#[derive(Debug, Clone, PartialEq)]
pub struct ThemeBlock {
    /// Group (四风, 民生 …).
    pub group: String,
    /// Theme.
    pub theme: String,
    /// Suggestions of the theme in the selection.
    pub suggestions: usize,
    /// Topics, hottest first (at most [`TOPICS_PER_THEME`]).
    pub topics: Vec<TopicBlock>,
    /// Topics not shown in the body.
    pub more_topics: usize,
}

/// A submission to send back.
#[derive(Debug, Clone, PartialEq)]
pub struct RedoItem {
    /// File.
    pub path: String,
    /// Kind.
    pub kind: String,
    /// Author.
    pub author: String,
    /// Unit.
    pub unit: String,
    /// Date.
    pub date: String,
    /// Score.
    pub score: f64,
    /// Reasons, each with its evidence.
    pub reasons: Vec<String>,
    /// The reviewer's decision (确认退回重写 / 改为通过（备注）), or empty.
    pub review: String,
}

impl RedoItem {
    /// Kind, author, unit and date, those known, as one phrase (调研报告，张三，县农业局，2023-09-21).
    pub fn who(&self) -> String {
        [self.kind.as_str(), &self.author, &self.unit, &self.date]
            .into_iter()
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join("，")
    }
}

/// One cadre's stay.
#[derive(Debug, Clone, PartialEq)]
pub struct CadreRow {
    /// Name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Level.
    pub level: String,
    /// Contact point.
    pub place: String,
    /// Stay.
    pub stay: String,
    /// Days with notes.
    pub days: u32,
    /// Notes.
    pub notes: u32,
    /// Households visited.
    pub households: u32,
    /// Quota (0 = none).
    pub quota: u32,
    /// Categories reached.
    pub reached: String,
    /// Categories missing.
    pub missing: String,
    /// Forums held.
    pub forums: u32,
    /// Submissions and how many were sent back.
    pub submissions: u32,
    /// Sent back.
    pub redo: u32,
    /// Verdict of the checks.
    pub verdict: String,
    /// Reasons.
    pub reasons: String,
}

/// One unit's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRow {
    /// Unit.
    pub unit: String,
    /// Cadres.
    pub cadres: usize,
    /// Submissions.
    pub submissions: usize,
    /// Passed, to review, sent back.
    pub pass: usize,
    /// To review.
    pub review: usize,
    /// Sent back.
    pub redo: usize,
    /// Suggestions.
    pub suggestions: usize,
}

/// 基本情况.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Overview {
    /// Submissions.
    pub submissions: usize,
    /// Submissions by kind.
    pub by_kind: Vec<(String, usize)>,
    /// Cadres on the roster (or authors of cadre material when there is none).
    pub cadres: usize,
    /// Distinct places.
    pub places: usize,
    /// Distinct units.
    pub units: usize,
    /// Households visited (cadre checks).
    pub households: u64,
    /// Suggestions; of them the people's and the cadres'.
    pub suggestions: usize,
    /// People's voice.
    pub people_voice: usize,
    /// Suggestions in issues.
    pub in_issues: usize,
    /// Issues.
    pub issues: usize,
    /// Topics.
    pub topics: usize,
    /// Verdict counts.
    pub pass: usize,
    /// To review.
    pub review: usize,
    /// Sent back.
    pub redo: usize,
    /// Dates covered.
    pub first: String,
    /// Last date.
    pub last: String,
}

/// The whole digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    /// Document title.
    pub title: String,
    /// The selection (全部材料, or the filter).
    pub scope: String,
    /// Run facts (files read, unreadable).
    pub facts: Facts,
    /// 基本情况.
    pub overview: Overview,
    /// Suggestions per theme (for the bar chart), most first.
    pub theme_counts: Vec<(String, usize)>,
    /// Suggestions per date, in date order.
    pub timeline: Vec<(String, usize)>,
    /// Themes: 四风 first, then by weight, 未归类 last.
    pub themes: Vec<ThemeBlock>,
    /// Every topic (annex), hottest first.
    pub topics: Vec<TopicBlock>,
    /// Sent back.
    pub redo: Vec<RedoItem>,
    /// Cadres.
    pub cadres: Vec<CadreRow>,
    /// Units.
    pub units: Vec<UnitRow>,
}

impl Digest {
    /// Aggregates the tables.
    pub fn build(t: &Tables, facts: &Facts, scope: &str) -> Result<Self> {
        let sb = &t.submissions;
        let verdicts = sb.strs("verdict")?;
        let count_v = |v: &str| verdicts.iter().filter(|x| *x == v).count();
        // The submissions' columns (and the cadres' rows) are read once.
        let (b_path, b_kind, b_author, b_unit, b_date, b_score) = (
            sb.strs("path")?,
            sb.strs("kind")?,
            sb.strs("author")?,
            sb.strs("unit")?,
            sb.strs("date")?,
            sb.scores()?,
        );
        // Reviewer decisions (absent from tables written before they existed).
        let (b_review, b_review_verdict) = (sb.strs("review")?, sb.strs("review_verdict")?);
        let sdates: Vec<&str> = b_date.iter().filter(|d| !d.is_empty()).collect();
        let sg = &t.suggestions;
        let s_text = sg.texts()?;
        let s_author = sg.strs("author")?;
        let s_unit = sg.strs("unit")?;
        let s_date = sg.strs("date")?;
        let s_path = sg.strs("path")?;
        let s_voice = sg.strs("voice")?;
        let s_issue = sg.strs("issue")?;
        let s_place = sg.strs("place")?;
        let s_places = sg.places()?;
        let cd = &t.cadres;
        let c = |n: &str| strs(cd, n);
        let cn = |n: &str| nums(cd, n);
        let (c_name, c_unit, c_level, c_place, c_stay, c_reached, c_missing, c_verdict, c_reasons) = (
            c("name")?,
            c("unit")?,
            c("level")?,
            c("place")?,
            c("stay")?,
            c("categories_reached")?,
            c("categories_missing")?,
            c("verdict")?,
            c("reasons")?,
        );
        let (c_days, c_notes, c_hh, c_quota, c_forums, c_subs, c_redo) = (
            cn("days")?,
            cn("notes")?,
            cn("households")?,
            cn("quota")?,
            cn("forums")?,
            cn("submissions")?,
            cn("redo")?,
        );
        let cadres: Vec<CadreRow> = (0..cd.height())
            .map(|i| CadreRow {
                name: c_name.get(i).to_owned(),
                unit: c_unit.get(i).to_owned(),
                level: c_level.get(i).to_owned(),
                place: c_place.get(i).to_owned(),
                stay: c_stay.get(i).to_owned(),
                days: c_days[i],
                notes: c_notes[i],
                households: c_hh[i],
                quota: c_quota[i],
                reached: c_reached.get(i).to_owned(),
                missing: c_missing.get(i).to_owned(),
                forums: c_forums[i],
                submissions: c_subs[i],
                redo: c_redo[i],
                verdict: c_verdict.get(i).to_owned(),
                reasons: c_reasons.get(i).replace('\n', "；"),
            })
            .collect();
        let households: u64 = cadres.iter().map(|c| u64::from(c.households)).sum();
        let mut places: BTreeSet<String> = sb
            .strs("place")?
            .iter()
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        places.extend(
            cadres
                .iter()
                .map(|c| c.place.clone())
                .filter(|p| !p.is_empty()),
        );
        let units: BTreeSet<&str> = b_unit.iter().filter(|p| !p.is_empty()).collect();
        let cadre_count = if cd.height() > 0 {
            cd.height()
        } else {
            let levels = sb.strs("level")?;
            b_author
                .iter()
                .zip(levels.iter())
                .filter(|(a, l)| !a.is_empty() && !l.is_empty())
                .map(|(a, _)| a)
                .collect::<BTreeSet<_>>()
                .len()
        };
        let overview = Overview {
            submissions: sb.height(),
            by_kind: counts(sb.strs("kind")?)
                .into_iter()
                .map(|(k, n)| (if k.is_empty() { "其他".into() } else { k }, n))
                .collect(),
            cadres: cadre_count,
            places: places.len(),
            units: units.len(),
            households,
            suggestions: sg.len(),
            people_voice: s_voice.iter().filter(|v| *v == "群众").count(),
            in_issues: s_issue.iter().filter(|v| !v.is_empty()).count(),
            issues: t.issues.height(),
            topics: t.topics.height(),
            pass: count_v("通过"),
            review: count_v("复核"),
            redo: count_v("退回重写"),
            first: sdates
                .iter()
                .min()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            last: sdates
                .iter()
                .max()
                .map(|d| d.to_string())
                .unwrap_or_default(),
        };

        // What the quotes and places of every issue and topic read of each suggestion, read
        // once in row order: its text's length and its places (as ids). Read member by member,
        // from suggestions anywhere in memory, they were a third of building the digest at 1M
        // documents (12.5 → 8.3 s).
        let text_len: Vec<u32> = (0..sg.len())
            .map(|i| u32::try_from(s_text.len(i)).unwrap_or(u32::MAX))
            .collect();
        // Each suggestion's places: its submission's place, or else those it names itself.
        let rows_places = RowPlaces::of(sg.len(), |i, each| {
            let p = s_place.get(i);
            if p.is_empty() {
                s_places.of(i).into_iter().for_each(each);
            } else {
                each(p);
            }
        });

        // Quotes: a suggestion's words and where they came from.
        let quote = |i: usize| {
            let file = s_path
                .get(i)
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or(s_path.get(i))
                .to_owned();
            let who: Vec<&str> = [s_author.get(i), s_unit.get(i), s_date.get(i)]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect();
            let mut source = who.join("，");
            if !source.is_empty() {
                source.push('；');
            }
            source.push_str(&file);
            let full = s_text.get(i).into_owned();
            Quote {
                text: excerpt(&full),
                full,
                source,
            }
        };
        // Quotes of an issue or topic: its most central examples (as the suggest stage chose
        // them) that are in the selection, then other members, the people's words first.
        // `rows` ascend: the members are walked in the order sorting them by (not the people's
        // words, in no issue, row) gives, one class at a time, and only until three quotes are
        // found (sorting every member of every group read a key from each).
        let quotes_of = |rows: &[usize], examples: &str| -> Vec<Quote> {
            let mut order: Vec<usize> = Vec::new();
            for ex in examples.split('\n').filter(|x| !x.is_empty()) {
                let n = u32::try_from(ex.len()).unwrap_or(u32::MAX);
                if let Some(&i) = rows.iter().find(|&&i| text_len[i] == n && s_text.is(i, ex)) {
                    order.push(i);
                }
            }
            let class = |i: usize| (s_voice.get(i) != "群众", s_issue.get(i).is_empty());
            let rest = [(false, false), (false, true), (true, false), (true, true)]
                .into_iter()
                .flat_map(|c| rows.iter().copied().filter(move |&i| class(i) == c));
            let mut out: Vec<Quote> = Vec::new();
            for i in order.into_iter().chain(rest) {
                if out.len() == 3 {
                    break;
                }
                if !out.iter().any(|q| s_text.is(i, &q.full)) {
                    out.push(quote(i));
                }
            }
            out
        };
        let by_issue = positions(sg.strs("issue")?);
        let by_topic = positions(sg.strs("topic")?);
        let places_of = |rows: &[usize]| rows_places.ranked(rows);

        let is = &t.issues;
        let i_examples = strs(is, "examples")?;
        let (i_id, i_title, i_heat, i_people, i_first, i_last, i_topic) = (
            strs(is, "id")?,
            strs(is, "title")?,
            floats(is, "heat")?,
            nums(is, "people")?,
            strs(is, "first")?,
            strs(is, "last")?,
            strs(is, "topic")?,
        );
        let mut issues_of_topic: HashMap<&str, Vec<IssueBlock>> = HashMap::new();
        for k in 0..is.height() {
            let rows = by_issue.get(i_id.get(k)).map_or(&[][..], Vec::as_slice);
            issues_of_topic
                .entry(i_topic.get(k))
                .or_default()
                .push(IssueBlock {
                    id: i_id.get(k).to_owned(),
                    title: i_title.get(k).to_owned(),
                    heat: i_heat[k],
                    people: i_people[k],
                    mentions: rows.len(),
                    places: places_of(rows),
                    first: i_first.get(k).to_owned(),
                    last: i_last.get(k).to_owned(),
                    quotes: quotes_of(rows, i_examples.get(k)),
                });
        }
        let tp = &t.topics;
        let t_examples = strs(tp, "examples")?;
        let (t_id, t_title, t_kw, t_group, t_theme, t_heat) = (
            strs(tp, "id")?,
            strs(tp, "title")?,
            strs(tp, "keywords")?,
            strs(tp, "theme_group")?,
            strs(tp, "theme")?,
            floats(tp, "heat")?,
        );
        let (t_people, t_pc, t_units, t_subs, t_first, t_last) = (
            nums(tp, "people")?,
            nums(tp, "place_count")?,
            nums(tp, "units")?,
            nums(tp, "submissions")?,
            strs(tp, "first")?,
            strs(tp, "last")?,
        );
        let mut topics: Vec<TopicBlock> = (0..tp.height())
            .map(|k| {
                let rows = by_topic.get(t_id.get(k)).map_or(&[][..], Vec::as_slice);
                let mut issues = issues_of_topic.remove(t_id.get(k)).unwrap_or_default();
                issues.sort_by(|a, b| a.id.cmp(&b.id));
                TopicBlock {
                    id: t_id.get(k).to_owned(),
                    title: t_title.get(k).to_owned(),
                    keywords: t_kw.get(k).to_owned(),
                    theme_group: t_group.get(k).to_owned(),
                    theme: t_theme.get(k).to_owned(),
                    heat: t_heat[k],
                    people: t_people[k],
                    place_count: t_pc[k],
                    units: t_units[k],
                    mentions: rows.len(),
                    submissions: t_subs[k],
                    places: places_of(rows),
                    first: t_first.get(k).to_owned(),
                    last: t_last.get(k).to_owned(),
                    issues,
                    quotes: quotes_of(rows, t_examples.get(k)),
                }
            })
            .collect();
        topics.sort_by(|a, b| b.heat.total_cmp(&a.heat).then(a.id.cmp(&b.id)));

        // Themes: 四风 first, then by weight; 未归类 last.
        let theme_counts: Vec<(String, usize)> = counts(sg.strs("theme")?);
        let groups = sg.strs("theme_group")?;
        let themes_col = sg.strs("theme")?;
        let group_of: HashMap<&str, &str> = themes_col.iter().zip(groups.iter()).collect();
        let mut themes: Vec<ThemeBlock> = theme_counts
            .iter()
            .map(|(theme, n)| {
                let all: Vec<TopicBlock> = topics
                    .iter()
                    .filter(|t| &t.theme == theme)
                    .cloned()
                    .collect();
                let more = all.len().saturating_sub(TOPICS_PER_THEME);
                ThemeBlock {
                    group: group_of
                        .get(theme.as_str())
                        .copied()
                        .unwrap_or("")
                        .to_owned(),
                    theme: theme.clone(),
                    suggestions: *n,
                    topics: all.into_iter().take(TOPICS_PER_THEME).collect(),
                    more_topics: more,
                }
            })
            .collect();
        themes.sort_by_key(|t| {
            (
                t.group != FOUR_WINDS,
                t.group.is_empty(),
                std::cmp::Reverse(t.suggestions),
            )
        });

        let mut timeline: Vec<(String, usize)> = counts(sg.strs("date")?)
            .into_iter()
            .filter(|(d, _)| !d.is_empty())
            .collect();
        timeline.sort();

        // Sent back, lowest score first.
        let mut redo: Vec<RedoItem> = (0..sb.height())
            .filter(|&i| sent_back(verdicts.get(i), b_review_verdict.get(i)))
            .map(|i| -> Result<RedoItem> {
                Ok(RedoItem {
                    path: b_path.get(i).to_owned(),
                    kind: b_kind.get(i).to_owned(),
                    author: b_author.get(i).to_owned(),
                    unit: b_unit.get(i).to_owned(),
                    date: b_date.get(i).to_owned(),
                    score: b_score[i],
                    reasons: sb.reasons(i)?,
                    review: b_review.get(i).to_owned(),
                })
            })
            .collect::<Result<_>>()?;
        redo.sort_by(|a, b| a.score.total_cmp(&b.score).then(a.path.cmp(&b.path)));

        // Units: submissions and verdicts (polars group-by), suggestions, cadres.
        let sub_rows = positions(sb.strs("unit")?);
        let sug_units: HashMap<String, usize> = counts(sg.strs("unit")?).into_iter().collect();
        let cad_units: HashMap<String, usize> = counts(strs(cd, "unit")?).into_iter().collect();
        let mut unit_names: BTreeSet<String> = sub_rows.keys().cloned().collect();
        unit_names.extend(sug_units.keys().cloned());
        unit_names.extend(cad_units.keys().cloned());
        let mut units: Vec<UnitRow> = unit_names
            .into_iter()
            .map(|u| {
                let rows: &[usize] = sub_rows.get(&u).map_or(&[], Vec::as_slice);
                let v = |x: &str| rows.iter().filter(|&&i| verdicts.get(i) == x).count();
                UnitRow {
                    cadres: cad_units.get(&u).copied().unwrap_or(0),
                    submissions: rows.len(),
                    pass: v("通过"),
                    review: v("复核"),
                    redo: v("退回重写"),
                    suggestions: sug_units.get(&u).copied().unwrap_or(0),
                    unit: if u.is_empty() {
                        "（未注明单位）".into()
                    } else {
                        u
                    },
                }
            })
            .collect();
        units.sort_by(|a, b| b.submissions.cmp(&a.submissions).then(a.unit.cmp(&b.unit)));

        Ok(Digest {
            title: "调研活动意见建议梳理汇总材料".to_owned(),
            scope: scope.to_owned(),
            facts: facts.clone(),
            overview,
            theme_counts,
            timeline,
            themes,
            topics,
            redo,
            cadres,
            units,
        })
    }
}

/// The places of each row, as ids of their names (a row's ids are `ids[at[i]..at[i + 1]]`).
struct RowPlaces<'a> {
    names: Vec<&'a str>,
    at: Vec<usize>,
    ids: Vec<u32>,
}

impl<'a> RowPlaces<'a> {
    /// The places `places(i, each)` hands `each` for rows `0..rows`.
    fn of(rows: usize, places: impl Fn(usize, &mut dyn FnMut(&'a str))) -> Self {
        let mut id_of: FxHashMap<&'a str, u32> = FxHashMap::default();
        let mut out = RowPlaces {
            names: Vec::new(),
            at: Vec::with_capacity(rows + 1),
            ids: Vec::new(),
        };
        for i in 0..rows {
            out.at.push(out.ids.len());
            places(i, &mut |p| {
                let id = *id_of.entry(p).or_insert_with(|| {
                    out.names.push(p);
                    (out.names.len() - 1) as u32
                });
                out.ids.push(id);
            });
        }
        out.at.push(out.ids.len());
        out
    }

    /// The places of `rows`, the most often named first, then by name.
    fn ranked(&self, rows: &[usize]) -> Vec<String> {
        let mut m: FxHashMap<u32, usize> = FxHashMap::default();
        for &i in rows {
            for &p in &self.ids[self.at[i]..self.at[i + 1]] {
                *m.entry(p).or_default() += 1;
            }
        }
        let mut v: Vec<(&str, usize)> = m
            .into_iter()
            .map(|(p, n)| (self.names[p as usize], n))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.into_iter().map(|(p, _)| p.to_owned()).collect()
    }
}

/// Whether a submission is on the list sent back: its verdict, or the reviewer's, is 退回重写.
pub(crate) fn sent_back(verdict: &str, review_verdict: &str) -> bool {
    let redo = diaoyan_model::Verdict::Redo.label();
    verdict == redo || review_verdict == redo
}

/// Places of a row, as a list (for renderers).
pub(crate) fn places_text(p: &[String], n: usize) -> String {
    let mut s = p.iter().take(n).cloned().collect::<Vec<_>>().join("、");
    if p.len() > n {
        s.push_str(&format!(" 等 {} 处", p.len()));
    }
    s
}

/// Dates as a span.
pub(crate) fn span(first: &str, last: &str) -> String {
    match (first.is_empty(), last.is_empty()) {
        (true, true) => "日期不详".to_owned(),
        _ if first == last || last.is_empty() => first.to_owned(),
        (true, false) => last.to_owned(),
        _ => format!("{first} 至 {last}"),
    }
}

/// A table the renderers lay out alike: headers, which columns are numbers (right-aligned), and
/// the cells as plain text (each renderer escapes them).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grid {
    pub header: Vec<&'static str>,
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Grid {
    fn new(columns: &[(&'static str, bool)]) -> Self {
        Grid {
            header: columns.iter().map(|c| c.0).collect(),
            numeric: columns.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }

    /// The first `n` columns.
    pub fn first(&self, n: usize) -> Grid {
        Grid {
            header: self.header[..n].to_vec(),
            numeric: self.numeric[..n].to_vec(),
            rows: self.rows.iter().map(|r| r[..n].to_vec()).collect(),
        }
    }
}

/// 四、干部蹲点情况 (the web page shows every column; Markdown leaves out the reasons).
pub(crate) fn cadre_grid(d: &Digest) -> Grid {
    let mut g = Grid::new(&[
        ("姓名", false),
        ("单位", false),
        ("层级", false),
        ("联系点", false),
        ("蹲点时间", false),
        ("手记天数", true),
        ("走访户数", true),
        ("应走访", true),
        ("未覆盖类别", false),
        ("座谈会", true),
        ("结论", false),
        ("原因", false),
    ]);
    for c in &d.cadres {
        g.rows.push(vec![
            c.name.clone(),
            c.unit.clone(),
            c.level.clone(),
            c.place.clone(),
            c.stay.clone(),
            c.days.to_string(),
            c.households.to_string(),
            if c.quota > 0 {
                c.quota.to_string()
            } else {
                "—".into()
            },
            c.missing.clone(),
            c.forums.to_string(),
            c.verdict.clone(),
            c.reasons.clone(),
        ]);
    }
    g
}

/// 五、单位汇总 (the same in every format).
pub(crate) fn unit_grid(d: &Digest) -> Grid {
    let mut g = Grid::new(&[
        ("单位", false),
        ("干部", true),
        ("材料", true),
        ("通过", true),
        ("复核", true),
        ("退回重写", true),
        ("意见建议", true),
    ]);
    for u in &d.units {
        g.rows.push(vec![
            u.unit.clone(),
            u.cadres.to_string(),
            u.submissions.to_string(),
            u.pass.to_string(),
            u.review.to_string(),
            u.redo.to_string(),
            u.suggestions.to_string(),
        ]);
    }
    g
}

/// 附表：问题专题一览 (Markdown and the web page).
pub(crate) fn topic_grid(d: &Digest) -> Grid {
    let mut g = Grid::new(&[
        ("专题编号", false),
        ("标题", false),
        ("主题", false),
        ("热度", true),
        ("反映人数", true),
        ("意见条数", true),
        ("问题", false),
        ("地点", false),
        ("时间", false),
    ]);
    for t in &d.topics {
        g.rows.push(vec![
            t.id.clone(),
            t.title.clone(),
            t.theme.clone(),
            format!("{:.1}", t.heat),
            t.people.to_string(),
            t.mentions.to_string(),
            t.issues
                .iter()
                .map(|i| i.id.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            places_text(&t.places, 4),
            span(&t.first, &t.last),
        ]);
    }
    g
}
