//! The Windows build, run under Wine: the `diaoyan.exe` an office is handed (cross-built by
//! `.ci/windows`, which `.ci/run` calls and which names it in `DIAOYAN_WINDOWS_EXE`).
//!
//! On the sample campaign, into a folder with a Chinese name and a space, it writes what this
//! machine's build writes: byte for byte, the workbooks and Word files entry by entry (less their
//! creation time), `run.json` less its clock and paths. A re-run after one note is changed and
//! one added reads only those and again writes the same as here. Search, `check` (of a note as
//! .docx, .doc and .rtf, and of an .xls sheet) and a themed digest print the same, and so does a
//! folder dropped on the .exe's icon. The review page serves, and a re-run while it is
//! open (its index's files held open by the page) replaces the index, and the page reads the new
//! run; a decision made on the page is read back by the next run, on either build alike.
//!
//! Skips unless `DIAOYAN_WINDOWS_EXE` names the .exe and `wine` runs it.

mod common;

use common::{copy_dir, http, root, serve, zip_parts};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

/// The Windows build, when there is one and Wine runs it.
fn windows_exe() -> Option<PathBuf> {
    let Some(exe) = std::env::var_os("DIAOYAN_WINDOWS_EXE").map(PathBuf::from) else {
        eprintln!("skipped: DIAOYAN_WINDOWS_EXE not set (`bash .ci/windows` builds the .exe)");
        return None;
    };
    assert!(
        exe.is_file(),
        "DIAOYAN_WINDOWS_EXE: no file {}",
        exe.display()
    );
    let o = wine(&exe).arg("--version").output();
    match o {
        Ok(o) if o.status.success() => Some(exe),
        Ok(o) => panic!(
            "wine {} --version failed: {}",
            exe.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            eprintln!("skipped: wine does not run ({e})");
            None
        }
    }
}

/// `wine EXE`, quiet about Wine's own diagnostics, from the repository root (so the pipeline
/// file's relative paths and the Unix paths below, on Wine's drive Z:, resolve alike).
fn wine(exe: &Path) -> Command {
    let mut c = Command::new("wine");
    c.arg(exe).env("WINEDEBUG", "-all").current_dir(root());
    c
}

/// This machine's build.
fn here() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_diaoyan"));
    c.current_dir(root());
    c
}

/// Runs a command to its end; its stdout. Exit 0 or 1 (some material sent back) is a run that
/// finished; anything else fails the test with its stderr.
fn finished(c: &mut Command) -> String {
    let o: Output = c.output().expect("start the command");
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{c:?} exited {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("stdout is UTF-8")
}

/// `run pipelines/sample.toml --input INPUT --out OUT`.
fn run(mut c: Command, input: &Path, out: &Path) -> String {
    c.args(["run", "pipelines/sample.toml", "--input"])
        .arg(input)
        .arg("--out")
        .arg(out);
    finished(&mut c)
}

/// `run.json` less what differs between any two runs (the clock, the output files' times and
/// the index's segment names, the output folder's name in the configuration, the leftovers of
/// the previous run cleaned up) and the keys made from them (of the inputs with their folder,
/// of the binary).
fn comparable(bytes: &[u8]) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for k in [
                    "seconds",
                    "at",
                    "started",
                    "output_prints",
                    "config",
                    "inputs_key",
                    "stamp",
                    // What this run cleaned up after the last (see the decision below).
                    "cleaned",
                ] {
                    m.remove(k);
                }
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    strip(&mut v);
    v
}

/// Every output file of `a` is in `b` with the same content (the index folder is compared by
/// searching it); returns how many files were compared.
fn assert_same_outputs(a: &Path, b: &Path) -> usize {
    let mut compared = 0;
    for e in std::fs::read_dir(a).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        if !e.file_type().unwrap().is_file() || name.starts_with('.') {
            continue;
        }
        let (x, y) = (std::fs::read(e.path()).unwrap(), {
            let p = b.join(&name);
            std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        });
        if name == "run.json" {
            assert_eq!(comparable(&x), comparable(&y), "{name}");
        } else if name.ends_with(".xlsx") || name.ends_with(".docx") {
            assert_eq!(zip_parts(&x), zip_parts(&y), "{name}");
        } else {
            assert!(x == y, "{name} differs between the builds");
        }
        compared += 1;
    }
    compared
}

/// A running `diaoyan.exe serve` under Wine, stopped on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(exe: &Path, out: &Path) -> Server {
        let (child, base) = serve(wine(exe), out);
        let port = base.rsplit(':').next().and_then(|p| p.parse().ok());
        let port = port.unwrap_or_else(|| panic!("no port in {base}"));
        Server { child, port }
    }

    /// POST a form to `path` from the page's own origin: (status, whole response).
    fn post(&self, path: &str, form: &str) -> (u16, String) {
        let port = self.port;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"
        );
        let body = format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        );
        http(port, &(head + &body))
    }

    /// GET `path`: (status, whole response).
    fn get(&self, path: &str) -> (u16, String) {
        let port = self.port;
        http(
            port,
            &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `search` of `out`'s index: what it prints.
fn search(mut c: Command, out: &Path, words: &[&str]) -> String {
    c.args(["search", "--out"]).arg(out).args(words);
    finished(&mut c)
}

/// The line of a run's summary that says which texts were analysed again (the line on files
/// read again names what was compared, which differs: Windows keeps no status-change time).
fn reuse_lines(summary: &str) -> Vec<&str> {
    summary.lines().filter(|l| l.contains("逐份分析")).collect()
}

#[test]
fn the_windows_build_writes_what_this_build_writes() {
    let Some(exe) = windows_exe() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("材料");
    copy_dir(&root().join("corpora/sample/campaign"), &input);
    let ours = tmp.path().join("linux");
    let theirs = tmp.path().join("输出 样例");

    run(here(), &input, &ours);
    let summary = run(wine(&exe), &input, &theirs);
    // The folder as Explorer shows it: a drive letter, no `\\?\`.
    let named = summary
        .lines()
        .find(|l| l.starts_with("结果在 "))
        .unwrap_or_else(|| panic!("no output folder in {summary}"));
    assert!(named.starts_with(r"结果在 Z:\"), "{named}");
    assert!(
        !named.contains(r"\\?\") && named.contains(r"输出 样例\ ："),
        "{named}"
    );
    let files = assert_same_outputs(&ours, &theirs);
    assert!(files >= 20, "only {files} output files compared");

    for words in [
        &["机耕路", "--count-by", "theme,place", "--limit", "5"][..],
        &["停水", "OR", "自来水", "--type", "all", "--limit", "8"],
        &["--theme", "四风", "--voice", "群众", "--count-by", "issue"],
    ] {
        let (a, b) = (
            search(here(), &ours, words),
            search(wine(&exe), &theirs, words),
        );
        assert!(
            a.contains("共找到") && !a.contains("共找到 0 "),
            "{words:?}: {a}"
        );
        assert_eq!(a, b, "search {words:?}");
    }
    // `check` of a note as .docx and in the old Word formats, and of an old Excel sheet.
    let testdata = "crates/ingest/testdata";
    for note in [
        "corpora/sample/campaign/孙丽_清水镇镇长/2023-09-22_蹲点手记.docx",
        &format!("{testdata}/note.doc"),
        &format!("{testdata}/note.rtf"),
        &format!("{testdata}/opinions.xls"),
    ] {
        let (a, b) = (
            finished(here().args(["check", note])),
            finished(wine(&exe).args(["check", note])),
        );
        assert!(a.contains("得分"), "{note}: {a}");
        assert_eq!(a, b, "check {note}");
    }
    finished(
        wine(&exe)
            .arg("digest")
            .arg(&theirs)
            .args(["--theme", "交通运输"]),
    );
    let digest = std::fs::read_to_string(theirs.join("digest_交通运输.md")).unwrap();
    assert!(
        digest.contains("交通运输") && digest.contains("机耕路"),
        "{digest}"
    );

    // A folder dropped on the .exe's icon (Explorer starts `diaoyan.exe FOLDER`): the run goes
    // into `FOLDER_审查结果` beside it, as here.
    let (here_in, there_in) = (tmp.path().join("甲 材料"), tmp.path().join("乙 材料"));
    copy_dir(&input, &here_in);
    copy_dir(&input, &there_in);
    finished(here().arg(&here_in));
    let said = finished(wine(&exe).arg(&there_in));
    assert!(said.contains(r"乙 材料_审查结果\ ："), "{said}");
    assert_same_outputs(
        &tmp.path().join("甲 材料_审查结果"),
        &tmp.path().join("乙 材料_审查结果"),
    );

    // An evening's re-run while the review page is open on the Windows run's folder.
    let server = Server::start(&exe, &theirs);
    let (status, page) = server.get("/search?q=%E6%9C%BA%E8%80%95%E8%B7%AF");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("共找到") && page.contains("机耕路"), "{page}");
    let changed = input.join("陈明_县农业农村局副局长/2023-09-21_蹲点手记.txt");
    // Whatever its encoding (the sample has GBK notes), written back as UTF-8.
    let raw = std::fs::read(&changed).unwrap();
    let mut text = String::from_utf8(raw.clone())
        .unwrap_or_else(|_| encoding_rs::GBK.decode(&raw).0.into_owned());
    text.push_str(
        "\n下午又到三组看了机耕路，塌方处已用碎石填平，还有两百米没有硬化，涉及农户17户。\n",
    );
    std::fs::write(&changed, &text).unwrap();
    std::fs::write(
        input.join("陈明_县农业农村局副局长/2023-09-24_蹲点手记.txt"),
        text.replace("2023-09-21", "2023-09-24")
            .replace("两百米", "一百五十米"),
    )
    .unwrap();
    let ours_again = run(here(), &input, &ours);
    let theirs_again = run(wine(&exe), &input, &theirs);
    let reused = reuse_lines(&theirs_again);
    assert!(
        reused.iter().any(|l| l.contains("重新分析 2 份")),
        "{theirs_again}"
    );
    assert_eq!(reuse_lines(&ours_again), reused);
    assert_same_outputs(&ours, &theirs);
    let (status, page) =
        server.get("/search?type=all&q=%E4%B8%80%E7%99%BE%E4%BA%94%E5%8D%81%E7%B1%B3");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("一百五十米"),
        "the page reads the new run: {page}"
    );
    // A reviewer's decision made on the page (the Windows build appends it to decisions.jsonl),
    // read back by the next run on either build.
    let redo = std::fs::read_to_string(theirs.join("submissions.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["assessment"]["verdict"] == "redo")
        .expect("the sample sends some material back");
    let form = format!(
        "target=submission&id={}&action=override&verdict=pass&note=phone-checked&reviewer=wang",
        redo["id"].as_str().unwrap()
    );
    let (status, resp) = server.post("/decide", &form);
    assert_eq!(status, 303, "{resp}");
    let decisions = theirs.join("decisions.jsonl");
    std::fs::copy(&decisions, ours.join("decisions.jsonl")).unwrap();
    // A second re-run with the page still open. Before the page let its index go when idle,
    // this one failed ("Access denied"): the first had moved the open index aside but could not
    // delete it, and this one could not move the index over it.
    let (a, b) = (run(here(), &input, &ours), run(wine(&exe), &input, &theirs));
    let (status, page) = server.get("/redo?v=pass");
    assert_eq!(status, 200, "{page}");
    drop(server);
    assert!(b.contains("审核意见 1 条，已对应到本次结果 1 条"), "{b}");
    assert_eq!(
        a.lines().filter(|l| l.contains("审核意见")).count(),
        1,
        "{a}"
    );
    assert_same_outputs(&ours, &theirs);
    let flags = std::fs::read_to_string(theirs.join("flags.csv")).unwrap();
    assert!(flags.contains("改为通过（phone-checked"), "{flags}");
    assert_eq!(
        search(here(), &ours, &["一百五十米", "--type", "all"]),
        search(wine(&exe), &theirs, &["一百五十米", "--type", "all"])
    );
}
