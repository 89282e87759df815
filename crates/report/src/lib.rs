//! The written material (书面材料) the campaign office hands up, made from a run's results.
//!
//! [`Tables`] holds the run as polars DataFrames (the only crate that sees polars): built from
//! the stage outputs, written as Parquet for analysts, read back by `diaoyan digest`, and narrowed
//! by a [`Filter`]. [`Digest::build`] aggregates them into plain data — 基本情况, themes (四风
//! first) with their topics, issues and quotes, the redo list, cadres and units — and the
//! renderers lay it out as `digest.docx` (Word heading styles, so the navigation pane and a table
//! of contents work), `digest.html` (one self-contained page: inline SVG charts, drill-down, a
//! filter box, a print stylesheet; every piece of submission text escaped), `digest.md` and
//! `digest.xlsx`.

mod digest;
mod docx;
mod html;
mod md;
mod tables;
mod xlsx;

pub use digest::{
    CadreRow, Digest, FOUR_WINDS, IssueBlock, Overview, Quote, REDO_SHOWN, RedoItem,
    TOPICS_PER_THEME, ThemeBlock, TopicBlock, UnitRow, excerpt,
};
pub use tables::{PARQUET_FILES, RunParts, SubmissionTable, SuggestionTable, Tables};

use std::path::Path;

/// Errors of the report crate, in Chinese for the reviewer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A table operation failed (a bug or a damaged file).
    #[error("数据表处理出错：{0}")]
    Frame(String),
    /// A saved table is missing or damaged.
    #[error("无法读取 {path}：{reason}")]
    Missing {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The selection names something that does not exist, or selects nothing.
    #[error("{0}")]
    Select(String),
    /// Writing failed.
    #[error(transparent)]
    Write(#[from] diaoyan_digest::Error),
    /// An unknown output format.
    #[error("不认识的格式“{0}”：可选 docx、html、md、xlsx")]
    Format(String),
}

impl Error {
    pub(crate) fn frame(e: impl std::fmt::Display) -> Self {
        Error::Frame(e.to_string())
    }
}

/// The report crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// What a digest covers: any of themes (a theme or a theme group), places, units (substring
/// matches), and a date range (`YYYY-MM-DD`, inclusive).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Themes or theme groups (交通运输, 四风).
    pub themes: Vec<String>,
    /// Places (石桥村 also selects 石桥村三组).
    pub places: Vec<String>,
    /// Units.
    pub units: Vec<String>,
    /// First date.
    pub from: Option<String>,
    /// Last date.
    pub to: Option<String>,
}

impl Filter {
    /// Whether it selects everything.
    pub fn is_empty(&self) -> bool {
        self.themes.is_empty()
            && self.places.is_empty()
            && self.units.is_empty()
            && self.from.is_none()
            && self.to.is_none()
    }

    /// The selection in words (全部材料 when empty).
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if !self.themes.is_empty() {
            parts.push(format!("主题：{}", self.themes.join("、")));
        }
        if !self.places.is_empty() {
            parts.push(format!("地点：{}", self.places.join("、")));
        }
        if !self.units.is_empty() {
            parts.push(format!("单位：{}", self.units.join("、")));
        }
        match (&self.from, &self.to) {
            (Some(a), Some(b)) => parts.push(format!("日期：{a} 至 {b}")),
            (Some(a), None) => parts.push(format!("日期：{a} 起")),
            (None, Some(b)) => parts.push(format!("日期：至 {b}")),
            (None, None) => {}
        }
        if parts.is_empty() {
            "全部材料".to_owned()
        } else {
            parts.join("；")
        }
    }

    /// A file-name part for the selection (`交通运输_石桥村`), empty when it selects everything.
    pub fn slug(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(self.themes.iter().cloned());
        parts.extend(self.places.iter().cloned());
        parts.extend(self.units.iter().cloned());
        if self.from.is_some() || self.to.is_some() {
            parts.push(format!(
                "{}至{}",
                self.from.as_deref().unwrap_or(""),
                self.to.as_deref().unwrap_or("")
            ));
        }
        parts
            .join("_")
            .chars()
            .map(|c| {
                if "\\/:*?\"<>|".contains(c) || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .take(60)
            .collect()
    }
}

/// Facts about the run that are not in the tables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Files seen in the input.
    pub files: usize,
    /// Files or rows that could not be read.
    pub unreadable: usize,
}

/// An output format of the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Word.
    Docx,
    /// One web page.
    Html,
    /// Markdown.
    Md,
    /// Excel.
    Xlsx,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [Format::Docx, Format::Html, Format::Md, Format::Xlsx];

    /// The file extension.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Docx => "docx",
            Format::Html => "html",
            Format::Md => "md",
            Format::Xlsx => "xlsx",
        }
    }

    /// Parses `docx,html,md,xlsx`.
    pub fn parse_list(s: &str) -> Result<Vec<Format>> {
        let mut out = Vec::new();
        for part in s
            .split([',', '，'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let f = Format::ALL
                .into_iter()
                .find(|f| f.ext().eq_ignore_ascii_case(part))
                .ok_or_else(|| Error::Format(part.to_owned()))?;
            if !out.contains(&f) {
                out.push(f);
            }
        }
        Ok(out)
    }
}

/// Writes the digest as `dir/stem.<ext>` for each format (each file atomically); returns the
/// file names.
pub fn write_digest(dir: &Path, stem: &str, d: &Digest, formats: &[Format]) -> Result<Vec<String>> {
    let write = |f: Format| -> Result<String> {
        let name = format!("{stem}.{}", f.ext());
        let path = dir.join(&name);
        match f {
            Format::Md => {
                let text = md::render(d);
                diaoyan_digest::write_atomic_with(&path, |w| w.write_all(text.as_bytes()))?;
            }
            Format::Html => {
                let text = html::render(d);
                diaoyan_digest::write_atomic_with(&path, |w| w.write_all(text.as_bytes()))?;
            }
            Format::Docx => {
                let bytes = docx::render(d)?;
                diaoyan_digest::write_atomic_with(&path, |w| w.write_all(&bytes))?;
            }
            Format::Xlsx => {
                let tables = xlsx::tables(d);
                let refs: Vec<&dyn diaoyan_digest::Sheet> = tables.iter().map(|t| &**t).collect();
                diaoyan_digest::write_xlsx(&path, &refs)?;
            }
        }
        Ok(name)
    };
    // The formats side by side (each renders the same digest on its own): at 100,000 documents
    // they took 0.7 s one after another. The names come back in the formats' order; the first
    // error, in that order, is the one reported.
    std::thread::scope(|scope| {
        let running: Vec<_> = formats
            .iter()
            .map(|&f| scope.spawn(move || write(f)))
            .collect();
        running
            .into_iter()
            .map(|h| h.join().expect("digest writer panicked"))
            .collect()
    })
}

/// Builds the digest of a selection of the tables and writes it (see [`write_digest`]).
pub fn digest_of(
    tables: &Tables,
    filter: &Filter,
    facts: &Facts,
    dir: &Path,
    stem: &str,
    formats: &[Format],
) -> Result<Vec<String>> {
    let selected = tables.select(filter)?;
    let d = Digest::build(&selected, facts, &filter.describe())?;
    write_digest(dir, stem, &d, formats)
}

#[cfg(test)]
mod tests;
