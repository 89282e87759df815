//! Plain data passed between diaoyan's stages.
//!
//! Every stage reads and writes these structs and nothing else: [`Submission`] (one thing a cadre
//! or a citizen handed in), [`FileError`] (one input file that could not be read, with a Chinese
//! reason), [`Cadre`] (one roster line) and [`TextStats`]. No logic, no engines: a stage crate
//! depends on this one, never on a sibling stage.
//!
//! ```
//! use diaoyan_model::{Kind, Level};
//! assert_eq!(Kind::from_label("蹲点手记"), Some(Kind::Note));
//! assert_eq!(Level::Township.label(), "乡镇领导");
//! ```

use serde::{Deserialize, Serialize};

/// What a submission is. Unknown kinds stay `None` on the submission, never guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 蹲点手记: a daily field note.
    Note,
    /// 蹲点调研报告: the final research report.
    Report,
    /// 走访笔录: a household visit record.
    Visit,
    /// 座谈会记录: forum minutes.
    Minutes,
    /// 谈心记录: a heart-to-heart talk record.
    Talk,
    /// 意见/留言: an opinion form or a message-board row.
    Opinion,
}

impl Kind {
    /// Every kind, in display order.
    pub const ALL: [Kind; 6] = [
        Kind::Note,
        Kind::Report,
        Kind::Visit,
        Kind::Minutes,
        Kind::Talk,
        Kind::Opinion,
    ];

    /// The machine name used in CSV and JSON (`note`, `report`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Note => "note",
            Kind::Report => "report",
            Kind::Visit => "visit",
            Kind::Minutes => "minutes",
            Kind::Talk => "talk",
            Kind::Opinion => "opinion",
        }
    }

    /// The Chinese name a reviewer reads.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Note => "蹲点手记",
            Kind::Report => "调研报告",
            Kind::Visit => "走访笔录",
            Kind::Minutes => "座谈会记录",
            Kind::Talk => "谈心记录",
            Kind::Opinion => "意见建议",
        }
    }

    /// Recognises a kind from a machine name or from Chinese words in a title, file name or
    /// manifest cell (`手记`, `调研报告`, `走访`, `座谈`, `谈心`, `意见`, `留言` …).
    pub fn from_label(s: &str) -> Option<Kind> {
        let s = s.trim();
        for k in Kind::ALL {
            if s.eq_ignore_ascii_case(k.as_str()) {
                return Some(k);
            }
        }
        // Order matters: "座谈会" before "谈心", "走访笔录" before "意见".
        const CUES: &[(&str, Kind)] = &[
            ("手记", Kind::Note),
            ("日记", Kind::Note),
            ("日志", Kind::Note),
            ("调研报告", Kind::Report),
            ("蹲点报告", Kind::Report),
            ("报告", Kind::Report),
            ("笔录", Kind::Visit),
            ("走访记录", Kind::Visit),
            ("走访", Kind::Visit),
            ("座谈", Kind::Minutes),
            ("会议记录", Kind::Minutes),
            ("纪要", Kind::Minutes),
            ("谈心", Kind::Talk),
            ("谈话", Kind::Talk),
            ("征求意见", Kind::Opinion),
            ("意见表", Kind::Opinion),
            ("意见建议", Kind::Opinion),
            ("留言", Kind::Opinion),
        ];
        CUES.iter()
            .find(|(cue, _)| s.contains(cue))
            .map(|&(_, k)| k)
    }
}

/// A cadre's level, which sets the household quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 县级领导 (at least 20 households by default).
    CountyLeader,
    /// 县直部门领导 (at least 30 households by default).
    CountyDept,
    /// 乡镇领导 (at least a third of the village by default).
    Township,
    /// Anyone else.
    Other,
}

impl Level {
    /// The machine name used in CSV and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::CountyLeader => "county_leader",
            Level::CountyDept => "county_dept",
            Level::Township => "township",
            Level::Other => "other",
        }
    }

    /// The Chinese name a reviewer reads.
    pub fn label(self) -> &'static str {
        match self {
            Level::CountyLeader => "县级领导",
            Level::CountyDept => "县直部门领导",
            Level::Township => "乡镇领导",
            Level::Other => "其他",
        }
    }

    /// Recognises a level from a machine name or a Chinese roster cell
    /// (`县级领导`, `县委副书记`, `县直单位`, `局长`, `乡镇`, `镇党委书记` …).
    pub fn from_label(s: &str) -> Option<Level> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        for l in [
            Level::CountyLeader,
            Level::CountyDept,
            Level::Township,
            Level::Other,
        ] {
            if s.eq_ignore_ascii_case(l.as_str()) {
                return Some(l);
            }
        }
        if s.contains("县直") || s.contains("部门") || s.contains("局") || s.contains("单位")
        {
            return Some(Level::CountyDept);
        }
        if s.contains("乡") || s.contains("镇") || s.contains("街道") {
            return Some(Level::Township);
        }
        if s.contains("县") {
            return Some(Level::CountyLeader);
        }
        Some(Level::Other)
    }
}

/// One thing handed in: a document, or one row of a table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// Stable id: a hash of the path, the row ref and the text (16 hex digits).
    pub id: Shared,
    /// Path relative to the input root, `/`-separated; a table row adds `#行N`.
    pub path: Shared,
    /// The row's own id column (编号/留言编号/id) for table rows; empty for documents.
    #[serde(rename = "ref")]
    pub ref_: String,
    /// What it is, when known.
    pub kind: Option<Kind>,
    /// Who wrote or raised it.
    pub author: Shared,
    /// The author's unit (单位).
    pub unit: Shared,
    /// The author's level, when known.
    pub level: Option<Level>,
    /// The contact point, village or place it speaks of.
    pub place: Shared,
    /// The date, `YYYY-MM-DD`, when known.
    pub date: Shared,
    /// The day of the stay (第3天), when stated.
    pub day: Option<u32>,
    /// The title (标题/主题, or the first heading line).
    pub title: String,
    /// The text, decoded, with personal numbers masked. Shared: the suggestions taken from it
    /// read their words in it ([`Excerpt`]) rather than in copies.
    pub text: Shared,
    /// The source encoding (`UTF-8`, `GBK`, `UTF-16LE`, `xlsx` …).
    pub encoding: String,
    /// Likes (点赞数) where the input has them.
    pub likes: Option<u32>,
    /// Dislikes (反对数) where the input has them.
    pub dislikes: Option<u32>,
    /// Non-fatal problems met while reading, in Chinese (e.g. `含 3 个无法解码的字节`).
    pub warnings: Vec<String>,
}

/// The texts of a run's submissions, by position. In memory they are the submissions' own
/// (`&[Submission]` is a `Texts`); a large run moves them out of memory once each text has been
/// read, and later stages read them back one at a time from there.
pub trait Texts: Send + Sync {
    /// The text of submission `i`.
    fn text(&self, i: usize) -> std::borrow::Cow<'_, str>;

    /// Bytes `range` of the text of submission `i` (on character boundaries, as a slice of the
    /// text would be): where the texts are kept out of memory, only those bytes are read.
    fn part(&self, i: usize, range: std::ops::Range<usize>) -> std::borrow::Cow<'_, str> {
        match self.text(i) {
            std::borrow::Cow::Borrowed(t) => std::borrow::Cow::Borrowed(&t[range]),
            std::borrow::Cow::Owned(t) => std::borrow::Cow::Owned(t[range].to_owned()),
        }
    }

    /// The xxh3-128 of the bytes of text `i`, when the holder has it at hand (texts kept out of
    /// memory are hashed as they leave it); `None` when the text is to be hashed where it is.
    /// Copy detection knows each text by it: read back only to be hashed, a 1M run's texts
    /// were read from disk once more for nothing.
    fn digest(&self, _i: usize) -> Option<u128> {
        None
    }
}

impl Texts for &[Submission] {
    fn text(&self, i: usize) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(self[i].text.as_str())
    }
}

/// Where the text of one submission is kept out of memory ([`Texts`]), if it is: its
/// suggestions read their words there ([`Suggestion::read`]) instead of holding a copy each (at
/// 1,000,000 documents the copies were 0.75 GB, held from clustering to the last output). Not
/// data: it is neither written nor compared (any two are equal).
#[derive(Clone, Default)]
pub struct KeptText(Option<(std::sync::Arc<dyn Texts>, u32)>);

impl KeptText {
    /// Text `at` of `texts`.
    pub fn new(texts: std::sync::Arc<dyn Texts>, at: usize) -> KeptText {
        KeptText(Some((
            texts,
            u32::try_from(at).expect("fewer than 4 G submissions"),
        )))
    }

    /// The texts it is kept in and its place among them; `None` when it is not kept anywhere.
    pub fn place(&self) -> Option<(&dyn Texts, usize)> {
        self.0
            .as_ref()
            .map(|(texts, at)| (&**texts as &dyn Texts, *at as usize))
    }
}

impl std::fmt::Debug for KeptText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some((_, at)) => write!(f, "KeptText({at})"),
            None => f.write_str("KeptText(-)"),
        }
    }
}

impl PartialEq for KeptText {
    fn eq(&self, _: &KeptText) -> bool {
        true
    }
}

/// An input file (or table row) that could not be turned into a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileError {
    /// Path relative to the input root.
    pub path: String,
    /// A short Chinese reason category (空文件, 二进制文件, docx 已损坏 …).
    pub reason: String,
    /// Details: what was found, what to do.
    pub detail: String,
}

/// One line of the roster: a cadre and the contact point they stay at.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cadre {
    /// Name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Level, when the roster states it.
    pub level: Option<Level>,
    /// Position as written (县委副书记, 镇长 …).
    pub position: String,
    /// Contact point (联系点).
    pub place: String,
    /// Households at the contact point, when the roster gives the count.
    pub households: Option<u32>,
    /// First day of the stay, `YYYY-MM-DD`, when given.
    pub start: String,
    /// Last day of the stay, `YYYY-MM-DD`, when given.
    pub end: String,
}

/// What the ingest stage found, before any scoring.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IngestOutput {
    /// Every submission, in path order.
    pub submissions: Vec<Submission>,
    /// Every file that could not be read.
    pub errors: Vec<FileError>,
    /// The roster, when the input has one.
    pub roster: Vec<Cadre>,
    /// Files read as metadata (manifest, roster), relative paths.
    pub metadata_files: Vec<String>,
    /// Office lock files (`~$*`) and hidden files that were skipped, relative paths.
    pub skipped: Vec<String>,
    /// Folders under the input that hold diaoyan's own outputs (a `run.json` written by
    /// diaoyan, or the run's output folder): never read as input, relative paths.
    #[serde(default)]
    pub skipped_outputs: Vec<String>,
    /// Files seen under the input (documents, tables, metadata, skipped and failed).
    pub files_seen: usize,
}

/// Per-submission counts from the text stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextStats {
    /// Characters of text (Unicode scalar values).
    pub chars: usize,
    /// Han characters.
    pub han: usize,
    /// Sentences.
    pub sentences: usize,
    /// Words from segmentation, punctuation and spaces excluded.
    pub words: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_chinese() {
        let cases = [
            ("2023-09-21_蹲点手记", Some(Kind::Note)),
            ("张伟蹲点调研报告", Some(Kind::Report)),
            ("走访笔录（第3户）", Some(Kind::Visit)),
            ("石桥村座谈会记录", Some(Kind::Minutes)),
            ("谈心谈话记录", Some(Kind::Talk)),
            ("群众意见建议征求表", Some(Kind::Opinion)),
            ("minutes", Some(Kind::Minutes)),
            ("照片说明", None),
        ];
        for (input, want) in cases {
            assert_eq!(Kind::from_label(input), want, "{input}");
        }
    }

    #[test]
    fn levels_from_chinese() {
        let cases = [
            ("县级领导", Some(Level::CountyLeader)),
            ("县委副书记", Some(Level::CountyLeader)),
            ("县直部门领导", Some(Level::CountyDept)),
            ("县交通运输局局长", Some(Level::CountyDept)),
            ("乡镇领导", Some(Level::Township)),
            ("镇党委书记", Some(Level::Township)),
            ("township", Some(Level::Township)),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(Level::from_label(input), want, "{input}");
        }
    }

    /// Issue 12: a million documents make some 5.6 M suggestions, all held at once through the
    /// clustering; what a submission's suggestions share is held once ([`Source`]).
    #[test]
    fn a_suggestion_holds_its_own_fields_and_shares_its_submissions() {
        use std::mem::size_of;
        assert_eq!(size_of::<std::sync::Arc<Source>>(), 8);
        // One pointer a shared string, and none more for an absent one.
        assert_eq!(size_of::<Shared>(), 8);
        assert_eq!(size_of::<Option<Shared>>(), 8);
        assert_eq!(size_of::<Excerpt>(), 16);
        assert!(
            size_of::<Suggestion>() <= 112,
            "{}",
            size_of::<Suggestion>()
        );
        let source = std::sync::Arc::new(Source {
            submission: "a".into(),
            path: "笔记/张三.docx".into(),
            ..Source::default()
        });
        let text: Shared = "石桥村机耕路塌方两处，建议尽快修复。".into();
        let g = Suggestion {
            id: "0123456789abcdef".into(),
            source: source.clone(),
            places: vec!["石桥村".into()],
            voice: Voice::People,
            empty: false,
            text: Excerpt::of(&text, 0, text.len()),
            start: 0,
            end: text.len() as u32,
            theme_group: "民生".into(),
            theme: "交通运输".into(),
            issue: None,
            topic: None,
        };
        let copies: Vec<Suggestion> = vec![g.clone(); 3];
        assert_eq!(std::sync::Arc::strong_count(&source), 5);
        // Serialised, the shared fields read as the suggestion's own (one flat record) and
        // read back into an equal suggestion.
        let json: serde_json::Value = serde_json::to_value(&copies[0]).unwrap();
        assert_eq!(json["path"], "笔记/张三.docx");
        assert_eq!(json["text"], text.as_str());
        assert!(json.get("source").is_none(), "{json}");
        assert_eq!(serde_json::from_value::<Suggestion>(json).unwrap(), g);
    }

    /// A short id is its string: made in place from a hash as `format!("{:016x}")` makes it,
    /// ordered, compared, printed and serialised as the string; a longer string is refused.
    #[test]
    fn a_short_id_reads_orders_and_serialises_as_its_string() {
        for x in [0, 1, 0xabc, u64::MAX, 0x0123_4567_89ab_cdef, 1 << 63] {
            let id = ShortId::hex(x);
            assert_eq!(id.as_str(), format!("{x:016x}"));
            assert_eq!(id.to_string(), format!("{x:016x}"));
        }
        let mut ids: Vec<ShortId> = ["b", "ab", "a", "", "0123456789abcdef", "ba"]
            .into_iter()
            .map(ShortId::from)
            .collect();
        ids.sort();
        let strs: Vec<&str> = ids.iter().map(|i| i.as_str()).collect();
        assert_eq!(strs, ["", "0123456789abcdef", "a", "ab", "b", "ba"]);
        assert_eq!(ShortId::from("ab"), "ab");
        assert!(ShortId::new("0123456789abcdefX").is_none());
        let id = ShortId::hex(0xfeed);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"000000000000feed\"");
        assert_eq!(serde_json::from_str::<ShortId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<ShortId>("\"0123456789abcdefX\"").is_err());
        assert_eq!(format!("{id:?}"), "\"000000000000feed\"");
    }

    /// A shared string is written as a string and read back the same in a binary format (as
    /// bytes, checked with simdutf8) and in JSON (escapes undone); bytes that are not UTF-8 are
    /// an error, never a panic or a broken `str`; the bytes are those of a `String`.
    #[test]
    fn a_shared_string_reads_back_in_bincode_and_json() {
        let cfg = bincode::config::standard();
        for text in [
            "",
            "走访石桥村三组，机耕路塌方两处。",
            "引号\"与\\反斜杠\n换行",
            "a\u{1F600}b",
        ] {
            let s = Shared::from(text);
            let bytes = bincode::serde::encode_to_vec(&s, cfg).unwrap();
            assert_eq!(bytes, bincode::serde::encode_to_vec(text, cfg).unwrap());
            let (back, used): (Shared, usize) =
                bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
            assert_eq!((back.as_str(), used), (text, bytes.len()));
            let back: Shared = bincode::serde::decode_from_std_read(&mut &bytes[..], cfg).unwrap();
            assert_eq!(back, text);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<Shared>(&json).unwrap(), text);
        }
        assert_eq!(
            serde_json::from_str::<Shared>("\"\\u6751\\\"\"").unwrap(),
            "村\""
        );
        let mut bad = bincode::serde::encode_to_vec("村里", cfg).unwrap();
        bad[2] = 0xff;
        assert!(bincode::serde::decode_from_slice::<Shared, _>(&bad, cfg).is_err());
        assert!(bincode::serde::decode_from_std_read::<Shared, _, _>(&mut &bad[..], cfg).is_err());
    }

    #[test]
    fn an_excerpt_reads_as_its_part_of_the_whole() {
        let whole = Shared::from("走访石桥村三组，机耕路塌方两处。");
        let at = whole.find("机耕路").unwrap();
        let e = Excerpt::of(&whole, at, whole.len());
        assert_eq!(e, "机耕路塌方两处。");
        assert_eq!(e.chars().count(), 8);
        assert_eq!(
            format!("{e}|{e:?}"),
            "机耕路塌方两处。|\"机耕路塌方两处。\""
        );
        assert_eq!(Excerpt::from("机耕路塌方两处。"), e);
        assert_ne!(Excerpt::of(&whole, 0, at), e);
        assert_eq!(Excerpt::of(&whole, 0, 0), "");
        // Detached, it keeps its words and no longer holds the whole text.
        let held = arcstr::ArcStr::strong_count(&whole.0).expect("made at run time");
        let mut own = e.clone();
        assert_eq!(
            arcstr::ArcStr::strong_count(&whole.0).expect("made at run time"),
            held + 1
        );
        own.detach();
        assert_eq!(
            arcstr::ArcStr::strong_count(&whole.0).expect("made at run time"),
            held
        );
        assert_eq!(own, e);
        // Not on a character boundary, or past the end: refused, as slicing would be.
        assert!(std::panic::catch_unwind(|| Excerpt::of(&whole, 1, 3)).is_err());
        assert!(std::panic::catch_unwind(|| Excerpt::of(&whole, 0, whole.len() + 1)).is_err());
    }

    /// A reason's code is one shared copy per code (on a thread), and reads and serialises as
    /// its string.
    #[test]
    fn reason_codes_are_shared() {
        let (a, b) = (Reason::code_of("copied"), Reason::code_of("copied"));
        assert!(arcstr::ArcStr::ptr_eq(&a.0, &b.0));
        assert!(!arcstr::ArcStr::ptr_eq(
            &a.0,
            &Reason::code_of("no_forum").0
        ));
        let r = Reason {
            code: a,
            text: "与另一份材料雷同".into(),
            severity: Verdict::Redo,
        };
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["code"], "copied");
        assert_eq!(serde_json::from_value::<Reason>(json).unwrap(), r);
    }

    /// Texts read back from outside memory: a run whose texts are in a file.
    struct Elsewhere(
        Vec<String>,
        std::sync::Mutex<Vec<(usize, std::ops::Range<usize>)>>,
    );

    impl Texts for Elsewhere {
        fn text(&self, i: usize) -> std::borrow::Cow<'_, str> {
            std::borrow::Cow::Owned(self.0[i].clone())
        }
        fn part(&self, i: usize, range: std::ops::Range<usize>) -> std::borrow::Cow<'_, str> {
            self.1.lock().unwrap().push((i, range.clone()));
            std::borrow::Cow::Owned(self.0[i][range].to_owned())
        }
    }

    /// A suggestion of a text kept out of memory holds only its range and reads its words where
    /// the text is; read as a `&str` it is a mistake, not an empty text.
    #[test]
    fn a_suggestion_of_a_text_kept_out_of_memory_reads_it_there() {
        let texts = ["三组路灯坏了。", "走访石桥村三组，机耕路塌方两处。"];
        let kept = std::sync::Arc::new(Elsewhere(
            texts.iter().map(|t| t.to_string()).collect(),
            Default::default(),
        ));
        let at = texts[1].find("机耕路").unwrap();
        let g = Suggestion {
            id: "0123456789abcdef".into(),
            source: std::sync::Arc::new(Source {
                kept: KeptText::new(kept.clone(), 1),
                ..Source::default()
            }),
            places: Vec::new(),
            voice: Voice::People,
            empty: false,
            text: Excerpt::outside(at, texts[1].len()),
            start: 0,
            end: texts[1].len() as u32,
            theme_group: Shared::default(),
            theme: Shared::default(),
            issue: None,
            topic: None,
        };
        assert!(g.text.is_outside());
        assert_eq!(g.read(), "机耕路塌方两处。");
        assert_eq!(*kept.1.lock().unwrap(), [(1, at..texts[1].len())]);
        // Where it is kept is not a part of the record.
        let mut same = g.clone();
        same.text.detach();
        assert_eq!(same.read(), "机耕路塌方两处。", "nothing to detach");
        assert_eq!(
            g.source,
            std::sync::Arc::new(Source::default()),
            "where a text is kept is not compared"
        );
        assert!(std::panic::catch_unwind(|| g.text.as_str().len()).is_err());
        // An excerpt in memory is not outside, whatever its range.
        let whole = Shared::from(texts[0]);
        assert!(!Excerpt::of(&whole, 3, 6).is_outside());
        assert!(!Excerpt::outside(0, 0).is_outside(), "empty either way");
        assert!(Excerpt::outside(6, 6).is_outside());
        // In memory, the suggestion reads its own words.
        let own = Suggestion {
            text: Excerpt::of(&whole, 0, 6),
            source: std::sync::Arc::new(Source::default()),
            ..g
        };
        assert!(matches!(own.read(), std::borrow::Cow::Borrowed("三组")));
    }
}

/// The office's decision on a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 通过: substantive.
    Pass,
    /// 复核: a reviewer should look.
    Review,
    /// 退回重写: hollow, copied or going through the motions.
    Redo,
}

impl Verdict {
    /// The machine name (`pass`, `review`, `redo`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Review => "review",
            Verdict::Redo => "redo",
        }
    }

    /// The Chinese name a reviewer reads.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "通过",
            Verdict::Review => "复核",
            Verdict::Redo => "退回重写",
        }
    }
}

/// One reason behind a verdict: a Chinese sentence with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable code for machines (`boilerplate`, `no_facts`, `copied`, `placeholders` …): one
    /// of a dozen, shared ([`Reason::code_of`]).
    pub code: Shared,
    /// What a reviewer reads, e.g. `套话句占比 72%（18/25），例：“高度重视……”`.
    pub text: String,
    /// The verdict this reason alone would call for.
    pub severity: Verdict,
}

impl Reason {
    /// `code` as a reason's code: one shared copy of each code a thread has made (a million
    /// documents have some 3.5 M reasons, a code of their own each was 40 bytes).
    pub fn code_of(code: &'static str) -> Shared {
        thread_local! {
            static CODES: std::cell::RefCell<Vec<(&'static str, Shared)>> =
                const { std::cell::RefCell::new(Vec::new()) };
        }
        CODES.with_borrow_mut(|codes| {
            if let Some((_, c)) = codes.iter().find(|(k, _)| *k == code) {
                return c.clone();
            }
            let c = Shared::from(code);
            codes.push((code, c.clone()));
            c
        })
    }
}

/// The measured signals of one submission (computed once, then judged).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    /// Characters.
    pub chars: usize,
    /// Sentences.
    pub sentences: usize,
    /// Sentences judged boilerplate (套话).
    pub boilerplate_sentences: usize,
    /// Sentences stating at least one finding about the place.
    pub concrete_sentences: usize,
    /// Process sentences (logistics, method talk: who went, visits, meetings, forms).
    #[serde(default)]
    pub process_sentences: usize,
    /// Sentiment sentences (feelings, scenery, praise).
    #[serde(default)]
    pub sentiment_sentences: usize,
    /// Local figures with a unit (户, 人, 亩, 元 …), not counts of the work itself.
    #[serde(default)]
    pub local_figures: usize,
    /// Distinct named places (石桥村, 三组), masked ones (xx村) apart.
    #[serde(default)]
    pub named_places: usize,
    /// Distinct named people (full names, not 老张).
    #[serde(default)]
    pub named_persons: usize,
    /// Stock names with no place (老张, 张大爷).
    #[serde(default)]
    pub stock_names: usize,
    /// Sentences naming a specific problem pinned to a place, person, figure or object.
    #[serde(default)]
    pub problem_sentences: usize,
    /// Blanked figures (xx户, ***元).
    #[serde(default)]
    pub blank_figures: usize,
    /// Whether the text is a reply letter (答复函: salutation, 已收悉, 现回复如下 …), whose
    /// account of what was done is its substance, not process talk.
    #[serde(default)]
    pub reply_letter: bool,
    /// Letter formula sentences of a reply letter (您好, 已收悉, 感谢…, the date): not counted
    /// in `sentences`.
    #[serde(default)]
    pub formula_sentences: usize,
    /// Suggestion sentences (建议/希望/反映 …).
    pub suggestions: usize,
    /// Suggestion sentences that name something concrete.
    pub concrete_suggestions: usize,
    /// Findings: local figures, named places and people with their situation, specific problems.
    pub facts: usize,
    /// Findings per 1,000 characters.
    pub facts_per_k: f64,
    /// Moving-average type/token ratio of content words (0–1).
    pub diversity: f64,
    /// Sentences repeating an earlier sentence of the same text.
    pub repeated_sentences: usize,
    /// Template blanks left unfilled (xx户, x月x日 …).
    pub placeholders: usize,
    /// Masked names (某某, ***), which are not a defect on their own.
    pub masked_names: usize,
    /// Length against the median of the same kind in the run (1.0 = median).
    pub length_ratio: f64,
    /// Share of this text found in an earlier or reference text (0–1).
    pub copied_share: f64,
}

/// The judgement of one submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// The submission id.
    pub id: Shared,
    /// 0–100, more substance = higher.
    pub score: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// Reasons, most severe first.
    pub reasons: Vec<Reason>,
    /// The signals the verdict was judged from.
    pub signals: Signals,
}

/// Who copied whom in a pair of similar texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyDirection {
    /// `a` copied from `b` (later date, or `b` is a reference text).
    AFromB,
    /// `b` copied from `a`.
    BFromA,
    /// Cannot tell: both are flagged.
    Mutual,
}

/// A pair of submissions (or a submission and a reference text) sharing text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyPair {
    /// First submission id.
    pub a: String,
    /// Second id (a submission, or `ref:` + path for a reference text).
    pub b: String,
    /// Path of `a`.
    pub path_a: String,
    /// Path of `b`.
    pub path_b: String,
    /// Author of `a`.
    pub author_a: String,
    /// Author of `b`.
    pub author_b: String,
    /// Whether `b` is a reference text (template, last year's report).
    pub b_is_reference: bool,
    /// Jaccard similarity of the character shingle sets.
    pub similarity: f64,
    /// Share of `a`'s shingles found in `b`.
    pub containment_a: f64,
    /// Share of `b`'s shingles found in `a`.
    pub containment_b: f64,
    /// Characters of `a` in passages shared with `b`.
    pub shared_chars: usize,
    /// Characters of `b` in passages shared with `a`.
    pub shared_chars_b: usize,
    /// The longest shared passage, as it reads in `a`.
    pub excerpt: String,
    /// Who copied whom.
    pub direction: CopyDirection,
}

/// The campaign-rule check of one cadre.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CadreReport {
    /// Name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Level, when known.
    pub level: Option<Level>,
    /// Contact point.
    pub place: String,
    /// First and last day of the stay (`YYYY-MM-DD`), when known.
    pub stay: Option<(String, String)>,
    /// Days of the stay.
    pub days: usize,
    /// Daily notes handed in.
    pub notes: usize,
    /// Days of the stay with no note.
    pub missing_dates: Vec<String>,
    /// Households visited (distinct heads in visit records, or counts stated in notes).
    pub households: usize,
    /// The household quota for the cadre's level, when it can be set.
    pub quota: Option<usize>,
    /// 四必到/五必访 categories reached.
    pub categories_reached: Vec<String>,
    /// Categories never mentioned in visit records or notes.
    pub categories_missing: Vec<String>,
    /// Forums held: (path, distinct speakers).
    pub forums: Vec<(String, usize)>,
    /// Submissions by this cadre.
    pub submissions: usize,
    /// Submissions sent back (redo).
    pub redo: usize,
    /// The verdict on the cadre's stay as a whole.
    pub verdict: Option<Verdict>,
    /// Reasons.
    pub reasons: Vec<Reason>,
}

/// What makes a string type of ours read as a `&str` (its `as_str`) — deref, display, debug,
/// comparison with `str`/`&str`/`String` — and serialise exactly as a `String` does (read back
/// through its `From<String>`): [`Shared`] and [`Excerpt`].
macro_rules! reads_as_str {
    ($t:ty) => {
        impl std::ops::Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(self.as_str(), f)
            }
        }

        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<String> for $t {
            fn eq(&self, other: &String) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Made from the bytes read where the format lends them (one copy, not a
                // `String` and then the shared copy).
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $t;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<$t, E> {
                        Ok(<$t>::from(s))
                    }
                    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<$t, E> {
                        Ok(<$t>::from(s))
                    }
                    fn visit_bytes<E: serde::de::Error>(self, b: &[u8]) -> Result<$t, E> {
                        simdutf8::basic::from_utf8(b)
                            .map(<$t>::from)
                            .map_err(|_| E::invalid_value(serde::de::Unexpected::Bytes(b), &self))
                    }
                }
                // A binary format (the run's caches, bincode) writes a string as its bytes:
                // read as bytes, they are checked with simdutf8 (std's check of Chinese text
                // was most of the time a 1M re-run spent decoding the kept files' texts, 1.7 GB).
                // A text format (JSON) hands over a string, escapes undone.
                if d.is_human_readable() {
                    d.deserialize_str(Visitor)
                } else {
                    d.deserialize_bytes(Visitor)
                }
            }
        }
    };
}

/// An immutable string shared by reference: a submission's texts and the fields its suggestions
/// repeat ([`Source`]), the few theme names, issue and topic ids. One copy instead of one per
/// suggestion: at 1,000,000 documents the suggestions held these fields some six million
/// times. Reads as a `&str`; serialises exactly as a `String` does.
///
/// One pointer wide ([`arcstr::ArcStr`] keeps the length beside the count, in the shared
/// block), where an `Arc<str>` is two: a suggestion holds five of them (its text's, theme group,
/// theme, issue, topic), 5.6 M suggestions at 1,000,000 documents.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shared(arcstr::ArcStr);

impl Shared {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

reads_as_str!(Shared);

impl std::borrow::Borrow<str> for Shared {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Shared {
    fn from(s: &str) -> Self {
        Shared(s.into())
    }
}

impl From<String> for Shared {
    fn from(s: String) -> Self {
        Shared(s.into())
    }
}

impl From<&String> for Shared {
    fn from(s: &String) -> Self {
        Shared(s.as_str().into())
    }
}

impl From<Shared> for String {
    fn from(s: Shared) -> Self {
        s.as_str().to_owned()
    }
}

impl PartialEq<Shared> for String {
    fn eq(&self, other: &Shared) -> bool {
        self.as_str() == &*other.0
    }
}

impl PartialEq<Shared> for str {
    fn eq(&self, other: &Shared) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Shared> for &str {
    fn eq(&self, other: &Shared) -> bool {
        *self == &*other.0
    }
}

/// A part of a shared text — a suggestion's words inside its submission's text — without a
/// copy of the words: at 1,000,000 documents the copies of 5.6 M suggestions were ~0.7 GB.
/// Reads as a `&str`; serialises exactly as a `String` does (and reads back as a whole text
/// of its own).
///
/// A large run keeps its texts out of memory: an excerpt there is only a byte range
/// ([`Excerpt::outside`]), read through its suggestion ([`Suggestion::read`]); reading it as a
/// `&str` is a mistake in the program and panics.
#[derive(Clone, Default)]
pub struct Excerpt {
    whole: Shared,
    start: u32,
    end: u32,
}

impl Excerpt {
    /// `whole[start..end]`. Panics unless that is a part of `whole` on character boundaries
    /// below 4 GiB, as `&whole[start..end]` would.
    pub fn of(whole: &Shared, start: usize, end: usize) -> Excerpt {
        let _ = &whole[start..end];
        Excerpt {
            whole: whole.clone(),
            start: text_offset(start),
            end: text_offset(end),
        }
    }

    /// Bytes `start..end` of a text kept out of memory: a range, no words.
    pub fn outside(start: usize, end: usize) -> Excerpt {
        assert!(start <= end, "a range of a text");
        Excerpt {
            whole: Shared::default(),
            start: text_offset(start),
            end: text_offset(end),
        }
    }

    /// Whether it is a range of a text kept out of memory ([`Excerpt::outside`]). (An empty
    /// range at the start reads as an empty text either way.)
    pub fn is_outside(&self) -> bool {
        self.end as usize > self.whole.len()
    }

    /// Its byte range in its text.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The text. Panics for a range of a text kept out of memory ([`Excerpt::outside`]).
    pub fn as_str(&self) -> &str {
        assert!(
            !self.is_outside(),
            "an excerpt of a text kept out of memory is read through its suggestion (Suggestion::read)"
        );
        &self.whole[self.start as usize..self.end as usize]
    }

    /// Keeps a copy of its own words instead, so that the whole text can be let go once
    /// nothing else holds it (a range of a text kept out of memory holds none already).
    pub fn detach(&mut self) {
        if !self.is_outside() && (self.start != 0 || self.end as usize != self.whole.len()) {
            *self = Excerpt::from(self.as_str());
        }
    }
}

impl From<&str> for Excerpt {
    fn from(s: &str) -> Self {
        Excerpt::from(Shared::from(s))
    }
}

impl From<String> for Excerpt {
    fn from(s: String) -> Self {
        Excerpt::from(Shared::from(s))
    }
}

impl From<Shared> for Excerpt {
    fn from(whole: Shared) -> Self {
        let end = whole.len();
        Excerpt::of(&whole, 0, end)
    }
}

reads_as_str!(Excerpt);

impl PartialEq for Excerpt {
    fn eq(&self, other: &Excerpt) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Excerpt {}

/// Whose words a suggestion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Voice {
    /// What the people said (visit records, forum speakers, 群众反映…, opinion rows).
    People,
    /// The cadre's own proposal or finding.
    Cadre,
}

impl Voice {
    /// The Chinese name a reviewer reads.
    pub fn label(self) -> &'static str {
        match self {
            Voice::People => "群众",
            Voice::Cadre => "干部",
        }
    }
}

/// What every suggestion of one submission repeats, held once per submission and shared by
/// its suggestions ([`Suggestion::source`]): at 1,000,000 documents 5.6 M suggestions each
/// held these eight fields themselves (128 bytes a suggestion as shared strings).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The submission it comes from.
    pub submission: Shared,
    /// The submission's path.
    pub path: Shared,
    /// Author of the submission (a cadre, or the citizen for an opinion row).
    pub author: Shared,
    /// Unit.
    pub unit: Shared,
    /// Place: the submission's place (contact point, village).
    pub place: Shared,
    /// The subject line it was given: a table row's 留言主题 / 标题 (empty for prose documents,
    /// whose title is the document's, not the suggestion's).
    #[serde(default)]
    pub subject: Shared,
    /// Date `YYYY-MM-DD`, when known.
    pub date: Shared,
    /// Likes, for opinion rows that have them.
    pub likes: u32,
    /// Why its suggestions were not clustered (the submission was sent back as hollow or
    /// copied), if so.
    pub excluded: Option<Shared>,
    /// Where the submission's text is, when a large run keeps it out of memory: its
    /// suggestions' words are read there ([`Suggestion::read`]). Not written.
    #[serde(skip)]
    pub kept: KeptText,
}

impl Source {
    /// The record of submission `s` for its suggestions: its id, path, author, unit, place,
    /// date (the submission's own shared strings, not copies) and likes; no subject line, not
    /// left out of the clustering.
    pub fn of(s: &Submission) -> Source {
        Source {
            submission: s.id.clone(),
            path: s.path.clone(),
            author: s.author.clone(),
            unit: s.unit.clone(),
            place: s.place.clone(),
            subject: Shared::default(),
            date: s.date.clone(),
            likes: s.likes.unwrap_or(0),
            excluded: None,
            kept: KeptText::default(),
        }
    }
}

/// A byte offset in a text as the model keeps it: texts are held below 4 GiB ([`Excerpt`],
/// a suggestion's span). Panics on a larger offset.
pub fn text_offset(x: usize) -> u32 {
    u32::try_from(x).expect("a text below 4 GiB")
}

/// Why a file could not be read, as a reviewer reads it: the common cases in
/// Chinese, any other in the system's own words.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "文件不存在".into(),
        std::io::ErrorKind::PermissionDenied => "没有读取权限".into(),
        _ => e.to_string(),
    }
}

/// A short id held in place, without an allocation: a suggestion's 16 hexadecimal digits (at
/// most [`ShortId::MAX`] bytes). At a million documents the 5.6 M suggestions' ids as `String`s
/// took 40 bytes each (24 in place, 16 on the heap). Reads as `&str`, serialises as a string,
/// orders as its string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ShortId {
    len: u8,
    bytes: [u8; ShortId::MAX],
}

impl ShortId {
    /// The longest id, in bytes.
    pub const MAX: usize = 16;

    /// `s` as an id; `None` when it is longer than [`ShortId::MAX`] bytes.
    pub fn new(s: &str) -> Option<ShortId> {
        (s.len() <= Self::MAX).then(|| {
            let mut bytes = [0; Self::MAX];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            ShortId {
                len: s.len() as u8,
                bytes,
            }
        })
    }

    /// `x` in 16 lower-case hexadecimal digits (`format!("{x:016x}")`), made in place.
    pub fn hex(x: u64) -> ShortId {
        let mut bytes = [0; Self::MAX];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = b"0123456789abcdef"[(x >> (60 - 4 * i) & 0xf) as usize];
        }
        ShortId {
            len: Self::MAX as u8,
            bytes,
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).expect("made from a str")
    }
}

impl From<&str> for ShortId {
    /// Panics when `s` is longer than [`ShortId::MAX`] bytes (ids are made by the suggester, or
    /// written in tests).
    fn from(s: &str) -> ShortId {
        ShortId::new(s).unwrap_or_else(|| panic!("an id of at most {} bytes: {s}", Self::MAX))
    }
}

impl std::ops::Deref for ShortId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialOrd for ShortId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ShortId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialEq<str> for ShortId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ShortId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Debug for ShortId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for ShortId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ShortId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ShortId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<ShortId, D::Error> {
        let s = String::deserialize(d)?;
        ShortId::new(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("编号过长（至多 {} 字节）：{s}", Self::MAX))
        })
    }
}

/// One opinion, problem or suggestion taken from a submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Stable id (hash of submission id and span).
    pub id: ShortId,
    /// Its submission and what it says of it (shared by the submission's suggestions).
    #[serde(flatten)]
    pub source: std::sync::Arc<Source>,
    /// Named places the suggestion's own text (or a table row's subject) names, in order
    /// (暮云街道, 丽发新城小区): a sheet's place column is often empty when the message names one.
    /// Shared: a run's suggestions name a few thousand places millions of times.
    #[serde(default)]
    pub places: Vec<Shared>,
    /// Whose words.
    pub voice: Voice,
    /// It stands wholly in sentences that state nothing about the place and ask for nothing —
    /// 套话 and feelings, as scoring read them: the writer's prose, not an opinion. Kept and
    /// searchable, not clustered into an issue.
    #[serde(default)]
    pub empty: bool,
    /// The text.
    pub text: Excerpt,
    /// Byte span in the submission's text.
    pub start: u32,
    /// End of the span.
    pub end: u32,
    /// Theme group (四风, 民生 …), empty when unclassified.
    pub theme_group: Shared,
    /// Theme (形式主义, 交通运输 …) or 未归类.
    pub theme: Shared,
    /// The recurring issue it belongs to, when clustered.
    pub issue: Option<Shared>,
    /// The topic (专题) it belongs to, through its issue or its subject.
    #[serde(default)]
    pub topic: Option<Shared>,
}

/// Why a suggestion that [`Suggestion::empty`] marks is not clustered.
pub const EMPTY_NOTE: &str = "只有套话或感受，不计入问题清单";

impl Suggestion {
    /// Why it is left out of the issue lists, if it is: its submission was sent back, or it
    /// says nothing about the place ([`EMPTY_NOTE`]).
    pub fn left_out(&self) -> Option<&str> {
        match &self.source.excluded {
            Some(why) => Some(why),
            None => self.empty.then_some(EMPTY_NOTE),
        }
    }

    /// Its text: its own, or read back from where a large run keeps its submission's text
    /// ([`Source::kept`]).
    pub fn read(&self) -> std::borrow::Cow<'_, str> {
        match self.kept() {
            Some((texts, at, range)) => texts.part(at, range),
            None => std::borrow::Cow::Borrowed(self.text.as_str()),
        }
    }

    /// Where its text is kept out of memory: the texts, its submission's place among them and
    /// its byte range there; `None` when its words are at hand.
    pub fn kept(&self) -> Option<(&dyn Texts, usize, std::ops::Range<usize>)> {
        if !self.text.is_outside() {
            return None;
        }
        let (texts, at) = self
            .source
            .kept
            .place()
            .expect("a suggestion whose text is kept out of memory knows where");
        Some((texts, at, self.text.range()))
    }

    /// Where it is about: the submission's place, or else the places the suggestion itself names.
    pub fn place_names(&self) -> Vec<&str> {
        if self.source.place.is_empty() {
            self.places.iter().map(Shared::as_str).collect()
        } else {
            vec![self.source.place.as_str()]
        }
    }
}

/// The parts of an issue's heat (0–100), each shown to the reviewer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Heat {
    /// The total.
    pub total: f64,
    /// Distinct people who raised it.
    pub people: usize,
    /// Distinct places.
    pub places: usize,
    /// Distinct units.
    pub units: usize,
    /// Share of mentions in the busiest 7 days (0–1).
    pub concentration: f64,
    /// Likes.
    pub likes: u32,
}

/// A recurring issue: suggestions that raise the same concrete problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// Id (`I0001` … by heat).
    pub id: String,
    /// Title: a representative subject line, as a person would write it (石桥村三组机耕路塌方).
    pub title: String,
    /// Key terms, e.g. `石桥村 / 机耕路 / 塌方`.
    #[serde(default)]
    pub keywords: String,
    /// The topic (专题) it belongs to.
    #[serde(default)]
    pub topic: Option<String>,
    /// The most central suggestion.
    pub central: String,
    /// Theme group.
    pub theme_group: String,
    /// Theme.
    pub theme: String,
    /// Heat and its parts.
    pub heat: Heat,
    /// Mentions (member suggestions).
    pub mentions: usize,
    /// Distinct submissions.
    pub submissions: usize,
    /// Places, most frequent first.
    pub places: Vec<String>,
    /// First date.
    pub first: String,
    /// Last date.
    pub last: String,
    /// Up to three example suggestions (distinct texts, most central first).
    pub examples: Vec<String>,
    /// Member suggestion ids.
    pub members: Vec<ShortId>,
}

/// A topic (专题): a policy, a facility or a programme (人才购房补贴, 某搅拌站, 农村饮水) that groups
/// concrete issues and the unclustered suggestions sharing their subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    /// Id (`T0001` … by heat).
    pub id: String,
    /// Title: a representative subject line.
    pub title: String,
    /// The words that hold it together (人才 / 购房补贴).
    pub keywords: String,
    /// Theme group.
    pub theme_group: String,
    /// Theme (the most common among its suggestions).
    pub theme: String,
    /// Heat and its parts, over all its suggestions.
    pub heat: Heat,
    /// Mentions (member suggestions).
    pub mentions: usize,
    /// Distinct submissions.
    pub submissions: usize,
    /// Places, most frequent first.
    pub places: Vec<String>,
    /// First date.
    pub first: String,
    /// Last date.
    pub last: String,
    /// Member issues, hottest first.
    pub issues: Vec<String>,
    /// Up to three example suggestions (most central first).
    pub examples: Vec<String>,
    /// Member suggestion ids (in issues or not).
    pub members: Vec<ShortId>,
}

/// What a reviewer's decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionTarget {
    /// A submission, by its stable id.
    Submission,
    /// An issue (问题), by its id in the run it was made on and, across runs, its members.
    Issue,
}

/// What a reviewer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionAction {
    /// The machine's verdict stands (确认).
    Confirm,
    /// The verdict is replaced by the reviewer's (改判), with a note.
    Override,
    /// An issue is handled (已处理).
    Handled,
    /// An earlier decision is withdrawn (撤销).
    Withdraw,
}

/// One reviewer decision, a line of `OUT/decisions.jsonl`. The latest line for a target wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Submission or issue.
    pub target: DecisionTarget,
    /// The submission's stable id, or the issue id in the run it was made on.
    pub id: String,
    /// What was decided.
    pub action: DecisionAction,
    /// The reviewer's verdict (an override's new verdict; a confirmation's machine verdict).
    #[serde(default)]
    pub verdict: Option<Verdict>,
    /// The machine's verdict when the decision was made.
    #[serde(default)]
    pub machine: Option<Verdict>,
    /// The reviewer's note.
    #[serde(default)]
    pub note: String,
    /// Who decided (as the reviewer typed their name), or empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reviewer: String,
    /// When (RFC 3339).
    pub at: String,
    /// What it was about, for a reader of the file and for reporting a decision whose target
    /// is gone: the submission's file, or the issue's title.
    #[serde(default)]
    pub about: String,
    /// An issue's member suggestion ids (stable), to find the issue again after a re-run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

impl Decision {
    /// What a reviewer reads: 确认退回重写 / 改为通过（备注；审核人 张三）/ 已处理 / 已撤销.
    pub fn label(&self) -> String {
        let v = self.verdict.map_or("", Verdict::label);
        let who = format!("审核人 {}", self.reviewer.trim());
        let parts: Vec<&str> = [
            self.note.trim(),
            if self.reviewer.trim().is_empty() {
                ""
            } else {
                &who
            },
        ]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
        let note = if parts.is_empty() {
            String::new()
        } else {
            format!("（{}）", parts.join("；"))
        };
        match self.action {
            DecisionAction::Confirm => format!("确认{v}{note}"),
            DecisionAction::Override => format!("改为{v}{note}"),
            DecisionAction::Handled => format!("已处理{note}"),
            DecisionAction::Withdraw => "已撤销".to_owned(),
        }
    }

    /// The verdict that holds after this decision, if it sets one.
    pub fn verdict_now(&self) -> Option<Verdict> {
        match self.action {
            DecisionAction::Confirm | DecisionAction::Override => self.verdict,
            _ => None,
        }
    }
}
