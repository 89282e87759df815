//! The run's results as polars DataFrames: built from the stage outputs, written to and read back
//! from Parquet (what `diaoyan digest` rebuilds from), and narrowed by a [`Filter`].

use crate::{Error, Filter, Result};
use diaoyan_model::{Assessment, CadreReport, Issue, Submission, Suggestion, TextStats, Topic};
use polars::prelude::*;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::io::Cursor;
use std::path::Path;

/// The tables of one run (column names are the English field names; see `ARCHITECTURE.md`).
#[derive(Debug, Clone)]
pub struct Tables {
    /// One row per submission: metadata, size, and the judgement (verdict, score, reasons).
    pub submissions: DataFrame,
    /// One row per suggestion.
    pub suggestions: DataFrame,
    /// One row per recurring issue.
    pub issues: DataFrame,
    /// One row per topic.
    pub topics: DataFrame,
    /// One row per cadre.
    pub cadres: DataFrame,
}

/// The stage outputs a digest is made of (plain data, borrowed).
#[derive(Debug, Clone, Copy)]
pub struct RunParts<'a> {
    /// Every submission read.
    pub submissions: &'a [Submission],
    /// Text statistics, one per submission, when the text stage ran.
    pub stats: Option<&'a [TextStats]>,
    /// Judgements, one per submission, when the score stage ran.
    pub assessments: Option<&'a [Assessment]>,
    /// Cadre checks.
    pub cadres: &'a [CadreReport],
    /// Suggestions.
    pub suggestions: &'a [Suggestion],
    /// Issues.
    pub issues: &'a [Issue],
    /// Topics.
    pub topics: &'a [Topic],
    /// Reviewer decisions by submission id: (what they decided, the verdict that now holds or
    /// empty), both in Chinese.
    pub reviews: &'a HashMap<String, (String, String)>,
}

/// A column under construction.
enum Col<'a> {
    /// Borrowed where the value is a field as it is, owned where it is made (joined lists);
    /// made as the column is built, so no column is held twice.
    Str(&'static str, Box<dyn Iterator<Item = Cow<'a, str>> + 'a>),
    U32(&'static str, Vec<u32>),
    F64(&'static str, Vec<f64>),
}

fn frame(cols: Vec<Col>) -> Result<DataFrame> {
    let columns: Vec<Column> = cols.into_iter().map(column).collect();
    DataFrame::new_infer_height(columns).map_err(Error::frame)
}

/// A column made.
fn column(c: Col) -> Column {
    match c {
        Col::Str(n, v) => StringChunked::from_iter_values(PlSmallStr::from_str(n), v).into_column(),
        Col::U32(n, v) => Column::new(PlSmallStr::from_str(n), &v),
        Col::F64(n, v) => Column::new(PlSmallStr::from_str(n), &v),
    }
}

/// The suggestions a table is made from: borrowed, or owned and let go field by field.
enum Rows<'a> {
    Borrowed(&'a [Suggestion]),
    Owned(&'a mut [Suggestion]),
}

/// A column of the suggestions table: its name, how a row gives its value, and, for the fields
/// a suggestion holds memory of its own for, how taken rows let that field go once the column
/// is made (the other fields are shared, one per submission or name: clearing them frees
/// nothing).
enum SuggestionCol {
    Str(
        &'static str,
        fn(&Suggestion) -> Cow<'_, str>,
        Option<fn(&mut Suggestion)>,
    ),
    Likes,
}

/// The suggestions table, one column at a time; from owned rows, the fields that hold memory of
/// their own (words, places) are let go once their column is made.
fn suggestions_frame(mut rows: Rows<'_>) -> Result<DataFrame> {
    use SuggestionCol::{Likes, Str};
    let cols: [SuggestionCol; 17] = [
        Str("id", |x| x.id.as_str().into(), None),
        Str("submission", |x| x.source.submission.as_str().into(), None),
        Str("path", |x| x.source.path.as_str().into(), None),
        Str("author", |x| x.source.author.as_str().into(), None),
        Str("unit", |x| x.source.unit.as_str().into(), None),
        Str("place", |x| x.source.place.as_str().into(), None),
        Str(
            "places",
            |x| x.places.join("、").into(),
            Some(|x| x.places = Vec::new()),
        ),
        Str("subject", |x| x.source.subject.as_str().into(), None),
        Str("date", |x| x.source.date.as_str().into(), None),
        Str("voice", |x| x.voice.label().into(), None),
        Str(
            "text",
            |x| x.text.as_str().into(),
            Some(|x| x.text = Default::default()),
        ),
        Likes,
        Str("theme_group", |x| x.theme_group.as_str().into(), None),
        Str("theme", |x| x.theme.as_str().into(), None),
        Str(
            "issue",
            |x| x.issue.as_deref().unwrap_or_default().into(),
            None,
        ),
        Str(
            "topic",
            |x| x.topic.as_deref().unwrap_or_default().into(),
            None,
        ),
        Str(
            "excluded",
            |x| x.left_out().unwrap_or_default().into(),
            None,
        ),
    ];
    let mut columns: Vec<Column> = Vec::with_capacity(cols.len());
    for col in cols {
        let sg: &[Suggestion] = match &rows {
            Rows::Borrowed(r) => r,
            Rows::Owned(r) => r,
        };
        let (col, clear) = match col {
            Str(n, f, clear) => (Col::Str(n, Box::new(sg.iter().map(f))), clear),
            Likes => (
                Col::U32("likes", sg.iter().map(|x| x.source.likes).collect()),
                None,
            ),
        };
        columns.push(column(col));
        if let (Rows::Owned(r), Some(clear)) = (&mut rows, clear) {
            r.iter_mut().for_each(clear);
        }
    }
    DataFrame::new_infer_height(columns).map_err(Error::frame)
}

/// A string column made from each of `rows` as the column is built.
fn each<'a, T>(
    rows: &'a [T],
    f: fn(&'a T) -> Cow<'a, str>,
) -> Box<dyn Iterator<Item = Cow<'a, str>> + 'a> {
    Box::new(rows.iter().map(f))
}

fn u(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}

/// The file names of the Parquet copies, in the order they are written.
pub const PARQUET_FILES: [&str; 5] = [
    "submissions.parquet",
    "suggestions.parquet",
    "issues.parquet",
    "topics.parquet",
    "cadres.parquet",
];

impl Tables {
    /// Builds the tables from a run's stage outputs.
    pub fn from_parts(p: &RunParts<'_>) -> Result<Self> {
        let suggestions = suggestions_frame(Rows::Borrowed(p.suggestions))?;
        Self::around(p, suggestions)
    }

    /// [`Tables::from_parts`] taking the suggestions (`p.suggestions` is not read): each
    /// suggestion's words, id and places are let go as soon as their column is made (its
    /// submission's fields are shared: see [`diaoyan_model::Source`]), and the suggestions themselves before the other tables are made. At 1M documents
    /// the 5.6 M suggestions beside all the tables were the run's peak.
    pub fn from_parts_taking(p: &RunParts<'_>, mut suggestions: Vec<Suggestion>) -> Result<Self> {
        let frame = suggestions_frame(Rows::Owned(&mut suggestions))?;
        drop(suggestions);
        Self::around(p, frame)
    }

    /// The tables around a suggestions table already made.
    fn around(p: &RunParts<'_>, suggestions: DataFrame) -> Result<Self> {
        let subs = p.submissions;
        let s = |f: fn(&Submission) -> Cow<'_, str>| each(subs, f);
        let verdicts: Vec<Cow<str>> = match p.assessments {
            Some(a) => a.iter().map(|x| x.verdict.label().into()).collect(),
            None => vec!["".into(); subs.len()],
        };
        let scores: Vec<f64> = match p.assessments {
            Some(a) => a.iter().map(|x| (x.score * 10.0).round() / 10.0).collect(),
            None => vec![f64::NAN; subs.len()],
        };
        let reasons: Vec<Cow<str>> = match p.assessments {
            Some(a) => a
                .iter()
                .map(|x| {
                    x.reasons
                        .iter()
                        .map(|r| r.text.as_str())
                        .collect::<Vec<_>>()
                        .join("\n")
                        .into()
                })
                .collect(),
            None => vec!["".into(); subs.len()],
        };
        let review = |i: usize| p.reviews.get(subs[i].id.as_str());
        let reviews: Vec<Cow<str>> = (0..subs.len())
            .map(|i| review(i).map_or("", |r| r.0.as_str()).into())
            .collect();
        let review_verdicts: Vec<Cow<str>> = (0..subs.len())
            .map(|i| review(i).map_or("", |r| r.1.as_str()).into())
            .collect();
        let chars: Vec<u32> = match p.stats {
            Some(st) => st.iter().map(|x| u(x.han)).collect(),
            None => subs.iter().map(|x| u(x.text.chars().count())).collect(),
        };
        let submissions = frame(vec![
            Col::Str("id", s(|x| x.id.as_str().into())),
            Col::Str("path", s(|x| x.path.as_str().into())),
            Col::Str("kind", s(|x| x.kind.map_or("", |k| k.label()).into())),
            Col::Str("author", s(|x| x.author.as_str().into())),
            Col::Str("unit", s(|x| x.unit.as_str().into())),
            Col::Str("level", s(|x| x.level.map_or("", |l| l.label()).into())),
            Col::Str("place", s(|x| x.place.as_str().into())),
            Col::Str("date", s(|x| x.date.as_str().into())),
            Col::Str("title", s(|x| x.title.as_str().into())),
            Col::U32("han", chars),
            Col::Str("verdict", Box::new(verdicts.into_iter())),
            Col::F64("score", scores),
            Col::Str("reasons", Box::new(reasons.into_iter())),
            Col::Str("review", Box::new(reviews.into_iter())),
            Col::Str("review_verdict", Box::new(review_verdicts.into_iter())),
        ])?;

        let is = p.issues;
        let i = |f: fn(&Issue) -> Cow<'_, str>| each(is, f);
        let issues = frame(vec![
            Col::Str("id", i(|x| x.id.as_str().into())),
            Col::Str(
                "topic",
                i(|x| x.topic.as_deref().unwrap_or_default().into()),
            ),
            Col::Str("title", i(|x| x.title.as_str().into())),
            Col::Str("keywords", i(|x| x.keywords.as_str().into())),
            Col::Str("theme_group", i(|x| x.theme_group.as_str().into())),
            Col::Str("theme", i(|x| x.theme.as_str().into())),
            Col::F64("heat", is.iter().map(|x| x.heat.total).collect()),
            Col::U32("people", is.iter().map(|x| u(x.heat.people)).collect()),
            Col::U32("place_count", is.iter().map(|x| u(x.heat.places)).collect()),
            Col::U32("units", is.iter().map(|x| u(x.heat.units)).collect()),
            Col::F64(
                "concentration",
                is.iter().map(|x| x.heat.concentration).collect(),
            ),
            Col::U32("likes", is.iter().map(|x| x.heat.likes).collect()),
            Col::U32("mentions", is.iter().map(|x| u(x.mentions)).collect()),
            Col::U32("submissions", is.iter().map(|x| u(x.submissions)).collect()),
            Col::Str("places", i(|x| x.places.join("、").into())),
            Col::Str("first", i(|x| x.first.as_str().into())),
            Col::Str("last", i(|x| x.last.as_str().into())),
            Col::Str("examples", i(|x| x.examples.join("\n").into())),
        ])?;

        let ts = p.topics;
        let t = |f: fn(&Topic) -> Cow<'_, str>| each(ts, f);
        let topics = frame(vec![
            Col::Str("id", t(|x| x.id.as_str().into())),
            Col::Str("title", t(|x| x.title.as_str().into())),
            Col::Str("keywords", t(|x| x.keywords.as_str().into())),
            Col::Str("theme_group", t(|x| x.theme_group.as_str().into())),
            Col::Str("theme", t(|x| x.theme.as_str().into())),
            Col::F64("heat", ts.iter().map(|x| x.heat.total).collect()),
            Col::U32("people", ts.iter().map(|x| u(x.heat.people)).collect()),
            Col::U32("place_count", ts.iter().map(|x| u(x.heat.places)).collect()),
            Col::U32("units", ts.iter().map(|x| u(x.heat.units)).collect()),
            Col::F64(
                "concentration",
                ts.iter().map(|x| x.heat.concentration).collect(),
            ),
            Col::U32("likes", ts.iter().map(|x| x.heat.likes).collect()),
            Col::U32("mentions", ts.iter().map(|x| u(x.mentions)).collect()),
            Col::U32("submissions", ts.iter().map(|x| u(x.submissions)).collect()),
            Col::Str("issues", t(|x| x.issues.join("、").into())),
            Col::Str("places", t(|x| x.places.join("、").into())),
            Col::Str("first", t(|x| x.first.as_str().into())),
            Col::Str("last", t(|x| x.last.as_str().into())),
            Col::Str("examples", t(|x| x.examples.join("\n").into())),
        ])?;

        let cs = p.cadres;
        let c = |f: fn(&CadreReport) -> Cow<'_, str>| each(cs, f);
        let cadres = frame(vec![
            Col::Str("name", c(|x| x.name.as_str().into())),
            Col::Str("unit", c(|x| x.unit.as_str().into())),
            Col::Str("level", c(|x| x.level.map_or("", |l| l.label()).into())),
            Col::Str("place", c(|x| x.place.as_str().into())),
            Col::Str(
                "stay",
                c(|x| {
                    x.stay
                        .as_ref()
                        .map(|(a, b)| format!("{a} 至 {b}"))
                        .unwrap_or_default()
                        .into()
                }),
            ),
            Col::U32("days", cs.iter().map(|x| u(x.days)).collect()),
            Col::U32("notes", cs.iter().map(|x| u(x.notes)).collect()),
            Col::U32("households", cs.iter().map(|x| u(x.households)).collect()),
            Col::U32(
                "quota",
                cs.iter().map(|x| x.quota.map(u).unwrap_or(0)).collect(),
            ),
            Col::Str(
                "categories_reached",
                c(|x| x.categories_reached.join("、").into()),
            ),
            Col::Str(
                "categories_missing",
                c(|x| x.categories_missing.join("、").into()),
            ),
            Col::U32("forums", cs.iter().map(|x| u(x.forums.len())).collect()),
            Col::U32("submissions", cs.iter().map(|x| u(x.submissions)).collect()),
            Col::U32("redo", cs.iter().map(|x| u(x.redo)).collect()),
            Col::Str("verdict", c(|x| x.verdict.map_or("", |v| v.label()).into())),
            Col::Str(
                "reasons",
                c(|x| {
                    x.reasons
                        .iter()
                        .map(|r| r.text.as_str())
                        .collect::<Vec<_>>()
                        .join("\n")
                        .into()
                }),
            ),
        ])?;
        Ok(Self {
            submissions,
            suggestions,
            issues,
            topics,
            cadres,
        })
    }

    /// Writes the Parquet copies into `dir` (each file atomically); returns their names.
    pub fn write_parquet(&self, dir: &Path) -> Result<Vec<String>> {
        let frames = [
            &self.submissions,
            &self.suggestions,
            &self.issues,
            &self.topics,
            &self.cadres,
        ];
        for (name, df) in PARQUET_FILES.iter().zip(frames) {
            // Streamed into the file: a million suggestions' Parquet is never one buffer.
            let mut df = df.clone();
            let mut failed = None;
            diaoyan_digest::write_atomic_with(&dir.join(name), |w| {
                ParquetWriter::new(w)
                    .with_compression(ParquetCompression::Snappy)
                    .finish(&mut df)
                    .map(|_| ())
                    .map_err(|e| {
                        let io = std::io::Error::other(e.to_string());
                        failed = Some(e);
                        io
                    })
            })
            .map_err(|e| failed.map_or_else(|| Error::from(e), Error::frame))?;
        }
        Ok(PARQUET_FILES.iter().map(|s| (*s).to_owned()).collect())
    }

    /// Reads the Parquet copies a run left in `dir`.
    pub fn read_parquet(dir: &Path) -> Result<Self> {
        let read = |name: &str| -> Result<DataFrame> {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|e| Error::Missing {
                path: path.display().to_string(),
                reason: match e.kind() {
                    std::io::ErrorKind::NotFound => {
                        "文件不存在（请先用当前版本的 diaoyan run 生成结果）".to_owned()
                    }
                    _ => e.to_string(),
                },
            })?;
            ParquetReader::new(Cursor::new(bytes))
                .finish()
                .map_err(|e| Error::Missing {
                    path: path.display().to_string(),
                    reason: format!("文件已损坏：{e}"),
                })
        };
        Ok(Self {
            submissions: read(PARQUET_FILES[0])?,
            suggestions: read(PARQUET_FILES[1])?,
            issues: read(PARQUET_FILES[2])?,
            topics: read(PARQUET_FILES[3])?,
            cadres: read(PARQUET_FILES[4])?,
        })
    }

    /// The tables narrowed to a selection: suggestions by theme, place, unit and date;
    /// submissions and cadres by place, unit and date; issues and topics to those that keep a
    /// selected suggestion. An unknown theme or unit, or an empty selection, is an error.
    pub fn select(&self, f: &Filter) -> Result<Self> {
        if f.is_empty() {
            return Ok(self.clone());
        }
        let sg = &self.suggestions;
        let themes = strs(sg, "theme")?;
        let groups = strs(sg, "theme_group")?;
        let places = strs(sg, "place")?;
        let named = strs(sg, "places")?;
        let units = strs(sg, "unit")?;
        let dates = strs(sg, "date")?;
        // Every asked-for value must name something (themes exactly, units as a part), else
        // the message lists what there is.
        let check = |asked: &[String], what: &str, exact: bool, known: &[Strs]| -> Result<()> {
            let all = || known.iter().flat_map(|k| k.iter());
            for a in asked {
                if !all().any(|x| {
                    if exact {
                        x == a
                    } else {
                        x.contains(a.as_str())
                    }
                }) {
                    let names: BTreeSet<&str> = all().filter(|x| !x.is_empty()).collect();
                    return Err(Error::Select(format!(
                        "没有{what}“{a}”。现有{what}：{}",
                        names.into_iter().collect::<Vec<_>>().join("、")
                    )));
                }
            }
            Ok(())
        };
        check(&f.themes, "主题", true, &[themes, groups])?;
        let sub_units = strs(&self.submissions, "unit")?;
        check(&f.units, "单位", false, &[units, sub_units])?;
        let in_dates = |d: &str| {
            (f.from.is_none() && f.to.is_none())
                || (!d.is_empty()
                    && f.from.as_deref().is_none_or(|x| d >= x)
                    && f.to.as_deref().is_none_or(|x| d <= x))
        };
        let place_ok = |p: &str, n: &str| {
            f.places.is_empty()
                || f.places
                    .iter()
                    .any(|x| p.contains(x.as_str()) || n.contains(x.as_str()))
        };
        let unit_ok =
            |u: &str| f.units.is_empty() || f.units.iter().any(|x| u.contains(x.as_str()));
        let mask: BooleanChunked = (0..sg.height())
            .map(|i| {
                (f.themes.is_empty()
                    || f.themes
                        .iter()
                        .any(|t| t == themes.get(i) || t == groups.get(i)))
                    && place_ok(places.get(i), named.get(i))
                    && unit_ok(units.get(i))
                    && in_dates(dates.get(i))
            })
            .collect();
        let suggestions = sg.filter(&mask).map_err(Error::frame)?;
        if suggestions.height() == 0 {
            return Err(Error::Select(format!(
                "所选范围（{}）内没有意见建议",
                f.describe()
            )));
        }
        let sb = &self.submissions;
        let (sp, su, sd) = (strs(sb, "place")?, strs(sb, "unit")?, strs(sb, "date")?);
        let mask: BooleanChunked = (0..sb.height())
            .map(|i| place_ok(sp.get(i), "") && unit_ok(su.get(i)) && in_dates(sd.get(i)))
            .collect();
        let submissions = sb.filter(&mask).map_err(Error::frame)?;
        let cd = &self.cadres;
        let (cp, cu) = (strs(cd, "place")?, strs(cd, "unit")?);
        let mask: BooleanChunked = (0..cd.height())
            .map(|i| place_ok(cp.get(i), "") && unit_ok(cu.get(i)))
            .collect();
        let cadres = cd.filter(&mask).map_err(Error::frame)?;
        let keep_ids = |col: &str, df: &DataFrame| -> Result<DataFrame> {
            let kept: BTreeSet<&str> = strs(&suggestions, col)?.iter().collect();
            let ids = strs(df, "id")?;
            let mask: BooleanChunked = ids.iter().map(|x| kept.contains(x)).collect();
            df.filter(&mask).map_err(Error::frame)
        };
        Ok(Self {
            issues: keep_ids("issue", &self.issues)?,
            topics: keep_ids("topic", &self.topics)?,
            submissions,
            suggestions,
            cadres,
        })
    }
}

/// A string column read in place (nulls as empty): a digest of a million suggestions reads their
/// columns without copying them. A column a table lacks (written by an older version) reads as
/// empty values.
#[derive(Clone, Copy)]
pub(crate) struct Strs<'a>(Option<&'a StringChunked>);

impl<'a> Strs<'a> {
    /// A column of empty values.
    pub(crate) fn absent() -> Self {
        Self(None)
    }
    /// Value `i`.
    pub(crate) fn get(&self, i: usize) -> &'a str {
        self.0.and_then(|c| c.get(i)).unwrap_or("")
    }
    /// The values in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .into_iter()
            .flat_map(|c| c.iter().map(|x| x.unwrap_or("")))
    }
}

/// A string column of a frame, read in place.
pub(crate) fn strs<'a>(df: &'a DataFrame, name: &str) -> Result<Strs<'a>> {
    let c = df.column(name).map_err(Error::frame)?;
    Ok(Strs(Some(c.str().map_err(Error::frame)?)))
}

/// A u32 column (nulls as 0).
pub(crate) fn nums(df: &DataFrame, name: &str) -> Result<Vec<u32>> {
    let c = df.column(name).map_err(Error::frame)?;
    let ca = c.u32().map_err(Error::frame)?;
    Ok(ca.iter().map(|x| x.unwrap_or(0)).collect())
}

/// An f64 column (nulls as NaN).
pub(crate) fn floats(df: &DataFrame, name: &str) -> Result<Vec<f64>> {
    let c = df.column(name).map_err(Error::frame)?;
    let ca = c.f64().map_err(Error::frame)?;
    Ok(ca.iter().map(|x| x.unwrap_or(f64::NAN)).collect())
}

/// Row counts per distinct value of a string column (polars group-by), most first, then by value.
pub(crate) fn counts(df: &DataFrame, name: &str) -> Result<Vec<(String, usize)>> {
    let mut out: Vec<(String, usize)> = positions(df, name)?
        .into_iter()
        .map(|(k, rows)| (k, rows.len()))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(out)
}

/// Row positions per distinct value of a string column (polars group-by), in first-seen order.
pub(crate) fn positions(df: &DataFrame, name: &str) -> Result<HashMap<String, Vec<usize>>> {
    let mut out: HashMap<String, Vec<usize>> = HashMap::new();
    if df.height() == 0 {
        return Ok(out);
    }
    let gb = df.group_by_stable([name]).map_err(Error::frame)?;
    let keys = gb.keys();
    let key = keys[0].str().map_err(Error::frame)?;
    for (k, g) in key.iter().zip(gb.get_groups().iter()) {
        let rows: Vec<usize> = match g {
            GroupsIndicator::Idx((_, idx)) => idx.iter().map(|&x| x as usize).collect(),
            GroupsIndicator::Slice([first, len]) => {
                (first as usize..(first + len) as usize).collect()
            }
        };
        out.insert(k.unwrap_or("").to_owned(), rows);
    }
    Ok(out)
}
