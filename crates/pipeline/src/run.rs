//! Building and running a pipeline.

use crate::config::{PipelineConfig, StageName};
use crate::{Error, Result, outputs};
use diaoyan_model::{IngestOutput, TextStats};
use diaoyan_text::{Lexicons, Segmenter};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// Receives progress from a run (the binary draws a bar; tests and pipes ignore it).
pub trait Progress: Sync {
    /// A stage starts with `total` units of work (0 when unknown).
    fn start(&self, _stage: &str, _total: u64) {}
    /// The total of the current stage became known.
    fn set_total(&self, _total: u64) {}
    /// `n` more units are done.
    fn advance(&self, _n: u64) {}
    /// The current stage is done.
    fn finish(&self) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;
impl Progress for NoProgress {}

/// How long one step of a run took: each progress bar (a stage's pass over the texts or one of
/// its run-wide steps, and the writing of the outputs), with its units of work.
#[derive(Debug, Clone, Serialize)]
pub struct StepTiming {
    /// The bar's name, as the terminal shows it (`逐份阅读`, `候选配对`, …).
    pub step: String,
    /// Units of work it counted (texts, pairs, files …).
    pub units: u64,
    /// When it began, in seconds from the start of the run (what lies between one step's end
    /// and the next one's start is work no bar shows).
    pub at: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Passes progress on and times each bar (`run.json` lists them: where a run's time went).
struct Timed<'p> {
    inner: &'p dyn Progress,
    steps: std::sync::Mutex<Steps>,
}

/// The bars timed so far, and the open one (its name, units and start), from `t0`.
struct Steps {
    t0: Instant,
    done: Vec<StepTiming>,
    open: Option<(String, u64, Instant)>,
}

impl Steps {
    /// Closes the open bar, if any.
    fn close(&mut self) {
        if let Some((step, units, t)) = self.open.take() {
            self.done.push(StepTiming {
                step,
                units,
                at: t.duration_since(self.t0).as_secs_f64(),
                seconds: t.elapsed().as_secs_f64(),
            });
        }
    }
}

impl<'p> Timed<'p> {
    /// Times the bars of a run that began at `t0`.
    fn new(inner: &'p dyn Progress, t0: Instant) -> Self {
        Timed {
            inner,
            steps: std::sync::Mutex::new(Steps {
                t0,
                done: Vec::new(),
                open: None,
            }),
        }
    }

    fn steps(&self) -> std::sync::MutexGuard<'_, Steps> {
        self.steps.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every bar timed, the open one closed.
    fn finished(&self) -> Vec<StepTiming> {
        let mut steps = self.steps();
        steps.close();
        std::mem::take(&mut steps.done)
    }
}

impl Progress for Timed<'_> {
    fn start(&self, stage: &str, total: u64) {
        {
            let mut steps = self.steps();
            steps.close();
            steps.open = Some((stage.to_owned(), total, Instant::now()));
        }
        self.inner.start(stage, total);
    }

    fn set_total(&self, total: u64) {
        if let Some(open) = self.steps().open.as_mut() {
            open.1 = total;
        }
        self.inner.set_total(total);
    }

    fn advance(&self, n: u64) {
        self.inner.advance(n);
    }

    fn finish(&self) {
        self.steps().close();
        self.inner.finish();
    }
}

/// A validated pipeline with its resources loaded.
pub struct Pipeline {
    cfg: PipelineConfig,
    segmenter: Option<Segmenter>,
    scorer: Option<diaoyan_score::Scorer>,
    suggester: Option<diaoyan_suggest::Suggester>,
    pool: rayon::ThreadPool,
}

/// How long a stage took.
#[derive(Debug, Clone, Serialize)]
pub struct StageTiming {
    /// Stage name.
    pub stage: StageName,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// How long writing one part of the outputs took (`submissions`, `index`, `digest`, …).
#[derive(Debug, Clone, Serialize)]
pub struct PartTiming {
    /// Part name.
    pub part: &'static str,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Counts of a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Files under the input (every kind).
    pub files_seen: usize,
    /// Submissions produced (a table gives one per row).
    pub submissions: usize,
    /// Submissions by kind (`note`, `report`, …; `unknown` when not known).
    pub by_kind: BTreeMap<String, usize>,
    /// Submissions by source encoding.
    pub by_encoding: BTreeMap<String, usize>,
    /// Files or rows that could not be read (listed in `ingest_errors.csv`).
    pub errors: usize,
    /// Submissions read with warnings (bad bytes, wrong extension …).
    pub with_warnings: usize,
    /// Files read as metadata (manifest, roster).
    pub metadata_files: Vec<String>,
    /// Roster lines.
    pub roster: usize,
    /// Lock and hidden files skipped.
    pub skipped: usize,
    /// Their paths.
    pub skipped_files: Vec<String>,
    /// Folders under the input holding diaoyan's own outputs, not read.
    pub skipped_outputs: Vec<String>,
    /// Bytes of text ingested (UTF-8).
    pub text_bytes: usize,
    /// Whether the texts left memory before the reading pass, for a temporary file in the
    /// output folder (more than `texts_in_memory_mb` of them).
    pub texts_in_file: bool,
    /// Sentences (when the text stage ran).
    pub sentences: usize,
    /// Words (when the text stage ran).
    pub words: usize,
    /// Verdicts (when the score stage ran): `pass`, `review`, `redo`.
    pub verdicts: BTreeMap<String, usize>,
    /// Reference texts read for copy detection.
    pub references: usize,
    /// Copied pairs found.
    pub copy_pairs: usize,
    /// Copy detection work (when the score stage ran).
    pub copy: Option<diaoyan_score::CopyStats>,
    /// Cadres checked against the campaign rules.
    pub cadres: usize,
    /// Suggestions extracted (when the suggest stage ran).
    pub suggestions: usize,
    /// Suggestions by theme.
    pub by_theme: BTreeMap<String, usize>,
    /// Recurring issues listed.
    pub issues: usize,
}

/// What a run did: written next to the outputs as `run.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Always `diaoyan`: marks the folder as diaoyan's outputs, which no run reads as input.
    pub tool: &'static str,
    /// diaoyan's version.
    pub version: String,
    /// The run's name.
    pub name: String,
    /// When it started (local time, ISO 8601).
    pub started: String,
    /// Total wall-clock seconds.
    pub seconds: f64,
    /// Worker threads used.
    pub threads: usize,
    /// Per-stage timings, in run order.
    pub stages: Vec<StageTiming>,
    /// Time spent writing each part of the outputs, in write order.
    pub writing: Vec<PartTiming>,
    /// Every step with a progress bar, in run order: what the stage times are made of.
    pub steps: Vec<StepTiming>,
    /// Counts.
    pub counts: Counts,
    /// Output files written, relative to the output folder.
    pub outputs: Vec<String>,
    /// Leftovers of killed runs removed from the output folder before writing.
    pub cleaned: Vec<String>,
    /// The holder of a lock left by a run that did not finish (killed), taken over.
    pub stale_lock: Option<String>,
    /// Reviewer decisions (`decisions.jsonl`) as they apply to this run.
    pub reviews: crate::Reviews,
    /// How the keyword index was written (updated from the previous run's, or built).
    pub index: Option<diaoyan_index::Built>,
    /// How the stages used the per-text cache of earlier runs.
    pub cache: Option<crate::CacheUse>,
    /// The resolved configuration.
    pub config: PipelineConfig,
    /// Whether the run found nothing to do: the input read the same as for the outputs in the
    /// folder, the configuration and the decisions were the same, and no output had been
    /// changed, so the outputs were left as they were ([`crate::unchanged`]).
    pub unchanged: bool,
    /// A hash of what the outputs were made from (input, configuration, decisions, reference
    /// folders); `None` when the run kept no cache or a reference folder could not be read.
    pub inputs_key: Option<String>,
    /// Each output file's size and modification time as the run wrote it.
    pub output_prints: Vec<crate::unchanged::OutputPrint>,
}

/// Everything the stages produced, in memory (what the writers write).
pub struct RunData {
    /// Submissions, unreadable files, roster.
    pub ingest: IngestOutput,
    /// Text statistics per submission (text stage).
    pub stats: Option<Vec<TextStats>>,
    /// Reference texts read for copy detection (score stage).
    pub references: Vec<diaoyan_model::Submission>,
    /// Assessments, copy pairs, cadre reports (score stage).
    pub score: Option<diaoyan_score::ScoreOutput>,
    /// Suggestions and recurring issues (suggest stage).
    pub suggest: Option<diaoyan_suggest::SuggestOutput>,
    /// Per-stage timings.
    pub timings: Vec<StageTiming>,
    /// How the stages used the per-text cache (runs into an output folder only).
    pub cache: Option<crate::cache::CacheUse>,
    /// The submissions' texts, when a run into an output folder moved them out of memory after
    /// reading them ([`RunData::text`] reads them either way). Shared with the suggestions,
    /// which read their words there ([`diaoyan_model::Suggestion::read`]).
    kept: Option<std::sync::Arc<crate::texts::Kept>>,
}

impl RunData {
    /// The text of submission `i`: its own, or read back from where the run kept it.
    pub fn text(&self, i: usize) -> std::borrow::Cow<'_, str> {
        use diaoyan_model::Texts;
        match &self.kept {
            Some(k) => k.text(i),
            None => std::borrow::Cow::Borrowed(&self.ingest.submissions[i].text),
        }
    }

    /// Where the texts are, when they left memory.
    pub(crate) fn kept(&self) -> Option<&dyn diaoyan_model::Texts> {
        self.kept.as_deref().map(|k| k as &dyn diaoyan_model::Texts)
    }

    /// [`RunData::kept`], shared.
    fn kept_shared(&self) -> Option<std::sync::Arc<dyn diaoyan_model::Texts>> {
        self.kept
            .clone()
            .map(|k| k as std::sync::Arc<dyn diaoyan_model::Texts>)
    }
}

impl PipelineConfig {
    /// Validates the configuration and loads its resources (lexicons, thread pool).
    pub fn build(self) -> Result<Pipeline> {
        self.validate()?;
        let needs_words = self
            .stages
            .iter()
            .any(|s| matches!(s, StageName::Text | StageName::Score | StageName::Suggest));
        let segmenter = if needs_words {
            let lex = Lexicons::from_files(
                self.text.userdict.as_deref(),
                self.text.stopwords.as_deref(),
            )?;
            Some(Segmenter::new(&lex))
        } else {
            None
        };
        let scorer = match (&segmenter, self.stages.contains(&StageName::Score)) {
            (Some(seg), true) => {
                Some(self.score.build(seg.clone()).map_err(|e| Error::Config {
                    path: self.name.clone(),
                    reason: e.to_string(),
                })?)
            }
            _ => None,
        };
        let suggester = match (&segmenter, self.stages.contains(&StageName::Suggest)) {
            (Some(seg), true) => {
                let s = self.suggest.build(seg.clone()).map_err(|e| Error::Config {
                    path: self.name.clone(),
                    reason: e.to_string(),
                })?;
                // One place recogniser: the scorer's role lexicon names places for both stages.
                Some(match &scorer {
                    Some(sc) => s.with_places(sc.places().clone()),
                    None => s,
                })
            }
            _ => None,
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .build()
            .map_err(|e| Error::Config {
                path: self.name.clone(),
                reason: format!("无法创建线程池：{e}"),
            })?;
        Ok(Pipeline {
            cfg: self,
            segmenter,
            scorer,
            suggester,
            pool,
        })
    }
}

impl Pipeline {
    /// The configuration this pipeline was built from.
    pub fn config(&self) -> &PipelineConfig {
        &self.cfg
    }

    /// Runs every configured stage, then writes the outputs. Bad input files are recorded and
    /// counted; only an unreadable input or an unwritable output folder is an error.
    pub fn run(&self, progress: &dyn Progress) -> Result<RunReport> {
        let t0 = Instant::now();
        let timed = Timed::new(progress, t0);
        let progress: &dyn Progress = &timed;
        let started = chrono::Local::now()
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string();
        let out_dir = self.cfg.out.clone();
        outputs::prepare_dir(&out_dir)?;
        // One run per output folder; what a killed run left is cleaned once the lock is ours.
        let lock = crate::lock::OutputLock::acquire(&out_dir, &started)?;
        let cleaned = crate::lock::clean_leftovers(&out_dir);
        let cache = match (&self.segmenter, self.cfg.cache) {
            (Some(seg), true) => Some(crate::cache::Cache::open(
                &out_dir,
                &self.cfg,
                seg.fingerprint(),
            )),
            _ => None,
        };
        // Once the input is read: what the outputs will be made from, and whether the outputs
        // in the folder were made from just that and are still as written.
        let seen: std::sync::Mutex<(Option<String>, Option<crate::unchanged::Earlier>)> =
            std::sync::Mutex::new((None, None));
        let done_after = |ingest: &IngestOutput| {
            let Some(c) = cache.as_ref() else {
                return false;
            };
            let key = crate::unchanged::inputs_key(c.stamp(), &self.cfg, ingest, &out_dir);
            let earlier = key
                .as_deref()
                .and_then(|k| crate::unchanged::earlier_if_same(&out_dir, k));
            let done = earlier.is_some();
            *seen.lock().expect("not poisoned") = (key, earlier);
            done
        };
        let mut data = self.execute_excluding(
            progress,
            std::slice::from_ref(&out_dir),
            cache.as_ref(),
            Some(&out_dir),
            &done_after,
        )?;
        let (inputs_key, earlier) = seen.into_inner().expect("not poisoned");
        // What this run reports whether or not it writes the outputs: the rest is filled in
        // below, or taken from the last run's report.
        let mut report = RunReport {
            tool: "diaoyan",
            version: env!("CARGO_PKG_VERSION").to_owned(),
            name: self.cfg.name.clone(),
            started,
            seconds: 0.0,
            threads: self.pool.current_num_threads(),
            stages: data.timings.clone(),
            writing: Vec::new(),
            steps: Vec::new(),
            counts: Counts::default(),
            outputs: Vec::new(),
            cleaned,
            stale_lock: lock.taken_over.clone(),
            reviews: crate::Reviews::default(),
            index: None,
            cache: data.cache.clone(),
            config: self.cfg.clone(),
            unchanged: false,
            inputs_key,
            output_prints: Vec::new(),
        };
        if let Some(earlier) = earlier {
            report.steps = timed.finished();
            let mut report = crate::unchanged::report(earlier, report);
            report.seconds = t0.elapsed().as_secs_f64();
            // Only the report is written again (in place, atomically); the outputs it lists
            // and their sizes and times are the last run's.
            diaoyan_digest::write_json(&out_dir.join("run.json"), &report)?;
            drop(lock);
            let _ = std::thread::Builder::new()
                .name("diaoyan-free".to_owned())
                .spawn(move || drop(data));
            return Ok(report);
        }
        report.reviews = crate::review::load(
            &out_dir,
            &data.ingest.submissions,
            data.suggest.as_ref().map_or(&[], |s| s.issues.as_slice()),
        );
        report.counts = counts(&data);
        // Everything is written to a staging folder first and moved into place at the end:
        // a failed or killed run leaves the previous outputs whole.
        let staging = outputs::staging_dir(&out_dir)?;
        report.outputs = outputs::write_all(
            staging.path(),
            &mut data,
            &report.reviews,
            self.segmenter(),
            progress,
            &mut report.index,
            &mut report.writing,
            outputs::XLSX_MAX_ROWS,
        )?;
        progress.finish();
        report.steps = timed.finished();
        // Each output as written, for the next run to see whether it is still so (renaming
        // into place keeps sizes and times). Without them the next run cannot leave the
        // outputs as they are, so neither can it without the key.
        if report.inputs_key.is_some() {
            match crate::unchanged::prints(staging.path(), &report.outputs) {
                Some(p) => report.output_prints = p,
                None => report.inputs_key = None,
            }
        }
        report.outputs.push("run.json".to_owned());
        report.seconds = t0.elapsed().as_secs_f64();
        diaoyan_digest::write_json(&staging.path().join("run.json"), &report)?;
        outputs::publish(staging.path(), &out_dir, &report.outputs)?;
        drop(staging);
        drop(lock);
        // The run's data is freed on a thread of its own: the caller has its report now, and a
        // process that ends here need not wait for millions of small frees (10k documents: about
        // 0.1–0.25 s of a re-run's few seconds; at 1M many seconds). If no thread can be started
        // the data is freed here, as before.
        let _ = std::thread::Builder::new()
            .name("diaoyan-free".to_owned())
            .spawn(move || drop(data));
        Ok(report)
    }

    /// Runs every configured stage and returns the results in memory, writing nothing.
    pub fn execute(&self, progress: &dyn Progress) -> Result<RunData> {
        self.execute_excluding(progress, &[], None, None, &|_| false)
    }

    /// [`Pipeline::execute`], never reading the folders in `exclude` (the run's own outputs).
    /// With `keep_out` (the output folder), the texts leave memory before the reading pass
    /// ([`crate::texts::Kept`]) when the text stage runs (its counts stand in for the texts where
    /// the digest counts characters). The stages after ingest are left out when `done_after`
    /// says, from what ingest read, that there is nothing more to do.
    fn execute_excluding(
        &self,
        progress: &dyn Progress,
        exclude: &[PathBuf],
        cache: Option<&crate::cache::Cache>,
        keep_out: Option<&std::path::Path>,
        done_after: &(dyn Fn(&IngestOutput) -> bool + Sync),
    ) -> Result<RunData> {
        let keep_out = keep_out.filter(|_| self.cfg.stages.contains(&StageName::Text));
        let input: PathBuf = self.cfg.input.clone().unwrap_or_default();
        let ingest_cfg = diaoyan_ingest::IngestConfig {
            exclude: exclude.to_vec(),
            ..self.cfg.ingest.clone()
        };
        let mut timings = Vec::new();
        let mut data: Option<RunData> = None;
        let mut cache_use = cache.map(|c| crate::cache::CacheUse {
            stamp: c.stamp().to_owned(),
            ..Default::default()
        });
        let mut reading: Option<Reading> = None;
        // What was read from the input files is written for the next run on a thread of its
        // own as ingest goes ([`crate::cache::KeepingFiles`]); the end of it is waited for at
        // the end.
        let mut saving: Option<std::thread::JoinHandle<bool>> = None;
        // Set by ingest when `done_after` finds nothing more to do: the later stages are left.
        let mut nothing_left = false;
        let done = self.pool.install(|| -> Result<()> {
            for &stage in &self.cfg.stages {
                let t = Instant::now();
                match stage {
                    StageName::Ingest => {
                        progress.start(stage.label(), 0);
                        // Files unchanged since the last run are not read again. What the
                        // last run read is loaded while the input folder is walked; what this
                        // run reads is written out as ingest goes.
                        let (earlier, keeping) = cache.map(|c| c.files_memo()).unzip();
                        let memo = earlier
                            .zip(keeping.as_ref())
                            .map(|(load, k)| (load, k as &dyn diaoyan_ingest::KeepFiles));
                        let (out, used) = diaoyan_ingest::ingest_memo(
                            &input,
                            &ingest_cfg,
                            &|tick| match tick {
                                diaoyan_ingest::Tick::Found(n) => progress.set_total(n as u64),
                                diaoyan_ingest::Tick::Read => progress.advance(1),
                            },
                            memo,
                        )?;
                        if let (Some(k), Some(u)) = (keeping, used) {
                            let reuse = crate::cache::Reuse::from(u);
                            saving = k.finish(reuse.changed());
                            if let Some(cu) = cache_use.as_mut() {
                                cu.files = Some(reuse);
                            }
                        }
                        nothing_left = done_after(&out);
                        data = Some(RunData {
                            ingest: out,
                            stats: None,
                            references: Vec::new(),
                            score: None,
                            suggest: None,
                            timings: Vec::new(),
                            cache: None,
                            kept: None,
                        });
                    }
                    StageName::Text => {
                        let (Some(d), Some(_)) = (data.as_mut(), self.segmenter.as_ref()) else {
                            return Err(missing(stage));
                        };
                        let read =
                            self.read_once(&mut reading, d, cache, progress, stage, keep_out);
                        let (stats, reuse) = read.stats.take().expect("read for the text stage");
                        if let Some(u) = cache_use.as_mut() {
                            u.text = reuse;
                        }
                        d.stats = Some(stats);
                    }
                    StageName::Score => {
                        let (Some(d), Some(scorer)) = (data.as_mut(), self.scorer.as_ref()) else {
                            return Err(missing(stage));
                        };
                        d.references = self.references(&mut d.ingest.errors)?;
                        let read =
                            self.read_once(&mut reading, d, cache, progress, stage, keep_out);
                        let (mut analyses, reuse) =
                            read.analyses.take().expect("read for the score stage");
                        let found = read.found.as_ref().and_then(|f| f.0.in_memory());
                        read.empty = Some(EmptySpans::take_from(&mut analyses, found));
                        // A large run's findings wait in a file while copy detection and
                        // judgement run.
                        if let (Some(dir), true) = (keep_out, d.kept.is_some())
                            && let Some((found, reuse)) = read.found.take()
                        {
                            read.found = Some((found.keep_out(dir, progress), reuse));
                        }
                        let tick = |t| match t {
                            diaoyan_score::Tick::Measured | diaoyan_score::Tick::Compared => {
                                progress.advance(1)
                            }
                            diaoyan_score::Tick::Comparing(n) => {
                                progress.finish();
                                progress.start("抄袭比对", n as u64);
                            }
                        };
                        let subs = &d.ingest.submissions;
                        if let Some(u) = cache_use.as_mut() {
                            u.score = reuse;
                        }
                        // Copy detection takes over the fingerprints of unchanged texts and
                        // the pairs of unchanged texts it verified last time.
                        let mut memo = cache.map(|c| c.load_copies(progress));
                        let kept = memo
                            .as_ref()
                            .map_or((0, 0), |m| (m.pairs.len(), m.prints.len()));
                        let all: &[diaoyan_model::Submission] = subs;
                        let texts = d.kept().unwrap_or(&all);
                        d.score = Some(scorer.score_kept(
                            subs,
                            texts,
                            analyses,
                            &d.references,
                            &d.ingest.roster,
                            memo.as_mut(),
                            &tick,
                        ));
                        // Rewritten when a text was fingerprinted or a pair verified afresh,
                        // or one dropped.
                        if let (Some(c), Some(m), Some(sc)) = (cache, &memo, &d.score) {
                            let stats = &sc.copy_stats;
                            if stats.measured > 0
                                || stats.fingerprinted > 0
                                || (m.pairs.len(), m.prints.len()) != kept
                            {
                                c.save_copies(m);
                            }
                        }
                    }
                    StageName::Suggest => {
                        let (Some(d), Some(sg)) = (data.as_mut(), self.suggester.as_ref()) else {
                            return Err(missing(stage));
                        };
                        let read =
                            self.read_once(&mut reading, d, cache, progress, stage, keep_out);
                        let (found, reuse) = read.found.take().expect("read for the suggest stage");
                        let (found, count, total) = found.read_back();
                        assert_eq!(count, d.ingest.submissions.len(), "one finding each");
                        let empty = read.empty.take().unwrap_or_default();
                        let judged: Option<Vec<diaoyan_suggest::Judged>> =
                            d.score.as_ref().map(|s| {
                                s.assessments
                                    .iter()
                                    .enumerate()
                                    .map(|(i, a)| diaoyan_suggest::Judged {
                                        verdict: a.verdict,
                                        empty: empty.get(i),
                                    })
                                    .collect()
                            });
                        let tick = |t| match t {
                            diaoyan_suggest::Tick::Read => progress.advance(1),
                            diaoyan_suggest::Tick::Clustering(n) => {
                                progress.finish();
                                progress.start("意见聚类", n as u64);
                            }
                            diaoyan_suggest::Tick::Step(name, n) => {
                                progress.finish();
                                progress.start(name, n as u64);
                            }
                            diaoyan_suggest::Tick::Done(n) => progress.advance(n as u64),
                        };
                        let subs = &d.ingest.submissions;
                        if let Some(u) = cache_use.as_mut() {
                            u.suggest = reuse;
                        }
                        d.suggest = Some(sg.run_found_from(
                            subs,
                            d.kept_shared(),
                            found,
                            total,
                            judged.as_deref(),
                            &tick,
                        ));
                    }
                }
                progress.finish();
                timings.push(StageTiming {
                    stage,
                    seconds: t.elapsed().as_secs_f64(),
                });
                if nothing_left {
                    break;
                }
            }
            Ok(())
        });
        if let Some(h) = saving {
            // A failed save costs only the next run's time.
            let _ = h.join();
        }
        done?;
        let mut data = data.expect("validate() guarantees an ingest stage");
        data.timings = timings;
        data.cache = cache_use;
        Ok(data)
    }

    /// What the text, score and suggest stages read in each text on its own, read at the first
    /// of them in one pass that segments each text once ([`Segmenter::tag_text`]); each stage
    /// takes its part. The pass has its progress bar ([`READING`] when it reads for several
    /// stages); a later stage's bars are those of its run-wide steps.
    ///
    /// With `keep_out`, texts more than `texts_in_memory_mb` leave memory before the pass, once
    /// the cache has keyed them ([`keep_texts_out`]), and the pass reads each back as it comes
    /// to it: held through the pass beside what it finds, they were its peak (1M documents:
    /// 1.7 GB of 4.9 GB).
    fn read_once<'r>(
        &self,
        reading: &'r mut Option<Reading>,
        d: &mut RunData,
        cache: Option<&crate::cache::Cache>,
        progress: &dyn Progress,
        stage: StageName,
        keep_out: Option<&std::path::Path>,
    ) -> &'r mut Reading {
        if reading.is_none() {
            // One stage's reading goes by its name; several stages' by what they share.
            let readers = [StageName::Text, StageName::Score, StageName::Suggest]
                .iter()
                .filter(|s| self.cfg.stages.contains(s))
                .count();
            let label = if readers > 1 { READING } else { stage.label() };
            progress.start(label, d.ingest.submissions.len() as u64);
        }
        reading.get_or_insert_with(|| self.read(d, cache, keep_out, &|| progress.advance(1)))
    }

    /// The pass of [`Pipeline::read_once`]: each stage's results kept in the cache are taken
    /// over; a text any stage must read afresh is tagged once and read by each such stage.
    ///
    /// Once the cache has keyed the texts, before the pass, they may leave memory for a file in
    /// `keep_out` ([`keep_texts_out`]); the pass then reads each back.
    fn read(
        &self,
        d: &mut RunData,
        cache: Option<&crate::cache::Cache>,
        keep_out: Option<&std::path::Path>,
        tick: &(dyn Fn() + Sync),
    ) -> Reading {
        use crate::cache::{Kept, suggest_keys, text_keys};
        use rayon::prelude::*;
        let seg = self
            .segmenter
            .as_ref()
            .expect("the text, score and suggest stages have a segmenter");
        let text = self.cfg.stages.contains(&StageName::Text);
        let (scorer, suggester) = (self.scorer.as_ref(), self.suggester.as_ref());
        // A stage that does not run reads nothing and keeps nothing.
        let on = [text, scorer.is_some(), suggester.is_some()];
        let of = |i: usize| cache.filter(|_| on[i]);
        // The cache's keys are made from the texts in memory; only then may they leave it, and
        // only then are the cache's files decoded (a 1M re-run decoded them beside the texts:
        // 1.7 GB more at its peak).
        let n = d.ingest.submissions.len();
        let (text_keys, suggest_keys) = match cache {
            Some(_) => {
                let subs = &d.ingest.submissions;
                rayon::join(
                    || {
                        if on[0] || on[1] {
                            text_keys(subs)
                        } else {
                            Vec::new()
                        }
                    },
                    || {
                        if on[2] {
                            suggest_keys(subs)
                        } else {
                            Vec::new()
                        }
                    },
                )
            }
            None => (Vec::new(), Vec::new()),
        };
        keep_texts_out(d, keep_out, self.cfg.texts_in_memory_mb, &text_keys);
        // The three stages' files are decoded side by side (a re-run at 100k: 0.45 s one after
        // the other).
        let stats_keys = if on[0] { text_keys.clone() } else { Vec::new() };
        let (mut ks, (mut ka, mut kf)) = rayon::join(
            || Kept::<TextStats>::load(of(0), "text", stats_keys, n),
            || {
                rayon::join(
                    || Kept::<diaoyan_score::Analysis>::load(of(1), "score", text_keys, n),
                    || Kept::<diaoyan_suggest::Found>::load(of(2), "suggest", suggest_keys, n),
                )
            },
        );
        let (subs, kept) = (&d.ingest.submissions, d.kept());
        let (ts, ta, tf) = (ks.take(), ka.take(), kf.take());
        let read = [
            if on[0] { to_read(&ts) } else { 0 },
            if on[1] { to_read(&ta) } else { 0 },
            if on[2] { to_read(&tf) } else { 0 },
        ];
        #[allow(clippy::type_complexity)]
        let (stats, (analyses, found)): (
            Vec<Option<TextStats>>,
            (
                Vec<Option<diaoyan_score::Analysis>>,
                Vec<Option<diaoyan_suggest::Found>>,
            ),
        ) = subs
            .par_iter()
            .zip(ts)
            .zip(ta)
            .zip(tf)
            // Pieces of at most this many submissions: a worker left with a long piece at the
            // end read on alone (4 s at 1M with the other core idle), as a piece being read
            // cannot be shared.
            .with_max_len(READ_PIECE)
            .enumerate()
            .map(|(i, (((s, st), an), fo))| {
                let need = text && st.is_none()
                    || scorer.is_some() && an.is_none()
                    || suggester.is_some() && fo.is_none();
                // A text kept out of memory is read back, into a copy of its submission.
                let back = kept.filter(|_| need).map(|k| diaoyan_model::Submission {
                    text: k.text(i).into_owned().into(),
                    ..s.clone()
                });
                let s = back.as_ref().unwrap_or(s);
                let tagged = need.then(|| seg.tag_text(&s.text));
                let tagged = || tagged.as_ref().expect("tagged when something is read");
                let st = text.then(|| st.unwrap_or_else(|| text_stats(tagged())));
                let an = scorer.map(|sc| an.unwrap_or_else(|| sc.analyse_tagged(tagged())));
                let fo = suggester.map(|sg| fo.unwrap_or_else(|| sg.find_tagged(s, tagged())));
                tick();
                (st, (an, fo))
            })
            .unzip();
        // Each stage's results kept (and its cache file written) side by side.
        let keep_stats = || {
            on[0].then(|| {
                let stats: Vec<TextStats> = stats.into_iter().flatten().collect();
                let reuse = ks.finish(of(0), &stats, read[0]);
                (stats, reuse)
            })
        };
        let keep_analyses = || {
            on[1].then(|| {
                let analyses: Vec<diaoyan_score::Analysis> =
                    analyses.into_iter().flatten().collect();
                let reuse = ka.finish(of(1), &analyses, read[1]);
                (analyses, reuse)
            })
        };
        let keep_found = || {
            on[2].then(|| {
                let found: Vec<diaoyan_suggest::Found> = found.into_iter().flatten().collect();
                let reuse = kf.finish(of(2), &found, read[2]);
                (Findings::Here(found), reuse)
            })
        };
        let (stats, (analyses, found)) =
            rayon::join(keep_stats, || rayon::join(keep_analyses, keep_found));
        Reading {
            stats,
            analyses,
            found,
            empty: None,
        }
    }

    /// The segmenter this pipeline built (when a stage needs words).
    pub fn segmenter(&self) -> Option<&Segmenter> {
        self.segmenter.as_ref()
    }

    /// The suggester this pipeline built (when it has a suggest stage).
    pub fn suggester(&self) -> Option<&diaoyan_suggest::Suggester> {
        self.suggester.as_ref()
    }

    /// The scorer this pipeline built (when it has a score stage).
    pub fn scorer(&self) -> Option<&diaoyan_score::Scorer> {
        self.scorer.as_ref()
    }
}

impl Pipeline {
    fn references(
        &self,
        errors: &mut Vec<diaoyan_model::FileError>,
    ) -> Result<Vec<diaoyan_model::Submission>> {
        read_references(&self.cfg, errors)
    }
}

/// Reads the reference folders (templates, earlier reports) named in `[score.copy]`. A
/// reference file that cannot be read is recorded like any other bad file.
pub(crate) fn read_references(
    cfg: &PipelineConfig,
    errors: &mut Vec<diaoyan_model::FileError>,
) -> Result<Vec<diaoyan_model::Submission>> {
    {
        let mut refs = Vec::new();
        for dir in &cfg.score.copy.references {
            let out = diaoyan_ingest::ingest(dir, &cfg.ingest)?;
            let prefix = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for mut s in out.submissions {
                s.path = format!("{prefix}/{}", s.path).into();
                refs.push(s);
            }
            errors.extend(out.errors.into_iter().map(|mut e| {
                e.path = format!("{}/{}", dir.display(), e.path);
                e
            }));
        }
        Ok(refs)
    }
}

/// The texts leave memory for an unnamed file in `keep_out` ([`crate::texts::Kept`]) when
/// there are more than `in_memory_mb` megabytes of them (`texts_in_memory_mb`): called once,
/// by the reading pass, after the cache has keyed them and before any text is read.
fn keep_texts_out(
    d: &mut RunData,
    keep_out: Option<&std::path::Path>,
    in_memory_mb: u64,
    digests: &[u128],
) {
    if let (Some(dir), None) = (keep_out, &d.kept) {
        let bytes: u64 = d
            .ingest
            .submissions
            .iter()
            .map(|s| s.text.len() as u64)
            .sum();
        if bytes > in_memory_mb.saturating_mul(1 << 20) {
            d.kept = crate::texts::Kept::take(&mut d.ingest.submissions, dir, digests.to_vec())
                .map(Into::into);
        }
    }
}

/// A listed stage whose resources were not built: a bug, reported rather than skipped.
fn missing(stage: StageName) -> Error {
    Error::Config {
        path: stage.label().to_owned(),
        reason: "内部错误：该阶段未能初始化，请将配置文件提供给维护人员".into(),
    }
}

/// Most submissions one worker reads as a piece in the reading pass (see `read_once`).
const READ_PIECE: usize = 64;

/// The progress bar of the pass that reads each text once for several stages.
const READING: &str = "逐份阅读";

/// How many results are still to be read.
fn to_read<T>(taken: &[Option<T>]) -> usize {
    taken.iter().filter(|t| t.is_none()).count()
}

/// Each stage's part of [`Pipeline::read`]: the results (aligned with the submissions) and, with
/// a cache, how it was used.
#[derive(Default)]
struct Reading {
    stats: Option<(Vec<TextStats>, Option<crate::cache::Reuse>)>,
    analyses: Option<(Vec<diaoyan_score::Analysis>, Option<crate::cache::Reuse>)>,
    found: Option<(Findings, Option<crate::cache::Reuse>)>,
    /// What the score stage leaves for the suggest stage: each submission's sentences that
    /// state nothing about the place ([`diaoyan_score::Analysis::empty`]).
    empty: Option<EmptySpans>,
}

/// What the reading pass found for the suggest stage, one [`diaoyan_suggest::Found`] per
/// submission: in memory, or moved to a file while copy detection and judgement run, when the
/// run keeps its texts out of memory ([`crate::texts::KeptFound`]).
enum Findings {
    Here(Vec<diaoyan_suggest::Found>),
    Kept(crate::texts::KeptFound),
}

impl Findings {
    /// The findings, when they are in memory.
    fn in_memory(&self) -> Option<&[diaoyan_suggest::Found]> {
        match self {
            Findings::Here(found) => Some(found),
            Findings::Kept(_) => None,
        }
    }

    /// The findings moved to an unnamed file in `dir`, or left in memory when it cannot be
    /// written; the move has its own bar (暂存意见: one unit a finding).
    fn keep_out(self, dir: &std::path::Path, progress: &dyn crate::Progress) -> Findings {
        match self {
            Findings::Here(found) => {
                progress.start("暂存意见", found.len() as u64);
                let moved = crate::texts::KeptFound::take(found, dir, &|n| {
                    progress.advance(n as u64);
                });
                progress.finish();
                match moved {
                    Ok(kept) => Findings::Kept(kept),
                    Err(found) => Findings::Here(found),
                }
            }
            kept => kept,
        }
    }

    /// The findings in order, with how many there are and how many suggestions they hold.
    fn read_back(
        self,
    ) -> (
        Box<dyn Iterator<Item = diaoyan_suggest::Found>>,
        usize,
        usize,
    ) {
        match self {
            Findings::Here(found) => {
                let (count, total) = (found.len(), found.iter().map(|f| f.pieces.len()).sum());
                (Box::new(found.into_iter()), count, total)
            }
            Findings::Kept(kept) => {
                let (count, total) = kept.counts();
                (Box::new(kept.read_back()), count, total)
            }
        }
    }
}

/// Each submission's empty sentences ([`diaoyan_score::Analysis::empty`]) that meet one of its
/// suggestions — the only ones the suggest stage reads — in one vector cut by offsets: held
/// through the clustering, a vector per submission was a million small blocks at 1M documents.
#[derive(Default)]
struct EmptySpans {
    spans: Vec<(u32, u32)>,
    /// Where submission `i`'s spans end in `spans`.
    ends: Vec<usize>,
}

impl EmptySpans {
    /// Takes the empty sentences out of `analyses`, keeping those that meet a suggestion of
    /// `found` (aligned with them; all of them when the suggest stage read nothing).
    fn take_from(
        analyses: &mut [diaoyan_score::Analysis],
        found: Option<&[diaoyan_suggest::Found]>,
    ) -> EmptySpans {
        let mut e = EmptySpans {
            spans: Vec::new(),
            ends: Vec::with_capacity(analyses.len()),
        };
        for (i, a) in analyses.iter_mut().enumerate() {
            let spans = std::mem::take(&mut a.empty);
            match found.and_then(|f| f.get(i)) {
                Some(f) => e.spans.extend(
                    spans
                        .into_iter()
                        .filter(|&(a, b)| f.pieces.iter().any(|p| a < p.end && p.from < b)),
                ),
                None => e.spans.extend(spans),
            }
            e.ends.push(e.spans.len());
        }
        e.spans.shrink_to_fit();
        e
    }

    /// Submission `i`'s spans (none past the end).
    fn get(&self, i: usize) -> &[(u32, u32)] {
        let end = self.ends.get(i).copied().unwrap_or(0);
        let start = i
            .checked_sub(1)
            .and_then(|j| self.ends.get(j))
            .copied()
            .unwrap_or(0);
        &self.spans[start.min(end)..end]
    }
}

/// Counts characters, Han characters, sentences and words of one text (tagged once).
fn text_stats(tagged: &diaoyan_text::Tagged<'_>) -> TextStats {
    let text = tagged.text();
    let spans = diaoyan_text::sentences(text);
    let words = spans.iter().map(|s| tagged.count(s.start, s.end)).sum();
    TextStats {
        chars: text.chars().count(),
        han: text.chars().filter(|&c| diaoyan_text::is_han(c)).count(),
        sentences: spans.len(),
        words,
    }
}

fn counts(d: &RunData) -> Counts {
    let subs = &d.ingest.submissions;
    let mut c = Counts {
        files_seen: d.ingest.files_seen,
        submissions: subs.len(),
        errors: d.ingest.errors.len(),
        with_warnings: subs.iter().filter(|s| !s.warnings.is_empty()).count(),
        metadata_files: d.ingest.metadata_files.clone(),
        roster: d.ingest.roster.len(),
        skipped: d.ingest.skipped.len(),
        skipped_files: d.ingest.skipped.clone(),
        skipped_outputs: d.ingest.skipped_outputs.clone(),
        text_bytes: match &d.kept {
            Some(k) => k.bytes(),
            None => subs.iter().map(|s| s.text.len()).sum(),
        },
        texts_in_file: d.kept.is_some(),
        ..Counts::default()
    };
    for s in subs {
        let k = s.kind.map_or("unknown", |k| k.as_str());
        *c.by_kind.entry(k.to_owned()).or_default() += 1;
        *c.by_encoding.entry(s.encoding.clone()).or_default() += 1;
    }
    if let Some(sc) = &d.score {
        for a in &sc.assessments {
            *c.verdicts.entry(a.verdict.as_str().to_owned()).or_default() += 1;
        }
        c.copy_pairs = sc.pairs.len();
        c.copy = Some(sc.copy_stats);
        c.cadres = sc.cadres.len();
    }
    c.references = d.references.len();
    if let Some(sg) = &d.suggest {
        c.suggestions = sg.suggestions.len();
        c.issues = sg.issues.len();
        for s in &sg.suggestions {
            *c.by_theme.entry(s.theme.to_string()).or_default() += 1;
        }
    }
    if let Some(stats) = &d.stats {
        c.sentences = stats.iter().map(|s| s.sentences).sum();
        c.words = stats.iter().map(|s| s.words).sum();
    }
    c
}

/// A [`Progress`] for tests that records every bar: its name, its total, the units reported
/// done and whether it was finished.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct Recorder(pub(crate) std::sync::Mutex<Vec<(String, u64, u64, bool)>>);

#[cfg(test)]
impl Progress for Recorder {
    fn start(&self, stage: &str, total: u64) {
        self.0
            .lock()
            .unwrap()
            .push((stage.to_owned(), total, 0, false));
    }
    fn set_total(&self, total: u64) {
        if let Some(b) = self.0.lock().unwrap().last_mut() {
            b.1 = total;
        }
    }
    fn advance(&self, n: u64) {
        if let Some(b) = self.0.lock().unwrap().last_mut() {
            b.2 += n;
        }
    }
    fn finish(&self) {
        if let Some(b) = self.0.lock().unwrap().last_mut() {
            b.3 = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The suggest stage is handed the empty sentences that meet a suggestion, per submission,
    /// in order; the others are let go, and so are the analyses' own copies.
    #[test]
    fn empty_sentences_kept_are_those_meeting_a_suggestion() {
        let piece = |from: u32, end: u32| diaoyan_suggest::FoundPiece {
            start: from.saturating_sub(3),
            end,
            voice: diaoyan_model::Voice::Cadre,
            from,
            theme_group: Default::default(),
            theme: Default::default(),
            words: Box::default(),
            places: Vec::new(),
        };
        let found = |pieces: Vec<diaoyan_suggest::FoundPiece>| diaoyan_suggest::Found {
            pieces,
            ..Default::default()
        };
        let analysis = |empty: Vec<(u32, u32)>| diaoyan_score::Analysis {
            empty,
            ..Default::default()
        };
        let mut analyses = vec![
            analysis(vec![(0, 10), (10, 20), (30, 40)]),
            analysis(vec![]),
            analysis(vec![(5, 9)]),
        ];
        let found = [
            found(vec![piece(12, 35)]),
            found(vec![piece(0, 50)]),
            found(vec![]),
        ];
        let e = EmptySpans::take_from(&mut analyses, Some(&found));
        assert_eq!(e.get(0), [(10, 20), (30, 40)]);
        assert!(e.get(1).is_empty() && e.get(2).is_empty() && e.get(3).is_empty());
        assert!(analyses.iter().all(|a| a.empty.is_empty()));
        let mut analyses = vec![analysis(vec![(0, 10)]), analysis(vec![(3, 4)])];
        let all = EmptySpans::take_from(&mut analyses, None);
        assert_eq!((all.get(0), all.get(1)), (&[(0, 10)][..], &[(3, 4)][..]));
    }

    #[test]
    fn every_listed_stage_runs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("意见.csv"),
            "编号,内容\n1,三组机耕路坑洼不平，雨天没法走\n",
        )
        .unwrap();
        for stages in [
            vec![StageName::Ingest, StageName::Suggest],
            vec![StageName::Ingest, StageName::Score],
            vec![
                StageName::Ingest,
                StageName::Text,
                StageName::Score,
                StageName::Suggest,
            ],
        ] {
            let cfg = PipelineConfig {
                input: Some(dir.path().to_path_buf()),
                stages: stages.clone(),
                ..PipelineConfig::default()
            };
            let data = cfg.build().unwrap().execute(&NoProgress).unwrap();
            let ran: Vec<StageName> = data.timings.iter().map(|t| t.stage).collect();
            assert_eq!(ran, stages);
            assert_eq!(data.suggest.is_some(), stages.contains(&StageName::Suggest));
            assert_eq!(data.score.is_some(), stages.contains(&StageName::Score));
        }
    }

    /// Issue 12: every stage reports real units, and each bar ends full — never `0/0`.
    #[test]
    fn every_stage_reports_units_done_of_a_known_total() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        std::fs::create_dir(&input).unwrap();
        for i in 0..6 {
            std::fs::write(
                input.join(format!("手记{i}.txt")),
                format!(
                    "第{i}天，走访石桥村{i}组。群众反映机耕路坑洼不平，建议硬化。全组共{}户。",
                    30 + i
                ),
            )
            .unwrap();
        }
        let cfg = PipelineConfig {
            input: Some(input),
            out: dir.path().join("out"),
            ..PipelineConfig::default()
        };
        let rec = Recorder::default();
        let report = cfg.build().unwrap().run(&rec).unwrap();
        let bars = rec.0.into_inner().unwrap();
        // run.json times each bar, in order, with its units.
        let steps: Vec<(&str, u64)> = report
            .steps
            .iter()
            .map(|s| (s.step.as_str(), s.units))
            .collect();
        let shown: Vec<(&str, u64)> = bars.iter().map(|b| (b.0.as_str(), b.1)).collect();
        assert_eq!(steps, shown);
        // The bars follow one another: their times fit in the run's.
        let timed: f64 = report.steps.iter().map(|s| s.seconds).sum();
        assert!(
            timed <= report.seconds,
            "{timed} s of steps in a {} s run",
            report.seconds
        );
        let names: Vec<&str> = bars.iter().map(|b| b.0.as_str()).collect();
        // The run-wide steps of clustering each have their bar when they have work to do.
        // Each text is read once for the text, score and suggest stages (逐份阅读); the score
        // and suggest stages then show their run-wide steps, the suggest stage's first one
        // building the suggestions from what the reading found (整理意见).
        let (first, rest) = names.split_at(6);
        assert_eq!(
            first,
            [
                "读取材料",
                "逐份阅读",
                "抄袭比对",
                "整理意见",
                "意见聚类",
                "候选配对"
            ],
            "{names:?}"
        );
        let (last, middle) = rest.split_last().expect("a bar for the outputs");
        assert_eq!(*last, "写出结果");
        for name in middle {
            assert!(
                ["相似核对", "问题归并", "问题汇总", "专题归并"].contains(name),
                "{names:?}"
            );
        }
        for (name, total, done, _) in &bars {
            assert!(*total > 0, "{name}: no total");
            assert_eq!(done, total, "{name}");
        }
        // The lists are written side by side, yet timed and listed in a fixed order, each a
        // whole file: its header and one line a submission.
        let parts: Vec<&str> = report.writing.iter().map(|w| w.part).collect();
        assert_eq!(
            parts,
            [
                "submissions",
                "flags",
                "suggestions",
                "index",
                "digest",
                "workbook"
            ]
        );
        assert_eq!(
            report.outputs[..10],
            [
                "submissions.csv",
                "submissions.jsonl",
                "ingest_errors.csv",
                "flags.csv",
                "duplicates.csv",
                "cadres.csv",
                "suggestions.csv",
                "issues.csv",
                "topics.csv",
                "index/",
            ]
        );
        let out = dir.path().join("out");
        let lines = |name: &str| {
            std::fs::read_to_string(out.join(name))
                .unwrap()
                .lines()
                .count()
        };
        assert_eq!(lines("submissions.csv"), 7);
        assert_eq!(lines("submissions.jsonl"), 6);
        assert_eq!(lines("flags.csv"), 7);
        assert!(lines("suggestions.csv") > 1);
    }
}
