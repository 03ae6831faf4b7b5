//! Sorted runs of exact sets kept on disk, so that a scan's memory does not grow with the
//! number of distinct matching values.
//!
//! An exact set whose sorted part reaches [`SPILL_AT`] tokens writes it as a [`Run`] to one
//! unnamed temporary file of the process (`O_TMPFILE` in `$TMPDIR` where the system offers it:
//! no name, gone when the process ends however it ends) and keeps only a small index in
//! memory: where each of the [`PARTS`] ranges of token values starts. Counting reads one
//! range of every run at a time, so that it needs memory for 1/[`PARTS`] of the set.
//! The file holds the low 64 bits of keyed tokens of matching values, as partial results
//! do; never a value. A dropped run frees its bytes (hole punched on Linux).
//!
//! When the file cannot be created or written (no space, no `$TMPDIR`), sets stay in memory,
//! counts stay exact, and [`failure`] says why once, for the caller to warn.

// Reviewed (#11): `bounds` has `PARTS + 1` entries and is indexed by a part `< PARTS` and
// its successor.
#![allow(clippy::indexing_slicing)]

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::{Mutex, OnceLock};

/// Tokens of a set's sorted part at which it is written to disk (512 KiB).
pub const SPILL_AT: usize = 1 << 16;
/// Tokens of a sorted part at which it is spilled: [`SPILL_AT`]; tests set less.
#[cfg(not(test))]
#[inline]
pub fn spill_at() -> usize {
    SPILL_AT
}

#[cfg(test)]
thread_local! {
    /// This thread's [`spill_at`] (tests only).
    pub static TEST_SPILL_AT: std::cell::Cell<usize> = const { std::cell::Cell::new(SPILL_AT) };
}

/// Tokens of a sorted part at which it is spilled: this thread's test setting.
#[cfg(test)]
pub fn spill_at() -> usize {
    TEST_SPILL_AT.with(std::cell::Cell::get)
}

/// Ranges of token values a run is indexed by: the top `PART_BITS` bits.
pub const PARTS: usize = 1 << PART_BITS;
/// Top bits of a token that name its range.
pub const PART_BITS: u32 = 6;

/// The range of values (`0..PARTS`) a token falls into: its top bits.
#[inline]
pub fn part(h: u64) -> usize {
    (h >> (64 - PART_BITS)) as usize
}

/// The first index of each range in an ascending slice, and its length last.
fn bounds_of(sorted: &[u64]) -> [usize; PARTS + 1] {
    let mut b = [sorted.len(); PARTS + 1];
    for (p, slot) in b.iter_mut().enumerate().take(PARTS) {
        *slot = sorted.partition_point(|&h| part(h) < p);
    }
    b
}

/// The tokens of range `p` in an ascending slice.
pub fn part_of(sorted: &[u64], p: usize) -> &[u64] {
    let lo = sorted.partition_point(|&h| part(h) < p);
    let hi = sorted.partition_point(|&h| part(h) <= p);
    sorted.get(lo..hi).unwrap_or_default()
}

struct Store {
    file: File,
    /// End of the bytes handed out.
    end: Mutex<u64>,
}

static STORE: OnceLock<Option<Store>> = OnceLock::new();
static FAILURE: OnceLock<String> = OnceLock::new();

fn fail(what: &str, e: &std::io::Error) {
    let dir = std::env::temp_dir();
    let _ = FAILURE.set(format!(
        "{what} the distinct-count spill file in {} ({e}); exact sets kept in memory",
        dir.display()
    ));
}

fn store() -> Option<&'static Store> {
    STORE
        .get_or_init(|| match tempfile::tempfile() {
            Ok(file) => Some(Store { file, end: Mutex::new(0) }),
            Err(e) => {
                fail("could not create", &e);
                None
            }
        })
        .as_ref()
        .filter(|_| FAILURE.get().is_none())
}

/// Why sets could not be spilled and were kept in memory, if that happened in this process.
pub fn failure() -> Option<&'static str> {
    FAILURE.get().map(String::as_str)
}

/// A sorted, repeat-free run of tokens in the spill file.
#[derive(Debug)]
pub struct Run {
    offset: u64,
    /// Index of the first token of each range, and the run's length last.
    bounds: [usize; PARTS + 1],
}

impl Run {
    /// Writes an ascending, repeat-free slice; `None` (memory kept) when that fails.
    pub fn write(sorted: &[u64]) -> Option<Run> {
        let store = store()?;
        let bytes: &[u8] = bytemuck::cast_slice(sorted);
        let offset = {
            let mut end = store.end.lock().unwrap_or_else(|e| e.into_inner());
            let at = *end;
            *end += bytes.len() as u64;
            at
        };
        if let Err(e) = store.file.write_all_at(bytes, offset) {
            fail("could not write", &e);
            return None;
        }
        Some(Run { offset, bounds: bounds_of(sorted) })
    }

    /// Tokens in the run.
    pub fn len(&self) -> usize {
        self.bounds[PARTS]
    }

    /// Appends the run's tokens of range `p` (ascending) to `out`.
    ///
    /// # Panics
    /// If the spill file cannot be read back (an I/O error on the process's own temporary
    /// file): a count that is not exact must not be reported as exact.
    pub fn read_part(&self, p: usize, out: &mut Vec<u64>) {
        let (lo, hi) = (self.bounds[p], self.bounds[p + 1]);
        if hi == lo {
            return;
        }
        let store = STORE.get().and_then(Option::as_ref).expect("a run exists, so its file does");
        let at = out.len();
        out.resize(at + (hi - lo), 0);
        let dst: &mut [u8] = bytemuck::cast_slice_mut(out.get_mut(at..).unwrap_or_default());
        store
            .file
            .read_exact_at(dst, self.offset + 8 * lo as u64)
            .expect("reading back the distinct-count spill file");
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(Some(store)) = STORE.get() {
            use std::os::fd::AsRawFd;
            let len = 8 * self.len() as i64;
            // SAFETY: plain system call on an open descriptor; a failure only keeps the bytes.
            unsafe {
                libc::fallocate(
                    store.file.as_raw_fd(),
                    libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                    self.offset as i64,
                    len,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_reads_back_each_range() {
        let mut v: Vec<u64> = (0..5000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect();
        v.sort_unstable();
        v.dedup();
        let run = Run::write(&v).expect("spill file");
        assert_eq!(run.len(), v.len());
        let mut all = Vec::new();
        for p in 0..PARTS {
            let before = all.len();
            run.read_part(p, &mut all);
            assert_eq!(&all[before..], part_of(&v, p), "range {p}");
        }
        assert_eq!(all, v);
    }
}
