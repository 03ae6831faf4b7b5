//! Birth dates, normalised to ISO `yyyy-mm-dd` (part of `name_dob`).
//!
//! Accepted spellings (white space around them is ignored):
//! `yyyy-mm-dd` (optionally followed by a time, `1961-03-15T00:00:00` or `1961-03-15 00:00:00`),
//! `dd.mm.yyyy`, `d.m.yyyy`, `dd/mm/yyyy`, `d/m/yyyy` and `yyyymmdd`.
//!
//! - A two-digit year (`15.03.61`) is [`Flaw::AmbiguousYear`]: counted, never guessed.
//! - A date that does not exist (`31.02.1961`), a year outside 1900..=this year, or a date after
//!   today (a birth date cannot lie in the future) is [`Flaw::ImplausibleDate`].
//! - Anything else is [`Flaw::Malformed`].
//!
//! On a well-formed four-digit-year date `out` holds the ISO form even when it is implausible;
//! otherwise it holds the trimmed input, so that normalising the output again gives the same
//! result.

// Reviewed (#11): each index follows a length check on the same slice (`len() == 10`, `> 10`,
// `second + 5`); tables are 100 entries indexed `% 100`.
#![allow(clippy::indexing_slicing)]

use std::sync::OnceLock;

use super::{Flaw, Outcome};

/// A calendar date as parsed, not yet checked for existence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Ymd {
    year: u16,
    month: u8,
    day: u8,
}

/// What the spelling of a date gave.
enum Parsed {
    /// A four-digit year.
    Full(Ymd),
    /// Day and month with a two-digit year.
    TwoDigitYear { month: u8, day: u8 },
}

/// The earliest plausible birth year.
const MIN_YEAR: u16 = 1900;

/// Normalises a birth date into `out` (`yyyy-mm-dd`) and checks it is plausible.
pub fn normalize(input: &str, out: &mut Vec<u8>) -> Outcome {
    out.clear();
    // A value of the dotted shape has nothing to trim.
    if let Some(outcome) = dotted(input.as_bytes(), out) {
        return outcome;
    }
    normalize_other(input, out)
}

/// [`normalize`] for values not of the `dd.mm.yyyy` shape, with `out` cleared.
#[inline(never)]
fn normalize_other(input: &str, out: &mut Vec<u8>) -> Outcome {
    let s = trim(input);
    if s.is_empty() {
        return Outcome::Empty;
    }
    if let Some(outcome) = dotted(s.as_bytes(), out) {
        return outcome;
    }
    let parsed = match parse_common(s.as_bytes()) {
        Some(d) => Some(Parsed::Full(d)),
        None => parse(s.as_bytes()),
    };
    match parsed {
        Some(Parsed::Full(d)) => {
            write_iso(d, out);
            if is_plausible(d, today()) {
                Outcome::Valid
            } else {
                Outcome::Invalid(Flaw::ImplausibleDate)
            }
        }
        Some(Parsed::TwoDigitYear { month, day }) => {
            out.extend_from_slice(s.as_bytes());
            // Whether 29.02. exists depends on the unknown century: allow it.
            let possible =
                (1..=12).contains(&month) && day >= 1 && day <= days_in_month(2000, month);
            Outcome::Invalid(if possible { Flaw::AmbiguousYear } else { Flaw::ImplausibleDate })
        }
        None => {
            out.extend_from_slice(s.as_bytes());
            Outcome::Invalid(Flaw::Malformed)
        }
    }
}

/// The most common spelling, `dd.mm.yyyy` (or `dd/mm/yyyy`) with all eight digits: its ISO
/// form is a permutation of its bytes, written without parsing the groups first. Same result
/// as [`parse_common`] and [`write_iso`]; None (nothing written) for any other bytes.
#[inline]
fn dotted(s: &[u8], out: &mut Vec<u8>) -> Option<Outcome> {
    let s: &[u8; 10] = s.try_into().ok()?;
    let sep = s[2];
    if !matches!(sep, b'.' | b'/') || s[5] != sep {
        return None;
    }
    // `d1 d2 . m1 m2 . y1 y2` and `y3 y4`, one byte lane each (the first byte lowest), with
    // `0` in the separator lanes and above `y4`, so that all lanes must be digits.
    let head = u64::from_le_bytes(s[..8].try_into().expect("8 bytes"));
    let head = head & !SEPARATOR_LANES | u64::from_le_bytes(*b"00000000") & SEPARATOR_LANES;
    let tail =
        u64::from(u16::from_le_bytes([s[8], s[9]])) | u64::from_le_bytes(*b"..000000") & !0xffff;
    if !(all_digits(head) && all_digits(tail)) {
        return None;
    }
    // Digit values (no lane borrows: all are digits), then ten times each lane plus the next
    // one (at most 99: no carry): the day, month and century lanes hold their two-digit values.
    let pairs = |w: u64| {
        let v = w - ONES * u64::from(b'0');
        (v * 10 + (v >> 8)).to_le_bytes()
    };
    let ([day, _, _, month, _, _, century, _], [year, ..]) = (pairs(head), pairs(tail));
    let year = u32::from(century) * 100 + u32::from(year);
    let date = year << 16 | u32::from(month) << 8 | u32::from(day);
    out.extend_from_slice(&[s[6], s[7], s[8], s[9], b'-', s[3], s[4], b'-', s[0], s[1]]);
    Some(if is_plausible_packed(date) {
        Outcome::Valid
    } else {
        Outcome::Invalid(Flaw::ImplausibleDate)
    })
}

/// The byte lanes of the two separators of `dd.mm.yyyy` in its first 8 bytes.
const SEPARATOR_LANES: u64 = 0xff << 16 | 0xff << 40;
/// `0x01` in every byte lane of a word.
const ONES: u64 = u64::from_ne_bytes([1; 8]);
/// The high bit of every byte lane.
const HIGH: u64 = ONES << 7;

/// The high bit of each byte lane of `x` whose byte is at least `n`, for 8 ASCII bytes (each
/// < 0x80) and `n <= 0x80`: `byte + (0x80 - n)` reaches 0x80 exactly then and never carries
/// into the next lane. The standard SWAR comparison (Warren, *Hacker's Delight*, 2nd ed.,
/// §6-1; `email.rs` has the same).
const fn lanes_at_least(x: u64, n: u8) -> u64 {
    x.wrapping_add(ONES * (0x80 - n as u64)) & HIGH
}

/// Whether all 8 byte lanes of `w` are ASCII digits.
fn all_digits(w: u64) -> bool {
    w & HIGH == 0 && lanes_at_least(w, b'0') == HIGH && lanes_at_least(w, b'9' + 1) == 0
}

/// [`is_plausible`] against [`today`] for a date packed as `year << 16 | month << 8 | day`
/// (month and day below 256, so the packed order is the date order).
#[inline]
fn is_plausible_packed(date: u32) -> bool {
    static TODAY: OnceLock<u32> = OnceLock::new();
    let today = *TODAY.get_or_init(|| {
        let t = today();
        u32::from(t.year) << 16 | u32::from(t.month) << 8 | u32::from(t.day)
    });
    let (year, month, day) = ((date >> 16) as u16, (date >> 8) as u8, date as u8);
    year >= MIN_YEAR
        && (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && date <= today
}

/// `str::trim`, returning `s` itself when both ends are ASCII and not white space (the usual
/// case) without decoding characters.
fn trim(s: &str) -> &str {
    let kept =
        |b: Option<&u8>| b.is_some_and(|&b| b.is_ascii() && !matches!(b, b' ' | b'\t'..=b'\r'));
    if kept(s.as_bytes().first()) && kept(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// The year of a date normalised by [`normalize`] (`yyyy-mm-dd`), or None for other bytes.
pub fn birth_year(normalized: &[u8]) -> Option<u16> {
    if normalized.len() != 10 || normalized[4] != b'-' || normalized[7] != b'-' {
        return None;
    }
    number(&normalized[..4]).map(|y| y as u16)
}

/// The usual spellings `dd.mm.yyyy` (day and month also with one digit, `/` for `.`) and
/// `yyyy-mm-dd`, read directly; None for anything else, which [`parse`] then decides. Where
/// this returns a date, [`parse`] returns the same one.
fn parse_common(s: &[u8]) -> Option<Ymd> {
    if s.len() == 10 && s[4] == b'-' && s[7] == b'-' {
        return ymd(&s[..4], &s[5..7], &s[8..]);
    }
    let first = if s.get(1).is_some_and(u8::is_ascii_digit) { 2 } else { 1 };
    let sep = *s.get(first)?;
    let second = if s.get(first + 2) == Some(&sep) { first + 2 } else { first + 3 };
    if !matches!(sep, b'.' | b'/') || s.len() != second + 5 || s[second] != sep {
        return None;
    }
    ymd(&s[second + 1..], &s[first + 1..second], &s[..first])
}

/// A date from groups of ASCII digits (year up to 4, month and day up to 2); None if a group
/// holds another byte.
fn ymd(year: &[u8], month: &[u8], day: &[u8]) -> Option<Ymd> {
    let value = |group: &[u8]| {
        group.iter().try_fold(0u16, |n, &b| {
            let d = b.wrapping_sub(b'0');
            (d < 10).then_some(n * 10 + u16::from(d))
        })
    };
    Some(Ymd { year: value(year)?, month: value(month)? as u8, day: value(day)? as u8 })
}

/// Recognises the accepted spellings; None when the shape is none of them.
fn parse(s: &[u8]) -> Option<Parsed> {
    if s.len() == 8 && s.iter().all(u8::is_ascii_digit) {
        return full(&s[..4], &s[4..6], &s[6..]);
    }
    if s.len() > 10 && (s[10] == b'T' || s[10] == b' ') && s.get(11).is_some_and(u8::is_ascii_digit)
    {
        // A datetime: take the date if it is a four-digit-year spelling.
        return parse(&s[..10]).filter(|p| matches!(p, Parsed::Full(_)));
    }
    let sep = *s.iter().find(|b| !b.is_ascii_digit())?;
    let mut parts = s.split(|&b| b == sep);
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    match sep {
        b'-' => iso(s),
        b'.' | b'/' if (1..=2).contains(&a.len()) && (1..=2).contains(&b.len()) => match c.len() {
            4 => full(c, b, a),
            2 => Some(Parsed::TwoDigitYear { month: number(b)? as u8, day: number(a)? as u8 }),
            _ => None,
        },
        _ => None,
    }
}

/// `yyyy-mm-dd` exactly.
fn iso(s: &[u8]) -> Option<Parsed> {
    if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    full(&s[..4], &s[5..7], &s[8..])
}

/// A date from its four-digit year, month and day digit groups.
fn full(year: &[u8], month: &[u8], day: &[u8]) -> Option<Parsed> {
    Some(Parsed::Full(Ymd {
        year: number(year)? as u16,
        month: number(month)? as u8,
        day: number(day)? as u8,
    }))
}

/// A short run of ASCII digits as a number; None if empty or not all digits.
fn number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 4 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

/// Appends `yyyy-mm-dd`.
fn write_iso(d: Ymd, out: &mut Vec<u8>) {
    let pair = |n: u16| TWO_DIGITS[usize::from(n % 100)];
    let ([y1, y2], [y3, y4]) = (pair(d.year / 100), pair(d.year));
    let ([m1, m2], [d1, d2]) = (pair(u16::from(d.month)), pair(u16::from(d.day)));
    out.extend_from_slice(&[y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2]);
}

/// `00` to `99` as ASCII digit pairs.
const TWO_DIGITS: [[u8; 2]; 100] = {
    let mut table = [[0u8; 2]; 100];
    let mut n = 0;
    while n < 100 {
        table[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    table
};

/// The date exists, its year is at least [`MIN_YEAR`] and it is not after `today`.
fn is_plausible(d: Ymd, today: Ymd) -> bool {
    d.year >= MIN_YEAR
        && (1..=12).contains(&d.month)
        && d.day >= 1
        && d.day <= days_in_month(d.year, d.month)
        && d <= today
}

/// Days of a month (1..=12) in the proleptic Gregorian calendar.
fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

/// Today's UTC date, read from the clock once per process.
fn today() -> Ymd {
    static TODAY: OnceLock<Ymd> = OnceLock::new();
    *TODAY.get_or_init(|| {
        let now = time::OffsetDateTime::now_utc();
        Ymd { year: now.year().clamp(0, 9999) as u16, month: u8::from(now.month()), day: now.day() }
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
    fn accepted_spellings_give_the_same_iso_date() {
        let want = (Outcome::Valid, "1961-03-15".to_string());
        for v in [
            "15.03.1961",
            "1961-03-15",
            "19610315",
            "15/03/1961",
            " 15.3.1961 ",
            "15/3/1961",
            "1961-03-15T00:00:00",
            "1961-03-15 00:00:00",
            "1961-03-15T00:00:00.000Z",
            "15.03.1961 12:30",
        ] {
            assert_eq!(norm(v), want, "{v}");
        }
        assert_eq!(norm("5.3.1961"), (Outcome::Valid, "1961-03-05".into()));
    }

    #[test]
    fn two_digit_years_are_ambiguous_not_guessed() {
        for v in ["15.03.61", "15/03/61", "1.1.00", "29.02.01"] {
            assert_eq!(norm(v), (Outcome::Invalid(Flaw::AmbiguousYear), v.to_string()), "{v}");
        }
        assert_eq!(norm("31.02.61").0, Outcome::Invalid(Flaw::ImplausibleDate));
    }

    #[test]
    fn non_existent_dates_are_implausible() {
        for v in ["31.02.1961", "29.02.1900", "1961-13-01", "00.01.1961", "1961-04-31"] {
            assert_eq!(norm(v).0, Outcome::Invalid(Flaw::ImplausibleDate), "{v}");
        }
        assert_eq!(norm("29.02.2000").0, Outcome::Valid);
        assert_eq!(norm("31.02.1961").1, "1961-02-31");
    }

    #[test]
    fn years_outside_1900_to_today_are_implausible() {
        let next_year = today().year + 1;
        for v in ["31.12.1899".to_string(), "0001-01-01".into(), format!("01.01.{next_year}")] {
            assert_eq!(norm(&v).0, Outcome::Invalid(Flaw::ImplausibleDate), "{v}");
        }
        assert_eq!(norm("01.01.1900").0, Outcome::Valid);
    }

    #[test]
    fn a_birth_date_after_today_is_implausible() {
        let t = today();
        assert!(is_plausible(t, t));
        let tomorrow = if t.day < days_in_month(t.year, t.month) {
            Ymd { day: t.day + 1, ..t }
        } else if t.month < 12 {
            Ymd { month: t.month + 1, day: 1, ..t }
        } else {
            Ymd { year: t.year + 1, month: 1, day: 1 }
        };
        assert!(!is_plausible(tomorrow, t));
    }

    #[test]
    fn other_shapes_are_malformed() {
        for v in [
            "15.03.1961.",
            "15-03-1961",
            "1961/03/15",
            "15.03",
            "150361",
            "1961315",
            "15. 03. 1961",
            "15.031961",
            "1961-03-15X00",
            "1961-3-15",
            "März 1961",
            "15.03.196",
        ] {
            assert_eq!(norm(v), (Outcome::Invalid(Flaw::Malformed), v.to_string()), "{v}");
        }
        assert_eq!(norm("  ").0, Outcome::Empty);
    }

    #[test]
    fn birth_year_reads_the_normalised_form() {
        assert_eq!(birth_year(b"1961-03-15"), Some(1961));
        assert_eq!(birth_year(b"15.03.1961"), None);
        assert_eq!(birth_year(b""), None);
    }

    fn assert_idempotent(s: &str) -> Result<(), TestCaseError> {
        testkit::assert_idempotent(normalize, s)
    }

    /// The date order check as first written (the derived order of [`Ymd`]).
    #[test]
    fn packed_plausibility_equals_the_field_by_field_one() {
        let t = today();
        for year in [0, 1899, 1900, 1961, 2000, t.year - 1, t.year, t.year + 1, 9999] {
            for month in 0..=14 {
                for day in 0..=33 {
                    let d = Ymd { year, month, day };
                    let packed = u32::from(year) << 16 | u32::from(month) << 8 | u32::from(day);
                    assert_eq!(is_plausible_packed(packed), is_plausible(d, t), "{d:?}");
                }
            }
        }
    }

    /// The normaliser as first written: [`parse`] for every value, the first `write_iso`.
    fn reference(input: &str, out: &mut Vec<u8>) -> Outcome {
        out.clear();
        let s = input.trim();
        if s.is_empty() {
            return Outcome::Empty;
        }
        match parse(s.as_bytes()) {
            Some(Parsed::Full(d)) => {
                write_iso_reference(d, out);
                if is_plausible(d, today()) {
                    Outcome::Valid
                } else {
                    Outcome::Invalid(Flaw::ImplausibleDate)
                }
            }
            Some(Parsed::TwoDigitYear { month, day }) => {
                out.extend_from_slice(s.as_bytes());
                // Whether 29.02. exists depends on the unknown century: allow it.
                let possible =
                    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(2000, month);
                Outcome::Invalid(if possible { Flaw::AmbiguousYear } else { Flaw::ImplausibleDate })
            }
            None => {
                out.extend_from_slice(s.as_bytes());
                Outcome::Invalid(Flaw::Malformed)
            }
        }
    }

    /// `write_iso` as first written, one division per digit.
    fn write_iso_reference(d: Ymd, out: &mut Vec<u8>) {
        let digit = |n: u16, div: u16| b'0' + (n / div % 10) as u8;
        let y = d.year;
        out.extend_from_slice(&[digit(y, 1000), digit(y, 100), digit(y, 10), digit(y, 1), b'-']);
        let (m, dd) = (u16::from(d.month), u16::from(d.day));
        out.extend_from_slice(&[digit(m, 10), digit(m, 1), b'-', digit(dd, 10), digit(dd, 1)]);
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
        fn normalisation_equals_reference_on_date_noise(
            s in "[ \t]?[0-9]{0,8}([-./ ][0-9]{0,4}){0,3}([T ][0-9:.]{0,12}Z?)?[ x]?"
        ) {
            assert_same_as_reference(&s)?;
        }

        #[test]
        fn normalisation_equals_reference_on_dotted_shapes(
            s in "[ ]?[0-9/.a:]{2}[./][0-9/.:]{2}[./][0-9/.:]{4}[ ]?"
        ) {
            assert_same_as_reference(&s)?;
        }

        #[test]
        fn normalisation_equals_reference_on_dotted_digits(
            s in "[0-9\u{660}\u{ff10}]{2}[./\u{2024}][0-9]{2}[./][0-9\u{ff19}]{4}"
        ) {
            assert_same_as_reference(&s)?;
        }

        #[test]
        fn normalisation_equals_reference_on_any_ymd(y in 0u16..=9999, m in 0u8..=99, d in 0u8..=99) {
            for v in [format!("{d:02}.{m:02}.{y:04}"), format!("{d}/{m}/{y:04}"),
                      format!("{y:04}-{m:02}-{d:02}"), format!("{y:04}{m:02}{d:02}"),
                      format!("{d}.{m}.{:02}", y % 100)] {
                assert_same_as_reference(&v)?;
            }
        }
    }

    proptest! {
        #[test]
        fn normalisation_is_idempotent_on_any_string(s in any::<String>()) {
            assert_idempotent(&s)?;
        }

        #[test]
        fn normalisation_is_idempotent_on_date_noise(s in "[ ]?[0-9]{1,4}[-./][0-9]{1,2}[-./][0-9]{1,4}([T ][0-9:]{0,8})?[ ]?") {
            assert_idempotent(&s)?;
        }

        #[test]
        fn german_iso_and_compact_spellings_agree(y in 1900u16..2020, m in 1u8..=12, d in 1u8..=28) {
            let german = norm(&format!("{d:02}.{m:02}.{y}"));
            prop_assert_eq!(&german, &norm(&format!("{y}-{m:02}-{d:02}")));
            prop_assert_eq!(&german, &norm(&format!("{y}{m:02}{d:02}")));
            prop_assert_eq!(german.0, Outcome::Valid);
        }
    }
}
