//! Findings and sentence roles that fit real prose.
//!
//! A *finding* is something about the visited place that could be checked or acted on: a local
//! figure with a unit (户, 人, 亩, 元, 公里, 吨, %), a named place or a named person together with
//! its situation, a specific problem tied to a place, person, figure or object. Process metadata
//! (who went, how many households were visited, forms handed out), dates, weather, slogans and
//! numbered formulas, feelings, generic category lists and stock names (老张, 张大爷) are not.
//!
//! Each sentence gets one role: finding, boilerplate (套话, by what it says, whatever nouns it
//! carries), process (logistics and method talk), sentiment (feelings, scenery, praise) or other.

use crate::lexicon::{Boilerplate, Concrete, Hit};
use crate::scan::per_sentence;
use diaoyan_text::{Places, Span, Word, has_char, is_han};
use regex::{Regex, RegexSet};
use std::collections::HashSet;
use std::sync::LazyLock;

/// The sentence-role lexicon shipped with the binary (one copy, kept by the text crate beside
/// the place recogniser that reads its generic place words).
pub const BUILTIN_ROLES: &str = diaoyan_text::BUILTIN_ROLES;

/// What a sentence does in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Role {
    /// States at least one finding about the place.
    Finding,
    /// 套话: slogans and stock phrases.
    Boilerplate,
    /// Logistics and method talk: who went, when, visits, meetings, forms.
    Process,
    /// Feelings, scenery, praise.
    Sentiment,
    /// Anything else.
    Other,
    /// The formula of a reply letter (您好, 已收悉, 现回复如下, 感谢您…, the date): neither
    /// substance nor 虚话.
    Formula,
}

/// Units of a local figure (things on the ground), longest first.
const LOCAL_UNITS: &str = "成|平方公里|平方米|平方|立方米|立方|㎡|m²|m2|千瓦|万亩|万元|亿元|万户|万人|万斤|公顷|公里|千米|公斤|千克|平米|元|户|人|口|名|亩|米|吨|斤|头|只|羽|棵|株|窝|箱|袋|岁|座|所|家|辆|台|间|处|条|个|眼|盏|套|栋|块|根|方|%|％";
/// Units of time, counts of events and documents: never a finding on their own.
const OTHER_UNITS: &str =
    "个月|小时|分钟|人次|年|天|日|月|周|次|届|倍|期|批|份|场|篇|点|时|号|度|号";

static FIGURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?P<num>\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万]+)(?:[万亿千百](?:多|余)|多|余|来)?\s*(?P<unit>{LOCAL_UNITS}|{OTHER_UNITS})"
    ))
    .expect("static regex")
});
/// The figures of `s` as (start, end, where the number and the unit lie within the figure): what
/// `FIGURE.captures_iter` gives, with one set of capture slots for the whole text (the iterator
/// allocates a set per figure, and most sentences hold a few) and the groups taken by number.
fn figures(s: &str) -> impl Iterator<Item = (usize, usize, FigureParts)> + '_ {
    let mut slots = FIGURE.capture_locations();
    let mut from = 0;
    std::iter::from_fn(move || {
        // A figure is never empty (a number and a unit), so the next search starts at its end.
        let all = FIGURE.captures_read_at(&mut slots, s, from)?;
        from = all.end();
        let at = all.start();
        let (num, unit) = (
            slots.get(FIGURE_NUM).expect("num"),
            slots.get(FIGURE_UNIT).expect("unit"),
        );
        Some((
            at,
            all.end(),
            (num.0 - at, num.1 - at, unit.0 - at, unit.1 - at),
        ))
    })
}

/// The capture groups of [`FIGURE`]: `num`, then `unit`.
const FIGURE_NUM: usize = 1;
const FIGURE_UNIT: usize = 2;

/// Template blanks standing for a figure (xx户, ***元, 000所).
pub(crate) static BLANK_FIGURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:[xX×＊*○]{1,4}|0{2,4}|多少|若干)(?:\.[xX×*]+)?(?:万元|亿元|元|户|人|亩|%|％|个|名|所|吨|公里|平方米|处|家|条|座)")
        .expect("static regex")
});
/// Whether `text` holds any of `marks`: every match of the patterns below holds one of a few
/// rare characters, so a text holding none is not searched (a lazy DFA reads every byte of
/// every text, 300–600 MB/s; these searches run at several GB/s).
pub(crate) fn holds_any(text: &str, marks: &[&str]) -> bool {
    marks.iter().any(|m| text.contains(m))
}

/// What every match of [`BLANK_FIGURE`] holds one of.
pub(crate) const BLANK_MARKS: &[&str] = &["x", "X", "×", "＊", "*", "○", "00", "多少", "若干"];
/// What every match of [`MASKED_PLACE`] holds one of, besides an ASCII letter.
const MASKED_PLACE_MARKS: &[&str] = &["×", "＊", "*", "#", "某"];

/// Whether `text` may hold a match of [`MASKED_PLACE`].
fn may_mask_a_place(text: &str) -> bool {
    holds_any(text, MASKED_PLACE_MARKS) || text.bytes().any(|b| b.is_ascii_alphabetic())
}

/// What every match of [`GROUP`] holds one of.
const GROUP_MARKS: &[&str] = &["组", "社"];
/// A numbered group of a village (三组, 5组, 二社), not 组织/组长.
static GROUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[二三四五六七八九十\d]{1,3}(?:组|社)(?:[^织成长建员合团]|$)|[村屯寨][一二三四五六七八九十\d]{1,3}(?:组|社)")
        .expect("static regex")
});
/// Masked places (xx村, 某某镇, **乡): kept apart — masking does not make a text hollow.
static MASKED_PLACE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:[xX×＊*#]{1,4}|某某?|[A-Za-z])(?:村|镇|乡|县|市|区|组|屯|社区|街道)")
        .expect("static regex")
});

/// Common Chinese surnames: a word jieba tags as a person (nr) counts only when it starts with
/// one (its HMM tags unknown words such as 幸福感 as names).
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝";

/// The compiled role lexicon.
pub(crate) struct Roles {
    phrases: Boilerplate,
    process: Option<usize>,
    sentiment: Option<usize>,
    problem: Option<usize>,
    slogan: Option<usize>,
    places: Places,
    /// Stock-name patterns (老张, 张大爷), matched against a whole word.
    stock_names: RegexSet,
    /// The byte lengths a word can have and match one of them ([`LenBound`]).
    stock_len: LenBound,
}

/// The lengths in bytes of the texts a set of regexes can match: every text shorter than `min`,
/// and (when each pattern is anchored at both ends and bounded) every text longer than `max`,
/// is known to match none without running them. Stock names are tried on every word of every
/// sentence, twice (10,000 documents: about 20 M calls), and most words are one character or
/// several, outside what the patterns can match.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LenBound {
    min: usize,
    max: Option<usize>,
}

impl LenBound {
    fn of(patterns: &[String]) -> LenBound {
        use regex_syntax::hir::Look;
        let mut min = usize::MAX;
        let mut max = Some(0usize);
        for p in patterns {
            let Ok(hir) = regex_syntax::Parser::new().parse(p) else {
                // Compiled by `regex` but not read here: no bound at all.
                return LenBound { min: 0, max: None };
            };
            let props = hir.properties();
            // A pattern that can never match bounds nothing.
            let Some(lo) = props.minimum_len() else {
                continue;
            };
            min = min.min(lo);
            let whole = props.look_set_prefix().contains(Look::Start)
                && props.look_set_suffix().contains(Look::End);
            max = match (max, props.maximum_len()) {
                (Some(m), Some(hi)) if whole => Some(m.max(hi)),
                _ => None,
            };
        }
        LenBound { min, max }
    }

    fn admits(&self, len: usize) -> bool {
        len >= self.min && self.max.is_none_or(|m| len <= m)
    }
}

/// Units of a local figure, for looking one up.
static LOCAL_UNIT_SET: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| LOCAL_UNITS.split('|').collect());

impl Roles {
    /// The place recogniser built from this lexicon's generic words.
    pub fn places(&self) -> &Places {
        &self.places
    }

    /// Parses the role lexicon (`category<TAB>phrase`); returns the lines that could not be read.
    pub fn parse(text: &str) -> (Roles, Vec<String>) {
        let mut rest = String::new();
        let mut generic = HashSet::new();
        let mut stock_names = Vec::new();
        let mut bad = Vec::new();
        for (i, line) in text.lines().enumerate() {
            match line.trim_end().split_once('\t') {
                Some(("泛称", w)) => {
                    generic.insert(w.trim().to_owned());
                    rest.push('\n');
                }
                Some(("套名", p)) => {
                    let p = p.trim().strip_prefix("re:").unwrap_or(p.trim());
                    match Regex::new(p) {
                        Ok(_) => stock_names.push(p.to_owned()),
                        Err(e) => bad.push(format!("第 {} 行正则有误：{e}", i + 1)),
                    }
                    rest.push('\n');
                }
                _ => {
                    rest.push_str(line);
                    rest.push('\n');
                }
            }
        }
        let (phrases, more) = Boilerplate::parse(&rest);
        bad.extend(more);
        let cat = |name: &str| phrases.categories.iter().position(|c| c == name);
        (
            Roles {
                process: cat("过程"),
                sentiment: cat("感受"),
                problem: cat("问题"),
                slogan: cat("口号"),
                phrases,
                places: Places::with_generic(generic),
                stock_len: LenBound::of(&stock_names),
                stock_names: RegexSet::new(&stock_names).expect("each pattern compiled on its own"),
            },
            bad,
        )
    }

    fn is_stock_name(&self, w: &str) -> bool {
        self.stock_len.admits(w.len()) && self.stock_names.is_match(w)
    }
}

/// What one sentence holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SentenceFacts {
    /// Local figures with a unit (not process counts, dates or slogans).
    pub local_figures: usize,
    /// Figures that count the work itself (走访 12 户, 问卷 500 份).
    pub process_figures: usize,
    /// Named places (法源村, 石桥村三组).
    pub places: Vec<String>,
    /// Masked places (xx村, 某某镇).
    pub masked_places: usize,
    /// Named people (full names, not 老张).
    pub persons: Vec<String>,
    /// Stock names (老张, 张大爷).
    pub stock_names: usize,
    /// Problem words (塌方, 漏水, 瘫痪).
    pub problems: usize,
    /// Concrete objects (机耕路, 卫生室).
    pub objects: usize,
    /// Blanked figures (xx户).
    pub blanks: usize,
    /// Process words.
    pub process: usize,
    /// Feeling words.
    pub sentiment: usize,
    /// Byte ranges (in the sentence) of the evidence of a finding.
    pub evidence: Vec<(usize, usize)>,
}

impl SentenceFacts {
    /// How many findings the sentence states (0 = none). A local figure is one each; a named
    /// place, a named person and a problem each add one when something else pins them down.
    pub fn findings(&self) -> usize {
        let p = !self.places.is_empty();
        let n = !self.persons.is_empty();
        let q = self.problems > 0;
        let o = self.objects > 0;
        let l = self.local_figures > 0;
        self.local_figures
            + usize::from(q && (p || n || o || l))
            + usize::from(p && (o || q || l))
            + usize::from(n && (q || l || o))
    }
}

/// A figure's number and unit, as byte ranges from the start of its match.
type FigureParts = (usize, usize, usize, usize);

/// A text's searches for [`read_sentence`], done once over the whole text and handed out by
/// sentence ([`per_sentence`]).
pub(crate) struct Scan {
    roles: Vec<Vec<Hit>>,
    figures: Vec<Vec<(usize, usize, FigureParts)>>,
    blanks: Vec<Vec<(usize, usize, ())>>,
    masked_places: Vec<Vec<(usize, usize, ())>>,
    objects: Vec<Vec<(usize, usize, ())>>,
}

/// What [`Scan`] found in one sentence, as byte ranges of the sentence.
pub(crate) struct Marks<'a> {
    roles: &'a [Hit],
    figures: &'a [(usize, usize, FigureParts)],
    blanks: usize,
    masked_places: usize,
    objects: &'a [(usize, usize, ())],
}

impl Scan {
    /// The searches of the sentences `spans` of `text`.
    pub(crate) fn of(text: &str, spans: &[Span], roles: &Roles, co: &Concrete) -> Scan {
        // Nothing where the text holds none of what every match holds.
        let found = |re: &'static Regex, may: bool| {
            if !may {
                return spans.iter().map(|_| Vec::new()).collect();
            }
            per_sentence(text, spans, |s| {
                re.find_iter(s).map(|m| (m.start(), m.end(), ()))
            })
        };
        Scan {
            roles: roles.phrases.hits_by_sentence(text, spans),
            figures: per_sentence(text, spans, figures),
            blanks: found(&BLANK_FIGURE, holds_any(text, BLANK_MARKS)),
            masked_places: found(&MASKED_PLACE, may_mask_a_place(text)),
            objects: per_sentence(text, spans, |s| co.find(s)),
        }
    }

    /// What was found in sentence `i`.
    pub(crate) fn sentence(&self, i: usize) -> Marks<'_> {
        Marks {
            roles: &self.roles[i],
            figures: &self.figures[i],
            blanks: self.blanks[i].len(),
            masked_places: self.masked_places[i].len(),
            objects: &self.objects[i],
        }
    }
}

/// Reads one sentence: its facts and its role. `marks` are what the text's searches found in
/// it ([`Scan`]), `bp` its boilerplate hits.
pub(crate) fn read_sentence(
    s: &str,
    words: &[Word],
    roles: &Roles,
    marks: &Marks<'_>,
    bp: &[Hit],
) -> (SentenceFacts, Role) {
    let mut f = SentenceFacts::default();
    let role_hits = marks.roles;
    // Feeling words, counted once the places are known (幸福湾, 阳光小区 are names).
    let mut feelings: Vec<(usize, usize)> = Vec::new();
    let mut place_spans: Vec<(usize, usize)> = Vec::new();
    let mut slogans: Vec<(usize, usize)> = bp.iter().map(|h| (h.start, h.end)).collect();
    for h in role_hits {
        let c = Some(h.category);
        if c == roles.process {
            f.process += 1;
        } else if c == roles.sentiment {
            feelings.push((h.start, h.end));
        } else if c == roles.problem {
            f.problems += 1;
            f.evidence.push((h.start, h.end));
        } else if c == roles.slogan {
            slogans.push((h.start, h.end));
        }
    }
    let inside = |a: usize, b: usize| slogans.iter().any(|&(x, y)| a < y && x < b);

    // Figures: local, process or neither.
    // A clause here runs between commas, semicolons and colons (not 、, which lists the
    // things one clause counts).
    let clause_has_process = |at: usize| {
        let from = s[..at]
            .rfind(['，', ',', '；', ';', '：', ':', '。'])
            .map_or(0, |i| i + s[i..].chars().next().map_or(1, char::len_utf8));
        let to = s[at..]
            .find(['，', ',', '；', ';', '：', ':', '。'])
            .map_or(s.len(), |i| at + i);
        role_hits
            .iter()
            .any(|h| Some(h.category) == roles.process && h.start >= from && h.end <= to)
    };
    for &(start, end, (n0, n1, u0, u1)) in marks.figures {
        let num = &s[start + n0..start + n1];
        let unit = &s[start + u0..start + u1];
        if s[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphabetic())
            || inside(start, end)
        {
            continue;
        }
        // A lone 一/万/千/百 is an article or a set phrase (一户人家, 万家灯火), not a figure.
        let digits = num.chars().any(|c| c.is_ascii_digit());
        // 000所, 00户: a blanked figure, not a figure.
        if digits && num.chars().all(|c| c == '0' || c == '.') {
            continue;
        }
        if !digits && num.chars().count() == 1 && !"二两三四五六七八九十".contains(num) {
            continue;
        }
        if !LOCAL_UNIT_SET.contains(unit) {
            continue;
        }
        // 两个联系村, 三个组: a counted 个 is a figure only in digits.
        if !digits && unit == "个" {
            continue;
        }
        // Counts of the work itself: visits, people met, forms — when the clause talks about
        // the work and the unit counts units visited.
        let countable = matches!(unit, "户" | "人" | "名" | "个" | "家" | "所" | "条" | "口");
        if countable && clause_has_process(start) {
            f.process_figures += 1;
            continue;
        }
        f.local_figures += 1;
        f.evidence.push((start, end));
    }
    f.blanks = marks.blanks;
    f.masked_places = marks.masked_places;
    f.objects = marks
        .objects
        .iter()
        .map(|&(a, b, ())| (a, b))
        .filter(|&(a, b)| !inside(a, b))
        .inspect(|&e| f.evidence.push(e))
        .count();

    // Places and people from the words.
    for (i, w) in words.iter().enumerate() {
        if inside(w.start, w.end) || has_char(w.text, '某') {
            continue;
        }
        let n = w.text.chars().count();
        let next = words.get(i + 1).filter(|x| x.start == w.end);
        if roles.is_stock_name(w.text)
            // The word and the next one together (张 + 大爷): adjacent, so one slice of `s`.
            || next.is_some_and(|x| roles.is_stock_name(&s[w.start..x.end]))
        {
            f.stock_names += 1;
            continue;
        }
        let place = roles.places.place_at(words, i);
        if let Some((a, b)) = place {
            let name = s[a..b].to_owned();
            if !f.places.contains(&name) {
                f.places.push(name);
            }
            f.evidence.push((a, b));
            place_spans.push((a, b));
            continue;
        }
        if matches!(w.tag, "nr" | "nrt" | "nrfg")
            && (2..=4).contains(&n)
            && w.text.chars().next().is_some_and(|c| SURNAMES.contains(c))
        {
            if !f.persons.iter().any(|p| p == w.text) {
                f.persons.push(w.text.to_owned());
            }
            f.evidence.push((w.start, w.end));
        }
    }
    let groups = if holds_any(s, GROUP_MARKS) {
        GROUP.find_iter(s).collect()
    } else {
        Vec::new()
    };
    for m in groups {
        let g = m.as_str().trim_end_matches(|c: char| !"组社".contains(c));
        if !inside(m.start(), m.end()) && !f.places.iter().any(|p| p.ends_with(g)) {
            f.places.push(g.to_owned());
            f.evidence.push((m.start(), m.start() + g.len()));
        }
    }

    f.sentiment = feelings
        .iter()
        .filter(|&&(a, b)| !place_spans.iter().any(|&(x, y)| a < y && x < b))
        .count();

    let hit_chars: usize = bp.iter().map(|h| s[h.start..h.end].chars().count()).sum();
    let han = s.chars().filter(|&c| is_han(c)).count().max(1);
    // Method talk (面对面, 倾听) is process, not 套话, unless stock phrasing outweighs it.
    let boiler = (bp.len() >= 2 || hit_chars as f64 / han as f64 >= 0.3)
        && bp.len() > f.process
        && f.local_figures < 2;
    let role = if boiler {
        Role::Boilerplate
    } else if f.findings() > 0 {
        Role::Finding
    } else if f.sentiment > f.process {
        Role::Sentiment
    } else if f.process > 0 || f.process_figures > 0 {
        Role::Process
    } else {
        Role::Other
    };
    (f, role)
}

/// Random short strings over the characters the patterns below look for and a few others
/// (`n` of them, up to 14 characters each): for checking that a text without a pattern's marks
/// holds no match of it.
#[cfg(test)]
pub(crate) fn mark_strings(n: usize) -> Vec<String> {
    let alphabet: Vec<char> = "xX×＊*○0多少若干某#aZq村镇乡组社区街道户人元万亿二两5。，织长 .%％"
        .chars()
        .collect();
    let mut next = crate::xorshift(0x2545_F491_4F6C_DD1D);
    (0..n)
        .map(|_| {
            let len = (next() % 15) as usize;
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::{BUILTIN_BOILERPLATE, BUILTIN_CONCRETE};
    use diaoyan_text::Segmenter;

    /// A text is searched for blank figures, masked places and village groups only when it
    /// holds what every match holds: over strings made of those marks and their neighbours,
    /// every string with a match passes the check (and many strings match, so it is tested).
    #[test]
    fn a_text_skipped_for_lacking_the_marks_holds_no_match() {
        let strings = mark_strings(200_000);
        let mut matched = [0usize; 3];
        for s in &strings {
            if BLANK_FIGURE.is_match(s) {
                matched[0] += 1;
                assert!(holds_any(s, BLANK_MARKS), "{s}");
            }
            if MASKED_PLACE.is_match(s) {
                matched[1] += 1;
                assert!(may_mask_a_place(s), "{s}");
            }
            if GROUP.is_match(s) {
                matched[2] += 1;
                assert!(holds_any(s, GROUP_MARKS), "{s}");
            }
        }
        assert!(matched.iter().all(|&m| m > 100), "{matched:?}");
        assert!(!may_mask_a_place("石桥村三组的路"));
        assert!(may_mask_a_place("G107国道") && may_mask_a_place("某某村"));
    }

    /// A word outside the stock-name patterns' lengths is never tried, and that never loses a
    /// match: over every word and word pair of a few sentences plus strings built to match,
    /// each one the patterns match is admitted. Unanchored, multi-line or unbounded patterns
    /// lift the upper bound.
    #[test]
    fn words_the_length_bound_skips_are_never_stock_names() {
        let (roles, _) = Roles::parse(BUILTIN_ROLES);
        // Two or three characters; a rare Han character takes four bytes.
        assert_eq!(
            roles.stock_len,
            LenBound {
                min: 6,
                max: Some(10)
            }
        );
        let seg = Segmenter::builtin();
        let text = "老张和王大爷说，村里的李书记、赵主任和孙子都来了。张老汉、小李、老百姓、乡亲们、\
                    村民代表和老党员王德福在石桥村三组的机耕路边等着。";
        let words = seg.tag(text);
        let mut tried: Vec<String> = words.iter().map(|w| w.text.to_owned()).collect();
        tried.extend(
            words
                .windows(2)
                .map(|p| text[p[0].start..p[1].end].to_owned()),
        );
        tried.extend(["老张", "张大爷", "老百姓", "王伯父", "老", "老张头子"].map(String::from));
        let mut matched = 0;
        for w in &tried {
            if roles.stock_names.is_match(w) {
                matched += 1;
                assert!(roles.stock_len.admits(w.len()), "{w}");
            }
        }
        assert!(matched >= 8, "{matched}");
        assert!(!roles.stock_len.admits("老".len()) && !roles.stock_len.admits("老张头子".len()));
        let bound =
            |ps: &[&str]| LenBound::of(&ps.iter().map(|p| p.to_string()).collect::<Vec<_>>());
        assert_eq!(
            bound(&["^老[张王]$", "大爷"]),
            LenBound { min: 6, max: None }
        );
        assert_eq!(bound(&["(?m)^老张$"]).max, None);
        assert_eq!(bound(&["^老.*$"]).max, None);
        assert_eq!(
            bound(&["^(?:老张|张)$"]),
            LenBound {
                min: 3,
                max: Some(6)
            }
        );
        // No pattern at all: nothing is admitted (an empty set matches nothing).
        assert!(!bound(&[]).admits(6));
    }

    fn read(s: &str) -> (SentenceFacts, Role) {
        let (bp, _) = Boilerplate::parse(BUILTIN_BOILERPLATE);
        let (roles, bad) = Roles::parse(BUILTIN_ROLES);
        assert!(bad.is_empty(), "{bad:?}");
        let co = Concrete::parse(BUILTIN_CONCRETE);
        let seg = Segmenter::builtin();
        let words = seg.tag(s);
        let whole = [Span {
            start: 0,
            end: s.len(),
        }];
        let scan = Scan::of(s, &whole, &roles, &co);
        read_sentence(s, &words, &roles, &scan.sentence(0), &bp.hits(s))
    }

    /// [`figures`] gives what the named groups of `FIGURE.captures_iter` give, on the sample
    /// campaign's texts and on figures back to back, spaced, decimal, in Chinese numerals.
    #[test]
    fn figures_are_the_named_groups_of_each_match() {
        let names: Vec<Option<&str>> = FIGURE.capture_names().collect();
        assert_eq!(names[FIGURE_NUM], Some("num"));
        assert_eq!(names[FIGURE_UNIT], Some("unit"));
        let mut texts = crate::lexicon::tests::sample_texts();
        texts.extend([
            "全村286户1032人，耕地3.5万亩，三组12户 7 口人两百多户五十余名".into(),
            "3户4人5亩6个月7年".into(),
            String::new(),
        ]);
        let mut seen = 0;
        for t in &texts {
            let want: Vec<_> = FIGURE
                .captures_iter(t)
                .map(|m| {
                    let all = m.get(0).expect("match");
                    let (num, unit) = (m.name("num").expect("num"), m.name("unit").expect("unit"));
                    let at = all.start();
                    let parts = (
                        num.start() - at,
                        num.end() - at,
                        unit.start() - at,
                        unit.end() - at,
                    );
                    (at, all.end(), parts)
                })
                .collect();
            seen += want.len();
            assert_eq!(figures(t).collect::<Vec<_>>(), want, "{t}");
        }
        assert!(seen > 200, "{seen}");
    }

    /// Real-shaped sentences (written for this test) and the role a careful reader gives them.
    #[test]
    fn roles_of_real_shaped_sentences() {
        use Role::*;
        let cases = [
            // Findings: local figures, named places with their situation, named people with theirs.
            ("全村共有农户286户1043人，人均耕地0.6亩。", Finding),
            ("青石村到乡里的8公里砂石路一下雨就没法走。", Finding),
            ("村民刘长贵今年68岁，患有糖尿病，老伴常年卧床。", Finding),
            ("石桥村三组的水渠去年被山洪冲垮，至今没有修复。", Finding),
            (
                "建议在村口新建一座50立方米的蓄水池，约需资金6万元。",
                Finding,
            ),
            ("某某村王某某家里5口人，种了3亩水稻。", Finding),
            // Boilerplate, whatever nouns it carries.
            ("高度重视，精心组织，确保各项工作落到实处。", Boilerplate),
            (
                "为进一步密切党群干群关系，切实解决群众急难愁盼问题，镇党委深入各村开展走访。",
                Boilerplate,
            ),
            // Process: who went, when, how many were visited, forms and meetings.
            (
                "上午我们一行五人来到村委会，与村干部座谈了解情况。",
                Process,
            ),
            (
                "本次共走访农户120户，发放问卷500份，回收问卷462份。",
                Process,
            ),
            ("9月14日，星期六，晴。", Process),
            ("下午召开村民代表座谈会，8名代表发言。", Process),
            ("我们与老乡面对面拉家常，倾听他们的心声。", Process),
            // Sentiment and scenery.
            ("看到乡亲们脸上的笑容，我心里感到无比温暖。", Sentiment),
            ("清晨的山村薄雾缭绕，空气中弥漫着泥土的芬芳。", Sentiment),
            // Not findings: slogans with numbers, generic lists, stock names with no place.
            ("认真落实“两学一做”和“四必到五必访”要求。", Other),
            ("致贫原因主要有因病、因学、因残和缺技术、缺资金等。", Other),
            ("老张的儿子前年因病去世，家里只剩几间破旧的土屋。", Other),
        ];
        for (s, want) in cases {
            let (f, got) = read(s);
            assert_eq!(got, want, "{s}: {f:?}");
        }
    }

    /// Named facilities of a town or city (a reply, an urban field note) are places; a kind of
    /// facility (住宅小区, 农贸市场) or a direction (北路) is not; a feeling word inside a
    /// name (幸福湾) is no feeling.
    #[test]
    fn urban_places_and_units() {
        let (f, role) = read("白云小区东门的排水管堵塞，雨天积水半米深。");
        assert_eq!(role, Role::Finding, "{f:?}");
        assert!(f.places.iter().any(|p| p.contains("白云")), "{f:?}");
        let (f, _) = read("住宅小区和农贸市场周边的道路需要整治。");
        assert!(f.places.is_empty(), "{f:?}");
        let (f, _) = read("人防公园总占地面积42000m2，二期用地还属于企业。");
        assert_eq!(f.local_figures, 1, "{f:?}");
        let (f, _) = read("门店面积200㎡。");
        assert_eq!(f.local_figures, 1, "{f:?}");
        let (f, role) = read("途经阳光新城、芷兰小区。");
        assert_eq!(f.sentiment, 0, "{f:?}");
        assert_ne!(role, Role::Sentiment);
    }

    #[test]
    fn process_counts_and_dates_are_not_local_figures() {
        let (f, _) = read("9月21日走访了12户，收集意见建议15条。");
        assert_eq!(f.local_figures, 0, "{f:?}");
        assert!(f.process_figures >= 1);
        let (f, _) = read("全镇2.2万人中饮水困难的有1.5万余人。");
        assert_eq!(f.local_figures, 2, "{f:?}");
    }

    #[test]
    fn masked_and_blank_figures() {
        let (f, _) = read("该村共xxx户xxxx人，耕地面积xxxx亩。");
        assert_eq!(f.local_figures, 0, "{f:?}");
        assert_eq!(f.blanks, 3, "{f:?}");
        let (f, _) = read("xx村有低保户57户143人。");
        assert_eq!(f.masked_places, 1);
        assert_eq!(f.local_figures, 2);
    }

    #[test]
    fn generic_places_are_not_named() {
        for s in ["我们来到这个偏远的贫困村。", "全村和各村的情况都差不多。"]
        {
            let (f, _) = read(s);
            assert!(f.places.is_empty(), "{s}: {:?}", f.places);
        }
        let (f, _) = read("下午到法源村委开会。");
        assert!(!f.places.is_empty() || f.process > 0);
    }
}
