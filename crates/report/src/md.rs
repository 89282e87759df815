//! `digest.md`: the material as Markdown that pastes cleanly into Word/WPS (headings, lists,
//! tables; every piece of submission text escaped).

use crate::digest::{Digest, Grid, cadre_grid, places_text, span, topic_grid, unit_grid};
use std::fmt::Write;

/// Chinese ordinal numerals for headings (一, 二 … 九十九).
pub(crate) fn cn_num(n: usize) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => D[n].to_owned(),
        10..=19 => format!("十{}", if n == 10 { "" } else { D[n - 10] }),
        20..=99 => format!(
            "{}十{}",
            D[n / 10],
            if n.is_multiple_of(10) { "" } else { D[n % 10] }
        ),
        _ => n.to_string(),
    }
}

/// Escapes text so Markdown shows it as written (and a table cell stays one cell).
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '!' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' | '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// The 基本情况 paragraph (shared with the Word and web renderers).
pub(crate) fn overview_text(d: &Digest) -> String {
    let o = &d.overview;
    let kinds = o
        .by_kind
        .iter()
        .map(|(k, n)| format!("{k} {n} 份"))
        .collect::<Vec<_>>()
        .join("、");
    let mut s = format!("本次共收到调研材料 {} 份", o.submissions);
    if !kinds.is_empty() {
        let _ = write!(s, "（{kinds}）");
    }
    let mut scope: Vec<String> = Vec::new();
    if o.cadres > 0 {
        scope.push(format!("干部 {} 名", o.cadres));
    }
    if o.units > 0 {
        scope.push(format!("单位 {} 个", o.units));
    }
    if o.places > 0 {
        scope.push(format!("联系点和地点 {} 处", o.places));
    }
    if !scope.is_empty() {
        let _ = write!(s, "，涉及{}", scope.join("、"));
    }
    if o.households > 0 {
        let _ = write!(s, "，干部走访农户 {} 户", o.households);
    }
    if !o.first.is_empty() {
        let _ = write!(s, "，材料日期 {}", span(&o.first, &o.last));
    }
    let _ = write!(
        s,
        "。从材料中梳理出意见建议 {} 条，其中群众反映 {} 条；{} 条归入 {} 个反复出现的问题，问题和意见再归并为 {} 个专题。",
        o.suggestions, o.people_voice, o.in_issues, o.issues, o.topics
    );
    let _ = write!(
        s,
        "经质量审核，通过 {} 份，需复核 {} 份，需退回重写 {} 份。",
        o.pass, o.review, o.redo
    );
    if d.facts.unreadable > 0 {
        let _ = write!(
            s,
            "另有 {} 个文件或表格行无法读取，见 ingest_errors.csv。",
            d.facts.unreadable
        );
    }
    s
}

/// A theme's heading text: `四风方面：形式主义（12 条）`.
pub(crate) fn theme_heading(group: &str, theme: &str, n: usize) -> String {
    if group.is_empty() {
        format!("{theme}（{n} 条）")
    } else {
        format!("{group}方面：{theme}（{n} 条）")
    }
}

/// A topic's one-line summary.
pub(crate) fn topic_line(t: &crate::TopicBlock) -> String {
    let mut s = format!(
        "热度 {:.1}；{} 人反映，{} 条意见，{} 份材料",
        t.heat, t.people, t.mentions, t.submissions
    );
    if !t.places.is_empty() {
        let _ = write!(s, "；涉及 {}", places_text(&t.places, 6));
    }
    let _ = write!(s, "；{}", span(&t.first, &t.last));
    if !t.keywords.is_empty() {
        let _ = write!(s, "；关键词：{}", t.keywords);
    }
    s
}

/// An issue's one-line summary.
pub(crate) fn issue_line(i: &crate::IssueBlock) -> String {
    let mut s = format!("热度 {:.1}，{} 人，{} 条", i.heat, i.people, i.mentions);
    if !i.places.is_empty() {
        let _ = write!(s, "，{}", places_text(&i.places, 4));
    }
    let _ = write!(s, "，{}", span(&i.first, &i.last));
    s
}

/// Section titles, shared by every renderer.
/// The note under a shortened redo list.
pub(crate) fn redo_more(d: &Digest) -> Option<String> {
    (d.redo.len() > crate::REDO_SHOWN).then(|| {
        format!(
            "共 {} 份需退回重写，以上列出得分最低的 {} 份；完整清单见 digest.xlsx 的“需退回重写”表和 flags.csv。",
            d.redo.len(),
            crate::REDO_SHOWN
        )
    })
}

pub(crate) const SECTIONS: [&str; 5] = [
    "基本情况",
    "意见建议梳理情况",
    "需退回重写的材料",
    "干部蹲点情况",
    "单位汇总",
];

/// A Markdown table: a header, an alignment row (numbers to the right), escaped cells.
fn grid(s: &mut String, g: &Grid) {
    let line = |cells: &mut dyn Iterator<Item = String>| {
        format!("| {} |", cells.collect::<Vec<_>>().join(" | "))
    };
    let _ = writeln!(s, "{}", line(&mut g.header.iter().map(|h| (*h).to_owned())));
    let align: Vec<&str> = g
        .numeric
        .iter()
        .map(|&n| if n { "---:" } else { "---" })
        .collect();
    let _ = writeln!(s, "|{}|", align.join("|"));
    for r in &g.rows {
        let _ = writeln!(s, "{}", line(&mut r.iter().map(|c| esc(c))));
    }
}

/// Renders the digest.
pub(crate) fn render(d: &Digest) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", esc(&d.title));
    let _ = writeln!(s, "范围：{}\n", esc(&d.scope));
    let _ = writeln!(s, "## 一、{}\n", SECTIONS[0]);
    let _ = writeln!(s, "{}\n", esc(&overview_text(d)));

    let _ = writeln!(s, "## 二、{}\n", SECTIONS[1]);
    if d.themes.is_empty() {
        let _ = writeln!(s, "所选范围内没有意见建议。\n");
    }
    for (n, th) in d.themes.iter().enumerate() {
        let _ = writeln!(
            s,
            "### （{}）{}\n",
            cn_num(n + 1),
            esc(&theme_heading(&th.group, &th.theme, th.suggestions))
        );
        if th.topics.is_empty() {
            let _ = writeln!(
                s,
                "本主题的意见较分散，未形成专题，明细见 suggestions.csv。\n"
            );
        }
        for (k, t) in th.topics.iter().enumerate() {
            let _ = writeln!(s, "#### {}. {}\n", k + 1, esc(&t.title));
            let _ = writeln!(s, "{}\n", esc(&topic_line(t)));
            for i in &t.issues {
                let _ = writeln!(
                    s,
                    "- 问题 {}：{}（{}）",
                    i.id,
                    esc(&i.title),
                    esc(&issue_line(i))
                );
            }
            if !t.issues.is_empty() {
                s.push('\n');
            }
            for q in &t.quotes {
                let _ = writeln!(s, "> “{}”——{}\n", esc(&q.text), esc(&q.source));
            }
        }
        if th.more_topics > 0 {
            let _ = writeln!(s, "另有 {} 个专题见附表。\n", th.more_topics);
        }
    }

    let _ = writeln!(s, "## 三、{}\n", SECTIONS[2]);
    if d.redo.is_empty() {
        let _ = writeln!(s, "没有需退回重写的材料。\n");
    }
    for (n, r) in d.redo.iter().take(crate::REDO_SHOWN).enumerate() {
        let _ = writeln!(
            s,
            "{}. **{}**（{}；得分 {:.1}）",
            n + 1,
            esc(&r.path),
            esc(&r.who()),
            r.score
        );
        for reason in &r.reasons {
            let _ = writeln!(s, "    - {}", esc(reason));
        }
        if !r.review.is_empty() {
            let _ = writeln!(s, "    - 审核意见：{}", esc(&r.review));
        }
        s.push('\n');
    }

    if let Some(more) = redo_more(d) {
        let _ = writeln!(s, "{}\n", esc(&more));
    }
    let _ = writeln!(s, "## 四、{}\n", SECTIONS[3]);
    if d.cadres.is_empty() {
        let _ = writeln!(s, "没有干部名册，未核查蹲点情况。\n");
    } else {
        grid(&mut s, &cadre_grid(d).first(11));
        s.push('\n');
    }

    let _ = writeln!(s, "## 五、{}\n", SECTIONS[4]);
    grid(&mut s, &unit_grid(d));
    s.push('\n');

    let _ = writeln!(s, "## 附表：问题专题一览\n");
    grid(&mut s, &topic_grid(d));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerals_and_escapes() {
        assert_eq!(cn_num(1), "一");
        assert_eq!(cn_num(10), "十");
        assert_eq!(cn_num(12), "十二");
        assert_eq!(cn_num(20), "二十");
        assert_eq!(cn_num(35), "三十五");
        assert_eq!(
            esc("<script>a|b</script>\n*x*"),
            "\\<script\\>a\\|b\\</script\\> \\*x\\*"
        );
    }
}
