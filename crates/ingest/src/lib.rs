//! Ingest: files and tables → [`Submission`] records, with a Chinese reason for every file that
//! could not be read.
//!
//! [`ingest`] walks a folder (or reads one table file) and returns an [`IngestOutput`]: every
//! file under the input ends up in exactly one place — a submission (or one per table row), a
//! [`FileError`], the metadata list (manifest, roster) or the skipped list (Office lock files
//! `~$*`, hidden files). Files are read in parallel; one bad file never stops the batch.
//!
//! Metadata comes from, in order of trust: the manifest and roster in the input root, header
//! lines in the text (`姓名：…`, `单位：…`, dates, `第3天`), then file and folder names. What no
//! source states stays empty.
//!
//! ```no_run
//! let out = diaoyan_ingest::ingest("corpora/sample".as_ref(), &Default::default()).unwrap();
//! println!("{} submissions, {} unreadable", out.submissions.len(), out.errors.len());
//! ```

mod config;
mod decode;
mod doc;
mod docx;
mod memo;
mod meta;
mod ole;
mod pdf;
mod table;
mod web;

pub use config::{ColumnMap, IngestConfig};
pub use diaoyan_model::{Cadre, FileError, IngestOutput, Submission};
pub use memo::{FileMemo, KeepFiles, KeptFile, MemoUse, Seen};

use diaoyan_model::{Kind, Level, Shared};
use meta::Meta;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Fatal ingest errors (a bad *file* is never fatal: it becomes a [`FileError`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input path does not exist or cannot be read.
    #[error("无法读取输入 {path}：{reason}")]
    Input {
        /// The input path.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The ingest crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

const DOC_EXTS: &[&str] = &["txt", "md", "docx", "text"];
const TABLE_EXTS: &[&str] = &["csv", "tsv", "xlsx", "xlsm", "xls", "et", "jsonl"];
const MANIFEST_STEMS: &[&str] = &["manifest", "清单", "文件清单", "材料清单"];
const ROSTER_STEMS: &[&str] = &["roster", "花名册", "名单", "蹲点干部名单", "干部名单"];

/// What reading one file gave: submissions with the metadata their own text states, and
/// per-file (or per-row) errors.
type FileResult = (Vec<(Submission, Meta)>, Vec<FileError>);

/// A file found by the walk.
struct Found {
    abs: PathBuf,
    rel: String,
}

/// What the walk sorted the input into.
#[derive(Default)]
struct Walk {
    files: Vec<Found>,
    metadata: Vec<Found>,
    skipped: Vec<String>,
    outputs: Vec<String>,
    errors: Vec<FileError>,
}

/// Progress events from [`ingest_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// The walk is done: this many files will be read.
    Found(usize),
    /// One more file was read.
    Read,
}

/// The first header cell equal to one of `names` (trimmed), else the first containing one.
pub fn find_column(header: &[String], names: &[&str]) -> Option<usize> {
    header
        .iter()
        .position(|h| names.iter().any(|n| h.trim() == *n))
        .or_else(|| {
            header
                .iter()
                .position(|h| names.iter().any(|n| h.contains(n)))
        })
}

/// Reads the rows of one table file (.csv, .tsv, .xlsx, .jsonl; the first sheet of a workbook)
/// as text cells, header row included. For tools that need columns ingest does not map, such as
/// a labelled training sheet.
pub fn read_rows(
    path: &Path,
    cfg: &IngestConfig,
) -> std::result::Result<Vec<Vec<String>>, FileError> {
    let rel = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| err(&rel, "无法读取", io_reason(&e)))?;
    let (_, ext) = stem_ext(file_name(&rel));
    let table =
        table::read_table(&ext, &bytes, cfg.max_entry_bytes).map_err(|(r, d)| err(&rel, r, d))?;
    let sheet = table
        .sheets
        .into_iter()
        .next()
        .ok_or_else(|| err(&rel, "表格为空", "没有工作表"))?;
    Ok(sheet.rows.into_iter().map(|(_, r)| r).collect())
}

thread_local! {
    /// Set while this thread reads one input file inside `catch_unwind`.
    static READING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the current thread is reading an input file, where a panic costs that file only (it
/// is listed in `ingest_errors.csv` as 内部错误). A panic hook uses this to stay quiet then.
pub fn reading_a_file() -> bool {
    READING.get()
}

/// Reads every file under `input` (a folder, walked recursively, or one table file).
pub fn ingest(input: &Path, cfg: &IngestConfig) -> Result<IngestOutput> {
    ingest_with(input, cfg, &|_| {})
}

/// [`ingest`], reporting progress to `tick` (called from worker threads).
pub fn ingest_with(
    input: &Path,
    cfg: &IngestConfig,
    tick: &(dyn Fn(Tick) + Sync),
) -> Result<IngestOutput> {
    ingest_memo(input, cfg, tick, None::<(fn() -> FileMemo, _)>).map(|(out, _)| out)
}

/// [`ingest_with`], taking over what an earlier run read from the files unchanged since (see
/// [`FileMemo`]): with a `memo`, the files the earlier memo holds unchanged are not read again.
/// The output is the same as without it. This run's memo, for the next run, goes to the
/// memo's [`KeepFiles`] as the files are read (whole, or as what changed: see there); returned
/// is how the earlier one was used.
///
/// The earlier memo's loader is called once, when the input has been walked: whoever loads it
/// from disk can do it while the folder is walked (at 100,000 files, 0.42 s to load beside a
/// 0.34 s walk).
pub fn ingest_memo(
    input: &Path,
    cfg: &IngestConfig,
    tick: &(dyn Fn(Tick) + Sync),
    memo: Option<(impl FnOnce() -> FileMemo, &dyn KeepFiles)>,
) -> Result<(IngestOutput, Option<MemoUse>)> {
    let started = std::time::SystemTime::now();
    let meta = std::fs::metadata(input).map_err(|e| Error::Input {
        path: input.display().to_string(),
        reason: io_reason(&e),
    })?;
    let walk = if meta.is_dir() {
        walk(input, &cfg.exclude)
    } else {
        let rel = input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Walk {
            files: vec![Found {
                abs: input.to_path_buf(),
                rel,
            }],
            ..Walk::default()
        }
    };
    let mut out = IngestOutput {
        files_seen: walk.files.len() + walk.metadata.len() + walk.skipped.len() + walk.errors.len(),
        skipped: walk.skipped,
        skipped_outputs: walk.outputs,
        errors: walk.errors,
        ..IngestOutput::default()
    };

    // Metadata first: the manifest and the roster inform every other file.
    let mut manifest = Manifest::default();
    for f in &walk.metadata {
        out.metadata_files.push(f.rel.clone());
        match read_metadata(f, cfg) {
            Ok(MetadataFile::Roster(r)) => out.roster.extend(r),
            // The first (and usually only) manifest is taken as it is, not inserted again.
            Ok(MetadataFile::Manifest(m)) if manifest.is_empty() => manifest = m,
            Ok(MetadataFile::Manifest(m)) => manifest.extend(m),
            Err(e) => out.errors.push(e),
        }
    }

    tick(Tick::Found(walk.files.len()));
    // The earlier run's files, when it read this same folder.
    let root = std::fs::canonicalize(input)
        .unwrap_or_else(|_| input.to_path_buf())
        .to_string_lossy()
        .into_owned();
    let (earlier, keep) = match memo {
        Some((load, keep)) => (Some(load), Some(keep)),
        None => (None, None),
    };
    let earlier = earlier.map(|load| load()).filter(|m| m.root == root);
    // Written whole when there is no earlier memo to lay this run's changes over.
    let whole = earlier.is_none() || keep.is_some_and(|k| k.whole());
    let mut earlier = earlier.unwrap_or_default();
    if let Some(k) = keep {
        k.begin(&root, whole, walk.files.len());
    }
    let known: Vec<Option<memo::Seen>> = if earlier.is_empty() {
        Vec::new()
    } else {
        walk.files
            .iter()
            .map(|f| earlier.get(&f.rel).map(|k| k.seen))
            .collect()
    };
    let outcomes = ahead::read_all(
        &walk.files,
        cfg,
        tick,
        ahead::Reading {
            started,
            known: &known,
            keep,
        },
    );
    drop(known);
    // Unchanged files' results are taken over (and kept again when the memo is written
    // whole); the files read afresh were handed on as they were read.
    let mut used = MemoUse::default();
    let results: Vec<FileResult> = walk
        .files
        .iter()
        .zip(outcomes)
        .map(|(f, (result, seen))| match result {
            Some(r) => {
                used.read += 1;
                // The earlier memo's entry for a changed file is no longer this file: replaced
                // by the one just kept, or gone when it could not be kept.
                if earlier.take(&f.rel).is_some() {
                    used.unused += 1;
                    if let (None, Some(k), false) = (seen, keep, whole) {
                        k.gone(&f.rel);
                    }
                }
                r
            }
            None => {
                used.reused += 1;
                let k = earlier.take(&f.rel).expect("an unchanged file was kept");
                if let (Some(keep), true) = (keep, whole) {
                    keep.file(k.clone());
                }
                (k.read, k.errors)
            }
        })
        .collect();
    // Files kept earlier and not found now.
    used.unused += earlier.len();
    if let (Some(k), false) = (keep, whole) {
        for f in earlier.files() {
            k.gone(&f.path);
        }
    }
    drop(earlier);
    let kept = keep.map(|_| used);

    // Each file's submissions take their metadata (manifest, roster, their own text, their
    // path) and their ids on every worker; gathered in walk order.
    let roster = &out.roster;
    let done: Vec<(Vec<Submission>, Vec<FileError>)> = walk
        .files
        .par_iter()
        .zip(results)
        .map(|(found, (subs, errs))| {
            // The file's own path: a table row's path adds `#row`, and a name may hold `#`.
            // (Once per file, not per table row.)
            let from_path = meta::from_path(&found.rel, roster);
            let subs = subs
                .into_iter()
                .map(|(mut sub, inner)| {
                    let from_manifest = manifest
                        .get(sub.path.as_str())
                        .or_else(|| manifest.get(file_name(&sub.path)))
                        .cloned()
                        .unwrap_or_default();
                    let author = [&from_manifest.author, &inner.author, &from_path.author]
                        .into_iter()
                        .find(|a| !a.is_empty())
                        .cloned()
                        .unwrap_or_default();
                    let from_roster = meta::from_roster(&author, roster);
                    let m = from_manifest.or(&from_roster).or(&inner).or(&from_path);
                    sub.author = m.author.into();
                    sub.unit = m.unit.into();
                    sub.level = m.level;
                    sub.place = m.place.into();
                    sub.kind = sub.kind.or(m.kind);
                    sub.date = m.date.into();
                    sub.day = m.day;
                    sub.title = m.title;
                    sub.id = stable_id(&sub.path, &sub.ref_, &sub.text).into();
                    sub
                })
                .collect();
            (subs, errs)
        })
        .collect();
    // Made at its size: grown by doubling it was up to one and a half times that.
    out.submissions
        .reserve_exact(done.iter().map(|(subs, _)| subs.len()).sum());
    for (subs, errs) in done {
        out.errors.extend(errs);
        out.submissions.extend(subs);
    }
    share_repeated(&mut out.submissions);
    // Stable, as `sort_by` is: the same order.
    out.submissions
        .par_sort_by(|a, b| natural_path_cmp(&a.path, &b.path));
    out.errors.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((out, kept))
}

/// Makes submissions that name the same author, unit, place or date share one copy of it. A
/// cadre's dozens of notes all name the cadre, the unit and the contact point, and each was
/// given its own copy from the manifest, the roster or its header: at 1,000,000 submissions about
/// 4 M small strings (~0.13 GB) held to the end of the run.
fn share_repeated(subs: &mut [diaoyan_model::Submission]) {
    let mut kept: std::collections::HashSet<Shared> = std::collections::HashSet::new();
    for s in subs {
        for field in [&mut s.author, &mut s.unit, &mut s.place, &mut s.date] {
            if field.is_empty() {
                continue;
            }
            match kept.get(field.as_str()) {
                Some(one) => *field = one.clone(),
                None => {
                    kept.insert(field.clone());
                }
            }
        }
    }
}

/// Whether `dir` holds diaoyan's outputs: a `run.json` that diaoyan wrote (its `tool` field, or
/// the report's shape for runs older than that field).
fn is_output_folder(dir: &Path) -> bool {
    let Ok(bytes) = std::fs::read(dir.join("run.json")) else {
        return false;
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return false;
    };
    v.get("tool").and_then(|t| t.as_str()) == Some("diaoyan")
        || ["version", "stages", "counts", "outputs"]
            .iter()
            .all(|k| v.get(k).is_some())
}

/// Walks the folder in name order, following links (a link loop is reported, never followed
/// twice), and sorts what it finds. Folders holding diaoyan's own outputs, and `exclude`, are
/// skipped and listed.
fn walk(root: &Path, exclude: &[PathBuf]) -> Walk {
    // The folders are read ahead on threads of their own while the walk goes on in order.
    let ahead = warm::Ahead::new(root);
    std::thread::scope(|s| {
        ahead.start(s);
        let w = walk_in_order(root, exclude);
        ahead.stop();
        w
    })
}

/// [`walk`] itself, one folder after another.
fn walk_in_order(root: &Path, exclude: &[PathBuf]) -> Walk {
    let mut w = Walk::default();
    let exclude: Vec<PathBuf> = exclude
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let it = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    let mut it = it;
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| rel_path(root, p))
                    .unwrap_or_else(|| "（未知路径）".to_owned());
                let (reason, detail) = if e.loop_ancestor().is_some() {
                    (
                        "符号链接循环",
                        "该链接指向其上级目录，已跳过以免无限循环".to_owned(),
                    )
                } else {
                    (
                        "无法读取",
                        e.io_error().map_or_else(|| e.to_string(), io_reason),
                    )
                };
                w.errors.push(FileError {
                    path,
                    reason: reason.into(),
                    detail,
                });
                continue;
            }
        };
        if entry.depth() == 0 {
            continue;
        }
        let name = os_name(entry.file_name());
        let rel = rel_path(root, entry.path());
        if name.starts_with('.') || name.starts_with("~$") {
            if entry.file_type().is_dir() {
                it.skip_current_dir();
            }
            w.skipped.push(rel);
            continue;
        }
        if entry.file_type().is_dir() {
            let excluded = !exclude.is_empty()
                && std::fs::canonicalize(entry.path()).is_ok_and(|p| exclude.contains(&p));
            if excluded || is_output_folder(entry.path()) {
                it.skip_current_dir();
                w.outputs.push(rel);
            }
            continue;
        }
        let found = Found {
            abs: entry.path().to_path_buf(),
            rel,
        };
        let (stem, ext) = stem_ext(&name);
        if entry.depth() == 1
            && matches!(ext.as_str(), "csv" | "xlsx" | "xls")
            && (MANIFEST_STEMS.contains(&stem.as_str()) || ROSTER_STEMS.contains(&stem.as_str()))
        {
            w.metadata.push(found);
        } else {
            w.files.push(found);
        }
    }
    w
}

/// The date of a table cell: a date with or without a time (`2019/2/28 11:25:05`), an Excel
/// serial number, or the first date written anywhere in it; empty when there is none.
fn cell_date(cell: &str) -> String {
    diaoyan_text::parse_datetime(cell)
        .map(|(d, _)| d)
        .or_else(|| diaoyan_text::find_date(cell))
        .unwrap_or_default()
}

/// A cell with personal numbers and e-mail addresses masked (a name column may hold a phone).
fn masked(cell: String) -> String {
    match diaoyan_text::mask_personal(&cell) {
        std::borrow::Cow::Borrowed(_) => cell,
        std::borrow::Cow::Owned(m) => m,
    }
}

fn stem_ext(name: &str) -> (String, String) {
    match name.rsplit_once('.') {
        Some((s, e)) => (s.to_lowercase(), e.to_lowercase()),
        None => (name.to_lowercase(), String::new()),
    }
}

fn rel_path(root: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(root).unwrap_or(p);
    rel.components()
        .map(|c| os_name(c.as_os_str()))
        .collect::<Vec<_>>()
        .join("/")
}

/// A file name as a person reads it. Names that are not UTF-8 come from old zip tools and
/// Windows copies and are almost always GBK: decoded as such when they decode cleanly.
fn os_name(name: &std::ffi::OsStr) -> String {
    if let Some(s) = name.to_str() {
        return s.to_owned();
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let (text, _, bad) = encoding_rs::GB18030.decode(name.as_bytes());
        if !bad {
            return text.into_owned();
        }
    }
    name.to_string_lossy().into_owned()
}

fn file_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

pub(crate) use diaoyan_model::io_reason;

fn err(path: &str, reason: &str, detail: impl Into<String>) -> FileError {
    FileError {
        path: path.to_owned(),
        reason: reason.to_owned(),
        detail: detail.into(),
    }
}

/// Stable id: 16 hex digits of xxh3 over path, row ref and text.
fn stable_id(path: &str, ref_: &str, text: &str) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(path.as_bytes());
    h.update(&[0]);
    h.update(ref_.as_bytes());
    h.update(&[0]);
    h.update(text.as_bytes());
    format!("{:016x}", h.digest())
}

/// Compares paths so that `#9` sorts before `#10` (table rows in sheet order).
fn natural_path_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.split_once('#'), b.split_once('#')) {
        (Some((pa, ra)), Some((pb, rb))) if pa == pb => {
            let key = |r: &str| {
                let (sheet, row) = r.rsplit_once('!').unwrap_or(("", r));
                (sheet.to_owned(), row.parse::<u64>().unwrap_or(u64::MAX))
            };
            key(ra).cmp(&key(rb))
        }
        _ => a.cmp(b),
    }
}

/// Reads one file's bytes (`ext` its lower-case extension): every reader, no file system.
fn read_bytes(f: &Found, ext: &str, bytes: &[u8], cfg: &IngestConfig) -> FileResult {
    let ext = ext.to_owned();
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return (vec![], vec![err(&f.rel, "空文件", "文件没有内容")]);
    }
    if TABLE_EXTS.contains(&ext.as_str()) {
        return read_table_rows(f, &ext, bytes, cfg);
    }
    match read_document(f, &ext, bytes, cfg) {
        Ok(pair) => (vec![pair], vec![]),
        Err(e) => (vec![], vec![e]),
    }
}

fn read_document(
    f: &Found,
    ext: &str,
    bytes: &[u8],
    cfg: &IngestConfig,
) -> std::result::Result<(Submission, Meta), FileError> {
    let mut warnings = Vec::new();
    let is_zip = bytes.starts_with(b"PK\x03\x04");
    let is_cfb = bytes.starts_with(ole::MAGIC);
    // What a .doc that is neither Word's own nor a .docx may be (office systems' "Word"
    // exports).
    let exported = if ext == "doc" && !is_cfb && !is_zip {
        web::sniff(bytes)
    } else {
        None
    };
    let (raw, encoding) = if is_cfb && matches!(ext, "doc" | "docx" | "wps") {
        let t = read_doc(f, ext, bytes, cfg)?;
        if ext == "docx" {
            warnings.push("扩展名为 .docx，实为旧版 Word 97-2003 文档，已按 .doc 读取".to_owned());
        }
        (t, "doc")
    } else if ext == "docx" || (ext == "doc" && is_zip) {
        if ext == "doc" {
            warnings.push("扩展名为 .doc，实为 .docx 格式，已按 .docx 读取".to_owned());
        }
        if !is_zip {
            as_text(
                bytes,
                &mut warnings,
                Some("扩展名为 .docx，实为纯文本文件，已按文本读取"),
            )
            .map_err(|kind| {
                err(
                    &f.rel,
                    "docx 已损坏",
                    format!("不是有效的 Word 文档（内容是{kind}）"),
                )
            })?
        } else {
            match docx::docx_text(bytes, cfg.max_entry_bytes) {
                Ok(t) => (t, "docx"),
                Err(docx::DocxError::TooLarge { entry, limit }) => {
                    return Err(err(
                        &f.rel,
                        "文件过大",
                        format!(
                            "{entry} 解压后超过 {} MB，疑似压缩炸弹，已拒绝",
                            limit >> 20
                        ),
                    ));
                }
                Err(docx::DocxError::NoDocument) => {
                    return Err(err(
                        &f.rel,
                        "docx 已损坏",
                        "压缩包中没有 word/document.xml，不是 Word 文档",
                    ));
                }
                Err(docx::DocxError::Corrupt(e)) => {
                    return Err(err(
                        &f.rel,
                        "docx 已损坏",
                        format!(
                            "无法打开（文件可能不完整或已损坏）：{e}；请用 Word/WPS 打开后重新保存"
                        ),
                    ));
                }
            }
        }
    } else if ext == "pdf" {
        match pdf::pdf_text(bytes) {
            Ok(t) => (t, "pdf"),
            Err(pdf::PdfError::Scanned { pages }) => {
                return Err(err(
                    &f.rel,
                    "扫描件，无文字层",
                    format!(
                        "共 {pages} 页，全是图片，没有可读的文字；请提供 Word 原稿，或先做文字识别（OCR）"
                    ),
                ));
            }
            Err(pdf::PdfError::Encrypted) => {
                return Err(err(
                    &f.rel,
                    "PDF 已加密",
                    "文件设有打开密码或禁止复制文字；请提供未加密的文件",
                ));
            }
            Err(pdf::PdfError::Corrupt(e)) => {
                return Err(err(
                    &f.rel,
                    "PDF 已损坏",
                    format!("无法读取（文件可能不完整或已损坏）：{e}"),
                ));
            }
        }
    } else if ext == "rtf" || exported == Some(web::Kind::Rtf) {
        if ext == "doc" {
            warnings.push("扩展名为 .doc，实为 RTF 文件，已按 RTF 读取".to_owned());
        }
        // Shown as "rtf": the code page names only the escaped bytes, not the text's language.
        (web::rtf_text(bytes).0, "rtf")
    } else if matches!(ext, "mht" | "mhtml") || exported == Some(web::Kind::Mhtml) {
        if ext == "doc" {
            warnings.push("扩展名为 .doc，实为单个文件网页（.mht），已按网页读取".to_owned());
        }
        match web::mhtml_text(bytes) {
            Some(t) => t,
            None => {
                return Err(err(
                    &f.rel,
                    "网页文件已损坏",
                    "单个文件网页（.mht）中找不到网页部分；请在 Word/WPS 中打开后另存为 .docx",
                ));
            }
        }
    } else if exported == Some(web::Kind::Html) {
        warnings
            .push("扩展名为 .doc，实为网页文件（常见于系统导出的 Word），已按网页读取".to_owned());
        web::html_text(bytes)
    } else if ext == "doc" {
        as_text(
            bytes,
            &mut warnings,
            Some("扩展名为 .doc，实为纯文本文件，已按文本读取"),
        )
        .map_err(|kind| {
            err(
                &f.rel,
                "doc 无法读取",
                format!("不是 Word 文档（内容是{kind}）；请在 Word/WPS 中打开后另存为 .docx"),
            )
        })?
    } else if DOC_EXTS.contains(&ext) {
        as_text(bytes, &mut warnings, None).map_err(|kind| {
            err(
                &f.rel,
                "二进制文件",
                format!("扩展名为 .{ext}，内容却是{kind}，不是文本"),
            )
        })?
    } else {
        let detail = match ext {
            "wps" => "WPS 专用格式，请另存为 .docx".to_owned(),
            "jpg" | "jpeg" | "png" | "gif" | "bmp" => "图片不含可读文字，请提供文字材料".to_owned(),
            "" => "文件没有扩展名，无法判断类型".to_owned(),
            other => format!(
                "不支持 .{other} 文件；支持 .txt .md .docx .doc .rtf .mht .pdf .csv .xlsx .xls .jsonl"
            ),
        };
        return Err(err(&f.rel, "不支持的类型", detail));
    };
    if raw.trim().is_empty() {
        return Err(err(&f.rel, "空文件", "文档中没有文字"));
    }
    // Masked straight into the shared text (one copy of it, not an owned one first).
    let text: Shared = diaoyan_text::mask_personal(&raw).as_ref().into();
    let m = meta::from_header(&text, cfg.header_lines);
    let sub = Submission {
        path: f.rel.as_str().into(),
        kind: m.kind,
        text,
        encoding: encoding.to_owned(),
        warnings,
        ..Submission::default()
    };
    Ok((sub, m))
}

/// The text of a Word 97-2003 document (also one named .docx or .wps), or why it has none.
fn read_doc(
    f: &Found,
    ext: &str,
    bytes: &[u8],
    cfg: &IngestConfig,
) -> std::result::Result<String, FileError> {
    match doc::doc_text(bytes, cfg.max_entry_bytes) {
        Ok(t) => Ok(t),
        Err(doc::DocError::NotWord(_)) if ext == "wps" => Err(err(
            &f.rel,
            "不支持的类型",
            "WPS 专用格式，请另存为 .docx 或 .xlsx",
        )),
        Err(doc::DocError::NotWord(kind)) => Err(err(
            &f.rel,
            "不是 Word 文档",
            format!("扩展名为 .{ext}，内容却是{kind}；请核对文件"),
        )),
        Err(doc::DocError::Encrypted) => Err(err(&f.rel, "doc 已加密", ole::ENCRYPTED)),
        Err(doc::DocError::TooOld) => Err(err(
            &f.rel,
            "旧版 .doc 请另存为 .docx",
            "Word 95 及更早版本的格式无法直接读取；请在 Word/WPS 中另存为 .docx",
        )),
        Err(doc::DocError::TooLarge { stream, limit }) => Err(err(
            &f.rel,
            "文件过大",
            format!("{stream} 数据流超过 {} MB，已拒绝", limit >> 20),
        )),
        Err(doc::DocError::Corrupt(e)) => Err(err(
            &f.rel,
            "doc 已损坏",
            format!("无法读取（文件可能不完整或已损坏）：{e}；请用 Word/WPS 打开后另存为 .docx"),
        )),
    }
}

/// A document's bytes decoded as text (`mislabelled`: the warning that its extension said
/// otherwise), or what they are instead (`Err`: a binary's kind) for the caller's refusal.
fn as_text(
    bytes: &[u8],
    warnings: &mut Vec<String>,
    mislabelled: Option<&str>,
) -> std::result::Result<(String, &'static str), &'static str> {
    match decode::sniff(bytes) {
        decode::Sniff::Text => {
            let d = decode::decode(bytes);
            warnings.extend(mislabelled.map(str::to_owned));
            add_replaced(warnings, d.replaced);
            Ok((d.text, d.encoding))
        }
        decode::Sniff::Binary(kind) => Err(kind),
    }
}

fn add_replaced(warnings: &mut Vec<String>, replaced: usize) {
    if replaced > 0 {
        warnings.push(format!("含 {replaced} 处无法解码的字节，已替换为 �"));
    }
}

fn read_table_rows(f: &Found, ext: &str, bytes: &[u8], cfg: &IngestConfig) -> FileResult {
    let mut subs = Vec::new();
    let mut errors: Vec<FileError> = Vec::new();
    let mut warnings = Vec::new();
    let any_header;
    if matches!(ext, "csv" | "tsv") {
        // Streamed: a million-row export is never held as rows of cells as well as submissions.
        let (records, encoding, replaced) = table::csv_records(ext, bytes);
        add_replaced(&mut warnings, replaced);
        let mut rows = TableRows {
            f,
            cfg,
            encoding,
            warnings: &warnings,
            subs: &mut subs,
            errors: &mut errors,
        };
        any_header = rows.sheet(None, &mut records.into_iter());
    } else if matches!(ext, "xlsx" | "xlsm") {
        // Streamed too: rows are built from the cell reader as they come.
        let mut rows = TableRows {
            f,
            cfg,
            encoding: "xlsx",
            warnings: &warnings,
            subs: &mut subs,
            errors: &mut errors,
        };
        match table::xlsx_sheets(bytes, cfg.max_entry_bytes, &mut |name, it| {
            rows.sheet(name, it)
        }) {
            Ok(found) => any_header = found,
            Err((reason, detail)) => return (vec![], vec![err(&f.rel, reason, detail)]),
        }
    } else {
        let table = match table::read_table(ext, bytes, cfg.max_entry_bytes) {
            Ok(t) => t,
            Err((reason, detail)) => return (vec![], vec![err(&f.rel, reason, detail)]),
        };
        add_replaced(&mut warnings, table.replaced);
        let mut rows = TableRows {
            f,
            cfg,
            encoding: table.encoding,
            warnings: &warnings,
            subs: &mut subs,
            errors: &mut errors,
        };
        let bad = table.bad_rows.into_iter().map(|(n, why)| (n, Err(why)));
        let mut found = false;
        let mut first = true;
        for sheet in table.sheets {
            let mut good = sheet.rows.into_iter().map(|(n, r)| (n, Ok(r)));
            // A jsonl's damaged lines belong to its one sheet.
            found |= if first {
                first = false;
                rows.sheet(sheet.name.as_deref(), &mut good.chain(bad.clone()))
            } else {
                rows.sheet(sheet.name.as_deref(), &mut good)
            };
        }
        any_header = found;
    }
    if any_header && subs.is_empty() && errors.is_empty() {
        errors.push(err(
            &f.rel,
            "表格没有数据",
            "找到了表头，但表头以下没有任何一行有内容",
        ));
    }
    if !any_header {
        errors.push(err(
            &f.rel,
            "表格缺少内容列",
            "前 10 行中找不到内容列（如 内容、正文、意见建议、留言详情）；可在流水线配置 [ingest.columns] 中指定",
        ));
    }
    (subs, errors)
}

/// Turns the rows of one table file into submissions, one row at a time.
struct TableRows<'a> {
    f: &'a Found,
    cfg: &'a IngestConfig,
    encoding: &'static str,
    warnings: &'a [String],
    subs: &'a mut Vec<(Submission, Meta)>,
    errors: &'a mut Vec<FileError>,
}

impl TableRows<'_> {
    /// Reads one sheet: the header is looked for in its first 10 rows, then every later row
    /// becomes a submission or an error. Returns whether a header was found.
    fn sheet(&mut self, name: Option<&str>, rows: &mut dyn Iterator<Item = table::Record>) -> bool {
        let mut rows = rows.peekable();
        let mut head: Vec<(usize, Vec<String>)> = Vec::new();
        while head.len() < 10 {
            match rows.next() {
                Some((n, Ok(r))) => head.push((n, r)),
                Some((n, Err(why))) => self.bad(name, n, &why),
                None => break,
            }
        }
        let Some((hi, cols)) = table::find_header(&head, &self.cfg.columns) else {
            // No header: the remaining rows are not read (the file is reported once).
            return false;
        };
        for (n, row) in head.into_iter().skip(hi + 1) {
            self.row(name, n, &row, &cols);
        }
        for (n, row) in rows {
            match row {
                Ok(r) => self.row(name, n, &r, &cols),
                Err(why) => self.bad(name, n, &why),
            }
        }
        true
    }

    fn loc(&self, name: Option<&str>, n: usize) -> String {
        match name {
            Some(s) => format!("{}#{s}!{n}", self.f.rel),
            None => format!("{}#{n}", self.f.rel),
        }
    }

    fn bad(&mut self, name: Option<&str>, n: usize, why: &str) {
        let loc = self.loc(name, n);
        self.errors
            .push(err(&loc, "行已损坏", format!("第 {n} 行{why}")));
    }

    fn row(&mut self, name: Option<&str>, n: usize, row: &[String], cols: &config::Columns) {
        if row.iter().all(|c| c.trim().is_empty()) {
            return;
        }
        let cell = |c: Option<usize>| -> String {
            c.and_then(|i| row.get(i))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let loc = self.loc(name, n);
        let content = cell(cols.content);
        if content.is_empty() {
            self.errors
                .push(err(&loc, "内容为空", format!("第 {n} 行没有内容列的文字")));
            return;
        }
        let text = diaoyan_text::mask_personal(&content).into_owned();
        let date_cell = cell(cols.date);
        let m = Meta {
            author: masked(cell(cols.author)),
            unit: masked(cell(cols.unit)),
            level: Level::from_label(&cell(cols.level)),
            place: masked(cell(cols.place)),
            kind: Kind::from_label(&cell(cols.kind)),
            date: cell_date(&date_cell),
            day: None,
            title: masked(cell(cols.title)),
        };
        let mut w = self.warnings.to_vec();
        if !date_cell.is_empty() && m.date.is_empty() {
            w.push(format!("日期「{date_cell}」无法识别"));
        }
        let file_kind = Kind::from_label(file_name(&self.f.rel));
        self.subs.push((
            Submission {
                path: loc.into(),
                ref_: cell(cols.id),
                kind: m.kind.or(file_kind).or(Some(Kind::Opinion)),
                text: text.into(),
                encoding: self.encoding.to_owned(),
                likes: cell(cols.likes).parse().ok(),
                dislikes: cell(cols.dislikes).parse().ok(),
                warnings: w,
                ..Submission::default()
            },
            m,
        ));
    }
}

/// A manifest's entries by file (relative path or name).
type Manifest = rustc_hash::FxHashMap<String, Meta>;

/// Manifest rows turned into entries at a time ([`read_metadata`]).
const MANIFEST_BLOCK: usize = 1 << 14;

enum MetadataFile {
    Manifest(Manifest),
    Roster(Vec<Cadre>),
}

fn read_metadata(f: &Found, cfg: &IngestConfig) -> std::result::Result<MetadataFile, FileError> {
    let name = file_name(&f.rel);
    let (stem, ext) = stem_ext(name);
    let bytes = std::fs::read(&f.abs).map_err(|e| err(&f.rel, "无法读取", io_reason(&e)))?;
    let manifest = MANIFEST_STEMS.contains(&stem.as_str());
    // About how many rows a manifest in text has (its lines): its map is made at that size
    // rather than grown by doubling (a million entries moved about 2.5 times over).
    let lines = if manifest && matches!(ext.as_str(), "csv" | "tsv") {
        bytes.iter().filter(|&&b| b == b'\n').count()
    } else {
        0
    };
    // The first sheet's rows, one at a time. A .csv/.tsv is parsed as it is gone through: a
    // million-row manifest held whole as a table of strings was 0.6 GB more while its map was
    // built, at the peak of a re-run's reading. A workbook's first sheet is read whole.
    let mut rows: Box<dyn Iterator<Item = std::result::Result<Vec<String>, FileError>>> =
        match ext.as_str() {
            "csv" | "tsv" => {
                let (records, _, _) = table::csv_records(&ext, &bytes);
                let rel = f.rel.clone();
                Box::new(records.map(move |(n, rec)| {
                    rec.map_err(|why| err(&rel, "表格已损坏", format!("第 {n} 行{why}")))
                }))
            }
            _ => {
                let table = table::read_table(&ext, &bytes, cfg.max_entry_bytes)
                    .map_err(|(reason, detail)| err(&f.rel, reason, detail))?;
                let sheet = table
                    .sheets
                    .into_iter()
                    .next()
                    .ok_or_else(|| err(&f.rel, "表格为空", "没有工作表"))?;
                Box::new(sheet.rows.into_iter().map(|(_, r)| Ok(r)))
            }
        };
    drop(bytes);
    let find = find_column;
    let get = |row: &[String], c: Option<usize>| {
        c.and_then(|i| row.get(i))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    if manifest {
        let (header, rows) = header_row(&mut rows, &["文件", "文件名", "路径", "file", "path"])?
            .ok_or_else(|| {
                err(
                    &f.rel,
                    "清单缺少文件列",
                    "清单需要一列「文件」（相对路径或文件名）",
                )
            })?;
        let c_file = find(&header, &["文件", "文件名", "路径", "file", "path"]);
        let c_author = find(&header, &["姓名", "作者", "author"]);
        let c_unit = find(&header, &["单位", "unit"]);
        let c_level = find(&header, &["级别", "level"]);
        let c_place = find(&header, &["联系点", "地点", "place"]);
        let c_kind = find(&header, &["类型", "kind"]);
        let c_date = find(&header, &["日期", "date"]);
        let c_title = find(&header, &["标题", "title"]);
        // Rows are parsed in order and turned into entries a block at a time on every worker
        // (trimming, the level, kind and date of each), into a map made at the manifest's size
        // with a fast hash: a million-row manifest took 2.6 s on one thread, after the walk and
        // before a single file was read (1.5 s now). Later rows replace earlier ones for the
        // same file, as they are inserted in order.
        let entry = |row: &[String]| -> Option<(String, Meta)> {
            let file = get(row, c_file).replace('\\', "/");
            (!file.is_empty()).then(|| {
                let meta = Meta {
                    author: get(row, c_author),
                    unit: get(row, c_unit),
                    level: Level::from_label(&get(row, c_level)),
                    place: get(row, c_place),
                    kind: Kind::from_label(&get(row, c_kind)),
                    date: cell_date(&get(row, c_date)),
                    day: None,
                    title: get(row, c_title),
                };
                (file, meta)
            })
        };
        let mut rows = rows;
        let mut map = Manifest::with_capacity_and_hasher(lines, Default::default());
        let mut block: Vec<Vec<String>> = Vec::with_capacity(MANIFEST_BLOCK);
        loop {
            block.clear();
            for row in rows.by_ref().take(MANIFEST_BLOCK) {
                block.push(row?);
            }
            let entries: Vec<Option<(String, Meta)>> =
                block.par_iter().map(|row| entry(row)).collect();
            map.extend(entries.into_iter().flatten());
            if block.len() < MANIFEST_BLOCK {
                break;
            }
        }
        return Ok(MetadataFile::Manifest(map));
    }
    let (header, rows) = header_row(&mut rows, &["姓名", "name"])?
        .ok_or_else(|| err(&f.rel, "名单缺少姓名列", "花名册需要一列「姓名」"))?;
    let c_name = find(&header, &["姓名", "name"]);
    let c_unit = find(&header, &["单位", "unit"]);
    let c_level = find(&header, &["级别", "层级", "level"]);
    let c_pos = find(&header, &["职务", "position"]);
    let c_place = find(&header, &["联系点", "蹲点村", "蹲点地点", "place"]);
    let c_hh = find(&header, &["户数", "总户数", "households"]);
    let c_start = find(&header, &["开始日期", "开始", "start"]);
    let c_end = find(&header, &["结束日期", "结束", "end"]);
    let mut roster = Vec::new();
    for row in rows {
        let row = row?;
        let name = get(&row, c_name);
        if name.is_empty() {
            continue;
        }
        let position = get(&row, c_pos);
        roster.push(Cadre {
            name,
            unit: get(&row, c_unit),
            level: Level::from_label(&get(&row, c_level)).or_else(|| Level::from_label(&position)),
            position,
            place: get(&row, c_place),
            households: get(&row, c_hh).parse().ok(),
            start: cell_date(&get(&row, c_start)),
            end: cell_date(&get(&row, c_end)),
        });
    }
    Ok(MetadataFile::Roster(roster))
}

/// A metadata table's rows as [`read_metadata`] goes through them.
type MetaRows<'a> = dyn Iterator<Item = std::result::Result<Vec<String>, FileError>> + 'a;

/// The header row — the first of the first ten rows with a column named one of `names` — and
/// every row after it (`None` when there is no such row). A row that cannot be read is an
/// error, wherever it stands.
#[allow(clippy::type_complexity)]
fn header_row<'a>(
    rows: &'a mut MetaRows<'_>,
    names: &[&str],
) -> std::result::Result<
    Option<(
        Vec<String>,
        impl Iterator<Item = std::result::Result<Vec<String>, FileError>> + 'a,
    )>,
    FileError,
> {
    let mut head: Vec<Vec<String>> = Vec::new();
    for row in (&mut *rows).take(10) {
        head.push(row?);
    }
    let Some(at) = head.iter().position(|r| find_column(r, names).is_some()) else {
        return Ok(None);
    };
    let after = head.split_off(at + 1);
    let header = head.pop().expect("the header row");
    Ok(Some((header, after.into_iter().map(Ok).chain(rows))))
}

mod ahead;
#[cfg(test)]
mod fuzz;
mod warm;

#[cfg(test)]
mod tests {
    use super::*;

    /// Sets a file's modification time `secs` seconds back from now.
    fn age(path: &Path, secs: u64) {
        let t = std::time::SystemTime::now() - std::time::Duration::from_secs(secs);
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    /// A re-run takes over the files unchanged since the last one read them and reads the rest;
    /// what it gives equals reading everything, with the manifest's fields applied afresh.
    #[test]
    fn unchanged_files_are_taken_over_and_the_output_is_what_reading_them_gives() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        let write = |name: &str, text: &str| {
            std::fs::write(root.join(name), text).unwrap();
            age(&root.join(name), 3600);
        };
        for i in 0..40 {
            write(
                &format!("a/f{i:02}.txt"),
                &format!("姓名：干部{i}\n第{i}份：三组机耕路有{i}处塌方。"),
            );
        }
        write("a/empty.txt", " ");
        write("清单.csv", "文件,单位\na/f01.txt,县交通局\n");
        let cfg = IngestConfig::default();
        // With a memo: the earlier one is handed over and replaced by the one returned.
        // A sink that lays what changed over the earlier memo, as the cache does.
        struct Laid(std::sync::Mutex<FileMemo>);
        impl KeepFiles for Laid {
            fn whole(&self) -> bool {
                false
            }
            fn begin(&self, root: &str, whole: bool, files: usize) {
                self.0.begin(root, whole, files)
            }
            fn file(&self, file: KeptFile) {
                self.0.file(file)
            }
            fn gone(&self, path: &str) {
                self.0.gone(path)
            }
        }
        let sorted = |m: &FileMemo| {
            let mut files: Vec<KeptFile> = m.files().cloned().collect();
            files.sort_by(|a, b| a.path.cmp(&b.path));
            files
        };
        let read_from = |root: &Path, memo: Option<&mut FileMemo>| match memo {
            Some(m) => {
                let earlier = std::mem::take(m);
                // Once kept whole, once as what changed since `earlier`: the same memo.
                let laid = Laid(std::sync::Mutex::new(earlier.clone()));
                let again = earlier.clone();
                let (_, laid_used) =
                    ingest_memo(root, &cfg, &|_| {}, Some((move || again, &laid as _))).unwrap();
                let sink = std::sync::Mutex::new(FileMemo::default());
                let (out, used) =
                    ingest_memo(root, &cfg, &|_| {}, Some((move || earlier, &sink as _))).unwrap();
                assert!(used.is_some(), "how the memo was used is returned");
                assert_eq!(laid_used, used);
                *m = sink.into_inner().unwrap();
                let laid = laid.0.into_inner().unwrap();
                assert_eq!(
                    sorted(&laid),
                    sorted(m),
                    "changes laid over the earlier memo"
                );
                assert_eq!(laid.len(), m.len());
                (out, used)
            }
            None => {
                let (out, used) =
                    ingest_memo(root, &cfg, &|_| {}, None::<(fn() -> FileMemo, _)>).unwrap();
                assert!(used.is_none());
                (out, None)
            }
        };
        let read = |memo: Option<&mut FileMemo>| read_from(root, memo);
        let json = |o: &IngestOutput| serde_json::to_value(o).unwrap();

        let mut memo = FileMemo::default();
        let (first, used) = read(Some(&mut memo));
        assert_eq!(
            used,
            Some(MemoUse {
                reused: 0,
                read: 41,
                unused: 0
            })
        );
        // Every file is kept, the unreadable one with its reason.
        assert_eq!(memo.len(), 41);
        assert_eq!(json(&first), json(&read(None).0));

        // Nothing changed: nothing is read, the same output.
        let (again, used) = read(Some(&mut memo));
        assert_eq!(used.unwrap().reused, 41);
        assert_eq!(used.unwrap().read, 0);
        assert_eq!(json(&again), json(&first));
        assert_eq!(again.errors.len(), 1, "{:?}", again.errors);

        // One file changed (same length, other time), one gone, one new (just written: read
        // and not kept until it is older), and the manifest names another unit.
        std::fs::write(
            root.join("a/f03.txt"),
            "姓名：干部3\n第3份：五组水渠有3处渗漏。",
        )
        .unwrap();
        age(&root.join("a/f03.txt"), 1800);
        std::fs::remove_file(root.join("a/f04.txt")).unwrap();
        std::fs::write(root.join("a/new.txt"), "第新份：河口村路灯不亮。").unwrap();
        write("清单.csv", "文件,单位\na/f01.txt,县水利局\n");
        let (third, used) = read(Some(&mut memo));
        assert_eq!(
            used,
            Some(MemoUse {
                reused: 39,
                read: 2,
                unused: 2
            })
        );
        assert_eq!(json(&third), json(&read(None).0));
        assert_eq!(memo.len(), 40, "the new file is kept only once it is older");
        let by_path = |p: &str| third.submissions.iter().find(|s| s.path == p).unwrap();
        assert!(by_path("a/f03.txt").text.contains("水渠"));
        assert_eq!(by_path("a/f01.txt").unit, "县水利局");

        // Another folder with the same names is never taken for this one.
        let other = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(other.path().join("a")).unwrap();
        std::fs::copy(root.join("a/f05.txt"), other.path().join("a/f05.txt")).unwrap();
        age(&other.path().join("a/f05.txt"), 3600);
        let (_, used) = read_from(other.path(), Some(&mut memo));
        assert_eq!(used.unwrap().reused, 0);
        assert_eq!(
            used.unwrap().unused,
            0,
            "a memo of another folder is set aside whole"
        );
    }

    /// Many read-ahead batches, bad files among good ones: every file is read once and joined
    /// with its own path's metadata, and each bad one is named with its reason, wherever its
    /// batch fell.
    #[test]
    fn a_folder_many_batches_long_is_read_whole_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let n = ahead::THREADS * ahead::BATCH * 3 + 5;
        let mut good = Vec::new();
        let mut bad = Vec::new();
        for i in 0..n {
            let sub = root.join(format!("d{}", i % 7));
            std::fs::create_dir_all(&sub).unwrap();
            // The date in the name comes back through the file's own path (from_path).
            let name = format!("d{}/2025-03-{:02}_f{i:04}.txt", i % 7, 1 + i % 28);
            if i % 13 == 5 {
                std::fs::write(root.join(&name), "").unwrap();
                bad.push((name, "空文件"));
            } else if i % 29 == 3 {
                std::fs::write(root.join(&name), "x".repeat(2048)).unwrap();
                bad.push((name, "文件过大"));
            } else {
                std::fs::write(root.join(&name), format!("第{i}份：村里的路需要修。")).unwrap();
                good.push(name);
            }
        }
        let cfg = IngestConfig {
            max_file_bytes: 1024,
            ..IngestConfig::default()
        };
        let ticks = std::sync::atomic::AtomicUsize::new(0);
        let out = ingest_with(root, &cfg, &|t| {
            if t == Tick::Read {
                ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        })
        .unwrap();
        assert_eq!(out.files_seen, n);
        assert_eq!(ticks.into_inner(), n, "one tick a file");
        good.sort_by(|a, b| natural_path_cmp(a, b));
        let paths: Vec<&str> = out.submissions.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, good);
        for s in &out.submissions {
            let i: usize = s.path[s.path.len() - 8..s.path.len() - 4].parse().unwrap();
            assert_eq!(s.text, format!("第{i}份：村里的路需要修。"), "{}", s.path);
            assert_eq!(s.date, format!("2025-03-{:02}", 1 + i % 28), "{}", s.path);
        }
        bad.sort();
        let errors: Vec<(String, &str)> = out
            .errors
            .iter()
            .map(|e| (e.path.clone(), e.reason.as_str()))
            .collect();
        assert_eq!(errors, bad);
    }

    #[test]
    fn every_file_is_accounted_for() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("张伟")).unwrap();
        std::fs::write(
            root.join("roster.csv"),
            "姓名,单位,级别,联系点,户数\n张伟,县委办,县级领导,石桥村,320\n",
        )
        .unwrap();
        std::fs::write(
            root.join("张伟/2023-09-21_蹲点手记.txt"),
            "第1天\n今天到石桥村，走访困难户3户。联系电话13812345678。",
        )
        .unwrap();
        std::fs::write(root.join("empty.txt"), "").unwrap();
        std::fs::write(root.join("~$lock.docx"), "x").unwrap();
        std::fs::write(
            root.join("old.doc"),
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest",
        )
        .unwrap();
        std::fs::write(root.join("意见.csv"), "编号,内容\n1,修路\n2,\n").unwrap();
        let out = ingest(root, &IngestConfig::default()).unwrap();
        assert_eq!(out.files_seen, 6);
        assert_eq!(out.metadata_files, vec!["roster.csv"]);
        assert_eq!(out.skipped, vec!["~$lock.docx"]);
        let reasons: Vec<_> = out
            .errors
            .iter()
            .map(|e| (e.path.as_str(), e.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("empty.txt", "空文件"),
                ("old.doc", "doc 已损坏"),
                ("意见.csv#3", "内容为空"),
            ]
        );
        assert_eq!(out.submissions.len(), 2);
        let note = out
            .submissions
            .iter()
            .find(|s| s.path.ends_with(".txt"))
            .unwrap();
        assert_eq!(note.author, "张伟");
        assert_eq!(note.unit, "县委办");
        assert_eq!(note.level, Some(Level::CountyLeader));
        assert_eq!(note.place, "石桥村");
        assert_eq!(note.date, "2023-09-21");
        assert_eq!(note.day, Some(1));
        assert_eq!(note.kind, Some(Kind::Note));
        assert!(note.text.contains("138****5678"));
        assert!(!note.text.contains("13812345678"));
        let row = out
            .submissions
            .iter()
            .find(|s| s.path == "意见.csv#2")
            .unwrap();
        assert_eq!(row.ref_, "1");
        assert_eq!(row.kind, Some(Kind::Opinion));
        assert_eq!(row.author, "", "unknown stays empty");
        // Ids are stable across runs.
        let again = ingest(root, &IngestConfig::default()).unwrap();
        assert_eq!(again.submissions[0].id, out.submissions[0].id);
    }

    /// Issue 11.9: a message-board export's 留言时间 with a time part, in every common form.
    #[test]
    fn exported_sheets_keep_their_dates() {
        let dir = tempfile::tempdir().unwrap();
        let sheet = "留言编号\t留言用户\t留言主题\t留言时间\t留言详情\n\
1\tA1\t路灯不亮 电话13812345678\t2019/2/28 11:25:05\t小区路灯坏了\n\
2\tA2\t噪音\t2019/2/14  20:00:00\t工地夜间施工\n\
3\tA3\t停车\t2019-02-14 20:00:00\t车位捆绑销售\n\
4\tA4\t学校\t43524.475752315\t校车不够\n\
5\tA5\t公交\t2019年3月1日 8时05分\t线路太绕\n";
        std::fs::write(dir.path().join("留言.tsv"), sheet).unwrap();
        let out = ingest(dir.path(), &IngestConfig::default()).unwrap();
        let dates: Vec<&str> = out.submissions.iter().map(|s| s.date.as_str()).collect();
        assert_eq!(
            dates,
            [
                "2019-02-28",
                "2019-02-14",
                "2019-02-14",
                "2019-02-28",
                "2019-03-01"
            ]
        );
        assert!(out.submissions.iter().all(|s| s.warnings.is_empty()));
        // A phone number in the subject line is masked like one in the text.
        assert_eq!(out.submissions[0].title, "路灯不亮 电话138****5678");
    }

    /// Issue 11.7: names with spaces, emoji and `#`, and a GBK-encoded name as old zip tools
    /// write it, come out as a person reads them, with the metadata the name carries.
    #[test]
    fn awkward_file_names() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let names = ["2023-09-21 蹲点手记 #3 🙂.txt", "意见 #2.csv", "a b  c.md"];
        std::fs::write(root.join(names[0]), "走访石桥村困难户5户。").unwrap();
        std::fs::write(root.join(names[1]), "编号,内容\n1,修路\n").unwrap();
        std::fs::write(root.join(names[2]), "全村共312户。").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let gbk = encoding_rs::GBK.encode("旧压缩包手记.txt").0;
            let name = std::ffi::OsStr::from_bytes(&gbk);
            std::fs::write(root.join(name), "三组水渠塌方两处。").unwrap();
        }
        let out = ingest(root, &IngestConfig::default()).unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let paths: Vec<&str> = out.submissions.iter().map(|s| s.path.as_str()).collect();
        assert!(paths.contains(&names[0]), "{paths:?}");
        assert!(paths.contains(&"意见 #2.csv#2"), "{paths:?}");
        assert!(paths.contains(&names[2]), "{paths:?}");
        #[cfg(unix)]
        assert!(paths.contains(&"旧压缩包手记.txt"), "{paths:?}");
        let note = out.submissions.iter().find(|s| s.path == names[0]).unwrap();
        assert_eq!(note.date, "2023-09-21");
        assert_eq!(note.kind, Some(Kind::Note));
    }

    /// Submissions naming the same author, unit, place or date hold one copy of it, whether it
    /// came from their headers or from the manifest.
    #[test]
    fn repeated_names_are_held_once() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..3 {
            std::fs::write(
                dir.path().join(format!("n{i}.txt")),
                format!("姓名：张伟\n联系点：石桥村\n第{i}天：三组机耕路有{i}处塌方。"),
            )
            .unwrap();
        }
        std::fs::write(
            dir.path().join("清单.csv"),
            "文件,单位\nn0.txt,县委办\nn1.txt,县委办\nn2.txt,县交通局\n",
        )
        .unwrap();
        let out = ingest(dir.path(), &IngestConfig::default()).unwrap();
        let s = &out.submissions;
        assert_eq!(s.len(), 3);
        let one = |f: fn(&diaoyan_model::Submission) -> &Shared, a: usize, b: usize| {
            f(&s[a]).as_str().as_ptr() == f(&s[b]).as_str().as_ptr()
        };
        assert!(s.iter().all(|x| x.author == "张伟" && x.place == "石桥村"));
        assert!(one(|x| &x.author, 0, 1) && one(|x| &x.author, 0, 2));
        assert!(one(|x| &x.place, 1, 2));
        assert_eq!(
            (s[0].unit.as_str(), s[2].unit.as_str()),
            ("县委办", "县交通局")
        );
        assert!(one(|x| &x.unit, 0, 1));
        assert!(!one(|x| &x.unit, 0, 2));
    }

    /// A manifest and a roster are read row by row: a title row above the header, GBK, a
    /// Windows path, blank rows skipped; the same roster as a workbook; and a table without the
    /// column it needs is refused with its reason.
    #[test]
    fn manifests_and_rosters_are_read_row_by_row() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = IngestConfig::default();
        let read = |name: &str, bytes: &[u8]| {
            let abs = dir.path().join(name);
            std::fs::write(&abs, bytes).unwrap();
            read_metadata(
                &Found {
                    abs,
                    rel: name.to_owned(),
                },
                &cfg,
            )
        };
        let text = "2024年蹲点材料清单\n文件,姓名,单位,级别,联系点,类型,日期\n                    c00\\手记1.txt,李光荣,乡镇人民政府,乡镇领导,白湾村,note,2024/3/5\n                    ,无名,,,,,\n                    c00/报告.txt,李光荣,乡镇人民政府,乡镇领导,白湾村,report,2024-03-09\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let Ok(MetadataFile::Manifest(m)) = read("清单.csv", &gbk) else {
            panic!("a manifest");
        };
        assert_eq!(m.len(), 2);
        let note = &m["c00/手记1.txt"];
        assert_eq!(
            (note.author.as_str(), note.place.as_str()),
            ("李光荣", "白湾村")
        );
        assert_eq!(note.unit, "乡镇人民政府");
        assert_eq!(note.level, Some(Level::Township));
        assert_eq!(note.kind, Some(Kind::Note));
        assert_eq!(note.date, "2024-03-05");
        assert_eq!(m["c00/报告.txt"].kind, Some(Kind::Report));

        let roster = "姓名,单位,职务,联系点,户数\n王建国,县交通局,副局长,石桥村,312\n";
        let Ok(MetadataFile::Roster(r)) = read("花名册.csv", roster.as_bytes()) else {
            panic!("a roster");
        };
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].name.as_str(), r[0].households), ("王建国", Some(312)));
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (row, line) in roster.lines().enumerate() {
            for (c, cell) in line.split(',').enumerate() {
                ws.write_string(row as u32 + 1, c as u16, cell).unwrap();
            }
        }
        ws.write_string(0, 0, "蹲点干部名单").unwrap();
        let Ok(MetadataFile::Roster(x)) = read("花名册.xlsx", &wb.save_to_buffer().unwrap())
        else {
            panic!("a roster workbook");
        };
        assert_eq!(x, r);

        let Err(e) = read("清单.csv", "姓名,单位\n李光荣,乡镇人民政府\n".as_bytes())
        else {
            panic!("no file column");
        };
        assert_eq!(
            (e.path.as_str(), e.reason.as_str()),
            ("清单.csv", "清单缺少文件列")
        );
        let Err(e) = read("名单.tsv", "单位\t职务\n县交通局\t副局长\n".as_bytes())
        else {
            panic!("no name column");
        };
        assert_eq!(e.reason, "名单缺少姓名列");
    }

    /// A manifest longer than a block of rows ([`MANIFEST_BLOCK`]) is read whole and in order: a
    /// file listed twice takes its later row, wherever the blocks part.
    #[test]
    fn a_long_manifest_is_read_in_blocks_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let rows = MANIFEST_BLOCK * 2 + 7;
        let mut text = String::from("文件,姓名,日期\n");
        for i in 0..rows {
            // c/5.txt again on the last row, in the third block; c/6.txt again on the next
            // row, in the same block.
            let file = match i {
                7 => 6,
                i if i == rows - 1 => 5,
                i => i,
            };
            text.push_str(&format!("c/{file}.txt,干部{i},2024/3/{}\n", i % 28 + 1));
        }
        let abs = dir.path().join("manifest.csv");
        std::fs::write(&abs, &text).unwrap();
        let found = Found {
            abs: abs.clone(),
            rel: "manifest.csv".to_owned(),
        };
        let Ok(MetadataFile::Manifest(m)) = read_metadata(&found, &IngestConfig::default()) else {
            panic!("a manifest");
        };
        assert_eq!(m.len(), rows - 2);
        assert_eq!(m["c/5.txt"].author, format!("干部{}", rows - 1));
        assert_eq!(m["c/6.txt"].author, "干部7");
        assert!(!m.contains_key("c/7.txt"));
        assert_eq!(
            m[&format!("c/{}.txt", rows - 2)].date,
            format!("2024-03-{:02}", (rows - 2) % 28 + 1)
        );
    }

    /// A workbook is read row by row from its cells: several sheets, a title row above the
    /// header, a gap in the rows, a date cell, a sheet without a content column.
    #[test]
    fn workbooks_are_streamed_sheet_by_sheet() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("一组").unwrap();
        ws.write_string(0, 0, "石桥村一组群众意见").unwrap();
        for (c, h) in ["编号", "反映人", "日期", "意见建议"].iter().enumerate() {
            ws.write_string(1, c as u16, *h).unwrap();
        }
        ws.write_number(2, 0, 1.0).unwrap();
        ws.write_string(2, 1, "王桂兰").unwrap();
        ws.write_string(2, 2, "2019/2/28 11:25:05").unwrap();
        ws.write_string(2, 3, "机耕路要修").unwrap();
        // Row 4 empty; row 5 has only the content.
        ws.write_string(4, 3, "路灯坏了").unwrap();
        let ws = wb.add_worksheet();
        ws.set_name("说明").unwrap();
        ws.write_string(0, 0, "本表由村委会整理").unwrap();
        let ws = wb.add_worksheet();
        ws.set_name("二组").unwrap();
        ws.write_string(0, 0, "内容").unwrap();
        ws.write_string(0, 1, "姓名").unwrap();
        ws.write_string(1, 0, "水渠堵了").unwrap();
        ws.write_string(1, 1, "李长贵").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let f = Found {
            abs: "意见.xlsx".into(),
            rel: "意见.xlsx".into(),
        };
        let (subs, errors) = read_bytes(&f, "xlsx", &bytes, &IngestConfig::default());
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<(&str, &str, &str)> = subs
            .iter()
            .map(|(s, m)| (s.path.as_str(), s.text.as_str(), m.author.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("意见.xlsx#一组!3", "机耕路要修", "王桂兰"),
                ("意见.xlsx#一组!5", "路灯坏了", ""),
                ("意见.xlsx#二组!2", "水渠堵了", "李长贵"),
            ]
        );
        assert_eq!(subs[0].1.date, "2019-02-28");
        assert_eq!(subs[0].0.ref_, "1");
    }

    /// Word and Excel 97-2003 files (and WPS's files of the same make), as LibreOffice writes
    /// them (testdata/README.md): a .doc gives the text its .docx twin gives, a .xls the rows
    /// its .csv gives; a damaged or mislabelled one is refused with the reason.
    #[test]
    fn word_and_excel_97_files_are_read() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        let bytes = |name: &str| std::fs::read(data.join(name)).unwrap();
        let read = |name: &str, bytes: &[u8]| {
            let ext = name.rsplit('.').next().unwrap();
            let f = Found {
                abs: name.into(),
                rel: name.into(),
            };
            read_bytes(&f, ext, bytes, &IngestConfig::default())
        };
        let reasons = |errors: &[FileError]| -> Vec<(String, String)> {
            errors
                .iter()
                .map(|e| (e.path.clone(), e.reason.clone()))
                .collect()
        };
        let doc = bytes("note.doc");
        let (docx, errors) = read("note.docx", &bytes("note.docx"));
        assert!(errors.is_empty(), "{errors:?}");
        let want = &docx[0].0.text;
        let (subs, errors) = read("note.doc", &doc);
        assert!(errors.is_empty(), "{errors:?}");
        let (s, m) = &subs[0];
        assert_eq!(&s.text, want);
        assert_eq!(s.encoding, "doc");
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        // The table row by row, the link's text without its code, the footnote after the body,
        // no page header, the phone number masked.
        for part in [
            "今天上午到石门村三组走访了8户。",
            "户主\t反映问题\n刘德顺\t厨房墙体开裂\n陈秀英\t自来水每周停两次\n",
            "详见县交通局公示。",
            "维修款由村集体经济列支3200元。",
            "138****5678",
        ] {
            assert!(s.text.contains(part), "{part} in {}", s.text);
        }
        for absent in ["HYPERLINK", "example.gov.cn", "页眉", "13812345678"] {
            assert!(!s.text.contains(absent), "{absent} in {}", s.text);
        }
        assert_eq!(
            (m.author.as_str(), m.unit.as_str()),
            ("周明", "县农业农村局")
        );
        assert_eq!(m.date, "2023-09-20");
        // The same file named .wps (WPS's files of Word's make) or .docx.
        let (wps, errors) = read("note.wps", &doc);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(&wps[0].0.text, want);
        let (named, errors) = read("note_renamed.docx", &doc);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(&named[0].0.text, want);
        assert_eq!(
            named[0].0.warnings,
            ["扩展名为 .docx，实为旧版 Word 97-2003 文档，已按 .doc 读取"]
        );
        // What office systems export as "Word": RTF and web pages under a .doc name (and an .rtf).
        let rtf = bytes("note.rtf");
        for name in ["note.rtf", "exported.doc"] {
            let (subs, errors) = read(name, &rtf);
            assert!(errors.is_empty(), "{errors:?}");
            assert_eq!(&subs[0].0.text, want, "{name}");
            assert_eq!(subs[0].0.encoding, "rtf");
        }
        let (subs, _) = read("exported.doc", &rtf);
        assert_eq!(
            subs[0].0.warnings,
            ["扩展名为 .doc，实为 RTF 文件，已按 RTF 读取"]
        );
        let (subs, errors) = read("page.doc", &bytes("note.html"));
        assert!(errors.is_empty(), "{errors:?}");
        let page = &subs[0].0;
        assert!(
            page.warnings[0].contains("实为网页文件"),
            "{:?}",
            page.warnings
        );
        // The same lines but the header's (LibreOffice wrapped its source at the space in
        // "20日 第2天", which is not told from a wrap inside a sentence), the note last.
        let lines = |t: &str| {
            t.lines()
                .map(str::trim)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(lines(&page.text)[3..], lines(want)[3..], "{}", page.text);
        assert!(!page.text.contains("页眉") && !page.text.contains("sdfootnote"));
        // Rows of the workbook: the title row passed over, the header found, the row with no
        // content refused on its own.
        let xls = bytes("opinions.xls");
        let (rows, errors) = read("opinions.xls", &xls);
        let got: Vec<(&str, &str, &str, &str, &str)> = rows
            .iter()
            .map(|(s, m)| {
                (
                    s.path.as_str(),
                    s.ref_.as_str(),
                    m.author.as_str(),
                    m.date.as_str(),
                    s.text.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "opinions.xls#3",
                    "1",
                    "王桂兰",
                    "2023-09-18",
                    "三组到镇上的机耕路一下雨就走不了，希望列入明年硬化计划"
                ),
                (
                    "opinions.xls#4",
                    "2",
                    "李成",
                    "2023-09-19",
                    "村卫生室只有一名村医，周末经常关门"
                ),
            ]
        );
        assert_eq!(
            reasons(&errors),
            [("opinions.xls#5".to_owned(), "内容为空".to_owned())]
        );
        assert_eq!(rows[0].0.encoding, "xls");
        // A small workbook (its stream in the compound file's mini stream): the sample's roster.
        let roster = read_rows(&data.join("roster.xls"), &IngestConfig::default()).unwrap();
        assert!(roster.iter().any(|r| r[1] == "姓名"), "{roster:?}");
        assert!(
            roster.iter().any(|r| r[1] == "张伟" && r[2] == "云岭县委"),
            "{roster:?}"
        );
        // WPS's .et of Excel's make reads the same.
        let (et, _) = read("opinions.et", &xls);
        assert_eq!(et.len(), 2);
        // Refusals: a workbook named .doc, cut files, an .xls that is text.
        let refused = |name: &str, bytes: &[u8]| {
            let (subs, errors) = read(name, bytes);
            assert!(subs.is_empty(), "{name}");
            reasons(&errors).remove(0).1
        };
        assert_eq!(refused("wrong.doc", &xls), "不是 Word 文档");
        assert_eq!(refused("cut.doc", &doc[..doc.len() / 2]), "doc 已损坏");
        assert_eq!(refused("cut.xls", &xls[..xls.len() / 2]), "xls 已损坏");
        assert_eq!(
            refused("text.xls", "编号,内容\n1,修路\n".as_bytes()),
            "xls 已损坏"
        );
        assert_eq!(refused("own.wps", b"WPS own format bytes"), "不支持的类型");
        assert_eq!(refused("own.et", b"WPS own format bytes"), "不支持的类型");
        assert_eq!(
            refused("picture.doc", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            "doc 无法读取"
        );
        // A .doc that is plain text is read as text, with a warning.
        let (subs, _) = read("plain.doc", "村里的路要修。".as_bytes());
        assert_eq!(subs[0].0.text, "村里的路要修。");
        assert!(subs[0].0.warnings[0].contains("纯文本"));
    }

    /// A roster whose sheet has one stray cell in Excel's last row and column: read through
    /// the cell reader, not as calamine's dense range (a million rows × 16,384 columns, which
    /// would abort the process).
    #[test]
    fn a_stray_cell_far_out_in_a_roster_costs_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in ["姓名", "单位", "联系点"].iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for (c, v) in ["张伟", "县委办", "石桥村"].iter().enumerate() {
            ws.write_string(1, c as u16, *v).unwrap();
        }
        ws.write_string(1_048_575, 16_383, "x").unwrap();
        let path = dir.path().join("roster.xlsx");
        wb.save(&path).unwrap();
        let rows = read_rows(&path, &IngestConfig::default()).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1][..3], ["张伟", "县委办", "石桥村"]);
        assert_eq!(rows[2].len(), 16_384);
    }

    /// Issue 11.1: a folder holding diaoyan's outputs (its run.json) is never read as input.
    #[test]
    fn output_folders_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.txt"), "石桥村三组的水渠被冲垮。").unwrap();
        std::fs::create_dir_all(root.join("旧结果/index")).unwrap();
        std::fs::write(
            root.join("旧结果/run.json"),
            r#"{"tool": "diaoyan", "version": "0.1.0"}"#,
        )
        .unwrap();
        std::fs::write(root.join("旧结果/flags.csv"), "文件,结论\na.txt,通过\n").unwrap();
        // A run.json that is not ours does not hide a folder.
        std::fs::create_dir(root.join("别的")).unwrap();
        std::fs::write(root.join("别的/run.json"), "{}").unwrap();
        std::fs::write(root.join("别的/b.txt"), "全村共312户。").unwrap();
        let out = ingest(root, &IngestConfig::default()).unwrap();
        assert_eq!(out.skipped_outputs, ["旧结果"]);
        let paths: Vec<&str> = out.submissions.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["a.txt", "别的/b.txt"]);
        assert!(out.errors.iter().all(|e| !e.path.starts_with("旧结果")));
    }
}
