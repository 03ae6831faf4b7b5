//! Text encodings of dumps (README "Input formats"): detection and per-field decoding.
//!
//! Detection looks at a bounded sample: a UTF-8 BOM means UTF-8 (the BOM is skipped), a UTF-16
//! BOM is refused for now, a valid UTF-8 sample means UTF-8, anything else is taken as
//! Windows-1252 (German Excel exports). Because only a sample is checked, a "UTF-8" file may
//! still hold invalid bytes further on: decoding is done per field, and an invalid field is
//! reported as [`InvalidEncoding`] for the caller to count, never guessed at.

// Reviewed (#11): the sample is `..len.min(SAMPLE_LEN)`; slot `i` is the column index of the fixed
// slot array the caller sized.
#![allow(clippy::indexing_slicing)]

use std::ops::Range;

use encoding_rs::WINDOWS_1252;

use super::DumpError;

/// How many leading bytes [`Encoding::detect`] validates.
pub const SAMPLE_LEN: usize = 64 * 1024;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The text encoding of a dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 starting with the 3-byte BOM `EF BB BF`, which is not part of the data.
    Utf8Bom,
    /// Windows-1252 (a superset of Latin-1 as used by Excel on German Windows).
    Windows1252,
}

/// A field whose bytes are not valid in the file's encoding (invalid UTF-8 in a UTF-8 file).
/// Carries no bytes: the caller counts it by position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("field is not valid text in the file's encoding")]
pub struct InvalidEncoding;

impl Encoding {
    /// Detects the encoding from the start of `data` (at most `SAMPLE_LEN` bytes are checked).
    pub fn detect(data: &[u8]) -> Result<Encoding, DumpError> {
        if data.starts_with(UTF8_BOM) {
            return Ok(Encoding::Utf8Bom);
        }
        if data.starts_with(b"\xFF\xFE") || data.starts_with(b"\xFE\xFF") {
            return Err(DumpError::UnsupportedEncoding { encoding: "UTF-16" });
        }
        let sample = &data[..data.len().min(SAMPLE_LEN)];
        match std::str::from_utf8(sample) {
            Ok(_) => Ok(Encoding::Utf8),
            // A multi-byte character cut by the sample's end is not an error.
            Err(e) if e.error_len().is_none() => Ok(Encoding::Utf8),
            Err(_) => Ok(Encoding::Windows1252),
        }
    }

    /// Length of the byte-order mark the data starts with (0 or 3).
    pub fn bom_len(self) -> usize {
        match self {
            Encoding::Utf8Bom => UTF8_BOM.len(),
            Encoding::Utf8 | Encoding::Windows1252 => 0,
        }
    }

    /// Stable name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::Windows1252 => "windows-1252",
        }
    }

    /// Appends the decoded `bytes` to `out`.
    fn decode_into(self, bytes: &[u8], out: &mut String) -> Result<(), InvalidEncoding> {
        match self {
            Encoding::Utf8 | Encoding::Utf8Bom => {
                out.push_str(std::str::from_utf8(bytes).map_err(|_| InvalidEncoding)?);
            }
            Encoding::Windows1252 if bytes.is_ascii() => {
                // ASCII bytes are valid UTF-8.
                out.push_str(std::str::from_utf8(bytes).map_err(|_| InvalidEncoding)?);
            }
            Encoding::Windows1252 => {
                let mut decoder = WINDOWS_1252.new_decoder_without_bom_handling();
                let need = decoder.max_utf8_buffer_length(bytes.len()).unwrap_or(usize::MAX);
                out.reserve(need);
                // Every Windows-1252 byte maps to a character: no replacement ever happens.
                let _ = decoder.decode_to_string(bytes, out, true);
            }
        }
        Ok(())
    }
}

/// Decodes one field at a time, borrowing where possible (one per worker).
#[derive(Debug)]
pub struct FieldDecoder {
    encoding: Encoding,
    buf: String,
}

impl FieldDecoder {
    /// A decoder for fields of a file in `encoding`.
    pub fn new(encoding: Encoding) -> FieldDecoder {
        FieldDecoder { encoding, buf: String::new() }
    }

    /// Decodes `bytes`. UTF-8 and ASCII fields are borrowed without copying; Windows-1252
    /// fields with a non-ASCII byte are decoded into the reusable buffer.
    pub fn decode<'a>(&'a mut self, bytes: &'a [u8]) -> Result<&'a str, InvalidEncoding> {
        match self.encoding {
            Encoding::Windows1252 if !bytes.is_ascii() => {
                self.buf.clear();
                self.encoding.decode_into(bytes, &mut self.buf)?;
                Ok(&self.buf)
            }
            _ => std::str::from_utf8(bytes).map_err(|_| InvalidEncoding),
        }
    }
}

/// Decodes several fields of one record into one reusable buffer, so that all of them can be
/// borrowed at once (one per worker).
#[derive(Debug)]
pub struct RecordDecoder {
    encoding: Encoding,
    buf: String,
    /// Per field index: the decoded span in `buf`, or why there is none.
    slots: Vec<Slot>,
}

#[derive(Clone, Debug)]
enum Slot {
    Absent,
    Text(Range<usize>),
    Invalid,
}

impl RecordDecoder {
    /// A decoder for records of a file in `encoding`.
    pub fn new(encoding: Encoding) -> RecordDecoder {
        RecordDecoder { encoding, buf: String::new(), slots: Vec::new() }
    }

    /// Decodes the fields at the 0-based `indices` of `record`, replacing what an earlier call
    /// decoded. Returns how many of them were not valid text. Indices beyond the record's
    /// length are absent, not errors.
    pub fn decode(&mut self, record: &csv::ByteRecord, indices: &[usize]) -> usize {
        self.buf.clear();
        self.slots.iter_mut().for_each(|s| *s = Slot::Absent);
        let mut invalid = 0;
        for &i in indices {
            let Some(bytes) = record.get(i) else { continue };
            if self.slots.len() <= i {
                self.slots.resize(i + 1, Slot::Absent);
            }
            let start = self.buf.len();
            self.slots[i] = match self.encoding.decode_into(bytes, &mut self.buf) {
                Ok(()) => Slot::Text(start..self.buf.len()),
                Err(InvalidEncoding) => {
                    invalid += 1;
                    Slot::Invalid
                }
            };
        }
        invalid
    }

    /// The text of field `index` from the last [`decode`](Self::decode): `None` if it was not
    /// requested or the record has no such field, `Some(Err)` if it was not valid text.
    pub fn field(&self, index: usize) -> Option<Result<&str, InvalidEncoding>> {
        match self.slots.get(index)? {
            Slot::Absent => None,
            Slot::Text(span) => Some(Ok(&self.buf[span.clone()])),
            Slot::Invalid => Some(Err(InvalidEncoding)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_mueller_decodes_like_utf8_mueller() {
        let mut latin = FieldDecoder::new(Encoding::Windows1252);
        let mut utf8 = FieldDecoder::new(Encoding::Utf8);
        let a = latin.decode(b"M\xFCller").unwrap().to_owned();
        assert_eq!(a, utf8.decode("Müller".as_bytes()).unwrap());
        assert_eq!(a, "Müller");
    }

    #[test]
    fn utf8_fields_are_borrowed_not_copied() {
        let mut dec = FieldDecoder::new(Encoding::Utf8);
        let bytes = "Groß".as_bytes();
        let s = dec.decode(bytes).unwrap();
        assert_eq!(s.as_ptr(), bytes.as_ptr());
        let mut latin = FieldDecoder::new(Encoding::Windows1252);
        assert_eq!(latin.decode(b"abc").unwrap().as_ptr(), b"abc".as_ptr());
    }

    #[test]
    fn invalid_utf8_field_in_utf8_file_is_an_error() {
        let mut dec = FieldDecoder::new(Encoding::Utf8);
        assert_eq!(dec.decode(b"M\xFCller"), Err(InvalidEncoding));
    }

    #[test]
    fn detects_bom_utf8_and_windows_1252() {
        assert_eq!(Encoding::detect(b"\xEF\xBB\xBFa;b").unwrap(), Encoding::Utf8Bom);
        assert_eq!(Encoding::Utf8Bom.bom_len(), 3);
        assert_eq!(Encoding::detect("Müller;x".as_bytes()).unwrap(), Encoding::Utf8);
        assert_eq!(Encoding::detect(b"M\xFCller;x").unwrap(), Encoding::Windows1252);
        assert_eq!(Encoding::detect(b"").unwrap(), Encoding::Utf8);
    }

    #[test]
    fn utf16_bom_is_refused() {
        let err = Encoding::detect(b"\xFF\xFEa\0").unwrap_err();
        assert!(matches!(err, DumpError::UnsupportedEncoding { .. }));
    }

    #[test]
    fn character_cut_at_sample_end_still_counts_as_utf8() {
        let mut data = vec![b'a'; SAMPLE_LEN - 1];
        data.extend_from_slice("ü".as_bytes());
        assert_eq!(Encoding::detect(&data).unwrap(), Encoding::Utf8);
    }

    #[test]
    fn record_decoder_gives_all_requested_fields_at_once() {
        let rec = csv::ByteRecord::from(vec![&b"A123456780"[..], b"M\xFCller", b"J\xFCrgen"]);
        let mut dec = RecordDecoder::new(Encoding::Windows1252);
        assert_eq!(dec.decode(&rec, &[1, 2, 7]), 0);
        assert_eq!(dec.field(1), Some(Ok("Müller")));
        assert_eq!(dec.field(2), Some(Ok("Jürgen")));
        assert_eq!(dec.field(0), None, "not requested");
        assert_eq!(dec.field(7), None, "beyond the record");
        let mut utf8 = RecordDecoder::new(Encoding::Utf8);
        assert_eq!(utf8.decode(&rec, &[0, 1]), 1);
        assert_eq!(utf8.field(0), Some(Ok("A123456780")));
        assert_eq!(utf8.field(1), Some(Err(InvalidEncoding)));
        utf8.decode(&rec, &[0]);
        assert_eq!(utf8.field(1), None, "earlier decode is forgotten");
    }
}
