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

/// Extracts the text of a .docx held in memory.
pub(crate) fn docx_text(bytes: &[u8], limit: u64) -> Result<String, DocxError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| DocxError::Corrupt(e.to_string()))?;
    let xml = read_entry(&mut archive, "word/document.xml", limit)?.ok_or(DocxError::NoDocument)?;
    document_text(&xml).map_err(DocxError::Corrupt)
}

/// Walks `word/document.xml`. Paragraphs end with `\n`; inside a table, cells of a row are joined
/// by `\t` and the row ends with `\n`; `<w:tab/>` is a tab and `<w:br/>` a line break. Deleted
/// revisions (`w:delText`) and field codes (`w:instrText`) are not text.
fn document_text(xml: &[u8]) -> Result<String, String> {
    let mut reader = Reader::from_reader(xml);
    let mut out = String::new();
    let mut buf = Vec::new();
    let mut in_text = false;
    let mut table_depth = 0usize;
    let mut cell_has_text = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => match e.local_name().as_ref() {
                "t" => in_text = true,
                "tbl" => table_depth += 1,
                "tc" => cell_has_text = false,
                _ => {}
            },
            Ok(Event::Empty(e)) => match e.local_name().as_ref() {
                "tab" => out.push('\t'),
                "br" | "cr" => out.push('\n'),
                _ => {}
            },
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" => {
                    if table_depth == 0 {
                        out.push('\n');
                    } else if cell_has_text && !out.ends_with(['\t', '\n']) {
                        // A second paragraph in the same cell: keep it on its own line.
                        out.push('\n');
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
                if !s.is_empty() {
                    cell_has_text = true;
                }
                out.push_str(&s);
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
                cell_has_text = true;
                out.push_str(&s);
            }
            Ok(Event::Eof) => break,
            Err(e) => {
                return Err(format!("XML 错误（位置 {}）：{e}", reader.error_position()));
            }
            _ => {}
        }
        buf.clear();
    }
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
}
