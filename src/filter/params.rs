//! Sizing of a cache-line-blocked Bloom filter: block count, bits per probe, expected FPR.
//!
//! Each token selects one 512-bit block (a 64-byte cache line) and sets `k` bits inside it,
//! drawn with replacement. The number of tokens landing in a given block is approximately
//! Poisson with mean λ = n / blocks, so the false-positive rate is a Poisson mixture of the
//! classic rate of a 512-bit filter (Putze, Sanders, Singler 2007, "Cache-, hash- and
//! space-efficient Bloom filters", §3):
//!
//! ```text
//! FPR(n) = Σ_j  P(J = j) · (1 − (1 − 1/512)^(j·k))^k,    J ~ Poisson(n / blocks)
//! ```
//!
//! Uneven block loads make this larger than the classic `(1 − e^(−kn/m))^k` at the same
//! number of bits: overloaded blocks cost more than underloaded ones save. That is the price
//! of one cache miss per probe, and the reason sizing must use this formula.
//!
//! That inner term uses the *expected* fill of a block; since `x ↦ x^k` is convex, the true
//! conditional rate `E[(X/512)^k]` is higher (Jensen): the mean-fill formula is low by about
//! 0.5 % at k = 4, 2 % at k = 8, 4.5 % at k = 12 and 7.6 % at k = 16. So the per-block term uses
//! the exact `E[(X/512)^k]` over the occupancy distribution of X (tabulated per k for loads up
//! to 256); the mixture then agrees with exhaustive enumeration within 0.23 % (tests). The
//! rate stored in a filter file and used by the estimator is the
//! [`achieved_fpr`](super::bloom::BloomRef::achieved_fpr) measured from the real fill.

// Reviewed (#11): `k` is checked to 1..=16 (the table count) before use; `dist` has `m + 1` entries
// and `x` loops below it.
#![allow(clippy::indexing_slicing)]

use std::fmt;
use std::sync::OnceLock;

/// Bits in one block: one 64-byte cache line.
pub const BLOCK_BITS: u32 = 512;
/// Bytes in one block.
pub const BLOCK_BYTES: u64 = 64;
/// Smallest number of bits set per token.
pub const MIN_K: u32 = 1;
/// Largest number of bits set per token (9 bits each; three 64-bit words of hash, see `bloom`).
pub const MAX_K: u32 = 16;
/// Largest block count: 2^34 blocks = 1 TiB of bits. Loaders refuse anything bigger before
/// allocating or mapping.
pub const MAX_BLOCKS: u64 = 1 << 34;

/// Stop summing the Poisson mixture once the probability mass not yet visited is below this.
const TAIL_MASS: f64 = 1e-15;

/// The geometry of one filter section: `k` bits per token in one of `blocks` 512-bit blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Params {
    /// Bits set (with replacement) per token, in `MIN_K..=MAX_K`.
    pub k: u32,
    /// Number of 64-byte blocks, in `1..=MAX_BLOCKS`.
    pub blocks: u64,
}

/// Parameters outside the supported bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    /// `k` outside `1..=16`.
    #[error("bits per token k = {0} outside 1..=16")]
    K(u32),
    /// `blocks` outside `1..=2^34`.
    #[error("block count {0} outside 1..=2^34")]
    Blocks(u64),
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "k={} blocks={}", self.k, self.blocks)
    }
}

impl Params {
    /// Checked constructor.
    pub fn new(k: u32, blocks: u64) -> Result<Params, ParamsError> {
        let p = Params { k, blocks };
        p.check()?;
        Ok(p)
    }

    /// Checks `k` and `blocks` against `MIN_K`, `MAX_K` and `MAX_BLOCKS`.
    pub fn check(&self) -> Result<(), ParamsError> {
        if !(MIN_K..=MAX_K).contains(&self.k) {
            return Err(ParamsError::K(self.k));
        }
        if !(1..=MAX_BLOCKS).contains(&self.blocks) {
            return Err(ParamsError::Blocks(self.blocks));
        }
        Ok(())
    }

    /// The smallest block count, with its best `k`, whose [`expected_fpr`](Self::expected_fpr)
    /// for `expected` tokens is at most `target_fpr`.
    ///
    /// `expected = 0` is sized as 1. If even `MAX_BLOCKS` cannot reach the target (or the
    /// target is not positive), the result saturates at `MAX_BLOCKS`; callers that care compare
    /// `expected_fpr` with their target. The best `k` is the one with the lowest FPR, the
    /// smallest on ties (fewer bits per probe).
    pub fn for_count(expected: u64, target_fpr: f64) -> Params {
        let n = expected.max(1);
        let meets = |blocks: u64| {
            let p = Params::best_k_for(n, blocks);
            (p.expected_fpr(n) <= target_fpr).then_some(p)
        };
        // The best FPR over k falls monotonically with the block count: binary search.
        let (mut lo, mut hi) = (1u64, MAX_BLOCKS);
        let Some(mut best) = meets(hi) else {
            return Params::best_k_for(n, MAX_BLOCKS);
        };
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match meets(mid) {
                Some(p) => {
                    best = p;
                    hi = mid;
                }
                None => lo = mid + 1,
            }
        }
        best
    }

    /// The `k` in `MIN_K..=MAX_K` with the lowest expected FPR for `n` tokens in `blocks`.
    pub fn best_k_for(n: u64, blocks: u64) -> Params {
        let blocks = blocks.max(1);
        let weights = poisson_weights(n as f64 / blocks as f64);
        let mut best = (MIN_K, f64::INFINITY);
        for k in MIN_K..=MAX_K {
            let fpr = mixture_fpr(&weights, k);
            if fpr < best.1 {
                best = (k, fpr);
            }
        }
        Params { k: best.0, blocks }
    }

    /// Expected false-positive rate after inserting `n` distinct tokens, by the blocked
    /// formula with the exact per-block term (module docs). The Poisson
    /// mixture is truncated where less than 1e-15 of its mass is left.
    pub fn expected_fpr(&self, n: u64) -> f64 {
        mixture_fpr(&poisson_weights(n as f64 / self.blocks as f64), self.k)
    }

    /// Bytes of bit array: `blocks × 64`.
    pub fn bytes(&self) -> u64 {
        self.blocks * BLOCK_BYTES
    }

    /// Bits of bit array.
    pub fn bits(&self) -> u64 {
        self.blocks * u64::from(BLOCK_BITS)
    }

    /// Bits per element for `n` elements (infinite for `n = 0`).
    pub fn bits_per_element(&self, n: u64) -> f64 {
        self.bits() as f64 / n as f64
    }
}

/// The classic FPR of one 512-bit filter holding `j` tokens of `k` bits:
/// `(1 − (1 − 1/512)^(j·k))^k`.
#[inline]
fn block_fpr(j: u64, k: u32) -> f64 {
    if j <= EXACT_LOADS {
        return exact_table(k)[j as usize];
    }
    let ln_keep = (-1.0 / f64::from(BLOCK_BITS)).ln_1p();
    let fill = -(ln_keep * (j as f64) * f64::from(k)).exp_m1();
    fill.powi(k as i32)
}

/// Block loads up to which [`block_fpr`] is exact. Beyond, the mean-fill approximation is
/// used: the blocks are then so full (at k = 1, 256 tokens fill 39 % of a block; at k ≥ 4,
/// over 86 %) that its relative error is far below the Poisson tail it is weighted with.
const EXACT_LOADS: u64 = 256;

/// `P(hit | j tokens in the block)` for `j = 0..=EXACT_LOADS`, exactly: the number X of
/// distinct bits that `j·k` draws with replacement set follows the occupancy distribution,
/// computed by dynamic programming over the draws (`P_{t+1}(x) = P_t(x)·x/512 +
/// P_t(x−1)·(512−x+1)/512`), and a non-member's k draws all hit set bits with probability
/// `E[(X/512)^k]`. The classic mean-fill formula `(1 − (1 − 1/512)^{jk})^k` replaces X by its
/// mean and so understates the FPR (Jensen), by up to 8 % at k = 16. One table per k, built
/// on first use (about 2 million multiply-adds).
fn exact_table(k: u32) -> &'static [f64] {
    static TABLES: [OnceLock<Vec<f64>>; MAX_K as usize + 1] =
        [const { OnceLock::new() }; MAX_K as usize + 1];
    TABLES[k as usize].get_or_init(|| {
        let m = BLOCK_BITS as usize;
        let ratio_k: Vec<f64> = (0..=m).map(|x| (x as f64 / m as f64).powi(k as i32)).collect();
        let mut dist = vec![0.0f64; m + 1];
        dist[0] = 1.0;
        let mut table = Vec::with_capacity(EXACT_LOADS as usize + 1);
        for j in 0..=EXACT_LOADS {
            if j > 0 {
                for _ in 0..k {
                    for x in (0..=m).rev() {
                        let stay = dist[x] * x as f64 / m as f64;
                        let arrive =
                            if x > 0 { dist[x - 1] * (m - x + 1) as f64 / m as f64 } else { 0.0 };
                        dist[x] = stay + arrive;
                    }
                }
            }
            table.push(dist.iter().zip(&ratio_k).map(|(p, r)| p * r).sum());
        }
        table
    })
}

/// `Σ_j weight_j · block_fpr(j, k)`.
fn mixture_fpr(weights: &[(u64, f64)], k: u32) -> f64 {
    weights.iter().map(|&(j, w)| w * block_fpr(j, k)).sum()
}

/// The Poisson(λ) probabilities `(j, P(J = j))` holding all but [`TAIL_MASS`] of the mass.
///
/// Terms are computed in log space, `ln P(j) = j·ln λ − λ − ln j!`, walking outwards from
/// the mode so that no term underflows even for large λ. Each tail stops when a geometric
/// bound on its remaining mass is below `TAIL_MASS / 2`.
fn poisson_weights(lambda: f64) -> Vec<(u64, f64)> {
    if lambda <= 0.0 {
        return vec![(0, 1.0)];
    }
    if !lambda.is_finite() {
        return vec![(u64::MAX, 1.0)];
    }
    let mode = lambda.floor() as u64;
    let ln_l = lambda.ln();
    let ln_mode = mode as f64 * ln_l - lambda - ln_factorial(mode);
    let mut out = vec![(mode, ln_mode.exp())];
    // Upwards: ratio P(j+1)/P(j) = λ/(j+1) < 1 beyond the mode.
    let (mut j, mut ln_p) = (mode, ln_mode);
    loop {
        j += 1;
        ln_p += ln_l - (j as f64).ln();
        let p = ln_p.exp();
        out.push((j, p));
        let ratio = lambda / (j + 1) as f64;
        if ratio < 1.0 && p * ratio / (1.0 - ratio) < TAIL_MASS / 2.0 {
            break;
        }
    }
    // Downwards: ratio P(j−1)/P(j) = j/λ ≤ 1 below the mode.
    let (mut j, mut ln_p) = (mode, ln_mode);
    while j > 0 {
        ln_p -= ln_l - (j as f64).ln();
        j -= 1;
        let p = ln_p.exp();
        out.push((j, p));
        let ratio = j as f64 / lambda;
        if ratio < 1.0 && p * ratio / (1.0 - ratio) < TAIL_MASS / 2.0 {
            break;
        }
    }
    // Renormalise: for huge λ the log-space terms carry a relative error of about
    // λ·ln λ·ε (ε = 2^-52), which would otherwise show as mass ≠ 1.
    let total: f64 = out.iter().map(|w| w.1).sum();
    out.iter_mut().for_each(|w| w.1 /= total);
    out
}

/// `ln n!` by summation for small `n`, Stirling's series beyond (error < 1e-12 for n ≥ 32).
fn ln_factorial(n: u64) -> f64 {
    if n < 32 {
        return (2..=n).map(|i| (i as f64).ln()).sum();
    }
    let x = n as f64;
    x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x)
        - 1.0 / (360.0 * x * x * x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P(a non-member hits | j tokens in its block), exactly: the number X of distinct bits
    /// set by j·k draws with replacement follows the occupancy distribution (computed by
    /// dynamic programming over the draws), and the probe hits with probability (X/512)^k.
    struct Occupancy {
        dist: Vec<f64>,
        draws: u64,
    }

    impl Occupancy {
        fn hit_given(&mut self, j: u64, k: u32) -> f64 {
            let m = BLOCK_BITS as usize;
            while self.draws < j * u64::from(k) {
                let mut next = vec![0.0f64; m + 1];
                for (x, &pr) in self.dist.iter().enumerate() {
                    next[x] += pr * x as f64 / m as f64;
                    if x < m {
                        next[x + 1] += pr * (m - x) as f64 / m as f64;
                    }
                }
                self.dist = next;
                self.draws += 1;
            }
            let ratio = |x: usize| x as f64 / m as f64;
            self.dist.iter().enumerate().map(|(x, &pr)| pr * ratio(x).powi(k as i32)).sum()
        }
    }

    /// Exact FPR by exhaustive enumeration of block loads J ~ Binomial(n, 1/blocks) (the
    /// real law: each token picks a uniform block) and of the occupancy of each load.
    fn exhaustive_fpr(n: u64, p: Params) -> f64 {
        let q = 1.0 / p.blocks as f64;
        let ln_binom = |j: u64| {
            ln_factorial(n) - ln_factorial(j) - ln_factorial(n - j)
                + j as f64 * q.ln()
                + (n - j) as f64 * (-q).ln_1p()
        };
        let mut occ = Occupancy { dist: vec![1.0], draws: 0 };
        occ.dist.resize(BLOCK_BITS as usize + 1, 0.0);
        let j_max = n.min(10 * n / p.blocks + 60);
        (0..=j_max).map(|j| ln_binom(j).exp() * occ.hit_given(j, p.k)).sum()
    }

    #[test]
    fn blocked_formula_matches_exhaustive_enumeration() {
        for (n, k, blocks) in [
            (40_000u64, 8u32, 2000u64),
            (30_000, 4, 2000),
            (20_000, 12, 2000),
            (15_000, 16, 2000),
            (100, 1, 50),
        ] {
            let p = Params::new(k, blocks).unwrap();
            let (formula, exact) = (p.expected_fpr(n), exhaustive_fpr(n, p));
            let rel = (formula - exact).abs() / exact;
            println!("n={n} {p}: formula {formula:e} exact {exact:e} rel {rel:.4}");
            // Poisson block loads approximate the binomial ones to O(1/blocks).
            assert!(rel < 0.01, "n={n} {p}: formula {formula:e} exact {exact:e} rel {rel}");
        }
    }

    #[test]
    fn poisson_weights_hold_all_the_mass_for_small_and_huge_loads() {
        for lambda in [1e-6, 0.3, 1.0, 9.7, 120.0, 1e5, 1e9] {
            assert!(poisson_weights(lambda).len() < 20 + 20 * lambda.sqrt() as usize);
            let total: f64 = poisson_weights(lambda).iter().map(|w| w.1).sum();
            assert!((total - 1.0).abs() < 1e-9, "λ={lambda}: mass {total}");
        }
        assert_eq!(poisson_weights(0.0), vec![(0, 1.0)]);
        assert_eq!(Params { k: 4, blocks: 0 }.expected_fpr(1), 1.0);
    }

    #[test]
    fn stirling_joins_the_exact_sum_smoothly() {
        let exact: f64 = (2..=40u64).map(|i| (i as f64).ln()).sum();
        assert!((ln_factorial(40) - exact).abs() < 1e-10);
    }

    #[test]
    fn blocked_fpr_exceeds_the_classic_formula_at_equal_bits() {
        let p = Params::new(8, 10_000).unwrap();
        let n = 160_000; // 32 bits per element
        let classic = (1.0 - (-(p.k as f64) * n as f64 / p.bits() as f64).exp()).powi(8);
        assert!(p.expected_fpr(n) > classic * 1.2, "{} vs {classic}", p.expected_fpr(n));
    }

    #[test]
    fn for_count_is_the_smallest_that_meets_the_target() {
        for (n, target) in [(1u64, 0.01), (1000, 1e-4), (1_000_000, 1e-6), (73_000_000, 1e-6)] {
            let p = Params::for_count(n, target);
            assert!(p.check().is_ok());
            assert!(p.expected_fpr(n) <= target, "{p} misses {target}");
            if p.blocks > 1 {
                let smaller = Params::best_k_for(n, p.blocks - 1);
                assert!(smaller.expected_fpr(n) > target, "{p} not minimal");
            }
        }
    }

    #[test]
    fn for_count_grows_with_count_and_with_stricter_targets() {
        let mut last = 0;
        for n in [10u64, 100, 1_000, 10_000, 100_000, 1_000_000] {
            let b = Params::for_count(n, 1e-5).blocks;
            assert!(b >= last, "n={n}: {b} < {last}");
            last = b;
        }
        let mut last = 0;
        for target in [1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8, 1e-10] {
            let b = Params::for_count(100_000, target).blocks;
            assert!(b >= last, "target={target}: {b} < {last}");
            last = b;
        }
    }

    #[test]
    fn for_count_saturates_when_the_target_is_unreachable() {
        let p = Params::for_count(u64::MAX, 1e-9);
        assert_eq!(p.blocks, MAX_BLOCKS);
        assert!(p.expected_fpr(u64::MAX) > 1e-9);
        assert_eq!(Params::for_count(0, 0.01), Params::for_count(1, 0.01));
    }

    #[test]
    fn check_refuses_out_of_bounds_geometry() {
        assert_eq!(Params::new(0, 1), Err(ParamsError::K(0)));
        assert_eq!(Params::new(17, 1), Err(ParamsError::K(17)));
        assert_eq!(Params::new(4, 0), Err(ParamsError::Blocks(0)));
        assert_eq!(Params::new(4, MAX_BLOCKS + 1), Err(ParamsError::Blocks(MAX_BLOCKS + 1)));
        assert_eq!(Params::new(16, MAX_BLOCKS).unwrap().bytes(), 1 << 40);
    }

    #[test]
    fn bytes_per_element_at_common_targets() {
        for target in [1e-4, 1e-6] {
            let n = 10_000_000;
            let p = Params::for_count(n, target);
            let bpe = p.bits_per_element(n);
            let classic = -target.ln() / std::f64::consts::LN_2.powi(2);
            println!("fpr {target:e}: {p}, {bpe:.2} bits/elt = {:.3} bytes/elt (classic {classic:.2} bits)", bpe / 8.0);
            // One cache line per probe costs space: 15 % more bits at 1e-4, 35 % at 1e-6 (k is
            // capped at 16, where the classic layout would use 20).
            assert!(bpe > classic && bpe < classic * 1.4, "{bpe} vs {classic}");
        }
    }
}
