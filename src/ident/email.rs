//! `email`: e-mail addresses.
//!
//! Normalised form: trimmed, lowercased, a leading `mailto:` (any case) and surrounding `<>`
//! removed (repeatedly, so the result is a fixed point). No gmail-style dot/plus folding: that
//! merges identities and belongs to a separate kind (DESIGN §3).
//!
//! Valid: exactly one `@`, a non-empty local part, a domain containing a dot whose labels are
//! all non-empty, and no white space or control characters anywhere.

use super::{Flaw, Outcome};

/// The prefix of a mail link, compared after lowercasing.
const MAILTO: &[u8] = b"mailto:";

/// Normalises an e-mail address into `out` and checks its shape.
pub fn normalize(input: &str, out: &mut Vec<u8>) -> Outcome {
    if !input.is_ascii() {
        return reference(input, out);
    }
    out.clear();
    // ASCII: lowercasing keeps byte positions, so strip first and copy only what is left.
    let (start, end) = strip(input.as_bytes(), trim_ascii);
    let valid = lowercase_checked(&input.as_bytes()[start..end], out);
    if out.is_empty() {
        Outcome::Empty
    } else if valid {
        Outcome::Valid
    } else {
        Outcome::Invalid(Flaw::Malformed)
    }
}

/// The definition of the normalised form, for any input: lowercase everything, then strip.
/// [`normalize`] gives the same result for ASCII input without its extra passes.
fn reference(input: &str, out: &mut Vec<u8>) -> Outcome {
    out.clear();
    lowercase_into(input, out);
    let (start, end) = strip(out, trim);
    out.truncate(end);
    out.drain(..start);
    if out.is_empty() {
        return Outcome::Empty;
    }
    if is_valid(out) {
        Outcome::Valid
    } else {
        Outcome::Invalid(Flaw::Malformed)
    }
}

/// Appends `input` lowercased; ASCII bytes are copied without decoding.
fn lowercase_into(input: &str, out: &mut Vec<u8>) {
    if input.is_ascii() {
        out.extend(input.bytes().map(|b| b.to_ascii_lowercase()));
        return;
    }
    let mut buf = [0u8; 4];
    for c in input.chars().flat_map(char::to_lowercase) {
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
}

/// The byte range of `v` left after trimming (with `trim`) and removing `mailto:` (any ASCII
/// case) and `<...>` until nothing changes.
fn strip(v: &[u8], trim: impl Fn(&[u8], usize, usize) -> (usize, usize)) -> (usize, usize) {
    let (mut start, mut end) = trim(v, 0, v.len());
    loop {
        let s = &v[start..end];
        if s.len() >= MAILTO.len() && s[..MAILTO.len()].eq_ignore_ascii_case(MAILTO) {
            start += MAILTO.len();
        } else if s.len() >= 2 && s[0] == b'<' && s[s.len() - 1] == b'>' {
            start += 1;
            end -= 1;
        } else {
            return (start, end);
        }
        (start, end) = trim(v, start, end);
    }
}

/// Narrows `start..end` of `v` (valid UTF-8 at char boundaries) to exclude Unicode white space.
fn trim(v: &[u8], start: usize, end: usize) -> (usize, usize) {
    let part = &v[start..end];
    if part.is_ascii() {
        return trim_ascii(v, start, end);
    }
    let s = std::str::from_utf8(part).expect("lowercased str stays UTF-8");
    let lead = s.len() - s.trim_start().len();
    (start + lead, start + lead + s.trim().len())
}

/// [`trim`] for ASCII `v[start..end]`.
fn trim_ascii(v: &[u8], start: usize, end: usize) -> (usize, usize) {
    let part = &v[start..end];
    let lead = part.iter().take_while(|&&b| is_ascii_space(b)).count();
    let trail = part[lead..].iter().rev().take_while(|&&b| is_ascii_space(b)).count();
    (start + lead, end - trail)
}

/// The ASCII characters Unicode counts as white space (what `str::trim` removes).
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r')
}

/// One `@`, non-empty local part, dotted domain with non-empty labels, no white space.
fn is_valid(v: &[u8]) -> bool {
    let clean = if v.is_ascii() {
        !v.iter().any(|&b| b <= b' ' || b == 0x7f)
    } else {
        let s = std::str::from_utf8(v).expect("lowercased str stays UTF-8");
        !s.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    let Some(at) = v.iter().position(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = (&v[..at], &v[at + 1..]);
    clean
        && !local.is_empty()
        && !domain.contains(&b'@')
        && domain.contains(&b'.')
        && domain.split(|&b| b == b'.').all(|label| !label.is_empty())
}

/// Appends ASCII `v` lowercased and tells whether it is valid as [`is_valid`] defines it,
/// checking in the same pass.
fn lowercase_checked(v: &[u8], out: &mut Vec<u8>) -> bool {
    out.extend_from_slice(v);
    let scan = lowercase_scan(out);
    if scan.unclean || scan.ats != 1 || scan.at == 0 {
        return false;
    }
    // The domain has a dot and no empty label: no dot first, last or next to another.
    let domain = &v[scan.at + 1..];
    let mut prev = b'.';
    let mut dots = 0;
    for &b in domain {
        if b == b'.' {
            if prev == b'.' {
                return false;
            }
            dots += 1;
        }
        prev = b;
    }
    dots > 0 && prev != b'.'
}

/// What [`lowercase_scan`] found.
struct Scan {
    /// Some byte is white space, a control character or DEL.
    unclean: bool,
    /// Number of `@`, counted up to 2.
    ats: u32,
    /// Position of the last `@`.
    at: usize,
}

/// `0x01` in every byte lane of a word.
const ONES: u64 = u64::from_ne_bytes([1; 8]);
/// The high bit of every byte lane.
const HIGH: u64 = ONES << 7;

/// The high bit of each byte lane of `x` whose byte is at least `n`, for 8 ASCII bytes
/// (each < 0x80) and `n <= 0x80`: `byte + (0x80 - n)` reaches 0x80 exactly then and never
/// carries into the next lane (at most 0x7f + 0x80). The standard SWAR comparison
/// (Warren, *Hacker's Delight*, 2nd ed., §6-1).
const fn lanes_at_least(x: u64, n: u8) -> u64 {
    x.wrapping_add(ONES * (0x80 - n as u64)) & HIGH
}

/// The high bit of each byte lane of `x` equal to `n` (ASCII `x`, `n < 0x7f`).
const fn lanes_equal(x: u64, n: u8) -> u64 {
    lanes_at_least(x, n) & !lanes_at_least(x, n + 1)
}

/// Lowercases ASCII `v` in place, 8 bytes at a time, and reports what [`Scan`] holds.
fn lowercase_scan(v: &mut [u8]) -> Scan {
    let mut scan = Scan { unclean: false, ats: 0, at: 0 };
    let mut word = |base: usize, bytes: [u8; 8]| {
        let x = u64::from_le_bytes(bytes);
        let upper = lanes_at_least(x, b'A') & !lanes_at_least(x, b'Z' + 1);
        // Space and below, or DEL (the only ASCII byte >= 0x7f).
        scan.unclean |= (!lanes_at_least(x, b' ' + 1) | lanes_at_least(x, 0x7f)) & HIGH != 0;
        let at = lanes_equal(x, b'@');
        if at != 0 {
            scan.ats += 1 + u32::from(at & (at - 1) != 0);
            scan.at = base + (63 - at.leading_zeros() as usize) / 8;
        }
        (x | (upper >> 2)).to_le_bytes()
    };
    let mut chunks = v.chunks_exact_mut(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let lower = word(base, chunk.try_into().expect("8 bytes"));
        chunk.copy_from_slice(&lower);
        base += 8;
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        // Padded with a letter that sets no flag.
        let mut padded = [b'a'; 8];
        padded[..rest.len()].copy_from_slice(rest);
        let lower = word(base, padded);
        rest.copy_from_slice(&lower[..rest.len()]);
    }
    scan.ats = scan.ats.min(2);
    scan
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
    fn trims_lowercases_and_strips_mailto_and_brackets() {
        let want = (Outcome::Valid, "anna.weiss@example.de".to_string());
        for v in [
            "anna.weiss@example.de",
            "  Anna.Weiss@Example.DE\t",
            "MAILTO:anna.weiss@example.de",
            "<anna.weiss@example.de>",
            " < MailTo:Anna.Weiss@example.de > ",
            "mailto:<anna.weiss@example.de>",
        ] {
            assert_eq!(norm(v), want, "{v}");
        }
    }

    #[test]
    fn does_not_fold_gmail_dots_or_plus_tags() {
        assert_eq!(norm("A.B+x@gmail.com").1, "a.b+x@gmail.com");
    }

    #[test]
    fn non_ascii_is_lowercased() {
        assert_eq!(norm("JÜRGEN@GROß.DE"), (Outcome::Valid, "jürgen@groß.de".into()));
    }

    #[test]
    fn wrong_shapes_are_malformed() {
        for v in [
            "anna",
            "@example.de",
            "anna@",
            "anna@example",
            "anna@@example.de",
            "a@b@example.de",
            "anna@example..de",
            "anna@.example.de",
            "anna@example.de.",
            "anna weiss@example.de",
            "anna@exa mple.de",
        ] {
            assert_eq!(norm(v).0, Outcome::Invalid(Flaw::Malformed), "{v}");
        }
    }

    #[test]
    fn blank_or_only_wrapping_is_empty() {
        for v in ["", "   ", "\t\n", "<>", "mailto:", " < > "] {
            assert_eq!(norm(v), (Outcome::Empty, String::new()), "{v:?}");
        }
    }

    fn assert_idempotent(s: &str) -> Result<(), TestCaseError> {
        testkit::assert_idempotent(normalize, s)
    }

    /// The normaliser as first written (the ASCII shortcut of `lowercase_into` aside, it is
    /// today's [`reference`]): lowercase, strip on the lowercased bytes, validate.
    fn first_version(input: &str, out: &mut Vec<u8>) -> Outcome {
        out.clear();
        lowercase_into(input, out);
        let (mut start, mut end) = trim(out, 0, out.len());
        loop {
            let s = &out[start..end];
            if s.starts_with(MAILTO) {
                start += MAILTO.len();
            } else if s.len() >= 2 && s[0] == b'<' && s[s.len() - 1] == b'>' {
                start += 1;
                end -= 1;
            } else {
                break;
            }
            (start, end) = trim(out, start, end);
        }
        out.truncate(end);
        out.drain(..start);
        match () {
            _ if out.is_empty() => Outcome::Empty,
            _ if is_valid(out) => Outcome::Valid,
            _ => Outcome::Invalid(Flaw::Malformed),
        }
    }

    fn assert_same_as_reference(s: &str) -> Result<(), TestCaseError> {
        let (mut fast, mut slow) = (vec![b'#'; 3], vec![b'#'; 5]);
        let want = first_version(s, &mut slow);
        prop_assert_eq!(normalize(s, &mut fast), want, "outcome of {:?}", s);
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
        fn normalisation_equals_reference_on_ascii(s in "[ -~\t\n\x0b\x0c\r\x00\x7f]{0,24}") {
            assert_same_as_reference(&s)?;
        }

        #[test]
        fn normalisation_equals_reference_on_ascii_addresses(
            s in "[\x00-\x7f]{0,1}[!-\x7f]{1,12}@[!-\x7f]{1,9}\\.[!-\x7f]{1,9}[\x00-\x7f]{0,1}"
        ) {
            assert_same_as_reference(&s)?;
        }

        #[test]
        fn normalisation_equals_reference_on_address_noise(
            s in "[ \t<>]{0,2}((?i)mailto:){0,2}[ <]{0,2}[a-zA-Z0-9ÄÖÜäöüßİ\\u{212a}.+@ <>-]{0,20}[ \t>.@]{0,3}"
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
        fn normalisation_is_idempotent_on_address_noise(
            s in "[ <>]{0,2}((?i)mailto:){0,2}[ <]{0,2}[a-zA-ZÄÖÜäöüß.+@ -]{0,20}[ >]{0,3}"
        ) {
            assert_idempotent(&s)?;
        }

        #[test]
        fn case_and_padding_do_not_change_the_value(
            local in "[a-z0-9.]{1,10}", domain in "[a-z]{1,8}\\.[a-z]{2,4}", pad in "[ \t]{0,3}"
        ) {
            let clean = format!("{local}@{domain}");
            let noisy = format!("{pad}<{}>{pad}", clean.to_uppercase());
            prop_assert_eq!(norm(&clean).1, norm(&noisy).1);
        }
    }
}
