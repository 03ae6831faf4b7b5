//! Estimators (docs/DESIGN-NOTES.md "Estimator intervals"): from Bloom filter hits to defensible numbers.
//!
//! A Bloom filter answers "member" for every true member (no false negatives) and for each
//! non-member independently with probability `p`, the filter's FPR computed from its real
//! block fill (`filter::BloomRef::achieved_fpr`). For `n` valid values probed with `h` hits of
//! which `T` are true members:
//!
//! ```text
//! h = T + F,   F ~ Binomial(n − T, p)
//! E[h] = T + (n − T)·p   ⇒   T̂ = (h − n·p) / (1 − p)     (unbiased)
//! Var T̂ = (n − T)·p / (1 − p)
//! ```
//!
//! The interval inverts the law of the false positives `F`: `T ∈ [h − F_hi, h − F_lo]` with
//! `F_lo`, `F_hi` the 2.5 % and 97.5 % quantiles of `Binomial(n − T̂, p)` — computed exactly
//! while the expected count is small (the usual case: p ≈ 1e-6 gives fractions of one false
//! positive, where a normal approximation would be wrong), and by the normal approximation
//! otherwise. The interval is clamped to `[0, h]`: there cannot be more true matches than
//! hits.
//!
//! For a sample of a claimed full set of size `N` (`--claimed-size`), the hit rate `θ = h/n`
//! gets a Wilson score interval (Wilson 1927; Brown, Cai & DasGupta 2001 recommend it for
//! small and extreme proportions), each end mapped through `(θ − p)/(1 − p)` and scaled to N.

use serde::{Deserialize, Serialize};

/// The standard normal quantile for a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A point estimate with a 95 % interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Point estimate, clamped to the feasible range.
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// Decimal places of a rate (a fraction) in reports: 0.01 % (text and HTML print percent with
/// two decimals, JSON the fraction with four).
pub const RATE_DECIMALS: i32 = 4;

impl Estimate {
    /// The report's rounding of a count: the interval widened outwards to whole numbers
    /// (`ci_low` floored, `ci_high` ceiled), the point rounded and kept inside it. Text, JSON
    /// and HTML print these same numbers.
    pub fn rounded_count(self) -> Estimate {
        let (lo, hi) = (self.ci_low.floor(), self.ci_high.ceil());
        Estimate { estimate: self.estimate.round().clamp(lo, hi.max(lo)), ci_low: lo, ci_high: hi }
    }

    /// The report's rounding of a rate: to [`RATE_DECIMALS`] places, the interval widened
    /// outwards, the point rounded and kept inside it (then every rendering shows the same
    /// digits: `0.5873` in JSON is `58.73 %` in text and HTML).
    pub fn rounded_rate(self) -> Estimate {
        let s = 10f64.powi(RATE_DECIMALS);
        // The nudge keeps a bound that is already on the grid (0.58 = 5799.999… · 1e-4) there.
        let lo = ((self.ci_low * s + 1e-6).floor() / s).max(0.0);
        let hi = ((self.ci_high * s - 1e-6).ceil() / s).min(1.0).max(lo);
        Estimate {
            estimate: ((self.estimate * s).round() / s).clamp(lo, hi),
            ci_low: lo,
            ci_high: hi,
        }
    }
}

/// The unclamped estimator `(h − n·p)/(1 − p)`; unbiased, may be negative.
pub fn raw_true_matches(n: u64, h: u64, p: f64) -> f64 {
    (h as f64 - n as f64 * p) / (1.0 - p)
}

/// True members among `n` probed values with `h` hits at false-positive rate `p`.
pub fn true_matches(n: u64, h: u64, p: f64) -> Estimate {
    assert!(h <= n, "hits cannot exceed probes");
    let hits = h as f64;
    let raw = raw_true_matches(n, h, p);
    let t = raw.clamp(0.0, hits);
    let non_members = n as f64 - t;
    let (f_lo, f_hi) = binomial_quantiles(non_members, p, 0.025);
    Estimate {
        estimate: t,
        ci_low: (hits - f_hi).clamp(0.0, hits),
        ci_high: (hits - f_lo).clamp(0.0, hits),
    }
}

/// The `alpha` and `1 − alpha` quantiles of `Binomial(m, p)` (m need not be an integer).
///
/// Exact by summing the probability mass while the mean is below 200, where the mass at 0,
/// `(1 − p)^m`, is still far from underflow; the normal approximation with continuity
/// correction above that.
fn binomial_quantiles(m: f64, p: f64, alpha: f64) -> (f64, f64) {
    let mean = m * p;
    if p <= 0.0 || m <= 0.0 {
        return (0.0, 0.0);
    }
    if mean >= 200.0 {
        let sd = (m * p * (1.0 - p)).sqrt();
        let z = normal_quantile(1.0 - alpha);
        return ((mean - z * sd - 0.5).max(0.0).floor(), (mean + z * sd + 0.5).ceil());
    }
    let mut pmf = (m * (1.0 - p).ln()).exp();
    let ratio = p / (1.0 - p);
    let mut cdf = pmf;
    let mut k = 0.0;
    let mut lo = None;
    while cdf < 1.0 - alpha && k < m {
        if lo.is_none() && cdf >= alpha {
            lo = Some(k);
        }
        pmf *= (m - k) / (k + 1.0) * ratio;
        k += 1.0;
        cdf += pmf;
    }
    (lo.unwrap_or(if cdf >= alpha { k } else { 0.0 }), k)
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9).
pub fn normal_quantile(q: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        let r = (-2.0 * q.ln()).sqrt();
        (((((C[0] * r + C[1]) * r + C[2]) * r + C[3]) * r + C[4]) * r + C[5])
            / ((((D[0] * r + D[1]) * r + D[2]) * r + D[3]) * r + 1.0)
    };
    if q < 0.02425 {
        tail(q)
    } else if q > 1.0 - 0.02425 {
        -tail(1.0 - q)
    } else {
        let x = q - 0.5;
        let r = x * x;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * x
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// Wilson score interval for a proportion of `k` successes in `n` trials.
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n = n as f64;
    let phat = k as f64 / n;
    let z2 = z * z;
    let centre = (phat + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (phat * (1.0 - phat) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// A rate of true matches: hits `h` among `n` probes at FPR `p`, corrected for false positives
/// and with a Wilson interval; all three values in `[0, 1]`.
pub fn true_rate(n: u64, h: u64, p: f64) -> Estimate {
    if n == 0 {
        return Estimate { estimate: 0.0, ci_low: 0.0, ci_high: 1.0 };
    }
    let correct = |theta: f64| ((theta - p) / (1.0 - p)).clamp(0.0, 1.0);
    let (lo, hi) = wilson(h, n, Z95);
    Estimate { estimate: correct(h as f64 / n as f64), ci_low: correct(lo), ci_high: correct(hi) }
}

/// Extrapolates the sample's true-match rate to a claimed full set of `claimed` records.
pub fn extrapolate(n: u64, h: u64, p: f64, claimed: u64) -> Estimate {
    let r = true_rate(n, h, p);
    let c = claimed as f64;
    Estimate { estimate: r.estimate * c, ci_low: r.ci_low * c, ci_high: r.ci_high * c }
}

/// The probability that a record with values of several kinds gets at least one false hit:
/// `1 − Π(1 − p_k)`.
pub fn any_fpr(fprs: impl IntoIterator<Item = f64>) -> f64 {
    1.0 - fprs.into_iter().map(|p| 1.0 - p).product::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::distributions::{Bernoulli, Distribution};
    use rand::SeedableRng;

    fn simulate(n: u64, t: u64, p: f64, rng: &mut rand_pcg::Pcg64) -> u64 {
        let fp = Bernoulli::new(p).unwrap();
        t + (0..n - t).filter(|_| fp.sample(rng)).count() as u64
    }

    proptest::proptest! {
        /// Rounded intervals contain the unrounded ones and their own point estimate.
        #[test]
        fn rounding_widens_outwards_and_keeps_the_point_inside(
            a in 0.0f64..1.0, b in 0.0f64..1.0, t in 0.0f64..1.0, scale in 1.0f64..1e7,
        ) {
            let (lo, hi) = (a.min(b), a.max(b));
            let e = Estimate { estimate: lo + t * (hi - lo), ci_low: lo, ci_high: hi };
            let r = e.rounded_rate();
            proptest::prop_assert!(r.ci_low <= lo + 1e-9 && hi <= r.ci_high + 1e-9);
            proptest::prop_assert!(r.ci_low <= r.estimate && r.estimate <= r.ci_high);
            let c = Estimate { estimate: e.estimate * scale, ci_low: lo * scale, ci_high: hi * scale };
            let r = c.rounded_count();
            proptest::prop_assert!(r.ci_low <= c.ci_low && c.ci_high <= r.ci_high);
            proptest::prop_assert!(r.ci_low <= r.estimate && r.estimate <= r.ci_high);
            proptest::prop_assert_eq!(r.estimate.fract(), 0.0);
        }
    }

    #[test]
    fn negligible_fpr_gives_exact_counts() {
        let e = true_matches(330_000, 12_345, 1e-9);
        assert!((e.estimate - 12_345.0).abs() < 0.01);
        assert_eq!((e.ci_low, e.ci_high), (12_345.0, 12_345.0));
    }

    #[test]
    fn zero_hits_give_zero_with_a_zero_interval() {
        let e = true_matches(1_000, 0, 1e-3);
        assert_eq!((e.estimate, e.ci_low, e.ci_high), (0.0, 0.0, 0.0));
    }

    #[test]
    fn estimator_is_unbiased_and_interval_covers() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        for &(n, t, p) in &[(20_000u64, 3_000u64, 0.01), (5_000, 50, 0.002), (50_000, 10_000, 0.05)]
        {
            let trials = 400;
            let (mut sum, mut covered) = (0.0, 0);
            for _ in 0..trials {
                let h = simulate(n, t, p, &mut rng);
                sum += raw_true_matches(n, h, p);
                let e = true_matches(n, h, p);
                if e.ci_low <= t as f64 && t as f64 <= e.ci_high {
                    covered += 1;
                }
            }
            let mean = sum / trials as f64;
            let se = ((n - t) as f64 * p / (1.0 - p) / trials as f64).sqrt();
            assert!((mean - t as f64).abs() < 4.0 * se, "n={n} t={t}: mean {mean}");
            let coverage = covered as f64 / trials as f64;
            assert!(coverage >= 0.92, "n={n} t={t} p={p}: coverage {coverage}");
        }
    }

    #[test]
    fn binomial_quantiles_match_known_poisson_values() {
        // Poisson(3): P(X <= 0) = 0.0498 ≥ 0.025 → lo 0; P(X <= 6) = 0.966, P(X <= 7) = 0.988 → hi 7.
        let (lo, hi) = binomial_quantiles(3e8, 1e-8, 0.025);
        assert_eq!((lo, hi), (0.0, 7.0));
        // Poisson(20): 2.5 % and 97.5 % quantiles are 12 and 29.
        assert_eq!(binomial_quantiles(2e9, 1e-8, 0.025), (12.0, 29.0));
    }

    #[test]
    fn normal_quantile_is_accurate() {
        assert!((normal_quantile(0.975) - Z95).abs() < 1e-8);
        assert!((normal_quantile(0.5)).abs() < 1e-12);
        assert!((normal_quantile(0.001) + 3.090_232_306_167_813).abs() < 1e-8);
    }

    #[test]
    fn wilson_interval_contains_estimate_and_is_within_unit() {
        let (lo, hi) = wilson(5, 10, Z95);
        assert!(lo < 0.5 && 0.5 < hi);
        assert!((lo - 0.236_593).abs() < 1e-5 && (hi - 0.763_407).abs() < 1e-5);
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
        let (lo, hi) = wilson(0, 100, Z95);
        assert!(lo.abs() < 1e-12 && (hi - 0.036_994).abs() < 1e-5, "{lo} {hi}");
    }

    #[test]
    fn extrapolation_scales_the_corrected_rate() {
        let e = extrapolate(10_000, 2_000, 0.0, 330_000);
        assert!((e.estimate - 66_000.0).abs() < 1e-6);
        assert!(e.ci_low < 66_000.0 && e.ci_high > 66_000.0);
        let corrected = extrapolate(10_000, 2_000, 0.1, 1_000);
        assert!((corrected.estimate - 1_000.0 * (0.2 - 0.1) / 0.9).abs() < 1e-9);
    }
}
