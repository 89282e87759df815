//! A text's searches done once over the whole text and handed out sentence by sentence.
//!
//! Reading a text looks for a dozen things in each sentence (stock phrases, role words, figures,
//! blanks, objects). Searched sentence by sentence, each search paid its set-up a few dozen
//! times a text — more than the search itself on sentences of forty characters. Searched once
//! over the text, the matches are the same as the sentences alone give whenever every match
//! lies inside one sentence (or wholly between two): a pattern with no look-around (no `^`,
//! `$`, `\b`) matches in a sentence exactly what it matches in the same characters within the
//! text, and a leftmost search meets the sentence's matches in the same order. A match lying
//! across a sentence's edge is the one case where the sentences alone could match otherwise, so
//! then that search is done sentence by sentence as before.

use diaoyan_text::Span;

/// Matches `(start, end, what)` of `find` in each of `spans` (sentences of `text`, in order,
/// not overlapping), as byte ranges within the sentence: what `find` run on each sentence
/// alone returns. `find` must be a leftmost, non-overlapping search of a pattern with no
/// look-around.
pub(crate) fn per_sentence<'a, T, I>(
    text: &'a str,
    spans: &[Span],
    find: impl Fn(&'a str) -> I,
) -> Vec<Vec<(usize, usize, T)>>
where
    I: Iterator<Item = (usize, usize, T)>,
{
    let mut out: Vec<Vec<(usize, usize, T)>> = spans.iter().map(|_| Vec::new()).collect();
    if spans.is_empty() {
        return out;
    }
    if whole(text, spans, &find, &mut out).is_some() {
        return out;
    }
    for (o, sp) in out.iter_mut().zip(spans) {
        o.clear();
        o.extend(find(sp.of(text)));
    }
    out
}

/// [`per_sentence`] in one pass over `text`; `None` when a match lies across a sentence's edge
/// (or is empty: an empty match at a sentence's end belongs to it alone).
fn whole<'a, T, I>(
    text: &'a str,
    spans: &[Span],
    find: &impl Fn(&'a str) -> I,
    out: &mut [Vec<(usize, usize, T)>],
) -> Option<()>
where
    I: Iterator<Item = (usize, usize, T)>,
{
    let mut i = 0;
    for (a, b, t) in find(text) {
        if a == b {
            return None;
        }
        while i < spans.len() && spans[i].end <= a {
            i += 1;
        }
        match spans.get(i) {
            // Inside sentence `i`, or across its end.
            Some(sp) if a >= sp.start => {
                if b > sp.end {
                    return None;
                }
                out[i].push((a - sp.start, b - sp.start, t));
            }
            // Between sentences: it must end before the next one starts.
            Some(sp) if b > sp.start => return None,
            _ => {}
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use diaoyan_text::sentences;
    use regex::Regex;

    fn each_alone<'a>(
        text: &'a str,
        spans: &[Span],
        re: &'a Regex,
    ) -> Vec<Vec<(usize, usize, ())>> {
        spans
            .iter()
            .map(|sp| {
                re.find_iter(sp.of(text))
                    .map(|m| (m.start(), m.end(), ()))
                    .collect()
            })
            .collect()
    }

    /// Texts built from pieces that put matches inside sentences, between them and across
    /// their edges: every search gives what each sentence alone gives, whichever way it went.
    #[test]
    fn one_pass_equals_each_sentence_alone() {
        let pieces = [
            "全村共有农户286户",
            "。",
            "！",
            "\n",
            "3\n户",
            "以产业",
            "发展为抓手",
            "，",
            "以",
            "为",
            "建议修路",
            "  ",
            "5",
            "户人家",
            "？",
            "abc",
            "；",
        ];
        let patterns = [
            r"\d+\s*户",
            r"以[^，。；]{1,12}为(?:抓手|载体)",
            r"建议|希望",
            r"[a-z]+",
            r"户",
        ];
        let res: Vec<Regex> = patterns.iter().map(|p| Regex::new(p).unwrap()).collect();
        // A fixed pseudo-random walk over the pieces: thousands of texts, the same each run.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let (mut whole_pass, mut fell_back) = (0, 0);
        for _ in 0..3000 {
            let mut text = String::new();
            let len = 1 + (x % 12) as usize;
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                text.push_str(pieces[(x % pieces.len() as u64) as usize]);
            }
            let spans = sentences(&text);
            for re in &res {
                let got = per_sentence(&text, &spans, |s| {
                    re.find_iter(s).map(|m| (m.start(), m.end(), ()))
                });
                assert_eq!(got, each_alone(&text, &spans, re), "{re} in {text:?}");
                let mut probe: Vec<Vec<(usize, usize, ())>> =
                    spans.iter().map(|_| Vec::new()).collect();
                let find = |s: &str| {
                    re.find_iter(s)
                        .map(|m| (m.start(), m.end(), ()))
                        .collect::<Vec<_>>()
                        .into_iter()
                };
                match whole(&text, &spans, &find, &mut probe) {
                    Some(()) => whole_pass += 1,
                    None => fell_back += 1,
                }
            }
        }
        // Both ways were taken, so both were checked.
        assert!(
            whole_pass > 1000 && fell_back > 100,
            "{whole_pass} {fell_back}"
        );
    }

    /// A match between two sentences (in the spaces a split leaves out) is nobody's; an empty
    /// match makes the search go sentence by sentence.
    #[test]
    fn matches_between_sentences_and_empty_matches() {
        let text = "修路。  \n建议修桥。";
        let spans = sentences(text);
        let space = Regex::new(r"\s+").unwrap();
        let got = per_sentence(text, &spans, |s| {
            space.find_iter(s).map(|m| (m.start(), m.end(), ()))
        });
        assert_eq!(got, each_alone(text, &spans, &space));
        let empty = Regex::new(r"x*").unwrap();
        let got = per_sentence(text, &spans, |s| {
            empty.find_iter(s).map(|m| (m.start(), m.end(), ()))
        });
        assert_eq!(got, each_alone(text, &spans, &empty));
        assert!(got.iter().all(|v| !v.is_empty()));
    }
}
