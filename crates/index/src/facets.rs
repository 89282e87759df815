//! Counts per value of a field over every hit of a query (`--count-by theme,place`), read from
//! the exact-value fast fields segment by segment.

use serde::Serialize;
use std::collections::HashMap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Counts per value of one field, most frequent first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Facet {
    /// The field's Chinese name (主题, 地点 …).
    pub field: String,
    /// `(value, hits)`, most hits first, then by value.
    pub counts: Vec<(String, u64)>,
}

impl Facet {
    /// The fields hits can be counted by: names accepted (English, Chinese), the index field,
    /// the Chinese name shown.
    pub const FIELDS: [(&'static [&'static str], &'static str, &'static str); 11] = [
        (&["theme", "主题"], "theme", "主题"),
        (
            &["group", "theme_group", "主题大类"],
            "theme_group",
            "主题大类",
        ),
        (&["place", "地点"], "place_raw", "地点"),
        (&["unit", "单位"], "unit_raw", "单位"),
        (&["author", "作者"], "author_raw", "作者"),
        (&["verdict", "结论"], "verdict", "结论"),
        (&["kind", "类型"], "kind", "材料类型"),
        (&["level", "级别"], "level", "干部级别"),
        (&["voice", "来源"], "voice", "来源"),
        (&["issue", "问题"], "issue", "问题编号"),
        (&["topic", "专题"], "topic", "专题编号"),
    ];

    /// `(index field, Chinese name)` of a field named `name`, or a Chinese message.
    pub(crate) fn field_of(name: &str) -> Result<(&'static str, &'static str), String> {
        let name = name.trim();
        Facet::FIELDS
            .iter()
            .find(|(names, _, _)| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
            .map(|&(_, field, label)| (field, label))
            .ok_or_else(|| {
                format!(
                    "不能按“{name}”统计（可用：{}）",
                    Facet::FIELDS
                        .iter()
                        .map(|(n, _, _)| format!("{}/{}", n[0], n[n.len() - 1]))
                        .collect::<Vec<_>>()
                        .join("、")
                )
            })
    }
}

/// Puts counts in the order they are shown: most hits first, then by value.
pub(crate) fn order(counts: &mut [(String, u64)]) {
    counts.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
}

/// The collector: one counter per field and segment, merged by value.
pub(crate) struct Counts {
    fields: Vec<(&'static str, &'static str)>,
}

impl Counts {
    pub(crate) fn new(fields: Vec<(&'static str, &'static str)>) -> Counts {
        Counts { fields }
    }
}

pub(crate) struct SegmentCounts {
    columns: Vec<Option<(StrColumn, Vec<u64>)>>,
}

impl Collector for Counts {
    type Fruit = Vec<Facet>;
    type Child = SegmentCounts;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentCounts> {
        let mut columns = Vec::with_capacity(self.fields.len());
        for (field, _) in &self.fields {
            columns.push(reader.fast_fields().str(field)?.map(|c| {
                let n = c.num_terms();
                (c, vec![0; n])
            }));
        }
        Ok(SegmentCounts { columns })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        segments: Vec<Vec<HashMap<String, u64>>>,
    ) -> tantivy::Result<Vec<Facet>> {
        let mut out = Vec::with_capacity(self.fields.len());
        for (i, (_, label)) in self.fields.iter().enumerate() {
            let mut all: HashMap<String, u64> = HashMap::new();
            for seg in &segments {
                for (v, n) in &seg[i] {
                    *all.entry(v.clone()).or_default() += n;
                }
            }
            let mut counts: Vec<(String, u64)> = all.into_iter().collect();
            order(&mut counts);
            out.push(Facet {
                field: (*label).to_owned(),
                counts,
            });
        }
        Ok(out)
    }
}

impl SegmentCollector for SegmentCounts {
    type Fruit = Vec<HashMap<String, u64>>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (col, counts) in self.columns.iter_mut().flatten() {
            for ord in col.term_ords(doc) {
                counts[ord as usize] += 1;
            }
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.columns
            .into_iter()
            .map(|c| {
                let mut m = HashMap::new();
                if let Some((col, counts)) = c {
                    let mut s = String::new();
                    for (ord, n) in counts.into_iter().enumerate() {
                        if n > 0 && col.ord_to_str(ord as u64, &mut s).unwrap_or(false) {
                            m.insert(s.clone(), n);
                        }
                    }
                }
                m
            })
            .collect()
    }
}
