//! The files a run writes.

use crate::Result;
use crate::run::RunData;
use diaoyan_digest::{Table, write_csv, write_jsonl};
use serde::Serialize;
use std::path::Path;

/// Creates the output folder and checks it is writable before any work starts.
pub(crate) fn prepare_dir(dir: &Path) -> Result<()> {
    let fail = |e: std::io::Error| diaoyan_digest::Error::Write {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    tempfile::Builder::new()
        .prefix(".diaoyan-probe-")
        .tempfile_in(dir)
        .map_err(fail)?;
    Ok(())
}

/// The columns of `submissions.csv`, in order.
pub const SUBMISSION_COLUMNS: &[&str] = &[
    "ID",
    "文件",
    "原编号",
    "类型",
    "作者",
    "单位",
    "级别",
    "地点",
    "日期",
    "第几天",
    "标题",
    "字数",
    "汉字数",
    "句数",
    "词数",
    "编码",
    "警告",
];

/// One line of `submissions.jsonl`: the submission with its text, for later stages and tools.
#[derive(Serialize)]
struct SubmissionLine<'a> {
    #[serde(flatten)]
    sub: &'a diaoyan_model::Submission,
    #[serde(skip_serializing_if = "Option::is_none")]
    stats: Option<diaoyan_model::TextStats>,
}

/// Writes every output; returns their names.
pub(crate) fn write_all(dir: &Path, d: &RunData) -> Result<Vec<String>> {
    let subs = &d.ingest.submissions;
    let mut t = Table::new("材料清单", SUBMISSION_COLUMNS);
    for (i, s) in subs.iter().enumerate() {
        let st = d.stats.as_ref().map(|v| v[i]);
        let num = |f: fn(&diaoyan_model::TextStats) -> usize| {
            st.as_ref().map(|x| f(x).to_string()).unwrap_or_default()
        };
        t.push(vec![
            s.id.clone(),
            s.path.clone(),
            s.ref_.clone(),
            s.kind.map(|k| k.label().to_owned()).unwrap_or_default(),
            s.author.clone(),
            s.unit.clone(),
            s.level.map(|l| l.label().to_owned()).unwrap_or_default(),
            s.place.clone(),
            s.date.clone(),
            s.day.map(|d| d.to_string()).unwrap_or_default(),
            s.title.clone(),
            num(|x| x.chars),
            num(|x| x.han),
            num(|x| x.sentences),
            num(|x| x.words),
            s.encoding.clone(),
            s.warnings.join("；"),
        ]);
    }
    write_csv(&dir.join("submissions.csv"), &t)?;

    let lines: Vec<SubmissionLine> = subs
        .iter()
        .enumerate()
        .map(|(i, s)| SubmissionLine {
            sub: s,
            stats: d.stats.as_ref().map(|v| v[i]),
        })
        .collect();
    write_jsonl(&dir.join("submissions.jsonl"), &lines)?;

    let mut e = Table::new("无法读取的文件", &["文件", "原因", "说明"]);
    for err in &d.ingest.errors {
        e.push(vec![
            err.path.clone(),
            err.reason.clone(),
            err.detail.clone(),
        ]);
    }
    write_csv(&dir.join("ingest_errors.csv"), &e)?;
    Ok(vec![
        "submissions.csv".into(),
        "submissions.jsonl".into(),
        "ingest_errors.csv".into(),
    ])
}
