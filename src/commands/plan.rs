//! `leakmatch plan`: byte ranges that split a dump into shards for `scan --range`.
//!
//! The cuts need not be record-aligned: `scan --range` reads the records that START inside
//! its range, so adjacent ranges read every record exactly once wherever they are cut.

use std::path::Path;

use anyhow::Context;

use crate::commands::scan::write_stdout;
use crate::error;

/// Most shards `plan` prints (2^20 lines); more is refused as a usage error instead of
/// allocating a list of that many ranges.
pub const MAX_SHARDS: u64 = 1 << 20;

/// `shards` ranges of about equal size covering `[0, len)`: `[i·len/n, (i+1)·len/n)`.
pub fn ranges(len: u64, shards: u64) -> Vec<(u64, u64)> {
    let n = u128::from(shards.max(1));
    let cut = |i: u128| (i * u128::from(len) / n) as u64;
    (0..n).map(|i| (cut(i), cut(i + 1))).collect()
}

/// Prints one `START..END` line per shard.
pub fn run(shards: u64, dump: &Path) -> anyhow::Result<u8> {
    let len = std::fs::metadata(dump)
        .with_context(|| dump.display().to_string())
        .map_err(|e| crate::config::UsageError(format!("{e:#}")))?
        .len();
    let out: String = ranges(len, shards).iter().map(|(s, e)| format!("{s}..{e}\n")).collect();
    write_stdout(&out)?;
    Ok(error::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_contiguous_and_cover_the_file() {
        for (len, n) in [(0, 3), (10, 1), (10, 3), (7, 10), (u64::MAX, 7)] {
            let r = ranges(len, n);
            assert_eq!(r.len() as u64, n);
            assert_eq!(r[0].0, 0);
            assert_eq!(r.last().unwrap().1, len);
            assert!(r.windows(2).all(|w| w[0].1 == w[1].0));
        }
    }
}
