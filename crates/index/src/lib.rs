//! A full-text index of every suggestion, and keyword search with filters (who, where, when, kind,
//! theme, issue).
//!
//! The index is a tantivy index whose text fields are tokenised by jieba in search mode (机耕路 is
//! indexed as 机耕路 and as 机耕, so both find it), over the same dictionary as the rest of the
//! pipeline. A query's words are cut in precise mode and every word must match. The index is built
//! in a temporary folder next to the target and moved into place when complete, so a crash never
//! leaves a half-built index behind.

use diaoyan_model::Suggestion;
use diaoyan_text::Segmenter;
use serde::Serialize;
use std::path::{Path, PathBuf};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{Index, IndexReader, TantivyDocument, Term};

/// The name the jieba tokenizer is registered under.
const TOKENIZER: &str = "jieba";

/// Errors building or searching an index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The index folder is missing or is not an index diaoyan wrote.
    #[error(
        "找不到检索索引 {path}：{reason}（请先运行 diaoyan run，索引在输出目录的 index 文件夹）"
    )]
    Open {
        /// The folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Writing the index failed.
    #[error("无法写入检索索引 {path}：{reason}")]
    Write {
        /// The folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A filter could not be understood.
    #[error("检索条件有误：{0}")]
    Query(String),
}

/// The index crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// jieba in search mode as a tantivy tokenizer, sharing the pipeline's dictionary.
#[derive(Clone)]
struct JiebaTokenizer {
    seg: Segmenter,
}

struct Tokens {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for Tokens {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = Tokens;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens {
        let tokens = self
            .seg
            .search_spans(text)
            .into_iter()
            .enumerate()
            .map(|(position, (start, end))| Token {
                offset_from: start,
                offset_to: end,
                position,
                text: text[start..end].to_lowercase(),
                position_length: 1,
            })
            .collect();
        Tokens { tokens, next: 0 }
    }
}

struct Fields {
    id: Field,
    submission: Field,
    path: Field,
    author: Field,
    unit: Field,
    place: Field,
    date: Field,
    day: Field,
    voice: Field,
    theme_group: Field,
    theme: Field,
    issue: Field,
    title: Field,
    text: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let tokenised = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let f = Fields {
        id: b.add_text_field("id", STRING | STORED),
        submission: b.add_text_field("submission", STRING | STORED),
        path: b.add_text_field("path", STORED),
        author: b.add_text_field("author", tokenised.clone()),
        unit: b.add_text_field("unit", tokenised.clone()),
        place: b.add_text_field("place", tokenised.clone()),
        date: b.add_text_field("date", STORED),
        day: b.add_u64_field("day", INDEXED | FAST),
        voice: b.add_text_field("voice", STRING | STORED),
        theme_group: b.add_text_field("theme_group", STRING | STORED),
        theme: b.add_text_field("theme", STRING | STORED),
        issue: b.add_text_field("issue", STRING | STORED),
        title: b.add_text_field("title", tokenised.clone()),
        text: b.add_text_field("text", tokenised),
    };
    (b.build(), f)
}

/// `YYYY-MM-DD` (or a prefix: `YYYY-MM`, `YYYY`) as a sortable number; `end` fills a prefix to
/// its last day.
fn day_number(date: &str, end: bool) -> Option<u64> {
    let parts: Vec<&str> = date.trim().split(['-', '/', '.']).collect();
    let num = |i: usize, default: u64| -> Option<u64> {
        match parts.get(i) {
            Some(p) if !p.is_empty() => p.parse().ok(),
            _ => Some(default),
        }
    };
    let y = num(0, 0)?;
    if !(1000..=9999).contains(&y) {
        return None;
    }
    let m = num(1, if end { 12 } else { 1 })?;
    let d = num(2, if end { 31 } else { 1 })?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(y * 10_000 + m * 100 + d)
}

fn register(index: &Index, seg: &Segmenter) {
    index.tokenizers().register(
        TOKENIZER,
        tantivy::tokenizer::TextAnalyzer::from(JiebaTokenizer { seg: seg.clone() }),
    );
}

/// Builds the index of `suggestions` at `dir` (replacing any earlier one); returns how many were
/// indexed. `title_of` gives the title of a suggestion's submission (a message's subject line),
/// which keywords also match. Suggestions from material sent back are indexed too (the office may
/// look for them); their issue is empty.
pub fn build<'a>(
    dir: &Path,
    seg: &Segmenter,
    suggestions: &'a [Suggestion],
    title_of: impl Fn(&'a Suggestion) -> &'a str,
) -> Result<usize> {
    let write_err = |e: &dyn std::fmt::Display| Error::Write {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    };
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| write_err(&e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".diaoyan-index-")
        .tempdir_in(parent)
        .map_err(|e| write_err(&e))?;
    let (schema, f) = schema();
    let index = Index::create_in_dir(tmp.path(), schema).map_err(|e| write_err(&e))?;
    register(&index, seg);
    let mut writer: tantivy::IndexWriter<TantivyDocument> =
        index.writer(100_000_000).map_err(|e| write_err(&e))?;
    for s in suggestions {
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &s.id);
        doc.add_text(f.submission, &s.submission);
        doc.add_text(f.path, &s.path);
        doc.add_text(f.author, &s.author);
        doc.add_text(f.unit, &s.unit);
        // The submission's place, or else the places the suggestion itself names.
        if s.place.is_empty() {
            doc.add_text(f.place, s.places.join("、"));
        } else {
            doc.add_text(f.place, &s.place);
        }
        doc.add_text(f.date, &s.date);
        if let Some(d) = day_number(&s.date, false) {
            doc.add_u64(f.day, d);
        }
        doc.add_text(f.voice, s.voice.label());
        doc.add_text(f.theme_group, &s.theme_group);
        doc.add_text(f.theme, &s.theme);
        doc.add_text(f.issue, s.issue.as_deref().unwrap_or(""));
        doc.add_text(f.title, title_of(s));
        doc.add_text(f.text, &s.text);
        writer.add_document(doc).map_err(|e| write_err(&e))?;
    }
    writer.commit().map_err(|e| write_err(&e))?;
    writer.wait_merging_threads().map_err(|e| write_err(&e))?;
    // Move the finished index into place: the old one aside first, then the new one in.
    let staged = tmp.keep();
    let old = parent.join(".diaoyan-index-old");
    let _ = std::fs::remove_dir_all(&old);
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(|e| write_err(&e))?;
    }
    std::fs::rename(&staged, dir).map_err(|e| write_err(&e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(suggestions.len())
}

/// What to look for: words (all must match) and filters. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Keywords, e.g. `机耕路 塌方`.
    pub words: String,
    /// Author (who recorded it), e.g. 张伟.
    pub author: String,
    /// Unit.
    pub unit: String,
    /// Place (village, township): 石桥村 matches 石桥村三组.
    pub place: String,
    /// Theme (形式主义, 交通运输 …) or theme group (四风, 民生).
    pub theme: String,
    /// `群众` (the people's words) or `干部` (the cadre's own).
    pub voice: String,
    /// Issue id (I0001).
    pub issue: String,
    /// From this date (`YYYY-MM-DD`, or `YYYY-MM`, `YYYY`), inclusive.
    pub from: String,
    /// Up to this date, inclusive.
    pub to: String,
    /// Most hits to return.
    pub limit: usize,
}

/// One suggestion found.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// Relevance (BM25; equal for all when only filters are given).
    pub score: f32,
    /// Suggestion id.
    pub id: String,
    /// Submission id.
    pub submission: String,
    /// File (and row).
    pub path: String,
    /// Author.
    pub author: String,
    /// Unit.
    pub unit: String,
    /// Place.
    pub place: String,
    /// Date.
    pub date: String,
    /// 群众 / 干部.
    pub voice: String,
    /// Theme group.
    pub theme_group: String,
    /// Theme.
    pub theme: String,
    /// Issue id, or empty.
    pub issue: String,
    /// The suggestion.
    pub text: String,
}

/// The hits and how many matched in all.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    /// Suggestions matching the search.
    pub total: usize,
    /// The best `limit` of them, most relevant first.
    pub hits: Vec<Hit>,
}

/// An opened index.
pub struct Searcher {
    reader: IndexReader,
    fields: Fields,
    seg: Segmenter,
}

impl Searcher {
    /// Opens the index at `dir` (written by [`build`]).
    pub fn open(dir: &Path, seg: &Segmenter) -> Result<Searcher> {
        let open_err = |e: &dyn std::fmt::Display| Error::Open {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        };
        if !dir.is_dir() {
            return Err(open_err(&"文件夹不存在"));
        }
        let index = Index::open_in_dir(dir).map_err(|e| open_err(&e))?;
        let (_, fields) = schema();
        if index.schema().get_field("issue").is_err() {
            return Err(open_err(&"不是 diaoyan 写的索引"));
        }
        register(&index, seg);
        let reader = index.reader().map_err(|e| open_err(&e))?;
        Ok(Searcher {
            reader,
            fields,
            seg: seg.clone(),
        })
    }

    /// All of `text`'s words must appear, each in one of `fields`.
    fn words_in(&self, fields: &[Field], text: &str, out: &mut Vec<(Occur, Box<dyn Query>)>) {
        for w in self.seg.words(text) {
            let w = w.to_lowercase();
            let any: Vec<(Occur, Box<dyn Query>)> = fields
                .iter()
                .map(|&field| {
                    let term = Term::from_field_text(field, &w);
                    let q: Box<dyn Query> =
                        Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                    (Occur::Should, q)
                })
                .collect();
            out.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
    }

    /// Runs a search.
    pub fn search(&self, q: &Search) -> Result<Found> {
        let f = &self.fields;
        let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        self.words_in(&[f.text, f.title], &q.words, &mut parts);
        self.words_in(&[f.author], &q.author, &mut parts);
        self.words_in(&[f.unit], &q.unit, &mut parts);
        self.words_in(&[f.place], &q.place, &mut parts);
        let exact = |field: Field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, value.trim()),
                IndexRecordOption::Basic,
            ))
        };
        if !q.theme.trim().is_empty() {
            // A theme or a theme group.
            parts.push((
                Occur::Must,
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, exact(f.theme, &q.theme)),
                    (Occur::Should, exact(f.theme_group, &q.theme)),
                ])),
            ));
        }
        if !q.voice.trim().is_empty() {
            let v = match q.voice.trim() {
                "群众" | "people" => "群众",
                "干部" | "cadre" => "干部",
                other => {
                    return Err(Error::Query(format!(
                        "来源只能是“群众”或“干部”，不是“{other}”"
                    )));
                }
            };
            parts.push((Occur::Must, exact(f.voice, v)));
        }
        if !q.issue.trim().is_empty() {
            parts.push((Occur::Must, exact(f.issue, &q.issue)));
        }
        let bound = |s: &str, end: bool| -> Result<Option<u64>> {
            if s.trim().is_empty() {
                return Ok(None);
            }
            day_number(s, end).map(Some).ok_or_else(|| {
                Error::Query(format!(
                    "日期“{s}”看不懂，请写成 2023-09-18、2023-09 或 2023"
                ))
            })
        };
        let (from, to) = (bound(&q.from, false)?, bound(&q.to, true)?);
        if from.is_some() || to.is_some() {
            use std::ops::Bound;
            let edge = |day: Option<u64>| {
                day.map_or(Bound::Unbounded, |d| {
                    Bound::Included(Term::from_field_u64(f.day, d))
                })
            };
            parts.push((Occur::Must, Box::new(RangeQuery::new(edge(from), edge(to)))));
        }
        if parts.is_empty() {
            return Err(Error::Query("请给出关键词或至少一个筛选条件".into()));
        }
        let query = BooleanQuery::new(parts);
        let searcher = self.reader.searcher();
        let limit = q.limit.max(1);
        let (top, total) = searcher
            .search(
                &query,
                &(TopDocs::with_limit(limit).order_by_score(), Count),
            )
            .map_err(|e| Error::Query(e.to_string()))?;
        let text = |d: &TantivyDocument, field: Field| {
            d.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let d: TantivyDocument = searcher
                .doc(addr)
                .map_err(|e| Error::Query(e.to_string()))?;
            hits.push(Hit {
                score,
                id: text(&d, f.id),
                submission: text(&d, f.submission),
                path: text(&d, f.path),
                author: text(&d, f.author),
                unit: text(&d, f.unit),
                place: text(&d, f.place),
                date: text(&d, f.date),
                voice: text(&d, f.voice),
                theme_group: text(&d, f.theme_group),
                theme: text(&d, f.theme),
                issue: text(&d, f.issue),
                text: text(&d, f.text),
            });
        }
        Ok(Found { total, hits })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diaoyan_model::Voice;

    fn sugg(id: &str, place: &str, date: &str, theme: &str, text: &str) -> Suggestion {
        Suggestion {
            id: id.into(),
            submission: format!("s{id}"),
            path: format!("{id}.docx"),
            author: "张伟".into(),
            unit: "县委办".into(),
            place: place.into(),
            places: Vec::new(),
            subject: String::new(),
            date: date.into(),
            voice: Voice::People,
            text: text.into(),
            start: 0,
            end: text.len(),
            likes: 0,
            theme_group: "民生".into(),
            theme: theme.into(),
            issue: None,
            topic: None,
            excluded: None,
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
        assert_eq!(build(&at, &seg, &data, |_| "").unwrap(), 3);
        let s = Searcher::open(&at, &seg).unwrap();
        let ids = |q: Search| -> Vec<String> {
            let mut v: Vec<String> = s
                .search(&Search { limit: 10, ..q })
                .unwrap()
                .hits
                .into_iter()
                .map(|h| h.id)
                .collect();
            v.sort();
            v
        };
        let words = |w: &str| Search {
            words: w.into(),
            ..Search::default()
        };
        assert_eq!(ids(words("机耕路")), ["1", "3"]);
        // A part of a word finds it too (search-mode tokens).
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
        build(&at, &seg, &data[..1], |_| "乡村道路").unwrap();
        let s = Searcher::open(&at, &seg).unwrap();
        assert_eq!(
            s.search(&Search {
                limit: 5,
                ..words("机耕路")
            })
            .unwrap()
            .total,
            1
        );
        // Keywords match the submission's title too.
        assert_eq!(
            s.search(&Search {
                limit: 5,
                ..words("乡村道路 塌方")
            })
            .unwrap()
            .total,
            1
        );
    }

    #[test]
    fn a_missing_index_says_so_in_chinese() {
        let seg = Segmenter::builtin();
        let e = Searcher::open(Path::new("/nonexistent/index"), &seg)
            .err()
            .unwrap();
        assert!(e.to_string().contains("找不到检索索引"), "{e}");
    }

    #[test]
    fn dates_become_day_numbers() {
        assert_eq!(day_number("2023-09-18", false), Some(20230918));
        assert_eq!(day_number("2023-09", true), Some(20230931));
        assert_eq!(day_number("2023", false), Some(20230101));
        assert_eq!(day_number("昨天", false), None);
        assert_eq!(day_number("2023-13-01", false), None);
    }
}
