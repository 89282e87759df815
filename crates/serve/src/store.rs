//! One run's outputs, read from its folder: the submissions with their judgements
//! (`submissions.jsonl`), suggestions, issues, topics and cadres (their CSV files), the run's
//! figures (`run.json`) and the keyword index. Read once and again whenever `run.json` changes.

use crate::Error;
use diaoyan_model::{Assessment, Submission};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A submission with its judgement.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Doc {
    /// The submission.
    #[serde(flatten)]
    pub sub: Submission,
    /// Score, verdict, reasons (absent when the score stage did not run).
    #[serde(default)]
    pub assessment: Option<Assessment>,
}

/// A CSV file as read: its header and rows.
#[derive(Debug, Default)]
pub struct Sheet {
    columns: HashMap<String, usize>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

impl Sheet {
    /// Reads `path` (UTF-8 with or without a BOM); a missing file is an empty sheet.
    fn read(path: &Path) -> Result<Sheet, Error> {
        if !path.exists() {
            return Ok(Sheet::default());
        }
        let bad = |e: &dyn std::fmt::Display| Error::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let bytes = std::fs::read(path).map_err(|e| bad(&e))?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let columns = r
            .headers()
            .map_err(|e| bad(&e))?
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_owned(), i))
            .collect();
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| bad(&e))?;
            rows.push(rec.iter().map(str::to_owned).collect());
        }
        Ok(Sheet { columns, rows })
    }

    /// The cell of `row` under `column` (empty when either is missing).
    pub fn get<'a>(&self, row: &'a [String], column: &str) -> &'a str {
        self.columns
            .get(column)
            .and_then(|&i| row.get(i))
            .map_or("", String::as_str)
    }
}

/// Row numbers of a sheet by the value of one column, built once when the run is read (a
/// page looks rows up by id; scanning the sheet per topic would be quadratic).
#[derive(Debug, Default)]
pub struct Lookup(HashMap<String, Vec<usize>>);

impl Lookup {
    fn of(sheet: &Sheet, column: &str) -> Lookup {
        let mut m: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in sheet.rows.iter().enumerate() {
            let v = sheet.get(r, column);
            if !v.is_empty() {
                m.entry(v.to_owned()).or_default().push(i);
            }
        }
        Lookup(m)
    }

    /// The rows of `sheet` whose column is `key`, in sheet order.
    pub fn rows<'a>(&self, sheet: &'a Sheet, key: &str) -> Vec<&'a Vec<String>> {
        self.0
            .get(key)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&i| &sheet.rows[i])
            .collect()
    }
}

/// A run's outputs.
pub struct Store {
    /// The output folder.
    pub out: PathBuf,
    /// `run.json`.
    pub run: serde_json::Value,
    /// Submissions in run order.
    pub docs: Vec<Doc>,
    /// Index into `docs` by submission id.
    pub by_id: HashMap<String, usize>,
    /// `suggestions.csv`.
    pub suggestions: Sheet,
    /// `issues.csv`.
    pub issues: Sheet,
    /// Suggestions by 材料ID.
    pub suggestions_of_submission: Lookup,
    /// Suggestions by 问题编号.
    pub suggestions_of_issue: Lookup,
    /// Issues by 问题编号.
    pub issue_rows: Lookup,
    /// Issues by 专题编号.
    pub issues_of_topic: Lookup,
    /// `topics.csv`.
    pub topics: Sheet,
    /// `cadres.csv`.
    pub cadres: Sheet,
    /// `ingest_errors.csv`.
    pub errors: Sheet,
    /// The keyword index, when the run wrote one.
    pub searcher: Option<diaoyan_index::Searcher>,
    /// When `run.json` was last changed (to notice a re-run).
    pub stamp: Option<std::time::SystemTime>,
}

/// When `run.json` in `out` was last changed.
pub fn stamp(out: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(out.join("run.json"))
        .and_then(|m| m.modified())
        .ok()
}

impl Store {
    /// Reads the run in `out`.
    pub fn load(out: &Path) -> Result<Store, Error> {
        let stamp = stamp(out);
        let run_path = out.join("run.json");
        let run: serde_json::Value = std::fs::read(&run_path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|reason| Error::NotARun {
                path: out.to_path_buf(),
                reason,
            })?;
        if run["tool"] != "diaoyan" {
            return Err(Error::NotARun {
                path: out.to_path_buf(),
                reason: "run.json 不是 diaoyan 写的".into(),
            });
        }
        let jsonl = out.join("submissions.jsonl");
        let text = std::fs::read_to_string(&jsonl).map_err(|e| Error::Read {
            path: jsonl.clone(),
            reason: e.to_string(),
        })?;
        let mut docs = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let d: Doc = serde_json::from_str(line).map_err(|e| Error::Read {
                path: jsonl.clone(),
                reason: format!("第 {} 行：{e}", i + 1),
            })?;
            docs.push(d);
        }
        let by_id = docs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.sub.id.to_string(), i))
            .collect();
        // The dictionary the index was built with (the built-in one when the run's lexicon files
        // are gone: matching is by characters, only ranking uses words).
        let seg = diaoyan_index::run_lexicons(out)
            .map(|l| diaoyan_text::Segmenter::new(&l))
            .unwrap_or_else(|_| diaoyan_text::Segmenter::builtin());
        let searcher = diaoyan_index::Searcher::open(&out.join("index"), &seg).ok();
        let suggestions = Sheet::read(&out.join("suggestions.csv"))?;
        let issues = Sheet::read(&out.join("issues.csv"))?;
        Ok(Store {
            out: out.to_path_buf(),
            run,
            docs,
            by_id,
            suggestions_of_submission: Lookup::of(&suggestions, "材料ID"),
            suggestions_of_issue: Lookup::of(&suggestions, "问题编号"),
            issue_rows: Lookup::of(&issues, "问题编号"),
            issues_of_topic: Lookup::of(&issues, "专题编号"),
            suggestions,
            issues,
            topics: Sheet::read(&out.join("topics.csv"))?,
            cadres: Sheet::read(&out.join("cadres.csv"))?,
            errors: Sheet::read(&out.join("ingest_errors.csv"))?,
            searcher,
            stamp,
        })
    }

    /// Every issue as decisions are matched to it (id, title, member suggestion ids).
    pub fn issue_refs(&self) -> Vec<diaoyan_digest::IssueRef<'_>> {
        let is = &self.issues;
        is.rows
            .iter()
            .map(|r| {
                let id = is.get(r, "问题编号");
                diaoyan_digest::IssueRef {
                    id,
                    title: is.get(r, "标题"),
                    members: self.issue_members(id).collect(),
                }
            })
            .collect()
    }

    /// The member suggestion ids of an issue.
    pub fn issue_members<'a>(&'a self, id: &str) -> impl Iterator<Item = &'a str> {
        let sg = &self.suggestions;
        self.suggestions_of_issue
            .rows(sg, id)
            .into_iter()
            .map(move |r| sg.get(r, "ID"))
    }

    /// The row of an issue in `issues.csv`.
    pub fn issue(&self, id: &str) -> Option<&Vec<String>> {
        self.issue_rows.rows(&self.issues, id).into_iter().next()
    }

    /// The submission with this id.
    pub fn doc(&self, id: &str) -> Option<&Doc> {
        self.by_id.get(id).map(|&i| &self.docs[i])
    }
}
