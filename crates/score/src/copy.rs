//! Copy detection across submissions and against reference texts.
//!
//! Candidates come from winnowing (Schleimer, Wilkerson & Aiken 2003, the method behind MOSS):
//! every character k-gram of the normalised text is hashed, and the minimum hash of each window
//! of `w` consecutive k-grams is kept as a fingerprint. Fingerprints depend only on content, not
//! position, so any shared passage of `w + k - 1` characters or more shares a fingerprint — a
//! copied section inside a longer report is found as surely as a whole copy (whole-document
//! MinHash would miss it: its Jaccard is low). Fingerprints shared by more than `max_bucket`
//! documents are stock phrasing, not copying, and are dropped, which keeps candidate generation
//! near linear. Candidate pairs are then verified exactly: Jaccard and containment of the k-gram
//! sets, and the shared passages themselves.

use diaoyan_model::{CopyDirection, CopyPair, Texts};
use diaoyan_text::is_text_char;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use xxhash_rust::xxh3::xxh3_64;

/// The `[score.copy]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CopyConfig {
    /// Compare texts for copying at all (default true). Turn off for material where shared
    /// wording is expected and is not the question (one office's official replies).
    pub enabled: bool,
    /// Reference folders (templates, last year's reports); texts there are sources, never copiers
    /// (default: none here; the sample pipeline names `corpora/templates`).
    pub references: Vec<PathBuf>,
    /// Characters per shingle (default 8).
    pub shingle: usize,
    /// Winnowing window in shingles (default 16): passages of `shingle + window - 1` characters
    /// are always seen.
    pub window: usize,
    /// Fingerprints in more documents than this are stock phrasing and ignored (default 50).
    pub max_bucket: usize,
    /// …or in more than this share of all documents, whichever is smaller, but never fewer than
    /// 4 documents (default 0.05): in a campaign of 100 texts a passage in 6 of them is common
    /// phrasing, not one colleague copying another.
    pub max_bucket_share: f64,
    /// Fingerprints two documents must share to be compared (default 3).
    pub min_fingerprints: usize,
    /// Shared characters (normalised) for a pair to be reported (default 100).
    pub min_shared_chars: usize,
    /// Shortest shared run (normalised characters) that counts as a copied passage (default 50,
    /// about two sentences). Scattered sentence-length matches are common wording, not copying.
    pub min_run_chars: usize,
    /// Containment (share of one text found in the other) for a pair to be reported (default 0.2).
    pub min_containment: f64,
    /// Containment (counting stock phrasing too) at which two texts are near-identical and
    /// always reported, even when what they share is boilerplate (default 0.8).
    pub whole_containment: f64,
    /// Containment at which the copier is sent back (default 0.5).
    pub redo_containment: f64,
    /// Copied passages at least this long (normalised characters) send the copier back whatever
    /// the share (default 150, about five sentences: a whole section taken from a colleague).
    pub redo_shared_chars: usize,
    /// Texts shorter than this (normalised characters) are compared only for exact equality
    /// (default 40).
    pub short_chars: usize,
}

impl Default for CopyConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            references: Vec::new(),
            shingle: 8,
            window: 16,
            max_bucket: 50,
            max_bucket_share: 0.05,
            min_fingerprints: 3,
            min_shared_chars: 100,
            min_run_chars: 50,
            min_containment: 0.2,
            whole_containment: 0.8,
            redo_containment: 0.5,
            redo_shared_chars: 150,
            short_chars: 40,
        }
    }
}

impl CopyConfig {
    /// Settings that cannot work, as one Chinese reason each (empty when all is well).
    pub fn check(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.shingle < 2 {
            out.push(format!(
                "score.copy.shingle 须至少为 2 个字（现为 {}）",
                self.shingle
            ));
        }
        if self.window == 0 {
            out.push("score.copy.window 须至少为 1".to_owned());
        }
        if self.min_fingerprints == 0 {
            out.push("score.copy.min_fingerprints 须至少为 1".to_owned());
        }
        for (name, x) in [
            ("min_containment", self.min_containment),
            ("whole_containment", self.whole_containment),
            ("redo_containment", self.redo_containment),
        ] {
            if !(0.0..=1.0).contains(&x) {
                out.push(format!("score.copy.{name} 须在 0–1 之间（现为 {x}）"));
            }
        }
        if !(self.max_bucket_share > 0.0 && self.max_bucket_share <= 1.0) {
            out.push(format!(
                "score.copy.max_bucket_share 须大于 0 且不超过 1（现为 {}）",
                self.max_bucket_share
            ));
        }
        out
    }
}

/// A text taking part in copy detection.
#[derive(Debug, Clone, Copy)]
pub struct CopyDoc<'a> {
    /// Id (a submission id, or `ref:` + path).
    pub id: &'a str,
    /// Path shown to reviewers.
    pub path: &'a str,
    /// Author; pairs by the same author are not copying.
    pub author: &'a str,
    /// Date `YYYY-MM-DD` or empty.
    pub date: &'a str,
    /// The text.
    pub text: DocText<'a>,
    /// A reference text (template): only ever a source.
    pub reference: bool,
    /// Byte ranges of stock phrasing (boilerplate sentences). Between colleagues, a shared run
    /// lying mostly in stock phrasing is not copying; against a reference it still is.
    pub stock: &'a [(usize, usize)],
}

/// A text being compared: borrowed, or read back one at a time from where a large run keeps
/// its texts out of memory ([`Texts`]).
#[derive(Clone, Copy)]
pub enum DocText<'a> {
    /// The text itself.
    Here(&'a str),
    /// Text `i` of a run's texts.
    Kept(&'a dyn Texts, usize),
}

impl<'a> DocText<'a> {
    /// The text (read back when kept out of memory).
    pub fn get(&self) -> Cow<'a, str> {
        match *self {
            DocText::Here(s) => Cow::Borrowed(s),
            DocText::Kept(t, i) => t.text(i),
        }
    }

    /// The xxh3-128 of the text's bytes, by which the memo knows it: the holder's when it has
    /// one ([`Texts::digest`]), else hashed here.
    pub fn digest(&self) -> u128 {
        match *self {
            DocText::Kept(t, i) => t
                .digest(i)
                .unwrap_or_else(|| xxhash_rust::xxh3::xxh3_128(t.text(i).as_bytes())),
            DocText::Here(_) => xxhash_rust::xxh3::xxh3_128(self.get().as_bytes()),
        }
    }
}

impl<'a> From<&'a str> for DocText<'a> {
    fn from(s: &'a str) -> Self {
        DocText::Here(s)
    }
}

impl std::fmt::Debug for DocText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DocText::Here(s) => f.debug_tuple("Here").field(s).finish(),
            DocText::Kept(_, i) => f.debug_tuple("Kept").field(i).finish(),
        }
    }
}

/// What verifying a candidate pair measured: a function of the two texts (with their stock
/// phrasing) and the configuration only — not of paths, authors or dates — so a later run over
/// the same two texts can take it over ([`PairMemo`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// Jaccard similarity of the k-gram sets.
    pub similarity: f64,
    /// Share of the first text in shared passages.
    pub containment_a: f64,
    /// Share of the second text in shared passages.
    pub containment_b: f64,
    /// Characters of the first text in shared passages.
    pub shared_a: usize,
    /// Characters of the second text in shared passages.
    pub shared_b: usize,
    /// The longest shared passage, as the first text has it.
    pub excerpt: String,
}

/// A candidate pair by its two texts: xxh3-128 of each text, the copier side first.
pub type PairKey = (u128, u128);

/// Candidate pairs verified by a run, by their texts: `None` when the pair was no copy. Passed
/// to the next run's detection, which then verifies only pairs it has not seen (a new or changed
/// text); it is replaced by that run's pairs.
pub type PairMemo = HashMap<PairKey, Option<Measured>>;

/// What a run's copy detection leaves for the next run, both by the texts (xxh3-128): the
/// candidate pairs it verified, and every text's [`Print`]. The next run then fingerprints only
/// new or changed texts and verifies only pairs it has not seen; the memo is replaced by that
/// run's. Valid only for the same [`CopyConfig`] (the pipeline's cache stamp covers it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CopyMemo {
    /// Verified candidate pairs.
    pub pairs: PairMemo,
    /// Each text's fingerprints, by its key, in key order (each key once): matched to the next
    /// run's texts by walking both in key order ([`take_prints`]), with no hashing.
    pub prints: Vec<(u128, Print)>,
}

/// How much work detection did.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct CopyStats {
    /// Documents fingerprinted.
    pub documents: usize,
    /// Texts fingerprinted in this run (the others' fingerprints were taken over from an
    /// earlier run: the same text).
    pub fingerprinted: usize,
    /// Fingerprints indexed.
    pub fingerprints: usize,
    /// Fingerprints dropped as stock phrasing.
    pub common_fingerprints: usize,
    /// Candidate pairs verified exactly.
    pub candidates: usize,
    /// Distinct candidate pairs measured in this run.
    pub measured: usize,
    /// Distinct candidate pairs whose measurement was taken over from an earlier run (the same
    /// two texts).
    pub taken_over: usize,
    /// Pairs reported.
    pub pairs: usize,
}

/// What a text gives copy detection before the candidates are known: its length in normalised
/// characters and its fingerprints (or, if short, the hash of the whole of it). A function of
/// the text and the configuration only, so a later run can take it over ([`CopyMemo`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Print {
    chars: usize,
    read: Read,
}

impl Print {
    /// Its fingerprints (none for a short text).
    fn fingerprints(&self) -> &[u64] {
        match &self.read {
            Read::Fingerprints(f) => f,
            _ => &[],
        }
    }
}

impl Print {
    /// The print of `text` under `cfg`, as copy detection makes it.
    pub fn of(text: &str, cfg: &CopyConfig) -> Print {
        print_of(text, cfg, &mut Vec::new(), &mut Vec::new())
    }
}

/// Which of many reference texts can change what copy detection says of a few texts
/// ([`crate::Scorer::score_against`]; `diaoyan check --against` a large run).
///
/// Candidates come only from fingerprints the texts share (or, for short texts, the whole
/// text), and a fingerprint held by more than the bucket cap's texts is stock phrasing. So a
/// reference matters only by fingerprints of the scored texts it holds, and of each such
/// fingerprint it matters only that the bucket holds the same texts while it is under the cap,
/// and stays over the cap when it is over it. The probe keeps every reference with a
/// fingerprint of the scored texts whose bucket has fewer than `max_bucket + 1` texts kept so
/// far (the largest the cap can be), and those equal to a short scored text; the rest are
/// left out and only counted — the cap's share is of all texts, so scoring is told how many
/// ([`crate::Scorer::score_against`]'s `unseen`). Copy detection over the kept ones then finds
/// the pairs it would find over all of them. References must be offered in the order they
/// will be passed, after every text passed in any case ([`CopyProbe::hold`]).
#[derive(Debug, Clone)]
pub struct CopyProbe {
    /// Bucket places left, by fingerprint of a scored text.
    room: HashMap<u64, u32>,
    /// Whole-text hashes of the short scored texts.
    exact: std::collections::HashSet<u64>,
}

impl CopyProbe {
    /// A probe for copy detection over `scored` (the texts detection compares: not opinion
    /// rows) under `cfg`.
    pub fn new<'t>(scored: impl IntoIterator<Item = &'t str>, cfg: &CopyConfig) -> CopyProbe {
        let mut probe = CopyProbe {
            room: HashMap::new(),
            exact: std::collections::HashSet::new(),
        };
        let places = cfg.max_bucket.max(4) as u32 + 1;
        let prints: Vec<Print> = scored.into_iter().map(|t| Print::of(t, cfg)).collect();
        for p in &prints {
            match &p.read {
                Read::Fingerprints(f) => {
                    for &h in f {
                        probe.room.insert(h, places);
                    }
                }
                Read::Exact(h) => {
                    probe.exact.insert(*h);
                }
                Read::Nothing => {}
            }
        }
        for p in &prints {
            probe.hold(p);
        }
        probe
    }

    /// A text passed to detection whatever it holds (a scored text, a template): it takes its
    /// places in the buckets.
    pub fn hold(&mut self, p: &Print) {
        for h in p.fingerprints() {
            if let Some(r) = self.room.get_mut(h) {
                *r = r.saturating_sub(1);
            }
        }
    }

    /// Whether the reference printed `p` is to be passed to detection (then it takes its
    /// places); `false`: leave it out and count it.
    pub fn keep(&mut self, p: &Print) -> bool {
        let keep = match &p.read {
            Read::Nothing => false,
            Read::Exact(h) => self.exact.contains(h),
            Read::Fingerprints(f) => f.iter().any(|h| self.room.get(h).is_some_and(|&r| r > 0)),
        };
        if keep {
            self.hold(p);
        }
        keep
    }
}

/// The content of a [`Print`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Read {
    /// No character that counts.
    Nothing,
    /// A short text: the hash of its whole normalised text.
    Exact(u64),
    /// Its fingerprints, sorted and distinct.
    Fingerprints(#[serde(with = "le_bytes")] Vec<u64>),
}

/// Fingerprints kept for the next run as one string of bytes (eight each, little-endian)
/// rather than number by number: a fingerprint is a hash, so a variable-length number took
/// nine bytes and the slow path of bincode's decoder (at 1M documents, 54 M of them: most of
/// the 1.8 s a re-run spent loading the copy memo before its progress bar appeared).
mod le_bytes {
    use serde::{Deserializer, Serializer, de};

    pub(super) fn serialize<S: Serializer>(v: &[u64], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        s.serialize_bytes(&bytes)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
        struct Bytes;
        impl de::Visitor<'_> for Bytes {
            type Value = Vec<u64>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("fingerprints, eight bytes each")
            }
            fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Vec<u64>, E> {
                if !b.len().is_multiple_of(8) {
                    return Err(E::invalid_length(b.len(), &self));
                }
                Ok(b.chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().expect("eight bytes")))
                    .collect())
            }
        }
        d.deserialize_bytes(Bytes)
    }
}

/// Normalised text: the characters that count (Han, letters, digits). Their byte offsets in the
/// text ([`offsets_of`]) are found only for a pair that may be a copy: kept for every text to
/// verify, they were two thirds of this (8 of 12 bytes a character; 100,000 documents: 178 MB
/// of normalised texts at the copy stage, the run's peak).
struct Norm {
    chars: Vec<char>,
}

/// A character as copy detection sees it: Han, letters and digits, full-width ASCII folded and
/// lower-cased; `None` for what does not count (spaces, punctuation).
fn norm_char(c: char) -> Option<char> {
    if !is_text_char(c) {
        return None;
    }
    let c = match c {
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => {
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        _ => c,
    };
    Some(c.to_ascii_lowercase())
}

/// Calls `f` with the byte offset and the normalised form of each of `text`'s characters that
/// counts ([`norm_char`]), in order: the one walk over a text's normalised characters (its
/// array, their offsets, its window hashes). The common Han character (three bytes,
/// U+4E00–U+9FFF: counted, unchanged) and ASCII are decoded and judged here; anything else goes
/// through [`norm_char`]. (`chars().filter_map(norm_char)` was two fifths of hashing a text's
/// windows.)
#[inline]
fn each_norm_char(text: &str, mut f: impl FnMut(usize, char)) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let lead = b[i];
        if lead < 0x80 {
            i += 1;
            if lead.is_ascii_alphanumeric() {
                f(i - 1, char::from(lead.to_ascii_lowercase()));
            }
            continue;
        }
        if (0xE4..=0xE9).contains(&lead) {
            // Three bytes from U+4000 to U+9FFF: `text` is UTF-8, so both follow.
            let c = (u32::from(lead & 0x0F) << 12)
                | (u32::from(b[i + 1] & 0x3F) << 6)
                | u32::from(b[i + 2] & 0x3F);
            if c >= 0x4E00 {
                f(
                    i,
                    char::from_u32(c).expect("a Han character, below the surrogates"),
                );
                i += 3;
                continue;
            }
        }
        let c = text[i..].chars().next().expect("a character starts here");
        if let Some(n) = norm_char(c) {
            f(i, n);
        }
        i += c.len_utf8();
    }
}

fn normalise(text: &str) -> Norm {
    let mut chars = Vec::with_capacity(text.len() / 3);
    normalise_into(text, &mut chars);
    chars.shrink_to_fit();
    Norm { chars }
}

/// The byte offset in `text` of each of its normalised characters ([`normalise`]'s, in order).
fn offsets_of(text: &str) -> Vec<u32> {
    let mut out = Vec::with_capacity(text.len() / 3);
    each_norm_char(text, |i, _| out.push(diaoyan_model::text_offset(i)));
    out
}

/// [`normalise`]'s characters only, into a reused buffer.
fn normalise_into(text: &str, chars: &mut Vec<char>) {
    chars.clear();
    each_norm_char(text, |_, c| chars.push(c));
}

/// Hashes of every `k`-character window, into `out`: xxh3 over the characters' code points (4
/// bytes each), no string built per window. Their winnowed minima are the fingerprints.
fn shingles_into(chars: &[char], k: usize, out: &mut Vec<u64>) {
    out.clear();
    if chars.len() < k {
        return;
    }
    let mut buf = vec![0u8; k * 4];
    out.extend((0..=chars.len() - k).map(|i| {
        for (slot, c) in buf.chunks_exact_mut(4).zip(&chars[i..i + k]) {
            slot.copy_from_slice(&(*c as u32).to_le_bytes());
        }
        xxh3_64(&buf)
    }));
}

/// Hashes of every `k`-character window for comparing two texts exactly (not fingerprints:
/// those come from [`shingles_into`], whose values pick the candidates). A Karp-Rabin rolling hash
/// modulo the prime 2^61 - 1, so each window costs a few multiplications instead of a hash over
/// a copied buffer; two different windows share a value with probability at most k / 2^61.
/// The values are then mixed (a bijection) so every bit is usable by a hash set that takes the
/// key as its own hash.
fn window_hashes(c: &[char], k: usize) -> Vec<u64> {
    let mut roll = Rolling::new(k);
    c.iter().filter_map(|&c| roll.push(c)).collect()
}

/// [`window_hashes`] of a text's normalised characters ([`normalise`]) without making them: the
/// other text of a candidate pair is hashed straight from its bytes (no `Vec<char>` of four
/// bytes a character written and read again for each pair).
fn window_hashes_of_text(text: &str, k: usize) -> Vec<u64> {
    let mut roll = Rolling::new(k);
    let mut out = Vec::with_capacity((text.len() / 3).saturating_sub(k.saturating_sub(1)));
    each_norm_char(text, |_, c| {
        if let Some(h) = roll.push(c) {
            out.push(h);
        }
    });
    out
}

/// The rolling hash of [`window_hashes`]: fed the characters one by one, it gives the hash of
/// the last `k` once it has seen `k`. Karp-Rabin modulo the prime P = 2^61 - 1; the state is
/// kept below 2^61 + 8 but not reduced on the way (each step is a multiplication and a fold, not
/// three reductions one after the other), and reduced only for the value given out: the values
/// are those of reducing at every step.
struct Rolling {
    /// Character `i` is kept at `i % k` until character `i + k` takes its place (0 before).
    ring: Vec<u64>,
    at: usize,
    seen: usize,
    h: u64,
    /// BASE^k: the weight of the character leaving the window, as the new one comes in.
    top: u64,
}

impl Rolling {
    const P: u64 = (1 << 61) - 1;
    const BASE: u64 = 0x1d2f_4b69_a3c7_e58d % Self::P;

    fn new(k: usize) -> Rolling {
        Rolling {
            ring: vec![0; k],
            at: 0,
            seen: 0,
            h: 0,
            top: (0..k).fold(1, |p, _| Self::mul(p, Self::BASE)),
        }
    }

    /// Below 2P back below P.
    fn red(v: u64) -> u64 {
        if v >= Self::P { v - Self::P } else { v }
    }

    /// `a * b` mod P, for `a`, `b` below P.
    fn mul(a: u64, b: u64) -> u64 {
        let x = u128::from(a) * u128::from(b);
        Self::red((x as u64 & Self::P) + (x >> 61) as u64)
    }

    /// A bijection on u64 (splitmix64's finaliser): every bit of the value usable by a hash
    /// set that takes the key as its own hash.
    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[inline]
    fn push(&mut self, c: char) -> Option<u64> {
        let k = self.ring.len();
        if k == 0 {
            return None;
        }
        let x = u64::from(c);
        // h·BASE + x − gone·BASE^k (mod P). With h < 2^61 + 8: h·BASE < 2^123, its fold
        // below 2^61 + 2^62; adding x (< 2^21) and P − gone keeps it below 2^63 + 2^21;
        // folding that leaves it at most P + 4.
        let gone = Self::mul(self.ring[self.at], self.top);
        let t = u128::from(self.h) * u128::from(Self::BASE);
        let s = (t as u64 & Self::P) + (t >> 61) as u64;
        let u = s + x + (Self::P - gone);
        self.h = (u & Self::P) + (u >> 61);
        self.ring[self.at] = x;
        self.at = if self.at + 1 == k { 0 } else { self.at + 1 };
        self.seen += 1;
        (self.seen >= k).then(|| Self::mix(Self::red(self.h)))
    }
}

/// A hasher for keys that are already hashes (the exact-text index): the key is its own hash.
#[derive(Default)]
pub(crate) struct KeyIsHash(u64);

impl std::hash::Hasher for KeyIsHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed here; anything else is folded in, still correct.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
}

/// Distinct window hashes (one text's, or the windows two texts share): open addressing with
/// linear probing in a power-of-two table at most half full. The values are well mixed already,
/// so their low bits pick the slot; for the few thousand values of one text this costs a
/// fraction of a general hash set, and copy verification builds one or two per candidate pair.
///
/// Most values looked up are not there (most candidate pairs are no copy), so a bit per value
/// chosen by its high bits, in a bitmap of 16 bits per value, answers first: a clear bit means
/// absent without touching the table. The bitmap (16 KB for 8,000 windows) stays in the
/// fastest cache where the table does not. The lookups were half of verifying the pairs (10k
/// documents: 57 k candidate pairs; lookups 8% of the samples on the pipeline's threads, the
/// whole verification 15%).
struct WindowSet {
    /// 0 marks an empty slot; the value 0 itself is kept in `zero`.
    slots: Vec<u64>,
    /// Bit `x >> shift` set for each value `x` kept.
    bits: Vec<u64>,
    shift: u32,
    zero: bool,
    len: usize,
}

impl WindowSet {
    fn of(values: &[u64]) -> WindowSet {
        let cap = (values.len() * 2).next_power_of_two().max(16);
        let mask = cap - 1;
        let nbits = (values.len() * 16).next_power_of_two().max(1024);
        let mut s = WindowSet {
            slots: vec![0; cap],
            bits: vec![0; nbits / 64],
            shift: 64 - nbits.trailing_zeros(),
            zero: false,
            len: 0,
        };
        for &x in values {
            if x == 0 {
                s.len += usize::from(!s.zero);
                s.zero = true;
                continue;
            }
            let bit = (x >> s.shift) as usize;
            s.bits[bit / 64] |= 1 << (bit % 64);
            let mut i = x as usize & mask;
            loop {
                let y = s.slots[i];
                if y == x {
                    break;
                }
                if y == 0 {
                    s.slots[i] = x;
                    s.len += 1;
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        s
    }

    /// Whether the set holds `x` (detection asks for many windows at once: [`each_held`]).
    ///
    /// [`each_held`]: WindowSet::each_held
    #[cfg(test)]
    fn contains(&self, x: u64) -> bool {
        if x == 0 {
            return self.zero;
        }
        self.has_bit(x) && self.in_table(x)
    }

    /// Whether the bitmap has `x`'s bit (every value the set holds has its bit, except 0).
    fn has_bit(&self, x: u64) -> bool {
        let bit = (x >> self.shift) as usize;
        self.bits[bit / 64] & (1 << (bit % 64)) != 0
    }

    /// Whether the table holds `x` (not 0, which is kept in `zero`).
    fn in_table(&self, x: u64) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = x as usize & mask;
        loop {
            let y = self.slots[i];
            if y == x {
                return true;
            }
            if y == 0 {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    /// Where the values of `h` that the set holds stand, in order: `found(i)` for each.
    /// Eight values at a time: their bitmap bits are read together, and only a group with a bit
    /// set goes on to the table. Most windows of a candidate pair are absent, so most groups end
    /// at one test rather than eight (the dense 1,648-text batch: copy step −6%).
    fn each_held(&self, h: &[u64], mut found: impl FnMut(usize)) {
        for (c, group) in h.chunks(8).enumerate() {
            let mut maybe = 0u32;
            for (j, &x) in group.iter().enumerate() {
                // 0 is never in the bitmap (kept in `zero`): it is always looked at.
                maybe |= u32::from(self.has_bit(x) || x == 0) << j;
            }
            while maybe != 0 {
                let j = maybe.trailing_zeros() as usize;
                maybe &= maybe - 1;
                let x = group[j];
                if if x == 0 { self.zero } else { self.in_table(x) } {
                    found(c * 8 + j);
                }
            }
        }
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// The fingerprints of a text's window hashes: the rightmost minimum of every `w` consecutive
/// hashes (as in the paper, so a run of equal hashes keeps one fingerprint), sorted and
/// distinct. A monotone queue of the positions that can still be a minimum gives each window's
/// minimum in amortised constant time (scanning every window is `w` comparisons per hash).
fn winnow(h: &[u64], w: usize) -> Vec<u64> {
    if h.is_empty() {
        return Vec::new();
    }
    if h.len() <= w {
        return vec![*h.iter().min().expect("non-empty")];
    }
    let mut out = Vec::with_capacity(2 * h.len() / (w + 1) + 1);
    // Positions with strictly increasing hashes, front to back: the front is the window's
    // minimum, and of equal hashes only the rightmost stays.
    let mut queue: std::collections::VecDeque<usize> = std::collections::VecDeque::with_capacity(w);
    let mut last: Option<usize> = None;
    for (i, &x) in h.iter().enumerate() {
        while queue.back().is_some_and(|&j| h[j] >= x) {
            queue.pop_back();
        }
        queue.push_back(i);
        if i + 1 < w {
            continue;
        }
        let start = i + 1 - w;
        while queue.front().is_some_and(|&j| j < start) {
            queue.pop_front();
        }
        let m = *queue.front().expect("the newest position is queued");
        if last != Some(m) {
            out.push(h[m]);
            last = Some(m);
        }
    }
    out.sort_unstable();
    out.dedup();
    // Held for every text through the copy stage (54 M at a million texts).
    out.shrink_to_fit();
    out
}

/// Finds copied pairs. Same-author pairs and reference–reference pairs are skipped.
#[cfg(test)]
pub(crate) fn detect(docs: &[CopyDoc], cfg: &CopyConfig) -> (Vec<CopyPair>, CopyStats) {
    detect_with(docs, cfg, None, &|| {})
}

/// Windows of the texts one block of candidate pairs is measured with, hashed once each for
/// the block (16 M: 128 MB, about 9,000 texts of 1,800 characters; a block takes whole groups,
/// so it may pass this by one group's texts).
const BLOCK_WINDOWS: usize = 1 << 24;

/// Most entries of the fingerprint index held at once (16 M: 256 MB).
const INDEX_SHARD: usize = 1 << 24;

/// Texts whose fingerprints one task puts into the index.
const FILL_BLOCK: usize = 4096;

/// The entries `(fingerprint, text)` of one range of the fingerprint index, text by text (not
/// sorted): each text's fingerprints `part` picks. Made at its size (grown by doubling it was up
/// to twice that) and filled on every worker, each `block` of texts writing its own stretch (on
/// one thread this was most of the copy step's single-threaded time on a re-run).
fn index_part(
    read: &[Print],
    part: impl Fn(&[u64]) -> std::ops::Range<usize> + Sync,
    block: usize,
) -> Vec<(u64, u32)> {
    let block = block.max(1);
    let parts: Vec<std::ops::Range<usize>> =
        read.par_iter().map(|p| part(p.fingerprints())).collect();
    let mut index: Vec<(u64, u32)> = vec![(0, 0); parts.iter().map(|r| r.len()).sum()];
    let mut rest: &mut [(u64, u32)] = &mut index;
    let mut stretches = Vec::with_capacity(read.len().div_ceil(block));
    for (b, ranges) in parts.chunks(block).enumerate() {
        let (mine, after) = rest.split_at_mut(ranges.iter().map(|r| r.len()).sum());
        stretches.push((b * block, ranges, mine));
        rest = after;
    }
    stretches.into_par_iter().for_each(|(first, ranges, out)| {
        let mut out = out.iter_mut();
        for (i, r) in (first..).zip(ranges) {
            // The text's fingerprints first: zip stops on them before taking a slot.
            for (&h, slot) in read[i].fingerprints()[r.clone()].iter().zip(out.by_ref()) {
                *slot = (h, i as u32);
            }
        }
    });
    index
}

/// Each text's print from an earlier run's (`earlier`, in key order), by the texts' keys: the
/// print kept under its key, `None` for a new or changed text. A text handed in twice takes the
/// print at its first place and a clone at the others; a key kept twice (never written so)
/// gives its last print, as a map built from the entries would.
///
/// Both sides are walked in key order, this run's keys sorted with their places: the earlier
/// prints were a hash map, each looked up and removed on one thread (1M texts: SipHash on
/// 128-bit keys, a cache miss a probe).
fn take_prints(keys: &[u128], earlier: Vec<(u128, Print)>) -> Vec<Option<Print>> {
    let mut order: Vec<u32> = (0..keys.len() as u32).collect();
    order.par_sort_unstable_by_key(|&i| (keys[i as usize], i));
    let mut known: Vec<Option<Print>> = std::iter::repeat_with(|| None).take(keys.len()).collect();
    let mut earlier = earlier.into_iter().peekable();
    for same in order.chunk_by(|&a, &b| keys[a as usize] == keys[b as usize]) {
        let k = keys[same[0] as usize];
        while earlier.next_if(|(e, _)| *e < k).is_some() {}
        let mut print = None;
        while let Some((_, p)) = earlier.next_if(|(e, _)| *e == k) {
            print = Some(p);
        }
        if let Some(p) = print {
            for &i in &same[1..] {
                known[i as usize] = Some(p.clone());
            }
            known[same[0] as usize] = Some(p);
        }
    }
    known
}

/// How many leading bits of a fingerprint choose its range of the index: `0` (one range) up
/// to `shard` entries, then as many as keep each range near that size.
fn shard_bits(entries: usize, shard: usize) -> u32 {
    entries
        .div_ceil(shard.max(1))
        .next_power_of_two()
        .trailing_zeros()
}

/// Texts sharing a fingerprint, a group of them per fingerprint held by 2 to `cap` texts, and
/// the groups each text is in. One entry per text in a group: at 100,000 texts 723 k entries in
/// 112 k groups, where the pairs they make were 5.3 M entries (at a million texts the list of
/// pairs, one entry per fingerprint two texts share, was the copy stage's peak).
#[derive(Default)]
struct Groups {
    /// Each group's texts, one group after another.
    members: Vec<u32>,
    /// Where each group ends in `members`.
    ends: Vec<u32>,
}

impl Groups {
    /// Adds the groups of `index` (sorted by hash); a fingerprint held by more than `cap` texts
    /// is stock phrasing, left out and counted (the count is returned).
    fn add(&mut self, index: &[(u64, u32)], cap: usize) -> usize {
        let mut common = 0;
        for group in index.chunk_by(|x, y| x.0 == y.0) {
            if group.len() > cap {
                common += 1;
            } else if group.len() >= 2 {
                self.members.extend(group.iter().map(|&(_, doc)| doc));
                self.ends.push(self.members.len() as u32);
            }
        }
        common
    }

    fn group(&self, g: u32) -> &[u32] {
        let from = g.checked_sub(1).map_or(0, |p| self.ends[p as usize]);
        &self.members[from as usize..self.ends[g as usize] as usize]
    }

    /// The eligible pairs `(a, b)`, `a < b`, in at least `min` groups together, in order. Each
    /// text counts the texts it shares groups with on its own: no list of all pairs is made.
    fn pairs(&self, docs: &[CopyDoc], min: usize) -> Vec<(u32, u32)> {
        // The groups of each text: text `i`'s are `of[starts[i]..starts[i + 1]]`.
        let mut starts = vec![0u32; docs.len() + 1];
        for &d in &self.members {
            starts[d as usize + 1] += 1;
        }
        for i in 0..docs.len() {
            starts[i + 1] += starts[i];
        }
        let mut of = vec![0u32; self.members.len()];
        let mut at = starts.clone();
        for g in 0..self.ends.len() as u32 {
            for &d in self.group(g) {
                of[at[d as usize] as usize] = g;
                at[d as usize] += 1;
            }
        }
        drop(at);
        (0..docs.len())
            .into_par_iter()
            .map_init(Vec::new, |with: &mut Vec<u32>, a| {
                with.clear();
                for &g in &of[starts[a] as usize..starts[a + 1] as usize] {
                    with.extend(
                        self.group(g)
                            .iter()
                            .filter(|&&b| b as usize > a && eligible(&docs[a], &docs[b as usize])),
                    );
                }
                with.sort_unstable();
                with.chunk_by(|x, y| x == y)
                    .filter(|run| run.len() >= min)
                    .map(|run| (a as u32, run[0]))
                    .collect::<Vec<_>>()
            })
            .flatten_iter()
            .collect()
    }
}

/// [`detect`], calling `tick` once per document fingerprinted. With a `memo` (what an earlier
/// run left, [`CopyMemo`]), the fingerprints of texts found there and the pairs of two texts
/// found there are taken over instead of computed again; the memo is then replaced by this
/// run's.
pub(crate) fn detect_with(
    docs: &[CopyDoc],
    cfg: &CopyConfig,
    memo: Option<&mut CopyMemo>,
    tick: &(dyn Fn() + Sync),
) -> (Vec<CopyPair>, CopyStats) {
    detect_in(docs, cfg, memo, tick, (INDEX_SHARD, BLOCK_WINDOWS), 0)
}

/// [`detect_with`] beside `unseen` more reference texts a [`CopyProbe`] left out: they count
/// in the number of texts the bucket cap is a share of.
pub(crate) fn detect_beside(
    docs: &[CopyDoc],
    cfg: &CopyConfig,
    memo: Option<&mut CopyMemo>,
    unseen: usize,
    tick: &(dyn Fn() + Sync),
) -> (Vec<CopyPair>, CopyStats) {
    detect_in(docs, cfg, memo, tick, (INDEX_SHARD, BLOCK_WINDOWS), unseen)
}

/// [`detect_with`], holding at most about `shard` entries of the fingerprint index at once, and
/// the window hashes of about `block` windows' worth of texts while verifying pairs; the bucket
/// cap is a share of the texts and `unseen` more ([`detect_beside`]).
fn detect_in(
    docs: &[CopyDoc],
    cfg: &CopyConfig,
    memo: Option<&mut CopyMemo>,
    tick: &(dyn Fn() + Sync),
    (shard, block): (usize, usize),
    unseen: usize,
) -> (Vec<CopyPair>, CopyStats) {
    let k = cfg.shingle.max(2);
    let mut stats = CopyStats {
        documents: docs.len(),
        ..CopyStats::default()
    };

    // Every text's print (its length in normalised characters and its fingerprints, or for a
    // short text the hash of the whole of it); the normalised texts themselves are built only
    // for the pairs verified below. With a memo, texts are known by their xxh3-128, and an
    // unchanged text's print and its verified pairs are taken over.
    let keys: Option<Vec<u128>> = memo
        .as_ref()
        .map(|_| docs.par_iter().map(|d| d.text.digest()).collect());
    let mut memo = memo;
    let mut earlier: CopyMemo = memo.as_deref_mut().map(std::mem::take).unwrap_or_default();
    // Known prints are moved out of the memo, not cloned: cloned, every unchanged text's
    // fingerprints were held twice until the candidates were found (1M texts: 54 M fingerprints,
    // 0.43 GB, at the re-run's peak). A text handed in twice takes a clone of its first print.
    let known: Vec<Option<Print>> = match &keys {
        Some(ks) => take_prints(ks, std::mem::take(&mut earlier.prints)),
        None => std::iter::repeat_with(|| None).take(docs.len()).collect(),
    };
    stats.fingerprinted = known.iter().filter(|p| p.is_none()).count();
    let read: Vec<Print> = docs
        .par_iter()
        .zip(known)
        .map_init(
            || (Vec::new(), Vec::new()),
            |(chars, hashes), (d, known)| {
                let print = known.unwrap_or_else(|| print_of(&d.text.get(), cfg, chars, hashes));
                tick();
                print
            },
        )
        .collect();

    // Short texts: exact equality only.
    let mut exact: HashMap<u64, Vec<u32>, std::hash::BuildHasherDefault<KeyIsHash>> =
        HashMap::default();
    for (i, p) in read.iter().enumerate() {
        if let Read::Exact(h) = &p.read {
            exact.entry(*h).or_default().push(i as u32);
        }
    }

    // Fingerprint index: (hash, doc), sorted by hash, built and read one range of hash values
    // at a time ([`INDEX_SHARD`]): at a million texts the whole index was 54 M entries, 864 MB
    // beside the prints, part of the copy stage's peak. Each text's fingerprints are sorted, so
    // its part of a range is a slice.
    stats.fingerprints = read.iter().map(|p| p.fingerprints().len()).sum();
    let bits = shard_bits(stats.fingerprints, shard);
    let shard_of = |h: u64| if bits == 0 { 0 } else { h >> (64 - bits) };
    let lens: Vec<usize> = read.iter().map(|p| p.chars).collect();

    let cap = (((docs.len() + unseen) as f64 * cfg.max_bucket_share) as usize)
        .clamp(4, cfg.max_bucket.max(4));
    let mut groups = Groups::default();
    for range in 0..1u64 << bits {
        let part = |f: &[u64]| {
            let from = f.partition_point(|&h| shard_of(h) < range);
            let to = f.partition_point(|&h| shard_of(h) <= range);
            from..to
        };
        let mut index = index_part(&read, part, FILL_BLOCK);
        index.par_sort_unstable();
        stats.common_fingerprints += groups.add(&index, cap);
    }
    // Kept for the next run only when there is one to keep them for.
    let read = keys.as_ref().map(|_| read);
    let mut counted = groups.pairs(docs, cfg.min_fingerprints.max(1));
    drop(groups);
    for ids in exact.values() {
        for x in 0..ids.len() {
            for y in x + 1..ids.len() {
                if eligible(&docs[ids[x] as usize], &docs[ids[y] as usize]) {
                    counted.push((ids[x].min(ids[y]), ids[x].max(ids[y])));
                }
            }
        }
    }
    stats.candidates = counted.len();

    // Pairs grouped by their first text, whose shingles are then computed once per group.
    counted.par_sort_unstable();
    counted.dedup();
    let groups: Vec<&[(u32, u32)]> = counted.chunk_by(|x, y| x.0 == y.0).collect();
    let CopyMemo {
        pairs: earlier,
        prints,
    } = earlier;
    drop(prints);
    // A pair's texts are hashed when its block of pairs is measured: made beforehand for every
    // text of a pair to verify, the normalised texts were the copy stage's peak (4 bytes a
    // character; at a million texts most texts are in some candidate pair).
    let earlier_of = |a: usize, b: usize| keys.as_ref().and_then(|ks| earlier.get(&(ks[a], ks[b])));
    let long = |d: usize| lens[d] >= cfg.short_chars;
    let mut verified: Vec<(usize, usize, Option<PairKey>, Option<Measured>)> =
        Vec::with_capacity(counted.len());
    // Where a text's window hashes are in the block being measured (`u32::MAX`: not there).
    let mut slot = vec![u32::MAX; docs.len()];
    let mut from = 0;
    while from < groups.len() {
        // A block: groups in order until the texts their long pairs need (each counted once)
        // reach `block` windows ([`BLOCK_WINDOWS`]). Each of those texts is hashed once for the
        // block, not once for each pair it is in: hashing the other text of each pair was a
        // third of the copy step (10k documents: 56 k candidate pairs, 64.7 k texts hashed; in
        // one block, 9.8 k, and the step 2.26 → 1.6 s). How much a block saves depends on how
        // close a text's partners lie in the list: with a quarter of the budget, 4 blocks
        // there, 44 k texts were hashed.
        let mut needed: Vec<u32> = Vec::new();
        let mut windows = 0;
        let mut to = from;
        while to < groups.len() && (to == from || windows < block) {
            for &(a, b) in groups[to] {
                let (a, b) = copier_first(docs, a as usize, b as usize);
                if !long(a) || !long(b) || earlier_of(a, b).is_some() {
                    continue;
                }
                for d in [a, b] {
                    if slot[d] == u32::MAX {
                        slot[d] = needed.len() as u32;
                        needed.push(d as u32);
                        windows += lens[d];
                    }
                }
            }
            to += 1;
        }
        let hashed: Vec<Vec<u64>> = needed
            .par_iter()
            .map(|&d| window_hashes_of_text(&docs[d as usize].text.get(), k))
            .collect();
        verified.par_extend(groups[from..to].par_iter().flat_map_iter(|g| {
            let first = g[0].0 as usize;
            // The first text's normalised text (pairs with a short text) and its window set
            // (two long texts), each made once for its group when a pair needs it.
            let first_norm = std::cell::OnceCell::new();
            let first_shingled = std::cell::OnceCell::new();
            g.iter()
                .map(|&(a, b)| {
                    let (a, b) = copier_first(docs, a as usize, b as usize);
                    let key = keys.as_ref().map(|ks| (ks[a], ks[b]));
                    let other = if a == first { b } else { a };
                    let measured = match earlier_of(a, b) {
                        Some(m) => m.clone(),
                        // Both long (the usual case): both texts' windows were hashed for
                        // the block.
                        None if long(first) && long(other) => {
                            let first_windows = first_shingled.get_or_init(|| {
                                Shingled::of_hashes(&hashed[slot[first] as usize][..])
                            });
                            measure_windows(
                                docs,
                                (a, b),
                                (lens[a], lens[b]),
                                (a == first, first_windows),
                                &hashed[slot[other] as usize],
                                k,
                                cfg,
                            )
                        }
                        None => {
                            let nf = first_norm.get_or_init(|| normalise(&docs[first].text.get()));
                            let other = normalise(&docs[other].text.get());
                            let (na, nb) = if a == first {
                                (nf, &other)
                            } else {
                                (&other, nf)
                            };
                            // A short text: compared for equality only.
                            measure(docs, (na, nb), a, b, k, cfg)
                        }
                    };
                    (a, b, key, measured)
                })
                .collect::<Vec<_>>()
        }));
        drop(hashed);
        for &d in &needed {
            slot[d as usize] = u32::MAX;
        }
        from = to;
    }
    stats.taken_over = verified
        .iter()
        .filter(|(_, _, key, _)| key.is_some_and(|k| earlier.contains_key(&k)))
        .count();
    stats.measured = verified.len() - stats.taken_over;
    drop(earlier);
    if let (Some(memo), Some(keys), Some(read)) = (memo, &keys, read) {
        memo.pairs = verified
            .iter()
            .filter_map(|(_, _, key, m)| key.map(|key| (key, m.clone())))
            .collect();
        let mut prints: Vec<(u128, Print)> = keys.iter().copied().zip(read).collect();
        // A text handed in twice has one print (the same one): kept once.
        prints.par_sort_unstable_by_key(|p| p.0);
        prints.dedup_by_key(|p| p.0);
        memo.prints = prints;
    }
    let mut pairs: Vec<CopyPair> = verified
        .into_iter()
        .filter_map(|(a, b, _, m)| m.map(|m| pair_of(docs, a, b, m, cfg)))
        .collect();
    pairs.sort_by(|x, y| {
        y.containment_a
            .max(y.containment_b)
            .total_cmp(&x.containment_a.max(x.containment_b))
            .then_with(|| x.path_a.cmp(&y.path_a))
            .then_with(|| x.path_b.cmp(&y.path_b))
    });
    stats.pairs = pairs.len();
    (pairs, stats)
}

fn eligible(a: &CopyDoc, b: &CopyDoc) -> bool {
    !(a.reference && b.reference) && (a.author.is_empty() || a.author != b.author)
}

/// A text's window hashes ([`window_hashes`]), in order (its own, or borrowed from a block's
/// hashed texts) and as a set.
struct Shingled<'h> {
    h: Cow<'h, [u64]>,
    s: WindowSet,
}

impl<'h> Shingled<'h> {
    fn of(n: &Norm, k: usize) -> Shingled<'h> {
        Shingled::of_hashes(window_hashes(&n.chars, k))
    }

    /// [`Shingled::of`] the normalised characters of `text`, hashed from its bytes
    /// ([`window_hashes_of_text`]).
    #[cfg(test)]
    fn of_text(text: &str, k: usize) -> Shingled<'h> {
        Shingled::of_hashes(window_hashes_of_text(text, k))
    }

    fn of_hashes(h: impl Into<Cow<'h, [u64]>>) -> Shingled<'h> {
        let h = h.into();
        let s = WindowSet::of(&h);
        Shingled { h, s }
    }
}

/// A candidate pair in the order it is measured: references always sit on the `b` side.
fn copier_first(docs: &[CopyDoc], a: usize, b: usize) -> (usize, usize) {
    if docs[a].reference { (b, a) } else { (a, b) }
}

/// A text's [`Print`], normalising it into `chars` and hashing its windows into `hashes`
/// (buffers reused from text to text).
fn print_of(text: &str, cfg: &CopyConfig, chars: &mut Vec<char>, hashes: &mut Vec<u64>) -> Print {
    normalise_into(text, chars);
    let read = if chars.is_empty() {
        Read::Nothing
    } else if chars.len() < cfg.short_chars {
        // Short texts are compared for equality only.
        let s: String = chars.iter().collect();
        Read::Exact(xxh3_64(s.as_bytes()))
    } else {
        shingles_into(chars, cfg.shingle.max(2), hashes);
        Read::Fingerprints(winnow(hashes, cfg.window.max(1)))
    };
    Print {
        chars: chars.len(),
        read,
    }
}

/// Verifies one candidate pair exactly (in [`copier_first`] order): `None` when it is no copy.
/// `na` and `nb` are the two texts normalised. (Detection calls it for pairs with a short
/// text; two long texts go to [`measure_windows`] with their group's first text's windows.)
fn measure(
    docs: &[CopyDoc],
    (na, nb): (&Norm, &Norm),
    a: usize,
    b: usize,
    k: usize,
    cfg: &CopyConfig,
) -> Option<Measured> {
    let short = na.chars.len() < cfg.short_chars || nb.chars.len() < cfg.short_chars;
    if short {
        return (na.chars == nb.chars).then(|| Measured {
            similarity: 1.0,
            containment_a: 1.0,
            containment_b: 1.0,
            shared_a: na.chars.len(),
            shared_b: nb.chars.len(),
            excerpt: docs[a].text.get().trim().to_owned(),
        });
    }
    measure_windows(
        docs,
        (a, b),
        (na.chars.len(), nb.chars.len()),
        (true, &Shingled::of(na, k)),
        &window_hashes(&nb.chars, k),
        k,
        cfg,
    )
}

/// [`measure`] once the texts are long enough to compare by windows: `len_a` and `len_b` are
/// their lengths in normalised characters, `px` the windows of one of them (`a` when `x_is_a`)
/// and `hy` the window hashes of the other, in order. One text's windows as a set, the
/// other's only in order: a window of either text is in the other exactly when it is among the
/// windows the two share, and that set is small for most candidates. The other text's own set
/// is built only for a pair that turns out to be a copy (for the Jaccard union).
fn measure_windows(
    docs: &[CopyDoc],
    (a, b): (usize, usize),
    (len_a, len_b): (usize, usize),
    (x_is_a, px): (bool, &Shingled<'_>),
    hy: &[u64],
    k: usize,
    cfg: &CopyConfig,
) -> Option<Measured> {
    // Where y's windows that x has stand (each looked up once), and their values: the shared
    // windows. Positions rather than a mark per window: a candidate shares a small part of
    // each text, and the runs below walk only what is shared.
    let mut x_has: Vec<u32> = Vec::new();
    px.s.each_held(hy, |i| x_has.push(i as u32));
    let hits: Vec<u64> = x_has.iter().map(|&i| hy[i as usize]).collect();
    let shared = WindowSet::of(&hits);
    drop(hits);
    // And where x's windows that y has stand: those among the shared windows.
    let mut y_has: Vec<u32> = Vec::new();
    shared.each_held(&px.h, |i| y_has.push(i as u32));
    // Each text's windows the other text has.
    let (in_b, in_a): (&[u32], &[u32]) = if x_is_a {
        (&y_has, &x_has)
    } else {
        (&x_has, &y_has)
    };
    let (raw_a, raw_longest) = shared_runs(in_b, k, cfg.min_run_chars, |_| true);
    let (raw_b, _) = shared_runs(in_a, k, cfg.min_run_chars, |_| true);
    // Leaving stock phrasing out below only removes runs, so a pair whose runs already fall
    // short of the bars is no copy: most candidates end here.
    if !passes(cfg, raw_a, raw_b, len_a, len_b) {
        return None;
    }
    let inter = shared.len();
    if inter == 0 {
        return None;
    }
    // Where the normalised characters of `a` stand in its text (for the excerpt, and with
    // `b`'s for the stock phrasing): only the few pairs that get this far need them.
    let text_a = docs[a].text.get();
    let offsets_a = offsets_of(&text_a);
    debug_assert_eq!(offsets_a.len(), len_a);
    let union = px.s.len() + WindowSet::of(hy).len() - inter;
    let whole = (raw_a as f64 / len_a as f64).max(raw_b as f64 / len_b as f64);
    // Against a reference every shared run counts. Between colleagues a run lying in stock
    // phrasing does not — unless the texts are near-identical: handing in a colleague's
    // hollow note is still handing in a copy.
    let stock_counts = docs[b].reference
        || (docs[a].stock.is_empty() && docs[b].stock.is_empty())
        || whole >= cfg.whole_containment;
    let (shared_a, shared_b, longest) = if stock_counts {
        (raw_a, raw_b, raw_longest)
    } else {
        let offsets_b = offsets_of(&docs[b].text.get());
        let keep_a = |r: &(usize, usize)| !mostly_stock(&offsets_a, *r, docs[a].stock);
        let keep_b = |r: &(usize, usize)| !mostly_stock(&offsets_b, *r, docs[b].stock);
        let (shared_a, longest) = shared_runs(in_b, k, cfg.min_run_chars, keep_a);
        let (shared_b, _) = shared_runs(in_a, k, cfg.min_run_chars, keep_b);
        (shared_a, shared_b, longest)
    };
    if !passes(cfg, shared_a, shared_b, len_a, len_b) {
        return None;
    }
    let ca = shared_a as f64 / len_a as f64;
    let cb = shared_b as f64 / len_b as f64;
    let (s, e) = longest;
    let from = offsets_a[s] as usize;
    let to = offsets_a.get(e).map_or(text_a.len(), |&o| o as usize);
    Some(Measured {
        similarity: inter as f64 / union as f64,
        containment_a: ca,
        containment_b: cb,
        shared_a,
        shared_b,
        excerpt: excerpt_of(&text_a[from..to]),
    })
}

/// Whether characters in shared passages (`shared_a` of a text of `len_a` normalised
/// characters, `shared_b` of `len_b`) make a copy: enough characters, and a large enough share
/// of one text. Containment counts only passages: runs of at least `min_run_chars`.
fn passes(cfg: &CopyConfig, shared_a: usize, shared_b: usize, len_a: usize, len_b: usize) -> bool {
    let ca = shared_a as f64 / len_a as f64;
    let cb = shared_b as f64 / len_b as f64;
    shared_a.max(shared_b) >= cfg.min_shared_chars && ca.max(cb) >= cfg.min_containment
}

/// The copy pair of a measured candidate: who copied whom, with the texts' paths and authors.
fn pair_of(docs: &[CopyDoc], a: usize, b: usize, m: Measured, cfg: &CopyConfig) -> CopyPair {
    let (ca, cb) = (m.containment_a, m.containment_b);
    // Only a side that holds copied passages can be the copier.
    let (a_can, b_can) = (ca >= cfg.min_containment, cb >= cfg.min_containment);
    let direction = if docs[b].reference || (a_can && !b_can) {
        CopyDirection::AFromB
    } else if b_can && !a_can {
        CopyDirection::BFromA
    } else {
        match (docs[a].date, docs[b].date) {
            (x, y) if !x.is_empty() && !y.is_empty() && x != y => {
                if x > y {
                    CopyDirection::AFromB
                } else {
                    CopyDirection::BFromA
                }
            }
            _ if ca - cb > 0.15 => CopyDirection::AFromB,
            _ if cb - ca > 0.15 => CopyDirection::BFromA,
            _ => CopyDirection::Mutual,
        }
    };
    CopyPair {
        a: docs[a].id.to_owned(),
        b: docs[b].id.to_owned(),
        path_a: docs[a].path.to_owned(),
        path_b: docs[b].path.to_owned(),
        author_a: docs[a].author.to_owned(),
        author_b: docs[b].author.to_owned(),
        b_is_reference: docs[b].reference,
        similarity: round3(m.similarity),
        containment_a: round3(ca),
        containment_b: round3(cb),
        shared_chars: m.shared_a,
        shared_chars_b: m.shared_b,
        excerpt: m.excerpt,
        direction,
    }
}

/// Characters of a text in runs of at least `min_run` characters covered by its shingles the
/// other text has (`has`: where those shingles start, in order, in normalised characters), and
/// the longest run (start, end) in normalised character positions (the last of equals).
fn shared_runs(
    has: &[u32],
    k: usize,
    min_run: usize,
    keep: impl Fn(&(usize, usize)) -> bool,
) -> (usize, (usize, usize)) {
    let mut covered = 0;
    let mut longest = (0, 0);
    let mut longest_len = None;
    let mut close = |r: (usize, usize)| {
        let len = r.1 - r.0;
        if len >= min_run && keep(&r) {
            covered += len;
            if longest_len.is_none_or(|l| len >= l) {
                (longest, longest_len) = (r, Some(len));
            }
        }
    };
    let mut run: Option<(usize, usize)> = None;
    for &i in has {
        let i = i as usize;
        match run.as_mut() {
            Some((_, e)) if i <= *e => *e = i + k,
            _ => {
                if let Some(r) = run.replace((i, i + k)) {
                    close(r);
                }
            }
        }
    }
    if let Some(r) = run {
        close(r);
    }
    (covered, longest)
}

/// Whether most characters of a run (normalised positions) lie in stock phrasing. `offsets`
/// are the byte offsets of the text's normalised characters ([`offsets_of`]); `stock` is in
/// text order (sentences), so each offset is found by binary search.
fn mostly_stock(offsets: &[u32], (s, e): (usize, usize), stock: &[(usize, usize)]) -> bool {
    if stock.is_empty() {
        return false;
    }
    let inside = offsets[s..e.min(offsets.len())]
        .iter()
        .map(|&o| o as usize)
        .filter(|&o| {
            let i = stock.partition_point(|&(x, _)| x <= o);
            i > 0 && o < stock[i - 1].1
        })
        .count();
    inside * 2 > e - s
}

fn excerpt_of(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join("");
    if s.chars().count() > 80 {
        let head: String = s.chars().take(80).collect();
        format!("{head}……")
    } else {
        s
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// A text kept elsewhere is known by its holder's digest, not read to be hashed; without
    /// one it is hashed as read; either way the digest is that of its bytes, as a text at hand.
    #[test]
    fn a_kept_texts_digest_comes_from_its_holder() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        struct Held {
            texts: Vec<String>,
            digests: bool,
            reads: AtomicUsize,
        }
        impl diaoyan_model::Texts for Held {
            fn text(&self, i: usize) -> Cow<'_, str> {
                self.reads.fetch_add(1, Ordering::Relaxed);
                Cow::Borrowed(&self.texts[i])
            }
            fn digest(&self, i: usize) -> Option<u128> {
                self.digests
                    .then(|| xxhash_rust::xxh3::xxh3_128(self.texts[i].as_bytes()))
            }
        }
        let texts = vec!["河口村垃圾池十来天才清运一次。".to_owned(), String::new()];
        for digests in [true, false] {
            let held = Held {
                texts: texts.clone(),
                digests,
                reads: AtomicUsize::new(0),
            };
            for (i, t) in texts.iter().enumerate() {
                assert_eq!(DocText::Kept(&held, i).digest(), DocText::Here(t).digest());
                assert_eq!(
                    DocText::Here(t).digest(),
                    xxhash_rust::xxh3::xxh3_128(t.as_bytes())
                );
            }
            let reads = held.reads.load(Ordering::Relaxed);
            assert_eq!(reads, if digests { 0 } else { texts.len() });
        }
    }
    #[test]
    fn window_sets_agree_with_a_general_hash_set() {
        // Mixed values with repeats, 0 among them, values colliding in the low bits (the table's
        // slot) and in the high bits (the bitmap's bit).
        let mut a: Vec<u64> = (0..3000u64)
            .map(|i| xxh3_64(&(i % 1700).to_le_bytes()))
            .collect();
        a.extend([
            0,
            0,
            1 << 40,
            2 << 40,
            3 << 40,
            (7 << 60) | 1,
            (7 << 60) | 2,
        ]);
        let b: Vec<u64> = (1000..2500u64)
            .map(|i| xxh3_64(&i.to_le_bytes()))
            .chain([0, 2 << 40, (7 << 60) | 2, (7 << 60) | 3])
            .collect();
        let (sa, sb) = (WindowSet::of(&a), WindowSet::of(&b));
        let (ha, hb): (HashSet<u64>, HashSet<u64>) =
            (a.iter().copied().collect(), b.iter().copied().collect());
        assert_eq!(sa.len(), ha.len());
        assert_eq!(sb.len(), hb.len());
        // The shared windows as `measure` finds them: one text's windows found in the other's set.
        let shared = |h: &[u64], other: &WindowSet| {
            WindowSet::of(
                &h.iter()
                    .copied()
                    .filter(|&x| other.contains(x))
                    .collect::<Vec<_>>(),
            )
        };
        let both: HashSet<u64> = ha.intersection(&hb).copied().collect();
        // Where each text's values the other set holds stand, eight at a time: the same
        // positions as one lookup per value (the lengths leave a group of fewer than eight).
        let mut ragged = false;
        for (h, other, own) in [(&a, &sb, &hb), (&b, &sa, &ha)] {
            let mut got = Vec::new();
            other.each_held(h, |i| got.push(i));
            let want: Vec<usize> = (0..h.len()).filter(|&i| own.contains(&h[i])).collect();
            assert!(want.iter().any(|&i| h[i] == 0));
            assert_eq!(got, want);
            ragged |= !h.len().is_multiple_of(8);
        }
        assert!(ragged);
        // 0 held while no other value sets the bitmap's first bit.
        let mut got = Vec::new();
        WindowSet::of(&[0, u64::MAX, 1 << 63]).each_held(&[7, 0, 5, u64::MAX], |i| got.push(i));
        assert_eq!(got, [1, 3]);
        for s in [shared(&a, &sb), shared(&b, &sa)] {
            assert_eq!(s.len(), both.len());
            for x in a.iter().chain(&b).copied() {
                assert_eq!(s.contains(x), both.contains(&x), "{x}");
            }
        }
        for x in a
            .iter()
            .chain(&b)
            .copied()
            .chain([5, 4 << 40, (7 << 60) | 4])
        {
            assert_eq!(sa.contains(x), ha.contains(&x), "{x}");
            assert_eq!(sb.contains(x), hb.contains(&x), "{x}");
        }
        let empty = WindowSet::of(&[]);
        assert_eq!((empty.len(), shared(&a, &empty).len()), (0, 0));
        assert!(!empty.contains(0) && !empty.contains(7));
    }

    #[test]
    fn window_hashes_of_a_text_equal_those_of_its_normalised_characters() {
        for text in [
            "三组机耕路有两处塌方，三组机耕路有两处塌方。村民说自来水经常停水ABC123",
            "ＡＢＣ１２３，全角字母数字：与半角相同！  空格\n换行\t制表",
            "短",
            "",
            "，。！？",
            "一二三四五六七",
            "一二三四五六七八",
        ] {
            let n = normalise(text);
            for k in [2, 3, 7, 8, 16] {
                assert_eq!(
                    window_hashes_of_text(text, k),
                    window_hashes(&n.chars, k),
                    "{text:?} k={k}"
                );
            }
        }
    }

    #[test]
    fn normalised_characters_from_bytes_equal_those_of_chars() {
        let alphabet: Vec<char> =
            "石桥村ABCxyz019０９Ａｚ，。、 \n\t㐀䶵一鿿丂豈𠀀😀é·—“”％－\u{3000}\u{FEFF}"
                .chars()
                .collect();
        let mut next = crate::xorshift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let n = (next() % 24) as usize;
            let text: String = (0..n)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let mut got = Vec::new();
            each_norm_char(&text, |i, c| got.push((i, c)));
            let want: Vec<(usize, char)> = text
                .char_indices()
                .filter_map(|(i, c)| Some((i, norm_char(c)?)))
                .collect();
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn rolling_window_hashes_are_the_reduced_karp_rabin_values() {
        // Each window's value computed alone, reduced at every step, then mixed; long texts
        // of the largest code points keep the unreduced state near its bound.
        const P: u128 = (1 << 61) - 1;
        let alone = |w: &[char]| {
            let v = w.iter().fold(0u128, |h, &c| {
                (h * u128::from(Rolling::BASE) + u128::from(u32::from(c))) % P
            });
            Rolling::mix(v as u64)
        };
        let mut next = crate::xorshift(0x2545_F491_4F6C_DD1D);
        for k in [1, 2, 8, 16] {
            for top in [0x80, 0x9FFF, 0x10_FFFF] {
                let chars: Vec<char> = (0..2000)
                    .map(|_| char::from_u32((next() % top) as u32).unwrap_or('\u{10FFFF}'))
                    .collect();
                let rolled = window_hashes(&chars, k);
                assert_eq!(rolled.len(), chars.len() - k + 1);
                for (i, h) in rolled.iter().enumerate() {
                    assert_eq!(*h, alone(&chars[i..i + k]), "k={k} window {i}");
                }
            }
        }
    }

    #[test]
    fn rolling_window_hashes_equal_hashes_of_each_window_alone() {
        let n = normalise("三组机耕路有两处塌方，三组机耕路有两处塌方。村民说自来水经常停水ABC123");
        let k = 8;
        let rolled = window_hashes(&n.chars, k);
        assert_eq!(rolled.len(), n.chars.len() - k + 1);
        for (i, h) in rolled.iter().enumerate() {
            assert_eq!(window_hashes(&n.chars[i..i + k], k), vec![*h], "window {i}");
        }
        // The repeated clause gives the same values; other windows differ.
        assert_eq!(rolled[0], rolled[10]);
        let distinct: HashSet<u64> = rolled.iter().copied().collect();
        assert_eq!(distinct.len(), rolled.len() - 3);
        assert!(window_hashes(&normalise("太短").chars, k).is_empty());
    }

    fn doc<'a>(id: &'a str, author: &'a str, date: &'a str, text: &'a str) -> CopyDoc<'a> {
        CopyDoc {
            id,
            path: id,
            author,
            date,
            text: text.into(),
            reference: false,
            stock: &[],
        }
    }

    const SOURCE: &str = "石桥村三组到镇上的机耕路坑坑洼洼，一下雨就全是烂泥，拖拉机开不进去。三组那条机耕路有两处塌方，去年秋收时一台农用车翻到了沟里。村民反映三组的机耕路坑槽多、路面窄，会车都困难。建议把石桥村三组机耕路纳入明年农村公路硬化计划，先把两处塌方修好。";

    #[test]
    fn a_copied_section_is_found_with_its_direction() {
        let own = "河口村的垃圾池十来天才清运一次，夏天臭气熏天。河口村沿河一带有人往河里倒垃圾。建议把河口村垃圾清运改为每周两次，并在沿河增设两个垃圾桶。全村辖七个村民小组，共三百五十户。";
        let copier = format!("{own}{SOURCE}");
        let docs = [
            doc("a", "张伟", "2023-09-21", SOURCE),
            doc("b", "陈明", "2023-09-23", &copier),
            doc(
                "c",
                "李娜",
                "2023-09-21",
                "柳溪村今年柑橘丰收却卖不出去，收购价压到每斤六毛钱，还不够人工钱。柳溪村没有冷库，柑橘摘下来只能低价卖给上门的贩子。希望商务部门牵线电商平台。",
            ),
        ];
        let (pairs, stats) = detect(&docs, &CopyConfig::default());
        assert_eq!(pairs.len(), 1, "{pairs:?}");
        let p = &pairs[0];
        assert_eq!((p.a.as_str(), p.b.as_str()), ("a", "b"));
        assert!(p.containment_a > 0.9, "{p:?}");
        assert!(p.containment_b > 0.4 && p.containment_b < 0.8, "{p:?}");
        assert_eq!(p.direction, CopyDirection::BFromA, "the later one copied");
        assert!(p.excerpt.contains("机耕路"));
        assert!(stats.candidates >= 1);
    }

    /// Runs over the positions of the shared windows equal the stretches of characters those
    /// windows cover, found character by character: every length, every gap, ties for the
    /// longest (the last one), `keep` saying no.
    #[test]
    fn shared_runs_over_positions_equal_the_stretches_they_cover() {
        fn stretches(
            has: &[bool],
            k: usize,
            min_run: usize,
            keep: impl Fn(&(usize, usize)) -> bool,
        ) -> (usize, (usize, usize)) {
            let mut covered = vec![false; has.len() + k];
            for i in (0..has.len()).filter(|&i| has[i]) {
                covered[i..i + k].fill(true);
            }
            let (mut total, mut longest) = (0, None::<(usize, usize)>);
            let mut c = 0;
            while c < covered.len() {
                let end = (c..covered.len())
                    .find(|&e| !covered[e])
                    .unwrap_or(covered.len());
                let r = (c, end);
                if end > c && end - c >= min_run && keep(&r) {
                    total += end - c;
                    if longest.is_none_or(|(s, e)| end - c >= e - s) {
                        longest = Some(r);
                    }
                }
                c = end + 1;
            }
            (total, longest.unwrap_or((0, 0)))
        }
        // A small generator, so the marks are the same on every machine.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut longer_than_one = 0;
        for round in 0..400 {
            let len = (next() % 300) as usize;
            // Dense, sparse and in stretches.
            let density = [2, 5, 20][round % 3];
            let has: Vec<bool> = (0..len).map(|_| next() % density != 0).collect();
            let at: Vec<u32> = (0..len as u32).filter(|&i| has[i as usize]).collect();
            for (k, min_run) in [(8, 50), (8, 8), (3, 1), (8, 0)] {
                let no_odd_starts = |r: &(usize, usize)| r.0.is_multiple_of(2);
                assert_eq!(
                    shared_runs(&at, k, min_run, |_| true),
                    stretches(&has, k, min_run, |_| true)
                );
                let got = shared_runs(&at, k, min_run, no_odd_starts);
                assert_eq!(got, stretches(&has, k, min_run, no_odd_starts));
                longer_than_one += usize::from(got.0 > got.1.1 - got.1.0);
            }
        }
        // Many cases held more than one run.
        assert!(longer_than_one > 100, "{longer_than_one}");
    }

    /// Verification builds a set for one text only; what it measures must not depend on which
    /// text that was, and must equal the figures computed from both texts' full window sets.
    #[test]
    fn a_measurement_does_not_depend_on_which_text_was_known() {
        let own = "河口村的垃圾池十来天才清运一次，夏天臭气熏天。建议把河口村垃圾清运改为每周两次，并在沿河增设两个垃圾桶。全村辖七个村民小组，共三百五十户。";
        let copier = format!("{own}{SOURCE}{SOURCE}");
        let other = "柳溪村今年柑橘丰收却卖不出去，收购价压到每斤六毛钱，还不够人工钱。柳溪村没有冷库，柑橘摘下来只能低价卖给上门的贩子。希望商务部门牵线电商平台，三组机耕路有两处塌方。";
        let cfg = CopyConfig::default();
        let k = cfg.shingle;
        for (x, y, copy) in [(&copier, SOURCE, true), (&copier, other, false)] {
            let docs = [doc("a", "甲", "", x), doc("b", "乙", "", y)];
            let [na, nb] = [0, 1].map(|i| normalise(&docs[i].text.get()));
            let [sa, sb] = [&na, &nb].map(|n| Shingled::of(n, k));
            let plain = measure(&docs, (&na, &nb), 0, 1, k, &cfg);
            assert_eq!(plain.is_some(), copy, "{plain:?}");
            let lens = (na.chars.len(), nb.chars.len());
            assert_eq!(
                measure_windows(&docs, (0, 1), lens, (true, &sa), &sb.h, k, &cfg),
                plain
            );
            assert_eq!(
                measure_windows(&docs, (0, 1), lens, (false, &sb), &sa.h, k, &cfg),
                plain
            );
            // As detection hashes both texts of a long pair: straight from their bytes.
            assert_eq!(
                measure_windows(
                    &docs,
                    (0, 1),
                    lens,
                    (true, &Shingled::of_text(&docs[0].text.get(), k)),
                    &window_hashes_of_text(&docs[1].text.get(), k),
                    k,
                    &cfg
                ),
                plain
            );
            // The other text alone from its bytes.
            assert_eq!(
                measure_windows(
                    &docs,
                    (0, 1),
                    lens,
                    (false, &sb),
                    &window_hashes_of_text(&docs[0].text.get(), k),
                    k,
                    &cfg
                ),
                plain
            );
            if let Some(m) = plain {
                let (ha, hb): (HashSet<u64>, HashSet<u64>) = (
                    sa.h.iter().copied().collect(),
                    sb.h.iter().copied().collect(),
                );
                let both = ha.intersection(&hb).count();
                let jaccard = both as f64 / (ha.len() + hb.len() - both) as f64;
                assert!((m.similarity - jaccard).abs() < 1e-12, "{m:?} {jaccard}");
                // The source is inside the copier whole: all of it is in shared passages.
                assert_eq!(m.shared_b, nb.chars.len());
                assert!(m.containment_a > 0.7 && m.containment_a < 1.0, "{m:?}");
            }
        }
    }

    /// Between colleagues a shared passage of stock phrasing is not copying, unless the whole
    /// text is the same: a near-identical copy is reported whatever it is made of.
    #[test]
    fn stock_phrasing_is_not_copying_but_a_whole_copy_is() {
        let stock_text = "高度重视，精心组织，周密部署，确保各项工作落到实处。进一步提高政治站位，切实增强做好群众工作的责任感和使命感。坚持以人民为中心的发展思想，不断增强人民群众的获得感、幸福感、安全感。下一步将以此次活动为契机，进一步加大工作力度，推动各项工作再上新台阶。";
        let all = [(0, stock_text.len())];
        let with_stock = |id: &'static str, author: &'static str, text: &'static str| CopyDoc {
            stock: &all,
            ..doc(id, author, "", text)
        };
        // The same stock passage inside two different notes: not a pair.
        let a = format!("{stock_text}{SOURCE}");
        let b = format!(
            "{stock_text}河口村的垃圾池十来天才清运一次，夏天臭气熏天。河口村沿河一带有人往河里倒垃圾。建议把河口村垃圾清运改为每周两次，并在沿河增设两个垃圾桶。"
        );
        let docs = [
            CopyDoc {
                stock: &all,
                ..doc("a", "甲", "", &a)
            },
            CopyDoc {
                stock: &all,
                ..doc("b", "乙", "", &b)
            },
        ];
        assert!(detect(&docs, &CopyConfig::default()).0.is_empty());
        // The whole hollow note handed in twice: a pair.
        let docs = [
            with_stock("a", "甲", stock_text),
            with_stock("b", "乙", stock_text),
        ];
        let (pairs, _) = detect(&docs, &CopyConfig::default());
        assert_eq!(pairs.len(), 1, "{pairs:?}");
        assert!(pairs[0].containment_a >= 0.8, "{pairs:?}");
    }

    #[test]
    fn verified_pairs_are_taken_over_by_the_next_run_and_give_the_same_pairs() {
        let own = "河口村的垃圾池十来天才清运一次，夏天臭气熏天。河口村沿河一带有人往河里倒垃圾。建议把河口村垃圾清运改为每周两次，并在沿河增设两个垃圾桶。";
        let copier = format!("{own}{SOURCE}");
        let other = format!("{SOURCE}柳溪村没有冷库，柑橘摘下来只能低价卖给上门的贩子。");
        let cfg = CopyConfig::default();
        let first = [
            doc("a", "张伟", "2023-09-21", SOURCE),
            doc("b", "陈明", "2023-09-23", &copier),
        ];
        let mut memo = CopyMemo::default();
        let (pairs, stats) = detect_with(&first, &cfg, Some(&mut memo), &|| {});
        assert_eq!(pairs.len(), 1);
        assert_eq!((stats.measured, stats.taken_over), (1, 0));
        assert_eq!((memo.pairs.len(), memo.prints.len()), (1, 2));
        assert_eq!(stats.fingerprinted, 2);
        // Next run: a third text arrives and the authors' dates change; the known pair is taken
        // over, only the new ones are measured, and the result equals detection from scratch.
        let second = [
            doc("a", "张伟", "2023-09-25", SOURCE),
            doc("b", "陈明", "2023-09-23", &copier),
            doc("c", "李娜", "2023-09-24", &other),
        ];
        let (again, stats) = detect_with(&second, &cfg, Some(&mut memo), &|| {});
        assert_eq!(stats.taken_over, 1);
        assert_eq!(stats.measured, 2);
        // Only the new text is fingerprinted; the others' fingerprints are taken over.
        assert_eq!(stats.fingerprinted, 1);
        assert_eq!((memo.pairs.len(), memo.prints.len()), (3, 3));
        let (fresh, fresh_stats) = detect(&second, &cfg);
        assert_eq!(again, fresh);
        assert_eq!(fresh_stats.fingerprinted, 3);
        assert_eq!(stats.fingerprints, fresh_stats.fingerprints);
        // A text that changed is fingerprinted again, and one that left is forgotten.
        let third = [
            doc("a", "张伟", "2023-09-25", SOURCE),
            doc("b", "陈明", "2023-09-23", own),
        ];
        let (later, stats) = detect_with(&third, &cfg, Some(&mut memo), &|| {});
        assert_eq!(stats.fingerprinted, 1);
        assert_eq!(memo.prints.len(), 2);
        assert_eq!(later, detect(&third, &cfg).0);
        // A known text handed in twice: both take its print (moved out of the memo once, then
        // cloned), nothing is fingerprinted, and the pairs equal detection from scratch.
        let fourth = [
            doc("a", "张伟", "2023-09-25", SOURCE),
            doc("b", "陈明", "2023-09-23", own),
            doc("d", "王芳", "2023-09-26", SOURCE),
        ];
        let (twice, stats) = detect_with(&fourth, &cfg, Some(&mut memo), &|| {});
        assert_eq!(stats.fingerprinted, 0);
        let (scratch, scratch_stats) = detect(&fourth, &cfg);
        assert_eq!(twice, scratch);
        assert!(twice.iter().any(|p| p.a == "a" && p.b == "d"), "{twice:?}");
        assert_eq!(stats.fingerprints, scratch_stats.fingerprints);
        assert_eq!(memo.prints.len(), 2);
        // The direction follows this run's dates: a is now the later text.
        let ab = |ps: &[CopyPair]| {
            ps.iter()
                .find(|p| p.a == "a" && p.b == "b")
                .map(|p| p.direction)
        };
        assert_eq!(ab(&pairs), Some(CopyDirection::BFromA));
        assert_eq!(ab(&again), Some(CopyDirection::AFromB));
    }

    /// Pairs are verified a block of texts at a time, each text hashed once for its block: the
    /// pairs and figures are the same whatever the blocks (one group each, a few, all in one),
    /// with and without pairs taken over from an earlier run, and with short texts among them.
    #[test]
    fn pairs_are_the_same_whatever_the_blocks_they_are_verified_in() {
        let own = |i: usize| {
            format!(
                "第{i}组反映村道有{n}处坑槽，{m}户的自来水一周停了{d}次，村委会说{y}万元的维修款还没有到位。",
                n = 2 + i,
                m = 10 + 3 * i,
                d = 1 + i % 4,
                y = 5 + i,
            )
        };
        // Passages a few texts share (a fingerprint in more than 4 of 30 texts is stock).
        let passage = |p: usize| {
            format!(
                "{v}村{g}组的水渠去年被山洪冲垮了{a}处，至今没有修复，{h}户村民的{m}亩稻田靠人工挑水。\
                 {v}村到镇上的路有{k}公里没有硬化，一下雨车就进不来，{c}户种柑橘的只能低价卖给上门的贩子。\
                 村里{o}位老人独居，最远的一户离卫生室{d}里路。",
                v = ["石桥", "河口", "柳溪", "青山", "白沙"][p % 5],
                c = 11 + p,
                o = 5 + p,
                d = 8 + p,
                g = p + 1,
                a = p + 2,
                h = 30 + p,
                m = 100 + 7 * p,
                k = 3 + p,
            )
        };
        // 30 texts: three by three they share a passage, some also the next three's (long
        // pairs across groups), and four are short, two of them the same.
        let texts: Vec<String> = (0..30)
            .map(|i| match i % 6 {
                4 if i < 12 => "三组机耕路塌方两处。".to_owned(),
                4 => format!("第{i}组路灯坏了。"),
                0 => format!("{}{}{}", passage(i / 3), own(i), passage(i / 3 + 1)),
                _ => format!("{}{}", own(i), passage(i / 3)),
            })
            .collect();
        let names: Vec<String> = (0..texts.len()).map(|i| format!("t{i:02}")).collect();
        // Each text named by its place, by one of seven authors in turn.
        fn docs_of<'a>(texts: &'a [String], names: &'a [String]) -> Vec<CopyDoc<'a>> {
            let authors = ["甲", "乙", "丙", "丁", "戊", "己", "庚"];
            texts
                .iter()
                .zip(names)
                .enumerate()
                .map(|(i, (t, n))| doc(n, authors[i % authors.len()], "2023-09-21", t))
                .collect()
        }
        let docs = docs_of(&texts, &names);
        let cfg = CopyConfig::default();
        let run = |docs: &[CopyDoc], memo: Option<&mut CopyMemo>, block: usize| {
            detect_in(docs, &cfg, memo, &|| {}, (INDEX_SHARD, block), 0)
        };
        let (whole, whole_stats) = run(&docs, None, usize::MAX);
        assert!(whole.len() >= 15, "{}: {whole:?}", whole.len());
        assert!(
            whole.iter().any(|p| p.a == "t04" && p.b == "t10"),
            "short texts: {whole:?}"
        );
        // An evening later: a few texts changed, pairs of unchanged texts are taken over.
        let mut changed = texts.clone();
        for t in changed.iter_mut().step_by(7) {
            t.push_str("补记：三组反映灌溉水渠有2处渗漏，涉及农户6户。");
        }
        let later = docs_of(&changed, &names);
        let (later_whole, _) = run(&later, None, usize::MAX);
        for block in [1, 200, 2_000, usize::MAX] {
            let (pairs, stats) = run(&docs, None, block);
            assert_eq!(pairs, whole, "blocks of {block} windows");
            assert_eq!(stats.candidates, whole_stats.candidates);
            assert_eq!(stats.measured, whole_stats.measured);
            let mut memo = CopyMemo::default();
            run(&docs, Some(&mut memo), block);
            let (again, stats) = run(&later, Some(&mut memo), block);
            assert_eq!(again, later_whole, "re-run in blocks of {block} windows");
            assert!(stats.taken_over > 0 && stats.measured > 0, "{stats:?}");
        }
    }

    /// Prints of `n` texts with pseudo-random fingerprints (sorted, as a text's are; some texts
    /// short, with none).
    fn random_prints(n: usize, seed: u64) -> Vec<Print> {
        let mut next = crate::xorshift(seed);
        (0..n)
            .map(|_| {
                let len = (next() % 40) as usize;
                if len < 4 {
                    return Print {
                        chars: len,
                        read: Read::Exact(next()),
                    };
                }
                let mut f: Vec<u64> = (0..len).map(|_| next()).collect();
                f.sort_unstable();
                f.dedup();
                Print {
                    chars: 100,
                    read: Read::Fingerprints(f),
                }
            })
            .collect()
    }

    /// The index's entries filled block by block on the workers are those a loop over the
    /// texts gives, in the same order, for any block size and any range of hash values —
    /// including the last text of a block, whose slots a careless fill leaves empty.
    #[test]
    fn an_index_part_filled_in_blocks_equals_one_filled_in_order() {
        let read = random_prints(1000, 0x9E37_79B9_7F4A_7C15);
        let ranges: [(u64, u64); 3] = [(0, u64::MAX), (0, u64::MAX / 3), (u64::MAX / 2, u64::MAX)];
        for (lo, hi) in ranges {
            let part = |f: &[u64]| f.partition_point(|&h| h < lo)..f.partition_point(|&h| h <= hi);
            let mut expected: Vec<(u64, u32)> = Vec::new();
            for (i, p) in read.iter().enumerate() {
                let f = p.fingerprints();
                expected.extend(f[part(f)].iter().map(|&h| (h, i as u32)));
            }
            assert!(expected.len() > 1000, "{}", expected.len());
            for block in [1, 2, 7, 64, 999, 1000, 4096] {
                assert_eq!(index_part(&read, part, block), expected, "block {block}");
            }
        }
    }

    /// Prints taken by walking keys in order are what the earlier map gave: the kept print at
    /// a known text's first place, a clone at its repeats, nothing for a new text, the last
    /// entry of a key kept twice.
    #[test]
    fn prints_taken_in_key_order_equal_a_maps() {
        let prints = random_prints(300, 42);
        // Earlier keys: every third text's key (0, 3, 6, …) with its print, in key order, and
        // key 9 twice (its second entry must win).
        let mut earlier: Vec<(u128, Print)> = (0..300u128)
            .step_by(3)
            .map(|k| (k, prints[k as usize].clone()))
            .collect();
        earlier.insert(4, (9, prints[1].clone()));
        assert!(earlier.is_sorted_by_key(|p| p.0));
        // This run's keys: any order, repeats, new keys.
        let keys: Vec<u128> = (0..500u128).map(|i| (i * 7919) % 400).collect();
        let mut map: HashMap<u128, Print> = HashMap::new();
        for (k, p) in earlier.clone() {
            map.insert(k, p);
        }
        let mut first: HashMap<u128, usize> = HashMap::new();
        let mut expected: Vec<Option<Print>> = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let p = match map.remove(k) {
                Some(p) => {
                    first.insert(*k, i);
                    Some(p)
                }
                None => first.get(k).and_then(|&j| expected[j].clone()),
            };
            expected.push(p);
        }
        let got = take_prints(&keys, earlier);
        assert_eq!(got, expected);
        assert!(got.iter().filter(|p| p.is_some()).count() > 100);
        assert_eq!(
            got[keys.iter().position(|&k| k == 9).unwrap()],
            Some(prints[1].clone())
        );
    }

    /// The fingerprint index read one range of hash values at a time finds the same pairs and
    /// counts as the whole index at once, whatever the ranges.
    #[test]
    fn an_index_read_in_ranges_finds_what_the_whole_index_finds() {
        assert_eq!(shard_bits(0, 16), 0);
        assert_eq!(shard_bits(16, 16), 0);
        assert_eq!(shard_bits(17, 16), 1);
        assert_eq!(shard_bits(170, 16), 4);
        // Twelve pairs of texts, each pair sharing a passage of its own, the rest of each text
        // its own too (figures and names tell them apart).
        let villages = ["河口", "柳溪", "石桥", "青山", "红旗", "新塘"];
        let passage = |p: usize| {
            let v = villages[p % villages.len()];
            format!(
                "{v}村{g}组的水渠去年被山洪冲垮了{a}处，至今没有修复，{h}户村民的{m}亩稻田靠人工挑水。\
                 {v}村到镇上的路有{k}公里没有硬化，一下雨车就进不来，{c}户种柑橘的只能低价卖给上门的贩子。\
                 村里{o}位老人独居，最远的一户离卫生室{d}里路。",
                g = p + 1,
                a = p + 2,
                h = 30 + p,
                m = 100 + 7 * p,
                k = 3 + p,
                c = 11 + p,
                o = 5 + p,
                d = 8 + p,
            )
        };
        let own = |i: usize| {
            format!(
                "第{i}天走访了{n}户，记下{w}条意见。村主任说今年的{y}万元项目资金还没有到位，{z}个自然组的路灯坏了一半。",
                n = 10 + i,
                w = 3 + i,
                y = 20 + i,
                z = 2 + i,
            )
        };
        let texts: Vec<String> = (0..24)
            .map(|i| match i % 2 {
                0 => format!("{}{}", passage(i / 2), own(i)),
                _ => format!("{}{}", own(i), passage(i / 2)),
            })
            .collect();
        let names: Vec<String> = (0..texts.len()).map(|i| format!("t{i}")).collect();
        let docs: Vec<CopyDoc> = texts
            .iter()
            .zip(&names)
            .map(|(t, n)| doc(n, n, "2023-09-21", t))
            .collect();
        let cfg = CopyConfig::default();
        let (whole, whole_stats) =
            detect_in(&docs, &cfg, None, &|| {}, (usize::MAX, BLOCK_WINDOWS), 0);
        assert_eq!(whole.len(), 12, "{whole:?}");
        for shard in [1, 7, 100] {
            let (ranged, stats) = detect_in(&docs, &cfg, None, &|| {}, (shard, BLOCK_WINDOWS), 0);
            assert!(shard_bits(stats.fingerprints, shard) > 0);
            assert_eq!(ranged, whole, "ranges of {shard}");
            assert_eq!(stats.candidates, whole_stats.candidates);
            assert_eq!(stats.common_fingerprints, whole_stats.common_fingerprints);
            assert_eq!(stats.fingerprints, whole_stats.fingerprints);
        }
    }

    /// The pairs counted text by text from the groups are those a plain count of the
    /// fingerprints each two texts share finds, stock phrasing and ineligible pairs left out.
    #[test]
    fn pairs_counted_from_groups_are_those_sharing_enough_fingerprints() {
        let mut step = crate::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut next = |n: u64| step() % n;
        // 40 texts, 3 authors (some texts by the same person), about 12 fingerprints each of
        // 60, and one stock fingerprint every text has.
        let authors = ["甲", "乙", "丙"];
        let docs: Vec<CopyDoc> = (0..40).map(|i| doc("t", authors[i % 3], "", "x")).collect();
        let prints: Vec<Vec<u64>> = (0..40)
            .map(|_| {
                let mut f: Vec<u64> = (0..12).map(|_| next(60)).collect();
                f.push(1000);
                f.sort_unstable();
                f.dedup();
                f
            })
            .collect();
        let cap = 8;
        let mut index: Vec<(u64, u32)> = prints
            .iter()
            .enumerate()
            .flat_map(|(i, f)| f.iter().map(move |&h| (h, i as u32)))
            .collect();
        index.sort_unstable();
        let held = |h: u64| prints.iter().filter(|f| f.contains(&h)).count();
        // Two ranges of the index, as a large index is read.
        let mut groups = Groups::default();
        let half = index.partition_point(|&(h, _)| h < 30);
        let common = groups.add(&index[..half], cap) + groups.add(&index[half..], cap);
        assert_eq!(
            common,
            index
                .chunk_by(|x, y| x.0 == y.0)
                .filter(|g| held(g[0].0) > cap)
                .count()
        );
        assert!(common > 0);
        for min in 1..4 {
            let mut want = Vec::new();
            for a in 0..40usize {
                for b in a + 1..40 {
                    let shared = prints[a]
                        .iter()
                        .filter(|h| prints[b].contains(h) && (2..=cap).contains(&held(**h)))
                        .count();
                    if shared >= min && eligible(&docs[a], &docs[b]) {
                        want.push((a as u32, b as u32));
                    }
                }
            }
            assert!(!want.is_empty());
            assert_eq!(groups.pairs(&docs, min), want, "min {min}");
        }
    }

    #[test]
    fn same_author_and_unrelated_texts_are_not_pairs() {
        let docs = [doc("a", "张伟", "", SOURCE), doc("b", "张伟", "", SOURCE)];
        assert!(detect(&docs, &CopyConfig::default()).0.is_empty());
    }

    #[test]
    fn short_texts_compare_exactly() {
        let docs = [
            doc("a", "甲", "", "路灯坏了，希望修一下。"),
            doc("b", "乙", "", "路灯坏了，希望修一下！"),
            doc("c", "丙", "", "路灯坏了。"),
        ];
        let (pairs, _) = detect(&docs, &CopyConfig::default());
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].similarity, 1.0);
    }

    #[test]
    fn winnowing_guarantee_holds() {
        // Any shared run of at least w + k - 1 characters shares a fingerprint.
        let n1 = normalise(&format!("甲乙丙丁{SOURCE}戊己"));
        let n2 = normalise(&format!("子丑寅卯辰巳{}午未", &SOURCE[..60 * 3]));
        let fingerprints = |n: &Norm| {
            let mut h = Vec::new();
            shingles_into(&n.chars, 8, &mut h);
            winnow(&h, 16).into_iter().collect::<HashSet<u64>>()
        };
        assert!(fingerprints(&n1).intersection(&fingerprints(&n2)).count() >= 1);
    }

    #[test]
    fn winnowing_keeps_the_rightmost_minimum_of_every_window() {
        // Every window scanned whole, as the paper states it.
        fn by_scanning(h: &[u64], w: usize) -> Vec<u64> {
            if h.len() <= w {
                return h.iter().min().map(|&m| vec![m]).unwrap_or_default();
            }
            let mut out = Vec::new();
            let mut last = None;
            for start in 0..=h.len() - w {
                let mut m = start;
                for i in start..start + w {
                    if h[i] <= h[m] {
                        m = i;
                    }
                }
                if last != Some(m) {
                    out.push(h[m]);
                    last = Some(m);
                }
            }
            out.sort_unstable();
            out.dedup();
            out
        }
        // Few distinct values, so ties are everywhere; and well-spread values.
        let mut next = crate::xorshift(0x2545_f491_4f6c_dd1d);
        for len in [0, 1, 5, 16, 17, 40, 300] {
            for modulus in [3, 1 << 62] {
                let h: Vec<u64> = (0..len).map(|_| next() % modulus).collect();
                for w in [1, 2, 4, 16] {
                    assert_eq!(winnow(&h, w), by_scanning(&h, w), "len {len} w {w}");
                }
            }
        }
    }
}
