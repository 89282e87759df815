//! Ingest configuration (the `[ingest]` table of a pipeline file).

use serde::{Deserialize, Serialize};

/// How input files are read. Every field has a default, so an empty `[ingest]` table works.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Largest input file read, in bytes (default 256 MiB). Larger files are refused as 文件过大.
    pub max_file_bytes: u64,
    /// Largest inflated size of one entry inside a .docx or .xlsx, in bytes (default 64 MiB);
    /// refuses zip bombs before they take memory.
    pub max_entry_bytes: u64,
    /// Table columns: which headers mean what (defaults recognise common Chinese headers).
    pub columns: ColumnMap,
    /// How many leading non-empty lines of a document are searched for header fields
    /// (姓名：…, 单位：…, dates; default 12).
    pub header_lines: usize,
    /// Folders never read (set at run time, not in the pipeline file: the run's own output
    /// folder when it lies inside the input).
    #[serde(skip)]
    pub exclude: Vec<std::path::PathBuf>,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            max_file_bytes: 256 << 20,
            max_entry_bytes: 64 << 20,
            columns: ColumnMap::default(),
            header_lines: 12,
            exclude: Vec::new(),
        }
    }
}

/// Header names for each field of a table row. A header matches when it equals one of the names
/// (after trimming); failing that, when it contains one. The first matching column wins.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ColumnMap {
    /// Row id, kept as `ref` (default 编号, 留言编号, 序号, id).
    pub id: Vec<String>,
    /// Author (default 姓名, 作者, 反映人, 留言用户, 提出人).
    pub author: Vec<String>,
    /// Unit (default 单位, 工作单位, 所在单位).
    pub unit: Vec<String>,
    /// Place (default 联系点, 村, 地点, 所在地, 村组).
    pub place: Vec<String>,
    /// Kind (default 类型, 类别, 材料类型).
    pub kind: Vec<String>,
    /// Level (default 级别, 层级).
    pub level: Vec<String>,
    /// Date (default 日期, 时间, 留言时间, 提交时间).
    pub date: Vec<String>,
    /// Title (default 标题, 主题, 留言主题).
    pub title: Vec<String>,
    /// Content (default 内容, 正文, 意见建议, 留言详情, 意见, 建议); a table needs this column.
    pub content: Vec<String>,
    /// Likes (default 点赞数).
    pub likes: Vec<String>,
    /// Dislikes (default 反对数).
    pub dislikes: Vec<String>,
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for ColumnMap {
    fn default() -> Self {
        Self {
            id: names(&["编号", "留言编号", "序号", "id", "ID"]),
            author: names(&["姓名", "作者", "反映人", "留言用户", "提出人", "author"]),
            unit: names(&["单位", "工作单位", "所在单位", "unit"]),
            place: names(&["联系点", "村", "地点", "所在地", "村组", "place"]),
            kind: names(&["类型", "类别", "材料类型", "kind"]),
            level: names(&["级别", "层级", "level"]),
            date: names(&["日期", "时间", "留言时间", "提交时间", "date", "time"]),
            title: names(&["标题", "主题", "留言主题", "title", "subject"]),
            content: names(&[
                "内容",
                "正文",
                "意见建议",
                "留言详情",
                "意见",
                "建议",
                "content",
                "body",
                "text",
            ]),
            likes: names(&["点赞数", "likes"]),
            dislikes: names(&["反对数", "dislikes"]),
        }
    }
}

/// Column positions found in one header row.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Columns {
    pub id: Option<usize>,
    pub author: Option<usize>,
    pub unit: Option<usize>,
    pub place: Option<usize>,
    pub kind: Option<usize>,
    pub level: Option<usize>,
    pub date: Option<usize>,
    pub title: Option<usize>,
    pub content: Option<usize>,
    pub likes: Option<usize>,
    pub dislikes: Option<usize>,
}

impl ColumnMap {
    /// Finds the columns in a header row; `None` when there is no content column.
    pub(crate) fn locate(&self, header: &[String]) -> Option<Columns> {
        let mut taken = vec![false; header.len()];
        let mut find = |aliases: &[String]| -> Option<usize> {
            let h = |i: usize| header[i].trim();
            let pos = (0..header.len())
                .find(|&i| !taken[i] && aliases.iter().any(|a| h(i).eq_ignore_ascii_case(a)))
                .or_else(|| {
                    (0..header.len()).find(|&i| {
                        !taken[i]
                            && !h(i).is_empty()
                            && aliases.iter().any(|a| h(i).contains(a.as_str()))
                    })
                });
            if let Some(i) = pos {
                taken[i] = true;
            }
            pos
        };
        // Most specific first, so that 留言详情 is not taken as 留言用户's neighbour and 留言编号
        // is not read as a date.
        let content = find(&self.content)?;
        let title = find(&self.title);
        let id = find(&self.id);
        let author = find(&self.author);
        let unit = find(&self.unit);
        let likes = find(&self.likes);
        let dislikes = find(&self.dislikes);
        let date = find(&self.date);
        let kind = find(&self.kind);
        let level = find(&self.level);
        let place = find(&self.place);
        Some(Columns {
            id,
            author,
            unit,
            place,
            kind,
            level,
            date,
            title,
            content: Some(content),
            likes,
            dislikes,
        })
    }
}
