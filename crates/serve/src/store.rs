//! One run's outputs, read from its folder. What the lists and the overview need stays in
//! memory: each submission's id, file, author, kind, score, verdict and first reason, the small
//! tables (issues, topics, cadres, ingest errors) and, for the suggestions, where each row starts
//! in `suggestions.csv` and which rows belong to which submission and issue. A submission's whole
//! record and a suggestion's row are read back from `submissions.jsonl` and `suggestions.csv` by
//! their byte offsets when a page asks for them: at 1,000,000 documents those two files are
//! 4.8 GB, and held in memory they made the review page 7.7 GB. Read once and again whenever
//! `run.json` changes; a read checks that the file is still the one indexed (a re-run replaces
//! it) and that the row is the one asked for.

use crate::Error;
use diaoyan_model::{Assessment, Decision, Kind, Shared, Submission, Verdict};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// A submission with its judgement, as read back for its page.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Doc {
    /// The submission.
    #[serde(flatten)]
    pub sub: Submission,
    /// Score, verdict, reasons (absent when the score stage did not run).
    #[serde(default)]
    pub assessment: Option<Assessment>,
}

/// What the lists need of a submission; [`Store::doc`] reads the rest.
#[derive(Debug)]
pub struct Entry {
    /// Its id.
    pub id: Shared,
    /// Its file.
    pub path: Shared,
    /// Who wrote it.
    pub author: Shared,
    /// What it is.
    pub kind: Option<Kind>,
    /// Score and verdict (absent when the score stage did not run).
    pub judged: Option<(f64, Verdict)>,
    /// The first reason's text (empty when there is none).
    pub reason: String,
    /// Its line in `submissions.jsonl`: offset and length.
    line: (u64, u32),
}

/// The fields of a `submissions.jsonl` line kept in an [`Entry`]; the rest (the text above all)
/// is skipped as it is parsed, never held.
#[derive(serde::Deserialize)]
struct EntryLine {
    id: Shared,
    #[serde(default)]
    path: Shared,
    #[serde(default)]
    author: Shared,
    #[serde(default)]
    kind: Option<Kind>,
    #[serde(default)]
    assessment: Option<EntryAssessment>,
}

#[derive(serde::Deserialize)]
struct EntryAssessment {
    score: f64,
    verdict: Verdict,
    #[serde(default)]
    reasons: Vec<EntryReason>,
}

#[derive(serde::Deserialize)]
struct EntryReason {
    text: String,
}

/// Column positions by header.
#[derive(Debug, Default)]
struct Columns(HashMap<String, usize>);

impl Columns {
    fn of(header: &csv::StringRecord) -> Columns {
        Columns(
            header
                .iter()
                .enumerate()
                .map(|(i, h)| (h.to_owned(), i))
                .collect(),
        )
    }

    fn get<'a>(&self, row: &'a csv::StringRecord, column: &str) -> &'a str {
        self.0.get(column).and_then(|&i| row.get(i)).unwrap_or("")
    }
}

/// Opens a run's CSV file past its BOM, if any: the reader, and where its bytes start in the file.
fn csv_reader(path: &Path) -> Result<(csv::Reader<BufReader<File>>, u64), Error> {
    let bad = |e: &dyn std::fmt::Display| read_error(path, e);
    let mut file =
        BufReader::new(File::open(path).map_err(|e| bad(&diaoyan_model::io_reason(&e)))?);
    let bom = file
        .fill_buf()
        .map_err(|e| bad(&e))?
        .starts_with(b"\xEF\xBB\xBF");
    if bom {
        file.consume(3);
    }
    let r = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    Ok((r, if bom { 3 } else { 0 }))
}

fn read_error(path: &Path, e: &dyn std::fmt::Display) -> Error {
    Error::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// A CSV file held in memory: its header and rows.
///
/// A row is one `csv::StringRecord` (its cells in one buffer), not a `String` per cell.
#[derive(Debug, Default)]
pub struct Sheet {
    columns: Columns,
    /// Rows of cells.
    pub rows: Vec<csv::StringRecord>,
}

impl Sheet {
    /// Reads `path` (UTF-8 with or without a BOM) as it streams in; a missing file is an empty
    /// sheet.
    fn read(path: &Path) -> Result<Sheet, Error> {
        if !path.exists() {
            return Ok(Sheet::default());
        }
        let (mut r, _) = csv_reader(path)?;
        let bad = |e: &dyn std::fmt::Display| read_error(path, e);
        let columns = Columns::of(r.headers().map_err(|e| bad(&e))?);
        // One record read into, each row kept as a copy of it (a copy holds no spare capacity).
        let mut rows = Vec::new();
        let mut rec = csv::StringRecord::new();
        while r.read_record(&mut rec).map_err(|e| bad(&e))? {
            rows.push(rec.clone());
        }
        Ok(Sheet { columns, rows })
    }

    /// The cell of `row` under `column` (empty when either is missing).
    pub fn get<'a>(&self, row: &'a csv::StringRecord, column: &str) -> &'a str {
        self.columns.get(row, column)
    }
}

/// A file read back by byte offsets, and how it stood when it was indexed.
#[derive(Debug)]
struct Pinned {
    path: PathBuf,
    /// Length and modification time when indexed (`None`: the file was missing).
    stamp: Option<(u64, Option<SystemTime>)>,
}

impl Pinned {
    fn stamp_of(path: &Path) -> Option<(u64, Option<SystemTime>)> {
        std::fs::metadata(path)
            .ok()
            .map(|m| (m.len(), m.modified().ok()))
    }

    fn new(path: PathBuf) -> Pinned {
        let stamp = Self::stamp_of(&path);
        Pinned { path, stamp }
    }

    /// The file, when it is still the one indexed.
    fn open(&self) -> Result<File, Error> {
        if Self::stamp_of(&self.path) != self.stamp {
            return Err(self.changed());
        }
        File::open(&self.path).map_err(|e| read_error(&self.path, &diaoyan_model::io_reason(&e)))
    }

    fn changed(&self) -> Error {
        Error::Changed {
            path: self.path.clone(),
        }
    }

    /// Bytes `at .. at + len` of `file`.
    fn bytes(&self, file: &mut File, at: u64, len: u64) -> Result<Vec<u8>, Error> {
        let mut buf = vec![0; usize::try_from(len).map_err(|_| self.changed())?];
        file.seek(SeekFrom::Start(at))
            .and_then(|_| file.read_exact(&mut buf))
            .map_err(|_| self.changed())?;
        Ok(buf)
    }
}

/// A CSV file kept on disk: its header and where each row starts, rows read back on demand.
#[derive(Debug)]
pub struct Table {
    columns: Columns,
    file: Pinned,
    /// Byte offset of each row's start, then of the end of the last.
    at: Vec<u64>,
}

impl Table {
    /// Indexes `path`, handing each row to `each` (its number and cells) as it streams past; a
    /// missing file is an empty table.
    fn scan(
        path: &Path,
        mut each: impl FnMut(u32, &csv::StringRecord, &Columns),
    ) -> Result<Table, Error> {
        let file = Pinned::new(path.to_path_buf());
        if file.stamp.is_none() {
            return Ok(Table {
                columns: Columns::default(),
                file,
                at: vec![0],
            });
        }
        let (mut r, bom) = csv_reader(path)?;
        let bad = |e: &dyn std::fmt::Display| read_error(path, e);
        let columns = Columns::of(r.headers().map_err(|e| bad(&e))?);
        let mut at = vec![bom + r.position().byte()];
        let mut rec = csv::StringRecord::new();
        while r.read_record(&mut rec).map_err(|e| bad(&e))? {
            let row = u32::try_from(at.len() - 1).map_err(|e| bad(&e))?;
            each(row, &rec, &columns);
            at.push(bom + r.position().byte());
        }
        Ok(Table { columns, file, at })
    }

    /// The cell of `row` under `column` (empty when either is missing).
    pub fn get<'a>(&self, row: &'a csv::StringRecord, column: &str) -> &'a str {
        self.columns.get(row, column)
    }

    /// Rows `rows` (ascending), read back from the file; each must hold `key` under `column`
    /// (the rows asked for are the ones indexed under it), or the file changed since.
    fn rows(&self, rows: &[u32], column: &str, key: &str) -> Result<Vec<csv::StringRecord>, Error> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut file = self.file.open()?;
        let mut out = Vec::with_capacity(rows.len());
        // Runs of consecutive rows are one read each.
        let mut k = 0;
        while k < rows.len() {
            let first = rows[k] as usize;
            let mut last = first;
            while k + 1 < rows.len() && rows[k + 1] as usize == last + 1 {
                last += 1;
                k += 1;
            }
            k += 1;
            let (Some(&start), Some(&end)) = (self.at.get(first), self.at.get(last + 1)) else {
                return Err(self.file.changed());
            };
            let bytes = self.file.bytes(&mut file, start, end - start)?;
            let mut r = csv::ReaderBuilder::new()
                .flexible(true)
                .has_headers(false)
                .from_reader(bytes.as_slice());
            for _ in first..=last {
                let mut rec = csv::StringRecord::new();
                let read = r.read_record(&mut rec).map_err(|_| self.file.changed())?;
                if !read || self.columns.get(&rec, column) != key {
                    return Err(self.file.changed());
                }
                out.push(rec);
            }
        }
        Ok(out)
    }
}

/// Row numbers by the value of one column (a page looks rows up by id; scanning the sheet per
/// topic would be quadratic).
#[derive(Debug, Default)]
pub struct Lookup(HashMap<String, Vec<u32>>);

impl Lookup {
    fn of(sheet: &Sheet, column: &str) -> Lookup {
        let mut m = Lookup::default();
        for (i, r) in sheet.rows.iter().enumerate() {
            m.add(sheet.get(r, column), i as u32);
        }
        m
    }

    fn add(&mut self, key: &str, row: u32) {
        if !key.is_empty() {
            match self.0.get_mut(key) {
                Some(rows) => rows.push(row),
                None => {
                    self.0.insert(key.to_owned(), vec![row]);
                }
            }
        }
    }

    fn get(&self, key: &str) -> &[u32] {
        self.0.get(key).map_or(&[][..], Vec::as_slice)
    }

    /// The rows of `sheet` whose column is `key`, in sheet order.
    pub fn rows<'a>(&self, sheet: &'a Sheet, key: &str) -> Vec<&'a csv::StringRecord> {
        self.get(key)
            .iter()
            .map(|&i| &sheet.rows[i as usize])
            .collect()
    }
}

/// A suggestion id as a number, for matching decisions to issues without holding millions of
/// ids as strings (ids are 16 hex digits; anything else is hashed).
fn member_key(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    if id.len() == 16
        && let Ok(k) = u64::from_str_radix(id, 16)
    {
        return k;
    }
    let mut h = std::hash::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// The suggestion table and what is found through it.
struct Suggestions {
    table: Table,
    of_submission: Lookup,
    of_issue: Lookup,
    /// (member key, issue row) of every suggestion in an issue, sorted, each once.
    members: Vec<(u64, u32)>,
    /// Distinct members of each issue row.
    issue_size: Vec<u32>,
}

impl Suggestions {
    /// Indexes `path`, its issue members matched to the rows of `issues` (found by 问题编号
    /// through `issue_rows`).
    fn scan(path: &Path, issues: &Sheet, issue_rows: &Lookup) -> Result<Suggestions, Error> {
        let mut of_submission = Lookup::default();
        let mut of_issue = Lookup::default();
        let mut members = Vec::new();
        let table = Table::scan(path, |row, rec, columns| {
            of_submission.add(columns.get(rec, "材料ID"), row);
            let issue = columns.get(rec, "问题编号");
            of_issue.add(issue, row);
            if let Some(&i) = issue_rows.get(issue).first() {
                members.push((member_key(columns.get(rec, "ID")), i));
            }
        })?;
        members.sort_unstable();
        members.dedup();
        members.shrink_to_fit();
        let mut issue_size = vec![0u32; issues.rows.len()];
        for &(_, i) in &members {
            issue_size[i as usize] += 1;
        }
        Ok(Suggestions {
            table,
            of_submission,
            of_issue,
            members,
            issue_size,
        })
    }
}

/// A run's outputs.
pub struct Store {
    /// The output folder.
    pub out: PathBuf,
    /// `run.json`.
    pub run: serde_json::Value,
    /// Submissions in run order.
    pub entries: Vec<Entry>,
    /// Entries ordered by id (positions in `entries`).
    by_id: Vec<u32>,
    /// `submissions.jsonl`.
    jsonl: Pinned,
    /// `suggestions.csv`.
    sg: Suggestions,
    /// `issues.csv`.
    pub issues: Sheet,
    /// Issues by 问题编号.
    issue_rows: Lookup,
    /// Issues by 专题编号.
    pub issues_of_topic: Lookup,
    /// `topics.csv`.
    pub topics: Sheet,
    /// `cadres.csv`.
    pub cadres: Sheet,
    /// `ingest_errors.csv`.
    pub errors: Sheet,
    /// The keyword index, or why there is none to search (a sentence in Chinese: the run wrote
    /// none, or an older diaoyan wrote it).
    pub index: std::result::Result<Index, String>,
    /// When `run.json` was last changed (to notice a re-run).
    pub stamp: Option<std::time::SystemTime>,
}

/// A run's keyword index, held open only while it is searched and for [`Index::IDLE`] after:
/// a re-run while the page is open moves the index folder aside and deletes it, which Windows
/// refuses while files in it are open (a page holding it open made the second such re-run fail
/// with "Access denied"). The server closes it when idle ([`Index::close_idle`]); a search opens
/// it again (40–60 ms at 100k documents, against ~10 ms for a search on the open index: the files
/// are mapped, not read).
pub struct Index {
    at: PathBuf,
    seg: diaoyan_text::Segmenter,
    /// The open searcher and when it was last asked for.
    open: Mutex<Option<(Arc<diaoyan_index::Searcher>, Instant)>>,
}

impl Index {
    /// How long an unused index stays open.
    pub const IDLE: Duration = Duration::from_secs(2);

    /// Opens the index at `at` (to say at once why it cannot be searched, if it cannot).
    fn open(at: PathBuf, seg: diaoyan_text::Segmenter) -> std::result::Result<Index, String> {
        let searcher = diaoyan_index::Searcher::open(&at, &seg).map_err(|e| format!("{e}。"))?;
        Ok(Index {
            at,
            seg,
            open: Mutex::new(Some((Arc::new(searcher), Instant::now()))),
        })
    }

    /// The searcher, opened again if it was closed.
    pub fn searcher(&self) -> std::result::Result<Arc<diaoyan_index::Searcher>, String> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((searcher, used)) = open.as_mut() {
            *used = Instant::now();
            return Ok(searcher.clone());
        }
        let searcher = diaoyan_index::Searcher::open(&self.at, &self.seg)
            .map(Arc::new)
            .map_err(|e| format!("{e}。"))?;
        *open = Some((searcher.clone(), Instant::now()));
        Ok(searcher)
    }

    /// Closes the index when it has not been asked for in `idle` (a search still running keeps
    /// its own handle until it ends).
    pub fn close_idle(&self, idle: Duration) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open
            .as_ref()
            .is_some_and(|(_, used)| used.elapsed() >= idle)
        {
            *open = None;
        }
    }

    /// Whether the index is open now.
    #[cfg(test)]
    fn is_open(&self) -> bool {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }
}

/// When `run.json` in `out` was last changed.
pub fn stamp(out: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(out.join("run.json"))
        .and_then(|m| m.modified())
        .ok()
}

/// Indexes `submissions.jsonl` line by line as it streams in (the whole file is 3.1 GB at 1M
/// documents): an [`Entry`] per line, the text skipped.
fn scan_submissions(path: &Path) -> Result<Vec<Entry>, Error> {
    let bad = |n: usize, e: &dyn std::fmt::Display| read_error(path, &format!("第 {n} 行：{e}"));
    let mut file = BufReader::new(
        File::open(path).map_err(|e| read_error(path, &diaoyan_model::io_reason(&e)))?,
    );
    let mut entries = Vec::new();
    let mut line = Vec::new();
    let mut at = 0u64;
    for n in 1.. {
        line.clear();
        let len = file.read_until(b'\n', &mut line).map_err(|e| bad(n, &e))?;
        if len == 0 {
            break;
        }
        let start = at;
        at += len as u64;
        let text = std::str::from_utf8(&line).map_err(|e| bad(n, &e))?;
        if text.trim().is_empty() {
            continue;
        }
        let e: EntryLine = serde_json::from_str(text).map_err(|e| bad(n, &e))?;
        let (judged, reason) = e.assessment.map_or((None, String::new()), |a| {
            let reason = a.reasons.into_iter().next().map(|r| r.text);
            (Some((a.score, a.verdict)), reason.unwrap_or_default())
        });
        entries.push(Entry {
            id: e.id,
            path: e.path,
            author: e.author,
            kind: e.kind,
            judged,
            reason,
            line: (start, u32::try_from(len).map_err(|e| bad(n, &e))?),
        });
    }
    entries.shrink_to_fit();
    Ok(entries)
}

impl Store {
    /// Reads the run in `out`.
    pub fn load(out: &Path) -> Result<Store, Error> {
        let stamp = stamp(out);
        let run_path = out.join("run.json");
        let run: serde_json::Value = std::fs::read(&run_path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => "没有 run.json".to_owned(),
                _ => diaoyan_model::io_reason(&e),
            })
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|reason| Error::NotARun {
                path: out.to_path_buf(),
                reason,
            })?;
        if run["tool"] != "diaoyan" {
            return Err(Error::NotARun {
                path: out.to_path_buf(),
                reason: "run.json 不是 diaoyan 写的".into(),
            });
        }
        let jsonl_path = out.join("submissions.jsonl");
        let jsonl = Pinned::new(jsonl_path.clone());
        let issues = Sheet::read(&out.join("issues.csv"))?;
        let issue_rows = Lookup::of(&issues, "问题编号");
        // The two large files side by side.
        let (entries, suggestions) = std::thread::scope(|s| {
            let sg =
                s.spawn(|| Suggestions::scan(&out.join("suggestions.csv"), &issues, &issue_rows));
            let entries = scan_submissions(&jsonl_path);
            let sg = sg.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            (entries, sg)
        });
        let (entries, sg) = (entries?, suggestions?);
        let mut by_id: Vec<u32> = (0..entries.len() as u32).collect();
        by_id.sort_unstable_by(|&a, &b| {
            entries[a as usize]
                .id
                .as_str()
                .cmp(entries[b as usize].id.as_str())
        });
        // The dictionary the index was built with (the built-in one when the run's lexicon files
        // are gone: matching is by characters, only ranking uses words).
        let seg = diaoyan_index::run_lexicons(out)
            .map(|l| diaoyan_text::Segmenter::new(&l))
            .unwrap_or_else(|_| diaoyan_text::Segmenter::builtin());
        let at = out.join("index");
        let index = if at.is_dir() {
            Index::open(at, seg)
        } else {
            Err("这次运行没有生成检索索引（index 文件夹）。".to_owned())
        };
        Ok(Store {
            out: out.to_path_buf(),
            run,
            entries,
            by_id,
            jsonl,
            sg,
            issues_of_topic: Lookup::of(&issues, "专题编号"),
            issue_rows,
            issues,
            topics: Sheet::read(&out.join("topics.csv"))?,
            cadres: Sheet::read(&out.join("cadres.csv"))?,
            errors: Sheet::read(&out.join("ingest_errors.csv"))?,
            index,
            stamp,
        })
    }

    /// The issue of this run a decision on an issue refers to ([`diaoyan_digest::issue_of`]'s
    /// rule, its members counted through the sorted member keys).
    pub fn issue_of(&self, d: &Decision) -> Option<&str> {
        let members = &self.sg.members;
        let mut common: HashMap<u32, usize> = HashMap::new();
        for m in &d.members {
            let k = member_key(m);
            let from = members.partition_point(|&(x, _)| x < k);
            for &(_, i) in members[from..].iter().take_while(|&&(x, _)| x == k) {
                *common.entry(i).or_default() += 1;
            }
        }
        let is = &self.issues;
        diaoyan_digest::issue_by_overlap(
            d,
            is.rows
                .iter()
                .enumerate()
                .map(|(i, r)| diaoyan_digest::Overlap {
                    id: is.get(r, "问题编号"),
                    title: is.get(r, "标题"),
                    members: self.sg.issue_size[i] as usize,
                    common: common.get(&(i as u32)).copied().unwrap_or(0),
                }),
        )
    }

    /// `suggestions.csv`, whose rows [`Store::suggestions_of_issue`] and
    /// [`Store::suggestions_of_submission`] read back.
    pub fn suggestions(&self) -> &Table {
        &self.sg.table
    }

    /// The member suggestion ids of an issue, read back from `suggestions.csv`.
    pub fn issue_members(&self, id: &str) -> Result<Vec<String>, Error> {
        Ok(self
            .suggestions_of_issue(id)?
            .iter()
            .map(|r| self.sg.table.get(r, "ID").to_owned())
            .collect())
    }

    /// The suggestion rows of an issue, in file order.
    pub fn suggestions_of_issue(&self, id: &str) -> Result<Vec<csv::StringRecord>, Error> {
        self.sg.table.rows(self.sg.of_issue.get(id), "问题编号", id)
    }

    /// The suggestion rows taken from a submission, in file order.
    pub fn suggestions_of_submission(&self, id: &str) -> Result<Vec<csv::StringRecord>, Error> {
        self.sg
            .table
            .rows(self.sg.of_submission.get(id), "材料ID", id)
    }

    /// The row of an issue in `issues.csv`.
    pub fn issue(&self, id: &str) -> Option<&csv::StringRecord> {
        self.issue_rows.rows(&self.issues, id).into_iter().next()
    }

    /// What the lists hold of the submission with this id.
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.by_id
            .binary_search_by(|&i| self.entries[i as usize].id.as_str().cmp(id))
            .ok()
            .map(|k| &self.entries[self.by_id[k] as usize])
    }

    /// The submission with this id, read back whole from `submissions.jsonl`.
    pub fn doc(&self, id: &str) -> Result<Option<Doc>, Error> {
        let Some(e) = self.entry(id) else {
            return Ok(None);
        };
        let mut file = self.jsonl.open()?;
        let bytes = self.jsonl.bytes(&mut file, e.line.0, u64::from(e.line.1))?;
        let doc: Doc = serde_json::from_slice(&bytes).map_err(|_| self.jsonl.changed())?;
        if doc.sub.id != e.id {
            return Err(self.jsonl.changed());
        }
        Ok(Some(doc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_is_let_go_when_idle_and_opened_again_when_searched() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("index");
        let seg = diaoyan_text::Segmenter::builtin();
        diaoyan_index::build(&at, &seg, std::iter::empty()).unwrap();
        let index = Index::open(at.clone(), seg).unwrap();
        assert!(index.is_open());
        index.close_idle(Duration::from_secs(3600));
        assert!(index.is_open(), "used a moment ago");
        index.close_idle(Duration::ZERO);
        assert!(!index.is_open());
        // Closed, the folder can go (a re-run moving it aside) and a search says so.
        let aside = dir.path().join("aside");
        std::fs::rename(&at, &aside).unwrap();
        assert!(index.searcher().is_err());
        std::fs::rename(&aside, &at).unwrap();
        let searcher = index.searcher().unwrap();
        assert!(index.is_open());
        assert!(searcher.is_empty());
        // A search in progress keeps its own handle while the index is let go.
        index.close_idle(Duration::ZERO);
        assert!(!index.is_open() && searcher.is_empty());
    }

    #[test]
    fn a_sheet_streams_in_with_or_without_its_bom() {
        let dir = tempfile::tempdir().unwrap();
        let text = "ID,内容\nS1,修通机耕路\nS2,\"路灯，三盏\",多余的格\nS3\n";
        for (name, bom) in [("a.csv", true), ("b.csv", false)] {
            let mut bytes = if bom {
                b"\xEF\xBB\xBF".to_vec()
            } else {
                Vec::new()
            };
            bytes.extend_from_slice(text.as_bytes());
            std::fs::write(dir.path().join(name), bytes).unwrap();
            let s = Sheet::read(&dir.path().join(name)).unwrap();
            assert_eq!(s.rows.len(), 3, "{name}");
            let cells: Vec<(&str, &str)> = s
                .rows
                .iter()
                .map(|r| (s.get(r, "ID"), s.get(r, "内容")))
                .collect();
            assert_eq!(
                cells,
                [("S1", "修通机耕路"), ("S2", "路灯，三盏"), ("S3", "")],
                "{name}"
            );
            assert_eq!(s.get(&s.rows[0], "没有这一列"), "");
        }
        let missing = Sheet::read(&dir.path().join("none.csv")).unwrap();
        assert!(missing.rows.is_empty());
    }

    fn line(id: &str, path: &str, text: &str, judged: Option<(f64, Verdict, &str)>) -> String {
        let sub = Submission {
            id: id.into(),
            path: path.into(),
            author: "张三".into(),
            kind: Some(Kind::Note),
            text: text.into(),
            ..Submission::default()
        };
        let mut v = serde_json::to_value(&sub).unwrap();
        if let Some((score, verdict, reason)) = judged {
            let a = Assessment {
                id: id.into(),
                score,
                verdict,
                reasons: vec![diaoyan_model::Reason {
                    code: "boilerplate".into(),
                    text: reason.to_owned(),
                    severity: verdict,
                }],
                signals: diaoyan_model::Signals::default(),
            };
            v["assessment"] = serde_json::to_value(&a).unwrap();
        }
        v.to_string()
    }

    /// A run folder: three submissions, suggestions of two of them interleaved (one with a
    /// quoted cell over two lines), two issues.
    fn run_folder(dir: &Path) {
        std::fs::write(dir.join("run.json"), r#"{"tool":"diaoyan"}"#).unwrap();
        let lines = [
            line(
                "a1",
                "甲.txt",
                "石桥村机耕路坑洼不平。",
                Some((30.0, Verdict::Redo, "套话多")),
            ),
            line(
                "b2",
                "乙.txt",
                "河口村路灯不亮，\n三盏。",
                Some((80.0, Verdict::Pass, "")),
            ),
            line("c3", "丙.txt", "没有意见。", None),
        ];
        std::fs::write(dir.join("submissions.jsonl"), lines.join("\n") + "\n\n").unwrap();
        std::fs::write(
            dir.join("suggestions.csv"),
            "\u{feff}ID,材料ID,内容,问题编号,标题\n\
             00000000000000a1,a1,修机耕路,I1,\n\
             00000000000000b1,b2,\"路灯，\n三盏\",I2,\n\
             00000000000000a2,a1,硬化路面,I1,\n\
             00000000000000a3,a1,加宽,,\n\
             00000000000000b2,b2,换灯泡,I2,\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("issues.csv"),
            "问题编号,标题\nI1,机耕路\nI2,路灯\n",
        )
        .unwrap();
    }

    fn cells(s: &Store, rows: &[csv::StringRecord]) -> Vec<String> {
        rows.iter()
            .map(|r| s.suggestions().get(r, "内容").to_owned())
            .collect()
    }

    #[test]
    fn texts_and_suggestions_are_read_back_by_their_offsets() {
        let dir = tempfile::tempdir().unwrap();
        run_folder(dir.path());
        let s = Store::load(dir.path()).unwrap();
        // The lists' part, in run order, the blank line skipped.
        let ids: Vec<&str> = s.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["a1", "b2", "c3"]);
        let a = s.entry("a1").unwrap();
        assert_eq!((a.path.as_str(), a.author.as_str()), ("甲.txt", "张三"));
        assert_eq!(
            (a.judged, a.reason.as_str()),
            (Some((30.0, Verdict::Redo)), "套话多")
        );
        assert_eq!(s.entry("c3").unwrap().judged, None);
        assert!(s.entry("zz").is_none());
        // The whole record, text included, read back from its line.
        for (id, text) in [
            ("b2", "河口村路灯不亮，\n三盏。"),
            ("c3", "没有意见。"),
            ("a1", "石桥村机耕路坑洼不平。"),
        ] {
            let d = s.doc(id).unwrap().unwrap();
            assert_eq!((d.sub.id.as_str(), d.sub.text.as_str()), (id, text));
        }
        assert_eq!(
            s.doc("b2").unwrap().unwrap().assessment.unwrap().score,
            80.0
        );
        assert!(s.doc("zz").unwrap().is_none());
        // Rows of one submission, not consecutive in the file; a cell over two lines.
        let a1 = s.suggestions_of_submission("a1").unwrap();
        assert_eq!(cells(&s, &a1), ["修机耕路", "硬化路面", "加宽"]);
        let b2 = s.suggestions_of_submission("b2").unwrap();
        assert_eq!(cells(&s, &b2), ["路灯，\n三盏", "换灯泡"]);
        assert!(s.suggestions_of_submission("c3").unwrap().is_empty());
        assert_eq!(
            s.issue_members("I1").unwrap(),
            ["00000000000000a1", "00000000000000a2"]
        );
        assert_eq!(s.sg.issue_size, [2, 2]);
    }

    #[test]
    fn a_file_replaced_by_a_rerun_is_not_read_by_old_offsets() {
        let dir = tempfile::tempdir().unwrap();
        run_folder(dir.path());
        let s = Store::load(dir.path()).unwrap();
        // A re-run rewrites the suggestions (another order) and the submissions.
        let csv = dir.path().join("suggestions.csv");
        let old = std::fs::read_to_string(&csv).unwrap();
        std::fs::write(&csv, old.replace("修机耕路", "修机耕路和水渠")).unwrap();
        let e = s.suggestions_of_submission("a1").unwrap_err();
        assert!(matches!(e, Error::Changed { .. }), "{e}");
        assert!(e.to_string().contains("suggestions.csv"), "{e}");
        let jsonl = dir.path().join("submissions.jsonl");
        let old = std::fs::read_to_string(&jsonl).unwrap();
        let mut lines: Vec<&str> = old.lines().collect();
        lines.swap(0, 1);
        std::fs::write(&jsonl, lines.join("\n") + "\n\n").unwrap();
        let e = s.doc("a1").unwrap_err();
        assert!(matches!(e, Error::Changed { .. }), "{e}");
        // Read again, the run is whole.
        let s = Store::load(dir.path()).unwrap();
        assert_eq!(s.doc("a1").unwrap().unwrap().sub.id.as_str(), "a1");
        assert_eq!(
            cells(&s, &s.suggestions_of_submission("a1").unwrap())[0],
            "修机耕路和水渠"
        );
    }

    #[test]
    fn a_row_at_an_offset_is_checked_against_the_key_it_was_found_by() {
        let dir = tempfile::tempdir().unwrap();
        run_folder(dir.path());
        let s = Store::load(dir.path()).unwrap();
        // Rows of b2 asked for under another key: what a changed file with the same length and
        // time would show.
        let rows = s.sg.of_submission.get("b2");
        let e = s.sg.table.rows(rows, "材料ID", "a1").unwrap_err();
        assert!(matches!(e, Error::Changed { .. }), "{e}");
    }

    /// The review page matches a decision to an issue as the digest does, by counting members
    /// through sorted keys instead of sets of ids.
    #[test]
    fn decisions_find_their_issue_as_the_digest_finds_it() {
        use diaoyan_model::{DecisionAction, DecisionTarget};
        let dir = tempfile::tempdir().unwrap();
        run_folder(dir.path());
        let s = Store::load(dir.path()).unwrap();
        let sheet = Sheet::read(&dir.path().join("suggestions.csv")).unwrap();
        let refs: Vec<diaoyan_digest::IssueRef> = s
            .issues
            .rows
            .iter()
            .map(|r| {
                let id = s.issues.get(r, "问题编号");
                diaoyan_digest::IssueRef {
                    id,
                    title: s.issues.get(r, "标题"),
                    members: sheet
                        .rows
                        .iter()
                        .filter(|m| sheet.get(m, "问题编号") == id)
                        .map(|m| sheet.get(m, "ID"))
                        .collect(),
                }
            })
            .collect();
        let decision = |id: &str, about: &str, members: &[&str]| Decision {
            target: DecisionTarget::Issue,
            id: id.into(),
            action: DecisionAction::Handled,
            verdict: None,
            machine: None,
            note: String::new(),
            reviewer: String::new(),
            at: String::new(),
            about: about.into(),
            members: members.iter().map(|m| (*m).to_owned()).collect(),
        };
        let cases = [
            // Renumbered: the members say I2.
            (
                decision("I1", "旧标题", &["00000000000000b1", "00000000000000b2"]),
                Some("I2"),
            ),
            // One of two members: half of the smaller set.
            (decision("I9", "", &["00000000000000a2"]), Some("I1")),
            // A member each: the later issue wins the tie, as max_by_key does.
            (
                decision("I9", "", &["00000000000000a1", "00000000000000b1"]),
                Some("I2"),
            ),
            // No member left in any issue: the same id and title instead.
            (
                decision("I1", "机耕路", &["00000000000000a3", "x"]),
                Some("I1"),
            ),
            // Nothing in common, another title: none.
            (
                decision("I1", "别的", &["00000000000000a3", "not-an-id"]),
                None,
            ),
        ];
        for (d, want) in &cases {
            assert_eq!(s.issue_of(d), *want, "{:?}", d.members);
            assert_eq!(diaoyan_digest::issue_of(d, &refs), *want, "{:?}", d.members);
        }
    }

    #[test]
    fn a_bad_submission_line_is_named_by_its_number() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("run.json"), r#"{"tool":"diaoyan"}"#).unwrap();
        std::fs::write(dir.path().join("submissions.jsonl"), "\n{不是 JSON\n").unwrap();
        let e = Store::load(dir.path())
            .err()
            .expect("a bad line")
            .to_string();
        assert!(
            e.contains("submissions.jsonl") && e.contains("第 2 行"),
            "{e}"
        );
        // Bytes that are not UTF-8 are named by their line too.
        std::fs::write(dir.path().join("submissions.jsonl"), b"\n\n\xff\xfe\n").unwrap();
        let e = Store::load(dir.path())
            .err()
            .expect("not UTF-8")
            .to_string();
        assert!(e.contains("第 3 行"), "{e}");
    }
}
