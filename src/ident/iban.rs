//! `iban`: International Bank Account Numbers (ISO 13616).
//!
//! Normalised form: uppercase, without white space (any Unicode space), hyphens and dots, and
//! without a leading `IBAN` or `IBAN:` (any case) — the print form of ISO 13616
//! (`IBAN DE89 3704 0044 0532 0130 00`) and the grouped forms of exports (`ES91-2100-…`,
//! `NO93.8601.1117.947`) all give `DE89370400440532013000`-style values. Full-width letters and
//! digits are read as ASCII (NFKC; `compat.rs`).
//!
//! Shape: two letters (country), two check digits, then letters and digits, 15..=34 characters
//! in all; and the country's length and BBAN character format from the IBAN registry
//! ([`REGISTRY`]: a country not in it, a wrong length or a letter where the registry wants a
//! digit is [`Flaw::Malformed`] even when the checksum passes). Valid when the ISO 7064
//! MOD 97-10 check of [`mod97`] gives 1; a well-shaped IBAN that fails it is
//! [`Flaw::Checksum`]. National check digits inside the BBAN are not checked. Test vectors:
//! `vectors/iban.jsonl`, made with python-stdnum (`vectors/make.py`).

// Reviewed (#11): `country_index` of two ASCII letters is below the table length (checked before);
// `v[0]`, `v[1]` after a length check; the registry is a const table.
#![allow(clippy::indexing_slicing)]

use super::{compat, Flaw, Outcome};

/// Normalises an IBAN into `out` and checks shape and checksum.
pub fn normalize(input: &str, out: &mut Vec<u8>) -> Outcome {
    out.clear();
    if input.is_ascii() {
        out.extend(input.bytes().filter(|&b| !is_separator(b)).map(|b| b.to_ascii_uppercase()));
    } else {
        let mut buf = [0u8; 4];
        for c in input.chars() {
            match compat::ascii_byte(c) {
                Some(b) if is_separator(b) => {}
                Some(b) => out.push(b.to_ascii_uppercase()),
                None => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
            }
        }
    }
    strip_prefix(out);
    if out.is_empty() {
        return Outcome::Empty;
    }
    if !is_shaped(out) || !fits_registry(out) {
        return Outcome::Invalid(Flaw::Malformed);
    }
    if mod97(out) != 1 {
        return Outcome::Invalid(Flaw::Checksum);
    }
    Outcome::Valid
}

/// White space, `-` and `.`: the group separators of written IBANs.
fn is_separator(b: u8) -> bool {
    b.is_ascii_whitespace() || b == b'-' || b == b'.'
}

/// Removes leading `IBAN` (each optionally followed by `:`) from the uppercased, separator-free
/// value, as often as it occurs, so that the result is a fixed point. No IBAN starts with
/// `IBAN` (its third and fourth characters are digits).
fn strip_prefix(out: &mut Vec<u8>) {
    let mut start = 0;
    while out[start..].starts_with(b"IBAN") {
        start += 4;
        start += usize::from(out.get(start) == Some(&b':'));
    }
    if start > 0 {
        out.drain(..start);
    }
}

/// The IBAN registry (SWIFT, release 101, as extracted by python-stdnum 2.2 in its
/// `iban.dat`): each country's BBAN — what follows country code and check digits — as runs of
/// `n` digits, `a` uppercase letters, `c` letters or digits, adjacent runs of one class merged.
/// The BBAN length is the sum of the runs. Regenerate with `vectors/make.py`.
#[rustfmt::skip]
pub const REGISTRY: &[([u8; 2], &str)] = &[
    (*b"AD", "8n12c"), (*b"AE", "19n"), (*b"AL", "8n16c"), (*b"AT", "16n"), (*b"AZ", "4a20c"),
    (*b"BA", "16n"), (*b"BE", "12n"), (*b"BG", "4a6n8c"), (*b"BH", "4a14c"), (*b"BI", "23n"),
    (*b"BR", "23n1a1c"), (*b"BY", "4c4n16c"), (*b"CH", "5n12c"), (*b"CR", "18n"),
    (*b"CY", "8n16c"), (*b"CZ", "20n"), (*b"DE", "18n"), (*b"DJ", "23n"), (*b"DK", "14n"),
    (*b"DO", "4c20n"), (*b"EE", "16n"), (*b"EG", "25n"), (*b"ES", "20n"), (*b"FI", "14n"),
    (*b"FK", "2a12n"), (*b"FO", "14n"), (*b"FR", "10n11c2n"), (*b"GB", "4a14n"), (*b"GE", "2a16n"),
    (*b"GI", "4a15c"), (*b"GL", "14n"), (*b"GR", "7n16c"), (*b"GT", "24c"), (*b"HN", "4a20n"),
    (*b"HR", "17n"), (*b"HU", "24n"), (*b"IE", "4a14n"), (*b"IL", "19n"), (*b"IQ", "4a15n"),
    (*b"IS", "22n"), (*b"IT", "1a10n12c"), (*b"JO", "4a4n18c"), (*b"KW", "4a22c"),
    (*b"KZ", "3n13c"), (*b"LB", "4n20c"), (*b"LC", "4a24c"), (*b"LI", "5n12c"), (*b"LT", "16n"),
    (*b"LU", "3n13c"), (*b"LV", "4a13c"), (*b"LY", "21n"), (*b"MC", "10n11c2n"), (*b"MD", "20c"),
    (*b"ME", "18n"), (*b"MK", "3n10c2n"), (*b"MN", "16n"), (*b"MR", "23n"), (*b"MT", "4a5n18c"),
    (*b"MU", "4a19n3a"), (*b"NI", "4a20n"), (*b"NL", "4a10n"), (*b"NO", "11n"), (*b"OM", "3n16c"),
    (*b"PK", "4a16c"), (*b"PL", "24n"), (*b"PS", "4a21c"), (*b"PT", "21n"), (*b"QA", "4a21c"),
    (*b"RO", "4a16c"), (*b"RS", "18n"), (*b"RU", "14n15c"), (*b"SA", "2n18c"), (*b"SC", "4a20n3a"),
    (*b"SD", "14n"), (*b"SE", "20n"), (*b"SI", "15n"), (*b"SK", "20n"), (*b"SM", "1a10n12c"),
    (*b"SO", "19n"), (*b"ST", "21n"), (*b"SV", "4a20n"), (*b"TL", "19n"), (*b"TN", "20n"),
    (*b"TR", "6n16c"), (*b"UA", "6n19c"), (*b"VA", "18n"), (*b"VG", "4a16n"), (*b"XK", "16n"),
    (*b"YE", "4a4n18c"),
];

/// A country's BBAN format: length and, per position, a class (2 bits: 0 digit, 1 letter,
/// 2 either). Length 0: country not in the registry.
#[derive(Clone, Copy)]
struct Bban {
    len: u8,
    classes: u64,
}

/// [`REGISTRY`] indexed by country (`(first - 'A') * 26 + (second - 'A')`), built at compile
/// time.
const BY_COUNTRY: [Bban; 26 * 26] = {
    let mut table = [Bban { len: 0, classes: 0 }; 26 * 26];
    let mut i = 0;
    while i < REGISTRY.len() {
        let (cc, format) = REGISTRY[i];
        table[country_index(cc[0], cc[1])] = parse_bban(format.as_bytes());
        i += 1;
    }
    table
};

/// Index of a country code of two uppercase ASCII letters in [`BY_COUNTRY`].
const fn country_index(a: u8, b: u8) -> usize {
    (a - b'A') as usize * 26 + (b - b'A') as usize
}

/// Parses a [`REGISTRY`] format such as `8n12c`.
const fn parse_bban(format: &[u8]) -> Bban {
    let (mut len, mut classes, mut count, mut i) = (0u32, 0u64, 0u32, 0);
    while i < format.len() {
        let b = format[i];
        if b.is_ascii_digit() {
            count = count * 10 + (b - b'0') as u32;
        } else {
            let class = match b {
                b'n' => 0,
                b'a' => 1,
                b'c' => 2,
                _ => panic!("BBAN class is n, a or c"),
            };
            let mut k = 0;
            while k < count {
                classes |= class << (2 * (len + k));
                k += 1;
            }
            len += count;
            count = 0;
        }
        i += 1;
    }
    assert!(len >= 11 && len <= 30, "an IBAN has 15..=34 characters");
    Bban { len: len as u8, classes }
}

/// Whether a shaped IBAN has its country's registry length and BBAN character classes.
fn fits_registry(v: &[u8]) -> bool {
    let bban = BY_COUNTRY[country_index(v[0], v[1])];
    usize::from(bban.len) + 4 == v.len()
        && v[4..].iter().enumerate().all(|(i, &b)| match (bban.classes >> (2 * i)) & 3 {
            0 => b.is_ascii_digit(),
            1 => b.is_ascii_uppercase(),
            _ => true,
        })
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
    fn print_form_prefix_and_group_separators_are_removed() {
        let want = (Outcome::Valid, "DE89370400440532013000".to_string());
        for v in [
            "IBAN DE89 3704 0044 0532 0130 00",
            "IBAN: DE89 3704 0044 0532 0130 00",
            "iban:de89370400440532013000",
            "IBAN IBAN: DE89370400440532013000",
            "DE89-3704-0044-0532-0130-00",
            "DE89.3704.0044.0532.0130.00",
            "DE89\u{a0}3704\u{2009}0044\u{3000}0532 0130 00",
            "\u{ff24}\u{ff25}\u{ff18}\u{ff19}\u{2011}3704 0044 0532 0130 00",
        ] {
            assert_eq!(norm(v), want, "{v}");
        }
        assert_eq!(norm("NO93.8601.1117.947"), (Outcome::Valid, "NO9386011117947".into()));
        assert_eq!(norm("IBAN").0, Outcome::Empty);
        assert_eq!(norm("IBAN::DE89370400440532013000").0, Outcome::Invalid(Flaw::Malformed));
    }

    /// `iban` with new check digits for its BBAN (the checksum then passes).
    fn with_check_digits(iban: &str) -> String {
        let probe = format!("{}00{}", &iban[..2], &iban[4..]);
        let check = 98 - mod97(probe.as_bytes());
        format!("{}{check:02}{}", &iban[..2], &iban[4..])
    }

    #[test]
    fn registry_length_and_format_are_checked_even_when_the_checksum_passes() {
        for v in [
            "DE8937040044053201300",   // 21 characters, DE has 22
            "DE893704004405320130001", // 23
            "DE89370400440532013X00",  // a letter where DE wants digits
            "NL91ABN00417164300",      // a digit where NL wants letters
            "QQ89370400440532013000",  // no such country
        ] {
            let v = with_check_digits(v);
            assert_eq!(mod97(v.as_bytes()), 1, "{v}");
            assert_eq!(norm(&v).0, Outcome::Invalid(Flaw::Malformed), "{v}");
        }
    }

    #[test]
    fn registry_formats_add_up_to_their_lengths() {
        assert_eq!(REGISTRY.len(), 89);
        for (cc, len) in [(*b"DE", 18), (*b"NO", 11), (*b"RU", 29), (*b"LC", 28), (*b"BR", 25)] {
            assert_eq!(usize::from(BY_COUNTRY[country_index(cc[0], cc[1])].len), len);
        }
        let countries: std::collections::BTreeSet<_> = REGISTRY.iter().map(|(cc, _)| cc).collect();
        assert_eq!(countries.len(), REGISTRY.len(), "no country twice");
    }

    #[test]
    fn agrees_with_python_stdnum_vectors() {
        let rows = testkit::check_vectors(normalize, include_str!("vectors/iban.jsonl"));
        assert!(rows >= 4 * REGISTRY.len(), "{rows}");
    }

    #[test]
    fn wrong_shapes_are_malformed() {
        for v in [
            "DE8937040044",
            "1E89370400440532013000",
            "DEX9370400440532013000",
            "DE89/3704/0044/0532/0130/00",
            "DE89370400440532013000123456789012345",
            "DE8937040044053201300Ä",
        ] {
            assert_eq!(norm(v).0, Outcome::Invalid(Flaw::Malformed), "{v}");
        }
        assert_eq!(norm(" \t").0, Outcome::Empty);
    }

    proptest! {
        #[test]
        fn normalisation_is_idempotent(
            s in prop_oneof![any::<String>(), "((?i)iban:? ?){0,2}[ a-zA-Z0-9ä:.\u{a0}\u{ff24}-]{0,40}"]
        ) {
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
