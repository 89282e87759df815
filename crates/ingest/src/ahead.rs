//! Reading files ahead of the parsers. Reading a file waits on the disk (or the network share)
//! when it is not in the page cache; with the parsers reading for themselves, two waiting left
//! both cores idle, and a cold folder of 100,000 files took 8.8 s to read against 1.7 s warm.
//! Here [`THREADS`] threads fetch the bytes, several requests in flight, and the pool's workers
//! parse what they hand over.

use crate::memo::Seen;
use crate::{
    FileResult, Found, IngestConfig, READING, Tick, err, file_name, io_reason, read_bytes, stem_ext,
};
use diaoyan_model::FileError;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

/// Threads that fetch files: eight saturate this machine's disk (a cold 100k folder, `cat` by
/// 2 / 4 / 8 / 32 processes: 5.7 / 3.3 / 2.45 / 2.48 s).
pub(crate) const THREADS: usize = 8;

/// Files a thread fetches before it hands them over, together: one hand-over per file cost a
/// second of thread wake-ups at 100,000 files already in memory.
pub(crate) const BATCH: usize = 16;

/// Batches fetched but not yet taken by a parser, at most.
const QUEUE: usize = 8;

/// Bytes fetched and not yet parsed, at most (a single larger file is fetched alone): a folder
/// of large workbooks must not be held in memory at once.
const BYTES: u64 = 64 << 20;

/// One file's bytes, lower-case extension, the bytes it holds of the [`Budget`] and its size
/// and times (when it can be kept for the next run); or that it is unchanged since an earlier
/// run read it; or why it could not be read.
enum Fetched {
    Bytes {
        ext: String,
        bytes: Vec<u8>,
        held: u64,
        seen: Option<Seen>,
    },
    Unchanged(Seen),
    Failed(FileError),
}

/// What became of one file: what reading it gave (`None`: unchanged since the earlier run that
/// read it, [`Reading::known`]), and its size and times when it can be kept.
pub(crate) type Outcome = (Option<FileResult>, Option<Seen>);

/// What the fetchers compare each file with.
#[derive(Clone, Copy)]
pub(crate) struct Reading<'a> {
    /// When the run started ([`Seen::of`]).
    pub started: std::time::SystemTime,
    /// Each file's size and times when an earlier run read it (aligned with the files; empty
    /// when there was none).
    pub known: &'a [Option<Seen>],
    /// Where each file read is handed, as soon as it is parsed, to be kept for the next run.
    pub keep: Option<&'a dyn crate::KeepFiles>,
}

/// The bytes fetched and not yet parsed.
struct Budget {
    cap: u64,
    state: Mutex<Held>,
    freed: Condvar,
}

#[derive(Default)]
struct Held {
    bytes: u64,
    /// The most ever held at once.
    peak: u64,
    /// No parser will give bytes back any more.
    closed: bool,
}

impl Budget {
    fn new(cap: u64) -> Budget {
        Budget {
            cap,
            state: Mutex::new(Held::default()),
            freed: Condvar::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Held> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes `n` bytes without waiting, when they fit (or nothing is held).
    fn try_take(&self, n: u64) -> bool {
        let mut h = self.state();
        if h.bytes > 0 && h.bytes + n > self.cap {
            return false;
        }
        h.bytes += n;
        h.peak = h.peak.max(h.bytes);
        true
    }

    /// Takes `n` bytes, waiting until they fit; `false` once the parsers are gone.
    fn take(&self, n: u64) -> bool {
        let mut h = self.state();
        while !h.closed && h.bytes > 0 && h.bytes + n > self.cap {
            h = self.freed.wait(h).unwrap_or_else(|e| e.into_inner());
        }
        h.bytes += n;
        h.peak = h.peak.max(h.bytes);
        !h.closed
    }

    fn give(&self, n: u64) {
        self.state().bytes -= n;
        self.freed.notify_all();
    }

    /// Wakes and stops every waiting fetcher.
    fn close(&self) {
        self.state().closed = true;
        self.freed.notify_all();
    }
}

/// Closes the budget when the parsing side ends, however it ends.
struct CloseOnDrop<'a>(&'a Budget);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Reads and parses every file that is not unchanged since an earlier run read it: [`THREADS`]
/// threads fetch the bytes, the current pool's workers parse them as they come. Outcomes in the
/// order of `files`.
pub(crate) fn read_all(
    files: &[Found],
    cfg: &IngestConfig,
    tick: &(dyn Fn(Tick) + Sync),
    reading: Reading<'_>,
) -> Vec<Outcome> {
    read_within(files, cfg, tick, reading, BYTES).0
}

/// [`read_all`] holding at most `cap` fetched bytes (or one larger file); also returns the
/// most it held at once.
fn read_within(
    files: &[Found],
    cfg: &IngestConfig,
    tick: &(dyn Fn(Tick) + Sync),
    reading: Reading<'_>,
    cap: u64,
) -> (Vec<Outcome>, u64) {
    let (tx, rx) = mpsc::sync_channel::<(usize, Vec<Fetched>)>(QUEUE);
    let next = AtomicUsize::new(0);
    let budget = Budget::new(cap);
    let threads = THREADS.min(files.len().div_ceil(BATCH));
    let mut batches: Vec<(usize, Vec<Outcome>)> = std::thread::scope(|scope| {
        for _ in 0..threads {
            let (tx, next, budget) = (tx.clone(), &next, &budget);
            scope.spawn(move || fetcher(files, cfg, reading, next, budget, &tx));
        }
        drop(tx);
        let _close = CloseOnDrop(&budget);
        rx.into_iter()
            .par_bridge()
            .map(|(from, batch)| {
                let parsed = batch
                    .into_iter()
                    .zip(&files[from..])
                    .map(|(fetched, f)| {
                        let r = parse(f, fetched, cfg, &budget);
                        if let ((Some((read, errors)), Some(seen)), Some(k)) = (&r, reading.keep) {
                            k.file(crate::KeptFile {
                                path: f.rel.clone(),
                                seen: *seen,
                                read: read.clone(),
                                errors: errors.clone(),
                            });
                        }
                        tick(Tick::Read);
                        r
                    })
                    .collect();
                (from, parsed)
            })
            .collect()
    });
    batches.sort_unstable_by_key(|b| b.0);
    let peak = budget.state().peak;
    (batches.into_iter().flat_map(|b| b.1).collect(), peak)
}

/// One fetching thread: claims [`BATCH`] files at a time and hands over what it read (sooner,
/// when the next file must wait for the budget, so that what it holds can be parsed and freed).
fn fetcher(
    files: &[Found],
    cfg: &IngestConfig,
    reading: Reading<'_>,
    next: &AtomicUsize,
    budget: &Budget,
    tx: &mpsc::SyncSender<(usize, Vec<Fetched>)>,
) {
    loop {
        let from = next.fetch_add(BATCH, Ordering::Relaxed);
        if from >= files.len() {
            return;
        }
        let to = (from + BATCH).min(files.len());
        let mut start = from;
        let mut batch = Vec::with_capacity(to - from);
        for (i, f) in files.iter().enumerate().take(to).skip(from) {
            let (size, seen) = match std::fs::metadata(&f.abs) {
                Ok(m) => (m.len(), Seen::of(&m, reading.started)),
                Err(e) => {
                    batch.push(Fetched::Failed(err(&f.rel, "无法读取", io_reason(&e))));
                    continue;
                }
            };
            if let Some(seen) = seen.filter(|s| reading.known.get(i) == Some(&Some(*s))) {
                batch.push(Fetched::Unchanged(seen));
                continue;
            }
            if size > cfg.max_file_bytes {
                batch.push(Fetched::Failed(err(
                    &f.rel,
                    "文件过大",
                    format!(
                        "{} MB，超过上限 {} MB",
                        size >> 20,
                        cfg.max_file_bytes >> 20
                    ),
                )));
                continue;
            }
            if !budget.try_take(size) {
                if !batch.is_empty() {
                    let sent = std::mem::replace(&mut batch, Vec::with_capacity(to - i));
                    if tx.send((start, sent)).is_err() {
                        return;
                    }
                    start = i;
                }
                if !budget.take(size) {
                    return;
                }
            }
            batch.push(match std::fs::read(&f.abs) {
                Ok(bytes) => Fetched::Bytes {
                    ext: stem_ext(file_name(&f.rel)).1,
                    bytes,
                    held: size,
                    seen,
                },
                Err(e) => {
                    budget.give(size);
                    Fetched::Failed(err(&f.rel, "无法读取", io_reason(&e)))
                }
            });
        }
        // The receiver goes only when the parsers are done, or panicked.
        if tx.send((start, batch)).is_err() {
            return;
        }
    }
}

/// Parses one fetched file and gives its bytes back to the budget.
fn parse(f: &Found, fetched: Fetched, cfg: &IngestConfig, budget: &Budget) -> Outcome {
    match fetched {
        Fetched::Bytes {
            ext,
            bytes,
            held,
            seen,
        } => {
            // A bug in a reader must cost one file, never the batch.
            READING.set(true);
            let r = std::panic::catch_unwind(|| read_bytes(f, &ext, &bytes, cfg));
            READING.set(false);
            drop(bytes);
            budget.give(held);
            match r {
                Ok(r) => (Some(r), seen),
                // Read again next time: the fault may be fixed by then.
                Err(_) => (
                    Some((
                        vec![],
                        vec![err(
                            &f.rel,
                            "内部错误",
                            "读取此文件时程序出错，已跳过；请将此文件提供给维护人员",
                        )],
                    )),
                    None,
                ),
            }
        }
        Fetched::Unchanged(seen) => (None, Some(seen)),
        Fetched::Failed(e) => (Some((vec![], vec![e])), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files larger than the budget lets several be held: every file is still read (no fetcher
    /// waits forever), in order, and no more than the budget or one file is held at a time.
    #[test]
    fn the_byte_budget_bounds_what_is_held_and_every_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        let mut sizes = Vec::new();
        for i in 0..THREADS * BATCH * 2 + 3 {
            let rel = format!("f{i:04}.txt");
            // 900 to 4,500 bytes: a 4 KB budget holds one to four of them.
            let body = format!("第{i}份。{}", "路".repeat(300 * (1 + i % 5)));
            std::fs::write(dir.path().join(&rel), &body).unwrap();
            sizes.push(body.len() as u64);
            files.push(Found {
                abs: dir.path().join(&rel),
                rel,
            });
        }
        let cap = 4096;
        let fresh = Reading {
            started: std::time::SystemTime::now(),
            known: &[],
            keep: None,
        };
        let (results, peak) = read_within(&files, &IngestConfig::default(), &|_| {}, fresh, cap);
        assert_eq!(results.len(), files.len());
        for (i, (subs, errors)) in results.iter().map(|r| r.0.as_ref().unwrap()).enumerate() {
            assert!(errors.is_empty(), "{errors:?}");
            assert!(
                subs[0].0.text.starts_with(&format!("第{i}份。")),
                "file {i}"
            );
        }
        let largest = *sizes.iter().max().unwrap();
        assert!(peak <= cap.max(largest), "held {peak} bytes at once");
        assert!(peak > 0);
        // With no budget to speak of, one file at a time, and still every file.
        let (results, peak) = read_within(&files, &IngestConfig::default(), &|_| {}, fresh, 1);
        assert_eq!(
            results
                .iter()
                .filter(|r| r.0.as_ref().is_some_and(|r| r.0.len() == 1))
                .count(),
            files.len()
        );
        assert_eq!(peak, largest);
    }
}
