//! Many short lists held as one.

use rayon::prelude::*;

/// Many short lists held as one: list `k` is `items[start[k]..start[k + 1]]`, the items held in
/// blocks of the lists of [`BLOCK`] consecutive `k` (`items` is block `k >> shift`, offset by
/// where that block starts). A list of its own each costs a 24-byte header and a heap block, and at a
/// million documents the clustering holds millions of them, most short (each group's members,
/// each suggestion's key words and its subject line's, each suggestion's vector). Blocks, each
/// made at its exact size, rather than one list grown as they are added: a grown list holds up
/// to twice its items (and a copy of them when shrunk), and the vectors alone are 0.3 GB at 1M.
pub(crate) struct Lists<T> {
    start: Vec<usize>,
    /// Where each block's items start among all items.
    block_start: Vec<usize>,
    blocks: Vec<Vec<T>>,
    /// Lists per block, as a power of two (a shift, not a division, on every read).
    shift: u32,
}

/// Lists [`Lists::build`] makes side by side, held as one block.
const BLOCK_BITS: u32 = 16;
const BLOCK: usize = 1 << BLOCK_BITS;
/// The shift of lists held in one block: every `k` shifted by it is 0.
const ONE_BLOCK: u32 = usize::BITS - 1;

impl<T: Copy + Send> Lists<T> {
    /// The lists `list(0)`, …, `list(n - 1)`, made on every worker a block at a time.
    pub(crate) fn build(n: usize, list: impl Fn(usize) -> Vec<T> + Sync) -> Lists<T> {
        Lists::build_with(n, |k| (list(k), ())).0
    }

    /// [`Lists::build`], each list made with a value of its own beside it (`side[k]`).
    pub(crate) fn build_with<U: Send>(
        n: usize,
        list: impl Fn(usize) -> (Vec<T>, U) + Sync,
    ) -> (Lists<T>, Vec<U>) {
        let mut side = Vec::with_capacity(n);
        let mut start = Vec::with_capacity(n + 1);
        start.push(0);
        let mut block_start = Vec::with_capacity(n.div_ceil(BLOCK));
        let mut blocks = Vec::with_capacity(n.div_ceil(BLOCK));
        let mut total = 0;
        for from in (0..n).step_by(BLOCK) {
            let lists: Vec<(Vec<T>, U)> = (from..n.min(from + BLOCK))
                .into_par_iter()
                .map(&list)
                .collect();
            let mut items = Vec::with_capacity(lists.iter().map(|l| l.0.len()).sum());
            for (l, u) in lists {
                items.extend_from_slice(&l);
                start.push(total + items.len());
                side.push(u);
            }
            block_start.push(total);
            total += items.len();
            blocks.push(items);
        }
        let lists = Lists {
            start,
            block_start,
            blocks,
            shift: BLOCK_BITS,
        };
        (lists, side)
    }

    /// The distinct lists among `list(0)`, …, `list(n - 1)` (made on every worker a block at a
    /// time), each held once, and for each `k` which of them `list(k)` is. Two lists are the same
    /// when their items' `bits` are: `bits` must tell apart any two items that are not
    /// interchangeable (a float by its bits). Numbered in order of first appearance.
    pub(crate) fn build_distinct(
        n: usize,
        list: impl Fn(usize) -> Vec<T> + Sync,
        bits: impl Fn(&T) -> u64 + Sync,
    ) -> (Lists<T>, Vec<u32>)
    where
        T: Sync,
    {
        let hash = |l: &[T]| {
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            for x in l {
                h.update(&bits(x).to_le_bytes());
            }
            h.digest()
        };
        Lists::build_distinct_by(n, list, &bits, hash)
    }

    /// [`Lists::build_distinct`] with the lists hashed by `hash` (a test gives one that makes
    /// every list clash).
    fn build_distinct_by(
        n: usize,
        list: impl Fn(usize) -> Vec<T> + Sync,
        bits: &(impl Fn(&T) -> u64 + Sync),
        hash: impl Fn(&[T]) -> u64 + Sync,
    ) -> (Lists<T>, Vec<u32>)
    where
        T: Sync,
    {
        let same = |a: &[T], b: &[T]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| bits(x) == bits(y))
        };
        let mut out = Lists {
            start: vec![0],
            block_start: Vec::new(),
            blocks: Vec::new(),
            shift: BLOCK_BITS,
        };
        // The block of distinct lists being filled (`out` holds the full ones).
        let mut filling: Vec<T> = Vec::new();
        // Each distinct list by its hash: the first with that hash here, any other with the same
        // hash and other items in `clashes` (which a 64-bit hash leaves all but always empty).
        let mut seen: crate::HashMap<u64, u32> = crate::HashMap::default();
        let mut clashes: Vec<(u64, u32)> = Vec::new();
        let mut of: Vec<u32> = Vec::with_capacity(n);
        for from in (0..n).step_by(BLOCK) {
            let made: Vec<(Vec<T>, u64)> = (from..n.min(from + BLOCK))
                .into_par_iter()
                .map(|k| {
                    let l = list(k);
                    let h = hash(&l);
                    (l, h)
                })
                .collect();
            for (l, h) in made {
                let known = seen
                    .get(&h)
                    .copied()
                    .into_iter()
                    .chain(clashes.iter().filter(|x| x.0 == h).map(|x| x.1))
                    .find(|&c| same(out.held(&filling, c as usize), &l));
                let c = match known {
                    Some(c) => c,
                    None => {
                        let c = out.len();
                        if c % BLOCK == 0 && c > 0 {
                            out.close_block(&mut filling);
                        }
                        filling.extend_from_slice(&l);
                        out.start.push(out.start[c] + l.len());
                        let c = c as u32;
                        match seen.entry(h) {
                            std::collections::hash_map::Entry::Occupied(_) => {
                                clashes.push((h, c));
                            }
                            std::collections::hash_map::Entry::Vacant(e) => {
                                e.insert(c);
                            }
                        }
                        c
                    }
                };
                of.push(c);
            }
        }
        out.close_block(&mut filling);
        (out, of)
    }

    /// [`Lists::build_distinct`]: the block being filled, made exact and added to the blocks.
    fn close_block(&mut self, filling: &mut Vec<T>) {
        let total = self.start[self.len()];
        self.block_start.push(total - filling.len());
        let mut items = std::mem::take(filling);
        items.shrink_to_fit();
        self.blocks.push(items);
    }

    /// List `k`, while [`Lists::build_distinct`] fills the last block (`filling`).
    fn held<'a>(&'a self, filling: &'a [T], k: usize) -> &'a [T] {
        if k >> self.shift < self.blocks.len() {
            return self.get(k);
        }
        let at = self.start[k - k % BLOCK];
        &filling[self.start[k] - at..self.start[k + 1] - at]
    }

    /// How many lists.
    pub(crate) fn len(&self) -> usize {
        self.start.len() - 1
    }

    /// List `k`.
    pub(crate) fn get(&self, k: usize) -> &[T] {
        let b = k >> self.shift;
        let at = self.block_start[b];
        &self.blocks[b][self.start[k] - at..self.start[k + 1] - at]
    }

    /// The length of list `k`.
    pub(crate) fn size(&self, k: usize) -> usize {
        self.start[k + 1] - self.start[k]
    }

    /// The lists in order, on every worker.
    pub(crate) fn par_iter(&self) -> impl IndexedParallelIterator<Item = &[T]> + '_
    where
        T: Sync,
    {
        (0..self.len()).into_par_iter().map(|k| self.get(k))
    }
}

impl<T: Copy + Send> std::ops::Index<usize> for Lists<T> {
    type Output = [T];
    fn index(&self, k: usize) -> &[T] {
        self.get(k)
    }
}

impl Lists<usize> {
    /// `0..n` by group: list `x` holds, in increasing order, each `d` with `group(d) == x`
    /// (below `groups`).
    pub(crate) fn grouped(groups: usize, n: usize, group: impl Fn(usize) -> usize) -> Lists<usize> {
        let mut start = vec![0usize; groups + 1];
        for d in 0..n {
            start[group(d) + 1] += 1;
        }
        for x in 0..groups {
            start[x + 1] += start[x];
        }
        let mut next = start[..groups].to_vec();
        let mut items = vec![0usize; n];
        for d in 0..n {
            let x = group(d);
            items[next[x]] = d;
            next[x] += 1;
        }
        Lists {
            start,
            block_start: vec![0],
            blocks: vec![items],
            shift: ONE_BLOCK,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built a block at a time or grouped, the lists are those a `Vec` each gives.
    #[test]
    fn lists_hold_what_a_vec_each_holds() {
        let n = BLOCK * 2 + 321;
        let each: Vec<Vec<u32>> = (0..n)
            .map(|k| (0..(k % 4) as u32).map(|i| i * 7 + k as u32).collect())
            .collect();
        let lists = Lists::build(n, |k| each[k].clone());
        assert_eq!(lists.len(), n);
        for (k, want) in each.iter().enumerate() {
            assert_eq!(lists.get(k), want.as_slice());
            assert_eq!(lists.size(k), want.len());
            assert_eq!(&lists[k], want.as_slice());
        }
        let all: Vec<Vec<u32>> = lists.par_iter().map(<[u32]>::to_vec).collect();
        assert_eq!(all, each);
        let (again, side) = Lists::build_with(n, |k| (each[k].clone(), k * 3));
        assert_eq!(side, (0..n).map(|k| k * 3).collect::<Vec<_>>());
        assert!((0..n).all(|k| again[k] == lists[k]));
        assert_eq!(Lists::build(0, |k| each[k].clone()).len(), 0);
        let group = |d: usize| (d * 7919) % 13;
        let grouped = Lists::grouped(13, 1000, group);
        assert_eq!(grouped.len(), 13);
        for x in 0..13 {
            let want: Vec<usize> = (0..1000).filter(|&d| group(d) == x).collect();
            assert_eq!(grouped.get(x), want.as_slice());
        }
    }

    /// Each list is held once whatever its hash: the lists given back are those made, every
    /// distinct one once, numbered in order of first appearance, over several blocks of distinct
    /// lists and with every list's hash the same.
    #[test]
    fn distinct_lists_are_held_once() {
        // More distinct lists than a block holds, each made several times, and the empty one.
        let n = BLOCK * 5 + 77;
        let each = |k: usize| -> Vec<(u32, f32)> {
            let kind = (k * 7919) % (2 * BLOCK + 1000);
            (0..(kind % 5) as u32)
                .map(|i| (i, (kind as f32) * 0.5 + i as f32))
                .collect()
        };
        let bits = |&(t, w): &(u32, f32)| u64::from(t) << 32 | u64::from(w.to_bits());
        let key = |l: &[(u32, f32)]| l.iter().map(bits).collect::<Vec<u64>>();
        // What they should be: distinct by bits, numbered as first met.
        let mut first: std::collections::HashMap<Vec<u64>, u32> = Default::default();
        let want: Vec<u32> = (0..n)
            .map(|k| {
                let next = first.len() as u32;
                *first.entry(key(&each(k))).or_insert(next)
            })
            .collect();
        assert!(first.len() > BLOCK, "{} distinct lists", first.len());
        // -0.0 and 0.0 are told apart by their bits.
        let signed = |k: usize| vec![(1u32, if k.is_multiple_of(2) { 0.0f32 } else { -0.0 })];
        let (lists, of) = Lists::build_distinct(4, signed, bits);
        assert_eq!((lists.len(), of), (2, vec![0, 1, 0, 1]));
        let whole = Lists::build_distinct(n, each, bits);
        // Every hash the same: each list is compared with every distinct one before it.
        let clashing = Lists::build_distinct_by(3000, each, &bits, |_| 7);
        for (lists, of) in [whole, clashing] {
            assert_eq!(of.as_slice(), &want[..of.len()]);
            let distinct = 1 + *of.iter().max().unwrap() as usize;
            assert_eq!(lists.len(), distinct);
            for (k, &c) in of.iter().enumerate() {
                assert_eq!(key(&lists[c as usize]), key(&each(k)), "list {k}");
            }
        }
    }
}
