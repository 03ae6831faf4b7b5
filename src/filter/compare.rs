//! Set sizes and intersection of two filters from their bits alone (separated mode, DESIGN §2,
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
//! sums of per-block terms, so the error of the full filter is the sum over `blocks/S` such
//! pieces: its bias scales by `blocks/S` and its standard deviation by `√(blocks/S)`
//! (independent blocks; the real block counts are multinomial, slightly less variable, so the
//! interval is, if anything, conservative). The 95 % interval is
//! `estimate − bias ± 1.96·sd`, clamped to `[0, ∞)`. When `blocks ≤ SIM_BLOCKS` the simulation runs at the real geometry.

use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::{Bloom, BloomRef, GeometryMismatch, Params};

/// Blocks of the simulated filters (at most): bounds the time of the simulation.
pub const SIM_BLOCKS: u64 = 2048;
/// Normal quantile of the two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// A size estimate with its 95 % interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeEstimate {
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// |A|, |B| and |A ∩ B| of one kind's sections.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overlap {
    pub a: SizeEstimate,
    pub b: SizeEstimate,
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

/// Estimates with intervals by parametric bootstrap (module docs); `seed` fixes the simulation.
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
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut errors = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..simulations.max(2) {
        let e = simulate(sim, counts, &mut rng);
        for (v, x) in errors.iter_mut().zip(e) {
            v.push(x);
        }
    }
    let blocks_per_sim = 1.0 / scale;
    let interval = |est: f64, errs: &[f64], max: f64| {
        let n = errs.len() as f64;
        let mean = errs.iter().sum::<f64>() / n;
        let var = errs.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let (bias, sd) = (mean * blocks_per_sim, (var * blocks_per_sim).sqrt());
        let centre = est - bias;
        SizeEstimate {
            estimate: est,
            ci_low: (centre - Z95 * sd).clamp(0.0, max),
            ci_high: (centre + Z95 * sd).clamp(0.0, max),
        }
    };
    Ok(Overlap {
        a: interval(na, &errors[0], f64::INFINITY),
        b: interval(nb, &errors[1], f64::INFINITY),
        intersection: interval(ni, &errors[2], f64::INFINITY),
        union: nu,
    })
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
