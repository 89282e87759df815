//! The `diaoyan` binary: argument parsing, progress display and exit codes over the library
//! crates. Exit codes: 0 everything read; 1 finished, but some files could not be read (all
//! listed in `ingest_errors.csv`); 2 fatal (bad arguments or config, unreadable input,
//! unwritable output).

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

mod alloc;
mod explorer;
mod progress;

/// diaoyan（调研）：蹲点调研材料质量审查、意见建议检索与问题汇总。
#[derive(Parser)]
#[command(name = "diaoyan", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 运行批处理流水线（读取材料 → 分词分句 → 质量评分 → 输出结果）。
    Run(RunArgs),
    /// 当场审查单个或几个文件：得分、结论和理由。
    Check(CheckArgs),
    /// 用样例真值和真实数据评估审查质量（ROC-AUC、精确率、召回率等）。
    Eval(EvalArgs),
    /// 按关键词检索意见建议或整份材料（支持 OR、-排除、"短语"、字段:值），可筛选、分组统计，命中词高亮。
    Search(Box<SearchArgs>),
    /// 按主题、地点、单位、日期重新生成书面材料（Word、网页、Markdown、Excel），不重新运行流水线。
    Digest(DigestArgs),
    /// 在浏览器里审核一次运行的结果：退回清单（原文标出证据）、检索、问题与专题、干部蹲点，记录审核意见。
    Serve(ServeArgs),
    /// 用已标注主题的表格训练主题模型（报告交叉验证 macro-F1）。
    TrainThemes(TrainArgs),
    /// 用标注过“有实质内容/部分具体/空话”的材料重新训练评分模型（报告交叉验证 AUC 和退回精确率、召回率）。
    TrainScorer(TrainScorerArgs),
    /// 生成合成调研材料（用于基准测试与样例）。
    #[command(hide = true)]
    Gen(GenArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Pipeline file (TOML); without it, built-in defaults are used.
    pipeline: Option<PathBuf>,
    /// Input folder or table file (overrides the pipeline's `input`).
    #[arg(long)]
    input: Option<PathBuf>,
    /// Output folder (overrides the pipeline's `out`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads (0 = one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Read every text afresh: ignore (and do not keep) what earlier runs into the output
    /// folder read in each text (`.diaoyan-cache/`).
    #[arg(long)]
    no_cache: bool,
    /// No progress bar and no summary.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Files to check (.txt .md .docx .pdf, or a table: one check per row).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Pipeline file whose lexicons, thresholds and reference folders to use.
    #[arg(long)]
    pipeline: Option<PathBuf>,
    /// Output folder of an earlier `diaoyan run`: also look for copying from its submissions.
    #[arg(long)]
    against: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also list every sentence with its role (发现/套话/过程/感受/其他/格式).
    #[arg(long)]
    sentences: bool,
}

#[derive(clap::Args)]
struct EvalArgs {
    /// Pipeline to evaluate (default: pipelines/sample.toml).
    #[arg(long, default_value = "pipelines/sample.toml")]
    pipeline: PathBuf,
    /// Folder with truth.csv, truth_copies.csv, truth_cadres.csv (default: the parent of the
    /// pipeline's input folder).
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Real data folder (default: ../shared/data when it exists).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct SearchArgs {
    /// Query: words (all must appear), `OR`, `-word`, `"a phrase"`, `field:value` (e.g.
    /// `机耕路 塌方 OR 损毁 -石桥村 主题:交通运输`). May be empty when a filter is given.
    words: Vec<String>,
    /// What to search: suggestion (意见建议), submission (whole materials) or all.
    #[arg(long = "type", default_value = "suggestion")]
    scope: String,
    /// Material kind (蹲点手记, 调研报告, 走访记录, 会议记录 …).
    #[arg(long)]
    kind: Option<String>,
    /// Verdict of the material (通过, 复核, 退回重写).
    #[arg(long)]
    verdict: Option<String>,
    /// Cadre level (县级领导, 县直部门领导, 乡镇领导).
    #[arg(long)]
    level: Option<String>,
    /// Topic id (T0001).
    #[arg(long)]
    topic: Option<String>,
    /// Count the hits per value of these fields (theme, place, unit, verdict, kind, level,
    /// voice, author, issue, topic), comma-separated.
    #[arg(long, value_delimiter = ',')]
    count_by: Vec<String>,
    /// Output folder of a run (its `index/` is searched; its `run.json` gives the dictionary).
    #[arg(long, default_value = "out/sample")]
    out: PathBuf,
    /// Who recorded it (author).
    #[arg(long)]
    author: Option<String>,
    /// Unit.
    #[arg(long)]
    unit: Option<String>,
    /// Place (石桥村 also finds 石桥村三组).
    #[arg(long)]
    place: Option<String>,
    /// Theme (交通运输, 形式主义 …) or theme group (四风, 民生).
    #[arg(long)]
    theme: Option<String>,
    /// Whose words: 群众 (the people) or 干部 (the cadre).
    #[arg(long)]
    voice: Option<String>,
    /// Issue id (I0001).
    #[arg(long)]
    issue: Option<String>,
    /// From this date (2023-09-18, 2023-09 or 2023), inclusive.
    #[arg(long)]
    from: Option<String>,
    /// Up to this date, inclusive.
    #[arg(long)]
    to: Option<String>,
    /// Most results to show.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Also write the results to this CSV file (UTF-8 with BOM, for Excel/WPS).
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Output folder of a run.
    #[arg(default_value = "out/sample")]
    out: PathBuf,
    /// Port (0: any free port).
    #[arg(long, default_value_t = 8765)]
    port: u16,
    /// Listen on this address instead of 127.0.0.1 only (e.g. 0.0.0.0 for colleagues on the
    /// office network); every visitor then needs the access token the command prints.
    #[arg(long)]
    listen: Option<std::net::IpAddr>,
}

#[derive(clap::Args)]
struct DigestArgs {
    /// diaoyan run 的输出目录
    #[arg(default_value = "out/sample")]
    out: PathBuf,
    /// 只要这个主题或主题大类（如 交通运输、四风）；可重复
    #[arg(long)]
    theme: Vec<String>,
    /// 只要这个地点（石桥村 也包括 石桥村三组）；可重复
    #[arg(long)]
    place: Vec<String>,
    /// 只要这个单位；可重复
    #[arg(long)]
    unit: Vec<String>,
    /// 起始日期，如 2023-09-01
    #[arg(long)]
    from: Option<String>,
    /// 截止日期（含当天）
    #[arg(long)]
    to: Option<String>,
    /// 输出格式，逗号分隔：docx,html,md,xlsx
    #[arg(long, default_value = "docx,html,md,xlsx")]
    format: String,
    /// 写到这个目录（默认写回输出目录）
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(clap::Args)]
struct TrainArgs {
    /// Labelled sheet (.csv .tsv .xlsx .jsonl) with a label column (类别/分类/主题/label) and a
    /// text column (内容/正文/留言详情/意见建议 …).
    sheet: PathBuf,
    /// Where to write the model (JSON); name it in a pipeline as `[suggest] model = "…"`.
    #[arg(long)]
    out: PathBuf,
    /// Pipeline whose lexicons to use (default: built-in).
    #[arg(long)]
    pipeline: Option<PathBuf>,
    /// Folds for cross-validation (0 = skip).
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Learn from the words alone, without the taxonomy's seed terms as features.
    #[arg(long)]
    no_seeds: bool,
}

#[derive(clap::Args)]
struct TrainScorerArgs {
    /// Labelled sheet (.csv .tsv .xlsx) with a file column (文件/file) and a label column
    /// (结论/label: substantive/mixed/hollow or 通过/复核/退回重写).
    sheet: PathBuf,
    /// Where to write the model (JSON); name it in a pipeline as `[score] model = "…"`.
    #[arg(long)]
    out: PathBuf,
    /// Folder the sheet's file names are relative to (default: the sheet's folder).
    #[arg(long)]
    docs: Option<PathBuf>,
    /// Pipeline whose lexicons to use (default: built-in).
    #[arg(long)]
    pipeline: Option<PathBuf>,
    /// Folds for cross-validation.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// L2 penalty of the logistic regression.
    #[arg(long, default_value_t = 3.0)]
    l2: f64,
    /// Share of hollow texts among those sent back that the redo line must keep (held-out).
    #[arg(long, default_value_t = 0.9)]
    precision: f64,
}

#[derive(clap::Args)]
struct GenArgs {
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Write the bundled sample campaign (corpora/sample) instead of a synthetic corpus.
    #[arg(long, conflicts_with_all = ["docs", "seed"])]
    sample: bool,
    /// Number of documents of the synthetic corpus.
    #[arg(long, default_value_t = 1000)]
    docs: usize,
    /// Random seed of the synthetic corpus.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// `diaoyan search 塌方 OR 损毁 -石桥村`: a word to exclude looks like an option to the
/// parser, which refused it. An argument of `search` that is `-` and then neither an ASCII letter
/// nor `-` (no option is spelt so) is a query word unless it is the value of the option before
/// it; it is passed on with a full-width `－`, which the query reads the same way. Nothing else
/// is touched, and nothing after a literal `--`.
fn exclusions_as_words(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory;
    let Some(at) = args.iter().position(|a| a == "search") else {
        return args;
    };
    if args[1..at]
        .iter()
        .any(|a| !a.to_string_lossy().starts_with('-'))
    {
        // `search` is not the subcommand (e.g. the value of some option).
        return args;
    }
    let cmd = Cli::command();
    let Some(search) = cmd.find_subcommand("search") else {
        return args;
    };
    let takes_value = |opt: &str| {
        let Some(name) = opt.strip_prefix("--") else {
            return false;
        };
        !name.contains('=')
            && search
                .get_arguments()
                .find(|a| a.get_long() == Some(name))
                .is_some_and(|a| a.get_action().takes_values())
    };
    for i in at + 1..args.len() {
        if args[i] == "--" {
            break;
        }
        let Some(word) = args[i].to_str() else {
            continue;
        };
        let mut chars = word.chars();
        let excluded = chars.next() == Some('-')
            && chars
                .next()
                .is_some_and(|c| !c.is_ascii_alphabetic() && c != '-');
        if excluded && !takes_value(&args[i - 1].to_string_lossy()) {
            args[i] = format!("－{}", &word[1..]).into();
        }
    }
    args
}

fn main() -> ExitCode {
    // A panic while one input file is read costs that file (listed with its reason); anywhere
    // else it is a bug, reported in Chinese with where it happened.
    std::panic::set_hook(Box::new(|info| {
        if diaoyan_ingest::reading_a_file() {
            return;
        }
        let what = diaoyan_digest::panic_text(info.payload());
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("diaoyan 内部错误（{at}）：{what}。请把这条信息和所用的命令提供给维护人员。");
    }));
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.len() == 1 && explorer::own_window() {
        println!("{}", explorer::GUIDE);
        explorer::wait_for_enter("按回车键关闭。");
        return ExitCode::SUCCESS;
    }
    let is_command = |w: &str| {
        use clap::CommandFactory;
        w == "help" || Cli::command().find_subcommand(w).is_some()
    };
    match explorer::dropped(&args, is_command) {
        Some((run_args, out)) => dropped(run_args, out),
        None => dispatch(args),
    }
}

/// The run of a folder or table dropped on the program; in a window of its own, then the review
/// page on Enter (or, after an error, the window kept open until Enter).
fn dropped(run_args: Vec<std::ffi::OsString>, out: PathBuf) -> ExitCode {
    let window = explorer::own_window();
    let code = dispatch(run_args);
    if !window {
        return code;
    }
    if code == ExitCode::from(2) {
        explorer::wait_for_enter("按回车键关闭。");
        return code;
    }
    if !explorer::wait_for_enter("按回车键在浏览器中打开审核页面（不需要时直接关闭本窗口）：")
    {
        return code;
    }
    let page = ServeArgs {
        out,
        port: 0,
        listen: None,
    };
    finish(serve(page, true))
}

/// Parses the command line and runs the command it names.
fn dispatch(args: Vec<std::ffi::OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(exclusions_as_words(args)) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            if e.use_stderr() {
                eprintln!(
                    "命令行参数有误，详见下面的英文说明；用 `diaoyan <命令> --help` 查看各参数。"
                );
            }
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Run(a) => run(a),
        Command::Check(a) => check(a),
        Command::Eval(a) => eval(a),
        Command::Search(a) => search(*a),
        Command::Digest(a) => digest(a),
        Command::Serve(a) => serve(a, false),
        Command::TrainThemes(a) => train_themes(a),
        Command::TrainScorer(a) => train_scorer(a),
        Command::Gen(a) => gen_corpus(a),
    };
    finish(result)
}

/// A command's exit code; its error said in Chinese.
fn finish(result: Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(a: RunArgs) -> Result<ExitCode> {
    let mut cfg = match &a.pipeline {
        Some(p) => diaoyan_pipeline::PipelineConfig::from_file(p)?,
        None => diaoyan_pipeline::PipelineConfig::default(),
    };
    if let Some(i) = a.input {
        cfg.input = Some(i);
    }
    if let Some(o) = a.out {
        cfg.out = o;
    }
    if a.no_cache {
        cfg.cache = false;
    }
    if let Some(t) = a.threads {
        cfg.threads = t;
    }
    // A large re-run takes most of its data over from the cache: set before `build` starts
    // threads ([`alloc::return_freed_pages`] says why, and why only when large).
    if cfg.cache
        && diaoyan_pipeline::kept_earlier(&cfg.out).is_some_and(|b| b >= alloc::LARGE_RECORD)
    {
        alloc::return_freed_pages();
    }
    let pipeline = cfg.build()?;
    let show = !a.quiet && std::io::stderr().is_terminal();
    let report = if show {
        pipeline.run(&progress::Bar::new())?
    } else {
        pipeline.run(&diaoyan_pipeline::NoProgress)?
    };
    let c = &report.counts;
    if !a.quiet {
        // The folder as the reviewer finds it (no `pipelines/../`).
        let out_dir = &pipeline.config().out;
        let out = std::fs::canonicalize(out_dir).unwrap_or_else(|_| out_dir.clone());
        let out = as_shown(&out.to_string_lossy());
        let sep = std::path::MAIN_SEPARATOR;
        println!(
            "完成：共 {} 个文件，读取 {} 份材料，{} 个文件或表格行无法读取，跳过 {} 个锁定/隐藏文件，用时 {:.1} 秒。",
            c.files_seen, c.submissions, c.errors, c.skipped, report.seconds
        );
        if report.unchanged {
            println!(
                "材料、配置和审核意见都与上次运行相同，上次写出的结果也没有改动：结果沿用上次的，没有重新计算（要全部重新计算请加 --no-cache）。"
            );
        }
        for dir in &c.skipped_outputs {
            println!("跳过 {dir}/：这是 diaoyan 的输出目录，不作为材料读取。");
        }
        if let Some(holder) = &report.stale_lock {
            println!("上一次运行（{holder}）没有正常结束，已接管输出目录。");
        }
        if let Some(r) = report.cache.as_ref().and_then(|u| u.files)
            && r.reused > 0
        {
            // Windows keeps no status-change time for the memo to compare.
            let same = if cfg!(windows) {
                "大小和修改时间都相同"
            } else {
                "大小、修改时间和状态变更时间都相同"
            };
            println!(
                "{} 个文件自上次运行后未改动（{same}），沿用上次读取的内容；读取新增或改动的文件 {} 个。",
                r.reused, r.read
            );
        }
        if let Some(r) = report.cache.as_ref().and_then(|u| u.score.or(u.suggest))
            && r.reused > 0
        {
            println!(
                "沿用上次运行的逐份分析：{} 份材料未变，重新分析 {} 份（全部重新分析请加 --no-cache）。",
                r.reused, r.read
            );
        }
        if !report.cleaned.is_empty() {
            println!(
                "已清理上次运行留下的临时文件（运行中断，或在 Windows 上审核页面开着、旧索引一时删不掉）：{}",
                report.cleaned.join("、")
            );
        }
        let rv = &report.reviews;
        if rv.decisions > 0 {
            println!(
                "审核意见 {} 条，已对应到本次结果 {} 条（见 flags.csv 的“审核意见”列和书面材料）。",
                rv.decisions, rv.applied
            );
        }
        for o in &rv.orphaned {
            println!(
                "审核意见“{}”（{}，{}）对应的{}已不在本次输入中，意见仍保留在 decisions.jsonl。",
                o.decision,
                o.about,
                o.at,
                match o.target {
                    diaoyan_model::DecisionTarget::Submission => "材料",
                    diaoyan_model::DecisionTarget::Issue => "问题",
                }
            );
        }
        for u in &rv.unreadable {
            println!("{u}（该行保留在文件中，未采用）");
        }
        println!("结果在 {out}{sep} ：{}", report.outputs.join("、"));
        if c.errors > 0 {
            println!("无法读取的文件及原因见 {out}/ingest_errors.csv");
        }
    }
    let code = if c.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // The process ends next: its dictionaries, automata and thread pool are left for the system
    // to free rather than taken apart one allocation at a time (about 0.1 s at the end of every
    // run). Everything is written and in place by now.
    std::mem::forget(pipeline);
    Ok(code)
}

/// A path as Explorer and the address bar show it: Windows' canonical form is a verbatim path
/// (`\\?\D:\调研\输出`, `\\?\UNC\server\share`), whose prefix means nothing to a reviewer.
fn as_shown(path: &str) -> String {
    if let Some(rest) = path.strip_prefix(r"\\?\UNC\") {
        format!(r"\\{rest}")
    } else if let Some(rest) = path.strip_prefix(r"\\?\") {
        rest.to_owned()
    } else {
        path.to_owned()
    }
}

/// On a terminal, what a command is doing before it has anything to show (a 1M run's folder
/// takes seconds to read); quiet when stderr is piped, as the progress bars are.
fn reading_note(out: &std::path::Path) {
    if std::io::stderr().is_terminal() {
        eprintln!("正在读取 {} 中的运行结果……", out.display());
    }
}

/// `diaoyan serve`; `open`: also open the page in the browser (a drop from Explorer).
fn serve(a: ServeArgs, open: bool) -> Result<ExitCode> {
    use std::io::Write;
    reading_note(&a.out);
    diaoyan_serve::serve(
        diaoyan_serve::Options {
            out: a.out,
            listen: a.listen,
            port: a.port,
        },
        |s| {
            let mut w = std::io::stdout().lock();
            let _ = writeln!(w, "审核页面已启动，请在浏览器中打开：{}", s.url);
            if s.token.is_some() {
                let _ = writeln!(
                    w,
                    "本页面对网络开放，访问需要上面地址中的口令（token），请只发给审核人员。"
                );
            }
            let _ = writeln!(w, "按 Ctrl+C 停止。");
            let _ = w.flush();
            if open {
                explorer::open_in_browser(&s.url);
            }
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

fn digest(a: DigestArgs) -> Result<ExitCode> {
    use std::io::Write;
    let date = |s: Option<String>, what: &str| -> Result<Option<String>> {
        match s {
            None => Ok(None),
            Some(s) => diaoyan_text::parse_date(&s).map(Some).ok_or_else(|| {
                anyhow::anyhow!("{what}“{s}”不是日期，请写成 2023-09-01 这样的形式")
            }),
        }
    };
    let filter = diaoyan_pipeline::Filter {
        themes: a.theme,
        places: a.place,
        units: a.unit,
        from: date(a.from, "起始日期")?,
        to: date(a.to, "截止日期")?,
    };
    let formats = diaoyan_pipeline::Format::parse_list(&a.format)?;
    reading_note(&a.out);
    let done = diaoyan_pipeline::digest(&a.out, &filter, &formats, a.dir.as_deref())?;
    let mut w = std::io::stdout().lock();
    writeln!(w, "已生成书面材料（{}）：", done.scope)?;
    for f in &done.files {
        writeln!(w, "  {}", done.dir.join(f).display())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn search(a: SearchArgs) -> Result<ExitCode> {
    use std::io::Write;
    // The dictionary the index was built with.
    let seg = diaoyan_text::Segmenter::new(&diaoyan_index::run_lexicons(&a.out)?);
    let searcher = diaoyan_index::Searcher::open(&a.out.join("index"), &seg)?;
    let q = diaoyan_index::Search {
        words: a.words.join(" "),
        scope: diaoyan_index::Scope::parse(&a.scope)?,
        kind: a.kind.unwrap_or_default(),
        verdict: a.verdict.unwrap_or_default(),
        level: a.level.unwrap_or_default(),
        topic: a.topic.unwrap_or_default(),
        count_by: a.count_by,
        snippet_chars: 0,
        author: a.author.unwrap_or_default(),
        unit: a.unit.unwrap_or_default(),
        place: a.place.unwrap_or_default(),
        theme: a.theme.unwrap_or_default(),
        voice: a.voice.unwrap_or_default(),
        issue: a.issue.unwrap_or_default(),
        from: a.from.unwrap_or_default(),
        to: a.to.unwrap_or_default(),
        limit: a.limit,
    };
    let found = searcher.search(&q)?;
    if let Some(path) = &a.csv {
        let mut t = diaoyan_digest::Table::new(
            "检索结果",
            &[
                "序号",
                "相关度",
                "类别",
                "内容",
                "标题",
                "作者",
                "单位",
                "地点",
                "日期",
                "材料类型",
                "结论",
                "来源",
                "主题大类",
                "主题",
                "问题编号",
                "专题编号",
                "文件",
                "编号",
            ],
        );
        for (i, h) in found.hits.iter().enumerate() {
            // A suggestion whole; a submission by its matching passage.
            let content = if h.text.is_empty() {
                h.snippet.text.clone()
            } else {
                h.text.clone()
            };
            t.push(vec![
                (i + 1).to_string(),
                format!("{:.2}", h.score),
                h.doc_type.label().to_owned(),
                content,
                h.title.clone(),
                h.author.clone(),
                h.unit.clone(),
                h.place.clone(),
                h.date.clone(),
                h.kind.clone(),
                h.verdict.clone(),
                h.voice.clone(),
                h.theme_group.clone(),
                h.theme.clone(),
                h.issue.clone(),
                h.topic.clone(),
                h.path.clone(),
                h.id.clone(),
            ]);
        }
        diaoyan_digest::write_csv(path, &t)?;
    }
    let mut w = std::io::stdout().lock();
    if a.json {
        writeln!(w, "{}", serde_json::to_string_pretty(&found)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    for n in &found.notes {
        writeln!(w, "提示：{n}")?;
    }
    let what = match q.scope {
        diaoyan_index::Scope::Suggestions => "条意见建议",
        diaoyan_index::Scope::Submissions => "份材料",
        diaoyan_index::Scope::All => "条（意见建议和材料）",
    };
    writeln!(
        w,
        "共找到 {} {what}，显示前 {} 条：",
        found.total,
        found.hits.len()
    )?;
    // Matched words in colour on a terminal, between 【】 when piped or redirected.
    let (open, close) = if std::io::stdout().is_terminal() {
        ("\x1b[1;31m", "\x1b[0m")
    } else {
        ("【", "】")
    };
    for (i, h) in found.hits.iter().enumerate() {
        let mut tags: Vec<String> = Vec::new();
        if h.doc_type == diaoyan_index::DocType::Submission {
            tags.push(if h.kind.is_empty() {
                "材料".into()
            } else {
                format!("材料·{}", h.kind)
            });
            if !h.verdict.is_empty() {
                tags.push(h.verdict.clone());
            }
        } else {
            tags.push(h.theme.clone());
            if !h.issue.is_empty() {
                tags.push(format!("问题 {}", h.issue));
            }
        }
        let title = if h.doc_type == diaoyan_index::DocType::Submission && !h.title.is_empty() {
            format!("《{}》", h.title)
        } else {
            String::new()
        };
        writeln!(
            w,
            "{}. [{}]{title}{}",
            i + 1,
            tags.join("，"),
            h.snippet.marked(open, close)
        )?;
        let unit = if h.unit.is_empty() {
            String::new()
        } else {
            format!("（{}）", h.unit)
        };
        let voice = if h.voice.is_empty() {
            String::new()
        } else {
            format!(" {}", h.voice)
        };
        writeln!(
            w,
            "   {} {} {}{unit}{voice}　{}",
            h.place, h.date, h.author, h.path
        )?;
    }
    for f in &found.facets {
        let shown: Vec<String> = f
            .counts
            .iter()
            .take(20)
            .map(|(v, n)| format!("{v} {n}"))
            .collect();
        let more = if f.counts.len() > 20 {
            format!(" 等 {} 个", f.counts.len())
        } else {
            String::new()
        };
        writeln!(w, "按{}统计：{}{more}", f.field, shown.join("，"))?;
    }
    if let Some(path) = &a.csv {
        writeln!(w, "结果已写入 {}", path.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn check(a: CheckArgs) -> Result<ExitCode> {
    use std::io::Write;
    let cfg = match &a.pipeline {
        Some(p) => diaoyan_pipeline::PipelineConfig::from_file(p)?,
        None => diaoyan_pipeline::PipelineConfig::default(),
    };
    let out = diaoyan_pipeline::check(
        &cfg,
        &a.files,
        a.against.as_deref(),
        a.sentences,
        &progress::Bar::new(),
    )?;
    let mut w = std::io::stdout().lock();
    if a.json {
        let items: Vec<serde_json::Value> = out
            .results
            .iter()
            .map(|(s, x)| {
                serde_json::json!({
                    "path": s.path, "kind": s.kind, "author": s.author,
                    "score": x.score, "verdict": x.verdict, "reasons": x.reasons, "signals": x.signals,
                })
            })
            .collect();
        let doc = serde_json::json!({ "results": items, "errors": out.errors });
        writeln!(w, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        for (i, (s, x)) in out.results.iter().enumerate() {
            let kind = s.kind.map(|k| k.label()).unwrap_or("材料");
            let by = if s.author.is_empty() {
                String::new()
            } else {
                format!("，{}", s.author)
            };
            writeln!(w, "{}（{kind}{by}）", s.path)?;
            writeln!(w, "  得分 {:.1}　结论：{}", x.score, x.verdict.label())?;
            for r in &x.reasons {
                writeln!(w, "  · {}", r.text)?;
            }
            let g = &x.signals;
            writeln!(
                w,
                "  指标：套话句 {}/{}，每千字具体事实 {:.1} 处，具体建议 {} 条，文内重复句 {}，范文占位符 {}，重合 {:.0}%",
                g.boilerplate_sentences,
                g.sentences,
                g.facts_per_k,
                g.concrete_suggestions,
                g.repeated_sentences,
                g.placeholders,
                g.copied_share * 100.0
            )?;
            if let Some(roles) = out.sentences.get(i) {
                for r in roles {
                    let tag = match r.role {
                        diaoyan_score::Role::Finding => format!("发现：{}", r.evidence.join("、")),
                        diaoyan_score::Role::Boilerplate => "套话".into(),
                        diaoyan_score::Role::Process => "过程".into(),
                        diaoyan_score::Role::Sentiment => "感受".into(),
                        diaoyan_score::Role::Other => "其他".into(),
                        diaoyan_score::Role::Formula => "格式".into(),
                    };
                    writeln!(w, "    [{tag}] {}", s.text[r.start..r.end].trim())?;
                }
            }
        }
        for e in &out.errors {
            writeln!(w, "{}：{}（{}）", e.path, e.reason, e.detail)?;
        }
    }
    Ok(if out.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn eval(a: EvalArgs) -> Result<ExitCode> {
    use std::io::Write;
    let cfg = diaoyan_pipeline::PipelineConfig::from_file(&a.pipeline)?;
    let truth = a.truth.clone().or_else(|| {
        cfg.input
            .as_ref()
            .and_then(|i| i.parent().map(PathBuf::from))
    });
    let sample = match &truth {
        Some(t) if t.join("truth.csv").exists() => Some(diaoyan_eval::eval_sample(cfg.clone(), t)?),
        _ => None,
    };
    let data = a.data.clone().or_else(|| {
        let d = PathBuf::from("../shared/data");
        d.join("tipdm").exists().then_some(d)
    });
    // A data folder holds labelled reports (`reports/labels.tsv`), real messages (`tipdm/`) or
    // both: an office's own labelled material needs no messages beside it.
    if let Some(d) = &a.data
        && !d.join("tipdm").is_dir()
        && !d.join("reports/labels.tsv").is_file()
    {
        return Err(anyhow::anyhow!(
            "{} 里既没有 reports/labels.tsv（有标注的材料），也没有 tipdm/（真实留言）",
            d.display()
        ));
    }
    let real = match &data {
        Some(d) if d.join("tipdm").is_dir() => Some(diaoyan_eval::eval_real(cfg.clone(), d)?),
        _ => None,
    };
    let reports = match &data {
        Some(d) => diaoyan_eval::eval_reports(&cfg, d)?,
        None => None,
    };
    let mut w = std::io::stdout().lock();
    if a.json {
        writeln!(
            w,
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "sample": sample, "reports": reports, "real": real })
            )?
        )?;
    } else {
        if sample.is_none() {
            writeln!(w, "未找到真值文件（truth.csv），跳过样例评估。")?;
        }
        if data.is_none() {
            writeln!(w, "未找到 ../shared/data，跳过真实数据评估。")?;
        }
        write!(
            w,
            "{}",
            diaoyan_eval::render(sample.as_ref(), reports.as_ref(), real.as_ref())
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn train_themes(a: TrainArgs) -> Result<ExitCode> {
    let cfg = match &a.pipeline {
        Some(p) => diaoyan_pipeline::PipelineConfig::from_file(p)?,
        None => diaoyan_pipeline::PipelineConfig::default(),
    };
    let rows = diaoyan_ingest::read_rows(&a.sheet, &cfg.ingest)
        .map_err(|e| anyhow::anyhow!("{}：{}（{}）", e.path, e.reason, e.detail))?;
    let find = diaoyan_ingest::find_column;
    const LABELS: &[&str] = &[
        "label1",
        "label",
        "一级分类",
        "主题分类",
        "类别",
        "分类",
        "主题",
    ];
    const TEXTS: &[&str] = &[
        "内容",
        "正文",
        "留言详情",
        "意见建议",
        "body",
        "text",
        "content",
    ];
    const TITLES: &[&str] = &["标题", "留言主题", "subject", "title"];
    let (hi, header) = rows
        .iter()
        .take(10)
        .enumerate()
        .find(|(_, r)| find(r, LABELS).is_some() && find(r, TEXTS).is_some())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}：前 10 行中找不到类别列（类别/分类/label）和内容列（内容/正文/留言详情）",
                a.sheet.display()
            )
        })?;
    let (lc, tc) = (
        find(header, LABELS).unwrap_or(0),
        find(header, TEXTS).unwrap_or(0),
    );
    let title_col = find(header, TITLES).filter(|&c| c != lc);
    let cell = |r: &[String], c: usize| r.get(c).map(|s| s.trim().to_owned()).unwrap_or_default();
    let data: Vec<(String, String)> = rows[hi + 1..]
        .iter()
        .filter(|r| !cell(r, lc).is_empty() && !cell(r, tc).is_empty())
        .map(|r| {
            let title = title_col.map(|c| cell(r, c)).unwrap_or_default();
            (format!("{title}\n{}", cell(r, tc)), cell(r, lc))
        })
        .collect();
    if data.len() < 10 {
        anyhow::bail!(
            "{}：有效的标注行只有 {} 行，太少，无法训练",
            a.sheet.display(),
            data.len()
        );
    }
    let seg = diaoyan_text::Segmenter::new(&diaoyan_text::Lexicons::from_files(
        cfg.text.userdict.as_deref(),
        cfg.text.stopwords.as_deref(),
    )?);
    let taxonomy = cfg.suggest.taxonomy()?;
    let prior = (!a.no_seeds).then_some(&taxonomy);
    let model = diaoyan_suggest::ThemeModel::train(&seg, &data, prior);
    diaoyan_digest::write_atomic(&a.out, model.to_json().as_bytes())?;
    println!(
        "已训练主题模型：{} 条，{} 个类别（{}），写入 {}",
        data.len(),
        model.labels.len(),
        model.labels.join("、"),
        a.out.display()
    );
    if a.folds >= 2 {
        let per = diaoyan_suggest::cross_validate_labels(&seg, &data, a.folds, prior);
        let f1 = diaoyan_suggest::mean_f1(&per);
        println!("{} 折交叉验证 macro-F1：{f1:.3}", a.folds);
        println!("各类别（交叉验证）：类别、条数、精确率、召回率、F1");
        for s in &per {
            println!(
                "  {}\t{}\t{:.3}\t{:.3}\t{:.3}",
                s.label, s.support, s.precision, s.recall, s.f1
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn train_scorer(a: TrainScorerArgs) -> Result<ExitCode> {
    let cfg = match &a.pipeline {
        Some(p) => diaoyan_pipeline::PipelineConfig::from_file(p)?,
        None => diaoyan_pipeline::PipelineConfig::default(),
    };
    let opt = diaoyan_pipeline::TrainOptions {
        docs: a.docs,
        folds: a.folds,
        l2: a.l2,
        precision: a.precision,
    };
    let t = diaoyan_pipeline::train_scorer(&cfg, &a.sheet, &opt)?;
    let mut json = serde_json::to_string_pretty(&t.model)?;
    json.push('\n');
    diaoyan_digest::write_atomic(&a.out, json.as_bytes())?;
    let cv = &t.cv;
    println!(
        "已训练评分模型：{}，写入 {}",
        t.model.trained_on,
        a.out.display()
    );
    println!(
        "{} 折交叉验证：空话与有实质内容的 ROC-AUC {:.3}；平均得分 有实质内容 {:.1}、部分具体 {:.1}、空话 {:.1}",
        cv.folds, cv.auc, cv.mean_score[0], cv.mean_score[1], cv.mean_score[2]
    );
    println!(
        "退回线 {:.1} 分、复核线 {:.1} 分；交叉验证中退回的精确率 {:.2}、召回率 {:.2}（以空话为准）",
        t.model.redo_below, t.model.review_below, cv.redo_precision, cv.redo_recall
    );
    println!("各项指标的权重（标准化后，正数表示越多越实）：");
    for (f, w) in diaoyan_score::FEATURES.iter().zip(&t.model.weights) {
        println!("  {}\t{w:+.2}", f.1);
    }
    Ok(ExitCode::SUCCESS)
}

fn gen_corpus(a: GenArgs) -> Result<ExitCode> {
    if a.sample {
        let s = diaoyan_gen::write_sample(&a.out)?;
        println!(
            "已生成样例调研材料：{} 个文件，写入 {}",
            s.files,
            a.out.display()
        );
    } else {
        let s = diaoyan_gen::write_corpus(&a.out, a.docs, a.seed)?;
        println!(
            "已生成合成材料：{} 份，{:.1} MB，写入 {}",
            s.files,
            s.bytes as f64 / 1e6,
            a.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::as_shown;

    #[test]
    fn verbatim_windows_paths_are_shown_as_explorer_shows_them() {
        assert_eq!(as_shown(r"\\?\D:\调研\输出 样例"), r"D:\调研\输出 样例");
        assert_eq!(as_shown(r"\\?\UNC\办公室\共享\输出"), r"\\办公室\共享\输出");
        assert_eq!(as_shown("/home/office/输出"), "/home/office/输出");
        assert_eq!(as_shown(r"D:\调研\输出"), r"D:\调研\输出");
    }
}
