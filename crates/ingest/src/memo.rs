//! What reading each file gave, kept for the next run: an evening re-run reads again only the
//! files that are new or changed since, and takes the others' submissions over.
//!
//! A file counts as unchanged while its size, its modification time and (on Unix) its status
//! change time are what they were when it was read, as `git status` and `make` judge. A file
//! rewritten with the same size inside one tick of the file system's clock would look the same,
//! so a file modified less than [`RACY`] before the run started is read every time until it is
//! older (git's "racily clean" entries). Replacing a file, copying or restoring a folder or
//! editing a file in place all change the status change time, which no tool sets by hand.
//!
//! What is kept is what the readers found in the file itself — the text and the fields its own
//! header states — before the manifest, the roster and the path add theirs, so a changed
//! manifest or roster still reaches every submission.

use crate::meta::Meta;
use diaoyan_model::{FileError, Submission};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long before the run a file must have been modified last to be kept (FAT's clock ticks
/// every 2 s; ext4's, NTFS's and APFS's much faster).
pub(crate) const RACY: Duration = Duration::from_secs(3);

/// A file's size and times when it was read ([`Seen::of`]): what a later run compares to tell
/// the file unchanged (also the reference folders' files, outside the input, for the pipeline's
/// no-change re-run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    size: u64,
    /// Modification time, nanoseconds since 1970.
    modified: u128,
    /// Status change time (Unix), nanoseconds since 1970; 0 where there is none.
    changed: u128,
}

impl Seen {
    /// The file's size and times, `None` when the system gives no modification time or the
    /// file was modified less than [`RACY`] before `started` (or after it).
    pub fn of(m: &std::fs::Metadata, started: SystemTime) -> Option<Seen> {
        let modified = m.modified().ok()?;
        if modified.checked_add(RACY).is_none_or(|t| t > started) {
            return None;
        }
        Some(Seen {
            size: m.len(),
            modified: modified.duration_since(UNIX_EPOCH).ok()?.as_nanos(),
            changed: status_changed(m),
        })
    }
}

#[cfg(unix)]
fn status_changed(m: &std::fs::Metadata) -> u128 {
    use std::os::unix::fs::MetadataExt;
    let (s, ns) = (m.ctime(), m.ctime_nsec());
    u128::try_from(s).unwrap_or(0) * 1_000_000_000 + u128::try_from(ns).unwrap_or(0)
}

#[cfg(not(unix))]
fn status_changed(_: &std::fs::Metadata) -> u128 {
    0
}

/// One file as it was read, kept for the next run (what is inside is ingest's own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptFile {
    /// Path relative to the input.
    pub(crate) path: String,
    pub(crate) seen: Seen,
    /// Its submissions with the fields their own text states.
    pub(crate) read: Vec<(Submission, Meta)>,
    /// Its rows (or the file itself) that could not be read.
    pub(crate) errors: Vec<FileError>,
}

impl KeptFile {
    /// The file's path, relative to the input.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// Where [`crate::ingest_memo`] hands this run's memo as it reads: each file as soon as it is
/// parsed (from the reading threads, in any order), so a sink that writes them out at once
/// never holds a second copy of every file's fields (at 1,000,000 files that copy, saved
/// aside, was 0.7 GB of the run's peak) and its writing overlaps the reading.
///
/// Written *whole*, the memo is every file kept. Otherwise it is what changed since the
/// earlier memo: files read afresh (each in place of the one kept under its path) and the
/// paths no longer kept ([`KeepFiles::gone`]); the earlier memo with this laid over it is this
/// run's. A `Mutex<FileMemo>` is a sink that collects the memo whole.
pub trait KeepFiles: Sync {
    /// Whether this run's memo should be written whole, asked once the earlier one is loaded
    /// (a sink laying changes over earlier ones writes it whole again now and then).
    fn whole(&self) -> bool;
    /// Before any file: the input folder (as the system names it), whether the memo is written
    /// whole, and how many files the input holds (room to make for them).
    fn begin(&self, root: &str, whole: bool, files: usize);
    /// One file kept.
    fn file(&self, file: KeptFile);
    /// A path the earlier memo kept and this run does not (only when not written whole).
    fn gone(&self, path: &str);
}

impl KeepFiles for std::sync::Mutex<FileMemo> {
    fn whole(&self) -> bool {
        true
    }

    fn begin(&self, root: &str, whole: bool, files: usize) {
        let mut m = self.lock().unwrap_or_else(|e| e.into_inner());
        if whole || m.root != root {
            *m = FileMemo::new(root);
            m.reserve(files);
        }
    }

    fn file(&self, file: KeptFile) {
        self.lock().unwrap_or_else(|e| e.into_inner()).insert(file);
    }

    fn gone(&self, path: &str) {
        self.lock().unwrap_or_else(|e| e.into_inner()).remove(path);
    }
}

/// What reading the files of one input folder gave, for the next run into the same output
/// folder ([`crate::ingest_memo`]). Valid only for the same [`crate::IngestConfig`] and the
/// same diaoyan: whoever keeps it between runs keeps it under a stamp of both.
///
/// Each file is found by the xxh3 of its path, and stays where it was put: a map keyed by a
/// copy of each path, with the files moved into it, was 0.35 GB more at a 1,000,000-file
/// re-run's peak, beside the memo itself. Should two paths share a hash, only the later one is
/// found: the other file is read again, as a file the memo never held is.
#[derive(Debug, Clone, Default)]
pub struct FileMemo {
    /// The input folder (as the system names it), so another folder's files never pass for
    /// these.
    pub(crate) root: String,
    /// Every file kept, in the order kept (`None`: taken, replaced or removed).
    files: Vec<Option<KeptFile>>,
    /// Each file's place in `files`, by the xxh3 of its path.
    by_path: HashMap<u64, u32>,
    /// Files kept and not taken.
    left: usize,
}

impl FileMemo {
    /// An empty memo of the input folder `root`.
    pub fn new(root: &str) -> FileMemo {
        FileMemo {
            root: root.to_owned(),
            ..FileMemo::default()
        }
    }

    /// Makes room for `files` more files.
    pub fn reserve(&mut self, files: usize) {
        self.files.reserve(files);
        self.by_path.reserve(files);
    }

    /// The input folder.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// Files kept.
    pub fn len(&self) -> usize {
        self.left
    }

    /// Whether no file is kept.
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }

    /// The kept files, in the order kept.
    pub fn files(&self) -> impl Iterator<Item = &KeptFile> {
        self.files.iter().flatten()
    }

    /// Keeps `file` in place of the one kept under its path; whether there was one.
    pub fn insert(&mut self, file: KeptFile) -> bool {
        let replaced = self.take(&file.path).is_some();
        let at = u32::try_from(self.files.len()).expect("fewer than 4 billion files");
        self.by_path.insert(hash(&file.path), at);
        self.files.push(Some(file));
        self.left += 1;
        replaced
    }

    /// Drops the file kept under `path`; whether there was one.
    pub fn remove(&mut self, path: &str) -> bool {
        self.take(path).is_some()
    }

    fn position(&self, path: &str) -> Option<usize> {
        let i = *self.by_path.get(&hash(path))? as usize;
        self.files[i]
            .as_ref()
            .is_some_and(|f| f.path == path)
            .then_some(i)
    }

    /// The file kept under `path`, if not taken.
    pub(crate) fn get(&self, path: &str) -> Option<&KeptFile> {
        self.position(path).and_then(|i| self.files[i].as_ref())
    }

    /// Takes the file kept under `path` out.
    pub(crate) fn take(&mut self, path: &str) -> Option<KeptFile> {
        let i = self.position(path)?;
        self.left -= 1;
        self.files[i].take()
    }
}

fn hash(path: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(path.as_bytes())
}

/// How a run used the files of the last one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MemoUse {
    /// Files unchanged since they were read, their submissions taken over.
    pub reused: usize,
    /// Files read (new, changed, or not kept).
    pub read: usize,
    /// Files kept that are gone or changed: dropped.
    pub unused: usize,
}
