//! `diaoyan serve` end to end in a real browser: headless Chromium driven over the DevTools
//! protocol (a WebSocket, no driver binary), screenshots kept in `target/tmp/serve-*.png`.
//! Skips cleanly when no Chromium is installed (`.ci/run` installs Debian's `chromium`).

mod common;

use common::{chromium, copy_dir, http, root, serve};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn run(input: &Path, out: &Path) -> std::process::Output {
    let o = Command::new(env!("CARGO_BIN_EXE_diaoyan"))
        .args(["run", "--input"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// A run (into `dir/out`, returned) of an opinion sheet with one row about 石桥村's 机耕路.
fn one_opinion_run(dir: &Path) -> PathBuf {
    let input = dir.join("材料");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(
        input.join("意见.csv"),
        "\u{feff}姓名,地点,意见建议\n村民甲,石桥村,石桥村机耕路坑洼不平，建议硬化\n",
    )
    .unwrap();
    let out = dir.join("out");
    run(&input, &out);
    out
}

/// A running `diaoyan serve`, stopped on drop.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(out: &Path) -> Server {
        let (child, base) = serve(Command::new(env!("CARGO_BIN_EXE_diaoyan")), out);
        Server { child, base }
    }

    fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What tells one page load from the next.
const NAV_ID: &str = "performance.timeOrigin";

/// Headless Chromium over the DevTools protocol.
struct Browser {
    child: Child,
    ws: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
    session: String,
    next: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn launch(bin: &str) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--window-size=1200,1400",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut ws_url = String::new();
        let mut line = String::new();
        while err.read_line(&mut line).unwrap() > 0 {
            if let Some(at) = line.find("ws://") {
                ws_url = line[at..].trim().to_owned();
                break;
            }
            line.clear();
        }
        assert!(!ws_url.is_empty(), "chromium printed no DevTools address");
        // Keep reading its stderr so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while err.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        let (ws, _) = tungstenite::connect(ws_url.as_str()).unwrap();
        let mut b = Browser {
            child,
            ws,
            session: String::new(),
            next: 0,
            _profile: profile,
        };
        let targets = b.call("Target.getTargets", json!({}));
        let page = targets["targetInfos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .expect("a page target")["targetId"]
            .clone();
        let s = b.call(
            "Target.attachToTarget",
            json!({"targetId": page, "flatten": true}),
        );
        b.session = s["sessionId"].as_str().unwrap().to_owned();
        b
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        match self.try_call(method, params) {
            Ok(v) => v,
            Err(e) => panic!("{method}: {e}"),
        }
    }

    /// One DevTools call; `Err` carries the protocol's error object.
    fn try_call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.ws
            .send(tungstenite::Message::text(msg.to_string()))
            .unwrap();
        loop {
            let m = self.ws.read().unwrap();
            let Ok(text) = m.to_text() else { continue };
            let v: Value = serde_json::from_str(text).unwrap_or_default();
            if v["id"] == id {
                return if v["error"].is_null() {
                    Ok(v["result"].clone())
                } else {
                    Err(v["error"].clone())
                };
            }
        }
    }

    /// `Runtime.evaluate` of `js`: the protocol's reply, or its error object.
    fn evaluate(&mut self, js: &str) -> Result<Value, Value> {
        self.try_call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true}),
        )
    }

    fn eval(&mut self, js: &str) -> Value {
        let r = self
            .evaluate(js)
            .unwrap_or_else(|e| panic!("Runtime.evaluate: {e}"));
        assert!(
            r["exceptionDetails"].is_null(),
            "{js}: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    /// Evaluates `js` while a navigation may be under way: `None` when the call failed (the
    /// page's context went away mid-call: "Inspected target navigated or closed", "Cannot find
    /// context", ...), which only means "ask again" — a caller that keeps getting `None` fails
    /// on its own timeout; a script exception other than a destroyed context fails the test.
    fn eval_during_navigation(&mut self, js: &str) -> Option<Value> {
        let r = self.evaluate(js).ok()?;
        if r["exceptionDetails"].is_null() {
            Some(r["result"]["value"].clone())
        } else {
            let text = r["exceptionDetails"].to_string();
            // A context destroyed under a running script is navigation, not a bug.
            assert!(
                text.contains("destroyed") || text.contains("navigat"),
                "{js}: {text}"
            );
            None
        }
    }

    fn nav_id(&mut self) -> Value {
        self.eval(NAV_ID)
    }

    /// Waits until a new page (different navigation) has loaded. Evaluations that race the
    /// navigation are asked again (CI once failed on exactly that race).
    fn wait_new_page(&mut self, before: &Value) {
        let t = Instant::now();
        loop {
            if let Some(now) = self.eval_during_navigation(NAV_ID)
                && &now != before
                && self.eval_during_navigation("document.readyState")
                    == Some(Value::from("complete"))
            {
                return;
            }
            assert!(t.elapsed() < Duration::from_secs(20), "no navigation");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn goto(&mut self, url: &str) {
        let before = self.nav_id();
        self.call("Page.navigate", json!({"url": url}));
        self.wait_new_page(&before);
    }

    /// Runs `js` (a click, a form submission) and waits for the page it leads to.
    fn act(&mut self, js: &str) {
        let before = self.nav_id();
        // The action itself may navigate before its result comes back.
        self.eval_during_navigation(js);
        self.wait_new_page(&before);
    }

    fn text(&mut self, selector: &str) -> String {
        self.eval(&format!(
            "(document.querySelector({}) || {{textContent: ''}}).textContent",
            json!(selector)
        ))
        .as_str()
        .unwrap_or("")
        .to_owned()
    }

    fn screenshot(&mut self, name: &str) -> PathBuf {
        use base64::Engine;
        let r = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": false}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        assert!(
            png.len() > 10_000,
            "{name}: an empty page? {} bytes",
            png.len()
        );
        let dir = root().join("target/tmp");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("serve-{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const EVIL: &str = "蹲点手记\n\
<script>document.body.setAttribute('data-pwned','script')</script>今天继续深入农户走访，与群众拉家常、听心声。\n\
<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">进一步统一思想、提高认识，以钉钉子精神抓好落实。\n\
通过此次蹲点调研，进一步密切了党群干群关系，取得了明显成效。联系电话13812345678。\n";

/// Issue 10: search, open a redo item with its evidence in place, record an override, restart
/// the server and find it still there; the next run and its digest show it; a decision whose
/// submission is gone is reported, not lost. Security answers in Chinese.
#[test]
fn the_review_page_works_in_a_browser_and_decisions_survive() {
    let Some(bin) = chromium() else {
        eprintln!("skipped: no chromium");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("材料");
    copy_dir(&root().join("corpora/sample/campaign"), &input);
    let evil = input.join("李娜/2023-09-22_蹲点手记_脚本.txt");
    std::fs::write(&evil, EVIL).unwrap();
    let out = tmp.path().join("out");
    run(&input, &out);

    let server = Server::start(&out);
    let mut b = Browser::launch(bin);

    // Search: typed into the form; every marked word is a query word.
    b.goto(&format!("{}/search", server.base));
    b.act("document.getElementById('q').value='机耕路 塌方'; document.querySelector('form').requestSubmit()");
    let marks = b.eval("[...document.querySelectorAll('.hit mark')].map(m => m.textContent)");
    let marks: Vec<String> = serde_json::from_value(marks).unwrap();
    assert!(!marks.is_empty(), "no marked words");
    assert!(
        marks.iter().all(|m| m == "机耕路" || m == "塌方"),
        "{marks:?}"
    );
    assert!(b.text("#total").contains("共找到"), "{}", b.text("#total"));
    assert!(b.text("#facets").contains("交通运输"));
    b.screenshot("search");
    let total = |b: &mut Browser| -> u64 {
        b.eval("+document.querySelector('#total b').textContent")
            .as_u64()
            .unwrap()
    };
    // The hits as a CSV for Excel: every one of them, with a BOM and a header.
    let shown = total(&mut b);
    let href = b.eval("document.getElementById('export').getAttribute('href')");
    let (status, resp) = http(
        server.port(),
        &format!(
            "GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            href.as_str().unwrap(),
            server.port()
        ),
    );
    assert_eq!(status, 200, "{resp}");
    assert!(
        resp.to_ascii_lowercase().contains("content-type: text/csv"),
        "{resp}"
    );
    let body = &resp[resp.find("\r\n\r\n").unwrap() + 4..];
    assert!(body.starts_with('\u{feff}'), "a BOM");
    let mut rows = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(&rows.headers().unwrap()[2], "内容");
    assert_eq!(rows.records().count() as u64, shown);
    // A facet link narrows the search.
    let all = total(&mut b);
    b.act("[...document.querySelectorAll('#facets a')].find(a => a.textContent == '走访笔录').click()");
    assert!(total(&mut b) < all);

    // The redo list, then the submitted document with the script in it.
    b.goto(&format!("{}/redo", server.base));
    b.screenshot("redo");
    b.act("[...document.querySelectorAll('a.doc-link')].find(a => a.textContent.includes('脚本')).click()");
    let doc_url = b.eval("location.href").as_str().unwrap().to_owned();
    assert_eq!(b.text("#machine"), "退回重写");
    let text = b.text("#text");
    assert!(
        text.contains("<script>document.body"),
        "the script is text: {text}"
    );
    assert!(text.contains("<img src=x onerror="), "{text}");
    assert!(
        b.eval("document.body.getAttribute('data-pwned')").is_null(),
        "a submitted script ran"
    );
    // Personal data stays masked on the page.
    assert!(
        !text.contains("13812345678") && text.contains("138****5678"),
        "{text}"
    );
    assert_eq!(
        b.eval("document.querySelectorAll('#text script, #text img').length"),
        0
    );
    // Evidence in place: the quoted 套话 sentences are marked in the text, linked from reasons.
    let marked: Vec<String> = serde_json::from_value(
        b.eval("[...document.querySelectorAll('#text mark')].map(m => m.textContent)"),
    )
    .unwrap();
    assert!(
        marked.iter().any(|m| m.contains("以钉钉子精神抓好落实")),
        "{marked:?}"
    );
    assert!(
        b.eval("document.querySelectorAll('.reasons a[href^=\"#ev-\"]').length")
            .as_u64()
            > Some(0)
    );
    b.screenshot("doc");

    // Override it with a note.
    b.act("document.querySelector('select[name=verdict]').value='pass'; document.querySelector('input[name=note]').value='已电话核实，<b>补交</b>材料'; document.querySelector('input[name=reviewer]').value='王审核'; document.querySelector('button[value=override]').click()");
    assert_eq!(
        b.text("#review"),
        "改为通过（已电话核实，<b>补交</b>材料；审核人 王审核）"
    );
    // An override without a note is refused in Chinese and nothing is written.
    b.act("document.querySelector('select[name=verdict]').value='review'; document.querySelector('button[value=override]').click()");
    assert!(
        b.text("main").contains("改判需要填写备注"),
        "{}",
        b.text("main")
    );

    // Restart the server: the decision is still there.
    let port = server.port();
    drop(server);
    let server = Server::start(&out);
    b.goto(&doc_url.replace(&format!(":{port}/"), &format!(":{}/", server.port())));
    assert_eq!(
        b.text("#review"),
        "改为通过（已电话核实，<b>补交</b>材料；审核人 王审核）"
    );
    b.screenshot("doc-decided");

    // Issues and topics: open the first issue, mark it handled.
    b.goto(&format!("{}/issues", server.base));
    b.screenshot("issues");
    // A topic's link lists all its suggestions.
    b.act("[...document.querySelectorAll('details a')].find(a => a.textContent == '本专题的全部意见建议').click()");
    assert!(total(&mut b) > 0, "{}", b.text("main"));
    b.goto(&format!("{}/issues", server.base));
    b.act("document.querySelector('details a[href^=\"/issue/\"]').click()");
    let issue_id = b
        .eval("location.pathname.split('/').pop()")
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        b.eval("document.querySelectorAll('table a[href^=\"/doc/\"]').length")
            .as_u64()
            > Some(0)
    );
    assert_eq!(
        b.eval("document.querySelector('input[name=reviewer]').value"),
        "王审核",
        "the reviewer's name is remembered"
    );
    b.act("document.querySelector('input[name=note]').value='已转交镇政府'; document.querySelector('button[value=handled]').click()");
    assert_eq!(b.text("#review"), "已处理（已转交镇政府；审核人 王审核）");
    b.goto(&format!("{}/cadres", server.base));
    assert!(b.eval("document.querySelectorAll('tr').length").as_u64() > Some(5));
    b.screenshot("cadres");
    b.goto(&format!("{}/", server.base));
    assert!(b.text("main").contains("已人工审核"));
    b.screenshot("overview");

    // Bad requests: Chinese pages with 4xx, never a crash.
    let port = server.port();
    let get = |path: &str| {
        http(
            port,
            &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"),
        )
    };
    for (path, code, says) in [
        ("/doc/nonexistent", 404, "没有这份材料"),
        ("/issue/I9999", 404, "没有这个问题编号"),
        ("/nowhere/../../etc/passwd", 404, "没有这个页面"),
        ("/decide", 405, "不接受这种请求方式"),
        ("/redo?v=%FF%FE", 400, "筛选条件"),
        ("/search?q=%22%E6%9C%BA", 200, "没有配对"),
    ] {
        let (status, body) = get(path);
        assert_eq!(status, code, "{path}: {body}");
        assert!(body.contains(says), "{path}: {body}");
    }
    let form = "target=submission&id=x&action=confirm";
    let post = |headers: &str| {
        http(
            port,
            &format!(
                "POST /decide HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
                form.len()
            ),
        )
    };
    let (status, body) = post("");
    assert_eq!(status, 403, "a POST without an origin: {body}");
    assert!(body.contains("拒绝来自其他网站的提交"));
    let (status, _) = post("Origin: http://evil.example\r\n");
    assert_eq!(status, 403);
    let (status, body) = post(&format!("Origin: http://127.0.0.1:{port}\r\n"));
    assert_eq!(status, 404, "same origin, unknown submission: {body}");
    let (status, _) = http(
        port,
        "GET / HTTP/1.1\r\nHost: attacker.example:80\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 403, "a foreign Host (DNS rebinding) is refused");
    drop(server);
    drop(b);

    // The next run shows the reviewer's verdict beside the machine's, in the tables and the
    // written material.
    let lines = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    let o = run(&input, &out);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("审核意见 2 条，已对应到本次结果 2 条"),
        "{said}"
    );
    let flags = std::fs::read_to_string(out.join("flags.csv")).unwrap();
    let row = flags.lines().find(|l| l.contains("脚本")).unwrap();
    assert!(
        row.contains("退回重写") && row.contains("改为通过（已电话核实"),
        "{row}"
    );
    assert!(row.ends_with(",通过"), "审核后结论: {row}");
    let digest = std::fs::read_to_string(out.join("digest.md")).unwrap();
    assert!(
        digest.contains("审核意见：改为通过（已电话核实"),
        "the digest shows it"
    );
    let issues = std::fs::read_to_string(out.join("issues.csv")).unwrap();
    let row = issues
        .trim_start_matches('\u{feff}')
        .lines()
        .find(|l| l.starts_with(&format!("{issue_id},")))
        .unwrap();
    assert!(
        row.ends_with(",已处理（已转交镇政府；审核人 王审核）"),
        "{row}"
    );
    let r: Value = serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(r["reviews"]["applied"], 2, "{}", r["reviews"]);

    // The file goes away: its decision is kept and reported.
    std::fs::remove_file(&evil).unwrap();
    let o = run(&input, &out);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains("已不在本次输入中"), "{said}");
    let r: Value = serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    let orphans = r["reviews"]["orphaned"].as_array().unwrap();
    assert_eq!(orphans.len(), 1, "{orphans:?}");
    assert!(orphans[0]["about"].as_str().unwrap().contains("脚本"));
    assert_eq!(
        std::fs::read_to_string(out.join("decisions.jsonl")).unwrap(),
        lines,
        "decisions are never rewritten by a run"
    );
}

/// Beyond loopback the page needs the printed token; with it, a cookie carries it on.
#[test]
fn listening_beyond_loopback_needs_the_token() {
    let tmp = tempfile::tempdir().unwrap();
    let out = one_opinion_run(tmp.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_diaoyan"))
        .arg("serve")
        .arg(&out)
        .args(["--port", "0", "--listen", "0.0.0.0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    let mut r = BufReader::new(child.stdout.take().unwrap());
    r.read_line(&mut said).unwrap();
    r.read_line(&mut said).unwrap();
    let url = said[said.find("http://").unwrap()..]
        .lines()
        .next()
        .unwrap()
        .to_owned();
    assert!(said.contains("口令"), "{said}");
    let token = url.split("token=").nth(1).unwrap().to_owned();
    assert!(token.len() >= 32, "{token}");
    let port: u16 = url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let req = |path: &str, extra: &str| {
        http(
            port,
            &format!(
                "GET {path} HTTP/1.1\r\nHost: 192.0.2.1:{port}\r\n{extra}Connection: close\r\n\r\n"
            ),
        )
    };
    let (status, body) = req("/", "");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("需要访问口令"));
    let (status, _) = req("/?token=wrong", "");
    assert_eq!(status, 403);
    let (status, head) = req(&format!("/?token={token}"), "");
    assert_eq!(status, 303, "{head}");
    assert!(head.contains(&format!("diaoyan_token={token}; HttpOnly; SameSite=Strict")));
    let (status, body) = req(
        "/search?q=%E6%9C%BA%E8%80%95%E8%B7%AF",
        &format!("Cookie: diaoyan_token={token}\r\n"),
    );
    assert_eq!(status, 200, "{body}");
    let _ = child.kill();
    let _ = child.wait();
}

/// A re-run into the folder the page is showing: the page reads the new run (its changed
/// document under its new id, an unchanged one at its new place in the files, a new one in the
/// list), never the old offsets into the new files.
#[test]
fn a_rerun_while_the_page_is_open_is_read_afresh() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("材料");
    std::fs::create_dir_all(&input).unwrap();
    let note = |what: &str| {
        format!(
            "蹲点手记\n今天走访石桥村三组，{what}\n群众反映机耕路有两处塌方，涉及农户12户，建议镇里雨季前修补。\n"
        )
    };
    std::fs::write(input.join("a_手记.txt"), note("先到村委会了解情况。")).unwrap();
    std::fs::write(input.join("b_手记.txt"), note("看望了老党员王大爷。")).unwrap();
    let out = tmp.path().join("out");
    run(&input, &out);
    let ids = || -> Vec<(String, String)> {
        std::fs::read_to_string(out.join("submissions.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (
                    v["path"].as_str().unwrap().to_owned(),
                    v["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let before = ids();
    let id_of = |all: &[(String, String)], p: &str| {
        all.iter().find(|(path, _)| path == p).unwrap().1.clone()
    };
    let server = Server::start(&out);
    let port = server.port();
    let get = |path: &str| {
        http(
            port,
            &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"),
        )
    };
    let (status, page) = get(&format!("/doc/{}", id_of(&before, "b_手记.txt")));
    assert_eq!(status, 200);
    assert!(page.contains("看望了老党员王大爷"), "{page}");

    // The evening's changes, run while the page is open: a longer a (so b's line moves), and c.
    std::fs::write(
        input.join("a_手记.txt"),
        note("先到村委会了解情况，又补记了村里低保户3户的名单核对情况。"),
    )
    .unwrap();
    std::fs::write(input.join("c_手记.txt"), note("下午参加了村民小组会。")).unwrap();
    run(&input, &out);
    let after = ids();
    assert_ne!(id_of(&after, "a_手记.txt"), id_of(&before, "a_手记.txt"));

    let (status, page) = get(&format!("/doc/{}", id_of(&after, "b_手记.txt")));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("看望了老党员王大爷"), "{page}");
    let (status, page) = get(&format!("/doc/{}", id_of(&after, "a_手记.txt")));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("低保户3户的名单核对"), "{page}");
    let (status, _) = get(&format!("/doc/{}", id_of(&before, "a_手记.txt")));
    assert_eq!(status, 404, "the old a is gone");
    let (status, page) = get("/redo?v=pass");
    assert_eq!(status, 200);
    let (_, flagged) = get("/redo?v=flagged");
    assert!(
        page.contains("c_手记.txt") || flagged.contains("c_手记.txt"),
        "{page}{flagged}"
    );
    drop(server);
}

/// An index an older diaoyan wrote is named as such on the search page and in the export, with
/// what to do, not reported as missing; the rest of the page works.
#[test]
fn an_index_from_an_older_diaoyan_asks_for_a_rerun() {
    let tmp = tempfile::tempdir().unwrap();
    let out = one_opinion_run(tmp.path());
    // An older index: the same files under the schema's field of the previous format.
    let meta = out.join("index").join("meta.json");
    let schema = std::fs::read_to_string(&meta).unwrap();
    assert!(schema.contains("\"diaoyan-index-8\""), "{schema}");
    std::fs::write(
        &meta,
        schema.replace("\"diaoyan-index-8\"", "\"diaoyan-index-7\""),
    )
    .unwrap();
    let server = Server::start(&out);
    let get = |path: &str| {
        http(
            server.port(),
            &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
        )
    };
    let (status, body) = get("/search?q=%E6%9C%BA%E8%80%95%E8%B7%AF");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("旧版 diaoyan 写的索引"), "{body}");
    assert!(body.contains("请重新运行 diaoyan run 生成"), "{body}");
    assert!(!body.contains("没有生成检索索引"), "{body}");
    let (status, body) = get("/search.csv?q=%E6%9C%BA%E8%80%95%E8%B7%AF");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("旧版 diaoyan 写的索引"), "{body}");
    let (status, body) = get("/redo");
    assert_eq!(status, 200, "{body}");
}
