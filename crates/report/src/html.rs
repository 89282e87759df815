//! `digest.html`: one self-contained page (no external assets; opens by double-click, offline):
//! headline figures, themes as a bar chart and time as a line (inline SVG), topic → issue → quote
//! drill-down, the redo list with reasons and evidence, per-cadre and per-unit tables, a filter
//! box and a print stylesheet.
//!
//! Submission text is data, never markup: everything is escaped, and a Content-Security-Policy
//! allows only the page's own script (by its SHA-256), so even a missed escape could not run one.

use crate::digest::{Digest, Grid, cadre_grid, topic_grid, unit_grid};
use crate::md::{
    SECTIONS, cn_num, issue_line, overview_text, redo_more, theme_heading, topic_line,
};
use sha2::{Digest as _, Sha256};
use std::fmt::Write;

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    diaoyan_text::escape_html(s)
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for ch in bytes.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= ch.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const STYLE: &str = r#"
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","Noto Sans SC",sans-serif;margin:0;color:#222;background:#f6f7f9;line-height:1.6}
header{background:#8b1a1a;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:24px}
header p{margin:4px 0 0;opacity:.9}
main{max-width:1100px;margin:0 auto;padding:16px 28px 48px}
nav{margin:8px 0 16px}
nav a{margin-right:14px;color:#8b1a1a}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 16px;min-width:120px}
.card b{display:block;font-size:26px;color:#8b1a1a}
section{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:8px 20px 16px;margin:16px 0}
h2{border-left:5px solid #8b1a1a;padding-left:8px}
details{margin:6px 0;padding:4px 8px;border:1px solid #eee;border-radius:4px}
details.topic>summary{font-weight:bold;cursor:pointer}
details.issue{margin-left:18px}
summary .heat{color:#8b1a1a;font-weight:normal;margin-left:8px}
.meta{color:#555;font-size:14px}
blockquote{margin:6px 0 6px 18px;padding:4px 10px;border-left:3px solid #c9a0a0;background:#fbf7f7}
blockquote cite{display:block;color:#666;font-size:13px;font-style:normal}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f0e6e6}
td.n{text-align:right}
.redo li{margin-bottom:6px}
#q{width:320px;padding:6px 8px;font-size:15px;border:1px solid #bbb;border-radius:4px}
.hidden{display:none}
svg text{font-size:12px;fill:#333}
@media print{
 header{background:none;color:#000;border-bottom:2px solid #000}
 nav,#filter{display:none}
 body{background:#fff}
 section{border:none;page-break-inside:auto}
 details{border:none}
 details>*:not(summary){display:block}
 a{color:#000;text-decoration:none}
}
"#;

/// The page's only script: the filter box (and opening every drill-down before printing).
const SCRIPT: &str = r#"
(function(){
 var q=document.getElementById('q'),n=document.getElementById('qn');
 function run(){
  var v=q.value.trim().toLowerCase(),shown=0;
  document.querySelectorAll('.f').forEach(function(e){
   var hit=!v||e.textContent.toLowerCase().indexOf(v)>=0;
   e.classList.toggle('hidden',!hit);
   if(hit)shown++;
   if(v&&hit&&e.tagName==='DETAILS')e.open=true;
  });
  n.textContent=v?('匹配 '+shown+' 项'):'';
 }
 q.addEventListener('input',run);
 window.addEventListener('beforeprint',function(){document.querySelectorAll('details').forEach(function(d){d.open=true;});});
 document.body.setAttribute('data-ready','1');
})();
"#;

fn bar_chart(items: &[(String, usize)]) -> String {
    let max = items.iter().map(|x| x.1).max().unwrap_or(1).max(1);
    let row = 24;
    let h = items.len() * row + 10;
    let mut s = format!(
        r#"<svg role="img" aria-label="各主题意见条数" width="720" height="{h}" viewBox="0 0 720 {h}" xmlns="http://www.w3.org/2000/svg">"#
    );
    for (i, (name, n)) in items.iter().enumerate() {
        let y = i * row + 4;
        let w = (*n as f64 / max as f64 * 480.0).round().max(1.0);
        let _ = write!(
            s,
            r##"<text x="150" y="{ty}" text-anchor="end">{name}</text><rect x="158" y="{y}" width="{w}" height="18" fill="#b03a3a"/><text x="{tx}" y="{ty}">{n}</text>"##,
            ty = y + 14,
            name = esc(name),
            tx = 164.0 + w,
        );
    }
    s.push_str("</svg>");
    s
}

fn line_chart(points: &[(String, usize)]) -> String {
    if points.is_empty() {
        return "<p class=\"meta\">意见没有日期，无法画出时间分布。</p>".to_owned();
    }
    let max = points.iter().map(|x| x.1).max().unwrap_or(1).max(1);
    let (w, h, left, bottom) = (720.0, 200.0, 40.0, 30.0);
    let step = if points.len() > 1 {
        (w - left - 20.0) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let xy: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, (_, n))| {
            (
                left + i as f64 * step,
                10.0 + (h - bottom - 10.0) * (1.0 - *n as f64 / max as f64),
            )
        })
        .collect();
    let poly = xy
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut s = format!(
        r##"<svg role="img" aria-label="每日意见条数" width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg"><line x1="{left}" y1="{base}" x2="{right}" y2="{base}" stroke="#999"/><polyline points="{poly}" fill="none" stroke="#b03a3a" stroke-width="2"/>"##,
        base = h - bottom,
        right = w - 10.0,
    );
    for (x, y) in &xy {
        let _ = write!(
            s,
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="#b03a3a"/>"##
        );
    }
    let _ = write!(
        s,
        r#"<text x="4" y="18">{max}</text><text x="{left}" y="{ly}">{first}</text><text x="{rx}" y="{ly}" text-anchor="end">{last}</text></svg>"#,
        ly = h - 8.0,
        first = esc(&points[0].0),
        rx = w - 10.0,
        last = esc(&points[points.len() - 1].0),
    );
    s
}

/// An HTML table: headers, then one filterable row per line (numbers right-aligned), every cell
/// escaped.
fn grid(s: &mut String, g: &Grid) {
    s.push_str("<table><thead><tr>");
    for h in &g.header {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>\n");
    for r in &g.rows {
        s.push_str("<tr class=\"f\">");
        for (c, &n) in r.iter().zip(&g.numeric) {
            let class = if n { " class=\"n\"" } else { "" };
            let _ = write!(s, "<td{class}>{}</td>", esc(c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table>");
}

/// Renders the page.
pub(crate) fn render(d: &Digest) -> String {
    let hash = base64(&Sha256::digest(SCRIPT.as_bytes()));
    let o = &d.overview;
    let mut s = String::with_capacity(64 * 1024);
    let _ = write!(
        s,
        r##"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{hash}'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{STYLE}</style></head><body>
<header><h1>{title}</h1><p>范围：{scope}</p></header><main>
<nav><a href="#s1">基本情况</a><a href="#s2">意见建议</a><a href="#s3">退回重写</a><a href="#s4">干部蹲点</a><a href="#s5">单位汇总</a><a href="#s6">专题一览</a></nav>
<div id="filter"><input id="q" type="search" placeholder="筛选：输入地点、单位、关键词…" aria-label="筛选"> <span id="qn" class="meta"></span></div>
<div class="cards"><div class="card"><b>{subs}</b>份材料</div><div class="card"><b>{sugg}</b>条意见建议</div><div class="card"><b>{issues}</b>个问题</div><div class="card"><b>{topics}</b>个专题</div><div class="card"><b>{redo}</b>份需退回重写</div></div>
"##,
        title = esc(&d.title),
        scope = esc(&d.scope),
        subs = o.submissions,
        sugg = o.suggestions,
        issues = o.issues,
        topics = o.topics,
        redo = o.redo,
    );
    let _ = writeln!(
        s,
        "<section id=\"s1\"><h2>一、{}</h2><p>{}</p><h3>各主题意见条数</h3>{}<h3>意见的时间分布</h3>{}</section>",
        SECTIONS[0],
        esc(&overview_text(d)),
        bar_chart(&d.theme_counts),
        line_chart(&d.timeline)
    );

    let _ = writeln!(s, "<section id=\"s2\"><h2>二、{}</h2>", SECTIONS[1]);
    for (n, th) in d.themes.iter().enumerate() {
        let _ = writeln!(
            s,
            "<h3>（{}）{}</h3>",
            cn_num(n + 1),
            esc(&theme_heading(&th.group, &th.theme, th.suggestions))
        );
        if th.topics.is_empty() {
            s.push_str("<p class=\"meta\">本主题的意见较分散，未形成专题。</p>\n");
        }
        for t in &th.topics {
            let _ = writeln!(
                s,
                "<details class=\"topic f\" id=\"{id}\"><summary>{id} {title}<span class=\"heat\">热度 {heat:.1}</span></summary><p class=\"meta\">{line}</p>",
                id = esc(&t.id),
                title = esc(&t.title),
                heat = t.heat,
                line = esc(&topic_line(t)),
            );
            for q in &t.quotes {
                let _ = writeln!(
                    s,
                    "<blockquote>{}<cite>——{}</cite></blockquote>",
                    esc(&q.text),
                    esc(&q.source)
                );
            }
            for i in &t.issues {
                let _ = writeln!(
                    s,
                    "<details class=\"issue\"><summary>问题 {} {}<span class=\"heat\">{}</span></summary>",
                    esc(&i.id),
                    esc(&i.title),
                    esc(&issue_line(i))
                );
                for q in &i.quotes {
                    let _ = writeln!(
                        s,
                        "<blockquote>{}<cite>——{}</cite></blockquote>",
                        esc(&q.text),
                        esc(&q.source)
                    );
                }
                s.push_str("</details>\n");
            }
            s.push_str("</details>\n");
        }
        if th.more_topics > 0 {
            let _ = writeln!(
                s,
                "<p class=\"meta\">另有 {} 个专题见专题一览。</p>",
                th.more_topics
            );
        }
    }
    s.push_str("</section>\n");

    let _ = writeln!(s, "<section id=\"s3\"><h2>三、{}</h2>", SECTIONS[2]);
    if d.redo.is_empty() {
        s.push_str("<p>没有需退回重写的材料。</p>\n");
    } else {
        s.push_str("<ol class=\"redo\">\n");
        for r in d.redo.iter().take(crate::REDO_SHOWN) {
            let _ = write!(
                s,
                "<li class=\"f\"><b>{}</b> <span class=\"meta\">{}；得分 {:.1}</span><ul>",
                esc(&r.path),
                esc(&r.who()),
                r.score
            );
            for reason in &r.reasons {
                let _ = write!(s, "<li>{}</li>", esc(reason));
            }
            if !r.review.is_empty() {
                let _ = write!(s, "<li class=\"review\">审核意见：{}</li>", esc(&r.review));
            }
            s.push_str("</ul></li>\n");
        }
        s.push_str("</ol>\n");
        if let Some(more) = redo_more(d) {
            let _ = writeln!(s, "<p class=\"meta\">{}</p>", esc(&more));
        }
    }
    s.push_str("</section>\n");

    let _ = writeln!(s, "<section id=\"s4\"><h2>四、{}</h2>", SECTIONS[3]);
    if d.cadres.is_empty() {
        s.push_str("<p>没有干部名册，未核查蹲点情况。</p>\n");
    } else {
        grid(&mut s, &cadre_grid(d));
        s.push('\n');
    }
    s.push_str("</section>\n");

    let _ = write!(s, "<section id=\"s5\"><h2>五、{}</h2>", SECTIONS[4]);
    grid(&mut s, &unit_grid(d));
    s.push_str("</section>\n");

    s.push_str("<section id=\"s6\"><h2>附表：问题专题一览</h2>");
    grid(&mut s, &topic_grid(d));
    s.push_str("</section>\n");
    let _ = writeln!(s, "</main><script>{SCRIPT}</script></body></html>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_encodes_base64() {
        assert_eq!(
            esc(r#"<img src=x onerror="alert(1)">&'"#),
            "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;"
        );
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"a"), "YQ==");
    }
}
