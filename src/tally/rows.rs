//! Row-level state kept in the [`crate::tally::Tally`] for forensics: a bottom-k sample of rows'
//! combined token sets (duplicates inside the dump) and the positions of matching records
//! (`--emit-matches`). Both merge exactly, associatively and commutatively.

// Reviewed (#11): `before` has `chunks.len() + 1` entries and the index is clamped to
// `chunks.len()`.
#![allow(clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{ChunkCounts, Pos};

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
        self.rows = self.rows.saturating_add(1);
        self.add(h, 1);
    }

    /// [`RowSample::insert`] for one of several samples of the same input (its chunks) that
    /// share `bound`: a hash above the bound is counted but not kept. Merging the samples
    /// gives exactly what [`RowSample::insert`] into one sample would (see [`RowBound`]).
    #[inline]
    pub fn insert_bounded(&mut self, h: u64, bound: &RowBound) {
        self.rows = self.rows.saturating_add(1);
        if h > bound.bound.load(Ordering::Relaxed) {
            return;
        }
        self.add(h, 1);
        bound.admit(h);
    }

    fn add(&mut self, h: u64, n: u64) {
        if self.sample.len() >= ROW_SAMPLE {
            match self.sample.last_key_value() {
                Some((&max, _)) if h > max => return,
                _ => {}
            }
        }
        let e = self.sample.entry(h).or_insert(0);
        *e = e.saturating_add(n);
        if self.sample.len() > ROW_SAMPLE {
            self.sample.pop_last();
        }
    }

    /// Whether a sample read from a file keeps its bound: at most [`ROW_SAMPLE`] hashes,
    /// multiplicities summing to at most `rows`.
    pub fn is_well_formed(&self) -> bool {
        let kept = self.sample.values().try_fold(0u64, |a, &n| a.checked_add(n));
        self.sample.len() <= ROW_SAMPLE && kept.is_some_and(|k| k <= self.rows)
    }

    /// Adds another sample's rows: union with counts added, cut to the [`ROW_SAMPLE`] smallest.
    /// Counts saturate instead of wrapping (partials read from files are overflow-checked
    /// before they are merged, see [`crate::partial`]).
    pub fn merge(&mut self, o: &RowSample) {
        self.rows = self.rows.saturating_add(o.rows);
        for (&h, &n) in &o.sample {
            self.add(h, n);
        }
    }

    /// Estimated rows that repeat an earlier row's token set: rows − distinct rows, where
    /// distinct rows = rows / (mean multiplicity in the sample). Exact when the dump has at
    /// most [`ROW_SAMPLE`] distinct rows.
    pub fn duplicates(&self) -> f64 {
        if self.is_exact() {
            // Every distinct row is in the sample: rows − distinct, in integers (the ratio
            // below would give 52.999… for 53).
            return self.rows.saturating_sub(self.sample.len() as u64) as f64;
        }
        let distinct = self.sample.len() as f64;
        if distinct == 0.0 {
            return 0.0;
        }
        let kept = self.sample.values().fold(0u64, |a, &n| a.saturating_add(n));
        let mean = kept as f64 / distinct;
        self.rows as f64 - self.rows as f64 / mean
    }

    /// Whether [`RowSample::duplicates`] is exact.
    pub fn is_exact(&self) -> bool {
        self.sample.len() < ROW_SAMPLE
    }
}

/// The admission bound shared by the chunk samples of one input: the [`ROW_SAMPLE`]-th
/// smallest distinct row hash admitted so far, across all chunks (`u64::MAX` before).
///
/// A hash above the bound is not among the input's [`ROW_SAMPLE`] smallest, so no merged
/// sample would keep it: chunks skip it with one comparison. Without the bound each chunk
/// keeps its own bottom-k and most rows of a 100k-row chunk enter a map; with it about
/// `k·(1 + ln(rows/k))` rows of the whole input do (bottom-k admission), each taking a lock.
#[derive(Debug)]
pub struct RowBound {
    bound: AtomicU64,
    smallest: Mutex<BTreeSet<u64>>,
}

impl Default for RowBound {
    fn default() -> Self {
        RowBound { bound: AtomicU64::new(u64::MAX), smallest: Mutex::default() }
    }
}

impl RowBound {
    fn admit(&self, h: u64) {
        let mut s = self.smallest.lock().unwrap_or_else(|e| e.into_inner());
        s.insert(h);
        if s.len() > ROW_SAMPLE {
            s.pop_last();
        }
        if s.len() == ROW_SAMPLE {
            // Under the lock, and the largest of a full set only decreases: a monotone store.
            self.bound.store(*s.last().expect("full"), Ordering::Relaxed);
        }
    }
}

/// One record that hit a filter: where it is, which filter, which kinds (bit `i` set for
/// [`crate::ident::Kind::ALL`]`[i]`). Never a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchHit {
    /// Where the record is.
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn multiplicities_and_rows_saturate_instead_of_wrapping() {
        let full = RowSample { rows: u64::MAX, sample: BTreeMap::from([(1, u64::MAX), (2, 3)]) };
        let mut m = full.clone();
        m.merge(&full);
        m.insert(1);
        assert_eq!(m.rows, u64::MAX);
        assert_eq!(m.sample.get(&1), Some(&u64::MAX));
        assert_eq!(m.sample.get(&2), Some(&6));
        assert!(m.duplicates().is_finite());
    }

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

    /// Timing: `cargo test --lib rows::tests::time_row_sample -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn time_row_sample() {
        let t0 = std::time::Instant::now();
        let mut total = RowSample::default();
        for chunk in 0..100u64 {
            let mut s = RowSample::default();
            (0..10_000).for_each(|i| s.insert(splitmix(chunk * 10_000 + i)));
            total.merge(&s);
        }
        let ns = t0.elapsed().as_nanos() as f64 / 1e6;
        eprintln!("row sample: {ns:.0} ns per row (1M rows in chunks of 10k, merged)");
        let t0 = std::time::Instant::now();
        let (mut bounded, bound) = (RowSample::default(), RowBound::default());
        for chunk in 0..100u64 {
            let mut s = RowSample::default();
            (0..10_000).for_each(|i| s.insert_bounded(splitmix(chunk * 10_000 + i), &bound));
            bounded.merge(&s);
        }
        let ns = t0.elapsed().as_nanos() as f64 / 1e6;
        eprintln!("row sample: {ns:.0} ns per row with a shared bound");
        assert_eq!(bounded, total);
    }

    /// Chunks of hashes from a small domain (many repeats), inserted chunk after chunk or
    /// interleaved, with a shared bound: merged, exactly the sequential sample.
    fn bounded_chunks(hs: &[u64], chunk: usize, interleave: bool) -> RowSample {
        let bound = RowBound::default();
        let chunks: Vec<&[u64]> = hs.chunks(chunk).collect();
        let mut samples = vec![RowSample::default(); chunks.len()];
        if interleave {
            for i in 0..chunk {
                for (c, s) in chunks.iter().zip(&mut samples) {
                    if let Some(&h) = c.get(i) {
                        s.insert_bounded(h, &bound);
                    }
                }
            }
        } else {
            for (c, s) in chunks.iter().zip(&mut samples) {
                c.iter().for_each(|&h| s.insert_bounded(h, &bound));
            }
        }
        let mut total = RowSample::default();
        samples.iter().for_each(|s| total.merge(s));
        total
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn bounded_chunk_samples_merge_to_the_sequential_sample(
            seed in any::<u64>(), rows in 0usize..40_000, domain in 1u64..30_000,
            chunk in 1usize..12_000, interleave in any::<bool>()) {
            let hs: Vec<u64> =
                (0..rows as u64).map(|i| splitmix(splitmix(seed ^ i) % domain)).collect();
            let sequential = sample(&hs);
            let bounded = bounded_chunks(&hs, chunk, interleave);
            prop_assert_eq!(&bounded, &sequential);
        }
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
