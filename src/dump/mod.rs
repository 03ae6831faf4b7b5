//! Reading leaked dumps (README "Input formats"): bytes in, positioned records out.
//!
//! The pipeline for delimited text (CSV, TSV, `;`-separated Excel exports):
//!
//! 1. [`Source::open`] maps the file (or reads it, or stdin) into one byte slice.
//! 2. [`sniff()`] guesses the [`Dialect`]: encoding, delimiter, quote, header and where the
//!    body starts; [`SniffOverrides`] fixes any of these.
//! 3. [`map_columns`] decides which column feeds which [`crate::ident::Field`], by header
//!    synonyms and `--map` overrides ([`ColumnOverride`]), and records why.
//! 4. [`chunks()`] cuts the body into record-aligned chunks with one quote-aware pass.
//! 5. Workers parse chunks with a [`ChunkParser`] (one reused `csv::ByteRecord` each), decode
//!    the mapped fields with a [`RecordDecoder`], and get each record's [`Position`]; per-chunk
//!    [`ChunkStats`] turn chunk-relative positions into file positions by prefix sums.
//!
//! Other formats sit behind the same [`Layout`] / [`RecordReader`] interface (`format`):
//! `jsonl` (JSON lines), `combo` (combo lists, password dropped unread), `sql` (MySQL and
//! PostgreSQL dumps); `detect` chooses among them by content and `content` maps the columns
//! of headerless delimited files. Stdin, pipes, `--no-mmap` files, gzip/zstd and UTF-16 inputs
//! are streamed with bounded memory (`stream`).
//!
//! ```
//! use leakmatch::dump::{chunks, for_each_record, sniff, ChunkStats};
//!
//! let data = b"KVNR;Nachname\nA123456780;M\xFCller\nZ987654321;Gro\xDF\n";
//! let dialect = sniff(data).unwrap();
//! let plan = chunks(data, dialect.body_start, dialect.quoting(), 1 << 20);
//! let mut total = ChunkStats::default();
//! for range in plan.chunks {
//!     total.add(&for_each_record(data, range, &dialect, |_rec, _pos| {}).unwrap());
//! }
//! assert_eq!(total.records, 2);
//! ```
//!
//! Errors ([`DumpError`]) name the file and position, never a value from the dump.

pub(crate) mod categories;
pub(crate) mod chunk;
pub(crate) mod columns;
pub(crate) mod combo;
pub(crate) mod content;
pub(crate) mod decode;
pub(crate) mod delimited;
pub(crate) mod detect;
pub(crate) mod format;
pub(crate) mod jsonl;
pub(crate) mod lines;
pub(crate) mod sniff;
pub(crate) mod source;
pub(crate) mod sql;
pub(crate) mod stream;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use chunk::{chunks, ChunkIter, ChunkPlan, Quoting, MAX_RECORD};
pub use columns::{
    field_for_header, map_columns, normalise_header, ColumnMapping, ColumnOverride, ColumnReason,
    ColumnRef, FieldMap, Why,
};
pub use content::{map_by_content, sample_width};
pub use decode::{Encoding, FieldDecoder, InvalidEncoding, RecordDecoder};
pub use delimited::{for_each_record, ChunkParser, ChunkStats, Position};
pub use detect::format as detect_format;
pub use format::{Event, Fields, Format, Layout, Malformed, RecordReader};
pub use sniff::{sniff, sniff_with, Dialect, LineEnding, SniffOverrides};
pub use source::{Chunk, Source};
pub use stream::{decoded, SharedDigest, StreamChunks, StreamError};

/// Why a dump could not be read. Carries paths, positions and column names, never a value.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// The file could not be opened, mapped or read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The input path (`-` for stdin).
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A directory was given where a dump file was expected.
    #[error("{} is a directory, not a dump file", path.display())]
    IsDirectory {
        /// The path given.
        path: PathBuf,
    },
    /// The encoding is recognised but not supported yet.
    #[error("unsupported text encoding {encoding} (convert the file to UTF-8)")]
    UnsupportedEncoding {
        /// Name of the encoding.
        encoding: &'static str,
    },
    /// Delimiter and quote overrides that cannot work together.
    #[error("invalid dialect: {reason}")]
    InvalidDialect {
        /// What is wrong.
        reason: &'static str,
    },
    /// A `--map field=column` argument that does not parse.
    #[error("invalid --map '{spec}': {reason}")]
    InvalidMap {
        /// The argument as given (a field and column name, not data).
        spec: String,
        /// What is wrong.
        reason: String,
    },
    /// `--map` names a column the header does not have. The header's cells are not shown:
    /// they may be data (a data row taken for the header).
    #[error(
        "no column named by --map {field}={name}: {}",
        if *count == 0 {
            format!("the file has no header row; name the column by number, --map {field}=N (a 1-based index)")
        } else {
            format!("the header has {count} columns; name one by number, --map {field}=N (a 1-based index, 1..{count})")
        }
    )]
    UnknownColumn {
        /// The field of the override.
        field: &'static str,
        /// The column name asked for (from the command line, not data).
        name: String,
        /// Columns in the header (0: the file has none).
        count: usize,
    },
    /// `--map` names a column number beyond the header (or, without one, the widest sampled record).
    #[error("column {column} does not exist (the file has {count} columns)")]
    ColumnOutOfRange {
        /// The 1-based column number asked for.
        column: usize,
        /// Columns in the header.
        count: usize,
    },
    /// The file is shorter than when it was opened: truncated while being read or mapped.
    #[error("{} shrank while being read ({read} of {expected} bytes): the dump changed during the scan", path.display())]
    Shrunk {
        /// The input path.
        path: PathBuf,
        /// Bytes when opened (or mapped).
        expected: u64,
        /// Bytes read (or its length afterwards).
        read: u64,
    },
    /// `--format` names a format that cannot read this input.
    #[error("cannot read the input as {format}: {reason}")]
    WrongFormat {
        /// The format asked for.
        format: &'static str,
        /// What is wrong (no value from the input).
        reason: &'static str,
    },
    /// The input holds binary data (e.g. a filter file given as a dump), not text.
    #[error("binary data (a NUL byte at byte {byte}), not a text dump; filters go to --filter")]
    Binary {
        /// Offset of the first NUL byte in the (decoded) start of the input.
        byte: u64,
    },
    /// The record parser failed at a position.
    #[error("cannot parse record {record} (line {line}, byte {byte} of the chunk's file)")]
    Parse {
        /// Record index relative to the chunk.
        record: u64,
        /// Line relative to the chunk (0-based).
        line: u64,
        /// Absolute byte offset.
        byte: u64,
    },
}
