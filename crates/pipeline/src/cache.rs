//! What the stages read in each text on its own, kept between runs in the output folder
//! (`OUT/.diaoyan-cache/`), so an evening re-run reads only the texts that are new or changed.
//!
//! First, what ingest read from each input file ([`diaoyan_ingest::FileMemo`]): a file whose
//! size and times are unchanged is not read again.
//!
//! Three per-text results are kept: the text stage's counts, the score stage's [`Analysis`]
//! and the suggest stage's [`Found`], each keyed by a hash of exactly what it depends on (the
//! text; for suggestions also the kind, title and whether it is a table row). Run-wide steps —
//! copy detection, length norms, judgement, campaign rules, clustering, topics — always run over
//! every submission, so a re-run's outputs equal a full run's.
//!
//! A cache file belongs to one *stamp*: diaoyan's version and executable, the run's text, score
//! and suggest configuration, and the contents of every file that configuration names. Anything
//! else finds no file for its stamp and starts afresh. A cache file that cannot be read is
//! ignored (the texts are read again); one that cannot be written costs only the next run's time.
//!
//! Files are bincode (serde mode) followed by an xxh3 of everything before it: JSON of the
//! score and suggest results took ~460 MB and seconds to write and parse at 100,000 texts. A
//! file whose hash does not match (cut short, damaged) is ignored before anything is decoded.
//!
//! [`Analysis`]: diaoyan_score::Analysis
//! [`Found`]: diaoyan_suggest::Found

mod files;

use crate::PipelineConfig;
use diaoyan_model::Submission;
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The cache folder inside the output folder.
pub const CACHE_DIR: &str = ".diaoyan-cache";

/// The stage name of the whole record of what ingest read from each input file; each layer a
/// re-run adds over it is `files.N` (see `files::layer`).
const FILES: &str = "files";

/// How large the record is of what an earlier run read from its input files, in the output
/// folder `out` (its whole record under any stamp, the largest if there are several; `None` when
/// there is none): a run into it with the cache on most likely takes most of it over, reading
/// little afresh, and its size says how large that run is (about 1.9 KB a document). Cheap (one
/// folder listing), so the binary asks before a run starts.
pub fn kept_earlier(out: &Path) -> Option<u64> {
    std::fs::read_dir(out.join(CACHE_DIR))
        .ok()?
        .flatten()
        .filter(|e| of_stage(&e.file_name().to_string_lossy(), FILES))
        .filter_map(|e| e.metadata().ok().map(|m| m.len()))
        .max()
}

/// The file `stage`'s results are kept in under `stamp`.
fn stage_file(stage: &str, stamp: &str) -> String {
    format!("{stage}-{stamp}.bin")
}

/// Whether `name` is a [`stage_file`] of `stage`, under any stamp.
fn of_stage(name: &str, stage: &str) -> bool {
    name.strip_prefix(stage)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|rest| rest.ends_with(".bin"))
}

/// A key: 128 bits of xxh3 over what a result depends on.
pub(crate) type Key = u128;

/// How one stage used the cache in a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Reuse {
    /// Texts whose result came from the cache.
    pub reused: usize,
    /// Texts read afresh.
    pub read: usize,
    /// Results kept from earlier runs that no text of this run needs any more (changed or
    /// removed texts); dropped from the cache.
    pub unused: usize,
}

impl From<diaoyan_ingest::MemoUse> for Reuse {
    fn from(u: diaoyan_ingest::MemoUse) -> Reuse {
        Reuse {
            reused: u.reused,
            read: u.read,
            unused: u.unused,
        }
    }
}

impl Reuse {
    /// Whether the cache must be written again: something was read, or something dropped.
    pub(crate) fn changed(&self) -> bool {
        self.read > 0 || self.unused > 0
    }
}

/// How a run used the cache: per stage, texts reused and read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CacheUse {
    /// The cache's stamp (what it was made with).
    pub stamp: String,
    /// Input files: unchanged ones are not read again.
    pub files: Option<Reuse>,
    /// Text stage.
    pub text: Option<Reuse>,
    /// Score stage.
    pub score: Option<Reuse>,
    /// Suggest stage.
    pub suggest: Option<Reuse>,
}

/// The per-text results of earlier runs into one output folder.
#[derive(Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
    stamp: String,
}

#[derive(Serialize)]
struct FileOut<'a, K, T> {
    stamp: &'a str,
    entries: Vec<(K, &'a T)>,
}

#[derive(Deserialize)]
struct FileIn<K, T> {
    stamp: String,
    entries: Vec<(K, T)>,
}

/// What a cache file's contents are read from: the file after the magic, buffered.
type Reading = std::io::BufReader<std::io::Take<std::fs::File>>;

/// What a cache file's contents are written to: a buffer before the hashing writer.
type Writing<'h, 'w> = std::io::BufWriter<&'h mut Hashing<'w>>;

/// The start of every cache file (format and its version).
const MAGIC: &[u8; 8] = b"DYCACHE2";

/// A writer passing bytes on and hashing them (on to `std::io::sink()` to hash only).
pub(crate) struct Hashing<'w> {
    pub(crate) inner: &'w mut (dyn std::io::Write + Send),
    pub(crate) hash: xxhash_rust::xxh3::Xxh3,
}

impl std::io::Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl Cache {
    /// The cache of the output folder `out` for a run with `cfg` (`lexicons`: the segmenter's
    /// fingerprint).
    pub(crate) fn open(out: &Path, cfg: &PipelineConfig, lexicons: u64) -> Cache {
        Cache {
            dir: out.join(CACHE_DIR),
            stamp: format!("{:016x}", stamp(cfg, lexicons)),
        }
    }

    pub(crate) fn stamp(&self) -> &str {
        &self.stamp
    }

    fn path(&self, stage: &str) -> PathBuf {
        self.dir.join(stage_file(stage, &self.stamp))
    }

    /// The results kept for `stage` under this cache's stamp (none when there is no such file
    /// or it cannot be read).
    #[cfg(test)]
    pub(crate) fn load<T: DeserializeOwned>(&self, stage: &str) -> HashMap<Key, T> {
        self.read(stage).into_iter().collect()
    }

    /// The entries of `stage`'s file under this cache's stamp (none when there is no such file
    /// or it cannot be read).
    fn read<K: DeserializeOwned, T: DeserializeOwned>(&self, stage: &str) -> Vec<(K, T)> {
        self.read_with(stage, |r| {
            match bincode::serde::decode_from_std_read::<FileIn<K, T>, _, _>(
                r,
                bincode::config::standard(),
            ) {
                Ok(file) if file.stamp == self.stamp => Some(file.entries),
                _ => None,
            }
        })
        .unwrap_or_default()
    }

    /// What `decode` makes of `stage`'s file (everything after the magic; `None` when there is
    /// no such file, it cannot be read, or `decode` finds it is not what it expects).
    ///
    /// The file is read twice through a 1 MB buffer, never whole: first to check its hash (a
    /// file cut short or changed is not decoded), then to decode it. Reading it whole first put
    /// the file's bytes and everything decoded from them in fresh memory side by side (1M
    /// documents: a 1.94 GB memo of what each file gave), and the kernel's zeroing of those
    /// fresh pages was a third of the re-run's CPU while it loaded.
    fn read_with<R>(
        &self,
        stage: &str,
        decode: impl FnOnce(&mut Reading) -> Option<R>,
    ) -> Option<R> {
        use std::io::{Read, Seek};
        const BUF: usize = 1 << 20;
        let mut f = std::fs::File::open(self.path(stage)).ok()?;
        let body = f
            .metadata()
            .ok()
            .and_then(|m| m.len().checked_sub(8))
            .filter(|&n| n >= MAGIC.len() as u64)?;
        // Pass 1: the magic, then the hash of everything before the last 8 bytes (hashed the
        // way `write_with` hashed it, through `Hashing`).
        let verified = (|| -> std::io::Result<bool> {
            let mut head = [0u8; MAGIC.len()];
            f.read_exact(&mut head)?;
            if &head != MAGIC {
                return Ok(false);
            }
            let mut h = Hashing {
                inner: &mut std::io::sink(),
                hash: xxhash_rust::xxh3::Xxh3::new(),
            };
            h.write_all(&head)?;
            let rest = body - MAGIC.len() as u64;
            let mut r = std::io::BufReader::with_capacity(BUF, (&mut f).take(rest));
            if std::io::copy(&mut r, &mut h)? != rest {
                return Ok(false);
            }
            let mut sum = [0u8; 8];
            f.read_exact(&mut sum)?;
            Ok(h.hash.digest().to_le_bytes() == sum)
        })();
        if !matches!(verified, Ok(true)) {
            return None;
        }
        // Pass 2: decode the body, read again (the output folder is locked: nothing wrote it
        // in between).
        f.seek(std::io::SeekFrom::Start(MAGIC.len() as u64)).ok()?;
        let mut r = std::io::BufReader::with_capacity(BUF, f.take(body - MAGIC.len() as u64));
        decode(&mut r)
    }

    /// Keeps `entries` (this run's results, one per distinct key) for `stage`, replacing what
    /// was kept before under any stamp. Failing to write is not an error: the next run reads the
    /// texts again.
    pub(crate) fn save<T: Serialize>(&self, stage: &str, keys: &[Key], values: &[T]) {
        let mut seen = std::collections::HashSet::new();
        let entries: Vec<(Key, &T)> = keys
            .iter()
            .zip(values)
            .filter(|(k, _)| seen.insert(**k))
            .map(|(k, v)| (*k, v))
            .collect();
        let file = FileOut {
            stamp: &self.stamp,
            entries,
        };
        self.write(stage, &file);
    }

    /// Writes a cache file atomically and removes the stage's files of other stamps.
    fn write<K: Serialize, T: Serialize>(&self, stage: &str, file: &FileOut<'_, K, T>) {
        self.write_with(stage, |w| encode(w, file));
    }

    /// Writes `stage`'s file atomically — the magic, what `fill` writes (buffered), an xxh3 of
    /// both — and then removes the stage's files of other stamps. Whether it was written: when
    /// `fill` fails nothing is left behind and the file kept before stays.
    fn write_with(
        &self,
        stage: &str,
        fill: impl FnOnce(&mut Writing<'_, '_>) -> std::io::Result<()>,
    ) -> bool {
        if std::fs::create_dir_all(&self.dir).is_err() {
            return false;
        }
        let path = self.path(stage);
        let written = diaoyan_digest::write_atomic_with(&path, |w| {
            let mut h = Hashing {
                inner: w,
                hash: xxhash_rust::xxh3::Xxh3::new(),
            };
            h.write_all(MAGIC)?;
            let mut buf = std::io::BufWriter::with_capacity(1 << 20, &mut h);
            fill(&mut buf)?;
            buf.flush()?;
            drop(buf);
            let sum = h.hash.digest().to_le_bytes();
            h.inner.write_all(&sum)
        });
        if written.is_ok() {
            // Files of other stamps are of no further use.
            let (prefix, this) = (format!("{stage}-"), stage_file(stage, &self.stamp));
            self.remove_where(|name| name.starts_with(&prefix) && name != this);
        }
        written.is_ok()
    }

    /// Removes the cache folder's files whose names `stale` picks (one that cannot be removed
    /// stays: it is never read under another stamp).
    fn remove_where(&self, stale: impl Fn(&str) -> bool) {
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                if stale(&e.file_name().to_string_lossy()) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}

impl Cache {
    /// What the last run's copy detection left under this stamp (empty when nothing was kept):
    /// the candidate pairs it verified — an entry's key is the pair's two text keys, one after
    /// the other — and every text's fingerprints.
    ///
    /// With a bar of its own (读取指纹, a unit a file) when there is a file to read: at 1M
    /// documents the fingerprints are 0.46 GB, a second to read in which no bar moved.
    pub(crate) fn load_copies(&self, progress: &dyn crate::Progress) -> diaoyan_score::CopyMemo {
        let present = ["copies", "prints"].map(|stage| self.path(stage).is_file());
        let files = present.iter().filter(|&&p| p).count() as u64;
        if files > 0 {
            progress.start("读取指纹", files);
        }
        let pairs = self
            .read::<(Key, Key), Option<diaoyan_score::Measured>>("copies")
            .into_iter()
            .collect();
        progress.advance(u64::from(present[0]));
        // Written in key order; a stable sort keeps a repeated key's entries in order.
        let mut prints = self.read::<Key, diaoyan_score::Print>("prints");
        if !prints.is_sorted_by_key(|p| p.0) {
            prints.sort_by_key(|p| p.0);
        }
        progress.advance(u64::from(present[1]));
        if files > 0 {
            progress.finish();
        }
        diaoyan_score::CopyMemo { pairs, prints }
    }

    /// Keeps what this run's copy detection left for the next run.
    pub(crate) fn save_copies(&self, memo: &diaoyan_score::CopyMemo) {
        self.save_map("copies", &memo.pairs);
        self.write(
            "prints",
            &FileOut {
                stamp: &self.stamp,
                entries: memo.prints.iter().map(|(k, p)| (*k, p)).collect(),
            },
        );
    }

    /// Writes a map as `stage`'s file, its entries in key order (the same map, the same bytes).
    fn save_map<K: Ord + Copy + Serialize, T: Serialize>(&self, stage: &str, map: &HashMap<K, T>) {
        let mut entries: Vec<(K, &T)> = map.iter().map(|(k, v)| (*k, v)).collect();
        entries.sort_by_key(|x| x.0);
        self.write(
            stage,
            &FileOut {
                stamp: &self.stamp,
                entries,
            },
        );
    }
}

/// One value in bincode (serde mode), as the cache's files hold them.
fn encode<T: Serialize + ?Sized>(w: &mut Writing<'_, '_>, v: &T) -> std::io::Result<()> {
    bincode::serde::encode_into_std_write(v, w, bincode::config::standard())
        .map(|_| ())
        .map_err(std::io::Error::other)
}

/// The kept result of each key (a key that occurs twice gets a clone), and how many kept results
/// no key needs any more (their texts changed or went). A key kept twice (never written so)
/// counts once, its last entry taken, as a map built from the file would hold it.
///
/// Matched in key order: this run's keys and the kept entries, each sorted with their places,
/// are walked together, and each kept result is moved to its place. (Collected into a hash map
/// and removed key by key, the kept entries cost a 1M re-run about 2.4 s of one core across the
/// three stages' files — hashing, growing the table and a miss in memory for nearly every
/// probe — before the reading pass could start.)
fn take<T: Clone>(keys: &[Key], kept: Vec<(Key, T)>) -> (Vec<Option<T>>, usize) {
    let mut have: Vec<(Key, usize)> = kept.iter().enumerate().map(|(e, (k, _))| (*k, e)).collect();
    have.par_sort_unstable();
    let mut want: Vec<(Key, usize)> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    want.par_sort_unstable();
    let mut values: Vec<Option<T>> = kept.into_iter().map(|(_, v)| Some(v)).collect();
    let mut taken: Vec<Option<T>> = Vec::with_capacity(keys.len());
    taken.resize_with(keys.len(), || None);
    let mut groups = have.chunk_by(|a, b| a.0 == b.0).peekable();
    let (mut distinct, mut used) = (0usize, 0usize);
    for places in want.chunk_by(|a, b| a.0 == b.0) {
        let k = places[0].0;
        while groups.peek().is_some_and(|g| g[0].0 < k) {
            groups.next();
            distinct += 1;
        }
        let Some(g) = groups.next_if(|g| g[0].0 == k) else {
            continue;
        };
        distinct += 1;
        used += 1;
        let value = values[g[g.len() - 1].1].take();
        let (last, rest) = places.split_last().expect("a group has a member");
        for &(_, i) in rest {
            taken[i] = value.clone();
        }
        taken[last.1] = value;
    }
    distinct += groups.count();
    (taken, distinct - used)
}

/// One stage's part of a pass that reads every text for several stages at once: the results its
/// cache holds for this run's texts ([`Kept::take`]), to be completed by the pass and saved
/// ([`Kept::finish`]).
pub(crate) struct Kept<T> {
    stage: &'static str,
    keys: Vec<Key>,
    taken: Vec<Option<T>>,
    unused: usize,
}

impl<T: Serialize + DeserializeOwned + Clone> Kept<T> {
    /// What `stage`'s cache holds for each of `texts` texts, whose keys are `keys` (nothing
    /// without a cache; the keys are then not needed).
    pub(crate) fn load(
        cache: Option<&Cache>,
        stage: &'static str,
        keys: Vec<Key>,
        texts: usize,
    ) -> Kept<T> {
        match cache {
            Some(c) => {
                debug_assert_eq!(keys.len(), texts, "one key per text");
                let (taken, unused) = take(&keys, c.read(stage));
                Kept {
                    stage,
                    keys,
                    taken,
                    unused,
                }
            }
            None => Kept {
                stage,
                keys: Vec::new(),
                taken: (0..texts).map(|_| None).collect(),
                unused: 0,
            },
        }
    }

    /// The kept result of each text (`None`: to be read), handed to the pass.
    pub(crate) fn take(&mut self) -> Vec<Option<T>> {
        std::mem::take(&mut self.taken)
    }

    /// Records the pass's results (all of them, aligned with the texts; `read` of them read
    /// afresh) in the cache when anything changed, and says how the cache was used.
    pub(crate) fn finish(self, cache: Option<&Cache>, out: &[T], read: usize) -> Option<Reuse> {
        let c = cache?;
        let reuse = Reuse {
            reused: out.len() - read,
            read,
            unused: self.unused,
        };
        if reuse.changed() {
            c.save(self.stage, &self.keys, out);
        }
        Some(reuse)
    }
}

/// 128-bit xxh3 of the parts, each length-prefixed.
pub(crate) fn key(parts: &[&[u8]]) -> Key {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.digest128()
}

/// What the cache's contents depend on besides each text: diaoyan's version and executable,
/// the text, score and suggest configuration, the contents of every file it names, and the
/// lexicons.
fn stamp(cfg: &PipelineConfig, lexicons: u64) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    // The executable: a rebuilt binary is a new binary.
    if let Some(m) = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::metadata(p).ok())
    {
        h.update(&m.len().to_le_bytes());
        if let Some(t) = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        {
            h.update(&t.as_nanos().to_le_bytes());
        }
    }
    h.update(&lexicons.to_le_bytes());
    let parts = serde_json::json!({
        "ingest": cfg.ingest,
        "text": cfg.text,
        "score": cfg.score,
        "suggest": cfg.suggest,
    });
    h.update(parts.to_string().as_bytes());
    let mut files = Vec::new();
    named_files(&parts, &mut files);
    for f in files {
        h.update(f.as_bytes());
        if let Ok(bytes) = std::fs::read(&f) {
            h.update(&xxhash_rust::xxh3::xxh3_64(&bytes).to_le_bytes());
        }
    }
    h.digest()
}

/// Every string in `v` that names an existing file (lexicons, models).
fn named_files(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) if Path::new(s).is_file() => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| named_files(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| named_files(x, out)),
        _ => {}
    }
}

/// The key of each submission's text: what the text and score stages read depends on it alone.
/// It is the xxh3-128 of the text's bytes, the digest copy detection knows a text by
/// ([`diaoyan_model::Texts::digest`]): texts leaving memory take these keys as their digests
/// rather than being hashed a second time.
pub(crate) fn text_keys(subs: &[Submission]) -> Vec<Key> {
    subs.par_iter()
        .map(|s| xxhash_rust::xxh3::xxh3_128(s.text.as_bytes()))
        .collect()
}

/// The key of what the suggest stage reads in each submission: its text, kind and title, and
/// whether it is a table row.
pub(crate) fn suggest_keys(subs: &[Submission]) -> Vec<Key> {
    subs.par_iter()
        .map(|s| {
            key(&[
                s.text.as_bytes(),
                s.kind.map_or("", |k| k.label()).as_bytes(),
                s.title.as_bytes(),
                if s.ref_.is_empty() { b"doc" } else { b"row" },
            ])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earlier_file_record_is_found_by_its_size() {
        let out = tempfile::tempdir().unwrap();
        assert_eq!(kept_earlier(out.path()), None);
        let dir = out.path().join(CACHE_DIR);
        std::fs::create_dir(&dir).unwrap();
        // Other stages' files, and a layer laid over a record, are not the record.
        std::fs::write(dir.join("score-00ff.bin"), [0; 50]).unwrap();
        std::fs::write(dir.join("files.1-00ff.bin"), [0; 70]).unwrap();
        std::fs::write(dir.join("files-00ff.tmp"), [0; 90]).unwrap();
        assert_eq!(kept_earlier(out.path()), None);
        std::fs::write(dir.join("files-00ff.bin"), [0; 30]).unwrap();
        std::fs::write(dir.join("files-11aa.bin"), [0; 40]).unwrap();
        assert_eq!(kept_earlier(out.path()), Some(40));
    }

    #[test]
    fn kept_results_are_taken_once_each_and_the_unneeded_counted() {
        let items = ["甲", "乙", "甲", "丙"];
        let keys: Vec<Key> = items.iter().map(|s| key(&[s.as_bytes()])).collect();
        let gone = key(&[b"a text no longer there"]);
        let kept: Vec<(Key, String)> = vec![
            (gone, "kept, not needed".to_owned()),
            (keys[0], "kept 甲".to_owned()),
        ];
        let (taken, unused) = take(&keys, kept);
        assert_eq!(
            taken,
            [
                Some("kept 甲".to_owned()),
                None,
                Some("kept 甲".to_owned()),
                None
            ]
        );
        assert_eq!(unused, 1);
    }

    /// Taken in key order, the results are what a map of the kept entries gives key by key:
    /// many keys, some wanted twice or more, some kept twice (the last entry counts, once),
    /// some kept and no longer wanted, in no order on either side.
    #[test]
    fn kept_results_taken_in_key_order_equal_a_maps() {
        let key_of = |i: usize| key(&[format!("text {}", i % 700).as_bytes()]);
        // This run: 1,000 texts, 700 distinct (every text from 700 on repeats one).
        let keys: Vec<Key> = (0..1000).map(|i| key_of((i * 389) % 1000)).collect();
        // Kept: texts 350–899 (700–899 are 0–199), 0–99 a second time with other results, and
        // 300 texts gone.
        let mut kept: Vec<(Key, String)> = (350..900)
            .map(|i| (key_of(i), format!("kept {i}")))
            .chain((0..100).map(|i| (key_of(i), format!("kept again {i}"))))
            .chain((0..300).map(|i| (key(&[format!("gone {i}").as_bytes()]), "gone".to_owned())))
            .collect();
        kept.reverse();
        kept.rotate_left(123);
        let map: HashMap<Key, String> = kept.iter().cloned().collect();
        let (taken, unused) = take(&keys, kept);
        let mut left = map.clone();
        for (k, t) in keys.iter().zip(&taken) {
            left.remove(k);
            assert_eq!(t.as_ref(), map.get(k));
        }
        assert_eq!(unused, left.len());
        assert_eq!(unused, 300);
        // Kept and wanted: 350–699 once each, 0–199 twice each.
        assert_eq!(taken.iter().filter(|t| t.is_some()).count(), 350 + 2 * 200);
    }

    #[test]
    fn a_pass_part_saves_what_was_read_and_the_next_run_takes_it_over() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), &PipelineConfig::default(), 1);
        let sub = |t: &str| Submission {
            text: t.into(),
            ..Submission::default()
        };
        let subs = [sub("甲"), sub("乙"), sub("甲")];
        // The keys are the texts' digests (what texts leaving memory hand copy detection).
        for (k, s) in text_keys(&subs).iter().zip(&subs) {
            assert_eq!(*k, xxhash_rust::xxh3::xxh3_128(s.text.as_bytes()));
        }
        let mut k = Kept::<String>::load(Some(&cache), "text", text_keys(&subs), subs.len());
        assert_eq!(k.take(), [None, None, None]);
        let reuse = k.finish(Some(&cache), &["a".into(), "b".into(), "a".into()], 3);
        assert_eq!(
            reuse,
            Some(Reuse {
                reused: 0,
                read: 3,
                unused: 0
            })
        );
        // Next run: 乙 changed to 丁.
        let subs = [sub("甲"), sub("丁"), sub("甲")];
        let mut k = Kept::<String>::load(Some(&cache), "text", text_keys(&subs), subs.len());
        let taken = k.take();
        assert_eq!(taken, [Some("a".to_owned()), None, Some("a".to_owned())]);
        let reuse = k
            .finish(Some(&cache), &["a".into(), "d".into(), "a".into()], 1)
            .unwrap();
        assert_eq!((reuse.reused, reuse.read, reuse.unused), (2, 1, 1));
        assert!(reuse.changed());
        let kept: HashMap<Key, String> = cache.load("text");
        assert_eq!(kept.len(), 2, "甲 and 丁, 乙 gone");
        // Without a cache nothing is kept or saved.
        let mut k = Kept::<String>::load(None, "text", Vec::new(), subs.len());
        assert_eq!(k.take(), [None, None, None]);
        assert_eq!(
            k.finish(None, &["x".into(), "y".into(), "x".into()], 3),
            None
        );
    }

    #[test]
    fn a_saved_cache_is_found_under_its_stamp_only() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = PipelineConfig::default();
        let cache = Cache::open(dir.path(), &cfg, 1);
        let keys = [key(&[b"a"]), key(&[b"b"]), key(&[b"a"])];
        cache.save("score", &keys, &[1.5_f64, 0.1 + 0.2, 9.0]);
        let back: HashMap<Key, f64> = cache.load("score");
        assert_eq!(back.len(), 2);
        assert_eq!(back[&keys[0]], 1.5);
        // Floats come back bit for bit.
        assert_eq!(back[&keys[1]].to_bits(), (0.1_f64 + 0.2).to_bits());
        // Other lexicons, another configuration: another stamp, nothing found.
        assert!(
            Cache::open(dir.path(), &cfg, 2)
                .load::<f64>("score")
                .is_empty()
        );
        let mut other = PipelineConfig::default();
        other.suggest.min_chars += 1;
        assert!(
            Cache::open(dir.path(), &other, 1)
                .load::<f64>("score")
                .is_empty()
        );
        // Saving under a new stamp replaces the old file.
        Cache::open(dir.path(), &other, 1).save("score", &keys[..1], &[2.0_f64]);
        assert!(cache.load::<f64>("score").is_empty());
        let files = std::fs::read_dir(dir.path().join(CACHE_DIR))
            .unwrap()
            .count();
        assert_eq!(files, 1);
    }

    #[test]
    fn verified_pairs_come_back_as_they_were_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), &PipelineConfig::default(), 1);
        // Nothing kept: nothing read, and no bar.
        let bars = crate::run::Recorder::default();
        assert_eq!(cache.load_copies(&bars), diaoyan_score::CopyMemo::default());
        assert!(bars.0.lock().unwrap().is_empty());
        let m = diaoyan_score::Measured {
            similarity: 0.1 + 0.2,
            containment_a: 0.75,
            containment_b: 1.0 / 3.0,
            shared_a: 120,
            shared_b: 118,
            excerpt: "河口村的垃圾池十来天才清运一次".to_owned(),
        };
        // Real prints, as detection leaves them.
        let mut memo = diaoyan_score::CopyMemo::default();
        let texts = [
            "三组机耕路有两处塌方，去年秋收时一台农用车翻到了沟里，村民反映路面窄、会车困难，建议纳入硬化计划。",
            "短文本",
        ];
        let docs: Vec<diaoyan_score::CopyDoc> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| diaoyan_score::CopyDoc {
                id: ["a", "b"][i],
                path: ["a", "b"][i],
                author: ["甲", "乙"][i],
                date: "",
                text: (*t).into(),
                reference: false,
                stock: &[],
            })
            .collect();
        diaoyan_score::detect_copies_with(&docs, &Default::default(), Some(&mut memo));
        assert_eq!(memo.prints.len(), 2);
        memo.pairs = [((1, u128::MAX), Some(m)), ((7, 8), None)]
            .into_iter()
            .collect();
        cache.save_copies(&memo);
        // Both files read back, on a bar of their own that ends full.
        let bars = crate::run::Recorder::default();
        assert_eq!(cache.load_copies(&bars), memo);
        assert_eq!(
            *bars.0.lock().unwrap(),
            [("读取指纹".to_owned(), 2, 2, true)]
        );
    }

    /// Files larger than the read buffer are checked and decoded across its refills; a byte
    /// changed past the first megabyte still voids the file.
    #[test]
    fn a_cache_file_larger_than_the_buffer_reads_back_and_is_checked_whole() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), &PipelineConfig::default(), 1);
        let big: String = (0..700_000u32)
            .map(|i| char::from_u32(0x4e00 + i % 20_000).unwrap())
            .collect();
        assert!(big.len() > 2 << 20, "{} bytes", big.len());
        let keys = [key(&[b"big"]), key(&[b"small"])];
        cache.save("text", &keys, &[big.clone(), "乙".to_owned()]);
        let back: HashMap<Key, String> = cache.load("text");
        assert_eq!(back[&keys[0]], big);
        assert_eq!(back[&keys[1]], "乙");
        let mut whole = std::fs::read(cache.path("text")).unwrap();
        let at = whole.len() - (1 << 20) / 2;
        whole[at] ^= 0x20;
        std::fs::write(cache.path("text"), &whole).unwrap();
        assert!(cache.load::<String>("text").is_empty());
    }

    #[test]
    fn an_unreadable_cache_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), &PipelineConfig::default(), 1);
        std::fs::create_dir_all(dir.path().join(CACHE_DIR)).unwrap();
        std::fs::write(cache.path("text"), b"{not json").unwrap();
        assert!(cache.load::<u32>("text").is_empty());
        // A file cut short or with one byte changed is ignored, not decoded.
        let keys = [key(&[b"a"]), key(&[b"b"])];
        cache.save("text", &keys, &[7_u32, 8]);
        assert_eq!(cache.load::<u32>("text").len(), 2);
        let whole = std::fs::read(cache.path("text")).unwrap();
        std::fs::write(cache.path("text"), &whole[..whole.len() - 3]).unwrap();
        assert!(cache.load::<u32>("text").is_empty());
        let mut flipped = whole.clone();
        flipped[12] ^= 1;
        std::fs::write(cache.path("text"), &flipped).unwrap();
        assert!(cache.load::<u32>("text").is_empty());
        std::fs::write(cache.path("text"), &whole).unwrap();
        assert_eq!(cache.load::<u32>("text")[&keys[1]], 8);
    }
}
