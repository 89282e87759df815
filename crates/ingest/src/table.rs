//! Tables (.csv, .xlsx, .jsonl): one row, one record.

use crate::config::{ColumnMap, Columns};
use crate::decode::decode;
use calamine::{Data, Reader};
use std::io::Cursor;

/// A table as rows of strings, with the spreadsheet row number of each row (1-based).
pub(crate) struct Sheet {
    /// The sheet name for workbooks with more than one sheet.
    pub name: Option<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// What reading a table gave: sheets, the encoding, and decoding replacements.
pub(crate) struct Table {
    pub sheets: Vec<Sheet>,
    pub encoding: &'static str,
    pub replaced: usize,
    /// Rows that could not be read (line number, why); the other rows still are.
    pub bad_rows: Vec<(usize, String)>,
}

/// One record of a table: its line number, and its cells or why they could not be read.
pub(crate) type Record = (usize, Result<Vec<String>, String>);

/// The records of a .csv/.tsv as they are parsed, never all held at once: (line number, cells
/// or why the record could not be read). Also the source encoding and replaced bytes.
pub(crate) fn csv_records(
    ext: &str,
    bytes: &[u8],
) -> (impl Iterator<Item = Record> + use<>, &'static str, usize) {
    let d = decode(bytes);
    let delim = if ext == "tsv" {
        b'\t'
    } else {
        sniff_delimiter(&d.text)
    };
    // Tab-separated exports do not quote fields; a stray quote is text, not a delimiter.
    let rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .quoting(delim != b'\t')
        .from_reader(Cursor::new(d.text.into_bytes()));
    let records = rdr.into_records().enumerate().map(|(i, rec)| {
        (
            i + 1,
            rec.map(|r| r.iter().map(str::to_owned).collect())
                .map_err(|e| format!("无法解析：{e}")),
        )
    });
    (records, d.encoding, d.replaced)
}

/// What [`xlsx_sheets`] calls per sheet: its name (when there are several) and its rows; returns
/// whether the sheet had a header.
pub(crate) type SheetFn<'a> =
    dyn FnMut(Option<&str>, &mut dyn Iterator<Item = Record>) -> bool + 'a;

/// Streams the rows of every sheet of a workbook to `each` (the sheet's name when there are
/// several, and its rows as they are parsed), never holding a sheet's cells: rows come from
/// calamine's cell reader, grouped as they arrive. Returns whether any call to `each` returned
/// true (found a header).
pub(crate) fn xlsx_sheets(
    bytes: &[u8],
    entry_limit: u64,
    each: &mut SheetFn<'_>,
) -> Result<bool, (&'static str, String)> {
    check_zip_entries(bytes, entry_limit)?;
    let mut wb: calamine::Xlsx<_> =
        calamine::Xlsx::new(Cursor::new(bytes)).map_err(|e| ("xlsx 已损坏", e.to_string()))?;
    let names = wb.sheet_names();
    let many = names.len() > 1;
    let mut found = false;
    for name in names {
        let reader = wb
            .worksheet_cells_reader(&name)
            .map_err(|e| ("xlsx 已损坏", format!("工作表「{name}」：{e}")))?;
        let mut rows = CellRows {
            reader,
            pending: None,
            failed: false,
        };
        found |= each(many.then_some(name.as_str()), &mut rows);
    }
    Ok(found)
}

/// Cells of a sheet, grouped into rows as the reader yields them (in row order).
struct CellRows<'a, RS: std::io::Read + std::io::Seek> {
    reader: calamine::XlsxCellReader<'a, RS>,
    /// A cell read past the end of the previous row: (row, column, text).
    pending: Option<(u32, u32, String)>,
    /// The sheet ended or could not be read further: the reader is not asked again.
    failed: bool,
}

impl<RS: std::io::Read + std::io::Seek> Iterator for CellRows<'_, RS> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        if self.failed && self.pending.is_none() {
            return None;
        }
        let mut row: Option<(u32, Vec<String>)> = None;
        let put = |row: &mut Option<(u32, Vec<String>)>, r: u32, c: u32, text: String| {
            let cells = &mut row.get_or_insert_with(|| (r, Vec::new())).1;
            let c = c as usize;
            // A cell beyond Excel's last column is damage, not data worth a huge row.
            if c < 16_384 {
                if cells.len() <= c {
                    cells.resize(c + 1, String::new());
                }
                cells[c] = text;
            }
        };
        if let Some((r, c, t)) = self.pending.take() {
            put(&mut row, r, c, t);
        }
        loop {
            match self.reader.next_cell() {
                Ok(Some(cell)) => {
                    let (r, c) = cell.get_position();
                    let text = cell_text(&calamine::Data::from(cell.get_value().clone()));
                    match &row {
                        Some((cur, _)) if *cur != r => {
                            self.pending = Some((r, c, text));
                            break;
                        }
                        _ => put(&mut row, r, c, text),
                    }
                }
                Ok(None) => {
                    self.failed = true;
                    break;
                }
                Err(e) => {
                    self.failed = true;
                    let at = row.as_ref().map_or(0, |(r, _)| *r as usize + 2);
                    return Some((at, Err(format!("之后无法读取：{e}"))));
                }
            }
        }
        row.map(|(r, cells)| (r as usize + 1, Ok(cells)))
    }
}

/// Reads a table file by extension. Errors are Chinese reasons with details.
pub(crate) fn read_table(
    ext: &str,
    bytes: &[u8],
    entry_limit: u64,
) -> Result<Table, (&'static str, String)> {
    match ext {
        "csv" | "tsv" => {
            let (records, encoding, replaced) = csv_records(ext, bytes);
            let rows = records
                .map(|(n, rec)| {
                    rec.map(|r| (n, r))
                        .map_err(|why| ("表格已损坏", format!("第 {n} 行{why}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Table {
                sheets: vec![Sheet { name: None, rows }],
                encoding,
                replaced,
                bad_rows: Vec::new(),
            })
        }
        "jsonl" => {
            let d = decode(bytes);
            let mut header: Vec<String> = Vec::new();
            let mut objects = Vec::new();
            let mut bad_rows = Vec::new();
            for (i, line) in d.text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                // A damaged line costs that line only.
                let map = match serde_json::from_str::<serde_json::Value>(line) {
                    Ok(serde_json::Value::Object(map)) => map,
                    Ok(_) => {
                        bad_rows.push((i + 1, "不是 JSON 对象".to_owned()));
                        continue;
                    }
                    Err(e) => {
                        bad_rows.push((i + 1, format!("不是有效的 JSON：{e}")));
                        continue;
                    }
                };
                for k in map.keys() {
                    if !header.contains(k) {
                        header.push(k.clone());
                    }
                }
                objects.push((i + 1, map));
            }
            let mut rows = vec![(0, header.clone())];
            for (n, map) in objects {
                let row = header
                    .iter()
                    .map(|k| match map.get(k) {
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(serde_json::Value::Null) | None => String::new(),
                        Some(v) => v.to_string(),
                    })
                    .collect();
                rows.push((n, row));
            }
            Ok(Table {
                sheets: vec![Sheet { name: None, rows }],
                encoding: d.encoding,
                replaced: d.replaced,
                bad_rows,
            })
        }
        // Through the cell reader, as submissions are: calamine's whole-sheet range is dense
        // (rows × columns), so one stray cell far out in a damaged roster asked for more memory
        // than the machine has.
        "xlsx" | "xlsm" => {
            let mut sheets = Vec::new();
            let mut bad_rows = Vec::new();
            xlsx_sheets(bytes, entry_limit, &mut |name, rows| {
                let mut good = Vec::new();
                for (n, row) in rows {
                    match row {
                        Ok(cells) => good.push((n, cells)),
                        Err(why) => bad_rows.push((n, why)),
                    }
                }
                sheets.push(Sheet {
                    name: name.map(str::to_owned),
                    rows: good,
                });
                false
            })?;
            // A roster or manifest is read whole or not at all (as before).
            if let Some((n, why)) = bad_rows.into_iter().next() {
                return Err(("xlsx 已损坏", format!("第 {n} 行{why}")));
            }
            Ok(Table {
                sheets,
                encoding: "xlsx",
                replaced: 0,
                bad_rows: Vec::new(),
            })
        }
        // Excel 97-2003 (BIFF8) and WPS's .et of the same make; one that is really an .xlsx is
        // read as one.
        "xls" | "et" if bytes.starts_with(b"PK\x03\x04") => read_table("xlsx", bytes, entry_limit),
        "xls" | "et" => {
            if !bytes.starts_with(crate::ole::MAGIC) {
                return Err(if ext == "et" {
                    et_of_wps()
                } else {
                    (
                        "xls 已损坏",
                        "不是 Excel 97-2003 工作簿；请用 Excel/WPS 打开后另存为 .xlsx".to_owned(),
                    )
                });
            }
            let clean = workbook_stream(ext, bytes, entry_limit)?;
            // calamine's BIFF reader can panic on a damaged workbook: contained here, one
            // file's cost (as the PDF reader's).
            std::panic::catch_unwind(|| {
                let wb = calamine::Xls::new(Cursor::new(&clean)).map_err(|e| match e {
                    calamine::XlsError::Password => xls_encrypted(),
                    e => xls_damaged(&e),
                })?;
                xls_table(wb)
            })
            .unwrap_or_else(|_| {
                Err((
                    "xls 已损坏",
                    "解析工作簿时出错；请用 Excel/WPS 打开后另存为 .xlsx".to_owned(),
                ))
            })
        }
        _ => Err(("不支持的类型", format!("不支持 .{ext} 表格"))),
    }
}

/// An Excel 97-2003 workbook that could not be read, and why.
fn xls_damaged(e: &dyn std::fmt::Display) -> (&'static str, String) {
    (
        "xls 已损坏",
        format!("无法读取（{e}）；请用 Excel/WPS 打开后另存为 .xlsx"),
    )
}

/// An Excel 97-2003 workbook with a password to open.
fn xls_encrypted() -> (&'static str, String) {
    ("xls 已加密", crate::ole::ENCRYPTED.to_owned())
}

/// A `.et` in WPS's own format (not Excel's).
fn et_of_wps() -> (&'static str, String) {
    ("不支持的类型", "WPS 专用格式，请另存为 .xlsx".to_owned())
}

/// The workbook stream of an Excel 97-2003 file (`ext` .xls or .et) alone in a compound file
/// written afresh: the container is read by the `cfb` crate, which refuses a damaged one
/// (calamine's own container reader grew a looping sector chain until memory ran out), and
/// calamine reads a well-formed copy, of version 3 (512-byte sectors; calamine read a small
/// stream of a version 4 file as an empty root directory).
fn workbook_stream(ext: &str, bytes: &[u8], limit: u64) -> Result<Vec<u8>, (&'static str, String)> {
    use std::io::Write;
    let mut cf = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| xls_damaged(&e))?;
    let Some(name) = ["/Workbook", "/Book"].into_iter().find(|n| cf.is_stream(n)) else {
        return Err(if cf.is_stream("/EncryptedPackage") {
            xls_encrypted()
        } else if ext == "et" {
            et_of_wps()
        } else if cf.is_stream("/WordDocument") {
            (
                "不是 Excel 工作簿",
                "扩展名为 .xls，内容却是 Word 文档；请核对文件".to_owned(),
            )
        } else {
            xls_damaged(&"没有工作簿数据流")
        });
    };
    let mut data = crate::ole::read_stream(&mut cf, name, limit).map_err(|e| match e {
        crate::ole::StreamError::TooLarge => (
            "文件过大",
            format!("工作簿数据超过 {} MB，已拒绝", limit >> 20),
        ),
        crate::ole::StreamError::Damaged(e) => xls_damaged(&e),
    })?;
    if !guard_biff(&mut data) {
        return Err(xls_damaged(
            &"单元格位置超出 Excel 97-2003 的范围（256 列）",
        ));
    }
    let mut out = cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))
        .map_err(|e| xls_damaged(&e))?;
    out.create_stream(name)
        .and_then(|mut s| s.write_all(&data))
        .and_then(|()| out.flush())
        .map_err(|e| xls_damaged(&e))?;
    Ok(out.into_inner().into_inner())
}

/// Guards calamine's BIFF reader against what a damaged workbook stream would make it
/// allocate, walking the records as it does (from the start, and from each sheet's offset in
/// its BoundSheet8 record): a sheet's cells become one dense range, rows × columns, so a cell
/// beyond column 256 (which Excel 97-2003 cannot write; rows are 16-bit) refuses the file; and
/// each Dimensions record is emptied (it only reserves room for that many cells, and a damaged
/// one asked for hundreds of gigabytes). Whether the stream may be read.
fn guard_biff(data: &mut [u8]) -> bool {
    use crate::ole::{u16_at, u32_at};
    let mut starts = vec![0usize];
    let mut walked = 0;
    while let Some(start) = starts.get(walked).copied() {
        walked += 1;
        let mut at = start;
        while let (Some(typ), Some(len)) = (u16_at(data, at), u16_at(data, at + 2)) {
            let body = at + 4;
            let end = body + usize::from(len);
            if end > data.len() {
                break;
            }
            let col = |d: &[u8]| u16_at(d, body + 2).unwrap_or(0);
            match typ {
                // Number, Label, RString, BoolErr, Rk, LabelSst, Formula: row, column first.
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006
                    if len >= 4 && col(data) > 0xFF =>
                {
                    return false;
                }
                // MulRk: the first column, then 6 bytes per cell.
                0x00BD if len >= 6 && usize::from(col(data)) + usize::from(len - 6) / 6 > 0x100 => {
                    return false;
                }
                // Dimensions: rows as 16 or 32 bits, then columns; emptied.
                0x0200 => data[body..end].fill(0),
                // BoundSheet8: the sheet's offset in the stream (walked once).
                0x0085 if len >= 4 && walked == 1 => {
                    let pos = u32_at(data, body).unwrap_or(0) as usize;
                    if !starts.contains(&pos) && starts.len() < 4096 {
                        starts.push(pos);
                    }
                }
                _ => {}
            }
            at = end;
        }
    }
    true
}

/// Every sheet of an Excel 97-2003 workbook as rows of cell texts.
fn xls_table(mut wb: calamine::Xls<Cursor<&Vec<u8>>>) -> Result<Table, (&'static str, String)> {
    let names = wb.sheet_names();
    let many = names.len() > 1;
    let mut sheets = Vec::new();
    for name in names {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| ("xls 已损坏", format!("工作表「{name}」：{e}")))?;
        let first_row = range.start().map_or(0, |(r, _)| r as usize);
        let rows = range
            .rows()
            .enumerate()
            .map(|(i, r)| (first_row + i + 1, r.iter().map(cell_text).collect()))
            .collect();
        sheets.push(Sheet {
            name: many.then(|| name.clone()),
            rows,
        });
    }
    Ok(Table {
        sheets,
        encoding: "xls",
        replaced: 0,
        bad_rows: Vec::new(),
    })
}

/// Refuses workbooks whose entries inflate beyond the cap before calamine reads them. The
/// declared size can lie, so every entry is inflated into a sink, never more than the cap.
fn check_zip_entries(bytes: &[u8], limit: u64) -> Result<(), (&'static str, String)> {
    use std::io::Read;
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ("xlsx 已损坏", e.to_string()))?;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| ("xlsx 已损坏", e.to_string()))?;
        let name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("第 {i} 项"));
        // Past `limit`, an entry may grow only as ordinary XML compresses (at most 100:1, up
        // to 4 GB): a million-row sheet is read (streamed), a zip bomb (1000:1 and more) is not.
        let cap = limit.max(entry.compressed_size().saturating_mul(100).min(4 << 30));
        let too_large = || {
            (
                "文件过大",
                format!(
                    "压缩包内 {name} 解压后超过 {} MB（压缩比异常），疑似压缩炸弹",
                    cap >> 20
                ),
            )
        };
        if entry.size() > cap {
            return Err(too_large());
        }
        let n = std::io::copy(&mut (&mut entry).take(cap + 1), &mut std::io::sink())
            .map_err(|e| ("xlsx 已损坏", e.to_string()))?;
        if n > cap {
            return Err(too_large());
        }
    }
    Ok(())
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{d:02}")
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("{e:?}"),
    }
}

fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let counts = [
        (b',', first.matches(',').count()),
        (b'\t', first.matches('\t').count()),
        (b';', first.matches(';').count()),
    ];
    counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n > 0)
        .map_or(b',', |(d, _)| *d)
}

/// Finds the header row (within the first 10 rows, with at least two filled cells, so that a
/// title row such as 群众意见汇总 is passed over) and its columns.
pub(crate) fn find_header(
    rows: &[(usize, Vec<String>)],
    map: &ColumnMap,
) -> Option<(usize, Columns)> {
    rows.iter()
        .take(10)
        .enumerate()
        .filter(|(_, (_, row))| row.iter().filter(|c| !c.trim().is_empty()).count() >= 2)
        .find_map(|(i, (_, row))| map.locate(row).map(|c| (i, c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_gbk_with_title_row() {
        let text = "石桥村群众意见汇总\n编号,反映人,村组,内容,点赞数\n1,王桂兰,三组,机耕路坑洼,5\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let t = read_table("csv", &gbk, 1 << 20).unwrap();
        assert_eq!(t.encoding, "GBK");
        let (i, cols) = find_header(&t.sheets[0].rows, &ColumnMap::default()).unwrap();
        assert_eq!(i, 1);
        assert_eq!(cols.content, Some(3));
        assert_eq!(cols.author, Some(1));
        assert_eq!(cols.id, Some(0));
        assert_eq!(cols.likes, Some(4));
        assert_eq!(cols.place, Some(2));
    }

    #[test]
    fn message_board_headers() {
        let header: Vec<String> = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let c = ColumnMap::default().locate(&header).unwrap();
        assert_eq!(c.id, Some(0));
        assert_eq!(c.author, Some(1));
        assert_eq!(c.title, Some(2));
        assert_eq!(c.date, Some(3));
        assert_eq!(c.content, Some(4));
    }

    /// Past the entry limit, an entry is read only when it compresses like ordinary XML.
    #[test]
    fn zip_entries_past_the_limit_need_an_ordinary_ratio() {
        let zip_of = |data: &[u8]| {
            let mut bytes = Vec::new();
            let mut z = zip::ZipWriter::new(Cursor::new(&mut bytes));
            let o = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            z.start_file("xl/worksheets/sheet1.xml", o).unwrap();
            std::io::Write::write_all(&mut z, data).unwrap();
            z.finish().unwrap();
            bytes
        };
        // 8 MB of one byte: a bomb's ratio.
        let bomb = zip_of(&vec![b' '; 8 << 20]);
        let (reason, _) = check_zip_entries(&bomb, 1 << 20).unwrap_err();
        assert_eq!(reason, "文件过大");
        // 2 MB of rows that compress like real ones: read, though past a 1 MB limit.
        let rows: String = (0..40_000)
            .map(|i| format!("<row r=\"{i}\"><c><v>{}</v></c></row>", i * 7919 % 100_003))
            .collect();
        assert!(rows.len() > 1 << 20);
        assert!(check_zip_entries(&zip_of(rows.as_bytes()), 1 << 20).is_ok());
    }

    /// A BIFF record: type, length, body.
    fn record(typ: u16, body: &[u8]) -> Vec<u8> {
        let mut r = typ.to_le_bytes().to_vec();
        r.extend((body.len() as u16).to_le_bytes());
        r.extend(body);
        r
    }

    #[test]
    fn biff_cells_past_excel_97_columns_refuse_the_stream() {
        // Globals: a BoundSheet8 pointing at the sheet, then EOF; the sheet: Dimensions asking
        // for 4 billion rows, then a Number cell.
        let number = |col: u16| {
            let mut b = vec![5, 0];
            b.extend(col.to_le_bytes());
            b.extend([0; 10]);
            record(0x0203, &b)
        };
        let sheet_at = |globals_len: usize| {
            let mut b = (globals_len as u32).to_le_bytes().to_vec();
            b.extend([0, 0, 1, 0x41]);
            b
        };
        let build = |col: u16| {
            let globals_len = record(0x0085, &sheet_at(0)).len() + record(0x000A, &[]).len();
            let mut s = record(0x0085, &sheet_at(globals_len));
            s.extend(record(0x000A, &[]));
            s.extend(record(
                0x0200,
                &[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0xFF, 0, 0, 0],
            ));
            s.extend(number(col));
            s.extend(record(0x000A, &[]));
            s
        };
        let mut ok = build(0xFF);
        assert!(guard_biff(&mut ok));
        // The Dimensions record emptied, the rest untouched.
        let dims = ok.windows(4).position(|w| w == [0, 2, 14, 0]).unwrap();
        assert!(ok[dims + 4..dims + 18].iter().all(|&b| b == 0));
        assert_eq!(ok.len(), build(0xFF).len());
        assert!(!guard_biff(&mut build(0x100)));
        // A MulRk running past column 256.
        let mut mul = vec![0, 0, 0xFE, 0];
        mul.extend([0; 18]);
        mul.extend(0x0100u16.to_le_bytes());
        assert!(!guard_biff(&mut record(0x00BD, &mul)));
        // Cut records end the walk without a panic.
        assert!(guard_biff(&mut build(0x100)[..9]));
    }

    #[test]
    fn jsonl_rows() {
        let text = "{\"id\": 7, \"body\": \"路灯坏了\"}\n\n{\"id\": 8, \"body\": \"垃圾没人清\", \"extra\": null}\n";
        let t = read_table("jsonl", text.as_bytes(), 1 << 20).unwrap();
        let rows = &t.sheets[0].rows;
        assert_eq!(rows[0].1, vec!["id", "body", "extra"]);
        assert_eq!(rows[1].1[1], "路灯坏了");
        assert_eq!(
            rows[2],
            (3, vec!["8".into(), "垃圾没人清".into(), String::new()])
        );
        // A damaged line costs that line; the rest are read.
        let text = "{\"body\": \"甲\"}\n{\"body\": \n[1, 2]\n{\"body\": \"乙\"}\n";
        let t = read_table("jsonl", text.as_bytes(), 1 << 20).unwrap();
        assert_eq!(t.sheets[0].rows.len(), 3);
        let bad: Vec<usize> = t.bad_rows.iter().map(|r| r.0).collect();
        assert_eq!(bad, [2, 3]);
    }
}
