//! leakmatch: check a leaked data dump against keyed Bloom filters of a customer base, without
//! spreading the personal data.
//!
//! Data flows through these types:
//!
//! ```text
//! input ─► dump::Source (mmap | stream: stdin, pipe, gzip, zstd, UTF-16)
//!            └► dump::Layout::detect (csv | jsonl | combo | sql; columns → fields)
//!                 └► record-aligned dump::Chunk ─► rayon workers: dump::RecordReader
//!                      └► ident::Extractor (normalise) ─► scan::TokenSource: token::Tokenizer
//!                           (keyed PRF) | oprf (OPRF: local key, or key service in two passes)
//!                           └► scan::Batch ─► scan::Sink: scan::Inserter (build) ─► filter file
//!                                                      | scan::Prober (scan) ─► tally::Tally
//! tally::Tally (mergeable; shards: partial::Partial ─► merge)
//!   └► forensics (estimates, signals, verdict) ─► report::Report ─► text | JSON | HTML
//! ```
//!
//! Each module imports only from the modules before it in this flow (README, "Code map").
//!
//! - [`ident`]: identifier kinds and their normalisers (pure, idempotent).
//! - [`token`]: the secret [`token::Key`], purpose-separated subkeys, the keyed PRF.
//! - [`oprf`]: oblivious PRF tokens (RFC 9497) and the key service, for scans without the key.
//! - [`filter`]: the cache-line-blocked Bloom filter, its file format, filter comparison.
//! - [`dump`]: reading dumps: sources, format detection, record-aligned chunks, readers.
//! - [`scan`]: the parallel pipeline shared by `build` and `scan`.
//! - [`tally`]: what a scan counted and describes (mergeable); [`sketch`]: distinct-count
//!   sketches; [`estimate`]: the estimators with intervals; [`num`]: number formatting.
//! - [`forensics`]: signals and the verdict; [`partial`]: shard results and their merge.
//! - [`output`]: every file written (atomic, devices written into, inputs never overwritten).
//! - [`report`]: the [`report::Report`] value and its renderings; [`synth`]: synthetic data.
//!
//! The modules `cli`, `config` and `commands` are the `leakmatch` binary's internals, hidden from
//! these docs and not a stable API.
//!
//! ```
//! use leakmatch::{ident::{self, Kind, Outcome}, token::Key};
//! let mut buf = Vec::new();
//! assert_eq!(ident::kvnr::normalize(" a123 456 780", &mut buf), Outcome::Valid);
//! let tokenizer = Key::from_bytes([7; 32]).tokenizer();
//! let t = tokenizer.token(Kind::Kvnr, &buf);
//! assert_eq!(t, tokenizer.token(Kind::Kvnr, b"A123456780"));
//! ```

#![warn(missing_docs)]
// No `unwrap()` outside tests (#11): errors reach the user as one line with an exit code.
// The remaining `expect()`s state invariants of the code, not of input (README, "Hostile
// input"). No indexing or slicing that can panic either: data read from a file is reached
// with `get()` and an error; a module whose every index is in bounds by construction allows
// the lint at its top with a `Reviewed (#11)` line saying why (README, "Hostile input").
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

/// Serde for an enum with `name()` and `from_name()`: written as its name (reports, partials,
/// JSON), read back by name; an unknown name is refused with `$unknown`, without quoting it
/// (it is file content). Defined before the modules, so it is in textual scope in all of them
/// and is called as `by_name!` (not a `crate::` path: the layer check reads those).
macro_rules! by_name {
    ($t:ty, $unknown:literal) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                let name = String::deserialize(d)?;
                <$t>::from_name(&name).ok_or_else(|| serde::de::Error::custom($unknown))
            }
        }
    };
}

#[cfg(target_endian = "big")]
compile_error!("leakmatch's filter files are little-endian and mapped as is: big-endian targets are not supported");

#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod commands;
#[doc(hidden)]
pub mod config;
pub mod dump;
pub mod error;
pub mod estimate;
pub mod filter;
pub mod forensics;
pub mod ident;
pub mod num;
pub mod oprf;
pub mod output;
pub mod partial;
pub mod report;
pub mod scan;
pub mod sketch;
pub mod synth;
pub mod tally;
pub mod token;
