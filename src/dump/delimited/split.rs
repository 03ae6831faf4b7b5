//! The fast path for chunks without a quote byte: records and fields found with `memchr`.
//!
//! Where a chunk holds no quote byte, the CSV state machine has nothing to decide: every `\r`
//! or `\n` ends a record and every delimiter ends a field. [`ChunkParser::parse_quote_free`]
//! then finds each record's end with one `memchr2`, splits only up to the last mapped column
//! and never touches the bytes of the columns after it; nothing is copied. It gives the same
//! records, positions and [`ChunkStats`] as [`ChunkParser::parse_with_strays`] (the property
//! tests below compare both on quote-free input, with tiny record bounds too); chunks with a
//! quote byte go through the state machine.

use super::{count_lf, ChunkParser, ChunkStats, Position};
use crate::dump::chunk::skip_terminators;

/// One record of a quote-free chunk, as [`ChunkParser::parse_quote_free`] hands it over.
pub struct Split<'c, 'v> {
    /// The raw bytes of `columns[i]`, or `None` when the record has fewer fields.
    pub values: &'v [Option<&'c [u8]>],
    /// The record has no field at the last mapped column (a ragged record).
    pub ragged: bool,
}

impl ChunkParser {
    /// Parses `chunk`, which must hold no quote byte, calling `f` for each non-blank record
    /// with the bytes of the sorted, deduplicated `columns`, or with `None` for a record
    /// skipped as oversized. Positions are relative to the chunk. Same records, positions and
    /// counts as [`ChunkParser::parse_with_strays`].
    pub fn parse_quote_free<'c>(
        &mut self,
        chunk: &'c [u8],
        delimiter: u8,
        columns: &[usize],
        mut f: impl FnMut(Option<Split<'c, '_>>, Position),
    ) -> ChunkStats {
        let mut values: Vec<Option<&'c [u8]>> = vec![None; columns.len()];
        let mut stats = ChunkStats::default();
        // `base`: where the state machine would (re)start; `after`: just past the terminator
        // byte that ended the last record (the `\n` of a `\r\n` is left for the next round).
        let (mut base, mut after, mut line) = (0usize, 0usize, 0u64);
        loop {
            let start = skip_terminators(chunk, after);
            let run = count_lf(&chunk[after..start]);
            let crlf_tail =
                after > base && chunk[after - 1] == b'\r' && chunk.get(after) == Some(&b'\n');
            stats.skipped_blank += run - u64::from(crlf_tail);
            line += run;
            if start >= chunk.len() {
                stats.lines = line;
                return stats;
            }
            let end =
                memchr::memchr2(b'\r', b'\n', &chunk[start..]).map_or(chunk.len(), |i| start + i);
            if end - start >= self.max_record && start + self.max_record < chunk.len() {
                // Too long: skipped and counted, parsing resumes after the first `\n` past
                // the record bound, as the state machine does.
                f(None, Position { record: stats.records, line, byte: start as u64 });
                stats.records += 1;
                stats.oversized += 1;
                let from = start + self.max_record;
                let Some(k) = memchr::memchr(b'\n', &chunk[from..]) else {
                    stats.lines = line + count_lf(&chunk[start..]);
                    return stats;
                };
                line += count_lf(&chunk[start..from + k + 1]);
                base = from + k + 1;
                after = base;
                continue;
            }
            let pos = Position { record: stats.records, line, byte: start as u64 };
            after = (end + 1).min(chunk.len());
            line += u64::from(chunk.get(end) == Some(&b'\n'));
            let record = &chunk[start..end];
            if record.iter().all(|&b| b == delimiter || b.is_ascii_whitespace()) {
                stats.skipped_blank += 1;
                continue;
            }
            let found = split_fields(record, delimiter, columns, &mut values);
            f(Some(Split { values: &values, ragged: found < columns.len() }), pos);
            stats.records += 1;
        }
    }
}

/// Sets `values[i]` to the field `columns[i]` of `record` (`None` past its last field) and
/// returns how many columns it has; stops at the last mapped column.
#[inline]
fn split_fields<'c>(
    record: &'c [u8],
    delimiter: u8,
    columns: &[usize],
    values: &mut [Option<&'c [u8]>],
) -> usize {
    values.fill(None);
    let (mut field, mut from, mut found) = (0usize, 0usize, 0usize);
    while found < columns.len() {
        let to = memchr::memchr(delimiter, &record[from..]).map_or(record.len(), |i| from + i);
        if columns[found] == field {
            values[found] = Some(&record[from..to]);
            found += 1;
        }
        if to == record.len() {
            break;
        }
        field += 1;
        from = to + 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::Malformed;
    use crate::dump::{Dialect, Encoding, LineEnding};
    use proptest::prelude::*;

    /// A record as both paths give it: mapped values and ragged flag (`None`: skipped as
    /// oversized), position.
    type Got = (Option<(Vec<Option<Vec<u8>>>, bool)>, Position);

    fn dialect(delimiter: u8) -> Dialect {
        Dialect {
            delimiter,
            quote: b'"',
            has_header: false,
            encoding: Encoding::Utf8,
            body_start: 0,
            body_lines: 0,
            headers: Vec::new(),
            line_ending: LineEnding::Lf,
        }
    }

    fn state_machine(
        data: &[u8],
        d: &Dialect,
        cols: &[usize],
        max: usize,
    ) -> (Vec<Got>, ChunkStats) {
        let mut got = Vec::new();
        let last = cols.last().copied();
        let stats = ChunkParser::with_max_record(max)
            .parse_with_strays(data, 0..data.len(), d, |rec, pos| match rec {
                Ok(rec) => {
                    let values = cols.iter().map(|&c| rec.get(c).map(<[u8]>::to_vec)).collect();
                    got.push((Some((values, last.is_some_and(|c| rec.len() <= c))), pos));
                }
                Err(Malformed::Oversized) => got.push((None, pos)),
                Err(why) => panic!("{why:?} in quote-free input"),
            })
            .unwrap();
        (got, stats)
    }

    fn fast(data: &[u8], delimiter: u8, cols: &[usize], max: usize) -> (Vec<Got>, ChunkStats) {
        let mut got = Vec::new();
        let stats =
            ChunkParser::with_max_record(max).parse_quote_free(data, delimiter, cols, |s, pos| {
                let rec =
                    s.map(|s| (s.values.iter().map(|v| v.map(<[u8]>::to_vec)).collect(), s.ragged));
                got.push((rec, pos));
            });
        (got, stats)
    }

    /// Sorted, deduplicated column lists (as `ColumnMapping::columns` gives them).
    fn columns() -> impl Strategy<Value = Vec<usize>> {
        prop::collection::btree_set(0usize..7, 0..5).prop_map(|s| s.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn quote_free_split_equals_the_state_machine_on_any_quote_free_bytes(
            data in prop::collection::vec(prop::sample::select(b"ab;,\n\r \t\xC3\xBC".to_vec()), 0..300),
            cols in columns(),
            delimiter in prop::sample::select(vec![b';', b',', b'\t']),
            max in prop_oneof![1usize..40, Just(crate::dump::MAX_RECORD)],
        ) {
            let d = dialect(delimiter);
            prop_assert_eq!(fast(&data, delimiter, &cols, max), state_machine(&data, &d, &cols, max));
        }

        #[test]
        fn quote_free_split_equals_the_state_machine_on_csv_lines(
            rows in prop::collection::vec(
                (prop::collection::vec("[a-z0-9 .@+-]{0,8}", 1..8), prop::sample::select(vec!["\n", "\r\n", "\n\n", "\r", " \n"])),
                0..30,
            ),
            cols in columns(),
        ) {
            let text: String = rows.iter().map(|(fields, eol)| fields.join(";") + eol).collect();
            let d = dialect(b';');
            let max = crate::dump::MAX_RECORD;
            prop_assert_eq!(fast(text.as_bytes(), b';', &cols, max), state_machine(text.as_bytes(), &d, &cols, max));
        }
    }
}
