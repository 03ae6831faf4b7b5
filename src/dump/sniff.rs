//! Guessing the dialect of a delimited file from its first [`SAMPLE_LEN`] bytes.
//!
//! - Encoding: see [`Encoding::detect`].
//! - Delimiter: among `,` `;` `\t` `|`, the one whose quote-aware parse of the sample gives the
//!   most consistent field count (share of records with the most common count, then the larger
//!   count); a file where none splits anything is taken as `,` with one column.
//! - Header: the first record is a header if one of its fields is a known column synonym
//!   ([`super::columns`]), or if it holds no digit at all while, in some column, most later
//!   records hold digit-heavy fields (numbers, dates, KVNRs).
//!
//! Every guess can be overridden ([`SniffOverrides`]).

// Reviewed (#11): samples are `..SAMPLE_LEN` after a length check or `..=i` of a memrchr hit; `end
// - 1`/`i - 1` after `> 0`; `rows[1..]` after `rows.len() >= 2`; `run[0]` of a non-empty run.
#![allow(clippy::indexing_slicing)]

use super::chunk::Quoting;
use super::columns::field_for_header;
use super::decode::{Encoding, FieldDecoder, SAMPLE_LEN};
use super::DumpError;

/// Delimiters tried, in order of preference on ties.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Records of the sample looked at.
const SAMPLE_RECORDS: usize = 100;

/// How the first line ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnding {
    /// `\n` (also assumed when the sample has no line end).
    Lf,
    /// `\r\n` (Windows, Excel).
    CrLf,
}

/// The dialect of a delimited file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialect {
    /// Field delimiter.
    pub delimiter: u8,
    /// Quote byte (RFC 4180 quoting, `""` as escape).
    pub quote: u8,
    /// Whether the first record names the columns.
    pub has_header: bool,
    /// Text encoding.
    pub encoding: Encoding,
    /// Byte offset of the body: after the BOM and the header record.
    pub body_start: usize,
    /// `\n` bytes before `body_start` (to turn chunk lines into file lines).
    pub body_lines: u64,
    /// Decoded, trimmed header names; empty without a header.
    pub headers: Vec<String>,
    /// How the first line ends.
    pub line_ending: LineEnding,
}

impl Dialect {
    /// The bytes the chunker needs to follow quoted fields.
    pub fn quoting(&self) -> Quoting {
        Quoting { quote: self.quote, delimiter: self.delimiter }
    }
}

/// Choices made by the user instead of the sniffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SniffOverrides {
    /// Field delimiter.
    pub delimiter: Option<u8>,
    /// Quote byte.
    pub quote: Option<u8>,
    /// Whether the first record is a header.
    pub has_header: Option<bool>,
}

/// Sniffs the dialect of `data` with no overrides.
pub fn sniff(data: &[u8]) -> Result<Dialect, DumpError> {
    sniff_with(data, &SniffOverrides::default())
}

/// Sniffs the dialect of `data`, taking the choices fixed in `overrides` as given.
pub fn sniff_with(data: &[u8], overrides: &SniffOverrides) -> Result<Dialect, DumpError> {
    let encoding = Encoding::detect(data)?;
    let bom = encoding.bom_len();
    let sample = sample(&data[bom..]);
    let quote = overrides.quote.unwrap_or(b'"');
    let delimiter = match overrides.delimiter {
        Some(d) => d,
        None => guess_delimiter(sample, quote),
    };
    if delimiter == quote || matches!(delimiter, b'\n' | b'\r') || matches!(quote, b'\n' | b'\r') {
        return Err(DumpError::InvalidDialect {
            reason: "delimiter and quote must differ and not be line ends",
        });
    }
    let rows = records(sample, delimiter, quote, SAMPLE_RECORDS);
    let mut decoder = FieldDecoder::new(encoding);
    let first: Vec<String> = rows
        .first()
        .map_or_else(Vec::new, |r| r.iter().map(|f| decode_lossy(&mut decoder, f)).collect());
    let has_header = overrides.has_header.unwrap_or_else(|| looks_like_header(&first, &rows));
    let (body_start, headers) = if has_header && !rows.is_empty() {
        (bom + header_len(sample, delimiter, quote), first)
    } else {
        (bom, Vec::new())
    };
    Ok(Dialect {
        delimiter,
        quote,
        has_header: has_header && !rows.is_empty(),
        encoding,
        body_start,
        body_lines: memchr::memchr_iter(b'\n', &data[..body_start]).count() as u64,
        headers,
        line_ending: line_ending(sample),
    })
}

/// The first [`SAMPLE_LEN`] bytes, cut after the last `\n` when the data goes on.
fn sample(data: &[u8]) -> &[u8] {
    if data.len() <= SAMPLE_LEN {
        return data;
    }
    let head = &data[..SAMPLE_LEN];
    memchr::memrchr(b'\n', head).map_or(head, |i| &head[..=i])
}

fn reader(sample: &[u8], delimiter: u8, quote: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .quote(quote)
        .has_headers(false)
        .flexible(true)
        .from_reader(sample)
}

/// Up to `limit` records of the sample, as raw fields.
fn records(sample: &[u8], delimiter: u8, quote: u8, limit: usize) -> Vec<Vec<Vec<u8>>> {
    let mut rdr = reader(sample, delimiter, quote);
    let mut rec = csv::ByteRecord::new();
    let mut out = Vec::new();
    while out.len() < limit && matches!(rdr.read_byte_record(&mut rec), Ok(true)) {
        out.push(rec.iter().map(<[u8]>::to_vec).collect());
    }
    out
}

/// Bytes of the header record including its line end.
fn header_len(sample: &[u8], delimiter: u8, quote: u8) -> usize {
    let mut rdr = reader(sample, delimiter, quote);
    let mut rec = csv::ByteRecord::new();
    let _ = rdr.read_byte_record(&mut rec);
    let end = rdr.position().byte() as usize;
    // The reader stops after the `\r` of a `\r\n`.
    end + usize::from(end > 0 && sample[end - 1] == b'\r' && sample.get(end) == Some(&b'\n'))
}

/// The candidate giving the most consistent field count (see the module docs).
fn guess_delimiter(sample: &[u8], quote: u8) -> u8 {
    let mut best: Option<((usize, usize), u8)> = None;
    for cand in CANDIDATES {
        let counts: Vec<usize> =
            records(sample, cand, quote, SAMPLE_RECORDS).iter().map(Vec::len).collect();
        let Some((mode, freq)) = mode(&counts) else {
            continue;
        };
        if mode < 2 {
            continue;
        }
        let score = (freq * 1000 / counts.len(), mode);
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, cand));
        }
    }
    best.map_or(b',', |(_, d)| d)
}

/// The most common value and how often it occurs (the larger value on ties).
fn mode(values: &[usize]) -> Option<(usize, usize)> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let mut best: Option<(usize, usize)> = None;
    for run in sorted.chunk_by(|a, b| a == b) {
        if best.is_none_or(|(_, f)| run.len() >= f) {
            best = Some((run[0], run.len()));
        }
    }
    best
}

/// Header heuristics on the decoded first record and the raw sample records.
fn looks_like_header(first: &[String], rows: &[Vec<Vec<u8>>]) -> bool {
    if first.iter().any(|f| field_for_header(f).is_some()) {
        return true;
    }
    if rows.len() < 2 || first.iter().any(|f| f.bytes().any(|b| b.is_ascii_digit())) {
        return false;
    }
    let later = &rows[1..];
    (0..first.len()).any(|col| {
        let heavy = later.iter().filter(|r| r.get(col).is_some_and(|f| digit_heavy(f))).count();
        heavy * 2 > later.len()
    })
}

/// At least half of the non-blank bytes are ASCII digits.
fn digit_heavy(field: &[u8]) -> bool {
    let shown = field.iter().filter(|b| !b.is_ascii_whitespace()).count();
    let digits = field.iter().filter(|b| b.is_ascii_digit()).count();
    shown > 0 && digits * 2 >= shown
}

fn decode_lossy(decoder: &mut FieldDecoder, bytes: &[u8]) -> String {
    match decoder.decode(bytes) {
        Ok(s) => s.trim().to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).trim().to_owned(),
    }
}

fn line_ending(sample: &[u8]) -> LineEnding {
    match memchr::memchr(b'\n', sample) {
        Some(i) if i > 0 && sample[i - 1] == b'\r' => LineEnding::CrLf,
        _ => LineEnding::Lf,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_semicolon_and_header_for_german_export() {
        let data = "Versichertennummer;Nachname;Vorname;Geburtsdatum\r\n\
                    A123456780;Müller;Hans, Peter;01.02.1960\r\n\
                    Z987654321;Groß;Jürgen;1975-12-31\r\n";
        let d = sniff(data.as_bytes()).unwrap();
        assert_eq!(d.delimiter, b';');
        assert!(d.has_header);
        assert_eq!(d.headers, ["Versichertennummer", "Nachname", "Vorname", "Geburtsdatum"]);
        assert_eq!(&data.as_bytes()[d.body_start..d.body_start + 10], b"A123456780");
        assert_eq!(d.body_lines, 1);
        assert_eq!(d.line_ending, LineEnding::CrLf);
        assert_eq!(d.encoding, Encoding::Utf8);
    }

    #[test]
    fn picks_tab_pipe_and_comma() {
        for delim in [b'\t', b'|', b','] {
            let d = delim as char;
            let data = format!(
                "kvnr{d}email{d}tel\nA123456780{d}a@b.de{d}0171 1\n\
                 \"B1;2,3|4\"{d}c@d.de{d}0172 2\nM234567898{d}e@f.de{d}0173 3\n"
            );
            let dialect = sniff(data.as_bytes()).unwrap();
            assert_eq!(dialect.delimiter, delim, "for {d:?}");
            assert!(dialect.has_header);
        }
    }

    #[test]
    fn detects_missing_header() {
        let data = b"A123456780;Mueller;Hans;01.02.1960\nZ987654321;Gross;Juergen;31.12.1975\n";
        let d = sniff(data).unwrap();
        assert_eq!(d.delimiter, b';');
        assert!(!d.has_header);
        assert!(d.headers.is_empty());
        assert_eq!(d.body_start, 0);
    }

    #[test]
    fn detects_unknown_header_by_digit_heavy_columns() {
        let data = b"Kundennr,Ort\n100234,Berlin\n100235,Hamburg\n100236,Bonn\n";
        let d = sniff(data).unwrap();
        assert!(d.has_header);
        assert_eq!(d.headers, ["Kundennr", "Ort"]);
        assert_eq!(d.body_start, 13);
    }

    #[test]
    fn skips_utf8_bom_and_decodes_windows_1252_headers() {
        let d = sniff(b"\xEF\xBB\xBFEmail;Name\na@b.de;X\n").unwrap();
        assert_eq!(d.encoding, Encoding::Utf8Bom);
        assert_eq!(d.headers, ["Email", "Name"]);
        assert_eq!(d.body_start, 3 + 11);
        let d = sniff(b"Stra\xDFe;Name\nx;M\xFCller\n").unwrap();
        assert_eq!(d.encoding, Encoding::Windows1252);
        assert_eq!(d.headers, ["Straße", "Name"]);
    }

    #[test]
    fn overrides_win_over_guesses() {
        let data = b"a;b\n1;2\n";
        let ov = SniffOverrides { delimiter: Some(b','), has_header: Some(false), quote: None };
        let d = sniff_with(data, &ov).unwrap();
        assert_eq!((d.delimiter, d.has_header, d.body_start), (b',', false, 0));
        let bad = SniffOverrides { delimiter: Some(b'"'), ..SniffOverrides::default() };
        assert!(sniff_with(data, &bad).is_err());
    }

    #[test]
    fn empty_input_sniffs_without_panic() {
        let d = sniff(b"").unwrap();
        assert_eq!((d.body_start, d.has_header), (0, false));
    }

    #[test]
    fn quoted_delimiters_do_not_mislead_the_guess() {
        let data = b"\"M\xFCller; Hans\",1,x\n\"Gro\xDF; J\",2,y\n\"A; B\",3,z\n";
        assert_eq!(sniff(data).unwrap().delimiter, b',');
    }
}
