//! Sentence roles and per-text signals.

use crate::lexicon::{Boilerplate, Concrete};
use diaoyan_model::Signals;
use diaoyan_text::{Segmenter, Word, is_han, sentences};
use regex::Regex;
use std::collections::HashSet;
use std::sync::LazyLock;

/// What a sentence does in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// 套话: slogans and stock phrases with no concrete fact.
    Boilerplate,
    /// Raises an opinion, a problem or a suggestion (建议/希望/反映 …).
    Suggestion,
    /// States concrete facts.
    Concrete,
    /// Anything else.
    Other,
}

static NUM_UNIT: LazyLock<Regex> = LazyLock::new(|| {
    let units = "万元|亿元|元|户|人次|人|名|口|亩|公里|千米|米|吨|斤|公斤|头|只|条|座|所|家|辆|台|间|处|件|平方米|立方米|小时|趟|棵|株|箱|袋|岁|%|％|次|天|年|个月|个|组|届|倍|成";
    Regex::new(&format!(
        r"\d+(?:\.\d+)?\s*(?:{units})|\d{{2,}}|[一二三四五六七八九十两百千万]{{2,}}(?:{units})|[一二三四五六七八九十两](?:户|人|亩|公里|元|万元|岁|头|吨|名|口|辆|所|座|组)"
    ))
    .expect("static regex")
});
/// Places anonymised in published data (K3县, A市, D3区).
static CODED_PLACE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Z][0-9]{0,3}(?:县|市|区|镇|乡|村|街道|社区)").expect("static regex")
});
static DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d{1,2}月\d{1,2}日|\d{4}年\d{1,2}月").expect("static regex"));
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[xX×]{1,4}(?:万元|产业|工作|[户人亩元%村镇乡个月日年天次部组名])")
        .expect("static regex")
});
static MASKED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"某某|\*{2,}|[\p{Han}][某]").expect("static regex"));
static SUGGESTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"建议|希望|盼望|期盼|期望|呼吁|要求|诉求|反映|盼着|恳请|请求")
        .expect("static regex")
});

/// Everything measured on one text, with examples for the reasons.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub signals: Signals,
    /// The role of each sentence, in order.
    pub roles: Vec<Role>,
    /// Byte ranges (in the whole text) of boilerplate sentences: stock phrasing, which copy
    /// detection does not count as copying between colleagues.
    pub stock: Vec<(usize, usize)>,
    /// The first boilerplate sentence.
    pub boiler_example: Option<String>,
    /// The first repeated sentence.
    pub repeated_example: Option<String>,
    /// Up to three placeholders as written.
    pub placeholder_examples: Vec<String>,
    /// Per-category boilerplate hit counts.
    pub boiler_categories: Vec<usize>,
}

/// Analyses one text: sentence roles, facts, diversity, repeats, placeholders. The header block
/// is skipped.
pub(crate) fn analyze(text: &str, seg: &Segmenter, bp: &Boilerplate, co: &Concrete) -> Analysis {
    // A text that is all "header" (one unpunctuated line) is its own body.
    let base = match diaoyan_text::body_start(text) {
        b if text[b..].trim().is_empty() => 0,
        b => b,
    };
    let text = &text[base..];
    let mut a = Analysis {
        boiler_categories: vec![0; bp.categories.len()],
        ..Analysis::default()
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut content: Vec<String> = Vec::new();
    for span in sentences(text) {
        let s = span.of(text);
        let han = s
            .chars()
            .filter(|&c| is_han(c) || c.is_alphanumeric())
            .count();
        if han == 0 {
            continue;
        }
        let hits = bp.hits(s);
        for h in &hits {
            a.boiler_categories[h.category] += 1;
        }
        // One segmentation serves both the facts and the content words.
        let words = seg.tag(s);
        let (strong, nouns) = facts(s, &words, co, &hits);
        let hit_chars: usize = hits.iter().map(|h| s[h.start..h.end].chars().count()).sum();
        let coverage = hit_chars as f64 / han as f64;
        let suggestion = SUGGESTION.is_match(s);
        // Whether a sentence is stock phrasing depends on hard facts only (figures, dates,
        // names, objects); nouns in a slogan do not rescue it, and facts in stock phrasing are
        // not substance.
        let boiler = strong == 0 && (hits.len() >= 2 || coverage >= 0.3);
        let facts = if boiler { 0 } else { strong + nouns };
        let role = if boiler {
            Role::Boilerplate
        } else if suggestion {
            Role::Suggestion
        } else if facts > 0 {
            Role::Concrete
        } else {
            Role::Other
        };
        let sig = &mut a.signals;
        sig.sentences += 1;
        sig.facts += facts;
        if facts > 0 {
            sig.concrete_sentences += 1;
        }
        if boiler {
            a.stock.push((base + span.start, base + span.end));
            sig.boilerplate_sentences += 1;
            if a.boiler_example.is_none() {
                a.boiler_example = Some(s.to_owned());
            }
        }
        if suggestion && !boiler && han >= 6 {
            sig.suggestions += 1;
            if facts > 0 {
                sig.concrete_suggestions += 1;
            }
        }
        let key: String = s
            .chars()
            .filter(|&c| is_han(c) || c.is_alphanumeric())
            .collect();
        if key.chars().count() >= 8 && !seen.insert(key) {
            sig.repeated_sentences += 1;
            if a.repeated_example.is_none() {
                a.repeated_example = Some(s.to_owned());
            }
        }
        content.extend(
            words
                .iter()
                .filter(|w| !seg.is_stopword(w.text))
                .map(|w| w.text.to_owned()),
        );
        a.roles.push(role);
    }
    let sig = &mut a.signals;
    sig.chars = text.chars().filter(|c| !c.is_whitespace()).count();
    // Density over at least 80 characters: a one-line text cannot show a high density.
    sig.facts_per_k = sig.facts as f64 * 1000.0 / sig.chars.max(80) as f64;
    sig.diversity = mattr(&content, 50);
    for m in PLACEHOLDER.find_iter(text) {
        sig.placeholders += 1;
        if a.placeholder_examples.len() < 3
            && !a.placeholder_examples.iter().any(|e| e == m.as_str())
        {
            a.placeholder_examples.push(m.as_str().to_owned());
        }
    }
    sig.masked_names = MASKED.find_iter(text).count();
    a
}

/// Common Chinese surnames: a word jieba tags as a person (nr) counts only when it starts with
/// one (its HMM tags unknown words such as 幸福感 as names).
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝";

/// Counts concrete facts in a sentence: hard facts (numbers with units, dates, named places,
/// people and organisations, concrete objects) and concrete nouns (电梯, 噪音: nouns not on the
/// abstract list), returned apart. Overlapping finds count once; template blanks (xx户), masked
/// names (某某) and words inside stock phrases are not facts.
fn facts(s: &str, words: &[Word], co: &Concrete, hits: &[crate::lexicon::Hit]) -> (usize, usize) {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for m in NUM_UNIT.find_iter(s) {
        // Digits glued to Latin letters are codes (UU008222, A3), not figures.
        if s[..m.start()]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphabetic())
        {
            continue;
        }
        spans.push((m.start(), m.end()));
    }
    for m in DATE.find_iter(s).chain(CODED_PLACE.find_iter(s)) {
        spans.push((m.start(), m.end()));
    }
    spans.extend(co.find(s));
    let mut nouns: Vec<(usize, usize)> = Vec::new();
    for w in words {
        let n = w.text.chars().count();
        // jieba's HMM invents entities (广大干部/ns, 幸福感/nr): a place must look like one (a
        // place suffix, or a short name such as 长沙), an organisation must end like one.
        let last = w.text.chars().last().unwrap_or(' ');
        let in_stock_phrase = hits.iter().any(|h| w.start < h.end && h.start < w.end);
        if matches!(w.tag, "n" | "nz" | "nl") {
            // A thing named by a plain noun (电梯, 噪音, 围墙) unless the noun is abstract.
            if n >= 2 && !co.abstract_nouns.contains(w.text) && !in_stock_phrase {
                nouns.push((w.start, w.end));
            }
            continue;
        }
        let named = match w.tag {
            "nr" | "nrt" => {
                (2..=3).contains(&n) && w.text.chars().next().is_some_and(|c| SURNAMES.contains(c))
            }
            "ns" => {
                n >= 2
                    && (n <= 3
                        || "村镇乡县市区省组州山河湖江寨坪沟湾岭桥街路屯庄港岛".contains(last))
            }
            "nt" => n >= 2 && "局委办院所站厂司社会部队校府行室馆组".contains(last),
            _ => false,
        };
        if named && !in_stock_phrase && !w.text.contains('某') {
            spans.push((w.start, w.end));
        }
    }
    let blanks: Vec<(usize, usize)> = PLACEHOLDER
        .find_iter(s)
        .map(|m| (m.start(), m.end()))
        .collect();
    let strong = count_spans(&mut spans, &blanks, &[]);
    let nouns = count_spans(&mut nouns, &blanks, &spans);
    (strong, nouns)
}

/// Counts non-overlapping spans, leaving out those touching `blanks` or `taken`. Linear after
/// sorting (a 7 MB one-line file has hundreds of thousands of spans).
fn count_spans(
    spans: &mut [(usize, usize)],
    blanks: &[(usize, usize)],
    taken: &[(usize, usize)],
) -> usize {
    let mut excluded: Vec<(usize, usize)> = blanks.iter().chain(taken).copied().collect();
    excluded.sort_unstable();
    spans.sort_unstable();
    let mut j = 0;
    let mut count = 0;
    let mut end = 0;
    for &(a, b) in spans.iter() {
        // Skip exclusions that end before this span; spans are sorted by start, so they never
        // matter again.
        while j < excluded.len() && excluded[j].1 <= a {
            j += 1;
        }
        let touches = excluded[j..]
            .iter()
            .take_while(|&&(x, _)| x < b)
            .any(|&(_, y)| y > a);
        if touches {
            continue;
        }
        if a >= end {
            count += 1;
            end = b;
        } else {
            end = end.max(b);
        }
    }
    count
}

/// Moving-average type/token ratio over every window of `w` words (plain TTR for shorter texts):
/// words become ids once, then the window slides with a count per id, so the cost is linear.
fn mattr(words: &[String], w: usize) -> f64 {
    if words.is_empty() {
        return 0.0;
    }
    let mut ids: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    let seq: Vec<u32> = words
        .iter()
        .map(|x| {
            let next = ids.len() as u32;
            *ids.entry(x.as_str()).or_insert(next)
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
    use crate::lexicon::{BUILTIN_BOILERPLATE, BUILTIN_CONCRETE};

    #[test]
    fn mattr_is_the_mean_ratio_over_every_window() {
        let w = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
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
        let (bp, _) = Boilerplate::parse(BUILTIN_BOILERPLATE);
        let co = Concrete::parse(BUILTIN_CONCRETE);
        analyze(text, &Segmenter::builtin(), &bp, &co).roles
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
            "石桥村三组到镇上的机耕路有两处塌方，去年翻了一台农用车。" => Concrete,
            "全村共320户1256人，外出务工412人。" => Concrete,
            "9月21日下午在村委会召开座谈会，8名村民代表发言。" => Concrete,
            "建议把三组机耕路纳入明年硬化计划，按2.5公里测算约需资金60万元。" => Suggestion,
            "群众希望卫生室能有医生坐诊。" => Suggestion,
            "建议进一步加大工作力度，不断完善体制机制。" => Boilerplate,
            "今天天气不错，心情也很好。" => Other,
        }
    }

    #[test]
    fn a_one_line_text_is_its_own_body() {
        let (bp, _) = Boilerplate::parse(BUILTIN_BOILERPLATE);
        let co = Concrete::parse(BUILTIN_CONCRETE);
        let a = analyze(
            "刘书记：为啥我们L3县汽车站上个厕所还要收费",
            &Segmenter::builtin(),
            &bp,
            &co,
        );
        assert!(a.signals.facts >= 2, "{:?}", a.signals);
    }

    #[test]
    fn codes_are_not_figures() {
        let (bp, _) = Boilerplate::parse(BUILTIN_BOILERPLATE);
        let co = Concrete::parse(BUILTIN_CONCRETE);
        let a = analyze(
            "“UU008222”您好！您的帖文已收悉。",
            &Segmenter::builtin(),
            &bp,
            &co,
        );
        assert_eq!(a.signals.facts, 0);
        let b = analyze(
            "K3县科尔力电机公司冲压车间噪音超标，影响周边居民休息。",
            &Segmenter::builtin(),
            &bp,
            &co,
        );
        assert!(b.signals.facts >= 3, "{:?}", b.signals);
    }

    #[test]
    fn placeholders_are_not_facts() {
        let (bp, _) = Boilerplate::parse(BUILTIN_BOILERPLATE);
        let co = Concrete::parse(BUILTIN_CONCRETE);
        let a = analyze(
            "该村共xxx户xxxx人，x月x日到村。",
            &Segmenter::builtin(),
            &bp,
            &co,
        );
        assert_eq!(a.signals.placeholders, 4);
        assert_eq!(a.signals.facts, 0);
        let b = analyze(
            "某某村王某某家里5口人，种了3亩地。",
            &Segmenter::builtin(),
            &bp,
            &co,
        );
        assert!(b.signals.masked_names >= 1);
        assert!(b.signals.facts >= 2);
    }

    #[test]
    fn repeats_and_diversity() {
        let (bp, _) = Boilerplate::parse(BUILTIN_BOILERPLATE);
        let co = Concrete::parse(BUILTIN_CONCRETE);
        let a = analyze(
            "我们走访了石桥村的农户。我们走访了石桥村的农户。我们走访了石桥村的农户。",
            &Segmenter::builtin(),
            &bp,
            &co,
        );
        assert_eq!(a.signals.repeated_sentences, 2);
        assert!(a.repeated_example.is_some());
        let varied = analyze(
            "机耕路坑洼。卫生室缺医生。垃圾池满了。班车停运。",
            &Segmenter::builtin(),
            &bp,
            &co,
        );
        assert!(varied.signals.diversity > a.signals.diversity);
    }
}
