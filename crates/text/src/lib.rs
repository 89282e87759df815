//! Chinese text core: normalisation, sentence and clause split with byte offsets, word
//! segmentation, personal-number masking and date cues.
//!
//! The one design decision a newcomer must know: **offsets always point into the original text**.
//! [`sentences`] and [`clauses`] return [`Span`]s over the text as it was read, so evidence quoted
//! in a reason can be located in the reviewer's own file; [`normalize`] is applied to a copy when a
//! rule needs it (full-width digits, odd spaces), never to the stored text.
//!
//! The segmenter ([`Segmenter`]) loads the dictionary once and is cheap to clone and share across
//! threads; the engine behind it is private.
//!
//! ```
//! use diaoyan_text::{sentences, normalize, Segmenter};
//! let text = "石桥村有３２０户。机耕路坑洼不平！";
//! let spans = sentences(text);
//! assert_eq!(spans.len(), 2);
//! assert_eq!(&text[spans[1].start..spans[1].end], "机耕路坑洼不平！");
//! assert_eq!(normalize("３２０户"), "320户");
//! let seg = Segmenter::builtin();
//! assert!(seg.words("石桥村的机耕路").contains(&"机耕路"));
//! ```

mod blocks;
mod dates;
mod header;
mod mask;
mod minutes;
mod normalize;
mod places;
mod segment;
mod split;

pub use dates::{chinese_number, find_date, find_day, parse_date, parse_datetime};
pub use header::body_start;
pub use mask::mask_personal;
pub use minutes::{MinutesLine, minutes_host, minutes_line};
pub use normalize::{escape_html, has_char, is_alnum, is_han, is_text_char, normalize};
pub use places::{BUILTIN_ROLES, FACILITY_SUFFIXES, PLACE_SUFFIXES, Places};
pub use segment::{Lexicons, Segmenter, Tagged, Word};
pub use split::{Span, clauses, sentences};

/// Errors of the text crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A lexicon file could not be read.
    #[error("无法读取词表 {path}：{source}")]
    Lexicon {
        /// The lexicon's path.
        path: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
}

/// The text crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
