//! The fast path for chunks without a quote byte: records and fields found 64 bytes at a time.
//!
//! Where a chunk holds no quote byte, the CSV state machine has nothing to decide: every `\r`
//! or `\n` ends a record and every delimiter ends a field. [`ChunkParser::parse_quote_free`]
//! then walks the chunk's *structural* bytes (delimiter, `\r`, `\n`) from a bit mask per
//! 64-byte block ([`Structurals`]: one vector compare per 16 bytes on x86-64), keeps the
//! fields of the mapped columns and copies nothing. It gives the same records, positions and
//! [`ChunkStats`] as [`ChunkParser::parse_with_strays`] (the property tests below compare both
//! on quote-free input, with tiny record bounds too); chunks with a quote byte go through the
//! state machine.

// Reviewed (#11): `from..to` and `p` are memchr offsets inside `chunk`; `found` is below the fixed
// `values` length (loop bound); `after - 1` after `after > base`.
#![allow(clippy::indexing_slicing)]

use super::{count_lf, ChunkParser, ChunkStats, Position};

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
        let mut structurals = Structurals::new(chunk, delimiter);
        // `base`: where the state machine would (re)start; `after`: just past the terminator
        // byte that ended the last record (the `\n` of a `\r\n` is left for the next round).
        let (mut base, mut after, mut line) = (0usize, 0usize, 0u64);
        loop {
            let (start, run) = skip_terminators(chunk, after);
            let crlf_tail =
                after > base && chunk[after - 1] == b'\r' && chunk.get(after) == Some(&b'\n');
            stats.skipped_blank += run - u64::from(crlf_tail);
            line += run;
            if start >= chunk.len() {
                stats.lines = line;
                return stats;
            }
            structurals.skip_to(start);
            let (end, found) = split_record(chunk, start, &mut structurals, columns, &mut values);
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
                structurals.seek(base);
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
            f(Some(Split { values: &values, ragged: found < columns.len() }), pos);
            stats.records += 1;
        }
    }
}

/// The first offset at or after `from` that is not `\r` or `\n`, and the `\n`s before it.
#[inline]
fn skip_terminators(data: &[u8], from: usize) -> (usize, u64) {
    let (mut i, mut lf) = (from, 0u64);
    while let Some(&b) = data.get(i) {
        if b != b'\n' && b != b'\r' {
            break;
        }
        lf += u64::from(b == b'\n');
        i += 1;
    }
    (i, lf)
}

/// Walks the record starting at `start` (not a terminator) along `structurals`: sets
/// `values[i]` to the field `columns[i]` (`None` past its last field) and returns the record's
/// end (its terminator, or the chunk's end) and how many of `columns` it has. `structurals`
/// is left just past the end.
#[inline]
fn split_record<'c>(
    chunk: &'c [u8],
    start: usize,
    structurals: &mut Structurals<'_>,
    columns: &[usize],
    values: &mut [Option<&'c [u8]>],
) -> (usize, usize) {
    values.fill(None);
    let (mut field, mut from, mut found) = (0usize, start, 0usize);
    loop {
        let (to, last) = match structurals.next() {
            Some(p) => (p, chunk[p] == b'\n' || chunk[p] == b'\r'),
            None => (chunk.len(), true),
        };
        if columns.get(found) == Some(&field) {
            values[found] = Some(&chunk[from..to]);
            found += 1;
        }
        if last {
            return (to, found);
        }
        field += 1;
        from = to + 1;
    }
}

/// The offsets of a chunk's structural bytes (the delimiter, `\r`, `\n`) in ascending order,
/// from one bit mask per 64-byte block.
struct Structurals<'c> {
    data: &'c [u8],
    delimiter: u8,
    /// Offset of the current block (a multiple of 64).
    block: usize,
    /// Bit `i`: `data[block + i]` is structural and not yet returned.
    mask: u64,
}

impl<'c> Structurals<'c> {
    fn new(data: &'c [u8], delimiter: u8) -> Structurals<'c> {
        let mut s = Structurals { data, delimiter, block: 0, mask: 0 };
        s.seek(0);
        s
    }

    /// Restarts at `pos`: the next offset returned is the first structural one at or after it.
    fn seek(&mut self, pos: usize) {
        self.block = pos & !63;
        self.mask = block_mask(self.data, self.block, self.delimiter) & (!0u64 << (pos & 63));
    }

    /// Drops the offsets before `pos` (at or after the last one returned).
    #[inline]
    fn skip_to(&mut self, pos: usize) {
        match pos - self.block.min(pos) {
            d @ 0..=63 => self.mask &= !0u64 << d,
            _ => self.seek(pos),
        }
    }

    /// The next structural offset, or `None` at the end of the data.
    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            if self.block + 64 >= self.data.len() {
                return None;
            }
            self.block += 64;
            self.mask = block_mask(self.data, self.block, self.delimiter);
        }
        let i = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(self.block + i)
    }
}

/// Bit `i` set where `data[at + i]` is `delimiter`, `\r` or `\n` (bits past the end clear).
#[inline]
fn block_mask(data: &[u8], at: usize, delimiter: u8) -> u64 {
    match data.get(at..at + 64) {
        Some(block) => mask64(block.try_into().expect("64 bytes"), delimiter),
        None => {
            // The last, partial block: padded with a byte that is none of the three.
            let tail = data.get(at..).unwrap_or_default();
            let mut block = [if delimiter == 0 { 1 } else { 0 }; 64];
            block[..tail.len()].copy_from_slice(tail);
            mask64(&block, delimiter)
        }
    }
}

/// [`block_mask`] of one full block: SSE2 compares.
#[cfg(target_arch = "x86_64")]
#[inline]
fn mask64(block: &[u8; 64], delimiter: u8) -> u64 {
    // SAFETY: SSE2 is part of the x86-64 baseline: every CPU this target runs on has it.
    unsafe { mask64_sse2(block, delimiter) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn mask64_sse2(block: &[u8; 64], delimiter: u8) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let d = _mm_set1_epi8(delimiter as i8);
    let r = _mm_set1_epi8(b'\r' as i8);
    let n = _mm_set1_epi8(b'\n' as i8);
    let mut mask = 0u64;
    for (k, lane) in block.chunks_exact(16).enumerate() {
        // SAFETY: `lane` is 16 readable bytes; the load has no alignment requirement.
        let v = unsafe { _mm_loadu_si128(lane.as_ptr().cast::<__m128i>()) };
        let hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, d), _mm_cmpeq_epi8(v, r)),
            _mm_cmpeq_epi8(v, n),
        );
        mask |= u64::from(_mm_movemask_epi8(hit) as u16) << (16 * k);
    }
    mask
}

/// [`block_mask`] of one full block, byte by byte (other targets).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn mask64(block: &[u8; 64], delimiter: u8) -> u64 {
    mask64_bytes(block, delimiter)
}

/// The reference for [`mask64`].
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn mask64_bytes(block: &[u8; 64], delimiter: u8) -> u64 {
    let hit = |b: u8| b == delimiter || b == b'\r' || b == b'\n';
    block.iter().enumerate().fold(0, |m, (i, &b)| m | u64::from(hit(b)) << i)
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
        fn block_mask_marks_exactly_the_structural_bytes(
            block in prop::collection::vec(prop::sample::select(b"a;,\n\r \t\0\x01\xC3".to_vec()), 64),
            delimiter in prop::sample::select(vec![b';', b',', b'\t', 0, b'\n']),
        ) {
            let block: [u8; 64] = block.try_into().unwrap();
            prop_assert_eq!(mask64(&block, delimiter), mask64_bytes(&block, delimiter));
        }

        #[test]
        fn structurals_give_every_structural_offset_after_any_seek_in_order(
            data in prop::collection::vec(prop::sample::select(b"a;\n\r".to_vec()), 0..400),
            seek in 0usize..400,
        ) {
            let seek = seek.min(data.len());
            let want: Vec<usize> = (seek..data.len()).filter(|&i| b";\r\n".contains(&data[i])).collect();
            let mut s = Structurals::new(&data, b';');
            s.seek(seek);
            let got: Vec<usize> = std::iter::from_fn(|| s.next()).collect();
            prop_assert_eq!(&got, &want);
            let mut s = Structurals::new(&data, b';');
            s.skip_to(seek);
            prop_assert_eq!(std::iter::from_fn(|| s.next()).collect::<Vec<_>>(), want);
        }

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
