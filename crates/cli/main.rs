//! The `diaoyan` binary: argument parsing, progress display and exit codes over the library
//! crates. Exit codes: 0 everything read; 1 finished, but some files could not be read (all
//! listed in `ingest_errors.csv`); 2 fatal (bad arguments or config, unreadable input,
//! unwritable output).

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// 运行批处理流水线（读取材料 → 分词分句 → 输出结果）。
    Run(RunArgs),
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
    /// No progress bar and no summary.
    #[arg(long, short)]
    quiet: bool,
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

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Run(a) => run(a),
        Command::Gen(a) => gen_corpus(a),
    };
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
    if let Some(t) = a.threads {
        cfg.threads = t;
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
        let out = pipeline.config().out.display();
        println!(
            "完成：共 {} 个文件，读取 {} 份材料，{} 个文件或表格行无法读取，跳过 {} 个锁定/隐藏文件，用时 {:.1} 秒。",
            c.files_seen, c.submissions, c.errors, c.skipped, report.seconds
        );
        println!("结果在 {out}/ ：{}", report.outputs.join("、"));
        if c.errors > 0 {
            println!("无法读取的文件及原因见 {out}/ingest_errors.csv");
        }
    }
    Ok(if c.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
