//! The run's results as polars DataFrames: built from the stage outputs, written to and read back
//! from Parquet (what `diaoyan digest` rebuilds from), and narrowed by a [`Filter`].

use crate::{Error, Filter, Result};
use diaoyan_model::{Assessment, CadreReport, Issue, Submission, Suggestion, TextStats, Topic};
use polars::prelude::*;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// The tables of one run (column names are the English field names; see `ARCHITECTURE.md`).
#[derive(Debug, Clone)]
pub struct Tables<'a> {
    /// One row per submission: metadata, size, and the judgement (verdict, score, reasons).
    pub submissions: SubmissionTable<'a>,
    /// One row per suggestion.
    pub suggestions: SuggestionTable<'a>,
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

/// The suggestions table: read back from Parquet, or the run's own suggestions read where they
/// are. A frame of them costs about 780 bytes a row (17 string columns, each submission's fields
/// copied into every one of its suggestions' rows): 313 of the 758 MB live at a 100k run's peak,
/// and at 1M documents more than the suggestions themselves.
#[derive(Debug, Clone)]
pub enum SuggestionTable<'a> {
    /// Read back from `suggestions.parquet` (or narrowed by a [`Filter`]).
    Frame(DataFrame),
    /// The run's suggestions, not copied.
    Rows(&'a [Suggestion]),
}

/// The submissions table: read back from Parquet, or the run's own submissions (with their
/// judgements and the reviewers' decisions) read where they are. A frame of them was about 690
/// bytes a row: 0.7 GB at a million documents, held through the digest, the run's peak then.
#[derive(Debug, Clone)]
pub enum SubmissionTable<'a> {
    /// Read back from `submissions.parquet` (or narrowed by a [`Filter`]).
    Frame(DataFrame),
    /// The run's submissions, not copied.
    Rows(RunParts<'a>),
}

/// How a string column of the submissions table reads from a submission (the judgement's and
/// the reviewers' columns are read from those: [`SubmissionTable::strs`]).
fn submission_field(name: &str) -> Option<fn(&Submission) -> &str> {
    Some(match name {
        "id" => |x| x.id.as_str(),
        "path" => |x| x.path.as_str(),
        "kind" => |x| x.kind.map_or("", |k| k.label()),
        "author" => |x| x.author.as_str(),
        "unit" => |x| x.unit.as_str(),
        "level" => |x| x.level.map_or("", |l| l.label()),
        "place" => |x| x.place.as_str(),
        "date" => |x| x.date.as_str(),
        "title" => |x| x.title.as_str(),
        _ => return None,
    })
}

impl SubmissionTable<'_> {
    /// Number of submissions.
    pub fn height(&self) -> usize {
        match self {
            Self::Frame(df) => df.height(),
            Self::Rows(p) => p.submissions.len(),
        }
    }

    /// The table as a polars frame (the run's rows copied into one, with every reason).
    pub fn to_frame(&self) -> Result<DataFrame> {
        match self {
            Self::Frame(df) => Ok(df.clone()),
            Self::Rows(p) => submissions_frame(p, 0..p.submissions.len()),
        }
    }

    /// A string column, read in place; a review column a table lacks (written before reviews
    /// existed) reads as empty values.
    pub(crate) fn strs(&self, name: &str) -> Result<Strs<'_>> {
        match self {
            Self::Frame(df) if name.starts_with("review") && df.column(name).is_err() => {
                Ok(Strs::Absent)
            }
            Self::Frame(df) => strs(df, name),
            Self::Rows(p) => {
                row_strs(p, name).ok_or_else(|| Error::frame(format!("no column {name}")))
            }
        }
    }

    /// The scores (one decimal; NaN where there is none).
    pub(crate) fn scores(&self) -> Result<Vec<f64>> {
        match self {
            Self::Frame(df) => floats(df, "score"),
            Self::Rows(p) => Ok(row_scores(p)),
        }
    }

    /// Why submission `i` was judged as it was, one reason a line.
    pub(crate) fn reasons(&self, i: usize) -> Result<Vec<String>> {
        let lines = |t: &str| -> Vec<String> {
            t.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        };
        match self {
            Self::Frame(df) => Ok(lines(strs(df, "reasons")?.get(i))),
            Self::Rows(p) => Ok(p
                .assessments
                .and_then(|a| a.get(i))
                .map(|a| a.reasons.iter().flat_map(|r| lines(&r.text)).collect())
                .unwrap_or_default()),
        }
    }
}

/// String column `name` of the run's submissions, read from the submission, its assessment or
/// the reviewers' decisions (a verdict is empty where nothing was judged); `None` for a column
/// they do not have as a string (`han`, `score`, `reasons`).
fn row_strs<'a>(p: &RunParts<'a>, name: &str) -> Option<Strs<'a>> {
    Some(match (name, submission_field(name)) {
        (_, Some(f)) => Strs::Subs(p.submissions, f),
        ("verdict", _) => p
            .assessments
            .map_or(Strs::Subs(p.submissions, |_| ""), Strs::Verdicts),
        ("review", _) => Strs::Reviews(p.submissions, p.reviews, false),
        ("review_verdict", _) => Strs::Reviews(p.submissions, p.reviews, true),
        _ => return None,
    })
}

/// The scores of the run's submissions as the tables hold them: one decimal, NaN where nothing
/// was judged.
fn row_scores(p: &RunParts<'_>) -> Vec<f64> {
    match p.assessments {
        Some(a) => a.iter().map(|x| (x.score * 10.0).round() / 10.0).collect(),
        None => vec![f64::NAN; p.submissions.len()],
    }
}

/// How a string column of the suggestions table reads from a suggestion (`places` is a list:
/// [`SuggestionTable::places`]).
fn suggestion_field(name: &str) -> Option<fn(&Suggestion) -> &str> {
    Some(match name {
        "id" => |x| x.id.as_str(),
        "submission" => |x| x.source.submission.as_str(),
        "path" => |x| x.source.path.as_str(),
        "author" => |x| x.source.author.as_str(),
        "unit" => |x| x.source.unit.as_str(),
        "place" => |x| x.source.place.as_str(),
        "subject" => |x| x.source.subject.as_str(),
        "date" => |x| x.source.date.as_str(),
        "voice" => |x| x.voice.label(),
        "theme_group" => |x| x.theme_group.as_str(),
        "theme" => |x| x.theme.as_str(),
        "issue" => |x| x.issue.as_deref().unwrap_or_default(),
        "topic" => |x| x.topic.as_deref().unwrap_or_default(),
        "excluded" => |x| x.left_out().unwrap_or_default(),
        _ => return None,
    })
}

impl SuggestionTable<'_> {
    /// Number of suggestions.
    pub fn len(&self) -> usize {
        match self {
            Self::Frame(df) => df.height(),
            Self::Rows(r) => r.len(),
        }
    }

    /// No suggestion.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The table as a polars frame (the run's rows copied into one).
    pub fn to_frame(&self) -> Result<DataFrame> {
        match self {
            Self::Frame(df) => Ok(df.clone()),
            Self::Rows(r) => suggestions_frame(r),
        }
    }

    /// A string column, read in place.
    pub(crate) fn strs(&self, name: &str) -> Result<Strs<'_>> {
        match self {
            Self::Frame(df) => strs(df, name),
            Self::Rows(r) => suggestion_field(name)
                .map(|f| Strs::Rows(r, f))
                .ok_or_else(|| Error::frame(format!("no column {name}"))),
        }
    }

    /// The texts (the `text` column), read in place.
    pub(crate) fn texts(&self) -> Result<TextCol<'_>> {
        match self {
            Self::Frame(df) => Ok(TextCol::Strs(strs(df, "text")?)),
            Self::Rows(r) => Ok(TextCol::Rows(r)),
        }
    }

    /// The places each suggestion names (the `places` column, split).
    pub(crate) fn places(&self) -> Result<Places<'_>> {
        match self {
            Self::Frame(df) => Ok(Places::Joined(strs(df, "places")?)),
            Self::Rows(r) => Ok(Places::Rows(r)),
        }
    }
}

/// The suggestions' texts: a frame's column, or the run's own suggestions, whose texts a large
/// run reads back from outside memory one at a time ([`Suggestion::read`]).
#[derive(Clone, Copy)]
pub(crate) enum TextCol<'a> {
    Strs(Strs<'a>),
    Rows(&'a [Suggestion]),
}

impl<'a> TextCol<'a> {
    /// Text `i` (empty past the end).
    pub(crate) fn get(&self, i: usize) -> Cow<'a, str> {
        match *self {
            Self::Strs(c) => Cow::Borrowed(c.get(i)),
            Self::Rows(r) => r.get(i).map_or(Cow::Borrowed(""), Suggestion::read),
        }
    }

    /// The length in bytes of text `i` (0 past the end), without reading a text kept out of
    /// memory.
    pub(crate) fn len(&self, i: usize) -> usize {
        match *self {
            Self::Strs(c) => c.get(i).len(),
            Self::Rows(r) => r.get(i).map_or(0, |x| x.text.range().len()),
        }
    }

    /// Whether text `i` is `text`: a text of another length is not read.
    pub(crate) fn is(&self, i: usize, text: &str) -> bool {
        match *self {
            Self::Strs(c) => c.get(i) == text,
            Self::Rows(r) => r
                .get(i)
                .is_some_and(|x| x.text.range().len() == text.len() && x.read() == text),
        }
    }
}

/// The places of each suggestion: a joined column or the run's own lists.
#[derive(Clone, Copy)]
pub(crate) enum Places<'a> {
    Joined(Strs<'a>),
    Rows(&'a [Suggestion]),
}

impl<'a> Places<'a> {
    /// The places of row `i`, as the joined column splits (`、` between names).
    pub(crate) fn of(&self, i: usize) -> Vec<&'a str> {
        let split = |s: &'a str| s.split('、').filter(|x| !x.is_empty());
        match *self {
            Self::Joined(c) => split(c.get(i)).collect(),
            Self::Rows(r) => r
                .get(i)
                .map(|x| x.places.iter().flat_map(|p| split(p)).collect())
                .unwrap_or_default(),
        }
    }
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

/// The suggestions table's columns, in order (`places` and `likes` are not strings of one
/// field: joined, and a number).
const SUGGESTION_COLUMNS: [&str; 17] = [
    "id",
    "submission",
    "path",
    "author",
    "unit",
    "place",
    "places",
    "subject",
    "date",
    "voice",
    "text",
    "likes",
    "theme_group",
    "theme",
    "issue",
    "topic",
    "excluded",
];

/// The suggestions as a frame, one column at a time.
fn suggestions_frame(sg: &[Suggestion]) -> Result<DataFrame> {
    let columns: Vec<Column> = SUGGESTION_COLUMNS
        .iter()
        .map(|&name| {
            column(match (name, suggestion_field(name)) {
                ("likes", _) => Col::U32(name, sg.iter().map(|x| x.source.likes).collect()),
                ("places", _) => Col::Str(
                    name,
                    Box::new(sg.iter().map(|x| Cow::Owned(x.places.join("、")))),
                ),
                // Read back from outside memory where a large run keeps the texts.
                ("text", _) => Col::Str(name, Box::new(sg.iter().map(Suggestion::read))),
                (_, Some(f)) => Col::Str(name, Box::new(sg.iter().map(move |x| f(x).into()))),
                (_, None) => unreachable!("every suggestion column has a field"),
            })
        })
        .collect();
    DataFrame::new_infer_height(columns).map_err(Error::frame)
}

/// The suggestion and the submission columns no digest and no selection reads
/// ([`Tables::read_parquet_for_digest`]).
const DIGEST_LEAVES_OUT: ([&str; 5], [&str; 2]) = (
    ["id", "submission", "subject", "likes", "excluded"],
    ["id", "title"],
);

/// Rows of a run's own suggestions or submissions written to Parquet at a time (one row group
/// each): a frame of that many suggestions is about 50 MB.
const ROW_BATCH: usize = 1 << 16;

/// `n` rows into a Parquet file, `batch` rows (one row group) at a time, each batch made into a
/// frame by `frame` and let go once written.
fn write_batches<W: std::io::Write>(
    writer: ParquetWriter<W>,
    n: usize,
    batch: usize,
    frame: impl Fn(std::ops::Range<usize>) -> Result<DataFrame>,
) -> PolarsResult<()> {
    let frame = |r| frame(r).map_err(|e| polars_err!(ComputeError: "{e}"));
    let batch = batch.max(1);
    // The first batch (an empty one when there are no rows) gives the schema.
    let first = frame(0..n.min(batch))?;
    let mut batched = writer.batched(first.schema())?;
    batched.write_batch(&first)?;
    drop(first);
    for start in (batch..n).step_by(batch) {
        batched.write_batch(&frame(start..n.min(start + batch))?)?;
    }
    batched.finish().map(|_| ())
}

/// Rows `rows` of the run's submissions as a frame: each column read from the rows as
/// [`SubmissionTable::Rows`] reads it, made as the frame is built (at a million documents the
/// joined reasons alone were ~0.4 GB held beside it).
fn submissions_frame(p: &RunParts<'_>, rows: std::ops::Range<usize>) -> Result<DataFrame> {
    let part = RunParts {
        submissions: &p.submissions[rows.clone()],
        stats: p.stats.map(|st| &st[rows.clone()]),
        assessments: p.assessments.map(|a| &a[rows]),
        ..*p
    };
    let n = part.submissions.len();
    let col = |name: &'static str| {
        let c = row_strs(&part, name).expect("a string column of the submissions");
        Col::Str(name, Box::new(c.iter().map(Cow::Borrowed)))
    };
    let reasons = match part.assessments {
        Some(a) => made(n, move |i| {
            a[i].reasons
                .iter()
                .map(|r| r.text.as_str())
                .collect::<Vec<_>>()
                .join("\n")
                .into()
        }),
        None => made(n, |_| "".into()),
    };
    let chars: Vec<u32> = match part.stats {
        Some(st) => st.iter().map(|x| u(x.han)).collect(),
        None => part
            .submissions
            .iter()
            .map(|x| u(x.text.chars().count()))
            .collect(),
    };
    let mut cols: Vec<Col> = [
        "id", "path", "kind", "author", "unit", "level", "place", "date", "title",
    ]
    .into_iter()
    .map(col)
    .collect();
    cols.extend([
        Col::U32("han", chars),
        col("verdict"),
        Col::F64("score", row_scores(&part)),
        Col::Str("reasons", reasons),
        col("review"),
        col("review_verdict"),
    ]);
    frame(cols)
}

/// A string column made from each of `rows` as the column is built.
fn each<'a, T>(
    rows: &'a [T],
    f: fn(&'a T) -> Cow<'a, str>,
) -> Box<dyn Iterator<Item = Cow<'a, str>> + 'a> {
    Box::new(rows.iter().map(f))
}

/// A string column of `n` values, value `i` made by `f(i)` as the column is built.
fn made<'x>(
    n: usize,
    f: impl Fn(usize) -> Cow<'x, str> + 'x,
) -> Box<dyn Iterator<Item = Cow<'x, str>> + 'x> {
    Box::new((0..n).map(f))
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

impl<'a> Tables<'a> {
    /// Builds the tables from a run's stage outputs; the suggestions are read where they are
    /// ([`SuggestionTable::Rows`]), not copied into a frame.
    pub fn from_parts(p: &RunParts<'a>) -> Result<Self> {
        Self::around(p, SuggestionTable::Rows(p.suggestions))
    }

    /// The tables around a suggestions table already made; the submissions are read where they
    /// are ([`SubmissionTable::Rows`]).
    fn around(p: &RunParts<'a>, suggestions: SuggestionTable<'a>) -> Result<Self> {
        let submissions = SubmissionTable::Rows(*p);

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

    /// Writes the Parquet copies into `dir` (each file atomically); returns their names. A run's
    /// own suggestions and submissions go in row groups of [`ROW_BATCH`], each made into a frame
    /// and let go once written: no frame of all the suggestions is ever held, and the
    /// submissions' copy has every row's reasons.
    pub fn write_parquet(&self, dir: &Path) -> Result<Vec<String>> {
        self.write_parquet_in(dir, ROW_BATCH)
    }

    /// [`Tables::write_parquet`], the run's suggestions and submissions `batch` rows at a time.
    pub(crate) fn write_parquet_in(&self, dir: &Path, batch: usize) -> Result<Vec<String>> {
        // The run's own rows (submissions, suggestions) are written in batches from where they
        // are; the other tables, and tables read back, as the frames they are.
        enum Source<'t> {
            Frame(&'t DataFrame),
            Submissions(&'t RunParts<'t>),
            Suggestions(&'t [Suggestion]),
        }
        let submissions = match &self.submissions {
            SubmissionTable::Rows(p) => Source::Submissions(p),
            SubmissionTable::Frame(df) => Source::Frame(df),
        };
        let suggestions = match &self.suggestions {
            SuggestionTable::Frame(df) => Source::Frame(df),
            SuggestionTable::Rows(rows) => Source::Suggestions(rows),
        };
        for (name, table) in PARQUET_FILES.iter().zip([
            submissions,
            suggestions,
            Source::Frame(&self.issues),
            Source::Frame(&self.topics),
            Source::Frame(&self.cadres),
        ]) {
            let mut failed = None;
            // A polars error is kept as it is, the writer given an I/O error in its place.
            let mut keep = |e: PolarsError| {
                let io = std::io::Error::other(e.to_string());
                failed = Some(e);
                io
            };
            diaoyan_digest::write_atomic_with(&dir.join(name), |w| {
                let writer = ParquetWriter::new(w).with_compression(ParquetCompression::Snappy);
                match &table {
                    Source::Frame(df) => writer.finish(&mut (*df).clone()).map(|_| ()),
                    // Streamed into the file: a million rows' Parquet is never one buffer.
                    Source::Submissions(p) => {
                        write_batches(writer, p.submissions.len(), batch, |r| {
                            submissions_frame(p, r)
                        })
                    }
                    Source::Suggestions(rows) => {
                        write_batches(writer, rows.len(), batch, |r| suggestions_frame(&rows[r]))
                    }
                }
                .map_err(&mut keep)
            })
            .map_err(|e| match failed {
                Some(p) => parquet_error(&dir.join(name), &p),
                None => Error::from(e),
            })?;
        }
        Ok(PARQUET_FILES.iter().map(|s| (*s).to_owned()).collect())
    }

    /// Reads the Parquet copies a run left in `dir`, every column.
    pub fn read_parquet(dir: &Path) -> Result<Tables<'static>> {
        Self::read_parquet_columns(dir, &[], &[])
    }

    /// Reads what a digest needs of the Parquet copies a run left in `dir`: the suggestions
    /// without the columns no digest or selection reads (`DIGEST_LEAVES_OUT`: their ids, their
    /// submissions' ids, the subject, the likes, why one was left out of the issues; at a
    /// million documents ~0.6 GB of the frame), the submissions without their ids and titles.
    /// A digest made from them is that made from every column (a test compares the two).
    pub fn read_parquet_for_digest(dir: &Path) -> Result<Tables<'static>> {
        Self::read_parquet_columns(dir, &DIGEST_LEAVES_OUT.0, &DIGEST_LEAVES_OUT.1)
    }

    /// [`Tables::read_parquet`] without the suggestion and submission columns named.
    fn read_parquet_columns(
        dir: &Path,
        no_suggestion: &[&str],
        no_submission: &[&str],
    ) -> Result<Tables<'static>> {
        let read = |name: &str, leave_out: &[&str]| -> Result<DataFrame> {
            let path = dir.join(name);
            let missing = |reason: String| Error::Missing {
                path: path.display().to_string(),
                reason,
            };
            // Read whole and closed at once; read through the file (polars maps it) the peak
            // was the same unfiltered.
            let bytes = std::fs::read(&path).map_err(|e| {
                missing(match e.kind() {
                    std::io::ErrorKind::NotFound => {
                        "文件不存在（请先用当前版本的 diaoyan run 生成结果）".to_owned()
                    }
                    _ => diaoyan_model::io_reason(&e),
                })
            })?;
            let mut reader = ParquetReader::new(std::io::Cursor::new(bytes));
            if !leave_out.is_empty() {
                let kept = reader
                    .schema()
                    .map_err(|e| missing(format!("文件已损坏：{e}")))?
                    .iter_names()
                    .filter(|n| !leave_out.contains(&n.as_str()))
                    .map(|n| n.to_string())
                    .collect();
                reader = reader.with_columns(Some(kept));
            }
            reader
                .finish()
                .map_err(|e| missing(format!("文件已损坏：{e}")))
        };
        Ok(Tables {
            submissions: SubmissionTable::Frame(read(PARQUET_FILES[0], no_submission)?),
            suggestions: SuggestionTable::Frame(read(PARQUET_FILES[1], no_suggestion)?),
            issues: read(PARQUET_FILES[2], &[])?,
            topics: read(PARQUET_FILES[3], &[])?,
            cadres: read(PARQUET_FILES[4], &[])?,
        })
    }

    /// The tables narrowed to a selection: suggestions by theme, place, unit and date;
    /// submissions and cadres by place, unit and date; issues and topics to those that keep a
    /// selected suggestion. An unknown theme or unit, or an empty selection, is an error.
    pub fn select(&self, f: &Filter) -> Result<Self> {
        if f.is_empty() {
            return Ok(self.clone());
        }
        // A selection is a frame of its own (the run's rows copied, then filtered).
        let sg = &self.suggestions.to_frame()?;
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
        let sub_units = self.submissions.strs("unit")?;
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
        let suggestions = sg.filter(&mask).map(one_chunk).map_err(Error::frame)?;
        if suggestions.height() == 0 {
            return Err(Error::Select(format!(
                "所选范围（{}）内没有意见建议",
                f.describe()
            )));
        }
        let sb = &self.submissions;
        let (sp, su, sd) = (sb.strs("place")?, sb.strs("unit")?, sb.strs("date")?);
        let mask: BooleanChunked = (0..sb.height())
            .map(|i| place_ok(sp.get(i), "") && unit_ok(su.get(i)) && in_dates(sd.get(i)))
            .collect();
        let submissions = sb
            .to_frame()?
            .filter(&mask)
            .map(one_chunk)
            .map_err(Error::frame)?;
        let cd = &self.cadres;
        let (cp, cu) = (strs(cd, "place")?, strs(cd, "unit")?);
        let mask: BooleanChunked = (0..cd.height())
            .map(|i| place_ok(cp.get(i), "") && unit_ok(cu.get(i)))
            .collect();
        let cadres = cd.filter(&mask).map(one_chunk).map_err(Error::frame)?;
        let keep_ids = |col: &str, df: &DataFrame| -> Result<DataFrame> {
            let kept: BTreeSet<&str> = strs(&suggestions, col)?.iter().collect();
            let ids = strs(df, "id")?;
            let mask: BooleanChunked = ids.iter().map(|x| kept.contains(x)).collect();
            df.filter(&mask).map(one_chunk).map_err(Error::frame)
        };
        Ok(Self {
            issues: keep_ids("issue", &self.issues)?,
            topics: keep_ids("topic", &self.topics)?,
            submissions: SubmissionTable::Frame(submissions),
            suggestions: SuggestionTable::Frame(suggestions),
            cadres,
        })
    }
}

/// A string column read in place (nulls as empty): a digest of a million suggestions reads their
/// columns without copying them. A column a table lacks (written by an older version) reads as
/// empty values.
#[derive(Clone, Copy)]
pub(crate) enum Strs<'a> {
    /// A column a table lacks.
    Absent,
    /// A frame's column, and how many rows each of its chunks holds when every chunk but the
    /// last holds the same number (0 when they differ).
    Chunked(&'a StringChunked, usize),
    /// A field of the run's own suggestions.
    Rows(&'a [Suggestion], fn(&Suggestion) -> &str),
    /// A field of the run's own submissions.
    Subs(&'a [Submission], fn(&Submission) -> &str),
    /// The run's verdicts.
    Verdicts(&'a [Assessment]),
    /// A reviewer's decision on each of the run's submissions (what they decided, or with
    /// `true` the verdict that now holds), empty where there is none.
    Reviews(
        &'a [Submission],
        &'a HashMap<String, (String, String)>,
        bool,
    ),
}

impl<'a> Strs<'a> {
    /// Value `i`.
    pub(crate) fn get(&self, i: usize) -> &'a str {
        match *self {
            Self::Absent => "",
            // Row `i` found by division: polars' own `get` walks the chunks before the row, and
            // a column read from Parquet holds a chunk per row group, so reading every row that
            // way grew with the square of the rows (1M documents: 39% of `diaoyan digest`).
            Self::Chunked(c, per) if per > 0 => c
                .downcast_get(i / per)
                .filter(|a| i % per < a.len())
                .and_then(|a| a.get(i % per))
                .unwrap_or(""),
            Self::Chunked(c, _) => c.get(i).unwrap_or(""),
            Self::Rows(r, f) => r.get(i).map_or("", f),
            Self::Subs(r, f) => r.get(i).map_or("", f),
            Self::Verdicts(a) => a.get(i).map_or("", |x| x.verdict.label()),
            Self::Reviews(r, reviews, held) => r
                .get(i)
                .and_then(|x| reviews.get(x.id.as_str()))
                .map_or("", |(what, verdict)| if held { verdict } else { what }),
        }
    }
    /// The values in order.
    pub(crate) fn iter(&self) -> Box<dyn Iterator<Item = &'a str> + 'a> {
        match *self {
            Self::Absent => Box::new(std::iter::empty()),
            Self::Chunked(c, _) => Box::new(c.iter().map(|x| x.unwrap_or(""))),
            Self::Rows(r, f) => Box::new(r.iter().map(f)),
            Self::Subs(r, f) => Box::new(r.iter().map(f)),
            Self::Verdicts(a) => Box::new(a.iter().map(|x| x.verdict.label())),
            Self::Reviews(r, ..) => {
                let col = *self;
                Box::new((0..r.len()).map(move |i| col.get(i)))
            }
        }
    }
}

/// A selection's frame, its rows findable by division again ([`Strs::get`]): filtering leaves
/// each chunk's kept rows, chunks of unequal length, which are then joined into one (a copy of
/// the selected rows; a frame the filter kept whole keeps its chunks).
fn one_chunk(mut df: DataFrame) -> DataFrame {
    let even = df
        .columns()
        .first()
        .is_none_or(|c| rows_per_chunk(c.as_materialized_series().chunk_lengths()) > 0);
    if !even {
        df.rechunk_mut();
    }
    df
}

/// A string column of a frame, read in place.
pub(crate) fn strs<'a>(df: &'a DataFrame, name: &str) -> Result<Strs<'a>> {
    let c = df.column(name).map_err(Error::frame)?;
    let c = c.str().map_err(Error::frame)?;
    Ok(Strs::Chunked(c, rows_per_chunk(c.chunk_lengths())))
}

/// The rows each chunk holds (`lens`, in order) when all but the last hold the same number and
/// the last no more; 0 otherwise (or when a chunk is empty).
fn rows_per_chunk(lens: impl Iterator<Item = usize>) -> usize {
    let lens: Vec<usize> = lens.collect();
    match lens.split_last() {
        Some((&last, rest)) => {
            let per = rest.first().copied().unwrap_or(last);
            let even = rest.iter().all(|&n| n == per) && last <= per && last > 0;
            if even { per } else { 0 }
        }
        None => 0,
    }
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

/// Row counts per distinct value of a string column, most first, then by value.
pub(crate) fn counts(col: Strs<'_>) -> Vec<(String, usize)> {
    let mut n: rustc_hash::FxHashMap<&str, usize> = rustc_hash::FxHashMap::default();
    for v in col.iter() {
        *n.entry(v).or_default() += 1;
    }
    let mut out: Vec<(String, usize)> = n.into_iter().map(|(k, c)| (k.to_owned(), c)).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// Row positions (ascending) per distinct value of a string column.
pub(crate) fn positions(col: Strs<'_>) -> HashMap<String, Vec<usize>> {
    let mut rows: rustc_hash::FxHashMap<&str, Vec<usize>> = rustc_hash::FxHashMap::default();
    for (i, v) in col.iter().enumerate() {
        rows.entry(v).or_default().push(i);
    }
    rows.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The error of a Parquet file that could not be written: a failed write (polars words the
/// writer's I/O error inside its own, e.g. "underlying IO error: No space left on device")
/// names the file and says why in the reviewer's words, as every other output's write does;
/// anything else is a table error.
fn parquet_error(path: &Path, e: &PolarsError) -> Error {
    use std::io::ErrorKind;
    let text = e.to_string();
    let kind = match e {
        PolarsError::IO { error, .. } => error.kind(),
        _ if text.contains("No space left") || text.contains("os error 28") => {
            ErrorKind::StorageFull
        }
        _ if text.contains("IO error") => ErrorKind::Other,
        _ => return Error::frame(e),
    };
    diaoyan_digest::write_io(path, std::io::Error::new(kind, text)).into()
}

#[cfg(test)]
mod parquet_error_tests {
    use super::*;

    #[test]
    fn a_failed_parquet_write_names_the_file_and_the_full_disk() {
        let path = Path::new("out/suggestions.parquet");
        let full = PolarsError::ComputeError(
            "File out of specification: underlying IO error: No space left on device (os error 28)"
                .into(),
        );
        let said = parquet_error(path, &full).to_string();
        assert!(
            said.starts_with("无法写入 out/suggestions.parquet：磁盘空间不足（"),
            "{said}"
        );
        assert!(said.ends_with("原有结果未被改动"), "{said}");
        let other = PolarsError::ComputeError("underlying IO error: Broken pipe".into());
        assert!(
            parquet_error(path, &other)
                .to_string()
                .contains("写入失败（")
        );
        // Not a write: the table's own error, as before.
        let bug = PolarsError::ColumnNotFound("x".into());
        assert!(matches!(parquet_error(path, &bug), Error::Frame(_)));
    }
}

#[cfg(test)]
mod chunk_tests {
    use super::*;

    /// A column made of the given chunks, in order.
    fn chunked(parts: &[&[Option<&str>]]) -> StringChunked {
        let mut c = StringChunked::from_slice_options("v".into(), parts[0]);
        for p in &parts[1..] {
            c.append(&StringChunked::from_slice_options("v".into(), p))
                .unwrap();
        }
        assert_eq!(c.chunks().len(), parts.len());
        c
    }

    #[test]
    fn rows_read_by_division_equal_polars_own() {
        let (a, b, c, d, e, f, g) = (
            Some("甲"),
            Some("乙"),
            Some("丙"),
            None,
            Some("戊"),
            Some(""),
            Some("庚"),
        );
        let even: &[&[Option<&str>]] = &[&[a, b, c], &[d, e, f], &[g]];
        let uneven: &[&[Option<&str>]] = &[&[a, b], &[c, d, e], &[f, g]];
        let longer_last: &[&[Option<&str>]] = &[&[a, b], &[c, d, e]];
        for (parts, per) in [(even, 3), (uneven, 0), (longer_last, 0), (&even[..1], 3)] {
            let col = chunked(parts);
            let df = DataFrame::new(col.len(), vec![col.clone().into_column()]).unwrap();
            let s = strs(&df, "v").unwrap();
            assert!(matches!(s, Strs::Chunked(_, p) if p == per));
            for i in 0..col.len() {
                assert_eq!(s.get(i), col.get(i).unwrap_or(""), "row {i} of {parts:?}");
            }
            if per > 0 {
                // Past the end, empty (as the run's own rows read).
                assert!((col.len()..col.len() + 4).all(|i| s.get(i).is_empty()));
            }
        }
    }

    #[test]
    fn only_even_chunks_are_found_by_division() {
        for (lens, per) in [
            (vec![3, 3, 2], 3),
            (vec![3, 3, 3], 3),
            (vec![5], 5),
            (vec![3, 4], 0),
            (vec![3, 2, 3], 0),
            (vec![3, 0], 0),
            (vec![0], 0),
            (vec![], 0),
        ] {
            assert_eq!(rows_per_chunk(lens.clone().into_iter()), per, "{lens:?}");
        }
    }

    #[test]
    fn a_filtered_frame_is_found_by_division_again() {
        let rows = ["a", "b", "c", "d", "e", "f", "g", "h", "i"].map(Some);
        let col = chunked(&[&rows[..3], &rows[3..6], &rows[6..]]);
        let df = DataFrame::new(col.len(), vec![col.into_column()]).unwrap();
        let keep = [true, false, false, false, true, true, false, false, true];
        let mask: BooleanChunked = keep.iter().copied().collect();
        let filtered = df.filter(&mask).unwrap();
        // polars keeps each chunk's kept rows: uneven chunks.
        let s = strs(&filtered, "v").unwrap();
        assert!(matches!(s, Strs::Chunked(_, 0)));
        let joined = one_chunk(filtered);
        let s = strs(&joined, "v").unwrap();
        assert!(matches!(s, Strs::Chunked(_, 4)));
        assert_eq!(
            (0..5).map(|i| s.get(i)).collect::<Vec<_>>(),
            ["a", "e", "f", "i", ""]
        );
        // A frame the filter kept whole is left as it is.
        let all: BooleanChunked = keep.iter().map(|_| true).collect();
        let whole = one_chunk(df.filter(&all).unwrap());
        let s = strs(&whole, "v").unwrap();
        assert!(
            matches!(s, Strs::Chunked(_, 3)),
            "still three chunks of three"
        );
    }
}
