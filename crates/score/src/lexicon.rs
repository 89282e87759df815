//! Boilerplate (套话) and concrete-object lexicons.

use crate::scan::per_sentence;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use diaoyan_text::Span;
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
    /// Whether every pattern is [`context_free`], so patterns can be searched over a whole
    /// text at once.
    context_free: bool,
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
        let context_free = patterns.iter().all(|(re, _)| context_free(re.as_str()));
        (
            Boilerplate {
                phrases,
                phrase_category,
                context_free,
                patterns,
                pattern_set,
                any_pattern,
                categories,
            },
            bad,
        )
    }

    /// Non-overlapping hits in a sentence, longest first where they overlap.
    #[cfg(test)]
    pub fn hits(&self, s: &str) -> Vec<Hit> {
        let whole = Span {
            start: 0,
            end: s.len(),
        };
        self.hits_by_sentence(s, &[whole]).pop().unwrap_or_default()
    }

    /// [`Boilerplate::hits`] of each sentence of `text`, searched once over the whole text
    /// where that finds the same ([`per_sentence`]).
    pub fn hits_by_sentence(&self, text: &str, spans: &[Span]) -> Vec<Vec<Hit>> {
        let hit = |(start, end, category)| Hit {
            start,
            end,
            category,
        };
        let mut found: Vec<Vec<Hit>> = per_sentence(text, spans, |s| {
            self.phrases.find_iter(s).map(|m| {
                (
                    m.start(),
                    m.end(),
                    self.phrase_category[m.pattern().as_usize()],
                )
            })
        })
        .into_iter()
        .map(|v| v.into_iter().map(hit).collect())
        .collect();
        if self.context_free {
            // A pattern with no look-around matches in a sentence only if it matches in the
            // text: when none is in the text, none is in any sentence. Otherwise each pattern
            // searches the text itself: asking the set which patterns occur first cost more
            // than the searches it spared (it reads the whole text, and most texts that hold
            // one stock pattern hold many).
            if self.any_pattern.is_match(text) {
                for (re, c) in &self.patterns {
                    let each = per_sentence(text, spans, |s| {
                        re.find_iter(s).map(|m| (m.start(), m.end(), *c))
                    });
                    for (f, e) in found.iter_mut().zip(each) {
                        f.extend(e.into_iter().map(hit));
                    }
                }
            }
        } else {
            for (k, sp) in spans.iter().enumerate() {
                let s = sp.of(text);
                if !self.any_pattern.is_match(s) {
                    continue;
                }
                for i in self.pattern_set.matches(s).iter() {
                    let (re, c) = &self.patterns[i];
                    found[k].extend(re.find_iter(s).map(|m| hit((m.start(), m.end(), *c))));
                }
            }
        }
        for hits in &mut found {
            hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
            // A hit overlapping the last one kept is dropped.
            hits.dedup_by(|h, kept| h.start < kept.end);
        }
        found
    }
}

/// Whether a regex decides each match by the matched characters alone: no anchors, no word
/// boundaries (see [`per_sentence`]).
fn context_free(pattern: &str) -> bool {
    regex_syntax::Parser::new()
        .parse(pattern)
        .is_ok_and(|hir| hir.properties().look_set().is_empty())
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
    pub fn find(&self, s: &str) -> impl Iterator<Item = (usize, usize, ())> {
        self.words.find_iter(s).map(|m| (m.start(), m.end(), ()))
    }
}

#[cfg(test)]
pub(crate) mod tests {
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

    /// Each sentence's hits as the sentence alone gives them: every phrase and every pattern
    /// searched in it, sorted, overlaps dropped (written out here, apart from the code).
    fn alone(b: &Boilerplate, s: &str) -> Vec<Hit> {
        let mut hits: Vec<Hit> = b
            .phrases
            .find_iter(s)
            .map(|m| Hit {
                start: m.start(),
                end: m.end(),
                category: b.phrase_category[m.pattern().as_usize()],
            })
            .collect();
        for (re, c) in &b.patterns {
            hits.extend(re.find_iter(s).map(|m| Hit {
                start: m.start(),
                end: m.end(),
                category: *c,
            }));
        }
        hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
        let mut out: Vec<Hit> = Vec::new();
        for h in hits {
            if out.last().is_none_or(|l| h.start >= l.end) {
                out.push(h);
            }
        }
        out
    }

    /// The sample campaign's UTF-8 text files (its GBK and broken files are other tests'
    /// business).
    pub(crate) fn sample_texts() -> Vec<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../corpora/sample/campaign");
        let mut texts: Vec<String> = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("sample campaign") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "txt") {
                    texts.extend(std::fs::read_to_string(&p).ok());
                }
            }
        }
        texts
    }

    /// The sample campaign's texts, and texts made to put a pattern across sentence edges:
    /// hits found over a whole text equal each sentence's own, for the built-in lexicon, for
    /// one whose patterns reach across `！` and a line break, and for one with an anchored
    /// pattern (searched sentence by sentence).
    #[test]
    fn hits_over_a_whole_text_equal_each_sentences_own() {
        let mut texts = sample_texts();
        assert!(texts.len() >= 20, "{}", texts.len());
        texts.push("以产业！发展为抓手。进一步\n加强管理，以\n服务为载体！高度重视".into());
        let reaching = format!(
            "{BUILTIN_BOILERPLATE}\n口号\tre:以[^，。；]{{1,12}}为(?:抓手|载体)\n空泛措施\tre:进一步\\s*加强\n"
        );
        let anchored = format!("{BUILTIN_BOILERPLATE}\n口号\tre:^以[^，。；]{{1,12}}为\n");
        let mut compared = 0;
        for (lexicon, whole_text) in [
            (BUILTIN_BOILERPLATE.to_owned(), true),
            (reaching, true),
            (anchored, false),
        ] {
            let (b, bad) = Boilerplate::parse(&lexicon);
            assert!(bad.is_empty(), "{bad:?}");
            assert_eq!(b.context_free, whole_text);
            for t in &texts {
                let spans = diaoyan_text::sentences(t);
                let got = b.hits_by_sentence(t, &spans);
                for (sp, g) in spans.iter().zip(&got) {
                    assert_eq!(g, &alone(&b, sp.of(t)), "{:?}", sp.of(t));
                    compared += g.len();
                }
            }
        }
        assert!(compared > 300, "{compared}");
    }
}
