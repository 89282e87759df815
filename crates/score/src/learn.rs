//! The learned part of the judgement: a regularised logistic regression over a dozen
//! interpretable signals, fitted on texts a careful reader labelled (substantive / mixed /
//! hollow), saved as a small JSON model that ships inside the binary.
//!
//! score = 100 · σ(b + Σ wᵢ·(xᵢ − μᵢ)/sᵢ): the model's probability that a reader would call the
//! text substantive. Each term wᵢ·(xᵢ − μᵢ)/sᵢ is the feature's contribution, so a verdict can
//! be explained by its largest terms.

use diaoyan_model::Signals;
use serde::{Deserialize, Serialize};

/// Feature names (stable, in model files) and what a reviewer reads for each.
pub const FEATURES: [(&str, &str); 12] = [
    ("finding_share", "发现句占比"),
    ("findings_per_k", "每千字发现数"),
    ("local_figures_per_k", "每千字本地数字"),
    ("named", "具名村组和人物"),
    ("problems", "具体问题句"),
    ("boilerplate_share", "套话句占比"),
    ("process_share", "过程句占比"),
    ("sentiment_share", "感受句占比"),
    ("blank_figures", "空白数字"),
    ("stock_names", "套名"),
    ("diversity", "用词多样性"),
    ("length", "篇幅"),
];

/// The feature vector of one text (order of [`FEATURES`]).
pub fn features(sig: &Signals) -> [f64; 12] {
    let n = sig.sentences.max(1) as f64;
    let per_k = |x: usize| x as f64 * 1000.0 / sig.chars.max(80) as f64;
    [
        sig.concrete_sentences as f64 / n,
        (1.0 + sig.facts_per_k).ln(),
        (1.0 + per_k(sig.local_figures)).ln(),
        (1.0 + (sig.named_places + sig.named_persons) as f64).ln(),
        (1.0 + sig.problem_sentences as f64).ln(),
        sig.boilerplate_sentences as f64 / n,
        sig.process_sentences as f64 / n,
        sig.sentiment_sentences as f64 / n,
        (1.0 + sig.blank_figures as f64).ln(),
        // Stock names (老张, 张大爷) matter only where no place is named.
        if sig.named_places == 0 {
            (1.0 + sig.stock_names as f64).ln()
        } else {
            0.0
        },
        sig.diversity,
        (sig.chars.max(20) as f64).ln(),
    ]
}

/// Cross-validated figures of a model, stored with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CvFigures {
    /// Folds.
    pub folds: usize,
    /// Texts labelled substantive / mixed / hollow.
    pub counts: [usize; 3],
    /// Hollow vs substantive ROC-AUC of the held-out scores.
    pub auc: f64,
    /// Mean held-out score per label: substantive, mixed, hollow.
    pub mean_score: [f64; 3],
    /// Precision of `redo` (held-out score below the redo line) for hollow texts.
    pub redo_precision: f64,
    /// Recall of `redo` for hollow texts.
    pub redo_recall: f64,
}

/// A fitted scoring model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreModel {
    /// Format version (1).
    pub version: u32,
    /// Feature names, in order; must match [`FEATURES`].
    pub features: Vec<String>,
    /// Feature means on the training texts.
    pub mean: Vec<f64>,
    /// Feature standard deviations on the training texts.
    pub scale: Vec<f64>,
    /// Weights of the standardised features.
    pub weights: Vec<f64>,
    /// Intercept.
    pub bias: f64,
    /// L2 penalty it was fitted with.
    pub l2: f64,
    /// Below this score a text is sent back (chosen on the training texts' held-out scores).
    pub redo_below: f64,
    /// Below this score a text goes to review.
    pub review_below: f64,
    /// What it was trained on (a description, never the texts).
    pub trained_on: String,
    /// Cross-validated figures on the training texts.
    pub cv: Option<CvFigures>,
}

/// The model shipped with the binary: fitted with `diaoyan train-scorer` on the labelled real
/// reports of the development set.
pub const BUILTIN_MODEL: &str = include_str!("../../../corpora/models/scorer.json");

/// A labelled text for training: its signals and the reader's label.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// Measured signals.
    pub signals: Signals,
    /// The label.
    pub label: Label,
}

/// A reader's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// ≥ 2 concrete findings carry the text.
    Substantive,
    /// Some findings, but boilerplate, sentiment or generic text dominates.
    Mixed,
    /// No concrete finding.
    Hollow,
}

impl Label {
    /// Reads a label as offices write it: substantive/mixed/hollow, 通过/复核/退回重写, 实/中/空.
    pub fn parse(s: &str) -> Option<Label> {
        match s.trim().to_lowercase().as_str() {
            "substantive" | "pass" | "通过" | "实" | "有实质内容" | "合格" | "1" => {
                Some(Label::Substantive)
            }
            "mixed" | "review" | "复核" | "中" | "一般" | "0.5" => Some(Label::Mixed),
            "hollow" | "redo" | "退回" | "退回重写" | "空" | "空话" | "不合格" | "0" => {
                Some(Label::Hollow)
            }
            _ => None,
        }
    }

    fn target(self) -> f64 {
        match self {
            Label::Substantive => 1.0,
            Label::Mixed => 0.5,
            Label::Hollow => 0.0,
        }
    }

    fn index(self) -> usize {
        match self {
            Label::Substantive => 0,
            Label::Mixed => 1,
            Label::Hollow => 2,
        }
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl ScoreModel {
    /// Parses a model file and checks it fits this version's features.
    pub fn from_json(text: &str) -> Result<ScoreModel, String> {
        let m: ScoreModel = serde_json::from_str(text).map_err(|e| format!("不是评分模型：{e}"))?;
        let names: Vec<&str> = FEATURES.iter().map(|f| f.0).collect();
        if m.features != names {
            return Err(format!(
                "模型的特征（{}）与本版程序（{}）不一致，请用 diaoyan train-scorer 重新训练",
                m.features.join(","),
                names.join(",")
            ));
        }
        let n = names.len();
        if m.mean.len() != n || m.scale.len() != n || m.weights.len() != n {
            return Err("模型已损坏：特征维数不一致".into());
        }
        if !(0.0..=100.0).contains(&m.redo_below) || m.review_below < m.redo_below {
            return Err("模型已损坏：退回线和复核线不合理".into());
        }
        Ok(m)
    }

    /// The built-in model.
    pub fn builtin() -> ScoreModel {
        Self::from_json(BUILTIN_MODEL).expect("the shipped model is valid")
    }

    /// Each feature's contribution to the logit.
    pub fn contributions(&self, sig: &Signals) -> [f64; 12] {
        let x = features(sig);
        let mut c = [0.0; 12];
        for i in 0..12 {
            c[i] = self.weights[i] * (x[i] - self.mean[i]) / self.scale[i];
        }
        c
    }

    /// The 0–100 score of a text.
    pub fn score(&self, sig: &Signals) -> f64 {
        100.0 * sigmoid(self.bias + self.contributions(sig).iter().sum::<f64>())
    }

    /// Fits a model on labelled texts (mixed texts count as half substantive). Deterministic:
    /// Newton's method on the penalised log-likelihood.
    pub fn fit(rows: &[Labelled], l2: f64) -> ScoreModel {
        let xs: Vec<[f64; 12]> = rows.iter().map(|r| features(&r.signals)).collect();
        let ys: Vec<f64> = rows.iter().map(|r| r.label.target()).collect();
        let n = xs.len().max(1) as f64;
        let mut mean = vec![0.0; 12];
        let mut scale = vec![0.0; 12];
        for x in &xs {
            for i in 0..12 {
                mean[i] += x[i] / n;
            }
        }
        for x in &xs {
            for i in 0..12 {
                scale[i] += (x[i] - mean[i]).powi(2) / n;
            }
        }
        for s in &mut scale {
            *s = s.sqrt().max(1e-6);
        }
        let z: Vec<[f64; 13]> = xs
            .iter()
            .map(|x| {
                let mut r = [1.0; 13];
                for i in 0..12 {
                    r[i + 1] = (x[i] - mean[i]) / scale[i];
                }
                r
            })
            .collect();
        let mut w = [0.0f64; 13];
        for _ in 0..50 {
            let mut g = [0.0f64; 13];
            let mut h = [[0.0f64; 13]; 13];
            for (zi, &y) in z.iter().zip(&ys) {
                let p = sigmoid(zi.iter().zip(&w).map(|(a, b)| a * b).sum());
                let d = p * (1.0 - p);
                for a in 0..13 {
                    g[a] += (p - y) * zi[a];
                    for b in 0..13 {
                        h[a][b] += d * zi[a] * zi[b];
                    }
                }
            }
            // The intercept is not penalised.
            for a in 1..13 {
                g[a] += l2 * w[a];
                h[a][a] += l2;
            }
            h[0][0] += 1e-9;
            let step = solve(h, g);
            let mut moved = 0.0f64;
            for a in 0..13 {
                w[a] -= step[a];
                moved = moved.max(step[a].abs());
            }
            if moved < 1e-10 {
                break;
            }
        }
        ScoreModel {
            version: 1,
            features: FEATURES.iter().map(|f| f.0.to_owned()).collect(),
            mean,
            scale,
            weights: w[1..].to_vec(),
            bias: w[0],
            l2,
            redo_below: 35.0,
            review_below: 55.0,
            trained_on: String::new(),
            cv: None,
        }
    }

    /// Held-out scores by k-fold cross-validation (folds dealt round-robin within each label,
    /// so every fold holds each label in proportion).
    pub fn cross_validate(rows: &[Labelled], folds: usize, l2: f64) -> Vec<f64> {
        let folds = folds.clamp(2, rows.len().max(2));
        let mut fold_of = vec![0; rows.len()];
        let mut seen = [0usize; 3];
        for (i, r) in rows.iter().enumerate() {
            let k = r.label.index();
            fold_of[i] = seen[k] % folds;
            seen[k] += 1;
        }
        let mut out = vec![0.0; rows.len()];
        for f in 0..folds {
            let train: Vec<Labelled> = rows
                .iter()
                .zip(&fold_of)
                .filter(|(_, k)| **k != f)
                .map(|(r, _)| r.clone())
                .collect();
            let m = Self::fit(&train, l2);
            for (i, r) in rows.iter().enumerate() {
                if fold_of[i] == f {
                    out[i] = m.score(&r.signals);
                }
            }
        }
        out
    }
}

/// Figures of held-out scores against labels, with the redo line at `redo_below`.
pub fn figures(rows: &[Labelled], scores: &[f64], folds: usize, redo_below: f64) -> CvFigures {
    let mut counts = [0usize; 3];
    let mut sums = [0.0; 3];
    let (mut sub, mut hol) = (Vec::new(), Vec::new());
    let (mut tp, mut flagged) = (0usize, 0usize);
    for (r, &s) in rows.iter().zip(scores) {
        let k = r.label.index();
        counts[k] += 1;
        sums[k] += s;
        match r.label {
            Label::Substantive => sub.push(s),
            Label::Hollow => hol.push(s),
            Label::Mixed => {}
        }
        if s < redo_below {
            flagged += 1;
            if r.label == Label::Hollow {
                tp += 1;
            }
        }
    }
    let mean_score = [0, 1, 2].map(|k| {
        if counts[k] == 0 {
            f64::NAN
        } else {
            sums[k] / counts[k] as f64
        }
    });
    CvFigures {
        folds,
        counts,
        auc: auc(&sub, &hol),
        mean_score,
        redo_precision: if flagged == 0 {
            f64::NAN
        } else {
            tp as f64 / flagged as f64
        },
        redo_recall: if counts[2] == 0 {
            f64::NAN
        } else {
            tp as f64 / counts[2] as f64
        },
    }
}

/// ROC-AUC (Mann–Whitney): the chance a random positive scores above a random negative, ties
/// half. O(n log n).
pub fn auc(positives: &[f64], negatives: &[f64]) -> f64 {
    if positives.is_empty() || negatives.is_empty() {
        return f64::NAN;
    }
    let mut all: Vec<(f64, bool)> = positives
        .iter()
        .map(|&x| (x, true))
        .chain(negatives.iter().map(|&x| (x, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Average ranks over ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let avg = (i + j + 1) as f64 / 2.0;
        rank_sum += avg * all[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let p = positives.len() as f64;
    (rank_sum - p * (p + 1.0) / 2.0) / (p * negatives.len() as f64)
}

/// Chooses the redo and review lines from held-out scores: redo = the highest line whose
/// held-out redo precision for hollow texts stays ≥ `precision` (never below 10); review = the
/// line under which at most a tenth of substantive texts fall.
pub fn choose_lines(rows: &[Labelled], scores: &[f64], precision: f64) -> (f64, f64) {
    let mut cands: Vec<f64> = scores.to_vec();
    cands.sort_by(f64::total_cmp);
    let mut redo = 10.0;
    for &c in &cands {
        let line = (c + 0.05).min(100.0);
        let (mut tp, mut n) = (0, 0);
        for (r, &s) in rows.iter().zip(scores) {
            if s < line {
                n += 1;
                tp += usize::from(r.label == Label::Hollow);
            }
        }
        if n > 0 && tp as f64 / n as f64 >= precision && line > redo {
            redo = line;
        }
    }
    let mut sub: Vec<f64> = rows
        .iter()
        .zip(scores)
        .filter(|(r, _)| r.label == Label::Substantive)
        .map(|(_, &s)| s)
        .collect();
    sub.sort_by(f64::total_cmp);
    let review = sub
        .get(sub.len() / 10)
        .copied()
        .unwrap_or(55.0)
        .max(redo + 5.0);
    ((redo * 10.0).round() / 10.0, (review * 10.0).round() / 10.0)
}

/// Solves `h · x = g` (13 × 13, symmetric positive definite) by Gaussian elimination with
/// partial pivoting.
fn solve(mut h: [[f64; 13]; 13], mut g: [f64; 13]) -> [f64; 13] {
    for c in 0..13 {
        let p = (c..13)
            .max_by(|&a, &b| h[a][c].abs().total_cmp(&h[b][c].abs()))
            .unwrap_or(c);
        h.swap(c, p);
        g.swap(c, p);
        let d = h[c][c];
        if d.abs() < 1e-12 {
            continue;
        }
        let pivot = h[c];
        for r in c + 1..13 {
            let f = h[r][c] / d;
            if f != 0.0 {
                for (x, p) in h[r].iter_mut().zip(&pivot).skip(c) {
                    *x -= f * p;
                }
                g[r] -= f * g[c];
            }
        }
    }
    let mut x = [0.0; 13];
    for c in (0..13).rev() {
        let mut s = g[c];
        for k in c + 1..13 {
            s -= h[c][k] * x[k];
        }
        x[c] = if h[c][c].abs() < 1e-12 {
            0.0
        } else {
            s / h[c][c]
        };
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(findings: usize, boiler: usize, sentences: usize) -> Signals {
        Signals {
            chars: 400,
            sentences,
            concrete_sentences: findings,
            facts: findings * 2,
            facts_per_k: findings as f64 * 5.0,
            local_figures: findings,
            boilerplate_sentences: boiler,
            diversity: 0.8,
            ..Signals::default()
        }
    }

    #[test]
    fn auc_counts_ties_half() {
        assert_eq!(auc(&[3.0, 4.0], &[1.0, 2.0]), 1.0);
        assert_eq!(auc(&[1.0], &[1.0]), 0.5);
        assert!((auc(&[1.0, 3.0], &[2.0]) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn fit_learns_the_direction_and_cv_holds_out() {
        let mut rows = Vec::new();
        for i in 0..20 {
            rows.push(Labelled {
                signals: sig(6 + i % 5, i % 2, 12),
                label: Label::Substantive,
            });
            rows.push(Labelled {
                signals: sig(i % 2, 5 + i % 4, 12),
                label: Label::Hollow,
            });
        }
        let m = ScoreModel::fit(&rows, 1.0);
        assert!(m.score(&sig(8, 0, 12)) > 80.0);
        assert!(m.score(&sig(0, 8, 12)) < 20.0);
        let cv = ScoreModel::cross_validate(&rows, 5, 1.0);
        let f = figures(&rows, &cv, 5, 35.0);
        assert!(f.auc > 0.95, "{f:?}");
        assert_eq!(f.counts, [20, 0, 20]);
        let (redo, review) = choose_lines(&rows, &cv, 0.9);
        assert!(redo < review);
    }

    #[test]
    fn model_files_are_checked() {
        let m = ScoreModel::builtin();
        let mut j: serde_json::Value = serde_json::to_value(&m).unwrap();
        j["weights"] = serde_json::json!([1.0]);
        assert!(ScoreModel::from_json(&j.to_string()).is_err());
        assert!(ScoreModel::from_json("{}").is_err());
        assert_eq!(Label::parse("退回重写"), Some(Label::Hollow));
        assert_eq!(Label::parse(" Substantive "), Some(Label::Substantive));
        assert_eq!(Label::parse("不知道"), None);
    }
}
