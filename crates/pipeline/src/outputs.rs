//! The files a run writes.

use crate::Result;
use crate::run::RunData;
use diaoyan_digest::{Rows, Sheet, Table, write_csv, write_jsonl};
use diaoyan_model::Submission;
use serde::Serialize;
use std::path::Path;

/// Creates the output folder and checks it is writable before any work starts.
pub(crate) fn prepare_dir(dir: &Path) -> Result<()> {
    let fail = |e| diaoyan_digest::write_io(dir, e);
    std::fs::create_dir_all(dir).map_err(fail)?;
    tempfile::Builder::new()
        .prefix(".diaoyan-probe-")
        .tempfile_in(dir)
        .map_err(fail)?;
    Ok(())
}

/// A staging folder inside the output folder: a run writes everything there first, so a run
/// that fails (disk full) or is killed leaves the previous outputs as they were.
pub(crate) fn staging_dir(dir: &Path) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(".diaoyan-staging-")
        .tempdir_in(dir)
        .map_err(|e| diaoyan_digest::write_io(dir, e).into())
}

/// The note a run leaves in the output folder while it moves its staged outputs in: the staging
/// folder's name and the outputs, in order. A run killed while moving leaves it, and the next
/// run holding the folder finishes the move ([`finish_publish`]) before cleaning leftovers.
pub const PUBLISHING: &str = ".diaoyan-publishing.json";

#[derive(Serialize, serde::Deserialize)]
struct Publishing {
    staging: String,
    outputs: Vec<String>,
}

/// Moves the staged outputs (`names`, relative; a trailing `/` marks a folder) into `dir`, in
/// order — callers put `run.json` last. The moves are noted first ([`PUBLISHING`]): a run killed
/// part way leaves a folder that is finished (by the next run) rather than half old, half new.
/// A folder is swapped: the old one aside, the new one in, the old one removed.
pub(crate) fn publish(staged: &Path, dir: &Path, names: &[String]) -> Result<()> {
    let note = Publishing {
        staging: staged
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        outputs: names.to_vec(),
    };
    let bytes = serde_json::to_vec(&note).expect("a publishing note serializes");
    diaoyan_digest::write_atomic(&dir.join(PUBLISHING), &bytes)?;
    move_in(staged, dir, names)?;
    remove_note(dir)
}

fn remove_note(dir: &Path) -> Result<()> {
    let path = dir.join(PUBLISHING);
    std::fs::remove_file(&path).map_err(|e| diaoyan_digest::write_io(&path, e).into())
}

/// Moves in whichever of `names` are still in `staged` (all of them, or those a killed run did
/// not get to).
fn move_in(staged: &Path, dir: &Path, names: &[String]) -> Result<()> {
    for name in names {
        let name = name.trim_end_matches('/');
        let (from, to) = (staged.join(name), dir.join(name));
        let fail = |e| diaoyan_digest::write_io(&to, e);
        if !from.exists() {
            continue;
        }
        if from.is_dir() {
            let old = dir.join(crate::lock::OLD_INDEX);
            while_in_use(|| {
                if to.exists() {
                    let _ = std::fs::remove_dir_all(&old);
                    std::fs::rename(&to, &old)?;
                }
                std::fs::rename(&from, &to)
            })
            .map_err(fail)?;
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(&from, &to).map_err(fail)?;
        }
    }
    Ok(())
}

/// `step` (moving the index folder), tried again for a few seconds while it fails on Windows,
/// where a folder holding an open file cannot be moved or deleted: an open review page lets its
/// index go within seconds when idle (`diaoyan-serve`'s `Index`), and a search in progress ends
/// in milliseconds. Elsewhere a move fails only for good reasons: tried once.
fn while_in_use(mut step: impl FnMut() -> std::io::Result<()>) -> std::io::Result<()> {
    let tries = if cfg!(windows) { 40 } else { 1 };
    let mut tried = 1;
    loop {
        match step() {
            Err(_) if tried < tries => {
                std::thread::sleep(std::time::Duration::from_millis(250));
                tried += 1;
            }
            done => return done,
        }
    }
}

/// Finishes the move of a run killed while moving its outputs in (its [`PUBLISHING`] note is
/// there): what it had not moved yet comes in from its staging folder, so the folder holds
/// that run whole. Call with the lock held, before leftovers are cleaned (the staging folder
/// is one). Returns whether a move was finished. The note is removed either way: a run that
/// cannot finish the move writes every output anew.
pub(crate) fn finish_publish(dir: &Path) -> bool {
    let Ok(bytes) = std::fs::read(dir.join(PUBLISHING)) else {
        return false;
    };
    let done = serde_json::from_slice::<Publishing>(&bytes)
        .ok()
        .filter(|n| n.staging.starts_with(".diaoyan-staging-") && !n.staging.contains(['/', '\\']))
        .filter(|n| dir.join(&n.staging).is_dir())
        .is_some_and(|n| move_in(&dir.join(&n.staging), dir, &n.outputs).is_ok());
    let _ = std::fs::remove_file(dir.join(PUBLISHING));
    done
}

/// The columns of `submissions.csv`, in order.
pub const SUBMISSION_COLUMNS: &[&str] = &[
    "ID",
    "文件",
    "原编号",
    "类型",
    "作者",
    "单位",
    "级别",
    "地点",
    "日期",
    "第几天",
    "标题",
    "字数",
    "汉字数",
    "句数",
    "词数",
    "编码",
    "警告",
];

/// One line of `submissions.jsonl`: the submission with its text, for later stages and tools.
#[derive(Serialize)]
struct SubmissionLine<'a> {
    #[serde(flatten)]
    sub: std::borrow::Cow<'a, diaoyan_model::Submission>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stats: Option<diaoyan_model::TextStats>,
    /// Score, verdict and reasons (score stage).
    #[serde(skip_serializing_if = "Option::is_none")]
    assessment: Option<&'a diaoyan_model::Assessment>,
}

/// Writes every output; returns their names. Reports one unit of progress per file written
/// (the index counts as one) and one per entry put into the index, under “写出结果”: the index
/// takes most of the time, so its entries move the bar.
///
/// In order: the lists (CSV, JSON Lines), then the keyword index, alone — the last output that
/// reads the submissions' texts, which are then let go when the text stage's counts stand in
/// for them (at a million documents they are gigabytes) — then the digest (with its Parquet
/// tables) and the workbook side by side. When the index is an update of the previous run's
/// (a re-run), the heavier of the workbook and the digest is written beside it and the other
/// after it; the texts are taken out of the run first and let go when the index is done.
#[expect(
    clippy::too_many_arguments,
    reason = "the run's parts and its two records, each borrowed on its own"
)]
pub(crate) fn write_all(
    dir: &Path,
    d: &mut RunData,
    reviews: &crate::Reviews,
    seg: Option<&diaoyan_text::Segmenter>,
    progress: &dyn crate::Progress,
    index: &mut Option<diaoyan_index::Built>,
    timings: &mut Vec<crate::PartTiming>,
    max_rows: usize,
) -> Result<Vec<String>> {
    // The files below: three lists, the workbook, and what the score and suggest stages add.
    let files = 4
        + if d.score.is_some() { 3 } else { 0 }
        + match (&d.suggest, seg) {
            (Some(_), Some(_)) => 6,
            (Some(_), None) => 5,
            (None, _) => 0,
        };
    let entries = match (&d.suggest, seg) {
        (Some(sg), Some(_)) => (d.ingest.submissions.len() + sg.suggestions.len()) as u64,
        _ => 0,
    };
    progress.start("写出结果", files + entries);
    let tick = || progress.advance(1);
    // One part of the writing, timed: the files it wrote.
    let lap = |part: &'static str, f: &dyn Fn() -> Result<Vec<String>>| -> Result<Part> {
        let t = std::time::Instant::now();
        let names = f()?;
        Ok((names, part, t.elapsed().as_secs_f64()))
    };
    // A part that is one unit on the bar (the lists tick once a file).
    let timed = |part: &'static str, f: &(dyn Fn() -> Result<Vec<String>> + Sync)| {
        let done = lap(part, f)?;
        if !done.0.is_empty() {
            tick();
        }
        Ok::<_, crate::Error>(done)
    };

    // The lists. The long ones (submissions, flags, suggestions) are never held as cells: their
    // rows are made from the stage outputs as the CSV file (and later the workbook sheet) is
    // written; the short ones are kept as tables for the workbook.
    let (mut written, small) = {
        let d: &RunData = d;
        let subs = &d.ingest.submissions;
        let mut small = SmallTables {
            errors: Table::new("无法读取的文件", &["文件", "原因", "说明"]),
            ..SmallTables::default()
        };
        for err in &d.ingest.errors {
            small.errors.push(vec![
                err.path.clone(),
                err.reason.clone(),
                err.detail.clone(),
            ]);
        }
        if let Some(sc) = &d.score {
            (small.pairs, small.cadres) =
                (Some(pairs_table(&sc.pairs)), Some(cadres_table(&sc.cadres)));
        }
        if let Some(sg) = &d.suggest {
            (small.issues, small.topics) = (
                Some(issues_table(&sg.issues, reviews)),
                Some(topics_table(&sg.topics)),
            );
        }
        // Each file: written, one unit on the bar, its name in the run's outputs.
        let csv = |name: &str, t: &dyn Sheet| -> Result<String> {
            write_csv(&dir.join(name), t)?;
            tick();
            Ok(name.to_owned())
        };
        let submissions_part = || -> Result<Vec<String>> {
            // The JSON lines (each submission with its judgement) beside the CSV rows: the
            // longest of the lists.
            let jsonl = || -> Result<String> {
                // Streamed: with the texts out of memory each line reads its text back.
                let lines = subs.iter().enumerate().map(|(i, s)| SubmissionLine {
                    sub: match d.kept() {
                        Some(k) => std::borrow::Cow::Owned(Submission {
                            text: k.text(i).into_owned().into(),
                            ..s.clone()
                        }),
                        None => std::borrow::Cow::Borrowed(s),
                    },
                    stats: d.stats.as_ref().map(|v| v[i]),
                    assessment: d.score.as_ref().map(|sc| &sc.assessments[i]),
                });
                write_jsonl(&dir.join("submissions.jsonl"), lines)?;
                tick();
                Ok("submissions.jsonl".to_owned())
            };
            let (table, lines) = std::thread::scope(|scope| {
                let lines = scope.spawn(jsonl);
                let table = csv("submissions.csv", &submission_rows(d));
                (table, lines.join().expect("list writer panicked"))
            });
            Ok(vec![
                table?,
                lines?,
                csv("ingest_errors.csv", &small.errors)?,
            ])
        };
        let flags_part = || -> Result<Vec<String>> {
            let (Some(sc), Some(p), Some(c)) = (&d.score, &small.pairs, &small.cadres) else {
                return Ok(Vec::new());
            };
            Ok(vec![
                csv("flags.csv", &flags_rows(subs, sc, reviews))?,
                csv("duplicates.csv", p)?,
                csv("cadres.csv", c)?,
            ])
        };
        let suggestions_part = || -> Result<Vec<String>> {
            let (Some(sg), Some(it), Some(tt)) = (&d.suggest, &small.issues, &small.topics) else {
                return Ok(Vec::new());
            };
            Ok(vec![
                csv("suggestions.csv", &suggestions_rows(&sg.suggestions))?,
                csv("issues.csv", it)?,
                csv("topics.csv", tt)?,
            ])
        };

        // The three groups of lists side by side, each list one thread formatting rows and
        // streaming them to its file (nothing held as cells). Like the digest's and tantivy's,
        // these threads are outside the `threads` pool: a write error in one group is reported
        // after the others finish (in the staging folder, so nothing half-written is published).
        let lists = std::thread::scope(|scope| {
            let flags = scope.spawn(|| lap("flags", &flags_part));
            let suggestions = scope.spawn(|| lap("suggestions", &suggestions_part));
            [
                lap("submissions", &submissions_part),
                flags.join().expect("list writer panicked"),
                suggestions.join().expect("list writer panicked"),
            ]
        });
        let mut written: Vec<String> = Vec::new();
        record(lists, timings, &mut written)?;

        (written, small)
    };

    // A re-run's index is an update of the previous one (unchanged entries kept): a fraction
    // of a full build's work, about one core busy. Decided from the previous index's note.
    let updating = match (&d.suggest, seg) {
        (Some(_), Some(seg)) => {
            previous_index(dir).is_some_and(|p| diaoyan_index::updatable(&p, seg))
        }
        _ => false,
    };
    let index_slot = std::sync::Mutex::new(None);
    // A full build comes next, alone: its two indexing threads keep both cores busy, and the
    // digest's tables and the workbook, held at once beside it, were the run's peak memory
    // (10k: 820 MB side by side, 685 MB this way; 100k: 2.35 → 2.16 GB) for no gain in time.
    // It is the last output that reads the submissions' texts, which are then let go.
    let full_build = if updating {
        None
    } else {
        let done = timed("index", &|| {
            write_index(dir, d, seg, progress, &index_slot, &|i| d.text(i))
        });
        drop(take_texts(d));
        Some(done)
    };
    // An update reads the texts beside the workbook: they are taken out first, to be let go
    // as soon as it is done (the workbook and the digest never read them).
    let texts = if updating { take_texts(d) } else { None };
    // A suggestion list too long for the workbook (more than `max_rows`, XLSX_MAX_ROWS in a run:
    // 100,000 generated documents make 561,004) stays in its CSV file; the digest reads the
    // suggestions where they are.
    let suggestions_left_out = d
        .suggest
        .as_ref()
        .map(|sg| sg.suggestions.len())
        .filter(|&n| n > max_rows);
    let d: &RunData = d;

    // Excel holds at most 1,048,576 rows a sheet and a workbook is built in memory: tables past
    // `max_rows` (XLSX_MAX_ROWS in a run) stay in their CSV files only, and the workbook says so
    // on a notes sheet.
    let mut notes = Table::new("说明", &["工作表", "说明"]);
    // Sheet order in the workbook: topics, issues, suggestions, flags, cadres, duplicates,
    // submissions, unreadable files (the notes list the sheets left out in the lists' order).
    let subs = &d.ingest.submissions;
    let submissions_sheet = keep(&mut notes, max_rows, Box::new(submission_rows(d)));
    let errors_sheet = keep(&mut notes, max_rows, Box::new(small.errors));
    let mut score_sheets = Vec::new();
    if let (Some(sc), Some(c), Some(p)) = (&d.score, small.cadres, small.pairs) {
        score_sheets = vec![
            keep(
                &mut notes,
                max_rows,
                Box::new(flags_rows(subs, sc, reviews)),
            ),
            keep(&mut notes, max_rows, Box::new(c)),
            keep(&mut notes, max_rows, Box::new(p)),
        ];
    }
    let mut sheets: Vec<Option<Box<dyn Sheet + '_>>> = Vec::new();
    if let (Some(sg), Some(it), Some(tt)) = (&d.suggest, small.issues, small.topics) {
        let tt = keep(&mut notes, max_rows, Box::new(tt));
        let it = keep(&mut notes, max_rows, Box::new(it));
        let st = match suggestions_left_out {
            Some(n) => {
                leave_out(&mut notes, max_rows, SUGGESTIONS_SHEET, n);
                None
            }
            None => keep(
                &mut notes,
                max_rows,
                Box::new(suggestions_rows(&sg.suggestions)),
            ),
        };
        sheets.extend([tt, it, st]);
    }
    sheets.extend(score_sheets);
    sheets.extend([submissions_sheet, errors_sheet]);
    let mut refs: Vec<&dyn Sheet> = sheets.iter().flatten().map(|s| &**s).collect();
    if !notes.rows.is_empty() {
        refs.push(&notes);
    }
    // The digest and the workbook go side by side (one core each). Each part is timed on its own.
    let digest_part = || -> Result<Vec<String>> {
        let Some(sg) = &d.suggest else {
            return Ok(Vec::new());
        };
        // Parquet copies for analysts, and the written material (书面材料) made from them. The
        // suggestions are read where they are, never copied into one table (at a 100k run's
        // peak such a table held 313 of 758 MB).
        let tables = diaoyan_report::Tables::from_parts(&run_parts(d, sg, reviews))?;
        let facts = diaoyan_report::Facts {
            files: d.ingest.files_seen,
            unreadable: d.ingest.errors.len(),
        };
        // The Parquet files beside the written material, both read from the tables.
        let (parquet, digest) = std::thread::scope(|scope| {
            let parquet = scope.spawn(|| {
                let names = tables.write_parquet(dir);
                if names.is_ok() {
                    tick();
                }
                names
            });
            let digest = diaoyan_report::digest_of(
                &tables,
                &diaoyan_report::Filter::default(),
                &facts,
                dir,
                "digest",
                &diaoyan_report::Format::ALL,
            );
            (parquet.join().expect("Parquet writer panicked"), digest)
        });
        let mut names = parquet?;
        names.extend(digest?);
        Ok(names)
    };
    let workbook_part = || -> Result<Vec<String>> {
        diaoyan_digest::write_xlsx(&dir.join("diaoyan.xlsx"), &refs)?;
        Ok(vec!["diaoyan.xlsx".to_owned()])
    };
    let workbook_rows: usize = refs.iter().map(|s| s.len()).sum();
    let suggestions = d.suggest.as_ref().map_or(0, |sg| sg.suggestions.len());
    let results = std::thread::scope(|scope| match full_build {
        // After a full build: the digest and the workbook side by side (one core each).
        Some(index_done) => {
            let digest = scope.spawn(|| timed("digest", &digest_part));
            let workbook = timed("workbook", &workbook_part);
            [
                index_done,
                digest.join().expect("digest writer panicked"),
                workbook,
            ]
        }
        // An update keeps about one core busy: the heavier of the workbook and the digest goes
        // beside it, the other after it ([`digest_beside_update`]).
        None => {
            let index_part = || {
                let texts = texts;
                let text = |i: usize| match &texts {
                    Some(t) => std::borrow::Cow::Borrowed(&*t[i]),
                    None => d.text(i),
                };
                timed("index", &|| {
                    write_index(dir, d, seg, progress, &index_slot, &text)
                })
            };
            // The part that goes beside the update, the part that follows it.
            type Part<'p> = (&'static str, &'p (dyn Fn() -> Result<Vec<String>> + Sync));
            let digest_beside = digest_beside_update(workbook_rows, suggestions);
            let (beside, after): (Part<'_>, Part<'_>) = if digest_beside {
                (("digest", &digest_part), ("workbook", &workbook_part))
            } else {
                (("workbook", &workbook_part), ("digest", &digest_part))
            };
            let (name, part, timed) = (beside.0, beside.1, &timed);
            let beside = scope.spawn(move || timed(name, part));
            let index_done = index_part();
            let after = timed(after.0, after.1);
            let beside = beside.join().expect("writer beside the index panicked");
            let (digest, workbook) = if digest_beside {
                (beside, after)
            } else {
                (after, beside)
            };
            [index_done, digest, workbook]
        }
    });
    *index = index_slot.into_inner().expect("index slot");
    record(results, timings, &mut written)?;
    Ok(written)
}

/// Whether a re-run's digest, rather than its workbook, goes beside the index update (the other
/// comes after the update): the heavier of the two, by rows. A workbook row costs about four
/// times a suggestion's share of the digest (100k documents, 1% changed: the workbook's 0.21 M
/// rows 1.8 s, the digest's 0.56 M suggestions 1.0 s, the update 0.5 s — the workbook goes
/// beside; all three at once took 1.2, 1.6 and 2.7 s, the writing 0.9 s longer). Lists longer
/// than the workbook takes stay out of it: at 1M documents it holds 0.1 M rows (0.7 s) and the
/// digest's 5.6 M suggestions (11.4 s) went after the 8.9 s update, one core waiting.
fn digest_beside_update(workbook_rows: usize, suggestions: usize) -> bool {
    workbook_rows.saturating_mul(4) < suggestions
}

/// The submissions' texts, taken out of the run once nothing but the index reads them: the
/// digest counts characters from the text stage's figures (and from the texts only when that
/// stage did not run, when they are left). A suggestion's words are a part of its submission's
/// text (`diaoyan_model::Excerpt`): each keeps a copy of its own words from here on, so the
/// texts go when the returned list does. A run whose texts are kept out of memory never held
/// them (its suggestions read their words there): nothing to take, the index reads them there
/// ([`RunData::text`]).
fn take_texts(d: &mut RunData) -> Option<Vec<diaoyan_model::Shared>> {
    d.stats.as_ref()?;
    if d.kept().is_some() {
        return None;
    }
    if let Some(sg) = d.suggest.as_mut() {
        sg.suggestions.iter_mut().for_each(|g| g.text.detach());
    }
    Some(
        d.ingest
            .submissions
            .iter_mut()
            .map(|s| std::mem::take(&mut s.text))
            .collect(),
    )
}

/// The previous run's index beside the staging folder `dir`, when there is one.
fn previous_index(dir: &Path) -> Option<std::path::PathBuf> {
    dir.parent().map(|p| p.join("index")).filter(|p| p.is_dir())
}

/// The keyword index, built or updated (the previous run's updated when it can be: unchanged
/// entries kept): one unit on the bar per entry handed to it, in batches; what it did goes
/// to `slot`.
fn write_index<'a>(
    dir: &Path,
    d: &'a RunData,
    seg: Option<&diaoyan_text::Segmenter>,
    progress: &dyn crate::Progress,
    slot: &std::sync::Mutex<Option<diaoyan_index::Built>>,
    text: &'a (dyn Fn(usize) -> std::borrow::Cow<'a, str> + Sync),
) -> Result<Vec<String>> {
    let (Some(sg), Some(seg)) = (&d.suggest, seg) else {
        return Ok(Vec::new());
    };
    let previous = previous_index(dir);
    const BATCH: u64 = 1024;
    let mut pending = 0u64;
    let built = diaoyan_index::update(
        &dir.join("index"),
        previous.as_deref(),
        seg,
        index_entries(d, &sg.suggestions, text).inspect(|_| {
            pending += 1;
            if pending == BATCH {
                progress.advance(pending);
                pending = 0;
            }
        }),
        // Keys carried over from the previous index's table: a group that only gained or lost
        // members keeps its entries.
        &diaoyan_index::Labels::after(
            &previous
                .as_deref()
                .and_then(diaoyan_index::Labels::of_index)
                .unwrap_or_default(),
            sg.issues
                .iter()
                .map(|i| (i.id.as_str(), i.members.as_slice())),
            sg.topics
                .iter()
                .map(|t| (t.id.as_str(), t.members.as_slice())),
        ),
    )?;
    progress.advance(pending);
    *slot.lock().expect("index slot") = Some(built);
    Ok(vec!["index/".to_owned()])
}

/// A part of the writing done: the files it wrote, its name, its seconds.
type Part = (Vec<String>, &'static str, f64);

/// Each part's files go to the run's outputs and its time to `run.json` (a part that wrote
/// nothing — its stage did not run — is left out), in the parts' order; the first error stops.
fn record(
    parts: impl IntoIterator<Item = Result<Part>>,
    timings: &mut Vec<crate::PartTiming>,
    written: &mut Vec<String>,
) -> Result<()> {
    for part in parts {
        let (names, part, seconds) = part?;
        if !names.is_empty() {
            timings.push(crate::PartTiming { part, seconds });
        }
        written.extend(names);
    }
    Ok(())
}

/// `t` when it fits in a workbook sheet; else a line on the notes sheet, and nothing.
fn keep<'a>(
    notes: &mut Table,
    max_rows: usize,
    t: Box<dyn Sheet + 'a>,
) -> Option<Box<dyn Sheet + 'a>> {
    if t.len() > max_rows {
        leave_out(notes, max_rows, t.name(), t.len());
        None
    } else {
        Some(t)
    }
}

/// The notes sheet's line for a sheet of `rows` rows left out of the workbook.
fn leave_out(notes: &mut Table, max_rows: usize, name: &str, rows: usize) {
    notes.push(vec![
        name.to_owned(),
        format!("共 {rows} 行，超过 {max_rows} 行，未放入本工作簿，请打开同名 CSV 文件"),
    ]);
}

/// What the digest's tables are made from.
fn run_parts<'a>(
    d: &'a RunData,
    sg: &'a diaoyan_suggest::SuggestOutput,
    reviews: &'a crate::Reviews,
) -> diaoyan_report::RunParts<'a> {
    diaoyan_report::RunParts {
        submissions: &d.ingest.submissions,
        stats: d.stats.as_deref(),
        assessments: d.score.as_ref().map(|s| s.assessments.as_slice()),
        cadres: d.score.as_ref().map_or(&[], |s| s.cadres.as_slice()),
        suggestions: &sg.suggestions,
        issues: &sg.issues,
        topics: &sg.topics,
        reviews: &reviews.submissions,
    }
}

/// The short lists, kept as tables from their CSV files to the workbook.
#[derive(Default)]
struct SmallTables {
    errors: Table,
    pairs: Option<Table>,
    cadres: Option<Table>,
    issues: Option<Table>,
    topics: Option<Table>,
}

/// The rows of `submissions.csv` and the 材料清单 sheet.
fn submission_rows(d: &RunData) -> Rows<'_> {
    let subs = &d.ingest.submissions;
    Rows::new("材料清单", SUBMISSION_COLUMNS, subs.len(), move |i| {
        let s = &subs[i];
        let st = d.stats.as_ref().map(|v| v[i]);
        let num = |f: fn(&diaoyan_model::TextStats) -> usize| {
            st.as_ref().map(|x| f(x).to_string()).unwrap_or_default()
        };
        vec![
            s.id.to_string(),
            s.path.to_string(),
            s.ref_.clone(),
            s.kind.map(|k| k.label().to_owned()).unwrap_or_default(),
            s.author.to_string(),
            s.unit.to_string(),
            s.level.map(|l| l.label().to_owned()).unwrap_or_default(),
            s.place.to_string(),
            s.date.to_string(),
            s.day.map(|d| d.to_string()).unwrap_or_default(),
            s.title.clone(),
            num(|x| x.chars),
            num(|x| x.han),
            num(|x| x.sentences),
            num(|x| x.words),
            s.encoding.clone(),
            s.warnings.join("；"),
        ]
    })
}

/// What the keyword index holds: every whole submission, then every suggestion, each with its
/// submission's title, kind, cadre level and verdict.
fn index_entries<'a>(
    d: &'a RunData,
    suggestions: &'a [diaoyan_model::Suggestion],
    text: &'a (dyn Fn(usize) -> std::borrow::Cow<'a, str> + Sync),
) -> impl Iterator<Item = diaoyan_index::Entry<'a>> {
    let (subs, score, kept) = (&d.ingest.submissions, d.score.as_ref(), d.kept());
    // Judgements are aligned with submissions by position.
    let verdict_of = move |i: usize| score.map_or("", |sc| sc.assessments[i].verdict.label());
    let label = |s: &Submission| {
        (
            s.kind.map_or("", |k| k.label()),
            s.level.map_or("", |l| l.label()),
        )
    };
    let whole = subs.iter().enumerate().map(move |(i, s)| {
        let (kind, level) = label(s);
        diaoyan_index::Entry {
            doc_type: diaoyan_index::DocType::Submission,
            id: &s.id,
            submission: &s.id,
            path: &s.path,
            author: &s.author,
            unit: &s.unit,
            places: if s.place.is_empty() {
                Vec::new()
            } else {
                vec![s.place.as_str()]
            },
            date: &s.date,
            kind,
            level,
            verdict: verdict_of(i),
            title: &s.title,
            // A text kept out of memory is read only if the entry is written (an update keeps
            // most entries and reads none of their texts).
            text: match kept {
                Some(k) => diaoyan_index::Text::of(k, i, None),
                None => text(i).into(),
            },
            ..diaoyan_index::Entry::default()
        }
    });
    // Looked up once per suggestion (at 100k documents, 561k times a run).
    let position: rustc_hash::FxHashMap<&str, usize> = subs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let parts = suggestions.iter().map(move |sg| {
        let at = position.get(sg.source.submission.as_str()).copied();
        let sub = at.map(|i| &subs[i]);
        let (kind, level) = sub.map_or(("", ""), label);
        diaoyan_index::Entry::suggestion(
            sg,
            sub.map_or("", |s| s.title.as_str()),
            kind,
            level,
            at.map_or("", verdict_of),
        )
    });
    whole.chain(parts)
}

/// Largest table put into `diaoyan.xlsx` (larger ones are in their CSV files only).
pub const XLSX_MAX_ROWS: usize = 200_000;

/// The columns of `flags.csv`.
pub const FLAG_COLUMNS: &[&str] = &[
    "ID",
    "文件",
    "作者",
    "类型",
    "得分",
    "结论",
    "理由",
    "套话句占比",
    "每千字事实数",
    "具体建议数",
    "重合比例",
    "审核意见",
    "审核后结论",
];

fn flags_rows<'a>(
    subs: &'a [diaoyan_model::Submission],
    sc: &'a diaoyan_score::ScoreOutput,
    reviews: &'a crate::Reviews,
) -> Rows<'a> {
    let n = subs.len().min(sc.assessments.len());
    Rows::new("材料审查", FLAG_COLUMNS, n, move |i| {
        let (s, a) = (&subs[i], &sc.assessments[i]);
        let review = reviews.submissions.get(s.id.as_str());
        let sig = &a.signals;
        let share = if sig.sentences == 0 {
            0.0
        } else {
            sig.boilerplate_sentences as f64 / sig.sentences as f64
        };
        vec![
            s.id.to_string(),
            s.path.to_string(),
            s.author.to_string(),
            s.kind.map(|k| k.label().to_owned()).unwrap_or_default(),
            format!("{:.1}", a.score),
            a.verdict.label().to_owned(),
            a.reasons
                .iter()
                .map(|r| r.text.as_str())
                .collect::<Vec<_>>()
                .join("；"),
            format!("{:.0}%", share * 100.0),
            format!("{:.1}", sig.facts_per_k),
            sig.concrete_suggestions.to_string(),
            format!("{:.0}%", sig.copied_share * 100.0),
            review.map(|r| r.0.clone()).unwrap_or_default(),
            review
                .map(|r| r.1.as_str())
                .filter(|v| !v.is_empty())
                .unwrap_or(a.verdict.label())
                .to_owned(),
        ]
    })
}

fn pairs_table(pairs: &[diaoyan_model::CopyPair]) -> Table {
    use diaoyan_model::CopyDirection;
    let mut t = Table::new(
        "雷同材料",
        &[
            "文件A",
            "作者A",
            "文件B",
            "作者B",
            "相似度",
            "A与B重合比例",
            "B与A重合比例",
            "重合字数",
            "判断",
            "重合段落",
        ],
    );
    for p in pairs {
        let judgement = match p.direction {
            _ if p.b_is_reference => "A 照抄范文",
            CopyDirection::AFromB => "A 照抄 B",
            CopyDirection::BFromA => "B 照抄 A",
            CopyDirection::Mutual => "互相雷同",
        };
        t.push(vec![
            p.path_a.clone(),
            p.author_a.clone(),
            p.path_b.clone(),
            p.author_b.clone(),
            format!("{:.3}", p.similarity),
            format!("{:.3}", p.containment_a),
            format!("{:.3}", p.containment_b),
            p.shared_chars.to_string(),
            judgement.to_owned(),
            p.excerpt.clone(),
        ]);
    }
    t
}

/// The name of the suggestions' workbook sheet.
const SUGGESTIONS_SHEET: &str = "意见建议";

fn suggestions_rows(suggestions: &[diaoyan_model::Suggestion]) -> Rows<'_> {
    Rows::new(
        SUGGESTIONS_SHEET,
        &[
            "ID",
            "材料ID",
            "文件",
            "作者",
            "单位",
            "地点",
            "文中地点",
            "日期",
            "来源",
            "标题",
            "内容",
            "主题大类",
            "主题",
            "问题编号",
            "专题编号",
            "说明",
        ],
        suggestions.len(),
        |i| {
            let s = &suggestions[i];
            vec![
                s.id.to_string(),
                s.source.submission.to_string(),
                s.source.path.to_string(),
                s.source.author.to_string(),
                s.source.unit.to_string(),
                s.source.place.to_string(),
                s.places.join("、"),
                s.source.date.to_string(),
                s.voice.label().to_owned(),
                s.source.subject.to_string(),
                s.read().into_owned(),
                s.theme_group.to_string(),
                s.theme.to_string(),
                s.issue.as_deref().unwrap_or_default().to_owned(),
                s.topic.as_deref().unwrap_or_default().to_owned(),
                match (s.left_out(), &s.issue) {
                    (Some(why), _) => why.to_owned(),
                    (None, None) => "单独反映".to_owned(),
                    (None, Some(_)) => String::new(),
                },
            ]
        },
    )
}

fn issues_table(issues: &[diaoyan_model::Issue], reviews: &crate::Reviews) -> Table {
    let mut t = Table::new(
        "问题清单",
        &[
            &["问题编号", "专题编号", "标题", "关键词", "主题大类", "主题"][..],
            &HEAT_COLUMNS,
            &[
                "提及次数",
                "材料份数",
                "地点",
                "首次日期",
                "末次日期",
                "代表性意见",
                "例1",
                "例2",
                "例3",
                "处理情况",
            ],
        ]
        .concat(),
    );
    for i in issues {
        let ex = |k: usize| i.examples.get(k).cloned().unwrap_or_default();
        let mut row = vec![
            i.id.clone(),
            i.topic.clone().unwrap_or_default(),
            i.title.clone(),
            i.keywords.clone(),
            i.theme_group.clone(),
            i.theme.clone(),
        ];
        row.extend(heat_cells(&i.heat));
        row.extend([
            i.mentions.to_string(),
            i.submissions.to_string(),
            i.places.join("、"),
            i.first.clone(),
            i.last.clone(),
            i.central.clone(),
            ex(0),
            ex(1),
            ex(2),
        ]);
        row.push(reviews.issues.get(&i.id).cloned().unwrap_or_default());
        t.push(row);
    }
    t
}

fn cadres_table(cadres: &[diaoyan_model::CadreReport]) -> Table {
    let mut t = Table::new(
        "干部蹲点",
        &[
            "姓名",
            "单位",
            "级别",
            "联系点",
            "蹲点起止",
            "蹲点天数",
            "手记篇数",
            "缺少手记日期",
            "走访户数",
            "户数要求",
            "已走访类别",
            "未走访类别",
            "座谈会发言人数",
            "材料份数",
            "退回份数",
            "结论",
            "理由",
        ],
    );
    for c in cadres {
        t.push(vec![
            c.name.clone(),
            c.unit.clone(),
            c.level.map(|l| l.label().to_owned()).unwrap_or_default(),
            c.place.clone(),
            c.stay
                .as_ref()
                .map(|(a, b)| format!("{a} 至 {b}"))
                .unwrap_or_default(),
            c.days.to_string(),
            c.notes.to_string(),
            c.missing_dates.join("、"),
            c.households.to_string(),
            c.quota.map(|q| q.to_string()).unwrap_or_default(),
            c.categories_reached.join("、"),
            c.categories_missing.join("、"),
            c.forums
                .iter()
                .map(|(_, n)| n.to_string())
                .collect::<Vec<_>>()
                .join("、"),
            c.submissions.to_string(),
            c.redo.to_string(),
            c.verdict.map(|v| v.label().to_owned()).unwrap_or_default(),
            c.reasons
                .iter()
                .map(|r| r.text.as_str())
                .collect::<Vec<_>>()
                .join("；"),
        ]);
    }
    t
}

fn topics_table(topics: &[diaoyan_model::Topic]) -> Table {
    let mut t = Table::new(
        "问题专题",
        &[
            &["专题编号", "标题", "关键词", "主题大类", "主题"][..],
            &HEAT_COLUMNS,
            &[
                "提及次数",
                "材料份数",
                "问题数",
                "所含问题",
                "地点",
                "首次日期",
                "末次日期",
                "例1",
                "例2",
                "例3",
            ],
        ]
        .concat(),
    );
    for p in topics {
        let ex = |k: usize| p.examples.get(k).cloned().unwrap_or_default();
        let mut row = vec![
            p.id.clone(),
            p.title.clone(),
            p.keywords.clone(),
            p.theme_group.clone(),
            p.theme.clone(),
        ];
        row.extend(heat_cells(&p.heat));
        row.extend([
            p.mentions.to_string(),
            p.submissions.to_string(),
            p.issues.len().to_string(),
            p.issues.join("、"),
            p.places
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join("、"),
            p.first.clone(),
            p.last.clone(),
            ex(0),
            ex(1),
            ex(2),
        ]);
        t.push(row);
    }
    t
}

/// The heat columns shared by the issue and topic tables: the total and its parts.
const HEAT_COLUMNS: [&str; 6] = [
    "热度",
    "反映人数",
    "地点数",
    "单位数",
    "时间集中度",
    "点赞数",
];

/// The cells under [`HEAT_COLUMNS`].
fn heat_cells(h: &diaoyan_model::Heat) -> [String; 6] {
    [
        format!("{:.1}", h.total),
        h.people.to_string(),
        h.places.to_string(),
        h.units.to_string(),
        format!("{:.2}", h.concentration),
        h.likes.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NoProgress, PipelineConfig};

    /// Issue 12: a suggestion list too long for the workbook stays in its CSV file only; every
    /// other output is what a run whose workbook holds it writes — written as a full build or
    /// as an update of an earlier index, whichever of the workbook and the digest goes beside
    /// the update ([`digest_beside_update`]).
    #[test]
    fn a_suggestion_list_too_long_for_the_workbook_changes_no_other_output() {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("in");
        std::fs::create_dir(&input).unwrap();
        // Enough suggestions that a workbook of a few notes is the lighter part of an update
        // (more than four times its at most 16 rows), and a workbook holding them is not.
        for i in 0..40 {
            std::fs::write(
                input.join(format!("手记{i}.txt")),
                format!(
                    "第{i}天，走访石桥村{i}组。群众反映机耕路坑洼不平，建议硬化。\
                     村民反映三组灌溉水渠渗漏，建议尽快维修。全组共{}户。",
                    30 + i
                ),
            )
            .unwrap();
        }
        let pipeline = PipelineConfig {
            input: Some(input),
            ..PipelineConfig::default()
        }
        .build()
        .unwrap();
        // Full builds first; then the first one's index is where an update finds the previous
        // run's (beside the output folder), and the same two are written as updates of it.
        let runs = [
            (XLSX_MAX_ROWS, "kept", false),
            (1, "left_out", false),
            (XLSX_MAX_ROWS, "kept_update", true),
            (1, "left_out_update", true),
        ];
        for (max_rows, name, update) in runs {
            if update && !tmp.path().join("index").exists() {
                std::fs::rename(tmp.path().join("kept/index"), tmp.path().join("index")).unwrap();
            }
            let mut data = pipeline.execute(&NoProgress).unwrap();
            let made = data.suggest.as_ref().unwrap().suggestions.len();
            assert!(made > 64, "the texts must give many suggestions: {made}");
            let dir = tmp.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            let mut built = None;
            let names = write_all(
                &dir,
                &mut data,
                &crate::Reviews::default(),
                pipeline.segmenter(),
                &NoProgress,
                &mut built,
                &mut Vec::new(),
                max_rows,
            )
            .unwrap();
            assert!(
                names.iter().any(|n| n == "suggestions.parquet"),
                "{names:?}"
            );
            assert!(names.iter().any(|n| n == "diaoyan.xlsx"), "{names:?}");
            assert_eq!(built.unwrap().incremental, update, "{name}");
        }
        // Every list, Parquet table and digest is the same either way (the workbook differs:
        // with a limit of one row it holds only its notes).
        let files = |name: &str| -> Vec<(String, Vec<u8>)> {
            let dir = tmp.path().join(name);
            let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file())
                .filter(|p| p.file_name().is_some_and(|n| n != "diaoyan.xlsx"))
                .map(|p| {
                    let n = p.file_name().unwrap().to_string_lossy().into_owned();
                    (n, std::fs::read(&p).unwrap())
                })
                .collect();
            v.sort();
            v
        };
        let kept = files("kept");
        let names: Vec<&str> = kept.iter().map(|f| f.0.as_str()).collect();
        for want in [
            "suggestions.parquet",
            "suggestions.csv",
            "digest.md",
            "digest.html",
            "digest.docx",
        ] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        for other in ["left_out", "kept_update", "left_out_update"] {
            let taken = files(other);
            assert_eq!(kept.len(), taken.len(), "{other}");
            same_files(&kept, &taken);
        }
        // The two updates agree with their full builds in the workbook too.
        let xlsx = |name: &str| {
            xlsx_parts(&std::fs::read(tmp.path().join(name).join("diaoyan.xlsx")).unwrap())
        };
        assert_eq!(xlsx("kept"), xlsx("kept_update"));
        assert_eq!(xlsx("left_out"), xlsx("left_out_update"));
    }

    /// Every file of `a` equal to its namesake in `b`, but for what differs between any two
    /// writings (see below).
    fn same_files(a: &[(String, Vec<u8>)], b: &[(String, Vec<u8>)]) {
        for (a, b) in a.iter().zip(b) {
            assert_eq!(a.0, b.0);
            // docx-rs numbers a document's bookmarks from a counter shared by the whole
            // process, so a second digest.docx written by one process has other numbers
            // (separate runs write equal files).
            // An xlsx file carries the second it was made (docProps/core.xml): its other
            // parts are compared.
            if a.0.ends_with(".xlsx") {
                assert_eq!(xlsx_parts(&a.1), xlsx_parts(&b.1), "{} differs", a.0);
            } else if a.0 != "digest.docx" {
                assert!(a.1 == b.1, "{} differs", a.0);
            }
        }
    }

    /// The decision on the figures that set it (the 100k and 1M re-runs in
    /// [`digest_beside_update`]'s note), and on a workbook of no size beside a digest of any.
    #[test]
    fn the_heavier_of_the_workbook_and_the_digest_goes_beside_an_update() {
        assert!(!digest_beside_update(214_000, 564_000));
        assert!(digest_beside_update(95_000, 5_649_000));
        assert!(digest_beside_update(0, 1));
        assert!(!digest_beside_update(0, 0));
        assert!(!digest_beside_update(usize::MAX, usize::MAX));
    }

    /// An xlsx file's parts by name, but for the time it was made.
    fn xlsx_parts(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        use std::io::Read;
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut parts = Vec::new();
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).unwrap();
            let name = f.name().unwrap().into_owned();
            if name != "docProps/core.xml" {
                let mut body = Vec::new();
                f.read_to_end(&mut body).unwrap();
                parts.push((name, body));
            }
        }
        assert!(parts.len() > 3, "an xlsx file has its sheets and more");
        parts
    }
}
