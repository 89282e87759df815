//! Suggestions → themes → recurring issues.
//!
//! [`Suggester::run`] extracts every opinion, problem and suggestion from the submissions (an
//! opinion row is one suggestion; elsewhere labelled lines, forum speakers, cue sentences and the
//! 存在问题/意见建议 sections, with the people's words told apart from the cadre's prose), gives
//! each a theme from the seeded taxonomy (or a trained [`ThemeModel`]) or 未归类, and groups the
//! suggestions of substantive submissions into recurring [`Issue`]s ranked by an explainable heat
//! index. Suggestions from submissions sent back as hollow or copied are kept and themed but not
//! clustered, so copied text never inflates an issue.
//!
//! Heat (0–100) = 40·L(people, 50) + 20·L(places, 10) + 15·L(units, 10) +
//! 15·concentration·min(1, mentions/3) + 10·L(likes, 100), where L(x, full) = min(1, ln(1 + x) /
//! ln(1 + full)) (each doubling counts about the same) and concentration is the share of dated
//! mentions in the busiest seven days. Every part is written next to the total.
//!
//! ```
//! use diaoyan_model::{Kind, Submission};
//! let s = diaoyan_suggest::SuggestConfig::default().build(diaoyan_text::Segmenter::builtin()).unwrap();
//! let subs: Vec<Submission> = ["石桥村三组机耕路坑洼不平，雨天没法走。", "石桥村三组的机耕路有两处塌方，雨天没法走。"]
//!     .iter()
//!     .enumerate()
//!     .map(|(i, t)| Submission { id: i.to_string().into(), kind: Some(Kind::Opinion), author: format!("村民{i}").into(), text: (*t).into(), ..Default::default() })
//!     .collect();
//! let out = s.run(&subs, None);
//! assert_eq!(out.issues.len(), 1);
//! assert_eq!(out.suggestions[0].theme, "交通运输");
//! ```

mod cluster;
mod extract;
mod lists;
mod pairs;
mod themes;
mod topics;

pub use cluster::ClusterConfig;
pub use diaoyan_model::{Heat, Issue, Suggestion, Topic, Voice};
pub use themes::{
    BUILTIN_THEMES, LabelScore, SeedList, Taxonomy, Theme, ThemeModel, UNCLASSIFIED,
    cross_validate, cross_validate_labels, label_scores, macro_f1, mean_f1,
};
pub use topics::TopicConfig;

use diaoyan_model::{
    Excerpt, KeptText, Kind, Shared, ShortId, Source, Submission, Texts, Verdict, text_offset,
};
use diaoyan_text::{Places, Segmenter, Tagged};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
/// The maps of this crate's run-wide steps (clustering, issues, topics): FxHash, a fast fixed
/// hash for their integer and word keys, not SipHash.
pub(crate) type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;
use std::path::PathBuf;
use std::sync::Arc;

/// Errors building a suggester.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The taxonomy file is not valid.
    #[error("主题表有误：{0}")]
    Themes(String),
    /// The model file is not valid.
    #[error("主题模型有误：{0}")]
    Model(String),
    /// A file could not be read.
    #[error("无法读取 {path}：{reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The suggest crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// The `[suggest]` table of a pipeline file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SuggestConfig {
    /// Taxonomy file (default: the built-in `corpora/lexicon/themes.toml`).
    pub themes: Option<PathBuf>,
    /// A model from `diaoyan train-themes`; when set, themes come from it (default: none).
    pub model: Option<PathBuf>,
    /// Fewest Han characters in a suggestion (default 6).
    pub min_chars: usize,
    /// Verdicts whose submissions' suggestions are not clustered (default: redo).
    pub exclude_verdicts: Vec<Verdict>,
    /// Fewest mentions for an issue to be listed (default 2; one-offs stay in suggestions.csv).
    pub min_mentions: usize,
    /// Clustering.
    pub cluster: ClusterConfig,
    /// Topics above issues.
    pub topics: TopicConfig,
}

impl Default for SuggestConfig {
    fn default() -> Self {
        Self {
            themes: None,
            model: None,
            min_chars: 6,
            exclude_verdicts: vec![Verdict::Redo],
            min_mentions: 2,
            cluster: ClusterConfig::default(),
            topics: TopicConfig::default(),
        }
    }
}

/// Progress events from [`Suggester::run_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// One more submission read for suggestions.
    Read,
    /// Clustering starts over this many suggestions.
    Clustering(usize),
    /// A step of the run-wide work starts: its name as the reviewer sees it (four Chinese
    /// characters) and how many units it has.
    Step(&'static str, usize),
    /// This many more units of the current step are done.
    Done(usize),
}

/// What scoring judged of one submission that decides whether its suggestions are clustered.
#[derive(Debug, Clone, Copy)]
pub struct Judged<'a> {
    /// The submission's verdict ([`SuggestConfig::exclude_verdicts`] are left out).
    pub verdict: Verdict,
    /// Byte ranges of its sentences that state nothing about the place (套话, feelings), in
    /// order: a suggestion standing wholly in them is left out
    /// ([`Suggestion::empty`]). Not read for a table row, which is someone's opinion as a whole.
    pub empty: &'a [(u32, u32)],
}

impl Judged<'_> {
    /// A verdict alone, with no sentence read as empty.
    pub fn verdict(verdict: Verdict) -> Judged<'static> {
        Judged {
            verdict,
            empty: &[],
        }
    }
}

/// Whether `text[from..to]` stands wholly in `spans` (sorted, not overlapping): no letter or
/// digit of it lies outside them, and it meets at least one.
fn within(text: &str, from: usize, to: usize, spans: &[(u32, u32)]) -> bool {
    let has_letters = |a: usize, b: usize| {
        a < b
            && text
                .get(a..b)
                .is_none_or(|t| t.chars().any(diaoyan_text::is_text_char))
    };
    let first = spans.partition_point(|&(_, end)| (end as usize) <= from);
    let mut at = from;
    let mut met = false;
    for &(a, b) in spans[first..]
        .iter()
        .take_while(|&&(a, _)| (a as usize) < to)
    {
        if has_letters(at, a as usize) {
            return false;
        }
        met = true;
        at = at.max(b as usize);
    }
    met && !has_letters(at, to)
}

/// A suggestion's names kept one copy each in a run ([`Suggester::run_found_from`]): its theme
/// group, theme and places.
fn names_of(sug: &mut Suggestion) -> impl Iterator<Item = &mut Shared> {
    [&mut sug.theme_group, &mut sug.theme]
        .into_iter()
        .chain(sug.places.iter_mut())
}

/// Submissions whose suggestions are built together on every worker (see
/// [`Suggester::run_found`]).
const BUILD_BLOCK: usize = 4096;

/// Members an issue's tally counts on one worker (see [`Suggester::issue_of`]).
const TALLY_CHUNK: usize = 1 << 14;

/// What an issue's heat counts of its members: each distinct non-empty value with its count,
/// borrowed from the members (no string per member). Hash maps: what is read of them — sizes,
/// the largest count, lists sorted by count and name — does not depend on their order. People
/// and submissions, of which only how many there are is read, are [`Distinct`] lists instead.
#[derive(Default)]
struct Tally<'s> {
    /// A person: the citizen of an opinion row; each household or speaker quoted in a cadre's
    /// record (the people's voice); the cadre for the cadre's own prose.
    people: Distinct<'s>,
    places: HashMap<&'s str, usize>,
    units: HashMap<&'s str, usize>,
    themes: HashMap<&'s str, usize>,
    submissions: Distinct<'s>,
    /// Dates as written.
    dates: HashMap<&'s str, usize>,
    likes: u32,
}

impl<'s> Tally<'s> {
    fn add(&mut self, s: &'s Suggestion) {
        let count = |m: &mut HashMap<&'s str, usize>, k: &'s str| {
            if !k.is_empty() {
                *m.entry(k).or_default() += 1;
            }
        };
        let person: &str = match (s.voice, s.source.path.contains('#')) {
            (Voice::People, false) => &s.id,
            _ if s.source.author.is_empty() => &s.source.submission,
            _ => &s.source.author,
        };
        self.people.add(person);
        for p in s.place_names() {
            *self.places.entry(p).or_default() += 1;
        }
        count(&mut self.units, &s.source.unit);
        count(
            &mut self.themes,
            if s.theme == UNCLASSIFIED {
                ""
            } else {
                &s.theme
            },
        );
        self.submissions.add(&s.source.submission);
        if !s.source.date.is_empty() {
            *self.dates.entry(&s.source.date).or_default() += 1;
        }
        self.likes += s.source.likes;
    }

    /// Both tallies added up.
    fn merge(self, other: Tally<'s>) -> Tally<'s> {
        let add = |a, b| merge_maps(a, b, |x: &mut usize, y| *x += y);
        Tally {
            people: self.people.merge(other.people),
            places: add(self.places, other.places),
            units: add(self.units, other.units),
            themes: add(self.themes, other.themes),
            submissions: self.submissions.merge(other.submissions),
            dates: add(self.dates, other.dates),
            likes: self.likes + other.likes,
        }
    }
}

/// Distinct non-empty strings, counted without a hash table: each value with a hash of it, in a
/// list that [`Distinct::len`] sorts and rids of repeats. An issue or topic can hold hundreds
/// of thousands of members, nearly every one a person and a submission of its own: counted in
/// hash maps, the maps outgrew the caches and were grown and merged again and again (1M
/// documents, 1% changed: 5.4% of a re-run's CPU samples went to the tally).
/// Sorted by (hash, string), equal strings lie side by side and two strings of one hash stay
/// apart, so the count is exact.
#[derive(Default)]
struct Distinct<'s>(Vec<(u64, &'s str)>);

impl<'s> Distinct<'s> {
    fn add(&mut self, value: &'s str) {
        if !value.is_empty() {
            self.0
                .push((xxhash_rust::xxh3::xxh3_64(value.as_bytes()), value));
        }
    }

    /// Both lists as one (the larger takes the smaller's values).
    fn merge(self, other: Distinct<'s>) -> Distinct<'s> {
        let (mut a, b) = if self.0.len() < other.0.len() {
            (other, self)
        } else {
            (self, other)
        };
        a.0.extend(b.0);
        a
    }

    /// How many distinct values were added.
    fn len(mut self) -> usize {
        self.0.par_sort_unstable();
        self.0.dedup();
        self.0.len()
    }
}

/// Two maps of per-worker counts as one: the larger takes the smaller's entries, each joined
/// with `add` (for counts and flags, so the same whichever map is larger).
pub(crate) fn merge_maps<K: std::hash::Hash + Eq, V: Default>(
    a: HashMap<K, V>,
    b: HashMap<K, V>,
    add: impl Fn(&mut V, V),
) -> HashMap<K, V> {
    let (mut a, b) = if a.len() < b.len() { (b, a) } else { (a, b) };
    for (k, v) in b {
        add(a.entry(k).or_default(), v);
    }
    a
}

/// One submission's suggestions, each with its clustering words, and its subject line's words.
struct Built {
    suggestions: Vec<(Suggestion, Box<[ClusterWord]>)>,
    subject_words: Box<[ClusterWord]>,
}

/// Starts a step of `units` units, unless there is nothing to do (a bar never shows `0/0`).
pub(crate) fn step(tick: &(dyn Fn(Tick) + Sync), name: &'static str, units: usize) {
    if units > 0 {
        tick(Tick::Step(name, units));
    }
}

/// What the suggest stage reads in one submission on its own ([`Suggester::find`]): its
/// suggestions with their themes and clustering words. Plain data, so a run can keep it per
/// submission and skip submissions it has already read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Found {
    /// The submission's suggestions, in order.
    pub pieces: Vec<FoundPiece>,
    /// Clustering words of the subject line (a table row's title).
    pub subject_words: Box<[ClusterWord]>,
    /// Places the subject line names.
    pub subject_places: Vec<String>,
}

/// One suggestion as [`Suggester::find`] read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoundPiece {
    /// Byte range in the submission's text.
    pub start: u32,
    /// End of the byte range.
    pub end: u32,
    /// Whose words.
    pub voice: Voice,
    /// Where the suggestion's text starts (its numbering cut off): the text is
    /// `submission.text[from..end]`, taken from the submission rather than copied here (at 1M
    /// documents the copies of 5.6 M suggestions were ~0.7 GB held from the reading pass on).
    pub from: u32,
    /// Theme group.
    pub theme_group: Shared,
    /// Theme.
    pub theme: Shared,
    /// Its clustering words.
    pub words: Box<[ClusterWord]>,
    /// Places it names.
    pub places: Vec<String>,
}

/// A clustering word in 8 bytes: its byte range in its text, whether it names a place and
/// whether it is a noun (the flags in the top bits of the end). At a million documents the
/// 57 M words of every suggestion are held from the reading pass to clustering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterWord {
    start: u32,
    end: u32,
}

impl ClusterWord {
    const PLACE: u32 = 1 << 31;
    const NOUN: u32 = 1 << 30;
    /// The furthest a word's end can be into its text (1 GiB; input files are at most 256 MiB
    /// unless configured otherwise).
    const END: u32 = Self::NOUN - 1;

    /// The word at `start..end` of its text; `None` when it ends further in than [`Self::END`].
    pub fn new(start: usize, end: usize, place: bool, noun: bool) -> Option<ClusterWord> {
        let end = u32::try_from(end).ok().filter(|&e| e <= Self::END)?;
        let flag = |on: bool, bit: u32| if on { bit } else { 0 };
        Some(ClusterWord {
            start: start as u32,
            end: end | flag(place, Self::PLACE) | flag(noun, Self::NOUN),
        })
    }

    /// The word as one number (its range and flags).
    fn bits(self) -> u64 {
        u64::from(self.start) << 32 | u64::from(self.end)
    }

    /// Its byte range in its text.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.end & Self::END) as usize
    }

    /// Whether it names a place.
    pub fn place(self) -> bool {
        self.end & Self::PLACE != 0
    }

    /// Whether it is a noun.
    pub fn noun(self) -> bool {
        self.end & Self::NOUN != 0
    }
}

/// The subject line of a submission: a table row's title (留言主题); empty for a document.
fn subject_of(s: &Submission) -> &str {
    if s.ref_.is_empty() {
        ""
    } else {
        s.title.trim()
    }
}

/// Tokens (slices of `text`) as byte ranges of `text` (those too far in to be kept left out,
/// [`ClusterWord::new`]).
fn spans_of(text: &str, tokens: &[cluster::Token]) -> Box<[ClusterWord]> {
    let base = text.as_ptr() as usize;
    tokens
        .iter()
        .filter_map(|(w, place, noun)| {
            let start = w.as_ptr() as usize - base;
            ClusterWord::new(start, start + w.len(), *place, *noun)
        })
        .collect()
}

/// Byte ranges back into tokens of `text` (ranges that do not fit are left out).
fn tokens_of<'a>(text: &'a str, words: &[ClusterWord]) -> Vec<cluster::Token<'a>> {
    words
        .iter()
        .filter_map(|&w| text.get(w.range()).map(|t| (t, w.place(), w.noun())))
        .collect()
}

/// For each of `keys`, which distinct key it is (numbered from 0 in order of first
/// appearance), and where each distinct key first stands.
fn first_of_each(keys: &[u128]) -> (Vec<u32>, Vec<u32>) {
    let mut number: HashMap<u128, u32> = HashMap::default();
    let mut firsts: Vec<u32> = Vec::new();
    let class = keys
        .iter()
        .enumerate()
        .map(|(k, &x)| {
            *number.entry(x).or_insert_with(|| {
                firsts.push(k as u32);
                (firsts.len() - 1) as u32
            })
        })
        .collect();
    (class, firsts)
}

/// A built suggester: taxonomy parsed, model loaded, segmenter shared.
pub struct Suggester {
    cfg: SuggestConfig,
    seg: Segmenter,
    taxonomy: Taxonomy,
    model: Option<ThemeModel>,
    places: Places,
    /// Each theme's (group, name), aligned with the taxonomy's themes: one copy each, shared
    /// by every suggestion given that theme.
    names: Vec<(Shared, Shared)>,
    /// 未归类.
    unclassified: Shared,
}

/// What the suggest stage produced.
#[derive(Debug, Clone, Default)]
pub struct SuggestOutput {
    /// Every suggestion, in submission order.
    pub suggestions: Vec<Suggestion>,
    /// Recurring issues, hottest first.
    pub issues: Vec<Issue>,
    /// Topics above the issues, hottest first.
    pub topics: Vec<Topic>,
}

impl SuggestConfig {
    /// The taxonomy this configuration names (the built-in one by default).
    pub fn taxonomy(&self) -> Result<Taxonomy> {
        match &self.themes {
            Some(p) => Taxonomy::parse(&read_text(p)?),
            None => Taxonomy::parse(BUILTIN_THEMES),
        }
    }

    /// Loads the taxonomy (and model) and returns a suggester.
    pub fn build(&self, seg: Segmenter) -> Result<Suggester> {
        let read = read_text;
        let taxonomy = self.taxonomy()?;
        let model = match &self.model {
            Some(p) => Some(ThemeModel::from_json(&read(p)?)?),
            None => None,
        };
        let names = taxonomy
            .themes()
            .iter()
            .map(|t| (Shared::from(&t.group), Shared::from(&t.name)))
            .collect();
        Ok(Suggester {
            cfg: self.clone(),
            seg,
            taxonomy,
            model,
            places: Places::builtin(),
            names,
            unclassified: Shared::from(UNCLASSIFIED),
        })
    }
}

fn read_text(p: &PathBuf) -> Result<String> {
    std::fs::read_to_string(p).map_err(|e| Error::Read {
        path: p.display().to_string(),
        reason: e.to_string(),
    })
}

/// `members` (positions in the space), most central first.
fn central_first(space: &cluster::Space, members: &[usize]) -> Vec<usize> {
    let centroid = cluster::centroid(space, members);
    let dot: Box<dyn Fn(usize) -> f64 + Sync> = if cluster::large(space, members) {
        // A large group: its centroid as a slot per word (a lookup costs an index, not a hash).
        let flat = cluster::Flat::of(&centroid, space.vocab.len());
        Box::new(move |k| flat.dot(&space.vectors[k]))
    } else {
        let dense = cluster::Dense::of(&centroid);
        Box::new(move |k| dense.dot(&space.vectors[k]))
    };
    let mut by_centrality: Vec<(usize, f64)> = members.par_iter().map(|&k| (k, dot(k))).collect();
    // A total order (ties by position): any sort gives this one.
    by_centrality.par_sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    by_centrality.into_iter().map(|(k, _)| k).collect()
}

/// Up to three distinct texts of `central` (positions in the space: `active[k]` is the
/// suggestion, `text_hash[k]` a hash of its text), most central first. Texts are told apart by
/// their hashes: a large issue can hold thousands of members with the same words, most
/// central together, and each would otherwise be read back to be compared.
fn examples_of(
    all: &[Suggestion],
    active: &[usize],
    text_hash: &[u64],
    central: &[usize],
) -> Vec<String> {
    let mut examples: Vec<String> = Vec::new();
    let mut seen: Vec<u64> = Vec::new();
    for &k in central {
        if examples.len() == 3 {
            break;
        }
        if !seen.contains(&text_hash[k]) {
            seen.push(text_hash[k]);
            examples.push(all[active[k]].read().into_owned());
        }
    }
    examples
}

/// A title as a person would write it: the subject line of the most central member that names
/// one of the key words (伊景园滨河苑捆绑销售车位), else the first clause of the most central
/// suggestion, shortened.
fn title_of(all: &[Suggestion], active: &[usize], central: &[usize], key_words: &[&str]) -> String {
    let names_key = |t: &str| key_words.is_empty() || key_words.iter().any(|k| t.contains(k));
    let central = || central.iter().map(|&k| &all[active[k]]);
    if let Some(s) = central()
        .find(|s| !s.source.subject.is_empty() && names_key(&s.source.subject))
        .or_else(|| central().find(|s| !s.source.subject.is_empty()))
    {
        return tidy_title(&s.source.subject);
    }
    central()
        .next()
        .map(|s| tidy_title(&s.read()))
        .unwrap_or_default()
}

/// The title of a topic whose members raise different cases of one subject: its key words and
/// what its members say most about them (小区相关问题（物业、停车、业主等）).
fn subject_title(key_words: &[&str], about: &[&str]) -> String {
    let subject = key_words
        .iter()
        .take(3)
        .copied()
        .collect::<Vec<_>>()
        .join("、");
    // 遗留问题 → 遗留问题, not 遗留问题相关问题.
    let subject = if subject.ends_with("问题") {
        subject
    } else {
        subject + "相关问题"
    };
    if about.is_empty() {
        subject
    } else {
        format!("{subject}（{}等）", about.join("、"))
    }
}

/// Suggestions a key word the dictionary does not know is looked up in ([`shown_key`]).
const SHOWN_KEY_READS: usize = 200;

/// A key word the dictionary does not know, as the members write it: the segmenter cuts an
/// unknown name into pieces (房产证 → 房/产证, 人社局 → 人/社局), and a piece alone titles
/// nothing. The word grows by the character before (or after) it while one character stands
/// there in at least two thirds of its occurrences in the members' subject lines and texts
/// (`texts`: of the first [`SHOWN_KEY_READS`] members, most central first), up to twice its
/// length.
fn shown_key(word: &str, texts: &[String]) -> String {
    let mut shown = word.to_owned();
    let most = word.chars().count() * 2;
    // The character most often found before (`before`) or after the word, when it is there in
    // at least two thirds of the occurrences.
    let beside = |w: &str, before: bool| -> Option<char> {
        let mut count: BTreeMap<char, usize> = BTreeMap::new();
        let mut seen = 0;
        for t in texts {
            for (i, _) in t.match_indices(w) {
                seen += 1;
                let c = if before {
                    t[..i].chars().next_back()
                } else {
                    t[i + w.len()..].chars().next()
                };
                if let Some(c) = c.filter(|c| c.is_alphanumeric()) {
                    *count.entry(c).or_default() += 1;
                }
            }
        }
        let (&c, &n) = count
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))?;
        (n * 3 >= seen * 2).then_some(c)
    };
    while shown.chars().count() < most {
        if let Some(c) = beside(&shown, true) {
            shown.insert(0, c);
        } else if let Some(c) = beside(&shown, false) {
            shown.push(c);
        } else {
            break;
        }
    }
    shown
}

/// A subject line or a suggestion cut to a title: the label (张三提出：) and wrapping words
/// (关于…的问题) dropped, the first clause kept, at most 30 characters.
fn tidy_title(text: &str) -> String {
    let t = text.trim();
    let t = match t
        .char_indices()
        .take(12)
        .find(|(_, c)| matches!(c, '：' | ':'))
    {
        Some((i, c)) if t.len() > i + c.len_utf8() => &t[i + c.len_utf8()..],
        _ => t,
    };
    // Quotes, brackets and list marks (- 张大爷…, • 水渠…) before the words.
    let t = t.trim_start_matches(['“', '"', '【', '[', ' ', '-', '•', '·', '*', '　']);
    let t = t.strip_prefix("关于").unwrap_or(t);
    let end = t
        .find(['。', '！', '？', '；', '!', '?', ';', '\n'])
        .unwrap_or(t.len());
    let mut t = t[..end].trim();
    // A long first sentence: up to its first comma after a few characters.
    if t.chars().count() > 30
        && let Some((i, _)) = t
            .char_indices()
            .skip(8)
            .find(|(_, c)| matches!(c, '，' | ','))
    {
        t = &t[..i];
    }
    for suffix in ["的问题", "的建议", "的咨询", "的投诉", "的反映", "问题"] {
        if let Some(r) = t.strip_suffix(suffix)
            && r.chars().count() >= 4
        {
            t = r;
            break;
        }
    }
    let t = t.trim_end_matches(['”', '"', '】', ']', ' ', '，', ',']);
    if t.chars().count() > 30 {
        let cut: String = t.chars().take(29).collect();
        format!("{cut}…")
    } else {
        t.to_owned()
    }
}

/// ln(1 + x) / ln(1 + full), capped at 1: each doubling counts about the same.
fn log_share(x: f64, full: f64) -> f64 {
    ((1.0 + x).ln() / (1.0 + full).ln()).min(1.0)
}

impl Suggester {
    /// Uses `places` to find the places a suggestion names (the pipeline passes the scorer's, so
    /// a campaign's own role lexicon counts for both; default: the built-in lexicon's).
    pub fn with_places(mut self, places: Places) -> Self {
        self.places = places;
        self
    }

    /// The taxonomy in use.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// The theme group and theme of a text (未归类 when nothing fits).
    pub fn theme_of(&self, text: &str, title: &str) -> (Shared, Shared) {
        if let Some(m) = &self.model {
            let joined = format!("{title}\n{text}");
            let (label, _) = m.predict(&self.seg, &joined);
            return match self.names.iter().find(|(_, name)| *name == label) {
                Some(pair) => pair.clone(),
                None => (Shared::default(), Shared::from(label)),
            };
        }
        match self.taxonomy.classify(text, title, None) {
            Some(i) => self.names[i].clone(),
            None => (Shared::default(), self.unclassified.clone()),
        }
    }

    /// Extracts, themes and clusters. `verdicts[i]`, when given, is the verdict on `subs[i]`.
    pub fn run(&self, subs: &[Submission], verdicts: Option<&[Verdict]>) -> SuggestOutput {
        self.run_with(subs, verdicts, &|_| {})
    }

    /// [`Suggester::run`], reporting progress to `tick` (called from worker threads): one
    /// [`Tick::Read`] per submission, then [`Tick::Clustering`] with the number of suggestions
    /// to cluster and [`Tick::Done`] as their words are read, then each run-wide step
    /// ([`Tick::Step`]) with its units done ([`Tick::Done`]).
    pub fn run_with(
        &self,
        subs: &[Submission],
        verdicts: Option<&[Verdict]>,
        tick: &(dyn Fn(Tick) + Sync),
    ) -> SuggestOutput {
        let found: Vec<Found> = subs
            .par_iter()
            .map(|s| {
                let f = self.find(s);
                tick(Tick::Read);
                f
            })
            .collect();
        let judged: Option<Vec<Judged>> =
            verdicts.map(|v| v.iter().map(|&v| Judged::verdict(v)).collect());
        self.run_found(subs, found, judged.as_deref(), tick)
    }

    /// What this suggester reads in one submission on its own ([`Found`]): the per-submission
    /// half of [`Suggester::run_with`], a function of the submission's text, kind and title
    /// (and whether it is a table row) and of this suggester's configuration only.
    pub fn find(&self, s: &Submission) -> Found {
        self.find_with(s, None)
    }

    /// [`Suggester::find`] of a submission whose text is already tagged
    /// ([`Segmenter::tag_text`]): each suggestion's words are taken from it.
    pub fn find_tagged(&self, s: &Submission, tagged: &Tagged<'_>) -> Found {
        let same =
            tagged.text() == s.text && tagged.segmenter().fingerprint() == self.seg.fingerprint();
        self.find_with(s, Some(tagged).filter(|_| same))
    }

    fn find_with(&self, s: &Submission, tagged: Option<&Tagged<'_>>) -> Found {
        let subject = subject_of(s);
        let (subject_words, subject_places) = if subject.is_empty() {
            (Box::default(), Vec::new())
        } else {
            let (t, p) = cluster::tokens_and_places(&self.seg, Some(&self.places), subject);
            (spans_of(subject, &t), p)
        };
        let pieces = extract::extract(s, self.cfg.min_chars)
            .into_iter()
            .map(|p| {
                let (theme_group, theme) = self.theme_of(&p.text, &s.title);
                let text = cluster::strip_label(&p.text);
                // The piece is the end of its span (its numbering and label cut off).
                let at = p.end.checked_sub(text.len());
                let words = match (tagged, at) {
                    (Some(t), Some(a)) if s.text.get(a..p.end) == Some(text) => t.words(a, p.end),
                    _ => self.seg.tag(text),
                };
                let (t, places) =
                    cluster::tokens_of_words(&self.seg, Some(&self.places), text, words);
                let from = p.end - p.text.len();
                debug_assert_eq!(s.text.get(from..p.end), Some(p.text.as_str()));
                FoundPiece {
                    words: spans_of(&p.text, &t),
                    places,
                    start: text_offset(p.start),
                    end: text_offset(p.end),
                    voice: p.voice,
                    from: text_offset(from),
                    theme_group,
                    theme,
                }
            })
            .collect();
        Found {
            pieces,
            subject_words,
            subject_places,
        }
    }

    /// One submission's suggestions from what was found in it; `judged` what scoring judged of
    /// it.
    /// `kept` is where the submission's text is when a large run keeps it out of memory, and
    /// its position there ([`Suggester::run_found_kept`]): each suggestion then holds the range
    /// of its words, read there when needed ([`Suggestion::read`]).
    fn build(
        &self,
        s: &Submission,
        kept: Option<(&Arc<dyn Texts>, usize)>,
        f: Found,
        judged: Option<&Judged>,
    ) -> Built {
        let excluded = judged
            .map(|j| &j.verdict)
            .filter(|v| self.cfg.exclude_verdicts.contains(v))
            .map(|v| format!("材料结论为“{}”，不计入问题清单", v.label()).into());
        // What every suggestion of this submission repeats: one record, shared. A table row's
        // title is its own subject line (留言主题); a document's title is the document's, not
        // each suggestion's.
        let source = std::sync::Arc::new(Source {
            subject: subject_of(s).into(),
            excluded,
            kept: kept.map_or_else(KeptText::default, |(t, i)| KeptText::new(t.clone(), i)),
            ..Source::of(s)
        });
        let empty: &[(u32, u32)] = match judged {
            Some(j) if s.kind != Some(Kind::Opinion) => j.empty,
            _ => &[],
        };
        // A text kept out of memory is read back only to see whether a suggestion stands wholly
        // in sentences judged empty.
        let back = kept
            .filter(|_| !empty.is_empty() && !f.pieces.is_empty())
            .map(|(t, i)| t.text(i));
        let text = back.as_deref().unwrap_or(&s.text);
        let suggestions = f
            .pieces
            .into_iter()
            .map(|p| {
                let id = ShortId::hex(xxhash_rust::xxh3::xxh3_64(
                    format!("{}\0{}\0{}", s.id, p.start, p.end).as_bytes(),
                ));
                // The places the subject line names come first.
                let mut named = p.places;
                for place in f.subject_places.iter().rev() {
                    if !named.contains(place) {
                        named.insert(0, place.clone());
                    }
                }
                let named: Vec<Shared> = named.into_iter().map(Shared::from).collect();
                let (from, end) = (p.from as usize, p.end as usize);
                let sug = Suggestion {
                    id,
                    source: source.clone(),
                    places: named,
                    voice: p.voice,
                    empty: within(text, from, end, empty),
                    text: match kept {
                        Some(_) => Excerpt::outside(from, end),
                        None => Excerpt::of(&s.text, from, end),
                    },
                    start: p.start,
                    end: p.end,
                    theme_group: p.theme_group,
                    theme: p.theme,
                    issue: None,
                    topic: None,
                };
                (sug, p.words)
            })
            .collect();
        Built {
            suggestions,
            subject_words: f.subject_words,
        }
    }

    /// [`Suggester::run_with`] from what [`Suggester::find`] read in each submission (aligned
    /// with `subs`): clustering, issues, topics. `judged[i]`, when given, is what scoring
    /// judged of `subs[i]`.
    pub fn run_found(
        &self,
        subs: &[Submission],
        found: Vec<Found>,
        judged: Option<&[Judged]>,
        tick: &(dyn Fn(Tick) + Sync),
    ) -> SuggestOutput {
        self.run_found_kept(subs, None, found, judged, tick)
    }

    /// [`Suggester::run_found`] with the texts read from `texts` (aligned with `subs`) when a
    /// large run keeps them out of memory: each suggestion holds only the byte range of its
    /// words and reads them there when they are needed ([`Suggestion::read`]; at 1M documents
    /// copies of the words were 0.75 GB, held from here to the last output).
    pub fn run_found_kept(
        &self,
        subs: &[Submission],
        texts: Option<Arc<dyn Texts>>,
        found: Vec<Found>,
        judged: Option<&[Judged]>,
        tick: &(dyn Fn(Tick) + Sync),
    ) -> SuggestOutput {
        assert_eq!(subs.len(), found.len(), "one finding per submission");
        let total: usize = found.iter().map(|f| f.pieces.len()).sum();
        self.run_found_from(subs, texts, found.into_iter(), total, judged, tick)
    }

    /// [`Suggester::run_found_kept`] with the findings read one at a time from `found` (one
    /// per submission, in order; `total` suggestions in all), where a large run kept them out
    /// of memory while copy detection ran.
    pub fn run_found_from(
        &self,
        subs: &[Submission],
        texts: Option<Arc<dyn Texts>>,
        found: impl Iterator<Item = Found>,
        total: usize,
        judged: Option<&[Judged]>,
        tick: &(dyn Fn(Tick) + Sync),
    ) -> SuggestOutput {
        let mut suggestions: Vec<Suggestion> = Vec::with_capacity(total);
        // Per suggestion: its clustering words and its submission's subject words (spans).
        let mut spans: Vec<(Box<[ClusterWord]>, u32)> = Vec::with_capacity(total);
        let mut subject_spans: Vec<Box<[ClusterWord]>> = Vec::with_capacity(subs.len());
        // Theme names are few, place names a few thousand: one copy of each.
        // (Read afresh they share the suggester's copy already; read from the cache they do not.)
        // Each worker takes the copies of the names met in earlier blocks as it builds; only a
        // submission with a name met for the first time is looked at again in order (looked up
        // one after another, the names were a second of a 1M run in which no bar moved).
        let mut names: HashMap<Shared, Shared> = HashMap::default();
        let name = |names: &mut HashMap<Shared, Shared>, n: Shared| -> Shared {
            names.entry(n.clone()).or_insert(n).clone()
        };
        let known = |names: &HashMap<Shared, Shared>, n: &mut Shared| -> bool {
            names.get(n).map(|c| *n = c.clone()).is_some()
        };
        // Built on every worker a block of submissions at a time (ids, excerpts and places per
        // suggestion: seconds at 1M documents on one thread), gathered in order; a block's
        // parts are held twice only while they are moved.
        // Its own bar, a unit a submission: at 1M documents this is four seconds.
        step(tick, "整理意见", subs.len());
        let mut found = found;
        for (block, from) in subs.chunks(BUILD_BLOCK).zip((0..).step_by(BUILD_BLOCK)) {
            let parts: Vec<(Found, usize)> = found.by_ref().take(block.len()).zip(from..).collect();
            assert_eq!(parts.len(), block.len(), "one finding per submission");
            let built: Vec<(Built, bool)> = block
                .par_iter()
                .zip(parts)
                .map(|(s, (f, i))| {
                    let kept = texts.as_ref().map(|t| (t, i));
                    let mut b = self.build(s, kept, f, judged.and_then(|v| v.get(i)));
                    // Stops at the first name not met yet: the ordered pass takes them all.
                    let all_known = b
                        .suggestions
                        .iter_mut()
                        .all(|(sug, _)| names_of(sug).all(|n| known(&names, n)));
                    (b, all_known)
                })
                .collect();
            for (b, all_known) in built {
                for (mut sug, words) in b.suggestions {
                    if !all_known {
                        for n in names_of(&mut sug) {
                            *n = name(&mut names, std::mem::take(n));
                        }
                    }
                    suggestions.push(sug);
                    spans.push((words, subject_spans.len() as u32));
                }
                subject_spans.push(b.subject_words);
            }
            tick(Tick::Done(block.len()));
        }
        // The findings are all taken; their emptied list goes too (1M documents: 84 MB, held
        // through clustering).
        drop(found);

        let active: Vec<usize> = (0..suggestions.len())
            .filter(|&i| suggestions[i].left_out().is_none())
            .collect();
        tick(Tick::Clustering(active.len()));
        // The clustering words, borrowed from the suggestions (and their subject lines): made
        // from the kept byte ranges each time they are read, never all held at once (at 1M
        // documents every suggestion's tokens beside the vectors were the run's peak).
        //
        // Suggestions with the same text and the same words (a form a whole village hands in, a
        // sentence a template puts in every note) have the same tokens: their vector and key
        // words are made once, from the first of them. Each is known by the xxh3-128 of its
        // text and words (as the cache knows texts) and, for an issue's examples, by the hash
        // of its text.
        let (same, text_hash): (Vec<u128>, Vec<u64>) = active
            .par_iter()
            .map(|&i| {
                let text = suggestions[i].read();
                let mut h = xxhash_rust::xxh3::Xxh3::new();
                h.update(&(text.len() as u64).to_le_bytes());
                h.update(text.as_bytes());
                for w in &*spans[i].0 {
                    h.update(&w.bits().to_le_bytes());
                }
                (h.digest128(), xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
            })
            .unzip();
        let (same, firsts) = {
            let keyed = same;
            first_of_each(&keyed)
        };
        let text_words = |r: usize, f: &mut dyn FnMut(&[cluster::Token])| {
            let i = active[firsts[r] as usize];
            let text = suggestions[i].read();
            f(&tokens_of(&text, &spans[i].0))
        };
        let subject_words = |k: usize| {
            let i = active[k];
            tokens_of(
                &suggestions[i].source.subject,
                &subject_spans[spans[i].1 as usize],
            )
        };
        let space = cluster::vectorise_with(
            &same,
            text_words,
            &|n| tick(Tick::Done(n)),
            &self.cfg.cluster,
        );
        let index: HashMap<&str, u32> = space
            .vocab
            .iter()
            .enumerate()
            .map(|(i, w)| (w.as_str(), i as u32))
            .collect();
        let key_terms = |d: &[cluster::Token]| -> Vec<u32> {
            let mut v: Vec<u32> = d
                .iter()
                .filter(|(_, place, noun)| *place || *noun)
                .filter_map(|(w, _, _)| index.get(w).copied())
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        // Each suggestion's key words (found once for the suggestions with the same words).
        let distinct_keys = lists::Lists::build(firsts.len(), |r| {
            let mut out = Vec::new();
            text_words(r, &mut |d| out = key_terms(d));
            out
        });
        let keys = lists::Lists::build(active.len(), |k| distinct_keys[same[k] as usize].to_vec());
        drop(distinct_keys);
        drop(same);
        drop(firsts);
        let subject_keys = lists::Lists::build(active.len(), |k| key_terms(&subject_words(k)));
        drop(index);
        drop(spans);
        drop(subject_spans);
        let labels = cluster::cluster(&space, &self.cfg.cluster, tick);
        // Groups in the order of their labels (a label is its group's first member).
        let groups: Vec<Vec<usize>> = {
            let mut at: Vec<u32> = vec![u32::MAX; labels.len()];
            let mut groups: Vec<Vec<usize>> = Vec::new();
            for (k, &l) in labels.iter().enumerate() {
                if at[l] == u32::MAX {
                    at[l] = groups.len() as u32;
                    groups.push(Vec::new());
                }
                groups[at[l] as usize].push(k);
            }
            groups
                .into_iter()
                .filter(|m| m.len() >= self.cfg.min_mentions.max(1))
                .collect()
        };

        // Class-based TF-IDF for key words: tf(t, issue) · ln(1 + A / f(t)). Counts, so the
        // same in any order: each group's on a worker of its own, the totals over the groups'.
        let per_group: Vec<HashMap<u32, f32>> = groups
            .par_iter()
            .with_max_len(1)
            .map(|members| {
                let mut tf: HashMap<u32, f32> = HashMap::default();
                for &k in members {
                    for &(t, _) in &space.vectors[k] {
                        *tf.entry(t).or_default() += 1.0;
                    }
                }
                tf
            })
            .collect();
        let mut term_total: HashMap<u32, f32> = HashMap::default();
        for tf in &per_group {
            for (&t, &c) in tf {
                *term_total.entry(t).or_default() += c;
            }
        }
        let avg = per_group
            .iter()
            .map(|g| g.values().sum::<f32>())
            .sum::<f32>()
            / per_group.len().max(1) as f32;

        step(tick, "问题汇总", groups.len());
        let mut issues: Vec<(Issue, Vec<usize>)> = groups
            .par_iter()
            .zip(&per_group)
            .with_max_len(1)
            .map(|(members, tf)| {
                tick(Tick::Done(1));
                let idx: Vec<usize> = members.iter().map(|&k| active[k]).collect();
                let mut terms: Vec<(u32, f32)> = tf
                    .iter()
                    .map(|(&t, &c)| (t, c * (1.0 + avg / term_total[&t]).ln()))
                    .collect();
                // Nouns and places first (石桥村 / 机耕路 / 塌方), then the rest by weight.
                terms.sort_by(|a, b| {
                    let noun = |t: u32| space.noun[t as usize] || space.place[t as usize];
                    noun(b.0)
                        .cmp(&noun(a.0))
                        .then(b.1.total_cmp(&a.1))
                        .then(space.vocab[a.0 as usize].cmp(&space.vocab[b.0 as usize]))
                });
                let key_words: Vec<&str> = terms
                    .iter()
                    .take(4)
                    .map(|(t, _)| space.vocab[*t as usize].as_str())
                    .collect();
                let central = central_first(&space, members);
                let examples = examples_of(&suggestions, &active, &text_hash, &central);
                let title = title_of(&suggestions, &active, &central, &key_words);
                let mut issue = self.issue_of(&suggestions, &idx, title, examples);
                issue.keywords = key_words.join(" / ");
                (issue, idx)
            })
            .collect();
        issues.sort_by(|(a, _), (b, _)| {
            b.heat
                .total
                .total_cmp(&a.heat.total)
                .then(b.mentions.cmp(&a.mentions))
                .then(a.title.cmp(&b.title))
        });
        // Each suggestion's issue (built with none), by the members' places in `suggestions`.
        let mut ids: Vec<Option<usize>> = vec![None; suggestions.len()];
        for (rank, (issue, idx)) in issues.iter_mut().enumerate() {
            issue.id = format!("I{:04}", rank + 1);
            let id = Shared::from(&issue.id);
            for &i in idx.iter() {
                ids[i] = Some(rank);
                suggestions[i].issue = Some(id.clone());
            }
        }
        let mut issues: Vec<Issue> = issues.into_iter().map(|(i, _)| i).collect();

        let topics = self.topics(
            tick,
            &mut suggestions,
            &mut issues,
            &space,
            &active,
            &text_hash,
            &ids,
            &labels,
            keys,
            subject_keys,
        );
        SuggestOutput {
            suggestions,
            issues,
            topics,
        }
    }

    /// [`subject_title`] of a topic's key words (at most three; one the dictionary does not
    /// know shown as its members write it, [`shown_key`]) and what its members say about them.
    fn subject_title_of(
        &self,
        space: &cluster::Space,
        all: &[Suggestion],
        active: &[usize],
        central: &[usize],
        keys: &[u32],
        about: &[u32],
    ) -> String {
        let word = |t: u32| space.vocab[t as usize].as_str();
        let shown: Vec<String> = keys
            .iter()
            .take(3)
            .map(|&t| {
                let w = word(t);
                if space.place[t as usize] || self.seg.knows(w) {
                    return w.to_owned();
                }
                let texts: Vec<String> = central
                    .iter()
                    .take(SHOWN_KEY_READS)
                    .map(|&k| &all[active[k]])
                    .flat_map(|s| [s.source.subject.to_string(), s.read().into_owned()])
                    .filter(|t| t.contains(w))
                    .collect();
                shown_key(w, &texts)
            })
            .collect();
        let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
        let about: Vec<&str> = about.iter().map(|&t| word(t)).collect();
        subject_title(&shown, &about)
    }

    /// Topics above the issues (see [`topics`]): each issue joins the topic most of its members
    /// fall in (then all its members do); an issue in no topic is a topic of its own.
    #[allow(clippy::too_many_arguments)]
    fn topics(
        &self,
        tick: &(dyn Fn(Tick) + Sync),
        suggestions: &mut [Suggestion],
        issues: &mut [Issue],
        space: &cluster::Space,
        active: &[usize],
        text_hash: &[u64],
        issue_at: &[Option<usize>],
        labels: &[usize],
        keys: lists::Lists<u32>,
        subject_keys: lists::Lists<u32>,
    ) -> Vec<Topic> {
        let known = |t: u32| self.seg.knows(&space.vocab[t as usize]);
        let raw = topics::find(
            space,
            keys,
            subject_keys,
            labels,
            &known,
            &self.cfg.topics,
            tick,
        );
        // k → raw topic.
        let mut topic_of: Vec<Option<usize>> = vec![None; active.len()];
        for (o, t) in raw.iter().enumerate() {
            for &k in &t.members {
                topic_of[k] = Some(o);
            }
        }
        let mut k_of: Vec<Option<u32>> = vec![None; suggestions.len()];
        for (k, &i) in active.iter().enumerate() {
            k_of[i] = Some(k as u32);
        }
        // Issue → topic by majority of its members.
        let mut issue_topic: Vec<Option<usize>> = vec![None; issues.len()];
        let mut issue_members: Vec<Vec<usize>> = vec![Vec::new(); issues.len()];
        for (i, n) in issue_at.iter().enumerate() {
            if let (Some(n), Some(k)) = (n, k_of[i].map(|k| k as usize)) {
                issue_members[*n].push(k);
            }
        }
        for (n, ks) in issue_members.iter().enumerate() {
            let mut count: BTreeMap<usize, usize> = BTreeMap::new();
            for &k in ks {
                if let Some(o) = topic_of[k] {
                    *count.entry(o).or_default() += 1;
                }
            }
            if let Some((&o, &c)) = count.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                && c * 2 >= ks.len()
            {
                issue_topic[n] = Some(o);
            }
        }
        // Members follow their issue: in the issue's topic, or in none.
        for (n, ks) in issue_members.iter().enumerate() {
            for &k in ks {
                topic_of[k] = issue_topic[n];
            }
        }
        // Build topics: raw ones that still hold enough, then one per issue left alone.
        struct Draft {
            keys: Vec<u32>,
            about: Vec<u32>,
            members: Vec<usize>,
            issues: Vec<usize>,
        }
        let mut drafts: Vec<Draft> = raw
            .iter()
            .map(|t| Draft {
                keys: t.keys.clone(),
                about: t.about.clone(),
                members: Vec::new(),
                issues: Vec::new(),
            })
            .collect();
        for (k, o) in topic_of.iter().enumerate() {
            if let Some(o) = o {
                drafts[*o].members.push(k);
            }
        }
        for (n, o) in issue_topic.iter().enumerate() {
            if let Some(o) = o {
                drafts[*o].issues.push(n);
            }
        }
        let min_size = self.cfg.topics.min_size.max(2);
        // A topic left too small by its issues' choices dissolves; its issues stand alone.
        for d in &mut drafts {
            if d.members.len() < min_size {
                for &n in &d.issues {
                    issue_topic[n] = None;
                }
                d.members.clear();
            }
        }
        drafts.retain(|d| !d.members.is_empty());
        for n in 0..issues.len() {
            if issue_topic[n].is_none() {
                drafts.push(Draft {
                    keys: Vec::new(),
                    about: Vec::new(),
                    members: issue_members[n].clone(),
                    issues: vec![n],
                });
            }
        }
        // Each topic on a worker of its own; each keeps its members' places in `suggestions`.
        let all: &[Suggestion] = suggestions;
        let mut topics: Vec<(Topic, Vec<usize>)> = drafts
            .into_par_iter()
            .with_max_len(1)
            .map(|d| {
                let idx: Vec<usize> = d.members.iter().map(|&k| active[k]).collect();
                let key_words: Vec<&str> = d
                    .keys
                    .iter()
                    .map(|&t| space.vocab[t as usize].as_str())
                    .collect();
                let central = central_first(space, &d.members);
                let examples = examples_of(all, active, text_hash, &central);
                let (title, keywords) = if d.keys.is_empty() {
                    let only = &issues[d.issues[0]];
                    (only.title.clone(), only.keywords.clone())
                } else {
                    // One member's subject line names the topic when one issue holds most of
                    // it; otherwise the members raise different cases of one subject, and a
                    // case's line would tell the reader they all said it (24 people under
                    // "A市魏家坡小区脏乱差", each about a different estate): the subject and what
                    // they say about it instead.
                    let largest = d
                        .issues
                        .iter()
                        .map(|&n| issue_members[n].len())
                        .max()
                        .unwrap_or(0);
                    let title = if largest * 2 >= d.members.len() {
                        title_of(all, active, &central, &key_words)
                    } else {
                        self.subject_title_of(space, all, active, &central, &d.keys, &d.about)
                    };
                    (title, key_words.join(" / "))
                };
                let summary = self.issue_of(all, &idx, title, examples);
                let mut member_issues: Vec<&Issue> = d.issues.iter().map(|&n| &issues[n]).collect();
                member_issues.sort_by(|a, b| a.id.cmp(&b.id));
                let topic = Topic {
                    id: String::new(),
                    title: summary.title,
                    keywords,
                    theme_group: summary.theme_group,
                    theme: summary.theme,
                    heat: summary.heat,
                    mentions: summary.mentions,
                    submissions: summary.submissions,
                    places: summary.places,
                    first: summary.first,
                    last: summary.last,
                    issues: member_issues.iter().map(|i| i.id.clone()).collect(),
                    examples: summary.examples,
                    members: summary.members,
                };
                (topic, idx)
            })
            .collect();
        topics.sort_by(|(a, _), (b, _)| {
            b.heat
                .total
                .total_cmp(&a.heat.total)
                .then(b.mentions.cmp(&a.mentions))
                .then(a.title.cmp(&b.title))
        });
        for s in suggestions.iter_mut() {
            s.topic = None;
        }
        for (rank, (t, idx)) in topics.iter_mut().enumerate() {
            t.id = format!("T{:04}", rank + 1);
            let id = Shared::from(&t.id);
            for &i in idx.iter() {
                suggestions[i].topic = Some(id.clone());
            }
        }
        let topics: Vec<Topic> = topics.into_iter().map(|(t, _)| t).collect();
        let issue_topic_id: HashMap<&str, &str> = topics
            .iter()
            .flat_map(|t| t.issues.iter().map(move |i| (i.as_str(), t.id.as_str())))
            .collect();
        for i in issues.iter_mut() {
            i.topic = issue_topic_id.get(i.id.as_str()).map(|t| (*t).to_owned());
        }
        topics
    }

    fn issue_of(
        &self,
        all: &[Suggestion],
        idx: &[usize],
        title: String,
        examples: Vec<String>,
    ) -> Issue {
        let members: Vec<&Suggestion> = idx.iter().map(|&i| &all[i]).collect();
        // Counted on every worker over a share of the members, then added up: an issue can
        // hold a million members, and one thread counting them left the other core idle.
        let Tally {
            people,
            places,
            units,
            themes,
            submissions,
            dates: date_counts,
            likes,
        } = members
            .par_chunks(TALLY_CHUNK)
            .map(|chunk| {
                let mut t = Tally::default();
                for s in chunk {
                    t.add(s);
                }
                t
            })
            .reduce(Tally::default, Tally::merge);
        let submissions = submissions.len();
        // Each distinct date read once (members share a few hundred dates), with its count.
        let mut dates: Vec<(chrono::NaiveDate, usize)> = date_counts
            .into_iter()
            .filter_map(|(d, n)| {
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .ok()
                    .map(|d| (d, n))
            })
            .collect();
        dates.sort_unstable();
        let dated: usize = dates.iter().map(|d| d.1).sum();
        // The most members dated within seven days of each other.
        let concentration = if dated == 0 {
            0.0
        } else {
            let (mut best, mut within, mut j) = (0, 0, 0);
            for i in 0..dates.len() {
                within += dates[i].1;
                while (dates[i].0 - dates[j].0).num_days() >= 7 {
                    within -= dates[j].1;
                    j += 1;
                }
                best = best.max(within);
            }
            best as f64 / dated as f64
        };
        let mentions = members.len();
        let heat = Heat {
            total: 0.0,
            people: people.len(),
            places: places.len(),
            units: units.len(),
            concentration: (concentration * 1000.0).round() / 1000.0,
            likes,
        };
        let total = 40.0 * log_share(heat.people as f64, 50.0)
            + 20.0 * log_share(heat.places as f64, 10.0)
            + 15.0 * log_share(heat.units as f64, 10.0)
            + 15.0 * heat.concentration * (mentions as f64 / 3.0).min(1.0)
            + 10.0 * log_share(f64::from(likes), 100.0);
        let mut place_list: Vec<(&str, usize)> = places.into_iter().collect();
        place_list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let theme = themes
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map_or_else(|| UNCLASSIFIED.to_owned(), |(t, _)| (*t).to_owned());
        let theme_group = members
            .iter()
            .find(|s| s.theme == theme)
            .map(|s| s.theme_group.to_string())
            .unwrap_or_default();
        Issue {
            id: String::new(),
            title,
            keywords: String::new(),
            topic: None,
            central: examples.first().cloned().unwrap_or_default(),
            theme_group,
            theme,
            heat: Heat {
                total: (total * 10.0).round() / 10.0,
                ..heat
            },
            mentions,
            submissions,
            places: place_list.into_iter().map(|(p, _)| p.to_owned()).collect(),
            first: dates.first().map(|d| d.0.to_string()).unwrap_or_default(),
            last: dates.last().map(|d| d.0.to_string()).unwrap_or_default(),
            examples,
            members: members.iter().map(|s| s.id).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diaoyan_model::Kind;

    /// Each key is numbered by its first appearance, and each number's first place given.
    #[test]
    fn keys_are_numbered_as_first_met() {
        let keys: Vec<u128> = vec![9, 3, 9, 9, u128::MAX, 3, 0, u128::MAX];
        let (class, firsts) = first_of_each(&keys);
        assert_eq!(class, vec![0, 1, 0, 0, 2, 1, 3, 2]);
        assert_eq!(firsts, vec![0, 1, 4, 6]);
        assert_eq!(first_of_each(&[]), (vec![], vec![]));
    }

    /// A clustering word keeps its range and both flags in 8 bytes; a word ending beyond what
    /// the end can hold is left out rather than read wrong.
    #[test]
    fn a_clustering_word_keeps_its_range_and_flags_in_eight_bytes() {
        assert_eq!(std::mem::size_of::<ClusterWord>(), 8);
        for (place, noun) in [(false, false), (true, false), (false, true), (true, true)] {
            let w = ClusterWord::new(7, 19, place, noun).unwrap();
            assert_eq!((w.range(), w.place(), w.noun()), (7..19, place, noun));
        }
        let far = ClusterWord::END as usize;
        assert_eq!(
            ClusterWord::new(far - 3, far, true, true).unwrap().range(),
            far - 3..far
        );
        assert!(ClusterWord::new(far - 3, far + 1, false, false).is_none());
        assert!(ClusterWord::new(0, usize::MAX, false, false).is_none());
        let text = "河口村的机耕路";
        let tokens: Vec<cluster::Token> =
            vec![(&text[..9], true, true), (&text[12..], false, true)];
        let spans = spans_of(text, &tokens);
        assert_eq!(spans.len(), 2);
        assert_eq!(tokens_of(text, &spans), tokens);
    }

    /// An issue's examples are its three most central distinct texts: members saying the same
    /// words (the same hash) count once, whatever lies between them; fewer than three distinct
    /// texts give fewer examples.
    #[test]
    fn examples_are_the_most_central_distinct_texts() {
        let texts = ["修路", "修路", "建桥", "修路", "建桥", "通水", "装灯"];
        let all: Vec<Suggestion> = texts
            .iter()
            .map(|t| Suggestion {
                id: "s".into(),
                source: Default::default(),
                places: vec![],
                voice: Voice::People,
                empty: false,
                text: Excerpt::from(*t),
                start: 0,
                end: t.len() as u32,
                theme_group: "".into(),
                theme: UNCLASSIFIED.into(),
                issue: None,
                topic: None,
            })
            .collect();
        let hash: Vec<u64> = texts
            .iter()
            .map(|t| xxhash_rust::xxh3::xxh3_64(t.as_bytes()))
            .collect();
        // Positions 0..7 of the space are suggestions 6, 5, … 0 (`active` reversed).
        let active: Vec<usize> = (0..texts.len()).rev().collect();
        let hash: Vec<u64> = active.iter().map(|&i| hash[i]).collect();
        let central: Vec<usize> = vec![3, 6, 5, 4, 2, 1, 0];
        assert_eq!(
            examples_of(&all, &active, &hash, &central),
            ["修路", "建桥", "通水"]
        );
        assert_eq!(examples_of(&all, &active, &hash, &[3, 6, 5]), ["修路"]);
        assert_eq!(
            examples_of(&all, &active, &hash, &[0, 3, 6]),
            ["装灯", "修路"]
        );
        assert!(examples_of(&all, &active, &hash, &[]).is_empty());
    }

    /// Names in findings read back from a cache (a fresh copy in each) end up one copy each,
    /// as names read afresh do, across build blocks ([`BUILD_BLOCK`]: most are met in an earlier
    /// block); the suggestions are the same either way.
    #[test]
    fn names_are_one_copy_each_however_the_findings_were_read() {
        let sg = SuggestConfig::default()
            .build(Segmenter::builtin())
            .unwrap();
        let texts = [
            "群众反映石桥村三组机耕路塌方两处，建议尽快修复。",
            "河口村垃圾池十来天才清运一次，建议增加清运次数。",
            "村民反映桃源村停水三天，建议尽快恢复供水。",
        ];
        let subs: Vec<Submission> = (0..BUILD_BLOCK + 300)
            .map(|i| Submission {
                text: format!("蹲点手记\n\n{}\n", texts[i % 3]).into(),
                ..Submission::default()
            })
            .collect();
        let found: Vec<Found> = subs.iter().map(|s| sg.find(s)).collect();
        let reread: Vec<Found> = found
            .iter()
            .map(|f| serde_json::from_str(&serde_json::to_string(f).unwrap()).unwrap())
            .collect();
        let afresh = sg.run_found(&subs, found, None, &|_| {});
        let cached = sg.run_found(&subs, reread, None, &|_| {});
        assert_eq!(
            format!("{:?}", afresh.suggestions),
            format!("{:?}", cached.suggestions)
        );
        let mut first: HashMap<String, *const u8> = HashMap::default();
        let mut names = 0;
        for s in &cached.suggestions {
            for n in [&s.theme_group, &s.theme].into_iter().chain(&s.places) {
                names += 1;
                let p = *first
                    .entry(n.as_str().to_owned())
                    .or_insert(n.as_str().as_ptr());
                assert_eq!(p, n.as_str().as_ptr(), "{} held twice", n.as_str());
            }
        }
        assert!(names > BUILD_BLOCK * 2, "{names} names");
        assert!(first.len() >= 5, "{first:?}");
    }

    /// An issue larger than one worker's share ([`TALLY_CHUNK`]) is counted in parts; its heat
    /// equals a plain count of its members: people, places, units, submissions, likes, the
    /// busiest seven days, the first and last dates and the commonest theme.
    #[test]
    fn an_issue_counted_in_parts_equals_a_plain_count() {
        let sg = SuggestConfig::default()
            .build(Segmenter::builtin())
            .unwrap();
        let n = TALLY_CHUNK * 2 + 777;
        let sources: Vec<std::sync::Arc<Source>> = (0..n / 3)
            .map(|j| {
                std::sync::Arc::new(Source {
                    submission: format!("sub{j}").into(),
                    path: format!("c/{j}.txt").into(),
                    author: if j % 11 == 0 {
                        "".into()
                    } else {
                        format!("干部{}", j % 97).into()
                    },
                    unit: format!("单位{}", j % 13).into(),
                    place: if j % 5 == 0 {
                        "".into()
                    } else {
                        format!("村{}", j % 41).into()
                    },
                    // Days spread over three months, some unreadable, some missing.
                    date: match j % 17 {
                        0 => "".into(),
                        1 => "某日".into(),
                        _ => format!("2025-{:02}-{:02}", 3 + (j * 7) % 3, 1 + (j * 13) % 28).into(),
                    },
                    likes: (j % 4) as u32,
                    ..Default::default()
                })
            })
            .collect();
        let all: Vec<Suggestion> = (0..n)
            .map(|i| Suggestion {
                id: format!("s{i}").as_str().into(),
                source: sources[i % sources.len()].clone(),
                places: vec![format!("组{}", i % 7).into()],
                voice: if i % 3 == 0 {
                    Voice::People
                } else {
                    Voice::Cadre
                },
                empty: false,
                text: Excerpt::from("路不好走"),
                start: 0,
                end: 12,
                theme_group: "".into(),
                theme: if i % 9 == 0 {
                    "道路交通".into()
                } else {
                    UNCLASSIFIED.into()
                },
                issue: None,
                topic: None,
            })
            .collect();
        let idx: Vec<usize> = (0..n).filter(|i| i % 10 != 4).collect();
        let issue = sg.issue_of(&all, &idx, "标题".into(), vec![]);

        let members: Vec<&Suggestion> = idx.iter().map(|&i| &all[i]).collect();
        let distinct = |f: &dyn Fn(&Suggestion) -> String| {
            members
                .iter()
                .map(|s| f(s))
                .filter(|k| !k.is_empty())
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        };
        let people = distinct(&|s| match (s.voice, s.source.path.contains('#')) {
            (Voice::People, false) => s.id.to_string(),
            _ if s.source.author.is_empty() => s.source.submission.to_string(),
            _ => s.source.author.to_string(),
        });
        let places: std::collections::BTreeSet<&str> =
            members.iter().flat_map(|s| s.place_names()).collect();
        let mut dates: Vec<chrono::NaiveDate> = members
            .iter()
            .filter_map(|s| chrono::NaiveDate::parse_from_str(&s.source.date, "%Y-%m-%d").ok())
            .collect();
        dates.sort();
        // Members dated in the seven days ending on each date (the dates sorted).
        let busiest = dates
            .iter()
            .map(|&d| {
                let to = dates.partition_point(|&x| x <= d);
                to - dates.partition_point(|&x| (d - x).num_days() >= 7)
            })
            .max()
            .unwrap();
        assert_eq!(issue.mentions, members.len());
        assert_eq!(issue.heat.people, people);
        assert_eq!(issue.heat.places, places.len());
        assert_eq!(issue.heat.units, distinct(&|s| s.source.unit.to_string()));
        assert_eq!(
            issue.submissions,
            distinct(&|s| s.source.submission.to_string())
        );
        assert_eq!(
            issue.heat.likes,
            members.iter().map(|s| s.source.likes).sum::<u32>()
        );
        let concentration = (busiest as f64 / dates.len() as f64 * 1000.0).round() / 1000.0;
        assert_eq!(issue.heat.concentration, concentration);
        assert!(
            concentration > 0.0 && concentration < 1.0,
            "{concentration}"
        );
        assert_eq!(issue.first, dates[0].to_string());
        assert_eq!(issue.last, dates[dates.len() - 1].to_string());
        assert_eq!(issue.theme, "道路交通");
        assert_eq!(issue.members.len(), members.len());
    }

    /// Distinct values are counted exactly however the members were split among workers: empty
    /// values are not counted, repeats once, and two values of one hash (made up here; xxh3
    /// collisions are not at hand) twice.
    #[test]
    fn distinct_values_are_counted_exactly() {
        let values: Vec<String> = (0..5000)
            .map(|i: u64| match i % 7 {
                0 => String::new(),
                _ => format!("人{}", (i * 2_654_435_761) % 1300),
            })
            .collect();
        let want = values
            .iter()
            .filter(|v| !v.is_empty())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        assert!(want > 1000 && want <= 1300, "{want}");
        for parts in [1, 2, 3, 64, 5000] {
            let size = values.len().div_ceil(parts);
            let counted = values
                .chunks(size)
                .map(|chunk| {
                    let mut d = Distinct::default();
                    chunk.iter().for_each(|v| d.add(v));
                    d
                })
                .reduce(Distinct::merge)
                .unwrap();
            assert_eq!(counted.len(), want, "{parts} parts");
        }
        let collided = Distinct(vec![(7, "甲"), (7, "乙"), (7, "甲"), (3, "丙")]);
        assert_eq!(collided.len(), 3);
    }

    /// What scoring judged of each submission: `verdict(i)`, and its empty sentences.
    fn judged_as(empty: &[Vec<(u32, u32)>], verdict: impl Fn(usize) -> Verdict) -> Vec<Judged<'_>> {
        empty
            .iter()
            .enumerate()
            .map(|(i, e)| Judged {
                verdict: verdict(i),
                empty: e,
            })
            .collect()
    }

    /// The default suggester, and what it finds in each of `subs`.
    fn found_in(subs: &[Submission]) -> (Suggester, Vec<Found>) {
        let sg = SuggestConfig::default()
            .build(Segmenter::builtin())
            .unwrap();
        let found = subs.iter().map(|s| sg.find(s)).collect();
        (sg, found)
    }

    fn row(i: usize, subject: &str, text: &str) -> Submission {
        Submission {
            id: format!("r{i}").into(),
            path: format!("留言.xlsx#{}", i + 2).into(),
            ref_: format!("{}", i + 2),
            kind: Some(Kind::Opinion),
            author: format!("网友{i}").into(),
            title: subject.into(),
            text: text.into(),
            ..Default::default()
        }
    }

    /// A suggestion stands in the empty sentences only if every letter of it does: the gaps
    /// between two sentences (punctuation, spaces) do not count, a word outside does.
    #[test]
    fn a_suggestion_is_empty_only_if_all_its_letters_stand_in_empty_sentences() {
        let t = "建议切实加强组织领导。 希望营造良好氛围！路灯坏了。";
        let at = |s: &str| t.find(s).unwrap() as u32;
        let a = (at("建议"), at("。 希望"));
        let b = (at("希望"), at("！路灯"));
        let end_b = at("路灯") as usize;
        assert!(within(t, 0, end_b, &[a, b]));
        assert!(within(t, at("希望") as usize, end_b, &[a, b]));
        assert!(!within(t, 0, end_b, &[a]), "希望… lies outside");
        assert!(!within(t, 0, t.len(), &[a, b]), "路灯坏了 lies outside");
        assert!(!within(t, 0, end_b, &[]), "no empty sentence");
        assert!(!within(t, at("路灯") as usize, t.len(), &[a, b]));
    }

    /// What scoring read as 套话 or feelings is kept and shown, but left out of the issues; a
    /// table row is someone's opinion whatever its words; a submission sent back keeps its own
    /// note.
    #[test]
    fn empty_suggestions_are_kept_but_not_clustered() {
        let hollow = "建议切实加强组织领导，营造良好氛围。";
        let note = |i: usize| Submission {
            id: format!("n{i}").into(),
            path: format!("n{i}.txt").into(),
            kind: Some(Kind::Note),
            text: format!(
                "蹲点手记\n\n{hollow}石桥村三组机耕路塌方{}处，建议尽快修复。\n",
                i + 2
            )
            .into(),
            ..Default::default()
        };
        let mut subs: Vec<Submission> = (0..4).map(note).collect();
        subs.push(row(9, "加强领导", hollow));
        let span = |s: &Submission| {
            let from = s.text.find(hollow).unwrap() as u32;
            vec![(from, from + hollow.len() as u32)]
        };
        let empty: Vec<Vec<(u32, u32)>> = subs.iter().map(span).collect();
        let verdict = |i: usize| if i == 3 { Verdict::Redo } else { Verdict::Pass };
        let judged = judged_as(&empty, verdict);
        let (sg, found) = found_in(&subs);
        let out = sg.run_found(&subs, found, Some(&judged), &|_| {});
        let of = |sub: &str, text: &str| {
            out.suggestions
                .iter()
                .find(|x| &*x.source.submission == sub && x.text.contains(text))
                .unwrap_or_else(|| panic!("{sub}: {text}"))
        };
        for i in 0..3 {
            let e = of(&format!("n{i}"), "组织领导");
            assert!(e.empty && e.issue.is_none(), "{e:?}");
            assert_eq!(e.left_out(), Some(diaoyan_model::EMPTY_NOTE));
            let real = of(&format!("n{i}"), "机耕路");
            assert!(!real.empty && real.issue.is_some(), "{real:?}");
        }
        let sent_back = of("n3", "组织领导");
        assert!(sent_back.empty);
        assert_eq!(
            sent_back.left_out(),
            Some("材料结论为“退回重写”，不计入问题清单")
        );
        let opinion = of("r9", "组织领导");
        assert!(
            !opinion.empty && opinion.left_out().is_none(),
            "{opinion:?}"
        );
        // Without what scoring read, nothing is empty.
        let found: Vec<Found> = subs.iter().map(|s| sg.find(s)).collect();
        let plain = sg.run_found(&subs, found, None, &|_| {});
        assert!(plain.suggestions.iter().all(|x| !x.empty));
    }

    /// A large run's texts kept out of memory: its suggestions hold no words, only their ranges,
    /// and read them there; the clustering, the issues, the topics and every suggestion read
    /// the same as a run whose texts are in memory.
    #[test]
    fn texts_kept_out_of_memory_cluster_and_read_the_same() {
        struct Elsewhere(Vec<String>, std::sync::atomic::AtomicUsize);
        impl Texts for Elsewhere {
            fn text(&self, i: usize) -> std::borrow::Cow<'_, str> {
                self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                std::borrow::Cow::Owned(self.0[i].clone())
            }
        }
        let hollow = "建议切实加强组织领导，营造良好氛围。";
        let things = ["机耕路塌方", "路灯坏了", "垃圾池满了"];
        let mut subs: Vec<Submission> = (0..9)
            .map(|i| Submission {
                id: format!("n{i}").into(),
                path: format!("n{i}.txt").into(),
                kind: Some(Kind::Note),
                text: format!(
                    "蹲点手记\n\n{hollow}石桥村三组{}{}处，建议尽快修复。\n",
                    things[i % 3],
                    i + 2
                )
                .into(),
                ..Default::default()
            })
            .collect();
        subs.push(row(9, "加强领导", hollow));
        let empty: Vec<Vec<(u32, u32)>> = subs
            .iter()
            .map(|s| {
                let from = s.text.find(hollow).unwrap() as u32;
                vec![(from, from + hollow.len() as u32)]
            })
            .collect();
        let judged = judged_as(&empty, |_| Verdict::Pass);
        let (sg, found) = found_in(&subs);
        let inside = sg.run_found(&subs, found.clone(), Some(&judged), &|_| {});
        // The texts leave the submissions, as a large run's do.
        let kept = Arc::new(Elsewhere(
            subs.iter().map(|s| s.text.to_string()).collect(),
            Default::default(),
        ));
        for s in &mut subs {
            s.text = Shared::default();
        }
        let outside = sg.run_found_kept(
            &subs,
            Some(kept.clone() as Arc<dyn Texts>),
            found,
            Some(&judged),
            &|_| {},
        );
        assert!(
            kept.1.load(std::sync::atomic::Ordering::Relaxed) > 0,
            "the words were read where the texts are"
        );
        assert!(
            inside.issues.iter().any(|i| i.mentions >= 3),
            "{:?}",
            inside.issues
        );
        assert_eq!(outside.issues, inside.issues);
        assert_eq!(outside.topics, inside.topics);
        assert_eq!(outside.suggestions.len(), inside.suggestions.len());
        for (o, i) in outside.suggestions.iter().zip(&inside.suggestions) {
            assert!(o.text.is_outside() && !i.text.is_outside());
            assert_eq!(o.read(), i.read());
            assert_eq!(
                (o.empty, &o.issue, &o.topic, &o.theme, &o.places),
                (i.empty, &i.issue, &i.topic, &i.theme, &i.places)
            );
        }
        assert!(outside.suggestions.iter().any(|g| g.empty));
    }

    /// Reading a submission from its text tagged once gives exactly what reading it alone gives:
    /// numbered suggestions (`1.` cut off inside a jieba block), labelled lines, forum speakers,
    /// an opinion row; and a tagging made with another dictionary is not used.
    #[test]
    fn finding_from_a_shared_tagging_equals_finding_alone() {
        let doc = |kind, text: &str| Submission {
            id: "d".into(),
            path: "d.txt".into(),
            kind: Some(kind),
            text: text.into(),
            ..Default::default()
        };
        let subs = [
            doc(
                Kind::Report,
                "关于石桥村的调研报告\n二、存在问题\n1.建议修缮石桥村机耕路，涉及农户12户。\n\
                 2、希望解决三组饮水问题；（三）WES-5.4.5型水泵坏了30%。\n",
            ),
            doc(
                Kind::Visit,
                "走访记录\n户主：王桂兰\n反映问题：村里１２户没水吃，\r\n建议打一口深井。\n",
            ),
            doc(
                Kind::Minutes,
                "座谈会记录\n主持人：李明\n张大爷：路灯坏了半年没人修，希望尽快修好。\n\
                 刘桂芝说，卫生室缺医少药，看病要跑二十里。\n",
            ),
            row(
                1,
                "人才购房补贴",
                "我是硕士毕业，申请人才购房补贴被拒，请问政策怎么规定",
            ),
        ];
        let seg = Segmenter::builtin();
        let sg = SuggestConfig::default().build(seg.clone()).unwrap();
        let other = Segmenter::new(&diaoyan_text::Lexicons {
            userdict: "修缮石桥 100 n\n".into(),
            stopwords: String::new(),
        });
        let mut pieces = 0;
        for s in &subs {
            let alone = sg.find(s);
            pieces += alone.pieces.len();
            assert_eq!(
                sg.find_tagged(s, &seg.tag_text(&s.text)),
                alone,
                "{}",
                s.text
            );
            assert_eq!(
                sg.find_tagged(s, &other.tag_text(&s.text)),
                alone,
                "{}",
                s.text
            );
        }
        assert!(pieces >= 6, "{pieces} suggestions read");
    }

    /// Many different personal cases of one policy make one topic; an issue elsewhere stays out
    /// of it; places named in the text are found when the row has none; titles read as subjects.
    #[test]
    fn personal_cases_of_one_policy_make_one_topic() {
        let cases = [
            (
                "人才购房补贴申请被拒",
                "我是硕士毕业，单位注册在外区，申请人才购房补贴被拒，请问政策怎么规定",
            ),
            (
                "人才新政购房补贴何时发放",
                "去年按人才新政申请了购房补贴，至今没有发放，请问进度",
            ),
            (
                "咨询人才购房补贴与配偶共同购房",
                "我和丈夫共同购房，能否申请人才购房补贴，需要什么材料",
            ),
            (
                "人才购房补贴停发",
                "本科学历人才购房补贴发了两个月就停发了，社保也在本市缴纳",
            ),
            (
                "博士人才购房补贴标准",
                "博士落户后购买首套住房，人才补贴标准是多少，分几年发放",
            ),
            (
                "人才购房补贴审核太慢",
                "提交人才购房补贴申请三个月仍在审核，窗口说材料要重新交",
            ),
        ];
        let mut subs: Vec<Submission> = cases
            .iter()
            .enumerate()
            .map(|(i, (s, t))| row(i, s, t))
            .collect();
        let roads = [
            "暮云街道丽发新城小区旁搅拌站噪音扰民，晚上十二点还在施工",
            "暮云街道丽发新城小区旁的搅拌站灰尘大，噪音扰民严重",
            "丽发新城小区附近搅拌站夜间施工噪音扰民，请求整治",
        ];
        for (k, t) in roads.iter().enumerate() {
            subs.push(row(100 + k, "丽发新城搅拌站扰民", t));
        }
        let s = SuggestConfig::default()
            .build(Segmenter::builtin())
            .unwrap();
        let out = s.run(&subs, None);
        let topic_of = |i: usize| out.suggestions[i].topic.clone();
        let talent = topic_of(0).expect("the talent cases have a topic");
        for i in 0..cases.len() {
            assert_eq!(
                topic_of(i).as_ref(),
                Some(&talent),
                "{:?}",
                out.suggestions[i]
            );
        }
        for i in cases.len()..subs.len() {
            assert_ne!(
                topic_of(i).as_ref(),
                Some(&talent),
                "{:?}",
                out.suggestions[i]
            );
        }
        let t = out.topics.iter().find(|t| t.id == talent).unwrap();
        assert!(t.title.contains("人才"), "{t:?}");
        assert!(t.keywords.contains("人才"), "{t:?}");
        assert_eq!(t.mentions, cases.len());
        // Places come from the text when the row has no place column.
        let mixer = &out.suggestions[cases.len()];
        assert!(
            mixer.places.iter().any(|p| p == "丽发新城小区"),
            "{:?}",
            mixer.places
        );
        // Every issue has a topic, and titles are subject lines, not word lists.
        for i in &out.issues {
            assert!(i.topic.is_some(), "{i:?}");
            assert!(!i.title.contains(" / "), "{i:?}");
        }
        // A suggestion's text is the end of its span in its submission's text, and is written
        // and read back as a plain string.
        for g in &out.suggestions {
            let sub = subs.iter().find(|s| *s.id == *g.source.submission).unwrap();
            assert!(
                sub.text[g.start as usize..g.end as usize].ends_with(g.text.as_str()),
                "{g:?}"
            );
            let json = serde_json::to_string(g).unwrap();
            let text = serde_json::to_string(g.text.as_str()).unwrap();
            assert!(json.contains(&format!("\"text\":{text}")), "{json}");
            assert_eq!(&serde_json::from_str::<Suggestion>(&json).unwrap(), g);
        }
    }

    #[test]
    fn titles_are_tidied_subject_lines() {
        assert_eq!(
            tidy_title("关于伊景园滨河苑捆绑销售车位的问题"),
            "伊景园滨河苑捆绑销售车位"
        );
        assert_eq!(
            tidy_title("赵海波提出：建议硬化机耕路。还有别的"),
            "建议硬化机耕路"
        );
        let long =
            "这是一条很长很长的意见，它的第一句话超过了三十个字，所以标题只取到第一个逗号为止";
        assert_eq!(tidy_title(long), "这是一条很长很长的意见");
        assert_eq!(
            tidy_title("- 张大爷无法自行清理水渠,希望得到帮助。"),
            "张大爷无法自行清理水渠,希望得到帮助"
        );
        assert_eq!(tidy_title("• 村口水渠堵塞"), "村口水渠堵塞");
    }

    /// Different people's different cases of one subject make a topic titled by the subject and
    /// what they say about it, never by one of the cases (which would tell the reader that all
    /// of them raised it); a topic most of whose members raise one case keeps that case's line.
    #[test]
    fn a_topic_of_different_cases_is_titled_by_its_subject() {
        let cases = [
            (
                "金桂苑电梯经常停运",
                "金桂苑小区电梯经常停运，物业说没钱维修，老人上下楼困难",
            ),
            (
                "银湖湾电梯困人",
                "银湖湾小区电梯上周困人两次，物业至今没有检修",
            ),
            (
                "翠竹园电梯年检过期",
                "翠竹园小区电梯年检合格证过期半年，物业不理不睬",
            ),
            (
                "丹桂里电梯异响",
                "丹桂里小区电梯运行时异响抖动，业主多次找物业无果",
            ),
            (
                "枫林湾加装电梯",
                "枫林湾老旧小区想加装电梯，物业和业主意见不一，请街道协调",
            ),
            (
                "松涛苑电梯维修基金",
                "松涛苑小区电梯大修要动用维修基金，物业迟迟不申请",
            ),
        ];
        let mut subs: Vec<Submission> = cases
            .iter()
            .enumerate()
            .map(|(i, (s, t))| row(i, s, t))
            .collect();
        for k in 0..3 {
            subs.push(row(
                100 + k,
                "镇卫生院药品不全",
                "镇卫生院常用药品不全，慢性病患者要到县城买药",
            ));
        }
        let s = SuggestConfig::default()
            .build(Segmenter::builtin())
            .unwrap();
        let out = s.run(&subs, None);
        let lift = out.suggestions[0]
            .topic
            .clone()
            .expect("the lift cases have a topic");
        let t = out.topics.iter().find(|t| t.id == lift).unwrap();
        assert!(t.mentions >= 5, "{t:?}");
        assert!(
            t.title.contains("电梯") && t.title.contains("相关问题"),
            "{t:?}"
        );
        for (subject, _) in cases {
            assert!(!t.title.contains(subject), "{t:?}");
        }
        // The same complaint from three people: one issue, titled by its line.
        let clinic = out.suggestions[cases.len()].topic.clone().expect("a topic");
        let c = out.topics.iter().find(|t| t.id == clinic).unwrap();
        assert!(c.title.contains("卫生院药品不全"), "{c:?}");
    }

    #[test]
    fn a_subject_title_names_the_key_words_and_what_is_said() {
        assert_eq!(
            subject_title(&["小区"], &["物业", "停车"]),
            "小区相关问题（物业、停车等）"
        );
        assert_eq!(
            subject_title(&["转学", "学籍", "户口", "学校"], &[]),
            "转学、学籍、户口相关问题"
        );
        assert_eq!(
            subject_title(&["遗留问题"], &["土地"]),
            "遗留问题（土地等）"
        );
    }

    /// A piece of an unknown name is shown as the members write the name: grown by the
    /// character found beside it in at least two thirds of its occurrences.
    #[test]
    fn a_piece_of_a_name_is_shown_whole() {
        let texts = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let deeds = texts(&[
            "房产证办了三年还没下来",
            "交房五年仍未办理房产证",
            "请问房产证什么时候能办",
            "开发商拖着不给办房产证，产证费也收了",
        ]);
        assert_eq!(shown_key("产证", &deeds), "房产证");
        // Different lines, no one character before 号线: as it is.
        let lines = texts(&["地铁2号线延长", "3号线站点太远", "希望6号线早日开通"]);
        assert_eq!(shown_key("号线", &lines), "号线");
        // At most twice its length.
        let bureau = texts(&["市人社局", "市人社局", "市人社局"]);
        assert_eq!(shown_key("社局", &bureau), "市人社局");
        assert_eq!(shown_key("社局", &[]), "社局");
    }
}
