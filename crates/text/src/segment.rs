//! Word segmentation over a shared dictionary.

use crate::{Error, Result};
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

/// The campaign user dictionary shipped with the binary (`corpora/lexicon/userdict.txt`).
pub const BUILTIN_USERDICT: &str = include_str!("../../../corpora/lexicon/userdict.txt");
/// The stop words shipped with the binary (`corpora/lexicon/stopwords.txt`).
pub const BUILTIN_STOPWORDS: &str = include_str!("../../../corpora/lexicon/stopwords.txt");

/// The word lists a [`Segmenter`] is built from. Lines starting with `#` are comments.
#[derive(Debug, Clone, Default)]
pub struct Lexicons {
    /// User dictionary text: one `word [freq] [pos-tag]` per line.
    pub userdict: String,
    /// Stop words, one per line.
    pub stopwords: String,
}

impl Lexicons {
    /// The lexicons that ship inside the binary.
    pub fn builtin() -> Self {
        Self {
            userdict: BUILTIN_USERDICT.to_owned(),
            stopwords: BUILTIN_STOPWORDS.to_owned(),
        }
    }

    /// Reads lexicons from files; `None` keeps the built-in list for that part.
    pub fn from_files(userdict: Option<&Path>, stopwords: Option<&Path>) -> Result<Self> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| Error::Lexicon {
                path: p.display().to_string(),
                source,
            })
        };
        Ok(Self {
            userdict: match userdict {
                Some(p) => read(p)?,
                None => BUILTIN_USERDICT.to_owned(),
            },
            stopwords: match stopwords {
                Some(p) => read(p)?,
                None => BUILTIN_STOPWORDS.to_owned(),
            },
        })
    }
}

/// A word with its byte span in the segmented text and its part-of-speech tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word<'a> {
    /// The word.
    pub text: &'a str,
    /// First byte in the segmented text.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// jieba part-of-speech tag (`ns` place, `nr` person, `nt` organisation, `m` numeral …).
    pub tag: &'a str,
}

struct Inner {
    jieba: Dict,
    /// Looked up once per word of every text: a fast hash (the words are the campaign's own
    /// lexicon, not input an attacker controls).
    stopwords: rustc_hash::FxHashSet<String>,
    /// FNV-1a over the lexicons' text: the same lexicons give the same cuts.
    fingerprint: u64,
    /// The tagged words of blocks met before ([`Segmenter::tag`]).
    tagged: crate::blocks::Blocks,
    /// The search-mode words of blocks met before ([`Segmenter::search_spans`]).
    searched: crate::blocks::Blocks,
}

/// The jieba dictionary, built on a thread of its own from the moment the segmenter is made and
/// waited for where it is first used. Building it (the default dictionary's 350,000 words and the
/// user dictionary) takes 0.3–0.8 s here, most of a small re-run's start; reading the files at
/// the start of a run does not need it, so the two overlap.
struct Dict {
    built: OnceLock<jieba_rs::Jieba>,
    building: Mutex<Option<std::thread::JoinHandle<jieba_rs::Jieba>>>,
}

impl Dict {
    /// Starts building the dictionary with the user dictionary's words added (built here and
    /// now if no thread can be started).
    fn start(userdict: &str) -> Dict {
        let words = userdict.to_owned();
        let building = std::thread::Builder::new()
            .name("diaoyan-jieba".to_owned())
            .spawn(move || jieba_with(&words));
        let (built, building) = match building {
            Ok(handle) => (OnceLock::new(), Some(handle)),
            Err(_) => (OnceLock::from(jieba_with(userdict)), None),
        };
        Dict {
            built,
            building: Mutex::new(building),
        }
    }

    /// The dictionary, once built (a panic while building is raised here).
    fn get(&self) -> &jieba_rs::Jieba {
        self.built.get_or_init(|| {
            let handle = self
                .building
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take()
                .expect("the dictionary is built once");
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

/// jieba's default dictionary plus the user dictionary's words. Lines that cannot be read are
/// skipped (a word list is data a campaign edits by hand; one odd line must not stop the run).
fn jieba_with(userdict: &str) -> jieba_rs::Jieba {
    let mut jieba = jieba_rs::Jieba::new();
    for line in userdict.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let Some(word) = parts.next() else { continue };
        let (freq, tag) = match (parts.next(), parts.next()) {
            (Some(f), tag) if f.parse::<usize>().is_ok() => (f.parse().ok(), tag),
            (Some(tag), _) => (None, Some(tag)),
            (None, _) => (None, None),
        };
        jieba.add_word(word, freq, tag);
    }
    jieba
}

/// FNV-1a, 64 bits: stable across processes and versions (unlike std's hasher).
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Chinese word segmentation: the default dictionary plus the campaign user dictionary, built
/// once (on a thread of its own, [`Dict`]) and shared by every clone and thread.
#[derive(Clone)]
pub struct Segmenter {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter")
            .field("stopwords", &self.inner.stopwords.len())
            .finish()
    }
}

static BUILTIN: LazyLock<Segmenter> = LazyLock::new(|| Segmenter::new(&Lexicons::builtin()));

impl Segmenter {
    /// The segmenter over the built-in lexicons, built on first use and shared process-wide.
    pub fn builtin() -> Segmenter {
        BUILTIN.clone()
    }

    /// Builds a segmenter; its dictionary is built on a thread of its own and waited for at
    /// its first use. User dictionary lines that cannot be read are skipped (a word list is data
    /// a campaign edits by hand; one odd line must not stop the run).
    pub fn new(lex: &Lexicons) -> Segmenter {
        let jieba = Dict::start(&lex.userdict);
        let stopwords = lex
            .stopwords
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
        Segmenter {
            inner: Arc::new(Inner {
                jieba,
                stopwords,
                fingerprint: fnv1a(&[&lex.userdict, &lex.stopwords]),
                tagged: crate::blocks::Blocks::new(crate::blocks::BUDGET),
                searched: crate::blocks::Blocks::new(crate::blocks::BUDGET / 2),
            }),
        }
    }

    /// The dictionary, waited for if it is still being built.
    fn jieba(&self) -> &jieba_rs::Jieba {
        self.inner.jieba.get()
    }

    /// Identifies the lexicons this segmenter was built from (an index built with other
    /// lexicons cuts words differently and must be rebuilt).
    pub fn fingerprint(&self) -> u64 {
        self.inner.fingerprint
    }

    /// Every token, punctuation and spaces included, in order (HMM on for unknown words).
    pub fn cut<'a>(&self, text: &'a str) -> Vec<&'a str> {
        self.jieba()
            .cut(text, true)
            .into_iter()
            .map(|t| t.word)
            .collect()
    }

    /// Byte spans of search-mode words (the words, plus the dictionary words inside long ones:
    /// 机耕路 gives 机耕 and 机耕路), for a full-text index. Punctuation and spaces are left out.
    /// Like [`tag`](Self::tag), a block at a time, blocks met before from memory (when the text
    /// so far repeats its blocks enough).
    pub fn search_spans(&self, text: &str) -> Vec<(usize, usize)> {
        let (jieba, memo) = (self.jieba(), &self.inner.searched);
        if !memo.worth_it() {
            return self.search_afresh(text);
        }
        let fresh = |block| {
            search_words(jieba, block)
                .map(|s| block_word(s, ""))
                .collect()
        };
        let other = |at, run, out: &mut Vec<(usize, usize)>| {
            out.extend(search_words(jieba, run).map(|(a, b)| (at + a, at + b)));
        };
        by_blocks(memo, text, fresh, |start, end, _| (start, end), other)
    }

    /// Words only: tokens that contain a letter, digit or Han character.
    pub fn words<'a>(&self, text: &'a str) -> Vec<&'a str> {
        self.jieba()
            .cut(text, true)
            .into_iter()
            .map(|t| t.word)
            .filter(|w| is_word(w))
            .collect()
    }

    /// Content words: [`words`](Self::words) minus stop words and single characters that are
    /// not Han.
    pub fn content_words<'a>(&self, text: &'a str) -> Vec<&'a str> {
        self.words(text)
            .into_iter()
            .filter(|w| !self.is_stopword(w))
            .collect()
    }

    /// Words with part-of-speech tags and byte spans (slower than [`words`](Self::words)).
    ///
    /// jieba tags each block (see [`Tagged`]) on its own and every other character as a token
    /// by itself, so the text is tagged a block at a time: a block met before gives the words
    /// it gave then ([`Blocks`](crate::blocks::Blocks)); a run of other characters is tagged
    /// only when it holds a letter or digit (nothing else in it can be a word). When the texts
    /// seldom repeat their blocks, a text is tagged whole instead ([`Blocks::worth_it`](crate::blocks::Blocks::worth_it)).
    pub fn tag<'a>(&'a self, text: &'a str) -> Vec<Word<'a>> {
        let memo = &self.inner.tagged;
        if !memo.worth_it() {
            return self.tag_afresh(text);
        }
        let fresh = |block: &'a str| {
            let words = self.tag_afresh(block).into_iter();
            words.map(|w| block_word((w.start, w.end), w.tag)).collect()
        };
        let word = |start, end, tag| Word {
            text: &text[start..end],
            start,
            end,
            tag,
        };
        let other = |at, run, out: &mut Vec<Word<'a>>| {
            let words = self.tag_afresh(run).into_iter();
            out.extend(words.map(|w| Word {
                start: at + w.start,
                end: at + w.end,
                ..w
            }));
        };
        by_blocks(memo, text, fresh, word, other)
    }

    /// [`search_spans`](Self::search_spans) by jieba over the whole text at once, no block kept
    /// or reused.
    fn search_afresh(&self, text: &str) -> Vec<(usize, usize)> {
        search_words(self.jieba(), text).collect()
    }

    /// [`tag`](Self::tag) by jieba over the whole text at once, no block kept or reused.
    fn tag_afresh<'a>(&'a self, text: &'a str) -> Vec<Word<'a>> {
        self.jieba()
            .tag(text, true)
            .into_iter()
            .filter(|t| is_word(t.word))
            .map(|t| Word {
                text: t.word,
                start: t.byte_start,
                end: t.byte_end,
                tag: t.tag,
            })
            .collect()
    }

    /// Whether a word is in the stop list.
    pub fn is_stopword(&self, w: &str) -> bool {
        self.inner.stopwords.contains(w)
    }

    /// Whether the dictionary knows a word (default or user dictionary).
    pub fn knows(&self, w: &str) -> bool {
        self.jieba().has_word(w)
    }

    /// A whole text tagged once ([`tag`](Self::tag) of all of it), for the several readers of
    /// its parts: a sentence's or a suggestion's words are then taken from it
    /// ([`Tagged::words`]) instead of segmenting the text again.
    pub fn tag_text<'a>(&'a self, text: &'a str) -> Tagged<'a> {
        Tagged {
            seg: self,
            text,
            words: self.tag(text),
        }
    }
}

/// A text with its words tagged once ([`Segmenter::tag_text`]).
///
/// jieba cuts each maximal run of Han characters, ASCII letters, digits and `+#&._%-` (a
/// "block") on its own; every other character is a token by itself. So the words of a part of
/// the text whose ends do not fall inside a block are exactly the whole text's words inside it,
/// and [`Tagged::words`] returns those; a part that cuts a block (`1.建议` without its `1.`) is
/// segmented afresh. Either way the result equals [`Segmenter::tag`] of the part.
pub struct Tagged<'a> {
    seg: &'a Segmenter,
    text: &'a str,
    words: Vec<Word<'a>>,
}

impl<'a> Tagged<'a> {
    /// The text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The segmenter that tagged it.
    pub fn segmenter(&self) -> &'a Segmenter {
        self.seg
    }

    /// The words of `text[a..b]`, spans relative to `a`: the same as
    /// `Segmenter::tag(&text[a..b])`.
    pub fn words(&self, a: usize, b: usize) -> Vec<Word<'a>> {
        match self.inside(a, b) {
            Some(words) => words
                .iter()
                .map(|w| Word {
                    start: w.start - a,
                    end: w.end - a,
                    ..*w
                })
                .collect(),
            None => self.seg.tag(&self.text[a..b]),
        }
    }

    /// How many words `text[a..b]` holds: the same as `Segmenter::words(&text[a..b]).len()`.
    pub fn count(&self, a: usize, b: usize) -> usize {
        match self.inside(a, b) {
            Some(words) => words.len(),
            None => self.seg.words(&self.text[a..b]).len(),
        }
    }

    /// The whole text's words inside `a..b`, when neither end cuts a block.
    fn inside(&self, a: usize, b: usize) -> Option<&[Word<'a>]> {
        if a > b || self.cuts_block(a) || self.cuts_block(b) {
            return None;
        }
        let from = self.words.partition_point(|w| w.start < a);
        let to = self.words.partition_point(|w| w.start < b);
        Some(&self.words[from..to])
    }

    /// Whether byte `i` falls between two characters of one block.
    fn cuts_block(&self, i: usize) -> bool {
        let (before, after) = (&self.text[..i], &self.text[i..]);
        match (before.chars().next_back(), after.chars().next()) {
            (Some(x), Some(y)) => in_block(x) && in_block(y),
            _ => false,
        }
    }
}

/// Whether jieba keeps a character in a block with its neighbours (its default "Han" class:
/// CJK unified ideographs and their extensions, ASCII letters and digits, `+#&._%-`).
fn in_block(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2A6DF}'
        | '\u{2A700}'..='\u{2B73F}'
        | '\u{2B740}'..='\u{2B81F}'
        | '\u{2B820}'..='\u{2CEAF}'
        | '\u{2CEB0}'..='\u{2EBEF}'
        | '\u{2F800}'..='\u{2FA1F}'
        | 'a'..='z'
        | 'A'..='Z'
        | '0'..='9'
        | '+' | '#' | '&' | '.' | '_' | '%' | '-')
}

/// jieba's search-mode words of `text`, as byte spans.
fn search_words(jieba: &jieba_rs::Jieba, text: &str) -> impl Iterator<Item = (usize, usize)> {
    let base = text.as_ptr() as usize;
    jieba
        .cut_for_search(text, true)
        .into_iter()
        .map(|t| t.word)
        .filter(|w| is_word(w))
        .map(move |w| {
            let start = w.as_ptr() as usize - base;
            (start, start + w.len())
        })
}

/// A word of a block, its span relative to the block (search-mode words have no tag: `""`).
fn block_word<'t>((start, end): (usize, usize), tag: &'t str) -> crate::blocks::BlockWord<'t> {
    crate::blocks::BlockWord { start, end, tag }
}

/// [`Segmenter::tag`] and [`Segmenter::search_spans`] a block at a time: each block's words from
/// `memo` (`fresh` cuts a block afresh, spans relative to it), each given to `word` with its
/// span in `text`; each run of other characters that holds a letter or digit (nothing else in
/// it can be a word) to `other` with where it starts. Counts what the memo found.
fn by_blocks<'a, W>(
    memo: &crate::blocks::Blocks,
    text: &'a str,
    fresh: impl Fn(&'a str) -> Vec<crate::blocks::BlockWord<'a>>,
    word: impl Fn(usize, usize, &'a str) -> W,
    other: impl Fn(usize, &'a str, &mut Vec<W>),
) -> Vec<W> {
    let mut out = Vec::with_capacity(text.len() / 5);
    let (mut looked, mut found) = (0, 0);
    for (at, run, block) in runs(text) {
        if block {
            looked += 1;
            let each = |start, end, tag| out.push(word(at + start, at + end, tag));
            found += u64::from(memo.words(run, &fresh, each));
        } else if run.chars().any(crate::is_alnum) {
            other(at, run, &mut out);
        }
    }
    memo.count(looked, found);
    out
}

/// `text` as maximal runs of block characters and of other characters, in order: (where the
/// run starts, the run, whether it is a block). jieba splits a text the same way.
fn runs(text: &str) -> impl Iterator<Item = (usize, &str, bool)> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = &text[at..];
        let block = in_block(rest.chars().next()?);
        let len = rest
            .char_indices()
            .find(|&(_, c)| in_block(c) != block)
            .map_or(rest.len(), |(i, _)| i);
        let run = (at, &rest[..len], block);
        at += len;
        Some(run)
    })
}

fn is_word(w: &str) -> bool {
    w.chars().any(crate::is_alnum)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Segmentation table: input on the left, the words expected among the output on the right.
    macro_rules! segment_cases {
        ($seg:expr; $($input:expr => [$($word:expr),*]),* $(,)?) => {
            $({
                let words = $seg.words($input);
                $( assert!(words.contains(&$word), "{:?} missing from {:?}", $word, words); )*
            })*
        };
    }

    #[test]
    fn campaign_words_stay_whole() {
        let seg = Segmenter::builtin();
        segment_cases! { seg;
            "县委书记到石桥村蹲点调研" => ["蹲点调研"],
            "县委书记在石桥村蹲点" => ["蹲点"],
            "坚决纠正四风问题" => ["四风"],
            "低保户和五保户的生活" => ["低保户", "五保户"],
            "村两委班子开会研究机耕路" => ["村两委", "机耕路"],
            "邀请两代表一委员参加座谈" => ["两代表一委员"],
        }
    }

    #[test]
    fn words_skip_punctuation_and_stopwords() {
        let seg = Segmenter::builtin();
        let words = seg.words("我们的，机耕路！");
        assert!(words.iter().all(|w| !w.contains('，') && !w.contains('！')));
        let content = seg.content_words("我们的机耕路");
        assert!(!content.contains(&"的"));
        assert!(content.contains(&"机耕路"));
    }

    #[test]
    fn tags_carry_byte_spans() {
        let seg = Segmenter::builtin();
        let text = "张伟在石桥村走访了12户";
        for w in seg.tag(text) {
            assert_eq!(&text[w.start..w.end], w.text);
        }
        assert!(seg.tag(text).iter().any(|w| w.tag == "m" || w.text == "12"));
    }

    /// Texts with the edge cases of jieba's blocks: numbering `1.`, `WES-5.4.5`, 30%, full-width
    /// digits, `\r\n`, Latin letters, unknown names the HMM joins.
    const EDGE_CASES: [&str; 4] = [
        "1.建议修缮石桥村机耕路；2.希望解决饮水问题。",
        "王桂兰反映：WES-5.4.5型水泵坏了30%，\r\n村里１２户没水吃。",
        "张大爷说，去年ABC公司在村口建了个搅拌站，噪音大、灰尘多！",
        "（一）存在问题：乡镇卫生院缺医少药，群众看病难",
    ];

    /// Every part of a text, read from the text tagged once, equals the part tagged on its own:
    /// parts at every pair of character boundaries of texts with the edge cases (numbering
    /// `1.`, `WES-5.4.5`, 30%, full-width digits, `\r\n`, Latin letters, unknown names the HMM
    /// joins), and every sentence of the report template.
    #[test]
    fn parts_of_a_tagged_text_equal_the_parts_tagged_alone() {
        let seg = Segmenter::builtin();
        for text in EDGE_CASES {
            let tagged = seg.tag_text(text);
            let cuts: Vec<usize> = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .collect();
            for (k, &a) in cuts.iter().enumerate() {
                for &b in &cuts[k..] {
                    let part = &text[a..b];
                    assert_eq!(tagged.words(a, b), seg.tag(part), "{part:?}");
                    assert_eq!(tagged.count(a, b), seg.words(part).len(), "{part:?}");
                }
            }
        }
        let report = include_str!("../../../corpora/templates/蹲点调研报告范文.txt");
        let tagged = seg.tag_text(report);
        let mut shared = 0;
        for sp in crate::sentences(report) {
            let (a, b) = (sp.start, sp.end);
            assert_eq!(tagged.words(a, b), seg.tag(&report[a..b]));
            shared += usize::from(tagged.inside(a, b).is_some());
        }
        // Sentences end at punctuation: nearly all are read from the shared tagging.
        assert!(
            shared * 10 >= crate::sentences(report).len() * 9,
            "{shared}"
        );
    }

    /// Tagging and the search-mode cut a block at a time, blocks met before from memory, give
    /// what jieba gives the whole text at once: the first time (blocks tagged and kept), the
    /// second (every block from memory), and in texts that repeat blocks among new ones. The
    /// texts hold the edge cases (numbering `1.`, `WES-5.4.5`, 30%, full-width digits and
    /// letters, `\r\n`, Latin letters, unknown names the HMM joins, Cyrillic, a block longer
    /// than is kept), texts made of random pieces, and the report template.
    #[test]
    fn blocks_from_memory_give_what_jieba_gives_the_whole_text() {
        let seg = Segmenter::new(&Lexicons::builtin());
        let long: String = "石桥村机耕路年久失修群众出行困难".repeat(40);
        let more = [
            "Ｇ３２０国道旁的Москва饭店，３０％的人说c++和C#都会",
            "",
            "，。！",
            "a",
        ];
        let mut texts: Vec<String> = EDGE_CASES
            .iter()
            .chain(&more)
            .map(|t| (*t).to_owned())
            .collect();
        texts.push(format!("开头{long}，结尾"));
        // Random pieces (a fixed xorshift sequence): blocks cut and joined in new ways.
        let pieces = [
            "石桥村",
            "机耕路",
            "12",
            "户",
            "，",
            "WES-5.4",
            "反映",
            "\r\n",
            "Ａ",
            "王桂兰",
            "%",
            "。",
            " ",
            "村民",
            "说",
            "-",
            "建议",
            "ｘ",
            "饮水",
            "abc",
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..300 {
            let mut t = String::new();
            for _ in 0..(x % 12) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t.push_str(pieces[(x % pieces.len() as u64) as usize]);
            }
            x = x.wrapping_add(0x9e37_79b9);
            texts.push(t);
        }
        texts.push(include_str!("../../../corpora/templates/蹲点调研报告范文.txt").to_owned());
        // Both cuts of every text equal jieba's whole-text ones (`when` names the round).
        let check = |when: &str| {
            for text in &texts {
                assert_eq!(seg.tag(text), seg.tag_afresh(text), "{when}: {text:?}");
                let spans = seg.search_spans(text);
                assert_eq!(spans, seg.search_afresh(text), "{when}: {text:?}");
            }
        };
        check("blocks cut by jieba and kept");
        check("blocks from memory");
        assert!(seg.inner.tagged.len() > 100, "blocks are kept");
        assert!(seg.inner.searched.len() > 100, "blocks are kept");
        // Texts that seldom repeat their blocks: most are cut whole, to the same words.
        seg.inner.tagged.count(1_000_000, 0);
        seg.inner.searched.count(1_000_000, 0);
        for memo in [&seg.inner.tagged, &seg.inner.searched] {
            // One text in a sample goes through: of two in a row, at least one is cut whole.
            assert!((0..2).any(|_| !memo.worth_it()));
        }
        check("most texts cut whole");
    }

    #[test]
    fn custom_lexicons() {
        let seg = Segmenter::new(&Lexicons {
            userdict: "# comment\n稻虾共作 100 n\n坏行 x y z\n".into(),
            stopwords: "稻虾共作\n".into(),
        });
        assert!(seg.knows("稻虾共作"));
        assert!(seg.is_stopword("稻虾共作"));
        assert!(
            seg.content_words("推广稻虾共作")
                .iter()
                .all(|w| *w != "稻虾共作")
        );
    }

    #[test]
    fn a_dictionary_still_being_built_is_waited_for_by_every_first_user() {
        // Several threads ask a new segmenter at once, while its dictionary is being built on a
        // thread of its own: each waits and cuts with the user words (one dictionary, built once).
        let lex = Lexicons {
            userdict: "稻虾共作 100 n\n".into(),
            stopwords: String::new(),
        };
        let text = "推广稻虾共作，石桥村机耕路年久失修";
        let alone = jieba_with(&lex.userdict)
            .cut(text, true)
            .into_iter()
            .map(|t| t.word)
            .collect::<Vec<_>>();
        assert!(alone.contains(&"稻虾共作"), "{alone:?}");
        let seg = Segmenter::new(&lex);
        let cuts: Vec<Vec<&str>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4).map(|_| s.spawn(|| seg.cut(text))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for cut in cuts {
            assert_eq!(cut, alone);
        }
        assert!(seg.knows("稻虾共作"));
        assert!(seg.clone().knows("稻虾共作"), "clones share the dictionary");
    }
}
