//! The pipeline file (`pipelines/*.toml`).

use crate::{Error, Result};
use diaoyan_ingest::IngestConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A stage of the batch pipeline, in the order they can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageName {
    /// Files and tables → submissions.
    Ingest,
    /// Normalisation, sentences, segmentation → text statistics.
    Text,
    /// Substance signals, copy detection, campaign rules → verdicts.
    Score,
    /// Suggestions → themes → recurring issues.
    Suggest,
}

impl StageName {
    /// The stage's Chinese name, shown on the progress bar.
    pub fn label(self) -> &'static str {
        match self {
            StageName::Ingest => "读取材料",
            StageName::Text => "分词分句",
            StageName::Score => "质量评分",
            StageName::Suggest => "意见归类",
        }
    }
}

/// The `[text]` table: lexicons for segmentation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TextConfig {
    /// User dictionary (`word [freq] [tag]` lines); default: the built-in campaign dictionary.
    pub userdict: Option<PathBuf>,
    /// Stop words, one a line; default: the built-in list.
    pub stopwords: Option<PathBuf>,
}

/// A whole run definition. Relative paths in a file are relative to that file's folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// A name for the run, shown in reports (default `diaoyan`).
    pub name: String,
    /// Input folder or table file (required, here or as `--input`).
    pub input: Option<PathBuf>,
    /// Output folder (default `out`).
    pub out: PathBuf,
    /// Stages to run, in order (default: every stage this build has).
    pub stages: Vec<StageName>,
    /// Worker threads; 0 = one per core (default 0).
    pub threads: usize,
    /// Keep what each text was read to say in the output folder (`.diaoyan-cache/`), so a
    /// re-run reads only new or changed texts (default true).
    pub cache: bool,
    /// Megabytes of text a run holds in memory from start to end: above this (a run into an
    /// output folder reading more text), the texts move to a temporary file in the output
    /// folder as soon as the cache has keyed them, before the reading pass, and every step
    /// reads them back one at a time (1M documents, 1.7 GB of text: less memory, a little
    /// slower). 0 = always (default 1024).
    pub texts_in_memory_mb: u64,
    /// How files are read.
    pub ingest: IngestConfig,
    /// Lexicons.
    pub text: TextConfig,
    /// Scoring: lexicons, thresholds, copy detection, campaign rules.
    pub score: diaoyan_score::ScoreConfig,
    /// Suggestions: taxonomy, model, clustering.
    pub suggest: diaoyan_suggest::SuggestConfig,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            name: "diaoyan".to_owned(),
            input: None,
            out: PathBuf::from("out"),
            stages: vec![
                StageName::Ingest,
                StageName::Text,
                StageName::Score,
                StageName::Suggest,
            ],
            threads: 0,
            cache: true,
            texts_in_memory_mb: 1024,
            ingest: IngestConfig::default(),
            text: TextConfig::default(),
            score: diaoyan_score::ScoreConfig::default(),
            suggest: diaoyan_suggest::SuggestConfig::default(),
        }
    }
}

impl PipelineConfig {
    /// Reads a pipeline file and resolves its relative paths against the file's folder.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::ConfigRead {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut cfg = Self::from_toml(&text).map_err(|reason| Error::Config {
            path: path.display().to_string(),
            reason,
        })?;
        // Named with the file here; `validate` checks the same for configurations made otherwise.
        let problems = cfg.engine_problems();
        if !problems.is_empty() {
            return Err(Error::Config {
                path: path.display().to_string(),
                reason: problems.join("；"),
            });
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(p) = cfg.input.as_mut() {
            resolve(p);
        }
        resolve(&mut cfg.out);
        if let Some(p) = cfg.text.userdict.as_mut() {
            resolve(p);
        }
        if let Some(p) = cfg.text.stopwords.as_mut() {
            resolve(p);
        }
        for p in [
            &mut cfg.score.boilerplate,
            &mut cfg.score.concrete,
            &mut cfg.score.roles,
            &mut cfg.score.model,
        ]
        .into_iter()
        .flatten()
        {
            resolve(p);
        }
        for p in &mut cfg.score.copy.references {
            resolve(p);
        }
        for p in [&mut cfg.suggest.themes, &mut cfg.suggest.model]
            .into_iter()
            .flatten()
        {
            resolve(p);
        }
        Ok(cfg)
    }

    /// Parses pipeline TOML (paths are left as written). The error is a Chinese message.
    pub fn from_toml(text: &str) -> std::result::Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Checks the stage list: ingest first, each stage once, and every stage's inputs present.
    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |reason: String| Error::Config {
            path: self.name.clone(),
            reason,
        };
        if self.stages.first() != Some(&StageName::Ingest) {
            return Err(bad("stages 的第一个阶段必须是 \"ingest\"".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for s in &self.stages {
            if !seen.insert(*s) {
                return Err(bad(format!("阶段 {s:?} 重复出现")));
            }
        }
        if !self.stages.windows(2).all(|w| w[0] < w[1]) {
            return Err(bad(
                "阶段顺序有误：应按 ingest、text、score、suggest 的顺序排列".into(),
            ));
        }
        let s = &self.score;
        let in_range = |x: Option<f64>| x.is_none_or(|x| (0.0..=100.0).contains(&x));
        if !in_range(s.redo_below)
            || !in_range(s.review_below)
            || matches!((s.redo_below, s.review_below), (Some(a), Some(b)) if a > b)
        {
            return Err(bad(
                "score.redo_below 与 score.review_below 须在 0–100 之间，且退回线不高于复核线"
                    .into(),
            ));
        }
        if self.input.is_none() {
            return Err(bad(
                "没有指定输入：请在配置中写 input = \"…\"，或使用 --input".into(),
            ));
        }
        if self.ingest.max_entry_bytes == 0 || self.ingest.max_file_bytes == 0 {
            return Err(bad(
                "ingest.max_file_bytes 与 ingest.max_entry_bytes 必须大于 0".into(),
            ));
        }
        let problems = self.engine_problems();
        if !problems.is_empty() {
            return Err(bad(problems.join("；")));
        }
        Ok(())
    }

    /// Engine settings out of their bounds, each named in Chinese (the engines know their own
    /// bounds); all of them, not only the first.
    fn engine_problems(&self) -> Vec<String> {
        self.score
            .copy
            .check()
            .into_iter()
            .chain(self.suggest.cluster.check())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_refused() {
        let err = PipelineConfig::from_toml("inptu = \"x\"").unwrap_err();
        assert!(err.contains("inptu"), "{err}");
        let err = PipelineConfig::from_toml("[ingest]\nmax_entry = 1").unwrap_err();
        assert!(err.contains("max_entry"), "{err}");
    }

    #[test]
    fn defaults_fill_missing_tables() {
        let cfg = PipelineConfig::from_toml("input = \"in\"").unwrap();
        assert_eq!(
            cfg.stages,
            vec![
                StageName::Ingest,
                StageName::Text,
                StageName::Score,
                StageName::Suggest
            ]
        );
        assert_eq!(cfg.ingest.max_entry_bytes, 64 << 20);
        assert!(cfg.validate().is_ok());
    }

    #[test]
    fn impossible_engine_settings_are_refused_by_name() {
        let read = |t: &str| PipelineConfig::from_toml(&format!("input = \"in\"\n{t}")).unwrap();
        let err = read("[suggest.cluster]\nrows = 17\nbucket_cap = 0")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("suggest.cluster.rows") && err.contains("17"),
            "{err}"
        );
        assert!(err.contains("suggest.cluster.bucket_cap"), "{err}");
        let err = read("[score.copy]\nshingle = 1\nmin_containment = 1.5")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("score.copy.shingle"), "{err}");
        assert!(err.contains("score.copy.min_containment"), "{err}");
        // The bounds themselves are allowed.
        assert!(
            read("[suggest.cluster]\nrows = 16\nbands = 1\n[score.copy]\nshingle = 2")
                .validate()
                .is_ok()
        );
        assert!(read("[suggest.cluster]\nrows = 0").validate().is_err());
        // Read from a file, the message names the file.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "input = \"in\"\n[suggest.cluster]\nrows = 17\n").unwrap();
        let err = PipelineConfig::from_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("p.toml") && err.contains("suggest.cluster.rows"),
            "{err}"
        );
    }

    #[test]
    fn stage_order_is_checked() {
        let cfg =
            PipelineConfig::from_toml("input = \"in\"\nstages = [\"text\", \"ingest\"]").unwrap();
        assert!(cfg.validate().is_err());
        let cfg = PipelineConfig::from_toml("stages = [\"ingest\"]").unwrap();
        assert!(cfg.validate().is_err(), "no input");
    }

    #[test]
    fn relative_paths_follow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.toml");
        std::fs::write(&p, "input = \"data\"\nout = \"/abs/out\"\n").unwrap();
        let cfg = PipelineConfig::from_file(&p).unwrap();
        assert_eq!(cfg.input.unwrap(), dir.path().join("data"));
        assert_eq!(cfg.out, PathBuf::from("/abs/out"));
    }
}
