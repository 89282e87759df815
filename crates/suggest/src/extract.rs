//! Suggestion extraction: the opinions, problems and suggestions in a submission.

use diaoyan_model::{Kind, Submission, Voice};
use diaoyan_text::{body_start, is_han, is_text_char, sentences};
use regex::Regex;
use std::sync::LazyLock;

/// One extracted piece: byte span in the submission, whose words, the text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Piece {
    pub start: usize,
    pub end: usize,
    pub voice: Voice,
    /// The span's end with its numbering cut off: always `sub.text[end - text.len()..end]`.
    pub text: String,
}

/// Labels that open a line of a visit record or form and say what follows.
static PEOPLE_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:反映问题|群众反映|村民反映|主要问题|提出问题|存在问题|问题|意见建议|诉求建议|希望和建议|意见|建议|诉求|想请和建议)\s*[：:]\s*")
        .expect("static regex")
});
static SKIP_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    // Situation lines, replies, and the household line of a visit record (【第1户】户主：…).
    Regex::new(r"^(?:(?:家庭情况|基本情况|家庭状况|家中情况|处理意见|处理情况|答复|回复|户主|走访对象|被走访人|类别)\s*[：:]|【)")
        .expect("static regex")
});
static HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|第[一二三四五六七八九十]+部分)\s*(.{0,20})$")
        .expect("static regex")
});
/// Item numbering at the start of a sentence: （一） (2) 3. 4、 五、
static NUMBERING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:（[一二三四五六七八九十0-9]+）|\([0-9]+\)|[0-9]+\s*[.、．]|[一二三四五六七八九十]+、)\s*").expect("static regex")
});
/// Words that make a sentence an opinion, a problem or a suggestion.
static CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"建议|希望|盼望|期盼|期望|呼吁|要求|诉求|反映|恳请|请求|盼着|想请|难[，。；！？]|难$|问题|不到位|困难|坑洼|塌方|没有|缺少|缺乏|不够|太多|太高|太远|太贵|不及时|停运|滞销|拖欠|无人|没人|不方便|不便|断水|停水|漏水|损坏|坏了|老化|超标|扰民|收费",
    )
    .expect("static regex")
});
static CATEGORY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"困难户|上访户|种养专业户|个体工商户|低保户|五保户|特困户|贫困户|困难群众")
        .expect("static regex")
});
/// Counts of the work itself (记录问题39个, 收集意见建议27条, 梳理出12个问题): how many
/// problems or suggestions were gathered, not one of them.
static COUNTED: LazyLock<Regex> = LazyLock::new(|| {
    // Not a lone 一: 一个问题 is an article, not a count (另一个问题是…).
    let n = r"(?:\d+|[二两三四五六七八九十][一二两三四五六七八九十百千]*|一[一二两三四五六七八九十百千]+)\s*(?:余|多)?\s*(?:个|条|件|项|类)";
    let what = r"(?:意见建议|意见和建议|问题|意见|建议|诉求)";
    Regex::new(&format!(r"{what}\s*{n}|{n}\s*{what}")).expect("static regex")
});
/// Someone other than the writer is speaking.
static SPEAKER_CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"群众|村民|老百姓|乡亲|居民|老人|大爷|大妈|大叔|大姐|阿姨|师傅|户主|说|讲|提到|谈到|反映|提出|盼望|诉求")
        .expect("static regex")
});

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Other,
    Problems,
    Suggestions,
}

fn section_of(title: &str) -> Section {
    if title.contains("问题")
        || title.contains("困难")
        || title.contains("群众反映")
        || title.contains("短板")
    {
        Section::Problems
    } else if title.contains("建议") || title.contains("意见") || title.contains("对策") {
        Section::Suggestions
    } else {
        Section::Other
    }
}

fn han_len(s: &str) -> usize {
    s.chars().filter(|&c| is_han(c)).count()
}

/// Extracts the suggestions of one submission. An opinion row is one suggestion as a whole;
/// elsewhere, lines labelled as the people's words (反映问题：, forum speakers) and sentences
/// carrying a cue (建议, 希望, 反映, …难, 问题 …) or standing in a 存在问题/意见建议 section are
/// taken, split from the cadre's own prose by who is speaking. Exact and near-exact repeats
/// within the submission count once.
pub(crate) fn extract(sub: &Submission, min_han: usize) -> Vec<Piece> {
    if sub.kind == Some(Kind::Opinion) {
        let t = sub.text.trim();
        if han_len(t) == 0 {
            return vec![];
        }
        let start = sub.text.find(t).unwrap_or(0);
        return vec![Piece {
            start,
            end: start + t.len(),
            voice: Voice::People,
            text: t.to_owned(),
        }];
    }
    let text = &sub.text;
    let base = match body_start(text) {
        b if text[b..].trim().is_empty() => 0,
        b => b,
    };
    let minutes = sub.kind == Some(Kind::Minutes);
    // The host is named in the header block, which the body scan skips.
    let host = diaoyan_text::minutes_host(text);
    let mut section = Section::Other;
    let mut pieces: Vec<Piece> = Vec::new();
    let mut offset = base;
    for line in text[base..].split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let lead = line.len() - line.trim_start().len();
        if let Some(c) = HEADING
            .captures(trimmed)
            .filter(|_| !trimmed.contains(['。', '；']))
        {
            section = section_of(&c[1]);
            continue;
        }
        if SKIP_LABEL.is_match(trimmed) {
            continue;
        }
        // Where the line's own content starts, and whose words it is.
        let (skip, people) = if let Some(m) = PEOPLE_LABEL.find(trimmed) {
            (m.end(), Some(true))
        } else if minutes {
            match diaoyan_text::minutes_line(trimmed, &host) {
                diaoyan_text::MinutesLine::Speaker(_, end) => (end, Some(true)),
                diaoyan_text::MinutesLine::Skip => continue,
                diaoyan_text::MinutesLine::Plain => (0, None),
            }
        } else {
            (0, None)
        };
        let content_start = line_start + lead + skip;
        let content = &text[content_start..line_start + line.len()];
        for sp in sentences(content) {
            let s = sp.of(content);
            if han_len(s) < min_han {
                continue;
            }
            let in_section = section != Section::Other;
            if people.is_none() && !in_section && !has_cue(s) {
                continue;
            }
            let voice = match people {
                Some(true) => Voice::People,
                _ if speaks(s) => Voice::People,
                _ => Voice::Cadre,
            };
            pieces.push(Piece {
                start: content_start + sp.start,
                end: content_start + sp.end,
                voice,
                text: NUMBERING.replace(s, "").into_owned(),
            });
        }
    }
    dedup(pieces)
}

/// People named in passing, not speaking (为群众办实事, 人民群众的获得感, 村民委员会, 村民座谈会),
/// and words holding 说 or 讲 that are no speaking (说明, 宣讲).
static IN_PASSING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"为(?:广大|人民)?群众|服务群众|联系群众|带动群众|帮助群众|让群众|群众的|干部群众|人民群众|广大群众|困难群众|群众路线|群众获得感|群众满意|群众利益|群众生活|群众增收|村民委员会|村民小组|村民代表大会|村民座谈会|村民大会|村民们的|老百姓的|说明|宣讲|讲解|讲座|述说|听说",
    )
    .expect("static regex")
});

/// Whether someone of the place speaks in a sentence ([`SPEAKER_CUE`]), once the people it
/// only names in passing are left aside.
fn speaks(s: &str) -> bool {
    SPEAKER_CUE.is_match(s) && SPEAKER_CUE.is_match(&IN_PASSING.replace_all(s, "，"))
}

/// Whether a sentence carries a cue of its own: household categories (困难户, 上访户) are who
/// was visited, not a problem raised, and counts of problems gathered are the work, not a
/// problem.
fn has_cue(s: &str) -> bool {
    CUE.is_match(s) && {
        let rest = CATEGORY.replace_all(s, "");
        CUE.is_match(&COUNTED.replace_all(&rest, ""))
    }
}

fn key(s: &str) -> Vec<char> {
    s.chars().filter(|&c| is_text_char(c)).collect()
}

/// A piece's distinct character bigrams, each packed into one number, sorted; and a 256-bit
/// signature of them, a bit for each ([`bit`]). A bigram whose bit another piece's signature
/// lacks is not one of that piece's.
struct Bigrams {
    sorted: Vec<u64>,
    sig: [u64; 4],
}

/// A packed bigram's bit in a [`Bigrams`] signature: the top byte of a multiplicative hash.
fn bit(x: u64) -> usize {
    (x.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as usize
}

impl Bigrams {
    fn len(&self) -> usize {
        self.sorted.len()
    }

    /// At most how many bigrams two pieces share: those of the shorter list whose bit the other
    /// piece's signature holds (every shared bigram is among them). One pass over the shorter
    /// list with no branch on the values, where merging both lists ([`common`]) mispredicts
    /// about every other step.
    fn shared_at_most(&self, other: &Bigrams) -> usize {
        let (few, many) = if self.len() <= other.len() {
            (self, other)
        } else {
            (other, self)
        };
        few.sorted
            .iter()
            .map(|&x| {
                let i = bit(x);
                (many.sig[i >> 6] >> (i & 63) & 1) as usize
            })
            .sum()
    }
}

/// The distinct character bigrams of `k` ([`Bigrams`]).
fn bigrams(k: &[char]) -> Bigrams {
    let mut v: Vec<u64> = k
        .windows(2)
        .map(|w| (u64::from(w[0]) << 32) | u64::from(w[1]))
        .collect();
    v.sort_unstable();
    v.dedup();
    let mut sig = [0u64; 4];
    for &x in &v {
        let i = bit(x);
        sig[i >> 6] |= 1 << (i & 63);
    }
    Bigrams { sorted: v, sig }
}

/// How many values two sorted, duplicate-free lists share.
fn common(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Edit distance between two short character sequences, or `None` past `limit`.
fn edit_distance(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        if cur.iter().min().is_some_and(|&m| m > limit) {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[b.len()]).filter(|&d| d <= limit)
}

/// Whether two pieces (their letters and bigrams) repeat each other: character-bigram
/// Jaccard ≥ 0.9, or an edit distance of at most a tenth of the length (at least one character).
fn near_repeat(k: &[char], b: &Bigrams, kk: &[char], kb: &Bigrams) -> bool {
    // Shared bigrams are at most the smaller set: when it is under 0.9 of the larger, the
    // Jaccard cannot reach 0.9 and the sets are not compared.
    let (small, large) = (kb.len().min(b.len()), kb.len().max(b.len()));
    let jaccard_possible = 10 * small >= 9 * large;
    let limit = (k.len().max(kk.len()) / 10).max(1);
    let edit_possible = k.len() <= 200 && k.len().abs_diff(kk.len()) <= limit;
    if !jaccard_possible && !edit_possible {
        return false;
    }
    // Either rule below holds only with enough shared bigrams, and holds the more the more
    // are shared: what they say of the signatures' bound decides most pairs, which share little
    // (one edit breaks at most two adjacent pairs of either side, so more bigrams than twice
    // the limit found on one side only rule the edit distance out without computing it).
    let jaccard = |inter: usize| {
        let union = kb.len() + b.len() - inter;
        jaccard_possible && union > 0 && inter as f64 / union as f64 >= 0.9
    };
    let few_edits = |inter: usize| {
        edit_possible && kb.len() - inter <= 2 * limit && b.len() - inter <= 2 * limit
    };
    let bound = b.shared_at_most(kb);
    if !jaccard(bound) && !few_edits(bound) {
        return false;
    }
    let inter = common(&kb.sorted, &b.sorted);
    jaccard(inter) || few_edits(inter) && edit_distance(k, kk, limit).is_some()
}

/// Drops exact and near-exact repeats within one submission: character-bigram Jaccard ≥ 0.9, or
/// an edit distance of at most a tenth of the length (at least one character).
fn dedup(pieces: Vec<Piece>) -> Vec<Piece> {
    struct Kept {
        piece: Piece,
        chars: Vec<char>,
        bigrams: Bigrams,
    }
    let mut kept: Vec<Kept> = Vec::new();
    for p in pieces {
        let k = key(&p.text);
        let b = bigrams(&k);
        let near = kept.iter().any(
            |Kept {
                 chars: kk,
                 bigrams: kb,
                 ..
             }| near_repeat(&k, &b, kk, kb),
        );
        if !near {
            kept.push(Kept {
                piece: p,
                chars: k,
                bigrams: b,
            });
        }
    }
    kept.into_iter().map(|k| k.piece).collect()
}

#[cfg(test)]
mod tests {
    /// The bigram bound never changes a decision: on pieces and their random edits (short,
    /// long, repeated letters), `near_repeat` equals the plain rule computed in full.
    #[test]
    fn the_bigram_bound_only_skips_pairs_the_full_rule_rejects() {
        fn plain(k: &[char], b: &Bigrams, kk: &[char], kb: &Bigrams) -> bool {
            let inter = common(&kb.sorted, &b.sorted);
            let union = kb.len() + b.len() - inter;
            let jaccard = union > 0 && inter as f64 / union as f64 >= 0.9;
            let limit = (k.len().max(kk.len()) / 10).max(1);
            jaccard || (k.len() <= 200 && edit_distance(k, kk, limit).is_some())
        }
        let alphabet: Vec<char> = "村路水田户建议修硬化渠桥卫生室学校".chars().collect();
        let mut seed = 0x9e3779b97f4a7c15_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let (mut near, mut far, mut bounded) = (0, 0, 0);
        for round in 0..6000 {
            // Every third piece from 3,000 characters (sparse signatures, as in real text),
            // the others from the 17 above (dense ones, many shared bigrams by chance).
            let wide = round % 3 == 2;
            let letter_of = |r: usize| {
                if wide {
                    char::from_u32(0x4e00 + (r % 3000) as u32).unwrap()
                } else {
                    alphabet[r % alphabet.len()]
                }
            };
            let len = 1 + next(if round % 4 == 0 { 120 } else { 40 });
            let a: Vec<char> = (0..len).map(|_| letter_of(next(3000))).collect();
            // Every fifth pair is two unrelated pieces of about the same length; the others a
            // piece and a few random edits of it.
            let c: Vec<char> = if round % 5 == 4 {
                (0..len + next(3)).map(|_| letter_of(next(3000))).collect()
            } else {
                let mut c = a.clone();
                for _ in 0..next(8) {
                    let at = next(c.len() + 1);
                    match next(3) {
                        0 if at < c.len() => c[at] = letter_of(next(3000)),
                        1 if at < c.len() => {
                            c.remove(at);
                        }
                        _ => c.insert(at, letter_of(next(3000))),
                    }
                }
                c
            };
            if c.is_empty() {
                continue;
            }
            let (ba, bc) = (bigrams(&a), bigrams(&c));
            let shared = common(&ba.sorted, &bc.sorted);
            let bound = bc.shared_at_most(&ba);
            assert!(bound >= shared && bound <= ba.len().min(bc.len()));
            // The bound alone rules both rules out (see `near_repeat`): the Jaccard needs at
            // least 0.9 of the larger list shared, few edits at most twice the limit unshared.
            let most = ba.len().max(bc.len());
            let limit = (a.len().max(c.len()) / 10).max(1);
            if 10 * bound < 9 * most && most - bound > 2 * limit {
                bounded += 1;
            }
            let want = plain(&c, &bc, &a, &ba);
            assert_eq!(near_repeat(&c, &bc, &a, &ba), want, "{a:?} / {c:?}");
            if want { near += 1 } else { far += 1 }
        }
        assert!(near > 500 && far > 500, "{near} near, {far} far");
        // The signatures do decide: unrelated pieces of sparse letters are ruled out by them.
        assert!(bounded > 2000, "{bounded} pairs ruled out by the bound");
    }

    use super::*;

    fn sub(kind: Kind, text: &str) -> Submission {
        Submission {
            kind: Some(kind),
            text: text.into(),
            ..Submission::default()
        }
    }

    /// The pieces' texts and voices; every piece's text is the end of its span in the text.
    fn texts(kind: Kind, text: &str) -> Vec<(String, Voice)> {
        extract(&sub(kind, text), 4)
            .into_iter()
            .inspect(|p| assert_eq!(&text[p.end - p.text.len()..p.end], p.text, "{text}"))
            .map(|p| (p.text, p.voice))
            .collect()
    }

    #[test]
    fn extraction_table() {
        use Voice::*;
        /// Kind, input, the suggestions expected with their voices.
        type Case<'a> = (Kind, &'a str, Vec<(&'a str, Voice)>);
        let cases: Vec<Case> = vec![
            (
                Kind::Visit,
                "走访笔录（第1天）\n走访人：张伟\n\n【第1户】户主：王桂兰　三组　类别：困难户\n家庭情况：家里3口人。\n反映问题：三组机耕路一下雨就没法走。\n意见建议：希望雨季前铺碎石。",
                vec![
                    ("三组机耕路一下雨就没法走。", People),
                    ("希望雨季前铺碎石。", People),
                ],
            ),
            (
                Kind::Minutes,
                "石桥村座谈会记录\n主持人：张伟\n\n张伟：大家说说。\n村民代表王建国：卫生室没有医生。建议每周派医生坐诊。\n张伟：记下了。",
                vec![
                    ("卫生室没有医生。", People),
                    ("建议每周派医生坐诊。", People),
                ],
            ),
            (
                Kind::Report,
                "关于石桥村的调研报告\n\n一、基本情况\n全村320户。\n二、存在的主要问题\n（一）三组机耕路有两处塌方。\n三、意见建议\n1. 把三组机耕路纳入明年硬化计划。\n四、下一步打算\n月底回访。",
                vec![
                    ("三组机耕路有两处塌方。", Cadre),
                    ("把三组机耕路纳入明年硬化计划。", Cadre),
                ],
            ),
            (
                Kind::Note,
                "蹲点手记\n\n今天走访了6户。村民说自来水经常停水，最长停了五天。我建议水厂停水前先通知。天气很好。",
                vec![
                    ("村民说自来水经常停水，最长停了五天。", People),
                    ("我建议水厂停水前先通知。", Cadre),
                ],
            ),
            (
                Kind::Note,
                "手记\n\n今天共走访9户，其中有困难户、上访户。路灯坏了没人修。",
                vec![("路灯坏了没人修。", Cadre)],
            ),
            (
                Kind::Note,
                "手记\n\n群众反映路灯坏了。群众反映路灯坏了！群众反映路灯都坏了。",
                vec![("群众反映路灯坏了。", People)],
            ),
            // How many problems and suggestions were gathered is the work, not one of them; a
            // counted problem told with its content still is one.
            (
                Kind::Note,
                "手记\n\n今天共走访22户，记录问题39个，下一步逐项跟踪。召开院坝会3次，收集意见建议27条。梳理出5个问题。发放征求意见表15份，收集意见和建议二十余条。走访一个困难家庭，孩子上学没有车。群众反映的2个问题：渠道漏水、路灯不亮。另一个问题是去镇上的路坑坑洼洼。",
                vec![
                    ("走访一个困难家庭，孩子上学没有车。", Cadre),
                    ("群众反映的2个问题：渠道漏水、路灯不亮。", People),
                    ("另一个问题是去镇上的路坑坑洼洼。", Cadre),
                ],
            ),
            // People named in passing are the writer's prose; people who speak are not.
            (
                Kind::Report,
                "调研报告\n\n部分道路设施还不够完善，与群众的期盼还有一定差距。服务群众的能力有待提升，建议加强培训。村民谈到：水渠漏水没人修。",
                vec![
                    ("部分道路设施还不够完善，与群众的期盼还有一定差距。", Cadre),
                    ("服务群众的能力有待提升，建议加强培训。", Cadre),
                    ("村民谈到：水渠漏水没人修。", People),
                ],
            ),
        ];
        for (kind, text, want) in cases {
            let got = texts(kind, text);
            let want: Vec<(String, Voice)> =
                want.into_iter().map(|(t, v)| (t.to_owned(), v)).collect();
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn an_opinion_row_is_one_suggestion() {
        let got = texts(Kind::Opinion, "  路灯坏了大半年。希望尽快修。 ");
        assert_eq!(
            got,
            vec![("路灯坏了大半年。希望尽快修。".to_owned(), Voice::People)]
        );
    }

    #[test]
    fn shared_bigrams_are_counted_once_each() {
        let k = |s: &str| s.chars().collect::<Vec<char>>();
        // 路灯坏了路灯: 路灯 twice, one distinct bigram.
        let a = bigrams(&k("路灯坏了路灯"));
        assert_eq!(a.len(), 4);
        let b = bigrams(&k("路灯都坏了"));
        // Shared: 路灯, 坏了.
        assert_eq!(common(&a.sorted, &b.sorted), 2);
        assert_eq!(common(&b.sorted, &a.sorted), 2);
        assert_eq!(common(&a.sorted, &[]), 0);
        assert_eq!(common(&a.sorted, &a.sorted), a.len());
        // The signatures' bound is never below the count (here no two bits collide).
        assert!(a.shared_at_most(&b) >= 2 && b.shared_at_most(&a) >= 2);
        assert_eq!(a.shared_at_most(&a), a.len());
    }

    #[test]
    fn spans_point_into_the_submission() {
        let s = sub(Kind::Note, "手记\n\n村民说自来水经常停水。");
        for p in extract(&s, 4) {
            assert!(s.text[p.start..p.end].contains("自来水经常停水"));
        }
    }
}
