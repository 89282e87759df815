//! Named places in a text: villages, townships and groups with a real name (法源村, 石桥村), places
//! jieba knows (长沙/ns), and named facilities (丽发新城小区, 娄双大道, 松雅湖). One recogniser serves
//! the scorer (a named place is a finding) and the suggestions (the places an opinion names, used
//! for heat, filters and the digest when a table's place column is empty).

use crate::normalize::{has_char, is_han};
use crate::segment::Word;

/// Place suffixes: a word ending in one of these (after a non-generic name) is a named place.
pub const PLACE_SUFFIXES: [&str; 14] = [
    "社区", "街道", "嘎查", "村", "镇", "乡", "屯", "寨", "庄", "县", "湾", "坪", "沟", "岭",
];

/// The last characters of [`PLACE_SUFFIXES`] (a test keeps the two in step).
const PLACE_LAST: [char; 14] = [
    '区', '道', '查', '村', '镇', '乡', '屯', '寨', '庄', '县', '湾', '坪', '沟', '岭',
];

/// Whether `t` ends with the last character of a place suffix: a cheap test before comparing
/// it with every suffix (most words end otherwise).
#[inline]
fn may_end_place(t: &str) -> bool {
    t.chars()
        .next_back()
        .is_some_and(|c| PLACE_LAST.contains(&c))
}

/// Suffixes of named facilities and landmarks (白云小区, 娄双大道, 松雅湖): a place when the name
/// before them is a proper name (jieba tags ns/nr/nz/nt), not a kind (住宅小区, 农贸市场).
pub const FACILITY_SUFFIXES: [&str; 31] = [
    "小区",
    "公园",
    "大道",
    "公路",
    "路",
    "街",
    "巷",
    "广场",
    "市场",
    "学校",
    "小学",
    "中学",
    "幼儿园",
    "医院",
    "卫生院",
    "公司",
    "厂",
    "站",
    "大桥",
    "桥",
    "河",
    "湖",
    "水库",
    "花园",
    "新城",
    "苑",
    "大厦",
    "园区",
    "工业园",
    "渠",
    "山庄",
];

/// Words that can stand before a facility word without being its name (建设 | 新城小区).
const NOT_NAMES: [&str; 12] = [
    "建设", "打造", "建成", "位于", "附近", "旁边", "周边", "整个", "所在", "新建", "小区", "我们",
];

/// The sentence-role lexicon shipped with the binary (`corpora/lexicon/roles.txt`): the scorer's
/// roles, and the generic place words (its `泛称` lines) this recogniser starts from.
pub const BUILTIN_ROLES: &str = include_str!("../../../corpora/lexicon/roles.txt");

/// The place recogniser: which names before a suffix are generic (贫困村, 该村) rather than names.
#[derive(Debug, Clone, Default)]
pub struct Places {
    /// Looked up for many words of every text: a fast hash (the words are the lexicon's own).
    generic: rustc_hash::FxHashSet<String>,
}

impl Places {
    /// The recogniser with the generic words of the shipped role lexicon (`泛称` lines).
    pub fn builtin() -> Self {
        Self::from_roles(BUILTIN_ROLES)
    }

    /// The recogniser with the generic words (`泛称<TAB>word` lines) of a role lexicon.
    pub fn from_roles(text: &str) -> Self {
        Self::with_generic(text.lines().filter_map(|l| {
            l.trim_end()
                .split_once('\t')
                .filter(|(c, _)| *c == "泛称")
                .map(|(_, w)| w.trim().to_owned())
        }))
    }

    /// The recogniser with these generic words.
    pub fn with_generic(words: impl IntoIterator<Item = String>) -> Self {
        Self {
            generic: words.into_iter().collect(),
        }
    }

    /// Whether `name` (the part before a place suffix) makes a generic place (贫困村, 该村).
    pub fn is_generic(&self, name: &str) -> bool {
        name.is_empty()
            || self.generic.contains(name)
            || name
                .char_indices()
                .skip(1)
                .any(|(i, _)| self.generic.contains(&name[i..]) && name[i..].chars().count() >= 2)
            || name
                .chars()
                .next()
                .is_some_and(|c| "本该全各每邻我这那某此其".contains(c))
            || name.chars().any(|c| !is_han(c))
    }

    /// The named place starting at word `i` of `words` (tagged words of one text), as a byte
    /// range of that text: a word ending in a place suffix after a specific name, a name followed
    /// by a lone suffix (法源 + 村), a named facility (a proper name and a facility suffix, as one
    /// word or two), or a short place jieba knows (长沙/ns).
    pub fn place_at(&self, words: &[Word<'_>], i: usize) -> Option<(usize, usize)> {
        let w = words.get(i)?;
        if has_char(w.text, '某') {
            return None;
        }
        let n = w.text.chars().count();
        let next = words.get(i + 1).filter(|x| x.start == w.end);
        if may_end_place(w.text)
            && let Some(suf) = PLACE_SUFFIXES
                .iter()
                .find(|x| w.text.ends_with(**x) && w.text.len() > x.len())
        {
            let name = &w.text[..w.text.len() - suf.len()];
            if name.chars().count() >= 2 && !self.is_generic(name) {
                return Some((w.start, w.end));
            }
        }
        if let Some(x) = next
            && may_end_place(x.text)
            && PLACE_SUFFIXES.contains(&x.text)
            && n >= 2
            && !matches!(w.tag, "v" | "vn" | "a" | "ad" | "m" | "q" | "r" | "d" | "p")
            && !self.is_generic(w.text)
        {
            return Some((w.start, x.end));
        }
        let proper = matches!(w.tag, "ns" | "nr" | "nz" | "nt");
        if proper && n >= 2 && !self.is_generic(w.text) {
            if let Some(x) = next.filter(|x| FACILITY_SUFFIXES.contains(&x.text)) {
                return Some((w.start, x.end));
            }
            if FACILITY_SUFFIXES.iter().any(|x| {
                w.text
                    .strip_suffix(*x)
                    .is_some_and(|r| r.chars().count() >= 2 && !self.is_generic(r))
            }) {
                return Some((w.start, w.end));
            }
        }
        if w.tag == "ns"
            && (2..=4).contains(&n)
            && !self.is_generic(w.text)
            && !PLACE_SUFFIXES
                .iter()
                .any(|x| w.text.strip_suffix(*x).is_some_and(|r| self.is_generic(r)))
            // 北路, 大桥, 南站: a direction or a size before a facility is not a name.
            && !FACILITY_SUFFIXES
                .iter()
                .any(|x| w.text.strip_suffix(*x).is_some_and(|r| r.chars().count() < 2))
        {
            return Some((w.start, w.end));
        }
        None
    }

    /// Every named place of a tagged text that carries its kind (石桥村, 暮云街道, 丽发新城小区 —
    /// not a bare name such as 长沙, which jieba's guesses make unreliable in free text: 城市 and
    /// 东西 are tagged places too), once each, in order of first mention. A character glued on
    /// by the segmenter (县泉塘街道 after A7, 到德源小学) is trimmed.
    pub fn find(&self, text: &str, words: &[Word<'_>]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        while i < words.len() {
            if let Some((mut a, b)) = self.place_at(words, i) {
                // A name jieba cut off before a kind word (丽发 | 新城小区): when the place starts
                // with a facility word, the word before it is the name.
                if FACILITY_SUFFIXES.iter().any(|x| words[i].text == *x)
                    && let Some(p) = i.checked_sub(1).map(|j| &words[j])
                    && p.end == a
                    && p.text.chars().count() >= 2
                    && p.text.chars().all(crate::is_han)
                    && !self.is_generic(p.text)
                    && !NOT_NAMES.contains(&p.text)
                {
                    a = p.start;
                }
                let mut name = &text[a..b];
                if let Some(c) = name.chars().next()
                    && "县市区省到为因在从往向对与和及是".contains(c)
                    && name.chars().count() >= 4
                {
                    name = &name[c.len_utf8()..];
                }
                let kind = PLACE_SUFFIXES
                    .iter()
                    .chain(FACILITY_SUFFIXES.iter())
                    .any(|x| name.ends_with(x) && name.len() > x.len());
                if kind && !out.iter().any(|p| p == name) {
                    out.push(name.to_owned());
                }
                while i < words.len() && words[i].start < b {
                    i += 1;
                }
            } else {
                i += 1;
            }
        }
        // Kept with every suggestion for the whole run: room for one name, not the four a
        // first push makes (100k documents: 27 MB of such lists).
        out.shrink_to_fit();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Segmenter;

    #[test]
    fn the_quick_suffix_test_knows_every_suffix() {
        let last: Vec<char> = PLACE_SUFFIXES
            .iter()
            .map(|s| s.chars().next_back().expect("a suffix is not empty"))
            .collect();
        assert_eq!(last, PLACE_LAST);
        assert!(PLACE_SUFFIXES.iter().all(|s| may_end_place(s)));
        assert!(!may_end_place("机耕路") && !may_end_place(""));
    }

    fn places(text: &str) -> Vec<String> {
        let seg = Segmenter::builtin();
        Places::builtin().find(text, &seg.tag(text))
    }

    #[test]
    fn named_places_and_facilities_not_generic_ones() {
        let p = places("石桥村三组的机耕路坏了，贫困村和该村都一样。");
        assert!(p.contains(&"石桥村".to_owned()), "{p:?}");
        assert!(
            !p.iter().any(|x| x.contains("贫困") || x.contains("该村")),
            "{p:?}"
        );
        let p = places("A7县泉塘街道到德源小学，城市东西");
        assert_eq!(p, ["泉塘街道", "德源小学"]);
        assert_eq!(
            places("暮云街道丽发新城小区旁搅拌站"),
            ["暮云街道", "丽发新城小区"]
        );
        let p = places("长沙市住宅小区和农贸市场");
        assert!(
            !p.iter().any(|x| x == "住宅小区" || x == "农贸市场"),
            "{p:?}"
        );
        assert!(places("A市A3区某某村").is_empty());
    }

    #[test]
    fn a_list_of_places_takes_no_more_room_than_its_names() {
        // Kept with each of millions of suggestions: a first push makes room for four.
        for text in [
            "石桥村三组的机耕路坏了",
            "暮云街道丽发新城小区旁搅拌站",
            "没有地名",
        ] {
            let p = places(text);
            assert_eq!(p.capacity(), p.len(), "{text}: {p:?}");
        }
        assert_eq!(places("石桥村三组的机耕路坏了").len(), 1);
    }
}
