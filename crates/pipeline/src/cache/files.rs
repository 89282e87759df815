//! What ingest read from each input file ([`FileMemo`]), kept in the cache as one whole memo
//! and the changes of later runs laid over it.
//!
//! A first run writes the memo whole (`files-STAMP.bin`: every file read, texts included —
//! 1.9 GB at 1,000,000 files). An evening re-run that read 1% of the files afresh writes only
//! those and the paths no longer kept, as a layer (`files.N-STAMP.bin`, N = 1, 2, …): writing
//! the whole memo again took longer than the files it spared reading. After [`MAX_LAYERS`]
//! layers, or once a quarter as many entries are dead (replaced or gone) as live, the next run
//! writes it whole again and removes the layers.
//!
//! Each file is the cache's framing ([`Cache::write_with`]: magic, body, xxh3) around a body
//! of: stamp, input folder, the whole memo's id, the layer's number (0: the whole memo), how
//! many files the input held, then records — a file kept, a path gone — and an end. A layer is laid only over the whole memo
//! of its id and after every layer before it; a missing, damaged or stray layer ends the load
//! there (files it would have spared are read again).

use super::{Cache, FILES, Reading, encode};
use diaoyan_ingest::{FileMemo, KeepFiles, KeptFile};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex};

/// Layers laid over a whole memo, at most; the run after writes it whole again.
pub(crate) const MAX_LAYERS: u32 = 8;

/// Files handed to the writer that it has not written yet, at most (then the reader waits).
const AHEAD: usize = 256;

/// Record tags.
const FILE: u8 = 0;
const GONE: u8 = 1;
const END: u8 = 2;

/// What loading the memo found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loaded {
    /// The whole memo's id.
    id: u64,
    /// Layers laid over it.
    layers: u32,
    /// Files kept.
    live: usize,
    /// Entries in the files that no longer count (replaced or gone).
    dead: usize,
}

impl Loaded {
    /// Whether the next memo should be written whole.
    fn rewrite(&self) -> bool {
        self.layers >= MAX_LAYERS || self.dead > self.live / 4
    }
}

/// A layer's stage name ([`FILES`] is the whole memo; layer `n` is `files.n`).
fn layer(n: u32) -> String {
    format!("{FILES}.{n}")
}

fn decode<T: serde::de::DeserializeOwned>(r: &mut Reading) -> Option<T> {
    bincode::serde::decode_from_std_read(r, bincode::config::standard()).ok()
}

/// One record of a memo file.
enum Record {
    File(KeptFile),
    Gone(String),
}

/// The records of a memo file up to its end (`None`: cut short or not a memo's records).
fn records(r: &mut Reading, each: &mut dyn FnMut(Record)) -> Option<()> {
    loop {
        match decode::<u8>(r)? {
            FILE => each(Record::File(decode(r)?)),
            GONE => each(Record::Gone(decode(r)?)),
            END => return Some(()),
            _ => return None,
        }
    }
}

impl Cache {
    /// What the last runs read from each input file, under this stamp (empty when nothing was
    /// kept), and what the load found.
    fn load_files(&self) -> (FileMemo, Option<Loaded>) {
        let whole = self.read_with(FILES, |r| {
            let (root, id, files) = self.header(r, 0)?;
            let mut memo = FileMemo::new(&root);
            // Room made at once: grown by doubling, the memo and its index were up to twice
            // their size while the load ended (a 1M re-run's peak).
            memo.reserve(usize::try_from(files).unwrap_or(0).min(1 << 26));
            let mut entries = 0;
            records(r, &mut |rec| {
                if let Record::File(f) = rec {
                    memo.insert(f);
                    entries += 1;
                }
            })?;
            Some((memo, id, entries))
        });
        let Some((mut memo, id, mut entries)) = whole else {
            return (FileMemo::default(), None);
        };
        let mut layers = 0;
        for n in 1..=MAX_LAYERS {
            // A layer is read whole before it is laid: one that fails half-way is not laid.
            let laid = self.read_with(&layer(n), |r| {
                let (root, of, _) = self.header(r, n)?;
                let mut recs = Vec::new();
                records(r, &mut |rec| recs.push(rec))?;
                (root == memo.root() && of == id).then_some(recs)
            });
            let Some(recs) = laid else { break };
            for rec in recs {
                match rec {
                    Record::File(f) => {
                        memo.insert(f);
                        entries += 1;
                    }
                    Record::Gone(p) => {
                        memo.remove(&p);
                    }
                }
            }
            layers = n;
        }
        let live = memo.len();
        let loaded = Loaded {
            id,
            layers,
            live,
            dead: entries - live,
        };
        (memo, Some(loaded))
    }

    /// A memo file's input folder, whole memo's id and how many files the input held, when it
    /// is of this stamp and layer `n`.
    fn header(&self, r: &mut Reading, n: u32) -> Option<(String, u64, u64)> {
        let stamp: String = decode(r)?;
        let root: String = decode(r)?;
        let id: u64 = decode(r)?;
        let of: u32 = decode(r)?;
        let files: u64 = decode(r)?;
        (stamp == self.stamp && of == n).then_some((root, id, files))
    }

    /// The earlier runs' memo, loaded on a thread of its own from now (the function returned
    /// waits for it), and where ingest hands this run's ([`KeepingFiles`]).
    ///
    /// Ingest calls the function once the input folder is walked, so loading and walking
    /// overlap (100,000 files: the memo took 0.42 s to load, the walk 0.34 s, one after the
    /// other). Loaded when called if no thread can be started; a load that panicked gives an
    /// empty memo (every file is read), as an unreadable file does. A run that stops before
    /// calling it does not wait for the load.
    pub(crate) fn files_memo(&self) -> (impl FnOnce() -> FileMemo + Send + use<>, KeepingFiles) {
        let slot: Arc<Mutex<Option<Loaded>>> = Arc::default();
        let load = {
            let (cache, slot) = (self.clone(), slot.clone());
            move || {
                let (memo, loaded) = cache.load_files();
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = loaded;
                memo
            }
        };
        let aside = {
            let load = load.clone();
            std::thread::Builder::new()
                .name("diaoyan-load-files".to_owned())
                .spawn(load)
        };
        let earlier = move || match aside {
            Ok(h) => h.join().unwrap_or_default(),
            Err(_) => load(),
        };
        (earlier, self.keep_files(slot))
    }

    /// A [`KeepingFiles`] whose writer has started and waits for ingest to begin.
    fn keep_files(&self, loaded: Arc<Mutex<Option<Loaded>>>) -> KeepingFiles {
        let (send, receive) = std::sync::mpsc::sync_channel::<Part>(AHEAD);
        let (cache, slot) = (self.clone(), loaded.clone());
        let writer = std::thread::Builder::new()
            .name("diaoyan-keep-files".to_owned())
            .spawn(move || cache.write_files(&receive, &slot));
        let (send, writer) = match writer {
            Ok(h) => (Some(send), Some(h)),
            Err(_) => (None, None),
        };
        KeepingFiles {
            stopped: AtomicBool::new(send.is_none()),
            send,
            writer,
            loaded,
        }
    }

    /// The writer of [`KeepingFiles`]: once ingest begins, the whole memo or the next layer,
    /// each record encoded as it comes. Whether it was written: nothing is put in place when
    /// the parts stop short or are not to be kept.
    fn write_files(&self, receive: &Receiver<Part>, loaded: &Mutex<Option<Loaded>>) -> bool {
        let Ok(Part::Begin { root, whole, files }) = receive.recv() else {
            return false;
        };
        let earlier = *loaded.lock().unwrap_or_else(|e| e.into_inner());
        let (n, id) = match (whole, earlier) {
            (false, Some(l)) => (l.layers + 1, l.id),
            _ => (0, fresh_id(&self.stamp)),
        };
        let stage = if n == 0 { FILES.to_owned() } else { layer(n) };
        let written = self.write_with(&stage, |w| {
            let stopped = || std::io::Error::other("the files' memo stopped short or is not kept");
            encode(w, self.stamp.as_str())?;
            encode(w, root.as_str())?;
            encode(w, &id)?;
            encode(w, &n)?;
            encode(w, &(files as u64))?;
            loop {
                match receive.recv() {
                    Ok(Part::File(f)) => {
                        encode(w, &FILE)?;
                        encode(w, &f)?;
                    }
                    Ok(Part::Gone(p)) => {
                        encode(w, &GONE)?;
                        encode(w, p.as_str())?;
                    }
                    Ok(Part::Keep) => return encode(w, &END),
                    Ok(Part::Begin { .. }) | Err(_) => return Err(stopped()),
                }
            }
        });
        if written {
            // Layers laid over another whole memo, or stray ones after this, are no use.
            self.remove_where(|name| {
                name.strip_prefix("files.").is_some_and(|rest| {
                    rest.split('-')
                        .next()
                        .and_then(|k| k.parse::<u32>().ok())
                        .is_none_or(|k| k > n)
                })
            });
        }
        written
    }
}

/// An id for a new whole memo: the time, the process and the stamp.
fn fresh_id(stamp: &str) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&now.to_le_bytes());
    h.update(&std::process::id().to_le_bytes());
    h.update(stamp.as_bytes());
    h.digest()
}

/// What ingest hands a [`KeepingFiles`]: first [`Part::Begin`]; then the files and gone paths;
/// then [`Part::Keep`] once the run knows the memo differs from the one kept.
enum Part {
    Begin {
        root: String,
        whole: bool,
        files: usize,
    },
    File(KeptFile),
    Gone(String),
    Keep,
}

/// This run's memo of the input files on its way into the cache ([`KeepFiles`]): each part goes
/// to a thread that writes it at once, so the memo is never held whole a second time beside the
/// submissions (at 1,000,000 files that copy, held while it was saved aside, was 0.7 GB of the
/// run's peak), and the files are written while they are read. A few hundred parts wait at
/// most; then the reader waits for the writer.
///
/// The file is put in place only when [`KeepingFiles::finish`] says to keep it; a run that
/// stops before, or whose memo is the one kept, leaves the files kept before untouched.
/// Nothing is kept when no thread can be started or the file cannot be written: the next run
/// reads every file again (or those of the layer that is missing).
pub(crate) struct KeepingFiles {
    send: Option<SyncSender<Part>>,
    /// The writer took its last part (it gave up, or there is none).
    stopped: AtomicBool,
    writer: Option<std::thread::JoinHandle<bool>>,
    /// What the load found (set by the loader before ingest begins).
    loaded: Arc<Mutex<Option<Loaded>>>,
}

impl KeepFiles for KeepingFiles {
    fn whole(&self) -> bool {
        let loaded = *self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        loaded.is_none_or(|l| l.rewrite())
    }

    fn begin(&self, root: &str, whole: bool, files: usize) {
        self.pass(Part::Begin {
            root: root.to_owned(),
            whole,
            files,
        });
    }

    fn file(&self, file: KeptFile) {
        self.pass(Part::File(file));
    }

    fn gone(&self, path: &str) {
        self.pass(Part::Gone(path.to_owned()));
    }
}

impl KeepingFiles {
    /// Hands a part to the writer; a writer that gave up (the file cannot be written) takes
    /// nothing more.
    fn pass(&self, part: Part) {
        if self.stopped.load(Ordering::Relaxed) {
            return;
        }
        if self.send.as_ref().is_none_or(|s| s.send(part).is_err()) {
            self.stopped.store(true, Ordering::Relaxed);
        }
    }

    /// Puts the file in place when `keep` (the memo differs from the one kept) or drops it.
    /// The writer may still be writing: the handle returned is to be joined before the run
    /// ends (true when the file was written).
    pub(crate) fn finish(mut self, keep: bool) -> Option<std::thread::JoinHandle<bool>> {
        if keep {
            self.pass(Part::Keep);
        }
        self.close();
        self.writer.take()
    }

    fn close(&mut self) {
        self.stopped.store(true, Ordering::Relaxed);
        self.send = None;
    }
}

impl Drop for KeepingFiles {
    /// A run that stopped during ingest waits for its writer to remove what it began.
    fn drop(&mut self) {
        self.close();
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PipelineConfig;
    use crate::cache::CACHE_DIR;

    /// Writes a file modified an hour ago.
    fn write_old(path: &std::path::Path, text: &str) {
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::write(path, text).unwrap();
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }

    /// What ingest keeps of the files in `input`, whole.
    fn memo_of(input: &std::path::Path) -> FileMemo {
        let sink = Mutex::new(FileMemo::default());
        let cfg = diaoyan_ingest::IngestConfig::default();
        diaoyan_ingest::ingest_memo(input, &cfg, &|_| {}, Some((FileMemo::default, &sink as _)))
            .unwrap();
        sink.into_inner().unwrap()
    }

    /// Five files read by ingest into a memo (as a whole run keeps it), and the memo of the
    /// second after it changed.
    fn five_files() -> (FileMemo, FileMemo) {
        let input = tempfile::tempdir().unwrap();
        for i in 0..5 {
            let path = input.path().join(format!("f{i}.txt"));
            write_old(&path, &format!("第{i}份：三组机耕路有{i}处塌方。"));
        }
        let memo = memo_of(input.path());
        assert_eq!(memo.len(), 5);
        let second = memo.files().nth(1).unwrap().path().to_owned();
        write_old(&input.path().join(&second), "第1份：五组水渠有3处渗漏。");
        let changed = memo_of(input.path());
        (memo, changed)
    }

    /// A cache in a new output folder.
    fn empty_cache() -> (tempfile::TempDir, Cache) {
        let out = tempfile::tempdir().unwrap();
        let cache = Cache::open(out.path(), &PipelineConfig::default(), 1);
        (out, cache)
    }

    /// The memo's files in one order.
    fn sorted<'a>(files: impl Iterator<Item = &'a KeptFile>) -> Vec<KeptFile> {
        let mut v: Vec<KeptFile> = files.cloned().collect();
        v.sort_by_key(|f| format!("{f:?}"));
        v
    }

    fn listing(out: &std::path::Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(out.join(CACHE_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// One run's memo as ingest hands it on: `files` kept, `gone` paths; `finish`: keep it or
    /// not (`None`: the run stops first). Returns whether it was written, and the memo loaded
    /// before.
    fn run(
        cache: &Cache,
        files: &[&KeptFile],
        gone: &[&str],
        finish: Option<bool>,
    ) -> (Option<bool>, FileMemo, bool) {
        let (earlier, keep) = cache.files_memo();
        let earlier = earlier();
        let whole = earlier.is_empty() || keep.whole();
        keep.begin("/the/input", whole, files.len());
        for f in files {
            keep.file((*f).clone());
        }
        for p in gone {
            keep.gone(p);
        }
        let written = finish
            .and_then(|k| keep.finish(k))
            .map(|h| h.join().unwrap());
        (written, earlier, whole)
    }

    #[test]
    fn a_memo_is_written_whole_then_as_layers_laid_over_it() {
        let (memo, after) = five_files();
        let all: Vec<&KeptFile> = memo.files().collect();
        let (out, cache) = empty_cache();

        // First run: nothing kept, written whole.
        let (written, earlier, whole) = run(&cache, &all, &[], Some(true));
        assert_eq!((written, earlier.len(), whole), (Some(true), 0, true));
        let (back, loaded) = cache.load_files();
        assert_eq!(sorted(back.files()), sorted(memo.files()));
        assert_eq!(back.root(), "/the/input");
        let id = loaded.unwrap().id;
        assert_eq!(
            loaded.unwrap(),
            Loaded {
                id,
                layers: 0,
                live: 5,
                dead: 0
            }
        );

        // A re-run: one file changed (kept again), one gone: a layer of two records.
        let changed = after.files().nth(1).unwrap().clone();
        assert_eq!(changed.path(), all[1].path());
        assert_ne!(&changed, all[1]);
        let (written, earlier, whole) = run(&cache, &[&changed], &[all[3].path()], Some(true));
        assert_eq!((written, earlier.len(), whole), (Some(true), 5, false));
        assert_eq!(listing(out.path()).len(), 2, "{:?}", listing(out.path()));
        let (back, loaded) = cache.load_files();
        let expected = [all[0], &changed, all[2], all[4]];
        assert_eq!(sorted(back.files()), sorted(expected.into_iter()));
        assert_eq!(
            loaded.unwrap(),
            Loaded {
                id,
                layers: 1,
                live: 4,
                dead: 2
            }
        );

        // A run whose memo is the one kept, and one that stops during ingest: nothing changes.
        let before = listing(out.path());
        let bytes = std::fs::read(cache.path(&layer(1))).unwrap();
        assert_eq!(run(&cache, &[all[0]], &[], Some(false)).0, Some(false));
        assert_eq!(run(&cache, &[all[0]], &[], None).0, None);
        assert_eq!(
            listing(out.path()),
            before,
            "no temporary file is left behind"
        );
        assert_eq!(std::fs::read(cache.path(&layer(1))).unwrap(), bytes);
        assert_eq!(cache.load_files().1.unwrap().layers, 1);

        // Dead entries (2) past a quarter of the live ones (4): the next memo is written
        // whole, and the layer goes.
        let kept_now = cache.load_files().0;
        let now: Vec<&KeptFile> = kept_now.files().collect();
        let (written, _, whole) = run(&cache, &now, &[], Some(true));
        assert_eq!((written, whole), (Some(true), true));
        assert_eq!(listing(out.path()).len(), 1, "{:?}", listing(out.path()));
        let (back, loaded) = cache.load_files();
        assert_eq!(sorted(back.files()), sorted(now.into_iter()));
        let loaded = loaded.unwrap();
        assert_ne!(loaded.id, id, "a new whole memo");
        assert_eq!((loaded.layers, loaded.live, loaded.dead), (0, 4, 0));
    }

    #[test]
    fn layers_are_laid_in_order_over_their_own_memo_only() {
        let (memo, _) = five_files();
        let all: Vec<&KeptFile> = memo.files().collect();
        let (out, cache) = empty_cache();
        run(&cache, &all, &[], Some(true));
        // Layers 1 and 2, each replacing one file by itself (live 5, dead 2: not yet a quarter).
        run(&cache, &[all[0]], &[], Some(true));
        run(&cache, &[all[1]], &[], Some(true));
        assert_eq!(cache.load_files().1.unwrap().layers, 2);
        // Layer 1 lost: layer 2 is not laid without it (its files are read again).
        let one = std::fs::read(cache.path(&layer(1))).unwrap();
        std::fs::remove_file(cache.path(&layer(1))).unwrap();
        let (back, loaded) = cache.load_files();
        assert_eq!(loaded.unwrap().layers, 0);
        assert_eq!(back.len(), 5);
        // The next run's layer is number 1 again, and the stray layer 2 goes with it.
        run(&cache, &[all[2]], &[], Some(true));
        assert_eq!(listing(out.path()).len(), 2, "{:?}", listing(out.path()));
        assert_eq!(cache.load_files().1.unwrap().layers, 1);
        // Another stamp finds nothing.
        let other = Cache::open(out.path(), &PipelineConfig::default(), 2);
        assert!(other.load_files().1.is_none());
        // After the most layers there may be, the memo is written whole.
        for _ in 1..MAX_LAYERS {
            assert!(!run(&cache, &[], &[], Some(true)).2);
        }
        assert_eq!(cache.load_files().1.unwrap().layers, MAX_LAYERS);
        assert!(run(&cache, &all, &[], Some(true)).2);
        let (back, loaded) = cache.load_files();
        assert_eq!(
            loaded.unwrap().layers,
            0,
            "written whole after {MAX_LAYERS} layers"
        );
        assert_eq!(back.len(), 5);
        assert_eq!(listing(out.path()).len(), 1, "{:?}", listing(out.path()));
        // A layer of another whole memo is not laid.
        std::fs::write(cache.path(&layer(1)), one).unwrap();
        let (back, loaded) = cache.load_files();
        assert_eq!(loaded.unwrap().layers, 0);
        assert_eq!(back.len(), 5);
    }
}
