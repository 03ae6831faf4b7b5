//! `phone`: telephone numbers in E.164 form, default region DE.
//!
//! Hand-written rather than the `phonenumber` crate (a libphonenumber port): that crate parses
//! with regular expressions and allocates per number, far too slow for a 10M-row dump, and the
//! German-focused rules below cover the spellings that occur in DE customer data. Its Python
//! sibling `phonenumbers` (libphonenumber 9.0.43) is the reference the test vectors in
//! `vectors/phone.jsonl` were made with (`vectors/make.py`):
//!
//! 1. a leading RFC 3966 `tel:` scheme (any case) is removed (`tel:+49-30-123456`); URI
//!    parameters (`;ext=12`, `;phone-context=…`) leave the value Malformed;
//! 2. white space (any Unicode space) and `/ - . ( )` are removed, typographic dashes
//!    (U+2010–U+2015, U+2212) count as `-`, and full-width digits, `＋` and brackets are read
//!    as their ASCII forms (NFKC; see `compat.rs`);
//! 3. `(0)` directly after a country code is the national trunk prefix and is dropped
//!    (`+49 (0)171 …`), except after the codes whose numbers keep their 0 (Italy 39, San
//!    Marino 378, 225, 226, 229, 241, 242, 992; `keeps_leading_zero`): `+39 (0)2 …` →
//!    `+3902…`, as `+39 02 …`;
//! 4. a leading `00` becomes `+`; a leading single `0` (national trunk prefix) becomes `+49`;
//!    `+CC…` is kept as is; zeros right after `+49` are dropped (`+49 0171 …` is a common slip:
//!    no German number starts with 0 after the country code);
//! 5. valid: `+` followed by 8–15 digits, the first not 0.
//!
//! `0171 1234567`, `+49 (0)171/123 45 67`, `0049 171 1234567`, `tel:+49-171-1234567` →
//! `+491711234567`.
//!
//! A number with neither `+`, `00` nor `0` in front (`491711234567`, `1711234567`, as spreadsheets
//! leave them) is Malformed: guessing the country would merge different numbers. Letters or other
//! characters make the value Malformed too; `out` then holds the trimmed input (without `tel:`)
//! so that normalising the output again gives the same result.

// Reviewed (#11): the fast path takes inputs of at most FAST_LEN bytes (checked in `normalize`) and
// writes at most one byte per input byte after HEADROOM into `buf` (HEADROOM + FAST_LEN);
// `bytes[i]` under `i < len`; `out[0]`, `v[0..2]` after a non-empty/length check.
#![allow(clippy::indexing_slicing)]

use super::{compat, Flaw, Outcome};

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
    let input = strip_tel(input);
    out.clear();
    let mut buf = [0u8; HEADROOM + FAST_LEN];
    let Some(end) = collect_digits_ascii(input, &mut buf) else {
        out.extend_from_slice(input.trim().as_bytes());
        return Outcome::Invalid(Flaw::Malformed);
    };
    let start = write_prefix(&mut buf, end);
    let number = &buf[start.unwrap_or(HEADROOM)..end];
    match buf.get(start.unwrap_or(HEADROOM)..start.unwrap_or(HEADROOM) + E164_MAX) {
        // A copy of fixed length, then cut: cheaper than one of the number's length.
        Some(head) if number.len() <= E164_MAX => {
            out.extend_from_slice(head);
            out.truncate(number.len());
        }
        _ => out.extend_from_slice(number),
    }
    match start {
        None if end == HEADROOM => Outcome::Empty,
        Some(_) if is_e164_collected(out) => Outcome::Valid,
        _ => Outcome::Invalid(Flaw::Malformed),
    }
}

/// The longest E.164 number: `+` and 15 digits.
const E164_MAX: usize = 16;

/// [`is_e164`] for what [`write_prefix`] returned the start of: a `+` followed by digits
/// only ([`collect_digits_ascii`] and [`collect_digits`] keep nothing else, and a `+` only in
/// front), so the digits need no check.
fn is_e164_collected(v: &[u8]) -> bool {
    debug_assert!(v.first() == Some(&b'+') && v[1..].iter().all(u8::is_ascii_digit));
    (9..=E164_MAX).contains(&v.len()) && v[1] != b'0'
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

/// [`collect_digits`], with the ASCII bytes (the common case) read without decoding: at the
/// first non-ASCII byte it hands the whole value to [`collect_digits`].
fn collect_digits_ascii(input: &str, buf: &mut [u8; HEADROOM + FAST_LEN]) -> Option<usize> {
    let bytes = input.as_bytes();
    if let Some(end) = copy_plain(bytes, buf) {
        return Some(end);
    }
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
            b'(' if bytes[i..].starts_with(b"(0)") && is_trunk_zero(&buf[HEADROOM..n]) => i += 2,
            b' ' | b'\t' | b'/' | b'-' | b'.' | b'(' | b')' => {}
            0x80.. => return collect_digits(input, buf),
            _ => return None,
        }
        i += 1;
    }
    Some(n)
}

/// [`collect_digits_ascii`] for 8 to 16 digits with an optional `+` in front and nothing else
/// (a third of the values, `01781234567`, `+491761234567`): all kept, so they are checked and
/// copied as two overlapping words. None (`buf` untouched) for anything else.
fn copy_plain(bytes: &[u8], buf: &mut [u8; HEADROOM + FAST_LEN]) -> Option<usize> {
    let n = bytes.len();
    if !(8..=16).contains(&n) {
        return None;
    }
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    let (head, tail) = (word(&bytes[..8]), word(&bytes[n - 8..]));
    // A leading `+` checked as if it were a digit (`0`); it is copied as written.
    let plus = u64::from(bytes[0] == b'+') * u64::from(b'+' ^ b'0');
    // For 8 bytes the tail is the head.
    let tail_plus = if n == 8 { plus } else { 0 };
    if !(all_digits(head ^ plus) && all_digits(tail ^ tail_plus)) {
        return None;
    }
    buf[HEADROOM..HEADROOM + 8].copy_from_slice(&head.to_le_bytes());
    buf[HEADROOM + n - 8..HEADROOM + n].copy_from_slice(&tail.to_le_bytes());
    Some(HEADROOM + n)
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

/// Writes the digits of `input` (and a leading `+`) to `buf[HEADROOM..]`, skipping separators
/// and a `(0)` that follows a country code. Returns the end of what was written; None when
/// another character occurs.
#[cold]
#[inline(never)]
fn collect_digits(input: &str, buf: &mut [u8; HEADROOM + FAST_LEN]) -> Option<usize> {
    let bytes = input.as_bytes();
    let (mut n, mut i) = (HEADROOM, 0);
    while i < bytes.len() {
        let mut b = bytes[i];
        if !b.is_ascii() {
            let c = input[i..].chars().next().expect("i is a char boundary");
            i += c.len_utf8() - 1;
            b = compat::ascii_byte(c)?;
        }
        match b {
            b'0'..=b'9' => {
                buf[n] = b;
                n += 1;
            }
            b'+' if n == HEADROOM => {
                buf[n] = b;
                n += 1;
            }
            b'(' if bytes[i..].starts_with(b"(0)") && is_trunk_zero(&buf[HEADROOM..n]) => i += 2,
            b' ' | b'\t' | b'/' | b'-' | b'.' | b'(' | b')' => {}
            _ => return None,
        }
        i += 1;
    }
    Some(n)
}

/// The definition of the normalised form, as first written (per-byte pushes, `remove`,
/// `splice`, `drain`); [`normalize`] gives the same result, and calls this for long inputs.
fn reference(input: &str, out: &mut Vec<u8>) -> Outcome {
    out.clear();
    let input = strip_tel(input);
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
        let mut b = bytes[i];
        if !b.is_ascii() {
            let c = input[i..].chars().next().expect("i is a char boundary");
            i += c.len_utf8() - 1;
            match compat::ascii_byte(c) {
                Some(ascii) => b = ascii,
                None => return false,
            }
        }
        match b {
            b'0'..=b'9' => out.push(b),
            b'+' if out.is_empty() => out.push(b),
            b'(' if bytes[i..].starts_with(b"(0)") && is_trunk_zero(out) => i += 2,
            b' ' | b'\t' | b'/' | b'-' | b'.' | b'(' | b')' => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

/// Whether a `(0)` after the collected `v` is a trunk prefix to drop: true once `+` or `00`
/// and a country code have been collected, unless its numbers keep a leading 0 ([`keeps_leading_zero`]).
fn is_trunk_zero(v: &[u8]) -> bool {
    let cc = match v {
        [b'+', cc @ ..] => cc,
        [b'0', b'0', cc @ ..] => cc,
        _ => return false,
    };
    !cc.is_empty() && !keeps_leading_zero(cc)
}

/// Country codes whose national numbers may start with 0, so that the 0 stays after the
/// country code (`+39 02 …`, Milan): a `(0)` written after them is a digit. From
/// libphonenumber's metadata (9.0.43: fixed-line or mobile patterns that admit a leading 0, or
/// example numbers flagged `italian_leading_zero`, in regions without a national prefix):
/// Italy and the Vatican (39), San Marino (378), Côte d'Ivoire (225), Burkina Faso (226), Benin
/// (229), Gabon (241), Congo (242), Tajikistan (992). Everywhere else a `(0)` is the national
/// trunk prefix written in parentheses.
fn keeps_leading_zero(cc: &[u8]) -> bool {
    matches!(cc, b"39" | b"225" | b"226" | b"229" | b"241" | b"242" | b"378" | b"992")
}

/// Leading RFC 3966 `tel:` schemes (any case, after white space) removed, until none is left
/// (so that the result is a fixed point): `tel:+49-30-123456`. Parameters (`;ext=`,
/// `;phone-context=`) are not read: they leave the value malformed.
#[inline]
fn strip_tel(input: &str) -> &str {
    // Most values start with `+`, `0` or `(`: no scheme, no white space to look past.
    if let Some(&b) = input.as_bytes().first() {
        if b.is_ascii() && !matches!(b, b't' | b'T') && !b.is_ascii_whitespace() {
            return input;
        }
    }
    strip_tel_general(input)
}

/// [`strip_tel`] for a value that may start with white space or a scheme.
#[cold]
#[inline(never)]
fn strip_tel_general(input: &str) -> &str {
    let mut s = input;
    loop {
        let t = s.trim_start();
        match t.as_bytes() {
            [b't' | b'T', b'e' | b'E', b'l' | b'L', b':', ..] => s = &t[4..],
            _ => return s,
        }
    }
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
    fn rfc3966_tel_uris_are_read() {
        assert_eq!(norm("tel:+49-30-123456"), (Outcome::Valid, "+4930123456".into()));
        assert_eq!(norm(" TEL:+49.171.1234567"), (Outcome::Valid, "+491711234567".into()));
        assert_eq!(norm("tel:tel:+49-30-123456"), (Outcome::Valid, "+4930123456".into()));
        assert_eq!(norm("tel:+49-30-123456;ext=12").0, Outcome::Invalid(Flaw::Malformed));
        assert_eq!(norm("tel:").0, Outcome::Empty);
    }

    #[test]
    fn trunk_zero_in_brackets_is_kept_where_numbers_start_with_zero() {
        let milan = (Outcome::Valid, "+390212345678".to_string());
        assert_eq!(norm("+39 (0)2 1234 5678"), milan);
        assert_eq!(norm("0039 (0)2 1234 5678"), milan);
        assert_eq!(norm("+39 02 1234 5678"), milan);
        assert_eq!(norm("+378 (0)549 886377"), (Outcome::Valid, "+3780549886377".into()));
        // A trunk prefix elsewhere, also for codes that share a first digit with a kept one.
        assert_eq!(norm("+3 (0)9 1234 5678"), (Outcome::Valid, "+3912345678".into()));
        assert_eq!(norm("+44 (0)20 7946 0958"), (Outcome::Valid, "+442079460958".into()));
        assert_eq!(norm("+22 (0)5 0123 4567"), (Outcome::Valid, "+22501234567".into()));
    }

    #[test]
    fn full_width_digits_and_typographic_dashes_are_read() {
        let want = (Outcome::Valid, "+491711234567".to_string());
        for v in [
            "\u{ff10}\u{ff11}\u{ff17}\u{ff11} \u{ff11}\u{ff12}\u{ff13}\u{ff14}\u{ff15}\u{ff16}\u{ff17}",
            "\u{ff0b}49 171 1234567",
            "0171\u{2011}1234567",
            "0171\u{2013}123\u{2212}4567",
            "+49\u{202f}171\u{3000}1234567",
        ] {
            assert_eq!(norm(v), want, "{v}");
        }
        assert_eq!(norm("0171 123456\u{00bd}").0, Outcome::Invalid(Flaw::Malformed));
    }

    #[test]
    fn agrees_with_libphonenumber_vectors() {
        let rows = testkit::check_vectors(normalize, include_str!("vectors/phone.jsonl"));
        assert!(rows >= 30, "{rows}");
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
        fn plain_copy_equals_the_byte_loop(
            s in "[+0-9]{0,1}[0-9/:+ ]{0,1}[0-9]{5,15}[0-9/: ]{0,1}"
        ) {
            let mut fast = [7u8; HEADROOM + FAST_LEN];
            if let Some(end) = copy_plain(s.as_bytes(), &mut fast) {
                let mut slow = [7u8; HEADROOM + FAST_LEN];
                prop_assert_eq!(collect_digits(&s, &mut slow), Some(end), "{:?}", s);
                prop_assert_eq!(&fast[..end], &slow[..end], "{:?}", s);
            } else {
                prop_assert!(fast.iter().all(|&b| b == 7), "{:?} wrote", s);
                prop_assert!(
                    !(8..=16).contains(&s.len())
                        || !s.bytes().enumerate().all(|(i, b)| b.is_ascii_digit() || i == 0 && b == b'+'),
                    "{:?} refused",
                    s
                );
            }
        }

        #[test]
        fn normalisation_equals_reference_at_the_length_limits(
            s in "(\\+|00|0)?(49)?0{0,2}[0-9]{5,15}", sep in "[ /-]{0,1}"
        ) {
            assert_same_as_reference(&s)?;
            let (head, tail) = s.split_at(s.len() / 2);
            assert_same_as_reference(&format!("{head}{sep}{tail}"))?;
        }

        #[test]
        fn normalisation_equals_reference_on_number_noise(
            s in "[ \u{a0}]?((?i)tel:)?[ \u{a0}]?([+\u{ff0b}]|00|0)?[+0 ]{0,3}(49|43|39|378|22)?(\\(0\\))?[0-9 ()/.x+\u{2009}\u{2011}\u{ff10}-\u{ff19}-]{0,22}[ ]?"
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
        fn normalisation_is_idempotent_on_number_noise(
            s in "((?i)tel:){0,2}[+]?[0 ]{0,3}(39|49)?(\\(0\\))?[0-9 ()/.x+;=\u{ff10}-]{0,20}"
        ) {
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
