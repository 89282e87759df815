//! Word documents that are really a web page or RTF: what an office system's "导出 Word" often
//! writes under a `.doc` name (an HTML page served as `application/msword`, Word's own "网页"
//! save, or Rich Text). Their text, paragraphs as lines and table cells joined by tabs, as the
//! `.docx` reader gives them.

use crate::decode;

/// What a `.doc` that is not a Word 97-2003 file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Html,
    /// A web page in one MIME file (Word's "单个文件网页", .mht).
    Mhtml,
    Rtf,
}

/// Whether `bytes` are a web page or RTF (looked for in the first 2 KB, past a BOM and
/// whitespace).
pub(crate) fn sniff(bytes: &[u8]) -> Option<Kind> {
    let head = &bytes[..bytes.len().min(2048)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let head = &head[start..];
    if head.starts_with(b"{\\rtf") {
        return Some(Kind::Rtf);
    }
    let lower = head.to_ascii_lowercase();
    let has = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    if lower.starts_with(b"mime-version:") || has(b"multipart/related") {
        return Some(Kind::Mhtml);
    }
    (head.starts_with(b"<") && (has(b"<html") || has(b"<body") || has(b"<!doctype html")))
        .then_some(Kind::Html)
}

/// The encoding a `charset=` in `head` names.
fn charset(head: &str) -> Option<&'static encoding_rs::Encoding> {
    let head = head.to_ascii_lowercase();
    let i = head.find("charset=")?;
    let label: String = head[i + 8..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    encoding_rs::Encoding::for_label(label.as_bytes())
}

/// The text of a web page, and the encoding it was read in (its `charset`, else as a text
/// file's is found).
pub(crate) fn html_text(bytes: &[u8]) -> (String, &'static str) {
    html_text_in(bytes, None)
}

/// [`html_text`] with the encoding a MIME part's header gives, before the page's own.
fn html_text_in(
    bytes: &[u8],
    given: Option<&'static encoding_rs::Encoding>,
) -> (String, &'static str) {
    let declared =
        given.or_else(|| charset(&String::from_utf8_lossy(&bytes[..bytes.len().min(4096)])));
    let (html, encoding) = match declared {
        Some(enc) if enc != encoding_rs::UTF_16LE && enc != encoding_rs::UTF_16BE => {
            let (s, _, _) = enc.decode(bytes);
            (s.into_owned(), enc.name())
        }
        _ => {
            let d = decode::decode(bytes);
            (d.text, d.encoding)
        }
    };
    (page_text(&html), encoding)
}

/// The text of a web page saved as one MIME file (.mht): its first HTML part, decoded
/// (quoted-printable or base64) and read in its part's charset. `None` when there is none.
pub(crate) fn mhtml_text(bytes: &[u8]) -> Option<(String, &'static str)> {
    use base64::Engine;
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(8192)]).into_owned();
    let lower = head.to_ascii_lowercase();
    let at = lower.find("boundary=")? + 9;
    let boundary: String = head[at..]
        .trim_start_matches('"')
        .chars()
        .take_while(|&c| c != '"' && c != ';' && !c.is_whitespace())
        .collect();
    if boundary.is_empty() {
        return None;
    }
    let marker = format!("--{boundary}");
    let parts = split_on(bytes, marker.as_bytes());
    for part in parts.into_iter().skip(1) {
        let Some((headers, body)) = split_headers(part) else {
            continue;
        };
        let headers = String::from_utf8_lossy(headers);
        // Header names and values compared without case or blanks ("Content-Type:text/html").
        let compact: String = headers
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        if !compact.contains("content-type:text/html") {
            continue;
        }
        let body = if compact.contains("content-transfer-encoding:quoted-printable") {
            quoted_printable(body)
        } else if compact.contains("content-transfer-encoding:base64") {
            let clean: Vec<u8> = body
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(clean)
                .ok()?
        } else {
            body.to_vec()
        };
        return Some(html_text_in(&body, charset(&headers)));
    }
    None
}

/// `bytes` cut at every `marker`.
fn split_on<'a>(bytes: &'a [u8], marker: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + marker.len() <= bytes.len() {
        if &bytes[i..i + marker.len()] == marker {
            out.push(&bytes[start..i]);
            i += marker.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&bytes[start..]);
    out
}

/// A MIME part's headers and body (split at the first empty line).
fn split_headers(part: &[u8]) -> Option<(&[u8], &[u8])> {
    let crlf = part
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    let lf = part.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    // The two never start at one place, so the earlier is the first by position.
    let (i, n) = crlf.into_iter().chain(lf).min()?;
    Some((&part[..i], &part[i + n..]))
}

/// Quoted-printable decoded: `=XX` bytes, soft line breaks (`=` at a line's end) joined.
fn quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'=' {
            if body[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if body[i + 1..].starts_with(b"\n") {
                i += 2;
                continue;
            }
            let hex = body
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(body[i]);
        i += 1;
    }
    out
}

/// Elements whose content is not text.
const SKIPPED: &[&str] = &[
    "head", "script", "style", "title", "xml", "noscript", "template",
];
/// Elements that stand on lines of their own.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "hr",
    "dd",
    "dt",
    "caption",
    "body",
];

fn page_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    // The element being skipped, and how deep in it (elements of its name opened since).
    let mut skipping: Option<(String, usize)> = None;
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            if skipping.is_none() {
                push_text(&mut out, rest);
            }
            break;
        };
        if skipping.is_none() {
            push_text(&mut out, &rest[..lt]);
        }
        rest = &rest[lt..];
        // A comment (Word's conditional ones hold its XML settings): to its end.
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        let end = tag_end(rest);
        // Between `<` and `>` (to the end of the page when the tag is never closed).
        let inner_end = if rest[..end].ends_with('>') {
            end - 1
        } else {
            end
        };
        let tag = &rest[1..inner_end.max(1)];
        rest = &rest[end..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == ':')
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some((open, depth)) = &mut skipping {
            if name == *open && !tag.ends_with('/') {
                if !closing {
                    *depth += 1;
                } else if *depth == 0 {
                    skipping = None;
                } else {
                    *depth -= 1;
                }
            }
            continue;
        }
        if !closing && !tag.ends_with('/') && skipped(&name, tag) {
            skipping = Some((name, 0));
            continue;
        }
        match name.as_str() {
            "td" | "th" if closing => {
                // A cell's last paragraph ends with the cell.
                while out.ends_with([' ', '\n']) {
                    out.pop();
                }
                out.push('\t');
            }
            "tr" if closing => {
                trim_spaces(&mut out);
                while out.ends_with('\t') {
                    out.pop();
                }
                out.push('\n');
            }
            n if BLOCKS.contains(&n) => {
                trim_spaces(&mut out);
                if !out.is_empty() && !out.ends_with(['\n', '\t']) {
                    out.push('\n');
                }
            }
            _ => {}
        }
    }
    let mut text = String::with_capacity(out.len());
    for line in out.lines() {
        let line = line.trim_matches([' ', '\u{a0}']);
        if !line.trim().is_empty() {
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

/// Whether an element's content is not the document's text: the page's head, scripts and
/// styles; a page header or footer (`<div title="header">`, as LibreOffice writes them); a
/// note's number linking to the note or back (Word's `#_ftn1`, LibreOffice's
/// `sdfootnote1anc`): the notes' text itself stays, after the body, as a page has it.
fn skipped(name: &str, tag: &str) -> bool {
    if SKIPPED.contains(&name) {
        return true;
    }
    let attrs = tag.to_ascii_lowercase();
    match name {
        "div" => [
            "title=\"header\"",
            "title=\"footer\"",
            "title=header",
            "title=footer",
        ]
        .iter()
        .any(|a| attrs.contains(a)),
        "a" => {
            ["href=\"#", "href='#", "href=#"]
                .iter()
                .any(|a| attrs.contains(a))
                && ["footnote", "endnote", "ftn", "edn"]
                    .iter()
                    .any(|n| attrs.contains(n))
        }
        _ => false,
    }
}

/// Where the tag starting `s` (at its `<`) ends: past its `>`, quotes respected.
fn tag_end(s: &str) -> usize {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return i + 1,
            _ => {}
        }
    }
    s.len()
}

fn trim_spaces(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
}

fn is_wide(c: char) -> bool {
    matches!(c, '\u{2e80}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{ff00}'..='\u{ffef}')
}

/// Appends a run of page text: entities decoded, whitespace collapsed to one space (none
/// where the source wrapped a line between two Chinese characters).
fn push_text(out: &mut String, raw: &str) {
    let decoded = entities(raw);
    let mut chars = decoded.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() && c != '\u{a0}' && c != '\u{3000}' {
            let mut wrapped = c == '\n' || c == '\r';
            while let Some(&n) = chars
                .peek()
                .filter(|n| n.is_whitespace() && **n != '\u{a0}')
            {
                wrapped |= n == '\n' || n == '\r';
                chars.next();
            }
            let before = out.chars().next_back();
            let after = chars.peek().copied();
            let joins_wide = wrapped && before.is_some_and(is_wide) && after.is_none_or(is_wide);
            if before.is_some_and(|b| b != ' ' && b != '\n' && b != '\t') && !joins_wide {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

/// HTML character references decoded (the named ones an office page uses; others kept).
fn entities(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('&') {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        // Looked for in bytes: the first 12 may end inside a character.
        let semi = rest.as_bytes()[..rest.len().min(12)]
            .iter()
            .position(|&b| b == b';');
        let decoded = semi.and_then(|e| {
            let name = &rest[1..e];
            let c = if let Some(num) = name.strip_prefix('#') {
                let n = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse().ok(),
                };
                n.and_then(char::from_u32)
            } else {
                match name {
                    "nbsp" => Some('\u{a0}'),
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    "ldquo" => Some('“'),
                    "rdquo" => Some('”'),
                    "lsquo" => Some('‘'),
                    "rsquo" => Some('’'),
                    "mdash" => Some('—'),
                    "ndash" => Some('–'),
                    "hellip" => Some('…'),
                    "middot" => Some('·'),
                    "times" => Some('×'),
                    "deg" => Some('°'),
                    "yen" => Some('¥'),
                    _ => None,
                }
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out.into()
}

/// Destinations whose text is not the document's (fonts, styles, pictures, headers, a
/// field's instruction …); any `{\*\…}` group is skipped too.
const RTF_SKIPPED: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "object",
    "header",
    "headerl",
    "headerr",
    "headerf",
    "footer",
    "footerl",
    "footerr",
    "footerf",
    "fldinst",
    "themedata",
    "colorschememapping",
    "latentstyles",
    "datastore",
    "xmlnstbl",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "generator",
    "filetbl",
    "revtbl",
    "pgdsctbl",
    "mmathPr",
    "listtext",
    "pntext",
    "pntxta",
    "pntxtb",
    "bkmkstart",
    "bkmkend",
    "xe",
    "tc",
    "txe",
];

/// The text of an RTF document, and its code page's name. Text in `\'hh` bytes is read in the
/// document's code page (`\ansicpg`; Chinese documents say 936), `\uN` characters as they are
/// (their `\ucN` fallback bytes skipped).
pub(crate) fn rtf_text(bytes: &[u8]) -> (String, &'static str) {
    let mut enc = encoding_rs::WINDOWS_1252;
    // The body, and the footnotes' text (after the body, as the .docx reader gives them).
    let mut body = String::with_capacity(bytes.len() / 2);
    let mut notes = String::new();
    // Per group: skipped, in a note, fallback bytes after \uN.
    let mut stack: Vec<(bool, bool, usize)> = Vec::new();
    let (mut skip, mut note, mut uc) = (false, false, 1usize);
    let mut pending: Vec<u8> = Vec::new();
    // Fallback characters still to drop after a \uN.
    let mut drop_next = 0usize;
    let mut i = 0;
    let flush = |pending: &mut Vec<u8>, out: &mut String, enc: &'static encoding_rs::Encoding| {
        if !pending.is_empty() {
            out.push_str(&enc.decode_without_bom_handling(pending).0);
            pending.clear();
        }
    };
    while i < bytes.len() {
        let b = bytes[i];
        let out = if note { &mut notes } else { &mut body };
        match b {
            b'{' => {
                flush(&mut pending, out, enc);
                stack.push((skip, note, uc));
                drop_next = 0;
                i += 1;
                // An optional destination ({\*\…}) is skipped, but for a footnote's.
                if bytes[i..].starts_with(b"\\*\\footnote") {
                    note = !skip;
                } else if bytes[i..].starts_with(b"\\*") {
                    skip = true;
                }
            }
            b'}' => {
                flush(&mut pending, out, enc);
                let in_note = note;
                (skip, note, uc) = stack.pop().unwrap_or((false, false, 1));
                if in_note && !note {
                    // A note's end is a line's end.
                    trim_spaces(&mut notes);
                    notes.push('\n');
                }
                drop_next = 0;
                i += 1;
            }
            b'\\' => {
                i += 1;
                let Some(&c) = bytes.get(i) else { break };
                if c == b'\'' {
                    let hex = bytes
                        .get(i + 1..i + 3)
                        .and_then(|h| std::str::from_utf8(h).ok());
                    i += 3;
                    if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        if drop_next > 0 {
                            drop_next -= 1;
                        } else if !skip {
                            pending.push(v);
                        }
                    }
                    continue;
                }
                flush(&mut pending, out, enc);
                if !c.is_ascii_alphabetic() {
                    i += 1;
                    if skip {
                        continue;
                    }
                    match c {
                        b'\\' | b'{' | b'}' => out.push(char::from(c)),
                        b'~' => out.push(' '),
                        b'_' => out.push('-'),
                        _ => {}
                    }
                    continue;
                }
                let word_start = i;
                while bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
                    i += 1;
                }
                let word = std::str::from_utf8(&bytes[word_start..i]).unwrap_or("");
                let num_start = i;
                if bytes.get(i) == Some(&b'-') {
                    i += 1;
                }
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                let num: Option<i64> = std::str::from_utf8(&bytes[num_start..i])
                    .ok()
                    .and_then(|n| n.parse().ok());
                // A space after a control word belongs to it.
                if bytes.get(i) == Some(&b' ') {
                    i += 1;
                }
                if RTF_SKIPPED.contains(&word) {
                    skip = true;
                    continue;
                }
                match word {
                    "ansicpg" => {
                        if let Some(e) = num.and_then(codepage) {
                            enc = e;
                        }
                    }
                    "uc" => uc = num.unwrap_or(1).clamp(0, 8) as usize,
                    _ if skip => {}
                    "u" => {
                        if let Some(n) = num {
                            let n = if n < 0 { n + 65536 } else { n };
                            if let Some(c) = u32::try_from(n).ok().and_then(char::from_u32) {
                                out.push(c);
                            }
                            drop_next = uc;
                        }
                    }
                    "footnote" => note = !skip,
                    "par" | "line" | "sect" | "page" => {
                        trim_spaces(out);
                        out.push('\n');
                    }
                    "tab" => out.push('\t'),
                    "cell" => {
                        trim_spaces(out);
                        out.push('\t');
                    }
                    "row" => {
                        while out.ends_with('\t') {
                            out.pop();
                        }
                        out.push('\n');
                    }
                    "emdash" => out.push('—'),
                    "endash" => out.push('–'),
                    "lquote" => out.push('‘'),
                    "rquote" => out.push('’'),
                    "ldblquote" => out.push('“'),
                    "rdblquote" => out.push('”'),
                    "bullet" => out.push('•'),
                    _ => {}
                }
            }
            b'\r' | b'\n' => i += 1,
            _ => {
                i += 1;
                if drop_next > 0 {
                    drop_next -= 1;
                } else if !skip {
                    // Bytes as they stand are in the code page too (some writers leave
                    // them unescaped).
                    pending.push(b);
                }
            }
        }
    }
    flush(&mut pending, if note { &mut notes } else { &mut body }, enc);
    body.push('\n');
    body.push_str(&notes);
    let mut text = String::with_capacity(body.len());
    for line in body.lines() {
        let line = line.trim_end();
        if !line.trim().is_empty() {
            text.push_str(line);
            text.push('\n');
        }
    }
    (text, enc.name())
}

/// The encoding of a Windows code page an RTF names.
fn codepage(cp: i64) -> Option<&'static encoding_rs::Encoding> {
    let label = match cp {
        936 => "gbk",
        54936 => "gb18030",
        950 => "big5",
        65001 => "utf-8",
        1250..=1258 => return encoding_rs::Encoding::for_label(format!("windows-{cp}").as_bytes()),
        _ => return None,
    };
    encoding_rs::Encoding::for_label(label.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_web_page_in_gbk() {
        // As Word's "网页" save and office systems write them: a charset in a meta tag, Word's
        // settings in conditional comments, styles, an empty paragraph, a note's number, a
        // table, entities, and a line of the source wrapped between two Chinese characters.
        let page = "<html xmlns:o=\"urn:schemas-microsoft-com:office:office\">\r\n<head>\r\n\
            <meta http-equiv=Content-Type content=\"text/html; charset=gb2312\">\r\n\
            <title>走访记录</title>\r\n<!--[if gte mso 9]><xml><w:WordDocument><w:View>Print</w:View>\
            </w:WordDocument></xml><![endif]-->\r\n<style>p.MsoNormal {font-family:宋体}</style>\r\n\
            </head>\r\n<body lang=ZH-CN>\r\n<div class=WordSection1>\r\n\
            <p class=MsoNormal><span>石桥村三组&nbsp;走访记录<o:p></o:p></span></p>\r\n\
            <p class=MsoNormal><o:p>&nbsp;</o:p></p>\r\n\
            <p class=MsoNormal>群众反映机耕路<a style='mso-footnote-id:ftn1' href=\"#_ftn1\" \
            name=\"_ftnref1\"><sup>[1]</sup></a>雨天无法\r\n通行，&ldquo;盼早日硬化&rdquo;&amp;修桥。</p>\r\n\
            <table><tr><td><p>户主</p></td><td><p>问题</p><p>补充</p></td></tr>\
            <tr><td>王桂兰</td><td>漏雨</td><td></td></tr></table>\r\n\
            <script>var x = '<p>不是正文</p>';</script>\r\n</div>\r\n\
            <div style='mso-element:footnote-list'><div style='mso-element:footnote' id=ftn1>\
            <p class=MsoFootnoteText><a style='mso-footnote-id:ftn1' href=\"#_ftnref1\" \
            name=\"_ftn1\">[1]</a> 长约2公里。</p></div></div>\r\n</body>\r\n</html>";
        let bytes = encoding_rs::GBK.encode(page).0;
        assert_eq!(sniff(&bytes), Some(Kind::Html));
        let (text, enc) = html_text(&bytes);
        assert_eq!(enc, "GBK");
        assert_eq!(
            text,
            "石桥村三组\u{a0}走访记录\n群众反映机耕路雨天无法通行，“盼早日硬化”&修桥。\n\
             户主\t问题\n补充\n王桂兰\t漏雨\n长约2公里。\n"
        );
    }

    #[test]
    fn rtf_in_code_page_936_and_unicode() {
        let rtf = "{\\rtf1\\ansi\\ansicpg936\\deff0{\\fonttbl{\\f0\\fnil\\fcharset134 \\'cb\\'ce\\'cc\\'e5;}}\
            {\\*\\generator Writer;}{\\info{\\title x}}\\f0 \\'ca\\'af\\'c7\\'c5\\'b4\\'e5\\uc1\\u19977?\\u32452? 3\\~\\{1\\}\\par\
            {\\header \\'ca\\'af}\\pard \\intbl a\\cell b\\cell\\row \
            {\\field{\\*\\fldinst HYPERLINK \"http://x\"}{\\fldrslt \\'b9\\'ab\\'ca\\'be}}\
            {\\super\\chftn}{\\*\\footnote\\chftn \\u27880?\\par}\\par}";
        assert_eq!(sniff(rtf.as_bytes()), Some(Kind::Rtf));
        let (text, enc) = rtf_text(rtf.as_bytes());
        assert_eq!(enc, "GBK");
        assert_eq!(text, "石桥村三组 3 {1}\na\tb\n公示\n注\n");
        // Without a code page: Windows-1252, and \u characters still as they are.
        let (text, enc) = rtf_text(b"{\\rtf1\\ansi caf\\'e9 \\u30707?}");
        assert_eq!(
            (text.as_str(), enc),
            ("caf\u{e9} \u{77f3}\n", "windows-1252")
        );
    }

    #[test]
    fn a_single_file_web_page() {
        // Word's .mht: a MIME header, the page in quoted-printable GBK, an image part.
        let page = "<html><head><meta charset=\"utf-8\"></head><body><p>石桥村三组</p>\
            <p>机耕路长约2公里，雨天无法通行。</p></body></html>";
        let qp: String = encoding_rs::GBK
            .encode(page)
            .0
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                let soft = if i % 30 == 29 { "=\r\n" } else { "" };
                if b >= 0x80 || b == b'=' {
                    format!("={b:02X}{soft}")
                } else {
                    format!("{}{soft}", char::from(b))
                }
            })
            .collect();
        let mht = format!(
            "MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"----=_NextPart_01\"\r\n\r\n\
             ------=_NextPart_01\r\nContent-Location: file:///C:/x.htm\r\n\
             Content-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=\"gb2312\"\r\n\r\n\
             {qp}\r\n\r\n------=_NextPart_01\r\nContent-Type: image/png\r\n\
             Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n\r\n------=_NextPart_01--\r\n"
        );
        assert_eq!(sniff(mht.as_bytes()), Some(Kind::Mhtml));
        // The part's charset (gb2312) stands over the page's own (utf-8, wrong here).
        let (text, enc) = mhtml_text(mht.as_bytes()).unwrap();
        assert_eq!(enc, "GBK");
        assert_eq!(text, "石桥村三组\n机耕路长约2公里，雨天无法通行。\n");
        assert_eq!(mhtml_text(b"MIME-Version: 1.0\r\n\r\nno parts"), None);
        // Headers without blanks, base64, after a part with no headers at all.
        let b64 = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode("<p>水渠</p>".as_bytes())
        };
        let mht = format!(
            "Content-Type: multipart/related; boundary=b\n\n--b\nno headers here\n--b\n\
             Content-Type:text/html;charset=utf-8\nContent-Transfer-Encoding:base64\n\n{b64}\n--b--\n"
        );
        assert_eq!(sniff(mht.as_bytes()), Some(Kind::Mhtml));
        assert_eq!(mhtml_text(mht.as_bytes()).unwrap().0, "水渠\n");
    }

    #[test]
    fn only_pages_and_rtf_are_taken_for_them() {
        assert_eq!(
            sniff(b"  \r\n<!DOCTYPE html><html><body>x"),
            Some(Kind::Html)
        );
        assert_eq!(sniff(b"\xEF\xBB\xBF{\\rtf1 x}"), Some(Kind::Rtf));
        assert_eq!(sniff("村里<html>的路".as_bytes()), None);
        assert_eq!(sniff(b"<w:document>"), None);
        assert_eq!(sniff(b""), None);
    }
}
