//! Issue and topic ids beside the index. The ids are heat ranks (I0001 is the hottest issue),
//! renumbered whenever anything is added, so entries hold a stable key of their issue and topic
//! instead, and a small table beside the index turns keys into the ids of the run that wrote it.
//! A re-run then re-adds only the entries whose issue really changed, not every entry whose
//! issue moved up or down the list.
//!
//! A new group's key is its smallest member id. A re-run carries a group's key over from the
//! previous run's table when the group still holds that run's anchors of it (its key member and
//! its four smallest members then): a group that only gained or lost members keeps its key.
//! Keying by the smallest member alone re-keyed a whole group whenever one new member sorted
//! below the old smallest or that member left — at 10k documents one evening's 1% re-keyed the
//! largest issue, 83,120 entries, and the index re-added 87 k of 228 k entries.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The table's file name in the index folder.
pub(crate) const FILE: &str = "diaoyan-labels.json";

/// How many of a group's smallest members the table keeps as anchors besides its key member.
const ANCHORS: usize = 4;

/// The issues and topics of a run: for each, its id and stable key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels {
    /// `(key, id)` of every issue.
    issues: Vec<(String, String)>,
    /// `(key, id)` of every topic.
    topics: Vec<(String, String)>,
    /// Per issue (in the order of `issues`), its smallest member ids. Absent from tables written
    /// before anchors existed: those carry nothing over.
    #[serde(default)]
    issue_anchors: Vec<Vec<String>>,
    /// Per topic, its smallest member ids.
    #[serde(default)]
    topic_anchors: Vec<Vec<String>>,
}

/// A group as handed in: its id and member ids.
type Group<'a, M> = (&'a str, &'a [M]);

/// One kind's labels: `(key, id)` sorted, and the anchors in the same order.
type Keyed = (Vec<(String, String)>, Vec<Vec<String>>);

impl Labels {
    /// The labels of `issues` and `topics`, each given as its id and member suggestion ids; a
    /// group's key is its smallest member id (members belong to one issue and one topic, so
    /// keys are distinct). Entries whose issue or topic is not among these keep the id itself.
    pub fn new<'a, M>(
        issues: impl IntoIterator<Item = Group<'a, M>>,
        topics: impl IntoIterator<Item = Group<'a, M>>,
    ) -> Labels
    where
        M: Ord + std::ops::Deref<Target = str> + 'a,
    {
        Labels::after(&Labels::default(), issues, topics)
    }

    /// As [`Labels::new`], but a group that still holds anchors of a `previous` group keeps
    /// that group's key (each previous key goes to at most one group: the one holding most of
    /// its anchors, then the smallest key, then the first group). Keys stay distinct: a group
    /// that carries none takes its smallest member's key unless a group carries that one, then
    /// the next member's.
    pub fn after<'a, M>(
        previous: &Labels,
        issues: impl IntoIterator<Item = Group<'a, M>>,
        topics: impl IntoIterator<Item = Group<'a, M>>,
    ) -> Labels
    where
        M: Ord + std::ops::Deref<Target = str> + 'a,
    {
        let (issues, issue_anchors) = keyed(
            &previous.issues,
            &previous.issue_anchors,
            issues.into_iter().collect(),
        );
        let (topics, topic_anchors) = keyed(
            &previous.topics,
            &previous.topic_anchors,
            topics.into_iter().collect(),
        );
        Labels {
            issues,
            topics,
            issue_anchors,
            topic_anchors,
        }
    }

    /// The table of the index at `dir`, when it has a readable one (a re-run's previous index).
    pub fn of_index(dir: &Path) -> Option<Labels> {
        Labels::read(dir).ok()
    }

    pub(crate) fn read(dir: &Path) -> std::io::Result<Labels> {
        serde_json::from_slice(&std::fs::read(dir.join(FILE))?).map_err(std::io::Error::other)
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("labels serialize")
    }

    /// Id → key, for writing entries.
    pub(crate) fn keys(&self) -> Lookup {
        let map =
            |v: &[(String, String)]| v.iter().map(|(k, id)| (id.clone(), k.clone())).collect();
        Lookup {
            issue: map(&self.issues),
            topic: map(&self.topics),
        }
    }

    /// Key → id, for reading entries.
    pub(crate) fn ids(&self) -> Lookup {
        let map = |v: &[(String, String)]| v.iter().cloned().collect();
        Lookup {
            issue: map(&self.issues),
            topic: map(&self.topics),
        }
    }
}

/// The key naming member `m`.
fn key_of(m: &str) -> String {
    format!("k{m}")
}

/// Keys one kind of groups, carrying keys over from `prev` (`(key, id)` and anchors).
fn keyed<M>(
    prev: &[(String, String)],
    prev_anchors: &[Vec<String>],
    groups: Vec<Group<'_, M>>,
) -> Keyed
where
    M: Ord + std::ops::Deref<Target = str>,
{
    // Anchor member → the previous label it anchors. A member belongs to one group, so an
    // anchor names one label; the key member counts as an anchor too.
    let mut anchor: HashMap<&str, usize> = HashMap::new();
    for (i, (key, _)) in prev.iter().enumerate() {
        if let Some(m) = key.strip_prefix('k') {
            anchor.insert(m, i);
        }
        for m in prev_anchors.get(i).into_iter().flatten() {
            anchor.insert(m.as_str(), i);
        }
    }
    // (anchors held, previous label, group) for every group holding anchors of a label.
    let mut claims: Vec<(usize, usize, usize)> = Vec::new();
    if !anchor.is_empty() {
        for (g, (_, members)) in groups.iter().enumerate() {
            let mut held: HashMap<usize, usize> = HashMap::new();
            for m in members.iter() {
                if let Some(&l) = anchor.get(&**m) {
                    *held.entry(l).or_default() += 1;
                }
            }
            claims.extend(held.into_iter().map(|(l, n)| (n, l, g)));
        }
    }
    claims.sort_unstable_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| prev[a.1].0.cmp(&prev[b.1].0))
            .then(a.2.cmp(&b.2))
    });
    // Keys given so far (previous keys are distinct, so a carried one is its label taken).
    let mut key: Vec<Option<String>> = vec![None; groups.len()];
    let mut taken: HashSet<String> = HashSet::new();
    for (_, l, g) in claims {
        if key[g].is_none() && taken.insert(prev[l].0.clone()) {
            key[g] = Some(prev[l].0.clone());
        }
    }
    let mut out: Vec<((String, String), Vec<String>)> = Vec::with_capacity(groups.len());
    for ((id, members), key) in groups.iter().zip(key) {
        let smallest = smallest(members, ANCHORS);
        let key = match key {
            Some(k) => k,
            None => {
                // The smallest member whose key no group carries (almost always the smallest).
                // When every member's key is carried by other groups (a lone member whose key
                // another part of its old group kept), a numbered variant of the smallest.
                let Some(first) = smallest.first() else {
                    continue;
                };
                let k = smallest
                    .iter()
                    .map(|m| key_of(m))
                    .find(|k| !taken.contains(k))
                    .or_else(|| {
                        let mut all: Vec<&str> = members.iter().map(|m| &**m).collect();
                        all.sort_unstable();
                        all.into_iter().map(key_of).find(|k| !taken.contains(k))
                    })
                    .unwrap_or_else(|| {
                        (1..)
                            .map(|n| format!("{}.{n}", key_of(first)))
                            .find(|k| !taken.contains(k))
                            .expect("a free key")
                    });
                taken.insert(k.clone());
                k
            }
        };
        out.push(((key, (*id).to_owned()), smallest));
    }
    out.sort_unstable();
    out.into_iter().unzip()
}

/// The `n` smallest of `members`, ascending, as strings.
fn smallest<M>(members: &[M], n: usize) -> Vec<String>
where
    M: Ord + std::ops::Deref<Target = str>,
{
    let mut best: Vec<&M> = Vec::with_capacity(n + 1);
    for m in members {
        if best.len() == n && best.last().is_some_and(|l| m >= *l) {
            continue;
        }
        let at = best.partition_point(|b| *b < m);
        best.insert(at, m);
        best.truncate(n);
    }
    best.into_iter().map(|m| (**m).to_owned()).collect()
}

/// One direction of [`Labels`]; a value not in it maps to itself.
#[derive(Default)]
pub(crate) struct Lookup {
    issue: HashMap<String, String>,
    topic: HashMap<String, String>,
}

impl Lookup {
    pub(crate) fn issue<'a>(&'a self, v: &'a str) -> &'a str {
        self.issue.get(v).map_or(v, String::as_str)
    }

    pub(crate) fn topic<'a>(&'a self, v: &'a str) -> &'a str {
        self.topic.get(v).map_or(v, String::as_str)
    }
}
