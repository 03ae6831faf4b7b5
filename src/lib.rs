//! leakmatch: check a leaked data dump against keyed Bloom filters of a customer base, without
//! spreading the personal data.
//!
//! Data flows through these types:
//!
//! ```text
//! customer CSV ──► dump::Source ─► dump::sniff/chunks ─► ident::Extractor ─► token::Tokenizer
//!                                                                           │
//!              filter::write_filter ◄── filter::AtomicBloom ◄── (build) ◄──┤
//!                                                                           │
//! leaked dump ──► (same reading path) ──────────────────────► (scan) scan::Prober ─► tally::Tally
//!                                                                           │
//!                                       estimate ─► report::Report ─► text / JSON
//! ```
//!
//! - [`ident`]: identifier kinds and their normalisers (pure, idempotent).
//! - [`token`]: the secret [`token::Key`], purpose-separated subkeys, the keyed PRF.
//! - [`filter`]: the cache-line-blocked Bloom filter and its file format.
//! - [`dump`]: reading dumps: memory maps, dialect sniffing, record-aligned chunks, CSV.
//! - [`scan`]: the parallel pipeline shared by `build` and `scan`.
//! - [`tally`], [`sketch`]: mergeable counters; [`estimate`]: the estimators with intervals.
//! - [`report`]: the [`report::Report`] value and its renderings; [`synth`]: synthetic data.
//!
//! ```
//! use leakmatch::{ident::{self, Kind, Outcome}, token::Key};
//! let mut buf = Vec::new();
//! assert_eq!(ident::kvnr::normalize(" a123 456 780", &mut buf), Outcome::Valid);
//! let tokenizer = Key::from_bytes([7; 32]).tokenizer();
//! let t = tokenizer.token(Kind::Kvnr, &buf);
//! assert_eq!(t, tokenizer.token(Kind::Kvnr, b"A123456780"));
//! ```

#[cfg(target_endian = "big")]
compile_error!("leakmatch's filter files are little-endian and mapped as is: big-endian targets are not supported");

pub mod cli;
pub mod commands;
pub mod config;
pub mod dump;
pub mod error;
pub mod estimate;
pub mod filter;
pub mod forensics;
pub mod ident;
pub mod partial;
pub mod report;
pub mod scan;
pub mod sketch;
pub mod synth;
pub mod tally;
pub mod token;
