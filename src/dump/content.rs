//! Columns of a headerless delimited file, assigned by content (README "Input formats").
//!
//! The first [`SAMPLE_RECORDS`] records of the sample are parsed; for each column and each
//! kind with a strict normaliser (KVNR, e-mail, IBAN, birth date, then phone, whose
//! normaliser accepts more), the share of its non-empty values that normalise as valid is
//! measured with the same normalisers the scan uses ([`crate::ident`]). A field goes to the
//! free column with the highest share when that share is at least [`MIN_SHARE`]; the report
//! shows the share ([`Why::Content`]). Names are not guessed: any text is a valid name.

// Reviewed (#11): `taken` has one entry per column (`c`, `column` range over the columns); samples
// are `..len.min(..)`.
#![allow(clippy::indexing_slicing)]

use super::columns::{ColumnMapping, Why};
use super::decode::FieldDecoder;
use super::Dialect;
use crate::ident::{self, Field, Outcome};

/// Records looked at.
pub const SAMPLE_RECORDS: usize = 200;

/// Least share (per mille) of valid values for a column to be assigned.
pub const MIN_SHARE: u16 = 600;

/// A normaliser of one kind.
type Normalise = fn(&str, &mut Vec<u8>) -> Outcome;

/// Fields sniffed, strictest normaliser first.
const SNIFFED: [(Field, Normalise); 5] = [
    (Field::Kvnr, ident::kvnr::normalize),
    (Field::Email, ident::email::normalize),
    (Field::Iban, ident::iban::normalize),
    (Field::BirthDate, ident::date::normalize),
    (Field::Phone, ident::phone::normalize),
];

/// Maps the columns of the headerless file `data` by content.
pub fn map_by_content(data: &[u8], dialect: &Dialect) -> ColumnMapping {
    let rows = sample_rows(data, dialect);
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut mapping = ColumnMapping::default();
    let mut taken = vec![false; width];
    let mut buf = Vec::new();
    for (field, normalise) in SNIFFED {
        let best = (0..width)
            .filter(|&c| !taken[c])
            .map(|c| (share(&rows, c, normalise, &mut buf), c))
            .max_by_key(|&(s, c)| (s, std::cmp::Reverse(c)));
        if let Some((share, column)) = best.filter(|&(s, _)| s >= MIN_SHARE) {
            taken[column] = true;
            mapping.set(field, column, &[], Why::Content { share });
        }
    }
    mapping
}

/// The most fields of a record in the detection sample of a headerless file: the columns an
/// index given to `--map` may name.
pub fn sample_width(data: &[u8], dialect: &Dialect) -> usize {
    sample_rows(data, dialect).iter().map(Vec::len).max().unwrap_or(0)
}

/// Per mille of the non-empty values of `column` that `normalise` accepts as valid.
fn share(rows: &[Vec<String>], column: usize, normalise: Normalise, buf: &mut Vec<u8>) -> u16 {
    let (mut seen, mut valid) = (0u64, 0u64);
    for value in rows.iter().filter_map(|r| r.get(column)).filter(|v| !v.trim().is_empty()) {
        seen += 1;
        valid += u64::from(normalise(value, buf) == Outcome::Valid);
    }
    (valid * 1000).checked_div(seen).map_or(0, |s| s as u16)
}

/// The decoded fields of the first records of the body.
fn sample_rows(data: &[u8], dialect: &Dialect) -> Vec<Vec<String>> {
    let body = &data[dialect.body_start.min(data.len())..];
    let body = &body[..body.len().min(super::decode::SAMPLE_LEN)];
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(dialect.delimiter)
        .quote(dialect.quote)
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut decoder = FieldDecoder::new(dialect.encoding);
    let mut rec = csv::ByteRecord::new();
    let mut rows = Vec::new();
    while rows.len() < SAMPLE_RECORDS && matches!(rdr.read_byte_record(&mut rec), Ok(true)) {
        rows.push(
            rec.iter()
                .map(|f| decoder.decode(f).map_or_else(|_| String::new(), str::to_owned))
                .collect(),
        );
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::sniff;

    #[test]
    fn headerless_columns_are_assigned_by_share_of_valid_values() {
        let data = b"x@y.de;A123456780;01.02.1960\nbad;Z987654321;1975-12-31\nq@r.de;;31.12.1980\n";
        let d = sniff(data).unwrap();
        assert!(!d.has_header);
        let m = map_by_content(data, &d);
        assert_eq!(m.column(Field::Email), Some(0));
        assert_eq!(m.column(Field::BirthDate), Some(2));
        let email = m.reasons.iter().find(|r| r.field == Field::Email).unwrap();
        assert_eq!(email.why, Why::Content { share: 666 });
        assert!(email.why.to_string().contains("66.6 %"));
    }

    #[test]
    fn text_columns_get_no_field() {
        let data = b"foo;bar\nbaz;qux\n";
        let d = sniff(data).unwrap();
        assert!(map_by_content(data, &d).reasons.is_empty());
    }
}
