//! What a scan describes besides its counts: its inputs (path, size, SHA-256, layout, which
//! column fed which field) and its filters (header, sections' geometry and FPR, metadata).
//! Serialisable, so that partial results of shards carry them; no bits, no key, no value of
//! any input.

use serde::{Deserialize, Serialize};

use crate::filter::{FilterFile, Metadata, Role};
use crate::ident::Kind;

/// One scanned input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputReport {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    pub format: String,
    pub delimiter: String,
    pub header: bool,
    pub encoding: String,
    pub records: u64,
    /// Which column fed which field, and why.
    pub columns: Vec<ColumnUse>,
    /// GDPR data categories its columns hold ([`crate::dump::categories::categories`]).
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnUse {
    pub field: String,
    /// 1-based column number.
    pub column: usize,
    pub header: Option<String>,
    pub why: String,
}

/// A byte range `[start, end)` of an input, clipped to its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

/// What a report needs to know about a filter: its header, its sections' geometry and FPR,
/// its metadata. Serialisable, so that partial results of shards carry it (no bits, no key).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FilterDesc {
    pub path: String,
    pub label: String,
    pub role: Role,
    pub snapshot_date: Option<String>,
    pub created_unix: u64,
    /// Hex key id.
    pub key_id: String,
    pub sections: Vec<SectionDesc>,
    pub meta: Metadata,
}

/// One section of a filter, as far as reports and merges need it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SectionDesc {
    pub kind: Kind,
    pub k: u32,
    pub blocks: u64,
    pub inserted: u64,
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
