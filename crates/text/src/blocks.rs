//! The tagged words of blocks met before.
//!
//! jieba cuts and tags each block — a maximal run of Han characters, ASCII letters, digits and
//! `+#&._%-` (see [`Tagged`](crate::Tagged)) — on its own, so a block's words and tags are the
//! same wherever it stands. Campaign material repeats blocks: the headings, formulas and
//! phrases of templates, copied passages, a village's name in every note. The words of a block
//! tagged once are kept, up to a memory budget, and given again when the block comes back.
//!
//! A block is known by its 128-bit hash (xxh3; two different blocks of a run sharing one is
//! about as likely as 10⁻²⁴), and its words are held in the map's slot itself, so that reading
//! a block from memory costs one read of memory, not three (the key, the words, the tags): the
//! memo is bigger than the processor's caches, and a read that misses them costs about a third
//! of jieba tagging a short block afresh. Blocks of more than [`MAX_BLOCK`] bytes or
//! [`MAX_WORDS`] words are tagged afresh every time. A shard that outgrows its share of the
//! budget is emptied and fills again with the blocks met next.
//!
//! Text that seldom repeats (real reports and letters: about a quarter of their blocks were met
//! before, mostly short ones) gains nothing and pays for the lookups and for keeping every block,
//! so each memo counts how many of the blocks it was asked for it held ([`Blocks::worth_it`]):
//! below half, a text is cut by jieba whole, as without the memo, and one text in
//! [`SAMPLE`] still goes through it to keep the count current. Either way the words are the same.

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{LazyLock, Mutex, PoisonError};

/// Independent parts of the memo, so that threads seldom wait for each other.
const SHARDS: usize = 16;
/// The longest block kept (its spans fit in a byte).
const MAX_BLOCK: usize = 255;
/// The most words a kept block has.
const MAX_WORDS: usize = 10;
/// What the memo's maps may take in all: room for 460,000 blocks (a 10,000-document campaign
/// has about 280,000 different ones, a million generated documents hold 270,000 at a time).
pub(crate) const BUDGET: usize = 32 << 20;
/// Bytes a slot of a shard's map takes: the hash's low half, the words, a control byte.
const SLOT: usize = std::mem::size_of::<(u64, Kept)>() + 1;

/// Blocks looked up before the share found decides whether texts go through the memo.
const WARM: u64 = 10_000;
/// The least share of blocks found (percent) for texts to go through the memo.
const MIN_FOUND: u64 = 50;
/// Below that share, one text in this many still goes through the memo.
const SAMPLE: u64 = 16;
/// Blocks counted before the counts are halved (recent texts weigh more).
const WINDOW: u64 = 1 << 22;

/// Tags as `'static` strings, each kept once: the dictionary's tags and the HMM's guesses, a
/// few dozen in all (a user dictionary adds its own).
static TAGS: LazyLock<Mutex<FxHashSet<&'static str>>> = LazyLock::new(Mutex::default);

/// Blocks tagged before, with their words.
pub(crate) struct Blocks {
    shards: [Padded; SHARDS],
    /// Blocks a shard may hold.
    shard_blocks: usize,
    /// Blocks looked up lately, and how many of them were held ([`Blocks::worth_it`]).
    looked: AtomicU64,
    found: AtomicU64,
    /// Texts asked about while the share found is low (every [`SAMPLE`]th goes through).
    asked: AtomicU64,
}

/// A shard on cache lines of its own: two threads taking neighbouring shards do not contend.
#[repr(align(128))]
#[derive(Default)]
struct Padded(Mutex<Shard>);

#[derive(Default)]
struct Shard {
    /// The low half of a block's hash → the high half and its words.
    kept: FxHashMap<u64, Kept>,
    /// The tags this shard's words are numbered by.
    tags: Vec<&'static str>,
    /// Where a tag given by jieba lies in memory (address, length) → its number: jieba gives
    /// each tag from one place, so its number is found without comparing strings.
    ids: Vec<(usize, usize, u8)>,
}

/// A kept block's words: `n` of them, each its start and end (bytes in the block) and the
/// shard's number for its tag.
#[derive(Debug, Clone, Copy)]
struct Kept {
    check: u64,
    n: u8,
    words: [[u8; 3]; MAX_WORDS],
}

/// A word of a block tagged by jieba: its span in the block and its tag.
pub(crate) struct BlockWord<'t> {
    pub start: usize,
    pub end: usize,
    pub tag: &'t str,
}

impl Blocks {
    /// An empty memo holding about `budget` bytes at most.
    pub(crate) fn new(budget: usize) -> Blocks {
        Blocks {
            shards: std::array::from_fn(|_| Padded::default()),
            shard_blocks: most_blocks(budget / SHARDS),
            looked: AtomicU64::new(0),
            found: AtomicU64::new(0),
            asked: AtomicU64::new(0),
        }
    }

    /// Whether the next text should go through the memo: while few blocks have been looked up,
    /// when at least half of those lately looked up were held, and otherwise one text in
    /// [`SAMPLE`]. Only speed depends on it (the counts are shared by threads without order).
    pub(crate) fn worth_it(&self) -> bool {
        let looked = self.looked.load(Relaxed);
        if looked < WARM || self.found.load(Relaxed) * 100 >= looked * MIN_FOUND {
            return true;
        }
        self.asked.fetch_add(1, Relaxed).is_multiple_of(SAMPLE)
    }

    /// Counts a text's blocks: `looked` looked up, `found` of them held.
    pub(crate) fn count(&self, looked: u64, found: u64) {
        let all = self.looked.fetch_add(looked, Relaxed) + looked;
        let held = self.found.fetch_add(found, Relaxed) + found;
        if all > WINDOW {
            self.looked.store(all / 2, Relaxed);
            self.found.store(held / 2, Relaxed);
        }
    }

    /// Calls `each(start, end, tag)` for every word of `block` in order (spans relative to the
    /// block), from the memo or from `tag`, which tags a block afresh (its words are then kept).
    /// Returns whether the block was held.
    pub(crate) fn words<'t>(
        &self,
        block: &'t str,
        tag: impl FnOnce(&'t str) -> Vec<BlockWord<'t>>,
        mut each: impl FnMut(usize, usize, &'t str),
    ) -> bool {
        // A block short enough to keep: its hash and shard.
        let key = (block.len() <= MAX_BLOCK).then(|| {
            let hash = xxhash_rust::xxh3::xxh3_128(block.as_bytes());
            let (low, high) = (hash as u64, (hash >> 64) as u64);
            (low, high, &self.shards[(high >> 60) as usize % SHARDS].0)
        });
        if let Some((low, high, shard)) = key {
            let s = lock(shard);
            if let Some(k) = s.kept.get(&low).filter(|k| k.check == high) {
                for w in &k.words[..usize::from(k.n)] {
                    each(
                        usize::from(w[0]),
                        usize::from(w[1]),
                        s.tags[usize::from(w[2])],
                    );
                }
                return true;
            }
        }
        let fresh = tag(block);
        for w in &fresh {
            each(w.start, w.end, w.tag);
        }
        if let Some((low, high, shard)) = key {
            lock(shard).keep(low, high, &fresh, self.shard_blocks);
        }
        false
    }

    /// How many blocks the memo holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(&s.0).kept.len()).sum()
    }
}

impl Shard {
    /// Keeps a block's words under its hash (`low`, `high`), emptying the shard first when it
    /// holds `most` blocks. A block with more than [`MAX_WORDS`] words, or a tag beyond the
    /// 256th, is not kept.
    fn keep(&mut self, low: u64, high: u64, words: &[BlockWord<'_>], most: usize) {
        if words.len() > MAX_WORDS || self.kept.contains_key(&low) {
            // Kept by another thread meanwhile (or the same low half: the first stays).
            return;
        }
        let mut kept = Kept {
            check: high,
            n: words.len() as u8,
            words: [[0; 3]; MAX_WORDS],
        };
        for (slot, w) in kept.words.iter_mut().zip(words) {
            let (Some(id), Ok(start), Ok(end)) =
                (self.id(w.tag), u8::try_from(w.start), u8::try_from(w.end))
            else {
                return;
            };
            *slot = [start, end, id];
        }
        if self.kept.len() >= most {
            self.kept.clear();
        }
        self.kept.insert(low, kept);
    }

    /// The number of `tag` in this shard (`None` past 256 tags, never seen).
    fn id(&mut self, tag: &str) -> Option<u8> {
        let place = (tag.as_ptr() as usize, tag.len());
        if let Some(&(_, _, id)) = self.ids.iter().find(|&&(a, n, _)| (a, n) == place) {
            return Some(id);
        }
        let id = match self.tags.iter().position(|t| *t == tag) {
            Some(i) => i,
            None => {
                self.tags.push(intern(tag));
                self.tags.len() - 1
            }
        };
        let id = u8::try_from(id).ok()?;
        self.ids.push((place.0, place.1, id));
        Some(id)
    }
}

/// The most blocks a map within `bytes` holds: its slots are a power of two, at most 7/8 used
/// (the map grows past that; a shard is emptied before).
fn most_blocks(bytes: usize) -> usize {
    let fit = (bytes / SLOT).max(8);
    let slots = 1 << (usize::BITS - 1 - fit.leading_zeros());
    slots / 8 * 7
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `tag` as a `'static` string, leaked the first time it is met (a few dozen short strings a
/// process).
fn intern(tag: &str) -> &'static str {
    let mut tags = lock(&TAGS);
    match tags.get(tag) {
        Some(t) => t,
        None => {
            let t: &'static str = Box::leak(tag.into());
            tags.insert(t);
            t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(start: usize, end: usize, tag: &str) -> BlockWord<'_> {
        BlockWord { start, end, tag }
    }

    /// What `words` gives for `block`, and whether `tag` was called.
    fn words_of(memo: &Blocks, block: &str) -> (Vec<(usize, usize, String)>, bool) {
        let mut called = false;
        let mut out = Vec::new();
        let tag = |b: &str| {
            called = true;
            // Two-byte words with a tag naming their first byte: new words for any block.
            (0..b.len() / 2)
                .map(|i| {
                    word(
                        2 * i,
                        2 * i + 2,
                        ["a", "bb", "c"][usize::from(b.as_bytes()[2 * i]) % 3],
                    )
                })
                .collect()
        };
        memo.words(block, tag, |a, b, t| out.push((a, b, t.to_owned())));
        (out, called)
    }

    #[test]
    fn a_block_is_tagged_once_then_read_from_memory() {
        let memo = Blocks::new(BUDGET);
        let (first, called) = words_of(&memo, "abcdef");
        assert!(called);
        assert_eq!(first.len(), 3);
        let (again, called) = words_of(&memo, "abcdef");
        assert!(!called, "the second time from memory");
        assert_eq!(again, first);
        let (other, called) = words_of(&memo, "abcdefgh");
        assert!(called);
        assert_ne!(other, first);
        assert_eq!(memo.len(), 2);
        // A block longer than is kept is tagged every time.
        let long = "ab".repeat(MAX_BLOCK);
        assert!(words_of(&memo, &long).1);
        assert!(words_of(&memo, &long).1);
        assert_eq!(memo.len(), 2);
    }

    #[test]
    fn a_full_shard_is_emptied_and_fills_again() {
        // Room for seven blocks a shard: 200 blocks empty shards again and again.
        let memo = Blocks::new(SHARDS * SLOT * 8);
        assert_eq!(memo.shard_blocks, 7);
        let blocks: Vec<String> = (0..200).map(|i| format!("block{i:04}")).collect();
        for b in &blocks {
            assert!(words_of(&memo, b).1);
        }
        assert!(memo.len() <= SHARDS * 7, "{}", memo.len());
        for b in &blocks {
            let (got, _) = words_of(&memo, b);
            let fresh = Blocks::new(BUDGET);
            assert_eq!(got, words_of(&fresh, b).0, "{b}");
        }
    }

    #[test]
    fn a_shard_map_stays_within_its_share_of_the_budget() {
        let memo = Blocks::new(BUDGET);
        let most = memo.shard_blocks;
        let mut shard = Shard::default();
        for i in 0..most as u64 * 3 {
            shard.keep(i, i, &[word(0, 3, "n")], most);
            assert!(shard.kept.len() <= most);
        }
        // hashbrown's slots: a power of two, up to 7/8 used.
        let slots = (shard.kept.capacity() * 8 / 7).next_power_of_two();
        assert!(slots * SLOT <= BUDGET / SHARDS, "{slots} slots");
        assert!(most * SHARDS > 400_000, "{most}");
    }

    #[test]
    fn texts_go_through_the_memo_only_while_it_finds_enough() {
        let memo = Blocks::new(BUDGET);
        let through = |memo: &Blocks| (0..SAMPLE * 4).filter(|_| memo.worth_it()).count();
        // At first, and while at least half the blocks are found: every text.
        assert_eq!(through(&memo), SAMPLE as usize * 4);
        memo.count(WARM, WARM / 2);
        assert_eq!(through(&memo), SAMPLE as usize * 4);
        // Fewer found: one text in SAMPLE.
        memo.count(WARM, 0);
        assert_eq!(through(&memo), 4);
        // The counts are halved as they grow, so a change of texts shows: found again.
        memo.count(WINDOW, WINDOW);
        assert_eq!(through(&memo), SAMPLE as usize * 4);
        assert!(memo.looked.load(Relaxed) <= WINDOW, "halved");
    }

    #[test]
    fn a_block_is_kept_under_its_whole_hash_and_only_when_it_fits() {
        let mut shard = Shard::default();
        shard.keep(7, 1, &[word(0, 9, "ns")], 100);
        assert_eq!(shard.kept[&7].check, 1);
        // The same low half of another hash: the first block stays, and is not taken for it.
        shard.keep(7, 2, &[word(0, 9, "n")], 100);
        assert_eq!(shard.kept[&7].check, 1);
        assert_eq!(shard.tags, ["ns"]);
        let memo = Blocks::new(BUDGET);
        assert!(words_of(&memo, "石桥村").1);
        assert!(!words_of(&memo, "石桥村").1);
        // More words than a slot holds: not kept.
        let many: Vec<_> = (0..=MAX_WORDS).map(|i| word(i, i + 1, "x")).collect();
        shard.keep(8, 1, &many, 100);
        assert!(!shard.kept.contains_key(&8));
        assert!(words_of(&memo, &"ab".repeat(MAX_WORDS + 1)).1);
        assert!(words_of(&memo, &"ab".repeat(MAX_WORDS + 1)).1);
    }
}
