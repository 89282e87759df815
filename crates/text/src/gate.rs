//! Where a phrase of a fixed list may start: a quick test to run before a phrase automaton.

/// The hashed first two characters of each phrase (its one character, for a one-character
/// phrase), as two 8 KB bitmaps that stay in the cache. A phrase can only start at a character
/// whose pair (or own character) is marked; an automaton run only there, anchored, finds what
/// it would find scanning every byte. On Chinese text that matters: a phrase automaton's table
/// is large (its phrases' first bytes 0xE4–0xE9 are everywhere) and missed the cache at almost
/// every character, while a lexicon's few hundred starting pairs mark a few positions in a
/// hundred. False positives cost only an anchored search that finds nothing.
#[derive(Debug, Clone)]
pub struct StartGate {
    pairs: Box<[u64]>,
    singles: Box<[u64]>,
}

/// Bits in each bitmap.
const BITS: u32 = 16;

#[inline]
fn bit(a: char, b: Option<char>) -> usize {
    let h = (a as u32).wrapping_mul(0x9e37_79b1)
        ^ b.map_or(0, |b| (b as u32).wrapping_add(1).wrapping_mul(0x85eb_ca77));
    (h >> (32 - BITS)) as usize
}

#[inline]
fn is_set(bits: &[u64], at: usize) -> bool {
    bits[at / 64] & (1 << (at % 64)) != 0
}

impl StartGate {
    /// The gate of `phrases` (empty phrases are ignored: they start nowhere in particular).
    pub fn new<P: AsRef<str>>(phrases: &[P]) -> StartGate {
        let mut pairs = vec![0u64; 1 << (BITS - 6)].into_boxed_slice();
        let mut singles = pairs.clone();
        for p in phrases {
            let mut chars = p.as_ref().chars();
            let Some(a) = chars.next() else { continue };
            let (bits, at) = match chars.next() {
                Some(b) => (&mut pairs, bit(a, Some(b))),
                None => (&mut singles, bit(a, None)),
            };
            bits[at / 64] |= 1 << (at % 64);
        }
        StartGate { pairs, singles }
    }

    /// Whether a phrase may start at character `a` followed by `b` (`None` at the end).
    #[inline]
    pub fn may_start(&self, a: char, b: Option<char>) -> bool {
        (b.is_some() && is_set(&self.pairs, bit(a, b))) || is_set(&self.singles, bit(a, None))
    }

    /// The byte offsets in `s` where a phrase may start, in order.
    #[inline]
    pub fn starts<'s>(&'s self, s: &'s str) -> impl Iterator<Item = usize> + 's {
        let mut chars = s.char_indices().peekable();
        std::iter::from_fn(move || {
            while let Some((i, a)) = chars.next() {
                if self.may_start(a, chars.peek().map(|&(_, b)| b)) {
                    return Some(i);
                }
            }
            None
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_start_of_a_phrase_passes_the_gate() {
        let phrases = ["机耕路", "路", "塌方", "卫生室", ""];
        let gate = StartGate::new(&phrases);
        let s = "石桥村机耕路有两处塌方，路不好走，卫生室没人";
        let starts: Vec<usize> = gate.starts(s).collect();
        for p in phrases.iter().filter(|p| !p.is_empty()) {
            for (i, _) in s.match_indices(p) {
                assert!(starts.contains(&i), "{p} at {i}");
            }
        }
        // Most positions are passed over (a false positive is possible, but not here).
        assert!(starts.len() <= 6, "{starts:?}");
        assert!(gate.may_start('路', None));
        assert!(!gate.may_start('塌', None));
        assert!(gate.may_start('塌', Some('方')));
        assert_eq!(StartGate::new::<&str>(&[]).starts(s).count(), 0);
    }
}
