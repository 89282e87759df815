//! The Excel workbook, written directly: each sheet's XML is made from its rows into a deflate
//! stream as they come, and the workbook's zip container is written around the sheets.
//!
//! rust_xlsxwriter's constant-memory sheets did the same job at about a quarter of the speed
//! (100,000 generated documents, 0.2 M rows: 3.4 s): each row went through a map of cells and
//! `fmt` into a temporary file, which was read back and compressed when the workbook was saved.
//! Here a row's cells are written as bytes into a buffer that is compressed a block at a time,
//! and nothing goes to a temporary file. A sheet's XML is the same, byte for byte, as
//! rust_xlsxwriter's for the same rows (a test compares them): cells, numbers, escapes, column
//! widths, frozen header, filter.
//!
//! A sheet's column widths follow its longest cells and the `<cols>` list comes before the rows
//! in the XML, so the rows are compressed on their own first and the sheet's head — dimension,
//! panes, widths — after them, into a deflate stream of its own ended with a sync flush (not
//! final, ending on a byte boundary). The head's stream followed by the rows' is one valid
//! deflate stream of the whole sheet; its CRC-32 is the two parts' combined.

use crate::Sheet;
use std::io::{self, Write};

/// The zip compression level (zlib's scale). At 100,000 generated documents (190 MB of sheet
/// XML) `diaoyan.xlsx` took 2.4, 2.1 and 1.65 s to write at levels 3, 2 and 1, and weighed 25,
/// 27 and 35 MB: level 2 costs 8 % more disk for an eighth less time; level 1 saves a little
/// more time for 40 % more disk.
const ZIP_LEVEL: u32 = 2;

/// Rows are compressed in blocks of about this many bytes of XML.
const BLOCK: usize = 1 << 17;

/// Column width limits in Excel's character units: the widest a column is set (a cell's width is
/// counted up to `MAX_CELL_WIDTH`, and two are added for the filter button).
const MAX_CELL_WIDTH: usize = 80;
const MAX_COLUMN_WIDTH: f64 = 82.0;

/// Cell formats, as numbered in `styles.xml`: the header's bold, long texts wrapped.
const BOLD: u32 = 1;
const WRAP: u32 = 2;

/// Excel's limits on rows and columns in a sheet.
const EXCEL_ROWS: usize = 1_048_576;
const EXCEL_COLUMNS: usize = 16_384;

const XML_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PKG_REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";

/// Writes `tables` as the sheets of one workbook to `out`, created at `created`
/// (`YYYY-MM-DDTHH:MM:SSZ`).
pub(crate) fn write(out: &mut dyn Write, tables: &[&dyn Sheet], created: &str) -> io::Result<()> {
    // A workbook has at least one sheet (Excel refuses one without): none given, one empty.
    let blank = crate::Table::default();
    let only_blank: [&dyn Sheet; 1] = [&blank];
    let tables = if tables.is_empty() {
        &only_blank[..]
    } else {
        tables
    };
    let names = sheet_names(tables);
    let mut zip = Zip::new(out);
    zip.add_xml("[Content_Types].xml", &content_types(tables.len()))?;
    zip.add_xml("_rels/.rels", &package_rels())?;
    zip.add_xml("docProps/app.xml", &app_props(&names))?;
    zip.add_xml("docProps/core.xml", &core_props(created))?;
    zip.add_xml("xl/workbook.xml", &workbook(tables, &names))?;
    zip.add_xml("xl/_rels/workbook.xml.rels", &workbook_rels(tables.len()))?;
    zip.add_xml("xl/styles.xml", STYLES.as_bytes())?;
    for (i, t) in tables.iter().enumerate() {
        let sheet = sheet(*t, i == 0)?;
        zip.add_deflated(&format!("xl/worksheets/sheet{}.xml", i + 1), &sheet)?;
    }
    zip.finish()
}

/// Each sheet's name as Excel allows it: at most 31 characters, none of `[]:*?/\`, not starting
/// or ending with an apostrophe, not empty, and unique (Excel compares names ignoring case; a
/// repeated name gets a number).
fn sheet_names(tables: &[&dyn Sheet]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(tables.len());
    for (i, t) in tables.iter().enumerate() {
        let clean: String = t
            .name()
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .collect::<String>()
            .trim_matches('\'')
            .chars()
            .take(31)
            .collect();
        let base = if clean.is_empty() {
            format!("Sheet{}", i + 1)
        } else {
            clean
        };
        let taken = |n: &str| names.iter().any(|m| m.to_lowercase() == n.to_lowercase());
        let mut name = base.clone();
        let mut k = 2;
        while taken(&name) {
            let suffix = format!("({k})");
            let keep = 31 - suffix.chars().count();
            name = base.chars().take(keep).collect::<String>() + &suffix;
            k += 1;
        }
        names.push(name);
    }
    names
}

/// A sheet's whole XML, compressed: the head's deflate stream and the rows' (see the module
/// notes), with the CRC-32 and length of the XML.
struct Deflated {
    data: Vec<u8>,
    crc: u32,
    len: u64,
}

/// Bytes going into a raw deflate stream, their CRC-32 and count kept as they pass.
struct Compressor {
    enc: flate2::write::DeflateEncoder<Vec<u8>>,
    crc: crc32fast::Hasher,
    len: u64,
}

impl Compressor {
    fn new() -> Compressor {
        Compressor {
            enc: flate2::write::DeflateEncoder::new(
                Vec::new(),
                flate2::Compression::new(ZIP_LEVEL),
            ),
            crc: crc32fast::Hasher::new(),
            len: 0,
        }
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.crc.update(bytes);
        self.len += bytes.len() as u64;
        self.enc.write_all(bytes)
    }

    /// The stream ended with a final block: a whole deflate stream.
    fn finish(self) -> io::Result<(Vec<u8>, crc32fast::Hasher, u64)> {
        Ok((self.enc.finish()?, self.crc, self.len))
    }

    /// The stream so far ended with a sync flush (a byte boundary, no final block): another
    /// stream may follow it.
    fn flushed(mut self) -> io::Result<(Vec<u8>, crc32fast::Hasher, u64)> {
        self.enc.flush()?;
        let data = std::mem::take(self.enc.get_mut());
        Ok((data, self.crc, self.len))
    }
}

/// A sheet: its rows into a compressor a block at a time, the widths and extent of its cells
/// measured on the way.
struct SheetWriter {
    buf: Vec<u8>,
    rows: Compressor,
    /// Column letters, by column.
    letters: Vec<Vec<u8>>,
    widths: Vec<usize>,
    /// First and last row and column holding a cell.
    extent: Option<(u32, u16, u32, u16)>,
}

/// Writes one sheet (`selected`: the sheet the workbook opens on).
fn sheet(t: &dyn Sheet, selected: bool) -> io::Result<Deflated> {
    let header = t.header();
    let columns = header.len();
    if columns > EXCEL_COLUMNS {
        return Err(io::Error::other(format!(
            "工作表“{}”有 {columns} 列，超过 Excel 的 {EXCEL_COLUMNS} 列",
            t.name()
        )));
    }
    if t.len() >= EXCEL_ROWS {
        return Err(io::Error::other(format!(
            "工作表“{}”有 {} 行，超过 Excel 的 {EXCEL_ROWS} 行",
            t.name(),
            t.len()
        )));
    }
    let mut w = SheetWriter {
        buf: Vec::with_capacity(BLOCK + (1 << 12)),
        rows: Compressor::new(),
        letters: (0..columns.max(1)).map(column_letters).collect(),
        widths: header.iter().map(|h| display_width(h)).collect(),
        extent: None,
    };
    w.buf.extend_from_slice(b"<sheetData>");
    w.row(0, |w| {
        for (c, h) in header.iter().enumerate() {
            w.string(0, c, h, Some(BOLD));
        }
    });
    let mut r = 0u32;
    t.each_row(&mut |row| {
        r += 1;
        if row.len() > EXCEL_COLUMNS {
            return Err(io::Error::other(format!(
                "工作表“{}”第 {r} 行有 {} 格，超过 Excel 的 {EXCEL_COLUMNS} 列",
                t.name(),
                row.len()
            )));
        }
        w.row(r, |w| {
            for (c, cell) in row.iter().enumerate() {
                w.cell(r, c, excel_cell(cell));
            }
        });
        w.spill()
    })?;
    w.buf.extend_from_slice(b"</sheetData>");
    if columns > 0 {
        w.buf.extend_from_slice(b"<autoFilter ref=\"");
        let last = cell_name(&w.letters, t.len() as u32, columns - 1);
        w.buf
            .extend_from_slice(range(&cell_name(&w.letters, 0, 0), &last).as_bytes());
        w.buf.extend_from_slice(b"\"/>");
    }
    w.buf.extend_from_slice(
        b"<pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/></worksheet>",
    );
    let rest = std::mem::take(&mut w.buf);
    w.rows.put(&rest)?;
    let (rows, rows_crc, rows_len) = w.rows.finish()?;

    let mut head = Compressor::new();
    head.put(sheet_head(&w.letters, &w.widths, w.extent, selected).as_bytes())?;
    let (mut data, mut crc, head_len) = head.flushed()?;
    data.extend_from_slice(&rows);
    crc.combine(&rows_crc);
    Ok(Deflated {
        data,
        crc: crc.finalize(),
        len: head_len + rows_len,
    })
}

impl SheetWriter {
    /// Row `r` (0-based) with the cells `cells` writes; no element when it writes none.
    fn row(&mut self, r: u32, cells: impl FnOnce(&mut SheetWriter)) {
        let start = self.buf.len();
        self.buf.extend_from_slice(b"<row r=\"");
        push_number(&mut self.buf, r + 1);
        self.buf.extend_from_slice(b"\">");
        let open = self.buf.len();
        cells(self);
        if self.buf.len() == open {
            self.buf.truncate(start);
        } else {
            self.buf.extend_from_slice(b"</row>");
        }
    }

    /// Compresses the buffered XML once it fills a block.
    fn spill(&mut self) -> io::Result<()> {
        if self.buf.len() >= BLOCK {
            self.rows.put(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// A data cell: counts and scores are numbers (so Excel sorts them); codes with leading
    /// zeros and long digit strings stay text; long texts wrap.
    fn cell(&mut self, r: u32, c: usize, cell: &str) {
        let (chars, width) = chars_and_width(cell);
        if let Some(w) = self.widths.get_mut(c) {
            *w = (*w).max(width.min(MAX_CELL_WIDTH));
        }
        match number(cell) {
            Some(n) => {
                self.open_cell(r, c);
                self.buf.extend_from_slice(b"><v>");
                // f64's Display: the shortest text that reads back as the same number.
                let _ = write!(self.buf, "{n}");
                self.buf.extend_from_slice(b"</v></c>");
            }
            None => {
                let wrap = (chars > 60).then_some(WRAP);
                self.string(r, c, cell, wrap);
            }
        }
    }

    /// A text cell. An empty text is no cell, unless it has a format (then a blank one).
    fn string(&mut self, r: u32, c: usize, s: &str, format: Option<u32>) {
        if s.is_empty() && format.is_none() {
            return;
        }
        self.open_cell(r, c);
        if let Some(f) = format {
            self.buf.extend_from_slice(b" s=\"");
            push_number(&mut self.buf, f);
            self.buf.push(b'"');
        }
        if s.is_empty() {
            self.buf.extend_from_slice(b"/>");
            return;
        }
        self.buf.extend_from_slice(b" t=\"inlineStr\"><is><t");
        if s.starts_with(['\t', '\n', ' ']) || s.ends_with(['\t', '\n', ' ']) {
            self.buf.extend_from_slice(b" xml:space=\"preserve\"");
        }
        self.buf.push(b'>');
        escape_into(&mut self.buf, s);
        self.buf.extend_from_slice(b"</t></is></c>");
    }

    /// `<c r="B7"` (the cell's reference), its extent recorded.
    fn open_cell(&mut self, r: u32, c: usize) {
        let c16 = c as u16;
        self.extent = Some(match self.extent {
            None => (r, c16, r, c16),
            Some((r0, c0, r1, c1)) => (r0.min(r), c0.min(c16), r1.max(r), c1.max(c16)),
        });
        // A row may be wider than its header.
        while self.letters.len() <= c {
            self.letters.push(column_letters(self.letters.len()));
        }
        self.buf.extend_from_slice(b"<c r=\"");
        self.buf.extend_from_slice(&self.letters[c]);
        push_number(&mut self.buf, r + 1);
        self.buf.push(b'"');
    }
}

/// A cell as Excel can hold it: at most 32,767 UTF-16 units (cut at 32,000).
fn excel_cell(cell: &str) -> &str {
    // A UTF-8 text has at least as many bytes as UTF-16 units.
    if cell.len() <= 32_000 {
        return cell;
    }
    let mut units = 0;
    for (at, c) in cell.char_indices() {
        units += c.len_utf16();
        if units > 32_000 {
            return &cell[..at];
        }
    }
    cell
}

/// Width in Excel column units: a Han character counts two.
fn display_width(s: &str) -> usize {
    chars_and_width(s).1
}

/// A text's number of characters and its [`display_width`], in one pass.
fn chars_and_width(s: &str) -> (usize, usize) {
    s.chars().fold((0, 0), |(n, w), c| {
        (n + 1, w + if c.is_ascii() { 1 } else { 2 })
    })
}

/// A cell's text as a number, when it is one: finite, shorter than 15 characters, and not a
/// code with a leading zero (`007`; `0` and `0.5` are numbers).
fn number(cell: &str) -> Option<f64> {
    if cell.is_empty()
        || cell.len() >= 15
        || (cell.starts_with('0') && cell != "0" && !cell.starts_with("0."))
    {
        return None;
    }
    cell.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// The XML of a sheet before its rows: the extent of its cells, the frozen header row, the
/// column widths.
fn sheet_head(
    letters: &[Vec<u8>],
    widths: &[usize],
    extent: Option<(u32, u16, u32, u16)>,
    selected: bool,
) -> String {
    let mut x = String::with_capacity(1024);
    x.push_str(XML_HEAD);
    x.push_str(&format!(
        "<worksheet xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\"><dimension ref=\""
    ));
    match extent {
        None => x.push_str("A1"),
        Some((r0, c0, r1, c1)) => x.push_str(&range(
            &cell_name(letters, r0, c0 as usize),
            &cell_name(letters, r1, c1 as usize),
        )),
    }
    x.push_str("\"/><sheetViews><sheetView ");
    if selected {
        x.push_str("tabSelected=\"1\" ");
    }
    x.push_str(
        "workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" \
         state=\"frozen\"/><selection pane=\"bottomLeft\"/></sheetView></sheetViews>\
         <sheetFormatPr defaultRowHeight=\"15\"/>",
    );
    if !widths.is_empty() {
        x.push_str("<cols>");
        // Neighbouring columns of one width are one element.
        let pixels: Vec<u32> = widths
            .iter()
            .map(|w| column_pixels((*w as f64 + 2.0).min(MAX_COLUMN_WIDTH)))
            .collect();
        let mut first = 0;
        while first < pixels.len() {
            let mut last = first;
            while last + 1 < pixels.len() && pixels[last + 1] == pixels[first] {
                last += 1;
            }
            let p = pixels[first];
            // Pixels back to Excel's character units, as Excel writes them.
            let chars = f64::from(p * 256 / MAX_DIGIT_PIXELS) / 256.0;
            x.push_str(&format!(
                "<col min=\"{}\" max=\"{}\" width=\"{chars}\"",
                first + 1,
                last + 1
            ));
            if p != DEFAULT_COLUMN_PIXELS {
                x.push_str(" customWidth=\"1\"");
            }
            x.push_str("/>");
            first = last + 1;
        }
        x.push_str("</cols>");
    }
    x
}

/// The default font's widest digit (Calibri 11), and the padding of a cell, in pixels; a
/// column's default width (8.43 characters).
const MAX_DIGIT_PIXELS: u32 = 7;
const CELL_PADDING_PIXELS: u32 = 5;
const DEFAULT_COLUMN_PIXELS: u32 = 64;

/// A width in characters as pixels, as Excel counts them.
fn column_pixels(width: f64) -> u32 {
    if width == 0.0 {
        0
    } else if width < 1.0 {
        (width * f64::from(MAX_DIGIT_PIXELS + CELL_PADDING_PIXELS)).round() as u32
    } else {
        (width * f64::from(MAX_DIGIT_PIXELS)).round() as u32 + CELL_PADDING_PIXELS
    }
}

/// `A`, `B`, … `Z`, `AA`, … for column `c` (0-based).
fn column_letters(c: usize) -> Vec<u8> {
    let mut n = c + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    out
}

/// `B7` for row 6, column 1 (0-based).
fn cell_name(letters: &[Vec<u8>], r: u32, c: usize) -> String {
    let mut s = String::from_utf8_lossy(&letters[c]).into_owned();
    s.push_str(&(r + 1).to_string());
    s
}

/// `A1:C9`, or one cell's name when both ends are that cell.
fn range(first: &str, last: &str) -> String {
    if first == last {
        first.to_owned()
    } else {
        format!("{first}:{last}")
    }
}

/// `$A$1:$C$9` (a defined name's range).
fn absolute(letters: &[u8], r: u32) -> String {
    format!("${}${}", String::from_utf8_lossy(letters), r + 1)
}

/// Decimal digits of `n`.
fn push_number(buf: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Cell text as Excel writes it in XML: `&`, `<`, `>` escaped; control characters (other than
/// tab and line feed) and the non-characters U+FFFE/U+FFFF as `_xHHHH_`; and a literal text of
/// that form (`_x0041_`) kept literal by escaping its underscore (`_x005F_x0041_`).
fn escape_into(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let ascii =
        |b: u8| matches!(b, b'&' | b'<' | b'>' | b'_') || (b < 0x20 && b != b'\t' && b != b'\n');
    // U+FFFE and U+FFFF (EF BF BE, EF BF BF) are looked for apart: their first byte leads every
    // full-width punctuation mark, so it cannot send a text to the slow path by itself.
    let nonchar = s.contains('\u{FFFE}') || s.contains('\u{FFFF}');
    if !nonchar && !bytes.iter().any(|&b| ascii(b)) {
        buf.extend_from_slice(bytes);
        return;
    }
    let special = |b: u8| ascii(b) || (nonchar && b == 0xEF);
    let mut plain = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !special(b) {
            i += 1;
            continue;
        }
        buf.extend_from_slice(&bytes[plain..i]);
        let width = match b {
            b'&' => {
                buf.extend_from_slice(b"&amp;");
                1
            }
            b'<' => {
                buf.extend_from_slice(b"&lt;");
                1
            }
            b'>' => {
                buf.extend_from_slice(b"&gt;");
                1
            }
            b'_' => {
                if is_escape_form(&bytes[i..]) {
                    buf.extend_from_slice(b"_x005F");
                }
                buf.push(b'_');
                1
            }
            0xEF => match bytes.get(i + 1..i + 3) {
                Some([0xBF, 0xBE]) => {
                    buf.extend_from_slice(b"_xFFFE_");
                    3
                }
                Some([0xBF, 0xBF]) => {
                    buf.extend_from_slice(b"_xFFFF_");
                    3
                }
                _ => {
                    buf.push(b);
                    1
                }
            },
            control => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                buf.extend_from_slice(b"_x00");
                buf.push(HEX[usize::from(control >> 4)]);
                buf.push(HEX[usize::from(control & 0xF)]);
                buf.push(b'_');
                1
            }
        };
        i += width;
        plain = i;
    }
    buf.extend_from_slice(&bytes[plain..]);
}

/// Whether `bytes` start with `_xHHHH_` (four hexadecimal digits).
fn is_escape_form(bytes: &[u8]) -> bool {
    bytes.len() >= 7
        && bytes[1] == b'x'
        && bytes[2..6].iter().all(u8::is_ascii_hexdigit)
        && bytes[6] == b'_'
}

/// Text for an XML attribute or element: `&`, `<`, `>` and `"` escaped.
fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

fn content_types(sheets: usize) -> Vec<u8> {
    let mut x = String::from(XML_HEAD);
    x.push_str(
        "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/docProps/app.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.extended-properties+xml\"/>\
         <Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>\
         <Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>",
    );
    for i in 1..=sheets {
        x.push_str(&format!(
            "<Override PartName=\"/xl/worksheets/sheet{i}.xml\" \
             ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        ));
    }
    x.push_str("</Types>");
    x.into_bytes()
}

fn package_rels() -> Vec<u8> {
    format!(
        "{XML_HEAD}<Relationships xmlns=\"{PKG_REL_NS}\">\
         <Relationship Id=\"rId1\" Type=\"{REL_NS}/officeDocument\" Target=\"xl/workbook.xml\"/>\
         <Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/>\
         <Relationship Id=\"rId3\" Type=\"{REL_NS}/extended-properties\" Target=\"docProps/app.xml\"/>\
         </Relationships>"
    )
    .into_bytes()
}

fn app_props(names: &[String]) -> Vec<u8> {
    let mut x = format!(
        "{XML_HEAD}<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\" \
         xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\">\
         <Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>\
         <HeadingPairs><vt:vector size=\"2\" baseType=\"variant\"><vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant>\
         <vt:variant><vt:i4>{}</vt:i4></vt:variant></vt:vector></HeadingPairs>\
         <TitlesOfParts><vt:vector size=\"{}\" baseType=\"lpstr\">",
        names.len(),
        names.len()
    );
    for n in names {
        x.push_str(&format!("<vt:lpstr>{}</vt:lpstr>", xml_text(n)));
    }
    x.push_str(
        "</vt:vector></TitlesOfParts><Company></Company><LinksUpToDate>false</LinksUpToDate>\
         <SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged>\
         <AppVersion>12.0000</AppVersion></Properties>",
    );
    x.into_bytes()
}

fn core_props(created: &str) -> Vec<u8> {
    format!(
        "{XML_HEAD}<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" \
         xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
         <dc:creator></dc:creator><cp:lastModifiedBy></cp:lastModifiedBy>\
         <dcterms:created xsi:type=\"dcterms:W3CDTF\">{created}</dcterms:created>\
         <dcterms:modified xsi:type=\"dcterms:W3CDTF\">{created}</dcterms:modified></cp:coreProperties>"
    )
    .into_bytes()
}

/// The sheets in order, and each sheet's filter range as Excel names it
/// (`_xlnm._FilterDatabase`, hidden).
fn workbook(tables: &[&dyn Sheet], names: &[String]) -> Vec<u8> {
    let mut x = format!(
        "{XML_HEAD}<workbook xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\">\
         <fileVersion appName=\"xl\" lastEdited=\"4\" lowestEdited=\"4\" rupBuild=\"4505\"/>\
         <workbookPr defaultThemeVersion=\"124226\"/><bookViews><workbookView xWindow=\"240\" \
         yWindow=\"15\" windowWidth=\"16095\" windowHeight=\"9660\"/></bookViews><sheets>"
    );
    for (i, n) in names.iter().enumerate() {
        x.push_str(&format!(
            "<sheet name=\"{}\" sheetId=\"{}\" r:id=\"rId{}\"/>",
            xml_text(n),
            i + 1,
            i + 1
        ));
    }
    x.push_str("</sheets>");
    let filters: Vec<String> = tables
        .iter()
        .zip(names)
        .enumerate()
        .filter(|(_, (t, _))| !t.header().is_empty())
        .map(|(i, (t, n))| {
            let last = column_letters(t.header().len() - 1);
            // A quoted sheet name is always read as one (its own quotes doubled).
            let sheet = format!("'{}'", n.replace('\'', "''"));
            format!(
                "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"{i}\" hidden=\"1\">{}!{}:{}</definedName>",
                xml_text(&sheet),
                absolute(b"A", 0),
                absolute(&last, t.len() as u32)
            )
        })
        .collect();
    if !filters.is_empty() {
        x.push_str("<definedNames>");
        filters.iter().for_each(|f| x.push_str(f));
        x.push_str("</definedNames>");
    }
    x.push_str("<calcPr calcId=\"124519\" fullCalcOnLoad=\"1\"/></workbook>");
    x.into_bytes()
}

fn workbook_rels(sheets: usize) -> Vec<u8> {
    let mut x = format!("{XML_HEAD}<Relationships xmlns=\"{PKG_REL_NS}\">");
    for i in 1..=sheets {
        x.push_str(&format!(
            "<Relationship Id=\"rId{i}\" Type=\"{REL_NS}/worksheet\" Target=\"worksheets/sheet{i}.xml\"/>"
        ));
    }
    x.push_str(&format!(
        "<Relationship Id=\"rId{}\" Type=\"{REL_NS}/styles\" Target=\"styles.xml\"/></Relationships>",
        sheets + 1
    ));
    x.into_bytes()
}

/// Three cell formats: plain, bold (the header), wrapped (long texts). Fonts are named outright
/// (no theme part).
const STYLES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
<fonts count=\"2\"><font><sz val=\"11\"/><color rgb=\"FF000000\"/><name val=\"Calibri\"/><family val=\"2\"/></font>\
<font><b/><sz val=\"11\"/><color rgb=\"FF000000\"/><name val=\"Calibri\"/><family val=\"2\"/></font></fonts>\
<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills>\
<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
<cellXfs count=\"3\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>\
<xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/>\
<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyAlignment=\"1\"><alignment wrapText=\"1\"/></xf></cellXfs>\
<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>\
<dxfs count=\"0\"/><tableStyles count=\"0\" defaultTableStyle=\"TableStyleMedium9\" defaultPivotStyle=\"PivotStyleLight16\"/></styleSheet>";

/// A zip archive written front to back: each entry's local header and data, then the central
/// directory. Entries are deflated; sizes past 4 GB (zip64) are refused.
struct Zip<'w> {
    out: &'w mut dyn Write,
    at: u64,
    entries: Vec<ZipEntry>,
}

struct ZipEntry {
    name: String,
    crc: u32,
    compressed: u32,
    size: u32,
    offset: u32,
}

/// 1980-01-01 00:00 in MS-DOS form (time, date): entries carry no real time (the workbook's
/// own properties do).
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;

impl<'w> Zip<'w> {
    fn new(out: &'w mut dyn Write) -> Zip<'w> {
        Zip {
            out,
            at: 0,
            entries: Vec::new(),
        }
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.at += bytes.len() as u64;
        self.out.write_all(bytes)
    }

    fn add_xml(&mut self, name: &str, xml: &[u8]) -> io::Result<()> {
        let mut c = Compressor::new();
        c.put(xml)?;
        let (data, crc, len) = c.finish()?;
        self.add_deflated(
            name,
            &Deflated {
                data,
                crc: crc.finalize(),
                len,
            },
        )
    }

    fn add_deflated(&mut self, name: &str, d: &Deflated) -> io::Result<()> {
        let too_large = || {
            io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!("工作簿的 {name} 超过 4 GB，无法写入"),
            )
        };
        let size = u32::try_from(d.len).map_err(|_| too_large())?;
        let compressed = u32::try_from(d.data.len()).map_err(|_| too_large())?;
        let offset = u32::try_from(self.at).map_err(|_| too_large())?;
        let mut h = Vec::with_capacity(30 + name.len());
        h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        h.extend_from_slice(&20u16.to_le_bytes()); // version needed: 2.0 (deflate)
        h.extend_from_slice(&0u16.to_le_bytes()); // flags
        h.extend_from_slice(&8u16.to_le_bytes()); // method: deflate
        h.extend_from_slice(&DOS_TIME.to_le_bytes());
        h.extend_from_slice(&DOS_DATE.to_le_bytes());
        h.extend_from_slice(&d.crc.to_le_bytes());
        h.extend_from_slice(&compressed.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // extra field length
        h.extend_from_slice(name.as_bytes());
        self.put(&h)?;
        self.put(&d.data)?;
        self.entries.push(ZipEntry {
            name: name.to_owned(),
            crc: d.crc,
            compressed,
            size,
            offset,
        });
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        let too_large = || io::Error::new(io::ErrorKind::FileTooLarge, "工作簿超过 4 GB，无法写入");
        let start = u32::try_from(self.at).map_err(|_| too_large())?;
        let mut d = Vec::new();
        for e in &self.entries {
            d.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            d.extend_from_slice(&20u16.to_le_bytes()); // made by: 2.0, MS-DOS
            d.extend_from_slice(&20u16.to_le_bytes()); // needed
            d.extend_from_slice(&0u16.to_le_bytes()); // flags
            d.extend_from_slice(&8u16.to_le_bytes()); // deflate
            d.extend_from_slice(&DOS_TIME.to_le_bytes());
            d.extend_from_slice(&DOS_DATE.to_le_bytes());
            d.extend_from_slice(&e.crc.to_le_bytes());
            d.extend_from_slice(&e.compressed.to_le_bytes());
            d.extend_from_slice(&e.size.to_le_bytes());
            d.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            d.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attributes
            d.extend_from_slice(&0u32.to_le_bytes()); // external attributes
            d.extend_from_slice(&e.offset.to_le_bytes());
            d.extend_from_slice(e.name.as_bytes());
        }
        let size = u32::try_from(d.len()).map_err(|_| too_large())?;
        let count = u16::try_from(self.entries.len()).map_err(|_| too_large())?;
        d.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        d.extend_from_slice(&[0; 4]); // this disk, the directory's disk
        d.extend_from_slice(&count.to_le_bytes());
        d.extend_from_slice(&count.to_le_bytes());
        d.extend_from_slice(&size.to_le_bytes());
        d.extend_from_slice(&start.to_le_bytes());
        d.extend_from_slice(&0u16.to_le_bytes()); // comment length
        self.put(&d)?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Rows, Table};
    use std::io::Read;

    /// The same tables through rust_xlsxwriter's constant-memory sheets, as `write_xlsx` wrote
    /// them before this writer: the reference for the sheets' XML.
    fn reference(path: &std::path::Path, tables: &[&dyn Sheet]) {
        use rust_xlsxwriter::{Format, Workbook};
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold();
        let wrap = Format::new().set_text_wrap();
        for t in tables {
            let ws = wb.add_worksheet_with_constant_memory().unwrap();
            let name: String = t
                .name()
                .chars()
                .filter(|c| !"[]:*?/\\".contains(*c))
                .take(31)
                .collect();
            ws.set_name(&name).unwrap();
            let header = t.header();
            ws.set_freeze_panes(1, 0).unwrap();
            if !header.is_empty() {
                ws.autofilter(0, 0, t.len() as u32, header.len() as u16 - 1)
                    .unwrap();
            }
            for (c, h) in header.iter().enumerate() {
                ws.write_string_with_format(0, c as u16, h, &bold).unwrap();
            }
            let mut widths: Vec<usize> = header.iter().map(|h| display_width(h)).collect();
            let mut r = 0u32;
            t.each_row(&mut |row| {
                r += 1;
                for (c, cell) in row.iter().enumerate() {
                    let cell = excel_cell(cell);
                    if let Some(w) = widths.get_mut(c) {
                        *w = (*w).max(display_width(cell).min(80));
                    }
                    match number(cell) {
                        Some(n) => ws.write_number(r, c as u16, n).map(|_| ()),
                        None if cell.chars().count() > 60 => ws
                            .write_string_with_format(r, c as u16, cell, &wrap)
                            .map(|_| ()),
                        None => ws.write_string(r, c as u16, cell).map(|_| ()),
                    }
                    .unwrap();
                }
                Ok(())
            })
            .unwrap();
            for (c, w) in widths.iter().enumerate() {
                ws.set_column_width(c as u16, (*w as f64 + 2.0).min(82.0))
                    .unwrap();
            }
        }
        wb.save(path).unwrap();
    }

    /// Every entry of a zip archive, read whole (the reader checks each one's CRC-32).
    fn entries(path: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
        let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        (0..z.len())
            .map(|i| {
                let mut e = z.by_index(i).unwrap();
                let mut bytes = Vec::new();
                e.read_to_end(&mut bytes).unwrap();
                (e.name().unwrap().into_owned(), bytes)
            })
            .collect()
    }

    /// A deterministic stream of numbers (xorshift), for texts that do not compress away.
    fn noise(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed | 1;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    /// Cells of every kind the writer treats apart: numbers and codes, empty cells, long texts
    /// (wrapped from 61 characters), texts led or ended by spaces, XML's special characters, control characters,
    /// Excel's own escape form, non-characters, characters outside the BMP, columns past Z.
    fn tricky_cell(i: usize, c: usize, next: &mut impl FnMut() -> u64) -> String {
        let han = |n: u64| char::from_u32(0x4E00 + (n % 3000) as u32).unwrap();
        match (i + c) % 22 {
            0 => String::new(),
            1 => format!("{}", i * 7 + c),
            2 => format!("{:.1}", (i as f64) * 0.37),
            3 => format!("00{i}"),
            4 => "0".to_owned(),
            5 => format!("0.{i}"),
            6 => (0..70 + i % 9).map(|_| han(next())).collect(),
            7 => format!(" 前后有空格{i} "),
            8 => format!("A&B<C>\"引号\"{i}"),
            9 => format!("控制\u{1}字符\u{b}\r\t与换行\n{i}"),
            10 => format!("_x0041_ 与 _x005F_x0000_ 与 _xZZ12_ 与 _x12{i}"),
            11 => format!("非字符\u{FFFE}\u{FFFF}{i}"),
            12 => format!("𠀀𠀁扩展区{i}，全角标点：（）"),
            13 => format!("1e{}", c % 3),
            14 => format!("-{i}.50"),
            15 => format!("{}", 10u64.pow(14) + i as u64),
            16 => (0..60).map(|_| han(next())).collect(),
            17 => (0..61).map(|_| han(next())).collect(),
            18 => format!(" 前面有空格{i}"),
            19 => format!("后面有空格{i} "),
            20 => format!("\t制表{i}\n"),
            _ => (0..(next() % 20) as usize).map(|_| han(next())).collect(),
        }
    }

    /// The sheets' XML is rust_xlsxwriter's, byte for byte, over cells of every kind, a wide
    /// sheet, one long enough to be compressed in several blocks, one with no rows and one with
    /// an empty header cell; the archive reads back whole (each entry's CRC checked), and its
    /// cells read back through calamine as the values written.
    #[test]
    fn sheets_are_rust_xlsxwriters_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let mut next = noise(7);
        let wide_header: Vec<String> = (0..30).map(|c| format!("列{c}")).collect();
        let wide_refs: Vec<&str> = wide_header.iter().map(String::as_str).collect();
        let mut wide = Table::new("宽表[1]:*?/\\", &wide_refs);
        for i in 0..40 {
            wide.push((0..30).map(|c| tricky_cell(i, c, &mut next)).collect());
        }
        let long = Rows::new("长表", &["编号", "内容", "得分"], 3000, |i| {
            let mut next = noise(i as u64 + 11);
            vec![
                format!("S{i:05}"),
                tricky_cell(i, 1, &mut next) + &tricky_cell(i, 6, &mut next),
                format!("{:.1}", i as f64 * 1.5),
            ]
        });
        let empty = Table::new("空表", &["文件", "原因"]);
        let mut blank_header = Table::new("无名列", &["甲", "", "丙"]);
        blank_header.push(vec!["1".into(), "".into(), "".into()]);
        let tables: [&dyn Sheet; 4] = [&wide, &long, &empty, &blank_header];
        let (ours, theirs) = (dir.path().join("ours.xlsx"), dir.path().join("theirs.xlsx"));
        crate::write_xlsx(&ours, &tables).unwrap();
        reference(&theirs, &tables);
        let (a, b) = (entries(&ours), entries(&theirs));
        for i in 1..=tables.len() {
            let name = format!("xl/worksheets/sheet{i}.xml");
            let (x, y) = (&a[&name], &b[&name]);
            if x != y {
                let at = x.iter().zip(y.iter()).take_while(|(p, q)| p == q).count();
                let show = |v: &[u8]| {
                    String::from_utf8_lossy(&v[at.saturating_sub(80)..(at + 80).min(v.len())])
                        .into_owned()
                };
                panic!(
                    "{name} differs at byte {at}:\nours   {}\ntheirs {}",
                    show(x),
                    show(y)
                );
            }
        }
        assert!(
            a["xl/worksheets/sheet2.xml"].len() > 4 * BLOCK,
            "the long sheet spans blocks"
        );
        // Parts the reference has and this writer leaves out: the theme only.
        let missing: Vec<&String> = b.keys().filter(|k| !a.contains_key(*k)).collect();
        assert_eq!(missing, vec!["xl/theme/theme1.xml"]);

        use calamine::{Data, Reader, Xlsx};
        let mut book: Xlsx<_> = calamine::open_workbook(&ours).unwrap();
        assert_eq!(book.sheet_names(), vec!["宽表1", "长表", "空表", "无名列"]);
        let range = book.worksheet_range("宽表1").unwrap();
        assert_eq!(range.get_size(), (41, 30));
        for (i, row) in wide.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let got = range.get((i + 1, c)).unwrap();
                let want = match number(cell) {
                    Some(n) => Data::Float(n),
                    None if cell.is_empty() => Data::Empty,
                    None => Data::String(cell.clone()),
                };
                assert_eq!(got, &want, "row {i} column {c}: {cell:?}");
            }
        }
        let range = book.worksheet_range("长表").unwrap();
        assert_eq!(range.get_size(), (3001, 3));
        assert_eq!(range.get((3000, 0)), Some(&Data::String("S02999".into())));
        assert_eq!(range.get((3000, 2)), Some(&Data::Float(2999.0 * 1.5)));
    }

    /// A workbook of no tables is still one Excel opens: one empty sheet, no filter.
    #[test]
    fn no_tables_make_a_workbook_of_one_empty_sheet() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("空.xlsx");
        crate::write_xlsx(&p, &[]).unwrap();
        let e = entries(&p);
        let sheet = String::from_utf8(e["xl/worksheets/sheet1.xml"].clone()).unwrap();
        assert!(sheet.contains("<dimension ref=\"A1\"/>"), "{sheet}");
        assert!(sheet.contains("<sheetData></sheetData>") && !sheet.contains("autoFilter"));
        assert!(!e.contains_key("xl/worksheets/sheet2.xml"));
        let workbook = String::from_utf8(e["xl/workbook.xml"].clone()).unwrap();
        assert!(workbook.contains("<sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/>"));
        assert!(!workbook.contains("definedName"));
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> = calamine::open_workbook(&p).unwrap();
        assert_eq!(book.sheet_names(), vec!["Sheet1"]);
        assert!(book.worksheet_range("Sheet1").unwrap().is_empty());
    }

    /// Sheet names as Excel takes them: forbidden characters and edge apostrophes gone, at most
    /// 31 characters, never empty, never the same twice (ignoring case).
    #[test]
    fn sheet_names_are_ones_excel_accepts() {
        let t = |n: &str| Table::new(n, &["甲"]);
        let tables = [
            t("问题清单"),
            t("问题清单"),
            t("'引号'"),
            t("[]:*?/\\"),
            t(&"长".repeat(40)),
            t(&"长".repeat(40)),
            t("Sheet"),
            t("sheet"),
        ];
        let refs: Vec<&dyn Sheet> = tables.iter().map(|t| t as &dyn Sheet).collect();
        let names = sheet_names(&refs);
        assert_eq!(
            names,
            vec![
                "问题清单".to_owned(),
                "问题清单(2)".to_owned(),
                "引号".to_owned(),
                "Sheet4".to_owned(),
                "长".repeat(31),
                "长".repeat(28) + "(2)",
                "Sheet".to_owned(),
                "sheet(2)".to_owned(),
            ]
        );
        assert!(names.iter().all(|n| n.chars().count() <= 31));
    }

    /// Excel's escape form is escaped wherever it starts, overlapping ones included, and only
    /// there; a text with nothing to escape is copied as it is.
    #[test]
    fn escapes_match_excels_rules() {
        let esc = |s: &str| {
            let mut b = Vec::new();
            escape_into(&mut b, s);
            String::from_utf8(b).unwrap()
        };
        assert_eq!(esc("机耕路，塌方（三组）"), "机耕路，塌方（三组）");
        assert_eq!(esc("a_x0041_b"), "a_x005F_x0041_b");
        assert_eq!(esc("_x005F_x0000_"), "_x005F_x005F_x005F_x0000_");
        assert_eq!(esc("_x004_ _xGGGG_ _x0041"), "_x004_ _xGGGG_ _x0041");
        assert_eq!(esc("<&>\u{0}\r\t\n"), "&lt;&amp;&gt;_x0000__x000D_\t\n");
        assert_eq!(esc("\u{FFFE}，\u{FFFF}"), "_xFFFE_，_xFFFF_");
    }
}
