//! `digest.xlsx`: the digest's tables for Excel — 问题专题, 问题清单, 意见明细 (the quotes behind
//! each topic and issue), 需退回重写, 干部情况, 单位汇总.

use crate::digest::{Digest, places_text, span, unit_grid};
use diaoyan_digest::{Rows, Sheet, Table};

/// The workbook's sheets.
pub(crate) fn tables(d: &Digest) -> Vec<Box<dyn Sheet + '_>> {
    let mut topics = Table::new(
        "问题专题",
        &[
            "专题编号",
            "标题",
            "关键词",
            "主题大类",
            "主题",
            "热度",
            "反映人数",
            "地点数",
            "单位数",
            "意见条数",
            "材料份数",
            "问题数",
            "地点",
            "时间",
        ],
    );
    let mut issues = Table::new(
        "问题清单",
        &[
            "问题编号",
            "专题编号",
            "标题",
            "主题",
            "热度",
            "反映人数",
            "意见条数",
            "地点",
            "时间",
        ],
    );
    let mut quotes = Table::new("意见明细", &["专题编号", "问题编号", "意见", "出处"]);
    for t in &d.topics {
        topics.push(vec![
            t.id.clone(),
            t.title.clone(),
            t.keywords.clone(),
            t.theme_group.clone(),
            t.theme.clone(),
            format!("{:.1}", t.heat),
            t.people.to_string(),
            t.place_count.to_string(),
            t.units.to_string(),
            t.mentions.to_string(),
            t.submissions.to_string(),
            t.issues.len().to_string(),
            places_text(&t.places, 20),
            span(&t.first, &t.last),
        ]);
        for q in &t.quotes {
            quotes.push(vec![
                t.id.clone(),
                String::new(),
                q.full.clone(),
                q.source.clone(),
            ]);
        }
        for i in &t.issues {
            issues.push(vec![
                i.id.clone(),
                t.id.clone(),
                i.title.clone(),
                t.theme.clone(),
                format!("{:.1}", i.heat),
                i.people.to_string(),
                i.mentions.to_string(),
                places_text(&i.places, 20),
                span(&i.first, &i.last),
            ]);
            for q in &i.quotes {
                quotes.push(vec![
                    t.id.clone(),
                    i.id.clone(),
                    q.full.clone(),
                    q.source.clone(),
                ]);
            }
        }
    }
    // Every sent-back text (at a million documents, hundreds of thousands): each row is made
    // as it is written, not held as a table beside the digest's own list.
    let redo = Rows::new(
        "需退回重写",
        &[
            "文件",
            "类型",
            "作者",
            "单位",
            "日期",
            "得分",
            "原因",
            "审核意见",
        ],
        d.redo.len(),
        |i| {
            let r = &d.redo[i];
            vec![
                r.path.clone(),
                r.kind.clone(),
                r.author.clone(),
                r.unit.clone(),
                r.date.clone(),
                format!("{:.1}", r.score),
                r.reasons.join("\n"),
                r.review.clone(),
            ]
        },
    );
    let mut cadres = Table::new(
        "干部情况",
        &[
            "姓名",
            "单位",
            "层级",
            "联系点",
            "蹲点时间",
            "手记天数",
            "手记篇数",
            "走访户数",
            "应走访户数",
            "已覆盖类别",
            "未覆盖类别",
            "座谈会",
            "材料份数",
            "退回重写",
            "结论",
            "原因",
        ],
    );
    for c in &d.cadres {
        cadres.push(vec![
            c.name.clone(),
            c.unit.clone(),
            c.level.clone(),
            c.place.clone(),
            c.stay.clone(),
            c.days.to_string(),
            c.notes.to_string(),
            c.households.to_string(),
            if c.quota > 0 {
                c.quota.to_string()
            } else {
                String::new()
            },
            c.reached.clone(),
            c.missing.clone(),
            c.forums.to_string(),
            c.submissions.to_string(),
            c.redo.to_string(),
            c.verdict.clone(),
            c.reasons.clone(),
        ]);
    }
    let grid = unit_grid(d);
    let mut units = Table::new("单位汇总", &grid.header);
    for row in grid.rows {
        units.push(row);
    }
    vec![
        Box::new(topics),
        Box::new(issues),
        Box::new(quotes),
        Box::new(redo),
        Box::new(cadres),
        Box::new(units),
    ]
}
