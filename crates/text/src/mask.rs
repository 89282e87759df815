//! Masking of personal numbers (mobile phones, landlines, ID and bank card numbers).

use regex::Regex;
use std::sync::LazyLock;

static DIGIT_RUN: LazyLock<Regex> = LazyLock::new(|| {
    // A landline (0731-88886666) or a run of digits, possibly ending in X (ID numbers).
    Regex::new(r"0\d{2,3}-\d{7,8}|\d+[Xx]?").expect("static regex")
});

/// Masks mobile numbers (`138****5678`), landlines (`0731-****6666`), 18- and 15-digit ID numbers
/// and any other run of 15 or more digits (`430102********1234`). Digits glued to other digits or
/// ASCII letters are left alone (they are not a number on their own). Returns the text unchanged
/// (borrowed) when nothing needed masking.
pub fn mask_personal(text: &str) -> std::borrow::Cow<'_, str> {
    let mut out: Option<String> = None;
    let mut last = 0;
    for m in DIGIT_RUN.find_iter(text) {
        let s = m.as_str();
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        if before.is_some_and(|c| c.is_ascii_alphanumeric())
            || after.is_some_and(|c| c.is_ascii_alphanumeric())
        {
            continue;
        }
        let masked = if s.contains('-') {
            let (area, num) = s.split_once('-').unwrap_or((s, ""));
            format!(
                "{area}-{}{}",
                "*".repeat(num.len() - 4),
                &num[num.len() - 4..]
            )
        } else if s.len() == 11 && s.starts_with('1') && matches!(s.as_bytes()[1], b'3'..=b'9') {
            format!("{}****{}", &s[..3], &s[7..])
        } else if s.len() >= 15 {
            format!(
                "{}{}{}",
                &s[..6],
                "*".repeat(s.len() - 10),
                &s[s.len() - 4..]
            )
        } else {
            continue;
        };
        let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
        buf.push_str(&text[last..m.start()]);
        buf.push_str(&masked);
        last = m.end();
    }
    match out {
        Some(mut buf) => {
            buf.push_str(&text[last..]);
            std::borrow::Cow::Owned(buf)
        }
        None => std::borrow::Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! mask_cases {
        ($($input:expr => $want:expr),* $(,)?) => {
            $( assert_eq!(mask_personal($input), $want, "input: {:?}", $input); )*
        };
    }

    #[test]
    fn mask_table() {
        mask_cases! {
            "联系电话13812345678。" => "联系电话138****5678。",
            "电话：0731-88886666" => "电话：0731-****6666",
            "身份证号430102198001011234" => "身份证号430102********1234",
            "身份证43010219800101123X，" => "身份证430102********123X，",
            "卡号6222021234567890123" => "卡号622202*********0123",
            "全村320户，1256人，2023年" => "全村320户，1256人，2023年",
            "编号A13812345678" => "编号A13812345678",
            "人均收入12345元" => "人均收入12345元",
        }
    }
}
