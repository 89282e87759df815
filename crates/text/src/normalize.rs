//! Character normalisation.

/// What [`normalize`] writes for `c`, `None` when it drops it: the one table of what changes.
/// (The pass itself drops a `\r` before `\n` and collapses runs of spaces.)
fn mapped(c: char) -> Option<char> {
    match c {
        '\r' => Some('\n'),
        '\u{3000}' | '\u{00A0}' | '\t' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\u{205F}' => {
            Some(' ')
        }
        '\u{200B}' | '\u{FEFF}' => None,
        // Full-width letters and digits, and the ASCII symbols numbers use.
        '０'..='９'
        | 'Ａ'..='Ｚ'
        | 'ａ'..='ｚ'
        | '％'
        | '＋'
        | '－'
        | '．'
        | '／'
        | '＠'
        | '＃' => Some(char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)),
        _ => Some(c),
    }
}

/// Returns true for CJK unified ideographs (the Han characters counted as text length).
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0xF900..=0xFAFF)
}

/// A character that counts as text: a Han character ([`is_han`], extensions and compatibility
/// ideographs included), a letter or a digit — not a space or punctuation. What copy detection,
/// repeated-sentence keys and suggestion boundaries compare.
pub fn is_text_char(c: char) -> bool {
    is_han(c) || is_alnum(c)
}

/// `char::is_alphanumeric`, answered without the Unicode tables for what texts are mostly made
/// of: ASCII, common Han characters and Chinese punctuation. (The table lookup for `，` and `。`
/// was ~2 % of a run's CPU, spread over copy detection, segmentation and scoring.)
pub fn is_alnum(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    if matches!(c as u32, 0x4E00..=0x9FFF) {
        return true;
    }
    if matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '？'
            | '！'
            | '“'
            | '”'
            | '‘'
            | '’'
            | '（'
            | '）'
            | '《'
            | '》'
            | '【'
            | '】'
            | '…'
            | '—'
            | '·'
            | '\u{3000}'
            | '〈'
            | '〉'
            | '「'
            | '」'
            | '『'
            | '』'
            | '～'
    ) {
        return false;
    }
    c.is_alphanumeric()
}

/// Normalises text for matching: full-width ASCII letters, digits and `%+-./:` become half-width;
/// every kind of space (ideographic, no-break, tab) becomes one ASCII space and runs of spaces
/// collapse; `\r\n` and `\r` become `\n`. Chinese punctuation (，。；：“”《》) is kept as it is.
pub fn normalize(s: &str) -> String {
    // Most lines need nothing: find that out without building the string char by char.
    let mut chars = s.chars().peekable();
    let mut changes = false;
    while let Some(c) = chars.next() {
        // A space before another kind of space is found at that one.
        if mapped(c) != Some(c) || c == ' ' && chars.peek() == Some(&' ') {
            changes = true;
            break;
        }
    }
    if !changes {
        return s.to_owned();
    }
    normalize_each(s)
}

/// [`normalize`] character by character.
fn normalize_each(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_space = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        let Some(c) = mapped(c) else { continue };
        if c == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        out.push(c);
    }
    out
}

/// Whether `s` holds `c`, by comparing `c`'s UTF-8 bytes with each place of `s` (UTF-8 cannot
/// match a whole character mid-character). For the one-to-four-character words of a segmented
/// text: `str::contains` with a non-ASCII `char` sets up a SIMD substring search that ends in
/// `memcmp` calls, and `某` looked up in every word of every text that way was ~1.5% of a 10k
/// run's CPU (score's sentence reading and the place recogniser). Only a place holding the
/// character's first byte compares the rest: comparing each window as a slice called `bcmp`
/// at every byte.
#[inline]
pub fn has_char(s: &str, c: char) -> bool {
    let mut buf = [0u8; 4];
    let e = c.encode_utf8(&mut buf).as_bytes();
    let b = s.as_bytes();
    b.len() >= e.len()
        && (0..=b.len() - e.len())
            .any(|i| b[i] == e[0] && e[1..].iter().zip(&b[i + 1..]).all(|(x, y)| x == y))
}

/// Escapes `& < > " '` for HTML text and attribute values (the digest page, the review page,
/// search passages).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_char_agrees_with_contains() {
        let words = [
            "",
            "某",
            "某某村",
            "张某",
            "石桥村",
            "abc",
            "a某b",
            "某x",
            "x某",
            "�",
            "ｘ",
            "𠀀某",
            "𠀀",
            "某甲乙丙丁",
            "甲乙丙丁",
            "枼",
            "谋",
        ];
        for w in words {
            for c in ['某', 'x', '村', '𠀀', 'ｘ', '�', '枼'] {
                assert_eq!(has_char(w, c), w.contains(c), "{w:?} {c:?}");
            }
        }
        assert!(has_char("张某", '某') && !has_char("张三", '某'));
    }

    macro_rules! normalize_cases {
        ($($input:expr => $want:expr),* $(,)?) => {
            $( assert_eq!(normalize($input), $want, "input: {:?}", $input); )*
        };
    }

    /// Every code point: the fast paths never answer differently from the Unicode tables.
    #[test]
    fn is_alnum_is_is_alphanumeric() {
        let mut differ = Vec::new();
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            if is_alnum(c) != c.is_alphanumeric() {
                differ.push(c);
            }
        }
        assert!(differ.is_empty(), "{differ:?}");
        assert!(is_alnum('村') && is_alnum('a') && is_alnum('７') && is_alnum('々'));
        assert!(!is_alnum('，') && !is_alnum('。') && !is_alnum(' '));
    }

    /// Text characters: Han (extension B included), letters and digits; never a space or
    /// punctuation.
    #[test]
    fn text_chars_are_han_letters_and_digits() {
        for c in ['村', '\u{20001}', '\u{F900}', 'a', 'Z', '7', '７', 'é'] {
            assert!(is_text_char(c), "{c:?}");
        }
        for c in ['，', '。', ' ', '\u{3000}', '-', '“', '\n'] {
            assert!(!is_text_char(c), "{c:?}");
        }
    }

    #[test]
    fn normalize_table() {
        normalize_cases! {
            "石桥村共３２０户，１２５６人" => "石桥村共320户，1256人",
            "ＡＢＣ公司，ｗｉｆｉ信号差" => "ABC公司，wifi信号差",
            "增长１５．６％" => "增长15.6%",
            "姓名：\u{3000}\u{3000}张伟" => "姓名： 张伟",
            "第一行\r\n第二行\r第三行" => "第一行\n第二行\n第三行",
            "“高度重视”，《报告》；" => "“高度重视”，《报告》；",
            "\u{FEFF}标题" => "标题",
            "a\t\tb" => "a b",
        }
    }

    /// The quick check (nothing to change: the text as it is) never disagrees with the
    /// character-by-character pass, on strings built from the characters that matter.
    #[test]
    fn the_quick_check_agrees_with_the_full_pass() {
        let alphabet: Vec<char> =
            " \t\r\n\u{3000}\u{00A0}\u{2005}\u{200B}\u{FEFF}０９ＡｚＺ％．／＠＃a1，。村"
                .chars()
                .collect();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for len in 0..400 {
            let s: String = (0..len % 13)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    alphabet[(x % alphabet.len() as u64) as usize]
                })
                .collect();
            assert_eq!(normalize(&s), normalize_each(&s), "{s:?}");
        }
        assert_eq!(normalize("石桥村 320户"), "石桥村 320户");
        assert_eq!(normalize("a  b"), "a b");
        assert_eq!(normalize("a \u{3000}b"), "a b");
    }

    #[test]
    fn han_detection() {
        assert!(is_han('蹲'));
        assert!(!is_han('，'));
        assert!(!is_han('3'));
    }
}
