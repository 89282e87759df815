//! Sentence and clause split, keeping byte offsets into the original text.

use serde::{Deserialize, Serialize};

/// A byte range `[start, end)` into the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The spanned text.
    pub fn of<'a>(&self, text: &'a str) -> &'a str {
        &text[self.start..self.end]
    }
}

fn is_sentence_end(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '!' | '?' | '；' | ';' | '…')
}

fn is_closer(c: char) -> bool {
    matches!(
        c,
        '”' | '’' | '"' | '\'' | '）' | ')' | '」' | '』' | '】' | '》'
    )
}

fn is_clause_end(c: char) -> bool {
    is_sentence_end(c) || matches!(c, '，' | ',' | '、' | '：' | ':')
}

/// Splits text into sentences at `。！？；…`, their ASCII forms and line breaks. Closing quotes and
/// brackets stay with the sentence they close; a paragraph indent of two ideographic spaces
/// (`　　`) also ends a sentence; surrounding spaces are trimmed from each span;
/// empty sentences are dropped. A `.` is not a boundary (it appears in numbers such as `15.6%`).
pub fn sentences(text: &str) -> Vec<Span> {
    split_by(text, 0, text.len(), is_sentence_end)
}

/// Splits one span of text into clauses at sentence ends and at `，、：`.
pub fn clauses(text: &str, span: Span) -> Vec<Span> {
    split_by(text, span.start, span.end, is_clause_end)
}

/// `is_end` is a type parameter, not a `fn` pointer: called for every character of every text,
/// an indirect call it could not inline (`is_sentence_end` was 0.5% of a 10k run's CPU as a
/// function of its own).
fn split_by(text: &str, from: usize, to: usize, is_end: impl Fn(char) -> bool) -> Vec<Span> {
    let mut out = Vec::new();
    let mut start = from;
    let mut iter = text[from..to].char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let at = from + i;
        if c == '\n' || c == '\r' {
            push_trimmed(text, start, at, &mut out);
            start = at + c.len_utf8();
        } else if c == '\u{3000}' && iter.peek().is_some_and(|&(_, d)| d == '\u{3000}') {
            // Two ideographic spaces indent a paragraph: text pasted into one line (a web form,
            // a spreadsheet cell) keeps its paragraphs this way.
            push_trimmed(text, start, at, &mut out);
            start = at;
        } else if is_end(c) {
            let mut end = at + c.len_utf8();
            // Swallow repeated enders (！！, ……) and closing quotes/brackets.
            while let Some(&(j, d)) = iter.peek() {
                if is_end(d) || is_closer(d) {
                    end = from + j + d.len_utf8();
                    iter.next();
                } else {
                    break;
                }
            }
            push_trimmed(text, start, end, &mut out);
            start = end;
        }
    }
    push_trimmed(text, start, to, &mut out);
    out
}

fn push_trimmed(text: &str, start: usize, end: usize, out: &mut Vec<Span>) {
    let s = &text[start..end];
    let lead = s.len() - s.trim_start().len();
    let trimmed = s.trim();
    if !trimmed.is_empty() {
        out.push(Span {
            start: start + lead,
            end: start + lead + trimmed.len(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        sentences(text).iter().map(|s| s.of(text)).collect()
    }

    macro_rules! sentence_cases {
        ($($input:expr => [$($want:expr),*]),* $(,)?) => {
            $( assert_eq!(texts($input), vec![$($want),*] as Vec<&str>, "input: {:?}", $input); )*
        };
    }

    #[test]
    fn sentence_table() {
        sentence_cases! {
            "石桥村有320户。机耕路坑洼不平！" => ["石桥村有320户。", "机耕路坑洼不平！"],
            "老党员说：“路修好了就好。”我们记下了。" => ["老党员说：“路修好了就好。”", "我们记下了。"],
            "真的吗？！没想到……" => ["真的吗？！", "没想到……"],
            "一、存在问题\n二、意见建议\n" => ["一、存在问题", "二、意见建议"],
            "增长15.6%，较好" => ["增长15.6%，较好"],
            "  \n\n  " => [],
            "甲；乙;丙" => ["甲；", "乙;", "丙"],
            "无标点的一行" => ["无标点的一行"],
            "现回复如下：　　全村共312户　　二、下一步" => ["现回复如下：", "全村共312户", "二、下一步"],
            "一个　空格不算段落" => ["一个　空格不算段落"],
        }
    }

    #[test]
    fn offsets_point_into_original() {
        let text = "  第一句。\r\n  第二句，有逗号。";
        for s in sentences(text) {
            let piece = s.of(text);
            assert!(!piece.starts_with(' ') && !piece.ends_with(' '));
            assert!(text[s.start..].starts_with(piece));
        }
        assert_eq!(texts(text), vec!["第一句。", "第二句，有逗号。"]);
    }

    #[test]
    fn clause_table() {
        let text = "建议硬化机耕路，修复水渠、增设路灯：尽快落实。";
        let s = sentences(text)[0];
        let got: Vec<&str> = clauses(text, s).iter().map(|c| c.of(text)).collect();
        assert_eq!(
            got,
            vec!["建议硬化机耕路，", "修复水渠、", "增设路灯：", "尽快落实。"]
        );
    }
}
