//! Topics (专题) above issues: a policy, a facility or a programme that many people raise, each in
//! their own words and with their own case (my employer is registered elsewhere / my subsidy
//! stopped), so the suggestions are too different to make one issue but share one subject.
//!
//! A topic is found from a **key word**: a noun or place name (人才, 搅拌站, 丽发新城) that a
//! suggestion's text or its subject line (a table row's 留言主题, counted first) names. Candidates
//! are the key words shared by at least `min_size` suggestions and by at most `max_share` of them.
//! A candidate holds when its suggestions have more than the key word in common: the mean cosine
//! between suggestions of *different* issues, with the key word taken out, reaches
//! `min_coherence` (a district or a street name groups unrelated complaints and fails, and so do
//! two unrelated issues that share one word; 人才 groups many personal cases that share
//! 购房/补贴/申请/政策 and passes).
//! Candidates are taken by strength (coherence × ln size); one whose suggestions mostly belong to
//! an accepted topic joins it as another key word when it also covers most of that topic (丽发新城
//! and 搅拌站 are one topic); otherwise it is a topic of its own only when at least `min_size` of its
//! suggestions belong to no accepted topic. A longer form of a key word counts as the word (补课费
//! → 补课, 停车位 → 车位; place names keep their form). Each suggestion then joins the strongest
//! topic among its key words, its subject line's words first.
//!
//! Cost: every candidate's members are visited once with their sparse vectors, so the work is
//! linear in the total size of the vectors; there is no all-pairs step.

use crate::HashMap;
use crate::cluster::Space;
use crate::lists::Lists;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The `[suggest.topics]` table of a pipeline file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicConfig {
    /// Fewest suggestions a topic gathers (default 4).
    pub min_size: usize,
    /// Key words in more than this share of the suggestions are too broad (default 0.08).
    pub max_share: f64,
    /// Mean cosine between members of different issues without the key word (default 0.02).
    pub min_coherence: f64,
}

impl Default for TopicConfig {
    fn default() -> Self {
        Self {
            min_size: 4,
            max_share: 0.08,
            min_coherence: 0.02,
        }
    }
}

/// A topic found from key words: the words, the member positions (indices into the space), and
/// what its members say most about it besides the key words ([`about`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawTopic {
    pub keys: Vec<u32>,
    pub members: Vec<usize>,
    pub about: Vec<u32>,
}

/// Words a topic is said to be about, besides its key words: at most this many.
const ABOUT_WORDS: usize = 3;

/// What a topic's members say most about its subject besides the key words: the non-place key
/// words (nouns the dictionary knows) that at least three and a quarter of them name, ranked by
/// how many name them times how rare the word is in the run (a topic's own vocabulary, not
/// words every complaint uses: 小区 → 物业、停车、业主 rather than 政府、领导). `keys` and
/// `subject` are in canonical forms (a longer form of a key word is the word); `df[t]` counts
/// the suggestions naming `t`.
fn about(
    space: &Space,
    keys: &Lists<u32>,
    subject: &Lists<u32>,
    topic: &[u32],
    known: &(dyn Fn(u32) -> bool + Sync),
    members: &[usize],
    df: &HashMap<u32, usize>,
) -> Vec<u32> {
    let mut count: HashMap<u32, usize> = HashMap::default();
    for &k in members {
        each_with_words(keys, subject, k..k + 1, |_, words| {
            for &t in words {
                *count.entry(t).or_default() += 1;
            }
        });
    }
    let n = keys.len().max(1) as f64;
    let least = 3.max(members.len().div_ceil(4));
    let mut ranked: Vec<(f64, u32)> = count
        .into_iter()
        .filter(|&(t, c)| c >= least && !space.place[t as usize] && !topic.contains(&t) && known(t))
        .map(|(t, c)| {
            let idf = (n / df.get(&t).copied().unwrap_or(c).max(1) as f64).ln();
            (c as f64 * idf, t)
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| space.vocab[a.1 as usize].cmp(&space.vocab[b.1 as usize]))
    });
    ranked
        .into_iter()
        .take(ABOUT_WORDS)
        .map(|(_, t)| t)
        .collect()
}

/// Per-term sums a worker reuses from one candidate to the next ([`coherence`]): one slot per
/// word of the vocabulary, and the words a sum touched (to add them in word order and clear
/// them after); and the kept members' terms, copied as they are first read.
pub(crate) struct Sums {
    sum: Vec<f64>,
    seen: Vec<bool>,
    touched: Vec<u32>,
    terms: Vec<(u32, f32)>,
}

impl Sums {
    pub(crate) fn new(vocab: usize) -> Sums {
        Sums {
            sum: vec![0.0; vocab],
            seen: vec![false; vocab],
            touched: Vec::new(),
            terms: Vec::new(),
        }
    }

    fn add(&mut self, t: u32, w: f64) {
        let i = t as usize;
        if !self.seen[i] {
            self.seen[i] = true;
            self.touched.push(t);
        }
        self.sum[i] += w;
    }

    /// Adds the kept terms `from..to` of [`Sums::terms`], each divided by `norm`.
    fn add_kept(&mut self, from: usize, to: usize, norm: f64) {
        for j in from..to {
            let (x, w) = self.terms[j];
            self.add(x, f64::from(w) / norm);
        }
    }

    /// Σ over the touched words, in word order, of the word's sum squared; then clears them.
    fn squares(&mut self) -> f64 {
        self.touched.sort_unstable();
        let out = self
            .touched
            .iter()
            .map(|&t| {
                let s = self.sum[t as usize];
                s * s
            })
            .sum();
        for &t in &self.touched {
            self.sum[t as usize] = 0.0;
            self.seen[t as usize] = false;
        }
        self.touched.clear();
        out
    }
}

/// The mean cosine between members of *different* issues (`label[k]`; a suggestion in no issue
/// is its own), with the terms `out` (the key word and its longer forms) taken out of every vector. Pairs inside one issue are left out:
/// two tight issues that share one word are not a topic, while many different personal cases
/// of one policy are.
///
/// The sums are added per word in member order and their squares in word order, then issue
/// order, every run alike (a float sum taken in another order could flip a tie between equally
/// strong candidates; a test checks the result against ordered maps to the last bit). They go
/// into `sums`, one slot per word: a flat list of every (issue, word, weight) sorted twice did
/// the same, but at 1M documents a broad candidate's list (its members × their words × 24
/// bytes, and a sort's scratch) on each worker at once was the end of clustering's peak.
///
/// Each member's vector is read once, in member order: its terms without `out` are copied into
/// `sums.terms` (8 bytes a term) as its norm is taken and it is added to the total, and the
/// sums by issue read that copy. Read again from the vectors in issue order, a broad
/// candidate's members were scattered reads over all of them (1M documents: 0.46 GB), and the
/// step grew 26 times from 100k documents to 1M.
fn coherence(space: &Space, members: &[u32], out: &[u32], label: &[usize], sums: &mut Sums) -> f64 {
    // Kept members as (issue, norm without `out`, where their terms start in `sums.terms`),
    // in member order; a member with nothing but the key word counts as an issue of its own
    // sharing nothing.
    let mut kept: Vec<(usize, f64, usize)> = Vec::with_capacity(members.len());
    let mut alone = 0usize;
    sums.terms.clear();
    for &k in members {
        let k = k as usize;
        let from = sums.terms.len();
        sums.terms
            .extend(space.vectors[k].iter().filter(|(x, _)| !out.contains(x)));
        let rest: f64 = sums.terms[from..]
            .iter()
            .map(|(_, w)| f64::from(*w) * f64::from(*w))
            .sum();
        if rest <= 1e-12 {
            sums.terms.truncate(from);
            alone += 1;
            continue;
        }
        let norm = rest.sqrt();
        // Σ over words of the word's sum over all members (in member order) …
        sums.add_kept(from, sums.terms.len(), norm);
        kept.push((label[k], norm, from));
    }
    let total = sums.squares();
    // A kept member's terms end where the next one's start.
    let copied = sums.terms.len();
    let end = |i: usize| kept.get(i + 1).map_or(copied, |m| m.2);
    // … then the members by issue (stable: within one issue still in member order).
    let n = (kept.len() + alone) as f64;
    let mut order: Vec<u32> = (0..kept.len() as u32).collect();
    order.sort_by_key(|&i| kept[i as usize].0);
    let within_pairs: f64 = alone as f64
        + order
            .chunk_by(|&a, &b| kept[a as usize].0 == kept[b as usize].0)
            .map(|c| (c.len() as f64) * (c.len() as f64))
            .sum::<f64>();
    let cross_pairs = n * n - within_pairs;
    if cross_pairs <= 0.0 {
        return 0.0;
    }
    // … and Σ over issues (in order) of the same within the issue.
    let per_issue: f64 = order
        .chunk_by(|&a, &b| kept[a as usize].0 == kept[b as usize].0)
        .map(|issue| {
            for &i in issue {
                let (_, norm, from) = kept[i as usize];
                sums.add_kept(from, end(i as usize), norm);
            }
            sums.squares()
        })
        .sum();
    // ‖Σv‖² − Σ_g ‖Σ_g v‖² = the sum over ordered pairs from different groups of v_j·v_k.
    let cross = total - per_issue;
    (cross / cross_pairs).max(0.0)
}

/// The accepted topics holding each suggestion, in the order they took it: most hold one or
/// none, so the first is held in place and the rest beside it (a list per suggestion was 40
/// bytes each, 0.16 GB at 1M documents, at the top of clustering's peak).
struct Owners {
    first: Vec<u32>,
    more: HashMap<usize, Vec<u32>>,
}

impl Owners {
    const NONE: u32 = u32::MAX;

    fn new(n: usize) -> Owners {
        Owners {
            first: vec![Self::NONE; n],
            more: HashMap::default(),
        }
    }

    /// The topics holding `k`, in order.
    fn of(&self, k: usize) -> impl Iterator<Item = u32> + '_ {
        let first = Some(self.first[k]).filter(|&o| o != Self::NONE);
        first
            .into_iter()
            .chain(self.more.get(&k).into_iter().flatten().copied())
    }

    /// Topic `o` holds `k` too.
    fn push(&mut self, k: usize, o: u32) {
        if self.first[k] == Self::NONE {
            self.first[k] = o;
        } else {
            self.more.entry(k).or_default().push(o);
        }
    }
}

/// Each suggestion of `run` with its key words (in its text or its subject line, once each).
fn each_with_words(
    keys: &Lists<u32>,
    subject: &Lists<u32>,
    run: std::ops::Range<usize>,
    mut f: impl FnMut(usize, &[u32]),
) {
    let mut mine: Vec<u32> = Vec::new();
    for k in run {
        mine.clear();
        mine.extend(keys.get(k).iter().chain(subject.get(k)));
        mine.sort_unstable();
        mine.dedup();
        f(k, &mine);
    }
}

/// The runs of [`HOLDERS_RUN`] suggestions the workers take.
fn runs(n: usize) -> impl IndexedParallelIterator<Item = std::ops::Range<usize>> {
    (0..n.div_ceil(HOLDERS_RUN))
        .into_par_iter()
        .map(move |r| r * HOLDERS_RUN..n.min((r + 1) * HOLDERS_RUN))
}

/// How many suggestions hold each key word ([`holders`]' list lengths, without the lists).
fn holder_counts(keys: &Lists<u32>, subject: &Lists<u32>) -> HashMap<u32, usize> {
    runs(keys.len())
        .map(|run| {
            let mut out: HashMap<u32, usize> = HashMap::default();
            each_with_words(keys, subject, run, |_, words| {
                for &t in words {
                    *out.entry(t).or_default() += 1;
                }
            });
            out
        })
        .reduce(HashMap::default, |mut a, b| {
            for (t, c) in b {
                *a.entry(t).or_default() += c;
            }
            a
        })
}

/// The suggestions holding each key word (in their text or their subject line), in order.
fn holders(keys: &Lists<u32>, subject: &Lists<u32>) -> HashMap<u32, Vec<u32>> {
    // A run of suggestions on each worker, the runs' lists joined in order: each word's holders
    // stay in increasing order, as one pass over all of them gives.
    let parts: Vec<HashMap<u32, Vec<u32>>> = runs(keys.len())
        .map(|run| {
            let mut out: HashMap<u32, Vec<u32>> = HashMap::default();
            each_with_words(keys, subject, run, |k, words| {
                for &t in words {
                    out.entry(t).or_default().push(k as u32);
                }
            });
            out
        })
        .collect();
    // Each word's list made at its full length before the runs' parts are copied in (each part
    // let go once copied): grown by doubling, the lists and their old copies beside the parts
    // were the top of clustering's memory at 1M documents.
    let mut sizes: HashMap<u32, usize> = HashMap::default();
    for part in &parts {
        for (&t, ks) in part {
            *sizes.entry(t).or_default() += ks.len();
        }
    }
    let mut out: HashMap<u32, Vec<u32>> = sizes
        .into_iter()
        .map(|(t, len)| (t, Vec::with_capacity(len)))
        .collect();
    for part in parts {
        for (t, ks) in part {
            out.get_mut(&t)
                .expect("every word counted")
                .extend_from_slice(&ks);
        }
    }
    out
}

/// Suggestions one worker lists the holders of (see [`holders`]).
const HOLDERS_RUN: usize = 1 << 16;

/// Finds topics. `keys[k]` are the key words of suggestion `k` (noun and place terms of its
/// text) and `subject[k]` those of its subject line (counted first); `known(t)` whether the
/// dictionary knows word `t` (what a topic is said to be about are known words).
pub(crate) fn find(
    space: &Space,
    keys: Lists<u32>,
    subject: Lists<u32>,
    label: &[usize],
    known: &(dyn Fn(u32) -> bool + Sync),
    cfg: &TopicConfig,
    tick: &(dyn Fn(crate::Tick) + Sync),
) -> Vec<RawTopic> {
    let n = keys.len();
    let min_size = cfg.min_size.max(2);
    // In a small run (under 100 suggestions) a share means little: a key word may hold up to
    // two thirds of them.
    let max_df = if n < 100 {
        (n * 2).div_ceil(3)
    } else {
        (cfg.max_share * n as f64).ceil() as usize
    }
    .max(min_size);
    // A longer form of a key word counts as the word (补课费 → 补课, 停车位 → 车位, 养猪场 → 养猪):
    // the longest key word that starts or ends it, when that word is a key word of enough
    // suggestions itself. Place names keep their own form (丽发新城小区 is not 小区).
    let raw = holder_counts(&keys, &subject);
    let by_word: HashMap<&str, u32> = raw
        .iter()
        .filter(|(_, m)| **m >= min_size)
        .map(|(&t, _)| (space.vocab[t as usize].as_str(), t))
        .collect();
    let mut canon: HashMap<u32, u32> = HashMap::default();
    for &t in raw.keys() {
        if space.place[t as usize] {
            continue;
        }
        let w = space.vocab[t as usize].as_str();
        let chars: Vec<(usize, char)> = w.char_indices().collect();
        let m = chars.len();
        let mut best: Option<(usize, u32)> = None;
        for len in (2..m).rev() {
            let prefix = &w[..chars[len].0];
            let suffix = &w[chars[m - len].0..];
            for part in [prefix, suffix] {
                if let Some(&u) = by_word.get(part)
                    && !space.place[u as usize]
                    && best.is_none_or(|(l, b)| len > l || (len == l && u < b))
                {
                    best = Some((len, u));
                }
            }
            if best.is_some() {
                break;
            }
        }
        if let Some((_, u)) = best {
            canon.insert(t, u);
        }
    }
    drop(by_word);
    drop(raw);
    let canonical = |t: u32| canon.get(&t).copied().unwrap_or(t);
    let mut forms: HashMap<u32, Vec<u32>> = HashMap::default();
    for (&t, &u) in &canon {
        forms.entry(u).or_default().push(t);
    }
    let canonical_sets = |sets: &Lists<u32>| -> Lists<u32> {
        Lists::build(sets.len(), |k| {
            let mut v: Vec<u32> = sets.get(k).iter().map(|&t| canonical(t)).collect();
            v.sort_unstable();
            v.dedup();
            v
        })
    };
    // The key words as found are let go once their canonical forms are made (shadowing
    // would keep them to the end).
    let (found_keys, found_subject) = (keys, subject);
    let keys = canonical_sets(&found_keys);
    drop(found_keys);
    let subject = canonical_sets(&found_subject);
    drop(found_subject);
    // Candidates with their strength, strongest first (the word breaks ties: deterministic).
    let all_held = holders(&keys, &subject);
    // How many suggestions name each word (for what a topic is said to be about, [`about`]).
    let df: HashMap<u32, usize> = all_held.iter().map(|(&t, m)| (t, m.len())).collect();
    let held: Vec<(u32, Vec<u32>)> = all_held
        .into_iter()
        .filter(|(_, m)| (min_size..=max_df).contains(&m.len()))
        .collect();
    // Each candidate's coherence on its own (in parallel); the sort below fixes the order.
    crate::step(tick, "专题归并", held.len());
    let mut cands: Vec<(u32, f64, Vec<u32>)> = held
        .into_par_iter()
        .map_init(
            || Sums::new(space.vocab.len()),
            |sums, (t, m)| {
                tick(crate::Tick::Done(1));
                let mut out = vec![t];
                out.extend(forms.get(&t).into_iter().flatten().copied());
                let c = coherence(space, &m, &out, label, sums);
                (c >= cfg.min_coherence).then(|| (t, c * (m.len() as f64).ln(), m))
            },
        )
        .flatten()
        .collect();
    cands.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(b.2.len().cmp(&a.2.len()))
            .then(space.vocab[a.0 as usize].cmp(&space.vocab[b.0 as usize]))
    });

    let mut topics: Vec<RawTopic> = Vec::new();
    let mut owner = Owners::new(n); // accepted topics holding each k
    for (t, _, members) in cands {
        let members: Vec<usize> = members.into_iter().map(|k| k as usize).collect();
        let mut overlap: HashMap<u32, usize> = HashMap::default();
        for &k in &members {
            for o in owner.of(k) {
                *overlap.entry(o).or_default() += 1;
            }
        }
        let best = overlap
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(&o, &c)| (o, c));
        if let Some((o, c)) = best
            && c * 2 >= members.len()
        {
            let topic = &mut topics[o as usize];
            if c * 2 >= topic.members.len() {
                // The same subject under another word: one topic with both words.
                topic.keys.push(t);
                for &k in &members {
                    if !owner.of(k).any(|x| x == o) {
                        owner.push(k, o);
                        topic.members.push(k);
                    }
                }
                continue;
            }
            // A narrower subject inside a broader one (养猪场 among 水源污染): its own topic
            // when enough of its suggestions belong to no accepted topic yet.
            let free = members
                .iter()
                .filter(|&&k| owner.of(k).next().is_none())
                .count();
            if free < min_size {
                continue;
            }
        }
        let o = topics.len() as u32;
        for &k in &members {
            owner.push(k, o);
        }
        topics.push(RawTopic {
            keys: vec![t],
            members,
            about: Vec::new(),
        });
    }

    // Each suggestion joins one topic: the first accepted among its subject's key words, else
    // the first among all its key words.
    let mut assigned: Vec<Vec<usize>> = vec![Vec::new(); topics.len()];
    let mut key_topic: HashMap<u32, usize> = HashMap::default();
    for (o, tp) in topics.iter().enumerate() {
        for &t in &tp.keys {
            key_topic.insert(t, o);
        }
    }
    for k in 0..n {
        let pick = |ws: &[u32]| ws.iter().filter_map(|t| key_topic.get(t).copied()).min();
        if let Some(o) = pick(subject.get(k)).or_else(|| pick(keys.get(k))) {
            assigned[o].push(k);
        }
    }
    topics
        .into_par_iter()
        .zip(assigned)
        .filter(|(_, m)| m.len() >= min_size)
        .map(|(t, members)| RawTopic {
            about: about(space, &keys, &subject, &t.keys, known, &members, &df),
            keys: t.keys,
            members,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Vectors;
    use std::collections::BTreeMap;

    /// Holders listed in runs on every worker equal one pass over all suggestions: the same
    /// words, each with its suggestions in increasing order, once each; their counts alone
    /// are the lists' lengths.
    #[test]
    fn holders_in_runs_equal_one_pass() {
        let n = HOLDERS_RUN * 2 + 1234;
        let keys: Vec<Vec<u32>> = (0..n)
            .map(|k| vec![(k % 7) as u32, (k % 1000) as u32 + 10])
            .collect();
        let subject: Vec<Vec<u32>> = (0..n)
            .map(|k| {
                if k % 3 == 0 {
                    vec![(k % 7) as u32, 5000]
                } else {
                    vec![]
                }
            })
            .collect();
        let (keys_l, subject_l) = (
            Lists::build(n, |k| keys[k].clone()),
            Lists::build(n, |k| subject[k].clone()),
        );
        let got: BTreeMap<u32, Vec<u32>> = holders(&keys_l, &subject_l).into_iter().collect();
        // The counts alone are the lists' lengths.
        let counts: BTreeMap<u32, usize> = holder_counts(&keys_l, &subject_l).into_iter().collect();
        let lengths: BTreeMap<u32, usize> = got.iter().map(|(&t, m)| (t, m.len())).collect();
        assert_eq!(counts, lengths);
        let mut want: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for k in 0..n {
            let mut mine: Vec<u32> = keys[k].iter().chain(&subject[k]).copied().collect();
            mine.sort_unstable();
            mine.dedup();
            for t in mine {
                want.entry(t).or_default().push(k as u32);
            }
        }
        assert_eq!(got, want);
        assert_eq!(got[&5000].len(), n.div_ceil(3));
    }

    /// The sums of [`coherence`] taken with ordered maps, as it was first written: the flat
    /// list must give the very same number, to the last bit (ties between candidates hang on it).
    fn coherence_by_maps(space: &Space, members: &[usize], out: &[u32], label: &[usize]) -> f64 {
        let mut total: BTreeMap<u32, f64> = BTreeMap::new();
        let mut per: BTreeMap<usize, (BTreeMap<u32, f64>, usize)> = BTreeMap::new();
        let mut kept = 0usize;
        for &k in members {
            let v = &space.vectors[k];
            let rest: f64 = v
                .iter()
                .filter(|(x, _)| !out.contains(x))
                .map(|(_, w)| f64::from(*w) * f64::from(*w))
                .sum();
            kept += 1;
            if rest <= 1e-12 {
                per.entry(usize::MAX - k).or_default().1 += 1;
                continue;
            }
            let norm = rest.sqrt();
            let g = per.entry(label[k]).or_default();
            g.1 += 1;
            for &(x, w) in v {
                if !out.contains(&x) {
                    let w = f64::from(w) / norm;
                    *total.entry(x).or_default() += w;
                    *g.0.entry(x).or_default() += w;
                }
            }
        }
        let sq = |m: &BTreeMap<u32, f64>| m.values().map(|x| x * x).sum::<f64>();
        let n = kept as f64;
        let within: f64 = per.values().map(|(_, c)| (*c as f64) * (*c as f64)).sum();
        if n * n - within <= 0.0 {
            return 0.0;
        }
        let cross = sq(&total) - per.values().map(|(m, _)| sq(m)).sum::<f64>();
        (cross / (n * n - within)).max(0.0)
    }

    /// What a topic is said to be about: words that at least three and a quarter of its members
    /// name besides the key word, and that the dictionary knows (the segmenter's guesses at
    /// unknown names make pieces like 地省). A key word needs no dictionary.
    #[test]
    fn what_a_topic_is_said_to_be_about_are_known_words() {
        // Eight people, each their own case (own issue), share word 0 (a noun) and word 2 (a
        // verb: in the vectors, not a key word); three of them also name word 1. Twenty others
        // share nothing.
        let n = 28;
        let vocab = 3 + n;
        let vectors: Vec<Vec<(u32, f32)>> = (0..n)
            .map(|k| {
                let own = (3 + k as u32, 0.5);
                if k < 8 {
                    let mut v = vec![(0, 0.5), (2, 0.5), own];
                    if k < 3 {
                        v.insert(1, (1, 0.5));
                    }
                    v
                } else {
                    vec![own]
                }
            })
            .collect();
        let space = Space {
            vocab: (0..vocab).map(|t| format!("w{t}")).collect(),
            place: vec![false; vocab],
            noun: vec![true; vocab],
            vectors: Vectors::build(n, |k| vectors[k].clone()),
        };
        let keys = || {
            Lists::build(n, |k| {
                vectors[k]
                    .iter()
                    .map(|&(t, _)| t)
                    .filter(|&t| t != 2)
                    .collect()
            })
        };
        let subject = || Lists::build(n, |_| Vec::new());
        let label: Vec<usize> = (0..n).collect();
        let cfg = TopicConfig::default();
        let find_with = |known: &[bool]| {
            find(
                &space,
                keys(),
                subject(),
                &label,
                &|t| known[t as usize],
                &cfg,
                &|_| {},
            )
        };
        let mut known = vec![true; vocab];
        let found = find_with(&known);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].keys, vec![0]);
        assert_eq!(found[0].members, (0..8).collect::<Vec<_>>());
        assert_eq!(found[0].about, vec![1]);
        // What is said, unknown to the dictionary: not said.
        known[1] = false;
        assert_eq!(find_with(&known)[0].about, Vec::<u32>::new());
        // The key word unknown: the same topic (its title shows the word whole, see
        // `shown_key`).
        known[0] = false;
        assert_eq!(find_with(&known)[0].keys, vec![0]);
    }

    #[test]
    fn coherence_adds_up_exactly_as_ordered_maps_do() {
        let mut next = crate::cluster::tests::xorshift(0x9e37_79b9_7f4a_7c15);
        let n = 400;
        let vectors: Vec<Vec<(u32, f32)>> = (0..n)
            .map(|i| {
                // Some vectors hold only the key word (term 0), some nothing at all.
                let len = if i % 17 == 0 {
                    0
                } else {
                    (next() % 12) as usize
                };
                let mut terms: Vec<(u32, f32)> = (0..len)
                    .map(|_| ((next() % 60) as u32, (next() % 1000) as f32 / 997.0 + 0.001))
                    .collect();
                if i % 5 == 0 {
                    terms.push((0, 0.7));
                }
                terms.sort_by_key(|t| t.0);
                terms.dedup_by_key(|t| t.0);
                terms
            })
            .collect();
        let space = Space {
            vocab: (0..60).map(|t| format!("w{t}")).collect(),
            place: vec![false; 60],
            noun: vec![true; 60],
            vectors: Vectors::build(n, |k| vectors[k].clone()),
        };
        // Issues of several members, and members in none (their own label).
        let label: Vec<usize> = (0..n)
            .map(|k| if k % 3 == 0 { k } else { (k / 7) * 7 })
            .collect();
        let mut checked = 0;
        // One set of sums for every round, as a worker keeps it: each leaves it clear.
        let mut sums = Sums::new(space.vocab.len());
        for round in 0..60 {
            let size = 1 + (next() % 120) as usize;
            let mut members: Vec<usize> = (0..size).map(|_| (next() % n as u64) as usize).collect();
            members.sort_unstable();
            members.dedup();
            let out: Vec<u32> = if round % 2 == 0 {
                vec![0]
            } else {
                vec![0, 3, 4]
            };
            let want = coherence_by_maps(&space, &members, &out, &label);
            let as_u32: Vec<u32> = members.iter().map(|&k| k as u32).collect();
            let got = coherence(&space, &as_u32, &out, &label, &mut sums);
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "round {round}: {got} vs {want}"
            );
            checked += usize::from(want > 0.0);
        }
        assert!(
            checked > 10,
            "too few rounds with a coherence above zero: {checked}"
        );
    }
}
