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

/// A hash of everything the outputs are made from, apart from the pipeline's own files (the
/// cache's `stamp`: the binary, the version, the stage settings and the lexicons and models
/// they name): the run's name and stages, what was read from the input (every submission with
/// its text and metadata, unreadable files, roster, skipped files) and the reviewers' decision
/// file. `None` when the run reads reference folders for copy detection, which are not part of
/// the input: such a run always runs in full.
pub(crate) fn inputs_key(
    stamp: &str,
    cfg: &PipelineConfig,
    ingest: &IngestOutput,
    dir: &Path,
) -> Option<String> {
    if !cfg.score.copy.references.is_empty() {
        return None;
    }
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut part = |bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
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
    let mut w = HashWriter(&mut h);
    bincode::serde::encode_into_std_write(ingest, &mut w, bincode::config::standard()).ok()?;
    Some(format!("{:032x}", h.digest128()))
}

/// Feeds what is written into a hasher.
struct HashWriter<'h>(&'h mut xxhash_rust::xxh3::Xxh3);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
    // Each recorded file as it was written; the outputs listed are the files recorded.
    let now: Vec<OutputPrint> = earlier
        .output_prints
        .iter()
        .map(|p| print(dir, &p.path))
        .collect::<Option<_>>()?;
    let listed = prints(dir, &earlier.outputs)?;
    (now == earlier.output_prints && listed == earlier.output_prints).then_some(earlier)
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
