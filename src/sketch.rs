//! Distinct counting of matching tokens, mergeable across chunks and shards.
//!
//! **Exact** up to a bound (`scan --exact-distinct N`, default [`DEFAULT_EXACT_LIMIT`]): the
//! set of the tokens' low 64 bits, kept as a sorted vector plus a tail of recent inserts that
//! is sorted in when it grows as long (inserts amortised O(log n), merges one linear pass).
//! Tokens are uniform PRF outputs, so two distinct values share 64 bits with probability
//! 2⁻⁶⁴: among 50 M tokens the expected number of such collisions is n²/2⁶⁵ ≈ 7·10⁻⁵.
//! Memory: 8 bytes per token, up to 16 while the tail is sorted in and a merge builds its
//! union (50 M tokens: 0.4 to 0.8 GB for one filter and kind; sets only hold the matching
//! tokens, so they stay small unless that many values match).
//!
//! **Past the bound**, a HyperLogLog with 2¹⁴ registers (Flajolet et al. 2007; relative
//! standard error 1.04/√m ≈ 0.81 %, so ±[`HLL_ERROR_95`] at 95 %), with linear counting for
//! small cardinalities (Heule, Nunkesser & Hall 2013, "HLL++"). Its count is marked
//! approximate and never exceeds the number of tokens inserted; its interval ([`Distinct::interval`])
//! is clamped to what is known for sure: more than the bound (the set overflowed), at most
//! the tokens inserted.
//!
//! Exact sets merge exactly (set union; a union past the bound becomes a sketch), so shards
//! merged by `leakmatch merge` give the counts of one scan. A set is serialised as its tokens'
//! 64 bits in ascending order (the same set, the same bytes). A sketch holds tokens' bits,
//! never values; it is not written to any report, only to partial results.

// Reviewed (#11): HyperLogLog register index is the hash masked to the register count; merge
// indices are loop bounds of the two sorted vectors.
#![allow(clippy::indexing_slicing)]

use serde::{Deserialize, Serialize};

/// Tokens counted exactly per filter and kind before switching to HyperLogLog.
pub const DEFAULT_EXACT_LIMIT: u64 = 50_000_000;
const P: u32 = 14;
const M: usize = 1 << P;
/// Half-width of the HyperLogLog's 95 % interval, relative: 1.96 · 1.04/√m.
pub const HLL_ERROR_95: f64 = 1.96 * 1.04 / 128.0;

/// A distinct-count sketch: exact below its bound, HyperLogLog above.
///
/// Its observable state (count, interval, exactness, serialised form, equality) depends only
/// on the set of tokens inserted, their number and the bound, not on how inserts and merges
/// were ordered.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(into = "Wire", from = "Wire")]
pub struct Distinct {
    /// The bound of the exact set; `u64::MAX` until the first insert or merge sets one.
    limit: u64,
    /// Tokens inserted (with repeats): an upper bound of the distinct count.
    inserted: u64,
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    Exact(Tokens),
    Hll(Vec<u8>),
}

/// An exact set of tokens: `sorted` ascending without repeats, plus `pending` tokens appended
/// since (sorted and merged in once they are as many as the sorted ones, so an insert costs
/// amortised O(log n) and a merge of two sets is one linear pass: much cheaper than hashing
/// into a table larger than the caches).
#[derive(Clone, Debug, Default)]
struct Tokens {
    sorted: Vec<u64>,
    pending: Vec<u64>,
}

/// Pending tokens below which a set is not re-sorted.
const FLUSH_MIN: usize = 4096;

impl Tokens {
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.pending.sort_unstable();
        self.pending.dedup();
        self.sorted = if self.sorted.is_empty() {
            std::mem::take(&mut self.pending)
        } else {
            union(&self.sorted, &self.pending)
        };
        self.pending.clear();
    }

    fn push(&mut self, h: u64) {
        self.pending.push(h);
        if self.pending.len() >= FLUSH_MIN.max(self.sorted.len()) {
            self.flush();
        }
    }

    /// Adds every token of `o`: a small set into the tail (amortised, as inserts), a large
    /// one by a linear union.
    fn extend(&mut self, o: &Tokens) {
        self.pending.extend_from_slice(&o.pending);
        if o.sorted.len() < self.sorted.len() / 4 {
            self.pending.extend_from_slice(&o.sorted);
            if self.pending.len() >= FLUSH_MIN.max(self.sorted.len()) {
                self.flush();
            }
        } else {
            self.sorted = union(&self.sorted, &o.sorted);
            self.flush();
        }
    }

    /// The set, flushed.
    fn flushed(&self) -> std::borrow::Cow<'_, [u64]> {
        if self.pending.is_empty() {
            std::borrow::Cow::Borrowed(&self.sorted)
        } else {
            let mut t = self.clone();
            t.flush();
            std::borrow::Cow::Owned(t.sorted)
        }
    }
}

/// The union of two ascending, repeat-free slices.
fn union(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        out.push(x.min(y));
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The serialised form: an exact set as its tokens in ascending order.
#[derive(Serialize, Deserialize)]
struct Wire {
    limit: u64,
    inserted: u64,
    repr: WireRepr,
}

#[derive(Serialize, Deserialize)]
enum WireRepr {
    Exact(Vec<u64>),
    Hll(Vec<u8>),
}

impl From<Distinct> for Wire {
    fn from(d: Distinct) -> Wire {
        let repr = match d.resolved() {
            Resolved::Exact(set) => WireRepr::Exact(set.into_owned()),
            Resolved::Hll(regs) => WireRepr::Hll(regs.into_owned()),
        };
        Wire { limit: d.limit, inserted: d.inserted, repr }
    }
}

impl From<Wire> for Distinct {
    /// Re-establishes the invariants of whatever was read: a set sorted without repeats,
    /// exactly [`M`] registers of at most 65 − P.
    fn from(w: Wire) -> Distinct {
        let repr = match w.repr {
            WireRepr::Exact(v) => Repr::Exact(Tokens { sorted: Vec::new(), pending: v }),
            WireRepr::Hll(mut regs) => {
                regs.resize(M, 0);
                regs.iter_mut().for_each(|r| *r = (*r).min(65 - P as u8));
                Repr::Hll(regs)
            }
        };
        let mut d = Distinct { limit: w.limit, inserted: w.inserted, repr };
        if let Repr::Exact(t) = &mut d.repr {
            t.flush();
            d.inserted = d.inserted.max(t.sorted.len() as u64);
        }
        d.check_limit();
        d
    }
}

/// A set or registers as observed: flushed, and a set past the bound as registers.
enum Resolved<'a> {
    Exact(std::borrow::Cow<'a, [u64]>),
    Hll(std::borrow::Cow<'a, [u8]>),
}

impl PartialEq for Distinct {
    fn eq(&self, o: &Distinct) -> bool {
        let same = match (self.resolved(), o.resolved()) {
            (Resolved::Exact(a), Resolved::Exact(b)) => a == b,
            (Resolved::Hll(a), Resolved::Hll(b)) => a == b,
            _ => false,
        };
        same && self.limit == o.limit && self.inserted == o.inserted
    }
}

impl Default for Distinct {
    fn default() -> Self {
        Distinct::new()
    }
}

impl Distinct {
    /// An empty sketch whose bound is set by the first [`Distinct::insert`] or merge.
    pub fn new() -> Distinct {
        Distinct { limit: u64::MAX, inserted: 0, repr: Repr::Exact(Tokens::default()) }
    }

    /// Adds a token (any 64 uniformly distributed bits of it), counting exactly up to `limit`
    /// distinct tokens (the smallest bound any insert or merge gave).
    #[inline]
    pub fn insert(&mut self, h: u64, limit: u64) {
        self.limit = self.limit.min(limit);
        self.inserted += 1;
        match &mut self.repr {
            Repr::Exact(t) => {
                t.push(h);
                if t.pending.is_empty() {
                    self.check_limit();
                }
            }
            Repr::Hll(regs) => hll_add(regs, h),
        }
    }

    /// Turns a flushed set past the bound into registers.
    fn check_limit(&mut self) {
        if let Repr::Exact(t) = &self.repr {
            if t.sorted.len() as u64 > self.limit {
                self.repr = Repr::Hll(registers(&t.sorted));
            }
        }
    }

    fn resolved(&self) -> Resolved<'_> {
        match &self.repr {
            Repr::Hll(regs) => Resolved::Hll(std::borrow::Cow::Borrowed(regs)),
            Repr::Exact(t) => {
                let set = t.flushed();
                if set.len() as u64 > self.limit {
                    Resolved::Hll(std::borrow::Cow::Owned(registers(&set)))
                } else {
                    Resolved::Exact(set)
                }
            }
        }
    }

    /// Union of two sketches: exact while the union stays within the smaller bound.
    pub fn merge(&mut self, other: &Distinct) {
        self.limit = self.limit.min(other.limit);
        self.inserted += other.inserted;
        match (&mut self.repr, &other.repr) {
            (Repr::Exact(mine), Repr::Exact(theirs)) => mine.extend(theirs),
            (Repr::Hll(regs), Repr::Exact(theirs)) => {
                theirs.sorted.iter().chain(&theirs.pending).for_each(|&h| hll_add(regs, h));
            }
            (Repr::Exact(mine), Repr::Hll(theirs)) => {
                let mut regs = registers(&mine.flushed());
                max_registers(&mut regs, theirs);
                self.repr = Repr::Hll(regs);
            }
            (Repr::Hll(regs), Repr::Hll(theirs)) => max_registers(regs, theirs),
        }
        self.check_limit();
    }

    /// The number of distinct tokens: exact, or the HyperLogLog estimate clamped into
    /// [`Distinct::interval`] (never above the tokens inserted).
    pub fn count(&self) -> f64 {
        match self.resolved() {
            Resolved::Exact(set) => set.len() as f64,
            Resolved::Hll(regs) => {
                let (lo, hi) = self.interval();
                hll_estimate(&regs).clamp(lo, hi)
            }
        }
    }

    /// The 95 % interval of the count: one point when exact; for a sketch ±[`HLL_ERROR_95`]
    /// around its estimate, clamped to (bound, tokens inserted].
    pub fn interval(&self) -> (f64, f64) {
        match self.resolved() {
            Resolved::Exact(set) => (set.len() as f64, set.len() as f64),
            Resolved::Hll(regs) => {
                let e = hll_estimate(&regs);
                let most = self.inserted as f64;
                let least = (self.limit.saturating_add(1) as f64).min(most);
                let lo = (e * (1.0 - HLL_ERROR_95)).floor().clamp(least, most);
                let hi = (e * (1.0 + HLL_ERROR_95)).ceil().clamp(lo, most);
                (lo, hi)
            }
        }
    }

    /// Whether [`Distinct::count`] is exact.
    pub fn is_exact(&self) -> bool {
        matches!(self.resolved(), Resolved::Exact(_))
    }

    /// Sorts pending tokens in (and turns a set past the bound into registers), so that the
    /// reads that follow need no copy. Changes nothing observable.
    pub fn settle(&mut self) {
        if let Repr::Exact(t) = &mut self.repr {
            t.flush();
        }
        self.check_limit();
    }

    /// Tokens inserted, with repeats.
    pub fn inserted(&self) -> u64 {
        self.inserted
    }
}

fn registers(set: &[u64]) -> Vec<u8> {
    let mut regs = vec![0u8; M];
    set.iter().for_each(|&h| hll_add(&mut regs, h));
    regs
}

fn max_registers(regs: &mut [u8], o: &[u8]) {
    for (a, b) in regs.iter_mut().zip(o) {
        *a = (*a).max(*b);
    }
}

#[inline]
fn hll_add(regs: &mut [u8], h: u64) {
    let idx = (h >> (64 - P)) as usize;
    let rest = (h << P) | (1 << (P - 1));
    let rank = rest.leading_zeros() as u8 + 1;
    if regs[idx] < rank {
        regs[idx] = rank;
    }
}

fn hll_estimate(regs: &[u8]) -> f64 {
    let m = M as f64;
    let alpha = 0.7213 / (1.0 + 1.079 / m);
    let sum: f64 = regs.iter().map(|&r| 2f64.powi(-i32::from(r))).sum();
    let raw = alpha * m * m / sum;
    let zeros = regs.iter().filter(|&&r| r == 0).count();
    if raw <= 2.5 * m && zeros > 0 {
        m * (m / zeros as f64).ln()
    } else {
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mix(i: u64) -> u64 {
        xxhash_rust::xxh3::xxh3_64_with_seed(&i.to_le_bytes(), 99)
    }

    const NO_LIMIT: u64 = DEFAULT_EXACT_LIMIT;

    #[test]
    fn exact_below_limit_and_counts_duplicates_once() {
        let mut d = Distinct::new();
        for i in 0..1000 {
            d.insert(mix(i % 300), NO_LIMIT);
        }
        assert!(d.is_exact());
        assert_eq!(d.count(), 300.0);
        assert_eq!(d.interval(), (300.0, 300.0));
        assert_eq!(d.inserted(), 1000);
    }

    #[test]
    fn exact_well_past_the_old_small_limit() {
        let mut d = Distinct::new();
        for i in 0..200_000 {
            d.insert(mix(i), NO_LIMIT);
        }
        assert!(d.is_exact());
        assert_eq!(d.count(), 200_000.0);
    }

    #[test]
    fn hll_is_within_its_stated_error_past_the_bound() {
        for &(n, limit) in &[(5_000u64, 10), (100_000, 1000), (1_000_000, 4096)] {
            let mut d = Distinct::new();
            for i in 0..n {
                d.insert(mix(i), limit);
            }
            assert!(!d.is_exact());
            let (lo, hi) = d.interval();
            let c = d.count();
            assert!(lo <= c && c <= hi && hi <= n as f64, "n={n}: {lo} {c} {hi}");
            assert!(lo <= n as f64 && n as f64 <= hi, "n={n}: truth outside [{lo}, {hi}]");
            assert!((c - n as f64).abs() / n as f64 <= HLL_ERROR_95, "n={n} count={c}");
        }
    }

    #[test]
    fn a_sketch_never_counts_more_than_it_was_given() {
        // A tiny bound forces the sketch; its estimate and bounds may not exceed the 20
        // tokens inserted, and more than the bound is certain.
        let mut d = Distinct::new();
        for i in 0..20 {
            d.insert(mix(i), 5);
        }
        assert!(!d.is_exact());
        assert!(d.count() <= 20.0 && d.interval().1 <= 20.0);
        assert!(d.interval().0 >= 6.0, "more than the bound is certain");
    }

    #[test]
    fn merge_equals_single_sketch() {
        let (mut a, mut b, mut all) = (Distinct::new(), Distinct::new(), Distinct::new());
        for i in 0..200_000u64 {
            let h = mix(i);
            if i % 3 == 0 {
                a.insert(h, 4096)
            } else {
                b.insert(h, 4096)
            }
            all.insert(h, 4096);
        }
        a.merge(&b);
        assert_eq!(a.count(), all.count());
        assert!(!a.is_exact());
        let mut small = Distinct::new();
        small.insert(mix(1), NO_LIMIT);
        small.merge(&Distinct::new());
        assert_eq!(small.count(), 1.0);
    }

    #[test]
    fn exact_sets_serialise_sorted_and_round_trip() {
        let mut d = Distinct::new();
        for i in [5u64, 1, 9, 1] {
            d.insert(i, NO_LIMIT);
        }
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains("[1,5,9]"), "{json}");
        assert_eq!(serde_json::from_str::<Distinct>(&json).unwrap(), d);
    }

    #[test]
    fn a_read_set_is_sorted_and_deduplicated_whatever_the_file_said() {
        let wire = r#"{"limit":3,"inserted":1,"repr":{"Exact":[9,1,9,5]}}"#;
        let d: Distinct = serde_json::from_str(wire).unwrap();
        assert!(d.is_exact());
        assert_eq!((d.count(), d.inserted()), (3.0, 3));
        let over = r#"{"limit":2,"inserted":4,"repr":{"Exact":[9,1,9,5]}}"#;
        assert!(!serde_json::from_str::<Distinct>(over).unwrap().is_exact(), "past its bound");
        let short = r#"{"limit":2,"inserted":4,"repr":{"Hll":[200]}}"#;
        let d: Distinct = serde_json::from_str(short).unwrap();
        assert!(d.count() <= 4.0);
    }

    proptest! {
        /// Any split of the inserts into parts, each counted on its own and merged in any
        /// order, gives the exact count of one sketch below the bound, and the same HLL above;
        /// no count or bound exceeds the tokens inserted.
        #[test]
        fn merged_parts_equal_one_sketch(
            xs in proptest::collection::vec(0u64..3000, 0..3000),
            cuts in proptest::collection::vec(0usize..3000, 0..6),
            limit in prop_oneof![Just(NO_LIMIT), 1u64..400],
        ) {
            let mut one = Distinct::new();
            for &x in &xs {
                one.insert(mix(x), limit);
            }
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(xs.len())).collect();
            cuts.push(0);
            cuts.push(xs.len());
            cuts.sort_unstable();
            let mut merged = Distinct::new();
            for w in cuts.windows(2).rev() {
                let mut part = Distinct::new();
                for &x in &xs[w[0]..w[1]] {
                    part.insert(mix(x), limit);
                }
                merged.merge(&part);
            }
            let truth = xs.iter().collect::<std::collections::HashSet<_>>().len() as f64;
            prop_assert_eq!(&merged, &one);
            let wire: Distinct = serde_json::from_str(&serde_json::to_string(&merged).unwrap()).unwrap();
            prop_assert_eq!(&wire, &one);
            prop_assert_eq!(merged.is_exact(), one.is_exact());
            prop_assert_eq!(merged.count(), one.count());
            if truth <= limit as f64 {
                prop_assert!(one.is_exact());
                prop_assert_eq!(one.count(), truth);
            }
            // (Coverage of the truth by the sketch's interval: the deterministic test above.)
            let (lo, hi) = one.interval();
            prop_assert!(lo <= one.count() && one.count() <= hi && hi <= xs.len() as f64);
        }
    }
}
