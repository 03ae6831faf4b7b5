//! Parsing one chunk of delimited text into records with the `csv` crate.
//!
//! Records arrive as `csv::ByteRecord`s in one buffer reused for the whole worker, with their
//! [`Position`]. Blank lines (and records whose fields are all blank) are skipped and counted.
//! A record longer than [`MAX_RECORD`] bytes is skipped and counted without being held in
//! memory: the reader is fed through a window that ends `MAX_RECORD` bytes after the record's
//! start, and parsing resumes at the first `\n` past that window, the same rule the chunker
//! uses (see [`super::chunk`]), so chunked and sequential parsing agree.

// Reviewed (#11): ranges are chunk bounds cut by this module and csv-core/memchr offsets inside the
// chunk; `after - 1` only after `after > base`.
#![allow(clippy::indexing_slicing)]

use std::io::{self, Read};
use std::ops::Range;

use super::chunk::{skip_terminators, stray_segments, MAX_RECORD};
use super::Malformed;
use super::{Dialect, DumpError};

mod split;

/// Bytes the csv reader copies from the chunk per read.
const READ_BUFFER: usize = 64 * 1024;

/// Where a record starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Position {
    /// 0-based index of the record among the chunk's non-blank records (skipped oversized
    /// records take an index too). Add the `records` of earlier chunks for a file-wide index.
    pub record: u64,
    /// 0-based count of `\n` between the chunk start and the record start. The 1-based line in
    /// the file is `1 + Dialect::body_lines + lines of earlier chunks + line`.
    pub line: u64,
    /// Absolute byte offset of the record's first byte in the file.
    pub byte: u64,
}

/// What one chunk held, for prefix sums over chunks and for the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkStats {
    /// Non-blank records, including the oversized ones that were skipped.
    pub records: u64,
    /// `\n` bytes in the chunk.
    pub lines: u64,
    /// Blank lines and records whose fields are all empty or white space.
    pub skipped_blank: u64,
    /// Records longer than [`MAX_RECORD`] bytes, skipped.
    pub oversized: u64,
    /// Records of a stray quote, skipped (reported to the caller with their position).
    pub strays: u64,
}

impl ChunkStats {
    /// Adds the counts of a later chunk.
    pub fn add(&mut self, other: &ChunkStats) {
        self.records += other.records;
        self.lines += other.lines;
        self.skipped_blank += other.skipped_blank;
        self.oversized += other.oversized;
        self.strays += other.strays;
    }
}

/// A record parser holding the one `ByteRecord` a worker reuses across its chunks.
#[derive(Debug)]
pub struct ChunkParser {
    record: csv::ByteRecord,
    max_record: usize,
}

impl Default for ChunkParser {
    fn default() -> Self {
        ChunkParser::new()
    }
}

/// Parses `data[range]` (one chunk from [`super::chunks`], or the whole body) and calls `f`
/// for each non-blank record. Convenience for [`ChunkParser::parse`] with a fresh parser.
pub fn for_each_record(
    data: &[u8],
    range: Range<usize>,
    dialect: &Dialect,
    f: impl FnMut(&csv::ByteRecord, Position),
) -> Result<ChunkStats, DumpError> {
    ChunkParser::new().parse(data, range, dialect, f)
}

impl ChunkParser {
    /// A parser with the default record bound [`MAX_RECORD`].
    pub fn new() -> ChunkParser {
        ChunkParser::with_max_record(MAX_RECORD)
    }

    /// A parser with another record bound; it must match the chunker's (tests use tiny ones).
    pub(crate) fn with_max_record(max_record: usize) -> ChunkParser {
        ChunkParser { record: csv::ByteRecord::new(), max_record: max_record.max(1) }
    }

    /// Parses `data[range]`, calling `f` with each non-blank record and its position.
    pub fn parse(
        &mut self,
        data: &[u8],
        range: Range<usize>,
        dialect: &Dialect,
        mut f: impl FnMut(&csv::ByteRecord, Position),
    ) -> Result<ChunkStats, DumpError> {
        self.parse_with_strays(data, range, dialect, |rec, pos| {
            if let Ok(rec) = rec {
                f(rec, pos);
            }
        })
    }

    /// [`ChunkParser::parse`], also calling `f` with the reason and the position of each
    /// record skipped: [`Malformed::Syntax`] for a stray quote, [`Malformed::Oversized`] for a
    /// record longer than the bound.
    pub fn parse_with_strays(
        &mut self,
        data: &[u8],
        range: Range<usize>,
        dialect: &Dialect,
        mut f: impl FnMut(Result<&csv::ByteRecord, Malformed>, Position),
    ) -> Result<ChunkStats, DumpError> {
        let chunk = &data[range.clone()];
        let mut stats = ChunkStats::default();
        let (mut base, mut line_base) = (0usize, 0u64);
        let mut reader = open_reader(chunk, base, dialect);
        let strays = stray_segments(chunk, dialect.quoting(), self.max_record);
        let mut next_stray = 0;
        loop {
            let after = base + reader.position().byte() as usize;
            let start = skip_terminators(chunk, after);
            let line = line_base + reader.position().line() - 1 + count_lf(&chunk[after..start]);
            stats.skipped_blank += blank_lines(chunk, base, after, start);
            if start >= chunk.len() {
                stats.lines = line;
                return Ok(stats);
            }
            while strays.get(next_stray).is_some_and(|s| s.end <= start) {
                next_stray += 1;
            }
            if let Some(seg) = strays.get(next_stray).filter(|s| s.start <= start) {
                // A stray quote's record (see `chunk`): skipped, counted; go on after it.
                let byte = (range.start + start) as u64;
                f(Err(Malformed::Syntax), Position { record: stats.records, line, byte });
                stats.records += 1;
                stats.strays += 1;
                line_base = line + count_lf(&chunk[start..seg.end]);
                base = seg.end;
                reader = open_reader(chunk, base, dialect);
                next_stray += 1;
                continue;
            }
            reader.get_mut().limit = start.saturating_add(self.max_record);
            let pos = Position { record: stats.records, line, byte: (range.start + start) as u64 };
            let got = reader.read_byte_record(&mut self.record).map_err(|_| DumpError::Parse {
                record: pos.record,
                line: pos.line,
                byte: pos.byte,
            })?;
            if reader.get_ref().truncated {
                f(Err(Malformed::Oversized), pos);
                stats.records += 1;
                stats.oversized += 1;
                let from = reader.get_ref().limit.min(chunk.len());
                let Some(k) = memchr::memchr(b'\n', &chunk[from..]) else {
                    stats.lines = line + count_lf(&chunk[start..]);
                    return Ok(stats);
                };
                line_base = line + count_lf(&chunk[start..from + k + 1]);
                base = from + k + 1;
                reader = open_reader(chunk, base, dialect);
            } else if !got {
                stats.lines = line + count_lf(&chunk[start..]);
                return Ok(stats);
            } else if is_blank(&self.record) {
                stats.skipped_blank += 1;
            } else {
                f(Ok(&self.record), pos);
                stats.records += 1;
            }
        }
    }
}

/// A csv reader over `chunk[base..]` configured for `dialect`.
fn open_reader<'a>(chunk: &'a [u8], base: usize, dialect: &Dialect) -> csv::Reader<Window<'a>> {
    csv::ReaderBuilder::new()
        .delimiter(dialect.delimiter)
        .quote(dialect.quote)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(READ_BUFFER)
        .from_reader(Window { data: chunk, pos: base, limit: base, truncated: false })
}

/// Feeds the csv reader, but never bytes at or past `limit` (the current record's bound).
struct Window<'a> {
    data: &'a [u8],
    pos: usize,
    limit: usize,
    /// Set when the reader asked for bytes past `limit` that exist: the record is too long.
    truncated: bool,
}

impl Read for Window<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let end = self.limit.min(self.data.len());
        if self.pos >= end {
            self.truncated |= self.pos < self.data.len();
            return Ok(0);
        }
        let n = buf.len().min(end - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Blank lines in the terminator run `chunk[after..start]`; the `\n` completing the previous
/// record's `\r\n` (the reader stops after the `\r`) is not a blank line.
fn blank_lines(chunk: &[u8], base: usize, after: usize, start: usize) -> u64 {
    let run = count_lf(&chunk[after..start]);
    let crlf_tail = after > base && chunk[after - 1] == b'\r' && chunk.get(after) == Some(&b'\n');
    run - u64::from(crlf_tail)
}

fn count_lf(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

fn is_blank(record: &csv::ByteRecord) -> bool {
    record.as_slice().iter().all(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::chunk;
    use crate::dump::{sniff, Encoding, LineEnding};
    use proptest::prelude::*;

    /// A parsed record: fields, absolute record index, absolute line, byte.
    type Row = (Vec<Vec<u8>>, u64, u64, u64);

    fn dialect(body_start: usize) -> Dialect {
        Dialect {
            delimiter: b',',
            quote: b'"',
            has_header: false,
            encoding: Encoding::Utf8,
            body_start,
            body_lines: 0,
            headers: Vec::new(),
            line_ending: LineEnding::Lf,
        }
    }

    /// Parses the given chunks in order and turns positions into absolute ones.
    fn parse_all(
        data: &[u8],
        ranges: &[Range<usize>],
        d: &Dialect,
        max: usize,
    ) -> (Vec<Row>, ChunkStats) {
        let mut parser = ChunkParser::with_max_record(max);
        let (mut rows, mut total) = (Vec::new(), ChunkStats::default());
        for r in ranges {
            let before = total;
            let stats = parser
                .parse(data, r.clone(), d, |rec, pos| {
                    let fields = rec.iter().map(<[u8]>::to_vec).collect();
                    rows.push((
                        fields,
                        before.records + pos.record,
                        before.lines + pos.line,
                        pos.byte,
                    ));
                })
                .unwrap();
            total.add(&stats);
        }
        (rows, total)
    }

    fn chunked(data: &[u8], d: &Dialect, target: usize, max: usize) -> (Vec<Row>, ChunkStats) {
        let plan = chunk::plan(data, d.body_start, d.quoting(), target, max);
        parse_all(data, &plan.chunks, d, max)
    }

    fn sequential(data: &[u8], d: &Dialect, max: usize) -> (Vec<Row>, ChunkStats) {
        let whole = d.body_start..data.len();
        parse_all(data, std::slice::from_ref(&whole), d, max)
    }

    /// One field: (raw text in the file, value after parsing).
    fn field() -> impl Strategy<Value = (String, String)> {
        let plain = "[a-z0-9 ]{0,5}".prop_map(|s| (s.clone(), s));
        let piece = prop::sample::select(vec!["a", ",", "\"", "\n", "\r\n", " ", "ü"]);
        let quoted = prop::collection::vec(piece, 0..6).prop_map(|ps| {
            let value: String = ps.concat();
            (format!("\"{}\"", value.replace('"', "\"\"")), value)
        });
        prop_oneof![plain, quoted]
    }

    /// A CSV text with its expected non-blank records.
    fn csv_text() -> impl Strategy<Value = (Vec<u8>, usize, Vec<Vec<String>>)> {
        let record = prop::collection::vec(field(), 1..5);
        let line = (record, any::<bool>(), any::<bool>());
        (prop::collection::vec(line, 0..25), any::<bool>(), any::<bool>()).prop_map(
            |(lines, bom, crlf)| {
                let eol = if crlf { "\r\n" } else { "\n" };
                let mut text = String::new();
                let mut expected = Vec::new();
                for (i, (fields, blank_after, last_eol)) in lines.iter().enumerate() {
                    let raw: Vec<&str> = fields.iter().map(|f| f.0.as_str()).collect();
                    text.push_str(&raw.join(","));
                    if i + 1 < lines.len() || *last_eol {
                        text.push_str(eol);
                    } else if fields.iter().all(|f| f.0.is_empty()) {
                        text.push_str(eol); // Keep a trailing empty record visible as blank.
                    }
                    if *blank_after && i + 1 < lines.len() {
                        text.push_str(eol);
                    }
                    let values: Vec<String> = fields.iter().map(|f| f.1.clone()).collect();
                    if !values.iter().all(|v| v.trim().is_empty()) {
                        expected.push(values);
                    }
                }
                let mut data = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
                data.extend_from_slice(text.as_bytes());
                (data, if bom { 3 } else { 0 }, expected)
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn chunked_parse_equals_sequential_and_the_generated_records((data, body, expected) in csv_text()) {
            let d = dialect(body);
            let (seq, seq_stats) = sequential(&data, &d, MAX_RECORD);
            let got: Vec<Vec<String>> = seq.iter()
                .map(|r| r.0.iter().map(|f| String::from_utf8(f.clone()).unwrap()).collect())
                .collect();
            prop_assert_eq!(&got, &expected);
            prop_assert_eq!(seq_stats.lines, memchr::memchr_iter(b'\n', &data).count() as u64);
            for target in [1, 2, 3, 5, 8, 13, 40, 100, 1 << 20] {
                let (par, par_stats) = chunked(&data, &d, target, MAX_RECORD);
                prop_assert_eq!(&par, &seq, "target {}", target);
                prop_assert_eq!(par_stats, seq_stats, "target {}", target);
            }
        }

        #[test]
        fn chunked_parse_equals_sequential_on_any_bytes_with_tiny_record_bound(
            data in prop::collection::vec(prop::sample::select(b"a,\"\n\r ".to_vec()), 0..200),
            max in 1usize..40,
            target in 1usize..30,
        ) {
            let d = dialect(0);
            let seq = sequential(&data, &d, max);
            prop_assert_eq!(chunked(&data, &d, target, max), seq);
        }
    }

    #[test]
    fn positions_count_records_lines_and_bytes() {
        let data = b"h1,h2\r\na,b\r\n\r\n\"x\ny\",c\r\n,\r\nd,e";
        let d = dialect(7);
        let (rows, stats) = sequential(data, &d, MAX_RECORD);
        let pos: Vec<(u64, u64, u64)> = rows.iter().map(|r| (r.1, r.2, r.3)).collect();
        assert_eq!(pos, vec![(0, 0, 7), (1, 2, 14), (2, 5, 26)]);
        assert_eq!(rows[1].0, vec![b"x\ny".to_vec(), b"c".to_vec()]);
        assert_eq!(stats.records, 3);
        assert_eq!(stats.lines, 5);
        assert_eq!(stats.skipped_blank, 2, "one empty line, one record of empty fields");
    }

    #[test]
    fn oversized_record_is_skipped_and_counted() {
        let mut data = b"a,b\n".to_vec();
        data.extend_from_slice(&[b'x'; 100]);
        data.extend_from_slice(b"\nc,d\n");
        let (rows, stats) = sequential(&data, &dialect(0), 50);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[1].1, rows[1].2), (2, 2), "the skipped record keeps its index");
        assert_eq!(stats.oversized, 1);
        assert_eq!(stats.records, 3);
    }

    #[test]
    fn stray_quote_costs_at_most_the_record_bound() {
        let mut data = b"a,\"stray\n".to_vec();
        for _ in 0..20 {
            data.extend_from_slice(b"row,1\n");
        }
        let (rows, stats) = sequential(&data, &dialect(0), 30);
        assert_eq!((stats.strays, stats.oversized), (1, 0));
        assert_eq!(rows.len(), 20, "only the stray quote's record is lost");
        let (rows, _) = sequential(&data, &dialect(0), MAX_RECORD);
        assert_eq!(rows.len(), 20, "also when the file is shorter than the record bound");
    }

    #[test]
    fn empty_input_gives_no_record_and_no_panic() {
        let d = sniff(b"").unwrap();
        let stats = for_each_record(b"", 0..0, &d, |_, _| panic!("no record")).unwrap();
        assert_eq!(stats, ChunkStats::default());
        assert!(chunk::chunks(b"", 0, d.quoting(), 10).chunks.is_empty());
    }

    #[test]
    fn bom_and_header_are_not_records() {
        let data = b"\xEF\xBB\xBFKVNR;Name\r\nA123456780;M\xC3\xBCller\r\n";
        let d = sniff(data).unwrap();
        let (rows, _) = sequential(data, &d, MAX_RECORD);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0[1], "Müller".as_bytes());
        assert_eq!(rows[0].3, 3 + 11);
    }

    /// Throughput on ~100 MB of generated CSV. Run with
    /// `cargo test --release --lib dump::delimited -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn measure_parse_and_prepass_throughput() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(out, "Versichertennummer;Nachname;Vorname;Geburtsdatum;E-Mail").unwrap();
        let mut i = 0u64;
        let mut written = 0;
        while written < 100_000_000 {
            let line = format!(
                "A{:09};M\u{fc}ller-{};\"Hans; Peter\";{:02}.{:02}.19{:02};h{}@example.de\r\n",
                i,
                i % 977,
                1 + i % 28,
                1 + i % 12,
                i % 100,
                i
            );
            out.write_all(line.as_bytes()).unwrap();
            written += line.len();
            i += 1;
        }
        drop(out);
        let src = crate::dump::Source::open(&path, true).unwrap();
        let d = sniff(src.bytes()).unwrap();
        assert_eq!(d.delimiter, b';');
        let mb = src.len() as f64 / 1e6;
        let t = std::time::Instant::now();
        let plan = chunk::chunks(src.bytes(), d.body_start, d.quoting(), 4 << 20);
        let prepass = t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let mut fields = 0usize;
        let stats =
            for_each_record(src.bytes(), d.body_start..src.len(), &d, |r, _| fields += r.len())
                .unwrap();
        let parse = t.elapsed().as_secs_f64();
        assert_eq!(stats.records, i);
        assert_eq!(fields as u64, 5 * i);
        println!(
            "{mb:.0} MB, {} records, {} chunks: pre-pass {:.0} MB/s, parse {:.0} MB/s (1 thread)",
            i,
            plan.chunks.len(),
            mb / prepass,
            mb / parse
        );
    }
}
