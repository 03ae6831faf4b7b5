//! Distinct counting of matching tokens, mergeable across chunks and shards.
//!
//! Exact (a hash set of the tokens' low 64 bits) up to [`EXACT_LIMIT`] entries (kept small:
//! inserting into a hash set costs more than a HyperLogLog register update), then a
//! HyperLogLog with 2^14 registers (Flajolet et al. 2007; standard error 1.04/√m ≈ 0.81 %),
//! with linear counting for small cardinalities (Heule, Nunkesser & Hall 2013, "HLL++").
//! Tokens are already uniform PRF outputs, so they are used as the hash directly.
//! A sketch holds tokens' bits, never values; it is not written to any report.

use nohash_hasher::IntSet;
use serde::{Deserialize, Serialize};

/// Entries kept exactly before switching to HyperLogLog.
pub const EXACT_LIMIT: usize = 1 << 12;
const P: u32 = 14;
const M: usize = 1 << P;

/// A distinct-count sketch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Distinct {
    /// Tokens' low bits are uniform PRF outputs: used as their own hash ([`IntSet`]).
    Exact(IntSet<u64>),
    Hll(Vec<u8>),
}

impl Default for Distinct {
    fn default() -> Self {
        Distinct::new()
    }
}

impl Distinct {
    pub fn new() -> Distinct {
        Distinct::Exact(IntSet::default())
    }

    /// Adds a token (any 64 uniformly distributed bits of it).
    #[inline]
    pub fn insert(&mut self, h: u64) {
        match self {
            Distinct::Exact(set) => {
                set.insert(h);
                if set.len() > EXACT_LIMIT {
                    self.promote();
                }
            }
            Distinct::Hll(regs) => hll_add(regs, h),
        }
    }

    fn promote(&mut self) {
        if let Distinct::Exact(set) = self {
            let mut regs = vec![0u8; M];
            for &h in set.iter() {
                hll_add(&mut regs, h);
            }
            *self = Distinct::Hll(regs);
        }
    }

    /// Whether a sketch read from a file has the shape this code relies on: an exact set of at
    /// most [`EXACT_LIMIT`] entries, or exactly 2^14 registers each at most 64 − 14 + 1.
    pub fn is_well_formed(&self) -> bool {
        match self {
            Distinct::Exact(set) => set.len() <= EXACT_LIMIT,
            Distinct::Hll(regs) => regs.len() == M && regs.iter().all(|&r| r <= (65 - P) as u8),
        }
    }

    /// Union of two sketches.
    pub fn merge(&mut self, other: &Distinct) {
        match other {
            Distinct::Exact(set) => {
                for &h in set {
                    self.insert(h);
                }
            }
            Distinct::Hll(o) => {
                self.promote();
                if let Distinct::Hll(regs) = self {
                    for (a, b) in regs.iter_mut().zip(o) {
                        *a = (*a).max(*b);
                    }
                }
            }
        }
    }

    /// The (estimated) number of distinct tokens.
    pub fn count(&self) -> f64 {
        match self {
            Distinct::Exact(set) => set.len() as f64,
            Distinct::Hll(regs) => hll_estimate(regs),
        }
    }

    /// Whether [`Distinct::count`] is exact.
    pub fn is_exact(&self) -> bool {
        matches!(self, Distinct::Exact(_))
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

    fn mix(i: u64) -> u64 {
        xxhash_rust::xxh3::xxh3_64_with_seed(&i.to_le_bytes(), 99)
    }

    #[test]
    fn exact_below_limit_and_counts_duplicates_once() {
        let mut d = Distinct::new();
        for i in 0..1000 {
            d.insert(mix(i % 300));
        }
        assert!(d.is_exact());
        assert_eq!(d.count(), 300.0);
    }

    #[test]
    fn hll_is_within_three_standard_errors() {
        for &n in &[100_000u64, 1_000_000] {
            let mut d = Distinct::new();
            for i in 0..n {
                d.insert(mix(i));
            }
            assert!(!d.is_exact());
            let err = (d.count() - n as f64).abs() / n as f64;
            assert!(err < 3.0 * 0.0081, "n={n} err={err}");
        }
    }

    #[test]
    fn merge_equals_single_sketch() {
        let (mut a, mut b, mut all) = (Distinct::new(), Distinct::new(), Distinct::new());
        for i in 0..200_000u64 {
            let h = mix(i);
            if i % 3 == 0 {
                a.insert(h)
            } else {
                b.insert(h)
            }
            if i % 5 == 0 {
                a.insert(h)
            }
            all.insert(h);
        }
        a.merge(&b);
        assert_eq!(a, all);
        let mut small = Distinct::new();
        small.insert(mix(1));
        small.merge(&Distinct::new());
        assert_eq!(small.count(), 1.0);
    }
}
