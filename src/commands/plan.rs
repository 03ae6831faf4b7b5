//! `leakmatch plan`: byte ranges that split a dump into shards for `scan --range`.
//!
//! The cuts need not be record-aligned: `scan --range` reads the records that START inside
//! its range, so adjacent ranges read every record exactly once wherever they are cut.

use std::path::Path;

use anyhow::Context;

use crate::commands::plumbing::write_stdout;
use crate::dump::Source;
use crate::error;
use crate::error::UsageError;

/// `shards` ranges of about equal size covering `[0, len)`: `[i·len/n, (i+1)·len/n)`.
pub fn ranges(len: u64, shards: u64) -> Vec<(u64, u64)> {
    let n = u128::from(shards.max(1));
    let cut = |i: u128| (i * u128::from(len) / n) as u64;
    (0..n).map(|i| (cut(i), cut(i + 1))).collect()
}

/// Prints one `START..END` line per shard. Refuses inputs that byte ranges cannot cut (see
/// [`crate::dump::Source::range_refusal`]: compressed files, streams) and more shards than the
/// file has bytes.
pub fn run(shards: u64, dump: &Path) -> anyhow::Result<u8> {
    let len = rangeable_len(dump)?;
    if shards > len.max(1) {
        return Err(UsageError(format!(
            "--shards {shards}: {} has only {len} bytes; give at most one shard per byte",
            dump.display()
        ))
        .into());
    }
    let out: String = ranges(len, shards).iter().map(|(s, e)| format!("{s}..{e}\n")).collect();
    write_stdout(&out)?;
    Ok(error::SUCCESS)
}

/// The length of a dump that byte ranges can cut; a usage error naming the file otherwise.
fn rangeable_len(dump: &Path) -> anyhow::Result<u64> {
    let refuse = |why: &str| {
        UsageError(format!(
            "{}: cannot be split into byte ranges: {why}; scan it whole (shards would lose or \
             repeat records)",
            dump.display()
        ))
    };
    if dump.as_os_str() == "-" {
        return Err(refuse("stdin is a stream").into());
    }
    let meta = std::fs::metadata(dump)
        .with_context(|| dump.display().to_string())
        .map_err(|e| UsageError(format!("{e:#}")))?;
    if !meta.is_file() {
        return Err(refuse("not a regular file").into());
    }
    let source = Source::open(dump, true)?;
    if let Some(why) = source.range_refusal() {
        return Err(refuse(&why).into());
    }
    Ok(meta.len())
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
