//! Range shards: the records that start inside a byte range of one input.

// Reviewed (#11): `r` is a range clamped to `bytes.len()` above.
#![allow(clippy::indexing_slicing)]

use super::{run_chunks, Prepared, Sink, Tokenize};
use crate::dump::{Chunk, Source};
use crate::tally::{ChunkCounts, Tally};

/// What [`run_input_range`] read: the tally (record and line of positions counted from the
/// range's first record, header lines excluded; bytes file-wide) and the range's totals.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeScan {
    /// What the range's records counted.
    pub tally: Tally,
    /// Records and lines of the records that start inside the range.
    pub counts: ChunkCounts,
}

/// [`super::run_input`] restricted to the records that START inside `range` (byte offsets into the
/// input, clipped to its length). Record boundaries are those the chunker cuts from the body
/// start, whatever the range: the walk to the range goes by coarse chunk boundaries (each a
/// fresh record start) or, for a quote-free prefix, straight to the line start before it
/// ([`crate::dump::Layout::record_start_before`]). A record belongs to the range holding its
/// first byte. Adjacent ranges therefore read every record exactly once, quoted newlines
/// included, and any cut is exact (see [`crate::partial`] for merging the shards).
///
/// A "record start" is a boundary the chunker can cut at: just after a `\n` outside quotes
/// (a file with CR-only line ends is one unit, read by the range holding its body start).
pub fn run_input_range(
    input: &Prepared,
    pipeline: &Tokenize,
    filters: usize,
    sink: &dyn Sink,
    progress: &(dyn Fn(u64) + Sync),
    range: std::ops::Range<u64>,
    target: usize,
) -> anyhow::Result<RangeScan> {
    let len = input.source.len();
    let start = usize::try_from(range.start).unwrap_or(usize::MAX).min(len);
    let end = usize::try_from(range.end).unwrap_or(usize::MAX).min(len);
    let bytes = input.source.bytes();
    // Walk to the range in coarse steps (one quote-aware pass, no per-record units), then
    // record by record from the last coarse boundary before it.
    let mut released = 0;
    let from = input.layout.record_start_before(bytes, start, target.max(1), |passed| {
        if passed - released >= RELEASE_EVERY {
            input.source.release(released..passed);
            released = passed;
        }
    });
    let chunks = Box::new(RangeChunks {
        units: input.layout.chunks_from(bytes, from, 1),
        source: &input.source,
        range: start..end.max(start),
        target: target.max(1),
        released,
        pending: None,
        done: false,
    });
    let (tally, counts) = run_chunks(input, pipeline, filters, sink, progress, chunks, 0)?;
    Ok(RangeScan { tally, counts })
}

/// Bytes walked past before a range are released (made non-resident) in steps of this size.
const RELEASE_EVERY: usize = 64 << 20;

/// Chunks of the records starting inside a byte range: the chunker's finest units (one
/// record boundary to the next) that start in the range, grouped to about `target` bytes.
/// Units that carry their own bytes (an SQL statement's context in front) are passed on alone.
struct RangeChunks<'a> {
    units: Box<dyn Iterator<Item = Chunk<'a>> + Send + 'a>,
    source: &'a Source,
    range: std::ops::Range<usize>,
    target: usize,
    /// Bytes before the range already released (mapped pages touched by the quote pass).
    released: usize,
    /// An owned unit met while a borrowed group was being built: the next item.
    pending: Option<Chunk<'a>>,
    done: bool,
}

impl<'a> Iterator for RangeChunks<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Chunk<'a>> {
        if let Some(unit) = self.pending.take() {
            return Some(unit);
        }
        let mut cur: Option<std::ops::Range<usize>> = None;
        while !self.done {
            let Some(unit) = self.units.next() else { break };
            let start = unit.base as usize;
            let end = start + unit.span;
            if start < self.range.start {
                if end - self.released >= RELEASE_EVERY {
                    self.source.release(self.released..end);
                    self.released = end;
                }
                continue;
            }
            if start >= self.range.end {
                self.done = true;
                break;
            }
            if let std::borrow::Cow::Owned(_) = unit.bytes {
                if cur.is_none() {
                    return Some(unit);
                }
                self.pending = Some(unit);
                break;
            }
            let r = cur.get_or_insert(start..start);
            r.end = end;
            if r.len() >= self.target {
                break;
            }
        }
        let bytes = self.source.bytes();
        cur.map(|r| Chunk {
            base: r.start as u64,
            span: r.len(),
            bytes: std::borrow::Cow::Borrowed(&bytes[r]),
            strays: 0,
        })
    }
}
