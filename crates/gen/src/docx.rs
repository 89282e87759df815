//! A minimal .docx writer for generated material: paragraphs, and tables written as `\t`-separated
//! lines (each line a row, each `\t`-separated part a cell). Runs are split at random-free fixed
//! points so that readers must join runs without adding spaces.

use std::io::Write;

/// Builds a .docx from lines. A line containing `\t` becomes a table row; consecutive such lines
/// form one table. Every paragraph's text is split into two runs when longer than 6 characters.
pub fn docx_bytes(lines: &[String]) -> Vec<u8> {
    let mut body = String::new();
    let mut in_table = false;
    for line in lines {
        if line.contains('\t') {
            if !in_table {
                body.push_str("<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/></w:tblPr>");
                in_table = true;
            }
            body.push_str("<w:tr>");
            for cell in line.split('\t') {
                body.push_str("<w:tc>");
                body.push_str(&paragraph(cell));
                body.push_str("</w:tc>");
            }
            body.push_str("</w:tr>");
        } else {
            if in_table {
                body.push_str("</w:tbl>");
                in_table = false;
            }
            body.push_str(&paragraph(line));
        }
    }
    if in_table {
        body.push_str("</w:tbl>");
    }
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}<w:sectPr/></w:body></w:document>"
    );
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default());
        let parts: [(&str, &str); 3] = [
            (
                "[Content_Types].xml",
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
<Default Extension=\"xml\" ContentType=\"application/xml\"/>\
<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
</Types>",
            ),
            (
                "_rels/.rels",
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
</Relationships>",
            ),
            ("word/document.xml", &document),
        ];
        for (name, content) in parts {
            // Writing to memory cannot fail short of allocation failure.
            zip.start_file(name, opts).expect("in-memory zip");
            zip.write_all(content.as_bytes()).expect("in-memory zip");
        }
        zip.finish().expect("in-memory zip");
    }
    buf.into_inner()
}

fn paragraph(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let runs: Vec<String> = if chars.len() > 6 {
        let mid = chars.len() / 2;
        vec![chars[..mid].iter().collect(), chars[mid..].iter().collect()]
    } else {
        vec![text.to_owned()]
    };
    let mut p = String::from("<w:p>");
    for r in runs {
        p.push_str("<w:r><w:t xml:space=\"preserve\">");
        p.push_str(&escape(&r));
        p.push_str("</w:t></w:r>");
    }
    p.push_str("</w:p>");
    p
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
