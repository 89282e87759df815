//! Date and day-of-stay cues in headers, file names and text.

use regex::Regex;
use std::sync::LazyLock;

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"((?:19|20)\d{2})\s*(?:年|-|/|\.|_)\s*(\d{1,2})\s*(?:月|-|/|\.|_)\s*(\d{1,2})(?:\s*[日号])?",
    )
    .expect("static regex")
});
static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d{1,2})\s*[:：时点]\s*(\d{1,2})(?:\s*分)?(?:\s*[:：]?\s*(\d{1,2})(?:\.\d+)?(?:\s*秒)?)?")
        .expect("static regex")
});
static COMPACT_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"((?:19|20)\d{2})(\d{2})(\d{2})").expect("static regex"));
static DAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"第\s*([0-9]{1,2}|[一二三四五六七八九十两]{1,3})\s*天").expect("static regex")
});

/// Parses a whole string as a date (`2023年9月21日`, `2023-09-21`, `2023/9/21`, `2023.9.21`,
/// `20230921`) into `YYYY-MM-DD`. Impossible dates (9月31日) give `None`.
pub fn parse_date(s: &str) -> Option<String> {
    let s = s.trim();
    if let Some(c) = DATE.captures(s)
        && c.get(0).is_some_and(|m| m.start() == 0)
    {
        return ymd(&c[1], &c[2], &c[3]);
    }
    if s.len() == 8
        && let Some(c) = COMPACT_DATE.captures(s)
    {
        return ymd(&c[1], &c[2], &c[3]);
    }
    None
}

/// A date-and-time cell from an exported sheet: `2019/2/28 11:25:05`, `2019-02-14  20:00:00`,
/// `2019年2月14日 20:00`, `2019-02-14T20:00:00`, a bare date, or an Excel serial number
/// (`43524.47`, days since 1899-12-30, as a CSV export writes a date cell). Returns
/// `YYYY-MM-DD` and, when the cell has one, the time `HH:MM[:SS]`.
pub fn parse_datetime(s: &str) -> Option<(String, Option<String>)> {
    let s = s.trim();
    if let Some(c) = DATE.captures(s)
        && let Some(m) = c.get(0).filter(|m| m.start() == 0)
    {
        let date = ymd(&c[1], &c[2], &c[3])?;
        let rest = s[m.end()..].trim_start_matches([' ', '\u{3000}', 'T', '\t']);
        if rest.is_empty() {
            return Some((date, None));
        }
        return TIME
            .captures(rest)
            .filter(|t| t.get(0).is_some_and(|m| m.end() == rest.trim_end().len()))
            .and_then(|t| {
                let (h, mi): (u32, u32) = (t[1].parse().ok()?, t[2].parse().ok()?);
                let sec: Option<u32> = t.get(3).and_then(|x| x.as_str().parse().ok());
                (h < 24 && mi < 60 && sec.is_none_or(|x| x < 60)).then(|| {
                    let time = match sec {
                        Some(x) => format!("{h:02}:{mi:02}:{x:02}"),
                        None => format!("{h:02}:{mi:02}"),
                    };
                    (date.clone(), Some(time))
                })
            })
            .or(Some((date, None)));
    }
    if let Some(d) = parse_date(s) {
        return Some((d, None));
    }
    excel_serial(s)
}

/// An Excel serial date (1900 system): whole days since 1899-12-30, the fraction the time of
/// day. Only the plausible range 1990–2100 is read, so a count or a row number is not a date.
fn excel_serial(s: &str) -> Option<(String, Option<String>)> {
    let v: f64 = s.parse().ok()?;
    if !(32874.0..73051.0).contains(&v) || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let date = (epoch + chrono::Duration::days(v.trunc() as i64))
        .format("%Y-%m-%d")
        .to_string();
    let secs = ((v - v.trunc()) * 86_400.0).round() as i64;
    let time = (secs > 0 && secs < 86_400)
        .then(|| format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60));
    Some((date, time))
}

/// Finds the first date anywhere in a string (a header line, a file name). Compact `20230921`
/// forms count only when not glued to other digits.
pub fn find_date(s: &str) -> Option<String> {
    // Both forms start with the year's first two digits (most lines have none).
    if !s.contains("19") && !s.contains("20") {
        return None;
    }
    for c in DATE.captures_iter(s) {
        let m = c.get(0).expect("group 0");
        if glued_digit(s, m.start(), m.end()) {
            continue;
        }
        if let Some(d) = ymd(&c[1], &c[2], &c[3]) {
            return Some(d);
        }
    }
    for c in COMPACT_DATE.captures_iter(s) {
        let m = c.get(0).expect("group 0");
        if glued_digit(s, m.start(), m.end()) {
            continue;
        }
        if let Some(d) = ymd(&c[1], &c[2], &c[3]) {
            return Some(d);
        }
    }
    None
}

fn glued_digit(s: &str, start: usize, end: usize) -> bool {
    s[..start]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_digit())
        || s[end..].chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// Finds a day-of-stay cue (`第3天`, `第三天`, `第十二天`) and returns the day number.
pub fn find_day(s: &str) -> Option<u32> {
    // The cue starts with 第 (most lines have none).
    if !s.contains('第') {
        return None;
    }
    let c = DAY.captures(s)?;
    let n = &c[1];
    n.parse().ok().or_else(|| chinese_number(n))
}

/// Reads a small Chinese numeral (`三`, `十二`, `二十`, `两`, `三十五`) up to 99.
pub fn chinese_number(s: &str) -> Option<u32> {
    fn digit(c: char) -> Option<u32> {
        "零一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|p| p as u32)
            .or((c == '两').then_some(2))
    }
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        [c] if *c == '十' => Some(10),
        [c] => digit(*c),
        ['十', u] => Some(10 + digit(*u)?),
        [t, '十'] => Some(digit(*t)? * 10),
        [t, '十', u] => Some(digit(*t)? * 10 + digit(*u)?),
        _ => None,
    }
}

fn ymd(y: &str, m: &str, d: &str) -> Option<String> {
    let (y, m, d): (i32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    is_real_date(y, m, d).then(|| format!("{y:04}-{m:02}-{d:02}"))
}

fn is_real_date(y: i32, m: u32, d: u32) -> bool {
    chrono::NaiveDate::from_ymd_opt(y, m, d).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_date_table() {
        let cases = [
            ("2023年9月21日", Some("2023-09-21")),
            ("2023-09-21", Some("2023-09-21")),
            ("2023/9/1", Some("2023-09-01")),
            ("2023.10.05", Some("2023-10-05")),
            ("20230921", Some("2023-09-21")),
            ("2023年9月31日", None),
            ("2024年2月29日", Some("2024-02-29")),
            ("九月二十一日", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_date(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn datetime_cells_from_exported_sheets() {
        let t = |d: &str, t: Option<&str>| Some((d.to_owned(), t.map(str::to_owned)));
        let cases = [
            ("2019/2/28 11:25:05", t("2019-02-28", Some("11:25:05"))),
            ("2019/2/14  20:00:00", t("2019-02-14", Some("20:00:00"))),
            ("2019-02-14 20:00:00", t("2019-02-14", Some("20:00:00"))),
            ("2019-02-14T20:00:00", t("2019-02-14", Some("20:00:00"))),
            ("2019.2.14 8:05", t("2019-02-14", Some("08:05"))),
            ("2019年2月14日 20时30分", t("2019-02-14", Some("20:30"))),
            ("2019年2月14日", t("2019-02-14", None)),
            ("20190214", t("2019-02-14", None)),
            ("43524", t("2019-02-28", None)),
            ("43524.475752315", t("2019-02-28", Some("11:25:05"))),
            ("2019/2/30 10:00:00", None),
            ("12", None),
            ("320户", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_datetime(input), want, "{input}");
        }
        // find_date reads the date before a time too.
        assert_eq!(
            find_date("2019/2/28 11:25:05").as_deref(),
            Some("2019-02-28")
        );
    }

    #[test]
    fn find_date_table() {
        let cases = [
            ("蹲点手记（2023年9月21日 星期四 晴）", Some("2023-09-21")),
            ("2023-09-22_蹲点手记.txt", Some("2023-09-22")),
            ("手记_20230923.docx", Some("2023-09-23")),
            ("编号120230923999", None),
            ("全村320户", None),
        ];
        for (input, want) in cases {
            assert_eq!(find_date(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn day_table() {
        let cases = [
            ("蹲点第3天", Some(3)),
            ("第 12 天", Some(12)),
            ("第三天", Some(3)),
            ("第十天", Some(10)),
            ("第二十一天", Some(21)),
            ("第一次", None),
        ];
        for (input, want) in cases {
            assert_eq!(find_day(input), want, "{input}");
        }
    }
}
