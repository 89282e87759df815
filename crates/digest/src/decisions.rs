//! Reviewer decisions (`decisions.jsonl`): read, appended atomically, the latest per target.

use std::path::Path;

/// The reviewer decisions file in an output folder.
pub const DECISIONS_FILE: &str = "decisions.jsonl";

/// Reads `decisions.jsonl`: every decision in file order, and a Chinese note for each line that
/// is not one (kept in the file, never dropped). A missing file is no decisions.
pub fn read_decisions(path: &Path) -> std::io::Result<(Vec<diaoyan_model::Decision>, Vec<String>)> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(d) => out.push(d),
            Err(e) => bad.push(format!("{} 第 {} 行无法识别（{e}）", path.display(), i + 1)),
        }
    }
    Ok((out, bad))
}

/// Appends one decision to `decisions.jsonl` atomically: the whole file is rewritten to a
/// temporary file with the new line and renamed over the old one, so a crash leaves either the
/// old file or the new one, never a torn line.
pub fn append_decision(path: &Path, d: &diaoyan_model::Decision) -> crate::Result<()> {
    let mut bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(crate::write_io(path, e)),
    };
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    serde_json::to_writer(&mut bytes, d).map_err(|e| crate::write_err(path, e))?;
    bytes.push(b'\n');
    crate::write_atomic(path, &bytes)
}

/// The latest decision per (target, id); a withdrawal removes the earlier one.
pub fn latest_decisions(
    all: &[diaoyan_model::Decision],
) -> std::collections::HashMap<(diaoyan_model::DecisionTarget, String), diaoyan_model::Decision> {
    let mut m = std::collections::HashMap::new();
    for d in all {
        let key = (d.target, d.id.clone());
        if d.action == diaoyan_model::DecisionAction::Withdraw {
            m.remove(&key);
        } else {
            m.insert(key, d.clone());
        }
    }
    m
}

/// One issue of a run, as decisions on issues are matched to it: id, title, member suggestion ids.
pub struct IssueRef<'a> {
    /// Issue id in this run.
    pub id: &'a str,
    /// Title.
    pub title: &'a str,
    /// Member suggestion ids (stable across runs).
    pub members: std::collections::HashSet<&'a str>,
}

/// How one issue of a run stands to a decision on an issue: its id and title, how many members
/// it has and how many of the decision's members are among them.
#[derive(Debug, Clone, Copy)]
pub struct Overlap<'a> {
    /// Issue id in this run.
    pub id: &'a str,
    /// Title.
    pub title: &'a str,
    /// Its number of distinct member suggestions.
    pub members: usize,
    /// How many of the decision's members it holds.
    pub common: usize,
}

/// The issue of a run a decision on an issue refers to (issue ids are renumbered when the input
/// changes): most members in common, at least half of the smaller set; else the same id and
/// title; else none.
pub fn issue_of<'a>(d: &diaoyan_model::Decision, issues: &[IssueRef<'a>]) -> Option<&'a str> {
    issue_by_overlap(
        d,
        issues.iter().map(|i| Overlap {
            id: i.id,
            title: i.title,
            members: i.members.len(),
            common: d
                .members
                .iter()
                .filter(|m| i.members.contains(m.as_str()))
                .count(),
        }),
    )
}

/// [`issue_of`] on the overlaps of every issue, in the run's issue order, counted however the
/// caller holds its issues (the review page keeps a large run's members on disk).
pub fn issue_by_overlap<'a>(
    d: &diaoyan_model::Decision,
    issues: impl IntoIterator<Item = Overlap<'a>>,
) -> Option<&'a str> {
    let mut best: Option<Overlap<'a>> = None;
    let mut same: Option<&'a str> = None;
    for i in issues {
        let c = i.common;
        if c > 0
            && 2 * c >= i.members.min(d.members.len()).max(1)
            && best.is_none_or(|b| c >= b.common)
        {
            best = Some(i);
        }
        if same.is_none() && i.id == d.id && i.title == d.about {
            same = Some(i.id);
        }
    }
    best.map(|b| b.id).or(same)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diaoyan_model::{Decision, DecisionAction, DecisionTarget, Verdict};

    fn d(id: &str, action: DecisionAction, verdict: Option<Verdict>, note: &str) -> Decision {
        Decision {
            target: DecisionTarget::Submission,
            id: id.into(),
            action,
            verdict,
            machine: Some(Verdict::Redo),
            note: note.into(),
            reviewer: String::new(),
            at: "2026-11-30T10:00:00+08:00".into(),
            about: "a.docx".into(),
            members: Vec::new(),
        }
    }

    #[test]
    fn appended_lines_are_read_back_and_the_latest_wins() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(DECISIONS_FILE);
        assert!(
            read_decisions(&p).unwrap().0.is_empty(),
            "no file, no decisions"
        );
        append_decision(
            &p,
            &d("a", DecisionAction::Confirm, Some(Verdict::Redo), ""),
        )
        .unwrap();
        append_decision(
            &p,
            &d("a", DecisionAction::Override, Some(Verdict::Pass), "核实"),
        )
        .unwrap();
        append_decision(
            &p,
            &d("b", DecisionAction::Confirm, Some(Verdict::Redo), ""),
        )
        .unwrap();
        append_decision(&p, &d("b", DecisionAction::Withdraw, None, "")).unwrap();
        // A damaged line is reported and kept, never dropped.
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str("{broken\n");
        std::fs::write(&p, &text).unwrap();
        append_decision(
            &p,
            &d("c", DecisionAction::Confirm, Some(Verdict::Redo), ""),
        )
        .unwrap();
        let (all, bad) = read_decisions(&p).unwrap();
        assert_eq!(all.len(), 5);
        assert_eq!(bad.len(), 1);
        assert!(bad[0].contains("第 5 行"), "{bad:?}");
        assert!(std::fs::read_to_string(&p).unwrap().contains("{broken"));
        let latest = latest_decisions(&all);
        let a = &latest[&(DecisionTarget::Submission, "a".to_owned())];
        assert_eq!(a.label(), "改为通过（核实）");
        assert_eq!(a.verdict_now(), Some(Verdict::Pass));
        assert!(!latest.contains_key(&(DecisionTarget::Submission, "b".to_owned())));
        assert_eq!(latest.len(), 2);
    }

    #[test]
    fn an_issue_decision_follows_its_members_to_a_renumbered_issue() {
        let mut dec = d("I0005", DecisionAction::Handled, None, "已转交");
        dec.target = DecisionTarget::Issue;
        dec.about = "石桥村机耕路塌方".into();
        dec.members = ["a", "b", "c", "d"].map(String::from).to_vec();
        let refs = |v: &[(&'static str, &'static str, &[&'static str])]| -> Vec<IssueRef<'static>> {
            v.iter()
                .map(|&(id, title, m)| IssueRef {
                    id,
                    title,
                    members: m.iter().copied().collect(),
                })
                .collect()
        };
        // Renumbered, one member more: found by members.
        let now = refs(&[
            ("I0005", "河口村停水", &["x", "y"]),
            ("I0009", "石桥村机耕路坑洼", &["a", "b", "c", "d", "e"]),
        ]);
        assert_eq!(issue_of(&dec, &now), Some("I0009"));
        // Split in two: the larger part.
        let split = refs(&[("I0001", "t", &["a"]), ("I0002", "t", &["b", "c", "d"])]);
        assert_eq!(issue_of(&dec, &split), Some("I0002"));
        // Gone: none (the run reports it).
        let gone = refs(&[("I0005", "河口村停水", &["x", "y"])]);
        assert_eq!(issue_of(&dec, &gone), None);
    }
}
