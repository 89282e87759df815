//! The pages, as HTML strings. Every piece of text from a submission, a file name or a request
//! goes through `esc` (or a snippet's own escaping); pages have no scripts.

use crate::evidence;
use crate::store::Store;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use diaoyan_index::escape_html as esc;
use diaoyan_model::{Decision, DecisionAction, DecisionTarget, Verdict};
use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

/// Latest reviewer decision per target.
pub type Decisions = HashMap<(DecisionTarget, String), Decision>;

/// The decisions on issues by the issue they refer to in this run (ids are renumbered by a
/// re-run; members say which issue it is).
fn issue_decisions<'a>(s: &Store, d: &'a Decisions) -> HashMap<String, &'a Decision> {
    d.iter()
        .filter(|(k, _)| k.0 == DecisionTarget::Issue)
        .filter_map(|(_, dec)| s.issue_of(dec).map(|id| (id.to_owned(), dec)))
        .collect()
}

/// A run's file that could not be read back for a page: replaced by a re-run (try again in a
/// moment, the page reads the new run) or unreadable.
fn unread(e: crate::Error) -> Refusal {
    let status = if matches!(e, crate::Error::Changed { .. }) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    refuse(status, &e.to_string())
}

/// The decisions in `out/decisions.jsonl` now (read on every page: the file is the truth, so a
/// decision shows after a restart or a re-run).
pub fn decisions(out: &Path) -> Decisions {
    diaoyan_digest::read_decisions(&out.join(diaoyan_digest::DECISIONS_FILE))
        .map(|(all, _)| diaoyan_digest::latest_decisions(&all))
        .unwrap_or_default()
}

const STYLE: &str = r#"
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;color:#222;background:#f6f6f3}
header{background:#8b1a1a;color:#fff;padding:.6em 1.2em}header a{color:#fff;margin-right:1.2em;text-decoration:none}
header a.on{border-bottom:2px solid #fff}header b{margin-right:2em}
main{max-width:1100px;margin:1em auto;padding:0 1em;background:#fff;padding:1em 1.5em}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:.3em .5em;vertical-align:top;text-align:left}
th{background:#f0ece4}.num{text-align:right}.meta{color:#666;font-size:.9em}
.cards{display:flex;flex-wrap:wrap;gap:.8em}.card{border:1px solid #ddd;padding:.6em 1em;min-width:8em}.card b{font-size:1.6em;display:block}
.v-redo{color:#b00;font-weight:bold}.v-review{color:#a60}.v-pass{color:#070}
.badge{display:inline-block;border-radius:3px;padding:0 .4em;background:#e7eefc;color:#124;font-size:.9em}
.doc{white-space:pre-wrap;line-height:1.8;border:1px solid #ddd;padding:1em;background:#fffdf8}
mark{background:#ffe066}mark.redo{background:#f8c4c4}mark.review{background:#fde3b0}mark.pass{background:#c9efc9}
li.redo{color:#900}li.review{color:#850}li.pass{color:#060}
.bar{background:#c44;height:.8em;display:inline-block}
form.inline{display:inline}input[type=text],input:not([type]),select{padding:.2em}
.facets{float:right;width:15em;margin-left:1em;font-size:.9em}.facets ul{padding-left:1em}
.hit{margin:.6em 0 .9em}.err{color:#b00}
@media print{header,form,.facets{display:none}}
"#;

const NAV: [(&str, &str); 5] = [
    ("/", "概览"),
    ("/redo", "退回与复核"),
    ("/search", "检索"),
    ("/issues", "问题与专题"),
    ("/cadres", "干部蹲点"),
];

/// The HTML around every page: head with the style sheet, a header with `nav`, the heading.
fn layout(title: &str, nav: &str, heading: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{} · diaoyan 审核台</title><style>{STYLE}</style></head><body><header><b>diaoyan 审核台</b>{nav}</header><main><h1>{}</h1>{body}</main></body></html>",
        esc(title),
        esc(heading)
    )
}

/// A whole page.
fn page(title: &str, at: &str, body: &str) -> Response {
    let mut nav = String::new();
    for (href, label) in NAV {
        let on = if href == at { " class=\"on\"" } else { "" };
        let _ = write!(nav, "<a href=\"{href}\"{on}>{label}</a>");
    }
    html(StatusCode::OK, layout(title, &nav, title, body))
}

fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// A request refused: a status and a Chinese message, shown as [`error_page`].
#[derive(Debug)]
pub struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error_page(self.0, &self.1)
    }
}

/// Refuses with `status` and `msg`.
pub fn refuse(status: StatusCode, msg: &str) -> Refusal {
    Refusal(status, msg.to_owned())
}

/// A Chinese error page.
pub fn error_page(status: StatusCode, msg: &str) -> Response {
    let code = status.as_u16().to_string();
    let body = format!("<p class=\"err\">{}</p>", esc(msg));
    html(
        status,
        layout(
            &code,
            "<a href=\"/\">返回概览</a>",
            &format!("出错了（{code}）"),
            &body,
        ),
    )
}

fn verdict_class(label: &str) -> &'static str {
    match label {
        "退回重写" => "v-redo",
        "复核" => "v-review",
        "通过" => "v-pass",
        _ => "",
    }
}

fn severity_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Redo => "redo",
        Verdict::Review => "review",
        Verdict::Pass => "pass",
    }
}

fn count(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// 概览.
pub fn overview(s: &Store, d: &Decisions) -> Response {
    let c = &s.run["counts"];
    let v = &c["verdicts"];
    let reviewed = d
        .keys()
        .filter(|k| k.0 == DecisionTarget::Submission)
        .count();
    let mut b = String::new();
    let _ = write!(
        b,
        "<p class=\"meta\">运行：{} ，开始于 {}，输出目录 {}</p><div class=\"cards\">",
        esc(s.run["name"].as_str().unwrap_or("")),
        esc(s.run["started"].as_str().unwrap_or("")),
        esc(&s.out.display().to_string())
    );
    for (label, n, href) in [
        (
            "材料",
            count(&c["submissions"]),
            "/search?type=submission&q=&verdict=",
        ),
        ("退回重写", count(&v["redo"]), "/redo?v=redo"),
        ("复核", count(&v["review"]), "/redo?v=review"),
        ("通过", count(&v["pass"]), "/redo?v=pass"),
        ("无法读取的文件", count(&c["errors"]), "/#errors"),
        ("意见建议", count(&c["suggestions"]), "/search"),
        ("问题", count(&c["issues"]), "/issues"),
        ("蹲点干部", count(&c["cadres"]), "/cadres"),
        ("已人工审核", reviewed as u64, "/redo?v=decided"),
    ] {
        let _ = write!(b, "<a class=\"card\" href=\"{href}\"><b>{n}</b>{label}</a>");
    }
    b.push_str("</div>");
    let errs = &s.errors;
    if !errs.rows.is_empty() {
        let _ = write!(
            b,
            "<h2 id=\"errors\">无法读取的文件（{} 个）</h2><table><tr><th>文件</th><th>原因</th></tr>",
            errs.rows.len()
        );
        for r in errs.rows.iter().take(200) {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(errs.get(r, "文件")),
                esc(errs.get(r, "原因"))
            );
        }
        b.push_str("</table>");
    }
    b.push_str(
        "<h2>意见建议主题</h2><table><tr><th>主题</th><th class=\"num\">条数</th><th></th></tr>",
    );
    let mut themes: Vec<(String, u64)> = c["by_theme"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), count(v))).collect())
        .unwrap_or_default();
    themes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let max = themes.first().map_or(1, |t| t.1.max(1));
    for (t, n) in &themes {
        let _ = write!(
            b,
            "<tr><td><a href=\"/search?theme={}\">{}</a></td><td class=\"num\">{n}</td><td><span class=\"bar\" style=\"width:{}px\"></span></td></tr>",
            url(t),
            esc(t),
            n * 300 / max
        );
    }
    b.push_str("</table>");
    page("概览", "/", &b)
}

/// Percent-encodes a query value.
fn url(v: &str) -> String {
    serde_urlencoded::to_string([("", v)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// `2026-11-30T22:54:53+08:00` as `2026-11-30 22:54`.
fn when(at: &str) -> String {
    at.replacen('T', " ", 1).chars().take(16).collect()
}

fn first_chars(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

/// 退回与复核: flagged submissions, lowest score first.
pub fn redo(s: &Store, d: &Decisions, p: &HashMap<String, String>) -> Result<Response, Refusal> {
    let which = p.get("v").map_or("redo", String::as_str);
    let keep = |v: Verdict, id: &str| match which {
        "redo" => v == Verdict::Redo,
        "review" => v == Verdict::Review,
        "pass" => v == Verdict::Pass,
        "flagged" => v != Verdict::Pass,
        "decided" => d.contains_key(&(DecisionTarget::Submission, id.to_owned())),
        _ => false,
    };
    if !["redo", "review", "pass", "flagged", "decided"].contains(&which) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "筛选条件只能是 redo、review、pass、flagged 或 decided。",
        ));
    }
    let mut rows: Vec<_> = s
        .entries
        .iter()
        .filter_map(|e| e.judged.map(|j| (e, j)))
        .filter(|(e, (_, v))| keep(*v, &e.id))
        .collect();
    rows.sort_by(|a, b| a.1.0.total_cmp(&b.1.0).then(a.0.path.cmp(&b.0.path)));
    let page_no: usize = p
        .get("page")
        .and_then(|x| x.parse().ok())
        .unwrap_or(1)
        .max(1);
    const PER: usize = 100;
    let mut b = String::from("<p>");
    for (v, label) in [
        ("redo", "退回重写"),
        ("review", "复核"),
        ("flagged", "全部标记"),
        ("decided", "已人工审核"),
        ("pass", "通过"),
    ] {
        if v == which {
            let _ = write!(b, "<b>{label}</b>　");
        } else {
            let _ = write!(b, "<a href=\"/redo?v={v}\">{label}</a>　");
        }
    }
    let _ = write!(b, "</p><p>共 {} 份，按得分从低到高。</p>", rows.len());
    b.push_str("<table><tr><th>得分</th><th>结论</th><th>审核意见</th><th>材料</th><th>作者</th><th>类型</th><th>主要理由</th></tr>");
    for (e, (score, verdict)) in rows.iter().skip((page_no - 1) * PER).take(PER) {
        let review = d
            .get(&(DecisionTarget::Submission, e.id.to_string()))
            .map(Decision::label)
            .unwrap_or_default();
        let _ = write!(
            b,
            "<tr><td class=\"num\">{:.1}</td><td class=\"{}\">{}</td><td>{}</td><td><a class=\"doc-link\" href=\"/doc/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            score,
            verdict_class(verdict.label()),
            verdict.label(),
            esc(&review),
            url(&e.id),
            esc(&e.path),
            esc(&e.author),
            e.kind.map_or("", |k| k.label()),
            esc(&first_chars(&e.reason, 80)),
        );
    }
    b.push_str("</table>");
    pager(
        &mut b,
        &format!("/redo?v={which}"),
        page_no,
        rows.len(),
        PER,
    );
    Ok(page("退回与复核", "/redo", &b))
}

fn pager(b: &mut String, base: &str, page_no: usize, total: usize, per: usize) {
    let pages = total.div_ceil(per).max(1);
    if pages > 1 {
        let _ = write!(b, "<p>第 {page_no}/{pages} 页　");
        if page_no > 1 {
            let _ = write!(b, "<a href=\"{base}&page={}\">上一页</a>　", page_no - 1);
        }
        if page_no < pages {
            let _ = write!(b, "<a href=\"{base}&page={}\">下一页</a>", page_no + 1);
        }
        b.push_str("</p>");
    }
}

/// One submission: its reasons, the evidence marked in place, the reviewer's form.
pub fn doc(s: &Store, d: &Decisions, id: &str, reviewer: &str) -> Result<Response, Refusal> {
    let doc = s.doc(id).map_err(unread)?.ok_or_else(|| {
        refuse(
            StatusCode::NOT_FOUND,
            "没有这份材料（编号不存在；重新运行后材料编号只会在文件内容改变时变化）。",
        )
    })?;
    let sub = &doc.sub;
    let mut b = String::new();
    let meta: Vec<String> = [
        sub.kind.map_or("", |k| k.label()),
        &sub.author,
        &sub.unit,
        sub.level.map_or("", |l| l.label()),
        &sub.place,
        &sub.date,
    ]
    .iter()
    .filter(|x| !x.is_empty())
    .map(|x| esc(x))
    .collect();
    let _ = write!(
        b,
        "<p class=\"meta\">文件：{}<br>{}</p>",
        esc(&sub.path),
        meta.join("，")
    );
    let reasons: Vec<(String, Verdict)> = doc
        .assessment
        .as_ref()
        .map(|a| {
            a.reasons
                .iter()
                .map(|r| (r.text.clone(), r.severity))
                .collect()
        })
        .unwrap_or_default();
    let marks = evidence::marks(&sub.text, &reasons);
    let decision = d.get(&(DecisionTarget::Submission, sub.id.to_string()));
    if let Some(a) = &doc.assessment {
        let _ = write!(
            b,
            "<p>得分 <b>{:.1}</b>　机器结论 <span id=\"machine\" class=\"{}\">{}</span>",
            a.score,
            verdict_class(a.verdict.label()),
            a.verdict.label()
        );
        if let Some(dec) = decision {
            let _ = write!(
                b,
                "　审核意见 <span id=\"review\" class=\"badge\">{}</span> <span class=\"meta\">{}</span>",
                esc(&dec.label()),
                esc(&when(&dec.at))
            );
        }
        b.push_str("</p><h2>理由</h2><ol class=\"reasons\">");
        for (i, r) in a.reasons.iter().enumerate() {
            let at: Vec<String> = marks
                .iter()
                .enumerate()
                .filter(|(_, m)| m.reasons.contains(&i))
                .map(|(k, _)| format!("<a href=\"#ev-{k}\">原文位置{}</a>", k + 1))
                .collect();
            let _ = write!(
                b,
                "<li class=\"{}\">{} {}</li>",
                severity_class(r.severity),
                esc(&r.text),
                at.join(" ")
            );
        }
        b.push_str("</ol>");
        // The reviewer's decision.
        let _ = write!(
            b,
            "<h2 id=\"decision\">审核</h2><form method=\"post\" action=\"/decide\"><input type=\"hidden\" name=\"target\" value=\"submission\"><input type=\"hidden\" name=\"id\" value=\"{}\"><input type=\"hidden\" name=\"back\" value=\"/doc/{}\"><p>审核人 <input type=\"text\" name=\"reviewer\" size=\"8\" maxlength=\"40\" value=\"{}\"></p><p><button name=\"action\" value=\"confirm\">确认机器结论（{}）</button></p><p>改判为 <select name=\"verdict\">",
            esc(&sub.id),
            esc(&url(&sub.id)),
            esc(reviewer),
            a.verdict.label()
        );
        for v in [Verdict::Pass, Verdict::Review, Verdict::Redo] {
            let _ = write!(b, "<option value=\"{}\">{}</option>", v.as_str(), v.label());
        }
        b.push_str("</select> 备注（改判必填）<input type=\"text\" name=\"note\" size=\"40\" maxlength=\"500\"> <button name=\"action\" value=\"override\">改判</button>");
        if decision.is_some() {
            b.push_str(" <button name=\"action\" value=\"withdraw\">撤销审核意见</button>");
        }
        b.push_str("</p></form>");
    }
    // The document, the quoted sentences marked where they stand.
    let _ = write!(b, "<h2>原文</h2><div class=\"doc\" id=\"text\">");
    let mut at = 0;
    for (k, m) in marks.iter().enumerate() {
        b.push_str(&esc(&sub.text[at..m.start]));
        let _ = write!(
            b,
            "<mark id=\"ev-{k}\" class=\"{}\" title=\"理由 {}\">{}</mark>",
            severity_class(m.severity),
            m.reasons
                .iter()
                .map(|r| (r + 1).to_string())
                .collect::<Vec<_>>()
                .join("、"),
            esc(&sub.text[m.start..m.end])
        );
        at = m.end;
    }
    b.push_str(&esc(&sub.text[at..]));
    b.push_str("</div>");
    // Its suggestions.
    let sg = s.suggestions();
    let mine = s.suggestions_of_submission(&sub.id).map_err(unread)?;
    if !mine.is_empty() {
        let _ = write!(
            b,
            "<h2>从本材料提取的意见建议（{} 条）</h2><ul>",
            mine.len()
        );
        for r in &mine {
            let issue = sg.get(r, "问题编号");
            let link = if issue.is_empty() {
                String::new()
            } else {
                format!(" <a href=\"/issue/{0}\">问题 {0}</a>", esc(issue))
            };
            let _ = write!(
                b,
                "<li>【{}】{}{link}</li>",
                esc(sg.get(r, "主题")),
                esc(sg.get(r, "内容"))
            );
        }
        b.push_str("</ul>");
    }
    let title = if sub.title.is_empty() {
        sub.path.as_str()
    } else {
        &sub.title
    };
    Ok(page(title, "/redo", &b))
}

/// The search an address asks for (the search page's parameters).
fn query_of(p: &HashMap<String, String>) -> Result<diaoyan_index::Search, Refusal> {
    let get = |k: &str| p.get(k).map_or("", String::as_str).trim().to_owned();
    let ty = get("type");
    let scope = diaoyan_index::Scope::parse(if ty.is_empty() { "suggestion" } else { &ty })
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, &e.to_string()))?;
    Ok(diaoyan_index::Search {
        words: get("q"),
        scope,
        theme: get("theme"),
        place: get("place"),
        unit: get("unit"),
        verdict: get("verdict"),
        kind: get("kind"),
        from: get("from"),
        to: get("to"),
        snippet_chars: 120,
        ..diaoyan_index::Search::default()
    })
}

/// Most rows in a CSV export of a search.
const EXPORT_MAX: usize = 100_000;

/// 检索结果导出：the hits of a search as CSV (UTF-8 with BOM, for Excel and WPS).
pub fn search_csv(s: &Store, p: &HashMap<String, String>) -> Result<Response, Refusal> {
    let searcher = s
        .index
        .as_ref()
        .map_err(|why| refuse(StatusCode::NOT_FOUND, why))?
        .searcher()
        .map_err(|why| refuse(StatusCode::NOT_FOUND, &why))?;
    let q = diaoyan_index::Search {
        limit: EXPORT_MAX,
        ..query_of(p)?
    };
    let found = searcher
        .search(&q)
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, &e.to_string()))?;
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let bad = |_| refuse(StatusCode::INTERNAL_SERVER_ERROR, "导出失败。");
    w.write_record([
        "序号",
        "类别",
        "内容",
        "标题",
        "作者",
        "单位",
        "地点",
        "日期",
        "材料类型",
        "结论",
        "主题",
        "问题编号",
        "专题编号",
        "文件",
        "材料ID",
    ])
    .map_err(bad)?;
    for (i, h) in found.hits.iter().enumerate() {
        let content = if h.text.is_empty() {
            &h.snippet.text
        } else {
            &h.text
        };
        w.write_record([
            &(i + 1).to_string(),
            h.doc_type.label(),
            content,
            &h.title,
            &h.author,
            &h.unit,
            &h.place,
            &h.date,
            &h.kind,
            &h.verdict,
            &h.theme,
            &h.issue,
            &h.topic,
            &h.path,
            &h.submission,
        ])
        .map_err(bad)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|_| refuse(StatusCode::INTERNAL_SERVER_ERROR, "导出失败。"))?;
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"search.csv\"; filename*=UTF-8''%E6%A3%80%E7%B4%A2%E7%BB%93%E6%9E%9C.csv"),
    );
    Ok(r)
}

/// 检索.
pub fn search(s: &Store, p: &HashMap<String, String>) -> Result<Response, Refusal> {
    let get = |k: &str| p.get(k).map_or("", String::as_str).trim().to_owned();
    let (q, ty) = (get("q"), get("type"));
    let mut b = String::new();
    let _ = write!(
        b,
        "<form method=\"get\" action=\"/search\"><p><input type=\"text\" name=\"q\" id=\"q\" size=\"50\" value=\"{}\" placeholder=\"关键词，可用 OR、-排除、&quot;短语&quot;、主题:交通运输\"> <select name=\"type\">",
        esc(&q)
    );
    for (v, label) in [
        ("suggestion", "意见建议"),
        ("submission", "整份材料"),
        ("all", "全部"),
    ] {
        let sel = if v == ty || (ty.is_empty() && v == "suggestion") {
            " selected"
        } else {
            ""
        };
        let _ = write!(b, "<option value=\"{v}\"{sel}>{label}</option>");
    }
    b.push_str("</select> <button>检索</button></p>");
    let filters = [
        ("theme", "主题"),
        ("place", "地点"),
        ("unit", "单位"),
        ("verdict", "结论"),
        ("kind", "材料类型"),
        ("from", "起始日期"),
        ("to", "截止日期"),
    ];
    b.push_str("<p class=\"meta\">");
    for (k, label) in filters {
        let _ = write!(
            b,
            "{label} <input type=\"text\" name=\"{k}\" size=\"8\" value=\"{}\">　",
            esc(&get(k))
        );
    }
    b.push_str("</p></form>");
    let searcher = match s
        .index
        .as_ref()
        .map_err(String::clone)
        .and_then(|i| i.searcher())
    {
        Ok(searcher) => searcher,
        Err(why) => {
            let _ = write!(b, "<p class=\"err\">{}</p>", esc(&why));
            return Ok(page("检索", "/search", &b));
        }
    };
    let has_filter = filters.iter().any(|(k, _)| !get(k).is_empty());
    if q.is_empty() && !has_filter {
        b.push_str("<p>输入关键词或筛选条件后检索。</p>");
        return Ok(page("检索", "/search", &b));
    }
    let page_no: usize = get("page").parse().unwrap_or(1).max(1);
    const PER: usize = 20;
    let query = diaoyan_index::Search {
        count_by: ["theme", "place", "unit", "verdict", "kind"]
            .map(str::to_owned)
            .to_vec(),
        limit: page_no * PER,
        ..query_of(p)?
    };
    let found = match searcher.search(&query) {
        Ok(f) => f,
        Err(e) => {
            let _ = write!(b, "<p class=\"err\">{}</p>", esc(&e.to_string()));
            return Ok(page("检索", "/search", &b));
        }
    };
    // The current address without one parameter (facet links add it back with a value).
    let base = |skip: &str| -> String {
        let mut kv: Vec<(&String, &String)> = p
            .iter()
            .filter(|(k, v)| k.as_str() != skip && k.as_str() != "page" && !v.is_empty())
            .collect();
        kv.sort();
        serde_urlencoded::to_string(kv).unwrap_or_default()
    };
    b.push_str("<div class=\"facets\" id=\"facets\">");
    for (f, key) in found
        .facets
        .iter()
        .zip(["theme", "place", "unit", "verdict", "kind"])
    {
        if f.counts.is_empty() {
            continue;
        }
        let _ = write!(b, "<b>按{}</b><ul>", esc(&f.field));
        for (v, n) in f.counts.iter().take(12) {
            let _ = write!(
                b,
                "<li><a href=\"/search?{}&{key}={}\">{}</a> {n}</li>",
                esc(&base(key)),
                url(v),
                esc(v)
            );
        }
        b.push_str("</ul>");
    }
    b.push_str("</div>");
    for n in &found.notes {
        let _ = write!(b, "<p class=\"meta\">提示：{}</p>", esc(n));
    }
    let _ = write!(
        b,
        "<p id=\"total\">共找到 <b>{}</b> 条。 <a id=\"export\" href=\"/search.csv?{}\">导出为 Excel 可打开的 CSV</a>{}</p>",
        found.total,
        esc(&base("page")),
        if found.total > EXPORT_MAX {
            format!("（最多导出 {EXPORT_MAX} 条）")
        } else {
            String::new()
        }
    );
    for h in found.hits.iter().skip((page_no - 1) * PER) {
        let tag = if h.doc_type == diaoyan_index::DocType::Submission {
            format!("{} · {}", esc(&h.kind), esc(&h.verdict))
        } else {
            let issue = if h.issue.is_empty() {
                String::new()
            } else {
                format!(" · <a href=\"/issue/{0}\">问题 {0}</a>", esc(&h.issue))
            };
            format!("{}{issue}", esc(&h.theme))
        };
        let title = if h.doc_type == diaoyan_index::DocType::Submission && !h.title.is_empty() {
            format!("《{}》", esc(&h.title))
        } else {
            String::new()
        };
        let _ = write!(
            b,
            "<div class=\"hit\"><span class=\"badge\">{tag}</span> <a class=\"hit-link\" href=\"/doc/{}\">{title}{}</a><br><span class=\"meta\">{} {} {} {}　{}</span></div>",
            url(&h.submission),
            h.snippet.html(),
            esc(&h.place),
            esc(&h.date),
            esc(&h.author),
            esc(&h.unit),
            esc(&h.path)
        );
    }
    pager(
        &mut b,
        &format!("/search?{}", esc(&base("page"))),
        page_no,
        found.total,
        PER,
    );
    Ok(page("检索", "/search", &b))
}

/// 问题与专题: topics, each with its issues.
pub fn issues(s: &Store, d: &Decisions) -> Response {
    let (tp, is) = (&s.topics, &s.issues);
    let handled = issue_decisions(s, d);
    let mut b = format!(
        "<p>共 {} 个专题、{} 个问题，按热度排列。展开专题看其中的问题；点问题看每条意见和出处。</p>",
        tp.rows.len(),
        is.rows.len()
    );
    for t in &tp.rows {
        let id = tp.get(t, "专题编号");
        let members = s.issues_of_topic.rows(is, id);
        let _ = write!(
            b,
            "<details><summary><b>{}</b> {} <span class=\"meta\">{} · 热度 {} · 提及 {} 次 · {} 个问题</span></summary><ul>",
            esc(id),
            esc(tp.get(t, "标题")),
            esc(tp.get(t, "主题")),
            esc(tp.get(t, "热度")),
            esc(tp.get(t, "提及次数")),
            members.len()
        );
        for i in members {
            let iid = is.get(i, "问题编号");
            let handled = handled
                .get(iid)
                .map(|x| format!(" <span class=\"badge\">{}</span>", esc(&x.label())))
                .unwrap_or_default();
            let _ = write!(
                b,
                "<li><a href=\"/issue/{}\">{} {}</a> <span class=\"meta\">提及 {} 次</span>{handled}</li>",
                url(iid),
                esc(iid),
                esc(is.get(i, "标题")),
                esc(is.get(i, "提及次数"))
            );
        }
        let _ = write!(
            b,
            "<li><a href=\"/search?q={}\">本专题的全部意见建议</a></li></ul></details>",
            url(&format!("专题:{id}"))
        );
    }
    page("问题与专题", "/issues", &b)
}

/// One issue: its figures, its member suggestions linked to their documents, the handled form.
pub fn issue(s: &Store, d: &Decisions, id: &str, reviewer: &str) -> Result<Response, Refusal> {
    let is = &s.issues;
    let row = s
        .issue(id)
        .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "没有这个问题编号。"))?;
    let mut b = String::new();
    let _ = write!(
        b,
        "<p class=\"meta\">{} · {} · 关键词 {} · 热度 {} · 提及 {} 次，{} 份材料 · 地点 {} · {} 至 {}</p>",
        esc(is.get(row, "主题大类")),
        esc(is.get(row, "主题")),
        esc(is.get(row, "关键词")),
        esc(is.get(row, "热度")),
        esc(is.get(row, "提及次数")),
        esc(is.get(row, "材料份数")),
        esc(is.get(row, "地点")),
        esc(is.get(row, "首次日期")),
        esc(is.get(row, "末次日期"))
    );
    let decision = issue_decisions(s, d).get(id).copied();
    if let Some(x) = decision {
        let _ = write!(
            b,
            "<p>处理情况 <span class=\"badge\" id=\"review\">{}</span></p>",
            esc(&x.label())
        );
    }
    let _ = write!(
        b,
        "<form method=\"post\" action=\"/decide\"><input type=\"hidden\" name=\"target\" value=\"issue\"><input type=\"hidden\" name=\"id\" value=\"{0}\"><input type=\"hidden\" name=\"back\" value=\"/issue/{0}\">审核人 <input type=\"text\" name=\"reviewer\" size=\"8\" maxlength=\"40\" value=\"{2}\"> 备注 <input type=\"text\" name=\"note\" size=\"40\" maxlength=\"500\"> <button name=\"action\" value=\"handled\">标记为已处理</button>{1}</form>",
        esc(id),
        if decision.is_some() {
            " <button name=\"action\" value=\"withdraw\">撤销</button>"
        } else {
            ""
        },
        esc(reviewer)
    );
    let sg = s.suggestions();
    let members = s.suggestions_of_issue(id).map_err(unread)?;
    let _ = write!(
        b,
        "<h2>意见建议（{} 条）</h2><table><tr><th>内容</th><th>地点</th><th>日期</th><th>出处</th></tr>",
        members.len()
    );
    for r in &members {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/doc/{}\">{}</a></td></tr>",
            esc(sg.get(r, "内容")),
            esc(sg.get(r, "地点")),
            esc(sg.get(r, "日期")),
            url(sg.get(r, "材料ID")),
            esc(sg.get(r, "文件"))
        );
    }
    b.push_str("</table>");
    Ok(page(
        &format!("问题 {id}：{}", is.get(row, "标题")),
        "/issues",
        &b,
    ))
}

/// 干部蹲点: every cadre's rule checks.
pub fn cadres(s: &Store) -> Response {
    let c = &s.cadres;
    let cols = [
        "姓名",
        "单位",
        "级别",
        "联系点",
        "蹲点天数",
        "手记篇数",
        "走访户数",
        "户数要求",
        "未走访类别",
        "座谈会发言人数",
        "材料份数",
        "退回份数",
        "结论",
        "理由",
    ];
    let mut b = if c.rows.is_empty() {
        "<p>这次运行没有干部名册，未核查蹲点情况。</p>".to_owned()
    } else {
        format!("<p>共 {} 名干部。</p>", c.rows.len())
    };
    b.push_str("<table><tr>");
    for h in cols {
        let _ = write!(b, "<th>{h}</th>");
    }
    b.push_str("</tr>");
    for r in &c.rows {
        b.push_str("<tr>");
        for h in cols {
            let v = c.get(r, h);
            let class = if h == "结论" { verdict_class(v) } else { "" };
            let _ = write!(b, "<td class=\"{class}\">{}</td>", esc(v));
        }
        b.push_str("</tr>");
    }
    b.push_str("</table>");
    page("干部蹲点", "/cadres", &b)
}

/// The decision a form asks for, and where to go back to.
pub fn decision(
    s: &Store,
    d: &Decisions,
    f: &HashMap<String, String>,
) -> Result<(Decision, String), Refusal> {
    let get = |k: &str| f.get(k).map_or("", String::as_str).trim();
    let bad = |m: &str| refuse(StatusCode::BAD_REQUEST, m);
    let id = get("id");
    let note: String = get("note").chars().take(500).collect();
    let reviewer: String = get("reviewer").chars().take(40).collect();
    let action = match get("action") {
        "confirm" => DecisionAction::Confirm,
        "override" => DecisionAction::Override,
        "handled" => DecisionAction::Handled,
        "withdraw" => DecisionAction::Withdraw,
        _ => return Err(bad("审核操作无法识别。")),
    };
    let at = chrono::Local::now()
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    // An issue's earlier decision may have been made under its id in an earlier run: a new one
    // on the same issue replaces it (same key).
    let mut key = id.to_owned();
    let (target, machine, about, members, verdict) = match get("target") {
        "submission" => {
            let doc = s
                .entry(id)
                .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "没有这份材料，审核意见未保存。"))?;
            let machine = doc.judged.map(|(_, v)| v);
            let verdict = match action {
                DecisionAction::Confirm => machine,
                DecisionAction::Override => {
                    let v = match get("verdict") {
                        "pass" | "通过" => Verdict::Pass,
                        "review" | "复核" => Verdict::Review,
                        "redo" | "退回重写" => Verdict::Redo,
                        _ => return Err(bad("改判的结论只能是通过、复核或退回重写。")),
                    };
                    if note.is_empty() {
                        return Err(bad("改判需要填写备注，说明理由。请返回上一页填写。"));
                    }
                    Some(v)
                }
                DecisionAction::Withdraw => None,
                DecisionAction::Handled => return Err(bad("“已处理”只用于问题。")),
            };
            (
                DecisionTarget::Submission,
                machine,
                doc.path.to_string(),
                Vec::new(),
                verdict,
            )
        }
        "issue" => {
            if !matches!(action, DecisionAction::Handled | DecisionAction::Withdraw) {
                return Err(bad("问题只能标记为已处理或撤销。"));
            }
            let is = &s.issues;
            let row = s.issue(id).ok_or_else(|| {
                refuse(StatusCode::NOT_FOUND, "没有这个问题编号，审核意见未保存。")
            })?;
            let members = s.issue_members(id).map_err(unread)?;
            if let Some(earlier) = issue_decisions(s, d).get(id) {
                key.clone_from(&earlier.id);
            }
            (
                DecisionTarget::Issue,
                None,
                is.get(row, "标题").to_owned(),
                members,
                None,
            )
        }
        _ => return Err(bad("审核对象无法识别。")),
    };
    // Back to a page of this app only.
    let back = get("back");
    let back = if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') {
        back.to_owned()
    } else {
        "/".to_owned()
    };
    Ok((
        Decision {
            target,
            id: key,
            action,
            verdict,
            machine,
            note,
            reviewer,
            at,
            about,
            members,
        },
        format!("{back}#decision"),
    ))
}
