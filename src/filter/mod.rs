//! The filter: a cache-line-blocked Bloom filter of tokens, one section per identifier kind,
//! stored in a versioned, checksummed and MAC'ed file (docs/filter-format.md).
//!
//! - `params`: sizing ([`Params::for_count`]) and the blocked FPR formula
//!   ([`Params::expected_fpr`]).
//! - `bloom`: the bit arrays — [`Bloom`] (owned), [`AtomicBloom`] (parallel build),
//!   [`BloomRef`] (a view into a mapped file) — with probes, union, achieved FPR and the
//!   set-size estimate.
//! - `format`: the filter file, specified byte by byte in `docs/filter-format.md`:
//!   [`write_filter`] and [`FilterFile::open`].
//!
//! Data flow: `build` sizes each kind with [`Params::for_count`], fills an [`AtomicBloom`]
//! from rayon workers, turns it into a [`Bloom`] and writes all sections with
//! [`write_filter`]; `scan` opens the file with [`FilterFile::open`], checks the key id and
//! MAC, and probes [`FilterFile::section`] views.

pub(crate) mod bloom;
pub(crate) mod compare;
pub(crate) mod format;
pub(crate) mod params;

pub use bloom::{AtomicBloom, Block, Bloom, BloomRef, GeometryMismatch, Probe};
pub use format::{
    set_max_filter_len, write_filter, BirthYears, FilterError, FilterFile, FilterHeader, KindStats,
    Metadata, OpenOptions, Prf, Role, SectionBits, SectionInfo, BIRTH_BUCKET_YEARS,
    BIRTH_MIN_COUNT, DEFAULT_MAX_FILTER_LEN, MAGIC,
};
pub use params::{Params, ParamsError};
