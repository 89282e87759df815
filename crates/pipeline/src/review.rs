//! Reviewer decisions (`OUT/decisions.jsonl`, written by `diaoyan serve`) brought into a run:
//! each submission's decision is matched by its stable id, each issue's by its members (issue
//! ids are renumbered when the input changes); a decision whose submission or issue is gone is
//! kept in the file and reported, never lost.

use diaoyan_model::{Decision, DecisionTarget, Issue, Submission};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// A decision that matched nothing in this run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Orphan {
    /// Submission or issue.
    pub target: DecisionTarget,
    /// The id it was made on.
    pub id: String,
    /// What it was about (file or issue title).
    pub about: String,
    /// The decision, in Chinese.
    pub decision: String,
    /// When.
    pub at: String,
}

/// The decisions as they apply to this run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Reviews {
    /// Decisions in the file (latest per target, withdrawals applied).
    pub decisions: usize,
    /// Matched to a submission or issue of this run.
    pub applied: usize,
    /// Matched nothing: the submission or issue is no longer in the input.
    pub orphaned: Vec<Orphan>,
    /// Lines of the file that are not decisions (kept in the file).
    pub unreadable: Vec<String>,
    /// By submission id: (decision, the verdict that now holds or empty).
    #[serde(skip)]
    pub submissions: HashMap<String, (String, String)>,
    /// By issue id of this run: the decision.
    #[serde(skip)]
    pub issues: HashMap<String, String>,
}

/// Reads `dir/decisions.jsonl` and matches it to this run.
pub fn load(dir: &Path, subs: &[Submission], issues: &[Issue]) -> Reviews {
    let path = dir.join(diaoyan_digest::DECISIONS_FILE);
    let (all, unreadable) = match diaoyan_digest::read_decisions(&path) {
        Ok(x) => x,
        Err(e) => (
            Vec::new(),
            vec![format!("无法读取 {}：{e}", path.display())],
        ),
    };
    let latest = diaoyan_digest::latest_decisions(&all);
    let mut latest: Vec<&Decision> = latest.values().collect();
    latest.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    // What decisions are matched against, made only for the kinds there are (at a million
    // documents the issues' member sets are 4 M entries, for nothing in a campaign without
    // reviews).
    let ids: HashSet<&str> = if latest
        .iter()
        .any(|d| d.target == DecisionTarget::Submission)
    {
        subs.iter().map(|s| s.id.as_str()).collect()
    } else {
        HashSet::new()
    };
    let refs: Vec<diaoyan_digest::IssueRef> =
        if latest.iter().any(|d| d.target == DecisionTarget::Issue) {
            issues
                .iter()
                .map(|i| diaoyan_digest::IssueRef {
                    id: &i.id,
                    title: &i.title,
                    members: i.members.iter().map(|m| m.as_str()).collect(),
                })
                .collect()
        } else {
            Vec::new()
        };
    let mut r = Reviews {
        decisions: latest.len(),
        unreadable,
        ..Reviews::default()
    };
    for d in latest {
        let matched = match d.target {
            DecisionTarget::Submission if ids.contains(d.id.as_str()) => {
                r.submissions.insert(
                    d.id.clone(),
                    (
                        d.label(),
                        d.verdict_now()
                            .map(|v| v.label().to_owned())
                            .unwrap_or_default(),
                    ),
                );
                true
            }
            DecisionTarget::Issue => match diaoyan_digest::issue_of(d, &refs) {
                Some(id) => {
                    r.issues.insert(id.to_owned(), d.label());
                    true
                }
                None => false,
            },
            _ => false,
        };
        if matched {
            r.applied += 1;
        } else {
            r.orphaned.push(Orphan {
                target: d.target,
                id: d.id.clone(),
                about: d.about.clone(),
                decision: d.label(),
                at: d.at.clone(),
            });
        }
    }
    r
}
