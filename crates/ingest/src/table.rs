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
        "xlsx" | "xlsm" => {
            check_zip_entries(bytes, entry_limit)?;
            let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
                .map_err(|e| ("xlsx 已损坏", e.to_string()))?;
            let names = wb.sheet_names();
            let many = names.len() > 1;
            let mut sheets = Vec::new();
            for name in names {
                let range = wb
                    .worksheet_range(&name)
                    .map_err(|e| ("xlsx 已损坏", format!("工作表「{name}」：{e}")))?;
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
                encoding: "xlsx",
                replaced: 0,
                bad_rows: Vec::new(),
            })
        }
        _ => Err(("不支持的类型", format!("不支持 .{ext} 表格"))),
    }
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
