//! Substance scoring: signals per submission, copy detection, campaign rules → a score, a verdict
//! and Chinese reasons with evidence.
//!
//! Signals are measured once per text ([`Signals`]: sentence roles, concrete facts per 1,000
//! characters, suggestions, diversity, repeats, template blanks), copying is detected across the
//! whole run and against reference texts, and only then is each submission judged: a 0–100
//! score (more substance = higher) and `pass | review | redo`. The judgement is a small,
//! documented formula over the signals with thresholds from the pipeline file, so every verdict
//! can be explained by the reasons printed next to it.
//!
//! ```
//! use diaoyan_score::ScoreConfig;
//! let scorer = ScoreConfig::default().build(diaoyan_text::Segmenter::builtin()).unwrap();
//! let hollow = scorer.assess_text("高度重视，精心组织，确保各项工作落到实处。进一步提高政治站位，切实增强责任感和使命感。", None);
//! let real = scorer.assess_text("石桥村三组到镇上的机耕路有两处塌方，去年秋收时翻了一台农用车。全村共320户，走访了24户。建议把三组机耕路纳入明年硬化计划。", None);
//! assert!(real.score > hollow.score);
//! ```

mod copy;
mod findings;
mod learn;
mod lexicon;
mod rules;
mod scan;
mod signals;

pub use findings::Role;
pub use learn::{CvFigures, FEATURES, Label, Labelled, ScoreModel, auc, choose_lines, figures};
pub use signals::{Analysis, Sentence};

pub use copy::{
    CopyConfig, CopyDoc, CopyMemo, CopyProbe, CopyStats, DocText, Measured, PairKey, PairMemo,
    Print,
};

/// A xorshift generator for the tests' made-up inputs: the same sequence from the same seed,
/// every run. (diaoyan-suggest's tests have the same six lines: test code is not shared
/// between crates, and a crate of test helpers for it is not worth a dependency.)
#[cfg(test)]
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// Copy detection on its own (what [`Scorer::score`] runs inside), for tools and benchmarks.
pub fn detect_copies(docs: &[CopyDoc], cfg: &CopyConfig) -> (Vec<CopyPair>, CopyStats) {
    copy::detect_with(docs, cfg, None, &|| {})
}

/// [`detect_copies`] taking over what an earlier run left in `memo` and leaving this run's
/// there (see [`CopyMemo`]).
pub fn detect_copies_with(
    docs: &[CopyDoc],
    cfg: &CopyConfig,
    memo: Option<&mut CopyMemo>,
) -> (Vec<CopyPair>, CopyStats) {
    copy::detect_with(docs, cfg, memo, &|| {})
}
pub use diaoyan_model::{Assessment, CadreReport, CopyPair, Reason, Signals, Verdict};
pub use rules::{CategoryRule, RulesConfig};

use diaoyan_model::{Cadre, CopyDirection, Kind, Shared, Submission, Texts};
use diaoyan_text::{Segmenter, Tagged};
use lexicon::{Boilerplate, Concrete};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;

/// One body sentence as the scorer read it.
#[derive(Debug, Clone, PartialEq)]
pub struct SentenceRole {
    /// First byte in the text.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Its role.
    pub role: Role,
    /// Findings it states.
    pub findings: usize,
    /// The words that make its findings.
    pub evidence: Vec<String>,
}

/// Errors building a scorer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A lexicon file could not be read.
    #[error("无法读取词表 {path}：{reason}")]
    Lexicon {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The scoring model cannot be used.
    #[error("评分模型 {path} 无法使用：{reason}")]
    Model {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A lexicon has lines that cannot be used.
    #[error("词表 {path} 有误：{problems}")]
    BadLexicon {
        /// The file.
        path: String,
        /// What is wrong, line by line.
        problems: String,
    },
}

/// The score crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// The `[score]` table of a pipeline file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreConfig {
    /// Boilerplate lexicon (`category<TAB>phrase`, `re:` for patterns); default: built in.
    pub boilerplate: Option<PathBuf>,
    /// Concrete-object lexicon; default: built in.
    pub concrete: Option<PathBuf>,
    /// Sentence-role lexicon (过程, 感受, 问题, 口号, 泛称, 套名); default: built in.
    pub roles: Option<PathBuf>,
    /// Scoring model from `diaoyan train-scorer`; default: the built-in one, fitted on real
    /// labelled field notes and reports.
    pub model: Option<PathBuf>,
    /// Below this score a submission is sent back (default: the model's line).
    pub redo_below: Option<f64>,
    /// Below this score a submission goes to review (default: the model's line).
    pub review_below: Option<f64>,
    /// A text shorter than this (characters) is never sent back on its score alone: too short
    /// to judge, it goes to review (default 150).
    pub redo_min_chars: usize,
    /// Share of slogan, process and feeling sentences a low-scoring text needs to be sent back
    /// (default 0.15); below it, a text without findings goes to review.
    pub redo_hollow_share: f64,
    /// Blanked figures (xx户) that send a text back when they outnumber its real figures
    /// (default 3).
    pub placeholders_redo: usize,
    /// Repeated sentences within one text that call for review (default 3), when they are also
    /// at least `repeats_share` of its sentences (default 0.15).
    pub repeats_review: usize,
    /// See `repeats_review`.
    pub repeats_share: f64,
    /// Length under this share of the kind's median calls for review (default 0.25).
    pub short_review: f64,
    /// Copy detection.
    pub copy: CopyConfig,
    /// Campaign rules.
    pub rules: RulesConfig,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        Self {
            boilerplate: None,
            concrete: None,
            roles: None,
            model: None,
            redo_below: None,
            review_below: None,
            redo_min_chars: 150,
            redo_hollow_share: 0.15,
            placeholders_redo: 3,
            repeats_review: 3,
            repeats_share: 0.15,
            short_review: 0.25,
            copy: CopyConfig::default(),
            rules: RulesConfig::default(),
        }
    }
}

/// A built scorer: lexicons compiled, segmenter shared.
pub struct Scorer {
    cfg: ScoreConfig,
    seg: Segmenter,
    boilerplate: Boilerplate,
    roles: findings::Roles,
    concrete: Concrete,
    model: ScoreModel,
    redo_below: f64,
    review_below: f64,
}

/// Progress events from [`Scorer::score_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// One more submission measured (sentence roles, findings).
    Measured,
    /// Copy detection starts over this many texts (submissions and references).
    Comparing(usize),
    /// One more text fingerprinted for copy detection.
    Compared,
}

/// Everything scoring a run produced.
#[derive(Debug, Clone, Default)]
pub struct ScoreOutput {
    /// One assessment per submission, in submission order.
    pub assessments: Vec<Assessment>,
    /// Copied pairs, most contained first.
    pub pairs: Vec<CopyPair>,
    /// One report per cadre.
    pub cadres: Vec<CadreReport>,
    /// Copy-detection work.
    pub copy_stats: CopyStats,
}

impl ScoreConfig {
    /// Loads the lexicons and returns a scorer.
    pub fn build(&self, seg: Segmenter) -> Result<Scorer> {
        let read = |p: &Option<PathBuf>, builtin: &str| -> Result<(String, String)> {
            match p {
                None => Ok(("内置词表".to_owned(), builtin.to_owned())),
                Some(p) => std::fs::read_to_string(p)
                    .map(|t| (p.display().to_string(), t))
                    .map_err(|e| Error::Lexicon {
                        path: p.display().to_string(),
                        reason: e.to_string(),
                    }),
            }
        };
        let (bp_path, bp_text) = read(&self.boilerplate, lexicon::BUILTIN_BOILERPLATE)?;
        let (boilerplate, bad) = Boilerplate::parse(&bp_text);
        if !bad.is_empty() {
            return Err(Error::BadLexicon {
                path: bp_path,
                problems: bad.join("；"),
            });
        }
        let (_, co_text) = read(&self.concrete, lexicon::BUILTIN_CONCRETE)?;
        let (ro_path, ro_text) = read(&self.roles, findings::BUILTIN_ROLES)?;
        let (roles, bad) = findings::Roles::parse(&ro_text);
        if !bad.is_empty() {
            return Err(Error::BadLexicon {
                path: ro_path,
                problems: bad.join("；"),
            });
        }
        let (mo_path, mo_text) = read(&self.model, learn::BUILTIN_MODEL)?;
        let model = ScoreModel::from_json(&mo_text).map_err(|reason| Error::Model {
            path: mo_path,
            reason,
        })?;
        Ok(Scorer {
            cfg: self.clone(),
            seg,
            boilerplate,
            roles,
            concrete: Concrete::parse(&co_text),
            redo_below: self.redo_below.unwrap_or(model.redo_below),
            review_below: self.review_below.unwrap_or(model.review_below),
            model,
        })
    }
}

/// Default length (characters) per kind, used when a run has too few texts of a kind to take
/// its own median.
fn default_norm(kind: Option<Kind>) -> f64 {
    match kind {
        Some(Kind::Note) => 400.0,
        Some(Kind::Report) => 1500.0,
        Some(Kind::Visit) => 400.0,
        Some(Kind::Minutes) => 600.0,
        Some(Kind::Talk) => 300.0,
        Some(Kind::Opinion) => 40.0,
        None => 400.0,
    }
}

/// Concrete suggestions a text of this kind is expected to carry (0 = not expected).
fn expected_suggestions(kind: Option<Kind>) -> usize {
    match kind {
        Some(Kind::Report) => 3,
        Some(Kind::Minutes) => 2,
        Some(Kind::Visit | Kind::Talk | Kind::Opinion) => 1,
        _ => 0,
    }
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn short(s: &str, n: usize) -> String {
    let s = s.trim();
    if s.chars().count() > n {
        format!("{}……", s.chars().take(n).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// A reason: its code shared, its text without spare capacity (held for every submission
/// until the last output).
fn reason(code: &'static str, mut text: String, severity: Verdict) -> Reason {
    text.shrink_to_fit();
    Reason {
        code: Reason::code_of(code),
        text,
        severity,
    }
}

impl Scorer {
    /// The place recogniser of this scorer's role lexicon (its generic words), for the stages
    /// that name places the same way.
    pub fn places(&self) -> &diaoyan_text::Places {
        self.roles.places()
    }

    /// The configuration the scorer was built from.
    pub fn config(&self) -> &ScoreConfig {
        &self.cfg
    }

    /// The scoring model in use.
    pub fn model(&self) -> &ScoreModel {
        &self.model
    }

    /// The redo and review lines in use.
    pub fn lines(&self) -> (f64, f64) {
        (self.redo_below, self.review_below)
    }

    fn analyze(&self, text: &str) -> signals::Analysis {
        self.analyze_tagged(&self.seg.tag_text(text))
    }

    fn analyze_tagged(&self, tagged: &Tagged<'_>) -> signals::Analysis {
        // Words from another dictionary would be other words: such a text is tagged again.
        let own;
        let tagged = if tagged.segmenter().fingerprint() == self.seg.fingerprint() {
            tagged
        } else {
            own = self.seg.tag_text(tagged.text());
            &own
        };
        signals::analyze(
            tagged,
            &self.seg,
            &self.boilerplate,
            &self.roles,
            &self.concrete,
        )
    }

    /// Measures one text (no judgement).
    pub fn signals(&self, text: &str) -> Signals {
        self.analyze(text).signals
    }

    /// Every sentence of a text's body with its role and findings.
    pub fn sentence_roles(&self, text: &str) -> Vec<SentenceRole> {
        self.analyze(text)
            .sentences
            .into_iter()
            .map(|s| SentenceRole {
                start: s.start,
                end: s.end,
                role: s.role,
                findings: s.findings,
                evidence: s
                    .evidence
                    .iter()
                    .map(|&(x, y)| text[x..y].to_owned())
                    .collect(),
            })
            .collect()
    }

    /// Scores one text on its own (no copy detection, default length norms) — `diaoyan check`.
    pub fn assess_text(&self, text: &str, kind: Option<Kind>) -> Assessment {
        let a = self.analyze(text);
        self.judge(Shared::default(), kind, text, a, default_norm(kind), &[])
    }

    /// Scores a whole run: signals for every submission (in parallel), copy detection across
    /// them and against `references`, campaign rules per cadre, then judgement.
    pub fn score(
        &self,
        subs: &[Submission],
        references: &[Submission],
        roster: &[Cadre],
    ) -> ScoreOutput {
        self.score_with(subs, references, roster, &|_| {})
    }

    /// [`Scorer::score`], reporting progress to `tick` (called from worker threads): one
    /// [`Tick::Measured`] per submission, then [`Tick::Comparing`] with the number of texts copy
    /// detection fingerprints and one [`Tick::Compared`] per text.
    pub fn score_with(
        &self,
        subs: &[Submission],
        references: &[Submission],
        roster: &[Cadre],
        tick: &(dyn Fn(Tick) + Sync),
    ) -> ScoreOutput {
        let analyses = self.analyse_all(subs, tick);
        self.score_analysed(subs, analyses, references, roster, None, tick)
    }

    /// Each submission's [`Analysis`], on every core, one [`Tick::Measured`] each.
    fn analyse_all(&self, subs: &[Submission], tick: &(dyn Fn(Tick) + Sync)) -> Vec<Analysis> {
        subs.par_iter()
            .map(|s| {
                let a = self.analyze(&s.text).slim();
                tick(Tick::Measured);
                a
            })
            .collect()
    }

    /// [`Scorer::score`] against `references` that a [`CopyProbe`] kept of more: `unseen` were
    /// left out as unable to change what copy detection finds for `subs`, and count only in
    /// the number of texts the stock-phrasing cap is a share of. The result is that of scoring
    /// against all of them.
    pub fn score_against(
        &self,
        subs: &[Submission],
        references: &[Submission],
        unseen: usize,
    ) -> ScoreOutput {
        let analyses = self.analyse_all(subs, &|_| {});
        self.score_all(
            subs,
            &subs,
            analyses,
            (references, unseen),
            &[],
            None,
            &|_| {},
        )
    }

    /// What scoring reads in one text on its own ([`Analysis`]): the per-text half of
    /// [`Scorer::score_with`], a function of the text and this scorer's configuration only.
    /// Of the text's sentences it keeps those a reason can quote, without their evidence
    /// ([`Scorer::sentence_roles`] gives every sentence).
    pub fn analyse(&self, text: &str) -> Analysis {
        self.analyze(text).slim()
    }

    /// [`Scorer::analyse`] of a text already tagged ([`Segmenter::tag_text`]), so that the
    /// stages reading the same text segment it once.
    pub fn analyse_tagged(&self, tagged: &Tagged<'_>) -> Analysis {
        self.analyze_tagged(tagged).slim()
    }

    /// [`Scorer::score_with`] from analyses already made ([`Scorer::analyse`], aligned with
    /// `subs`): copy detection, length norms, judgement and campaign rules. With a `memo` (what an
    /// earlier run's copy detection left: fingerprints and verified pairs, by their texts), copy
    /// detection fingerprints only new texts, verifies only pairs it has not seen, and leaves this
    /// run's in the memo.
    pub fn score_analysed(
        &self,
        subs: &[Submission],
        analyses: Vec<Analysis>,
        references: &[Submission],
        roster: &[Cadre],
        memo: Option<&mut CopyMemo>,
        tick: &(dyn Fn(Tick) + Sync),
    ) -> ScoreOutput {
        self.score_kept(subs, &subs, analyses, references, roster, memo, tick)
    }

    /// [`Scorer::score_analysed`] with the texts read from `texts` (aligned with `subs`), one at
    /// a time, rather than from the submissions: a large run keeps them out of memory.
    #[expect(
        clippy::too_many_arguments,
        reason = "score_analysed's parts and where the texts are, each borrowed on its own"
    )]
    pub fn score_kept(
        &self,
        subs: &[Submission],
        texts: &dyn Texts,
        analyses: Vec<Analysis>,
        references: &[Submission],
        roster: &[Cadre],
        memo: Option<&mut CopyMemo>,
        tick: &(dyn Fn(Tick) + Sync),
    ) -> ScoreOutput {
        self.score_all(subs, texts, analyses, (references, 0), roster, memo, tick)
    }

    /// [`Scorer::score_kept`] with `unseen` references left out ([`Scorer::score_against`]).
    #[expect(
        clippy::too_many_arguments,
        reason = "score_kept's parts, with the references and the count left out as one"
    )]
    fn score_all(
        &self,
        subs: &[Submission],
        texts: &dyn Texts,
        analyses: Vec<Analysis>,
        (references, unseen): (&[Submission], usize),
        roster: &[Cadre],
        memo: Option<&mut CopyMemo>,
        tick: &(dyn Fn(Tick) + Sync),
    ) -> ScoreOutput {
        assert_eq!(subs.len(), analyses.len(), "one analysis per submission");
        let stock: Vec<&[(usize, usize)]> = analyses.iter().map(|a| a.stock.as_slice()).collect();
        let (pairs, copy_stats) =
            self.copies(subs, texts, &stock, (references, unseen), memo, tick);

        // Length norms: the median of each kind in this run (at least 5 texts), else defaults.
        let mut lens: HashMap<Option<Kind>, Vec<usize>> = HashMap::new();
        for (s, a) in subs.iter().zip(&analyses) {
            lens.entry(s.kind).or_default().push(a.signals.chars);
        }
        let norms: HashMap<Option<Kind>, f64> = lens
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_unstable();
                let m = if v.len() >= 5 {
                    v[v.len() / 2] as f64
                } else {
                    default_norm(k)
                };
                (k, m.max(1.0))
            })
            .collect();

        let mut by_id: HashMap<&str, Vec<&CopyPair>> = HashMap::new();
        for p in &pairs {
            by_id.entry(p.a.as_str()).or_default().push(p);
            by_id.entry(p.b.as_str()).or_default().push(p);
        }
        // Each judgement on a worker (flags, their evidence and reasons: seconds at 1M on one
        // thread); in the order of `subs`.
        let assessments: Vec<Assessment> = subs
            .par_iter()
            .zip(analyses)
            .enumerate()
            .map(|(i, (s, a))| {
                let mine: Vec<&CopyPair> = by_id.get(s.id.as_str()).cloned().unwrap_or_default();
                self.judge(
                    s.id.clone(),
                    s.kind,
                    &texts.text(i),
                    a,
                    norms[&s.kind],
                    &mine,
                )
            })
            .collect();
        let cadres = rules::check(subs, texts, &assessments, roster, &self.cfg.rules);
        ScoreOutput {
            assessments,
            pairs,
            cadres,
            copy_stats,
        }
    }

    /// Copy detection over the run's own writing (opinion rows are the public's words, not
    /// work to be checked for copying) and the reference texts. `stock[i]` holds the
    /// boilerplate ranges of `subs[i]`. A reference keeps its author, so an earlier run's texts
    /// can be references without a cadre's own earlier work counting as copying.
    fn copies(
        &self,
        subs: &[Submission],
        texts: &dyn Texts,
        stock: &[&[(usize, usize)]],
        (references, unseen): (&[Submission], usize),
        memo: Option<&mut CopyMemo>,
        tick: &(dyn Fn(Tick) + Sync),
    ) -> (Vec<CopyPair>, CopyStats) {
        if !self.cfg.copy.enabled {
            return (Vec::new(), CopyStats::default());
        }
        let ref_ids: Vec<String> = references
            .iter()
            .map(|r| format!("ref:{}", r.path))
            .collect();
        let mut docs: Vec<CopyDoc> = subs
            .iter()
            .zip(stock)
            .enumerate()
            .filter(|(_, (s, _))| s.kind != Some(Kind::Opinion))
            .map(|(i, (s, st))| CopyDoc {
                id: &s.id,
                path: &s.path,
                author: &s.author,
                date: &s.date,
                text: DocText::Kept(texts, i),
                reference: false,
                stock: st,
            })
            .collect();
        docs.extend(references.iter().zip(&ref_ids).map(|(r, id)| CopyDoc {
            id,
            path: &r.path,
            author: &r.author,
            date: "",
            text: r.text.as_str().into(),
            reference: true,
            stock: &[],
        }));
        tick(Tick::Comparing(docs.len()));
        copy::detect_beside(&docs, &self.cfg.copy, memo, unseen, &|| {
            tick(Tick::Compared)
        })
    }

    /// The score and verdict of one text from its signals and the copy pairs it is part of.
    ///
    /// score = the model's probability (0–100) that a careful reader calls the text substantive
    /// ([`ScoreModel`]), multiplied by (1 − share copied) for an identified copier. Below the
    /// redo line a text is sent back with its hollow sentences quoted; a passing text quotes its
    /// strongest findings.
    fn judge(
        &self,
        id: Shared,
        kind: Option<Kind>,
        text: &str,
        a: signals::Analysis,
        norm: f64,
        pairs: &[&CopyPair],
    ) -> Assessment {
        let cfg = &self.cfg;
        let mut sig = a.signals;
        sig.length_ratio = sig.chars as f64 / norm;
        let boiler_share = if sig.sentences == 0 {
            0.0
        } else {
            sig.boilerplate_sentences as f64 / sig.sentences as f64
        };
        let expected = expected_suggestions(kind);
        let mut score = self.model.score(&sig);
        let mut reasons = Vec::new();
        // Copying: this text as the copier (or one of two alike texts).
        let mut copied_share: f64 = 0.0;
        let mut penalty: f64 = 0.0;
        for p in pairs {
            let (me_a, other_path, other_author, mine, my_shared, is_ref) = if p.a == id {
                (
                    true,
                    &p.path_b,
                    &p.author_b,
                    p.containment_a,
                    p.shared_chars,
                    p.b_is_reference,
                )
            } else {
                (
                    false,
                    &p.path_a,
                    &p.author_a,
                    p.containment_b,
                    p.shared_chars_b,
                    false,
                )
            };
            let copier = match p.direction {
                CopyDirection::AFromB => me_a,
                CopyDirection::BFromA => !me_a,
                CopyDirection::Mutual => true,
            };
            let who = if is_ref {
                format!(
                    "范文《{}》",
                    other_path.rsplit('/').next().unwrap_or(other_path)
                )
            } else if other_author.is_empty() {
                format!("《{other_path}》")
            } else {
                format!(
                    "{other_author}《{}》",
                    other_path.rsplit('/').next().unwrap_or(other_path)
                )
            };
            let shared = if me_a {
                p.excerpt.clone()
            } else {
                String::new()
            };
            if copier {
                // Only an identified copier loses score; when the order cannot be told, both
                // go to review and keep their own score.
                if p.direction != CopyDirection::Mutual {
                    penalty = penalty.max(mine);
                }
                copied_share = copied_share.max(mine);
                let decided = p.direction != CopyDirection::Mutual;
                let severity = if decided
                    && (mine >= cfg.copy.redo_containment
                        || my_shared >= cfg.copy.redo_shared_chars)
                {
                    Verdict::Redo
                } else {
                    Verdict::Review
                };
                let mut text = format!(
                    "与 {who} 相似度 {:.2}，本文 {}（{my_shared} 字）与之重合",
                    p.similarity,
                    pct(mine)
                );
                if !shared.is_empty() {
                    text.push_str(&format!("，重合段落：“{}”", short(&shared, 40)));
                }
                if p.direction == CopyDirection::Mutual {
                    text.push_str("（无法判断先后，双方均需核实）");
                }
                reasons.push(reason("copied", text, severity));
            } else {
                reasons.push(reason(
                    "copied_by",
                    format!("本文内容出现在 {who} 中（对方日期较晚，视为对方照抄）"),
                    Verdict::Pass,
                ));
            }
        }
        sig.copied_share = copied_share;
        score *= 1.0 - penalty;
        let score = (score * 10.0).round() / 10.0;

        if sig.blank_figures >= cfg.placeholders_redo && sig.blank_figures > sig.local_figures {
            reasons.push(reason(
                "placeholders",
                format!(
                    "范文占位符未填写：{}（共 {} 处空白数字，实际数字 {} 处）",
                    a.placeholder_examples
                        .iter()
                        .map(|e| format!("“{e}”"))
                        .collect::<Vec<_>>()
                        .join(""),
                    sig.blank_figures,
                    sig.local_figures
                ),
                Verdict::Redo,
            ));
        }
        let quote = |role_ok: &dyn Fn(&signals::Sentence) -> bool, n: usize, best: bool| {
            let mut picked: Vec<&signals::Sentence> =
                a.sentences.iter().filter(|x| role_ok(x)).collect();
            if best {
                picked.sort_by_key(|x| std::cmp::Reverse(x.findings));
            }
            picked
                .iter()
                .take(n)
                .map(|x| format!("“{}”", short(&text[x.start..x.end], 30)))
                .collect::<Vec<_>>()
                .join("")
        };
        let hollow_quote = quote(&|x| x.is_hollow(), signals::QUOTED, false);
        // Opinion rows are the people's own words, not work to send back: the substance judgement
        // of field writing does not apply to them.
        let is_opinion = kind == Some(Kind::Opinion);
        // Sent back only for 虚话: no findings to speak of *and* slogans, process talk or
        // feelings in their place, in a text long enough to judge. A short text or one that
        // explains without findings (a policy reply) goes to a reviewer instead.
        // In a reply letter the account of what was done (调查核实, 已责成整改) is the answer
        // itself, so only slogans and feelings count as 虚话 there.
        let process = if sig.reply_letter {
            0
        } else {
            sig.process_sentences
        };
        let hollow_roles = (sig.boilerplate_sentences + process + sig.sentiment_sentences) as f64
            / sig.sentences.max(1) as f64;
        // Length without a letter's formula (salutation, thanks, date).
        let judgeable = sig.chars.saturating_sub(a.formula_chars) >= cfg.redo_min_chars
            && hollow_roles >= cfg.redo_hollow_share;
        if !is_opinion && score < self.review_below && sig.chars >= 20 {
            let severity = if score < self.redo_below && judgeable {
                Verdict::Redo
            } else {
                Verdict::Review
            };
            let line = if severity == Verdict::Redo {
                format!("低于退回线 {:.0} 分", self.redo_below)
            } else {
                format!("低于复核线 {:.0} 分", self.review_below)
            };
            let mut t = if sig.facts == 0 {
                format!(
                    "全文未见具体发现（本地数字、具名村组农户、具体问题均无），实质内容得分 {score:.0} 分，{line}"
                )
            } else {
                format!(
                    "具体发现偏少：{} 句有发现（共 {} 处），实质内容得分 {score:.0} 分，{line}",
                    sig.concrete_sentences, sig.facts
                )
            };
            let parts = [
                (sig.boilerplate_sentences, "套话"),
                (sig.process_sentences, "过程记述"),
                (sig.sentiment_sentences, "感受描写"),
            ];
            let mut kinds: Vec<String> = parts
                .iter()
                .filter(|p| p.0 > 0)
                .map(|p| format!("{} {} 句", p.1, p.0))
                .collect();
            if !kinds.is_empty() && sig.sentences > 0 {
                kinds.insert(0, format!("共 {} 句", sig.sentences));
                t.push_str(&format!("；{}", kinds.join("，")));
            }
            if !hollow_quote.is_empty() {
                t.push_str(&format!("，例：{hollow_quote}"));
            }
            reasons.push(reason("no_findings", t, severity));
        } else if !is_opinion && sig.facts > 0 {
            let best = quote(&|x| x.findings > 0, signals::QUOTED, true);
            reasons.push(reason(
                "findings",
                format!(
                    "有具体发现 {} 处（{} 句），如：{best}",
                    sig.facts, sig.concrete_sentences
                ),
                Verdict::Pass,
            ));
        }
        if boiler_share >= 0.3 && sig.sentences >= 3 {
            reasons.push(reason(
                "boilerplate",
                format!(
                    "套话句占比 {}（{}/{}），例：“{}”",
                    pct(boiler_share),
                    sig.boilerplate_sentences,
                    sig.sentences,
                    short(a.boiler_example.as_deref().unwrap_or(""), 24)
                ),
                Verdict::Review,
            ));
        }
        if expected >= 2 && sig.concrete_suggestions == 0 {
            reasons.push(reason(
                "no_suggestions",
                if sig.suggestions == 0 {
                    "未提出意见建议".into()
                } else {
                    format!(
                        "{} 条意见建议均无具体内容（无地点、对象或数字）",
                        sig.suggestions
                    )
                },
                Verdict::Review,
            ));
        }
        let repeat_share = sig.repeated_sentences as f64 / sig.sentences.max(1) as f64;
        if sig.repeated_sentences >= cfg.repeats_review && repeat_share >= cfg.repeats_share {
            reasons.push(reason(
                "repeats",
                format!(
                    "文内重复句 {} 句，例：“{}”",
                    sig.repeated_sentences,
                    short(a.repeated_example.as_deref().unwrap_or(""), 24)
                ),
                Verdict::Review,
            ));
        }
        if kind != Some(Kind::Opinion) && sig.length_ratio < cfg.short_review {
            reasons.push(reason(
                "short",
                format!(
                    "篇幅过短：{} 字（同类材料中位数 {:.0} 字）",
                    sig.chars, norm
                ),
                Verdict::Review,
            ));
        }
        reasons.sort_by_key(|x| std::cmp::Reverse(x.severity));
        // Kept for the whole run, one list per submission: exact sizes (grown by pushes, the
        // lists had room for four reasons, 22 MB at 100k documents, and texts room to spare).
        for r in &mut reasons {
            r.text.shrink_to_fit();
        }
        reasons.shrink_to_fit();
        let verdict = reasons
            .iter()
            .map(|r| r.severity)
            .max()
            .unwrap_or(Verdict::Pass);
        Assessment {
            id,
            score,
            verdict,
            reasons,
            signals: sig,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scorer() -> Scorer {
        ScoreConfig::default().build(Segmenter::builtin()).unwrap()
    }

    /// The sentences a suggestion is left out of the issues for are the 套话 (process talk with
    /// two stock phrases among them) and the feelings, in order, kept by a run's slim analysis;
    /// not other process talk (it also takes in concrete asks), not findings.
    #[test]
    fn empty_sentences_are_boilerplate_and_feelings() {
        let sc = scorer();
        let empty = [
            "建议切实加强宣传引导，营造良好氛围，切实增强群众获得感幸福感安全感。",
            "看到乡亲们的笑脸，我心里很感动。",
            "驻村工作队坚持攻坚克难，抓细抓实政策宣传，推动工作再上新台阶。",
        ];
        let not = [
            "今天走访了五户农户。",
            "石桥村三组有12户没有自来水。",
            "群众要求停电前提前3天通知。",
        ];
        let t = format!(
            "蹲点手记\n\n{}{}{}{}{}{}",
            empty[0], not[0], empty[1], not[1], empty[2], not[2]
        );
        let whole = sc.analyze_tagged(&sc.seg.tag_text(&t));
        let roles: Vec<(Role, &str)> = whole
            .sentences
            .iter()
            .map(|x| (x.role, &t[x.start..x.end]))
            .collect();
        let has = |r: Role| roles.iter().any(|&(x, _)| x == r);
        assert!(
            has(Role::Boilerplate)
                && has(Role::Sentiment)
                && has(Role::Process)
                && has(Role::Finding),
            "{roles:?}"
        );
        let got: Vec<&str> = whole
            .empty
            .iter()
            .map(|&(a, b)| &t[a as usize..b as usize])
            .collect();
        assert_eq!(got, empty, "{roles:?}");
        assert_eq!(sc.analyse_tagged(&sc.seg.tag_text(&t)).empty, whole.empty);
    }

    /// A run keeps a slim analysis per text (only the sentences a reason can quote): judging it
    /// gives exactly the assessment of the whole analysis, for every UTF-8 text of the bundled
    /// sample (41 of its 72), the report template, and texts with many hollow sentences and ties
    /// in findings.
    #[test]
    fn slim_analysis_is_judged_as_the_whole_one() {
        let sc = scorer();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpora");
        let mut texts: Vec<String> = walk_txt(&dir.join("sample"));
        assert!(
            texts.len() >= 30,
            "the bundled sample's texts: {}",
            texts.len()
        );
        texts.push(include_str!("../../../corpora/templates/蹲点调研报告范文.txt").to_owned());
        let hollow = "我们要深入学习贯彻会议精神，切实提高政治站位。";
        let found = |i: usize| format!("石桥村{i}组有{}户农户，水泵坏了{}台。", 10 + i, i % 3 + 1);
        texts.push((0..12).map(|i| format!("{hollow}{}", found(i))).collect());
        texts.push(format!(
            "{hollow}{hollow}{hollow}走访了五户农户，心情很激动。"
        ));
        let mut slimmed = 0;
        for (i, t) in texts.iter().enumerate() {
            let whole = sc.analyze(t);
            let slim = whole.clone().slim();
            assert!(slim.sentences.len() <= 2 * signals::QUOTED);
            assert!(slim.sentences.iter().all(|x| x.evidence.is_empty()));
            slimmed += usize::from(slim.sentences.len() < whole.sentences.len());
            for kind in [None, Some(Kind::Note), Some(Kind::Report)] {
                let judge =
                    |a| sc.judge(format!("{i}").into(), kind, t, a, default_norm(kind), &[]);
                assert_eq!(judge(slim.clone()), judge(whole.clone()), "text {i}: {t}");
            }
        }
        assert!(
            slimmed * 2 >= texts.len(),
            "texts with sentences left out: {slimmed}"
        );
    }

    fn walk_txt(dir: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk_txt(&p));
            } else if p.extension().is_some_and(|x| x == "txt") {
                // The sample's GBK files are left to the ingest tests.
                if let Ok(t) = std::fs::read_to_string(&p) {
                    out.push(t);
                }
            }
        }
        out
    }

    /// Analysing a text from its tagging made once gives exactly the analysis of the text alone;
    /// a tagging made with another dictionary is not used.
    #[test]
    fn analysis_from_a_shared_tagging_equals_analysis_alone() {
        let sc = scorer();
        let seg = Segmenter::builtin();
        let other = Segmenter::new(&diaoyan_text::Lexicons {
            userdict: "走访石桥 100 n\n".into(),
            stopwords: String::new(),
        });
        let texts = [
            include_str!("../../../corpora/templates/蹲点调研报告范文.txt"),
            "蹲点手记\n姓名：张伟\n3月5日，走访石桥村三组，全组共86户312人。1.建议修缮机耕路2公里；\r\n\
             村民王桂兰今年68岁，老伴常年卧床。WES-5.4.5型水泵坏了，３０%的农户没水吃。",
            "",
        ];
        for t in texts {
            let alone = sc.analyse(t);
            assert_eq!(sc.analyse_tagged(&seg.tag_text(t)), alone);
            assert_eq!(sc.analyse_tagged(&other.tag_text(t)), alone);
        }
    }

    #[test]
    fn reply_letter_is_answered_not_process_talk() {
        // A reply letter: its formula (您好, 已收悉, 感谢…, the date) is neither substance nor
        // 虚话, and its account of what was done is the answer, so it goes to a reviewer at
        // worst. The same account written as a field note with nothing found is sent back.
        let account = "接到反映后，我局立即组织执法人员到现场调查核实，约谈了物业负责人，责成其限期整改。\
经调查，反映的情况基本属实，我局已要求物业公司每天安排专人巡查，并在整改完成后组织复查验收。\
我局还将会同街道和社区召开协调会议，督促开发商按照规划要求完善配套设施建设。\
整改期间，执法人员将不定期回访，确保问题得到妥善处理。";
        let letter = format!(
            "网友“某某”：您好！\n您的留言已收悉，现回复如下：\n{account}\n感谢您对我们工作的关心和支持！\n2019年3月18日"
        );
        let sc = scorer();
        let a = sc.assess_text(&letter, None);
        assert!(a.signals.reply_letter, "{:?}", a.signals);
        assert!(a.signals.formula_sentences >= 3, "{:?}", a.signals);
        assert_ne!(a.verdict, Verdict::Redo, "{a:?}");
        let roles = sc.sentence_roles(&letter);
        assert_eq!(roles[0].role, Role::Formula, "{roles:?}");
        assert_eq!(roles.last().unwrap().role, Role::Formula, "{roles:?}");
        let note = format!(
            "今天我们一行来到社区开展走访调研，与居民面对面拉家常，倾听群众心声。{account}"
        );
        let b = sc.assess_text(&note, Some(Kind::Note));
        assert!(!b.signals.reply_letter, "{:?}", b.signals);
        assert_eq!(b.signals.formula_sentences, 0);
        // A quoted greeting inside a field note does not make it a letter.
        let c = sc.assess_text(
            "“大娘，您好！”我们走进老人家里，询问今年的收成。",
            Some(Kind::Note),
        );
        assert!(!c.signals.reply_letter, "{:?}", c.signals);
    }

    #[test]
    fn hollow_text_is_sent_back_with_evidence() {
        let text = "高度重视，精心组织，周密部署，确保各项工作落到实处。进一步提高政治站位，切实增强做好群众工作的责任感和使命感。\
坚持以人民为中心的发展思想，不断增强人民群众的获得感、幸福感、安全感。通过此次蹲点调研，进一步密切了党群干群关系，取得了明显成效。\
下一步，我们将以此次活动为契机，进一步加大工作力度，不断完善体制机制，推动各项工作再上新台阶。";
        let a = scorer().assess_text(text, Some(Kind::Report));
        assert_eq!(a.verdict, Verdict::Redo, "{a:?}");
        let texts: Vec<&str> = a.reasons.iter().map(|r| r.text.as_str()).collect();
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("套话句占比 100%（5/5），例：“高度重视")),
            "{texts:?}"
        );
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("全文未见具体发现") && t.contains("例：“高度重视")),
            "{texts:?}"
        );
        // Kept for every submission of a run: no room beyond the reasons and their words.
        assert!(a.reasons.len() >= 2);
        assert_eq!(a.reasons.capacity(), a.reasons.len());
        for r in &a.reasons {
            assert_eq!(r.text.capacity(), r.text.len(), "{}", r.text);
        }
    }

    #[test]
    fn blanked_template_is_hollow_but_masked_names_are_not() {
        let blank = "该村共xxx户xxxx人，耕地面积xxxx亩，x月x日召开座谈会。近年来，该村大力发展xx产业，群众生活水平不断提高。";
        let a = scorer().assess_text(blank, Some(Kind::Report));
        assert_eq!(a.verdict, Verdict::Redo);
        assert!(
            a.reasons
                .iter()
                .any(|r| r.code == "placeholders" && r.text.contains("“xxx户”")),
            "{:?}",
            a.reasons
        );
        let masked = "某某村三组王某某家里5口人，种了3亩水稻，去年收入1.2万元。他反映三组机耕路有两处塌方，雨天无法通行，建议明年硬化2公里。村民李某某说卫生室没有医生，看病要跑12公里到镇卫生院，来回车费30元。某某组还有7户没通自来水，夏天用水靠挑，最远的一户离水井800米。";
        let b = scorer().assess_text(masked, Some(Kind::Note));
        assert_eq!(b.verdict, Verdict::Pass, "{b:?}");
        assert!(b.signals.masked_names > 0);
    }

    #[test]
    fn masked_years_do_not_send_a_dense_report_back_and_a_pass_quotes_its_findings() {
        let text = "xx年以来，青石镇共有农户2860户9420人，耕地1.2万亩，其中撂荒地430亩。xx年全镇人均纯收入6820元，\
低于全县平均水平约900元。xx年起镇里修通了到白岩村的6公里水泥路，但白岩村二组、三组仍有58户没有通自来水，\
靠3口老井吃水，旱季要到2公里外的河沟挑水。xx年镇卫生院只有医生5名，白岩村卫生室已空置两年。\
建议把白岩村二组、三组饮水工程列入明年计划，铺设管网约4.5公里，约需资金85万元。";
        let a = scorer().assess_text(text, Some(Kind::Note));
        assert_eq!(a.verdict, Verdict::Pass, "{a:?}");
        let found = a
            .reasons
            .iter()
            .find(|r| r.code == "findings")
            .expect("findings quoted");
        assert!(found.text.starts_with("有具体发现"), "{}", found.text);
        assert!(found.text.contains("“"), "{}", found.text);
        assert!(a.score > 80.0, "{}", a.score);
    }

    #[test]
    fn process_and_feelings_without_findings_are_sent_back() {
        let text = "9月14日，星期六，晴。今天上午我们一行四人来到村里，和村干部座谈了解情况，随后入户走访了12户群众。\
我们与老乡面对面拉家常，倾听他们的心声，认真记录大家的意见建议。中午在村民家里吃了一顿便饭，饭菜简单却很可口。\
下午继续走访，和群众促膝谈心，拉近了距离。看到乡亲们脸上的笑容，我心里感到无比温暖，也深深体会到基层工作的不易。\
晚上回到驻地，整理了一天的走访记录，心情久久不能平静。明天我们将继续深入农户家中，倾听群众呼声。";
        let a = scorer().assess_text(text, Some(Kind::Note));
        assert_eq!(a.verdict, Verdict::Redo, "{a:?}");
        let r = &a.reasons[0];
        assert_eq!(r.code, "no_findings");
        assert!(r.text.starts_with("全文未见具体发现"), "{}", r.text);
        assert!(
            r.text.contains("过程记述") && r.text.contains("例：“"),
            "{}",
            r.text
        );
    }

    #[test]
    fn copier_is_identified_and_penalised() {
        let source = "石桥村三组到镇上的机耕路坑坑洼洼，一下雨就全是烂泥，拖拉机开不进去。三组那条机耕路有两处塌方，去年秋收时一台农用车翻到了沟里。村民反映三组的机耕路坑槽多、路面窄，会车都困难。建议把石桥村三组机耕路纳入明年农村公路硬化计划，先把两处塌方修好，按2.5公里测算约需资金60万元。";
        let subs = vec![
            Submission {
                id: "a".into(),
                path: "张伟/报告.txt".into(),
                author: "张伟".into(),
                date: "2023-09-21".into(),
                kind: Some(Kind::Report),
                text: source.into(),
                ..Submission::default()
            },
            Submission {
                id: "b".into(),
                path: "陈明/报告.txt".into(),
                author: "陈明".into(),
                date: "2023-09-23".into(),
                kind: Some(Kind::Report),
                text: format!("河口村共350户。{source}").into(),
                ..Submission::default()
            },
        ];
        let out = scorer().score(&subs, &[], &[]);
        assert_eq!(out.pairs.len(), 1);
        let (orig, copier) = (&out.assessments[0], &out.assessments[1]);
        assert_eq!(copier.verdict, Verdict::Redo, "{copier:?}");
        assert!(
            copier.reasons[0]
                .text
                .starts_with("与 张伟《报告.txt》 相似度"),
            "{:?}",
            copier.reasons
        );
        assert!(
            orig.reasons
                .iter()
                .all(|r| r.severity == Verdict::Pass || r.code != "copied")
        );
        assert!(copier.score < orig.score);
    }

    /// `diaoyan check --against` a large run: scoring against the references a probe keeps,
    /// told how many it left out, gives what scoring against all of them gives — a passage
    /// copied from one, a passage shared with a few (under the stock-phrasing cap only when the
    /// left-out texts are counted), one in most of them (stock phrasing either way).
    #[test]
    fn scoring_against_what_a_probe_keeps_is_scoring_against_all() {
        let mut r = crate::xorshift(7);
        // Sentences of random characters: only the passages placed on purpose are shared.
        let mut sentence = || {
            let mut t: String = (0..24)
                .map(|_| char::from_u32(0x4E00 + (r() % 3000) as u32).unwrap())
                .collect();
            t.push('。');
            t
        };
        let mut passage = |k: usize| (0..k).map(|_| sentence()).collect::<String>();
        let (common, shared) = (passage(3), passage(6));
        let mut refs: Vec<Submission> = (0..400)
            .map(|i| {
                let mut text = passage(12);
                if i % 7 == 0 {
                    text.push_str(&common); // 58 texts: over any cap
                }
                if i % 40 == 3 {
                    text.insert_str(0, &shared); // 10 texts: under the cap of 405 texts only
                }
                Submission {
                    id: format!("r{i}").into(),
                    path: format!("上次/{i}.txt").into(),
                    author: format!("甲{i}").into(),
                    kind: Some(Kind::Note),
                    text: text.into(),
                    ..Submission::default()
                }
            })
            .collect();
        // One more, whose first half a checked text copies.
        let source = passage(12);
        refs.insert(
            150,
            Submission {
                id: "source".into(),
                path: "上次/范本.txt".into(),
                author: "乙".into(),
                kind: Some(Kind::Report),
                text: source.clone().into(),
                ..Submission::default()
            },
        );
        let checked = |id: &str, text: String| Submission {
            id: id.into(),
            path: format!("本次/{id}.txt").into(),
            author: format!("检查{id}").into(),
            kind: Some(Kind::Report),
            text: text.into(),
            ..Submission::default()
        };
        let half: String = source.split_inclusive('。').take(6).collect();
        let subs = vec![
            checked(
                "a",
                format!("{}{half}{}{shared}{common}", passage(4), passage(3)),
            ),
            checked("b", format!("{}{common}{}", passage(8), passage(5))),
        ];
        let sc = scorer();
        let all = sc.score(&subs, &refs, &[]);
        let mut probe = CopyProbe::new(subs.iter().map(|s| s.text.as_str()), &sc.cfg.copy);
        let mut kept = Vec::new();
        let mut unseen = 0;
        for r in &refs {
            if probe.keep(&Print::of(&r.text, &sc.cfg.copy)) {
                kept.push(r.clone());
            } else {
                unseen += 1;
            }
        }
        // What the case is made of: a copy found, pairs through the shared passage, most
        // references left out.
        let with = |id: &str| all.pairs.iter().filter(|p| p.a == id || p.b == id).count();
        assert!(with("ref:上次/范本.txt") == 1, "{:?}", all.pairs);
        assert!(all.pairs.len() >= 5, "{:?}", all.pairs);
        assert_eq!(all.assessments[0].verdict, Verdict::Redo);
        assert!(unseen > 250 && kept.len() < 150, "{} kept", kept.len());
        let against = sc.score_against(&subs, &kept, unseen);
        assert_eq!(against.pairs, all.pairs);
        assert_eq!(against.assessments, all.assessments);
        // Not counting those left out, the shared passage would be stock phrasing.
        let uncounted = sc.score_against(&subs, &kept, 0);
        assert!(
            uncounted.pairs.len() < all.pairs.len(),
            "{:?}",
            uncounted.pairs
        );
    }
}
