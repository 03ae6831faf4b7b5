//! The filter file, format version 1: header, metadata, bit arrays, checksum, MAC.
//!
//! The byte layout, the reasons behind it and the loader's checks in order are specified in
//! `docs/filter-format.md`; the offsets in `header.rs` are the single source of truth in code.
//! In short, all integers little-endian:
//!
//! ```text
//! [0, 4096)                 header (fixed size; unused bytes zero)
//! [4096, 4096 + pad64(L))   metadata: JSON of `Metadata`, L bytes, zero-padded to 64
//! then per section          bit array: blocks × 64 bytes (offsets 64-aligned)
//! then 16 bytes             xxh3-128 of everything before it
//! then 32 bytes             keyed BLAKE3 (MAC subkey) of everything before it
//! ```
//!
//! Loading never trusts the header: every field is bounded and the exact file length is
//! derived from it and compared with the real one before anything proportional to the
//! claimed size is allocated or mapped.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::params::Params;
use crate::ident::Kind;
use crate::token::KeyId;

mod header;
mod read;
mod write;

pub use read::{set_max_filter_len, FilterFile, OpenOptions, DEFAULT_MAX_FILTER_LEN};
pub use write::{write_filter, SectionBits};

#[cfg(target_endian = "big")]
compile_error!(
    "the filter file is little-endian and mapped in place: big-endian targets are not supported"
);

/// First 8 bytes of every filter file (PNG-style, see `docs/filter-format.md`).
pub const MAGIC: [u8; 8] = *b"\x89LMF\r\n\x1a\n";
/// The format version of filters with keyed tokens (written and read).
pub const FORMAT_VERSION: u16 = 1;
/// The format version of filters with OPRF tokens (version 1 + the key service's public key;
/// written for OPRF filters only, so that keyed filters stay readable by older tools).
pub const FORMAT_VERSION_OPRF: u16 = 2;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 4096;
/// Most sections one file may hold.
pub const MAX_SECTIONS: usize = 16;
/// Largest metadata JSON accepted (16 MiB).
pub const MAX_METADATA: u32 = 16 << 20;
/// Checksum (16) + MAC (32).
const TRAILER_LEN: u64 = 48;

/// Closed enum values written by this version. PRF 1 is the keyed PRF of `src/token.rs`
/// (SipHash-2-4-128 under the token subkey; the constant keeps its historical name).
const PRF_KEYED_BLAKE3_128: u8 = 1;
/// PRF 2: RFC 9497 VOPRF, ristretto255-SHA512 (`src/oprf/`), format version 2 only.
const PRF_OPRF_RISTRETTO255_SHA512: u8 = 2;
const POSITION_BLOCKED512_MULSHIFT_9BIT: u8 = 1;
const LAYOUT_BLOCKED_512: u8 = 1;

/// What a filter was built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The customer base (the usual case).
    Customers,
    /// Planted records: a hit proves origin.
    Canary,
    /// A dump, filtered by its holder for separated mode (`compare`).
    Dump,
}

impl Role {
    /// All roles.
    pub const ALL: [Role; 3] = [Role::Customers, Role::Canary, Role::Dump];

    /// Stable name: `customers`, `canary`, `dump`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Customers => "customers",
            Role::Canary => "canary",
            Role::Dump => "dump",
        }
    }

    /// The role with this [`name`](Self::name).
    pub fn from_name(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == s)
    }

    fn code(self) -> u8 {
        match self {
            Role::Customers => 1,
            Role::Canary => 2,
            Role::Dump => 3,
        }
    }

    fn from_code(c: u8) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == c)
    }
}

by_name!(Role, "unknown filter role");

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a filter's tokens were made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prf {
    /// The keyed PRF of [`crate::token`]: scanning needs the key.
    Keyed,
    /// The OPRF of [`crate::oprf`] under the key whose public key this is: scanning needs the
    /// key service (or, for the data owner, the key).
    Oprf(crate::oprf::PublicKey),
}

impl Prf {
    /// The public key of an OPRF filter.
    pub fn oprf_public_key(&self) -> Option<crate::oprf::PublicKey> {
        match self {
            Prf::Keyed => None,
            Prf::Oprf(pk) => Some(*pk),
        }
    }
}

/// The descriptive part of the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterHeader {
    /// Id of the key the tokens were made with ([`crate::token::Key::id`]; for OPRF filters
    /// [`crate::oprf::PublicKey::id`]).
    pub key_id: KeyId,
    /// Keyed or OPRF tokens (format version 1 or 2).
    pub prf: Prf,
    /// Creation time, seconds since the Unix epoch.
    pub created_unix: u64,
    /// Version of the tool that wrote the file; at most 32 bytes of UTF-8, no NUL.
    pub tool_version: String,
    /// Free-form label; at most 128 bytes of UTF-8, no NUL.
    pub label: String,
    /// Date of the customer snapshot, `YYYY-MM-DD`.
    pub snapshot_date: Option<String>,
    /// What the filter holds.
    pub role: Role,
}

/// One section: the tokens of one kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SectionInfo {
    /// The identifier kind.
    pub kind: Kind,
    /// Geometry of the bit array.
    pub params: Params,
    /// Valid values inserted (with repeats; the distinct count is estimated from the bits).
    pub inserted: u64,
    /// The FPR the section was sized for.
    pub target_fpr: f64,
    /// The FPR measured from the fill after the build ([`BloomRef::achieved_fpr`](crate::filter::BloomRef::achieved_fpr)).
    pub achieved_fpr: f64,
}

/// Aggregates about the customer base. Holds no identifier; small buckets are suppressed.
/// Unknown fields are ignored and missing ones default, so later versions may add fields.
#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct Metadata {
    /// Input rows read.
    pub rows: u64,
    /// Per kind name: valid and invalid counts.
    pub kinds: BTreeMap<String, KindStats>,
    /// Birth-year histogram.
    pub birth_years: BirthYears,
}

/// Counts of one kind's values in the input.
#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct KindStats {
    /// Valid values (tokenised).
    pub valid: u64,
    /// Invalid values by [`crate::ident::Flaw::name`].
    pub invalid: BTreeMap<String, u64>,
}

/// Birth-year histogram stored in a filter: 5-year buckets, buckets under 10 people
/// suppressed by default (aggregates only; no bucket small enough to single anyone out).
pub const BIRTH_BUCKET_YEARS: u16 = 5;
/// Default smallest bucket published (`build --birth-year-min-count`).
pub const BIRTH_MIN_COUNT: u64 = 10;

/// A birth-year histogram in buckets of `bucket_years`, with buckets of fewer than
/// `min_count` people suppressed (their total goes to `suppressed`).
#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct BirthYears {
    /// Width of a bucket in years (≥ 1).
    pub bucket_years: u16,
    /// Smallest count published for a bucket.
    pub min_count: u64,
    /// `(first year of bucket, count)`, ascending.
    pub buckets: Vec<(u16, u64)>,
    /// People in suppressed buckets.
    pub suppressed: u64,
    /// `Some(ε)`: every bucket count (empty ones included) and `suppressed` carry two-sided
    /// geometric noise of parameter e^−ε before suppression ([`BirthYears::noised`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_epsilon: Option<f64>,
}

impl BirthYears {
    /// Buckets raw per-year counts (a year may repeat; counts add up) into buckets starting
    /// at multiples of `bucket_years` (0 is taken as 1) and suppresses those below `min_count`.
    pub fn from_counts(
        counts: impl IntoIterator<Item = (u16, u64)>,
        bucket_years: u16,
        min_count: u64,
    ) -> BirthYears {
        let width = bucket_years.max(1);
        BirthYears::suppress(BirthYears::sums(counts, width), width, min_count)
    }

    /// Per-bucket sums of per-year counts.
    fn sums(counts: impl IntoIterator<Item = (u16, u64)>, width: u16) -> BTreeMap<u16, u64> {
        let mut sums: BTreeMap<u16, u64> = BTreeMap::new();
        for (year, n) in counts {
            let e = sums.entry(year - year % width).or_default();
            *e = e.saturating_add(n);
        }
        sums
    }

    /// [`BirthYears::from_counts`] with noise for ε-differential privacy: each bucket of
    /// `years` (empty ones too, so that a bucket's presence tells nothing) gets an independent
    /// two-sided geometric variable of parameter α = e^−ε added (the discrete Laplace
    /// mechanism, Ghosh, Roughgarden & Sundararajan 2009), clamped at 0, and only then is
    /// suppression applied (post-processing). One person changes one bucket by 1, so the
    /// histogram is ε-DP towards adding or removing one customer; k snapshots together are
    /// kε-DP. `rows` and the per-kind counts of the metadata are not noised.
    pub fn noised(
        counts: impl IntoIterator<Item = (u16, u64)>,
        bucket_years: u16,
        min_count: u64,
        years: std::ops::RangeInclusive<u16>,
        epsilon: f64,
        rng: &mut impl rand::Rng,
    ) -> BirthYears {
        let width = bucket_years.max(1);
        let mut sums = BirthYears::sums(counts, width);
        let (first, last) = (*years.start() - years.start() % width, *years.end());
        for start in (first..=last).step_by(usize::from(width)) {
            sums.entry(start).or_default();
        }
        let alpha = (-epsilon).exp();
        let mut geometric = || {
            let u: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
            (u.ln() / alpha.ln()).floor() as i64
        };
        for n in sums.values_mut() {
            let noise = geometric() - geometric();
            *n = (*n as i64).saturating_add(noise).max(0) as u64;
        }
        let mut out = BirthYears::suppress(sums, width, min_count);
        out.noise_epsilon = Some(epsilon);
        out
    }

    fn suppress(sums: BTreeMap<u16, u64>, width: u16, min_count: u64) -> BirthYears {
        let mut out = BirthYears { bucket_years: width, min_count, ..BirthYears::default() };
        for (start, n) in sums.into_iter().filter(|&(_, n)| n > 0) {
            if n < min_count {
                out.suppressed += n;
            } else {
                out.buckets.push((start, n));
            }
        }
        out
    }
}

/// Why a filter file could not be written or loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// An operating-system error.
    #[error("{path}: {source}")]
    Io {
        /// The filter file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A directory, FIFO, device, ...
    #[error("{path}: not a regular file")]
    NotRegularFile {
        /// The filter file.
        path: PathBuf,
    },
    /// Not a leakmatch filter at all.
    #[error("{path}: not a leakmatch filter file (bad magic bytes)")]
    BadMagic {
        /// The filter file.
        path: PathBuf,
    },
    /// The magic shows the file went through a text-mode or 7-bit transfer.
    #[error(
        "{path}: filter file damaged by a text-mode transfer ({how}); copy it again in binary mode"
    )]
    TextModeMangled {
        /// The filter file.
        path: PathBuf,
        /// Which transfer damage the magic bytes show.
        how: &'static str,
    },
    /// Written by a newer (or older) format.
    #[error(
        "{path}: filter format version {found}; this leakmatch reads versions 1 to {supported}"
    )]
    UnsupportedVersion {
        /// The filter file.
        path: PathBuf,
        /// The file's format version.
        found: u16,
        /// The newest version this tool reads.
        supported: u16,
    },
    /// Shorter than its header says.
    #[error("{path}: truncated: the header announces {expected} bytes, the file has {actual}")]
    Truncated {
        /// The filter file.
        path: PathBuf,
        /// File length the header announces, in bytes.
        expected: u64,
        /// The file's real length, in bytes.
        actual: u64,
    },
    /// Longer than its header says.
    #[error("{path}: {actual} bytes, but the header announces {expected}: bytes were appended")]
    Padded {
        /// The filter file.
        path: PathBuf,
        /// File length the header announces, in bytes.
        expected: u64,
        /// The file's real length, in bytes.
        actual: u64,
    },
    /// Larger than `--max-filter-gib` allows.
    #[error("{path}: {len} bytes, more than the {max} bytes allowed (raise --max-filter-gib if it is genuine)")]
    TooLarge {
        /// The filter file.
        path: PathBuf,
        /// The file's length, in bytes.
        len: u64,
        /// The largest length allowed, in bytes.
        max: u64,
    },
    /// A large file that is mostly holes: crafted, not written by leakmatch.
    #[error("{path}: sparse file ({len} bytes long, {allocated} allocated): not a filter written by leakmatch (a copy made with `cp --sparse=never` is accepted)")]
    Sparse {
        /// The filter file.
        path: PathBuf,
        /// The file's length, in bytes.
        len: u64,
        /// Bytes allocated on disk.
        allocated: u64,
    },
    /// A header field outside its bounds.
    #[error("{path}: header field out of bounds: {what}")]
    OutOfBounds {
        /// The filter file.
        path: PathBuf,
        /// Which field, and its bounds.
        what: &'static str,
    },
    /// A closed enum with a value this version does not know.
    #[error("{path}: unknown {what} code {value} in header")]
    UnknownEnum {
        /// The filter file.
        path: PathBuf,
        /// Which enum field.
        what: &'static str,
        /// The unknown code.
        value: u8,
    },
    /// A field that does not decode (bad UTF-8, impossible date).
    #[error("{path}: malformed header field: {what}")]
    Malformed {
        /// The filter file.
        path: PathBuf,
        /// Which field.
        what: &'static str,
    },
    /// A reserved or padding byte is not zero.
    #[error("{path}: non-zero byte at offset {offset} in a reserved or padding field")]
    Reserved {
        /// The filter file.
        path: PathBuf,
        /// Byte offset of the first non-zero byte.
        offset: u64,
    },
    /// Two sections of the same kind.
    #[error("{path}: two sections for kind {kind}")]
    DuplicateSection {
        /// The filter file.
        path: PathBuf,
        /// The kind with two sections.
        kind: Kind,
    },
    /// The xxh3-128 checksum does not match.
    #[error("{path}: checksum mismatch: file damaged")]
    Checksum {
        /// The filter file.
        path: PathBuf,
    },
    /// The keyed MAC does not match.
    #[error("{path}: MAC check failed: the file was altered, or the key is not the one it was built with")]
    Mac {
        /// The filter file.
        path: PathBuf,
    },
    /// Built with another key.
    #[error(
        "{path}: filter was built with key id {file_key_id}, but the key given has id {key_id}"
    )]
    KeyMismatch {
        /// The filter file.
        path: PathBuf,
        /// Hex key id in the file's header.
        file_key_id: String,
        /// Hex id of the key given.
        key_id: String,
    },
    /// The metadata JSON does not parse (it holds aggregates only, never identifiers).
    #[error(
        "{path}: metadata section: field {field} does not decode (near byte {byte} of the section)"
    )]
    Metadata {
        /// The filter file.
        path: PathBuf,
        /// Dotted path of the field that fails to decode (`(top level)` for the object).
        field: String,
        /// Byte offset in the metadata JSON near the error.
        byte: u64,
    },
    /// A section's declared geometry differs from its bit array's (writing).
    #[error("{path}: section {kind}: declared {declared}, bit array has {actual}")]
    GeometryMismatch {
        /// The filter file.
        path: PathBuf,
        /// The section's kind.
        kind: Kind,
        /// Geometry in the section's descriptor.
        declared: Params,
        /// Geometry of the bit array given.
        actual: Params,
    },
    /// The output was refused or could not be written (see [`crate::output`]).
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    /// Input to [`write_filter`] that cannot be written.
    #[error("{path}: cannot write filter: {what}")]
    InvalidInput {
        /// The filter file.
        path: PathBuf,
        /// What cannot be written.
        what: String,
    },
}

#[cfg(test)]
mod tests;
