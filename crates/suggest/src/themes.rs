//! Themes: the seeded two-level taxonomy, and a linear model learnt from a labelled sheet.

use crate::{Error, Result};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use diaoyan_text::Segmenter;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The taxonomy shipped with the binary (`corpora/lexicon/themes.toml`).
pub const BUILTIN_THEMES: &str = include_str!("../../../corpora/lexicon/themes.toml");

/// The label of a suggestion no theme fits.
pub const UNCLASSIFIED: &str = "未归类";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxonomyFile {
    group: Vec<GroupDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupDef {
    name: String,
    theme: Vec<ThemeDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeDef {
    name: String,
    seeds: Vec<String>,
}

/// A theme and its group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Theme {
    /// Group (四风, 民生).
    pub group: String,
    /// Theme (形式主义, 交通运输 …).
    pub name: String,
}

/// The seed terms of one theme, as plain data (what a trained model keeps of the taxonomy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedList {
    /// Group (四风, 民生).
    pub group: String,
    /// Theme.
    pub name: String,
    /// Seed terms.
    pub seeds: Vec<String>,
}

/// The seeded taxonomy: each theme's seed terms, matched all at once.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    themes: Vec<Theme>,
    lists: Vec<SeedList>,
    matcher: AhoCorasick,
    seed_theme: Vec<usize>,
}

impl Taxonomy {
    /// Parses a taxonomy file (TOML: `[[group]]` with `[[group.theme]]` name and seeds).
    pub fn parse(text: &str) -> Result<Taxonomy> {
        let file: TaxonomyFile = toml::from_str(text).map_err(|e| Error::Themes(e.to_string()))?;
        let lists = file
            .group
            .into_iter()
            .flat_map(|g| {
                g.theme.into_iter().map(move |t| SeedList {
                    group: g.name.clone(),
                    name: t.name,
                    seeds: t.seeds,
                })
            })
            .collect();
        Taxonomy::from_lists(lists)
    }

    /// Builds a taxonomy from its seed lists.
    pub fn from_lists(lists: Vec<SeedList>) -> Result<Taxonomy> {
        if lists.is_empty() {
            return Err(Error::Themes("主题表中没有任何主题".into()));
        }
        let mut themes = Vec::new();
        let mut seeds = Vec::new();
        let mut seed_theme = Vec::new();
        for (i, t) in lists.iter().enumerate() {
            themes.push(Theme {
                group: t.group.clone(),
                name: t.name.clone(),
            });
            for s in &t.seeds {
                if !s.trim().is_empty() {
                    seeds.push(s.trim().to_owned());
                    seed_theme.push(i);
                }
            }
        }
        // A DFA without a prefilter: on Chinese text the seeds' first bytes are everywhere, so a
        // prefilter would fire at almost every character and only add work.
        let matcher = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .prefilter(false)
            .build(&seeds)
            .map_err(|e| Error::Themes(e.to_string()))?;
        Ok(Taxonomy {
            themes,
            lists,
            matcher,
            seed_theme,
        })
    }

    /// The themes, in file order.
    pub fn themes(&self) -> &[Theme] {
        &self.themes
    }

    /// The seed lists, in file order.
    pub fn lists(&self) -> &[SeedList] {
        &self.lists
    }

    /// Seed evidence per theme: distinct seeds matched (overlapping matches count, so 垃圾站
    /// also counts 垃圾), title matches twice.
    pub fn evidence(&self, text: &str, title: &str) -> Vec<f64> {
        let mut score = vec![0.0; self.themes.len()];
        // The seeds seen in one text: a handful, so a list searched in place (no hashing, no
        // allocation for a text with none).
        let mut seen: Vec<usize> = Vec::new();
        for (t, weight) in [(text, 1.0), (title, 2.0)] {
            seen.clear();
            for m in self.matcher.find_overlapping_iter(t) {
                let p = m.pattern().as_usize();
                if !seen.contains(&p) {
                    seen.push(p);
                    score[self.seed_theme[p]] += weight;
                }
            }
        }
        score
    }

    /// The best theme among `allowed` (all when `None`); `None` when no seed matches.
    pub fn classify(&self, text: &str, title: &str, allowed: Option<&[usize]>) -> Option<usize> {
        let score = self.evidence(text, title);
        let mut best: Option<(usize, f64)> = None;
        for (i, &s) in score.iter().enumerate() {
            if s <= 0.0 || allowed.is_some_and(|a| !a.contains(&i)) {
                continue;
            }
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((i, s));
            }
        }
        best.map(|(i, _)| i)
    }
}

/// A multinomial logistic-regression model over TF-IDF-weighted content words and character
/// bigrams, plus — when trained with a taxonomy — one feature per theme: the share of the text's
/// seed matches that theme has. The seeds carry what a few hundred labelled rows cannot teach
/// (a term seen once or never in training); the words carry the office's own usage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThemeModel {
    /// Format version.
    pub version: u32,
    /// Theme labels, in weight-row order.
    pub labels: Vec<String>,
    /// Word → feature index.
    pub vocab: HashMap<String, u32>,
    /// Inverse document frequency per feature.
    pub idf: Vec<f32>,
    /// The taxonomy's seed lists the model was trained with (empty: words only). Kept in the
    /// model so it predicts the same way whatever taxonomy a later run names.
    #[serde(default)]
    pub seeds: Vec<SeedList>,
    /// `labels × (features + themes + 1)` weights, the last column the bias.
    pub weights: Vec<Vec<f32>>,
    #[serde(skip)]
    prior: Option<Taxonomy>,
}

/// Scale of the seed features against the L2-normalised word features.
const SEED_SCALE: f32 = 0.5;

/// The model's terms of a text: content words, and Han character bigrams (prefixed `#`), which
/// catch words the segmenter splits differently.
fn terms(seg: &Segmenter, text: &str) -> Vec<String> {
    let mut out: Vec<String> = seg
        .content_words(text)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let han: Vec<char> = text.chars().filter(|&c| diaoyan_text::is_han(c)).collect();
    out.extend(han.windows(2).map(|w| format!("#{}{}", w[0], w[1])));
    out.extend(han.iter().map(|c| format!("#{c}")));
    out
}

/// Sparse, L2-normalised TF-IDF features, then the seed features (indices after the vocabulary).
fn features_with_prior(
    text: &str,
    words: &[String],
    vocab: &HashMap<String, u32>,
    idf: &[f32],
    prior: Option<&Taxonomy>,
) -> Vec<(u32, f32)> {
    let mut v = features(words, vocab, idf);
    if let Some(tax) = prior {
        let evidence = tax.evidence(text, "");
        let total: f64 = evidence.iter().sum();
        if total > 0.0 {
            let base = vocab.len() as u32;
            for (t, e) in evidence.iter().enumerate() {
                if *e > 0.0 {
                    v.push((base + t as u32, SEED_SCALE * (*e / total) as f32));
                }
            }
        }
    }
    v
}

/// Sparse, L2-normalised TF-IDF features.
fn features(words: &[String], vocab: &HashMap<String, u32>, idf: &[f32]) -> Vec<(u32, f32)> {
    let mut tf: BTreeMap<u32, f32> = BTreeMap::new();
    for w in words {
        if let Some(&i) = vocab.get(w.as_str()) {
            *tf.entry(i).or_default() += 1.0;
        }
    }
    let mut v: Vec<(u32, f32)> = tf
        .into_iter()
        .map(|(i, c)| (i, (1.0 + c.ln()) * idf[i as usize]))
        .collect();
    let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, x) in &mut v {
            *x /= norm;
        }
    }
    v
}

/// One decision value per label: `w · x + bias`.
fn decision_values(weights: &[Vec<f32>], x: &[(u32, f32)]) -> Vec<f32> {
    let bias = weights.first().map_or(0, |w| w.len() - 1);
    weights
        .iter()
        .map(|w| w[bias] + x.iter().map(|&(i, v)| w[i as usize] * v).sum::<f32>())
        .collect()
}

impl ThemeModel {
    /// Trains on `(text, label)` pairs: content words and character bigrams seen in at least two
    /// texts (and the seed features of `prior`, when given), 30 epochs of SGD with L2
    /// regularisation in a fixed order (deterministic).
    pub fn train(
        seg: &Segmenter,
        data: &[(String, String)],
        prior: Option<&Taxonomy>,
    ) -> ThemeModel {
        let mut labels: Vec<String> = data.iter().map(|(_, l)| l.clone()).collect();
        labels.sort();
        labels.dedup();
        let tokenised: Vec<Vec<String>> = data.iter().map(|(t, _)| terms(seg, t)).collect();
        let mut df: HashMap<&str, u32> = HashMap::new();
        for words in &tokenised {
            let mut uniq: Vec<&str> = words.iter().map(String::as_str).collect();
            uniq.sort_unstable();
            uniq.dedup();
            for w in uniq {
                *df.entry(w).or_default() += 1;
            }
        }
        let mut kept: Vec<(&str, u32)> = df
            .into_iter()
            .filter(|(w, _)| w.starts_with('#') || w.chars().count() >= 2)
            .collect();
        kept.sort();
        let n = data.len().max(1) as f32;
        let vocab: HashMap<String, u32> = kept
            .iter()
            .enumerate()
            .map(|(i, (w, _))| ((*w).to_owned(), i as u32))
            .collect();
        let idf: Vec<f32> = kept
            .iter()
            .map(|(_, c)| (n / *c as f32).ln() + 1.0)
            .collect();
        let xs: Vec<Vec<(u32, f32)>> = tokenised
            .iter()
            .zip(data)
            .map(|(w, (text, _))| features_with_prior(text, w, &vocab, &idf, prior))
            .collect();
        let ys: Vec<usize> = data
            .iter()
            .map(|(_, l)| labels.iter().position(|x| x == l).expect("label from data"))
            .collect();
        let dim = vocab.len() + prior.map_or(0, |t| t.themes().len()) + 1;
        let weights = train_svm(&xs, &ys, labels.len(), dim, 1.0);
        ThemeModel {
            version: 2,
            labels,
            vocab,
            idf,
            seeds: prior.map(|t| t.lists().to_vec()).unwrap_or_default(),
            weights,
            prior: prior.cloned(),
        }
    }

    /// The best label and its margin over the runner-up (difference of decision values; infinite
    /// with a single label).
    pub fn predict(&self, seg: &Segmenter, text: &str) -> (&str, f32) {
        let x = features_with_prior(
            text,
            &terms(seg, text),
            &self.vocab,
            &self.idf,
            self.prior.as_ref(),
        );
        let z = decision_values(&self.weights, &x);
        let mut best = 0;
        for (i, v) in z.iter().enumerate() {
            if *v > z[best] {
                best = i;
            }
        }
        let runner_up = z
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != best)
            .map(|(_, v)| *v)
            .fold(f32::NEG_INFINITY, f32::max);
        (&self.labels[best], z[best] - runner_up)
    }

    /// Reads a model written by [`ThemeModel::to_json`].
    pub fn from_json(text: &str) -> Result<ThemeModel> {
        let mut m: ThemeModel =
            serde_json::from_str(text).map_err(|e| Error::Model(e.to_string()))?;
        let dim = m.vocab.len() + m.seeds.len() + 1;
        if m.labels.is_empty()
            || m.weights.len() != m.labels.len()
            || m.weights.iter().any(|w| w.len() != dim)
            || m.idf.len() != m.vocab.len()
            || m.vocab.values().any(|&i| i as usize >= m.idf.len())
        {
            return Err(Error::Model(
                "模型文件不完整或已损坏（权重维数与词表不符）".into(),
            ));
        }
        if !m.seeds.is_empty() {
            m.prior = Some(Taxonomy::from_lists(m.seeds.clone())?);
        }
        Ok(m)
    }

    /// The model as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model always serialises")
    }
}

/// One-vs-rest linear SVMs (squared hinge, L2), trained by dual coordinate descent
/// (Hsieh et al. 2008, as in LIBLINEAR): exact, fast on sparse text, and deterministic here
/// (fixed visiting order). The bias is a constant feature of value 1.
fn train_svm(
    xs: &[Vec<(u32, f32)>],
    ys: &[usize],
    n_labels: usize,
    dim: usize,
    c: f64,
) -> Vec<Vec<f32>> {
    let n = xs.len();
    let d_ii = 0.5 / c;
    let q: Vec<f64> = xs
        .iter()
        .map(|x| x.iter().map(|&(_, v)| (v as f64) * (v as f64)).sum::<f64>() + 1.0 + d_ii)
        .collect();
    let mut out = Vec::with_capacity(n_labels);
    for label in 0..n_labels {
        let y: Vec<f64> = ys
            .iter()
            .map(|&k| if k == label { 1.0 } else { -1.0 })
            .collect();
        let mut w = vec![0.0f64; dim];
        let mut alpha = vec![0.0f64; n];
        let mut order: Vec<usize> = (0..n).collect();
        let mut state = 0x2545_F491_4F6C_DD1Du64 ^ label as u64;
        for _ in 0..1000 {
            for i in (1..order.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                order.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let (mut pg_max, mut pg_min) = (f64::MIN, f64::MAX);
            for &i in &order {
                let wx = w[dim - 1]
                    + xs[i]
                        .iter()
                        .map(|&(j, v)| w[j as usize] * v as f64)
                        .sum::<f64>();
                let g = y[i] * wx - 1.0 + d_ii * alpha[i];
                let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
                pg_max = pg_max.max(pg);
                pg_min = pg_min.min(pg);
                if pg.abs() > 1e-12 {
                    let old = alpha[i];
                    alpha[i] = (alpha[i] - g / q[i]).max(0.0);
                    let step = (alpha[i] - old) * y[i];
                    for &(j, v) in &xs[i] {
                        w[j as usize] += step * v as f64;
                    }
                    w[dim - 1] += step;
                }
            }
            if pg_max - pg_min < 0.01 {
                break;
            }
        }
        out.push(w.into_iter().map(|x| x as f32).collect());
    }
    out
}

/// Precision, recall and F1 of one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelScore {
    /// The label.
    pub label: String,
    /// Rows that truly carry it.
    pub support: usize,
    /// Share of rows predicted as it that carry it.
    pub precision: f64,
    /// Share of rows carrying it that were predicted as it.
    pub recall: f64,
    /// Harmonic mean of the two (0 when nothing is right).
    pub f1: f64,
}

/// Per-label scores over the labels present in `truth`, in label order.
pub fn label_scores(truth: &[String], predicted: &[String]) -> Vec<LabelScore> {
    let mut labels: Vec<&String> = truth.iter().collect();
    labels.sort();
    labels.dedup();
    labels
        .into_iter()
        .map(|l| {
            let pairs = || truth.iter().zip(predicted);
            let tp = pairs().filter(|(t, p)| *t == l && *p == l).count() as f64;
            let fp = pairs().filter(|(t, p)| *t != l && *p == l).count() as f64;
            let fnn = pairs().filter(|(t, p)| *t == l && *p != l).count() as f64;
            let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
            LabelScore {
                label: l.clone(),
                support: (tp + fnn) as usize,
                precision: ratio(tp, tp + fp),
                recall: ratio(tp, tp + fnn),
                f1: ratio(2.0 * tp, 2.0 * tp + fp + fnn),
            }
        })
        .collect()
}

/// The mean F1 of per-label scores (0 with no labels).
pub fn mean_f1(scores: &[LabelScore]) -> f64 {
    if scores.is_empty() {
        0.0
    } else {
        scores.iter().map(|s| s.f1).sum::<f64>() / scores.len() as f64
    }
}

/// Macro-averaged F1 over the labels present in `truth`.
pub fn macro_f1(truth: &[String], predicted: &[String]) -> f64 {
    mean_f1(&label_scores(truth, predicted))
}

/// k-fold cross-validated macro-F1 of [`ThemeModel`] on `data` (folds by position after a fixed
/// shuffle).
pub fn cross_validate(
    seg: &Segmenter,
    data: &[(String, String)],
    k: usize,
    prior: Option<&Taxonomy>,
) -> f64 {
    mean_f1(&cross_validate_labels(seg, data, k, prior))
}

/// k-fold cross-validated scores of [`ThemeModel`] per label: which categories need more examples.
pub fn cross_validate_labels(
    seg: &Segmenter,
    data: &[(String, String)],
    k: usize,
    prior: Option<&Taxonomy>,
) -> Vec<LabelScore> {
    let k = k.max(2);
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for i in (1..order.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    let mut truth = Vec::new();
    let mut pred = Vec::new();
    for fold in 0..k {
        let train: Vec<(String, String)> = order
            .iter()
            .enumerate()
            .filter(|(j, _)| j % k != fold)
            .map(|(_, &i)| data[i].clone())
            .collect();
        let model = ThemeModel::train(seg, &train, prior);
        for (_, &i) in order.iter().enumerate().filter(|(j, _)| j % k == fold) {
            truth.push(data[i].1.clone());
            pred.push(model.predict(seg, &data[i].0).0.to_owned());
        }
    }
    label_scores(&truth, &pred)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_taxonomy_classifies_plain_cases() {
        let t = Taxonomy::parse(BUILTIN_THEMES).unwrap();
        let name = |text: &str| {
            t.classify(text, "", None)
                .map(|i| t.themes()[i].name.clone())
        };
        let cases = [
            ("三组机耕路有两处塌方，拖拉机开不进去", Some("交通运输")),
            ("村干部说一周要填十几张表，迎检任务重", Some("形式主义")),
            ("卫生室没有医生坐诊，看病要跑镇卫生院", Some("卫生计生")),
            ("垃圾池十来天才清运一次，臭气熏天", Some("环境保护")),
            ("教学点撤并后孩子上学要走八公里", Some("教育文体")),
            ("今天天气很好", None),
        ];
        for (text, want) in cases {
            assert_eq!(name(text).as_deref(), want, "{text}");
        }
        assert!(Taxonomy::parse("[[group]]\nname = \"x\"\ntheme = []").is_err());
    }

    #[test]
    fn model_learns_and_round_trips() {
        let seg = Segmenter::builtin();
        let mut data = Vec::new();
        for i in 0..12 {
            data.push((
                format!("公交车{i}路站点太远，班车停运，出行困难"),
                "交通".to_owned(),
            ));
            data.push((format!("学校{i}班补课收费，学生负担重"), "教育".to_owned()));
        }
        let m = ThemeModel::train(&seg, &data, None);
        assert_eq!(m.predict(&seg, "班车停运了").0, "交通");
        assert_eq!(m.predict(&seg, "学校乱收补课费").0, "教育");
        let back = ThemeModel::from_json(&m.to_json()).unwrap();
        assert_eq!(back.predict(&seg, "班车停运了").0, "交通");
        assert!(cross_validate(&seg, &data, 3, None) > 0.9);
    }

    #[test]
    fn seed_features_carry_terms_training_never_saw() {
        let seg = Segmenter::builtin();
        let tax = Taxonomy::parse(BUILTIN_THEMES).unwrap();
        let mut data = Vec::new();
        for i in 0..10 {
            data.push((format!("第{i}趟班车停运，出行困难"), "交通运输".to_owned()));
            data.push((
                format!("第{i}小学补课收费，学生负担重"),
                "教育文体".to_owned(),
            ));
        }
        // 网约车 and 拒载 appear in no training row; only the seeds know them.
        let probe = "网约车司机拒载";
        let with = ThemeModel::train(&seg, &data, Some(&tax));
        assert_eq!(with.predict(&seg, probe).0, "交通运输");
        assert!(!with.seeds.is_empty());
        // The seeds travel with the model.
        let back = ThemeModel::from_json(&with.to_json()).unwrap();
        assert_eq!(back.predict(&seg, probe), with.predict(&seg, probe));
        // A damaged model is refused, not used.
        let mut broken = with.clone();
        broken.weights[0].pop();
        assert!(ThemeModel::from_json(&broken.to_json()).is_err());
    }

    #[test]
    fn macro_f1_table() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(macro_f1(&s(&["a", "b"]), &s(&["a", "b"])), 1.0);
        assert_eq!(macro_f1(&s(&["a", "a"]), &s(&["b", "b"])), 0.0);
        assert!(
            (macro_f1(&s(&["a", "a", "b", "b"]), &s(&["a", "b", "b", "b"])) - 0.7333).abs() < 1e-3
        );
        let per = label_scores(&s(&["a", "a", "b", "b"]), &s(&["a", "b", "b", "b"]));
        assert_eq!(per.len(), 2);
        assert_eq!((per[0].label.as_str(), per[0].support), ("a", 2));
        assert_eq!((per[0].precision, per[0].recall), (1.0, 0.5));
        assert!((per[1].precision - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(per[1].recall, 1.0);
    }
}
