//! The query language a reviewer types or pastes: words (all must appear), `OR` between words,
//! `-word` (must not appear), `"a phrase"` (also “中文引号”), and `field:value` filters. Nothing
//! fails to parse: what does not fit the syntax is searched as plain words and a note says so.

/// A filter field a query may name (`主题:交通运输`, `place:石桥村`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldName {
    /// 作者.
    Author,
    /// 单位.
    Unit,
    /// 地点.
    Place,
    /// 主题 or 主题大类.
    Theme,
    /// 来源: 群众 / 干部.
    Voice,
    /// 问题编号.
    Issue,
    /// 专题编号.
    Topic,
    /// 材料类型.
    Kind,
    /// 结论: 通过 / 复核 / 退回.
    Verdict,
    /// 干部级别.
    Level,
}

impl FieldName {
    /// Every field with the names a query may use for it (English, then Chinese).
    pub const NAMES: [(FieldName, &'static [&'static str]); 10] = [
        (FieldName::Author, &["author", "作者", "姓名"]),
        (FieldName::Unit, &["unit", "单位"]),
        (FieldName::Place, &["place", "地点"]),
        (FieldName::Theme, &["theme", "主题"]),
        (FieldName::Voice, &["voice", "来源"]),
        (FieldName::Issue, &["issue", "问题"]),
        (FieldName::Topic, &["topic", "专题"]),
        (FieldName::Kind, &["kind", "类型"]),
        (FieldName::Verdict, &["verdict", "结论"]),
        (FieldName::Level, &["level", "级别"]),
    ];

    /// The field called `name`, if any.
    pub fn from_name(name: &str) -> Option<FieldName> {
        let name = name.trim();
        FieldName::NAMES
            .iter()
            .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
            .map(|(f, _)| *f)
    }
}

/// One thing that must (or must not) appear: a word as typed or a quoted phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The text.
    pub text: String,
    /// A quoted phrase: matched as written, not cut into words.
    pub phrase: bool,
}

/// A parsed query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Groups that must all match; a group matches when any of its terms does (`a OR b`).
    pub all: Vec<Vec<Term>>,
    /// Terms that must not appear.
    pub not: Vec<Term>,
    /// Field filters, in the order given.
    pub fields: Vec<(FieldName, String)>,
    /// What was not understood as syntax and was searched as plain words, in Chinese.
    pub notes: Vec<String>,
}

impl Parsed {
    /// Every positive term (for marking snippets).
    pub fn positive(&self) -> impl Iterator<Item = &Term> {
        self.all.iter().flatten()
    }
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{3000}'
}

/// Splits `q` into tokens: runs of non-space, and quoted phrases (`"…"`, `“…”`, `「…」`).
/// Returns `(token, quoted)`; an unclosed quote is a note and its text plain words.
fn tokens(q: &str, notes: &mut Vec<String>) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = q.chars().peekable();
    while let Some(c) = chars.next() {
        let close = match c {
            '"' => Some('"'),
            '“' => Some('”'),
            '「' => Some('」'),
            '＂' => Some('＂'),
            _ => None,
        };
        if let Some(close) = close {
            let rest: String = chars.clone().collect();
            if let Some(end) = rest.find(close) {
                if !cur.is_empty() {
                    out.push((std::mem::take(&mut cur), false));
                }
                let phrase = rest[..end].trim().to_owned();
                if !phrase.is_empty() {
                    out.push((phrase, true));
                }
                let skip = rest[..end].chars().count() + 1;
                for _ in 0..skip {
                    chars.next();
                }
            } else {
                notes.push(format!("引号 {c} 没有配对，已按普通词语检索"));
            }
            continue;
        }
        if is_space(c) {
            if !cur.is_empty() {
                out.push((std::mem::take(&mut cur), false));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push((cur, false));
    }
    out
}

/// Parses a query. Never fails.
pub fn parse(q: &str) -> Parsed {
    let mut p = Parsed::default();
    let toks = tokens(q, &mut p.notes);
    let mut join_next = false;
    let n = toks.len();
    for (i, (tok, quoted)) in toks.into_iter().enumerate() {
        if !quoted && (tok == "OR" || tok == "|" || tok == "｜") {
            if p.all.is_empty() || i + 1 == n {
                p.notes.push(format!("“{tok}”两边要各有一个词，已忽略"));
            } else {
                join_next = true;
            }
            continue;
        }
        let mut term = Term {
            text: tok,
            phrase: quoted,
        };
        if !quoted {
            // -word: must not appear.
            if let Some(rest) = term.text.strip_prefix(['-', '－'])
                && !rest.is_empty()
                && !rest.starts_with(['-', '－'])
            {
                p.not.push(Term {
                    text: rest.to_owned(),
                    phrase: false,
                });
                join_next = false;
                continue;
            }
            // field:value.
            if let Some((name, value)) = term.text.split_once([':', '：']) {
                match FieldName::from_name(name) {
                    Some(f) if !value.trim().is_empty() => {
                        p.fields.push((f, value.trim().to_owned()));
                        join_next = false;
                        continue;
                    }
                    Some(_) => {
                        p.notes.push(format!("“{name}:”后面没有值，已忽略"));
                        join_next = false;
                        continue;
                    }
                    None if name.chars().all(|c| c.is_ascii_alphabetic()) && !name.is_empty() => {
                        p.notes.push(format!(
                            "“{name}”不是可用的字段（可用：{}），“{}”已按普通词语检索",
                            field_list(),
                            term.text
                        ));
                    }
                    None => {}
                }
                // Pasted text such as 备注：… is plain words (the punctuation is ignored).
                term.text = term.text.replace([':', '：'], " ");
            }
        }
        if join_next {
            if let Some(last) = p.all.last_mut() {
                last.push(term);
            }
            join_next = false;
        } else {
            p.all.push(vec![term]);
        }
    }
    p
}

/// The field names a query may use, for messages.
pub fn field_list() -> String {
    FieldName::NAMES
        .iter()
        .map(|(_, n)| format!("{}/{}", n[1], n[0]))
        .collect::<Vec<_>>()
        .join("、")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(t: &str) -> Term {
        Term {
            text: t.into(),
            phrase: false,
        }
    }

    #[test]
    fn words_or_not_phrases_and_fields() {
        let p = parse(r#"机耕路 塌方 OR 损毁 -石桥村 "道路 硬化" 主题:交通运输 place：河口村"#);
        assert_eq!(
            p.all,
            vec![
                vec![word("机耕路")],
                vec![word("塌方"), word("损毁")],
                vec![Term {
                    text: "道路 硬化".into(),
                    phrase: true
                }],
            ]
        );
        assert_eq!(p.not, vec![word("石桥村")]);
        assert_eq!(
            p.fields,
            vec![
                (FieldName::Theme, "交通运输".into()),
                (FieldName::Place, "河口村".into())
            ]
        );
        assert!(p.notes.is_empty(), "{:?}", p.notes);
    }

    #[test]
    fn chinese_quotes_are_phrases() {
        let p = parse("“四风”问题 「形式主义」");
        assert_eq!(p.all.len(), 3);
        assert!(p.all[0][0].phrase && p.all[0][0].text == "四风");
        assert_eq!(p.all[1][0], word("问题"));
        assert!(p.all[2][0].phrase);
    }

    #[test]
    fn pasted_text_never_fails_and_says_what_was_taken_as_words() {
        for q in [
            "\"未闭合的引号 机耕路",
            "OR",
            "机耕路 OR",
            "备注：机耕路（三组）【急】",
            "color:red",
            "-",
            "--",
            "：：",
            "a:",
            "“",
            "（）【】《》",
            "",
        ] {
            let _ = parse(q);
        }
        let p = parse("\"未闭合 机耕路");
        assert!(p.notes[0].contains("没有配对"), "{:?}", p.notes);
        assert_eq!(p.all, vec![vec![word("未闭合")], vec![word("机耕路")]]);
        let p = parse("备注：机耕路");
        assert_eq!(p.all, vec![vec![word("备注 机耕路")]]);
        assert!(p.notes.is_empty());
        let p = parse("color:red");
        assert!(p.notes[0].contains("不是可用的字段"), "{:?}", p.notes);
        assert_eq!(p.all, vec![vec![word("color red")]]);
        let p = parse("OR 机耕路");
        assert!(p.notes[0].contains("两边"));
        assert_eq!(p.all, vec![vec![word("机耕路")]]);
        // A lone dash is a word, not a negation.
        assert_eq!(parse("--").all, vec![vec![word("--")]]);
    }
}
