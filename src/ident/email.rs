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
    out.clear();
    lowercase_into(input, out);
    let (start, end) = strip(out);
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

/// The byte range of `v` left after trimming and removing `mailto:` and `<...>` until
/// nothing changes.
fn strip(v: &[u8]) -> (usize, usize) {
    let (mut start, mut end) = trim(v, 0, v.len());
    loop {
        let s = &v[start..end];
        if s.starts_with(MAILTO) {
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
        let lead = part.iter().take_while(|&&b| is_ascii_space(b)).count();
        let trail = part[lead..].iter().rev().take_while(|&&b| is_ascii_space(b)).count();
        return (start + lead, end - trail);
    }
    let s = std::str::from_utf8(part).expect("lowercased str stays UTF-8");
    let lead = s.len() - s.trim_start().len();
    (start + lead, start + lead + s.trim().len())
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn norm(s: &str) -> (Outcome, String) {
        let mut out = Vec::new();
        let o = normalize(s, &mut out);
        (o, String::from_utf8(out).unwrap())
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
        let mut a = Vec::new();
        let oa = normalize(s, &mut a);
        let mut b = Vec::new();
        let ob = normalize(std::str::from_utf8(&a).unwrap(), &mut b);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(oa, ob);
        Ok(())
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
