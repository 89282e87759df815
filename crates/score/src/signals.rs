//! Per-text signals: every sentence read for its facts and role (see `findings`), then counted.

use crate::findings::{Role, Roles, Scan, read_sentence};
use crate::lexicon::{Boilerplate, Concrete};
use crate::scan::per_sentence;
use diaoyan_model::Signals;
use diaoyan_text::{Segmenter, Tagged, is_text_char, sentences};
use regex::Regex;
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::LazyLock;

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[xX×]{1,4}(?:万元|产业|工作|[户人亩元%村镇乡个月日年天次部组名])")
        .expect("static regex")
});
/// What every match of [`PLACEHOLDER`] holds one of.
const PLACEHOLDER_MARKS: &[&str] = &["x", "X", "×"];
/// What every match of [`MASKED`] holds one of.
const MASKED_MARKS: &[&str] = &["某", "**"];
static MASKED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"某某|\*{2,}|[\p{Han}][某]").expect("static regex"));
static SUGGESTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"建议|希望|盼望|期盼|期望|呼吁|要求|诉求|反映|盼着|恳请|请求")
        .expect("static regex")
});

/// The opening of a reply letter (答复函): a salutation to the writer or an acknowledgement.
static REPLY_OPENING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"收悉|(?:回复|答复|反馈|函复)如下|^\W{0,3}(?:网友|尊敬的)|^[^“"「]{0,40}(?:您|你)好|^\W{0,3}[“"][^”"]{0,30}[”"]\W{0,3}(?:您|你)好|(?:您|你)所?(?:反映|反应|来信|留言|咨询)|网民|来帖|该帖|帖文|网帖|来函|函件"#,
    )
        .expect("static regex")
});
/// A formula sentence of a reply letter: salutation, acknowledgement, thanks, sign-off, date.
static REPLY_FORMULA: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"您好|你好|收悉|如下[：:]?$|感谢|谢谢|欢迎|此致|敬礼|祝您|^\W{0,3}网友|^尊敬的|^\d{4}年\d{1,2}月\d{1,2}日\W*$",
    )
    .expect("static regex")
});
/// The closing thanks of a reply letter, however long (感谢您对…的关注，如有疑问请致电…).
static REPLY_THANKS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^\W{0,3}(?:[“"][^”"]{0,30}[”"]\W{0,3})?(?:在此|首先|再次|最后|同时)?\W?(?:衷心|真诚|非常|十分)?(?:地|的)?(?:感谢|谢谢)"#)
        .expect("static regex")
});
/// Longest formula sentence (characters): a longer one says more than the formula.
const FORMULA_MAX_CHARS: usize = 60;

/// One sentence as read: where it is, its role and how many findings it states.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sentence {
    /// Byte range in the whole text.
    pub start: usize,
    /// End of the byte range.
    pub end: usize,
    /// Its role.
    pub role: Role,
    /// Findings it states.
    pub findings: usize,
    /// Byte ranges (in the whole text) of the words that make its findings (places, people,
    /// figures, problems, objects), in order and without repeats.
    pub evidence: Vec<(usize, usize)>,
}

/// Everything measured on one text, with examples for the reasons: what scoring knows of a
/// text on its own, before the run-wide steps (copy detection, length norms, campaign rules).
/// Plain data, so a run can keep it per text and skip texts it has already read.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Analysis {
    pub signals: Signals,
    /// The body's sentences, in order: every one as read, or, as a run keeps it
    /// ([`crate::Scorer::analyse`]), only those a reason can quote.
    pub sentences: Vec<Sentence>,
    /// Byte ranges (in the whole text) of boilerplate sentences: stock phrasing, which copy
    /// detection does not count as copying between colleagues.
    pub stock: Vec<(usize, usize)>,
    /// Byte ranges (in the whole text) of the sentences that state nothing about the place and
    /// ask for nothing: 套话 (also process talk carrying two stock phrases) and feelings. A
    /// suggestion standing wholly in them is the writer's prose, not an opinion, and is not
    /// clustered into an issue. (Not other process talk: read sentence by sentence it also takes
    /// in concrete asks — 停电前提前3天通知, 定期家访.)
    pub empty: Vec<(u32, u32)>,
    /// The first boilerplate sentence.
    pub boiler_example: Option<String>,
    /// The first repeated sentence.
    pub repeated_example: Option<String>,
    /// Up to three placeholders as written.
    pub placeholder_examples: Vec<String>,
    /// Characters in a reply letter's formula sentences (salutation, thanks, date).
    pub formula_chars: usize,
}

/// How many sentences of each kind a reason quotes: the first hollow ones (slogans, process
/// talk, feelings) of a text sent back, the richest in findings of a text that passes.
pub(crate) const QUOTED: usize = 2;

impl Sentence {
    /// Slogans, process talk or feelings: what a text sent back is quoted for.
    pub(crate) fn is_hollow(&self) -> bool {
        matches!(
            self.role,
            Role::Boilerplate | Role::Process | Role::Sentiment
        )
    }
}

impl Analysis {
    /// The analysis as the judgement reads it: only the sentences a reason can quote (the first
    /// [`QUOTED`] hollow ones and the [`QUOTED`] richest in findings, earlier first among
    /// equals), without their evidence ranges. The judgement of the slim analysis is the
    /// judgement of the whole one; a run keeps (and caches) a slim analysis per text, a fraction
    /// of the whole one's size.
    pub(crate) fn slim(mut self) -> Self {
        let mut keep = vec![false; self.sentences.len()];
        for (i, _) in self
            .sentences
            .iter()
            .enumerate()
            .filter(|(_, x)| x.is_hollow())
            .take(QUOTED)
        {
            keep[i] = true;
        }
        let mut rich: Vec<(usize, usize)> = self
            .sentences
            .iter()
            .enumerate()
            .filter(|(_, x)| x.findings > 0)
            .map(|(i, x)| (i, x.findings))
            .collect();
        rich.sort_by_key(|&(i, f)| (std::cmp::Reverse(f), i));
        for &(i, _) in rich.iter().take(QUOTED) {
            keep[i] = true;
        }
        let mut i = 0;
        self.sentences.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        for x in &mut self.sentences {
            x.evidence = Vec::new();
        }
        self.sentences.shrink_to_fit();
        self.stock.shrink_to_fit();
        self.empty.shrink_to_fit();
        self
    }
}

/// Analyses one text (tagged once): sentence roles, findings, diversity, repeats, placeholders.
/// The header block is skipped.
pub(crate) fn analyze(
    tagged: &Tagged<'_>,
    seg: &Segmenter,
    bp: &Boilerplate,
    roles: &Roles,
    co: &Concrete,
) -> Analysis {
    let text = tagged.text();
    // A text that is all "header" (one unpunctuated line) is its own body.
    let base = match diaoyan_text::body_start(text) {
        b if text[b..].trim().is_empty() => 0,
        b => b,
    };
    let body = &text[base..];
    let mut a = Analysis::default();
    // A reply letter shows itself in its first lines (the header block may hold the salutation).
    let opening_end = base + body.char_indices().nth(120).map_or(body.len(), |(i, _)| i);
    let reply_letter = REPLY_OPENING.is_match(&text[..opening_end]);
    a.signals.reply_letter = reply_letter;
    // Sentences seen, by a 128-bit hash of their letters (no copy of each sentence kept).
    let mut seen: FxHashSet<u128> = FxHashSet::default();
    let mut key = String::new();
    let mut content: Vec<&str> = Vec::new();
    let mut places: FxHashSet<String> = FxHashSet::default();
    let mut persons: FxHashSet<String> = FxHashSet::default();
    let spans = sentences(body);
    // The searches of every sentence, each done once over the body.
    let scan = Scan::of(body, &spans, roles, co);
    let boiler = bp.hits_by_sentence(body, &spans);
    let asks = per_sentence(body, &spans, |s| {
        SUGGESTION.find_iter(s).map(|m| (m.start(), m.end(), ()))
    });
    for (i, span) in spans.iter().enumerate() {
        let s = span.of(body);
        // The sentence's letters (Han characters, letters, digits): what makes it a repeat.
        key.clear();
        key.extend(s.chars().filter(|&c| is_text_char(c)));
        let han = key.chars().count();
        if han == 0 {
            continue;
        }
        let hits = &boiler[i];
        // One segmentation serves the facts and the content words.
        let words = tagged.words(base + span.start, base + span.end);
        let (f, mut role) = read_sentence(s, &words, roles, &scan.sentence(i), hits);
        if reply_letter
            && role != Role::Finding
            && (s.chars().count() <= FORMULA_MAX_CHARS && REPLY_FORMULA.is_match(s)
                || REPLY_THANKS.is_match(s))
        {
            role = Role::Formula;
        }
        let findings = if role == Role::Finding {
            f.findings()
        } else {
            0
        };
        let suggestion = !asks[i].is_empty();
        let sig = &mut a.signals;
        if role == Role::Formula {
            sig.formula_sentences += 1;
            a.formula_chars += s.chars().count();
            a.sentences.push(Sentence {
                start: base + span.start,
                end: base + span.end,
                role,
                findings: 0,
                evidence: Vec::new(),
            });
            continue;
        }
        sig.sentences += 1;
        sig.facts += findings;
        match role {
            Role::Finding => {
                sig.concrete_sentences += 1;
                sig.local_figures += f.local_figures;
                places.extend(f.places.iter().cloned());
                persons.extend(f.persons.iter().cloned());
                if f.problems > 0 {
                    sig.problem_sentences += 1;
                }
            }
            Role::Boilerplate => {
                a.stock.push((base + span.start, base + span.end));
                sig.boilerplate_sentences += 1;
                if a.boiler_example.is_none() {
                    a.boiler_example = Some(s.to_owned());
                }
            }
            Role::Process => sig.process_sentences += 1,
            Role::Sentiment => sig.sentiment_sentences += 1,
            Role::Other | Role::Formula => {}
        }
        sig.stock_names += f.stock_names;
        sig.blank_figures += f.blanks;
        if suggestion && role != Role::Boilerplate && han >= 6 {
            sig.suggestions += 1;
            if findings > 0 || f.objects > 0 || !f.places.is_empty() {
                sig.concrete_suggestions += 1;
            }
        }
        if han >= 8 && !seen.insert(xxhash_rust::xxh3::xxh3_128(key.as_bytes())) {
            sig.repeated_sentences += 1;
            if a.repeated_example.is_none() {
                a.repeated_example = Some(s.to_owned());
            }
        }
        content.extend(
            words
                .iter()
                .filter(|w| !seg.is_stopword(w.text))
                .map(|w| w.text),
        );
        a.sentences.push(Sentence {
            start: base + span.start,
            end: base + span.end,
            role,
            findings,
            evidence: if findings > 0 {
                let at = base + span.start;
                let mut ev = f.evidence;
                ev.sort_unstable();
                ev.dedup();
                ev.iter_mut().for_each(|r| *r = (r.0 + at, r.1 + at));
                ev
            } else {
                Vec::new()
            },
        });
        // Process talk with stock phrasing in it twice (坚持攻坚克难，抓细抓实政策宣传，推动工作再上
        // 新台阶) is 套话 all the same; method words outweighed it for the judgement.
        if matches!(role, Role::Boilerplate | Role::Sentiment)
            || role == Role::Process && hits.len() >= 2
        {
            let at = |x: usize| u32::try_from(base + x).unwrap_or(u32::MAX);
            a.empty.push((at(span.start), at(span.end)));
        }
    }
    let sig = &mut a.signals;
    sig.named_places = places.len();
    sig.named_persons = persons.len();
    sig.chars = body.chars().filter(|c| !c.is_whitespace()).count();
    // Density over at least 80 characters: a one-line text cannot show a high density.
    sig.facts_per_k = sig.facts as f64 * 1000.0 / sig.chars.max(80) as f64;
    sig.diversity = mattr(&content, 50);
    // Each search only where the text holds what every match of it holds (see `holds_any`).
    use crate::findings::{BLANK_FIGURE, BLANK_MARKS, holds_any};
    if holds_any(body, PLACEHOLDER_MARKS) {
        sig.placeholders = PLACEHOLDER.find_iter(body).count();
    }
    let blanks = if holds_any(body, BLANK_MARKS) {
        BLANK_FIGURE.find_iter(body).collect()
    } else {
        Vec::new()
    };
    for m in blanks {
        if a.placeholder_examples.len() < 3
            && !a.placeholder_examples.iter().any(|e| e == m.as_str())
        {
            a.placeholder_examples.push(m.as_str().to_owned());
        }
    }
    if holds_any(body, MASKED_MARKS) {
        sig.masked_names = MASKED.find_iter(body).count();
    }
    a
}

/// Moving-average type/token ratio over every window of `w` words (plain TTR for shorter texts):
/// words become ids once, then the window slides with a count per id, so the cost is linear.
fn mattr(words: &[&str], w: usize) -> f64 {
    if words.is_empty() {
        return 0.0;
    }
    let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
    let seq: Vec<u32> = words
        .iter()
        .map(|x| {
            let next = ids.len() as u32;
            *ids.entry(*x).or_insert(next)
        })
        .collect();
    let w = w.max(1).min(seq.len());
    let mut count = vec![0u32; ids.len()];
    let mut distinct = 0usize;
    for &t in &seq[..w] {
        count[t as usize] += 1;
        if count[t as usize] == 1 {
            distinct += 1;
        }
    }
    let mut sum = distinct as f64;
    for i in w..seq.len() {
        let out = seq[i - w] as usize;
        count[out] -= 1;
        if count[out] == 0 {
            distinct -= 1;
        }
        let inn = seq[i] as usize;
        count[inn] += 1;
        if count[inn] == 1 {
            distinct += 1;
        }
        sum += distinct as f64;
    }
    sum / (seq.len() - w + 1) as f64 / w as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::BUILTIN_ROLES;
    use crate::lexicon::{BUILTIN_BOILERPLATE, BUILTIN_CONCRETE};

    /// Placeholders and masked names are counted only in texts holding their marks: every
    /// string with a match holds one (and many match).
    #[test]
    fn a_text_skipped_for_lacking_placeholder_marks_holds_no_placeholder() {
        let mut matched = [0usize; 2];
        for s in crate::findings::mark_strings(200_000) {
            if PLACEHOLDER.is_match(&s) {
                matched[0] += 1;
                assert!(crate::findings::holds_any(&s, PLACEHOLDER_MARKS), "{s}");
            }
            if MASKED.is_match(&s) {
                matched[1] += 1;
                assert!(crate::findings::holds_any(&s, MASKED_MARKS), "{s}");
            }
        }
        assert!(matched.iter().all(|&m| m > 100), "{matched:?}");
    }

    fn run(text: &str) -> Analysis {
        let (bp, _) = Boilerplate::parse(BUILTIN_BOILERPLATE);
        let (roles, _) = Roles::parse(BUILTIN_ROLES);
        let co = Concrete::parse(BUILTIN_CONCRETE);
        let seg = Segmenter::builtin();
        analyze(&seg.tag_text(text), &seg, &bp, &roles, &co)
    }

    #[test]
    fn mattr_is_the_mean_ratio_over_every_window() {
        let w = |v: &[&'static str]| v.to_vec();
        assert_eq!(mattr(&[], 50), 0.0);
        // Shorter than a window: plain type/token ratio.
        assert_eq!(mattr(&w(&["a", "b", "a", "c"]), 50), 0.75);
        // Windows of 2 over a b a a: {a,b} {b,a} {a} → (1 + 1 + 0.5) / 3.
        assert!((mattr(&w(&["a", "b", "a", "a"]), 2) - 2.5 / 3.0).abs() < 1e-12);
        // All different: 1; all the same: 1/w.
        assert_eq!(mattr(&w(&["a", "b", "c", "d", "e"]), 3), 1.0);
        assert!((mattr(&w(&["a"; 10]), 4) - 0.25).abs() < 1e-12);
    }

    fn roles(text: &str) -> Vec<Role> {
        run(text).sentences.iter().map(|x| x.role).collect()
    }

    /// Sentence-role table: real-looking Chinese on the left, the role on the right.
    macro_rules! role_cases {
        ($($input:expr => $want:expr),* $(,)?) => {
            $( assert_eq!(roles($input), vec![$want], "input: {}", $input); )*
        };
    }

    #[test]
    fn sentence_role_table() {
        use Role::*;
        role_cases! {
            "高度重视，精心组织，确保各项工作落到实处。" => Boilerplate,
            "进一步提高政治站位，切实增强做好群众工作的责任感和使命感。" => Boilerplate,
            "坚持以人民为中心的发展思想，不断增强人民群众的获得感。" => Boilerplate,
            "以此次活动为契机，推动工作再上新台阶。" => Boilerplate,
            "群众对此次活动给予了高度评价，纷纷表示非常满意。" => Boilerplate,
            "石桥村三组到镇上的机耕路有两处塌方，去年翻了一台农用车。" => Finding,
            "全村共320户1256人，外出务工412人。" => Finding,
            "9月21日下午在村委会召开座谈会，8名村民代表发言。" => Process,
            "建议把三组机耕路纳入明年硬化计划，按2.5公里测算约需资金60万元。" => Finding,
            "建议进一步加大工作力度，不断完善体制机制。" => Boilerplate,
            "今天天气不错，心情也很好。" => Process,
        }
    }

    #[test]
    fn a_one_line_text_is_its_own_body() {
        let a = run("刘书记：为啥我们L3县汽车站上个厕所还要收1元钱");
        assert!(a.signals.facts >= 1, "{:?}", a.signals);
    }

    #[test]
    fn codes_are_not_figures() {
        let a = run("“UU008222”您好！您的帖文已收悉。");
        assert_eq!(a.signals.facts, 0);
        let b = run("柳溪村科尔力电机公司冲压车间噪音超标，3台冲床晚上10点还在响。");
        assert!(b.signals.facts >= 2, "{:?}", b.signals);
    }

    #[test]
    fn placeholders_are_not_facts() {
        let a = run("该村共xxx户xxxx人，x月x日到村。");
        assert_eq!(a.signals.placeholders, 4);
        assert_eq!(a.signals.facts, 0);
        let b = run("某某村王某某家里5口人，种了3亩地。");
        assert!(b.signals.masked_names >= 1);
        assert!(b.signals.facts >= 2);
    }

    #[test]
    fn repeats_and_diversity() {
        let a = run("我们走访了石桥村的农户。我们走访了石桥村的农户。我们走访了石桥村的农户。");
        assert_eq!(a.signals.repeated_sentences, 2);
        assert!(a.repeated_example.is_some());
        let varied = run("机耕路坑洼。卫生室缺医生。垃圾池满了。班车停运。");
        assert!(varied.signals.diversity > a.signals.diversity);
    }
}
