//! Distinct counting of matching tokens, mergeable across chunks and shards.
//!
//! **Exact** up to a bound (`scan --exact-distinct N`, default [`DEFAULT_EXACT_LIMIT`]): the
//! set of the tokens' low 64 bits. Tokens are uniform PRF outputs, so two distinct values
//! share 64 bits with probability 2⁻⁶⁴: among 50 M tokens the expected number of such
//! collisions is n²/2⁶⁵ ≈ 7·10⁻⁵.
//! In memory a set is a sorted vector plus a tail of recent inserts that is sorted in when it
//! grows as long, and at least [`SPILL_AT`] (inserts amortised O(log n), merges one linear
//! pass). Once the sorted part reaches [`SPILL_AT`] tokens (512 KiB) it is written as a sorted
//! run to an unnamed temporary file (module `spill`): memory stays at a few MiB per filter and kind whatever the number of
//! distinct matching values, and the disk holds 8 bytes per token (runs are rewritten without
//! repeats when their total passes the bound). Counting reads the runs one range of values at a
//! time (1/64 of the set in memory), in parallel. If the file cannot be written, sets stay in
//! memory (8 to 16 bytes per token) and [`spill_failure`] says why.
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
// indices are loop bounds of the two sorted vectors; bucket indices of `sort_tokens` are the
// token's `bits` bits (< the buckets) and its cursors stay within the counts summed.
#![allow(clippy::indexing_slicing)]

use std::borrow::Cow;
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

mod spill;

pub use spill::{failure as spill_failure, SPILL_AT};
use spill::{spill_at, Run, PARTS};

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
/// were ordered, nor on which parts of the set were spilled to disk.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(into = "Wire", from = "Wire")]
pub struct Distinct {
    /// The bound of the exact set; `u64::MAX` until the first insert or merge sets one.
    limit: u64,
    /// Tokens inserted (with repeats): an upper bound of the distinct count.
    inserted: u64,
    repr: Repr,
    /// The exact count [`Distinct::settle`] found, until the next insert or merge.
    settled: Option<u64>,
}

#[derive(Clone, Debug)]
enum Repr {
    Exact(Tokens),
    Hll(Vec<u8>),
}

/// An exact set of tokens: the union of `sorted` (ascending without repeats), `pending`
/// (tokens appended since; sorted and merged in once they are as many as the sorted ones,
/// so an insert costs amortised O(log n) and a merge of two sets is one linear pass: much
/// cheaper than hashing into a table larger than the caches) and `runs` on disk (ascending
/// without repeats each; they may share tokens with each other and with memory).
#[derive(Clone, Debug, Default)]
struct Tokens {
    sorted: Vec<u64>,
    pending: Vec<u64>,
    runs: Vec<Arc<Run>>,
    /// The set's size when its runs were last counted (0: never).
    counted: u64,
}

/// Pending tokens below which a set is not re-sorted: as many as a spilled run, so that a
/// set that grows past [`SPILL_AT`] is sorted once per run, in one piece, and written (with a
/// smaller bound, each token was sorted in a batch and then copied by every union that
/// doubled the sorted part on its way to a run).
const FLUSH_MIN: usize = SPILL_AT;

/// [`FLUSH_MIN`], or less when spills start earlier (tests).
#[inline]
fn flush_min() -> usize {
    FLUSH_MIN.min(spill_at())
}

impl Tokens {
    /// Sorts the pending tokens into the sorted part.
    fn sort_in(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        sort_tokens(&mut self.pending, 0);
        self.pending.dedup();
        self.sorted = if self.sorted.is_empty() {
            std::mem::take(&mut self.pending)
        } else {
            union(&self.sorted, &self.pending)
        };
        self.pending.clear();
    }

    /// [`Tokens::sort_in`], then writes a large sorted part to disk.
    fn flush(&mut self) {
        self.sort_in();
        if self.sorted.len() >= spill_at() {
            if let Some(run) = Run::write(&self.sorted) {
                self.runs.push(Arc::new(run));
                self.sorted.clear();
            }
        }
    }

    fn push(&mut self, h: u64) {
        self.pending.push(h);
        if self.pending.len() >= flush_min().max(self.sorted.len()) {
            self.flush();
        }
    }

    /// Adds every token of `o`: its runs by reference, a small sorted part into the tail
    /// (amortised, as inserts), a large one by a linear union.
    fn extend(&mut self, o: &Tokens) {
        self.runs.extend(o.runs.iter().cloned());
        self.pending.extend_from_slice(&o.pending);
        if o.sorted.len() < self.sorted.len() / 4 {
            self.pending.extend_from_slice(&o.sorted);
            if self.pending.len() >= flush_min().max(self.sorted.len()) {
                self.flush();
            }
        } else {
            self.sorted = union(&self.sorted, &o.sorted);
            self.flush();
        }
    }

    /// An upper bound of the set's size (exact when there are no runs and nothing pending).
    fn bound(&self) -> u64 {
        let on_disk: usize = self.runs.iter().map(|r| r.len()).sum();
        (on_disk + self.sorted.len() + self.pending.len()) as u64
    }

    /// The tokens in memory, ascending, without repeats.
    fn memory(&self) -> Cow<'_, [u64]> {
        if self.pending.is_empty() {
            Cow::Borrowed(&self.sorted)
        } else {
            let mut t = Tokens {
                sorted: self.sorted.clone(),
                pending: self.pending.clone(),
                ..Tokens::default()
            };
            t.sort_in();
            Cow::Owned(t.sorted)
        }
    }

    /// The set's tokens in range `p` (see `spill::part`), ascending without repeats, into `buf`.
    fn part(&self, memory: &[u64], p: usize, buf: &mut Vec<u64>) {
        buf.clear();
        buf.extend_from_slice(spill::part_of(memory, p));
        if !self.runs.is_empty() {
            self.runs.iter().for_each(|r| r.read_part(p, buf));
            // Every token of the range shares its top bits: sorted by the ones below.
            sort_tokens(buf, spill::PART_BITS);
            buf.dedup();
        }
    }

    /// The number of tokens (ranges counted in parallel when there are runs).
    fn len(&self) -> u64 {
        let memory = self.memory();
        if self.runs.is_empty() {
            return memory.len() as u64;
        }
        (0..PARTS)
            .into_par_iter()
            .map_init(Vec::new, |buf, p| {
                self.part(&memory, p, buf);
                buf.len() as u64
            })
            .sum()
    }

    /// Calls `f` with the set in ascending order, one range at a time.
    fn for_each_part(&self, mut f: impl FnMut(&[u64])) {
        let memory = self.memory();
        if self.runs.is_empty() {
            return f(&memory);
        }
        let mut buf = Vec::new();
        for p in 0..PARTS {
            self.part(&memory, p, &mut buf);
            f(&buf);
        }
    }

    fn to_vec(&self) -> Vec<u64> {
        let mut out = Vec::new();
        self.for_each_part(|s| out.extend_from_slice(s));
        out
    }

    fn registers(&self) -> Vec<u8> {
        let mut regs = vec![0u8; M];
        self.for_each_part(|s| s.iter().for_each(|&h| hll_add(&mut regs, h)));
        regs
    }

    /// Rewrites the set as runs without repeats (one per range), so that the disk holds no
    /// more than the set; keeps it as it is if a run cannot be written.
    fn compact(&mut self) {
        let memory = self.memory().into_owned();
        let (mut runs, mut buf) = (Vec::new(), Vec::new());
        for p in 0..PARTS {
            self.part(&memory, p, &mut buf);
            if !buf.is_empty() {
                let Some(run) = Run::write(&buf) else { return };
                runs.push(Arc::new(run));
            }
        }
        self.runs = runs;
        self.sorted.clear();
        self.pending.clear();
    }

    fn same_set(&self, o: &Tokens) -> bool {
        let (a, b) = (self.memory(), o.memory());
        if self.runs.is_empty() && o.runs.is_empty() {
            return a == b;
        }
        let (mut x, mut y) = (Vec::new(), Vec::new());
        (0..PARTS).all(|p| {
            self.part(&a, p, &mut x);
            o.part(&b, p, &mut y);
            x == y
        })
    }
}

/// Tokens below which [`sort_tokens`] leaves the sorting to `sort_unstable`.
const BUCKET_SORT_MIN: usize = 256;
/// Tokens in a bucket of [`sort_tokens`] above which it is not sorted by insertion.
const BUCKET_INSERTION_MAX: usize = 16;

/// Sorts `v` ascending; fast for tokens whose top `skip` bits are equal (one range of
/// `spill::part`) and whose bits below are uniform, as PRF outputs are: one pass distributes them by the next bits into
/// about `n/4` buckets in order, and each bucket, a few tokens, is sorted by insertion. About
/// 3× fewer instructions than `sort_unstable` at 64 Ki tokens, linear for uniform tokens; a
/// bucket larger than expected (tokens read from a file need not be uniform) is sorted by
/// `sort_unstable`, so any input takes O(n log n).
fn sort_tokens(v: &mut Vec<u64>, skip: u32) {
    let n = v.len();
    let top = |h: u64| h.checked_shr(64 - skip).unwrap_or(0);
    let first = v.first().map_or(0, |&h| top(h));
    if n < BUCKET_SORT_MIN
        || n > u32::MAX as usize
        || skip >= 32
        || (skip > 0 && v.iter().any(|&h| top(h) != first))
    {
        v.sort_unstable();
        return;
    }
    let bits = (usize::BITS - 1 - n.leading_zeros()).saturating_sub(2).min(20);
    let bucket = |h: u64| ((h << skip) >> (64 - bits)) as usize;
    // starts[b + 1]: tokens in bucket b; then, summed, where bucket b starts.
    let mut starts = vec![0u32; (1 << bits) + 1];
    for &h in v.iter() {
        starts[bucket(h) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut next = starts.clone();
    let mut out = vec![0u64; n];
    for &h in v.iter() {
        let at = &mut next[bucket(h)];
        out[*at as usize] = h;
        *at += 1;
    }
    for w in starts.windows(2) {
        let b = &mut out[w[0] as usize..w[1] as usize];
        if b.len() > BUCKET_INSERTION_MAX {
            b.sort_unstable();
        } else {
            for i in 1..b.len() {
                let (x, mut j) = (b[i], i);
                while j > 0 && b[j - 1] > x {
                    b[j] = b[j - 1];
                    j -= 1;
                }
                b[j] = x;
            }
        }
    }
    *v = out;
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
        let repr = match (d.view(), &d.repr) {
            (View::Exact(_), Repr::Exact(t)) => WireRepr::Exact(t.to_vec()),
            (View::Hll(regs), _) => WireRepr::Hll(regs.into_owned()),
            (View::Exact(_), Repr::Hll(regs)) => WireRepr::Hll(regs.clone()),
        };
        Wire { limit: d.limit, inserted: d.inserted, repr }
    }
}

impl From<Wire> for Distinct {
    /// Re-establishes the invariants of whatever was read: a set sorted without repeats,
    /// exactly [`M`] registers of at most 65 − P.
    fn from(w: Wire) -> Distinct {
        let repr = match w.repr {
            WireRepr::Exact(v) => Repr::Exact(Tokens { pending: v, ..Tokens::default() }),
            WireRepr::Hll(mut regs) => {
                regs.resize(M, 0);
                regs.iter_mut().for_each(|r| *r = (*r).min(65 - P as u8));
                Repr::Hll(regs)
            }
        };
        let mut d = Distinct { limit: w.limit, inserted: w.inserted, repr, settled: None };
        if let Repr::Exact(t) = &mut d.repr {
            t.flush();
            // One sorted, repeat-free list, split at most into memory and one run: exact.
            d.inserted = d.inserted.max(t.bound());
        }
        d.check_limit();
        d
    }
}

/// A set or registers as observed: a set past the bound as registers.
enum View<'a> {
    Exact(u64),
    Hll(Cow<'a, [u8]>),
}

impl PartialEq for Distinct {
    fn eq(&self, o: &Distinct) -> bool {
        let same = match (self.view(), o.view(), &self.repr, &o.repr) {
            (View::Exact(a), View::Exact(b), Repr::Exact(x), Repr::Exact(y)) => {
                a == b && x.same_set(y)
            }
            (View::Hll(a), View::Hll(b), _, _) => a == b,
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
        Distinct {
            limit: u64::MAX,
            inserted: 0,
            repr: Repr::Exact(Tokens::default()),
            settled: None,
        }
    }

    /// Adds a token (any 64 uniformly distributed bits of it), counting exactly up to `limit`
    /// distinct tokens (the smallest bound any insert or merge gave).
    #[inline]
    pub fn insert(&mut self, h: u64, limit: u64) {
        self.limit = self.limit.min(limit);
        self.inserted += 1;
        self.settled = None;
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

    /// Turns a set past the bound into registers. A set with runs on disk is counted only
    /// once their total grew by the bound since the last count (amortised O(1) per token);
    /// a set within the bound then has its runs rewritten without repeats.
    fn check_limit(&mut self) {
        let Repr::Exact(t) = &mut self.repr else { return };
        if t.runs.is_empty() {
            if t.sorted.len() as u64 > self.limit {
                // All of the set, pending tokens included (a merge may have lowered the bound).
                self.repr = Repr::Hll(t.registers());
            }
            return;
        }
        if t.bound() <= t.counted.saturating_add(self.limit) {
            return;
        }
        let n = t.len();
        if n > self.limit {
            self.repr = Repr::Hll(t.registers());
        } else {
            t.compact();
            t.counted = n;
        }
    }

    fn view(&self) -> View<'_> {
        match &self.repr {
            Repr::Hll(regs) => View::Hll(Cow::Borrowed(regs)),
            Repr::Exact(t) => {
                let n = self.settled.unwrap_or_else(|| t.len());
                if n > self.limit {
                    View::Hll(Cow::Owned(t.registers()))
                } else {
                    View::Exact(n)
                }
            }
        }
    }

    /// Union of two sketches: exact while the union stays within the smaller bound.
    pub fn merge(&mut self, other: &Distinct) {
        self.limit = self.limit.min(other.limit);
        self.inserted += other.inserted;
        self.settled = None;
        match (&mut self.repr, &other.repr) {
            (Repr::Exact(mine), Repr::Exact(theirs)) => mine.extend(theirs),
            (Repr::Hll(regs), Repr::Exact(theirs)) => {
                theirs.for_each_part(|s| s.iter().for_each(|&h| hll_add(regs, h)));
            }
            (Repr::Exact(mine), Repr::Hll(theirs)) => {
                let mut regs = mine.registers();
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
        match self.view() {
            View::Exact(n) => n as f64,
            View::Hll(regs) => {
                let (lo, hi) = self.interval_of(&regs);
                hll_estimate(&regs).clamp(lo, hi)
            }
        }
    }

    /// The 95 % interval of the count: one point when exact; for a sketch ±[`HLL_ERROR_95`]
    /// around its estimate, clamped to (bound, tokens inserted].
    pub fn interval(&self) -> (f64, f64) {
        match self.view() {
            View::Exact(n) => (n as f64, n as f64),
            View::Hll(regs) => self.interval_of(&regs),
        }
    }

    fn interval_of(&self, regs: &[u8]) -> (f64, f64) {
        let e = hll_estimate(regs);
        let most = self.inserted as f64;
        let least = (self.limit.saturating_add(1) as f64).min(most);
        let lo = (e * (1.0 - HLL_ERROR_95)).floor().clamp(least, most);
        let hi = (e * (1.0 + HLL_ERROR_95)).ceil().clamp(lo, most);
        (lo, hi)
    }

    /// Whether [`Distinct::count`] is exact.
    pub fn is_exact(&self) -> bool {
        matches!(self.view(), View::Exact(_))
    }

    /// Counts the set once (in parallel when parts of it are on disk) and keeps the count for
    /// the reads that follow, until the next insert or merge; turns a set past the bound into
    /// registers. Changes nothing observable.
    pub fn settle(&mut self) {
        if let Repr::Exact(t) = &mut self.repr {
            t.sort_in();
            let n = t.len();
            if n > self.limit {
                self.repr = Repr::Hll(t.registers());
            } else {
                self.settled = Some(n);
            }
        }
    }

    /// Tokens inserted, with repeats.
    pub fn inserted(&self) -> u64 {
        self.inserted
    }
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

    /// Sets this thread's spill threshold until dropped.
    struct SpillAt(usize);

    impl SpillAt {
        fn set(n: usize) -> SpillAt {
            SpillAt(spill::TEST_SPILL_AT.with(|c| c.replace(n)))
        }
    }

    impl Drop for SpillAt {
        fn drop(&mut self) {
            spill::TEST_SPILL_AT.with(|c| c.set(self.0));
        }
    }

    fn with_spill_at<T>(n: usize, f: impl FnOnce() -> T) -> T {
        let _at = SpillAt::set(n);
        f()
    }

    fn runs(d: &Distinct) -> usize {
        match &d.repr {
            Repr::Exact(t) => t.runs.len(),
            Repr::Hll(_) => 0,
        }
    }

    #[test]
    fn a_set_past_the_spill_threshold_is_on_disk_and_counts_the_same() {
        // 3 × SPILL_AT distinct tokens, each inserted twice, in two halves merged.
        let n = 3 * SPILL_AT as u64;
        let fill = |d: &mut Distinct, r: std::ops::Range<u64>| {
            for i in r {
                d.insert(mix(i % n), NO_LIMIT);
            }
        };
        let (mut a, mut b) = (Distinct::new(), Distinct::new());
        fill(&mut a, 0..n);
        fill(&mut b, n..2 * n + 7);
        assert!(runs(&a) >= 2 && runs(&b) >= 2, "spilled: {} and {} runs", runs(&a), runs(&b));
        a.merge(&b);
        let reference = with_spill_at(usize::MAX, || {
            let mut r = Distinct::new();
            fill(&mut r, 0..2 * n + 7);
            r
        });
        assert_eq!(runs(&reference), 0);
        assert_eq!(a.count(), n as f64);
        assert_eq!(a, reference);
        a.settle();
        assert_eq!((a.count(), a.interval(), a.is_exact()), (n as f64, (n as f64, n as f64), true));
        assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&reference).unwrap());
        let mut other = reference.clone();
        other.insert(mix(n + 1), NO_LIMIT);
        assert_ne!(a, other, "one more token");
    }

    #[test]
    fn spilled_runs_past_the_bound_become_a_sketch_and_within_it_are_compacted() {
        let _at = SpillAt::set(1000);
        let mut over = Distinct::new();
        for i in 0..50_000u64 {
            over.insert(mix(i), 20_000);
        }
        assert!(!over.is_exact());
        let (lo, hi) = over.interval();
        assert!(lo > 20_000.0 && lo <= 50_000.0 && 50_000.0 <= hi, "{lo} {hi}");
        // 2,000 distinct tokens inserted 25 times: the runs are rewritten without repeats
        // whenever their total passes the bound, so the disk never holds more than
        // bound + set.
        let mut repeats = Distinct::new();
        for i in 0..50_000u64 {
            repeats.insert(mix(i % 2000), 5_000);
            if let Repr::Exact(t) = &repeats.repr {
                assert!(t.bound() <= 5_000 + 2_000 + 1000, "at {i}: {} on disk", t.bound());
            }
        }
        assert!(repeats.is_exact());
        assert_eq!(repeats.count(), 2000.0);
    }

    #[test]
    fn repeats_of_a_few_values_never_reach_the_disk() {
        // A dump of one row repeated (combo lists, padded dumps): the set is deduplicated
        // before it could spill, so neither the disk nor the count's memory grows with it.
        let mut d = Distinct::new();
        for i in 0..10 * SPILL_AT as u64 {
            d.insert(mix(i % 3), NO_LIMIT);
            assert_eq!(runs(&d), 0, "spilled at insert {i}");
        }
        assert_eq!((d.count(), d.inserted()), (3.0, 10 * SPILL_AT as u64));
    }

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
    fn a_merge_that_lowers_the_bound_keeps_the_pending_tokens_in_the_sketch() {
        // 5,000 tokens: 4,096 sorted, the rest pending; merged with a set of a lower bound,
        // the union is past it and every token must reach the registers.
        let mut a = Distinct::new();
        (0..5000).for_each(|i| a.insert(mix(i), NO_LIMIT));
        let mut b = Distinct::new();
        b.insert(mix(5000), 100);
        a.merge(&b);
        let mut all = Distinct::new();
        (0..5001).for_each(|i| all.insert(mix(i), 100));
        assert!(!a.is_exact());
        assert_eq!(a, all);
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
        /// `sort_tokens` sorts as `sort_unstable` does: uniform tokens, tokens of one range
        /// (top bits equal, sorted by the bits below), and tokens that are neither (repeats,
        /// all in one bucket, ranges mixed while one is assumed), at sizes around its cut-offs.
        #[test]
        fn sort_tokens_sorts_any_tokens(
            seed in any::<u64>(),
            n in prop_oneof![0usize..600, 600usize..20_000],
            shape in 0u8..4,
            skip in prop_oneof![Just(0u32), Just(spill::PART_BITS)],
        ) {
            let mut v: Vec<u64> = (0..n as u64)
                .map(|i| {
                    let h = mix(i ^ seed);
                    match shape {
                        0 => h,
                        1 => (seed & !0 << 58) | h >> 6,
                        2 => h % 50,
                        _ => h >> 40,
                    }
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort_tokens(&mut v, skip);
            prop_assert_eq!(v, want);
        }

        /// Any split of the inserts into parts, each counted on its own and merged in any
        /// order, gives the exact count of one sketch below the bound, and the same HLL above;
        /// no count or bound exceeds the tokens inserted.
        #[test]
        fn merged_parts_equal_one_sketch(
            xs in proptest::collection::vec(0u64..3000, 0..3000),
            cuts in proptest::collection::vec(0usize..3000, 0..6),
            limit in prop_oneof![Just(NO_LIMIT), 1u64..400],
            spill in prop_oneof![Just(spill::SPILL_AT), 1usize..300],
        ) {
            // `one` stays in memory; the parts spill from `spill` tokens on.
            let one = with_spill_at(usize::MAX, || {
                let mut one = Distinct::new();
                for &x in &xs {
                    one.insert(mix(x), limit);
                }
                one
            });
            let _spilling = SpillAt::set(spill);
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
            let mut settled = merged.clone();
            settled.settle();
            prop_assert_eq!(&settled, &one);
            prop_assert_eq!(settled.count(), one.count());
            prop_assert_eq!(settled.interval(), one.interval());
        }
    }
}
