//! Bytes to text: BOMs, UTF-8, and legacy Chinese encodings detected without markers.

/// Decoded text with its encoding and how many bytes could not be decoded.
pub(crate) struct Decoded {
    pub text: String,
    pub encoding: &'static str,
    pub replaced: usize,
}

/// What a byte buffer looks like before decoding.
pub(crate) enum Sniff {
    Text,
    /// A known binary format, with its Chinese name.
    Binary(&'static str),
}

/// Recognises common binary formats by their magic numbers, and other binaries by NUL bytes
/// (UTF-16 text with a BOM is text).
pub(crate) fn sniff(bytes: &[u8]) -> Sniff {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x89PNG", "PNG 图片"),
        (b"\xFF\xD8\xFF", "JPEG 图片"),
        (b"GIF8", "GIF 图片"),
        (b"%PDF", "PDF 文件"),
        (b"PK\x03\x04", "ZIP 压缩包或 Office 文档"),
        (b"\xD0\xCF\x11\xE0", "旧版 Office 文档（.doc/.xls）"),
        (b"Rar!", "RAR 压缩包"),
        (b"7z\xBC\xAF", "7z 压缩包"),
    ];
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Sniff::Text;
    }
    for (magic, name) in MAGIC {
        if bytes.starts_with(magic) {
            return Sniff::Binary(name);
        }
    }
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Sniff::Binary("二进制数据");
    }
    Sniff::Text
}

/// Decodes text: a BOM decides (UTF-8, UTF-16LE/BE); otherwise valid UTF-8 is UTF-8; otherwise the
/// encoding is detected (chardetng, restricted to what Chinese offices produce: GBK/GB18030,
/// Big5) and invalid sequences become U+FFFD.
pub(crate) fn decode(bytes: &[u8]) -> Decoded {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        let replaced = if had_errors {
            count_replacements(&text)
        } else {
            0
        };
        return Decoded {
            text: text.into_owned(),
            encoding: bom_name(enc),
            replaced,
        };
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Decoded {
            text: s.to_owned(),
            encoding: "UTF-8",
            replaced: 0,
        };
    }
    // Mostly UTF-8 with a few broken bytes (a truncated copy, a bad paste) stays UTF-8.
    let lossy = String::from_utf8_lossy(bytes);
    let bad = count_replacements(&lossy);
    let han = lossy.chars().filter(|&c| diaoyan_text::is_han(c)).count();
    if bad * 10 <= han {
        return Decoded {
            text: lossy.into_owned(),
            encoding: "UTF-8",
            replaced: bad,
        };
    }
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(bytes, true);
    let guess = det.guess(Some(b"cn"), chardetng::Utf8Detection::Allow);
    // GB18030 decodes everything GBK and GB2312 do; prefer it unless the guess is Big5.
    let enc = if guess == encoding_rs::BIG5 {
        encoding_rs::BIG5
    } else {
        encoding_rs::GB18030
    };
    let (text, _, had_errors) = enc.decode(bytes);
    let replaced = if had_errors {
        count_replacements(&text)
    } else {
        0
    };
    Decoded {
        text: text.into_owned(),
        encoding: if enc == encoding_rs::BIG5 {
            "Big5"
        } else {
            "GBK"
        },
        replaced,
    }
}

fn bom_name(enc: &'static encoding_rs::Encoding) -> &'static str {
    if enc == encoding_rs::UTF_16LE {
        "UTF-16LE"
    } else if enc == encoding_rs::UTF_16BE {
        "UTF-16BE"
    } else {
        "UTF-8 (BOM)"
    }
}

fn count_replacements(s: &str) -> usize {
    s.chars().filter(|&c| c == '\u{FFFD}').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "蹲点第三天，走访石桥村困难户12户，群众反映机耕路坑洼不平。";

    #[test]
    fn encodings_round_trip() {
        let utf8 = SAMPLE.as_bytes().to_vec();
        let mut utf8_bom = b"\xEF\xBB\xBF".to_vec();
        utf8_bom.extend_from_slice(SAMPLE.as_bytes());
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in SAMPLE.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
            be.extend_from_slice(&u.to_be_bytes());
        }
        let (gbk, _, _) = encoding_rs::GBK.encode(SAMPLE);
        let cases: [(&[u8], &str); 5] = [
            (&utf8, "UTF-8"),
            (&utf8_bom, "UTF-8 (BOM)"),
            (&le, "UTF-16LE"),
            (&be, "UTF-16BE"),
            (&gbk, "GBK"),
        ];
        for (bytes, want) in cases {
            assert!(matches!(sniff(bytes), Sniff::Text), "{want}");
            let d = decode(bytes);
            assert_eq!(d.encoding, want);
            assert_eq!(d.text, SAMPLE, "{want}");
            assert_eq!(d.replaced, 0);
        }
    }

    #[test]
    fn a_few_bad_bytes_become_replacement_characters() {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        bytes.insert(6, 0xFF);
        let d = decode(&bytes);
        assert_eq!(d.encoding, "UTF-8");
        assert_eq!(d.replaced, 1);
        assert!(d.text.contains('\u{FFFD}'));
    }

    #[test]
    fn binaries_are_recognised() {
        assert!(matches!(
            sniff(b"\x89PNG\r\n\x1a\n...."),
            Sniff::Binary("PNG 图片")
        ));
        assert!(matches!(
            sniff(b"\xD0\xCF\x11\xE0\xA1\xB1"),
            Sniff::Binary(_)
        ));
        assert!(matches!(sniff(b"abc\0def"), Sniff::Binary("二进制数据")));
    }
}
