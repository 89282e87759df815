//! Boilerplate (套话) and concrete-object lexicons.

use aho_corasick::{
    AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Anchored, Input, MatchKind, StartKind,
};
use diaoyan_text::StartGate;
use regex::{Regex, RegexSet};

/// The boilerplate lexicon shipped with the binary.
pub const BUILTIN_BOILERPLATE: &str = include_str!("../../../corpora/lexicon/boilerplate.txt");
/// The concrete-object lexicon shipped with the binary.
pub const BUILTIN_CONCRETE: &str = include_str!("../../../corpora/lexicon/concrete.txt");

/// A boilerplate hit: byte range in the sentence and the phrase's category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    pub start: usize,
    pub end: usize,
    pub category: usize,
}

/// Compiled boilerplate phrases and patterns.
pub(crate) struct Boilerplate {
    phrases: Phrases,
    phrase_category: Vec<usize>,
    patterns: Vec<(Regex, usize)>,
    /// All patterns in one automaton: a sentence is scanned once to learn which patterns
    /// occur, and only those are searched for their positions.
    pattern_set: RegexSet,
    /// All patterns as one alternation: most sentences match none, and one forward search that
    /// may stop early (and use the patterns' literal prefixes) says so faster than the set's
    /// overlapping search.
    any_pattern: Regex,
    pub categories: Vec<String>,
}

impl Boilerplate {
    /// Parses `category<TAB>phrase` lines; `re:` marks a pattern. Returns the line numbers of
    /// lines that could not be read (bad regex, no tab) alongside.
    pub fn parse(text: &str) -> (Boilerplate, Vec<String>) {
        let mut categories: Vec<String> = Vec::new();
        let mut phrases = Vec::new();
        let mut phrase_category = Vec::new();
        let mut patterns = Vec::new();
        let mut bad = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end();
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((cat, item)) = line.split_once('\t') else {
                bad.push(format!("第 {} 行缺少制表符分隔的类别", i + 1));
                continue;
            };
            let c = match categories.iter().position(|x| x == cat) {
                Some(c) => c,
                None => {
                    categories.push(cat.to_owned());
                    categories.len() - 1
                }
            };
            if let Some(p) = item.strip_prefix("re:") {
                match Regex::new(p) {
                    Ok(re) => patterns.push((re, c)),
                    Err(e) => bad.push(format!("第 {} 行正则有误：{e}", i + 1)),
                }
            } else if !item.is_empty() {
                phrases.push(item.to_owned());
                phrase_category.push(c);
            }
        }
        let phrases = Phrases::new(&phrases);
        let pattern_set = RegexSet::new(patterns.iter().map(|(re, _)| re.as_str()))
            .expect("each pattern compiled on its own");
        let any_pattern = Regex::new(&any_of(patterns.iter().map(|(re, _)| re.as_str())))
            .expect("each pattern compiled on its own");
        (
            Boilerplate {
                phrases,
                phrase_category,
                patterns,
                pattern_set,
                any_pattern,
                categories,
            },
            bad,
        )
    }

    /// Non-overlapping hits in a sentence, longest first where they overlap.
    pub fn hits(&self, s: &str) -> Vec<Hit> {
        let mut hits: Vec<Hit> = self
            .phrases
            .find_iter(s)
            .map(|(start, end, phrase)| Hit {
                start,
                end,
                category: self.phrase_category[phrase],
            })
            .collect();
        if self.any_pattern.is_match(s) {
            for i in self.pattern_set.matches(s).iter() {
                let (re, c) = &self.patterns[i];
                for m in re.find_iter(s) {
                    hits.push(Hit {
                        start: m.start(),
                        end: m.end(),
                        category: *c,
                    });
                }
            }
        }
        hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
        let mut out: Vec<Hit> = Vec::with_capacity(hits.len());
        for h in hits {
            if out.last().is_none_or(|l| h.start >= l.end) {
                out.push(h);
            }
        }
        out
    }
}

/// A lexicon's literal phrases, found as a leftmost-longest automaton finds them (the leftmost
/// phrase, the longest one starting there, then on after it; no overlaps), but with the
/// automaton run, anchored, only where [`StartGate`] says a phrase may start rather than over
/// every byte (its transition table, about 1.8 MB for the built-in 套话 lexicon, missed the cache
/// at almost every character).
pub(crate) struct Phrases {
    anchored: AhoCorasick,
    gate: StartGate,
}

impl Phrases {
    pub fn new<P: AsRef<str>>(phrases: &[P]) -> Phrases {
        let anchored = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .start_kind(StartKind::Anchored)
            .kind(Some(AhoCorasickKind::DFA))
            .build(phrases.iter().map(AsRef::as_ref))
            .expect("literal phrases always build");
        Phrases {
            anchored,
            gate: StartGate::new(phrases),
        }
    }

    /// `(start, end, phrase index)` of each phrase found in `s`, in order.
    pub fn find_iter<'s>(&'s self, s: &'s str) -> impl Iterator<Item = (usize, usize, usize)> + 's {
        let mut starts = self.gate.starts(s);
        let mut after = 0;
        std::iter::from_fn(move || {
            for i in starts.by_ref() {
                if i < after {
                    continue;
                }
                let input = Input::new(s).range(i..).anchored(Anchored::Yes);
                if let Some(m) = self.anchored.find(input) {
                    after = m.end();
                    return Some((m.start(), m.end(), m.pattern().as_usize()));
                }
            }
            None
        })
    }
}

/// One regex matching where any of `patterns` matches (none: a regex that never matches).
fn any_of<'a>(patterns: impl Iterator<Item = &'a str>) -> String {
    let alternation: Vec<String> = patterns.map(|p| format!("(?:{p})")).collect();
    if alternation.is_empty() {
        r"[^\s\S]".to_owned()
    } else {
        alternation.join("|")
    }
}

/// Concrete objects (机耕路, 卫生室 …).
pub(crate) struct Concrete {
    words: Phrases,
}

fn word_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

impl Concrete {
    pub fn parse(text: &str) -> Concrete {
        let words: Vec<&str> = word_lines(text).collect();
        Concrete {
            words: Phrases::new(&words),
        }
    }

    /// Byte ranges of concrete objects in `s`.
    pub fn find(&self, s: &str) -> Vec<(usize, usize)> {
        self.words.find_iter(s).map(|(a, b, _)| (a, b)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_lexicons_parse_cleanly() {
        let (b, bad) = Boilerplate::parse(BUILTIN_BOILERPLATE);
        assert!(bad.is_empty(), "{bad:?}");
        assert!(b.categories.len() >= 8);
        let (_, bad) = Boilerplate::parse("表态\t高度重视\n坏行\n口号\tre:(\n");
        assert_eq!(bad.len(), 2);
    }

    #[test]
    fn the_pattern_gate_passes_exactly_the_sentences_a_pattern_matches() {
        // No patterns: the gate matches nothing, phrases are still found.
        let (b, _) = Boilerplate::parse("表态\t高度重视\n");
        assert!(!b.any_pattern.is_match("高度重视，进一步加强"));
        assert_eq!(b.hits("我们高度重视").len(), 1);
        // With patterns: hits through the gate equal the set's own matches, sentence by sentence.
        let (b, _) = Boilerplate::parse(BUILTIN_BOILERPLATE);
        for s in [
            "进一步加强组织领导",
            "以项目建设为抓手，不断提升服务水平",
            "三组机耕路有两处塌方",
            "群众纷纷表示满意，再上新台阶",
            "",
        ] {
            assert_eq!(b.any_pattern.is_match(s), b.pattern_set.is_match(s), "{s}");
        }
    }

    #[test]
    fn hits_do_not_overlap() {
        let (b, _) = Boilerplate::parse(BUILTIN_BOILERPLATE);
        let s = "高度重视，进一步加强组织领导，切实增强责任感和使命感";
        let hits = b.hits(s);
        assert!(hits.len() >= 3, "{hits:?}");
        for w in hits.windows(2) {
            assert!(w[0].end <= w[1].start);
        }
        assert!(b.hits("三组机耕路有两处塌方").is_empty());
    }
}

#[cfg(test)]
mod phrase_tests {
    use super::*;

    /// The phrases' own unanchored leftmost-longest automaton.
    fn automaton(phrases: &[&str]) -> AhoCorasick {
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(phrases)
            .unwrap()
    }

    /// What it finds.
    fn plain(automaton: &AhoCorasick, s: &str) -> Vec<(usize, usize, usize)> {
        automaton
            .find_iter(s)
            .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
            .collect()
    }

    fn lexicon_phrases(text: &str) -> Vec<&str> {
        word_lines(text)
            .map(|l| l.split_once('\t').map_or(l, |(_, p)| p))
            .filter(|p| !p.starts_with("re:") && !p.is_empty())
            .collect()
    }

    #[test]
    fn prefiltered_phrases_are_found_as_the_plain_automaton_finds_them() {
        let xorshift = |x: &mut u64| {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            *x
        };
        for lexicon in [BUILTIN_BOILERPLATE, BUILTIN_CONCRETE] {
            let phrases = lexicon_phrases(lexicon);
            assert!(phrases.len() >= 50);
            let fast = Phrases::new(&phrases);
            let slow = automaton(&phrases);
            // The sample campaign's texts, line by line.
            let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../corpora");
            let mut texts: Vec<String> = Vec::new();
            let mut dirs = vec![std::path::PathBuf::from(root)];
            while let Some(d) = dirs.pop() {
                for e in std::fs::read_dir(&d).unwrap() {
                    let p = e.unwrap().path();
                    if p.is_dir() {
                        dirs.push(p);
                    } else if p.extension().is_some_and(|x| x == "txt") {
                        // (Some sample files are GBK on purpose.)
                        texts.extend(std::fs::read_to_string(&p).ok());
                    }
                }
            }
            assert!(texts.len() >= 30, "{}", texts.len());
            // Random strings of phrase pieces (whole, cut short, run together so phrases
            // overlap and nest) and other characters.
            let mut x = 0x2545_f491_4f6c_dd1d_u64;
            for _ in 0..3000 {
                let mut s = String::new();
                for _ in 0..(xorshift(&mut x) % 8) {
                    let p: Vec<char> = phrases[xorshift(&mut x) as usize % phrases.len()]
                        .chars()
                        .collect();
                    let (a, b) = match xorshift(&mut x) % 4 {
                        0 => (1.min(p.len()), p.len()),
                        1 => (0, p.len() - 1),
                        _ => (0, p.len()),
                    };
                    s.extend(&p[a..b]);
                    if xorshift(&mut x) % 3 == 0 {
                        s.push(['，', '的', 'a', '1', '进', '重'][xorshift(&mut x) as usize % 6]);
                    }
                }
                texts.push(s);
            }
            let mut found = 0;
            for t in &texts {
                let want = plain(&slow, t);
                found += want.len();
                assert_eq!(fast.find_iter(t).collect::<Vec<_>>(), want, "{t}");
            }
            assert!(found > 1000, "{found}");
        }
        // One-character phrases, and a phrase that is another's first character.
        let phrases = ["路", "路灯", "灯坏了", "坏"];
        let (fast, slow) = (Phrases::new(&phrases), automaton(&phrases));
        for t in ["路灯坏了", "灯坏了路", "路路灯灯坏了坏", "", "路", "灯"] {
            assert_eq!(
                fast.find_iter(t).collect::<Vec<_>>(),
                plain(&slow, t),
                "{t}"
            );
        }
    }
}
