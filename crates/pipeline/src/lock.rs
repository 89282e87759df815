//! One run per output folder: an OS file lock on `OUT/.diaoyan.lock`, and the leftovers of
//! killed runs cleaned away once the lock is held.
//!
//! The lock is the operating system's (`flock` on Unix, `LockFileEx` on Windows), so a run that
//! is killed releases it with its process: a later run takes it over and learns from the file's
//! contents (who held it) that the previous run did not finish. A clean exit empties the file.

use crate::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the output folder.
pub const LOCK_FILE: &str = ".diaoyan.lock";

/// Where the previous `index/` waits while a new one is moved in.
pub(crate) const OLD_INDEX: &str = ".diaoyan-index-old";

/// A held lock on an output folder; released (and its file emptied) on drop.
#[derive(Debug)]
pub struct OutputLock {
    file: File,
    /// Who held the lock before and did not release it cleanly (a killed run), as written in
    /// the file (`进程 1234，开始于 …`).
    pub taken_over: Option<String>,
}

impl OutputLock {
    /// Takes the lock on `dir` (which must exist), writing this process's id and `started`
    /// into it. Another live run holding it → [`Error::Busy`] naming the holder.
    pub fn acquire(dir: &Path, started: &str) -> Result<OutputLock> {
        let path = dir.join(LOCK_FILE);
        let fail = |e: std::io::Error| {
            Error::Output(diaoyan_digest::Error::Write {
                path: path.clone(),
                reason: e.to_string(),
            })
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(fail)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                // Best effort: the holder's note may be being written right now.
                let _ = file.read_to_string(&mut holder);
                return Err(Error::Busy {
                    path: dir.to_path_buf(),
                    holder: describe(&holder),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(fail(e)),
        }
        let mut before = String::new();
        let _ = file.read_to_string(&mut before);
        let taken_over = (!before.trim().is_empty()).then(|| describe(&before));
        file.set_len(0).map_err(fail)?;
        file.seek(SeekFrom::Start(0)).map_err(fail)?;
        write!(file, "pid={}\nstarted={started}\n", std::process::id()).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        Ok(OutputLock { file, taken_over })
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Empty = released cleanly; the OS lock goes with the handle.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// `pid=…\nstarted=…` → `进程 1234，开始于 2026-11-30T10:00:00+08:00`.
fn describe(note: &str) -> String {
    let field = |k: &str| {
        note.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
            .map(str::trim)
            .unwrap_or("")
            .to_owned()
    };
    match (field("pid"), field("started")) {
        (p, s) if !p.is_empty() && !s.is_empty() => format!("进程 {p}，开始于 {s}"),
        (p, _) if !p.is_empty() => format!("进程 {p}"),
        _ => "另一次运行".to_owned(),
    }
}

/// Removes what killed runs left in `dir`: temporary output files (`.diaoyan-*.tmp`), probe
/// files, half-built search indexes (`.diaoyan-index-*`), staging folders
/// (`.diaoyan-staging-*`) — after finishing the move of a run killed while moving its outputs
/// in (its staged outputs it had not moved yet come in). Call with the lock held. Returns the
/// names removed; a leftover that cannot be removed is left (the next run tries again).
pub fn clean_leftovers(dir: &Path) -> Vec<String> {
    let mut removed: Vec<String> = Vec::new();
    // Killed while moving its outputs in: the rest of them come in first.
    if crate::outputs::finish_publish(dir) {
        removed.push(format!(
            "{}（上次运行在换入结果时中断，已补完换入）",
            crate::outputs::PUBLISHING
        ));
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    // Killed between moving the old index aside and the new one in: the old one goes back.
    let (index, old) = (dir.join("index"), dir.join(OLD_INDEX));
    if !index.exists() && old.is_dir() && std::fs::rename(&old, &index).is_ok() {
        removed.push(format!("{OLD_INDEX}（已恢复为 index）"));
    }
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let leftover = name.starts_with(".diaoyan-index-")
            || name.starts_with(".diaoyan-probe-")
            || name.starts_with(".diaoyan-staging-")
            || (name.starts_with(".diaoyan-") && name.ends_with(".tmp"));
        if !leftover {
            continue;
        }
        let p: PathBuf = e.path();
        let ok = if e.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&p).is_ok()
        } else {
            std::fs::remove_file(&p).is_ok()
        };
        if ok {
            removed.push(name);
        }
    }
    // A killed run may also have left a half-written cache file.
    if let Ok(entries) = std::fs::read_dir(dir.join(crate::CACHE_DIR)) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".diaoyan-")
                && name.ends_with(".tmp")
                && std::fs::remove_file(e.path()).is_ok()
            {
                removed.push(format!("{}/{name}", crate::CACHE_DIR));
            }
        }
    }
    removed.sort();
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_first_named() {
        let dir = tempfile::tempdir().unwrap();
        let first = OutputLock::acquire(dir.path(), "2026-11-30T10:00:00+08:00").unwrap();
        assert!(first.taken_over.is_none());
        let err = OutputLock::acquire(dir.path(), "later").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("进程 {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains("2026-11-30T10:00:00+08:00"), "{msg}");
        drop(first);
        // Released cleanly: the next holder takes it without a stale note.
        let again = OutputLock::acquire(dir.path(), "x").unwrap();
        assert!(again.taken_over.is_none());
    }

    #[test]
    fn a_stale_note_is_taken_over_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        // A killed run leaves its note but no OS lock.
        std::fs::write(
            dir.path().join(LOCK_FILE),
            "pid=999999\nstarted=2026-11-29T20:00:00+08:00\n",
        )
        .unwrap();
        let l = OutputLock::acquire(dir.path(), "now").unwrap();
        assert_eq!(
            l.taken_over.as_deref(),
            Some("进程 999999，开始于 2026-11-29T20:00:00+08:00")
        );
    }

    #[test]
    fn leftovers_are_cleaned_and_outputs_kept() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join(".diaoyan-index-a1b2/sub")).unwrap();
        std::fs::write(d.join(".diaoyan-index-a1b2/sub/x"), "x").unwrap();
        std::fs::write(d.join(".diaoyan-Xy12.tmp"), "partial").unwrap();
        std::fs::write(d.join(".diaoyan-probe-9"), "").unwrap();
        std::fs::write(d.join("flags.csv"), "keep").unwrap();
        std::fs::create_dir(d.join("index")).unwrap();
        let removed = clean_leftovers(d);
        assert_eq!(
            removed,
            vec![
                ".diaoyan-Xy12.tmp",
                ".diaoyan-index-a1b2",
                ".diaoyan-probe-9"
            ]
        );
        assert!(d.join("flags.csv").exists() && d.join("index").exists());
    }

    #[test]
    fn an_index_moved_aside_by_a_killed_run_is_restored() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join(".diaoyan-index-old")).unwrap();
        std::fs::write(d.join(".diaoyan-index-old/meta.json"), "{}").unwrap();
        let removed = clean_leftovers(d);
        assert_eq!(removed.len(), 1, "{removed:?}");
        assert!(d.join("index/meta.json").exists());
    }

    #[test]
    fn a_run_killed_while_moving_its_outputs_in_is_finished() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // The previous run's outputs.
        for (name, text) in [("flags.csv", "old"), ("run.json", "old")] {
            std::fs::write(d.join(name), text).unwrap();
        }
        std::fs::create_dir(d.join("index")).unwrap();
        std::fs::write(d.join("index/meta.json"), "old").unwrap();
        // A new run staged all three and was killed after moving the index in.
        let staged = d.join(".diaoyan-staging-Ab12");
        std::fs::create_dir(&staged).unwrap();
        for name in ["flags.csv", "run.json"] {
            std::fs::write(staged.join(name), "new").unwrap();
        }
        std::fs::create_dir(d.join(OLD_INDEX)).unwrap();
        std::fs::write(d.join(OLD_INDEX).join("meta.json"), "old").unwrap();
        std::fs::write(d.join("index/meta.json"), "new").unwrap();
        std::fs::write(
            d.join(crate::outputs::PUBLISHING),
            r#"{"staging":".diaoyan-staging-Ab12","outputs":["index/","flags.csv","run.json"]}"#,
        )
        .unwrap();
        let removed = clean_leftovers(d);
        for name in ["flags.csv", "run.json", "index/meta.json"] {
            assert_eq!(
                std::fs::read_to_string(d.join(name)).unwrap(),
                "new",
                "{name}"
            );
        }
        assert!(
            removed.iter().any(|r| r.contains("已补完换入")),
            "{removed:?}"
        );
        let left: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        // A note whose staging folder is gone (or that is not one) moves nothing and goes.
        std::fs::write(
            d.join(crate::outputs::PUBLISHING),
            r#"{"staging":"..","outputs":["flags.csv"]}"#,
        )
        .unwrap();
        assert!(clean_leftovers(d).is_empty());
        assert!(!d.join(crate::outputs::PUBLISHING).exists());
        assert_eq!(std::fs::read_to_string(d.join("flags.csv")).unwrap(), "new");
    }
}
