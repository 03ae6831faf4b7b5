//! `iban`: International Bank Account Numbers (ISO 13616).
//!
//! Normalised form: uppercase, white space removed. Shape: two letters (country), two check
//! digits, then letters and digits, 15..=34 characters in all. Valid when the ISO 7064
//! MOD 97-10 check of [`mod97`] gives 1; a well-shaped IBAN that fails it is
//! [`Flaw::Checksum`], any other shape [`Flaw::Malformed`].

use super::{Flaw, Outcome};

/// Normalises an IBAN into `out` and checks shape and checksum.
pub fn normalize(input: &str, out: &mut Vec<u8>) -> Outcome {
    out.clear();
    if input.is_ascii() {
        out.extend(
            input.bytes().filter(|b| !b.is_ascii_whitespace()).map(|b| b.to_ascii_uppercase()),
        );
    } else {
        let mut buf = [0u8; 4];
        for c in input.chars().filter(|c| !c.is_whitespace()) {
            out.extend_from_slice(c.to_ascii_uppercase().encode_utf8(&mut buf).as_bytes());
        }
    }
    if out.is_empty() {
        return Outcome::Empty;
    }
    if !is_shaped(out) {
        return Outcome::Invalid(Flaw::Malformed);
    }
    if mod97(out) != 1 {
        return Outcome::Invalid(Flaw::Checksum);
    }
    Outcome::Valid
}

/// `[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}`.
pub fn is_shaped(v: &[u8]) -> bool {
    (15..=34).contains(&v.len())
        && v[..2].iter().all(u8::is_ascii_uppercase)
        && v[2..4].iter().all(u8::is_ascii_digit)
        && v[4..].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The ISO 13616 / ISO 7064 MOD 97-10 remainder of a shaped IBAN.
///
/// The first four characters move to the end, each letter becomes two digits (`A` = 10 …
/// `Z` = 35), and the resulting decimal number is taken mod 97 — here piecewise, one digit at a
/// time (`r = (10·r + d) mod 97`), so no big integers are needed. A correct IBAN gives 1.
///
/// `v` must satisfy [`is_shaped`].
pub fn mod97(v: &[u8]) -> u32 {
    let (head, tail) = v.split_at(4);
    tail.iter().chain(head).fold(0u32, |r, &b| {
        if b.is_ascii_digit() {
            (r * 10 + u32::from(b - b'0')) % 97
        } else {
            (r * 100 + u32::from(b - b'A') + 10) % 97
        }
    })
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
    fn standard_test_vectors_are_valid() {
        for v in [
            "DE89370400440532013000",
            "GB82WEST12345698765432",
            "AT611904300234573201",
            "NL91ABNA0417164300",
        ] {
            assert_eq!(norm(v), (Outcome::Valid, v.to_string()), "{v}");
        }
    }

    #[test]
    fn spaces_and_case_are_removed() {
        assert_eq!(
            norm(" de89 3704 0044 0532 0130 00 "),
            (Outcome::Valid, "DE89370400440532013000".into())
        );
    }

    #[test]
    fn one_changed_digit_fails_the_checksum() {
        let v = b"DE89370400440532013000";
        for pos in 2..v.len() {
            let mut b = v.to_vec();
            b[pos] = b'0' + (b[pos] - b'0' + 1) % 10;
            let s = String::from_utf8(b).unwrap();
            assert_eq!(norm(&s).0, Outcome::Invalid(Flaw::Checksum), "{s}");
        }
    }

    #[test]
    fn wrong_shapes_are_malformed() {
        for v in [
            "DE8937040044",
            "1E89370400440532013000",
            "DEX9370400440532013000",
            "DE89-3704-0044-0532-0130-00",
            "DE89370400440532013000123456789012345",
            "DE8937040044053201300Ä",
        ] {
            assert_eq!(norm(v).0, Outcome::Invalid(Flaw::Malformed), "{v}");
        }
        assert_eq!(norm(" \t").0, Outcome::Empty);
    }

    proptest! {
        #[test]
        fn normalisation_is_idempotent(s in prop_oneof![any::<String>(), "[ a-zA-Z0-9ä-]{0,40}"]) {
            let mut a = Vec::new();
            let oa = normalize(&s, &mut a);
            let mut b = Vec::new();
            let ob = normalize(std::str::from_utf8(&a).unwrap(), &mut b);
            prop_assert_eq!(a, b);
            prop_assert_eq!(oa, ob);
        }

        #[test]
        fn mod97_matches_big_integer_arithmetic(digits in "[0-9]{2}[0-9]{16}") {
            // 18 digits + "DE" (1314) + 2 check digits fit in u128.
            let v = format!("DE{digits}");
            let rearranged = format!("{}1314{}", &digits[2..], &digits[..2]);
            let n: u128 = rearranged.parse().unwrap();
            prop_assert_eq!(mod97(v.as_bytes()), (n % 97) as u32);
        }
    }
}
