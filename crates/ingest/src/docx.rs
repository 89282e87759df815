//! Word .docx text: paragraphs in order, runs joined without added spaces, tables row by row.

use quick_xml::Reader;
use quick_xml::events::Event;
use std::io::{Cursor, Read};

/// Why a .docx could not be read.
#[derive(Debug)]
pub(crate) enum DocxError {
    /// Not a zip archive, or a damaged one.
    Corrupt(String),
    /// An entry inflates beyond the cap (a zip bomb or an enormous document).
    TooLarge { entry: String, limit: u64 },
    /// The archive has no `word/document.xml`.
    NoDocument,
}

/// Reads one zip entry, refusing it when its declared or actual inflated size exceeds `limit`.
pub(crate) fn read_entry(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: u64,
) -> Result<Option<Vec<u8>>, DocxError> {
    let mut file = match archive.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(DocxError::Corrupt(e.to_string())),
    };
    if file.size() > limit {
        return Err(DocxError::TooLarge {
            entry: name.to_owned(),
            limit,
        });
    }
    // The declared size can lie: never read more than the cap plus one byte.
    let mut buf = Vec::with_capacity(file.size() as usize);
    (&mut file)
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| DocxError::Corrupt(e.to_string()))?;
    if buf.len() as u64 > limit {
        return Err(DocxError::TooLarge {
            entry: name.to_owned(),
            limit,
        });
    }
    Ok(Some(buf))
}

/// Extracts the text of a .docx held in memory: the body, then footnotes and endnotes.
pub(crate) fn docx_text(bytes: &[u8], limit: u64) -> Result<String, DocxError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| DocxError::Corrupt(e.to_string()))?;
    let xml = read_entry(&mut archive, "word/document.xml", limit)?.ok_or(DocxError::NoDocument)?;
    let mut text = document_text(&xml).map_err(DocxError::Corrupt)?;
    for part in ["word/footnotes.xml", "word/endnotes.xml"] {
        let Some(xml) = read_entry(&mut archive, part, limit)? else {
            continue;
        };
        // Notes are read after the body; a damaged notes part costs the notes, not the file.
        let Ok(notes) = document_text(&xml) else {
            continue;
        };
        for line in notes.lines().filter(|l| !l.trim().is_empty()) {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(line);
            text.push('\n');
        }
    }
    Ok(text)
}

/// Where text goes: the innermost text box being read, else the body.
fn target<'a>(boxes: &'a mut [String], out: &'a mut String) -> &'a mut String {
    boxes.last_mut().unwrap_or(out)
}

/// Walks `word/document.xml` (or a notes part). Paragraphs end with `\n`; inside a table, cells
/// of a row are joined by `\t` and the row ends with `\n`; `<w:tab/>` is a tab and `<w:br/>` a
/// line break. Deleted revisions (`w:delText`) and field codes (`w:instrText`) are not text. A
/// text box (`w:txbxContent`) is read once, as its own paragraphs after the paragraph that
/// anchors it: Word stores each box twice, the `mc:Fallback` copy (VML) is skipped.
fn document_text(xml: &[u8]) -> Result<String, String> {
    let mut reader = Reader::from_reader(xml);
    let mut out = String::new();
    // Text of the text boxes being read (innermost last), and finished boxes waiting for their
    // anchor paragraph to end.
    let mut boxes: Vec<String> = Vec::new();
    let mut pending = String::new();
    let mut buf = Vec::new();
    let mut in_text = false;
    let mut fallback = 0usize;
    let mut table_depth = 0usize;
    let mut cell_has_text = false;
    loop {
        let event = reader.read_event_into(&mut buf);
        // Inside an mc:Fallback only its nesting is tracked.
        if fallback > 0 {
            match &event {
                Ok(Event::Start(e)) if e.local_name().as_ref() == "Fallback" => fallback += 1,
                Ok(Event::End(e)) if e.local_name().as_ref() == "Fallback" => fallback -= 1,
                Ok(Event::Eof) => break,
                Err(e) => {
                    return Err(format!("XML 错误（位置 {}）：{e}", reader.error_position()));
                }
                _ => {}
            }
            buf.clear();
            continue;
        }
        match event {
            Ok(Event::Start(e)) => match e.local_name().as_ref() {
                "t" => in_text = true,
                "tbl" => table_depth += 1,
                "tc" => cell_has_text = false,
                "Fallback" => fallback = 1,
                "txbxContent" => boxes.push(String::new()),
                _ => {}
            },
            Ok(Event::Empty(e)) => match e.local_name().as_ref() {
                "tab" => target(&mut boxes, &mut out).push('\t'),
                "br" | "cr" => target(&mut boxes, &mut out).push('\n'),
                _ => {}
            },
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "txbxContent" => {
                    if let Some(b) = boxes.pop() {
                        let sink = boxes.last_mut().unwrap_or(&mut pending);
                        for line in b.lines().filter(|l| !l.trim().is_empty()) {
                            sink.push_str(line);
                            sink.push('\n');
                        }
                    }
                }
                "p" if !boxes.is_empty() => {
                    let t = target(&mut boxes, &mut out);
                    if !t.ends_with('\n') {
                        t.push('\n');
                    }
                }
                "p" => {
                    if table_depth == 0 {
                        out.push('\n');
                    } else if cell_has_text && !out.ends_with(['\t', '\n']) {
                        // A second paragraph in the same cell: keep it on its own line.
                        out.push('\n');
                    }
                    if !pending.is_empty() {
                        if !out.ends_with('\n') {
                            out.push('\n');
                        }
                        out.push_str(&pending);
                        pending.clear();
                    }
                }
                "tc" => {
                    while out.ends_with('\n') && table_depth > 0 && cell_has_text {
                        out.pop();
                    }
                    out.push('\t');
                }
                "tr" => {
                    while out.ends_with('\t') {
                        out.pop();
                    }
                    out.push('\n');
                }
                "tbl" => table_depth = table_depth.saturating_sub(1),
                _ => {}
            },
            Ok(Event::Text(t)) if in_text => {
                let s = t.xml10_content();
                if !s.is_empty() && boxes.is_empty() {
                    cell_has_text = true;
                }
                target(&mut boxes, &mut out).push_str(&s);
            }
            Ok(Event::GeneralRef(r)) if in_text => {
                let name: &str = &r;
                let s = match name {
                    "amp" => "&".to_owned(),
                    "lt" => "<".to_owned(),
                    "gt" => ">".to_owned(),
                    "quot" => "\"".to_owned(),
                    "apos" => "'".to_owned(),
                    other => match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => format!("&{other};"),
                    },
                };
                if boxes.is_empty() {
                    cell_has_text = true;
                }
                target(&mut boxes, &mut out).push_str(&s);
            }
            Ok(Event::Eof) => break,
            Err(e) => {
                return Err(format!("XML 错误（位置 {}）：{e}", reader.error_position()));
            }
            _ => {}
        }
        buf.clear();
    }
    // A box whose anchor paragraph never closed (a damaged file) is still read.
    for b in boxes {
        out.push_str(&b);
    }
    out.push_str(&pending);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_join_without_spaces_and_tables_keep_rows() {
        let xml = r#"<?xml version="1.0"?><w:document xmlns:w="w"><w:body>
<w:p><w:r><w:t>蹲点</w:t></w:r><w:r><w:t xml:space="preserve">手记 </w:t></w:r><w:r><w:t>第一天</w:t></w:r></w:p>
<w:p><w:r><w:t>A&amp;B</w:t><w:tab/><w:t>x</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>姓名</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>张伟</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p><w:r><w:t>意见</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>修路</w:t></w:r></w:p><w:p><w:r><w:t>通水</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><w:delText>删掉的</w:delText><w:t>结尾</w:t></w:r></w:p>
</w:body></w:document>"#;
        let text = document_text(xml.as_bytes()).unwrap();
        assert_eq!(
            text,
            "蹲点手记 第一天\nA&B\tx\n姓名\t张伟\n意见\t修路\n通水\n结尾\n"
        );
    }

    /// Issue 11.8: Word writes a text box twice (mc:Choice, and a VML copy in mc:Fallback). It
    /// is read once, as its own paragraph after its anchor paragraph, not glued to its last word.
    #[test]
    fn a_text_box_is_read_once_as_its_own_paragraph() {
        let xml = r#"<w:document xmlns:w="w" xmlns:mc="mc" xmlns:wps="wps" xmlns:v="v"><w:body>
<w:p><w:r><w:t>走访了困难农户。</w:t></w:r><w:r><mc:AlternateContent>
<mc:Choice Requires="wps"><w:drawing><wps:wsp><wps:txbx><w:txbxContent>
<w:p><w:r><w:t>全村共312户</w:t></w:r><w:r><w:t>1046人。</w:t></w:r></w:p><w:p><w:r><w:t>低保户17户。</w:t></w:r></w:p>
</w:txbxContent></wps:txbx></wps:wsp></w:drawing></mc:Choice>
<mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent>
<w:p><w:r><w:t>全村共312户1046人。</w:t></w:r></w:p><w:p><w:r><w:t>低保户17户。</w:t></w:r></w:p>
</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r><w:r><w:t>ANCHOR</w:t></w:r></w:p>
<w:p><w:r><w:t>下一段。</w:t></w:r></w:p>
</w:body></w:document>"#;
        let text = document_text(xml.as_bytes()).unwrap();
        assert_eq!(
            text,
            "走访了困难农户。ANCHOR\n全村共312户1046人。\n低保户17户。\n下一段。\n"
        );
    }

    /// Footnotes and endnotes come after the body; the separator notes add nothing.
    #[test]
    fn notes_follow_the_body() {
        let doc = r#"<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>正文。</w:t></w:r></w:p></w:body></w:document>"#;
        let foot = r#"<w:footnotes xmlns:w="w"><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>
<w:footnote w:id="1"><w:p><w:r><w:t>数据来自村委会台账。</w:t></w:r></w:p></w:footnote></w:footnotes>"#;
        let end = r#"<w:endnotes xmlns:w="w"><w:endnote w:id="1"><w:p><w:r><w:t>尾注一。</w:t></w:r></w:p></w:endnote></w:endnotes>"#;
        let mut bytes = Vec::new();
        {
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
            let o = zip::write::SimpleFileOptions::default();
            for (name, xml) in [
                ("word/document.xml", doc),
                ("word/footnotes.xml", foot),
                ("word/endnotes.xml", end),
            ] {
                zip.start_file(name, o).unwrap();
                std::io::Write::write_all(&mut zip, xml.as_bytes()).unwrap();
            }
            zip.finish().unwrap();
        }
        assert_eq!(
            docx_text(&bytes, 1 << 20).unwrap(),
            "正文。\n数据来自村委会台账。\n尾注一。\n"
        );
    }
}
