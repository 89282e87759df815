//! A re-run with nothing to do: when the input files read the same as for the outputs in the
//! folder (every file's path, metadata and text), the configuration, the binary and the
//! lexicons are the same, the reviewers' decisions are the same, and no output has been changed
//! or removed since that run wrote it, the outputs are already what a full run would write. The
//! run then stops after reading the input folder (a 100k-document re-run: 1.3 s instead
//! of 11) and says so.
//!
//! What the outputs were made from is one hash ([`inputs_key`]) kept in `run.json`, beside each
//! output file's size and modification time ([`OutputPrint`]); both are published with the
//! outputs they describe, so a run killed before publishing leaves the previous run's pair.

use crate::config::PipelineConfig;
use crate::run::{Counts, RunReport};
use diaoyan_model::IngestOutput;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// An output file as it was written: a later change to it (saved from Excel, deleted) makes the
/// next run write the outputs again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputPrint {
    /// Path relative to the output folder, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Modification time, nanoseconds since 1970 (0 where the system does not say).
    pub modified: u64,
}

/// What the last run's `run.json` says that a run with nothing to do reports again.
#[derive(Debug, Deserialize)]
pub(crate) struct Earlier {
    pub counts: Counts,
    pub outputs: Vec<String>,
    pub reviews: crate::Reviews,
    pub index: Option<diaoyan_index::Built>,
    pub inputs_key: Option<String>,
    #[serde(default)]
    pub output_prints: Vec<OutputPrint>,
}

/// A hash of everything the outputs are made from: the cache's `stamp` (the binary, the
/// version, the stage settings and the lexicons and models they name), the run's name and
/// stages, what was read from the input (every submission with its text and metadata,
/// unreadable files, roster, skipped files), the reviewers' decision file, and the files of the
/// reference folders for copy detection by path, size and times (as the cache knows an input
/// file unchanged, see [`folder_listing`]). `None` when one of those cannot be read.
pub(crate) fn inputs_key(
    stamp: &str,
    cfg: &PipelineConfig,
    ingest: &IngestOutput,
    dir: &Path,
) -> Option<String> {
    let mut sink = std::io::sink();
    let mut h = crate::cache::Hashing {
        inner: &mut sink,
        hash: xxhash_rust::xxh3::Xxh3::new(),
    };
    let mut part = |bytes: &[u8]| {
        h.hash.update(&(bytes.len() as u64).to_le_bytes());
        h.hash.update(bytes);
    };
    part(stamp.as_bytes());
    part(cfg.name.as_bytes());
    part(serde_json::to_string(&cfg.stages).ok()?.as_bytes());
    // Decisions change the flags, the lists and the written material.
    match std::fs::read(dir.join(diaoyan_digest::DECISIONS_FILE)) {
        Ok(bytes) => part(&bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => part(b"-"),
        Err(_) => return None,
    }
    for folder in &cfg.score.copy.references {
        part(&folder_listing(folder)?);
    }
    bincode::serde::encode_into_std_write(ingest, &mut h, bincode::config::standard()).ok()?;
    Some(format!("{:032x}", h.hash.digest128()))
}

/// Every file under `folder` (all depths, sorted): its path and what the input's file memo
/// compares to call a file unchanged ([`diaoyan_ingest::Seen`]: size, modification and status
/// change times). `None` when the folder cannot be read, or a file was modified too recently
/// for its times to be trusted (as the memo reads such a file again).
fn folder_listing(folder: &Path) -> Option<Vec<u8>> {
    let now = std::time::SystemTime::now();
    let mut files = Vec::new();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).ok()? {
            let e = e.ok()?;
            let m = e.metadata().ok()?;
            if m.is_dir() {
                stack.push(e.path());
                continue;
            }
            let seen = diaoyan_ingest::Seen::of(&m, now)?;
            let mut line = e.path().to_string_lossy().into_owned().into_bytes();
            bincode::serde::encode_into_std_write(seen, &mut line, bincode::config::standard())
                .ok()?;
            files.push(line);
        }
    }
    files.sort();
    let mut out = Vec::new();
    for f in files {
        out.extend_from_slice(&(f.len() as u64).to_le_bytes());
        out.extend_from_slice(&f);
    }
    Some(out)
}

/// The size and modification time of each of `outputs` in `dir` (every file of a folder such
/// as `index/`), but `run.json`, in order; `None` when one cannot be read.
pub(crate) fn prints(dir: &Path, outputs: &[String]) -> Option<Vec<OutputPrint>> {
    let mut out = Vec::new();
    for name in outputs {
        if name == "run.json" {
            continue;
        }
        match name.strip_suffix('/') {
            Some(folder) => {
                let mut files: Vec<String> = std::fs::read_dir(dir.join(folder))
                    .ok()?
                    .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                    .collect::<std::io::Result<_>>()
                    .ok()?;
                files.sort();
                for f in files {
                    out.push(print(dir, &format!("{folder}/{f}"))?);
                }
            }
            None => out.push(print(dir, name)?),
        }
    }
    Some(out)
}

fn print(dir: &Path, path: &str) -> Option<OutputPrint> {
    let m = std::fs::metadata(dir.join(path)).ok()?;
    let modified = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    Some(OutputPrint {
        path: path.to_owned(),
        bytes: m.len(),
        modified,
    })
}

/// The last run's report, when its outputs were made from inputs with this `key` and each
/// file it wrote is still there as it was written.
pub(crate) fn earlier_if_same(dir: &Path, key: &str) -> Option<Earlier> {
    let bytes = std::fs::read(dir.join("run.json")).ok()?;
    let earlier: Earlier = serde_json::from_slice(&bytes).ok()?;
    if earlier.inputs_key.as_deref() != Some(key) || earlier.output_prints.is_empty() {
        return None;
    }
    // The files the outputs are now (each file of a folder) are the files recorded, each as it
    // was written.
    let now = prints(dir, &earlier.outputs)?;
    (now == earlier.output_prints).then_some(earlier)
}

/// The report of a run that found nothing to do: the last run's counts, outputs, reviews and
/// index, with this run's start, time, steps and cache use.
pub(crate) fn report(earlier: Earlier, now: RunReport) -> RunReport {
    RunReport {
        // The same input read the same: the same counts.
        counts: earlier.counts,
        outputs: earlier.outputs,
        reviews: earlier.reviews,
        index: earlier.index,
        unchanged: true,
        output_prints: earlier.output_prints,
        ..now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diaoyan_model::Submission;

    fn ingest(texts: &[&str]) -> IngestOutput {
        IngestOutput {
            submissions: texts
                .iter()
                .enumerate()
                .map(|(i, t)| Submission {
                    id: format!("s{i}").into(),
                    path: format!("{i}.txt").into(),
                    text: (*t).into(),
                    ..Submission::default()
                })
                .collect(),
            files_seen: texts.len(),
            ..IngestOutput::default()
        }
    }

    /// The key moves with each thing the outputs are made from, and only with those.
    #[test]
    fn the_key_follows_what_the_outputs_are_made_from() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = PipelineConfig::default();
        let input = ingest(&["三组机耕路塌方2处", "建议修缮村道"]);
        let key = |stamp: &str, cfg: &PipelineConfig, input: &IngestOutput| {
            inputs_key(stamp, cfg, input, dir.path()).unwrap()
        };
        let base = key("s1", &cfg, &input);
        assert_eq!(base.len(), 32);
        assert_eq!(
            base,
            key("s1", &cfg, &input.clone()),
            "the same input, the same key"
        );
        // Threads and the output folder change no output.
        let other = PipelineConfig {
            threads: 1,
            out: "elsewhere".into(),
            texts_in_memory_mb: 0,
            ..cfg.clone()
        };
        assert_eq!(base, key("s1", &other, &input));
        let mut differ = vec![key("s2", &cfg, &input)];
        let named = PipelineConfig {
            name: "另一次".to_owned(),
            ..cfg.clone()
        };
        differ.push(key("s1", &named, &input));
        let fewer = PipelineConfig {
            stages: cfg.stages[..2].to_vec(),
            ..cfg.clone()
        };
        differ.push(key("s1", &fewer, &input));
        differ.push(key(
            "s1",
            &cfg,
            &ingest(&["三组机耕路塌方3处", "建议修缮村道"]),
        ));
        let mut authored = input.clone();
        authored.submissions[1].author = "王桂兰".into();
        differ.push(key("s1", &cfg, &authored));
        let mut skipped = input.clone();
        skipped.skipped.push("~$报告.docx".to_owned());
        differ.push(key("s1", &cfg, &skipped));
        std::fs::write(
            dir.path().join(diaoyan_digest::DECISIONS_FILE),
            "{\"a\":1}\n",
        )
        .unwrap();
        differ.push(key("s1", &cfg, &input));
        for (i, k) in differ.iter().enumerate() {
            assert_ne!(k, &base, "change {i} kept the key");
        }
        // Reference folders lie outside the input: their files count by path, size and times
        // (once old enough to be trusted, as the input's memo has it); a file modified just now,
        // or a folder that cannot be read, gives no key.
        let refs_dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(refs_dir.path().join("2023")).unwrap();
        let file = refs_dir.path().join("2023/模板.txt");
        let write_old = |text: &str| {
            std::fs::write(&file, text).unwrap();
            std::fs::File::options()
                .write(true)
                .open(&file)
                .unwrap()
                .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
                .unwrap();
        };
        write_old("进一步提高政治站位");
        let mut refs = cfg.clone();
        refs.score
            .copy
            .references
            .push(refs_dir.path().to_path_buf());
        let with_refs = key("s1", &refs, &input);
        assert!(!differ.contains(&with_refs) && with_refs != base);
        assert_eq!(with_refs, key("s1", &refs, &input));
        write_old("进一步提高政治站位。");
        assert_ne!(
            with_refs,
            key("s1", &refs, &input),
            "a reference file changed"
        );
        std::fs::write(&file, "进一步提高政治站位！").unwrap();
        assert_eq!(inputs_key("s1", &refs, &input, dir.path()), None);
        write_old("进一步提高政治站位！");
        refs.score
            .copy
            .references
            .push(refs_dir.path().join("没有这个目录"));
        assert_eq!(inputs_key("s1", &refs, &input, dir.path()), None);
    }

    /// Each output file is printed, a folder file by file in name order, `run.json` never; a
    /// missing one gives no prints.
    #[test]
    fn prints_list_every_output_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.csv"), "12345").unwrap();
        std::fs::create_dir(d.join("index")).unwrap();
        std::fs::write(d.join("index/z"), "1").unwrap();
        std::fs::write(d.join("index/b"), "12").unwrap();
        std::fs::write(d.join("run.json"), "{}").unwrap();
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let p = prints(d, &names(&["a.csv", "index/", "run.json"])).unwrap();
        let got: Vec<(&str, u64)> = p.iter().map(|x| (x.path.as_str(), x.bytes)).collect();
        assert_eq!(got, [("a.csv", 5), ("index/b", 2), ("index/z", 1)]);
        assert!(p.iter().all(|x| x.modified > 0));
        assert_eq!(prints(d, &names(&["a.csv", "gone.csv"])), None);
    }
}
