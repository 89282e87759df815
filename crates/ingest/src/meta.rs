//! Metadata from header lines, file and folder names, the manifest and the roster.

use diaoyan_model::{Cadre, Kind, Level};
use diaoyan_text::{find_date, find_day, normalize};
use regex::Regex;
use std::sync::LazyLock;

/// Metadata fields found in one source; empty means "not stated".
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Meta {
    pub author: String,
    pub unit: String,
    pub level: Option<Level>,
    pub place: String,
    pub kind: Option<Kind>,
    pub date: String,
    pub day: Option<u32>,
    pub title: String,
}

impl Meta {
    /// Fills every empty field of `self` from `other` (`self` is the more trusted source).
    pub fn or(mut self, other: &Meta) -> Meta {
        fn fill(a: &mut String, b: &str) {
            if a.is_empty() {
                b.clone_into(a);
            }
        }
        fill(&mut self.author, &other.author);
        fill(&mut self.unit, &other.unit);
        fill(&mut self.place, &other.place);
        fill(&mut self.date, &other.date);
        fill(&mut self.title, &other.title);
        self.level = self.level.or(other.level);
        self.kind = self.kind.or(other.kind);
        self.day = self.day.or(other.day);
        self
    }
}

static KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(姓\s*名|作\s*者|记录人|走访人|调研人|蹲点干部|撰写人|报告人|工作单位|所在单位|单\s*位|职\s*务|级\s*别|联系点|蹲点村|蹲点地点|蹲点单位|地\s*点|日\s*期|时\s*间|标\s*题|题\s*目)\s*[:：]",
    )
    .expect("static regex")
});

/// `key：value` pairs on one line. A value runs to the next key, and stops earlier at `，,；;`,
/// a tab or two spaces.
fn fields(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // Every key ends in a colon (most lines have none).
    if !line.contains([':', '：']) {
        return out;
    }
    let keys: Vec<_> = KEY.captures_iter(line).collect();
    for (i, c) in keys.iter().enumerate() {
        let whole = c.get(0).expect("group 0");
        let end = keys
            .get(i + 1)
            .map_or(line.len(), |n| n.get(0).expect("group 0").start());
        let mut value = &line[whole.end()..end];
        if let Some(cut) = value.find(['，', ',', '；', ';', '\t']) {
            value = &value[..cut];
        }
        if let Some(cut) = value.trim_start().find("  ") {
            value = &value.trim_start()[..cut];
        }
        let key: String = c[1].chars().filter(|c| !c.is_whitespace()).collect();
        out.push((key, value.trim().to_owned()));
    }
    out
}

/// Reads header fields from the first `max_lines` non-empty lines of a document: `姓名：…`,
/// `单位：…`, `联系点：…`, `日期：…`, any date, `第N天`, and a title (a `标题：` field, or the first
/// short line that is not a field).
pub(crate) fn from_header(text: &str, max_lines: usize) -> Meta {
    let mut m = Meta::default();
    let lines = text
        .lines()
        .map(|l| {
            let mut l = normalize(&tab_pairs(l));
            let end = l.trim_end().len();
            l.truncate(end);
            let start = l.len() - l.trim_start().len();
            l.drain(..start);
            l
        })
        .filter(|l| !l.is_empty())
        .take(max_lines);
    for (i, line) in lines.enumerate() {
        let mut had_field = false;
        for (key, value) in fields(&line) {
            had_field = true;
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "姓名" | "作者" | "记录人" | "走访人" | "调研人" | "蹲点干部" | "撰写人"
                | "报告人" => set(&mut m.author, value),
                "单位" | "工作单位" | "所在单位" => set(&mut m.unit, value),
                "职务" | "级别" if m.level.is_none() => {
                    m.level = Level::from_label(&value);
                }
                "联系点" | "蹲点村" | "蹲点地点" | "蹲点单位" | "地点" => {
                    set(&mut m.place, value)
                }
                "日期" | "时间" if m.date.is_empty() => {
                    m.date = find_date(&value).unwrap_or_default();
                }
                "标题" | "题目" => set(&mut m.title, value),
                _ => {}
            }
        }
        if m.date.is_empty()
            && let Some(d) = find_date(&line)
        {
            m.date = d;
        }
        if m.day.is_none() {
            m.day = find_day(&line);
        }
        if !had_field
            && m.title.is_empty()
            && i < 3
            && line.chars().count() <= 40
            && !line.contains(['。', '，', '！', '？', '；'])
        {
            m.title = line
                .trim_matches(|c: char| c == '#' || c.is_whitespace())
                .to_owned();
        }
    }
    if !m.title.is_empty() {
        m.kind = Kind::from_label(&m.title);
    }
    m
}

fn set(slot: &mut String, value: String) {
    if slot.is_empty() {
        *slot = value;
    }
}

/// A table row from a .docx form: turns `键<TAB>值<TAB>键<TAB>值` into `键：值  键：值` when the keys are header fields.
fn tab_pairs(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('\t') {
        return std::borrow::Cow::Borrowed(line);
    }
    let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
    let mut out = String::new();
    let mut i = 0;
    while i < cells.len() {
        let probe = format!("{}：", cells[i]);
        let is_key = KEY
            .find(&probe)
            .is_some_and(|m| m.start() == 0 && m.end() == probe.len());
        if i + 1 < cells.len() && is_key {
            out.push_str(&format!("{}：{}  ", cells[i], cells[i + 1]));
            i += 2;
        } else {
            out.push_str(cells[i]);
            out.push_str("  ");
            i += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Metadata from a relative path: date and kind from the file name, then from folder names
/// (innermost first); author, unit, level and place only when a path component names a roster
/// cadre — a folder name alone never invents an author.
pub(crate) fn from_path(rel: &str, roster: &[Cadre]) -> Meta {
    let mut m = Meta::default();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in parts.iter().rev() {
        let stem = part.rsplit_once('.').map_or(*part, |(s, _)| s);
        if m.date.is_empty() {
            m.date = find_date(stem).unwrap_or_default();
        }
        if m.kind.is_none() {
            m.kind = Kind::from_label(stem);
        }
        if m.day.is_none() {
            m.day = find_day(stem);
        }
        if m.author.is_empty()
            && let Some(c) = roster
                .iter()
                .find(|c| !c.name.is_empty() && part.contains(&c.name))
        {
            m.author = c.name.clone();
        }
    }
    m
}

/// Metadata a roster line gives for a known author.
pub(crate) fn from_roster(author: &str, roster: &[Cadre]) -> Meta {
    let Some(c) = roster.iter().find(|c| c.name == author) else {
        return Meta::default();
    };
    Meta {
        author: c.name.clone(),
        unit: c.unit.clone(),
        level: c.level,
        place: c.place.clone(),
        ..Meta::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_table() {
        let cases: &[(&str, Meta)] = &[
            (
                "蹲点手记（第3天）\n姓名：张伟  单位：县交通运输局\n日期：2023年9月21日 星期四 晴\n今天走访了5户。",
                Meta {
                    author: "张伟".into(),
                    unit: "县交通运输局".into(),
                    date: "2023-09-21".into(),
                    day: Some(3),
                    title: "蹲点手记（第3天）".into(),
                    kind: Some(Kind::Note),
                    ..Meta::default()
                },
            ),
            (
                "关于石桥村产业发展的蹲点调研报告\n调研人：李娜，单位：白沙镇人民政府，联系点：石桥村\n",
                Meta {
                    author: "李娜".into(),
                    unit: "白沙镇人民政府".into(),
                    place: "石桥村".into(),
                    title: "关于石桥村产业发展的蹲点调研报告".into(),
                    kind: Some(Kind::Report),
                    ..Meta::default()
                },
            ),
            (
                "群众意见建议征求表\n姓名\t王桂兰\t单位\t石桥村三组\n意见\t机耕路要修",
                Meta {
                    author: "王桂兰".into(),
                    unit: "石桥村三组".into(),
                    title: "群众意见建议征求表".into(),
                    kind: Some(Kind::Opinion),
                    ..Meta::default()
                },
            ),
            (
                "今天天气很好，我们走访了很多群众，大家都说好。",
                Meta::default(),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&from_header(text, 12), want, "{text}");
        }
    }

    #[test]
    fn path_cues_and_roster_authors() {
        let roster = vec![Cadre {
            name: "张伟".into(),
            unit: "县委办".into(),
            level: Some(Level::CountyLeader),
            place: "石桥村".into(),
            ..Cadre::default()
        }];
        let m = from_path("张伟_县委副书记/手记/2023-09-21_蹲点手记.txt", &roster);
        assert_eq!(m.author, "张伟");
        assert_eq!(m.date, "2023-09-21");
        assert_eq!(m.kind, Some(Kind::Note));
        let m = from_path("石桥村/第2天.txt", &roster);
        assert_eq!(m.author, "", "a folder name alone never invents an author");
        assert_eq!(m.day, Some(2));
        let r = from_roster("张伟", &roster);
        assert_eq!(r.level, Some(Level::CountyLeader));
        assert_eq!(r.place, "石桥村");
    }

    #[test]
    fn trusted_source_wins() {
        let manifest = Meta {
            author: "张伟".into(),
            ..Meta::default()
        };
        let header = Meta {
            author: "张卫".into(),
            unit: "县委办".into(),
            ..Meta::default()
        };
        let m = manifest.or(&header);
        assert_eq!(m.author, "张伟");
        assert_eq!(m.unit, "县委办");
    }
}
