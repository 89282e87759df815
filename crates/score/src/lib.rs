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
mod lexicon;
mod rules;
mod signals;

pub use copy::{CopyConfig, CopyDoc, CopyStats};

/// Copy detection on its own (what [`Scorer::score`] runs inside), for tools and benchmarks.
pub fn detect_copies(docs: &[CopyDoc], cfg: &CopyConfig) -> (Vec<CopyPair>, CopyStats) {
    copy::detect(docs, cfg)
}
pub use diaoyan_model::{Assessment, CadreReport, CopyPair, Reason, Signals, Verdict};
pub use rules::{CategoryRule, RulesConfig};

use diaoyan_model::{Cadre, CopyDirection, Kind, Submission};
use diaoyan_text::Segmenter;
use lexicon::{Boilerplate, Concrete};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;

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
    /// Below this score a submission is sent back (default 35).
    pub redo_below: f64,
    /// Below this score a submission goes to review (default 55).
    pub review_below: f64,
    /// Share of boilerplate sentences that, with fewer than `hollow_facts_per_k` facts, is hollow
    /// whatever the score (default 0.5).
    pub hollow_boilerplate_share: f64,
    /// Facts per 1,000 characters under which a text counts as having no substance (default 3).
    pub hollow_facts_per_k: f64,
    /// Unfilled template blanks (xx户) that send a text back (default 3).
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
            redo_below: 35.0,
            review_below: 55.0,
            hollow_boilerplate_share: 0.5,
            hollow_facts_per_k: 3.0,
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
    concrete: Concrete,
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
        Ok(Scorer {
            cfg: self.clone(),
            seg,
            boilerplate,
            concrete: Concrete::parse(&co_text),
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

fn reason(code: &str, text: String, severity: Verdict) -> Reason {
    Reason {
        code: code.to_owned(),
        text,
        severity,
    }
}

impl Scorer {
    /// The configuration the scorer was built from.
    pub fn config(&self) -> &ScoreConfig {
        &self.cfg
    }

    /// Measures one text (no judgement).
    pub fn signals(&self, text: &str) -> Signals {
        signals::analyze(text, &self.seg, &self.boilerplate, &self.concrete).signals
    }

    /// Scores one text on its own (no copy detection, default length norms) — `diaoyan check`.
    pub fn assess_text(&self, text: &str, kind: Option<Kind>) -> Assessment {
        let a = signals::analyze(text, &self.seg, &self.boilerplate, &self.concrete);
        self.judge(String::new(), kind, a, default_norm(kind), &[])
    }

    /// Scores a whole run: signals for every submission (in parallel), copy detection across
    /// them and against `references`, campaign rules per cadre, then judgement.
    pub fn score(
        &self,
        subs: &[Submission],
        references: &[Submission],
        roster: &[Cadre],
    ) -> ScoreOutput {
        let analyses: Vec<signals::Analysis> = subs
            .par_iter()
            .map(|s| signals::analyze(&s.text, &self.seg, &self.boilerplate, &self.concrete))
            .collect();
        let stock: Vec<&[(usize, usize)]> = analyses.iter().map(|a| a.stock.as_slice()).collect();
        let (pairs, copy_stats) = self.copies(subs, &stock, references);

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
        let assessments: Vec<Assessment> = subs
            .iter()
            .zip(analyses)
            .map(|(s, a)| {
                let mine: Vec<&CopyPair> = by_id.get(s.id.as_str()).cloned().unwrap_or_default();
                self.judge(s.id.clone(), s.kind, a, norms[&s.kind], &mine)
            })
            .collect();
        let cadres = rules::check(subs, &assessments, roster, &self.cfg.rules);
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
        stock: &[&[(usize, usize)]],
        references: &[Submission],
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
            .filter(|(s, _)| s.kind != Some(Kind::Opinion))
            .map(|(s, st)| CopyDoc {
                id: &s.id,
                path: &s.path,
                author: &s.author,
                date: &s.date,
                text: &s.text,
                reference: false,
                stock: st,
            })
            .collect();
        docs.extend(references.iter().zip(&ref_ids).map(|(r, id)| CopyDoc {
            id,
            path: &r.path,
            author: &r.author,
            date: "",
            text: &r.text,
            reference: true,
            stock: &[],
        }));
        copy::detect(&docs, &self.cfg.copy)
    }

    /// The score and verdict of one text from its signals and the copy pairs it is part of.
    ///
    /// score = 100 × (0.40·concrete + 0.30·(1 − boilerplate)·length + 0.10·suggestions +
    /// 0.10·diversity + 0.10·length), where concrete = min(facts per 1,000 chars / 25, 1), boilerplate =
    /// min(boilerplate share / 0.5, 1), suggestions = min(concrete suggestions / expected for the
    /// kind, 1) (1 when none are expected), diversity = clamp((MATTR − 0.5) / 0.3), length =
    /// min(length / (0.5 × kind median), 1). A copier's score is then multiplied by
    /// (1 − share copied).
    fn judge(
        &self,
        id: String,
        kind: Option<Kind>,
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
        let concrete = (sig.facts_per_k / 25.0).min(1.0);
        let boiler = (boiler_share / 0.5).min(1.0);
        let expected = expected_suggestions(kind);
        let sugg = if expected == 0 {
            1.0
        } else {
            (sig.concrete_suggestions as f64 / expected as f64).min(1.0)
        };
        let diversity = ((sig.diversity - 0.5) / 0.3).clamp(0.0, 1.0);
        let length = (sig.length_ratio / 0.5).min(1.0);
        // Freedom from boilerplate earns credit only in proportion to length: an empty reply
        // (已收悉) has no slogans and no substance either.
        let mut score = 100.0
            * (0.40 * concrete
                + 0.30 * (1.0 - boiler) * length
                + 0.10 * sugg
                + 0.10 * diversity
                + 0.10 * length);

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

        if sig.placeholders >= cfg.placeholders_redo {
            reasons.push(reason(
                "placeholders",
                format!(
                    "范文占位符未填写：{}（共 {} 处）",
                    a.placeholder_examples
                        .iter()
                        .map(|e| format!("“{e}”"))
                        .collect::<Vec<_>>()
                        .join(""),
                    sig.placeholders
                ),
                Verdict::Redo,
            ));
        }
        if boiler_share >= 0.3 && sig.sentences >= 2 {
            let severity = if boiler_share >= cfg.hollow_boilerplate_share
                && sig.facts_per_k < cfg.hollow_facts_per_k
            {
                Verdict::Redo
            } else {
                Verdict::Review
            };
            reasons.push(reason(
                "boilerplate",
                format!(
                    "套话句占比 {}（{}/{}），例：“{}”",
                    pct(boiler_share),
                    sig.boilerplate_sentences,
                    sig.sentences,
                    short(a.boiler_example.as_deref().unwrap_or(""), 24)
                ),
                severity,
            ));
        }
        if sig.facts == 0 && sig.chars >= 20 {
            reasons.push(reason(
                "no_facts",
                "全文无具体数字、地名或户数".into(),
                Verdict::Review,
            ));
        } else if sig.facts_per_k < cfg.hollow_facts_per_k && sig.chars >= 200 {
            reasons.push(reason(
                "few_facts",
                format!("具体事实偏少：每千字 {:.1} 处", sig.facts_per_k),
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
        if score < cfg.redo_below {
            reasons.push(reason(
                "low_score",
                format!(
                    "实质内容得分 {score:.0} 分，低于退回线 {:.0} 分",
                    cfg.redo_below
                ),
                Verdict::Redo,
            ));
        } else if score < cfg.review_below {
            reasons.push(reason(
                "low_score",
                format!(
                    "实质内容得分 {score:.0} 分，低于复核线 {:.0} 分",
                    cfg.review_below
                ),
                Verdict::Review,
            ));
        }
        reasons.sort_by_key(|x| std::cmp::Reverse(x.severity));
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

    #[test]
    fn hollow_text_is_sent_back_with_evidence() {
        let text = "高度重视，精心组织，周密部署，确保各项工作落到实处。进一步提高政治站位，切实增强做好群众工作的责任感和使命感。\
坚持以人民为中心的发展思想，不断增强人民群众的获得感、幸福感、安全感。通过此次蹲点调研，进一步密切了党群干群关系，取得了明显成效。";
        let a = scorer().assess_text(text, Some(Kind::Report));
        assert_eq!(a.verdict, Verdict::Redo, "{a:?}");
        let texts: Vec<&str> = a.reasons.iter().map(|r| r.text.as_str()).collect();
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("套话句占比 100%（4/4），例：“高度重视")),
            "{texts:?}"
        );
        assert!(texts.contains(&"全文无具体数字、地名或户数"), "{texts:?}");
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
                text: format!("河口村共350户。{source}"),
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
}
