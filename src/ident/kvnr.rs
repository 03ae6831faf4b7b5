//! `kvnr`: the German health insurance number (Krankenversichertennummer), unchangeable part.
//!
//! Normalised form: 10 characters, uppercase, shape `[A-Z][0-9]{9}`, with white space (any
//! Unicode space, U+00A0 included), hyphens and dots removed: `A 123 456 780`,
//! `A-123-456-780`, `A.123.456.780` and `A\u{a0}123\u{a0}456\u{a0}780` all give `A123456780`.
//! Full-width letters and digits are read as ASCII (NFKC; `compat.rs`). The last digit is a
//! check digit (see [`check_digit`]).

// Reviewed (#11): 256-entry tables indexed by a `u8`; `dst` is `out` sized to the input with `kept`
// at most the input position (in-place compaction); `out[0..10]`, `v[0]` after the length-10 shape
// check.
#![allow(clippy::indexing_slicing)]

use super::{compat, Flaw, Outcome};

/// Computes the check digit of a KVNR from its letter and the following 8 digits.
///
/// The letter becomes two digits `01..=26`; with the 8 digits that gives 10 digits, weighted
/// `1, 2, 1, 2, ...` from the left. The digit sums of the products are added up; the check digit
/// is that sum mod 10. `A12345678` → `0`, `Z98765432` → `1`, `M23456789` → `8`.
///
/// `letter` must be an ASCII uppercase letter and `digits` ASCII digits.
pub fn check_digit(letter: u8, digits: &[u8; 8]) -> u8 {
    debug_assert!(letter.is_ascii_uppercase());
    let n = letter - b'A' + 1;
    // Weight 1 adds the digit itself; weight 2 the digit sum of its double.
    let mut sum = u32::from(n / 10 + DOUBLED[usize::from(b'0' + n % 10)]);
    for pair in digits.chunks_exact(2) {
        sum += u32::from(pair[0] - b'0') + u32::from(DOUBLED[usize::from(pair[1])]);
    }
    (sum % 10) as u8
}

/// Digit sum of twice an ASCII digit (`'7'` → 14 → 5), indexed by the byte; 0 for other bytes.
const DOUBLED: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut d = 0;
    while d < 10 {
        table[b'0' as usize + d] = (2 * d / 10 + 2 * d % 10) as u8;
        d += 1;
    }
    table
};

/// Normalises a KVNR into `out` and checks shape, check digit and gematik test range.
pub fn normalize(input: &str, out: &mut Vec<u8>) -> Outcome {
    out.clear();
    let src = input.as_bytes();
    if let Ok(v) = <&[u8; 10]>::try_from(src) {
        // Written as is (the usual case): copy, no separators to drop.
        let digits = u64::from_le_bytes(v[1..9].try_into().expect("8 bytes"));
        if v[0].is_ascii_alphabetic() && all_digits(digits) && v[9].is_ascii_digit() {
            let mut v = *v;
            v[0] = v[0].to_ascii_uppercase();
            out.extend_from_slice(&v);
            return validate_shaped(&v);
        }
    }
    // Size `out` to the input, then write the kept bytes (separators dropped, ASCII letters
    // uppercased) to its front and cut it; the same pass notes any non-ASCII byte.
    out.extend_from_slice(src);
    let dst = &mut out[..];
    let (mut kept, mut any) = (0, 0);
    for &b in src {
        dst[kept] = if b.is_ascii_lowercase() { b - 32 } else { b };
        kept += usize::from(!is_separator(b));
        any |= b;
    }
    if !any.is_ascii() {
        out.clear();
        return normalize_unicode(input, out);
    }
    out.truncate(kept);
    validate(out)
}

/// [`normalize`] for input with non-ASCII characters: those with an ASCII form
/// ([`compat::ascii_byte`]) are read as it, others are kept (and make the value Malformed).
#[cold]
#[inline(never)]
fn normalize_unicode(input: &str, out: &mut Vec<u8>) -> Outcome {
    let mut buf = [0u8; 4];
    for c in input.chars() {
        match compat::ascii_byte(c) {
            Some(b) if is_separator(b) => {}
            Some(b) => out.push(b.to_ascii_uppercase()),
            None => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        }
    }
    validate(out)
}

/// ASCII white space, `-` and `.`: separators written between the groups of a KVNR.
fn is_separator(b: u8) -> bool {
    /// Bit `b` set for each separator byte `b` (all below 64).
    const SEPARATORS: u64 = 1 << b' ' | 0x1f << b'\t' | 1 << b'-' | 1 << b'.';
    b < 64 && SEPARATORS >> b & 1 != 0
}

/// The outcome for a KVNR with separators removed and letters uppercased.
fn validate(out: &[u8]) -> Outcome {
    if out.is_empty() {
        return Outcome::Empty;
    }
    match <&[u8; 10]>::try_from(out) {
        Ok(v) if is_shaped(v) => validate_shaped(v),
        _ => Outcome::Invalid(Flaw::Malformed),
    }
}

/// [`validate`] for a value of the shape `[A-Z][0-9]{9}`.
#[inline]
fn validate_shaped(v: &[u8; 10]) -> Outcome {
    let digits: &[u8; 8] = v[1..9].try_into().expect("8 digits");
    if check_digit(v[0], digits) != v[9] - b'0' {
        return Outcome::Invalid(Flaw::CheckDigit);
    }
    if is_test_identity(v) {
        return Outcome::Invalid(Flaw::TestIdentity);
    }
    Outcome::Valid
}

/// `0x01` in every byte lane of a word.
const ONES: u64 = u64::from_ne_bytes([1; 8]);
/// The high bit of every byte lane.
const HIGH: u64 = ONES << 7;

/// Whether all 8 byte lanes of `w` are ASCII digits: no high bit, and each byte plus
/// `0x80 - 0x30` reaches the high bit while plus `0x80 - 0x3a` does not, without carries
/// between lanes for ASCII bytes (the SWAR comparison of Warren, *Hacker's Delight*, 2nd ed.,
/// §6-1; `email.rs` has the same).
fn all_digits(w: u64) -> bool {
    let at_least = |n: u8| w.wrapping_add(ONES * u64::from(0x80 - n)) & HIGH;
    w & HIGH == 0 && at_least(b'0') == HIGH && at_least(b'9' + 1) == 0
}

/// True for `[A-Z][0-9]{9}`.
pub fn is_shaped(v: &[u8]) -> bool {
    v.len() == 10 && v[0].is_ascii_uppercase() && v[1..].iter().all(u8::is_ascii_digit)
}

/// gematik test identities: `X0000` followed by `0001..=5000` and the check digit.
fn is_test_identity(v: &[u8]) -> bool {
    if &v[..5] != b"X0000" {
        return false;
    }
    let n = v[5..9].iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    (1..=5000).contains(&n)
}

/// Builds a valid KVNR from a letter and 8 digits (used by `generate` and tests).
pub fn with_check_digit(letter: u8, digits: &[u8; 8]) -> [u8; 10] {
    let mut v = [0u8; 10];
    v[0] = letter;
    v[1..9].copy_from_slice(digits);
    v[9] = b'0' + check_digit(letter, digits);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ident::testkit;
    use proptest::prelude::*;

    fn norm(s: &str) -> (Outcome, String) {
        testkit::norm(normalize, s)
    }

    #[test]
    fn design_examples_are_valid() {
        for v in ["A123456780", "Z987654321", "M234567898"] {
            assert_eq!(norm(v), (Outcome::Valid, v.to_string()), "{v}");
        }
    }

    #[test]
    fn one_digit_change_is_caught() {
        for v in ["A123456780", "Z987654321", "M234567898"] {
            for pos in 1..10 {
                let mut b = v.as_bytes().to_vec();
                b[pos] = b'0' + (b[pos] - b'0' + 1) % 10;
                let s = String::from_utf8(b).unwrap();
                assert_eq!(norm(&s).0, Outcome::Invalid(Flaw::CheckDigit), "{s}");
            }
        }
    }

    #[test]
    fn spacing_case_and_hyphens_are_removed() {
        assert_eq!(norm(" a 123-456 780 "), (Outcome::Valid, "A123456780".into()));
    }

    #[test]
    fn dots_no_break_spaces_and_full_width_forms_are_read() {
        let want = (Outcome::Valid, "A123456780".to_string());
        for v in [
            "A.123.456.780",
            "a.123.456.780.",
            "A\u{a0}123\u{a0}456\u{a0}780",
            "\u{a0}A 123\u{202f}456\u{2009}780\u{3000}",
            "A123456780\n",
            "\u{ff21}\u{ff11}\u{ff12}\u{ff13}\u{ff14}\u{ff15}\u{ff16}\u{ff17}\u{ff18}\u{ff10}",
            "\u{ff41}\u{2011}123\u{2013}456\u{2013}780",
        ] {
            assert_eq!(norm(v), want, "{v:?}");
        }
        for v in ["A/123/456/780", "A\u{200b}123456780", "A123456780\u{00bd}"] {
            assert_eq!(norm(v).0, Outcome::Invalid(Flaw::Malformed), "{v:?}");
        }
    }

    #[test]
    fn wrong_shapes_are_malformed() {
        for v in ["A12345678", "1234567890", "AB23456780", "A1234567800", "Ä123456780"] {
            assert_eq!(norm(v).0, Outcome::Invalid(Flaw::Malformed), "{v}");
        }
        assert_eq!(norm("  ").0, Outcome::Empty);
    }

    #[test]
    fn gematik_test_identities_are_counted_apart() {
        let first = with_check_digit(b'X', b"00000001");
        let last = with_check_digit(b'X', b"00005000");
        let outside = with_check_digit(b'X', b"00005001");
        let s = |v: [u8; 10]| String::from_utf8(v.to_vec()).unwrap();
        assert_eq!(norm(&s(first)).0, Outcome::Invalid(Flaw::TestIdentity));
        assert_eq!(norm(&s(last)).0, Outcome::Invalid(Flaw::TestIdentity));
        assert_eq!(norm(&s(outside)).0, Outcome::Valid);
    }

    /// The check digit as first written: weights and digit sums computed per digit.
    fn check_digit_reference(letter: u8, digits: &[u8; 8]) -> u8 {
        let n = letter - b'A' + 1;
        let mut sum = 0u32;
        let mut weight = 1u32;
        let mut add = |d: u32| {
            let p = d * weight;
            sum += p / 10 + p % 10;
            weight = 3 - weight;
        };
        add(u32::from(n / 10));
        add(u32::from(n % 10));
        for &d in digits {
            add(u32::from(d - b'0'));
        }
        (sum % 10) as u8
    }

    /// The normaliser as first written (byte by byte pushes, reference check digit), with the
    /// separators and compatibility forms read since: per character.
    fn reference(input: &str, out: &mut Vec<u8>) -> Outcome {
        out.clear();
        for c in input.chars() {
            let b = if c.is_ascii() { Some(c as u8) } else { compat::ascii_byte(c) };
            match b {
                Some(b' ' | b'\t'..=b'\r' | b'-' | b'.') => {}
                Some(b) => out.push(b.to_ascii_uppercase()),
                None => out.extend_from_slice(c.to_string().as_bytes()),
            }
        }
        if out.is_empty() {
            return Outcome::Empty;
        }
        if !is_shaped(out) {
            return Outcome::Invalid(Flaw::Malformed);
        }
        let digits: &[u8; 8] = out[1..9].try_into().expect("length checked");
        if check_digit_reference(out[0], digits) != out[9] - b'0' {
            return Outcome::Invalid(Flaw::CheckDigit);
        }
        if is_test_identity(out) {
            return Outcome::Invalid(Flaw::TestIdentity);
        }
        Outcome::Valid
    }

    fn assert_same_as_reference(s: &str) -> Result<(), TestCaseError> {
        let (mut fast, mut slow) = (vec![b'#'; 3], vec![b'#'; 5]);
        prop_assert_eq!(normalize(s, &mut fast), reference(s, &mut slow), "outcome of {:?}", s);
        prop_assert_eq!(fast, slow, "bytes of {:?}", s);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(testkit::EQUIVALENCE_CASES))]

        #[test]
        fn check_digit_equals_reference(letter in 0u8..26, digits in proptest::array::uniform8(0u8..10)) {
            let d = digits.map(|x| b'0' + x);
            prop_assert_eq!(check_digit(b'A' + letter, &d), check_digit_reference(b'A' + letter, &d));
        }

        #[test]
        fn normalisation_equals_reference_on_ten_byte_values(
            s in "[a-zA-Z0-9@\\[`{/:\u{ff10}]{1}[0-9/:]{8}[0-9/:a]"
        ) {
            assert_same_as_reference(&s)?;
        }

        #[test]
        fn digit_words_are_recognised_as_bytewise(bytes in proptest::array::uniform8(any::<u8>()), digit in 0usize..8) {
            let mut b = bytes;
            // Biased towards digits: all but some lanes made digits.
            for (i, x) in b.iter_mut().enumerate() {
                if i != digit { *x = b'0' + *x % 10; }
            }
            for w in [bytes, b] {
                prop_assert_eq!(all_digits(u64::from_le_bytes(w)), w.iter().all(u8::is_ascii_digit));
            }
        }

        #[test]
        fn normalisation_equals_reference_on_any_string(s in any::<String>()) {
            assert_same_as_reference(&s)?;
        }

        #[test]
        fn normalisation_equals_reference_on_number_noise(
            s in "[ \t.\u{a0}-]{0,2}[a-zA-ZÄäX\u{ff21}][ .0-9\u{a0}\u{ff10}-]{0,3}[0-9]{5,9}[ \t.\n0-9a-z\u{2009}-]{0,3}"
        ) {
            assert_same_as_reference(&s)?;
        }
    }

    proptest! {
        #[test]
        fn normalisation_is_idempotent(
            s in prop_oneof![any::<String>(), "[ a-zA-Z0-9.\u{a0}\u{ff10}ä-]{0,14}"]
        ) {
            let mut a = Vec::new();
            let oa = normalize(&s, &mut a);
            let mut b = Vec::new();
            let ob = normalize(std::str::from_utf8(&a).unwrap(), &mut b);
            prop_assert_eq!(a, b);
            prop_assert_eq!(oa, ob);
        }

        #[test]
        fn generated_numbers_are_valid(letter in 0u8..26, digits in proptest::array::uniform8(0u8..10)) {
            let d = digits.map(|x| b'0' + x);
            let v = with_check_digit(b'A' + letter, &d);
            let mut out = Vec::new();
            let o = normalize(std::str::from_utf8(&v).unwrap(), &mut out);
            prop_assert!(o == Outcome::Valid || o == Outcome::Invalid(Flaw::TestIdentity));
        }
    }
}
