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

/// A file's size and times when it was read ([`Seen::of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Seen {
    size: u64,
    /// Modification time, nanoseconds since 1970.
    modified: u128,
    /// Status change time (Unix), nanoseconds since 1970; 0 where there is none.
    changed: u128,
}

impl Seen {
    /// The file's size and times, `None` when the system gives no modification time or the
    /// file was modified less than [`RACY`] before `started` (or after it).
    pub(crate) fn of(m: &std::fs::Metadata, started: SystemTime) -> Option<Seen> {
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

/// One file as it was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Known {
    /// Path relative to the input.
    pub path: String,
    pub seen: Seen,
    /// Its submissions with the fields their own text states.
    pub read: Vec<(Submission, Meta)>,
    /// Its rows (or the file itself) that could not be read.
    pub errors: Vec<FileError>,
}

/// What reading the files of one input folder gave, for the next run into the same output
/// folder ([`crate::ingest_memo`]). Valid only for the same [`crate::IngestConfig`] and the
/// same diaoyan: whoever keeps it between runs keeps it under a stamp of both.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileMemo {
    /// The input folder (as the system names it), so another folder's files never pass for
    /// these.
    pub(crate) root: String,
    /// Every file read and kept, in walk order.
    pub(crate) files: Vec<Known>,
}

impl FileMemo {
    /// Files kept.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file is kept.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The kept files by path (moved out of the memo).
    pub(crate) fn into_map(self) -> HashMap<String, Known> {
        self.files
            .into_iter()
            .map(|k| (k.path.clone(), k))
            .collect()
    }
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
