//! Word 97–2003 `.doc` text ([MS-DOC]): the main document, then its footnotes, endnotes and
//! text boxes, read through the piece table, the way the `.docx` reader gives them.
//!
//! A `.doc` is a compound file (OLE). Its `WordDocument` stream starts with the FIB, which says
//! which table stream (`0Table` or `1Table`) holds the piece table (the `Clx`) and how many
//! characters each part of the document has (main text, footnotes, headers, …, in that order).
//! The piece table maps character positions to bytes of `WordDocument`: each piece is UTF-16 or
//! single bytes in Windows-1252 (a "compressed" piece). Chinese text is always UTF-16.
//!
//! Special characters become what the `.docx` reader gives: a paragraph mark or a line, page or
//! column break ends a line; in a table, the cells of a row are joined by tabs and the row ends
//! a line; a field's code (`HYPERLINK "…"`) is dropped and its result kept; pictures, note
//! references and other marks are dropped. Headers, footers and comments are not read (nor are
//! they in a `.docx`).
//!
//! [MS-DOC]: https://learn.microsoft.com/en-us/openspecs/office_file_formats/ms-doc/

use crate::ole::{self, StreamError, u16_at, u32_at};
use std::io::Cursor;

/// Why a `.doc` could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DocError {
    /// Not a compound file, or a damaged one (the detail says what was wrong).
    Corrupt(String),
    /// Protected by a password to open (encrypted or obfuscated).
    Encrypted,
    /// Word 6.0/95 or older (a different format).
    TooOld,
    /// A compound file with no `WordDocument` stream: another kind of Office file (what it
    /// seems to be).
    NotWord(&'static str),
    /// A stream larger than the cap.
    TooLarge { stream: &'static str, limit: u64 },
}

/// The FIB's identifier of a Word document.
const W_IDENT: u16 = 0xA5EC;
/// The first `nFib` of Word 97 (Word 6.0 and 95 wrote 101–104).
const WORD97: u16 = 0x00C1;
/// `fEncrypted` and `fObfuscated` in the FIB's flags.
const ENCRYPTED: u16 = 0x0100 | 0x8000;
/// `fWhichTblStm`: the table stream is `1Table` (else `0Table`).
const TABLE1: u16 = 0x0200;
/// The pair index of `fcClx`/`lcbClx` in `fibRgFcLcb`.
const CLX: usize = 33;

/// The text of a Word 97–2003 document (`bytes`), refusing a stream larger than `limit` bytes.
pub(crate) fn doc_text(bytes: &[u8], limit: u64) -> Result<String, DocError> {
    // The compound-file reader is not known to panic, but it is a parser of untrusted bytes
    // from another crate: a panic costs this file only, as in the PDF and .xls readers.
    std::panic::catch_unwind(|| read(bytes, limit))
        .unwrap_or_else(|_| Err(DocError::Corrupt("解析文档结构时出错".to_owned())))
}

fn read(bytes: &[u8], limit: u64) -> Result<String, DocError> {
    let mut cf = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| DocError::Corrupt(format!("不是有效的复合文档：{e}")))?;
    if !cf.is_stream("/WordDocument") {
        let kind = if cf.is_stream("/Workbook") || cf.is_stream("/Book") {
            "Excel 工作簿"
        } else if cf.is_stream("/PowerPoint Document") {
            "PowerPoint 演示文稿"
        } else if cf.is_stream("/EncryptedPackage") {
            return Err(DocError::Encrypted);
        } else {
            "其他 Office 文件"
        };
        return Err(DocError::NotWord(kind));
    }
    let word = read_stream(&mut cf, "WordDocument", limit)?;
    let fib = Fib::parse(&word)?;
    let table_name = if fib.table1 { "1Table" } else { "0Table" };
    if !cf.is_stream(format!("/{table_name}")) {
        return Err(DocError::Corrupt(format!("缺少 {table_name} 数据流")));
    }
    let table = read_stream(&mut cf, table_name, limit)?;
    let clx = table
        .get(fib.clx.0..fib.clx.0.saturating_add(fib.clx.1))
        .ok_or_else(|| DocError::Corrupt("段落表位置超出文件".to_owned()))?;
    let pieces = pieces(clx)?;
    // Characters up to the end of the last part read (text boxes), at most one per byte of cap.
    let end = fib.parts.iter().fold(0u32, |a, &b| a.saturating_add(b));
    let units = characters(&word, &pieces, end, limit)?;
    let mut text = clean(&units[..units.len().min(fib.parts[MAIN] as usize)]);
    let mut at = 0usize;
    for (i, &n) in fib.parts.iter().enumerate() {
        let range = at.min(units.len())..(at + n as usize).min(units.len());
        at += n as usize;
        if !matches!(i, FOOTNOTES | ENDNOTES | BOXES) {
            continue;
        }
        // Notes and boxes after the body, a line each, as the .docx reader gives them.
        for line in clean(&units[range])
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
    }
    Ok(text)
}

/// Reads a whole stream, refusing one larger than `limit`.
fn read_stream(
    cf: &mut ole::Compound<'_>,
    name: &'static str,
    limit: u64,
) -> Result<Vec<u8>, DocError> {
    ole::read_stream(cf, &format!("/{name}"), limit).map_err(|e| match e {
        StreamError::TooLarge => DocError::TooLarge {
            stream: name,
            limit,
        },
        StreamError::Damaged(e) => DocError::Corrupt(format!("无法读取 {name} 数据流：{e}")),
    })
}

/// The parts of a document's text, in the order they follow each other (`ccpText`, `ccpFtn`,
/// `ccpHdd`, `ccpMcr`, `ccpAtn`, `ccpEdn`, `ccpTxbx`).
const MAIN: usize = 0;
const FOOTNOTES: usize = 1;
const ENDNOTES: usize = 5;
const BOXES: usize = 6;

/// What the FIB says.
#[derive(Debug)]
struct Fib {
    /// Whether the table stream is `1Table`.
    table1: bool,
    /// Where the `Clx` lies in the table stream: offset, length.
    clx: (usize, usize),
    /// Characters in each part (see [`MAIN`]).
    parts: [u32; 7],
}

impl Fib {
    fn parse(w: &[u8]) -> Result<Fib, DocError> {
        let short = || DocError::Corrupt("文件头（FIB）不完整".to_owned());
        if u16_at(w, 0).ok_or_else(short)? != W_IDENT {
            return Err(DocError::Corrupt("不是 Word 文档的文件头".to_owned()));
        }
        if u16_at(w, 2).ok_or_else(short)? < WORD97 {
            return Err(DocError::TooOld);
        }
        let flags = u16_at(w, 0x0A).ok_or_else(short)?;
        if flags & ENCRYPTED != 0 {
            return Err(DocError::Encrypted);
        }
        // FibBase (32 bytes), then csw and fibRgW, cslw and fibRgLw, cbRgFcLcb and the pairs.
        let csw = usize::from(u16_at(w, 32).ok_or_else(short)?);
        let lw_at = 34 + csw * 2;
        let cslw = usize::from(u16_at(w, lw_at).ok_or_else(short)?);
        let lw = lw_at + 2;
        let mut parts = [0u32; 7];
        // ccpText is fibRgLw's 4th value; the other parts follow it (the 7th, reserved, is
        // ccpMcr: zero in practice, counted as the spec orders it).
        for (i, p) in parts.iter_mut().enumerate() {
            if 3 + i < cslw {
                *p = u32_at(w, lw + (3 + i) * 4).ok_or_else(short)?;
            }
        }
        let pairs_at = lw + cslw * 4;
        let pairs = usize::from(u16_at(w, pairs_at).ok_or_else(short)?);
        if pairs <= CLX {
            return Err(short());
        }
        let clx_at = pairs_at + 2 + CLX * 8;
        let clx = (
            u32_at(w, clx_at).ok_or_else(short)? as usize,
            u32_at(w, clx_at + 4).ok_or_else(short)? as usize,
        );
        Ok(Fib {
            table1: flags & TABLE1 != 0,
            clx,
            parts,
        })
    }
}

/// A piece of the text: characters `cp..cp_end` are at byte `fc` of `WordDocument`, in UTF-16
/// or (compressed) one Windows-1252 byte each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    cp: u32,
    cp_end: u32,
    fc: u32,
    compressed: bool,
}

/// The pieces of the `Clx` (formatting runs before the piece table are skipped).
fn pieces(clx: &[u8]) -> Result<Vec<Piece>, DocError> {
    let bad = |why: &str| DocError::Corrupt(format!("段落表（Clx）有误：{why}"));
    let mut at = 0;
    loop {
        match clx.get(at) {
            Some(1) => {
                let n = u16_at(clx, at + 1).ok_or_else(|| bad("格式块不完整"))?;
                at += 3 + usize::from(n);
            }
            Some(2) => break,
            _ => return Err(bad("找不到分段表")),
        }
    }
    let lcb = u32_at(clx, at + 1).ok_or_else(|| bad("分段表不完整"))? as usize;
    let plc = clx
        .get(at + 5..(at + 5).saturating_add(lcb))
        .ok_or_else(|| bad("分段表超出范围"))?;
    if plc.len() < 16 || (plc.len() - 4) % 12 != 0 {
        return Err(bad("分段表长度不对"));
    }
    let n = (plc.len() - 4) / 12;
    let cps: Vec<u32> = (0..=n).map(|i| u32_at(plc, i * 4).unwrap_or(0)).collect();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let fc = u32_at(plc, (n + 1) * 4 + i * 8 + 2).unwrap_or(0);
        if cps[i + 1] < cps[i] {
            return Err(bad("字符位置倒序"));
        }
        out.push(Piece {
            cp: cps[i],
            cp_end: cps[i + 1],
            fc: fc & 0x3FFF_FFFF,
            compressed: fc & 0x4000_0000 != 0,
        });
    }
    Ok(out)
}

/// Characters `0..end` of the document as UTF-16 units (a compressed piece's bytes mapped
/// through Windows-1252), at most `limit`; a piece lying outside `word` is an error.
fn characters(word: &[u8], pieces: &[Piece], end: u32, limit: u64) -> Result<Vec<u16>, DocError> {
    let cap = u64::from(end).min(limit) as usize;
    let mut units: Vec<u16> = Vec::with_capacity(cap.min(word.len()));
    let outside = || DocError::Corrupt("文字位置超出文件".to_owned());
    for p in pieces {
        if units.len() >= cap || p.cp >= end {
            break;
        }
        let n = (p.cp_end.min(end) - p.cp) as usize;
        let n = n.min(cap - units.len());
        if p.compressed {
            let at = (p.fc / 2) as usize;
            let bytes = word.get(at..at + n).ok_or_else(outside)?;
            let (s, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            units.extend(s.encode_utf16());
        } else {
            let at = p.fc as usize;
            let bytes = word.get(at..at + 2 * n).ok_or_else(outside)?;
            units.extend(
                bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]])),
            );
        }
    }
    Ok(units)
}

/// The text of a run of characters with Word's marks resolved (see the module's notes).
fn clean(units: &[u16]) -> String {
    let mut out = String::with_capacity(units.len() * 3);
    // Open fields, innermost last: whether each is past its separator (showing its result);
    // and how many are not (inside any of them, nothing is text).
    let mut fields: Vec<bool> = Vec::new();
    let mut in_code = 0usize;
    let chars: Vec<char> = char::decode_utf16(units.iter().copied())
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\u{13}' => {
                fields.push(false);
                in_code += 1;
                continue;
            }
            '\u{14}' => {
                if let Some(f @ false) = fields.last_mut() {
                    *f = true;
                    in_code -= 1;
                }
                continue;
            }
            '\u{15}' => {
                if fields.pop() == Some(false) {
                    in_code -= 1;
                }
                continue;
            }
            _ => {}
        }
        if in_code > 0 {
            continue;
        }
        match c {
            // A run of cell marks: one alone ends a cell; of two or more, the last ends the
            // row (an empty cell before a row's end cannot be told from it: the row ends there).
            '\u{7}' => {
                let mut run = 1;
                while chars.get(i) == Some(&'\u{7}') {
                    run += 1;
                    i += 1;
                }
                out.push('\t');
                if run > 1 {
                    while out.ends_with('\t') {
                        out.pop();
                    }
                    out.push('\n');
                }
            }
            '\r' | '\u{b}' | '\u{c}' | '\u{e}' => out.push('\n'),
            '\u{1e}' => out.push('-'),
            '\t' => out.push('\t'),
            c if c < ' ' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn marks_become_lines_cells_and_field_results() {
        // Two paragraphs; a table of two rows (the second with an empty last cell); a link
        // field; a nested field inside a code; a page break, a picture and a note reference.
        let text = "走访记录\r第二段\r户主\u{7}问题\u{7}\u{7}刘德顺\u{7}开裂\u{7}\u{7}\u{7}\
                    详见\u{13} HYPERLINK \"http://x\" \u{14}公示\u{15}。\u{13}IF \u{13}PAGE\u{14}1\u{15} \u{15}\
                    \u{c}图\u{1}\u{8}注\u{2}完\r";
        assert_eq!(
            clean(&utf16(text)),
            "走访记录\n第二段\n户主\t问题\n刘德顺\t开裂\n详见公示。\n图注完\n"
        );
    }

    #[test]
    fn a_piece_table_maps_positions_to_utf16_and_compressed_bytes() {
        // WordDocument: "AB" compressed at byte 4, then "调研" in UTF-16 at byte 8.
        let mut word = vec![0u8; 8];
        word[4..6].copy_from_slice(b"A\x93");
        word.extend(utf16("调研").iter().flat_map(|u| u.to_le_bytes()));
        // A Clx: one formatting run (skipped), then a piece table of two pieces.
        let mut clx = vec![1, 2, 0, 0xAA, 0xBB, 2];
        let mut plc = Vec::new();
        for cp in [0u32, 2, 4] {
            plc.extend(cp.to_le_bytes());
        }
        for fc in [(4u32 * 2) | 0x4000_0000, 8] {
            plc.extend([0, 0]);
            plc.extend(fc.to_le_bytes());
            plc.extend([0, 0]);
        }
        clx.extend((plc.len() as u32).to_le_bytes());
        clx.extend(&plc);
        let ps = pieces(&clx).unwrap();
        assert_eq!(ps.len(), 2);
        assert!(ps[0].compressed && !ps[1].compressed);
        let units = characters(&word, &ps, 4, 1 << 20).unwrap();
        // 0x93 is a left double quotation mark in Windows-1252.
        assert_eq!(String::from_utf16(&units).unwrap(), "A\u{201c}调研");
        // Only as far as asked, and never beyond the cap.
        assert_eq!(characters(&word, &ps, 3, 1 << 20).unwrap().len(), 3);
        assert_eq!(characters(&word, &ps, 4, 1).unwrap().len(), 1);
        // A piece pointing past the stream is damage, not a panic.
        assert!(matches!(
            characters(&word[..9], &ps, 4, 1 << 20),
            Err(DocError::Corrupt(_))
        ));
        assert!(matches!(pieces(&[3, 0, 0]), Err(DocError::Corrupt(_))));
        assert!(matches!(
            pieces(&clx[..clx.len() - 3]),
            Err(DocError::Corrupt(_))
        ));
    }

    #[test]
    fn the_fib_tells_old_encrypted_and_short_files() {
        // A FIB: wIdent, nFib, flags; csw 14, cslw 22 (ccpText 5), 34 pairs (fcClx 7, lcbClx 9).
        let fib = |n_fib: u16, flags: u16| {
            let mut w = vec![0u8; 32];
            w[0..2].copy_from_slice(&W_IDENT.to_le_bytes());
            w[2..4].copy_from_slice(&n_fib.to_le_bytes());
            w[0x0A..0x0C].copy_from_slice(&flags.to_le_bytes());
            w.extend(14u16.to_le_bytes());
            w.extend([0; 28]);
            w.extend(22u16.to_le_bytes());
            let mut lw = [0u32; 22];
            lw[3] = 5;
            lw.iter().for_each(|v| w.extend(v.to_le_bytes()));
            w.extend(34u16.to_le_bytes());
            for i in 0..34u32 {
                let (fc, lcb): (u32, u32) = if i == 33 { (7, 9) } else { (0, 0) };
                w.extend(fc.to_le_bytes());
                w.extend(lcb.to_le_bytes());
            }
            w
        };
        let f = Fib::parse(&fib(WORD97, TABLE1)).unwrap();
        assert!(f.table1);
        assert_eq!((f.clx, f.parts[MAIN]), ((7, 9), 5));
        assert!(!Fib::parse(&fib(0x00C1, 0)).unwrap().table1);
        // Word 95 (nFib 104), a password to open, a cut header, another identifier.
        assert_eq!(Fib::parse(&fib(104, 0)).unwrap_err(), DocError::TooOld);
        assert_eq!(
            Fib::parse(&fib(WORD97, 0x0100)).unwrap_err(),
            DocError::Encrypted
        );
        assert!(matches!(
            Fib::parse(&fib(WORD97, 0)[..200]),
            Err(DocError::Corrupt(_))
        ));
        let mut other = fib(WORD97, 0);
        other[0] = 0;
        assert!(matches!(Fib::parse(&other), Err(DocError::Corrupt(_))));
    }

    #[test]
    fn not_a_compound_file_is_damage() {
        assert!(matches!(
            doc_text(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0legacy", 1 << 20),
            Err(DocError::Corrupt(_))
        ));
    }
}
