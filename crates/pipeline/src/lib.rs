//! Pipelines: a TOML run definition → validated stage configs → a built [`Pipeline`] → a run
//! that writes the outputs and returns a [`RunReport`].
//!
//! Configuration is data ([`PipelineConfig`], one table per stage, every field with a default);
//! [`PipelineConfig::build`] validates it and loads resources (lexicons) once, so a bad config
//! fails before any file is read. Stages run in the order the file lists them; a stage that is
//! not listed does not run. Only this crate sees every stage crate.
//!
//! ```no_run
//! use diaoyan_pipeline::{PipelineConfig, NoProgress};
//! let cfg = PipelineConfig::from_file("pipelines/sample.toml".as_ref()).unwrap();
//! let report = cfg.build().unwrap().run(&NoProgress).unwrap();
//! println!("{} submissions", report.counts.submissions);
//! ```

mod cache;
mod check;
mod config;
mod digest;
mod lock;
mod outputs;
mod review;
mod run;
mod texts;
mod train;
mod unchanged;

pub use cache::{CACHE_DIR, CacheUse, Reuse, kept_earlier};
pub use check::{CheckOutput, check};
pub use config::{PipelineConfig, StageName, TextConfig};
pub use diaoyan_report::{Filter, Format};
pub use digest::{DigestOutput, digest};
pub use lock::{LOCK_FILE, OutputLock, clean_leftovers};
pub use outputs::PUBLISHING;
pub use review::{Orphan, Reviews};
pub use run::{
    Counts, NoProgress, PartTiming, Pipeline, Progress, RunData, RunReport, StageTiming,
};
pub use train::{TrainOptions, Trained, TrainedText, train_scorer};
pub use unchanged::OutputPrint;

/// Errors that stop a run (exit code 2): bad config, unreadable input, unwritable output.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline file could not be read.
    #[error("无法读取流水线配置 {path}：{reason}")]
    ConfigRead {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The pipeline file is not valid.
    #[error("流水线配置 {path} 有误：{reason}")]
    Config {
        /// The file (or `内置默认配置`).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A run's output folder could not be read (`diaoyan digest`, `check --against`).
    #[error("无法读取运行结果 {path}：{reason}")]
    RunOutput {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A lexicon could not be loaded.
    #[error(transparent)]
    Text(#[from] diaoyan_text::Error),
    /// The input could not be read at all.
    #[error(transparent)]
    Ingest(#[from] diaoyan_ingest::Error),
    /// An output could not be written.
    #[error(transparent)]
    Output(#[from] diaoyan_digest::Error),
    /// Another run is writing the same output folder.
    #[error(
        "输出目录 {path} 正被另一次 diaoyan 运行使用（{holder}）；请等它结束后再运行，或用 --out 换一个目录"
    )]
    Busy {
        /// The output folder.
        path: std::path::PathBuf,
        /// Who holds it (进程 1234，开始于 …).
        holder: String,
    },
    /// The search index could not be written.
    #[error(transparent)]
    Index(#[from] diaoyan_index::Error),
    /// The digest could not be made.
    #[error(transparent)]
    Report(#[from] diaoyan_report::Error),
}

/// The pipeline crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
