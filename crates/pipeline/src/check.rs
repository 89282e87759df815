//! `diaoyan check`: score single files on the spot.

use crate::config::PipelineConfig;
use crate::{Error, Result};
use diaoyan_model::{Assessment, FileError, Submission};
use diaoyan_text::{Lexicons, Segmenter};
use std::path::{Path, PathBuf};

/// What checking some files gave.
#[derive(Debug, Clone)]
pub struct CheckOutput {
    /// Each readable file (or table row) with its assessment.
    pub results: Vec<(Submission, Assessment)>,
    /// Files that could not be read.
    pub errors: Vec<FileError>,
    /// Reference texts compared against (templates and the earlier run).
    pub references: usize,
    /// Per result: every body sentence with its byte range, role and findings (empty unless
    /// asked for: reading sentences again costs a second analysis).
    pub sentences: Vec<Vec<diaoyan_score::SentenceRole>>,
}

/// Scores `files` with the pipeline's lexicons and thresholds, comparing them against its
/// reference folders and, with `against`, against the submissions of an earlier run's output
/// folder (its `submissions.jsonl`). With `with_sentences`, every sentence's role is listed too.
pub fn check(
    cfg: &PipelineConfig,
    files: &[PathBuf],
    against: Option<&Path>,
    with_sentences: bool,
) -> Result<CheckOutput> {
    let lex = Lexicons::from_files(cfg.text.userdict.as_deref(), cfg.text.stopwords.as_deref())?;
    let scorer = cfg
        .score
        .build(Segmenter::new(&lex))
        .map_err(|e| Error::Config {
            path: cfg.name.clone(),
            reason: e.to_string(),
        })?;
    let mut subs = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match diaoyan_ingest::ingest(f, &cfg.ingest) {
            Ok(out) => {
                subs.extend(out.submissions);
                errors.extend(out.errors);
            }
            Err(e) => errors.push(FileError {
                path: f.display().to_string(),
                reason: "无法读取".into(),
                detail: e.to_string(),
            }),
        }
    }
    let mut refs = crate::run::read_references(cfg, &mut errors)?;
    if let Some(dir) = against {
        let path = dir.join("submissions.jsonl");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::ConfigRead {
            path: path.display().to_string(),
            reason: format!("{e}（--against 需要一次 diaoyan run 的输出目录）"),
        })?;
        for (i, line) in text.lines().enumerate() {
            let s: Submission = serde_json::from_str(line).map_err(|e| Error::Config {
                path: path.display().to_string(),
                reason: format!("第 {} 行无法解析：{e}", i + 1),
            })?;
            // The same text is the same document handed in again, not a copy of itself.
            if !subs.iter().any(|x| x.text == s.text) {
                refs.push(s);
            }
        }
    }
    let out = scorer.score(&subs, &refs, &[]);
    let sentences = if with_sentences {
        subs.iter()
            .map(|s| scorer.sentence_roles(&s.text))
            .collect()
    } else {
        Vec::new()
    };
    Ok(CheckOutput {
        sentences,
        results: subs.into_iter().zip(out.assessments).collect(),
        errors,
        references: refs.len(),
    })
}
