//! `digest.docx`: the 书面材料 in the form offices write it — a title, 一、基本情况, themes as
//! （一）（二）, topics and issues with quotes and their sources, the redo list, the cadres' stays,
//! and annex tables. Headings use Word's built-in heading styles (标题 1–3, with outline levels),
//! so the navigation pane and the table of contents work; fonts are the usual 黑体 / 楷体 / 仿宋.

use crate::digest::{Digest, places_text, span, unit_grid};
use crate::md::{
    SECTIONS, cn_num, issue_line, overview_text, redo_more, theme_heading, topic_line,
};
use crate::{Error, Result};
use docx_rs::{
    AlignmentType, Docx, LineSpacing, Paragraph, Run, RunFonts, Style, StyleType, Table, TableCell,
    TableOfContents, TableRow, WidthType,
};

const BODY_FONT: &str = "仿宋";
const H1_FONT: &str = "黑体";
const H2_FONT: &str = "楷体";
const TITLE_FONT: &str = "宋体";

fn fonts(east: &str) -> RunFonts {
    RunFonts::new()
        .east_asia(east)
        .ascii("Times New Roman")
        .hi_ansi("Times New Roman")
}

fn styles(doc: Docx) -> Docx {
    doc.default_fonts(fonts(BODY_FONT))
        .default_size(32) // 三号 body, as office material is written
        .add_style(
            Style::new("Title", StyleType::Paragraph)
                .name("Title")
                .fonts(fonts(TITLE_FONT))
                .size(44)
                .bold()
                .align(AlignmentType::Center),
        )
        .add_style(
            Style::new("Heading1", StyleType::Paragraph)
                .name("heading 1")
                .fonts(fonts(H1_FONT))
                .size(32)
                .outline_lvl(0),
        )
        .add_style(
            Style::new("Heading2", StyleType::Paragraph)
                .name("heading 2")
                .fonts(fonts(H2_FONT))
                .size(32)
                .bold()
                .outline_lvl(1),
        )
        .add_style(
            Style::new("Heading3", StyleType::Paragraph)
                .name("heading 3")
                .fonts(fonts(BODY_FONT))
                .size(32)
                .bold()
                .outline_lvl(2),
        )
        .add_style(
            Style::new("Quote", StyleType::Paragraph)
                .name("Quote")
                .fonts(fonts(H2_FONT))
                .size(28),
        )
}

fn heading(level: usize, text: &str) -> Paragraph {
    Paragraph::new()
        .add_run(Run::new().add_text(text))
        .style(&format!("Heading{level}"))
}

fn body(text: &str) -> Paragraph {
    Paragraph::new()
        .add_run(Run::new().add_text(text))
        .first_line_chars(200)
        .line_spacing(
            LineSpacing::new()
                .line(560)
                .line_rule(docx_rs::LineSpacingType::Exact),
        )
}

fn small(text: &str) -> Paragraph {
    Paragraph::new().add_run(Run::new().add_text(text).size(24))
}

fn quote(text: &str, source: &str) -> Paragraph {
    Paragraph::new()
        .style("Quote")
        .indent(Some(840), None, None, None)
        .add_run(Run::new().add_text(format!("“{text}”")))
        .add_run(Run::new().add_text(format!("——{source}")).size(24))
}

fn table(header: &[&str], rows: Vec<Vec<String>>) -> Table {
    let cell = |t: &str, bold: bool| {
        let mut r = Run::new().add_text(t).size(21);
        if bold {
            r = r.bold();
        }
        TableCell::new().add_paragraph(Paragraph::new().add_run(r))
    };
    let mut out = vec![TableRow::new(
        header.iter().map(|h| cell(h, true)).collect(),
    )];
    for row in rows {
        out.push(TableRow::new(row.iter().map(|c| cell(c, false)).collect()));
    }
    Table::new(out).width(5000, WidthType::Pct)
}

/// Renders the document to bytes.
pub(crate) fn render(d: &Digest) -> Result<Vec<u8>> {
    let mut doc = styles(Docx::new());
    doc = doc
        .add_paragraph(
            Paragraph::new()
                .add_run(Run::new().add_text(&d.title))
                .style("Title"),
        )
        .add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(Run::new().add_text(format!("（{}）", d.scope)).size(28)),
        )
        .add_table_of_contents(
            // Entries for the first two levels; Word refreshes the page numbers when it opens
            // the file (the field is marked dirty), WPS and LibreOffice on 更新目录.
            TableOfContents::new()
                .heading_styles_range(1, 2)
                .alias("目录")
                .auto()
                .dirty(),
        );
    doc = doc
        .add_paragraph(heading(1, &format!("一、{}", SECTIONS[0])))
        .add_paragraph(body(&overview_text(d)));

    doc = doc.add_paragraph(heading(1, &format!("二、{}", SECTIONS[1])));
    if d.themes.is_empty() {
        doc = doc.add_paragraph(body("所选范围内没有意见建议。"));
    }
    for (n, th) in d.themes.iter().enumerate() {
        doc = doc.add_paragraph(heading(
            2,
            &format!(
                "（{}）{}",
                cn_num(n + 1),
                theme_heading(&th.group, &th.theme, th.suggestions)
            ),
        ));
        if th.topics.is_empty() {
            doc = doc.add_paragraph(body(
                "本主题的意见较分散，未形成专题，明细见附表和 suggestions.csv。",
            ));
        }
        for (k, t) in th.topics.iter().enumerate() {
            doc = doc
                .add_paragraph(heading(3, &format!("{}. {}", k + 1, t.title)))
                .add_paragraph(body(&format!("{}。", topic_line(t))));
            for i in &t.issues {
                doc = doc.add_paragraph(body(&format!(
                    "问题 {}：{}（{}）。",
                    i.id,
                    i.title,
                    issue_line(i)
                )));
            }
            for q in &t.quotes {
                doc = doc.add_paragraph(quote(&q.text, &q.source));
            }
        }
        if th.more_topics > 0 {
            doc = doc.add_paragraph(body(&format!("另有 {} 个专题见附表。", th.more_topics)));
        }
    }

    doc = doc.add_paragraph(heading(1, &format!("三、{}", SECTIONS[2])));
    if d.redo.is_empty() {
        doc = doc.add_paragraph(body("没有需退回重写的材料。"));
    }
    for (n, r) in d.redo.iter().take(crate::REDO_SHOWN).enumerate() {
        doc = doc.add_paragraph(
            Paragraph::new()
                .add_run(Run::new().add_text(format!("{}. {}", n + 1, r.path)).bold())
                .add_run(Run::new().add_text(format!("（{}；得分 {:.1}）", r.who(), r.score))),
        );
        for reason in &r.reasons {
            doc = doc.add_paragraph(
                Paragraph::new()
                    .indent(Some(640), None, None, None)
                    .add_run(Run::new().add_text(format!("· {reason}")).size(28)),
            );
        }
        if !r.review.is_empty() {
            doc = doc.add_paragraph(
                Paragraph::new()
                    .indent(Some(640), None, None, None)
                    .add_run(
                        Run::new()
                            .add_text(format!("· 审核意见：{}", r.review))
                            .size(28)
                            .bold(),
                    ),
            );
        }
    }

    if let Some(more) = redo_more(d) {
        doc = doc.add_paragraph(body(&more));
    }
    doc = doc.add_paragraph(heading(1, &format!("四、{}", SECTIONS[3])));
    if d.cadres.is_empty() {
        doc = doc.add_paragraph(body("没有干部名册，未核查蹲点情况。"));
    } else {
        let rows = d
            .cadres
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    c.unit.clone(),
                    c.level.clone(),
                    c.place.clone(),
                    c.days.to_string(),
                    c.notes.to_string(),
                    if c.quota > 0 {
                        format!("{}/{}", c.households, c.quota)
                    } else {
                        c.households.to_string()
                    },
                    c.missing.clone(),
                    c.forums.to_string(),
                    c.verdict.clone(),
                ]
            })
            .collect();
        doc = doc.add_table(table(
            &[
                "姓名",
                "单位",
                "层级",
                "联系点",
                "天数",
                "手记",
                "走访户数",
                "未覆盖类别",
                "座谈会",
                "结论",
            ],
            rows,
        ));
    }

    doc = doc.add_paragraph(heading(1, &format!("五、{}", SECTIONS[4])));
    let units = unit_grid(d);
    doc = doc.add_table(table(&units.header, units.rows));

    doc = doc.add_paragraph(heading(1, "附表：问题专题一览"));
    let rows = d
        .topics
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.title.clone(),
                t.theme.clone(),
                format!("{:.1}", t.heat),
                t.people.to_string(),
                t.mentions.to_string(),
                places_text(&t.places, 3),
                span(&t.first, &t.last),
            ]
        })
        .collect();
    doc = doc
        .add_table(table(
            &[
                "编号", "标题", "主题", "热度", "人数", "意见", "地点", "时间",
            ],
            rows,
        ))
        .add_paragraph(small(
            "本材料由 diaoyan 根据调研材料自动汇总生成，引文均注明出处，供核对。",
        ));

    let mut cursor = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut cursor)
        .map_err(|e| Error::Frame(format!("生成 Word 文件失败：{e}")))?;
    Ok(cursor.into_inner())
}
