//! Quality figures: how well diaoyan's verdicts match a truth file, and how it behaves on real
//! public data.
//!
//! [`eval_sample`] runs a pipeline on a campaign with truth files (`truth.csv`,
//! `truth_copies.csv`, `truth_cadres.csv` beside the campaign folder) and measures the verdicts:
//! ROC-AUC of the score, precision and recall of `redo`, copy-detection precision and recall,
//! cadre-rule agreement and a confusion table. [`eval_real`] scores the real government replies and
//! citizen messages in `../shared/data/tipdm` (no verdict labels exist there: it reports the
//! score distribution, how often real citizen messages — concrete by nature — would be flagged,
//! and the lowest- and highest-scoring replies). [`render`] writes the Chinese report.

use diaoyan_model::{Kind, Submission, Verdict};
use diaoyan_pipeline::{NoProgress, PipelineConfig};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Evaluation errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pipeline failed.
    #[error(transparent)]
    Pipeline(#[from] diaoyan_pipeline::Error),
    /// A truth or data file could not be read.
    #[error("无法读取 {path}：{reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The eval crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Figures on a campaign with a truth file.
#[derive(Debug, Clone, Serialize)]
pub struct SampleEval {
    /// Submissions with a truth label.
    pub labelled: usize,
    /// Of them, labelled `redo`.
    pub truth_redo: usize,
    /// ROC-AUC of (100 − score) for telling `redo` from `pass`.
    pub auc: f64,
    /// Precision of the `redo` verdict.
    pub redo_precision: f64,
    /// Recall of the `redo` verdict.
    pub redo_recall: f64,
    /// Truth label → verdict → count.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// Copy pairs reported.
    pub copy_found: usize,
    /// Copy pairs in the truth file.
    pub copy_truth: usize,
    /// Reported pairs that are in the truth file.
    pub copy_hits: usize,
    /// Copy-detection precision.
    pub copy_precision: f64,
    /// Copy-detection recall.
    pub copy_recall: f64,
    /// Cadre-rule fields that agree with the truth file, and how many were compared.
    pub cadre_fields: (usize, usize),
    /// Cadre-rule disagreements, for the report.
    pub cadre_mismatches: Vec<String>,
    /// Truth files whose submission was not found in the run.
    pub missing: Vec<String>,
    /// Planted recurring issues and how the clustering found them (when the suggest stage ran).
    pub issues: Vec<PlantedIssue>,
    /// Issues listed by the run.
    pub issues_listed: usize,
}

/// How one planted recurring issue came out.
#[derive(Debug, Clone, Serialize)]
pub struct PlantedIssue {
    /// The planted issue.
    pub key: String,
    /// Its mentions found among clustered suggestions (by keyword and place).
    pub mentions: usize,
    /// The listed issue holding most of them.
    pub issue: String,
    /// Its title.
    pub title: String,
    /// Share of the mentions in that issue.
    pub captured: f64,
    /// Share of that issue's members that are mentions of the planted issue.
    pub purity: f64,
    /// That issue's rank by heat (1 = hottest).
    pub rank: usize,
    /// The theme the truth file gives.
    pub truth_theme: String,
    /// The theme of that issue.
    pub theme: String,
    /// The topic holding most of the mentions.
    pub topic: String,
    /// Share of the mentions in that topic.
    pub topic_coverage: f64,
    /// Share of that topic's members that are mentions of the planted issue.
    pub topic_purity: f64,
    /// That topic's rank by heat (1 = hottest).
    pub topic_rank: usize,
}

/// Figures on real public data (no verdict labels).
#[derive(Debug, Clone, Serialize)]
pub struct RealEval {
    /// The folder the messages and replies were read from (`…/tipdm`).
    pub folder: String,
    /// Government replies scored.
    pub replies: usize,
    /// Score percentiles of the replies: p10, p25, p50, p75, p90.
    pub reply_percentiles: [f64; 5],
    /// Verdict shares among replies (`pass`, `review`, `redo`).
    pub reply_verdicts: BTreeMap<String, usize>,
    /// Lowest-scoring replies: (id, score, opening).
    pub lowest: Vec<(String, f64, String)>,
    /// Highest-scoring replies: (id, score, opening).
    pub highest: Vec<(String, f64, String)>,
    /// Citizen messages scored as opinions.
    pub messages: usize,
    /// Verdict shares among citizen messages.
    pub message_verdicts: BTreeMap<String, usize>,
    /// Macro-F1 of the seeded taxonomy (no training) against the official first-level labels.
    pub seeded_macro_f1: f64,
    /// Macro-F1 of a model trained on four fifths and tested on the rest (5-fold).
    pub trained_macro_f1: f64,
    /// Labelled messages used for the theme figures.
    pub labelled_messages: usize,
    /// Topics (专题) found among the labelled messages, run as one batch of opinions.
    pub topics: TopicFigures,
}

/// How the topics (专题) of a batch of messages with official categories hold together.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TopicFigures {
    /// Topics of two or more suggestions.
    pub topics: usize,
    /// Suggestions counted in the issue lists, and how many of them fall in those topics.
    pub suggestions: usize,
    pub in_topics: usize,
    /// Share of the suggestions in topics whose message has its topic's most common official
    /// category (a proxy: a topic is narrower than a category, and one subject can span two).
    pub purity: f64,
    /// Topics titled by their subject ("…相关问题") because their members raise different cases.
    pub subject_titled: usize,
}

fn read_csv(path: &Path, delimiter: u8) -> Result<Vec<HashMap<String, String>>> {
    let bytes = std::fs::read(path).map_err(|e| Error::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .quoting(delimiter == b',')
        .from_reader(bytes);
    let header: Vec<String> = r
        .headers()
        .map_err(|e| Error::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| Error::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        rows.push(
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect(),
        );
    }
    Ok(rows)
}

/// ROC-AUC by the Mann–Whitney statistic: the chance that a random positive ranks above a random
/// negative (ties count half).
pub fn roc_auc(positives: &[f64], negatives: &[f64]) -> f64 {
    diaoyan_score::auc(positives, negatives)
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

/// Runs `cfg` (ingest and score) and compares with the truth files in `truth_dir`.
pub fn eval_sample(cfg: PipelineConfig, truth_dir: &Path) -> Result<SampleEval> {
    let pipeline = cfg.build()?;
    let data = pipeline.execute(&NoProgress)?;
    let score = data.score.as_ref().ok_or_else(|| Error::Read {
        path: truth_dir.to_path_buf(),
        reason: "流水线没有 score 阶段，无法评估".into(),
    })?;
    let by_path: HashMap<&str, usize> = data
        .ingest
        .submissions
        .iter()
        .enumerate()
        .map(|(i, s)| (s.path.as_str(), i))
        .collect();

    let truth = read_csv(&truth_dir.join("truth.csv"), b',')?;
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let (mut tp, mut fp, mut fneg) = (0, 0, 0);
    let mut missing = Vec::new();
    for t in &truth {
        let Some(&i) = by_path.get(t["文件"].as_str()) else {
            missing.push(t["文件"].clone());
            continue;
        };
        let a = &score.assessments[i];
        let is_redo = t["预期"] == "redo";
        let danger = 100.0 - a.score;
        if is_redo {
            pos.push(danger)
        } else {
            neg.push(danger)
        }
        *confusion
            .entry(t["预期"].clone())
            .or_default()
            .entry(a.verdict.as_str().to_owned())
            .or_default() += 1;
        match (is_redo, a.verdict == Verdict::Redo) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fneg += 1,
            _ => {}
        }
    }

    // Copy pairs: unordered path pairs; a reference side matches by file name.
    let key = |a: &str, b: &str| {
        let n = |p: &str| p.rsplit('/').next().unwrap_or(p).to_owned();
        let (x, y) = (n(a), n(b));
        if x < y { (x, y) } else { (y, x) }
    };
    let truth_pairs: BTreeSet<(String, String)> =
        read_csv(&truth_dir.join("truth_copies.csv"), b',')?
            .iter()
            .map(|r| key(&r["文件"], &r["来源"]))
            .collect();
    let found: BTreeSet<(String, String)> = score
        .pairs
        .iter()
        .map(|p| key(&p.path_a, &p.path_b))
        .collect();
    let copy_hits = found.intersection(&truth_pairs).count();

    // Cadre rules.
    let mut fields = (0, 0);
    let mut cadre_mismatches = Vec::new();
    for t in read_csv(&truth_dir.join("truth_cadres.csv"), b',')? {
        let Some(c) = score.cadres.iter().find(|c| c.name == t["姓名"]) else {
            cadre_mismatches.push(format!("{}：未生成干部核查结果", t["姓名"]));
            continue;
        };
        let checks = [
            ("走访户数", c.households.to_string(), t["走访户数"].clone()),
            (
                "户数要求",
                c.quota.map(|q| q.to_string()).unwrap_or_default(),
                t["户数要求"].clone(),
            ),
            (
                "缺少手记日期",
                c.missing_dates.join("、"),
                t["缺少手记日期"].clone(),
            ),
            (
                "未走访类别",
                c.categories_missing.join("、"),
                t["未走访类别"].clone(),
            ),
            (
                "座谈会发言人数",
                c.forums
                    .iter()
                    .map(|(_, n)| n.to_string())
                    .collect::<Vec<_>>()
                    .join("、"),
                t["座谈会发言人数"].clone(),
            ),
        ];
        for (name, got, want) in checks {
            fields.1 += 1;
            if got == want {
                fields.0 += 1;
            } else {
                cadre_mismatches.push(format!("{} {name}：应为「{want}」，得到「{got}」", c.name));
            }
        }
    }

    let mut issues = Vec::new();
    let mut issues_listed = 0;
    if let Some(sg) = &data.suggest {
        issues_listed = sg.issues.len();
        let path = truth_dir.join("truth_issues.csv");
        if path.exists() {
            for t in read_csv(&path, b',')? {
                let keys: Vec<&str> = t["关键词"].split('|').filter(|k| !k.is_empty()).collect();
                let place = t["地点"].as_str();
                let hits: Vec<&diaoyan_model::Suggestion> = sg
                    .suggestions
                    .iter()
                    .filter(|s| s.left_out().is_none())
                    .filter(|s| keys.iter().any(|k| s.text.contains(k)))
                    .filter(|s| {
                        place.is_empty() || s.source.place.contains(place) || s.text.contains(place)
                    })
                    .collect();
                let mut per: BTreeMap<&str, usize> = BTreeMap::new();
                for h in &hits {
                    if let Some(i) = &h.issue {
                        *per.entry(i.as_str()).or_default() += 1;
                    }
                }
                let best = per.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
                let (issue, captured, purity, rank, title, theme) = match best {
                    Some((id, &n)) => {
                        let pos = sg.issues.iter().position(|i| i.id == *id).unwrap_or(0);
                        let it = &sg.issues[pos];
                        (
                            id.to_string(),
                            ratio(n, hits.len()),
                            ratio(n, it.mentions),
                            pos + 1,
                            it.title.clone(),
                            it.theme.clone(),
                        )
                    }
                    None => (String::new(), 0.0, 0.0, 0, String::new(), String::new()),
                };
                let mut per_topic: BTreeMap<&str, usize> = BTreeMap::new();
                for h in &hits {
                    if let Some(t) = &h.topic {
                        *per_topic.entry(t.as_str()).or_default() += 1;
                    }
                }
                let (topic, topic_coverage, topic_purity, topic_rank) = match per_topic
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                {
                    Some((id, &n)) => {
                        let pos = sg.topics.iter().position(|t| t.id == *id).unwrap_or(0);
                        let tp = &sg.topics[pos];
                        (
                            id.to_string(),
                            ratio(n, hits.len()),
                            ratio(n, tp.mentions),
                            pos + 1,
                        )
                    }
                    None => (String::new(), 0.0, 0.0, 0),
                };
                issues.push(PlantedIssue {
                    key: t["问题"].clone(),
                    mentions: hits.len(),
                    issue,
                    title,
                    captured,
                    purity,
                    rank,
                    truth_theme: t.get("主题").cloned().unwrap_or_default(),
                    theme,
                    topic,
                    topic_coverage,
                    topic_purity,
                    topic_rank,
                });
            }
        }
    }

    Ok(SampleEval {
        issues,
        issues_listed,
        labelled: pos.len() + neg.len(),
        truth_redo: pos.len(),
        auc: roc_auc(&pos, &neg),
        redo_precision: ratio(tp, tp + fp),
        redo_recall: ratio(tp, tp + fneg),
        confusion,
        copy_found: found.len(),
        copy_truth: truth_pairs.len(),
        copy_hits,
        copy_precision: ratio(copy_hits, found.len()),
        copy_recall: ratio(copy_hits, truth_pairs.len()),
        cadre_fields: fields,
        cadre_mismatches,
        missing,
    })
}

fn opening(s: &str, n: usize) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > n {
        format!("{}……", s.chars().take(n).collect::<String>())
    } else {
        s
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// Cross-validated substance figures on the labelled real reports (`reports/labels.tsv`).
#[derive(Debug, Clone, Serialize)]
pub struct ReportsEval {
    /// The labelled sheet.
    pub sheet: String,
    /// Held-out figures of a model refitted fold by fold with the pipeline's lexicons.
    pub cv: diaoyan_score::CvFigures,
    /// The judgement as it stands (the pipeline's own model, not refitted) on these texts.
    pub now: AsItStands,
    /// The redo and review lines chosen on the held-out scores.
    pub lines: (f64, f64),
    /// The worst disagreements: (file, label, held-out score, the labeller's reason, opening).
    pub worst: Vec<(String, String, f64, String, String)>,
}

/// The judgement as `diaoyan run` and `diaoyan check` give it, on a labelled sheet: held-out
/// figures when the model was not fitted on these texts (an office's own labelled material, a
/// private test set), in-sample ones when it was (the development set it ships fitted on).
#[derive(Debug, Clone, Serialize)]
pub struct AsItStands {
    /// Hollow against substantive, by score.
    pub auc: f64,
    /// Mean score of substantive, mixed, hollow texts.
    pub mean_score: [f64; 3],
    /// Texts sent back (退回重写).
    pub redo: usize,
    /// Hollow texts among those sent back (NaN when none is).
    pub redo_precision: f64,
    /// Hollow texts sent back among all hollow texts.
    pub redo_recall: f64,
    /// What the model was fitted on, as it says (`trained_on` of the model file).
    pub model_trained_on: String,
    /// Whether that names this sheet with these counts: then these figures are not held out.
    pub fitted_here: bool,
}

fn as_it_stands(t: &diaoyan_pipeline::Trained) -> AsItStands {
    use diaoyan_score::Label;
    let model_trained_on = t.now_fitted_on.as_str();
    let (mut sub, mut hol) = (Vec::new(), Vec::new());
    let (mut counts, mut sums) = ([0usize; 3], [0.0; 3]);
    let (mut redo, mut caught) = (0usize, 0usize);
    for x in &t.texts {
        let (score, sent_back) = x.now;
        let k = match x.label {
            Label::Substantive => {
                sub.push(score);
                0
            }
            Label::Mixed => 1,
            Label::Hollow => {
                hol.push(score);
                2
            }
        };
        counts[k] += 1;
        sums[k] += score;
        if sent_back {
            redo += 1;
            caught += usize::from(x.label == Label::Hollow);
        }
    }
    AsItStands {
        auc: roc_auc(&sub, &hol),
        mean_score: [0, 1, 2].map(|k| sums[k] / counts[k].max(1) as f64),
        redo,
        redo_precision: caught as f64 / redo as f64,
        redo_recall: caught as f64 / hol.len().max(1) as f64,
        model_trained_on: model_trained_on.to_owned(),
        fitted_here: !model_trained_on.is_empty() && model_trained_on == t.model.trained_on,
    }
}

/// Cross-validates the substance model on the labelled real reports under `data_dir`
/// (`reports/labels.tsv` and the texts beside it); `None` when they are absent.
pub fn eval_reports(cfg: &PipelineConfig, data_dir: &Path) -> Result<Option<ReportsEval>> {
    let sheet = data_dir.join("reports/labels.tsv");
    if !sheet.exists() {
        return Ok(None);
    }
    let t =
        diaoyan_pipeline::train_scorer(cfg, &sheet, &diaoyan_pipeline::TrainOptions::default())?;
    let reasons: HashMap<String, String> = read_csv(&sheet, b'\t')?
        .into_iter()
        .map(|r| {
            (
                r.get("file").cloned().unwrap_or_default(),
                r.get("reason").cloned().unwrap_or_default(),
            )
        })
        .collect();
    let target = |l: diaoyan_score::Label| match l {
        diaoyan_score::Label::Substantive => 100.0,
        diaoyan_score::Label::Mixed => 50.0,
        diaoyan_score::Label::Hollow => 0.0,
    };
    let mut texts = t.texts.clone();
    texts.sort_by(|a, b| {
        (b.cv_score - target(b.label))
            .abs()
            .total_cmp(&(a.cv_score - target(a.label)).abs())
            .then(a.file.cmp(&b.file))
    });
    let worst = texts
        .iter()
        .filter(|x| x.label != diaoyan_score::Label::Mixed)
        .take(10)
        .map(|x| {
            (
                x.file.clone(),
                label_name(x.label).to_owned(),
                x.cv_score,
                reasons.get(&x.file).cloned().unwrap_or_default(),
                x.opening.clone(),
            )
        })
        .collect();
    Ok(Some(ReportsEval {
        sheet: sheet.display().to_string(),
        now: as_it_stands(&t),
        cv: t.cv,
        lines: (t.model.redo_below, t.model.review_below),
        worst,
    }))
}

fn label_name(l: diaoyan_score::Label) -> &'static str {
    match l {
        diaoyan_score::Label::Substantive => "有实质内容",
        diaoyan_score::Label::Mixed => "部分具体",
        diaoyan_score::Label::Hollow => "空话",
    }
}

/// Scores the real replies and messages under `data_dir` (`tipdm/replies.tsv`,
/// `tipdm/messages_dev.tsv`) with the pipeline's scorer.
pub fn eval_real(mut cfg: PipelineConfig, data_dir: &Path) -> Result<RealEval> {
    // Replies reuse each other's wording by design (one office, one style), and these figures
    // measure substance, not copying.
    cfg.score.copy.enabled = false;
    let pipeline = cfg.build()?;
    let scorer = pipeline.scorer().ok_or_else(|| Error::Read {
        path: data_dir.to_path_buf(),
        reason: "流水线没有 score 阶段，无法评估".into(),
    })?;
    // The pipeline's own segmenter and suggester: the dictionary is loaded once.
    let (Some(seg), Some(suggester)) = (pipeline.segmenter(), pipeline.suggester()) else {
        return Err(Error::Read {
            path: data_dir.to_path_buf(),
            reason: "流水线没有 suggest 阶段，无法评估主题分类".into(),
        });
    };
    let as_subs =
        |rows: &[HashMap<String, String>], col: &str, kind: Option<Kind>| -> Vec<Submission> {
            rows.iter()
                .filter(|r| !r.get(col).is_none_or(|t| t.trim().is_empty()))
                .map(|r| Submission {
                    id: r.get("id").cloned().unwrap_or_default().into(),
                    path: format!("{}#{}", col, r.get("id").cloned().unwrap_or_default()).into(),
                    kind,
                    text: r[col].as_str().into(),
                    ..Submission::default()
                })
                .collect()
        };
    let replies = read_csv(&data_dir.join("tipdm/replies.tsv"), b'\t')?;
    let reply_subs = as_subs(&replies, "reply", None);
    let out = scorer.score(&reply_subs, &[], &[]);
    let mut scores: Vec<f64> = out.assessments.iter().map(|a| a.score).collect();
    scores.sort_by(f64::total_cmp);
    let mut reply_verdicts = BTreeMap::new();
    for a in &out.assessments {
        *reply_verdicts
            .entry(a.verdict.as_str().to_owned())
            .or_default() += 1;
    }
    let mut ranked: Vec<(usize, f64)> = out
        .assessments
        .iter()
        .map(|a| a.score)
        .enumerate()
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    let pick = |(i, s): &(usize, f64)| {
        (
            reply_subs[*i].id.to_string(),
            *s,
            opening(&reply_subs[*i].text, 50),
        )
    };
    let lowest = ranked.iter().take(3).map(pick).collect();
    let highest = ranked.iter().rev().take(3).map(pick).collect();

    let messages = read_csv(&data_dir.join("tipdm/messages_dev.tsv"), b'\t')?;
    let msg_subs = as_subs(&messages, "body", Some(Kind::Opinion));
    let mout = scorer.score(&msg_subs, &[], &[]);
    let mut message_verdicts = BTreeMap::new();
    for a in &mout.assessments {
        *message_verdicts
            .entry(a.verdict.as_str().to_owned())
            .or_default() += 1;
    }
    // Themes: the official label of each message against the seeded taxonomy (restricted to the
    // labels the data uses) and against a model trained by cross-validation.
    let tax = suggester.taxonomy();
    let labelled: Vec<(String, String, String)> = messages
        .iter()
        .filter_map(|r| {
            Some((
                r.get("subject")?.clone(),
                r.get("body")?.clone(),
                r.get("label1")?.clone(),
            ))
        })
        .filter(|(_, _, l)| !l.is_empty())
        .collect();
    let allowed: Vec<usize> = tax
        .themes()
        .iter()
        .enumerate()
        .filter(|(_, t)| labelled.iter().any(|(_, _, l)| *l == t.name))
        .map(|(i, _)| i)
        .collect();
    let truth: Vec<String> = labelled.iter().map(|(_, _, l)| l.clone()).collect();
    let seeded: Vec<String> = labelled
        .iter()
        .map(|(subj, body, _)| {
            tax.classify(body, subj, Some(&allowed))
                .map(|i| tax.themes()[i].name.clone())
                .unwrap_or_else(|| diaoyan_suggest::UNCLASSIFIED.to_owned())
        })
        .collect();
    let training: Vec<(String, String)> = labelled
        .iter()
        .map(|(s, b, l)| (format!("{s}\n{b}"), l.clone()))
        .collect();

    let topics = topic_figures(suggester, &messages);

    Ok(RealEval {
        topics,
        folder: data_dir.join("tipdm").display().to_string(),
        seeded_macro_f1: diaoyan_suggest::macro_f1(&truth, &seeded),
        trained_macro_f1: diaoyan_suggest::cross_validate(seg, &training, 5, Some(tax)),
        labelled_messages: labelled.len(),
        replies: reply_subs.len(),
        reply_percentiles: [0.1, 0.25, 0.5, 0.75, 0.9].map(|p| percentile(&scores, p)),
        reply_verdicts,
        lowest,
        highest,
        messages: msg_subs.len(),
        message_verdicts,
    })
}

/// The labelled messages run through the suggest stage as one batch of opinion rows (subject
/// line and text, as a spreadsheet of messages is read), and its topics held against the
/// messages' official categories.
fn topic_figures(
    suggester: &diaoyan_suggest::Suggester,
    messages: &[HashMap<String, String>],
) -> TopicFigures {
    let rows: Vec<(&HashMap<String, String>, &str)> = messages
        .iter()
        .filter_map(|r| Some((r, r.get("label1")?.as_str())))
        .filter(|(r, l)| !l.is_empty() && r.get("body").is_some_and(|b| !b.trim().is_empty()))
        .collect();
    let subs: Vec<Submission> = rows
        .iter()
        .enumerate()
        .map(|(i, (r, _))| Submission {
            id: format!("m{i}").into(),
            path: format!(
                "messages_dev.tsv#{}",
                r.get("id").cloned().unwrap_or_default()
            )
            .into(),
            ref_: r.get("id").cloned().unwrap_or_default(),
            kind: Some(Kind::Opinion),
            title: r.get("subject").cloned().unwrap_or_default(),
            text: r["body"].as_str().into(),
            ..Submission::default()
        })
        .collect();
    let label: HashMap<&str, &str> = subs
        .iter()
        .zip(&rows)
        .map(|(s, (_, l))| (&*s.id, *l))
        .collect();
    let out = suggester.run(&subs, None);
    let counted: Vec<&diaoyan_model::Suggestion> = out
        .suggestions
        .iter()
        .filter(|g| g.left_out().is_none())
        .collect();
    let mut by_topic: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for g in &counted {
        if let Some(t) = &g.topic {
            let l = label.get(&*g.source.submission).copied().unwrap_or("");
            *by_topic.entry(t).or_default().entry(l).or_default() += 1;
        }
    }
    let in_topics: usize = by_topic.values().flat_map(|c| c.values()).sum();
    let agreeing: usize = by_topic
        .values()
        .map(|c| c.values().copied().max().unwrap_or(0))
        .sum();
    TopicFigures {
        topics: by_topic.len(),
        suggestions: counted.len(),
        in_topics,
        purity: ratio(agreeing, in_topics),
        subject_titled: out
            .topics
            .iter()
            .filter(|t| t.title.contains("相关问题"))
            .count(),
    }
}

fn share(map: &BTreeMap<String, usize>, key: &str, total: usize) -> String {
    let n = map.get(key).copied().unwrap_or(0);
    format!("{n}（{:.1}%）", 100.0 * ratio(n, total))
}

/// The Chinese report a reviewer or developer reads.
pub fn render(
    sample: Option<&SampleEval>,
    reports: Option<&ReportsEval>,
    real: Option<&RealEval>,
) -> String {
    let mut s = String::new();
    if let Some(e) = sample {
        s.push_str("== 样例调研（对照真值）==\n");
        s.push_str(&format!(
            "有真值的材料 {} 份，其中应退回 {} 份\n",
            e.labelled, e.truth_redo
        ));
        s.push_str(&format!("得分 ROC-AUC：{:.3}\n", e.auc));
        s.push_str(&format!(
            "“退回重写”精确率 {:.3}，召回率 {:.3}\n",
            e.redo_precision, e.redo_recall
        ));
        s.push_str("混淆表（行：真值；列：结论 通过/复核/退回重写）：\n");
        for (truth, row) in &e.confusion {
            let g = |v: &str| row.get(v).copied().unwrap_or(0);
            s.push_str(&format!(
                "  {truth:<6} {:>4} {:>4} {:>4}\n",
                g("pass"),
                g("review"),
                g("redo")
            ));
        }
        s.push_str(&format!(
            "抄袭检测：发现 {} 对，真值 {} 对，命中 {} 对；精确率 {:.3}，召回率 {:.3}\n",
            e.copy_found, e.copy_truth, e.copy_hits, e.copy_precision, e.copy_recall
        ));
        s.push_str(&format!(
            "干部蹲点核查：{}/{} 项与真值一致\n",
            e.cadre_fields.0, e.cadre_fields.1
        ));
        for m in &e.cadre_mismatches {
            s.push_str(&format!("  不一致：{m}\n"));
        }
        for m in &e.missing {
            s.push_str(&format!("  真值中的文件未读到：{m}\n"));
        }
        if !e.issues.is_empty() {
            s.push_str(&format!(
                "埋入的反复出现问题（共列出 {} 个问题）：\n",
                e.issues_listed
            ));
            for i in &e.issues {
                s.push_str(&format!(
                    "  {}：提及 {} 次，{:.0}% 归入 {}（第 {} 位，纯度 {:.0}%，主题 {}{}）「{}」；专题 {}：覆盖 {:.0}%，纯度 {:.0}%，第 {} 位\n",
                    i.key,
                    i.mentions,
                    i.captured * 100.0,
                    i.issue,
                    i.rank,
                    i.purity * 100.0,
                    i.theme,
                    if i.theme == i.truth_theme {
                        String::new()
                    } else {
                        format!("，真值 {}", i.truth_theme)
                    },
                    i.title,
                    i.topic,
                    i.topic_coverage * 100.0,
                    i.topic_purity * 100.0,
                    i.topic_rank
                ));
            }
            let agree = e.issues.iter().filter(|i| i.theme == i.truth_theme).count();
            s.push_str(&format!("  主题与真值一致：{agree}/{}\n", e.issues.len()));
        }
    }
    if let Some(r) = reports {
        let c = &r.cv;
        s.push_str(&format!(
            "\n== 有标注的调研材料（{}；5 折交叉验证）==\n",
            r.sheet
        ));
        s.push_str(&format!(
            "材料 {} 份：有实质内容 {}、部分具体 {}、空话 {}\n",
            c.counts.iter().sum::<usize>(),
            c.counts[0],
            c.counts[1],
            c.counts[2]
        ));
        s.push_str(&format!(
            "空话与有实质内容的 ROC-AUC：{:.3}\n平均得分：有实质内容 {:.1}，部分具体 {:.1}，空话 {:.1}\n",
            c.auc, c.mean_score[0], c.mean_score[1], c.mean_score[2]
        ));
        s.push_str(&format!(
            "退回线 {:.1} 分（复核线 {:.1} 分）：退回的精确率 {:.2}，召回率 {:.2}（以空话为准）\n",
            r.lines.0, r.lines.1, c.redo_precision, c.redo_recall
        ));
        let n = &r.now;
        let precision = if n.redo == 0 {
            "—".to_owned()
        } else {
            format!("{:.2}", n.redo_precision)
        };
        s.push_str(&format!(
            "按现在的模型直接评分（不重新训练，与 diaoyan run、diaoyan check 的结论相同）：ROC-AUC {:.3}；平均得分 有实质内容 {:.1}，部分具体 {:.1}，空话 {:.1}；退回 {} 份，精确率 {precision}，召回率 {:.2}\n",
            n.auc, n.mean_score[0], n.mean_score[1], n.mean_score[2], n.redo, n.redo_recall
        ));
        s.push_str(&if n.fitted_here {
            format!(
                "  （模型就是用这份标注训练的（{}）：这一行不是留出结果，留出结果看上面的交叉验证；换一份没有参与训练的标注材料，这一行才是留出结果）\n",
                n.model_trained_on
            )
        } else {
            format!(
                "  （模型不是用这份标注训练的（它的训练数据：{}）：这一行就是留出结果）\n",
                if n.model_trained_on.is_empty() { "未注明" } else { &n.model_trained_on }
            )
        });
        s.push_str("分歧最大的 10 份（交叉验证得分与标注相差最远）：\n");
        for (f, l, sc, why, open) in &r.worst {
            s.push_str(&format!(
                "  {f}（标注：{l}）得分 {sc:.1}：{open}……\n    标注理由：{why}\n"
            ));
        }
    }
    if let Some(r) = real {
        s.push_str(&format!("\n== 真实数据（{}，无结论标注）==\n", r.folder));
        let p = r.reply_percentiles;
        s.push_str(&format!(
            "政府答复 {} 条，得分分位数 p10 {:.1} / p25 {:.1} / p50 {:.1} / p75 {:.1} / p90 {:.1}\n",
            r.replies, p[0], p[1], p[2], p[3], p[4]
        ));
        s.push_str(&format!(
            "  结论：通过 {}，复核 {}，退回重写 {}\n",
            share(&r.reply_verdicts, "pass", r.replies),
            share(&r.reply_verdicts, "review", r.replies),
            share(&r.reply_verdicts, "redo", r.replies)
        ));
        s.push_str("  得分最低的答复：\n");
        for (id, sc, t) in &r.lowest {
            s.push_str(&format!("    #{id} {sc:.1} 分：{t}\n"));
        }
        s.push_str("  得分最高的答复：\n");
        for (id, sc, t) in &r.highest {
            s.push_str(&format!("    #{id} {sc:.1} 分：{t}\n"));
        }
        s.push_str(&format!(
            "主题分类（{} 条带官方一级分类的留言）：种子词表 macro-F1 {:.3}；训练模型 5 折交叉验证 macro-F1 {:.3}\n",
            r.labelled_messages, r.seeded_macro_f1, r.trained_macro_f1
        ));
        let t = &r.topics;
        s.push_str(&format!(
            "专题（这 {} 条留言作为一批意见运行）：{} 个专题，计入问题清单的意见 {} 条中 {} 条（{:.0}%）归入专题；与官方一级分类的一致度（纯度）{:.3}；按主题命名（成员各说各事）的专题 {} 个\n",
            r.labelled_messages,
            t.topics,
            t.suggestions,
            t.in_topics,
            100.0 * ratio(t.in_topics, t.suggestions),
            t.purity,
            t.subject_titled
        ));
        s.push_str(&format!(
            "群众留言 {} 条（按意见建议评分；留言多为具体诉求）：通过 {}，复核 {}，退回重写 {}\n",
            r.messages,
            share(&r.message_verdicts, "pass", r.messages),
            share(&r.message_verdicts, "review", r.messages),
            share(&r.message_verdicts, "redo", r.messages)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_table() {
        assert_eq!(roc_auc(&[3.0, 4.0], &[1.0, 2.0]), 1.0);
        assert_eq!(roc_auc(&[1.0], &[2.0]), 0.0);
        assert_eq!(roc_auc(&[2.0], &[2.0]), 0.5);
        assert!((roc_auc(&[1.0, 3.0], &[2.0]) - 0.5).abs() < 1e-12);
        assert!(roc_auc(&[], &[1.0]).is_nan());
    }

    #[test]
    fn percentiles() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 1.0), 5.0);
    }
}
