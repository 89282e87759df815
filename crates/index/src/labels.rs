//! Issue and topic ids beside the index. The ids are heat ranks (I0001 is the hottest issue),
//! renumbered whenever anything is added, so entries hold a stable key of their issue and topic
//! instead — its smallest member suggestion id — and a small table beside the index turns keys
//! into the ids of the run that wrote it. A re-run then re-adds only the entries whose issue
//! really changed, not every entry whose issue moved up or down the list.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The table's file name in the index folder.
pub(crate) const FILE: &str = "diaoyan-labels.json";

/// The issues and topics of a run: for each, its id and stable key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels {
    /// `(key, id)` of every issue.
    issues: Vec<(String, String)>,
    /// `(key, id)` of every topic.
    topics: Vec<(String, String)>,
}

impl Labels {
    /// The labels of `issues` and `topics`, each given as its id and member suggestion ids; a
    /// group's key is its smallest member id (members belong to one issue and one topic, so
    /// keys are distinct). Entries whose issue or topic is not among these keep the id itself.
    pub fn new<'a, M: Ord + std::fmt::Display + 'a>(
        issues: impl IntoIterator<Item = (&'a str, &'a [M])>,
        topics: impl IntoIterator<Item = (&'a str, &'a [M])>,
    ) -> Labels {
        let keyed = |groups: &mut dyn Iterator<Item = (&'a str, &'a [M])>| {
            let mut v: Vec<(String, String)> = groups
                .filter_map(|(id, members)| {
                    let key = members.iter().min()?;
                    Some((format!("k{key}"), id.to_owned()))
                })
                .collect();
            v.sort_unstable();
            v
        };
        Labels {
            issues: keyed(&mut issues.into_iter()),
            topics: keyed(&mut topics.into_iter()),
        }
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
