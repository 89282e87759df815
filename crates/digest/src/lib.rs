//! Output writers: CSV (UTF-8 with BOM, header row), Excel workbooks, JSON and JSON Lines — all
//! written atomically.
//!
//! Every writer goes through [`write_atomic`]: the bytes go to a temporary file in the target
//! folder, which is flushed and then renamed over the target, so a crash never leaves a
//! half-written result and a reviewer never opens a truncated sheet.
//!
//! ```
//! use diaoyan_digest::{Table, write_csv};
//! let dir = tempfile::tempdir().unwrap();
//! let mut t = Table::new("示例", &["文件", "原因"]);
//! t.push(vec!["a.doc".into(), "doc 已损坏".into()]);
//! write_csv(&dir.path().join("x.csv"), &t).unwrap();
//! let bytes = std::fs::read(dir.path().join("x.csv")).unwrap();
//! assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
//! ```

mod decisions;
mod xlsx;

pub use decisions::{
    DECISIONS_FILE, IssueRef, Overlap, append_decision, issue_by_overlap, issue_of,
    latest_decisions, read_decisions,
};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors writing outputs (always fatal for the run: the office must not get partial results).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be written.
    #[error("无法写入 {path}：{reason}")]
    Write {
        /// The target path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The digest crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Why a write failed, in the reviewer's words (the system's own text in brackets).
pub fn io_write_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    let what = match e.kind() {
        StorageFull | QuotaExceeded => "磁盘空间不足",
        PermissionDenied => "没有写入权限",
        ReadOnlyFilesystem => "位置只读",
        NotFound => "路径不存在",
        FileTooLarge => "文件超出文件系统允许的大小",
        _ => "写入失败",
    };
    format!("{what}（{e}）；原有结果未被改动")
}

/// The error of a failed write to `path`, its reason in the reviewer's words.
pub fn write_io(path: &Path, e: std::io::Error) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        reason: io_write_reason(&e),
    }
}

fn write_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// A plain table: a name (used as the sheet name), a header row and rows of text cells.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Table {
    /// Sheet name in a workbook.
    pub name: String,
    /// Column headers.
    pub header: Vec<String>,
    /// Rows; each has as many cells as the header.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with a header.
    pub fn new(name: &str, header: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            header: header.iter().map(|s| (*s).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len(), "row width");
        self.rows.push(row);
    }
}

/// Something written as a CSV file or a workbook sheet: a name, a header row and rows visited in
/// order. A [`Table`] holds its rows; [`Rows`] makes each when it is visited.
pub trait Sheet: Sync {
    /// Sheet name in a workbook.
    fn name(&self) -> &str;
    /// Column headers.
    fn header(&self) -> &[String];
    /// How many rows.
    fn len(&self) -> usize;
    /// Whether there are no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Calls `f` with every row, in order; the first error stops the visit.
    fn each_row(&self, f: &mut dyn FnMut(&[String]) -> std::io::Result<()>) -> std::io::Result<()>;
}

impl Sheet for Table {
    fn name(&self) -> &str {
        &self.name
    }
    fn header(&self) -> &[String] {
        &self.header
    }
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn each_row(&self, f: &mut dyn FnMut(&[String]) -> std::io::Result<()>) -> std::io::Result<()> {
        self.rows.iter().try_for_each(|r| f(r))
    }
}

/// A table whose rows are made from the run's data each time they are visited and dropped once
/// written: a list of a million suggestions goes to its CSV file and its sheet without ever
/// being held as cells.
pub struct Rows<'a> {
    name: String,
    header: Vec<String>,
    len: usize,
    row: Box<dyn Fn(usize) -> Vec<String> + Sync + 'a>,
}

impl<'a> Rows<'a> {
    /// `len` rows, row `i` made by `row(i)`.
    pub fn new(
        name: &str,
        header: &[&str],
        len: usize,
        row: impl Fn(usize) -> Vec<String> + Sync + 'a,
    ) -> Self {
        Self {
            name: name.to_owned(),
            header: header.iter().map(|s| (*s).to_owned()).collect(),
            len,
            row: Box::new(row),
        }
    }
}

impl Sheet for Rows<'_> {
    fn name(&self) -> &str {
        &self.name
    }
    fn header(&self) -> &[String] {
        &self.header
    }
    fn len(&self) -> usize {
        self.len
    }
    fn each_row(&self, f: &mut dyn FnMut(&[String]) -> std::io::Result<()>) -> std::io::Result<()> {
        (0..self.len).try_for_each(|i| {
            let row = (self.row)(i);
            debug_assert_eq!(row.len(), self.header.len(), "row width");
            f(&row)
        })
    }
}

/// Writes bytes to `path` atomically: temp file in the same folder, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Streams whatever `fill` writes to `path` atomically (buffered temp file in the same folder,
/// fsync, rename): large outputs never need to fit in memory as one buffer. On any error the
/// temporary file is removed and the target is untouched.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| write_io(dir, e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".diaoyan-").suffix(".tmp");
    // Temporary files are private (0600) by default; a result is for the office to read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let tmp = builder.tempfile_in(dir).map_err(|e| write_io(path, e))?;
    {
        let mut back = WriteBack::new(tmp.as_file(), WRITE_BACK_STEP);
        let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut back);
        fill(&mut w).map_err(|e| write_io(path, e))?;
        w.flush().map_err(|e| write_io(path, e))?;
        drop(w);
        back.finish().map_err(|e| write_io(path, e))?;
    }
    tmp.as_file().sync_all().map_err(|e| write_io(path, e))?;
    tmp.persist(path).map_err(|e| write_io(path, e.error))?;
    Ok(())
}

/// How far a file being written grows between two early write-backs ([`WriteBack`]).
const WRITE_BACK_STEP: u64 = 16 << 20;

/// A file being written, handed to the disk as it grows: each time [`WRITE_BACK_STEP`] more
/// bytes have been written (and no earlier write-back is still running), a thread of its own
/// calls `sync_data` on a second handle of the file, so the disk stores the start of the file
/// while the rest is being made. The fsync before the rename then waits only for what came
/// after the last of these, not for the whole file.
///
/// Why: the operating system keeps what a program writes in memory and writes it to disk
/// later, at the latest when asked (fsync); a 100k-document run's 311 MB `submissions.jsonl`
/// and 172 MB `suggestions.csv` each waited about 0.2 s in their final fsync, their threads
/// idle, and the other outputs waited for them. Asked early, the disk works while the cores do.
struct WriteBack<'f> {
    file: &'f std::fs::File,
    step: u64,
    /// Bytes written so far.
    written: u64,
    /// Bytes written when the last write-back was started.
    asked: u64,
    /// The write-back running, if any.
    running: Option<std::thread::JoinHandle<std::io::Result<()>>>,
    /// Write-backs started.
    started: usize,
}

impl<'f> WriteBack<'f> {
    fn new(file: &'f std::fs::File, step: u64) -> Self {
        WriteBack {
            file,
            step,
            written: 0,
            asked: 0,
            running: None,
            started: 0,
        }
    }

    /// Waits for the running write-back: its error, if it failed.
    fn wait(&mut self) -> std::io::Result<()> {
        match self.running.take() {
            Some(t) => t
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("write-back thread panicked"))),
            None => Ok(()),
        }
    }

    /// Waits for the last write-back (the caller's fsync does the rest); how many were started.
    fn finish(mut self) -> std::io::Result<usize> {
        self.wait().map(|()| self.started)
    }
}

impl Write for WriteBack<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = (&mut &*self.file).write(buf)?;
        self.written += n as u64;
        if self.written - self.asked >= self.step
            && self.running.as_ref().is_none_or(|t| t.is_finished())
        {
            self.wait()?;
            let file = self.file.try_clone()?;
            self.asked = self.written;
            // No thread to be had (the system's limit): no early write-back this time; the
            // fsync at the end still stores everything.
            if let Ok(t) = std::thread::Builder::new()
                .name("write-back".into())
                .spawn(move || file.sync_data())
            {
                self.running = Some(t);
                self.started += 1;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        (&mut &*self.file).flush()
    }
}

impl Drop for WriteBack<'_> {
    /// A file given up midway (an error while writing it) still waits for its write-back, so
    /// no thread outlives the file it works on.
    fn drop(&mut self) {
        let _ = self.wait();
    }
}

/// Writes a table as CSV: UTF-8 with a BOM (so Excel and WPS open it correctly), header first.
pub fn write_csv(path: &Path, table: &dyn Sheet) -> Result<()> {
    write_atomic_with(path, |out| {
        out.write_all(b"\xEF\xBB\xBF")?;
        let mut w = csv::WriterBuilder::new().from_writer(out);
        w.write_record(table.header())?;
        table.each_row(&mut |row| Ok(w.write_record(row)?))?;
        w.flush()
    })
}

/// Writes a value as pretty JSON.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| write_err(path, e))?;
    write_atomic(path, &bytes)
}

/// Writes values as JSON Lines (one object a line).
pub fn write_jsonl<T: Serialize>(path: &Path, values: impl IntoIterator<Item = T>) -> Result<()> {
    write_atomic_with(path, |out| {
        for v in values {
            serde_json::to_writer(&mut *out, &v)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// Writes tables as sheets of one Excel workbook: bold frozen header, filters, widths that
/// follow the longest cells, counts and scores as numbers, long texts wrapped. Rows are streamed
/// (`xlsx.rs`: each row's XML is compressed as it is made), so a sheet of a million rows is
/// never held as cells, and nothing is written beside the workbook but its own temporary file.
pub fn write_xlsx(path: &Path, tables: &[&dyn Sheet]) -> Result<()> {
    let created = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    write_atomic_with(path, |out| xlsx::write(out, tables, &created))
}

/// What a panic said (its message, when it is text).
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk that fills while a workbook is written is the write's error naming the workbook
    /// and the full disk; nothing is left. Needs a tmpfs (root); skips otherwise.
    #[test]
    #[expect(clippy::print_stderr, reason = "a skipped test says why")]
    fn a_full_disk_under_a_workbook_is_its_error_not_a_panic() {
        let tmp = tempfile::tempdir().unwrap();
        let disk = tmp.path().join("disk");
        std::fs::create_dir(&disk).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
            .arg(&disk)
            .output()
            .is_ok_and(|o| o.status.success());
        if !mounted {
            eprintln!("skipped: cannot mount a tmpfs here");
            return;
        }
        struct Unmount<'a>(&'a Path);
        impl Drop for Unmount<'_> {
            fn drop(&mut self) {
                let _ = std::process::Command::new("umount").arg(self.0).output();
            }
        }
        let _unmount = Unmount(&disk);
        // Texts that do not compress away (a workbook is compressed as it is written): about
        // 1 MB of sheet data against a 256 kB disk.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut t = Table::new("意见", &["序号", "意见"]);
        for i in 0..20_000 {
            let text: String = (0..24)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    char::from_u32(0x4E00 + (x % 3000) as u32).unwrap()
                })
                .collect();
            t.push(vec![i.to_string(), text]);
        }
        let path = disk.join("工作簿.xlsx");
        let err = write_xlsx(&path, &[&t]).unwrap_err().to_string();
        assert!(
            err.contains("工作簿.xlsx") && err.contains("磁盘空间不足"),
            "{err}"
        );
        let left: Vec<_> = std::fs::read_dir(&disk).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn csv_has_bom_header_and_quotes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let mut t = Table::new("t", &["文件", "说明"]);
        t.push(vec!["a,b.txt".into(), "含“引号”\n和换行".into()]);
        write_csv(&p, &t).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let mut r = csv::Reader::from_reader(&bytes[3..]);
        assert_eq!(
            r.headers().unwrap().iter().collect::<Vec<_>>(),
            vec!["文件", "说明"]
        );
        let row = r.records().next().unwrap().unwrap();
        assert_eq!(&row[0], "a,b.txt");
        assert_eq!(&row[1], "含“引号”\n和换行");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644, "results are readable by others");
        }
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn atomic_write_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.json");
        write_json(&p, &vec![1, 2, 3]).unwrap();
        write_json(&p, &vec![4]).unwrap();
        let v: Vec<i32> = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(v, vec![4]);
    }

    /// A file written through [`WriteBack`] holds exactly what was written, however the writes
    /// fall across its steps, and the disk was asked for it along the way (a write-back each
    /// time a step more was written and the one before had finished, at least one).
    #[test]
    fn a_file_handed_to_the_disk_as_it_grows_holds_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("grown.bin");
        let file = std::fs::File::create(&p).unwrap();
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut back = WriteBack::new(&file, 4096);
        for part in bytes.chunks(777) {
            back.write_all(part).unwrap();
        }
        back.flush().unwrap();
        let started = back.finish().unwrap();
        assert!((1..=200_000 / 4096).contains(&started), "{started}");
        assert_eq!(std::fs::read(&p).unwrap(), bytes);
        // Less than a step: never asked early.
        let small = std::fs::File::create(dir.path().join("small.bin")).unwrap();
        let mut back = WriteBack::new(&small, 4096);
        back.write_all(&bytes[..4095]).unwrap();
        assert_eq!(back.finish().unwrap(), 0);
    }

    #[test]
    fn a_stream_that_fails_midway_leaves_the_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        write_atomic(&p, b"old").unwrap();
        let err = write_atomic_with(&p, |w| {
            w.write_all(b"half a table")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.csv")]);
    }

    #[test]
    fn xlsx_round_trips_through_a_zip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.xlsx");
        let mut t = Table::new("问题清单[1]", &["编号", "标题"]);
        t.push(vec!["1".into(), "石桥村机耕路坑洼".into()]);
        write_xlsx(&p, &[&t]).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert!(bytes.starts_with(b"PK"));
    }

    /// Rows made on demand write what the same rows held in a table write: the CSV byte for
    /// byte, the sheet cell for cell (numbers, widths, filters, frozen header).
    #[test]
    fn rows_made_on_demand_write_what_a_held_table_writes() {
        let dir = tempfile::tempdir().unwrap();
        let header = ["编号", "标题", "得分"];
        let make = |i: usize| {
            vec![
                format!("S{i:04}"),
                format!(
                    "第{i}条：{}",
                    "石桥村机耕路坑洼，雨天无法通行".repeat(i % 7)
                ),
                format!("{:.1}", i as f64 * 1.5),
            ]
        };
        let mut t = Table::new("意见建议", &header);
        for i in 0..300 {
            t.push(make(i));
        }
        let rows = Rows::new("意见建议", &header, 300, make);
        assert_eq!(
            (rows.len(), rows.name(), rows.header()),
            (300, "意见建议", &t.header[..])
        );
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        write_csv(&a, &t).unwrap();
        write_csv(&b, &rows).unwrap();
        let csv_a = std::fs::read(&a).unwrap();
        assert!(csv_a.len() > 10_000);
        assert_eq!(csv_a, std::fs::read(&b).unwrap());
        let sheet_xml = |p: &Path| {
            let f = std::fs::File::open(p).unwrap();
            let mut z = zip::ZipArchive::new(f).unwrap();
            let mut s = String::new();
            std::io::Read::read_to_string(
                &mut z.by_name("xl/worksheets/sheet1.xml").unwrap(),
                &mut s,
            )
            .unwrap();
            s
        };
        let (a, b) = (dir.path().join("a.xlsx"), dir.path().join("b.xlsx"));
        write_xlsx(&a, &[&t]).unwrap();
        write_xlsx(&b, &[&rows]).unwrap();
        let xml = sheet_xml(&a);
        assert!(
            xml.contains("<autoFilter ref=\"A1:C301\"/>"),
            "{}",
            &xml[..400]
        );
        assert!(
            xml.contains("<c r=\"C3\"><v>1.5</v></c>"),
            "scores are numbers"
        );
        assert_eq!(xml, sheet_xml(&b));
        // Widths follow the longest cell of each column (set after the rows are streamed): the
        // five-character codes and scores are wider than the score's header (得分, width 4), the
        // long titles capped at 80.
        let width = |col: usize| -> f64 {
            let at = xml
                .find(&format!("<col min=\"{col}\" max=\"{col}\" width=\""))
                .unwrap_or_else(|| panic!("column {col} has a width: {}", &xml[..600]));
            let rest = &xml[at..];
            let v = &rest[rest.find("width=\"").unwrap() + 7..];
            v[..v.find('"').unwrap()].parse().unwrap()
        };
        let (code, title, score) = (width(1), width(2), width(3));
        assert!((7.0..8.0).contains(&code), "{code}");
        assert!((7.0..8.0).contains(&score), "{score}");
        assert!((82.0..83.0).contains(&title), "{title}");
    }
}
