//! Property tests: every reader on random and mutated bytes (issue 11.5). No reader may panic,
//! every refusal names a reason, and what comes out is bounded by what went in.
//!
//! The budget is short by default (CI); set `DIAOYAN_FUZZ_MS` for a longer run by hand, e.g.
//! `DIAOYAN_FUZZ_MS=600000 cargo test -p diaoyan-ingest --release fuzz -- --nocapture`.

use crate::{Found, IngestConfig, read_bytes};
use arbtest::arbitrary::{Result, Unstructured};
use std::io::Write;

/// Every extension a reader is chosen by.
const EXTS: &[&str] = &[
    "txt", "md", "docx", "doc", "wps", "rtf", "mht", "csv", "tsv", "xlsx", "xls", "et", "jsonl",
    "pdf", "",
];

fn budget_ms() -> u64 {
    std::env::var("DIAOYAN_FUZZ_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
    for (name, data) in parts {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
    bytes
}

/// Well-formed files of every kind, the seeds mutation starts from.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let text = "蹲点第二天，走访石桥村困难户5户。群众反映三组机耕路坑洼不平，电话13812345678。";
    let doc = format!(
        r#"<w:document xmlns:w="w" xmlns:mc="mc"><w:body><w:p><w:r><w:t>{text}</w:t></w:r><w:r><mc:AlternateContent><mc:Choice><w:txbxContent><w:p><w:r><w:t>全村312户</w:t></w:r></w:p></w:txbxContent></mc:Choice><mc:Fallback><w:txbxContent><w:p><w:r><w:t>全村312户</w:t></w:r></w:p></w:txbxContent></mc:Fallback></mc:AlternateContent></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>户主</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>王桂兰</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:body></w:document>"#
    );
    let docx = zip_of(&[
        ("word/document.xml", doc.as_bytes()),
        (
            "word/footnotes.xml",
            r#"<w:footnotes xmlns:w="w"><w:footnote w:id="1"><w:p><w:r><w:t>注</w:t></w:r></w:p></w:footnote></w:footnotes>"#
                .as_bytes(),
        ),
    ]);
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["编号", "姓名", "留言时间", "意见建议"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_number(1, 0, 1.0).unwrap();
    ws.write_string(1, 1, "王桂兰").unwrap();
    ws.write_string(1, 2, "2019/2/28 11:25:05").unwrap();
    ws.write_string(1, 3, text).unwrap();
    let xlsx = wb.save_to_buffer().unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    vec![
        ("txt", text.as_bytes().to_vec()),
        ("txt", encoding_rs::GBK.encode(text).0.into_owned()),
        ("txt", utf16),
        ("md", format!("# 标题\n\n{text}").into_bytes()),
        ("docx", docx),
        ("xlsx", xlsx),
        (
            "csv",
            format!("编号,姓名,意见建议,点赞数\n1,王桂兰,\"{text}\",3\n2,李长贵,,\n").into_bytes(),
        ),
        (
            "tsv",
            format!("留言编号\t留言主题\t留言时间\t留言详情\n1\t路灯\t43524.4\t{text}\n")
                .into_bytes(),
        ),
        (
            "pdf",
            crate::pdf::tests::cid_pdf(&[
                &["全村共有农户312户，", "人均耕地0.6亩。"],
                &["三组机耕路塌方。"],
            ]),
        ),
        (
            "jsonl",
            format!("{{\"留言编号\": 1, \"留言详情\": \"{text}\"}}\n{{\"bad\": \n").into_bytes(),
        ),
        // Word and Excel 97-2003, as LibreOffice writes them (testdata/README.md).
        ("doc", include_bytes!("../testdata/note.doc").to_vec()),
        ("xls", include_bytes!("../testdata/opinions.xls").to_vec()),
        // RTF and a web page as office systems export "Word" (.doc).
        ("doc", include_bytes!("../testdata/note.rtf").to_vec()),
        ("doc", include_bytes!("../testdata/note.html").to_vec()),
        (
            "mht",
            format!(
                "MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"b1\"\r\n\r\n--b1\r\n\
                 Content-Type: text/html; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
                 <html><body><p>{text}</p><table><tr><td>=E6=88=B7</td><td>x=\r\ny</td></tr></table></body></html>\r\n--b1--\r\n"
            )
            .into_bytes(),
        ),
    ]
}

/// A mutation of `seed`: flipped bytes, a cut, an inserted run, a duplicated slice.
fn mutate(u: &mut Unstructured, seed: &[u8]) -> Result<Vec<u8>> {
    let mut b = seed.to_vec();
    for _ in 0..u.int_in_range(1..=6)? {
        let len = b.len();
        match u.int_in_range(0..=4)? {
            0 if len > 0 => {
                let i = u.choose_index(len)?;
                b[i] = u.arbitrary()?;
            }
            1 if len > 0 => {
                let i = u.choose_index(len)?;
                b.truncate(i);
            }
            2 => {
                let i = u.int_in_range(0..=len)?;
                let n = u.int_in_range(0..=64)?;
                let chunk: Vec<u8> = (0..n).map(|_| u.arbitrary()).collect::<Result<_>>()?;
                b.splice(i..i, chunk);
            }
            3 if len > 1 => {
                let a = u.choose_index(len)?;
                let e = u.int_in_range(a..=len.min(a + 256))?;
                let slice = b[a..e].to_vec();
                let at = u.int_in_range(0..=b.len())?;
                b.splice(at..at, slice);
            }
            _ => {}
        }
    }
    Ok(b)
}

/// Runs every reader chosen by `ext` on `bytes` and checks the properties.
fn check(ext: &str, bytes: &[u8]) {
    let cfg = IngestConfig {
        max_entry_bytes: 1 << 20,
        ..IngestConfig::default()
    };
    let f = Found {
        abs: std::path::PathBuf::from(format!("fuzz.{ext}")),
        rel: format!("fuzz.{ext}"),
    };
    let (subs, errors) = read_bytes(&f, ext, bytes, &cfg);
    for e in &errors {
        assert!(
            !e.reason.trim().is_empty(),
            "{ext}: error without a reason: {e:?}"
        );
        assert!(e.path.starts_with("fuzz."), "{e:?}");
    }
    // Bounded by the input: a decoded text is at most 3 bytes per input byte, and a zip
    // entry inflates to at most the cap per part read.
    let cap = 3 * bytes.len().max(3 * cfg.max_entry_bytes as usize);
    let total: usize = subs.iter().map(|(s, _)| s.text.len()).sum();
    assert!(
        total <= cap,
        "{ext}: {total} bytes of text from {} bytes",
        bytes.len()
    );
    for (s, _) in &subs {
        assert!(!s.text.trim().is_empty(), "{ext}: an empty submission");
        assert!(
            !s.text.contains("13812345678"),
            "{ext}: unmasked phone in {:?}",
            s.text
        );
    }
    assert!(
        !subs.is_empty() || !errors.is_empty(),
        "{ext}: {} bytes neither read nor refused",
        bytes.len()
    );
}

#[test]
fn fuzz_seeds_are_read() {
    for (ext, bytes) in seeds() {
        let f = Found {
            abs: format!("seed.{ext}").into(),
            rel: format!("seed.{ext}"),
        };
        let (subs, errors) = read_bytes(&f, ext, &bytes, &IngestConfig::default());
        assert!(!subs.is_empty(), "{ext}: {errors:?}");
    }
}

#[test]
fn fuzz_mutated_files() {
    let seeds = seeds();
    arbtest::arbtest(|u| {
        let (ext, seed) = &seeds[u.choose_index(seeds.len())?];
        let bytes = mutate(u, seed)?;
        check(ext, &bytes);
        // The same bytes under another name: a renamed file takes another reader.
        check(EXTS[u.choose_index(EXTS.len())?], &bytes);
        Ok(())
    })
    .budget_ms(budget_ms());
}

#[test]
fn fuzz_random_bytes() {
    arbtest::arbtest(|u| {
        let ext = EXTS[u.choose_index(EXTS.len())?];
        let n = u.int_in_range(0..=4096)?;
        let mut bytes: Vec<u8> = (0..n).map(|_| u.arbitrary()).collect::<Result<_>>()?;
        // Often start like a zip or a compound file, so the readers get past the magic.
        match u.int_in_range(0..=3)? {
            0 | 1 => {}
            2 => drop(bytes.splice(0..0, *b"PK\x03\x04")),
            _ => drop(bytes.splice(0..0, crate::ole::MAGIC.iter().copied())),
        }
        check(ext, &bytes);
        Ok(())
    })
    .budget_ms(budget_ms() / 2);
}
