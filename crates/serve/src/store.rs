//! One run's outputs, read from its folder: the submissions with their judgements
//! (`submissions.jsonl`), suggestions, issues, topics and cadres (their CSV files), the run's
//! figures (`run.json`) and the keyword index. Read once and again whenever `run.json` changes.

use crate::Error;
use diaoyan_model::{Assessment, Submission};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
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
///
/// A row is one `csv::StringRecord` (its cells in one buffer), not a `String` per cell (24 bytes
/// and an allocation each: 5.6 M suggestion rows × 16 cells at 1M documents).
#[derive(Debug, Default)]
pub struct Sheet {
    columns: HashMap<String, usize>,
    /// Rows of cells.
    pub rows: Vec<csv::StringRecord>,
}

impl Sheet {
    /// Reads `path` (UTF-8 with or without a BOM) as it streams in; a missing file is an empty
    /// sheet.
    fn read(path: &Path) -> Result<Sheet, Error> {
        if !path.exists() {
            return Ok(Sheet::default());
        }
        let bad = |e: &dyn std::fmt::Display| Error::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let mut file = BufReader::new(File::open(path).map_err(|e| bad(&e))?);
        if file
            .fill_buf()
            .map_err(|e| bad(&e))?
            .starts_with(b"\xEF\xBB\xBF")
        {
            file.consume(3);
        }
        let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        let columns = r
            .headers()
            .map_err(|e| bad(&e))?
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_owned(), i))
            .collect();
        // One record read into, each row kept as a copy of it (a copy holds no spare capacity).
        let mut rows = Vec::new();
        let mut rec = csv::StringRecord::new();
        while r.read_record(&mut rec).map_err(|e| bad(&e))? {
            rows.push(rec.clone());
        }
        Ok(Sheet { columns, rows })
    }

    /// The cell of `row` under `column` (empty when either is missing).
    pub fn get<'a>(&self, row: &'a csv::StringRecord, column: &str) -> &'a str {
        self.columns
            .get(column)
            .and_then(|&i| row.get(i))
            .unwrap_or("")
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
    pub fn rows<'a>(&self, sheet: &'a Sheet, key: &str) -> Vec<&'a csv::StringRecord> {
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
        let bad = |reason: String| Error::Read {
            path: jsonl.clone(),
            reason,
        };
        // Line by line as it streams in: the whole file (3.1 GB at 1M documents) was held
        // beside what it was parsed into.
        let file = BufReader::new(File::open(&jsonl).map_err(|e| bad(e.to_string()))?);
        let mut docs = Vec::new();
        for (i, line) in file.lines().enumerate() {
            let line = line.map_err(|e| bad(format!("第 {} 行：{e}", i + 1)))?;
            if line.trim().is_empty() {
                continue;
            }
            let d: Doc =
                serde_json::from_str(&line).map_err(|e| bad(format!("第 {} 行：{e}", i + 1)))?;
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
    pub fn issue(&self, id: &str) -> Option<&csv::StringRecord> {
        self.issue_rows.rows(&self.issues, id).into_iter().next()
    }

    /// The submission with this id.
    pub fn doc(&self, id: &str) -> Option<&Doc> {
        self.by_id.get(id).map(|&i| &self.docs[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sheet_streams_in_with_or_without_its_bom() {
        let dir = tempfile::tempdir().unwrap();
        let text = "ID,内容\nS1,修通机耕路\nS2,\"路灯，三盏\",多余的格\nS3\n";
        for (name, bom) in [("a.csv", true), ("b.csv", false)] {
            let mut bytes = if bom {
                b"\xEF\xBB\xBF".to_vec()
            } else {
                Vec::new()
            };
            bytes.extend_from_slice(text.as_bytes());
            std::fs::write(dir.path().join(name), bytes).unwrap();
            let s = Sheet::read(&dir.path().join(name)).unwrap();
            assert_eq!(s.rows.len(), 3, "{name}");
            let cells: Vec<(&str, &str)> = s
                .rows
                .iter()
                .map(|r| (s.get(r, "ID"), s.get(r, "内容")))
                .collect();
            assert_eq!(
                cells,
                [("S1", "修通机耕路"), ("S2", "路灯，三盏"), ("S3", "")],
                "{name}"
            );
            assert_eq!(s.get(&s.rows[0], "没有这一列"), "");
        }
        let missing = Sheet::read(&dir.path().join("none.csv")).unwrap();
        assert!(missing.rows.is_empty());
    }

    #[test]
    fn a_bad_submission_line_is_named_by_its_number() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("run.json"), r#"{"tool":"diaoyan"}"#).unwrap();
        std::fs::write(dir.path().join("submissions.jsonl"), "\n{不是 JSON\n").unwrap();
        let e = Store::load(dir.path())
            .err()
            .expect("a bad line")
            .to_string();
        assert!(
            e.contains("submissions.jsonl") && e.contains("第 2 行"),
            "{e}"
        );
        // Bytes that are not UTF-8 are named by their line too.
        std::fs::write(dir.path().join("submissions.jsonl"), b"\n\n\xff\xfe\n").unwrap();
        let e = Store::load(dir.path())
            .err()
            .expect("not UTF-8")
            .to_string();
        assert!(e.contains("第 3 行"), "{e}");
    }
}
