//! Formats behind one interface: detect a [`Layout`], cut chunks, read records.
//!
//! Every format a dump comes in implements the same three steps, so the scan pipeline does
//! not care which it reads:
//!
//! 1. [`Layout::detect`] looks at the start of the input (and `--format`, `--map`) and
//!    decides the [`Format`], the text encoding, where the body starts and which column feeds
//!    which field ([`ColumnMapping`], with reasons for the report).
//! 2. [`Layout::chunks`] cuts the body into record-aligned chunks, lazily.
//! 3. Each worker owns a [`RecordReader`] from [`Layout::reader`] and turns a chunk into
//!    [`Event`]s: records, whose mapped columns it exposes as text through [`Fields`], and
//!    malformed records with their [`Position`].
//!
//! Columns are numbered the same way in every format: CSV columns by position, JSON keys by
//! their dotted path's index in [`Layout::columns`], SQL columns as the statement names them.

use std::ops::Range;

use super::{
    map_columns, ChunkIter, ChunkParser, ChunkStats, ColumnMapping, ColumnOverride, Dialect,
    DumpError, Position, RecordDecoder,
};
use crate::tally::Malformed;

/// The formats a dump can be read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// CSV and its dialects: `,` `;` `\t` `|`, quoted fields, header or not.
    Delimited,
}

impl Format {
    /// Every format, in detection order.
    pub const ALL: [Format; 1] = [Format::Delimited];

    /// The name used by `--format` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::Delimited => "csv",
        }
    }

    /// Parses a `--format` value (`auto` is `None`).
    pub fn from_name(s: &str) -> Result<Option<Format>, String> {
        if s == "auto" {
            return Ok(None);
        }
        Format::ALL.iter().copied().find(|f| f.name() == s).map(Some).ok_or_else(|| {
            let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
            format!("unknown format '{s}' (known: auto, {})", names.join(", "))
        })
    }
}

/// What detection decided about one input.
#[derive(Clone, Debug)]
pub struct Layout {
    pub format: Format,
    /// The delimited-text dialect. For other formats only `encoding`, `body_start` and
    /// `body_lines` are meaningful.
    pub dialect: Dialect,
    /// Column names: the CSV header, JSON dotted paths, SQL column names (empty if none).
    pub columns: Vec<String>,
    /// Which column feeds which field, and why.
    pub mapping: ColumnMapping,
}

/// One record's mapped columns as text.
pub trait Fields {
    /// The text of `column` (0-based), or `None` when the record lacks it.
    fn get(&self, column: usize) -> Option<&str>;
}

/// What a reader found in a chunk.
pub enum Event<'a> {
    /// A record; its mapped columns through `fields`.
    Record(&'a dyn Fields, Position),
    /// A flaw of the record that follows (e.g. ragged): counted, the record is still used.
    Flawed(Malformed, Position),
    /// A record that could not be used at all: counted as read and as malformed.
    Skipped(Malformed, Position),
}

/// Reads the records of chunks; one per worker, reused across its chunks.
pub trait RecordReader: Send {
    /// Reads `chunk`, whose first byte is at offset `base` of the input, calling `on` for each
    /// record. Positions are relative to the chunk (record and line) and absolute (byte).
    fn read(
        &mut self,
        chunk: &[u8],
        base: u64,
        on: &mut dyn FnMut(Event<'_>),
    ) -> Result<ChunkStats, DumpError>;
}

impl Layout {
    /// Detects the layout of an input from its start. `format` fixes the format (`--format`);
    /// `overrides` are the `--map` arguments.
    pub fn detect(
        data: &[u8],
        format: Option<Format>,
        overrides: &[ColumnOverride],
    ) -> Result<Layout, DumpError> {
        match format.unwrap_or(Format::Delimited) {
            Format::Delimited => {
                let dialect = super::sniff(data)?;
                let mapping = map_columns(&dialect.headers, overrides)?;
                let columns = dialect.headers.clone();
                Ok(Layout { format: Format::Delimited, dialect, columns, mapping })
            }
        }
    }

    /// Record-aligned chunks of about `target` bytes of the body, cut lazily; each with the
    /// number of stray quotes (or other recovered syntax errors) found in it.
    pub fn chunks<'a>(
        &self,
        data: &'a [u8],
        target: usize,
    ) -> Box<dyn Iterator<Item = (Range<usize>, usize)> + Send + 'a> {
        match self.format {
            Format::Delimited => Box::new(ChunkIter::new(
                data,
                self.dialect.body_start,
                self.dialect.quoting(),
                target,
            )),
        }
    }

    /// A reader for one worker.
    pub fn reader(&self) -> Box<dyn RecordReader> {
        match self.format {
            Format::Delimited => Box::new(DelimitedReader::new(self)),
        }
    }
}

/// [`RecordReader`] for delimited text: the csv crate, one reused record, decoding only the
/// mapped columns.
struct DelimitedReader {
    dialect: Dialect,
    parser: ChunkParser,
    decoder: RecordDecoder,
    columns: Vec<usize>,
}

impl DelimitedReader {
    fn new(layout: &Layout) -> DelimitedReader {
        DelimitedReader {
            dialect: layout.dialect.clone(),
            parser: ChunkParser::new(),
            decoder: RecordDecoder::new(layout.dialect.encoding),
            columns: layout.mapping.columns(),
        }
    }
}

impl Fields for RecordDecoder {
    fn get(&self, column: usize) -> Option<&str> {
        self.field(column)?.ok()
    }
}

impl RecordReader for DelimitedReader {
    fn read(
        &mut self,
        chunk: &[u8],
        base: u64,
        on: &mut dyn FnMut(Event<'_>),
    ) -> Result<ChunkStats, DumpError> {
        let (decoder, columns) = (&mut self.decoder, &self.columns);
        let last = columns.last().copied();
        self.parser.parse(chunk, 0..chunk.len(), &self.dialect, |rec, pos| {
            let pos = Position { byte: pos.byte + base, ..pos };
            if last.is_some_and(|c| rec.len() <= c) {
                on(Event::Flawed(Malformed::Ragged, pos));
            }
            if decoder.decode(rec, columns) > 0 {
                on(Event::Skipped(Malformed::Encoding, pos));
            } else {
                on(Event::Record(&*decoder, pos));
            }
        })
    }
}
