//! Tests of the blocked Bloom filter: no false negatives, FPR, merges, and the cross-check
//! against the `bloomfilter` crate.

use super::*;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

/// A seed for the `bloomfilter` crate. Its two 16-byte halves key its two SipHashers and
/// must differ: with equal halves both hashes coincide and its FPR is ten times worse.
const SEED: [u8; 32] = *b"leakmatch cross-check sip seed!!";

fn tokens(seed: u64, n: usize) -> Vec<Token> {
    let mut rng = Pcg64::seed_from_u64(seed);
    (0..n).map(|_| rng.gen()).collect()
}

fn build(params: Params, toks: &[Token]) -> Bloom {
    let mut b = Bloom::new(params);
    toks.iter().for_each(|&t| b.insert(t));
    b
}

/// Hits among `probes` non-members; and the half-width of a binomial interval at
/// z = 3.29 (99.9 %) around `p`.
fn hits_and_halfwidth(f: impl Fn(Token) -> bool, p: f64, probes: usize) -> (f64, f64) {
    let hits = tokens(0xD00D, probes).into_iter().filter(|&t| f(t)).count();
    (hits as f64, 3.29 * (probes as f64 * p * (1.0 - p)).sqrt())
}

proptest! {
    #[test]
    fn inserted_tokens_are_always_found(
        toks in proptest::collection::vec(any::<u128>(), 0..400),
        k in 1u32..=16,
        blocks in 1u64..64,
    ) {
        let b = build(Params::new(k, blocks).unwrap(), &toks);
        prop_assert!(toks.iter().all(|&t| b.contains(t)));
        prop_assert!(b.ones() <= toks.len() as u64 * u64::from(k));
    }

    /// `contains` (bits tested in groups, early return) answers exactly as the probe's
    /// masks do, for members and non-members at every k.
    #[test]
    fn contains_agrees_with_the_probe_masks(
        toks in proptest::collection::vec(any::<u128>(), 0..300),
        others in proptest::collection::vec(any::<u128>(), 0..300),
        k in 1u32..=16,
        blocks in 1u64..8,
    ) {
        let b = build(Params::new(k, blocks).unwrap(), &toks);
        for &t in toks.iter().chain(&others) {
            let probe = Probe::new(b.params, t);
            prop_assert_eq!(b.contains(t), b.as_ref().hits(&probe));
        }
    }
}

proptest! {
    /// `contains_avx512` answers exactly as `contains` at every k, members and non-members,
    /// in filters from nearly empty to nearly full (skipped without AVX-512F).
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn contains_avx512_agrees_with_contains(
        toks in proptest::collection::vec(any::<u128>(), 0..600),
        others in proptest::collection::vec(any::<u128>(), 0..300),
        k in 1u32..=16,
        blocks in 1u64..8,
    ) {
        if std::arch::is_x86_feature_detected!("avx512f") {
            let b = build(Params::new(k, blocks).unwrap(), &toks);
            for &t in toks.iter().chain(&others) {
                // SAFETY: the CPU has AVX-512F (checked above).
                let fast = unsafe { b.as_ref().contains_avx512(t) };
                prop_assert_eq!(fast, b.contains(t));
            }
        }
    }
}

#[test]
fn probe_sets_at_most_k_bits_in_one_block() {
    for k in 1..=16 {
        let p = Params::new(k, 1000).unwrap();
        for t in tokens(u64::from(k), 100) {
            let probe = Probe::new(p, t);
            let bits: u32 = probe.masks.iter().map(|m| m.count_ones()).sum();
            assert!(bits >= 1 && bits <= k && (probe.block as u64) < p.blocks);
        }
    }
}

#[test]
fn bit_positions_are_uniform_over_the_block() {
    let p = Params::new(16, 1).unwrap();
    let mut counts = [0u32; 512];
    for t in tokens(5, 20_000) {
        let probe = Probe::new(p, t);
        for (i, m) in probe.masks.iter().enumerate() {
            (0..64).filter(|b| m >> b & 1 == 1).for_each(|b| counts[i * 64 + b] += 1);
        }
    }
    let mean = counts.iter().sum::<u32>() as f64 / 512.0; // ≈ 625
    let chi2: f64 = counts.iter().map(|&c| (c as f64 - mean).powi(2) / mean).sum();
    assert!(chi2 < 650.0, "chi² = {chi2} on 511 degrees of freedom"); // p ≈ 3e-5
}

#[test]
fn measured_fpr_matches_achieved_and_expected() {
    let n = 100_000;
    let params = Params::for_count(n, 1e-3);
    let b = build(params, &tokens(1, n as usize));
    let achieved = b.achieved_fpr();
    let (hits, half) = hits_and_halfwidth(|t| b.contains(t), achieved, 1_000_000);
    let expected = achieved * 1e6;
    assert!((hits - expected).abs() < half, "hits {hits}, achieved predicts {expected}±{half}");
    let rel = (achieved - params.expected_fpr(n)).abs() / params.expected_fpr(n);
    assert!(rel < 0.05, "achieved {achieved} vs expected {}", params.expected_fpr(n));
}

#[test]
fn estimate_count_is_within_two_percent() {
    for (n, target) in [(50_000u64, 1e-2), (200_000, 1e-6)] {
        let b = build(Params::for_count(n, target), &tokens(n, n as usize));
        let est = b.estimate_count();
        assert!((est / n as f64 - 1.0).abs() < 0.02, "n={n}: estimate {est}");
    }
    let full = Bloom::from_blocks(Params::new(4, 2).unwrap(), vec![Block([!0; 8]); 2]).unwrap();
    assert!((full.estimate_count() - 2.0 * full_block_estimate(4)).abs() < 1e-9);
    assert_eq!(full.achieved_fpr(), 1.0);
}

#[test]
fn union_equals_inserting_both_sets() {
    let p = Params::new(7, 300).unwrap();
    let (a, b) = (tokens(10, 3000), tokens(11, 2000));
    let mut u = build(p, &a);
    u.union_with(build(p, &b).as_ref()).unwrap();
    let both: Vec<_> = a.iter().chain(&b).copied().collect();
    assert_eq!(u, build(p, &both));
    let other = Bloom::new(Params::new(7, 301).unwrap());
    let err = u.union_with(other.as_ref()).unwrap_err();
    assert_eq!(err.right.blocks, 301);
}

#[test]
fn atomic_build_from_two_threads_equals_sequential() {
    let p = Params::new(11, 5_000).unwrap();
    let toks = tokens(12, 100_000);
    let atomic = AtomicBloom::new(p);
    std::thread::scope(|s| {
        for half in toks.chunks(toks.len() / 2) {
            let atomic = &atomic;
            s.spawn(move || half.iter().for_each(|&t| atomic.insert(t)));
        }
    });
    assert_eq!(atomic.into_bloom(), build(p, &toks));
}

#[test]
fn classic_crate_has_lower_fpr_than_blocked_at_equal_bits_each_as_its_formula_says() {
    let n = 200_000usize;
    let bytes = 12 * n / 8; // 12 bits per element
    let params = Params::best_k_for(n as u64, (bytes / 64) as u64);
    let toks = tokens(13, n);
    let ours = build(params, &toks);
    let mut classic = bloomfilter::Bloom::<u128>::new_with_seed(bytes, n, &SEED);
    toks.iter().for_each(|t| classic.set(t));
    let k = f64::from(classic.number_of_hash_functions());
    let m = classic.number_of_bits() as f64;
    let classic_formula = (1.0 - (-k * n as f64 / m).exp()).powf(k);
    let blocked_formula = params.expected_fpr(n as u64);
    let probes = 1_000_000;
    let (c_hits, c_half) = hits_and_halfwidth(|t| classic.check(&t), classic_formula, probes);
    let (b_hits, b_half) = hits_and_halfwidth(|t| ours.contains(t), blocked_formula, probes);
    let (c_exp, b_exp) = (classic_formula * 1e6, blocked_formula * 1e6);
    assert!((c_hits - c_exp).abs() < c_half + 0.01 * c_exp, "classic {c_hits} vs {c_exp}");
    assert!((b_hits - b_exp).abs() < b_half + 0.01 * b_exp, "blocked {b_hits} vs {b_exp}");
    assert!(c_hits < b_hits, "classic {c_hits} should beat blocked {b_hits}");
    println!("12 bits/elt: classic k={k} fpr {c_hits:.0}/1e6 ({classic_formula:e}); blocked {params} {b_hits:.0}/1e6 ({blocked_formula:e})");
}

/// Rough probe cost, ours vs the `bloomfilter` crate, at FPR 1e-6 on 4 M tokens
/// (filters of ~14 MB, beyond L2). Run with
/// `cargo test --release --lib filter::bloom -- --ignored --nocapture`.
#[test]
#[ignore]
fn probe_speed_versus_bloomfilter_crate() {
    use std::time::Instant;
    let n = 4_000_000usize;
    let toks = tokens(14, n);
    let ours = build(Params::for_count(n as u64, 1e-6), &toks);
    let mut classic = bloomfilter::Bloom::<u128>::new_for_fp_rate_with_seed(n, 1e-6, &SEED);
    toks.iter().for_each(|t| classic.set(t));
    let probes: Vec<Token> =
        tokens(15, n / 2).into_iter().chain(toks[..n / 2].iter().copied()).collect();
    let time = |name: &str, f: &dyn Fn(Token) -> bool| {
        let start = Instant::now();
        let hits = probes.iter().filter(|&&t| f(t)).count();
        let ns = start.elapsed().as_nanos() as f64 / probes.len() as f64;
        println!("{name}: {ns:.1} ns/contains ({hits} hits)");
        assert!(hits >= n / 2);
        ns
    };
    let a = time("leakmatch blocked", &|t| ours.contains(t));
    let b = time("bloomfilter crate", &|t| classic.check(&t));
    assert!(a < b, "blocked {a} ns should beat classic {b} ns");
}

#[test]
fn drain_bytes_hands_over_every_byte_in_order_and_in_pieces() {
    let p = Params::new(16, 50_000).unwrap();
    let atomic = AtomicBloom::new(p);
    tokens(5, 100_000).into_iter().for_each(|t| atomic.insert(t));
    let mapped = atomic.into_bloom();
    let heap = mapped.clone();
    let expected: Vec<u8> = bytemuck::cast_slice(heap.blocks()).to_vec();
    for (bloom, pieces) in [(mapped, 4), (heap, 1)] {
        let (mut got, mut n) = (Vec::new(), 0);
        bloom
            .drain_bytes(1 << 20, &mut |piece| {
                n += 1;
                got.extend_from_slice(piece);
                Ok(())
            })
            .unwrap();
        assert_eq!(n, pieces, "3.2 MB mapped: 1 MiB pieces; on the heap: whole");
        assert!(got == expected);
    }
}
