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

/// One row of a test-vector file under `src/ident/vectors/` (written by its `make.py` from the
/// reference implementations; the format is described there).
#[derive(serde::Deserialize)]
struct Vector {
    #[serde(rename = "in")]
    input: String,
    #[serde(rename = "ref")]
    reference: Option<String>,
    want: String,
    norm: Option<String>,
    why: Option<String>,
}

/// Checks `f` against every row of a test-vector file: the outcome (valid, invalid, empty)
/// and, for valid rows, the normal form. Rows without a `why` must agree with the reference
/// implementation's verdict. Returns the number of rows checked.
pub fn check_vectors(f: Normalise, jsonl: &str) -> usize {
    let mut rows = 0;
    for (i, line) in jsonl.lines().enumerate() {
        let v: Vector = serde_json::from_str(line).expect("vector row");
        let (outcome, normal) = norm(f, &v.input);
        let at = format!("vector line {}: {:?}", i + 1, v.input);
        match v.want.as_str() {
            "valid" => {
                assert_eq!(outcome, Outcome::Valid, "{at}");
                assert_eq!(Some(&normal), v.norm.as_ref(), "{at}");
            }
            "invalid" => assert!(matches!(outcome, Outcome::Invalid(_)), "{at}: {outcome:?}"),
            "empty" => assert_eq!(outcome, Outcome::Empty, "{at}"),
            other => panic!("{at}: unknown want {other:?}"),
        }
        if v.why.is_none() {
            assert_eq!(v.reference, v.norm, "{at}: departs from the reference without a why");
        }
        rows += 1;
    }
    rows
}
