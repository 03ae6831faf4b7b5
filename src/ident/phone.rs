//! `phone`: telephone numbers in E.164 form, default region DE.
//!
//! Hand-written rather than the `phonenumber` crate (a libphonenumber port): that crate parses
//! with regular expressions and allocates per number, far too slow for a 10M-row dump, and the
//! German-focused rules below cover the spellings that occur in DE customer data:
//!
//! 1. white space and `/ - . ( )` are removed; `(0)` directly after a country code is dropped
//!    (`+49 (0)171 …`);
//! 2. a leading `00` becomes `+`; a leading single `0` (national trunk prefix) becomes `+49`;
//!    `+CC…` is kept as is; zeros right after `+49` are dropped (`+49 0171 …` is a common slip:
//!    no German number starts with 0 after the country code);
//! 3. valid: `+` followed by 8–15 digits, the first not 0.
//!
//! `0171 1234567`, `+49 (0)171/123 45 67`, `0049 171 1234567` → `+491711234567`.
//!
//! A number with neither `+`, `00` nor `0` in front (`491711234567`, `1711234567`, as spreadsheets
//! leave them) is Malformed: guessing the country would merge different numbers. Letters or other
//! characters make the value Malformed too; `out` then holds the trimmed input so that
//! normalising the output again gives the same result.

use super::{Flaw, Outcome};

/// The German country code, prefixed to numbers written with the national trunk `0`.
const DEFAULT_CC: &[u8] = b"+49";

/// Inputs up to this many bytes are collected in a stack buffer; longer ones (never a valid
/// number in practice) take [`reference`].
const FAST_LEN: usize = 40;

/// Bytes kept free in front of the collected digits for the `+49` that replaces a trunk `0`.
const HEADROOM: usize = 2;

/// Normalises a phone number into `out` (E.164) and checks its length.
pub fn normalize(input: &str, out: &mut Vec<u8>) -> Outcome {
    if input.len() > FAST_LEN {
        return reference(input, out);
    }
    out.clear();
    let mut buf = [0u8; HEADROOM + FAST_LEN];
    let Some(end) = collect_digits(input, &mut buf) else {
        out.extend_from_slice(input.trim().as_bytes());
        return Outcome::Invalid(Flaw::Malformed);
    };
    let start = write_prefix(&mut buf, end);
    out.extend_from_slice(&buf[start.unwrap_or(HEADROOM)..end]);
    match start {
        None if end == HEADROOM => Outcome::Empty,
        Some(_) if is_e164(out) => Outcome::Valid,
        _ => Outcome::Invalid(Flaw::Malformed),
    }
}

/// Step 2 on the collected `buf[HEADROOM..end]`: rewrites the prefix in place and returns
/// where the number now starts; None when there is no `+`, `00` or `0` in front.
fn write_prefix(buf: &mut [u8; HEADROOM + FAST_LEN], end: usize) -> Option<usize> {
    let mut start = match buf[HEADROOM..end] {
        [b'0', b'0', ..] => HEADROOM + 1,
        [b'0', ..] => 0,
        [b'+', ..] => HEADROOM,
        _ => return None,
    };
    buf[start] = b'+';
    if start == 0 {
        buf[1..HEADROOM + 1].copy_from_slice(&DEFAULT_CC[1..]);
    }
    let after = start + DEFAULT_CC.len();
    if buf[start..end].starts_with(DEFAULT_CC) {
        let zeros = buf[after..end].iter().take_while(|&&b| b == b'0').count();
        if zeros > 0 {
            // Move the country code right over the zeros rather than the number left.
            start += zeros;
            buf[start..start + DEFAULT_CC.len()].copy_from_slice(DEFAULT_CC);
        }
    }
    Some(start)
}

/// Writes the digits of `input` (and a leading `+`) to `buf[HEADROOM..]`, skipping separators
/// and a `(0)` that follows a country code. Returns the end of what was written; None when
/// another character occurs.
fn collect_digits(input: &str, buf: &mut [u8; HEADROOM + FAST_LEN]) -> Option<usize> {
    let bytes = input.as_bytes();
    let (mut n, mut i) = (HEADROOM, 0);
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'0'..=b'9' => {
                buf[n] = b;
                n += 1;
            }
            b'+' if n == HEADROOM => {
                buf[n] = b;
                n += 1;
            }
            b'(' if bytes[i..].starts_with(b"(0)") && has_country_code(&buf[HEADROOM..n]) => i += 2,
            b' ' | b'\t' | b'/' | b'-' | b'.' | b'(' | b')' => {}
            _ if b.is_ascii() => return None,
            _ => {
                let c = input[i..].chars().next().expect("i is a char boundary");
                if !c.is_whitespace() {
                    return None;
                }
                i += c.len_utf8() - 1;
            }
        }
        i += 1;
    }
    Some(n)
}

/// The definition of the normalised form, as first written (per-byte pushes, `remove`,
/// `splice`, `drain`); [`normalize`] gives the same result, and calls this for long inputs.
fn reference(input: &str, out: &mut Vec<u8>) -> Outcome {
    out.clear();
    if !collect_digits_reference(input, out) {
        out.clear();
        out.extend_from_slice(input.trim().as_bytes());
        return Outcome::Invalid(Flaw::Malformed);
    }
    if out.is_empty() {
        return Outcome::Empty;
    }
    if out.starts_with(b"00") {
        out.remove(0);
        out[0] = b'+';
    } else if out[0] == b'0' {
        out[0] = DEFAULT_CC[2];
        out.splice(0..0, DEFAULT_CC[..2].iter().copied());
    } else if out[0] != b'+' {
        return Outcome::Invalid(Flaw::Malformed);
    }
    let zeros = out[DEFAULT_CC.len().min(out.len())..].iter().take_while(|&&b| b == b'0').count();
    if out.starts_with(DEFAULT_CC) && zeros > 0 {
        out.drain(DEFAULT_CC.len()..DEFAULT_CC.len() + zeros);
    }
    if is_e164(out) {
        Outcome::Valid
    } else {
        Outcome::Invalid(Flaw::Malformed)
    }
}

/// [`collect_digits`] for any length: appends the digits of `input` (and a leading `+`) to `out`, skipping separators and a `(0)`
/// that follows a country code. False when another character occurs.
fn collect_digits_reference(input: &str, out: &mut Vec<u8>) -> bool {
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'0'..=b'9' => out.push(b),
            b'+' if out.is_empty() => out.push(b),
            b'(' if bytes[i..].starts_with(b"(0)") && has_country_code(out) => i += 2,
            b' ' | b'\t' | b'/' | b'-' | b'.' | b'(' | b')' => {}
            _ if b.is_ascii() => return false,
            _ => {
                let c = input[i..].chars().next().expect("i is a char boundary");
                if !c.is_whitespace() {
                    return false;
                }
                i += c.len_utf8() - 1;
            }
        }
        i += 1;
    }
    true
}

/// True once `+` and a digit, or `00` and a digit, have been collected.
fn has_country_code(v: &[u8]) -> bool {
    (v.len() >= 2 && v[0] == b'+') || (v.len() >= 3 && v.starts_with(b"00"))
}

/// `+` followed by 8–15 digits, the first not 0 (ITU-T E.164).
fn is_e164(v: &[u8]) -> bool {
    v.len() >= 9
        && v.len() <= 16
        && v[0] == b'+'
        && v[1] != b'0'
        && v[1..].iter().all(u8::is_ascii_digit)
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
    fn german_spellings_give_the_same_e164_number() {
        let want = (Outcome::Valid, "+491711234567".to_string());
        for v in [
            "0171 1234567",
            "+49 (0)171/123 45 67",
            "0049 171 1234567",
            "+49 171-1234567",
            "(0171) 1234567",
            "+491711234567",
            "0171.123.45.67",
            "+49 0171 1234567",
            "0049 (0) 171 1234567",
            "\u{a0}0171\u{a0}1234567 ",
        ] {
            assert_eq!(norm(v), want, "{v}");
        }
    }

    #[test]
    fn other_country_codes_are_kept() {
        assert_eq!(norm("+43 (0)1 5321234"), (Outcome::Valid, "+4315321234".into()));
        assert_eq!(norm("0033 1 23 45 67 89"), (Outcome::Valid, "+33123456789".into()));
        assert_eq!(norm("+39 06 1234 5678"), (Outcome::Valid, "+390612345678".into()));
    }

    #[test]
    fn letters_and_garbage_are_malformed() {
        for v in ["0171 CALL ME", "n/a", "0171 123456 ext 12", "+49 171 * 1234567", "+49+171"] {
            assert_eq!(norm(v).0, Outcome::Invalid(Flaw::Malformed), "{v}");
        }
    }

    #[test]
    fn length_and_leading_zero_are_checked() {
        assert_eq!(norm("0171 12").0, Outcome::Invalid(Flaw::Malformed));
        assert_eq!(norm("+1234567").0, Outcome::Invalid(Flaw::Malformed));
        assert_eq!(norm("+12345678").0, Outcome::Valid);
        assert_eq!(norm("+123456789012345").0, Outcome::Valid);
        assert_eq!(norm("+1234567890123456").0, Outcome::Invalid(Flaw::Malformed));
        assert_eq!(norm("000171 1234567").0, Outcome::Invalid(Flaw::Malformed));
    }

    #[test]
    fn numbers_without_any_prefix_are_not_guessed() {
        assert_eq!(norm("491711234567").0, Outcome::Invalid(Flaw::Malformed));
        assert_eq!(norm("1711234567").0, Outcome::Invalid(Flaw::Malformed));
    }

    #[test]
    fn blank_or_only_separators_is_empty() {
        for v in ["", "  ", " - / ", "()"] {
            assert_eq!(norm(v), (Outcome::Empty, String::new()), "{v:?}");
        }
    }

    fn assert_idempotent(s: &str) -> Result<(), TestCaseError> {
        testkit::assert_idempotent(normalize, s)
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
        fn normalisation_equals_reference_on_any_string(s in any::<String>()) {
            assert_same_as_reference(&s)?;
        }

        #[test]
        fn normalisation_equals_reference_on_number_noise(
            s in "[ \u{a0}]?([+]|00|0)?[+0 ]{0,3}(49|43)?(\\(0\\))?[0-9 ()/.x+\u{2009}-]{0,22}[ ]?"
        ) {
            assert_same_as_reference(&s)?;
        }
    }

    proptest! {
        #[test]
        fn normalisation_is_idempotent_on_any_string(s in any::<String>()) {
            assert_idempotent(&s)?;
        }

        #[test]
        fn normalisation_is_idempotent_on_number_noise(s in "[+]?[0 ]{0,3}(\\(0\\))?[0-9 ()/.x+-]{0,20}") {
            assert_idempotent(&s)?;
        }

        #[test]
        fn separators_do_not_change_the_value(digits in "1[5-7][0-9]{8,9}", seps in "[ /.-]{0,1}") {
            let clean = format!("0{digits}");
            let (head, tail) = digits.split_at(3);
            let noisy = format!(" +49 (0){head}{seps}{tail} ");
            prop_assert_eq!(norm(&clean), norm(&noisy));
        }
    }
}
