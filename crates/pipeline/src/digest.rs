//! `diaoyan digest OUT`: the written material for a selection, rebuilt from the Parquet tables a
//! run saved — without re-running the pipeline.

use crate::{Error, Result};
use diaoyan_report::{Facts, Filter, Format, Tables};
use std::path::{Path, PathBuf};

/// What [`digest`] wrote.
#[derive(Debug, Clone)]
pub struct DigestOutput {
    /// The folder written into.
    pub dir: PathBuf,
    /// The files written (names in `dir`).
    pub files: Vec<String>,
    /// The selection in words.
    pub scope: String,
}

/// Rebuilds the digest of `out` (a run's output folder) for `filter`, in `formats`, into `into`
/// (default: `out`). The files are `digest.*` for everything, `digest_<selection>.*` otherwise.
/// The run's folder is locked while its tables are read and the files written.
pub fn digest(
    out: &Path,
    filter: &Filter,
    formats: &[Format],
    into: Option<&Path>,
) -> Result<DigestOutput> {
    let run_json = out.join("run.json");
    let text = std::fs::read_to_string(&run_json).map_err(|e| Error::RunOutput {
        path: run_json.display().to_string(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "{} 不是 diaoyan 的输出目录（没有 run.json，请先运行 diaoyan run）",
                out.display()
            ),
            _ => diaoyan_model::io_reason(&e),
        },
    })?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::RunOutput {
        path: run_json.display().to_string(),
        reason: format!("run.json 已损坏：{e}"),
    })?;
    let count = |k: &str| {
        json.pointer(&format!("/counts/{k}"))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0) as usize
    };
    let facts = Facts {
        files: count("files_seen"),
        unreadable: count("errors"),
    };
    let started = chrono::Local::now()
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    let _lock = crate::lock::OutputLock::acquire(out, &started)?;
    let tables = Tables::read_parquet_for_digest(out)?;
    let dir = into.unwrap_or(out).to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| diaoyan_digest::write_io(&dir, e))?;
    let slug = filter.slug();
    let stem = if slug.is_empty() {
        "digest".to_owned()
    } else {
        format!("digest_{slug}")
    };
    let formats = if formats.is_empty() {
        &Format::ALL[..]
    } else {
        formats
    };
    let files = diaoyan_report::digest_of(&tables, filter, &facts, &dir, &stem, formats)?;
    Ok(DigestOutput {
        dir,
        files,
        scope: filter.describe(),
    })
}
