//! Row-level forensics state kept in the [`crate::tally::Tally`]: a bottom-k sample of rows'
//! combined token sets (duplicates inside the dump) and the positions of matching records
//! (`--emit-matches`). Both merge exactly, associatively and commutatively.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::tally::{ChunkCounts, Pos};

/// Distinct rows kept by a [`RowSample`]: the duplicate share is exact up to this many
/// distinct rows and estimated from a uniform sample of this size beyond.
pub const ROW_SAMPLE: usize = 8192;

/// A bottom-k sketch with multiplicities over rows' hashes (a hash of all tokens of a row).
///
/// Keeps the [`ROW_SAMPLE`] smallest distinct row hashes with how often each occurred. The
/// hashes are PRF outputs, so the kept rows are a uniform sample of the distinct rows, and the
/// mean multiplicity in the sample estimates rows / distinct rows (Cohen & Kaplan 2007,
/// bottom-k sketches). Merging is the union with counts added, cut to the k smallest: exact,
/// associative and commutative.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowSample {
    /// Rows with at least one token.
    pub rows: u64,
    /// Row hash → number of rows with it (the k smallest hashes).
    sample: BTreeMap<u64, u64>,
}

impl RowSample {
    /// Counts one row by the hash of its tokens.
    #[inline]
    pub fn insert(&mut self, h: u64) {
        self.rows += 1;
        self.add(h, 1);
    }

    fn add(&mut self, h: u64, n: u64) {
        if self.sample.len() >= ROW_SAMPLE {
            match self.sample.last_key_value() {
                Some((&max, _)) if h > max => return,
                _ => {}
            }
        }
        *self.sample.entry(h).or_insert(0) += n;
        if self.sample.len() > ROW_SAMPLE {
            self.sample.pop_last();
        }
    }

    /// Union with another sample.
    pub fn merge(&mut self, o: &RowSample) {
        self.rows += o.rows;
        for (&h, &n) in &o.sample {
            self.add(h, n);
        }
    }

    /// Estimated rows that repeat an earlier row's token set: rows − distinct rows, where
    /// distinct rows = rows / (mean multiplicity in the sample). Exact when the dump has at
    /// most [`ROW_SAMPLE`] distinct rows.
    pub fn duplicates(&self) -> f64 {
        let distinct = self.sample.len() as f64;
        if distinct == 0.0 {
            return 0.0;
        }
        let kept: u64 = self.sample.values().sum();
        let mean = kept as f64 / distinct;
        self.rows as f64 - self.rows as f64 / mean
    }

    /// Whether [`RowSample::duplicates`] is exact.
    pub fn is_exact(&self) -> bool {
        self.sample.len() < ROW_SAMPLE
    }
}

/// One record that hit a filter: where it is, which filter, which kinds (bit `i` set for
/// [`crate::ident::Kind::ALL`]`[i]`). Never a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchHit {
    pub pos: Pos,
    /// Index of the filter, in the order filters were given.
    pub filter: u32,
    /// Bit set of the kinds that hit.
    pub kinds: u16,
}

fn key(m: &MatchHit) -> (u64, u32) {
    (m.pos.byte, m.filter)
}

/// Merges sorted `o` into sorted `a`, keeping the order by (byte, filter). Appending is the
/// common case (chunks arrive mostly in order); otherwise a stable run-merging sort.
pub fn merge_matches(a: &mut Vec<MatchHit>, o: &[MatchHit]) {
    let in_order = match (a.last(), o.first()) {
        (Some(x), Some(y)) => key(x) <= key(y),
        _ => true,
    };
    a.extend_from_slice(o);
    if !in_order {
        a.sort_by_key(key);
    }
}

/// Makes chunk-relative record and line numbers of matches file-wide (1-based), as
/// [`crate::tally::Tally::absolute_positions`] does for malformed records.
pub fn absolute_match_positions(ms: &mut [MatchHit], chunks: &[ChunkCounts], header_lines: u64) {
    if ms.is_empty() {
        return;
    }
    let mut before = Vec::with_capacity(chunks.len() + 1);
    let (mut r, mut l) = (0u64, 0u64);
    for c in chunks {
        before.push((r, l));
        r += c.records;
        l += c.lines;
    }
    before.push((r, l));
    for m in ms {
        let (r, l) = before[m.pos.chunk.min(chunks.len())];
        m.pos.record += r + 1;
        m.pos.line += header_lines + l + 1;
        m.pos.chunk = 0;
    }
}

/// Writes matches of one input as JSON lines (format in `--emit-matches`' help): one line per
/// record, the filters and kinds that hit it. `filters` are the filters' labels by index.
pub fn write_matches(
    w: &mut impl std::io::Write,
    input: &str,
    ms: &[MatchHit],
    filters: &[String],
) -> std::io::Result<()> {
    let mut i = 0;
    while i < ms.len() {
        let p = ms[i].pos;
        let end = i + ms[i..].iter().take_while(|m| m.pos.byte == p.byte).count();
        let hits: Vec<serde_json::Value> = ms[i..end]
            .iter()
            .map(|m| {
                let kinds: Vec<&str> = crate::ident::Kind::ALL
                    .iter()
                    .filter(|k| m.kinds & (1 << k.index()) != 0)
                    .map(|k| k.name())
                    .collect();
                let label = filters.get(m.filter as usize).map_or("", String::as_str);
                serde_json::json!({ "filter": label, "kinds": kinds })
            })
            .collect();
        let line = serde_json::json!({
            "input": input, "record": p.record, "line": p.line, "byte": p.byte, "filters": hits
        });
        serde_json::to_writer(&mut *w, &line)?;
        w.write_all(b"\n")?;
        i = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn splitmix(x: u64) -> u64 {
        let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn sample(hs: &[u64]) -> RowSample {
        let mut s = RowSample::default();
        hs.iter().for_each(|&h| s.insert(h));
        s
    }

    #[test]
    fn counts_duplicates_exactly_when_small() {
        let s = sample(&[1, 2, 2, 3, 3, 3]);
        assert_eq!(s.duplicates(), 3.0);
        assert!(s.is_exact());
    }

    #[test]
    fn estimates_duplicate_share_beyond_the_sample() {
        let mut s = RowSample::default();
        for i in 0..100_000u64 {
            let h = splitmix(i % 90_000);
            s.insert(h);
        }
        let d = s.duplicates();
        assert!(!s.is_exact());
        assert!((d - 10_000.0).abs() < 1_500.0, "{d}");
    }

    proptest! {
        #[test]
        fn merge_is_associative_and_commutative(a in proptest::collection::vec(0u64..20_000, 0..300),
                                                 b in proptest::collection::vec(0u64..20_000, 0..300),
                                                 c in proptest::collection::vec(0u64..20_000, 0..300)) {
            let (sa, sb, sc) = (sample(&a), sample(&b), sample(&c));
            let mut ab_c = sa.clone(); ab_c.merge(&sb); ab_c.merge(&sc);
            let mut bc = sb.clone(); bc.merge(&sc);
            let mut a_bc = sa.clone(); a_bc.merge(&bc);
            let mut cba = sc.clone(); cba.merge(&sb); cba.merge(&sa);
            prop_assert_eq!(&ab_c, &a_bc);
            prop_assert_eq!(&ab_c, &cba);
        }
    }
}
