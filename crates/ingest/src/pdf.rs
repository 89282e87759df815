//! PDF text: the text layer of a PDF exported from Word or WPS (fonts mapped to Unicode through
//! their ToUnicode CMaps, CID fonts included), reflowed into paragraphs. A PDF without a text
//! layer is a scan and is reported as such.

use diaoyan_text::is_han;

/// Why a PDF gave no text.
#[derive(Debug)]
pub(crate) enum PdfError {
    /// Pages but no text on any of them: a scan (images only).
    Scanned { pages: usize },
    /// Encrypted with a password we do not have.
    Encrypted,
    /// Not a PDF, or a damaged one.
    Corrupt(String),
}

/// Extracts the text of a PDF held in memory, page by page, then reflows it.
pub(crate) fn pdf_text(bytes: &[u8]) -> Result<String, PdfError> {
    if !bytes.starts_with(b"%PDF")
        && !bytes[..bytes.len().min(1024)]
            .windows(4)
            .any(|w| w == b"%PDF")
    {
        return Err(PdfError::Corrupt("文件头不是 %PDF".into()));
    }
    // The extractor can panic on malformed content streams: contained here, one file's cost.
    let pages = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem_by_pages(bytes))
        .map_err(|_| PdfError::Corrupt("解析 PDF 内容时出错".into()))?
        .map_err(|e| {
            let msg = e.to_string();
            if msg.to_lowercase().contains("encrypt") || msg.contains("password") {
                PdfError::Encrypted
            } else {
                PdfError::Corrupt(msg)
            }
        })?;
    let meaningful = |s: &str| {
        s.chars()
            .filter(|&c| is_han(c) || c.is_alphanumeric())
            .count()
    };
    if pages.iter().map(|p| meaningful(p)).sum::<usize>() == 0 {
        return Err(PdfError::Scanned { pages: pages.len() });
    }
    let mut out = String::new();
    for page in &pages {
        out.push_str(&reflow(page));
    }
    Ok(out)
}

/// Ends of a line that end a paragraph: sentence ends, colons, closing quotes.
fn ends_paragraph(line: &str) -> bool {
    line.ends_with([
        '。', '！', '？', '；', '：', '…', '!', '?', ';', ':', '”', '」', '）', ')',
    ])
}

/// Starts of a line that begin a new paragraph: an indent, a numbered heading (一、 （二） 1. 第三),
/// a list bullet.
fn starts_paragraph(line: &str, raw: &str) -> bool {
    raw.starts_with(['\u{3000}', ' ', '\t'])
        || line.starts_with(['（', '(', '第', '●', '•', '■', '◆', '-', '—'])
        || {
            // 一、 12、 3. — but not a decimal such as 0.6亩.
            let head: Vec<char> = line.chars().take(5).collect();
            (1..head.len().min(4)).any(|i| {
                matches!(head[i], '、' | '.' | '．')
                    && head[..i]
                        .iter()
                        .all(|d| d.is_ascii_digit() || "一二三四五六七八九十".contains(*d))
                    && (head[i] == '、' || head.get(i + 1).is_none_or(|n| !n.is_ascii_digit()))
            })
        }
}

/// Joins the lines a page wrapped inside a sentence (PDF text comes line by line), drops the
/// spaces an extractor puts between Chinese characters, keeps paragraph and heading breaks.
fn reflow(page: &str) -> String {
    let mut out = String::new();
    let mut prev_short = true;
    for raw in page.lines() {
        let line = squeeze(raw.trim());
        if line.is_empty() {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            prev_short = true;
            continue;
        }
        let joined =
            !out.is_empty() && !out.ends_with('\n') && !prev_short && !starts_paragraph(&line, raw);
        if !joined && !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        // Latin words wrapped across lines keep a space between them.
        if joined
            && out
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphabetic())
            && line.starts_with(|c: char| c.is_ascii_alphabetic())
        {
            out.push(' ');
        }
        out.push_str(&line);
        if ends_paragraph(&line) {
            out.push('\n');
        }
        // A short line (a title, a signature, a date) is a paragraph of its own.
        prev_short = line.chars().count() < 12;
        if prev_short && !out.ends_with('\n') {
            out.push('\n');
        }
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Removes spaces with a Chinese character on either side (extractors space out glyphs).
fn squeeze(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' || c == '\u{3000}' {
            let prev = out.chars().next_back();
            let next = chars[i + 1..].iter().copied().find(|&x| x != ' ');
            let cjk = |x: Option<char>| x.is_some_and(|x| is_han(x) || !x.is_ascii());
            if cjk(prev) || cjk(next) || prev == Some(' ') {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A PDF as Word and WPS write Chinese: a Type0 font, Identity-H encoding, two-byte CIDs
    /// mapped to Unicode by a ToUnicode CMap (no font program needed to read the text). Each
    /// page is a list of lines drawn top to bottom.
    pub(crate) fn cid_pdf(pages: &[&[&str]]) -> Vec<u8> {
        let mut chars: Vec<char> = Vec::new();
        for line in pages.iter().flat_map(|p| p.iter()) {
            for c in line.chars() {
                if !chars.contains(&c) {
                    chars.push(c);
                }
            }
        }
        let cid = |c: char| chars.iter().position(|&x| x == c).unwrap() + 1;
        let mut cmap = String::from(
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n1 begincodespacerange <0000> <FFFF> endcodespacerange\n",
        );
        for chunk in chars.chunks(100) {
            cmap.push_str(&format!("{} beginbfchar\n", chunk.len()));
            for &c in chunk {
                let mut u = [0u16; 2];
                let hex: String = c
                    .encode_utf16(&mut u)
                    .iter()
                    .map(|x| format!("{x:04X}"))
                    .collect();
                cmap.push_str(&format!("<{:04X}> <{hex}>\n", cid(c)));
            }
            cmap.push_str("endbfchar\n");
        }
        cmap.push_str("endcmap CMapName currentdict /CMap defineresource pop end end\n");

        let n = pages.len();
        // Objects: 1 catalog, 2 pages, 3 font, 4 CID font, 5 descriptor, 6 ToUnicode, then a
        // page and its content per page.
        let mut objs: Vec<String> = vec![
            "<< /Type /Catalog /Pages 2 0 R >>".into(),
            format!(
                "<< /Type /Pages /Count {n} /Kids [{}] >>",
                (0..n).map(|i| format!("{} 0 R", 7 + 2 * i)).collect::<Vec<_>>().join(" ")
            ),
            "<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H /DescendantFonts [4 0 R] /ToUnicode 6 0 R >>".into(),
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 5 0 R /DW 1000 >>".into(),
            "<< /Type /FontDescriptor /FontName /SimSun /Flags 4 /FontBBox [0 -120 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>".into(),
            format!("<< /Length {} >>\nstream\n{cmap}endstream", cmap.len()),
        ];
        for (i, lines) in pages.iter().enumerate() {
            let mut content = String::from("BT\n/F1 12 Tf\n14 TL\n72 780 Td\n");
            for line in lines.iter() {
                let hex: String = line.chars().map(|c| format!("{:04X}", cid(c))).collect();
                content.push_str(&format!("<{hex}> Tj\nT*\n"));
            }
            content.push_str("ET\n");
            objs.push(format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                8 + 2 * i
            ));
            objs.push(format!(
                "<< /Length {} >>\nstream\n{content}endstream",
                content.len()
            ));
        }
        let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objs.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = pdf.len();
        pdf.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes(),
        );
        for off in offsets {
            pdf.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objs.len() + 1
            )
            .as_bytes(),
        );
        pdf
    }

    #[test]
    fn cid_fonts_come_out_as_chinese_in_reading_order() {
        let pdf = cid_pdf(&[
            &[
                "石桥村蹲点调研报告",
                "全村共有农户312户1046人，人均耕地",
                "0.6亩，其中低保户17户。",
                "一、存在的主要问题",
                "三组机耕路有两处塌方，雨天无法通行。",
            ],
            &["二、意见建议", "建议把三组机耕路纳入明年硬化计划。"],
        ]);
        let text = pdf_text(&pdf).unwrap();
        assert_eq!(
            text,
            "石桥村蹲点调研报告\n全村共有农户312户1046人，人均耕地0.6亩，其中低保户17户。\n一、存在的主要问题\n三组机耕路有两处塌方，雨天无法通行。\n二、意见建议\n建议把三组机耕路纳入明年硬化计划。\n"
        );
    }

    #[test]
    fn a_pdf_without_text_is_a_scan() {
        let pdf = cid_pdf(&[&[], &[]]);
        assert!(matches!(
            pdf_text(&pdf),
            Err(PdfError::Scanned { pages: 2 })
        ));
    }

    #[test]
    fn damaged_pdfs_are_refused_not_panicked_on() {
        let pdf = cid_pdf(&[&["全村共有农户312户。"]]);
        for cut in [10, pdf.len() / 3, pdf.len() / 2] {
            let r = pdf_text(&pdf[..cut]);
            assert!(r.is_err() || r.is_ok_and(|t| !t.is_empty()));
        }
        assert!(matches!(pdf_text(b"hello"), Err(PdfError::Corrupt(_))));
    }

    #[test]
    fn reflow_keeps_headings_and_joins_wrapped_lines() {
        assert_eq!(
            reflow("一、基本情况\n全村 共有 农户 312 户，人均耕地\n0.6亩。\n（一）交通\n"),
            "一、基本情况\n全村共有农户312户，人均耕地0.6亩。\n（一）交通\n"
        );
    }
}
