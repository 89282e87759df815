//! The allocator, and the one setting of it the binary changes.

// glibc's malloc keeps freed memory in per-thread arenas: a run's resident memory was about
// twice its live heap (heaptrack, 10k documents: 654 MB heap, 1.2 GB RSS), and allocation
// took ~6 % of the CPU. mimalloc returns memory and allocates faster. The `system-alloc` feature
// leaves it out, for heap profilers that see only the system allocator (massif).
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_arena_purge_mult`: its place in `mi_option_e` (mimalloc.h of the v3
/// sources libmimalloc-sys builds by default; the crate names only some options, and a test
/// checks this one and its neighbours by their defaults). Pages freed to the arena go back to
/// the system `purge_delay` (1000 ms) times this (1) after they were freed.
#[cfg(not(feature = "system-alloc"))]
const ARENA_PURGE_MULT: std::ffi::c_int = 24;

/// Pages freed to the allocator's arena go back to the system at once (mimalloc's
/// `arena_purge_mult` 0), unless the user set that or the purge delay in the environment. Must
/// be called before any other thread starts.
///
/// Why a re-run: by default a freed page stays resident for a second, and a re-run's read step
/// frees and allocates hundreds of MB a second (the earlier run's file memo decoded, each file's
/// entry taken over or replaced): at 1M documents its peak was 3.92–4.04 GB with the default
/// and 3.63 GB with this; at 100k 0.78–0.80 GB against 0.69 GB, in the same time (the same as
/// `MIMALLOC_PURGE_DELAY=0`). Why not always: a run pays for each page given back when it is
/// used again (a fault and zeroing). A full run, which allocates and frees far more, was about
/// 9% slower with it (100k, `--no-cache`: 36.0–38.3 s against 32.1–35.5 s), its peak 6% lower;
/// and a small re-run too (10k documents, nothing changed, alternating three times: 2.24–2.28 s
/// against 2.09–2.13 s with the default; peak 250–270 MB against 376–401 MB, still under the
/// full run's 0.42–0.44 GB): so only a re-run whose earlier record of its files is
/// [`LARGE_RECORD`] or more, where the 4 GB peak is at stake.
pub fn return_freed_pages() {
    #[cfg(not(feature = "system-alloc"))]
    if std::env::var_os("MIMALLOC_ARENA_PURGE_MULT").is_none()
        && std::env::var_os("MIMALLOC_PURGE_DELAY").is_none()
    {
        // SAFETY: an option is a plain value mimalloc reads without a lock; the caller sets
        // it before any other thread runs.
        unsafe { libmimalloc_sys::mi_option_set(ARENA_PURGE_MULT, 0) };
    }
}

/// The size of an earlier run's record of its files (`files-*.bin`, about 1.9 KB a document)
/// from which a re-run gives freed pages back at once: 1 GiB, about half a million documents
/// (10k: 52 MB, 100k: 190 MB, 1M: 1.9 GB).
pub const LARGE_RECORD: u64 = 1 << 30;

#[cfg(all(test, not(feature = "system-alloc")))]
mod tests {
    use super::*;

    #[test]
    fn the_option_set_is_the_arena_purge_multiplier() {
        // The options around it, by their defaults (mimalloc v3's options.c): the purge delay
        // (15) 1000 ms, arena_reserve (23) 1 GiB in KiB, arena_purge_mult (24) 1, the
        // deprecated purge_extend_delay (25) 1, disallow_arena_alloc (26) 0, retry_on_oom (27)
        // 400. Another mimalloc, or an option moved, fails here before the run sets the wrong one.
        if std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with("MIMALLOC_")) {
            return;
        }
        let get = |o| unsafe { libmimalloc_sys::mi_option_get(o) };
        let around: Vec<_> = (23..=27).map(get).collect();
        assert_eq!(around, [1 << 20, 1, 1, 0, 400]);
        assert_eq!(get(15), 1000);
        assert_eq!(get(ARENA_PURGE_MULT), 1);
    }
}
