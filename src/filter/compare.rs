//! Set sizes and intersection of two filters from their bits alone (separated mode, README "Scale-out and separated mode",
//! §6): no key, no token, no value.
//!
//! For sections `A` and `B` of the same geometry and key:
//! - `n̂(X)` is [`BloomRef::estimate_count`] (Swamidass–Baldi per block);
//! - `|A ∩ B|^ = n̂(A) + n̂(B) − n̂(A ∪ B)`, the union being the bitwise OR.
//!
//! # Interval: parametric bootstrap at the same geometry
//!
//! [`compare_sections`] simulates `simulations` pairs of filters with `k` and the per-block load
//! of the real ones: random tokens, `n̂(A) − î` only in A, `n̂(B) − î` only in B, `î` in both,
//! inserted into filters of `S = min(blocks, SIM_BLOCKS)` blocks (counts scaled by `S/blocks`).
//! Each simulation gives the estimators' errors against its known truth. The estimators are
//! sums of per-block terms, so the spread of the full filter's error is that of `blocks/S`
//! such pieces: its standard deviation scales by `√(blocks/S)` (independent blocks; the real
//! block counts are multinomial, slightly less variable, so the interval is, if anything,
//! conservative). The bias (the per-block estimator is convex in the load) is computed exactly
//! instead (`expected_block_estimate`: occupancy distribution under a Poisson load), as a
//! simulated mean scaled by `blocks/S` would be as noisy as the interval is wide. The 95 %
//! interval is `estimate − bias ± 1.96·sd`, clamped to `[0, ∞)`. When `blocks ≤ SIM_BLOCKS` the simulation runs at the real geometry.

// Reviewed (#11): fixed-size arrays (`[_; 3]`, 512-bit blocks, `dist` of `m + 1` entries indexed by
// `x < m` loop bounds).
#![allow(clippy::indexing_slicing)]

use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::params::BLOCK_BITS;
use super::{Block, Bloom, BloomRef, GeometryMismatch, Params};

/// Blocks of the simulated filters (at most): bounds the time of the simulation.
pub const SIM_BLOCKS: u64 = 1024;
/// Normal quantile of the two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// A size estimate with its 95 % interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeEstimate {
    /// The bias-corrected estimate (the interval's centre).
    pub estimate: f64,
    /// The plain formula's value (`n̂`, or `n̂(A) + n̂(B) − n̂(A ∪ B)`), before bias correction.
    pub raw: f64,
    /// Lower 95 % bound.
    pub ci_low: f64,
    /// Upper 95 % bound.
    pub ci_high: f64,
}

/// |A|, |B| and |A ∩ B| of one kind's sections.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overlap {
    /// |A|: distinct values in the first filter's section.
    pub a: SizeEstimate,
    /// |B|: distinct values in the second filter's section.
    pub b: SizeEstimate,
    /// |A ∩ B|: distinct values in both.
    pub intersection: SizeEstimate,
    /// `n̂(A ∪ B)`.
    pub union: f64,
}

/// The three point estimates `(n̂(A), n̂(B), n̂(A ∪ B))`.
pub fn point_estimates(
    a: BloomRef<'_>,
    b: BloomRef<'_>,
) -> Result<(f64, f64, f64), GeometryMismatch> {
    let mut u = Bloom::from_blocks(a.params(), a.blocks().to_vec()).expect("a valid view");
    u.union_with(b)?;
    Ok((a.estimate_count(), b.estimate_count(), u.estimate_count()))
}

/// Estimates with intervals by parametric bootstrap (module docs); `seed` fixes the simulation
/// (simulation `i` uses its own generator, so the result does not depend on the threads).
pub fn compare_sections(
    a: BloomRef<'_>,
    b: BloomRef<'_>,
    simulations: usize,
    seed: u64,
) -> Result<Overlap, GeometryMismatch> {
    let (na, nb, nu) = point_estimates(a, b)?;
    let ni = na + nb - nu;
    let params = a.params();
    let sim_blocks = params.blocks.min(SIM_BLOCKS);
    let scale = sim_blocks as f64 / params.blocks as f64;
    let both = ni.clamp(0.0, na.min(nb));
    let counts =
        [(na - both).max(0.0), (nb - both).max(0.0), both].map(|c| (c * scale).round() as u64);
    let sim = Params { k: params.k, blocks: sim_blocks };
    let runs: Vec<[f64; 3]> = (0..simulations.max(2) as u64)
        .into_par_iter()
        .map(|i| simulate(sim, counts, &mut rand_pcg::Pcg64::seed_from_u64(seed ^ (i << 32))))
        .collect();
    let errors: [Vec<f64>; 3] = std::array::from_fn(|j| runs.iter().map(|r| r[j]).collect());
    let blocks = params.blocks as f64;
    let table = block_estimates(params.k);
    let truth = [(na - both).max(0.0), (nb - both).max(0.0), both];
    let load = |n: f64| expected_block_estimate(params.k, n / blocks, &table) * blocks;
    let (ea, eb) = (load(truth[0] + truth[2]), load(truth[1] + truth[2]));
    let eu = load(truth.iter().sum());
    let bias = [ea - truth[0] - truth[2], eb - truth[1] - truth[2], ea + eb - eu - truth[2]];
    let interval = |j: usize, est: f64| {
        let errs = &errors[j];
        let n = errs.len() as f64;
        let mean = errs.iter().sum::<f64>() / n;
        let var = errs.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let (centre, sd) = (est - bias[j], (var / scale).sqrt());
        SizeEstimate {
            estimate: centre.max(0.0),
            raw: est,
            ci_low: (centre - Z95 * sd).max(0.0),
            ci_high: (centre + Z95 * sd).max(0.0),
        }
    };
    Ok(Overlap { a: interval(0, na), b: interval(1, nb), intersection: interval(2, ni), union: nu })
}

/// `f(x)`: the estimate [`BloomRef::estimate_count`] gives for one block with `x` bits set
/// (the formula stays in one place: it is evaluated on one-block filters).
fn block_estimates(k: u32) -> Vec<f64> {
    let p = Params { k, blocks: 1 };
    (0..=BLOCK_BITS as usize)
        .map(|x| {
            let mut block = Block::ZERO;
            for bit in 0..x {
                block.0[bit / 64] |= 1 << (bit % 64);
            }
            BloomRef::new(p, std::slice::from_ref(&block)).expect("one block").estimate_count()
        })
        .collect()
}

/// `E[f(X)]` for a block receiving a Poisson(`lambda`) number of tokens, each setting `k`
/// uniform bits with replacement: the exact occupancy distribution of the bits set (a Markov
/// chain over 0..=512), mixed over the Poisson weights. Used for the estimators' bias, which a
/// simulation of a few blocks would only estimate with noise comparable to the interval.
fn expected_block_estimate(k: u32, lambda: f64, f: &[f64]) -> f64 {
    let m = BLOCK_BITS as usize;
    let mut dist = vec![0.0f64; m + 1];
    dist[0] = 1.0;
    let jmax = (lambda + 12.0 * lambda.sqrt() + 30.0).ceil() as u64;
    let (mut weight, mut total) = ((-lambda).exp(), 0.0);
    for j in 0..=jmax {
        total += weight * dist.iter().zip(f).map(|(p, v)| p * v).sum::<f64>();
        for _ in 0..k {
            for x in (0..m).rev() {
                let moved = dist[x] * (m - x) as f64 / m as f64;
                dist[x] -= moved;
                dist[x + 1] += moved;
            }
        }
        weight *= lambda / (j + 1) as f64;
    }
    total
}

/// One simulated pair: `counts` = (only in A, only in B, in both) random tokens at geometry
/// `p`. Returns the errors of `n̂(A)`, `n̂(B)` and the intersection estimate.
fn simulate(p: Params, counts: [u64; 3], rng: &mut impl Rng) -> [f64; 3] {
    let (mut a, mut b) = (Bloom::new(p), Bloom::new(p));
    for _ in 0..counts[0] {
        a.insert(rng.gen());
    }
    for _ in 0..counts[1] {
        b.insert(rng.gen());
    }
    for _ in 0..counts[2] {
        let t = rng.gen();
        a.insert(t);
        b.insert(t);
    }
    let (na, nb, nu) = point_estimates(a.as_ref(), b.as_ref()).expect("same geometry");
    let (ta, tb) = ((counts[0] + counts[2]) as f64, (counts[1] + counts[2]) as f64);
    [na - ta, nb - tb, na + nb - nu - counts[2] as f64]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(p: Params, tokens: impl Iterator<Item = u128>) -> Bloom {
        let mut b = Bloom::new(p);
        tokens.for_each(|t| b.insert(t));
        b
    }

    fn token(i: u64) -> u128 {
        u128::from(xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes()))
            | u128::from(xxhash_rust::xxh3::xxh3_64_with_seed(&i.to_le_bytes(), 5)) << 64
    }

    #[test]
    fn intervals_cover_known_sizes_and_overlap() {
        let p = Params::for_count(40_000, 1e-4);
        let (mut covered, mut covered_a, trials) = (0, 0, 20u64);
        for t in 0..trials {
            let base = t * 1_000_000;
            let a = filled(p, (base..base + 30_000).map(token));
            let b = filled(p, (base + 20_000..base + 45_000).map(token));
            let o = compare_sections(a.as_ref(), b.as_ref(), 100, t).unwrap();
            covered_a += u32::from(o.a.ci_low <= 30_000.0 && 30_000.0 <= o.a.ci_high);
            assert!((o.intersection.estimate - 10_000.0).abs() < 500.0, "{o:?}");
            let i = &o.intersection;
            covered += u32::from(i.ci_low <= 10_000.0 && 10_000.0 <= i.ci_high);
        }
        // A 95 % interval misses about one trial in twenty: require 17 of 20.
        assert!(covered >= 17, "95 % interval covered the overlap {covered}/{trials} times");
        assert!(covered_a >= 17, "95 % interval covered |A| {covered_a}/{trials} times");
    }

    #[test]
    fn disjoint_filters_have_an_interval_near_zero() {
        let p = Params::for_count(10_000, 1e-6);
        let a = filled(p, (0..8_000).map(token));
        let b = filled(p, (100_000..108_000).map(token));
        let o = compare_sections(a.as_ref(), b.as_ref(), 100, 3).unwrap();
        assert_eq!(o.intersection.ci_low, 0.0);
        assert!(o.intersection.ci_high < 200.0, "{o:?}");
    }

    #[test]
    fn refuses_different_geometry() {
        let a = Bloom::new(Params::new(7, 10).unwrap());
        let b = Bloom::new(Params::new(7, 11).unwrap());
        assert!(compare_sections(a.as_ref(), b.as_ref(), 10, 1).is_err());
    }
}
