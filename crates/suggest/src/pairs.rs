//! The candidate pairs of the clustering step: a sorted, duplicate-free list of packed pairs
//! (`a << 32 | b`), held as blocks of delta-coded varints; and the band buckets they are made
//! from ([`Buckets`]).
//!
//! At a million documents the list is hundreds of millions of pairs: eight bytes each, and the
//! old and the new list side by side while a band was merged in, it was the largest thing the
//! suggest stage held. Sorted pairs differ little from one to the next (mostly the same first
//! document), so a pair takes about three bytes; and a merge consumes the old list block by
//! block, freeing each once read, so the two lists never stand whole side by side.

use rayon::prelude::*;

/// Pairs per block.
const BLOCK: u32 = 1 << 14;
/// Blocks merged on one thread; more are split in two and merged side by side.
const SPLIT: usize = 8;

/// A sorted, duplicate-free list of packed pairs.
#[derive(Debug, Default)]
pub(crate) struct PairList {
    blocks: Vec<Block>,
    len: usize,
}

/// A run of pairs: the first as it is, each next one as the LEB128 varint of its difference from
/// the one before.
#[derive(Debug)]
struct Block {
    first: u64,
    count: u32,
    rest: Vec<u8>,
}

impl Block {
    fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let mut rest = &self.rest[..];
        let mut prev = self.first;
        std::iter::once(self.first).chain((1..self.count).map(move |_| {
            prev += take_varint(&mut rest);
            prev
        }))
    }
}

impl PairList {
    /// How many pairs.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The pairs in order, on one thread (the clustering reads them with
    /// [`PairList::blocks_in_parts`]).
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.blocks.iter().flat_map(Block::iter)
    }

    /// The blocks in consecutive parts of about `pairs` pairs, each part's blocks in parallel,
    /// each block's pairs as one sequence; `done(n)` as each block of `n` starts.
    pub(crate) fn blocks_in_parts<'a>(
        &'a self,
        pairs: usize,
        done: &'a (impl Fn(usize) + Sync),
    ) -> impl Iterator<Item = impl ParallelIterator<Item = impl Iterator<Item = u64> + 'a> + 'a> + 'a
    {
        let per = (pairs / BLOCK as usize).max(1);
        self.blocks.chunks(per).map(move |part| {
            part.par_iter().map(move |b| {
                done(b.count as usize);
                b.iter()
            })
        })
    }

    /// The sorted union of this list and `band` (sorted, duplicate-free). This list is consumed a
    /// block at a time; long lists are merged in parts side by side.
    pub(crate) fn merged(self, band: &[u64]) -> PairList {
        PairList::of_blocks(merge_blocks(self.blocks, band))
    }

    /// The list these blocks hold, in order.
    fn of_blocks(blocks: Vec<Block>) -> PairList {
        let len = blocks.iter().map(|b| b.count as usize).sum();
        PairList { blocks, len }
    }
}

impl FromIterator<u64> for PairList {
    /// From pairs in increasing order (a repeat of the one before is dropped).
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> Self {
        let mut b = Builder::default();
        iter.into_iter().for_each(|x| b.push(x));
        PairList::of_blocks(b.finish())
    }
}

/// The buckets of every band, from which the candidate pairs are read: each bucket of two or
/// more vectors links each of its first `cap` members to every member after it.
///
/// Every band repeats most pairs of the band before (10,000 documents: 27 M pairs from the
/// buckets, 4 M distinct), so pairs made band by band had to be sorted to drop the repeats, and
/// that sort was most of the candidate step. Instead the buckets are kept, small (each bucket's
/// members in increasing order as delta-coded varints: about a byte a member, as members are
/// close together), and each document that leads a bucket (one of its first `cap` members, with
/// members after it) gathers its later partners from all its buckets at once, dropping repeats
/// with a bit per vector. The partners come out in order, document by document: the sorted list
/// with no sort and no merge.
#[derive(Debug)]
pub(crate) struct Buckets {
    cap: usize,
    /// The members of every bucket, each bucket's first as a varint of itself, the rest as
    /// varints of their difference from the member before.
    bytes: Vec<u8>,
    /// Bucket `k` is `bytes[starts[k]..starts[k + 1]]`.
    starts: Vec<usize>,
    /// `doc << 32 | bucket`, for each document and each bucket it leads.
    leads: Vec<u64>,
}

/// The parts [`Buckets::pairs`] reads the leading documents in (by about the same number of
/// members to look at), each on a worker and reported done as one unit.
pub(crate) const PAIR_PARTS: usize = 64;

impl Buckets {
    /// No buckets yet; each of the first `cap` members of a bucket (at least one) leads it.
    pub(crate) fn new(cap: usize) -> Self {
        Buckets {
            cap: cap.max(1),
            bytes: Vec::new(),
            starts: vec![0],
            leads: Vec::new(),
        }
    }

    /// Adds a bucket: its members, in strictly increasing order (a bucket of one links nothing
    /// and is not kept).
    pub(crate) fn add(&mut self, members: &[u32]) {
        if members.len() < 2 {
            return;
        }
        debug_assert!(members.windows(2).all(|w| w[0] < w[1]));
        let bucket = (self.starts.len() - 1) as u64;
        assert!(bucket < 1 << 32, "more buckets than a pair can name");
        for &a in &members[..self.cap.min(members.len() - 1)] {
            self.leads.push(u64::from(a) << 32 | bucket);
        }
        let mut prev = 0;
        for &m in members {
            put_varint(&mut self.bytes, u64::from(m - prev));
            prev = m;
        }
        self.starts.push(self.bytes.len());
    }

    /// The members of bucket `k`, in order.
    fn members(&self, k: usize) -> impl Iterator<Item = u32> + '_ {
        let mut bytes = &self.bytes[self.starts[k]..self.starts[k + 1]];
        let mut prev = 0u32;
        std::iter::from_fn(move || {
            if bytes.is_empty() {
                return None;
            }
            prev += take_varint(&mut bytes) as u32;
            Some(prev)
        })
    }

    /// The candidate pairs of vectors below `n`: sorted, each once. `done(1)` as each of (at
    /// most) [`PAIR_PARTS`] parts is read; the rest of the parts once all are.
    pub(crate) fn pairs(mut self, n: usize, done: impl Fn(usize) + Sync) -> PairList {
        self.leads.par_sort_unstable();
        let this = &self;
        // Runs of leads of one document, cut into parts of about the same number of members.
        let size = |l: u64| {
            let k = l as u32 as usize;
            this.starts[k + 1] - this.starts[k]
        };
        let total: usize = this.leads.iter().map(|&l| size(l)).sum();
        let per = total.div_ceil(PAIR_PARTS).max(1);
        let mut parts: Vec<&[u64]> = Vec::with_capacity(PAIR_PARTS + 1);
        let mut rest: &[u64] = &this.leads;
        while !rest.is_empty() {
            let (mut at, mut got) = (0, 0);
            while at < rest.len() && (got < per || rest[at] >> 32 == rest[at - 1] >> 32) {
                got += size(rest[at]);
                at += 1;
            }
            let (part, tail) = rest.split_at(at);
            parts.push(part);
            rest = tail;
        }
        let reported = parts.len().min(PAIR_PARTS);
        let blocks: Vec<Vec<Block>> = parts
            .into_par_iter()
            .enumerate()
            .map(|(i, part)| {
                let mut seen = vec![0u64; n.div_ceil(64)];
                let mut partners: Vec<u32> = Vec::new();
                let mut out = Builder::default();
                for run in part.chunk_by(|x, y| x >> 32 == y >> 32) {
                    let a = (run[0] >> 32) as u32;
                    for &l in run {
                        for m in this.members(l as u32 as usize).filter(|&m| m > a) {
                            let (w, bit) = (m as usize / 64, 1u64 << (m % 64));
                            if seen[w] & bit == 0 {
                                seen[w] |= bit;
                                partners.push(m);
                            }
                        }
                    }
                    partners.sort_unstable();
                    for &m in &partners {
                        seen[m as usize / 64] = 0;
                        out.push(u64::from(a) << 32 | u64::from(m));
                    }
                    partners.clear();
                }
                if i < reported {
                    done(1);
                }
                out.finish()
            })
            .collect();
        done(PAIR_PARTS - reported);
        PairList::of_blocks(blocks.into_iter().flatten().collect())
    }
}

/// Appends `x` as a LEB128 varint (seven bits a byte, the high bit set on all but the last).
fn put_varint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

/// Reads the LEB128 varint at the start of `bytes` and moves past it.
#[inline]
fn take_varint(bytes: &mut &[u8]) -> u64 {
    let mut x = 0u64;
    let mut shift = 0;
    loop {
        let byte = bytes[0];
        *bytes = &bytes[1..];
        x |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return x;
        }
        shift += 7;
    }
}

/// Merges `band` into `blocks` (both sorted; together they cover a range of pairs).
fn merge_blocks(mut blocks: Vec<Block>, band: &[u64]) -> Vec<Block> {
    if blocks.len() >= SPLIT {
        let high = blocks.split_off(blocks.len() / 2);
        // Everything of the band below the upper half's first pair goes with the lower half.
        let cut = band.partition_point(|&y| y < high[0].first);
        let (band_low, band_high) = band.split_at(cut);
        let (mut low, high) = rayon::join(
            || merge_blocks(blocks, band_low),
            || merge_blocks(high, band_high),
        );
        low.extend(high);
        return low;
    }
    let mut out = Builder::default();
    let mut j = 0;
    for block in blocks {
        for x in block.iter() {
            while j < band.len() && band[j] < x {
                out.push(band[j]);
                j += 1;
            }
            j += usize::from(j < band.len() && band[j] == x);
            out.push(x);
        }
        // The block is dropped here, once read.
    }
    band[j..].iter().for_each(|&y| out.push(y));
    out.finish()
}

/// Writes pairs in increasing order into blocks.
#[derive(Default)]
struct Builder {
    done: Vec<Block>,
    current: Option<Block>,
    last: u64,
}

impl Builder {
    fn push(&mut self, x: u64) {
        if self.current.is_some() && x == self.last {
            return;
        }
        match &mut self.current {
            Some(b) if b.count < BLOCK => {
                put_varint(&mut b.rest, x - self.last);
                b.count += 1;
            }
            _ => {
                self.seal();
                self.current = Some(Block {
                    first: x,
                    count: 1,
                    rest: Vec::with_capacity(BLOCK as usize * 3),
                });
            }
        }
        self.last = x;
    }

    fn seal(&mut self) {
        if let Some(mut b) = self.current.take() {
            b.rest.shrink_to_fit();
            self.done.push(b);
        }
    }

    fn finish(mut self) -> Vec<Block> {
        self.seal();
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::tests::xorshift;

    fn sorted(mut v: Vec<u64>) -> Vec<u64> {
        v.sort_unstable();
        v.dedup();
        v
    }

    #[test]
    fn buckets_give_each_pair_of_a_leader_and_a_later_member_once_in_order() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        for (bands, n, cap) in [
            (0, 5, 8),
            (1, 1, 8),
            (3, 10, 1),
            (24, 400, 8),
            (6, 70_000, 3),
        ] {
            let mut buckets = Buckets::new(cap);
            let mut want: Vec<u64> = Vec::new();
            for _ in 0..bands {
                // Every vector in one bucket of the band (as a band's sorted keys give them),
                // with many buckets of one, a few large ones and one holding a fifth of all.
                let mut key: Vec<(u64, u32)> = (0..n as u32)
                    .map(|d| {
                        let k = match next() % 10 {
                            0 | 1 => 0,
                            2..=5 => 1 + next() % 20,
                            _ => 100 + next() % (n as u64),
                        };
                        (k, d)
                    })
                    .collect();
                key.sort_unstable();
                for group in key.chunk_by(|x, y| x.0 == y.0) {
                    let members: Vec<u32> = group.iter().map(|k| k.1).collect();
                    buckets.add(&members);
                    // What the bands made before: the first `cap` members to each later one.
                    for x in 1..members.len() {
                        for y in 0..x.min(cap) {
                            want.push(u64::from(members[y]) << 32 | u64::from(members[x]));
                        }
                    }
                }
            }
            let want = sorted(want);
            let parts = std::sync::atomic::AtomicUsize::new(0);
            let list = buckets.pairs(n, |k| {
                parts.fetch_add(k, std::sync::atomic::Ordering::Relaxed);
            });
            assert_eq!(list.len(), want.len(), "{bands} bands of {n}");
            assert_eq!(
                list.iter().collect::<Vec<_>>(),
                want,
                "{bands} bands of {n}"
            );
            assert_eq!(parts.into_inner(), PAIR_PARTS, "every part reported once");
        }
    }

    #[test]
    fn a_list_gives_back_its_pairs_in_order() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        // Small and huge gaps (a varint of one to ten bytes), across several blocks.
        let mut want: Vec<u64> = (0..100_000).map(|_| next() % 5_000_000).collect();
        want.extend([0, 1, u64::MAX, u64::MAX - 1, 1 << 40]);
        let want = sorted(want);
        let list: PairList = want.iter().copied().collect();
        assert_eq!(list.len(), want.len());
        assert!(list.blocks.len() > 4);
        assert_eq!(list.iter().collect::<Vec<_>>(), want);
        // In one part, its blocks in parallel.
        let seen = std::sync::atomic::AtomicUsize::new(0);
        let whole = |n| {
            seen.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        };
        let mut one = list.blocks_in_parts(usize::MAX, &whole);
        let par: Vec<u64> = one.next().unwrap().flat_map_iter(|b| b).collect();
        assert!(one.next().is_none());
        assert_eq!(par, want);
        // In parts of about 50,000 pairs: every pair once, in order, in a few parts.
        let mut parts = 0;
        let mut in_parts: Vec<u64> = Vec::new();
        let in_parts_done = std::sync::atomic::AtomicUsize::new(0);
        let count = |n| {
            in_parts_done.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        };
        for part in list.blocks_in_parts(50_000, &count) {
            parts += 1;
            in_parts.extend(part.flat_map_iter(|b| b).collect::<Vec<u64>>());
        }
        assert_eq!(in_parts, want);
        assert!((2..list.blocks.len()).contains(&parts), "{parts} parts");
        drop(one);
        for done in [seen.into_inner(), in_parts_done.into_inner()] {
            assert_eq!(done, want.len(), "every pair reported done once");
        }
        // Far smaller than eight bytes a pair.
        let bytes: usize = list.blocks.iter().map(|b| b.rest.len() + 8).sum();
        assert!(bytes * 2 < want.len() * 8, "{bytes} bytes");
    }

    #[test]
    fn merging_a_band_gives_the_sorted_union() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        for (na, nb, range) in [
            (0, 0, 10),
            (0, 5_000, 100_000),
            (5_000, 0, 100_000),
            (3, 4, 10),
            (200_000, 150_000, 600_000),
            (300_000, 2_000, 1 << 40),
            (2_000, 300_000, 1 << 40),
        ] {
            let a = sorted((0..na).map(|_| next() % range).collect());
            let mut b: Vec<u64> = (0..nb).map(|_| next() % range).collect();
            // Values both hold, among them the first pair of a block (where a split falls).
            b.extend(a.iter().step_by(BLOCK as usize / 2).copied());
            let b = sorted(b);
            let want = sorted(a.iter().chain(&b).copied().collect());
            let list: PairList = a.iter().copied().collect();
            let merged = list.merged(&b);
            assert_eq!(merged.len(), want.len(), "{na} + {nb}");
            assert_eq!(merged.iter().collect::<Vec<_>>(), want, "{na} + {nb}");
            // Merging again with the same band changes nothing.
            let again = merged.merged(&b);
            assert_eq!(again.iter().collect::<Vec<_>>(), want);
        }
    }
}
