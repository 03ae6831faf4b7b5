//! What a scan describes besides its counts: its inputs (path, size, SHA-256, layout, which
//! column fed which field) and its filters (header, sections' geometry and FPR, metadata).
//! Serialisable, so that partial results of shards carry them; no bits, no key, no value of
//! any input.

use serde::{Deserialize, Serialize};

use crate::filter::{FilterFile, Metadata, Role};
use crate::ident::{Field, Kind};

/// One scanned input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputReport {
    /// The input's path as given.
    pub path: String,
    /// Raw bytes of the input as given (of a compressed file: compressed bytes).
    pub bytes: u64,
    /// Hex SHA-256 of the raw bytes; empty for a merge of range shards.
    pub sha256: String,
    /// `csv`, `jsonl`, `combo` or `sql`, with the packing if compressed (`csv (gzip)`).
    pub format: String,
    /// The delimiter of delimited text (`\t` for a tab).
    pub delimiter: String,
    /// Whether the first line is a header.
    pub header: bool,
    /// `utf-8`, `utf-8-bom`, `windows-1252`, or `utf-16le`/`utf-16be` (read as UTF-8).
    pub encoding: String,
    /// Records read.
    pub records: u64,
    /// Which column fed which field, and why.
    pub columns: Vec<ColumnUse>,
    /// GDPR data categories its columns hold (`crate::dump::categories::categories`).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Which bytes the counts cover when byte ranges left part of the input unread (`scan
    /// --range`, `merge --allow-partial` of a shard set with gaps); `None`: every byte was read
    /// (in one scan or by shards that cover the input).
    #[serde(default)]
    pub coverage: Option<Coverage>,
}

/// The bytes of an input that range shards read (records starting inside them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Disjoint, sorted byte ranges `[start, end)`, adjacent ranges joined.
    pub ranges: Vec<ByteRange>,
    /// Bytes inside `ranges`, and the input's length.
    pub bytes_covered: u64,
    /// The input's length, in bytes.
    pub bytes: u64,
    /// Whether the ranges cover the whole input (`bytes_covered == bytes`).
    pub complete: bool,
}

impl Coverage {
    /// Joins `ranges` (sorted by start, not overlapping) of an input of `bytes` bytes.
    pub fn of(ranges: impl IntoIterator<Item = ByteRange>, bytes: u64) -> Coverage {
        let mut joined: Vec<ByteRange> = Vec::new();
        for r in ranges.into_iter().filter(|r| r.end > r.start) {
            match joined.last_mut() {
                Some(last) if last.end >= r.start => last.end = last.end.max(r.end),
                _ => joined.push(r),
            }
        }
        let bytes_covered = joined.iter().map(|r| r.end - r.start).sum();
        Coverage { ranges: joined, bytes_covered, bytes, complete: bytes_covered >= bytes }
    }
}

/// Which column fed one field, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnUse {
    /// The field (written by name: `kvnr`, `email`, ...).
    pub field: Field,
    /// 1-based column number.
    pub column: usize,
    /// The column's header, when it may be shown (a recognised name; never a data cell).
    pub header: Option<String>,
    /// Why it was mapped: `--map`, a header synonym, the format, or its content.
    pub why: String,
}

/// A byte range `[start, end)` of an input, clipped to its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ByteRange {
    /// First byte (inclusive).
    pub start: u64,
    /// End byte (exclusive).
    pub end: u64,
}

/// What a report needs to know about a filter: its header, its sections' geometry and FPR,
/// its metadata. Serialisable, so that partial results of shards carry it (no bits, no key).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FilterDesc {
    /// The filter file's path as given.
    pub path: String,
    /// The filter's label.
    pub label: String,
    /// What the filter was built from.
    pub role: Role,
    /// Date of the customer snapshot, `YYYY-MM-DD`.
    pub snapshot_date: Option<String>,
    /// Creation time, seconds since the Unix epoch.
    pub created_unix: u64,
    /// Hex key id.
    pub key_id: String,
    /// The sections, in file order.
    pub sections: Vec<SectionDesc>,
    /// The filter's aggregates about the customer base.
    pub meta: Metadata,
}

/// One section of a filter, as far as reports and merges need it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SectionDesc {
    /// The identifier kind.
    pub kind: Kind,
    /// Bits set per token (with replacement).
    pub k: u32,
    /// 64-byte blocks of the bit array.
    pub blocks: u64,
    /// Valid values inserted (with repeats).
    pub inserted: u64,
    /// The FPR measured from the fill after the build.
    pub achieved_fpr: f64,
}

impl FilterDesc {
    /// Describes an opened filter.
    pub fn of(f: &FilterFile) -> FilterDesc {
        FilterDesc {
            path: f.path.display().to_string(),
            label: f.header.label.clone(),
            role: f.header.role,
            snapshot_date: f.header.snapshot_date.clone(),
            created_unix: f.header.created_unix,
            key_id: hex::encode(f.header.key_id),
            sections: f
                .sections
                .iter()
                .map(|s| SectionDesc {
                    kind: s.kind,
                    k: s.params.k,
                    blocks: s.params.blocks,
                    inserted: s.inserted,
                    achieved_fpr: s.achieved_fpr,
                })
                .collect(),
            meta: f.meta.clone(),
        }
    }
}
