//! Invertible maps from a customer number to its identifiers.
//!
//! Every customer identifier that must be *decidable* (is this value some customer's?) is drawn
//! through an affine permutation `x ↦ (a·x + b) mod n` of a value space of size `n`, with
//! `gcd(a, n) = 1`. Customer `i` gets the value at position `π(i)`; a value `v` belongs to a
//! customer exactly when `π⁻¹(v) < customers`. Values outside the image (`π(j)` for
//! `j ≥ customers`) are guaranteed strangers, which is how the other-population rows are made.
//!
//! All spaces are below 2³², so `a·x + b` fits in a `u64` without widening.

// Reviewed (#11): synthetic data: callers pass normalised, shaped KVNRs (10 bytes, debug-asserted)
// from this generator.
#![allow(clippy::indexing_slicing)]

/// Size of the KVNR space minus the excluded block of gematik test identities: letter `A..=Z`
/// times 8 digits, without `X00000000..=X00009999` (which holds `X0000` + `0001..=5000`).
pub const KVNR_SPACE: u64 = 26 * 100_000_000 - KVNR_HOLE_LEN;
/// First raw position (`letter · 10⁸ + digits`) of the excluded block `X0000xxxx`.
const KVNR_HOLE_START: u64 = 23 * 100_000_000;
/// Length of the excluded block.
const KVNR_HOLE_LEN: u64 = 10_000;

/// An affine permutation of `0..n` with its inverse.
#[derive(Clone, Copy, Debug)]
pub struct Affine {
    n: u64,
    a: u64,
    a_inv: u64,
    b: u64,
}

impl Affine {
    /// A permutation of `0..n` chosen by `seed` and a purpose `tag`. `n` must be below 2³².
    pub fn new(n: u64, seed: u64, tag: u64) -> Affine {
        assert!(n < 1 << 32, "permutation space too large");
        if n <= 1 {
            return Affine { n: n.max(1), a: 1, a_inv: 1, b: 0 };
        }
        let r = mix(seed, tag);
        // Start near n/φ (good spreading of consecutive inputs), jitter by the seed.
        let golden = (n as f64 * 0.618_033_988_749_895) as u64;
        let mut a = (golden + (r >> 40) % (n / 7 + 1)) % n;
        while a == 0 || gcd(a, n) != 1 {
            a = (a + 1) % n;
        }
        let b = mix(r, 0x5eed) % n;
        Affine { n, a, a_inv: mod_inverse(a, n), b }
    }

    /// The size of the permuted space.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// `π(x)` for `x < n`.
    #[inline]
    pub fn apply(&self, x: u64) -> u64 {
        debug_assert!(x < self.n);
        (self.a * x + self.b) % self.n
    }

    /// `π⁻¹(y)` for `y < n`.
    #[inline]
    pub fn invert(&self, y: u64) -> u64 {
        debug_assert!(y < self.n);
        (self.a_inv * ((y + self.n - self.b) % self.n)) % self.n
    }
}

/// SplitMix64 finaliser over two words: the one place seeds are mixed.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Inverse of `a` modulo `n` by the extended Euclidean algorithm (`gcd(a, n) = 1`).
fn mod_inverse(a: u64, n: u64) -> u64 {
    let (mut r0, mut r1) = (n as i128, a as i128);
    let (mut t0, mut t1) = (0i128, 1i128);
    while r1 != 0 {
        let q = r0 / r1;
        (r0, r1) = (r1, r0 - q * r1);
        (t0, t1) = (t1, t0 - q * t1);
    }
    debug_assert_eq!(r0, 1);
    t0.rem_euclid(n as i128) as u64
}

/// The KVNR (letter, 8 digits, check digit) at position `x < KVNR_SPACE`.
pub fn kvnr_at(x: u64) -> [u8; 10] {
    let raw = if x >= KVNR_HOLE_START { x + KVNR_HOLE_LEN } else { x };
    let letter = b'A' + (raw / 100_000_000) as u8;
    let mut digits = [b'0'; 8];
    let mut d = raw % 100_000_000;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (d % 10) as u8;
        d /= 10;
    }
    crate::ident::kvnr::with_check_digit(letter, &digits)
}

/// The position of a normalised, valid KVNR, or `None` if it lies in the excluded block.
pub fn kvnr_position(v: &[u8]) -> Option<u64> {
    debug_assert!(crate::ident::kvnr::is_shaped(v));
    let digits = v[1..9].iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
    let raw = u64::from(v[0] - b'A') * 100_000_000 + digits;
    match raw {
        r if r < KVNR_HOLE_START => Some(r),
        r if r < KVNR_HOLE_START + KVNR_HOLE_LEN => None,
        r => Some(r - KVNR_HOLE_LEN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ident::{kvnr, Outcome};
    use proptest::prelude::*;

    #[test]
    fn small_permutation_is_a_bijection() {
        for n in [1u64, 2, 3, 10, 97, 1000, 2600] {
            let p = Affine::new(n, 7, 1);
            let mut seen = vec![false; n as usize];
            for x in 0..n {
                let y = p.apply(x);
                assert!(!seen[y as usize], "n={n}");
                seen[y as usize] = true;
                assert_eq!(p.invert(y), x);
            }
        }
    }

    #[test]
    fn kvnr_hole_edges_map_to_valid_non_test_numbers() {
        for x in [0, KVNR_HOLE_START - 1, KVNR_HOLE_START, KVNR_SPACE - 1] {
            let v = kvnr_at(x);
            let mut out = Vec::new();
            let s = std::str::from_utf8(&v).unwrap();
            assert_eq!(kvnr::normalize(s, &mut out), Outcome::Valid);
            assert_eq!(kvnr_position(&v), Some(x));
        }
        assert_eq!(&kvnr_at(KVNR_HOLE_START)[..9], b"X00010000");
        assert_eq!(kvnr_position(&kvnr::with_check_digit(b'X', b"00000001")), None);
    }

    proptest! {
        #[test]
        fn inverse_undoes_apply(n in 2u64..(1 << 32), seed: u64, x: u64) {
            let p = Affine::new(n, seed, 3);
            let x = x % n;
            prop_assert_eq!(p.invert(p.apply(x)), x);
        }

        #[test]
        fn kvnr_position_inverts_kvnr_at(x in 0..KVNR_SPACE) {
            prop_assert_eq!(kvnr_position(&kvnr_at(x)), Some(x));
        }
    }
}
