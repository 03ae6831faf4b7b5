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

// Reviewed (#11): samples are `..len.min(N)`, `at..end`/`body..pos` are offsets found in `data`;
// `raw[..columns.len()]` only where `utf8` holds, which requires `columns.len() <=
// BORROWED_COLUMNS`.
#![allow(clippy::indexing_slicing)]

use std::borrow::Cow;

use super::{
    map_columns, Chunk, ChunkIter, ChunkParser, ChunkStats, ColumnMapping, ColumnOverride, Dialect,
    DumpError, Encoding, LineEnding, Position, RecordDecoder,
};
use crate::ident::Field;

/// The formats a dump can be read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// CSV and its dialects: `,` `;` `\t` `|`, quoted fields, header or not.
    Delimited,
    /// JSON lines: one object per line, fields by dotted path (`super::jsonl`).
    JsonLines,
    /// Combo lists `email:password`; the password is dropped unread (`super::combo`).
    Combo,
    /// MySQL / PostgreSQL dumps: `INSERT ... VALUES` and `COPY ... FROM stdin` (`super::sql`).
    Sql,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [Format::Delimited, Format::JsonLines, Format::Combo, Format::Sql];

    /// The name used by `--format` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::Delimited => "csv",
            Format::JsonLines => "jsonl",
            Format::Combo => "combo",
            Format::Sql => "sql",
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
    /// The detected (or `--format`) format.
    pub format: Format,
    /// The delimited-text dialect. For other formats only `encoding`, `body_start` and
    /// `body_lines` are meaningful.
    pub dialect: Dialect,
    /// Column names: the CSV header, JSON dotted paths, SQL column names (empty if none).
    pub columns: Vec<String>,
    /// Which column feeds which field, and why.
    pub mapping: ColumnMapping,
    /// SQL dumps only: string escapes and table columns from `CREATE TABLE`.
    pub sql: Option<super::sql::SqlInfo>,
}

/// Where a stream's pending bytes can be cut ([`Layout::split`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// Offset just after the last record boundary found (0: none).
    pub end: usize,
    /// Stray quotes (recovered syntax errors) before `end`.
    pub strays: usize,
    /// The context at `end` to put in front of the next chunk (SQL statement header).
    pub context: Vec<u8>,
}

/// One record's mapped columns as text.
pub trait Fields {
    /// The text of `column` (0-based), or `None` when the record lacks it.
    fn get(&self, column: usize) -> Option<&str>;

    /// Whether `column` holds text other than white space (`str::trim` leaves something).
    #[inline]
    fn has_text(&self, column: usize) -> bool {
        self.get(column).is_some_and(crate::ident::has_text)
    }
    /// Bit `bit` set for each `(column, bit)` of `categories` whose cell [`Fields::has_text`].
    #[inline]
    fn category_mask(&self, categories: &[(usize, u8)]) -> u8 {
        categories.iter().fold(0, |m, &(c, bit)| m | u8::from(self.has_text(c)) << bit)
    }
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

/// Bytes at the start of an input searched for a NUL byte (the sign of a binary file).
pub const BINARY_SAMPLE: usize = 64 << 10;

impl Layout {
    /// Detects the layout of an input from its start. `format` fixes the format (`--format`);
    /// `overrides` are the `--map` arguments.
    pub fn detect(
        data: &[u8],
        format: Option<Format>,
        overrides: &[ColumnOverride],
    ) -> Result<Layout, DumpError> {
        // Text in every supported encoding (UTF-16 is decoded before this) has no NUL byte;
        // binary files (filters, archives, images) have them near the start.
        let sample = &data[..data.len().min(BINARY_SAMPLE)];
        if let Some(byte) = memchr::memchr(0, sample) {
            return Err(DumpError::Binary { byte: byte as u64 });
        }
        match format.unwrap_or_else(|| super::detect::format(data)) {
            Format::Delimited => {
                let dialect = super::sniff(data)?;
                if !dialect.has_header {
                    let count = super::content::sample_width(data, &dialect);
                    for ov in overrides {
                        match ov.column {
                            super::ColumnRef::Index(i) if i >= count && count > 0 => {
                                let column = i + 1;
                                return Err(DumpError::ColumnOutOfRange { column, count });
                            }
                            _ => {}
                        }
                    }
                }
                let mut mapping = map_columns(&dialect.headers, overrides)?;
                if !dialect.has_header && mapping.reasons.is_empty() {
                    mapping = super::content::map_by_content(data, &dialect);
                }
                let columns = dialect.headers.clone();
                Ok(Layout { format: Format::Delimited, dialect, columns, mapping, sql: None })
            }
            Format::JsonLines => super::jsonl::layout(data, overrides),
            Format::Combo => super::combo::layout(data, overrides),
            Format::Sql => super::sql::layout(data, overrides),
        }
    }

    /// The dialect of a non-delimited text format: encoding and BOM only.
    pub(crate) fn text_dialect(data: &[u8], delimiter: u8) -> Result<Dialect, DumpError> {
        let encoding = Encoding::detect(data)?;
        Ok(Dialect {
            delimiter,
            quote: b'"',
            has_header: false,
            encoding,
            body_start: encoding.bom_len(),
            body_lines: 0,
            headers: Vec::new(),
            line_ending: LineEnding::Lf,
        })
    }

    /// Record-aligned chunks of about `target` bytes of the body, cut lazily, each with the
    /// number of stray quotes (or other recovered syntax errors) found in it.
    pub fn chunks<'a>(
        &'a self,
        data: &'a [u8],
        target: usize,
    ) -> Box<dyn Iterator<Item = Chunk<'a>> + Send + 'a> {
        self.chunks_from(data, self.dialect.body_start, target)
    }

    /// A record start `s ≤ pos` (or the body start) such that [`Layout::chunks_from`]`(s)`
    /// cuts exactly the record boundaries that [`Layout::chunks`] cuts from `s` on: the start
    /// of the chunk of about `step` bytes that holds `pos`. Every chunk boundary is a record
    /// start outside quotes, where the chunker's state is that of a fresh start (see
    /// `super::chunk`), so a range shard need not walk record by record from the body
    /// start. SQL dumps answer their body start (their units carry statement context).
    /// `passed(end)` is called as the walk leaves `data[..end]` behind.
    pub fn record_start_before(
        &self,
        data: &[u8],
        pos: usize,
        step: usize,
        mut passed: impl FnMut(usize),
    ) -> usize {
        let body = self.dialect.body_start.min(data.len());
        let pos = pos.min(data.len());
        if self.format == Format::Sql || pos <= body {
            return body;
        }
        if let Some(start) = self.quote_free_record_start(data, body, pos, &mut passed) {
            return start;
        }
        let coarse: Box<dyn Iterator<Item = (std::ops::Range<usize>, usize)>> = match self.format {
            Format::Delimited => Box::new(ChunkIter::new(data, body, self.dialect.quoting(), step)),
            _ => Box::new(super::lines::LineChunks::new(data, body, step)),
        };
        let mut start = body;
        for (range, _) in coarse {
            if range.end > pos {
                return range.start;
            }
            start = range.end;
            passed(start);
        }
        start
    }

    /// For delimited text with no quote byte in `data[body..pos]`: the start of the line
    /// holding `pos` (every `\n` there ends a record, as nothing can be quoted), found with
    /// one `memchr` pass instead of the quote-aware walk. `None` when a quote occurs.
    fn quote_free_record_start(
        &self,
        data: &[u8],
        body: usize,
        pos: usize,
        passed: &mut impl FnMut(usize),
    ) -> Option<usize> {
        const WINDOW: usize = 16 << 20;
        if self.format != Format::Delimited {
            return None;
        }
        let quote = self.dialect.quoting().quote;
        let mut at = body;
        while at < pos {
            let end = (at + WINDOW).min(pos);
            if memchr::memchr(quote, &data[at..end]).is_some() {
                return None;
            }
            at = end;
            passed(at);
        }
        Some(memchr::memrchr(b'\n', &data[body..pos]).map_or(body, |i| body + i + 1))
    }

    /// [`Layout::chunks`] from `start`, a record start found by
    /// [`Layout::record_start_before`] (or the body start).
    pub fn chunks_from<'a>(
        &'a self,
        data: &'a [u8],
        start: usize,
        target: usize,
    ) -> Box<dyn Iterator<Item = Chunk<'a>> + Send + 'a> {
        // Stray quotes are reported by the reader, with their positions: chunks carry none.
        let borrowed = move |(range, _strays): (std::ops::Range<usize>, usize)| Chunk {
            base: range.start as u64,
            span: range.len(),
            bytes: Cow::Borrowed(&data[range]),
            strays: 0,
        };
        match self.format {
            Format::Delimited => {
                Box::new(ChunkIter::new(data, start, self.dialect.quoting(), target).map(borrowed))
            }
            Format::JsonLines | Format::Combo => {
                Box::new(super::lines::LineChunks::new(data, start, target).map(borrowed))
            }
            Format::Sql => Box::new(super::sql::SqlChunks::new(self, data, start, target)),
        }
    }

    /// Where `data` (a stream's pending bytes, starting at a record boundary whose context is
    /// `context`) can be cut: after its last complete record. `eof` says no bytes follow.
    pub fn split(&self, data: &[u8], context: &[u8], eof: bool) -> Split {
        match self.format {
            Format::Delimited => {
                let (end, _strays) = super::chunk::last_boundary(data, self.dialect.quoting(), eof);
                Split { end, strays: 0, context: Vec::new() }
            }
            Format::JsonLines | Format::Combo => {
                let end = memchr::memrchr(b'\n', data).map_or(0, |i| i + 1);
                Split { end, strays: 0, context: Vec::new() }
            }
            Format::Sql => super::sql::split(self, data, context, eof),
        }
    }

    /// The context a stream's first chunk starts with (see [`Layout::split`]).
    pub fn initial_context(&self) -> Vec<u8> {
        match self.format {
            Format::Sql => vec![0, 0],
            _ => Vec::new(),
        }
    }

    /// A reader for one worker.
    pub fn reader(&self) -> Box<dyn RecordReader> {
        match self.format {
            Format::Delimited => Box::new(DelimitedReader::new(self)),
            Format::JsonLines => Box::new(super::jsonl::JsonReader::new(self)),
            Format::Combo => Box::new(super::combo::ComboReader::new(self)),
            Format::Sql => Box::new(super::sql::SqlReader::new(self)),
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
    /// Where each of `columns` sits in a record's list of mapped values.
    slots: ColumnSlots,
    /// Bit `i` set: `columns[i]` only shows a GDPR category (no identifier is read from it),
    /// so text that is invalid in the file's encoding still counts as a non-empty cell instead
    /// of making the whole record malformed.
    lenient: u16,
    /// Quote-free UTF-8 chunks take the `memchr` split (off only in tests, to compare).
    quote_free_split: bool,
}

impl DelimitedReader {
    fn new(layout: &Layout) -> DelimitedReader {
        let columns = layout.mapping.columns();
        let identifier = |c: usize| Field::ALL.iter().any(|&f| layout.mapping.column(f) == Some(c));
        let lenient = columns
            .iter()
            .take(BORROWED_COLUMNS)
            .enumerate()
            .filter(|&(_, &c)| !identifier(c))
            .fold(0u16, |m, (i, _)| m | 1 << i);
        DelimitedReader {
            dialect: layout.dialect.clone(),
            parser: ChunkParser::new(),
            decoder: RecordDecoder::new(layout.dialect.encoding),
            slots: ColumnSlots::new(&columns, &layout.mapping.categories),
            columns,
            lenient,
            quote_free_split: true,
        }
    }
}

/// Whether the record `decoder` holds has invalid text in a column an identifier is read from
/// (`lenient` as [`DelimitedReader::lenient`]).
fn strict_invalid(decoder: &RecordDecoder, columns: &[usize], lenient: u16) -> bool {
    columns.iter().enumerate().any(|(i, &c)| {
        (i >= BORROWED_COLUMNS || lenient & (1 << i) == 0)
            && matches!(decoder.field(c), Some(Err(_)))
    })
}

impl Layout {
    /// A delimited reader that sends every chunk through the CSV state machine, never the
    /// quote-free split: the reference the split is tested against.
    #[cfg(test)]
    pub(crate) fn state_machine_reader(&self) -> Box<dyn RecordReader> {
        assert_eq!(self.format, Format::Delimited);
        Box::new(DelimitedReader { quote_free_split: false, ..DelimitedReader::new(self) })
    }
}

/// What a category-only cell holding invalid text reads as: non-empty, and no identifier.
const INVALID_TEXT: &str = "\u{FFFD}";

impl Fields for RecordDecoder {
    fn get(&self, column: usize) -> Option<&str> {
        // Invalid text is only ever seen in category-only columns: a record with invalid text
        // in an identifier column is skipped before its fields are read.
        Some(self.field(column)?.unwrap_or(INVALID_TEXT))
    }
}

/// Most columns a [`Borrowed`] record holds: the fields and a few GDPR category columns
/// (more take the decoding path).
const BORROWED_COLUMNS: usize = 16;

/// The index of each mapped column in the sorted list of mapped columns: a table for the
/// first [`ColumnSlots::DIRECT`] columns, a search beyond.
#[derive(Clone, Debug)]
struct ColumnSlots {
    direct: [u8; ColumnSlots::DIRECT],
    columns: Vec<usize>,
    /// The layout's GDPR category columns as `(column, bit)`, and the same as `(slot, bit)`:
    /// [`Borrowed::category_mask`] reads the slots directly instead of looking each column up.
    categories: Vec<(usize, u8)>,
    category_slots: Vec<(usize, u8)>,
}

impl ColumnSlots {
    const DIRECT: usize = 64;
    const NONE: u8 = u8::MAX;

    fn new(columns: &[usize], categories: &[(usize, u8)]) -> ColumnSlots {
        let mut direct = [ColumnSlots::NONE; ColumnSlots::DIRECT];
        for (i, &c) in columns.iter().enumerate().take(usize::from(ColumnSlots::NONE)) {
            if let Some(slot) = direct.get_mut(c) {
                *slot = i as u8;
            }
        }
        let mut slots = ColumnSlots {
            direct,
            columns: columns.to_vec(),
            categories: categories.to_vec(),
            category_slots: Vec::new(),
        };
        // Every category column is a mapped column (`ColumnMapping::columns` includes them).
        slots.category_slots =
            categories.iter().filter_map(|&(c, bit)| Some((slots.of(c)?, bit))).collect();
        slots
    }

    /// The index of `column` among the mapped columns, if it is one.
    #[inline]
    fn of(&self, column: usize) -> Option<usize> {
        match self.direct.get(column) {
            Some(&ColumnSlots::NONE) => None,
            Some(&i) => Some(usize::from(i)),
            None => self.columns.iter().position(|&c| c == column),
        }
    }
}

/// The mapped columns of a UTF-8 record, validated and borrowed from the record in place (no
/// copy: the fast path of UTF-8 input). `raw[i]` holds the bytes of the `i`-th mapped column.
struct Borrowed<'r> {
    slots: &'r ColumnSlots,
    raw: &'r [Option<&'r [u8]>],
    /// Bit `i`: `raw[i]` is not valid UTF-8 (only ever a category-only cell, which reads as
    /// [`INVALID_TEXT`]).
    invalid: u16,
}

impl<'r> Borrowed<'r> {
    /// The record whose mapped columns' bytes are `raw`; `None` if one of them is not UTF-8
    /// and an identifier is read from it. `valid_chunk` says the whole chunk the record was
    /// parsed from is UTF-8: then no field needs validating (one pass over the chunk instead
    /// of a call per field).
    #[inline]
    fn new(
        slots: &'r ColumnSlots,
        raw: &'r [Option<&'r [u8]>],
        valid_chunk: bool,
        lenient: u16,
    ) -> Option<Borrowed<'r>> {
        let mut invalid = 0u16;
        if !valid_chunk {
            for (i, bytes) in raw.iter().enumerate().take(BORROWED_COLUMNS) {
                if bytes.is_some_and(|b| std::str::from_utf8(b).is_err()) {
                    if lenient & (1 << i) == 0 {
                        return None;
                    }
                    invalid |= 1 << i;
                }
            }
        }
        Some(Borrowed { slots, raw, invalid })
    }
}

impl Fields for Borrowed<'_> {
    #[inline]
    fn get(&self, column: usize) -> Option<&str> {
        let i = self.slots.of(column)?;
        let bytes = (*self.raw.get(i)?)?;
        if self.invalid & (1 << i) != 0 {
            return Some(INVALID_TEXT);
        }
        // SAFETY: `bytes` is valid UTF-8: either checked in `Borrowed::new`, or a field of a
        // chunk that is valid UTF-8. A field is the chunk's bytes between delimiters, quotes
        // and line ends with quotes and escape bytes removed: all ASCII, so every cut and
        // removal falls on a character boundary and leaves valid UTF-8 (csv-core and the
        // quote-free split change no other byte).
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    }

    /// The trait's mask, from the category slots computed once per reader: no column lookup
    /// and no call per category. `categories` is the layout's, which the slots were built from.
    #[inline]
    fn category_mask(&self, categories: &[(usize, u8)]) -> u8 {
        debug_assert_eq!(categories, self.slots.categories.as_slice(), "not the layout's");
        let mut mask = 0u8;
        for &(slot, bit) in &self.slots.category_slots {
            let text = match self.raw.get(slot) {
                // The usual cell starts with a printable ASCII byte: text, nothing to trim.
                Some(Some([b, ..])) if *b > b' ' && *b < 0x7F => true,
                Some(Some(_)) => self.slots.columns.get(slot).is_some_and(|&c| self.has_text(c)),
                _ => false,
            };
            mask |= u8::from(text) << bit;
        }
        mask
    }
}

impl RecordReader for DelimitedReader {
    fn read(
        &mut self,
        chunk: &[u8],
        base: u64,
        on: &mut dyn FnMut(Event<'_>),
    ) -> Result<ChunkStats, DumpError> {
        let (decoder, columns, lenient) = (&mut self.decoder, &self.columns, self.lenient);
        let slots = &self.slots;
        let last = columns.last().copied();
        let utf8 = matches!(self.dialect.encoding, Encoding::Utf8 | Encoding::Utf8Bom)
            && columns.len() <= BORROWED_COLUMNS;
        let valid = |chunk: &[u8]| utf8 && simdutf8::basic::from_utf8(chunk).is_ok();
        if utf8 && self.quote_free_split && memchr::memchr(self.dialect.quote, chunk).is_none() {
            // No quote byte: the memchr split, which skips the unmapped columns. When at most
            // a third of the columns are mapped, validating just their bytes beats one pass
            // over the whole chunk.
            let valid_chunk = 3 * columns.len() > self.dialect.headers.len() && valid(chunk);
            let delimiter = self.dialect.delimiter;
            let stats = self.parser.parse_quote_free(chunk, delimiter, columns, |rec, pos| {
                let pos = Position { byte: pos.byte + base, ..pos };
                let Some(rec) = rec else {
                    return on(Event::Skipped(Malformed::Oversized, pos));
                };
                if rec.ragged {
                    on(Event::Flawed(Malformed::Ragged, pos));
                }
                match Borrowed::new(slots, rec.values, valid_chunk, lenient) {
                    Some(fields) => on(Event::Record(&fields, pos)),
                    None => on(Event::Skipped(Malformed::Encoding, pos)),
                }
            });
            return Ok(stats);
        }
        let valid_chunk = valid(chunk);
        self.parser.parse_with_strays(chunk, 0..chunk.len(), &self.dialect, |rec, pos| {
            let pos = Position { byte: pos.byte + base, ..pos };
            let rec = match rec {
                Ok(rec) => rec,
                Err(why) => return on(Event::Skipped(why, pos)),
            };
            if last.is_some_and(|c| rec.len() <= c) {
                on(Event::Flawed(Malformed::Ragged, pos));
            }
            if utf8 {
                let mut raw = [None; BORROWED_COLUMNS];
                raw.iter_mut().zip(columns).for_each(|(slot, &c)| *slot = rec.get(c));
                match Borrowed::new(slots, &raw[..columns.len()], valid_chunk, lenient) {
                    Some(fields) => on(Event::Record(&fields, pos)),
                    None => on(Event::Skipped(Malformed::Encoding, pos)),
                }
            } else if decoder.decode(rec, columns) > 0 && strict_invalid(decoder, columns, lenient)
            {
                on(Event::Skipped(Malformed::Encoding, pos));
            } else {
                on(Event::Record(&*decoder, pos));
            }
        })
    }
}

/// Why a record was not used. Positions of the first occurrence are kept apart.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Malformed {
    /// A field that is not valid in the file's encoding.
    Encoding,
    /// A record larger than the size bound, skipped.
    Oversized,
    /// A record with fewer fields than the header (ragged); its present fields are still used.
    Ragged,
    /// A syntax error of the format (e.g. an unbalanced quote), skipped up to the next line.
    Syntax,
}

impl Malformed {
    /// All reasons, in index order.
    pub const ALL: [Malformed; 4] =
        [Malformed::Encoding, Malformed::Oversized, Malformed::Ragged, Malformed::Syntax];

    /// Stable name used in reports: `encoding`, `oversized`, `ragged`, `syntax`.
    pub fn name(self) -> &'static str {
        match self {
            Malformed::Encoding => "encoding",
            Malformed::Oversized => "oversized",
            Malformed::Ragged => "ragged",
            Malformed::Syntax => "syntax",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A cell: empty, white space (ASCII or not), text starting with a printable ASCII byte,
    /// text starting with a non-ASCII letter, or absent (a ragged record).
    fn cell() -> impl Strategy<Value = Option<Vec<u8>>> {
        prop_oneof![
            Just(None),
            Just(Some(Vec::new())),
            Just(Some(b" \t ".to_vec())),
            Just(Some("\u{a0}\u{2003}".as_bytes().to_vec())),
            Just(Some(" \u{e9}t\u{e9} ".as_bytes().to_vec())),
            Just(Some("\u{d6}zt\u{fc}rk".as_bytes().to_vec())),
            "[ -~]{1,6}".prop_map(|s| Some(s.into_bytes())),
            "[ \u{a0}]{0,2}[a-z\u{e4}]{0,2}".prop_map(|s| Some(s.into_bytes())),
        ]
    }

    proptest! {
        /// The slot-based mask of a borrowed record equals the general one, bit by bit:
        /// each category column's cell [`Fields::has_text`].
        #[test]
        fn borrowed_category_mask_is_the_general_mask(
            columns in proptest::sample::subsequence((0..70usize).collect::<Vec<_>>(), 1..12),
            cells in proptest::collection::vec(cell(), 12),
            picks in proptest::collection::vec((any::<proptest::sample::Index>(), 0u8..8), 0..8),
            invalid in any::<u16>(),
        ) {
            let categories: Vec<(usize, u8)> =
                picks.iter().map(|(i, bit)| (*i.get(&columns), *bit)).collect();
            let slots = ColumnSlots::new(&columns, &categories);
            let raw: Vec<Option<&[u8]>> =
                cells.iter().take(columns.len()).map(|c| c.as_deref()).collect();
            let invalid = invalid & ((1 << columns.len()) - 1);
            let record = Borrowed { slots: &slots, raw: &raw, invalid };
            let general = categories
                .iter()
                .fold(0u8, |m, &(c, bit)| m | u8::from(record.has_text(c)) << bit);
            prop_assert_eq!(record.category_mask(&categories), general);
        }
    }
}
