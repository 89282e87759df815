//! The candidate pairs of the clustering step: a sorted, duplicate-free list of packed pairs
//! (`a << 32 | b`), held as blocks of delta-coded varints.
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
        let mut at = 0;
        let mut prev = self.first;
        std::iter::once(self.first).chain((1..self.count).map(move |_| {
            let mut delta = 0u64;
            let mut shift = 0;
            loop {
                let byte = self.rest[at];
                at += 1;
                delta |= u64::from(byte & 0x7f) << shift;
                if byte < 0x80 {
                    break;
                }
                shift += 7;
            }
            prev += delta;
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
    /// [`PairList::par_blocks`]).
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.blocks.iter().flat_map(Block::iter)
    }

    /// The pairs in order, each block's as one sequence, the blocks in parallel; `done(n)` as
    /// each block of `n` starts.
    pub(crate) fn par_blocks<'a>(
        &'a self,
        done: impl Fn(usize) + Sync + Send + 'a,
    ) -> impl ParallelIterator<Item = impl Iterator<Item = u64> + 'a> + 'a {
        self.blocks.par_iter().map(move |b| {
            done(b.count as usize);
            b.iter()
        })
    }

    /// The blocks in consecutive parts of about `pairs` pairs, each part's blocks in parallel,
    /// each block's pairs as one sequence.
    pub(crate) fn blocks_in_parts(
        &self,
        pairs: usize,
    ) -> impl Iterator<Item = impl ParallelIterator<Item = impl Iterator<Item = u64> + '_>> + '_
    {
        let per = (pairs / BLOCK as usize).max(1);
        self.blocks
            .chunks(per)
            .map(|part| part.par_iter().map(Block::iter))
    }

    /// The sorted union of this list and `band` (sorted, duplicate-free). This list is consumed a
    /// block at a time; long lists are merged in parts side by side.
    pub(crate) fn merged(self, band: &[u64]) -> PairList {
        let blocks = merge_blocks(self.blocks, band);
        let len = blocks.iter().map(|b| b.count as usize).sum();
        PairList { blocks, len }
    }
}

impl FromIterator<u64> for PairList {
    /// From pairs in increasing order (a repeat of the one before is dropped).
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> Self {
        let mut b = Builder::default();
        iter.into_iter().for_each(|x| b.push(x));
        let blocks = b.finish();
        let len = blocks.iter().map(|b| b.count as usize).sum();
        PairList { blocks, len }
    }
}

/// The packed pairs `raw` (in any order, with repeats) of documents below `n`, sorted and without
/// repeats, in `raw`'s own memory. A counting sort by the first document, then each document's
/// partners sorted on their own (mostly a few hundred numbers): far fewer comparisons than
/// sorting the whole list, which, with every band repeating most pairs of the band before, was
/// most of the candidate step's time. Besides `raw` it holds four bytes a pair and about twenty
/// a document. (A list where one document is in most pairs sorts its partners on one thread:
/// use it where pairs spread over many documents.)
pub(crate) fn sort_pairs(mut raw: Vec<u64>, n: usize) -> Vec<u64> {
    if raw.is_empty() {
        return raw;
    }
    // `start[a]..start[a + 1]`: where the partners of `a` go. Counted and placed by every
    // worker for a range of first documents of its own, each reading the whole list (reading
    // in order is cheap; the scattered counts and writes are what took the time, on one
    // thread: a third of the candidate step).
    let workers = rayon::current_num_threads().clamp(1, 8);
    let mut start = vec![0usize; n + 1];
    {
        let per = n.div_ceil(workers).max(1);
        start[1..]
            .par_chunks_mut(per)
            .enumerate()
            .for_each(|(w, count)| {
                let base = w * per;
                for &p in &raw {
                    if let Some(c) = ((p >> 32) as usize)
                        .checked_sub(base)
                        .and_then(|a| count.get_mut(a))
                    {
                        *c += 1;
                    }
                }
            });
    }
    for a in 0..n {
        start[a + 1] += start[a];
    }
    let mut partner = vec![0u32; raw.len()];
    {
        // Ranges of first documents holding about the same number of pairs.
        let per = raw.len().div_ceil(workers);
        let mut jobs = Vec::with_capacity(workers);
        let mut rest: &mut [u32] = &mut partner;
        let mut a = 0;
        while a < n {
            let mut b = start
                .partition_point(|&s| s < start[a] + per)
                .clamp(a + 1, n);
            while b < n && start[b] == start[a] {
                b += 1;
            }
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(start[b] - start[a]);
            jobs.push((a..b, part));
            rest = tail;
            a = b;
        }
        jobs.into_par_iter().for_each(|(docs, part)| {
            let mut at: Vec<usize> = start[docs.clone()]
                .iter()
                .map(|&s| s - start[docs.start])
                .collect();
            for &p in &raw {
                let a = (p >> 32) as usize;
                if docs.contains(&a) {
                    let slot = &mut at[a - docs.start];
                    part[*slot] = p as u32;
                    *slot += 1;
                }
            }
        });
    }
    // Runs of documents with about the same number of pairs, side by side: first each
    // document's partners are sorted and their repeats dropped in place (`kept[a]` left) …
    let parts = rayon::current_num_threads() * 8;
    let per = raw.len().div_ceil(parts);
    let mut runs: Vec<std::ops::Range<usize>> = Vec::with_capacity(parts + 1);
    let mut a = 0;
    while a < n {
        let mut b = a + 1;
        while b < n && start[b + 1] - start[a] < per {
            b += 1;
        }
        runs.push(a..b);
        a = b;
    }
    let mut kept = vec![0u32; n];
    {
        let mut jobs = Vec::with_capacity(runs.len());
        let (mut p_rest, mut k_rest): (&mut [u32], &mut [u32]) = (&mut partner, &mut kept);
        for docs in &runs {
            let (p, pt) =
                std::mem::take(&mut p_rest).split_at_mut(start[docs.end] - start[docs.start]);
            let (k, kt) = std::mem::take(&mut k_rest).split_at_mut(docs.len());
            jobs.push((docs.clone(), p, k));
            (p_rest, k_rest) = (pt, kt);
        }
        jobs.into_par_iter().for_each(|(docs, run, kept)| {
            let mut from = 0;
            for (a, kept) in docs.zip(kept.iter_mut()) {
                let len = start[a + 1] - start[a];
                let seg = &mut run[from..from + len];
                from += len;
                seg.sort_unstable();
                let mut k = 0;
                for i in 0..seg.len() {
                    if i == 0 || seg[i] != seg[k - 1] {
                        seg[k] = seg[i];
                        k += 1;
                    }
                }
                *kept = k as u32;
            }
        });
    }
    // … then written out in order over `raw`, each run into its own part of it.
    let total: usize = kept.iter().map(|&k| k as usize).sum();
    raw.truncate(total);
    let mut jobs = Vec::with_capacity(runs.len());
    let mut out_rest: &mut [u64] = &mut raw;
    let mut p_rest: &[u32] = &partner;
    for docs in &runs {
        let (p, pt) = p_rest.split_at(start[docs.end] - start[docs.start]);
        let size: usize = kept[docs.clone()].iter().map(|&k| k as usize).sum();
        let (o, ot) = std::mem::take(&mut out_rest).split_at_mut(size);
        jobs.push((docs.clone(), p, o));
        (p_rest, out_rest) = (pt, ot);
    }
    jobs.into_par_iter().for_each(|(docs, run, out)| {
        let (mut from, mut to) = (0, 0);
        for a in docs {
            let k = kept[a] as usize;
            for &b in &run[from..from + k] {
                out[to] = (a as u64) << 32 | u64::from(b);
                to += 1;
            }
            from += start[a + 1] - start[a];
        }
    });
    raw
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
                let mut delta = x - self.last;
                while delta >= 0x80 {
                    b.rest.push((delta as u8) | 0x80);
                    delta >>= 7;
                }
                b.rest.push(delta as u8);
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

    fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    fn sorted(mut v: Vec<u64>) -> Vec<u64> {
        v.sort_unstable();
        v.dedup();
        v
    }

    #[test]
    fn pairs_are_sorted_as_a_whole_sort_sorts_them() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        for (len, n) in [
            (0, 1),
            (1, 1),
            (7, 3),
            (5_000, 40),
            (200_000, 5_000),
            (300_000, 70),
        ] {
            // Repeats, documents with no pair, one document with most pairs.
            let mut raw: Vec<u64> = (0..len)
                .map(|i| {
                    let a = if i % 3 == 0 {
                        n as u64 / 2
                    } else {
                        next() % n as u64
                    };
                    a << 32 | (next() % 1_000)
                })
                .collect();
            let again: Vec<u64> = raw.iter().step_by(4).copied().collect();
            raw.extend(again);
            assert_eq!(
                sort_pairs(raw.clone(), n),
                sorted(raw),
                "{len} pairs of {n}"
            );
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
        let seen = std::sync::atomic::AtomicUsize::new(0);
        let par: Vec<u64> = list
            .par_blocks(|n| {
                seen.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            })
            .flat_map_iter(|b| b)
            .collect();
        assert_eq!(par, want);
        // In parts of about 50,000 pairs: every pair once, in order, in a few parts.
        let mut parts = 0;
        let mut in_parts: Vec<u64> = Vec::new();
        for part in list.blocks_in_parts(50_000) {
            parts += 1;
            in_parts.extend(part.flat_map_iter(|b| b).collect::<Vec<u64>>());
        }
        assert_eq!(in_parts, want);
        assert!((2..list.blocks.len()).contains(&parts), "{parts} parts");
        assert_eq!(
            seen.into_inner(),
            want.len(),
            "every pair reported done once"
        );
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
