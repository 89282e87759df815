//! `diaoyan check`: score single files on the spot.

use crate::config::PipelineConfig;
use crate::{Error, Result};
use diaoyan_model::{Assessment, FileError, Submission};
use diaoyan_text::{Lexicons, Segmenter};
use std::path::{Path, PathBuf};

/// What checking some files gave.
#[derive(Debug, Clone)]
pub struct CheckOutput {
    /// Each readable file (or table row) with its assessment.
    pub results: Vec<(Submission, Assessment)>,
    /// Files that could not be read.
    pub errors: Vec<FileError>,
    /// Reference texts compared against (templates and the earlier run).
    pub references: usize,
    /// Per result: every body sentence with its byte range, role and findings (empty unless
    /// asked for: reading sentences again costs a second analysis).
    pub sentences: Vec<Vec<diaoyan_score::SentenceRole>>,
}

/// Scores `files` with the pipeline's lexicons and thresholds, comparing them against its
/// reference folders and, with `against`, against the submissions of an earlier run's output
/// folder (its `submissions.jsonl`). With `with_sentences`, every sentence's role is listed too.
pub fn check(
    cfg: &PipelineConfig,
    files: &[PathBuf],
    against: Option<&Path>,
    with_sentences: bool,
    progress: &dyn crate::Progress,
) -> Result<CheckOutput> {
    let lex = Lexicons::from_files(cfg.text.userdict.as_deref(), cfg.text.stopwords.as_deref())?;
    let scorer = cfg
        .score
        .build(Segmenter::new(&lex))
        .map_err(|e| Error::Config {
            path: cfg.name.clone(),
            reason: e.to_string(),
        })?;
    let mut subs = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match diaoyan_ingest::ingest(f, &cfg.ingest) {
            Ok(out) => {
                subs.extend(out.submissions);
                errors.extend(out.errors);
            }
            Err(e) => errors.push(FileError {
                path: f.display().to_string(),
                reason: "无法读取".into(),
                detail: e.to_string(),
            }),
        }
    }
    let mut refs = crate::run::read_references(cfg, &mut errors)?;
    let mut unseen = 0;
    if let Some(dir) = against {
        unseen = earlier_run(dir, cfg, &subs, &mut refs, progress)?;
    }
    let out = scorer.score_against(&subs, &refs, unseen);
    let sentences = if with_sentences {
        subs.iter()
            .map(|s| scorer.sentence_roles(&s.text))
            .collect()
    } else {
        Vec::new()
    };
    Ok(CheckOutput {
        sentences,
        results: subs.into_iter().zip(out.assessments).collect(),
        errors,
        references: refs.len() + unseen,
    })
}

/// Adds to `refs` the submissions of the earlier run in `dir` (its `submissions.jsonl`) that can
/// change what copy detection finds for `subs`, and returns how many others there were (see
/// [`diaoyan_score::CopyProbe`]): the file streams through in blocks of lines, each parsed and
/// fingerprinted on every core, so a 1M-document run is neither held in memory nor compared
/// whole. The result is that of comparing against all of them. Progress is in megabytes of the
/// file.
fn earlier_run(
    dir: &Path,
    cfg: &PipelineConfig,
    subs: &[Submission],
    refs: &mut Vec<Submission>,
    progress: &dyn crate::Progress,
) -> Result<usize> {
    use rayon::prelude::*;
    use std::io::BufRead;
    let path = dir.join("submissions.jsonl");
    let unreadable = |e: &dyn std::fmt::Display| Error::RunOutput {
        path: path.display().to_string(),
        reason: format!("{e}（--against 需要一次 diaoyan run 的输出目录）"),
    };
    let copy = &cfg.score.copy;
    // The texts copy detection compares (opinion rows are the public's words, never compared).
    let compared = subs
        .iter()
        .filter(|s| s.kind != Some(diaoyan_model::Kind::Opinion));
    let mut probe = diaoyan_score::CopyProbe::new(compared.map(|s| s.text.as_str()), copy);
    for r in refs.iter() {
        probe.hold(&diaoyan_score::Print::of(&r.text, copy));
    }
    let file = std::fs::File::open(&path).map_err(|e| unreadable(&diaoyan_model::io_reason(&e)))?;
    const MB: u64 = 1 << 20;
    let size = file.metadata().map_or(0, |m| m.len());
    progress.start("比对上次运行（MB）", size.div_ceil(MB));
    let mut file = std::io::BufReader::new(file);
    let (mut read_bytes, mut shown) = (0u64, 0u64);
    let mut unseen = 0;
    let mut first_line = 1;
    let mut lines: Vec<String> = Vec::new();
    loop {
        // About 32 MB of lines at a time.
        lines.clear();
        let mut bytes = 0;
        while bytes < 32 << 20 {
            let mut line = String::new();
            let n = file.read_line(&mut line).map_err(|e| {
                let why = match e.kind() {
                    std::io::ErrorKind::InvalidData => "不是 UTF-8 文本".to_owned(),
                    _ => diaoyan_model::io_reason(&e),
                };
                unreadable(&format!("第 {} 行：{why}", first_line + lines.len()))
            })?;
            if n == 0 {
                break;
            }
            bytes += n;
            lines.push(line);
        }
        if lines.is_empty() {
            break;
        }
        let read: Vec<Result<Option<(Submission, diaoyan_score::Print)>>> = lines
            .par_iter()
            .enumerate()
            .map(|(i, line)| {
                if line.trim().is_empty() {
                    return Ok(None);
                }
                let s: Submission = serde_json::from_str(line).map_err(|e| Error::RunOutput {
                    path: path.display().to_string(),
                    reason: format!("第 {} 行无法解析：{e}", first_line + i),
                })?;
                let print = diaoyan_score::Print::of(&s.text, copy);
                Ok(Some((s, print)))
            })
            .collect();
        first_line += lines.len();
        read_bytes += bytes as u64;
        progress.advance(read_bytes / MB - shown);
        shown = read_bytes / MB;
        for r in read {
            let Some((s, print)) = r? else { continue };
            // The same text is the same document handed in again, not a copy of itself.
            if subs.iter().any(|x| x.text == s.text) {
                continue;
            }
            if probe.keep(&print) {
                refs.push(s);
            } else {
                unseen += 1;
            }
        }
    }
    progress.finish();
    Ok(unseen)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checking against an earlier run's folder streams it and keeps only what can matter, and
    /// says what checking against every one of its submissions says; a bad line is named.
    #[test]
    fn against_an_earlier_run_is_against_all_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut sentence = || {
            let mut t: String = (0..24)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    char::from_u32(0x4E00 + (x % 3000) as u32).unwrap()
                })
                .collect();
            t.push('。');
            t
        };
        let earlier: Vec<Submission> = (0..300)
            .map(|i| Submission {
                id: format!("e{i}").into(),
                path: format!("上次/{i}.txt").into(),
                author: format!("甲{i}").into(),
                kind: Some(diaoyan_model::Kind::Report),
                text: (0..10).map(|_| sentence()).collect::<String>().into(),
                ..Submission::default()
            })
            .collect();
        // A file copying half of one earlier report, and one handed in again unchanged.
        let half: String = earlier[123].text.split_inclusive('。').take(5).collect();
        let copied = dir.path().join("抄的.txt");
        std::fs::write(&copied, format!("{}{half}{}", sentence(), sentence())).unwrap();
        let again = dir.path().join("重交.txt");
        std::fs::write(&again, earlier[7].text.as_str()).unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let mut jsonl: String = earlier
            .iter()
            .map(|s| serde_json::to_string(s).unwrap() + "\n")
            .collect();
        let mid = jsonl.match_indices('\n').nth(150).unwrap().0;
        jsonl.insert(mid, '\n'); // a blank line mid-file is skipped
        std::fs::write(out.join("submissions.jsonl"), &jsonl).unwrap();

        let cfg = PipelineConfig::default();
        let files = [copied, again];
        let got = check(&cfg, &files, Some(&out), false, &crate::NoProgress).unwrap();
        // All of the earlier run, as the check was before it streamed.
        let lex = Lexicons::from_files(None, None).unwrap();
        let scorer = cfg.score.build(Segmenter::new(&lex)).unwrap();
        let subs: Vec<Submission> = got.results.iter().map(|(s, _)| s.clone()).collect();
        let all: Vec<Submission> = earlier
            .iter()
            .filter(|e| !subs.iter().any(|s| s.text == e.text))
            .cloned()
            .collect();
        let want = scorer.score(&subs, &all, &[]);
        let assessments: Vec<&Assessment> = got.results.iter().map(|(_, a)| a).collect();
        assert_eq!(assessments, want.assessments.iter().collect::<Vec<_>>());
        assert_eq!(
            got.references, 299,
            "the report handed in again is not its own source"
        );
        let copy = &got.results[0].1;
        assert!(
            copy.reasons
                .iter()
                .any(|r| r.code == "copied" && r.text.contains("123.txt")),
            "{copy:?}"
        );
        assert!(got.results[1].1.reasons.iter().all(|r| r.code != "copied"));

        // A line that is not a submission is named by its number.
        std::fs::write(out.join("submissions.jsonl"), format!("{jsonl}{{坏行\n")).unwrap();
        let e = check(&cfg, &files, Some(&out), false, &crate::NoProgress)
            .unwrap_err()
            .to_string();
        assert!(e.contains("第 302 行"), "{e}");
        let mut bytes = jsonl.into_bytes();
        bytes.extend_from_slice(b"\xff\xfe\n");
        std::fs::write(out.join("submissions.jsonl"), bytes).unwrap();
        let e = check(&cfg, &files, Some(&out), false, &crate::NoProgress)
            .unwrap_err()
            .to_string();
        assert!(e.contains("第 302 行：不是 UTF-8 文本"), "{e}");
    }
}
