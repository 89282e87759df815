//! Recurring issues: suggestions that raise the same concrete problem.
//!
//! TF-IDF over jieba content words, place names weighted up (石桥村机耕路 and 河口村机耕路 are two
//! issues); MinHash LSH over each suggestion's word set proposes candidate pairs, so the cost stays
//! near linear; pairs whose cosine passes the threshold are joined (union-find); finally members
//! far from their group's centroid are split off, so a chain A~B~C of loosely related texts does
//! not become one issue. Deterministic: the same input gives the same issues.

use crate::HashMap;
use crate::lists::Lists;
use crate::pairs::{Buckets, PAIR_PARTS, PairList};
use diaoyan_text::{Places, Segmenter, Word};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// The `[suggest.cluster]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Cosine similarity at which two suggestions raise the same issue (default 0.4); they must
    /// also share a noun that is not a place (机耕路, 垃圾池): the same concrete thing.
    pub threshold: f64,
    /// …and the cosine of their words other than place names must reach this (default 0.2): a
    /// shared village name alone does not make two problems one.
    pub content_threshold: f64,
    /// Two suggestions that name the same place and the same thing (石桥村 … 机耕路) are joined
    /// at this lower cosine (default 0.25): the same concrete problem told in other words.
    pub place_thing_threshold: f64,
    /// Members less similar than this to their issue's centroid are split off (default 0.3).
    pub centroid_min: f64,
    /// Two groups whose average pairwise cosine (average link) reaches this merge, when they
    /// share a noun (default 0.45): the same problem told in different words by different people.
    pub merge_threshold: f64,
    /// Weight of place names in the vectors (default 2.0).
    pub place_weight: f32,
    /// Weight of other nouns against verbs and adjectives (default 1.5): the thing matters more
    /// than what is said about it.
    pub noun_weight: f32,
    /// LSH bands (default 24) …
    pub bands: usize,
    /// … of this many MinHash rows each (default 2; 1 to 16, see [`ClusterConfig::check`]):
    /// pairs sharing about a third of their words become candidates.
    pub rows: usize,
    /// A band bucket larger than this links each member to its first `bucket_cap` members only,
    /// which keeps very large issues connected at linear cost (default 8).
    pub bucket_cap: usize,
    /// Words in more than this share of suggestions are ignored (default 0.2).
    pub max_df: f64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            threshold: 0.4,
            content_threshold: 0.2,
            place_thing_threshold: 0.25,
            centroid_min: 0.3,
            merge_threshold: 0.45,
            place_weight: 2.0,
            noun_weight: 1.5,
            bands: 24,
            rows: 2,
            bucket_cap: 8,
            max_df: 0.2,
        }
    }
}

impl ClusterConfig {
    /// Settings that cannot work, as one Chinese reason each (empty when all is well): the
    /// pipeline file is refused with them rather than run with a value silently changed.
    pub fn check(&self) -> Vec<String> {
        let mut out = Vec::new();
        let unit = [
            ("threshold", self.threshold),
            ("content_threshold", self.content_threshold),
            ("place_thing_threshold", self.place_thing_threshold),
            ("centroid_min", self.centroid_min),
            ("merge_threshold", self.merge_threshold),
        ];
        for (name, x) in unit {
            if !(0.0..=1.0).contains(&x) {
                out.push(format!("suggest.cluster.{name} 须在 0–1 之间（现为 {x}）"));
            }
        }
        if !(self.max_df > 0.0 && self.max_df <= 1.0) {
            out.push(format!(
                "suggest.cluster.max_df 须大于 0 且不超过 1（现为 {}）",
                self.max_df
            ));
        }
        for (name, x) in [
            ("place_weight", self.place_weight),
            ("noun_weight", self.noun_weight),
        ] {
            if !(x.is_finite() && x > 0.0) {
                out.push(format!("suggest.cluster.{name} 须为正数（现为 {x}）"));
            }
        }
        if self.bands == 0 {
            out.push("suggest.cluster.bands 须至少为 1".to_owned());
        }
        if !(1..=MAX_ROWS).contains(&self.rows) {
            out.push(format!(
                "suggest.cluster.rows 须在 1–{MAX_ROWS} 之间（现为 {}）：行数越多候选越少，超过 {MAX_ROWS} 行几乎不再有候选",
                self.rows
            ));
        }
        if self.bucket_cap == 0 {
            out.push(
                "suggest.cluster.bucket_cap 须至少为 1，否则没有任何意见会归为同一问题".to_owned(),
            );
        }
        out
    }
}

/// A sparse vector's terms, sorted: (term, weight).
pub(crate) type Terms = [(u32, f32)];

/// A sparse vector of its own (a centroid, a group's sum); the suggestions' vectors are held
/// together in [`Space::vectors`] and read as [`Terms`].
#[derive(Clone)]
pub(crate) struct Vector {
    pub terms: Vec<(u32, f32)>,
}

impl std::ops::Deref for Vector {
    type Target = Terms;
    fn deref(&self) -> &Terms {
        &self.terms
    }
}

/// A clustering word: the word, whether it names a place, whether it is a noun (titles prefer
/// nouns).
pub(crate) type Token<'a> = (&'a str, bool, bool);

/// Abstract nouns (工作, 计划, 部门): nouns that name no thing (shared with scoring).
const ABSTRACT_NOUNS: &str = include_str!("../../../corpora/lexicon/abstract_nouns.txt");

static ABSTRACT: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| {
        ABSTRACT_NOUNS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    });

/// A short quantity phrase the segmenter may tag as a noun (一滩, 两处, 几户): an amount, not a
/// thing.
fn is_quantity(word: &str) -> bool {
    let mut chars = word.chars();
    let first = chars.next();
    first.is_some_and(|c| "一二两三四五六七八九十几半每".contains(c)) && word.chars().count() <= 2
}

/// The text after a short leading label (赵海波提出：…, 主要难题：…, 期望和建议：…): who said it
/// or what kind of remark it is, not what it is about.
pub(crate) fn strip_label(text: &str) -> &str {
    let head: String = text.chars().take(12).collect();
    match head.find(['：', ':']) {
        Some(i) => {
            let colon = head[i..].chars().next().map_or(1, char::len_utf8);
            &text[i + colon..]
        }
        None => text,
    }
}

/// Words of a suggestion for clustering: content words of two or more characters, no numerals;
/// places and concrete nouns flagged.
#[cfg(test)]
pub(crate) fn tokens<'a>(seg: &Segmenter, text: &'a str) -> Vec<Token<'a>> {
    tokens_and_places(seg, None, text).0
}

/// [`tokens`], and the named places of the text when a recogniser is given (one tagging pass).
pub(crate) fn tokens_and_places<'a>(
    seg: &Segmenter,
    places: Option<&Places>,
    text: &'a str,
) -> (Vec<Token<'a>>, Vec<String>) {
    let text = strip_label(text);
    tokens_of_words(seg, places, text, seg.tag(text))
}

/// [`tokens_and_places`] of a text already stripped of its label, from its tagged words
/// ([`Segmenter::tag`] of `text`, however obtained).
pub(crate) fn tokens_of_words<'a>(
    seg: &Segmenter,
    places: Option<&Places>,
    text: &'a str,
    words: Vec<Word<'_>>,
) -> (Vec<Token<'a>>, Vec<String>) {
    let named = places.map(|p| p.find(text, &words)).unwrap_or_default();
    let tokens: Vec<Token<'a>> = words
        .into_iter()
        // Person names say who, not what: 王桂兰's 机耕路 is everyone's 机耕路.
        .filter(|w| {
            w.text.chars().count() >= 2
                && !matches!(w.tag, "m" | "nr" | "nrt")
                && !seg.is_stopword(w.text)
        })
        .filter(|w| !w.text.chars().any(|c| c.is_ascii_digit()))
        .map(|w| {
            let place = w.tag == "ns"
                || w.text.ends_with(['村', '组', '镇', '乡', '县'])
                || w.text.ends_with("小区")
                || w.text.ends_with("社区");
            // A thing: a noun, an abbreviation, or a short set phrase (自来水). Verbal nouns
            // (维修, 清运) and four-character idioms (年久失修) say what is wrong with a thing;
            // shared, they would join different things.
            let noun = (w.tag.starts_with('n') && w.tag != "nr"
                || w.tag == "j"
                || w.tag == "l" && w.text.chars().count() < 4)
                && !ABSTRACT.contains(w.text)
                && !is_quantity(w.text);
            // The same word, borrowed from the text rather than from the tagger.
            (&text[w.start..w.end], place, noun)
        })
        .collect();
    // A fresh, exact allocation: collecting in place would keep the tagger's larger buffer alive
    // for as long as the tokens live (a million suggestions at once).
    (tokens.as_slice().to_vec(), named)
}

/// The vocabulary and vectors of a set of token lists.
pub(crate) struct Space {
    pub vocab: Vec<String>,
    /// Whether each vocabulary word names a place.
    pub place: Vec<bool>,
    /// Whether each vocabulary word is a noun.
    pub noun: Vec<bool>,
    /// Each document's vector (`vectors[k]`).
    pub vectors: Vectors,
}

/// Each document's vector, every distinct vector held once: the same suggestion made by many
/// (a form handed in by a whole village, a sentence a template puts in every note) is one
/// vector, whose band keys and pair tests are worked out once (100,000 generated documents:
/// 409k vectors, 30k distinct). Held together ([`Lists`]): at 1M documents a `Vec` each was 4M
/// heap blocks scattered over memory, and the steps that walk a group's members in order
/// (centroids, topic coherence) waited on memory more than they computed.
pub(crate) struct Vectors {
    distinct: Lists<(u32, f32)>,
    /// Which distinct vector each document has.
    of: Vec<u32>,
}

impl Vectors {
    /// The vectors `vector(0)`, …, `vector(n - 1)`, made on every worker.
    pub fn build(n: usize, vector: impl Fn(usize) -> Vec<(u32, f32)> + Sync) -> Vectors {
        let (distinct, of) = Lists::build_distinct(n, vector, |&(t, w)| {
            u64::from(t) << 32 | u64::from(w.to_bits())
        });
        Vectors { distinct, of }
    }

    /// How many documents.
    pub fn len(&self) -> usize {
        self.of.len()
    }

    /// Which distinct vector document `k` has ([`Vectors::distinct`]).
    pub fn class(&self, k: usize) -> usize {
        self.of[k] as usize
    }

    /// The distinct vectors, in order of first appearance.
    pub fn distinct(&self) -> &Lists<(u32, f32)> {
        &self.distinct
    }
}

impl std::ops::Index<usize> for Vectors {
    type Output = Terms;
    fn index(&self, k: usize) -> &Terms {
        &self.distinct[self.of[k] as usize]
    }
}

/// The count of word `w` in `acc`, made (with a copy of the word) when first met.
fn count<'m>(acc: &'m mut HashMap<Box<str>, WordCount>, w: &str) -> &'m mut WordCount {
    if !acc.contains_key(w) {
        acc.insert(w.into(), WordCount::default());
    }
    acc.get_mut(w).expect("just made")
}

/// What [`vectorise`] counts of a word over all documents.
#[derive(Default, Clone, Copy)]
struct WordCount {
    /// Documents it is in.
    df: u32,
    /// Ever tagged a place, or a noun.
    place: bool,
    noun: bool,
}

#[cfg(test)]
pub(crate) fn vectorise(docs: &[Vec<Token<'_>>], cfg: &ClusterConfig) -> Space {
    let same: Vec<u32> = (0..docs.len() as u32).collect();
    vectorise_with(&same, |k, f| f(&docs[k]), &|_| {}, cfg)
}

/// [`vectorise`] of the documents `0..same.len()`, document `k` being the `same[k]`th distinct
/// one (numbered from 0 in order of first appearance: documents with the same words have their
/// tokens made once). The tokens of distinct document `r` are made by `tokens(r, f)` when asked
/// and handed to `f` (twice each); as its vector is made, `done` is called with the number of
/// documents it stands for. The run keeps each
/// suggestion's words as byte ranges (8 bytes a word) and makes its tokens (24 bytes a word)
/// only while they are read, rather than holding every suggestion's tokens beside the vectors
/// (1M documents: the clustering step's peak); a large run reads the words themselves back
/// from outside memory for the moment they are read ([`diaoyan_model::Suggestion::read`]).
pub(crate) fn vectorise_with(
    same: &[u32],
    tokens: impl Fn(usize, &mut dyn FnMut(&[Token<'_>])) + Sync,
    done: &(dyn Fn(usize) + Sync),
    cfg: &ClusterConfig,
) -> Space {
    let n_docs = same.len();
    // How many documents each distinct one stands for.
    let mut times: Vec<u32> = Vec::new();
    for &r in same {
        let r = r as usize;
        if r == times.len() {
            times.push(0);
        }
        times[r] += 1;
    }
    // Each word's document frequency and whether it was ever a place or a noun, counted on
    // every worker over a share of the documents and then added up (counts and flags, so
    // the same whatever the shares): at 1M documents one thread counting took 3 s. A word is
    // copied once a share, when first met (the tokens are gone once read).
    let words: HashMap<Box<str>, WordCount> = (0..times.len())
        .into_par_iter()
        .fold(
            HashMap::default,
            |mut acc: HashMap<Box<str>, WordCount>, k| {
                tokens(k, &mut |d| {
                    // Each distinct word looked up once: its flags gathered over its uses.
                    let mut seen: Vec<(&str, bool, bool)> = d.to_vec();
                    seen.sort_unstable_by(|a, b| a.0.cmp(b.0));
                    for uses in seen.chunk_by(|a, b| a.0 == b.0) {
                        let e = count(&mut acc, uses[0].0);
                        e.df += times[k];
                        for &(_, p, n) in uses {
                            e.place |= p;
                            e.noun |= n;
                        }
                    }
                });
                acc
            },
        )
        .reduce(HashMap::default, |a, b| {
            crate::merge_maps(a, b, |e: &mut WordCount, x| {
                e.df += x.df;
                e.place |= x.place;
                e.noun |= x.noun;
            })
        });
    let n = n_docs.max(1) as f64;
    // Very common words carry no issue; in small runs every word is kept.
    let max_df = if n_docs < 50 {
        u32::MAX
    } else {
        (cfg.max_df * n).ceil() as u32
    };
    let mut vocab: Vec<&str> = words
        .iter()
        .filter(|(_, x)| x.df <= max_df)
        .map(|(w, _)| &**w)
        .collect();
    vocab.sort_unstable();
    let index: HashMap<&str, u32> = vocab
        .iter()
        .enumerate()
        .map(|(i, w)| (*w, i as u32))
        .collect();
    // What was counted of each vocabulary word, by its place in the vocabulary (looked up by its
    // letters once, not for every use of it), and from it the word's IDF and weight.
    let counted: Vec<WordCount> = vocab.par_iter().map(|&w| words[w]).collect();
    let idf: Vec<f32> = counted
        .iter()
        .map(|w| (n / f64::from(w.df)).ln() as f32 + 1.0)
        .collect();
    let boost: Vec<f32> = counted
        .iter()
        .map(|w| {
            if w.place {
                cfg.place_weight
            } else if w.noun {
                cfg.noun_weight
            } else {
                1.0
            }
        })
        .collect();
    let by_words = Vectors::build(times.len(), |k| {
        done(times[k] as usize);
        // The document's terms in vocabulary order, then counted a run at a time.
        let mut ids: Vec<u32> = Vec::new();
        tokens(k, &mut |d| {
            ids.extend(d.iter().filter_map(|(w, _, _)| index.get(w).copied()));
        });
        ids.sort_unstable();
        let mut terms: Vec<(u32, f32)> = ids
            .chunk_by(|a, b| a == b)
            .map(|run| {
                let (i, c) = (run[0] as usize, run.len() as f32);
                (run[0], (1.0 + c.ln()) * idf[i] * boost[i])
            })
            .collect();
        let norm = terms.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            for t in &mut terms {
                t.1 /= norm;
            }
        }
        terms
    });
    // Each document's vector is its distinct one's.
    let vectors = Vectors {
        of: same.iter().map(|&r| by_words.of[r as usize]).collect(),
        distinct: by_words.distinct,
    };
    Space {
        place: counted.iter().map(|w| w.place).collect(),
        noun: counted.iter().map(|w| w.noun).collect(),
        vocab: vocab.into_iter().map(str::to_owned).collect(),
        vectors,
    }
}

/// A vector hashed by term, for many dot products against one vector (a centroid): each costs the
/// length of the other vector only.
pub(crate) struct Dense(HashMap<u32, f32>);

impl Dense {
    pub fn of(v: &Terms) -> Dense {
        Dense(v.iter().copied().collect())
    }

    pub fn dot(&self, v: &Terms) -> f64 {
        f64::from(
            v.iter()
                .map(|(t, w)| w * self.0.get(t).copied().unwrap_or(0.0))
                .sum::<f32>(),
        )
    }
}

/// A vector as a slot per word of the vocabulary, for many dot products against one large vector
/// (a large group's centroid): each costs the other vector's length in array lookups. The same
/// products as [`Dense`] (a word it lacks weighs 0), added in the same order.
pub(crate) struct Flat(Vec<f32>);

impl Flat {
    pub fn of(v: &Terms, vocab: usize) -> Flat {
        let mut slots = vec![0.0; vocab];
        for &(t, w) in v {
            slots[t as usize] = w;
        }
        Flat(slots)
    }

    pub fn dot(&self, v: &Terms) -> f64 {
        f64::from(v.iter().map(|(t, w)| w * self.0[*t as usize]).sum::<f32>())
    }
}

/// Cosine of two unit vectors: their dot product.
pub(crate) fn cosine(a: &Terms, b: &Terms) -> f64 {
    f64::from(dots(a, b, |_| true).0)
}

/// The dot product of `a` and `b`, and the part of it over the terms `keep` accepts.
fn dots(a: &[(u32, f32)], b: &[(u32, f32)], keep: impl Fn(u32) -> bool) -> (f32, f32) {
    let (mut i, mut j, mut s, mut k) = (0, 0, 0.0f32, 0.0f32);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                let x = a[i].1 * b[j].1;
                s += x;
                if keep(a[i].0) {
                    k += x;
                }
                i += 1;
                j += 1;
            }
        }
    }
    (s, k)
}

/// The norm of a vector over the terms `keep` accepts.
fn norm_where(v: &Terms, keep: impl Fn(u32) -> bool) -> f32 {
    v.iter()
        .filter(|(t, _)| keep(*t))
        .map(|(_, x)| x * x)
        .sum::<f32>()
        .sqrt()
}

/// Cosine of `a` and `b` (unit vectors), and their cosine over the terms that are not place
/// names, renormalised by those terms' norms (`na`, `nb`, computed once per vector).
fn cosine_and_content(
    space: &Space,
    a: &[(u32, f32)],
    b: &[(u32, f32)],
    na: f32,
    nb: f32,
) -> (f64, f64) {
    let (s, k) = dots(a, b, |t| !space.place[t as usize]);
    let content = if na > 0.0 && nb > 0.0 {
        k / (na * nb)
    } else {
        0.0
    };
    (f64::from(s), f64::from(content))
}

/// A vector's nouns that are not place names, heaviest first (ties by term id).
fn ranked_things(space: &Space, v: &Terms) -> Vec<(u32, f32)> {
    let mut nouns: Vec<(u32, f32)> = v
        .iter()
        .copied()
        .filter(|(t, _)| space.noun[*t as usize] && !space.place[*t as usize])
        .collect();
    nouns.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    nouns
}

/// The `k` heaviest nouns of a vector that are not place names: what it is about.
fn main_things(space: &Space, v: &Terms, k: usize) -> Vec<u32> {
    ranked_things(space, v)
        .into_iter()
        .take(k)
        .map(|(t, _)| t)
        .collect()
}

/// Up to `k` main nouns of a group's summed vector that weigh at least half as much as its
/// heaviest: what most of its members are about (a noun a few members mention does not count).
fn leading_things(space: &Space, v: &Terms, k: usize) -> Vec<u32> {
    let nouns = ranked_things(space, v);
    let top = nouns.first().map_or(0.0, |n| n.1);
    nouns
        .into_iter()
        .take(k)
        .take_while(|n| n.1 >= 0.5 * top)
        .map(|(t, _)| t)
        .collect()
}

/// Whether two vectors name a common place.
fn same_place(space: &Space, a: &[(u32, f32)], b: &[(u32, f32)]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                if space.place[a[i].0 as usize] {
                    return true;
                }
                i += 1;
                j += 1;
            }
        }
    }
    false
}

/// The root of `x` in a union-find forest of `u32` parents (4 M documents: 16 MB, not 32, for
/// the joins of 60 M candidate pairs in no order the memory favours).
fn find(parent: &mut [u32], x: u32) -> u32 {
    let mut x = x as usize;
    while parent[x] as usize != x {
        parent[x] = parent[parent[x] as usize];
        x = parent[x] as usize;
    }
    x as u32
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        // The smaller index becomes the root: labels do not depend on edge order.
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent[hi as usize] = lo;
    }
}

/// Fills a vector's main-noun slots it has no noun for (no term id is this large).
const NO_TERM: u32 = u32::MAX;

/// Pairs tested together ([`kept_in_batches`]).
const BATCH: usize = 16;

/// The pairs `(a, b)` of a part of a list ([`PairList::blocks_in_parts`]) that `keep` accepts,
/// in order: each block on a worker, tested [`BATCH`] at a time: for a whole batch, `first(b)`
/// and then `then(b)` read what the test will need of each second member (`then` what `first`
/// leads to) before any pair of it is tested. The reads of a batch do not wait on one another,
/// so their waits on memory overlap. (At 1M documents nothing of this is in cache, and pair after
/// pair waited for its second vector's slot and then for its terms: a pair cost twice what it
/// does at 100k. 相似核对 went 12.7–14.4 → 8.0–8.8 s, 问题归并 8.6–9.5 → 5.8 s; packing the
/// slot alone, without batches, changed nothing.) What the reads give is only handed to
/// `black_box`, which keeps the compiler from leaving them out.
fn kept_in_batches<I: Iterator<Item = u64>, T: Send>(
    part: impl ParallelIterator<Item = I>,
    first: impl Fn(usize) -> usize + Sync,
    then: impl Fn(usize) -> usize + Sync,
    keep: impl Fn(u32, u32) -> Option<T> + Sync,
) -> Vec<T> {
    part.flat_map_iter(|block| {
        let block: Vec<u64> = block.collect();
        let mut out = Vec::new();
        for batch in block.chunks(BATCH) {
            let mut touched = 0;
            for &p in batch {
                touched ^= first(unpack(p).1 as usize);
            }
            for &p in batch {
                touched ^= then(unpack(p).1 as usize);
            }
            std::hint::black_box(touched);
            out.extend(batch.iter().filter_map(|&p| {
                let (a, b) = unpack(p);
                keep(a, b)
            }));
        }
        out
    })
    .collect()
}

/// Candidate pairs tested a part at a time, their kept pairs joined before the next part is
/// tested (4 M pairs: at 1M documents three in four of the 79 M candidates are kept, 0.5 GB held
/// at once as one list).
const KEPT_PART: usize = 1 << 22;

/// What the pair test reads of a vector ([`cluster`]).
#[repr(align(32))]
struct Pre<'a> {
    terms: &'a [(u32, f32)],
    things: [u32; 3],
    content_norm: f32,
}

/// Candidate pairs turned into pairs of groups at a time (32 M pairs, 256 MB).
const GROUP_PART: usize = 1 << 25;

/// Most MinHash rows per band (more would make candidates rarer than any useful setting).
pub const MAX_ROWS: usize = 16;

/// Each vocabulary word's MinHash base hash, from its letters rather than its place in the
/// vocabulary: a suggestion's band keys then depend on its own words alone. Hashed by place,
/// every word added to the vocabulary moved the places of the words after it, so an evening's
/// new material changed the band keys of suggestions it had nothing to do with: on 10,000 texts
/// with 1% added or changed, half of the candidate pairs among unchanged suggestions came and
/// went, and 2,816 unchanged suggestions (2.0% of those in an issue) left their issue for
/// another, 10 issues merging; hashed by letters, 14 and 1 (on 100,000 generated texts 15,763
/// and 6, issues 260 → 283; now 2 and none, 263 → 265).
fn word_hashes(vocab: &[String]) -> Vec<u64> {
    vocab.par_iter().map(|w| xxh3_64(w.as_bytes())).collect()
}

/// Bands whose keys are made in one pass over the vectors ([`band_keys`]). With two rows a band
/// a word's hashes for the group fill one 64-byte line. One band a pass read every vector's
/// terms 24 times (1M documents: 57 M terms, 0.46 GB, each time).
const BAND_GROUP: usize = 4;

/// Each word's hash under each seed of the bands `bands`, computed once per word rather than
/// once per occurrence: `out[(t * bands.len() + g) * rows + r]` for word `t`, the group's `g`th
/// band and row `r`.
fn band_hashes(word_hash: &[u64], bands: std::ops::Range<usize>, rows: usize) -> Vec<u64> {
    word_hash
        .par_iter()
        .flat_map_iter(|w| {
            bands.clone().flat_map(move |b| {
                (0..rows).map(move |r| xxh3_64_with_seed(&w.to_le_bytes(), (b * rows + r) as u64))
            })
        })
        .collect()
}

/// A vector's keys in the bands `bands` (at most [`BAND_GROUP`]): in each band its `rows`
/// MinHash values ([`band_hashes`]), in one pass over its words (each word's hashes for the
/// group lie side by side), hashed together with the band's number.
fn band_keys(
    v: &[(u32, f32)],
    hashed: &[u64],
    bands: std::ops::Range<usize>,
    rows: usize,
) -> [u64; BAND_GROUP] {
    let n = bands.len() * rows;
    let mut mins = [u64::MAX; BAND_GROUP * MAX_ROWS];
    let mins = &mut mins[..n];
    for (t, _) in v {
        let at = *t as usize * n;
        for (m, &x) in mins.iter_mut().zip(&hashed[at..at + n]) {
            *m = (*m).min(x);
        }
    }
    let mut keys = [0u64; BAND_GROUP];
    for ((key, b), mins) in keys.iter_mut().zip(bands).zip(mins.chunks(rows)) {
        let mut h = b as u64;
        for m in mins {
            h = xxh3_64_with_seed(&m.to_le_bytes(), h);
        }
        *key = h;
    }
    keys
}

/// Groups vectors into issues; returns for each vector the index of its group's first member.
pub(crate) fn cluster(
    space: &Space,
    cfg: &ClusterConfig,
    tick: &(dyn Fn(crate::Tick) + Sync),
) -> Vec<usize> {
    use crate::{Tick, step};
    let n = space.vectors.len();
    let bands = cfg.bands.max(1);
    // Checked when the pipeline file is read ([`ClusterConfig::check`]); kept in range here too
    // for callers that build a configuration in code.
    let rows = cfg.rows.clamp(1, MAX_ROWS);
    // Candidate pairs, one band at a time: the (band key, doc) list of a band is sorted, and
    // each bucket is kept ([`Buckets`]: about a byte a member); then each document that leads a
    // bucket gathers its later partners from all its buckets at once, into the sorted list of
    // distinct pairs (delta-coded, [`PairList`], about three bytes a pair).
    let mut buckets = Buckets::new(cfg.bucket_cap);
    step(tick, "候选配对", bands + PAIR_PARTS);
    // Each word hashed by its letters, not by its place in the vocabulary ([`word_hashes`]).
    let word_hash = word_hashes(&space.vocab);
    // The distinct vectors' keys in a group of bands at a time ([`BAND_GROUP`]), then band by
    // band in order: each band's (key, distinct vector) list sorted, and each bucket's members
    // (the documents of its vectors, in order) kept. The same vector has the same keys: sorting
    // the documents instead sorted each of them 24 times over.
    let distinct = space.vectors.distinct();
    let held: Vec<u32> = (0..distinct.len() as u32)
        .filter(|&c| !distinct[c as usize].is_empty())
        .collect();
    let docs_of = Lists::grouped(distinct.len(), n, |d| space.vectors.class(d));
    let mut members: Vec<u32> = Vec::new();
    for first in (0..bands).step_by(BAND_GROUP) {
        let group = first..(first + BAND_GROUP).min(bands);
        let hashed = band_hashes(&word_hash, group.clone(), rows);
        // Each distinct vector's keys (the same vector has the same keys).
        let grouped: Vec<[u64; BAND_GROUP]> = distinct
            .par_iter()
            .map(|v| band_keys(v, &hashed, group.clone(), rows))
            .collect();
        drop(hashed);
        // The (key, distinct vector) list of the group's band `g`.
        let band = |g: usize| -> Vec<(u64, u32)> {
            held.iter().map(|&c| (grouped[c as usize][g], c)).collect()
        };
        for g in 0..group.len() {
            let mut keys = band(g);
            keys.par_sort_unstable();
            // Each bucket links each of its first `bucket_cap` members to every member after it.
            for bucket in keys.chunk_by(|a, b| a.0 == b.0) {
                members.clear();
                for &(_, c) in bucket {
                    members.extend(docs_of[c as usize].iter().map(|&d| d as u32));
                }
                if bucket.len() > 1 {
                    members.sort_unstable();
                }
                buckets.add(&members);
            }
            tick(Tick::Done(1));
        }
    }
    let pairs = buckets.pairs(n, |k| tick(Tick::Done(k)));
    // What the pair test below reads of each distinct vector, millions of times and in no
    // order the memory favours, in one 32-byte slot: its terms (where they lie), its three main
    // nouns that are not place names ([`NO_TERM`] filling) and its norm over its words that are
    // not place names.
    let pre: Vec<Pre<'_>> = distinct
        .par_iter()
        .map(|v| {
            let mut things = [NO_TERM; 3];
            for (slot, x) in things.iter_mut().zip(main_things(space, v, 3)) {
                *slot = x;
            }
            Pre {
                terms: v,
                things,
                content_norm: norm_where(v, |t| !space.place[t as usize]),
            }
        })
        .collect();
    step(tick, "相似核对", pairs.len());
    // Whether two distinct vectors are joined: the test reads nothing else.
    let test = |pa: &Pre<'_>, pb: &Pre<'_>| {
        // The cheap test first: a pair about different things is never joined.
        if !pa
            .things
            .iter()
            .any(|t| *t != NO_TERM && pb.things.contains(t))
        {
            return false;
        }
        let (all, content) =
            cosine_and_content(space, pa.terms, pb.terms, pa.content_norm, pb.content_norm);
        if content < cfg.content_threshold {
            return false;
        }
        all >= cfg.threshold
            || all >= cfg.place_thing_threshold && same_place(space, pa.terms, pb.terms)
    };
    // Two documents with the same vector are joined if that vector is joined to itself, tested
    // once.
    let with_itself: Vec<bool> = pre.par_iter().map(|p| test(p, p)).collect();
    let class = |d: u32| space.vectors.class(d as usize);
    let joined = |a: u32, b: u32| {
        let (ca, cb) = (class(a), class(b));
        if ca == cb {
            with_itself[ca]
        } else {
            test(&pre[ca], &pre[cb])
        }
    };
    // In batches: the second vector's slot, then its first term, read ahead.
    // Joined a part at a time, in order ([`KEPT_PART`]).
    let mut parent: Vec<u32> = (0..n as u32).collect();
    let done = |n| tick(Tick::Done(n));
    for part in pairs.blocks_in_parts(KEPT_PART, &done) {
        let edges = kept_in_batches(
            part,
            |b| pre[space.vectors.class(b)].things[0] as usize,
            |b| {
                pre[space.vectors.class(b)]
                    .terms
                    .first()
                    .map_or(0, |t| t.0 as usize)
            },
            |a, b| joined(a, b).then_some((a, b)),
        );
        for (a, b) in edges {
            union(&mut parent, a, b);
        }
    }
    drop(pre);
    let mut label: Vec<usize> = (0..n as u32)
        .map(|x| find(&mut parent, x) as usize)
        .collect();

    // Split off members far from their group's centroid; part chains of several problems.
    refine_all(space, cfg, &mut label, Refine::StraysAndChains);
    merge_groups(space, cfg, &pairs, &mut label, tick);
    // Merging can still chain problems through groups of growing size (each joining the next
    // larger): a merged group most of whose members are far from its centroid is parted again;
    // a merged group that is one problem stays as it is.
    refine_all(space, cfg, &mut label, Refine::Chains);
    // Relabel each group by its smallest member.
    let mut first: Vec<usize> = vec![usize::MAX; n];
    for (d, &l) in label.iter().enumerate() {
        if first[l] == usize::MAX {
            first[l] = d;
        }
    }
    label.iter().map(|&l| first[l]).collect()
}

/// Average-link merges between groups that candidate pairs connect, two rounds: `label` (each
/// document's group, labelled by one of its members) is updated in place.
fn merge_groups(
    space: &Space,
    cfg: &ClusterConfig,
    pairs: &PairList,
    label: &mut [usize],
    tick: &(dyn Fn(crate::Tick) + Sync),
) {
    use crate::{Tick, step};
    let n = label.len();
    for _ in 0..2 {
        // The groups in the order of their labels: `at[l]` is the place of group `l`, so the
        // per-group facts below are vectors, and pairs of places sort as pairs of labels did.
        // (Each label present is marked 0 first, then numbered in order.)
        let mut at: Vec<u32> = vec![u32::MAX; n];
        for &l in label.iter() {
            at[l] = 0;
        }
        let mut label_at: Vec<usize> = Vec::new();
        for (l, a) in at.iter_mut().enumerate().filter(|(_, a)| **a == 0) {
            *a = label_at.len() as u32;
            label_at.push(l);
        }
        // Each document's group by its place, looked up once here rather than through its
        // label for every candidate pair it is in below (two reads far apart in memory).
        let group_of: Vec<u32> = label.par_iter().map(|&l| at[l]).collect();
        drop(at);
        // Each group's members, in order (most groups have one).
        let groups = Lists::grouped(label_at.len(), n, |d| group_of[d] as usize);
        // A group of one sums to its member's vector (0 + w is w): that vector, not a copy.
        let sums: Vec<Cow<'_, Terms>> = (0..groups.len())
            .into_par_iter()
            .with_max_len(GROUP_LEAF)
            .map(|x| match groups.get(x) {
                &[d] => Cow::Borrowed(&space.vectors[d]),
                m => Cow::Owned(sum(space, m).terms),
            })
            .collect();
        // Per group, computed once: its main nouns, and a hashed sum when it is large (a giant
        // group meets many neighbours; each dot product then costs the neighbour's length).
        let things: Vec<Vec<u32>> = sums
            .par_iter()
            .with_max_len(GROUP_LEAF)
            .map(|v| leading_things(space, v, 5))
            .collect();
        // …and the places at least half its members name: two groups are about the same place
        // only if such a place is common to both (a large group spanning many villages names
        // nearly every place once or twice, and is about none of them). A group of one or two
        // names all its places.
        let places: Vec<Vec<u32>> = (0..groups.len())
            .into_par_iter()
            .with_max_len(GROUP_LEAF)
            .map(|x| {
                let members = groups.get(x);
                let mut named: Vec<u32> = Vec::new();
                for &d in members {
                    named.extend(
                        space.vectors[d]
                            .iter()
                            .map(|t| t.0)
                            .filter(|&t| space.place[t as usize]),
                    );
                }
                named.sort_unstable();
                named
                    .chunk_by(|a, b| a == b)
                    .filter(|c| c.len() * 2 >= members.len())
                    .map(|c| c[0])
                    .collect()
            })
            .collect();
        let dense: Vec<Option<Dense>> = sums
            .par_iter()
            .with_max_len(GROUP_LEAF)
            .map(|v| (v.len() > 256).then(|| Dense::of(v)))
            .collect();
        // Pairs of groups, packed like the pairs of vectors, made from a part of the candidate
        // pairs at a time (on every worker, a block of pairs at a time: 79 M pairs at 1M
        // documents, each looking up two labels far apart in memory), sorted, and merged into a
        // delta-coded list. (Held whole, eight bytes a pair, they were the run's peak memory at
        // 1M documents: 632 MB. Each merge rewrites the list so far, so parts are large: in
        // ten parts, the 7.4 M pairs of 100k documents took 0.18 s instead of 0.10 s whole.)
        // (Each part sorted as a whole, not by the first document and then each document's
        // partners: one large group can be in most of these pairs, and its partners would be
        // sorted on one thread.)
        let mut group_pairs = PairList::default();
        for part in pairs.blocks_in_parts(GROUP_PART, &|_| ()) {
            let mut raw: Vec<u64> = part
                .flat_map_iter(|block| {
                    block
                        .map(unpack)
                        .map(|(a, b)| (group_of[a as usize], group_of[b as usize]))
                        .filter(|(x, y)| x != y)
                        .map(|(x, y)| pack(x, y))
                })
                .collect();
            raw.par_sort_unstable();
            raw.dedup();
            group_pairs = group_pairs.merged(&raw);
        }
        // The average pairwise cosine of two groups.
        let average = |x: usize, y: usize| {
            let dot = match (&dense[x], &dense[y]) {
                (Some(d), _) => d.dot(&sums[y]),
                (None, Some(d)) => d.dot(&sums[x]),
                (None, None) => cosine(&sums[x], &sums[y]),
            };
            dot / (groups.size(x) * groups.size(y)) as f64
        };
        // A pair of groups that may merge, with its average cosine.
        let merged = |x: u32, y: u32| {
            let (x, y) = (x as usize, y as usize);
            if !things[x].iter().any(|t| things[y].contains(t)) {
                return None;
            }
            let bar = if places[x].iter().any(|p| places[y].binary_search(p).is_ok()) {
                cfg.merge_threshold.min(cfg.place_thing_threshold)
            } else {
                cfg.merge_threshold
            };
            let score = average(x, y);
            (score >= bar).then_some((x, y, score))
        };
        // Each group joins at most one larger group: the one it is most like (ties: the first).
        // Joining every pair that passes would let one suggestion that tells two problems at
        // once join both, and through it the two problems (at 1M documents a group of 342,608
        // about pensions, grants, power and crop insurance).
        let mut best: Vec<(f64, u32)> = vec![(f64::NEG_INFINITY, u32::MAX); label_at.len()];
        // In batches, as the pairs of vectors above: the second group's records, then its
        // first noun and term, read ahead.
        step(tick, "问题归并", group_pairs.len());
        // Places are in label order, so the smallest place of a merged set is its smallest label.
        let mut gp: Vec<u32> = (0..label_at.len() as u32).collect();
        let mut merged_any = false;
        let done = |n| tick(Tick::Done(n));
        for part in group_pairs.blocks_in_parts(KEPT_PART, &done) {
            let merges = kept_in_batches(
                part,
                |y| {
                    things[y].len()
                        ^ sums[y].len()
                        ^ groups.size(y)
                        ^ usize::from(dense[y].is_some())
                },
                |y| {
                    things[y].first().map_or(0, |&t| t as usize)
                        ^ sums[y].first().map_or(0, |t| t.0 as usize)
                },
                merged,
            );
            merged_any |= !merges.is_empty();
            for (x, y, score) in merges {
                let (small, large) = if (groups.size(x), x) < (groups.size(y), y) {
                    (x, y)
                } else {
                    (y, x)
                };
                let b = &mut best[small];
                if score > b.0 || score == b.0 && (large as u32) < b.1 {
                    *b = (score, large as u32);
                }
            }
        }
        if !merged_any {
            break;
        }
        for (small, &(_, large)) in best.iter().enumerate() {
            if large != u32::MAX {
                union(&mut gp, small as u32, large);
            }
        }
        for (l, &x) in label.iter_mut().zip(&group_of) {
            *l = label_at[find(&mut gp, x) as usize];
        }
    }
}

/// What [`refine`] does to a group.
#[derive(Clone, Copy, PartialEq)]
enum Refine {
    /// Members far from the centroid leave it alone; a chain is parted.
    StraysAndChains,
    /// Only a chain is parted.
    Chains,
    /// Only members far from the centroid leave (a part of a chain).
    Strays,
}

/// The most groups one task of a per-group loop takes (rayon's `with_max_len`). Groups differ
/// in size by orders of magnitude, and the largest have nearby labels: left to rayon, a loop
/// over them is cut into a few long runs, and the run holding the largest groups kept one core
/// busy while the other had finished (100k documents: 问题汇总 at 1.1 of 2 cores). Most groups
/// are single suggestions, so a task takes a few dozen of them, not one.
const GROUP_LEAF: usize = 32;

/// [`refine`] of every group of three or more, relabelling the members that move.
fn refine_all(space: &Space, cfg: &ClusterConfig, label: &mut [usize], how: Refine) {
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::default();
    for (d, &l) in label.iter().enumerate() {
        groups.entry(l).or_default().push(d);
    }
    // One group a task: groups differ in size by orders of magnitude ([`GROUP_LEAF`]). Each
    // member is in one group, so the order the moves come in does not matter.
    let groups: Vec<(usize, Vec<usize>)> =
        groups.into_iter().filter(|(_, m)| m.len() >= 3).collect();
    let moved: Vec<Vec<(usize, usize)>> = groups
        .par_iter()
        .with_max_len(1)
        .map(|(l, members)| {
            let l = *l;
            let mut moved = Vec::new();
            refine(space, cfg, members, l, how, &mut moved);
            moved
        })
        .collect();
    for (d, l) in moved.into_iter().flatten() {
        label[d] = l;
    }
}

/// The members of a group (in order) that leave it, each with its new label: members less
/// similar than [`ClusterConfig::centroid_min`] to the group's centroid leave it alone. When
/// most members are that far, the group is not one problem but a chain of several (A~B~C~…:
/// at 10,000 documents one "issue" held 86,500 of 211,195 suggestions — houses, water, school
/// dormitories, loans — every one of them far from its centroid): it is parted by each member's heaviest noun
/// that is not a place name, and each part loses its own far members. `label` is the group's
/// label (one of its members): when that member leaves, the others take the smallest of them.
fn refine(
    space: &Space,
    cfg: &ClusterConfig,
    members: &[usize],
    label: usize,
    how: Refine,
    moved: &mut Vec<(usize, usize)>,
) {
    if members.len() < 3 {
        return;
    }
    debug_assert!(members.is_sorted());
    let centroid = Dense::of(&centroid(space, members));
    let is_far: Vec<bool> = members
        .iter()
        .map(|&d| centroid.dot(&space.vectors[d]) < cfg.centroid_min)
        .collect();
    let far = is_far.iter().filter(|&&f| f).count();
    if far * 2 <= members.len() || how == Refine::Strays {
        if how != Refine::Chains && far > 0 {
            let mut near = Vec::with_capacity(members.len() - far);
            for (&d, &f) in members.iter().zip(&is_far) {
                if f {
                    moved.push((d, d));
                } else {
                    near.push(d);
                }
            }
            // A far member keeping the group's label would stay in it: the others take the
            // smallest of them (members are in order).
            let label_leaves = members.binary_search(&label).is_ok_and(|i| is_far[i]);
            if let Some(&first) = near.first().filter(|_| label_leaves) {
                moved.extend(near.iter().map(|&d| (d, first)));
            }
        }
        return;
    }
    let mut parts: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for &d in members {
        let thing = main_things(space, &space.vectors[d], 1)
            .first()
            .copied()
            .unwrap_or(NO_TERM);
        parts.entry(thing).or_default().push(d);
    }
    for part in parts.values() {
        // Each part takes its smallest member that stays as its label (a part of one stands
        // alone); its far members leave it, each with its own label.
        let mut strays = Vec::new();
        refine(space, cfg, part, usize::MAX, Refine::Strays, &mut strays);
        let strays: std::collections::HashSet<usize> = strays.into_iter().map(|m| m.0).collect();
        let first = part.iter().copied().find(|d| !strays.contains(d));
        moved.extend(part.iter().map(|&d| match first {
            Some(f) if !strays.contains(&d) => (d, f),
            _ => (d, d),
        }));
    }
}

/// A candidate pair as one sortable number: the smaller document in the high half, so the
/// numbers sort as the pairs `(a, b)` do.
fn pack(a: u32, b: u32) -> u64 {
    (u64::from(a.min(b)) << 32) | u64::from(a.max(b))
}

fn unpack(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// The plain (unnormalised) sum of some vectors: for unit vectors, sum(A)·sum(B) / (|A|·|B|) is
/// the average pairwise cosine between the groups.
fn sum(space: &Space, members: &[usize]) -> Vector {
    // A large group (at 1M documents, hundreds of thousands of members): a slot per word rather
    // than a growing map. Each word's weights are added in member order either way, so the sums
    // keep their bits.
    if large(space, members) {
        sum_by_slots(space, members)
    } else {
        sum_by_map(space, members)
    }
}

fn sum_by_slots(space: &Space, members: &[usize]) -> Vector {
    let mut acc: Vec<f32> = vec![0.0; space.vocab.len()];
    let mut seen: Vec<bool> = vec![false; space.vocab.len()];
    for &d in members {
        for &(t, w) in &space.vectors[d] {
            acc[t as usize] += w;
            seen[t as usize] = true;
        }
    }
    let terms = (0..space.vocab.len() as u32)
        .filter(|&t| seen[t as usize])
        .map(|t| (t, acc[t as usize]))
        .collect();
    Vector { terms }
}

/// Whether a group is large enough for a slot per word ([`sum_by_slots`], [`Flat`]): setting
/// up the slots costs about a nanosecond a word of the vocabulary, a map some tens of
/// nanoseconds for each of its members' words (ten or so each).
pub(crate) fn large(space: &Space, members: &[usize]) -> bool {
    members.len() > space.vocab.len() / 256
}

fn sum_by_map(space: &Space, members: &[usize]) -> Vector {
    let mut acc: HashMap<u32, f32> =
        HashMap::with_capacity_and_hasher(members.len().min(1 << 12), Default::default());
    for &d in members {
        for &(t, w) in &space.vectors[d] {
            *acc.entry(t).or_default() += w;
        }
    }
    let mut terms: Vec<(u32, f32)> = acc.into_iter().collect();
    terms.sort_unstable_by_key(|t| t.0);
    Vector { terms }
}

/// The normalised mean of some vectors.
pub(crate) fn centroid(space: &Space, members: &[usize]) -> Vector {
    let mut v = sum(space, members);
    let norm = v.terms.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for t in &mut v.terms {
            t.1 /= norm;
        }
    }
    v
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A suggestion's band keys depend on its words, not on what else is in the vocabulary: the
    /// same words keep their keys when an evening's new material adds words before them (which
    /// moves their places in the sorted vocabulary), and other words get other keys.
    #[test]
    fn band_keys_depend_on_the_words_not_their_places_in_the_vocabulary() {
        let words = |v: &[&str]| -> Vec<String> { v.iter().map(|w| (*w).to_owned()).collect() };
        let before = words(&["修路", "村道", "硬化", "路灯"]);
        let after = words(&["修建", "修路", "安装", "村道", "垃圾", "硬化", "路灯"]);
        // 修路 + 硬化 + 路灯, at their places in each vocabulary (the weights do not matter).
        let at = |vocab: &[String], ws: &[&str]| -> Vec<(u32, f32)> {
            ws.iter()
                .map(|w| (vocab.iter().position(|x| x == w).unwrap() as u32, 1.0))
                .collect()
        };
        let doc = ["修路", "硬化", "路灯"];
        let (v1, v2) = (at(&before, &doc), at(&after, &doc));
        assert_ne!(v1, v2, "the places moved");
        let other = at(&after, &["安装", "垃圾", "村道"]);
        let (h1, h2) = (word_hashes(&before), word_hashes(&after));
        let rows = 2;
        let mut differ = 0;
        for first in (0..24).step_by(BAND_GROUP) {
            let group = first..first + BAND_GROUP;
            let (k1, k2) = (
                band_hashes(&h1, group.clone(), rows),
                band_hashes(&h2, group.clone(), rows),
            );
            let keys = band_keys(&v2, &k2, group.clone(), rows);
            assert_eq!(
                band_keys(&v1, &k1, group.clone(), rows),
                keys,
                "bands {group:?}"
            );
            let others = band_keys(&other, &k2, group.clone(), rows);
            differ += keys.iter().zip(&others).filter(|(a, b)| a != b).count();
            // A band's key is the same made alone or in a group (and, alone, what the keys
            // were when each band had a pass of its own), and bands differ from one another.
            for (g, b) in group.clone().enumerate() {
                let alone = band_keys(&v2, &band_hashes(&h2, b..b + 1, rows), b..b + 1, rows);
                assert_eq!(alone[0], keys[g], "band {b}");
            }
            assert!(keys.windows(2).all(|k| k[0] != k[1]), "{keys:?}");
        }
        assert!(differ >= 20, "{differ}");
        // A last group of fewer bands (24 bands with rows 3 in groups of 4 is whole; 5 is not).
        let tail = band_keys(&v2, &band_hashes(&h2, 4..5, 3), 4..5, 3);
        let grouped = band_keys(&v2, &band_hashes(&h2, 4..8, 3), 4..8, 3);
        assert_eq!(tail[0], grouped[0]);
        assert_eq!(tail[1..], [0; BAND_GROUP - 1]);
    }

    #[test]
    fn same_place_and_thing_join_at_a_lower_similarity() {
        let seg = Segmenter::builtin();
        let texts = [
            "柳溪村柑橘滞销，没有冷库，摘下来只能低价卖给上门的贩子",
            "柳溪村今年柑橘丰收却滞销，收购价压得很低",
            "青山村的路灯坏了大半年，晚上出门不安全",
        ];
        let docs: Vec<Vec<Token>> = texts.iter().map(|t| tokens(&seg, t)).collect();
        let cfg = ClusterConfig::default();
        let space = vectorise(&docs, &cfg);
        let labels = cluster(&space, &cfg, &|_| {});
        assert_eq!(labels[0], labels[1], "柳溪村 + 柑橘: one problem");
        assert_eq!(labels[2], 2);
        // Without the rule the two tellings stay apart: the rule is what joins them.
        let strict = ClusterConfig {
            place_thing_threshold: 1.0,
            ..ClusterConfig::default()
        };
        let labels = cluster(&vectorise(&docs, &strict), &strict, &|_| {});
        assert_ne!(labels[0], labels[1]);
    }

    /// Documents with the same words, vectorised once for all of them, get what each vectorised
    /// on its own gets: the same vocabulary (document frequencies counting every document, so
    /// the same words pass `max_df`), the same vectors to the bit, each distinct one held once;
    /// and the clustering over them is the same.
    #[test]
    fn documents_with_the_same_words_are_vectorised_once() {
        let seg = Segmenter::builtin();
        let texts = [
            "柳溪村柑橘滞销，没有冷库，摘下来只能低价卖给上门的贩子",
            "柳溪村今年柑橘丰收却滞销，收购价压得很低",
            "青山村的路灯坏了大半年，晚上出门不安全",
            "希望提高慢性病门诊报销比例，简化报销手续",
            "建议在柳溪村建一个小型冷库，帮助种植户错峰销售柑橘",
        ];
        // Sixty documents (max_df applies from fifty), most of them repeats, in a shuffled order.
        let mut next = xorshift(7);
        let pick: Vec<usize> = (0..60)
            .map(|k| if k < 5 { k } else { (next() % 5) as usize })
            .collect();
        let docs: Vec<Vec<Token>> = pick.iter().map(|&t| tokens(&seg, texts[t])).collect();
        let cfg = ClusterConfig {
            max_df: 0.3,
            ..ClusterConfig::default()
        };
        let each = vectorise(&docs, &cfg);
        // The distinct documents, numbered as first met.
        let mut firsts: Vec<usize> = Vec::new();
        let same: Vec<u32> = pick
            .iter()
            .map(|&t| match firsts.iter().position(|&f| pick[f] == t) {
                Some(r) => r as u32,
                None => {
                    firsts.push(pick.iter().position(|&x| x == t).unwrap());
                    (firsts.len() - 1) as u32
                }
            })
            .collect();
        let made = std::sync::Mutex::new(Vec::new());
        let once = vectorise_with(
            &same,
            |r, f| f(&docs[firsts[r]]),
            &|n| made.lock().unwrap().push(n),
            &cfg,
        );
        let made = made.into_inner().unwrap();
        assert_eq!(made.len(), 5, "one vector a distinct document");
        assert_eq!(
            made.iter().sum::<usize>(),
            60,
            "each standing for its documents"
        );
        assert_eq!(once.vocab, each.vocab);
        assert!(
            each.vocab.len()
                < docs
                    .iter()
                    .flatten()
                    .map(|t| t.0)
                    .collect::<std::collections::HashSet<_>>()
                    .len(),
            "max_df left every word in: the test shows nothing"
        );
        assert_eq!(once.vectors.len(), 60);
        assert_eq!(once.vectors.distinct().len(), 5);
        assert_eq!(each.vectors.distinct().len(), 5);
        for k in 0..60 {
            let bits = |v: &Terms| v.iter().map(|(t, w)| (*t, w.to_bits())).collect::<Vec<_>>();
            assert_eq!(
                bits(&once.vectors[k]),
                bits(&each.vectors[k]),
                "document {k}"
            );
        }
        assert_eq!(cluster(&once, &cfg, &|_| {}), cluster(&each, &cfg, &|_| {}));
    }

    /// A space of hand-made vectors: each document lists its words as (word, weight, noun);
    /// vectors are normalised, no word is a place.
    fn space_of(docs: &[Vec<(String, f32, bool)>]) -> Space {
        let mut vocab: Vec<String> = Vec::new();
        let mut noun: Vec<bool> = Vec::new();
        let mut vectors = Vec::new();
        for doc in docs {
            let mut terms: Vec<(u32, f32)> = doc
                .iter()
                .map(|(w, x, is_noun)| {
                    let t = vocab.iter().position(|v| v == w).unwrap_or_else(|| {
                        vocab.push(w.clone());
                        noun.push(*is_noun);
                        vocab.len() - 1
                    });
                    (t as u32, *x)
                })
                .collect();
            terms.sort_unstable_by_key(|t| t.0);
            let norm = terms.iter().map(|t| t.1 * t.1).sum::<f32>().sqrt();
            terms.iter_mut().for_each(|t| t.1 /= norm);
            vectors.push(terms);
        }
        Space {
            place: vec![false; vocab.len()],
            vocab,
            noun,
            vectors: Vectors::build(vectors.len(), |k| vectors[k].clone()),
        }
    }

    /// A test's stream of pseudo-random numbers from `seed` (xorshift64).
    pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    /// A large group's sum and dot products, taken with a slot per word, have the bits the maps
    /// give (the issue examples and titles hang on the order they set).
    #[test]
    fn slots_add_up_to_the_bits_maps_do() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let vocab = 50;
        let docs: Vec<Vec<(String, f32, bool)>> = (0..300)
            .map(|_| {
                let mut words: Vec<(String, f32, bool)> = Vec::new();
                for _ in 0..(next() % 9) {
                    let w = format!("w{}", next() % vocab);
                    if !words.iter().any(|x| x.0 == w) {
                        words.push((w, (next() % 1000) as f32 / 331.0 + 0.01, true));
                    }
                }
                words
            })
            .collect();
        let space = space_of(&docs);
        let mut checked = 0;
        for round in 0..40 {
            let members: Vec<usize> = (0..300).filter(|d| (d * 7 + round) % 5 < 2).collect();
            let (slots, map) = (sum_by_slots(&space, &members), sum_by_map(&space, &members));
            let bits = |v: &Vector| -> Vec<(u32, u32)> {
                v.terms.iter().map(|&(t, w)| (t, w.to_bits())).collect()
            };
            assert_eq!(bits(&slots), bits(&map), "round {round}");
            let c = centroid(&space, &members);
            let (flat, dense) = (Flat::of(&c, space.vocab.len()), Dense::of(&c));
            for d in 0..300 {
                let v = &space.vectors[d];
                assert_eq!(
                    flat.dot(v).to_bits(),
                    dense.dot(v).to_bits(),
                    "round {round}, {d}"
                );
                checked += usize::from(dense.dot(v) > 0.0);
            }
        }
        assert!(checked > 1000, "too few non-zero products: {checked}");
    }

    #[test]
    fn a_chain_of_problems_is_parted_by_what_each_is_about() {
        // Twelve problems, three tellings each, chained into one group (as a long single-link
        // chain does): every telling is far from the whole group's centroid.
        let docs: Vec<Vec<(String, f32, bool)>> = (0..36)
            .map(|d| {
                vec![
                    (format!("thing{}", d % 12), 1.0, true),
                    (format!("said{d}"), 0.4, false),
                ]
            })
            .collect();
        let space = space_of(&docs);
        let cfg = ClusterConfig::default();
        let members: Vec<usize> = (0..36).collect();
        let whole = Dense::of(&centroid(&space, &members));
        assert!(
            members
                .iter()
                .all(|&d| whole.dot(&space.vectors[d]) < cfg.centroid_min),
            "the premise: each member is far from the chain's centroid"
        );
        let moved = refined(&space, &members, 0, Refine::StraysAndChains);
        let label: HashMap<usize, usize> = moved.into_iter().collect();
        assert_eq!(label.len(), 36, "every member has its part's label");
        for d in 0..36 {
            // The three tellings of a problem are d, d + 12, d + 24: labelled by the first.
            assert_eq!(label[&d], d % 12, "member {d}");
        }
        // Refined without parting (as each part is), members that fit nowhere stand alone
        // rather than stay in a group they do not fit.
        let alone = refined(&space, &members, 0, Refine::Strays);
        assert_eq!(alone, (0..36).map(|d| (d, d)).collect::<Vec<_>>());
        // A chain that merging made is parted the same way.
        let after_merge = refined(&space, &members, 0, Refine::Chains);
        let again: HashMap<usize, usize> = after_merge.into_iter().collect();
        assert_eq!(again, label);
    }

    /// What [`refine`] moves of `members` (labelled `label`) with the default configuration.
    fn refined(space: &Space, members: &[usize], label: usize, how: Refine) -> Vec<(usize, usize)> {
        let mut moved = Vec::new();
        refine(
            space,
            &ClusterConfig::default(),
            members,
            label,
            how,
            &mut moved,
        );
        moved
    }

    /// Nine tellings of one problem and, at `stray`, one stray that a chain pulled in.
    fn one_problem_and_a_stray(stray: usize) -> Space {
        let mut docs: Vec<Vec<(String, f32, bool)>> = (0..9)
            .map(|d| {
                vec![
                    ("机耕路".to_owned(), 1.0, true),
                    (format!("said{d}"), 0.4, false),
                ]
            })
            .collect();
        docs.insert(stray, vec![("路灯".to_owned(), 1.0, true)]);
        space_of(&docs)
    }

    #[test]
    fn a_coherent_group_only_loses_its_strays() {
        let space = one_problem_and_a_stray(9);
        let members: Vec<usize> = (0..10).collect();
        let moved = refined(&space, &members, 0, Refine::StraysAndChains);
        assert_eq!(moved, vec![(9, 9)], "only the stray leaves, alone");
        // After merging only chains are parted: a merged group that is one problem keeps even
        // its strays (the merge judged the groups as wholes).
        assert!(refined(&space, &members, 0, Refine::Chains).is_empty());
    }

    /// A stray that is the group's label leaves it too: the others take a label of their own.
    #[test]
    fn a_stray_holding_the_groups_label_leaves_it() {
        let space = one_problem_and_a_stray(0);
        let mut label = vec![0; 10];
        refine_all(
            &space,
            &ClusterConfig::default(),
            &mut label,
            Refine::StraysAndChains,
        );
        assert_eq!(label, [0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
        // Labelled by a member that stays, nothing but the stray moves.
        let members: Vec<usize> = (0..10).collect();
        assert_eq!(
            refined(&space, &members, 5, Refine::StraysAndChains),
            vec![(0, 0)]
        );
    }

    #[test]
    fn a_suggestion_telling_two_problems_does_not_merge_them() {
        // Two problems of four tellings each, and one suggestion that tells both.
        let a = |d: usize| {
            vec![
                ("柑橘".to_owned(), 1.0, true),
                (format!("a{d}"), 0.3, false),
            ]
        };
        let b = |d: usize| {
            vec![
                ("路灯".to_owned(), 1.0, true),
                (format!("b{d}"), 0.3, false),
            ]
        };
        let mut docs: Vec<Vec<(String, f32, bool)>> = (0..4).map(a).chain((0..4).map(b)).collect();
        docs.push(vec![
            ("柑橘".to_owned(), 1.0, true),
            ("路灯".to_owned(), 1.0, true),
        ]);
        let space = space_of(&docs);
        // Every pair is a candidate; the tellings of each problem are already one group.
        let pairs: PairList = (0..9u32)
            .flat_map(|x| (x + 1..9).map(move |y| pack(x, y)))
            .collect();
        let cfg = ClusterConfig::default();
        let mut label = vec![0, 0, 0, 0, 4, 4, 4, 4, 8];
        merge_groups(&space, &cfg, &pairs, &mut label, &|_| {});
        // The two-problem suggestion joins the problem it is most like (a tie: the first).
        assert_eq!(label, vec![0, 0, 0, 0, 4, 4, 4, 4, 0]);
        // It is like both, which merging every passing pair would have joined through it.
        let sums = [sum(&space, &[0, 1, 2, 3]), sum(&space, &[4, 5, 6, 7])];
        for s in &sums {
            let average = cosine(s, &space.vectors[8]) / 4.0;
            assert!(average >= cfg.merge_threshold, "{average}");
        }
        assert!(
            cosine(&sums[0], &sums[1]) < 1e-6,
            "the problems themselves share nothing"
        );
    }

    #[test]
    fn groups_are_at_the_same_place_only_if_most_of_each_names_it() {
        // Two groups about the same thing, told in other words, whose average cosine (0.36)
        // lies between the same-place bar (0.25) and the general one (0.45).
        let space_with = |place: &dyn Fn(usize) -> String| {
            let member = |who: &str, d: usize| {
                let mut v = vec![
                    ("水渠".to_owned(), 1.0, true),
                    (format!("{who}{d}"), 1.3, false),
                ];
                v.push((place(d), 0.5, false));
                v
            };
            let docs: Vec<_> = (0..4)
                .map(|d| member("a", d))
                .chain((0..4).map(|d| member("b", d)))
                .collect();
            let mut space = space_of(&docs);
            for (t, w) in space.vocab.iter().enumerate() {
                space.place[t] = w.ends_with('村');
            }
            space
        };
        let pairs: PairList = (0..8u32)
            .flat_map(|x| (x + 1..8).map(move |y| pack(x, y)))
            .collect();
        let cfg = ClusterConfig::default();
        let merged = |space: &Space| {
            let mut label = vec![0, 0, 0, 0, 4, 4, 4, 4];
            merge_groups(space, &cfg, &pairs, &mut label, &|_| {});
            label[4] == label[0]
        };
        // Each member in another village: each group names all four once, is about none.
        let spread = space_with(&|d| format!("村{d}村"));
        let sums = [sum(&spread, &[0, 1, 2, 3]), sum(&spread, &[4, 5, 6, 7])];
        let average = cosine(&sums[0], &sums[1]) / 16.0;
        assert!((0.25..0.45).contains(&average), "{average}");
        assert!(same_place(&spread, &sums[0].terms, &sums[1].terms));
        assert!(
            !merged(&spread),
            "a village one member in four names is not the place"
        );
        // Every member in the same village: the same place, the lower bar.
        assert!(merged(&space_with(&|_| "石桥村".to_owned())));
    }

    #[test]
    fn leading_labels_are_not_content() {
        assert_eq!(strip_label("赵海波提出：建议修路"), "建议修路");
        assert_eq!(strip_label("主要难题:路烂"), "路烂");
        assert_eq!(strip_label("路烂"), "路烂");
        // A colon far into the text is part of it.
        assert_eq!(
            strip_label("石桥村三组的机耕路有两处塌方，雨天没法走：急"),
            "石桥村三组的机耕路有两处塌方，雨天没法走：急"
        );
    }

    #[test]
    fn same_problem_same_place_groups_and_other_places_do_not() {
        let seg = Segmenter::builtin();
        let texts = [
            "石桥村三组机耕路坑洼不平，一下雨就没法走",
            "石桥村三组的机耕路有两处塌方，雨天没法走",
            "希望尽快修好石桥村三组机耕路的坑洼",
            "河口村垃圾池十来天才清运一次，臭气熏天",
            "河口村垃圾清运不及时，垃圾池满了堆在路边",
            "新塘村卫生室没有医生坐诊",
            "石桥村三组的路灯坏了大半年",
        ];
        let docs: Vec<Vec<Token>> = texts.iter().map(|t| tokens(&seg, t)).collect();
        let space = vectorise(&docs, &ClusterConfig::default());
        let labels = cluster(&space, &ClusterConfig::default(), &|_| {});
        assert_eq!(labels[0], labels[1]);
        assert_eq!(labels[0], labels[2]);
        assert_eq!(labels[3], labels[4]);
        assert_ne!(labels[0], labels[3]);
        assert_eq!(labels[5], 5, "a one-off problem stays alone");
        assert_eq!(labels[6], 6, "the same village is not the same problem");
        // Deterministic.
        assert_eq!(labels, cluster(&space, &ClusterConfig::default(), &|_| {}));
    }
}
