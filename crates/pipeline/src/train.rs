//! `diaoyan train-scorer`: refit the substance model from a sheet of labelled texts (an office's
//! own past decisions, or the development set of real reports).

use crate::config::PipelineConfig;
use crate::{Error, Result};
use diaoyan_score::{CvFigures, Label, Labelled, ScoreModel};
use diaoyan_text::{Lexicons, Segmenter};
use std::path::{Path, PathBuf};

/// Column names of the file column.
pub const FILE_COLUMNS: &[&str] = &["文件", "文件名", "材料", "file", "path"];
/// Column names of the label column.
pub const LABEL_COLUMNS: &[&str] = &["结论", "标注", "判定", "label", "verdict"];

/// Options of a training run.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Folder the sheet's file names are relative to (default: the sheet's folder).
    pub docs: Option<PathBuf>,
    /// Cross-validation folds.
    pub folds: usize,
    /// L2 penalty.
    pub l2: f64,
    /// Redo precision (hollow among texts sent back) the redo line must keep on held-out scores.
    pub precision: f64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            docs: None,
            folds: 5,
            l2: 3.0,
            precision: 0.9,
        }
    }
}

/// One labelled text with its held-out score.
#[derive(Debug, Clone)]
pub struct TrainedText {
    /// File as the sheet names it.
    pub file: String,
    /// The label.
    pub label: Label,
    /// Its score when it was held out of training.
    pub cv_score: f64,
    /// Its score and whether it is sent back, judged as `diaoyan run` and `diaoyan check` judge
    /// it now (the pipeline's own model, not refitted).
    pub now: (f64, bool),
    /// The opening of the text (for reports).
    pub opening: String,
}

/// A fitted model with the figures that justify it.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The model fitted on every text, with lines chosen on held-out scores.
    pub model: ScoreModel,
    /// Cross-validated figures.
    pub cv: CvFigures,
    /// Every text with its held-out score.
    pub texts: Vec<TrainedText>,
    /// What the pipeline's current model says it was fitted on (its `trained_on`): the model
    /// that gave each text's [`TrainedText::now`].
    pub now_fitted_on: String,
}

/// Reads a labelled sheet (columns 文件/file and 结论/label), scores every named file with the
/// pipeline's lexicons, cross-validates and fits the model on all of them. Missing columns,
/// unknown labels and files that cannot be read are errors naming the sheet and the rows.
pub fn train_scorer(cfg: &PipelineConfig, sheet: &Path, opt: &TrainOptions) -> Result<Trained> {
    let bad = |reason: String| Error::Config {
        path: sheet.display().to_string(),
        reason,
    };
    let rows = diaoyan_ingest::read_rows(sheet, &cfg.ingest)
        .map_err(|e| bad(format!("{}（{}）", e.reason, e.detail)))?;
    let find = diaoyan_ingest::find_column;
    let (hi, header) = rows
        .iter()
        .take(10)
        .enumerate()
        .find(|(_, r)| find(r, FILE_COLUMNS).is_some() && find(r, LABEL_COLUMNS).is_some())
        .ok_or_else(|| {
            bad("前 10 行中找不到文件列（文件/file）和结论列（结论/标注/label）".into())
        })?;
    let (fc, lc) = (
        find(header, FILE_COLUMNS).unwrap_or(0),
        find(header, LABEL_COLUMNS).unwrap_or(0),
    );
    let docs = opt
        .docs
        .clone()
        .unwrap_or_else(|| sheet.parent().unwrap_or(Path::new(".")).to_path_buf());
    let lex = Lexicons::from_files(cfg.text.userdict.as_deref(), cfg.text.stopwords.as_deref())?;
    let scorer = cfg
        .score
        .build(Segmenter::new(&lex))
        .map_err(|e| bad(e.to_string()))?;
    let mut problems = Vec::new();
    let mut data: Vec<(String, Label, String, Option<diaoyan_model::Kind>)> = Vec::new();
    for (i, r) in rows.iter().enumerate().skip(hi + 1) {
        let cell = |c: usize| r.get(c).map(|s| s.trim().to_owned()).unwrap_or_default();
        let (file, label) = (cell(fc), cell(lc));
        if file.is_empty() && label.is_empty() {
            continue;
        }
        let Some(label) = Label::parse(&label) else {
            problems.push(format!(
                "第 {} 行的结论“{label}”无法识别（应为 substantive/mixed/hollow 或 通过/复核/退回重写）",
                i + 1
            ));
            continue;
        };
        let path = docs.join(&file);
        match diaoyan_ingest::ingest(&path, &cfg.ingest) {
            Ok(out) if out.submissions.len() == 1 => {
                let s = &out.submissions[0];
                data.push((file, label, s.text.to_string(), s.kind))
            }
            Ok(out) => problems.push(match out.errors.first() {
                Some(e) => format!("第 {} 行 {file}：{}（{}）", i + 1, e.reason, e.detail),
                None => format!(
                    "第 {} 行 {file}：应为一份材料，读到 {} 份",
                    i + 1,
                    out.submissions.len()
                ),
            }),
            Err(e) => problems.push(format!("第 {} 行 {file}：{e}", i + 1)),
        }
    }
    if !problems.is_empty() {
        let n = problems.len();
        problems.truncate(8);
        return Err(bad(format!(
            "{n} 行无法使用：{}{}",
            problems.join("；"),
            if n > 8 { "……" } else { "" }
        )));
    }
    let hollow = data.iter().filter(|d| d.1 == Label::Hollow).count();
    let substantive = data.iter().filter(|d| d.1 == Label::Substantive).count();
    if hollow < 5 || substantive < 5 {
        return Err(bad(format!(
            "标注太少：有实质内容 {substantive} 份、空话 {hollow} 份，各至少需要 5 份"
        )));
    }
    let labelled: Vec<Labelled> = data
        .iter()
        .map(|(_, label, text, _)| Labelled {
            signals: scorer.signals(text),
            label: *label,
        })
        .collect();
    let folds = opt.folds.clamp(2, 20);
    let cv_scores = ScoreModel::cross_validate(&labelled, folds, opt.l2);
    let (redo, review) = diaoyan_score::choose_lines(&labelled, &cv_scores, opt.precision);
    let cv = diaoyan_score::figures(&labelled, &cv_scores, folds, redo);
    let mut model = ScoreModel::fit(&labelled, opt.l2);
    model.redo_below = redo;
    model.review_below = review;
    model.cv = Some(cv.clone());
    model.trained_on = format!(
        "{}：{} 份（有实质内容 {substantive}、部分具体 {}、空话 {hollow}）",
        sheet.file_name().map_or_else(
            || sheet.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        ),
        data.len(),
        data.len() - hollow - substantive
    );
    let texts = data
        .into_iter()
        .zip(cv_scores)
        .map(|((file, label, text, kind), cv_score)| TrainedText {
            now: {
                let a = scorer.assess_text(&text, kind);
                (a.score, a.verdict == diaoyan_model::Verdict::Redo)
            },
            file,
            label,
            cv_score,
            opening: text
                .chars()
                .filter(|c| !c.is_whitespace())
                .take(40)
                .collect(),
        })
        .collect();
    Ok(Trained {
        model,
        cv,
        texts,
        now_fitted_on: scorer.model().trained_on.clone(),
    })
}
