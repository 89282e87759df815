//! Boilerplate (套话) and concrete-object lexicons.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
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
    phrases: AhoCorasick,
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
        let phrases = phrase_automaton(&phrases);
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
            .map(|m| Hit {
                start: m.start(),
                end: m.end(),
                category: self.phrase_category[m.pattern().as_usize()],
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

/// The automaton finding a lexicon's literal phrases, longest first where they overlap. A DFA
/// without a prefilter: on Chinese text the phrases' first bytes (0xE4–0xE9) are everywhere, so
/// a prefilter would fire at almost every character and only add work.
fn phrase_automaton<P: AsRef<[u8]>>(phrases: &[P]) -> AhoCorasick {
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .kind(Some(AhoCorasickKind::DFA))
        .prefilter(false)
        .build(phrases)
        .expect("literal phrases always build")
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
    words: AhoCorasick,
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
            words: phrase_automaton(&words),
        }
    }

    /// Byte ranges of concrete objects in `s`.
    pub fn find(&self, s: &str) -> Vec<(usize, usize)> {
        self.words
            .find_iter(s)
            .map(|m| (m.start(), m.end()))
            .collect()
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
