//! A run's texts kept out of memory.
//!
//! Each step reads a submission's text only now and then: the reading pass (segmentation,
//! analysis, extraction) once, copy detection fingerprints each text once and verifies a few
//! pairs, judgement quotes sentences, the suggestions read their own words (clustering, titles,
//! the lists, the index, the digest: [`diaoyan_model::Suggestion::read`], a byte range each),
//! and the outputs write each text once (the JSON lines, the index). Held in memory all that
//! time the texts were the largest single part of a large run (1M documents: 1.7 GB of 6.5 GB),
//! and beside the reading pass's results they were its peak. They go to an unnamed file in the output folder instead
//! (deleted when the run ends, however it ends) as soon as the cache has keyed them, before the
//! reading pass, and are read back one at a time; the operating system's file cache, not the
//! process, holds them.

use diaoyan_model::{Shared, Submission, Texts};
use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

/// The texts of a run's submissions, in a file, by position.
pub(crate) struct Kept {
    file: std::fs::File,
    /// Where text `i` starts in the file, and its length in bytes.
    at: Vec<(u64, u32)>,
    /// Each text's xxh3-128 as the caller made it before the texts left memory (the cache's
    /// text keys), or none ([`Texts::digest`]).
    digests: Vec<u128>,
    /// Which `Kept` this is, for the texts each thread read last ([`LAST`]).
    id: u64,
}

/// Texts up to this long are read whole when a part of them is asked for, and kept for the
/// next part ([`LAST`]); a longer one is read a part at a time.
const WHOLE_UP_TO: usize = 1 << 20;

thread_local! {
    /// The text this thread read last, whole (which `Kept`, which text, its words): a
    /// submission's suggestions are read one after another (clustering reads each active
    /// suggestion's words three times; the lists, the index and the digest go in order), so
    /// one read of the text serves them all. At 1M documents reading each part on its own was
    /// 12.6 M reads in clustering alone.
    ///
    /// Kept as bytes and checked as UTF-8 a part at a time: checking the whole text at every
    /// read was a tenth of the clustering steps' time at 1M documents, where the members an
    /// issue's examples are picked from lie in one submission after another.
    static LAST: std::cell::RefCell<(u64, usize, Vec<u8>)> =
        const { std::cell::RefCell::new((u64::MAX, 0, Vec::new())) };
    /// Where this thread reads a text or a part of one that is not kept in `LAST`.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Kept {
    /// Moves the texts of `subs` to an unnamed file in `dir`, leaving each submission's text
    /// empty. `None` when the file cannot be written: the texts then stay where they were (a
    /// full disk costs memory, never a result).
    ///
    /// `digests` are the texts' xxh3-128 when the caller has them (empty when it has not: a run
    /// without a cache, whose copy detection keeps no memo and asks for none).
    pub(crate) fn take(subs: &mut [Submission], dir: &Path, digests: Vec<u128>) -> Option<Kept> {
        debug_assert!(digests.is_empty() || digests.len() == subs.len());
        let mut at = Vec::with_capacity(subs.len());
        let file = unnamed_file(dir, |w| {
            let mut pos = 0u64;
            for s in subs.iter() {
                let len = u32::try_from(s.text.len()).ok()?;
                w.write_all(s.text.as_bytes()).ok()?;
                at.push((pos, len));
                pos += u64::from(len);
            }
            Some(())
        })?;
        for s in subs.iter_mut() {
            s.text = Shared::default();
        }
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(Kept {
            file,
            at,
            digests,
            id,
        })
    }

    /// Bytes `range` (in bounds) of text `i`, as read from the file.
    fn read(&self, i: usize, range: std::ops::Range<usize>) -> String {
        SCRATCH.with_borrow_mut(|buf| {
            buf.clear();
            buf.resize(range.len(), 0);
            self.read_into(i, range.start, buf);
            utf8(buf)
        })
    }

    /// Fills `buf` from text `i`'s bytes from `start` on.
    fn read_into(&self, i: usize, start: usize, buf: &mut [u8]) {
        let pos = self.at[i].0;
        read_exact_at(&self.file, buf, pos + start as u64).unwrap_or_else(|e| {
            panic!("无法读回输出目录中暂存的材料文本（{e}），本次运行中止，原有输出不变")
        });
    }

    /// Bytes of all the texts.
    pub(crate) fn bytes(&self) -> usize {
        self.at.iter().map(|&(_, len)| len as usize).sum()
    }
}

impl Texts for Kept {
    /// Panics when the file written a moment ago cannot be read back (it was removed, or the
    /// disk failed): the run stops and the previous outputs stay as they were.
    fn text(&self, i: usize) -> Cow<'_, str> {
        let len = self.at[i].1 as usize;
        Cow::Owned(self.read(i, 0..len))
    }

    /// Reads those bytes only, or the whole text once for all its parts ([`LAST`]).
    fn part(&self, i: usize, range: std::ops::Range<usize>) -> Cow<'_, str> {
        let len = self.at[i].1 as usize;
        assert!(
            range.start <= range.end && range.end <= len,
            "a part of text {i} ({range:?}) within its {len} bytes"
        );
        if len > WHOLE_UP_TO {
            return Cow::Owned(self.read(i, range));
        }
        LAST.with_borrow_mut(|(id, at, bytes)| {
            if (*id, *at) != (self.id, i) {
                // (Marked unread first: a read that panics leaves no stale text behind.)
                *id = u64::MAX;
                bytes.clear();
                bytes.resize(len, 0);
                self.read_into(i, 0, bytes);
                (*id, *at) = (self.id, i);
            }
            Cow::Owned(utf8(&bytes[range]))
        })
    }

    fn digest(&self, i: usize) -> Option<u128> {
        self.digests.get(i).copied()
    }
}

/// Bytes read back as text. Written from a `str` a moment ago and cut on its character
/// boundaries, they are valid UTF-8 unless the disk changed them (then read with replacement
/// characters). Checked with simdutf8 and then copied: std's check of Chinese text (three
/// bytes a character, off its ASCII fast path) was 7% of a 1M re-run's samples, every text
/// being read back two or three times (copy detection's keys, clustering's words, outputs).
fn utf8(bytes: &[u8]) -> String {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// What the reading pass found for the suggest stage (one [`Found`] per submission, in order),
/// in an unnamed file while copy detection and judgement run: at 1M documents the findings
/// (5.6 M suggestions, 57 M clustering words) were about 1 GB held idle through copy
/// detection, the run's highest point then. Read back in order as the suggest stage builds its
/// suggestions.
///
/// Written and read a block of [`FOUND_BLOCK`] findings at a time, the blocks of a batch
/// encoded (decoded) on every worker at once and written (read) in order; the findings are let
/// go on every worker too. One after another on one thread, encoding and letting go were
/// 2.7 s of a 1M run in which no progress bar moved, and decoding most of 7 s more.
pub(crate) struct KeptFound {
    file: std::fs::File,
    count: usize,
    pieces: usize,
    /// Each block's length in bytes, in order.
    blocks: Vec<usize>,
}

/// Findings in a block of the [`KeptFound`] file (a 1M run's findings are about 1 kB each).
const FOUND_BLOCK: usize = 1024;
/// Blocks encoded or decoded at once (the rest of the file waits on disk).
const FOUND_BATCH: usize = 16;

impl KeptFound {
    /// Moves `found` to an unnamed file in `dir`; given back when the file cannot be written
    /// (a full disk costs memory, never a result). `written(n)` after each `n` findings written
    /// (the progress bar: at 1M documents this is two seconds).
    pub(crate) fn take(
        found: Vec<diaoyan_suggest::Found>,
        dir: &Path,
        written: &dyn Fn(usize),
    ) -> Result<KeptFound, Vec<diaoyan_suggest::Found>> {
        use rayon::prelude::*;
        let mut blocks = Vec::with_capacity(found.len().div_ceil(FOUND_BLOCK));
        let file = unnamed_file(dir, |w| {
            for batch in found.chunks(FOUND_BLOCK * FOUND_BATCH) {
                let encoded: Vec<Option<Vec<u8>>> = batch
                    .par_chunks(FOUND_BLOCK)
                    .map(|block| {
                        let mut bytes = Vec::new();
                        for f in block {
                            bincode::serde::encode_into_std_write(
                                f,
                                &mut bytes,
                                bincode::config::standard(),
                            )
                            .ok()?;
                        }
                        Some(bytes)
                    })
                    .collect();
                for bytes in encoded {
                    let bytes = bytes?;
                    w.write_all(&bytes).ok()?;
                    blocks.push(bytes.len());
                }
                written(batch.len());
            }
            Some(())
        });
        match file {
            Some(file) => {
                let kept = KeptFound {
                    file,
                    count: found.len(),
                    pieces: found.iter().map(|f| f.pieces.len()).sum(),
                    blocks,
                };
                found.into_par_iter().for_each(drop);
                Ok(kept)
            }
            None => Err(found),
        }
    }

    /// How many findings (submissions), and how many suggestions in all.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.count, self.pieces)
    }

    /// The findings, read back in order. Panics when the file written a moment ago cannot be
    /// read back: the run stops and the previous outputs stay as they were.
    pub(crate) fn read_back(self) -> impl Iterator<Item = diaoyan_suggest::Found> {
        use rayon::prelude::*;
        use std::io::{Read, Seek};
        fn fail(e: &dyn std::fmt::Display) -> ! {
            panic!("无法读回输出目录中暂存的意见摘取结果（{e}），本次运行中止，原有输出不变")
        }
        let mut file = self.file;
        if let Err(e) = file.seek(std::io::SeekFrom::Start(0)) {
            fail(&e);
        }
        let mut blocks = self.blocks.into_iter();
        let mut ready = Vec::new().into_iter();
        std::iter::from_fn(move || {
            loop {
                if let Some(f) = ready.next() {
                    return Some(f);
                }
                let raw: Vec<Vec<u8>> = blocks
                    .by_ref()
                    .take(FOUND_BATCH)
                    .map(|len| {
                        let mut bytes = vec![0u8; len];
                        file.read_exact(&mut bytes).unwrap_or_else(|e| fail(&e));
                        bytes
                    })
                    .collect();
                if raw.is_empty() {
                    return None;
                }
                let decoded: Vec<Vec<diaoyan_suggest::Found>> = raw
                    .par_iter()
                    .map(|bytes| {
                        let mut rest: &[u8] = bytes;
                        let mut out = Vec::new();
                        while !rest.is_empty() {
                            let (f, used) = bincode::serde::decode_from_slice(
                                rest,
                                bincode::config::standard(),
                            )
                            .unwrap_or_else(|e| fail(&e));
                            out.push(f);
                            rest = &rest[used..];
                        }
                        out
                    })
                    .collect();
                ready = decoded
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .into_iter();
            }
        })
    }
}

/// An unnamed file in `dir` (deleted when closed, however the run ends) holding what `write`
/// wrote through a buffer; `None` when it cannot be made or written.
fn unnamed_file(
    dir: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<&std::fs::File>) -> Option<()>,
) -> Option<std::fs::File> {
    let file = tempfile::tempfile_in(dir).ok()?;
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, &file);
        write(&mut w)?;
        w.flush().ok()?;
    }
    Some(file)
}

#[cfg(unix)]
fn read_exact_at(f: &std::fs::File, buf: &mut [u8], pos: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, pos)
}

#[cfg(windows)]
fn read_exact_at(f: &std::fs::File, mut buf: &mut [u8], mut pos: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(f, buf, pos) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                pos += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_taken_out_read_back_the_same() {
        let texts = [
            "",
            "河口村垃圾池十来天才清运一次。",
            "a\u{1F600}b",
            "三组机耕路有两处塌方。",
        ];
        let mut subs: Vec<Submission> = texts
            .iter()
            .map(|t| Submission {
                text: (*t).into(),
                ..Submission::default()
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let digests: Vec<u128> = texts
            .iter()
            .map(|t| xxhash_rust::xxh3::xxh3_128(t.as_bytes()))
            .collect();
        let kept = Kept::take(&mut subs, dir.path(), digests).expect("a writable folder");
        assert!(
            subs.iter().all(|s| s.text.is_empty()),
            "the texts left memory"
        );
        assert_eq!(kept.bytes(), texts.iter().map(|t| t.len()).sum::<usize>());
        // Each text's digest, made before it left memory, is that of its bytes.
        for (i, t) in texts.iter().enumerate() {
            assert_eq!(
                kept.digest(i),
                Some(xxhash_rust::xxh3::xxh3_128(t.as_bytes()))
            );
        }
        assert_eq!(kept.digest(texts.len()), None);
        // Read back in any order, any number of times, whole or in part.
        for i in [3, 0, 2, 1, 3] {
            assert_eq!(kept.text(i), texts[i]);
        }
        let at = texts[3].find("机耕路").unwrap();
        assert_eq!(kept.part(3, at..texts[3].len()), "机耕路有两处塌方。");
        assert_eq!(kept.part(2, 1..5), "\u{1F600}");
        assert_eq!(kept.part(0, 0..0), "");
        assert!(std::panic::catch_unwind(|| kept.part(1, 0..texts[1].len() + 1)).is_err());
        // Parts of two runs' texts at the same position, one after the other, are each their
        // own (a thread keeps the text it read last); a text past `WHOLE_UP_TO` is read a part
        // at a time.
        let big = "村".repeat(WHOLE_UP_TO / 3 + 5);
        let mut others: Vec<Submission> = ["", "", "", "山塘渗水", big.as_str()]
            .iter()
            .map(|t| Submission {
                text: (*t).into(),
                ..Submission::default()
            })
            .collect();
        let other = Kept::take(&mut others, dir.path(), Vec::new()).expect("a writable folder");
        for _ in 0..2 {
            assert_eq!(kept.part(3, 0..6), "三组");
            assert_eq!(other.part(3, 0..6), "山塘");
        }
        assert_eq!(other.part(4, 3..9), "村村");
        assert_eq!(other.text(4).len(), big.len());
        // Taken without digests, it has none to give (copy detection then hashes the text).
        assert_eq!(other.digest(4), None);
        // The file is unnamed: nothing is left in the folder.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn bytes_read_back_are_text_or_shown_with_replacement_characters() {
        let text = "走访困难户 12 户，ok。".repeat(40);
        assert_eq!(utf8(text.as_bytes()), text);
        assert_eq!(utf8(&[]), "");
        // Cut inside a character, or changed on disk: never a panic, never invalid `str`.
        let mut cut = text.as_bytes()[..4].to_vec();
        assert_eq!(utf8(&cut), "走\u{fffd}");
        cut[0] = 0xff;
        assert_eq!(utf8(&cut), "\u{fffd}".repeat(4));
    }

    /// Findings moved to a file read back equal, in order; a folder that cannot be written
    /// gives them back.
    #[test]
    fn findings_kept_out_of_memory_read_back_the_same() {
        let sg = diaoyan_suggest::SuggestConfig::default()
            .build(diaoyan_text::Segmenter::builtin())
            .unwrap();
        let subs: Vec<Submission> = [
            "蹲点手记\n\n群众反映石桥村三组机耕路塌方两处，建议尽快修复。\n",
            "",
            "座谈会记录\n\n张三：河口村垃圾池十来天才清运一次。\n李四：路灯坏了三盏。\n",
        ]
        .iter()
        .map(|t| Submission {
            text: (*t).into(),
            ..Submission::default()
        })
        .collect();
        let found: Vec<diaoyan_suggest::Found> = subs.iter().map(|s| sg.find(s)).collect();
        let pieces: usize = found.iter().map(|f| f.pieces.len()).sum();
        assert!(pieces >= 2, "{found:?}");
        let dir = tempfile::tempdir().unwrap();
        let kept = KeptFound::take(found.clone(), dir.path(), &|_| {}).expect("a writable folder");
        assert_eq!(kept.counts(), (3, pieces));
        assert_eq!(kept.read_back().collect::<Vec<_>>(), found);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // Across blocks and batches ([`FOUND_BLOCK`], [`FOUND_BATCH`]): every finding once, in
        // order, the last block short.
        let many: Vec<diaoyan_suggest::Found> = (0..FOUND_BLOCK * FOUND_BATCH * 2 + 5)
            .map(|i| found[(i * 7 + i / 3) % found.len()].clone())
            .collect();
        // Progress reports every finding once.
        let written = std::sync::atomic::AtomicUsize::new(0);
        let kept = KeptFound::take(many.clone(), dir.path(), &|n| {
            written.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        })
        .expect("a writable folder");
        assert_eq!(written.into_inner(), many.len());
        assert_eq!(kept.blocks.len(), FOUND_BATCH * 2 + 1);
        let back: Vec<_> = kept.read_back().collect();
        assert_eq!(back.len(), many.len());
        assert!(back == many, "read back in another order or changed");
        let missing = dir.path().join("gone");
        let back = KeptFound::take(found.clone(), &missing, &|_| {})
            .err()
            .expect("given back");
        assert_eq!(back, found);
    }

    #[test]
    fn an_unwritable_folder_leaves_the_texts_in_memory() {
        let mut subs = vec![Submission {
            text: "村里的路灯坏了三盏。".into(),
            ..Submission::default()
        }];
        let missing = tempfile::tempdir().unwrap().path().join("gone");
        assert!(Kept::take(&mut subs, &missing, Vec::new()).is_none());
        assert_eq!(&*subs[0].text, "村里的路灯坏了三盏。");
    }
}
