//! The passage of a hit that shows why it matched: the window of the text holding the most
//! query words, with every occurrence marked.

pub use diaoyan_text::escape_html;
use serde::Serialize;

/// A passage with the matched words marked (byte ranges into `text`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snippet {
    /// The passage; `…` where it was cut from a longer text.
    pub text: String,
    /// Matched words in `text`, as sorted, non-overlapping byte ranges.
    pub marks: Vec<(usize, usize)>,
}

impl Snippet {
    /// The passage with each matched word between `open` and `close` (【】 for plain text, colour
    /// codes on a terminal).
    pub fn marked(&self, open: &str, close: &str) -> String {
        self.render(|s| s.to_owned(), open, close)
    }

    /// The passage as HTML: every piece escaped, matched words in `<mark>`.
    pub fn html(&self) -> String {
        self.render(escape_html, "<mark>", "</mark>")
    }

    fn render(&self, piece: impl Fn(&str) -> String, open: &str, close: &str) -> String {
        let mut out = String::with_capacity(self.text.len() + self.marks.len() * 8);
        let mut at = 0;
        for &(s, e) in &self.marks {
            out.push_str(&piece(&self.text[at..s]));
            out.push_str(open);
            out.push_str(&piece(&self.text[s..e]));
            out.push_str(close);
            at = e;
        }
        out.push_str(&piece(&self.text[at..]));
        out
    }
}

/// Where `terms` occur in `text` (ASCII letters compared case-blind), as sorted, merged byte
/// ranges, with the index of the term each range starts with.
pub fn occurrences(text: &str, terms: &[String]) -> Vec<(usize, usize, usize)> {
    let hay = text.to_ascii_lowercase();
    let mut found: Vec<(usize, usize, usize)> = Vec::new();
    for (t, term) in terms.iter().enumerate() {
        let needle = term.to_ascii_lowercase();
        if needle.is_empty() {
            continue;
        }
        found.extend(
            hay.match_indices(needle.as_str())
                .map(|(at, m)| (at, at + m.len(), t)),
        );
    }
    found.sort_unstable();
    let mut merged: Vec<(usize, usize, usize)> = Vec::with_capacity(found.len());
    for (s, e, t) in found {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e, t)),
        }
    }
    merged
}

/// The passage of at most `width` characters of `text` holding the most distinct `terms` (then
/// the most occurrences), starting a little before the first of them; the whole text when it is
/// short. Line breaks become spaces.
pub fn snippet(text: &str, terms: &[String], width: usize) -> Snippet {
    let width = width.max(10);
    let occ = occurrences(text, terms);
    let chars = text.chars().count();
    let (from, to) = if chars <= width {
        (0, text.len())
    } else {
        window(text, &occ, width)
    };
    let mut out = String::new();
    let mut marks = Vec::new();
    if from > 0 {
        out.push('…');
    }
    let shift = |at: usize, out_len: usize| out_len + (at - from);
    let base = out.len();
    for &(s, e, _) in &occ {
        if s >= from && e <= to {
            marks.push((shift(s, base), shift(e, base)));
        } else if s < to && e > from {
            // Cut by the window's edge: mark what is inside.
            marks.push((shift(s.max(from), base), shift(e.min(to), base)));
        }
    }
    out.push_str(&text[from..to]);
    if to < text.len() {
        out.push('…');
    }
    // Line breaks and tabs as spaces: same byte length for \n \t, \r too.
    let text: String = out
        .chars()
        .map(|c| {
            if matches!(c, '\n' | '\r' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect();
    Snippet { text, marks }
}

/// The byte range of the best window of `width` characters.
fn window(text: &str, occ: &[(usize, usize, usize)], width: usize) -> (usize, usize) {
    // Byte offset of every character, and the text's end.
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let char_at = |byte: usize| bounds.partition_point(|&b| b < byte);
    let lead = width / 5;
    let mut best = (0usize, 0usize, 0usize); // (distinct terms, occurrences, start char)
    for (i, &(s, _, _)) in occ.iter().enumerate() {
        let start = char_at(s).saturating_sub(lead);
        let end_byte = bounds[(start + width).min(bounds.len() - 1)];
        let inside = occ[i..].iter().take_while(|o| o.1 <= end_byte);
        let mut terms: Vec<usize> = inside.clone().map(|o| o.2).collect();
        let n = terms.len();
        terms.sort_unstable();
        terms.dedup();
        if (terms.len(), n) > (best.0, best.1) {
            best = (terms.len(), n, start);
        }
    }
    let mut start = best.2;
    // Start at a sentence's beginning when one is close before the first match.
    if start > 0 {
        let first = occ.first().map_or(0, |o| char_at(o.0));
        let head: Vec<char> = text[bounds[start]..].chars().take(lead.max(1)).collect();
        if let Some(p) = head
            .iter()
            .position(|c| matches!(c, '。' | '！' | '？' | '；' | '\n'))
            && start + p < first.max(start)
        {
            start += p + 1;
        }
    }
    let end = (start + width).min(bounds.len() - 1);
    (bounds[start], bounds[end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_short_text_is_shown_whole_with_its_words_marked() {
        let s = snippet("石桥村机耕路塌方，机耕路不通", &terms(&["机耕路"]), 80);
        assert_eq!(s.marked("【", "】"), "石桥村【机耕路】塌方，【机耕路】不通");
        assert_eq!(
            s.html(),
            "石桥村<mark>机耕路</mark>塌方，<mark>机耕路</mark>不通"
        );
    }

    #[test]
    fn a_long_text_shows_the_passage_with_the_most_words() {
        let filler = "今天天气晴朗，我们继续开展工作。".repeat(20);
        let text = format!("{filler}村里反映机耕路塌方，拖拉机开不进去。{filler}机耕路");
        let s = snippet(&text, &terms(&["机耕路", "拖拉机"]), 40);
        let m = s.marked("【", "】");
        assert!(m.starts_with('…') && m.ends_with('…'), "{m}");
        assert!(m.contains("【机耕路】塌方，【拖拉机】"), "{m}");
        assert!(s.text.chars().count() <= 42, "{}", s.text);
    }

    #[test]
    fn latin_letters_match_case_blind_and_markup_is_escaped() {
        let s = snippet("<b>g107国道</b>沿线5G基站", &terms(&["G107", "5g"]), 80);
        assert_eq!(
            s.html(),
            "&lt;b&gt;<mark>g107</mark>国道&lt;/b&gt;沿线<mark>5G</mark>基站"
        );
    }

    #[test]
    fn overlapping_words_make_one_mark() {
        let s = snippet("道路硬化工程", &terms(&["道路硬化", "硬化"]), 80);
        assert_eq!(s.marked("[", "]"), "[道路硬化]工程");
    }
}
