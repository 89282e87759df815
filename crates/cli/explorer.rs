//! diaoyan started from Windows Explorer rather than a command line: a folder or table dropped on
//! the program's icon, or a double-click.
//!
//! Explorer starts `diaoyan.exe PATH` for a drop and `diaoyan.exe` alone for a double-click, each
//! in a console window of its own that closes the moment the program ends. So a drop runs the
//! dropped material with the built-in settings into `NAME_审查结果` beside it, and in a window of
//! its own the program waits before it closes: to open the review page after a run, or for the
//! reader to finish reading a guide or an error. From a command line (or piped) nothing waits.

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The output folder of dropped material: beside it, named after it.
pub fn output_of(input: &Path) -> Option<PathBuf> {
    let name = if input.is_dir() {
        input.file_name()
    } else {
        input.file_stem()
    }?;
    let parent = input.parent()?;
    Some(parent.join(format!("{}_审查结果", name.to_string_lossy())))
}

/// A folder or table dropped on the program (its one argument, an existing path that is no
/// subcommand or option): the arguments of its run, and its output folder. `None` for anything
/// else, which goes to the argument parser as it is.
pub fn dropped(
    args: &[OsString],
    is_command: impl Fn(&str) -> bool,
) -> Option<(Vec<OsString>, PathBuf)> {
    let [program, arg] = args else {
        return None;
    };
    let word = arg.to_string_lossy();
    if word.starts_with('-') || is_command(&word) {
        return None;
    }
    let input = Path::new(arg);
    if !input.exists() {
        return None;
    }
    let out = output_of(input)?;
    let run = vec![
        program.clone(),
        "run".into(),
        "--input".into(),
        arg.clone(),
        "--out".into(),
        out.clone().into_os_string(),
    ];
    Some((run, out))
}

/// What a double-click shows: how to use the program without a command line.
pub const GUIDE: &str = "diaoyan（调研）：蹲点调研材料质量审查、意见建议检索与问题汇总。

用法：把装有调研材料的文件夹（或意见征求汇总表 .xlsx/.csv）拖到 diaoyan.exe 的图标上松开。
程序审查其中全部材料，结果写在它旁边的“文件夹名_审查结果”文件夹里：
  digest.docx / digest.html  书面材料（按主题汇总的问题清单）
  flags.csv                  要退回重写或复核的材料，每条写明理由
  diaoyan.xlsx               全部清单（材料、意见建议、问题、干部蹲点）
审查完后按回车键，就在浏览器里打开审核页面（检索意见建议、逐条审核）。
材料陆续交来时再拖一次同一个文件夹即可，没有改动的材料不会重新分析。

在命令行中使用：diaoyan.exe --help";

/// Whether this process has its console window to itself: started from Explorer (a drop or a
/// double-click), so the window closes when the program ends. Never on a system other than
/// Windows, nor when standard input is not the console (piped, or a test).
pub fn own_window() -> bool {
    std::io::stdin().is_terminal() && alone_in_console()
}

#[cfg(windows)]
fn alone_in_console() -> bool {
    #[link(name = "kernel32")]
    unsafe extern "system" {
        fn GetConsoleProcessList(list: *mut u32, count: u32) -> u32;
    }
    let mut ids = [0u32; 2];
    // SAFETY: the buffer holds `ids.len()` process ids, as the call is told; it writes at most
    // that many and returns how many processes share the console (0 on failure).
    let n = unsafe { GetConsoleProcessList(ids.as_mut_ptr(), ids.len() as u32) };
    n == 1
}

#[cfg(not(windows))]
fn alone_in_console() -> bool {
    false
}

/// Shows `prompt` and waits for Enter; whether Enter came (not the end of input).
pub fn wait_for_enter(prompt: &str) -> bool {
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "\n{prompt}");
    let _ = out.flush();
    let mut line = String::new();
    matches!(std::io::stdin().lock().read_line(&mut line), Ok(n) if n > 0)
}

/// Opens `url` in the default browser (Windows: `start`); failures are left to the address the
/// program printed.
pub fn open_in_browser(url: &str) {
    #[cfg(windows)]
    {
        let _ = std::process::Command::new("cmd")
            .args(["/C", "start", ""])
            .arg(url)
            .spawn();
    }
    #[cfg(not(windows))]
    let _ = url;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_dropped_folder_or_table_runs_into_a_folder_beside_it() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = tmp.path().join("清水镇 调研材料");
        std::fs::create_dir(&folder).unwrap();
        let table = tmp.path().join("意见汇总.xlsx");
        std::fs::write(&table, b"x").unwrap();
        let never = |_: &str| false;

        let exe = "diaoyan.exe";
        let (run, out) = dropped(&args(&[exe, folder.to_str().unwrap()]), never).unwrap();
        assert_eq!(out, tmp.path().join("清水镇 调研材料_审查结果"));
        let want: Vec<OsString> = vec![
            exe.into(),
            "run".into(),
            "--input".into(),
            folder.clone().into_os_string(),
            "--out".into(),
            out.into_os_string(),
        ];
        assert_eq!(run, want);
        let (_, out) = dropped(&args(&[exe, table.to_str().unwrap()]), never).unwrap();
        assert_eq!(out, tmp.path().join("意见汇总_审查结果"));
        // A folder named by a relative path lands beside it too.
        assert_eq!(
            output_of(Path::new("材料/")).unwrap_or_default(),
            PathBuf::from("材料_审查结果")
        );

        // Anything else goes to the argument parser untouched.
        let missing = tmp.path().join("没有这个文件夹");
        for a in [
            &[exe][..],
            &[exe, missing.to_str().unwrap()],
            &[exe, "--help"],
            &[exe, folder.to_str().unwrap(), "--quiet"],
        ] {
            assert!(dropped(&args(a), never).is_none(), "{a:?}");
        }
        // A word the parser knows as a subcommand stays one, even where a folder has that name.
        let run_folder = tmp.path().join("run");
        std::fs::create_dir(&run_folder).unwrap();
        let cwd_run = args(&[exe, run_folder.to_str().unwrap()]);
        assert!(dropped(&cwd_run, |w| w == run_folder.to_str().unwrap()).is_none());
    }
}
