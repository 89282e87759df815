//! Forum minutes: who speaks on a line (`村民代表王建国：…`), and who hosts.

use regex::Regex;
use std::sync::LazyLock;

static SPEAKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([^\s：:，。]{2,14})[：:]\s*").expect("static regex"));

/// Header fields of minutes, which look like speakers but are not.
const FIELDS: &[&str] = &[
    "时间",
    "地点",
    "主持人",
    "主持",
    "参加人员",
    "参会人员",
    "出席人员",
    "记录人",
    "记录",
    "议题",
    "会议议题",
    "会议主题",
    "主题",
    "标题",
    "日期",
    "列席",
    "缺席",
];

/// The host named on a `主持人：…` line anywhere in the text (empty when none).
pub fn minutes_host(text: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("主持人"))
        .map(|r| {
            r.trim_start_matches([':', '：', ' '])
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '，')
                .collect()
        })
        .unwrap_or_default()
}

/// What a (trimmed) line of minutes is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinutesLine<'a> {
    /// Someone speaks: the label (村民代表王建国) and the byte offset where the words start.
    Speaker(&'a str, usize),
    /// A header field (时间：…) or the host's prompt: not the people's words.
    Skip,
    /// Anything else.
    Plain,
}

/// Classifies a (trimmed) line of forum minutes.
pub fn minutes_line<'a>(line: &'a str, host: &str) -> MinutesLine<'a> {
    let Some(c) = SPEAKER.captures(line) else {
        return MinutesLine::Plain;
    };
    let (Some(whole), Some(label)) = (c.get(0), c.get(1)) else {
        return MinutesLine::Plain;
    };
    let label = label.as_str().trim();
    let is_host = !host.is_empty() && label.contains(host);
    if FIELDS.contains(&label) || is_host || line[whole.end()..].trim().is_empty() {
        return MinutesLine::Skip;
    }
    MinutesLine::Speaker(label, whole.end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speakers_and_host() {
        let text = "石桥村座谈会记录\n时间：9月19日\n主持人：张伟\n张伟：请大家说说。\n村民代表王建国：路要修。";
        let host = minutes_host(text);
        assert_eq!(host, "张伟");
        let cases = [
            ("时间：9月19日", None),
            ("张伟：请大家说说。", None),
            ("村民代表王建国：路要修。", Some("村民代表王建国")),
            ("老党员李长贵：", None),
            ("没有冒号的一句话。", None),
        ];
        for (line, want) in cases {
            let got = match minutes_line(line, &host) {
                MinutesLine::Speaker(l, _) => Some(l),
                _ => None,
            };
            assert_eq!(got, want, "{line}");
        }
        assert_eq!(
            minutes_line("没有冒号的一句话。", &host),
            MinutesLine::Plain
        );
        assert_eq!(minutes_line("时间：9月19日", &host), MinutesLine::Skip);
    }
}
