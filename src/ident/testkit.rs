//! Test helpers shared by the normalisers' tests (compiled for tests only).

use proptest::prelude::*;

use super::Outcome;

/// A normaliser's signature.
pub type Normalise = fn(&str, &mut Vec<u8>) -> Outcome;

/// Cases per equivalence property (fast path against the first version).
pub const EQUIVALENCE_CASES: u32 = 20_000;

/// The outcome and normalised text of `s`.
pub fn norm(f: Normalise, s: &str) -> (Outcome, String) {
    let mut out = Vec::new();
    let o = f(s, &mut out);
    (o, String::from_utf8(out).expect("normalised forms are UTF-8"))
}

/// Normalising the normalised form changes neither it nor the outcome.
pub fn assert_idempotent(f: Normalise, s: &str) -> Result<(), TestCaseError> {
    let mut a = Vec::new();
    let oa = f(s, &mut a);
    let mut b = Vec::new();
    let ob = f(std::str::from_utf8(&a).expect("UTF-8"), &mut b);
    prop_assert_eq!(&a, &b);
    prop_assert_eq!(oa, ob);
    Ok(())
}
