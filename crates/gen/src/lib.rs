//! Campaign generators: the bundled sample campaign (`corpora/sample`) with its truth files, and
//! synthetic campaigns of any size for benchmarks.
//!
//! Both are deterministic: the same arguments give byte-identical files. The text comes from
//! banks written for diaoyan (`banks.rs`); nothing is copied from real people.
//!
//! ```no_run
//! let dir = std::env::temp_dir().join("diaoyan-gen-doc");
//! let s = diaoyan_gen::write_corpus(&dir, 100, 7).unwrap();
//! assert_eq!(s.files, 100);
//! ```

mod banks;
mod corpus;
mod docx;
mod sample;

pub use corpus::{GenDoc, generate, write_corpus};
pub use docx::docx_bytes;
pub use sample::write_sample;

use std::path::{Path, PathBuf};

/// What a generator wrote.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Files written (documents and tables; truth files not counted).
    pub files: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Generator errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be written.
    #[error("无法写入 {path}：{source}")]
    Write {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A workbook could not be built.
    #[error("无法生成表格 {path}：{reason}")]
    Xlsx {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The generator crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn write(path: &Path, bytes: &[u8], summary: &mut Summary) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, bytes).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })?;
    summary.files += 1;
    summary.bytes += bytes.len() as u64;
    Ok(())
}

/// SplitMix64: a small, fast, fully deterministic generator (the output must never change with
/// a dependency upgrade, or the sample's truth files would drift).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// One item, copied (banks hold `&'static str`s and small tuples).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next_u64() % items.len() as u64) as usize]
    }

    /// One item, borrowed.
    pub fn pick_ref<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Where a text is set: fills the slots of the banks.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub village: String,
    pub town: String,
    /// Households in the village, when the roster fixes it.
    pub households: Option<u32>,
}

/// Fills `{slot}`s with the place and fresh random figures.
pub(crate) fn fill(template: &str, place: &Place, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    let mut crop: Option<&str> = None;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let slot = &rest[open + 1..open + close];
        let v = match slot {
            "v" => place.village.clone(),
            "t" => place.town.clone(),
            "g" => format!(
                "{}组",
                ["一", "二", "三", "四", "五", "六", "七"][rng.range(0, 6) as usize]
            ),
            "p" => person(rng),
            "n" | "n2" | "n3" => rng.range(2, 9).to_string(),
            "hh" | "hh2" => rng.range(12, 96).to_string(),
            "km" => rng.range(2, 15).to_string(),
            "wan" => format!("{}.{}", rng.range(1, 48), rng.range(0, 9)),
            "yuan" => (rng.range(12, 180) * 10).to_string(),
            "smu" => rng.range(2, 9).to_string(),
            "mu" | "mu2" | "mu3" => rng.range(30, 300).to_string(),
            "bigmu" => rng.range(900, 4200).to_string(),
            "pct" => rng.range(20, 75).to_string(),
            "vhh" => place
                .households
                .unwrap_or_else(|| rng.range(150, 600) as u32)
                .to_string(),
            "pop" => {
                let hh = place.households.unwrap_or(300);
                (u64::from(hh) * 3 + rng.range(0, u64::from(hh))).to_string()
            }
            "work" => rng.range(180, 900).to_string(),
            "old" => rng.range(120, 480).to_string(),
            "kids" => rng.range(15, 90).to_string(),
            "crop" => {
                // Drawn every time, so the figures after it stay as they were; but a crop named
                // twice in one sentence is one crop, and never the one the sentence names itself
                // (主要种植水稻和水稻).
                let drawn = rng.pick(banks::CROPS);
                let c = *crop.get_or_insert_with(|| {
                    if template.contains(drawn) {
                        let at = banks::CROPS.iter().position(|&c| c == drawn).unwrap_or(0);
                        banks::CROPS[(at + 1) % banks::CROPS.len()]
                    } else {
                        drawn
                    }
                });
                c.to_owned()
            }
            other => format!("{{{other}}}"),
        };
        out.push_str(&v);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// Rewrites text in one writer's own words: each listed word is replaced, at random, by one of
/// its variants. Names, places and figures are untouched.
pub(crate) fn paraphrase(text: &str, rng: &mut Rng) -> String {
    let mut out = text.to_owned();
    for (word, variants) in banks::SYNONYMS {
        if !out.contains(word) {
            continue;
        }
        let parts: Vec<&str> = out.split(word).collect();
        let mut rebuilt = String::with_capacity(out.len() + 16);
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                rebuilt.push_str(rng.pick(variants));
            }
            rebuilt.push_str(part);
        }
        out = rebuilt;
    }
    out
}

/// A person's name, as cadres write them in notes.
pub(crate) fn person(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(banks::SURNAMES), rng.pick(banks::GIVEN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_every_known_slot() {
        let place = Place {
            village: "石桥村".into(),
            town: "白沙镇".into(),
            households: Some(320),
        };
        let mut rng = Rng::new(1);
        let s = fill("{v}离{t}{km}公里，有{hh}户，{unknown}", &place, &mut rng);
        assert!(s.starts_with("石桥村离白沙镇"));
        assert!(s.ends_with("{unknown}"));
        assert!(!s.contains("{v}") && !s.contains("{km}"));
    }

    /// A crop named twice is one crop, never the one the sentence names, and the figures drawn
    /// after it are those of a fill that drew a crop at each slot.
    #[test]
    fn a_crop_is_one_crop_in_a_sentence() {
        let place = Place {
            village: "石桥村".into(),
            town: "白沙镇".into(),
            households: None,
        };
        let mut seen = std::collections::HashSet::new();
        for seed in 0..200 {
            let mut rng = Rng::new(seed);
            let s = fill(
                "主要种植水稻和{crop}，{crop}种植面积{mu3}亩",
                &place,
                &mut rng,
            );
            let rest = s.strip_prefix("主要种植水稻和").unwrap();
            let (first, rest) = rest.split_once('，').unwrap();
            let (second, figure) = rest.split_once("种植面积").unwrap();
            assert_eq!(first, second, "{s}");
            assert_ne!(first, "水稻", "{s}");
            seen.insert(first.to_owned());
            // The figure is the one a fill with two independent draws would give.
            let mut again = Rng::new(seed);
            again.pick(banks::CROPS);
            again.pick(banks::CROPS);
            assert_eq!(figure, format!("{}亩", again.range(30, 300)), "{s}");
        }
        assert!(seen.len() >= 5, "{seen:?}");
    }

    #[test]
    fn paraphrase_keeps_figures() {
        let mut rng = Rng::new(3);
        let s = paraphrase("群众反映三组机耕路坏了大半年，家里5口人。", &mut rng);
        assert!(s.contains("三组机耕路") && s.contains("5口人"), "{s}");
    }

    #[test]
    fn rng_is_deterministic() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::new(9);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::new(9);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }
}
