//! Masking of personal data: e-mail addresses, mobile phones, landlines, ID and bank card numbers.

use regex::Regex;
use std::sync::LazyLock;

static DIGIT_RUN: LazyLock<Regex> = LazyLock::new(|| {
    // A landline (0731-88886666) or a run of digits, possibly ending in X (ID numbers). ASCII and
    // full-width digits both count: people type either.
    Regex::new(r"[0０][0-9０-９]{2,3}[-－][0-9０-９]{7,8}|[0-9０-９]+[XxＸｘ]?")
        .expect("static regex")
});

/// An e-mail address (ASCII or full-width @), local part and domain.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9][A-Za-z0-9._%+\-]*[@＠][A-Za-z0-9][A-Za-z0-9\-]*(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
        .expect("static regex")
});

/// Keeps the first `head` and last `tail` characters and stars the rest.
fn star(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let mut out: String = chars[..head.min(n)].iter().collect();
    out.push_str(&"*".repeat(n.saturating_sub(head + tail)));
    out.extend(&chars[n.saturating_sub(tail).max(head.min(n))..]);
    out
}

/// Masks e-mail addresses (`l***@example.com`: the first character of the local part and the
/// domain stay), mobile numbers (`138****5678`), landlines (`0731-****6666`), 18- and 15-digit ID
/// numbers and any other run of 15 or more digits (`430102********1234`), and any run of 10 to
/// 14 digits (`861****5678`, `073****6666`). A number glued to
/// letters is masked too (`QQ13812345678`, `A13812345678`): a code that looks like a phone is
/// hidden rather than a phone shown. Returns the text
/// unchanged (borrowed) when nothing needed masking.
pub fn mask_personal(text: &str) -> std::borrow::Cow<'_, str> {
    match mask_email(text) {
        std::borrow::Cow::Borrowed(t) => mask_numbers(t),
        std::borrow::Cow::Owned(t) => std::borrow::Cow::Owned(mask_numbers(&t).into_owned()),
    }
}

fn mask_email(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['@', '＠']) {
        return std::borrow::Cow::Borrowed(text);
    }
    EMAIL.replace_all(text, |c: &regex::Captures| {
        let m = &c[0];
        let at = m.find(['@', '＠']).expect("an e-mail has an @");
        let (local, domain) = m.split_at(at);
        let first: String = local.chars().take(1).collect();
        format!("{first}***{domain}")
    })
}

/// Whether `text` has a run of at least `n` digits (ASCII or full-width). Nothing is masked in
/// a text without a run of 7: a landline has 7 or 8 digits after its dash, every other number
/// masked has 10 or more. Most texts have none, and this byte scan is cheaper than the search.
fn has_digit_run(text: &str, n: usize) -> bool {
    let b = text.as_bytes();
    let (mut i, mut run) = (0, 0);
    while i < b.len() {
        if b[i].is_ascii_digit() {
            run += 1;
            i += 1;
        } else if b[i] == 0xEF
            && b.get(i + 1) == Some(&0xBC)
            && matches!(b.get(i + 2), Some(0x90..=0x99))
        {
            // ０ to ９ (U+FF10–U+FF19).
            run += 1;
            i += 3;
        } else {
            run = 0;
            i += 1;
        }
        if run >= n {
            return true;
        }
    }
    false
}

fn mask_numbers(text: &str) -> std::borrow::Cow<'_, str> {
    if !has_digit_run(text, 7) {
        return std::borrow::Cow::Borrowed(text);
    }
    mask_digit_runs(text)
}

/// [`mask_numbers`] without the scan in front: every run of digits looked at.
fn mask_digit_runs(text: &str) -> std::borrow::Cow<'_, str> {
    let mut out: Option<String> = None;
    let mut last = 0;
    for m in DIGIT_RUN.find_iter(text) {
        let s = m.as_str();
        // Most runs are short figures (286户, 2023年): left as they are, without a copy.
        if !s.contains(['-', '－']) && s.chars().count() < 10 {
            continue;
        }
        // Classify on a half-width copy; star the characters as written.
        let half: String = s
            .chars()
            .map(|c| match c {
                '０'..='９' | 'Ｘ' | 'ｘ' | '－' => {
                    char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
                }
                _ => c,
            })
            .collect();
        let n = half.chars().count();
        let masked = if let Some((area, _)) = half.split_once('-') {
            star(s, area.chars().count() + 1, 4)
        } else if n == 11 && half.starts_with('1') && matches!(half.as_bytes()[1], b'3'..=b'9') {
            star(s, 3, 4)
        } else if n >= 15 {
            star(s, 6, 4)
        } else if n >= 10 {
            // A phone with a country code or a stray digit, a landline without its dash, a card
            // or case number: long enough to identify someone.
            star(s, 3, 4)
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
            "编号A13812345678" => "编号A138****5678",
            "电话13812345678QQ" => "电话138****5678QQ",
            "人均收入12345元" => "人均收入12345元",
            "电话１３８１２３４５６７８" => "电话１３８****５６７８",
            "尾号７７１９０１２" => "尾号７７１９０１２",
            "+8613812345678" => "+861******5678",
            "座机073188886666" => "座机073*****6666",
            "金额123456789元" => "金额123456789元",
            "邮箱lixx@example.com，" => "邮箱l***@example.com，",
            "发至 zhang.san+dy@mail.gov.cn。" => "发至 z***@mail.gov.cn。",
            "邮箱：13812345678@163.com" => "邮箱：1***@163.com",
            "全角wang＠qq.com" => "全角w***＠qq.com",
            "@某某 请回复，a@b 不是邮箱" => "@某某 请回复，a@b 不是邮箱",
            "座机0731-8888666" => "座机0731-***8666",
            "座机０７３１－８８８８６６６" => "座机０７３１－***８６６６",
            "编号１２３４５６７８９０" => "编号１２３***７８９０",
            "门牌123456号，电话0731-888866" => "门牌123456号，电话0731-888866",
        }
    }

    /// The scan that lets most texts skip the search finds exactly the runs it should.
    #[test]
    fn digit_runs() {
        assert!(has_digit_run("电话0731-8888666", 7));
        assert!(!has_digit_run("电话0731-888866，共123456户", 7));
        assert!(has_digit_run("８８８８６６６", 7));
        assert!(!has_digit_run("８８８８６６", 7));
        assert!(
            has_digit_run("12３45６7", 7),
            "half- and full-width digits mixed"
        );
        assert!(!has_digit_run("123４5６\u{FF1A}7", 7));
        assert!(!has_digit_run("", 1));
        // Lead bytes of other full-width characters are not digits (Ａ is EF BC A1, ｚ EF BD 9A).
        assert!(!has_digit_run("ＡＡＡＡＡＡＡｚｚｚｚｚｚｚ", 1));
    }

    /// Texts of digits, dashes, X and other characters: masking with the scan in front equals
    /// looking at every run, and both ways were taken.
    #[test]
    fn the_scan_changes_nothing() {
        let pieces = [
            "0",
            "1",
            "7",
            "９",
            "０",
            "-",
            "－",
            "X",
            "ｘ",
            "户",
            "，",
            "Ａ",
            "電",
            " ",
            "0731-",
            "138",
            "８８８",
            "1234",
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let (mut scanned_only, mut searched, mut masked) = (0, 0, 0);
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut text = String::new();
            for i in 0..(x % 24) {
                text.push_str(pieces[((x >> (i % 40)) as usize ^ (i as usize * 7)) % pieces.len()]);
            }
            let got = mask_numbers(&text);
            assert_eq!(got, mask_digit_runs(&text), "{text:?}");
            masked += usize::from(matches!(got, std::borrow::Cow::Owned(_)));
            if has_digit_run(&text, 7) {
                searched += 1;
            } else {
                scanned_only += 1;
            }
        }
        assert!(
            scanned_only > 1000 && searched > 1000 && masked > 100,
            "{scanned_only} {searched} {masked}"
        );
    }
}
