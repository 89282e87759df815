//! Evidence in place: every passage a reason quotes (“……”) is found in the document and the
//! sentence holding it is marked, so a reviewer sees the flagged sentences where they stand.

use diaoyan_model::Verdict;

/// A marked stretch of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// Byte range in the text.
    pub start: usize,
    /// End of the range.
    pub end: usize,
    /// Which reasons quoted it (indexes into the reasons), the first colouring it.
    pub reasons: Vec<usize>,
    /// What that reason alone would call for (colours the mark).
    pub severity: Verdict,
}

/// The passages quoted in a reason: the text between “ and ” at the outer level (a quote may
/// hold quotes: “开展“大调研”活动……”), a trailing …… (the quote was cut) removed.
pub fn quotes(reason: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in reason.chars() {
        match c {
            '“' => {
                if depth > 0 {
                    cur.push(c);
                }
                depth += 1;
            }
            '”' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let q = cur.trim_end_matches('…').trim().to_owned();
                    if q.chars().count() >= 4 {
                        out.push(q);
                    }
                    cur.clear();
                } else {
                    cur.push(c);
                }
            }
            c if depth > 0 => cur.push(c),
            _ => {}
        }
    }
    out
}

/// Where the sentence holding `at..end` starts and ends (。！？； or a line break).
fn sentence_around(text: &str, at: usize, end: usize) -> (usize, usize) {
    let stop = |c: char| matches!(c, '。' | '！' | '？' | '；' | '\n');
    let start = text[..at]
        .char_indices()
        .rev()
        .find(|&(_, c)| stop(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let end = text[end..]
        .char_indices()
        .find(|&(_, c)| stop(c))
        .map_or(text.len(), |(i, c)| {
            end + i + if c == '\n' { 0 } else { c.len_utf8() }
        });
    // Leading spaces are not part of the sentence.
    let lead = text[start..end].len() - text[start..end].trim_start().len();
    (start + lead, end)
}

/// The marks for a document: for each reason's quotes, the sentence where each is found
/// (first occurrence not already marked; a sentence marked for an earlier reason is shared).
/// Marks are sorted and never overlap.
pub fn marks(text: &str, reasons: &[(String, Verdict)]) -> Vec<Mark> {
    let mut out: Vec<Mark> = Vec::new();
    for (r, (reason, severity)) in reasons.iter().enumerate() {
        for q in quotes(reason) {
            // A quote holding placeholders or masked digits is still found as written.
            let spans: Vec<(usize, usize)> = text
                .match_indices(q.as_str())
                .map(|(at, m)| sentence_around(text, at, at + m.len()))
                .collect();
            let overlaps = |(s, e): (usize, usize), m: &Mark| s < m.end && m.start < e;
            if let Some(&span) = spans
                .iter()
                .find(|&&sp| !out.iter().any(|m| overlaps(sp, m)))
            {
                out.push(Mark {
                    start: span.0,
                    end: span.1,
                    reasons: vec![r],
                    severity: *severity,
                });
            } else if let Some(m) = spans
                .first()
                .and_then(|&sp| out.iter_mut().find(|m| overlaps(sp, m)))
                && !m.reasons.contains(&r)
            {
                // Already marked for another reason: this reason points there too.
                m.reasons.push(r);
            }
        }
    }
    out.sort_by_key(|m| m.start);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_read_at_the_outer_level_and_cuts_removed() {
        let r = "共 26 句，套话 9 句，例：“按照县委关于开展“大调研、大走访”活动的统一部署，本人于x月……”“蹲点期间，坚持吃住在村……”";
        assert_eq!(
            quotes(r),
            [
                "按照县委关于开展“大调研、大走访”活动的统一部署，本人于x月",
                "蹲点期间，坚持吃住在村"
            ]
        );
        assert!(quotes("没有引文").is_empty());
        assert!(quotes("未闭合“引文").is_empty());
    }

    #[test]
    fn the_sentence_of_each_quote_is_marked_once() {
        let text = "标题\n今天走访了农户。进一步统一思想、提高认识，以钉钉子精神抓好落实。石桥村三组机耕路塌方2处。\n";
        let reasons = vec![
            (
                "套话句占比 50%，例：“进一步统一思想、提高认识，以钉钉子……”".to_owned(),
                Verdict::Redo,
            ),
            (
                "有具体发现，如：“石桥村三组机耕路塌方2处”".to_owned(),
                Verdict::Pass,
            ),
            ("又一次：“进一步统一思想”".to_owned(), Verdict::Review),
        ];
        let m = marks(text, &reasons);
        assert_eq!(m.len(), 2, "{m:?}");
        assert_eq!(
            &text[m[0].start..m[0].end],
            "进一步统一思想、提高认识，以钉钉子精神抓好落实。"
        );
        assert_eq!(m[0].severity, Verdict::Redo);
        assert_eq!(&text[m[1].start..m[1].end], "石桥村三组机耕路塌方2处。");
        assert_eq!(m[1].reasons, [1]);
        assert_eq!(
            m[0].reasons,
            [0, 2],
            "the third reason quotes the first's sentence"
        );
    }
}
