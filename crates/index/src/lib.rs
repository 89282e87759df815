//! A full-text index of every suggestion and every whole submission, and search with a small
//! query language, filters, facets and highlighted passages.
//!
//! Matching is by substring, as a reviewer used to Ctrl-F or Everything expects: every text is
//! also indexed character by character with positions, and a query word matches wherever its
//! characters stand together (硬化 finds 道路硬化 and 硬化道路; G107 finds G107国道; a place name is
//! found however jieba cut it). Hits rank by how often the characters stand together and how
//! long the text is (BM25 over the character positions), a typed multi-word token as a whole
//! (道路硬化) above its words apart, and by the words of the title (jieba's search mode: 机耕路 is
//! 机耕路 and 机耕). A text's own words are not indexed: they were a third of the index's time
//! for a rank its characters mostly give (a word cut across, 马路灯光 for 路灯, ranks as a
//! hit). Filters and facets read exact values (fast fields).
//!
//! The index is built in a temporary folder next to the target and moved into place when
//! complete, so a crash never leaves a half-built index behind.

mod facets;
mod labels;
pub mod query;
pub mod snippet;

use diaoyan_model::{Kind, Level, Suggestion};
use diaoyan_text::Segmenter;
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{Index, IndexReader, TantivyDocument, Term};

pub use facets::Facet;
pub use labels::Labels;
pub use query::{FieldName, Parsed, parse};
pub use snippet::{Snippet, escape_html};

/// The name the jieba tokenizer is registered under.
const TOKENIZER: &str = "jieba";
/// The name the character tokenizer is registered under.
const CHARS: &str = "chars";
/// Characters in a hit's passage.
pub const SNIPPET_CHARS: usize = 80;
/// Index format: bumped when the schema changes, so an old index asks for a re-run.
const FORMAT: &str = "diaoyan-index-8";

/// Errors building or searching an index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The index folder is missing, or is not a whole index this version of diaoyan wrote.
    #[error("无法打开检索索引 {path}：{reason}")]
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

/// What an index entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DocType {
    /// One suggestion (a sentence or passage proposing something).
    #[default]
    Suggestion,
    /// A whole submission (field note, report, minutes, a table row).
    Submission,
}

impl DocType {
    fn as_str(self) -> &'static str {
        match self {
            DocType::Suggestion => "suggestion",
            DocType::Submission => "submission",
        }
    }

    /// 意见建议 / 材料.
    pub fn label(self) -> &'static str {
        match self {
            DocType::Suggestion => "意见建议",
            DocType::Submission => "材料",
        }
    }
}

/// Which entries a search looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Suggestions only.
    #[default]
    Suggestions,
    /// Whole submissions only.
    Submissions,
    /// Both.
    All,
}

impl Scope {
    /// `suggestion`, `submission` or `all` (also 意见建议 / 材料 / 全部).
    pub fn parse(s: &str) -> Result<Scope> {
        match s.trim() {
            "suggestion" | "suggestions" | "意见" | "意见建议" => Ok(Scope::Suggestions),
            "submission" | "submissions" | "材料" => Ok(Scope::Submissions),
            "all" | "全部" => Ok(Scope::All),
            other => Err(Error::Query(format!(
                "检索范围只能是 suggestion（意见建议）、submission（材料）或 all（全部），不是“{other}”"
            ))),
        }
    }
}

/// One entry to index: plain strings, labels already in Chinese.
#[derive(Debug, Clone, Default)]
pub struct Entry<'a> {
    /// Suggestion or whole submission.
    pub doc_type: DocType,
    /// Suggestion id, or the submission id for a submission.
    pub id: &'a str,
    /// Submission id.
    pub submission: &'a str,
    /// File (and row).
    pub path: &'a str,
    /// Author.
    pub author: &'a str,
    /// Unit.
    pub unit: &'a str,
    /// Places (the submission's, or else those the suggestion names).
    pub places: Vec<&'a str>,
    /// Date as written (`YYYY-MM-DD` preferred).
    pub date: &'a str,
    /// Material kind label (蹲点手记 …).
    pub kind: &'a str,
    /// Cadre level label.
    pub level: &'a str,
    /// Verdict label of the submission (通过 / 复核 / 退回重写).
    pub verdict: &'a str,
    /// 群众 / 干部 (suggestions).
    pub voice: &'a str,
    /// Theme group (suggestions).
    pub theme_group: &'a str,
    /// Theme (suggestions).
    pub theme: &'a str,
    /// Issue id (suggestions).
    pub issue: &'a str,
    /// Topic id (suggestions).
    pub topic: &'a str,
    /// Title: the submission's title or a message's subject line.
    pub title: &'a str,
    /// The text, or where it is kept.
    pub text: Text<'a>,
}

/// An entry's text: at hand, or where a large run keeps it out of memory
/// ([`diaoyan_model::Texts`]). A kept text is read only when its entry is written, and its
/// digest stands for it in the entry's fingerprint: an update reads none of the texts of the
/// entries it keeps. (1M documents, 1% of them changed: reading every text back, copying and
/// freeing it was about half the CPU of the update's own thread.)
#[derive(Clone)]
pub enum Text<'a> {
    /// The text itself.
    Here(std::borrow::Cow<'a, str>),
    /// Bytes `range` (all of it when `None`) of text `at` of `texts`, whose bytes hash to
    /// `digest` (xxh3-128, [`diaoyan_model::Texts::digest`]).
    Kept {
        texts: &'a dyn diaoyan_model::Texts,
        at: usize,
        range: Option<std::ops::Range<usize>>,
        digest: u128,
    },
}

impl<'a> Text<'a> {
    /// Text `at` of `texts` (bytes `range` of it, when given): kept, when the holder knows its
    /// digest; else read now.
    pub fn of(
        texts: &'a dyn diaoyan_model::Texts,
        at: usize,
        range: Option<std::ops::Range<usize>>,
    ) -> Text<'a> {
        match texts.digest(at) {
            Some(digest) => Text::Kept {
                texts,
                at,
                range,
                digest,
            },
            None => Text::Here(read_from(texts, at, range)),
        }
    }

    /// The text (read back, when it is kept).
    pub fn read(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Text::Here(t) => std::borrow::Cow::Borrowed(t),
            Text::Kept {
                texts, at, range, ..
            } => read_from(*texts, *at, range.clone()),
        }
    }
}

/// Bytes `range` (all of it when `None`) of text `at` of `texts`.
fn read_from(
    texts: &dyn diaoyan_model::Texts,
    at: usize,
    range: Option<std::ops::Range<usize>>,
) -> std::borrow::Cow<'_, str> {
    match range {
        Some(r) => texts.part(at, r),
        None => texts.text(at),
    }
}

impl Default for Text<'_> {
    fn default() -> Self {
        Text::Here(std::borrow::Cow::Borrowed(""))
    }
}

impl std::fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Text::Here(t) => write!(f, "{t:?}"),
            Text::Kept {
                at, range, digest, ..
            } => write!(f, "Kept({at}, {range:?}, {digest:032x})"),
        }
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(t: &'a str) -> Text<'a> {
        Text::Here(std::borrow::Cow::Borrowed(t))
    }
}

impl From<String> for Text<'_> {
    fn from(t: String) -> Self {
        Text::Here(std::borrow::Cow::Owned(t))
    }
}

impl<'a> From<std::borrow::Cow<'a, str>> for Text<'a> {
    fn from(t: std::borrow::Cow<'a, str>) -> Text<'a> {
        Text::Here(t)
    }
}

impl<'a> Entry<'a> {
    /// The entry of a suggestion, with its submission's title, kind, level and verdict labels.
    pub fn suggestion(
        s: &'a Suggestion,
        title: &'a str,
        kind: &'a str,
        level: &'a str,
        verdict: &'a str,
    ) -> Entry<'a> {
        Entry {
            doc_type: DocType::Suggestion,
            id: &s.id,
            submission: &s.source.submission,
            path: &s.source.path,
            author: &s.source.author,
            unit: &s.source.unit,
            places: s.place_names(),
            date: &s.source.date,
            kind,
            level,
            verdict,
            voice: s.voice.label(),
            theme_group: &s.theme_group,
            theme: &s.theme,
            issue: s.issue.as_deref().unwrap_or(""),
            topic: s.topic.as_deref().unwrap_or(""),
            title,
            // Where a large run keeps the text, the excerpt is read only if it is written.
            text: match s.kept() {
                Some((texts, at, range)) => Text::of(texts, at, Some(range)),
                None => Text::Here(s.read()),
            },
        }
    }
}

/// jieba in search mode as a tantivy tokenizer, sharing the pipeline's dictionary.
///
/// Tantivy keeps one per field and indexing thread, so one instance sees a field's values one
/// entry after the next: a submission's author, unit, place and title come again on every one
/// of its suggestions. The last short value's words are kept and handed out again when the
/// same value follows (at 100k documents, 660 k entries, most short values are repeats).
#[derive(Clone)]
struct JiebaTokenizer {
    seg: Segmenter,
    /// The last short value cut, and its words.
    last: Option<(String, Vec<(usize, usize)>)>,
}

/// Values up to this many bytes are remembered ([`JiebaTokenizer::last`]); longer ones are
/// texts, rarely repeated, and comparing or copying them would cost more than it saves.
const REMEMBERED: usize = 128;

impl JiebaTokenizer {
    fn new(seg: &Segmenter) -> JiebaTokenizer {
        JiebaTokenizer {
            seg: seg.clone(),
            last: None,
        }
    }

    /// The search-mode words of `text`, as [`Segmenter::search_spans`] gives them.
    fn spans(&mut self, text: &str) -> Vec<(usize, usize)> {
        if text.len() > REMEMBERED {
            return self.seg.search_spans(text);
        }
        match &self.last {
            Some((t, spans)) if t == text => spans.clone(),
            _ => {
                let spans = self.seg.search_spans(text);
                self.last = Some((text.to_owned(), spans.clone()));
                spans
            }
        }
    }
}

/// The search-mode words of a text, one token reused (no String per word).
struct Tokens<'a> {
    text: &'a str,
    spans: std::vec::IntoIter<(usize, usize)>,
    token: Token,
    started: bool,
}

impl TokenStream for Tokens<'_> {
    fn advance(&mut self) -> bool {
        let Some((start, end)) = self.spans.next() else {
            return false;
        };
        let t = &mut self.token;
        if self.started {
            t.position += 1;
        }
        self.started = true;
        t.offset_from = start;
        t.offset_to = end;
        t.text.clear();
        let word = &self.text[start..end];
        // Han characters and ASCII need no table; anything else lower-cases as a whole word
        // (str::to_lowercase, which knows word-final sigma).
        if word.chars().all(|c| c.is_ascii() || is_common_han(c)) {
            t.text.push_str(word);
            t.text.make_ascii_lowercase();
        } else {
            t.text.push_str(&word.to_lowercase());
        }
        true
    }
    fn token(&self) -> &Token {
        &self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = Tokens<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens<'a> {
        Tokens {
            text,
            spans: self.spans(text).into_iter(),
            token: Token {
                position: 0,
                position_length: 1,
                ..Token::default()
            },
            started: false,
        }
    }
}

/// The common Han ranges (CJK unified ideographs and extension A, all assigned letters with no
/// case): what texts are mostly made of, so folding them needs no Unicode table.
fn is_common_han(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF)
}

/// A character as the character index sees it: full-width ASCII folded, letters lower-cased;
/// `None` for spaces and punctuation, which are left out (so 机耕路，塌方 matches 机耕路塌方).
fn fold(c: char) -> Option<char> {
    // Fast paths for what texts are made of (the general Unicode lookups below were ~4 % of a
    // run's CPU): common Han characters are letters with no case; ASCII folds by table.
    if is_common_han(c) {
        return Some(c);
    }
    if c.is_ascii() {
        return c.is_ascii_alphanumeric().then(|| c.to_ascii_lowercase());
    }
    fold_slow(c)
}

/// [`fold`] without its fast paths.
fn fold_slow(c: char) -> Option<char> {
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        c => c,
    };
    diaoyan_text::is_alnum(c).then(|| c.to_lowercase().next().unwrap_or(c))
}

/// One token per letter, digit or Han character, positions counting only those.
#[derive(Clone)]
struct CharTokenizer;

/// The characters of a text one by one, one token reused (no allocation per character).
struct CharTokens<'a> {
    chars: std::str::CharIndices<'a>,
    token: Token,
    started: bool,
}

impl TokenStream for CharTokens<'_> {
    fn advance(&mut self) -> bool {
        for (at, c) in self.chars.by_ref() {
            let Some(f) = fold(c) else { continue };
            let t = &mut self.token;
            if self.started {
                t.position += 1;
            }
            self.started = true;
            t.offset_from = at;
            t.offset_to = at + c.len_utf8();
            t.text.clear();
            t.text.push(f);
            return true;
        }
        false
    }
    fn token(&self) -> &Token {
        &self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for CharTokenizer {
    type TokenStream<'a> = CharTokens<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> CharTokens<'a> {
        CharTokens {
            chars: text.char_indices(),
            token: Token {
                position: 0,
                position_length: 1,
                ..Token::default()
            },
            started: false,
        }
    }
}

struct Fields {
    doc_type: Field,
    id: Field,
    submission: Field,
    path: Field,
    author: Field,
    author_raw: Field,
    unit: Field,
    unit_raw: Field,
    place: Field,
    place_raw: Field,
    date: Field,
    day: Field,
    kind: Field,
    level: Field,
    verdict: Field,
    voice: Field,
    theme_group: Field,
    theme: Field,
    issue: Field,
    topic: Field,
    title: Field,
    text: Field,
    chars: Field,
    fp: Field,
    order: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    // Words (of the short fields) only rank and filter (term queries); phrases and substrings
    // go through the character field, so word positions are not kept.
    let tokenised = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        )
        .set_stored();
    let chars = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(CHARS)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let exact = STRING | STORED | FAST;
    let f = Fields {
        doc_type: b.add_text_field("doc_type", exact.clone()),
        // Read back only, never searched: no terms (each value is one entry's own, and a term
        // dictionary of a few million unique values cost a tenth of the index's time).
        id: b.add_text_field("id", STORED),
        submission: b.add_text_field("submission", STORED),
        path: b.add_text_field("path", STORED),
        author: b.add_text_field("author", tokenised.clone()),
        author_raw: b.add_text_field("author_raw", STRING | FAST),
        unit: b.add_text_field("unit", tokenised.clone()),
        unit_raw: b.add_text_field("unit_raw", STRING | FAST),
        place: b.add_text_field("place", tokenised.clone()),
        place_raw: b.add_text_field("place_raw", STRING | FAST),
        date: b.add_text_field("date", STORED),
        day: b.add_u64_field("day", INDEXED | FAST),
        kind: b.add_text_field("kind", exact.clone()),
        level: b.add_text_field("level", exact.clone()),
        verdict: b.add_text_field("verdict", exact.clone()),
        voice: b.add_text_field("voice", exact.clone()),
        theme_group: b.add_text_field("theme_group", exact.clone()),
        theme: b.add_text_field("theme", exact.clone()),
        issue: b.add_text_field("issue", exact.clone()),
        topic: b.add_text_field("topic", exact),
        title: b.add_text_field("title", tokenised.clone()),
        // Every entry's text, read back for passages; searched through `chars`.
        text: b.add_text_field("text", STORED),
        chars: b.add_text_field(FORMAT, chars),
        // Unique per entry, so a column only ([`Gone`] finds the entries to remove).
        fp: b.add_u64_field("fp", FAST),
        // Where equal scores go ([`order_of`]).
        order: b.add_u64_field("order", FAST),
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
        tantivy::tokenizer::TextAnalyzer::from(JiebaTokenizer::new(seg)),
    );
    index
        .tokenizers()
        .register(CHARS, tantivy::tokenizer::TextAnalyzer::from(CharTokenizer));
}

/// A hash of everything an entry puts in the index: equal hashes, equal documents.
///
/// An entry's fields, each followed by `0xff` (places joined by `\u{1}`), hashed in one go: the
/// digest a streaming hasher fed the fields one by one gives, at a fraction of the cost (a
/// re-run fingerprints every entry: 100k documents, 661k entries). A kept text is known by its
/// digest and range ([`Text::Kept`]), not read. `buf` is reused.
fn fingerprint(e: &Entry, buf: &mut Vec<u8>) -> u64 {
    fn put(buf: &mut Vec<u8>, part: &str) {
        buf.extend_from_slice(part.as_bytes());
        buf.push(0xff);
    }
    buf.clear();
    for part in [
        e.doc_type.as_str(),
        e.id,
        e.submission,
        e.path,
        e.author,
        e.unit,
    ] {
        put(buf, part);
    }
    for (i, p) in e.places.iter().enumerate() {
        if i > 0 {
            buf.push(1);
        }
        buf.extend_from_slice(str::as_bytes(p));
    }
    buf.push(0xff);
    for part in [
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
    ] {
        put(buf, part);
    }
    match &e.text {
        Text::Here(t) => put(buf, t),
        // Its digest and range stand for a kept text: bytes no text holds (0xfe and 0xff are
        // never in UTF-8) lead them, so they cannot read as a text at hand.
        Text::Kept { range, digest, .. } => {
            buf.push(0xfe);
            buf.extend_from_slice(&digest.to_le_bytes());
            if let Some(r) = range {
                buf.extend_from_slice(&(r.start as u64).to_le_bytes());
                buf.extend_from_slice(&(r.end as u64).to_le_bytes());
            }
            buf.push(0xff);
        }
    }
    xxhash_rust::xxh3::xxh3_64(buf)
}

/// An entry's place among entries of equal score: a hash of its kind and id, which no other
/// entry shares. Not the fingerprint: a text kept out of memory is fingerprinted by its digest
/// ([`Text::Kept`]), so the same entry's fingerprint differs between a run holding its texts
/// and one keeping them out, and the order of equal hits must not.
fn order_of(e: &Entry) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(e.doc_type.as_str().as_bytes());
    h.update(&[0xff]);
    h.update(e.id.as_bytes());
    h.digest()
}

fn document(f: &Fields, e: &Entry, fp: u64) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_u64(f.fp, fp);
    doc.add_u64(f.order, order_of(e));
    doc.add_text(f.doc_type, e.doc_type.as_str());
    doc.add_text(f.id, e.id);
    doc.add_text(f.submission, e.submission);
    doc.add_text(f.path, e.path);
    doc.add_text(f.author, e.author);
    doc.add_text(f.unit, e.unit);
    doc.add_text(f.place, e.places.join("、"));
    doc.add_text(f.date, e.date);
    if let Some(d) = day_number(e.date, false) {
        doc.add_u64(f.day, d);
    }
    // Exact values: filters and facets. Empty values are left out (no empty facet).
    let mut exact = |field: Field, v: &str| {
        if !v.is_empty() {
            doc.add_text(field, v);
        }
    };
    exact(f.author_raw, e.author);
    exact(f.unit_raw, e.unit);
    for p in &e.places {
        exact(f.place_raw, p);
    }
    exact(f.kind, e.kind);
    exact(f.level, e.level);
    exact(f.verdict, e.verdict);
    exact(f.voice, e.voice);
    exact(f.theme_group, e.theme_group);
    exact(f.theme, e.theme);
    exact(f.issue, e.issue);
    exact(f.topic, e.topic);
    doc.add_text(f.title, e.title);
    let text = e.text.read();
    doc.add_text(f.text, &text);
    // The text's own words are not indexed, only its characters (see the crate's note). A
    // whole submission's words were a third of the index's time (100k documents: 9.8 s, 6.8 s
    // without them); a suggestion's were 6% of a whole run (10k documents, CPU 10.9 → 10.2 s).
    doc.add_text(f.chars, e.title);
    doc.add_text(f.chars, &text);
    doc
}

/// Why writing the index failed, for a reviewer: tantivy's own words follow in brackets. Its
/// indexing threads report a full disk only as a killed writer (a 1M run's output is ~9 GB), so
/// that, and the system's own "no space" message, name the likely cause in Chinese.
fn write_reason(detail: &str) -> String {
    let lower = detail.to_lowercase();
    if lower.contains("no space left") || lower.contains("disk full") {
        format!("磁盘空间不足，请清理输出目录所在的磁盘后重新运行（{detail}）")
    } else if lower.contains("index writer was killed") {
        format!(
            "写入中途失败，最常见的原因是磁盘空间不足，请检查输出目录所在的磁盘后重新运行（{detail}）"
        )
    } else {
        detail.to_owned()
    }
}

/// What building the index did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Built {
    /// Entries in the index.
    pub entries: usize,
    /// Entries written (all of them in a full build).
    pub added: usize,
    /// Entries of the previous index taken over unchanged.
    pub kept: usize,
    /// Entries of the previous index removed (gone or changed).
    pub removed: usize,
    /// Whether the previous index was updated rather than rebuilt.
    pub incremental: bool,
}

/// The file beside tantivy's own that says how an index was built.
const META: &str = "diaoyan-index.json";
/// The key in [`META`] listing the segments of the last full build.
const BUILT: &str = "full_build_segments";

/// What an index must have been built with to be updated: this format, this version of
/// diaoyan, the same lexicons.
fn meta(seg: &Segmenter) -> serde_json::Value {
    serde_json::json!({
        "format": FORMAT,
        "version": env!("CARGO_PKG_VERSION"),
        "lexicons": format!("{:016x}", seg.fingerprint()),
    })
}

/// The lexicons the index of the run in `out` was built with: the files the run's `run.json`
/// names (`config.text.userdict`, `config.text.stopwords`), the built-in lists for what it does
/// not name (or when there is no readable `run.json`).
pub fn run_lexicons(out: &Path) -> diaoyan_text::Result<diaoyan_text::Lexicons> {
    let run: serde_json::Value = std::fs::read(out.join("run.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let file = |k: &str| run["config"]["text"][k].as_str().map(PathBuf::from);
    diaoyan_text::Lexicons::from_files(file("userdict").as_deref(), file("stopwords").as_deref())
}

/// Builds the index of `entries` at `dir` (replacing any earlier one).
pub fn build<'a>(
    dir: &Path,
    seg: &Segmenter,
    entries: impl IntoIterator<Item = Entry<'a>>,
) -> Result<Built> {
    update(dir, None, seg, entries, &Labels::default())
}

/// Entries' fingerprints (xxh3 digests, so a multiplying hash spreads them as well as SipHash,
/// for a fraction of its cost: a re-run looks up every entry).
type Fps = rustc_hash::FxHashSet<u64>;

/// What an update takes over from the index it updates: the fingerprints of its live entries,
/// and the segments its last full build wrote ([`Guarded`]).
struct Prior {
    fps: Fps,
    built: HashSet<tantivy::index::SegmentId>,
}

/// The segments of the last full build of `previous`, when its note says it was written with
/// the same format, version and lexicons (what an update needs first).
fn full_build_of(previous: &Path, seg: &Segmenter) -> Option<HashSet<tantivy::index::SegmentId>> {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(previous.join(META)).ok()?).ok()?;
    let want = meta(seg);
    if ["format", "version", "lexicons"]
        .iter()
        .any(|k| m.get(k) != want.get(k))
    {
        return None;
    }
    m[BUILT]
        .as_array()?
        .iter()
        .map(|v| v.as_str().and_then(|s| s.parse().ok()))
        .collect()
}

/// Whether [`update`] would most likely update `previous` rather than build anew: its note says
/// it was written by this version with the same lexicons. Read from the note alone, before any
/// work (the entries are checked only during the update, which still builds anew if they do
/// not fit), so a caller can plan around an update's lighter load.
pub fn updatable(previous: &Path, seg: &Segmenter) -> bool {
    full_build_of(previous, seg).is_some()
}

/// Links (or copies) the files of `previous` into `to` and returns what an update takes over,
/// when it can be updated: built with the same format, version and lexicons, no entry twice.
fn reuse(previous: &Path, to: &Path, seg: &Segmenter) -> Option<Prior> {
    let built = full_build_of(previous, seg)?;
    for e in std::fs::read_dir(previous).ok()? {
        let e = e.ok()?;
        // The files diaoyan writes itself are written anew (a link would be written through).
        if !e.file_type().ok()?.is_file() || e.file_name() == META || e.file_name() == labels::FILE
        {
            continue;
        }
        let target = to.join(e.file_name());
        if std::fs::hard_link(e.path(), &target).is_err() {
            std::fs::copy(e.path(), &target).ok()?;
        }
    }
    let index = Index::open_in_dir(to).ok()?;
    let reader = index.reader().ok()?;
    let searcher = reader.searcher();
    let mut fps = Fps::default();
    fps.reserve(searcher.num_docs() as usize);
    for sr in searcher.segment_readers() {
        let col = sr.fast_fields().u64("fp").ok()?;
        let alive = sr.alive_bitset();
        for doc in 0..sr.max_doc() {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            if !fps.insert(col.first(doc)?) {
                return None;
            }
        }
    }
    Some(Prior { fps, built })
}

/// Builds the index of `entries` at `dir`, updating `previous` (an index written by this
/// version with the same lexicons) when there is one: entries whose every field is unchanged
/// are kept, the others removed or added — the same documents as a full build, without cutting
/// the unchanged texts again. The previous index is never modified (its files are linked,
/// tantivy never rewrites a file), so it can be `dir` itself. Entries hold their issue's and
/// topic's stable key from `labels` (see [`Labels`]), so an entry whose issue was only
/// renumbered is kept.
pub fn update<'a>(
    dir: &Path,
    previous: Option<&Path>,
    seg: &Segmenter,
    entries: impl IntoIterator<Item = Entry<'a>>,
    labels: &Labels,
) -> Result<Built> {
    let write_err = |e: &dyn std::fmt::Display| Error::Write {
        path: dir.to_path_buf(),
        reason: write_reason(&e.to_string()),
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
    let prior = previous.and_then(|p| reuse(p, tmp.path(), seg));
    let index = match &prior {
        Some(_) => Index::open_in_dir(tmp.path()).map_err(|e| write_err(&e))?,
        None => {
            // Whatever a failed reuse linked in goes first.
            for e in std::fs::read_dir(tmp.path()).map_err(|e| write_err(&e))? {
                std::fs::remove_file(e.map_err(|e| write_err(&e))?.path())
                    .map_err(|e| write_err(&e))?;
            }
            Index::create_in_dir(tmp.path(), schema).map_err(|e| write_err(&e))?
        }
    };
    register(&index, seg);
    let mut writer: tantivy::IndexWriter<TantivyDocument> =
        index.writer(200_000_000).map_err(|e| write_err(&e))?;
    // A full build's segments are left as flushed; an update merges only what updates added.
    let (mut old, full_build) = match prior {
        Some(Prior { fps, built }) => {
            writer.set_merge_policy(Box::new(Guarded::new(built.clone())));
            (fps, Some(built))
        }
        None => {
            writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
            (Fps::default(), None)
        }
    };
    let mut built = Built {
        incremental: full_build.is_some(),
        ..Built::default()
    };
    let keys = labels.keys();
    let mut buf = Vec::new();
    for e in entries {
        let e = Entry {
            issue: keys.issue(e.issue),
            topic: keys.topic(e.topic),
            ..e
        };
        let fp = fingerprint(&e, &mut buf);
        built.entries += 1;
        if old.remove(&fp) {
            built.kept += 1;
        } else {
            writer
                .add_document(document(&f, &e, fp))
                .map_err(|e| write_err(&e))?;
            built.added += 1;
        }
    }
    built.removed = old.len();
    if !old.is_empty() {
        writer
            .delete_query(Box::new(Gone(std::sync::Arc::new(old))))
            .map_err(|e| write_err(&e))?;
    }
    writer.commit().map_err(|e| write_err(&e))?;
    writer.wait_merging_threads().map_err(|e| write_err(&e))?;
    // The full build's segments, still there (an update never merges them; one whose entries
    // were all removed is gone).
    let now = index.searchable_segment_ids().map_err(|e| write_err(&e))?;
    let kept: Vec<String> = now
        .iter()
        .filter(|id| full_build.as_ref().is_none_or(|b| b.contains(id)))
        .map(|id| id.uuid_string())
        .collect();
    let mut m = meta(seg);
    m[BUILT] = kept.into();
    std::fs::write(
        tmp.path().join(META),
        serde_json::to_vec(&m).map_err(|e| write_err(&e))?,
    )
    .map_err(|e| write_err(&e))?;
    std::fs::write(tmp.path().join(labels::FILE), labels.to_bytes()).map_err(|e| write_err(&e))?;
    // Move the finished index into place: the old one aside first, then the new one in.
    let staged = tmp.keep();
    let old = parent.join(".diaoyan-index-old");
    let _ = std::fs::remove_dir_all(&old);
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(|e| write_err(&e))?;
    }
    std::fs::rename(&staged, dir).map_err(|e| write_err(&e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(built)
}

/// The entries whose fingerprint is in the set: those an update removes. Read from the `fp`
/// column segment by segment, so the fingerprints need no term dictionary.
#[derive(Debug, Clone)]
struct Gone(std::sync::Arc<Fps>);

impl Query for Gone {
    fn weight(
        &self,
        _: tantivy::query::EnableScoring<'_>,
    ) -> tantivy::Result<Box<dyn tantivy::query::Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl tantivy::query::Weight for Gone {
    fn scorer(
        &self,
        reader: &tantivy::SegmentReader,
        boost: tantivy::Score,
    ) -> tantivy::Result<Box<dyn tantivy::query::Scorer>> {
        let col = reader.fast_fields().u64("fp")?;
        let mut found = tantivy::BitSet::with_max_value(reader.max_doc());
        for doc in 0..reader.max_doc() {
            if col.first(doc).is_some_and(|fp| self.0.contains(&fp)) {
                found.insert(doc);
            }
        }
        Ok(Box::new(tantivy::query::ConstScorer::new(
            tantivy::query::BitSetDocSet::from(found),
            boost,
        )))
    }

    fn explain(
        &self,
        _: &tantivy::SegmentReader,
        _: tantivy::DocId,
    ) -> tantivy::Result<tantivy::query::Explanation> {
        Err(tantivy::TantivyError::InvalidArgument(
            "no explanation for removed entries".to_owned(),
        ))
    }
}

/// Segments holding more entries than this are never merged again.
const MERGE_MAX_ENTRIES: usize = 50_000;

/// The merge policy of an update: tantivy's log merge policy ([`MERGE_MAX_ENTRIES`]) over the
/// segments updates added, never touching those the last full build wrote.
///
/// A full build merges nothing: the writer flushes a segment each time a thread's share of its
/// 200 MB is full, and the whole submissions fill it fast — about 35,000 to a segment on the
/// generated corpus (the suggestions about 240,000) — so at a million documents 29 segments of
/// submissions fell under any size bar and were merged eight at a time, rewriting 1.0 M of the
/// 6.6 M entries and most of the index's bytes: the index took 146–155 s, against 83 s without
/// the merges (run 2026-12-03; 53 segments instead of 32, searches 0.07–0.17 s either way).
/// An update left to tantivy's policy would merge those same segments on the first evening; the
/// small ones each evening adds are merged among themselves.
#[derive(Debug)]
struct Guarded {
    built: HashSet<tantivy::index::SegmentId>,
    inner: tantivy::indexer::LogMergePolicy,
}

impl Guarded {
    fn new(built: HashSet<tantivy::index::SegmentId>) -> Guarded {
        let mut inner = tantivy::indexer::LogMergePolicy::default();
        inner.set_max_docs_before_merge(MERGE_MAX_ENTRIES);
        Guarded { built, inner }
    }
}

impl tantivy::indexer::MergePolicy for Guarded {
    fn compute_merge_candidates(
        &self,
        segments: &[tantivy::SegmentMeta],
    ) -> Vec<tantivy::indexer::MergeCandidate> {
        let added: Vec<tantivy::SegmentMeta> = segments
            .iter()
            .filter(|s| !self.built.contains(&s.id()))
            .cloned()
            .collect();
        self.inner.compute_merge_candidates(&added)
    }
}

/// What to look for: a query (words and syntax, see [`query`]) and filters. Empty fields do not
/// filter.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// The query, e.g. `机耕路 塌方 OR 损毁 -石桥村 "道路硬化" 主题:交通运输`.
    pub words: String,
    /// Suggestions, submissions or both.
    pub scope: Scope,
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
    /// Topic id (T0001).
    pub topic: String,
    /// Material kind (蹲点手记, 调研报告 … or note, report …).
    pub kind: String,
    /// Verdict (通过, 复核, 退回重写 or pass, review, redo).
    pub verdict: String,
    /// Cadre level (县级领导 …).
    pub level: String,
    /// From this date (`YYYY-MM-DD`, or `YYYY-MM`, `YYYY`), inclusive.
    pub from: String,
    /// Up to this date, inclusive.
    pub to: String,
    /// Count hits per value of these fields (theme, place, unit, verdict …; see
    /// [`Facet::FIELDS`]).
    pub count_by: Vec<String>,
    /// Most hits to return (0: none, counts and facets only).
    pub limit: usize,
    /// Characters in each hit's passage (0: [`SNIPPET_CHARS`]).
    pub snippet_chars: usize,
}

/// One entry found.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// 意见建议 or 材料.
    pub doc_type: DocType,
    /// Relevance (BM25; equal for all when only filters are given).
    pub score: f32,
    /// Suggestion id (or submission id for a submission).
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
    /// Material kind.
    pub kind: String,
    /// Cadre level.
    pub level: String,
    /// The submission's verdict.
    pub verdict: String,
    /// 群众 / 干部.
    pub voice: String,
    /// Theme group.
    pub theme_group: String,
    /// Theme.
    pub theme: String,
    /// Issue id, or empty.
    pub issue: String,
    /// Topic id, or empty.
    pub topic: String,
    /// Title (a submission's title, a message's subject line).
    pub title: String,
    /// The whole suggestion (empty for a submission: see `snippet`).
    pub text: String,
    /// The passage that matched, words marked.
    pub snippet: Snippet,
}

/// The hits, how many matched in all, facet counts and notes on the query.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    /// Entries matching the search.
    pub total: usize,
    /// The best `limit` of them, most relevant first.
    pub hits: Vec<Hit>,
    /// Counts per value for each `count_by` field.
    pub facets: Vec<Facet>,
    /// What in the query was not syntax and was searched as plain words (Chinese).
    pub notes: Vec<String>,
}

/// An opened index.
pub struct Searcher {
    reader: IndexReader,
    fields: Fields,
    seg: Segmenter,
    /// Issue and topic ids → the keys entries hold.
    keys: labels::Lookup,
    /// Keys → ids.
    ids: labels::Lookup,
}

/// A query clause.
type Clause = (Occur, Box<dyn Query>);

impl Searcher {
    /// Opens the index at `dir` (written by [`build`]).
    pub fn open(dir: &Path, seg: &Segmenter) -> Result<Searcher> {
        let open_err = |e: &dyn std::fmt::Display| Error::Open {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        };
        // Each reason says what to do: the folder is a run's output, remade by `diaoyan run`.
        let rerun = |what: &dyn std::fmt::Display| {
            open_err(&format!("{what}，请重新运行 diaoyan run 生成"))
        };
        if !dir.is_dir() {
            return Err(open_err(
                &"找不到这个文件夹（请先运行 diaoyan run，索引在输出目录的 index 文件夹）",
            ));
        }
        let index =
            Index::open_in_dir(dir).map_err(|e| rerun(&format!("不是完整的检索索引（{e}）")))?;
        let (_, fields) = schema();
        if index.schema().get_field("issue").is_err() {
            return Err(rerun(&"不是 diaoyan 写的索引"));
        }
        if index.schema().get_field(FORMAT).is_err() {
            return Err(rerun(&"这是旧版 diaoyan 写的索引"));
        }
        let labels = Labels::read(dir)
            .map_err(|e| rerun(&format!("索引不完整（{} 读不出：{e}）", labels::FILE)))?;
        register(&index, seg);
        let reader = index
            .reader()
            .map_err(|e| rerun(&format!("不是完整的检索索引（{e}）")))?;
        Ok(Searcher {
            reader,
            fields,
            seg: seg.clone(),
            keys: labels.keys(),
            ids: labels.ids(),
        })
    }

    /// How many entries the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `text`'s characters wherever they stand together (in title or text); `None` when it has
    /// no letter, digit or Han character.
    fn substring(&self, text: &str) -> Option<Box<dyn Query>> {
        let terms: Vec<Term> = text
            .chars()
            .filter_map(fold)
            .map(|c| Term::from_field_text(self.fields.chars, c.encode_utf8(&mut [0; 4])))
            .collect();
        match terms.len() {
            0 => None,
            1 => Some(Box::new(TermQuery::new(
                terms.into_iter().next()?,
                IndexRecordOption::WithFreqs,
            ))),
            _ => Some(Box::new(PhraseQuery::new(terms))),
        }
    }

    /// A query word: its jieba words must each appear (as substrings); the token as a whole and
    /// a title holding the words rank higher. A phrase must appear as written. Also returns the
    /// strings to mark in passages.
    fn term_query(&self, t: &query::Term) -> Option<(Box<dyn Query>, Vec<String>)> {
        let whole = self.substring(&t.text)?;
        let compact: String = t.text.chars().filter(|c| fold(*c).is_some()).collect();
        if t.phrase {
            return Some((whole, vec![compact]));
        }
        let words: Vec<String> = self
            .seg
            .words(&t.text)
            .into_iter()
            .map(str::to_lowercase)
            .collect();
        if words.len() <= 1 {
            let w = words.into_iter().next().unwrap_or_else(|| compact.clone());
            let mut parts: Vec<Clause> = vec![(Occur::Must, whole)];
            self.word_boost(&w, &mut parts);
            return Some((Box::new(BooleanQuery::new(parts)), vec![compact]));
        }
        let mut parts: Vec<Clause> = Vec::new();
        for w in &words {
            if let Some(q) = self.substring(w) {
                parts.push((Occur::Must, q));
                self.word_boost(w, &mut parts);
            }
        }
        parts.push((Occur::Should, Box::new(BoostQuery::new(whole, 2.0))));
        let mut marks = words;
        marks.push(compact);
        Some((Box::new(BooleanQuery::new(parts)), marks))
    }

    /// A whole-word match in the title, optional (it only ranks).
    fn word_boost(&self, w: &str, parts: &mut Vec<Clause>) {
        parts.push((
            Occur::Should,
            Box::new(TermQuery::new(
                Term::from_field_text(self.fields.title, w),
                IndexRecordOption::WithFreqs,
            )),
        ));
    }

    /// All of `text`'s words must appear, each in `field` (search-mode tokens).
    fn words_in(&self, field: Field, text: &str, out: &mut Vec<Clause>) {
        for w in self.seg.words(text) {
            let term = Term::from_field_text(field, &w.to_lowercase());
            out.push((
                Occur::Must,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            ));
        }
    }

    fn exact(&self, field: Field, value: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, value.trim()),
            IndexRecordOption::Basic,
        ))
    }

    /// The clause of one field filter, or why the value cannot be used.
    fn filter(&self, field: FieldName, value: &str) -> std::result::Result<Clause, String> {
        let f = &self.fields;
        let v = value.trim();
        let must = |q: Box<dyn Query>| Ok((Occur::Must, q));
        match field {
            FieldName::Author | FieldName::Unit | FieldName::Place => {
                let field = match field {
                    FieldName::Author => f.author,
                    FieldName::Unit => f.unit,
                    _ => f.place,
                };
                let mut parts = Vec::new();
                self.words_in(field, v, &mut parts);
                if parts.is_empty() {
                    return Err(format!("“{v}”里没有可检索的字"));
                }
                must(Box::new(BooleanQuery::new(parts)))
            }
            FieldName::Theme => must(Box::new(BooleanQuery::new(vec![
                (Occur::Should, self.exact(f.theme, v)),
                (Occur::Should, self.exact(f.theme_group, v)),
            ]))),
            FieldName::Voice => match v {
                "群众" | "people" => must(self.exact(f.voice, "群众")),
                "干部" | "cadre" => must(self.exact(f.voice, "干部")),
                other => Err(format!("来源只能是“群众”或“干部”，不是“{other}”")),
            },
            FieldName::Issue | FieldName::Topic => {
                let up = v.to_ascii_uppercase();
                let (prefix, field, what, key) = match field {
                    FieldName::Issue => ('I', f.issue, "问题编号", self.keys.issue(&up)),
                    _ => ('T', f.topic, "专题编号", self.keys.topic(&up)),
                };
                if up.starts_with(prefix)
                    && up.len() > 1
                    && up[1..].chars().all(|c| c.is_ascii_digit())
                {
                    must(self.exact(field, key))
                } else {
                    Err(format!("{what}应像 {prefix}0001 这样，不是“{v}”"))
                }
            }
            FieldName::Kind => match Kind::from_label(v) {
                Some(k) => must(self.exact(f.kind, k.label())),
                None => Err(format!(
                    "材料类型“{v}”不认识（可用：{}）",
                    Kind::ALL.map(|k| k.label()).join("、")
                )),
            },
            FieldName::Level => match Level::from_label(v) {
                Some(l) => must(self.exact(f.level, l.label())),
                None => Err(format!(
                    "干部级别“{v}”不认识（可用：县级领导、县直部门领导、乡镇领导、其他）"
                )),
            },
            FieldName::Verdict => {
                let label = match v {
                    "通过" | "pass" => "通过",
                    "复核" | "review" => "复核",
                    "退回" | "退回重写" | "redo" => "退回重写",
                    other => {
                        return Err(format!("结论只能是“通过”“复核”或“退回重写”，不是“{other}”"));
                    }
                };
                must(self.exact(f.verdict, label))
            }
        }
    }

    /// Runs a search.
    pub fn search(&self, q: &Search) -> Result<Found> {
        let f = &self.fields;
        let parsed = parse(&q.words);
        let mut notes = parsed.notes.clone();
        let mut parts: Vec<Clause> = Vec::new();
        let mut marks: Vec<String> = Vec::new();
        let mut plain: Vec<query::Term> = Vec::new();
        // Filters given as options are errors when wrong; in the query they are plain words.
        let options = [
            (FieldName::Author, &q.author),
            (FieldName::Unit, &q.unit),
            (FieldName::Place, &q.place),
            (FieldName::Theme, &q.theme),
            (FieldName::Voice, &q.voice),
            (FieldName::Issue, &q.issue),
            (FieldName::Topic, &q.topic),
            (FieldName::Kind, &q.kind),
            (FieldName::Verdict, &q.verdict),
            (FieldName::Level, &q.level),
        ];
        for (field, value) in options {
            if !value.trim().is_empty() {
                parts.push(self.filter(field, value).map_err(Error::Query)?);
            }
        }
        for (field, value) in &parsed.fields {
            match self.filter(*field, value) {
                Ok(c) => parts.push(c),
                Err(why) => {
                    notes.push(format!("{why}，已按普通词语检索"));
                    plain.push(query::Term {
                        text: value.clone(),
                        phrase: false,
                    });
                }
            }
        }
        let groups = parsed
            .all
            .iter()
            .cloned()
            .chain(plain.into_iter().map(|t| vec![t]));
        for group in groups {
            let mut any: Vec<Clause> = Vec::new();
            for t in &group {
                match self.term_query(t) {
                    Some((query, m)) => {
                        any.push((Occur::Should, query));
                        marks.extend(m);
                    }
                    None => notes.push(format!("“{}”里没有可检索的字，已忽略", t.text)),
                }
            }
            match any.len() {
                0 => {}
                1 => parts.extend(any.pop().map(|c| (Occur::Must, c.1))),
                _ => parts.push((Occur::Must, Box::new(BooleanQuery::new(any)))),
            }
        }
        let mut negated = 0;
        for t in &parsed.not {
            if let Some(q) = self.substring(&t.text) {
                parts.push((Occur::MustNot, q));
                negated += 1;
            }
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
        let positive = parts.iter().filter(|c| c.0 != Occur::MustNot).count();
        if positive == 0 && negated == 0 {
            return Err(Error::Query("请给出关键词或至少一个筛选条件".into()));
        }
        match q.scope {
            Scope::Suggestions => parts.push((Occur::Must, self.exact(f.doc_type, "suggestion"))),
            Scope::Submissions => parts.push((Occur::Must, self.exact(f.doc_type, "submission"))),
            Scope::All => parts.push((Occur::Must, Box::new(AllQuery))),
        }
        let query = BooleanQuery::new(parts);
        let facet_fields = q
            .count_by
            .iter()
            .map(|name| Facet::field_of(name))
            .collect::<std::result::Result<Vec<_>, String>>()
            .map_err(Error::Query)?;
        let searcher = self.reader.searcher();
        let limit = q.limit.max(1);
        let (top, total, mut facets) = searcher
            .search(
                &query,
                &(
                    // Equal scores (all of them when only filters are given) come newest
                    // first, then in a fixed order of the entries' ids ([`order_of`]): never
                    // in the order the index happens to hold them, which changes with indexing
                    // threads and with updates in place.
                    TopDocs::with_limit(limit).tweak_score(|sr: &tantivy::SegmentReader| {
                        let fast = sr.fast_fields();
                        let day = fast.u64("day").ok().map(|c| c.first_or_default_col(0));
                        let order = fast.u64("order").ok().map(|c| c.first_or_default_col(0));
                        move |doc: tantivy::DocId, score: tantivy::Score| {
                            let at = |c: &Option<
                                std::sync::Arc<dyn tantivy::columnar::ColumnValues<u64>>,
                            >| {
                                c.as_ref().map_or(0, |c| c.get_val(doc))
                            };
                            (score, at(&day), at(&order))
                        }
                    }),
                    Count,
                    facets::Counts::new(facet_fields.clone()),
                ),
            )
            .map_err(|e| Error::Query(e.to_string()))?;
        let text = |d: &TantivyDocument, field: Field| {
            d.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let width = if q.snippet_chars == 0 {
            SNIPPET_CHARS
        } else {
            q.snippet_chars
        };
        let mut hits = Vec::with_capacity(top.len());
        for ((score, _, _), addr) in top.into_iter().take(q.limit) {
            let d: TantivyDocument = searcher
                .doc(addr)
                .map_err(|e| Error::Query(e.to_string()))?;
            let body = text(&d, f.text);
            let doc_type = if text(&d, f.doc_type) == "submission" {
                DocType::Submission
            } else {
                DocType::Suggestion
            };
            let snippet = snippet::snippet(&body, &marks, width);
            hits.push(Hit {
                doc_type,
                score,
                id: text(&d, f.id),
                submission: text(&d, f.submission),
                path: text(&d, f.path),
                author: text(&d, f.author),
                unit: text(&d, f.unit),
                place: text(&d, f.place),
                date: text(&d, f.date),
                kind: text(&d, f.kind),
                level: text(&d, f.level),
                verdict: text(&d, f.verdict),
                voice: text(&d, f.voice),
                theme_group: text(&d, f.theme_group),
                theme: text(&d, f.theme),
                issue: self.ids.issue(&text(&d, f.issue)).to_owned(),
                topic: self.ids.topic(&text(&d, f.topic)).to_owned(),
                title: text(&d, f.title),
                text: if doc_type == DocType::Suggestion {
                    body
                } else {
                    String::new()
                },
                snippet,
            });
        }
        // Counts by issue or topic were made on keys: shown by id, in the same order (most
        // hits first, then by id).
        for (facet, (field, _)) in facets.iter_mut().zip(&facet_fields) {
            let issue = match *field {
                "issue" => true,
                "topic" => false,
                _ => continue,
            };
            for (v, _) in &mut facet.counts {
                *v = if issue {
                    self.ids.issue(v)
                } else {
                    self.ids.topic(v)
                }
                .to_owned();
            }
            facets::order(&mut facet.counts);
        }
        Ok(Found {
            total,
            hits,
            facets,
            notes,
        })
    }
}

#[cfg(test)]
mod tests;
