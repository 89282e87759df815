//! Suggestions → themes → recurring issues.
//!
//! [`Suggester::run`] extracts every opinion, problem and suggestion from the submissions (an
//! opinion row is one suggestion; elsewhere labelled lines, forum speakers, cue sentences and the
//! 存在问题/意见建议 sections, with the people's words told apart from the cadre's prose), gives
//! each a theme from the seeded taxonomy (or a trained [`ThemeModel`]) or 未归类, and groups the
//! suggestions of substantive submissions into recurring [`Issue`]s ranked by an explainable heat
//! index. Suggestions from submissions sent back as hollow or copied are kept and themed but not
//! clustered, so copied text never inflates an issue.
//!
//! Heat (0–100) = 40·L(people, 50) + 20·L(places, 10) + 15·L(units, 10) +
//! 15·concentration·min(1, mentions/3) + 10·L(likes, 100), where L(x, full) = min(1, ln(1 + x) /
//! ln(1 + full)) (each doubling counts about the same) and concentration is the share of dated
//! mentions in the busiest seven days. Every part is written next to the total.
//!
//! ```
//! use diaoyan_model::{Kind, Submission};
//! let s = diaoyan_suggest::SuggestConfig::default().build(diaoyan_text::Segmenter::builtin()).unwrap();
//! let subs: Vec<Submission> = ["石桥村三组机耕路坑洼不平，雨天没法走。", "石桥村三组的机耕路有两处塌方，雨天没法走。"]
//!     .iter()
//!     .enumerate()
//!     .map(|(i, t)| Submission { id: i.to_string(), kind: Some(Kind::Opinion), author: format!("村民{i}"), text: (*t).into(), ..Default::default() })
//!     .collect();
//! let out = s.run(&subs, None);
//! assert_eq!(out.issues.len(), 1);
//! assert_eq!(out.suggestions[0].theme, "交通运输");
//! ```

mod cluster;
mod extract;
mod themes;

pub use cluster::ClusterConfig;
pub use diaoyan_model::{Heat, Issue, Suggestion, Voice};
pub use themes::{
    BUILTIN_THEMES, LabelScore, SeedList, Taxonomy, Theme, ThemeModel, UNCLASSIFIED,
    cross_validate, cross_validate_labels, label_scores, macro_f1, mean_f1,
};

use diaoyan_model::{Submission, Verdict};
use diaoyan_text::Segmenter;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// Errors building a suggester.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The taxonomy file is not valid.
    #[error("主题表有误：{0}")]
    Themes(String),
    /// The model file is not valid.
    #[error("主题模型有误：{0}")]
    Model(String),
    /// A file could not be read.
    #[error("无法读取 {path}：{reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The suggest crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// The `[suggest]` table of a pipeline file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SuggestConfig {
    /// Taxonomy file (default: the built-in `corpora/lexicon/themes.toml`).
    pub themes: Option<PathBuf>,
    /// A model from `diaoyan train-themes`; when set, themes come from it (default: none).
    pub model: Option<PathBuf>,
    /// Fewest Han characters in a suggestion (default 6).
    pub min_chars: usize,
    /// Verdicts whose submissions' suggestions are not clustered (default: redo).
    pub exclude_verdicts: Vec<Verdict>,
    /// Fewest mentions for an issue to be listed (default 2; one-offs stay in suggestions.csv).
    pub min_mentions: usize,
    /// Clustering.
    pub cluster: ClusterConfig,
}

impl Default for SuggestConfig {
    fn default() -> Self {
        Self {
            themes: None,
            model: None,
            min_chars: 6,
            exclude_verdicts: vec![Verdict::Redo],
            min_mentions: 2,
            cluster: ClusterConfig::default(),
        }
    }
}

/// Progress events from [`Suggester::run_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// One more submission read for suggestions.
    Read,
    /// Clustering starts over this many suggestions.
    Clustering(usize),
    /// One more suggestion tokenised for clustering.
    Tokenised,
}

/// A built suggester: taxonomy parsed, model loaded, segmenter shared.
pub struct Suggester {
    cfg: SuggestConfig,
    seg: Segmenter,
    taxonomy: Taxonomy,
    model: Option<ThemeModel>,
}

/// What the suggest stage produced.
#[derive(Debug, Clone, Default)]
pub struct SuggestOutput {
    /// Every suggestion, in submission order.
    pub suggestions: Vec<Suggestion>,
    /// Recurring issues, hottest first.
    pub issues: Vec<Issue>,
}

impl SuggestConfig {
    /// The taxonomy this configuration names (the built-in one by default).
    pub fn taxonomy(&self) -> Result<Taxonomy> {
        match &self.themes {
            Some(p) => Taxonomy::parse(&read_text(p)?),
            None => Taxonomy::parse(BUILTIN_THEMES),
        }
    }

    /// Loads the taxonomy (and model) and returns a suggester.
    pub fn build(&self, seg: Segmenter) -> Result<Suggester> {
        let read = read_text;
        let taxonomy = self.taxonomy()?;
        let model = match &self.model {
            Some(p) => Some(ThemeModel::from_json(&read(p)?)?),
            None => None,
        };
        Ok(Suggester {
            cfg: self.clone(),
            seg,
            taxonomy,
            model,
        })
    }
}

fn read_text(p: &PathBuf) -> Result<String> {
    std::fs::read_to_string(p).map_err(|e| Error::Read {
        path: p.display().to_string(),
        reason: e.to_string(),
    })
}

/// ln(1 + x) / ln(1 + full), capped at 1: each doubling counts about the same.
fn log_share(x: f64, full: f64) -> f64 {
    ((1.0 + x).ln() / (1.0 + full).ln()).min(1.0)
}

impl Suggester {
    /// The taxonomy in use.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// The theme group and theme of a text (未归类 when nothing fits).
    pub fn theme_of(&self, text: &str, title: &str) -> (String, String) {
        if let Some(m) = &self.model {
            let joined = format!("{title}\n{text}");
            let (label, _) = m.predict(&self.seg, &joined);
            let group = self
                .taxonomy
                .themes()
                .iter()
                .find(|t| t.name == label)
                .map(|t| t.group.clone())
                .unwrap_or_default();
            return (group, label.to_owned());
        }
        match self.taxonomy.classify(text, title, None) {
            Some(i) => {
                let t = &self.taxonomy.themes()[i];
                (t.group.clone(), t.name.clone())
            }
            None => (String::new(), UNCLASSIFIED.to_owned()),
        }
    }

    /// Extracts, themes and clusters. `verdicts[i]`, when given, is the verdict on `subs[i]`.
    pub fn run(&self, subs: &[Submission], verdicts: Option<&[Verdict]>) -> SuggestOutput {
        self.run_with(subs, verdicts, &|_| {})
    }

    /// [`Suggester::run`], reporting progress to `tick` (called from worker threads): one
    /// [`Tick::Read`] per submission, then [`Tick::Clustering`] with the number of suggestions
    /// to cluster and one [`Tick::Tokenised`] per suggestion.
    pub fn run_with(
        &self,
        subs: &[Submission],
        verdicts: Option<&[Verdict]>,
        tick: &(dyn Fn(Tick) + Sync),
    ) -> SuggestOutput {
        let mut suggestions: Vec<Suggestion> = subs
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, s)| {
                tick(Tick::Read);
                let excluded = verdicts
                    .and_then(|v| v.get(i))
                    .filter(|v| self.cfg.exclude_verdicts.contains(v))
                    .map(|v| format!("材料结论为“{}”，不计入问题清单", v.label()));
                extract::extract(s, self.cfg.min_chars)
                    .into_iter()
                    .map(move |p| {
                        let (theme_group, theme) = self.theme_of(&p.text, &s.title);
                        let id = format!(
                            "{:016x}",
                            xxhash_rust::xxh3::xxh3_64(
                                format!("{}\0{}\0{}", s.id, p.start, p.end).as_bytes()
                            )
                        );
                        Suggestion {
                            id,
                            submission: s.id.clone(),
                            path: s.path.clone(),
                            author: s.author.clone(),
                            unit: s.unit.clone(),
                            place: s.place.clone(),
                            date: s.date.clone(),
                            voice: p.voice,
                            text: p.text,
                            start: p.start,
                            end: p.end,
                            likes: s.likes.unwrap_or(0),
                            theme_group,
                            theme,
                            issue: None,
                            excluded: excluded.clone(),
                        }
                    })
            })
            .collect();

        let active: Vec<usize> = (0..suggestions.len())
            .filter(|&i| suggestions[i].excluded.is_none())
            .collect();
        tick(Tick::Clustering(active.len()));
        let docs: Vec<Vec<cluster::Token>> = active
            .par_iter()
            .map(|&i| {
                let t = cluster::tokens(&self.seg, &suggestions[i].text);
                tick(Tick::Tokenised);
                t
            })
            .collect();
        let space = cluster::vectorise(&docs, &self.cfg.cluster);
        // The token lists are the largest transient structure at scale; the vectors replace them.
        drop(docs);
        let labels = cluster::cluster(&space, &self.cfg.cluster);
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (k, &l) in labels.iter().enumerate() {
            groups.entry(l).or_default().push(k);
        }
        let groups: Vec<Vec<usize>> = groups
            .into_values()
            .filter(|m| m.len() >= self.cfg.min_mentions.max(1))
            .collect();

        // Class-based TF-IDF for titles: tf(t, issue) · ln(1 + A / f(t)).
        let mut term_total: HashMap<u32, f32> = HashMap::new();
        let mut per_group: Vec<HashMap<u32, f32>> = Vec::with_capacity(groups.len());
        for members in &groups {
            let mut tf: HashMap<u32, f32> = HashMap::new();
            for &k in members {
                for &(t, _) in &space.vectors[k].terms {
                    *tf.entry(t).or_default() += 1.0;
                }
            }
            for (&t, &c) in &tf {
                *term_total.entry(t).or_default() += c;
            }
            per_group.push(tf);
        }
        let avg = per_group
            .iter()
            .map(|g| g.values().sum::<f32>())
            .sum::<f32>()
            / per_group.len().max(1) as f32;

        let mut issues: Vec<Issue> = groups
            .iter()
            .zip(&per_group)
            .map(|(members, tf)| {
                let idx: Vec<usize> = members.iter().map(|&k| active[k]).collect();
                let mut terms: Vec<(u32, f32)> = tf
                    .iter()
                    .map(|(&t, &c)| (t, c * (1.0 + avg / term_total[&t]).ln()))
                    .collect();
                // Nouns and places first (石桥村 / 机耕路 / 塌方), then the rest by weight.
                terms.sort_by(|a, b| {
                    let noun = |t: u32| space.noun[t as usize] || space.place[t as usize];
                    noun(b.0)
                        .cmp(&noun(a.0))
                        .then(b.1.total_cmp(&a.1))
                        .then(space.vocab[a.0 as usize].cmp(&space.vocab[b.0 as usize]))
                });
                let title = terms
                    .iter()
                    .take(4)
                    .map(|(t, _)| space.vocab[*t as usize].as_str())
                    .collect::<Vec<_>>()
                    .join(" / ");
                let centroid = cluster::Dense::of(&cluster::centroid(&space, members));
                let mut by_centrality: Vec<(usize, f64)> = members
                    .iter()
                    .map(|&k| (active[k], centroid.dot(&space.vectors[k])))
                    .collect();
                by_centrality.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                let mut examples: Vec<String> = Vec::new();
                for (i, _) in &by_centrality {
                    if examples.len() < 3 && !examples.contains(&suggestions[*i].text) {
                        examples.push(suggestions[*i].text.clone());
                    }
                }
                self.issue_of(&suggestions, &idx, title, examples)
            })
            .collect();
        issues.sort_by(|a, b| {
            b.heat
                .total
                .total_cmp(&a.heat.total)
                .then(b.mentions.cmp(&a.mentions))
                .then(a.title.cmp(&b.title))
        });
        for (rank, issue) in issues.iter_mut().enumerate() {
            issue.id = format!("I{:04}", rank + 1);
        }
        let mut issue_of: HashMap<&str, String> = HashMap::new();
        for issue in &issues {
            for m in &issue.members {
                issue_of.insert(m.as_str(), issue.id.clone());
            }
        }
        let ids: Vec<Option<String>> = suggestions
            .iter()
            .map(|s| issue_of.get(s.id.as_str()).cloned())
            .collect();
        for (s, id) in suggestions.iter_mut().zip(ids) {
            s.issue = id;
        }
        SuggestOutput {
            suggestions,
            issues,
        }
    }

    fn issue_of(
        &self,
        all: &[Suggestion],
        idx: &[usize],
        title: String,
        examples: Vec<String>,
    ) -> Issue {
        let members: Vec<&Suggestion> = idx.iter().map(|&i| &all[i]).collect();
        let count = |f: &dyn Fn(&Suggestion) -> String| {
            let mut m: BTreeMap<String, usize> = BTreeMap::new();
            for s in &members {
                let k = f(s);
                if !k.is_empty() {
                    *m.entry(k).or_default() += 1;
                }
            }
            m
        };
        // A person: the citizen of an opinion row; each household or speaker quoted in a cadre's
        // record (the people's voice); the cadre for the cadre's own prose.
        let people = count(&|s| match (s.voice, s.path.contains('#')) {
            (Voice::People, false) => s.id.clone(),
            _ if s.author.is_empty() => s.submission.clone(),
            _ => s.author.clone(),
        });
        let places = count(&|s| s.place.clone());
        let units = count(&|s| s.unit.clone());
        let themes = count(&|s| {
            if s.theme == UNCLASSIFIED {
                String::new()
            } else {
                s.theme.clone()
            }
        });
        let submissions = count(&|s| s.submission.clone()).len();
        let mut dates: Vec<chrono::NaiveDate> = members
            .iter()
            .filter_map(|s| chrono::NaiveDate::parse_from_str(&s.date, "%Y-%m-%d").ok())
            .collect();
        dates.sort_unstable();
        let concentration = if dates.is_empty() {
            0.0
        } else {
            let mut best = 0;
            let mut j = 0;
            for i in 0..dates.len() {
                while (dates[i] - dates[j]).num_days() >= 7 {
                    j += 1;
                }
                best = best.max(i - j + 1);
            }
            best as f64 / dates.len() as f64
        };
        let likes: u32 = members.iter().map(|s| s.likes).sum();
        let mentions = members.len();
        let heat = Heat {
            total: 0.0,
            people: people.len(),
            places: places.len(),
            units: units.len(),
            concentration: (concentration * 1000.0).round() / 1000.0,
            likes,
        };
        let total = 40.0 * log_share(heat.people as f64, 50.0)
            + 20.0 * log_share(heat.places as f64, 10.0)
            + 15.0 * log_share(heat.units as f64, 10.0)
            + 15.0 * heat.concentration * (mentions as f64 / 3.0).min(1.0)
            + 10.0 * log_share(f64::from(likes), 100.0);
        let mut place_list: Vec<(String, usize)> = places.into_iter().collect();
        place_list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let theme = themes
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(t, _)| t.clone())
            .unwrap_or_else(|| UNCLASSIFIED.to_owned());
        let theme_group = members
            .iter()
            .find(|s| s.theme == theme)
            .map(|s| s.theme_group.clone())
            .unwrap_or_default();
        Issue {
            id: String::new(),
            title,
            central: examples.first().cloned().unwrap_or_default(),
            theme_group,
            theme,
            heat: Heat {
                total: (total * 10.0).round() / 10.0,
                ..heat
            },
            mentions,
            submissions,
            places: place_list.into_iter().map(|(p, _)| p).collect(),
            first: dates.first().map(|d| d.to_string()).unwrap_or_default(),
            last: dates.last().map(|d| d.to_string()).unwrap_or_default(),
            examples,
            members: members.iter().map(|s| s.id.clone()).collect(),
        }
    }
}
