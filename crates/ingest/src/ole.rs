//! Compound files (OLE), the container of Word and Excel 97-2003 files (and WPS's files of the
//! same make): what the `.doc` and `.xls` readers share.

use std::io::{Cursor, Read};

/// The first bytes of a compound file.
pub(crate) const MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// Why a Word or Excel file with a password to open is refused.
pub(crate) const ENCRYPTED: &str = "文件设有打开密码；请提供未加密的文件";

/// A compound file read from memory.
pub(crate) type Compound<'a> = cfb::CompoundFile<Cursor<&'a [u8]>>;

/// The little-endian `u16` at `at`, if `b` holds it.
pub(crate) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// The little-endian `u32` at `at`, if `b` holds it.
pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Why a stream was not read.
pub(crate) enum StreamError {
    /// Larger than the cap.
    TooLarge,
    /// It could not be opened or read (a damaged container).
    Damaged(std::io::Error),
}

/// The whole stream at `path` (`/WordDocument`), refusing one larger than `limit` bytes.
pub(crate) fn read_stream(
    cf: &mut Compound<'_>,
    path: &str,
    limit: u64,
) -> Result<Vec<u8>, StreamError> {
    let mut s = cf.open_stream(path).map_err(StreamError::Damaged)?;
    if s.len() > limit {
        return Err(StreamError::TooLarge);
    }
    let mut buf = Vec::with_capacity(s.len() as usize);
    (&mut s)
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(StreamError::Damaged)?;
    Ok(buf)
}
