//! Many short lists held as one.

use rayon::prelude::*;

/// Many short lists held as one: list `k` is `items[start[k]..start[k + 1]]`. A list of its own
/// each costs a 24-byte header and a heap block, and at a million documents the clustering holds
/// millions of them, most with one item or none (each group's members, each suggestion's key
/// words and its subject line's).
pub(crate) struct Lists<T> {
    start: Vec<usize>,
    items: Vec<T>,
}

/// Lists [`Lists::build`] makes side by side before adding them to the whole.
const BLOCK: usize = 1 << 16;

impl<T: Copy + Send> Lists<T> {
    /// The lists `list(0)`, …, `list(n - 1)`, made on every worker a block at a time.
    pub(crate) fn build(n: usize, list: impl Fn(usize) -> Vec<T> + Sync) -> Lists<T> {
        let mut start = Vec::with_capacity(n + 1);
        start.push(0);
        let mut items = Vec::new();
        for from in (0..n).step_by(BLOCK) {
            let block: Vec<Vec<T>> = (from..n.min(from + BLOCK))
                .into_par_iter()
                .map(&list)
                .collect();
            for l in block {
                items.extend_from_slice(&l);
                start.push(items.len());
            }
        }
        items.shrink_to_fit();
        Lists { start, items }
    }

    /// How many lists.
    pub(crate) fn len(&self) -> usize {
        self.start.len() - 1
    }

    /// List `k`.
    pub(crate) fn get(&self, k: usize) -> &[T] {
        &self.items[self.start[k]..self.start[k + 1]]
    }

    /// The length of list `k`.
    pub(crate) fn size(&self, k: usize) -> usize {
        self.start[k + 1] - self.start[k]
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
        Lists { start, items }
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
        }
        let group = |d: usize| (d * 7919) % 13;
        let grouped = Lists::grouped(13, 1000, group);
        assert_eq!(grouped.len(), 13);
        for x in 0..13 {
            let want: Vec<usize> = (0..1000).filter(|&d| group(d) == x).collect();
            assert_eq!(grouped.get(x), want.as_slice());
        }
    }
}
