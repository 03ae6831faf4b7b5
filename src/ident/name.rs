//! Person names (last or first), the name part of `name_dob`.
//!
//! Normalised form, in this order:
//! 1. leading titles removed as whole tokens ([`TITLES`], and [`DOCTORATE_SUFFIXES`] after a
//!    `Dr`), a title counting only when another token follows it — a last-name column holding
//!    just `Herr` keeps it; a title glued to the name (`Dr.Jürgen`) is removed too;
//! 2. Unicode NFC (skipped for ASCII input), then lowercase;
//! 3. `ä ö ü ß` (and `Ä Ö Ü ẞ`) → `ae oe ue ss`; `æ œ` → `ae oe`, `ø ł đ ð` → `o l d d`,
//!    `þ` → `th`, `ı` → `i`; other diacritics stripped (canonical decomposition, combining
//!    marks dropped: `é` → `e`);
//! 4. every character that is not alphanumeric removed, so hyphens, spaces and apostrophes
//!    collapse: `Müller-Lüdenscheid` and `MUELLER LUEDENSCHEID` both give `muellerluedenscheid`.
//!
//! The result is lowercase ASCII letters and digits; letters of non-Latin scripts survive as
//! lowercase, mark-free characters. Empty after cleanup is [`Outcome::Empty`]; only digits is
//! [`Flaw::Malformed`]. The output is a single token, so normalising it again changes nothing.

use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use unicode_normalization::UnicodeNormalization;

use super::{Flaw, Outcome};

/// Academic, professional and courtesy titles, compared ASCII-case-insensitively with whole
/// pieces of a token. A piece ending in `.` or `)` may be followed by more of the token
/// (`Prof.Dr.`); one without must end the token (`Dr` but not `Drost`).
#[rustfmt::skip]
pub const TITLES: &[&str] = &[
    "prof.", "prof", "dr.", "dr", "dr.-ing.", "dr.-ing", "priv.-doz.", "dipl.-ing.", "dipl.-kfm.",
    "dipl.-kffr.", "dipl.-kff.", "dipl.-inf.", "dipl.-math.", "dipl.-phys.", "dipl.-chem.",
    "dipl.-biol.", "dipl.-psych.", "dipl.-oec.", "dipl.-betriebsw.", "dipl.-volksw.", "dipl.-jur.",
    "dipl.", "ing.", "mag.", "b.sc.", "m.sc.", "b.a.", "m.a.", "b.eng.", "m.eng.", "ll.b.",
    "ll.m.", "m.b.a.", "(fh)", "herr", "frau", "hr.", "fr.",
];

/// First bytes of [`TITLES`]: a token starting otherwise is rejected without a list scan.
const TITLE_INITIALS: [bool; 256] = initials(TITLES);

/// The set of first bytes of `list`, as a lookup table.
const fn initials(list: &[&str]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < list.len() {
        table[list[i].as_bytes()[0] as usize] = true;
        i += 1;
    }
    table
}

/// Faculty parts of a doctorate (`Dr. med.`, `Dr. rer. nat.`): titles only after a `Dr` piece.
pub const DOCTORATE_SUFFIXES: &[&str] = &[
    "med.", "dent.", "vet.", "rer.", "nat.", "pol.", "oec.", "soc.", "phil.", "jur.", "iur.",
    "theol.", "sc.", "habil.", "h.c.", "mult.",
];

/// Normalises one name (last or first) into `out`.
pub fn normalize(input: &str, out: &mut Vec<u8>) -> Outcome {
    out.clear();
    let rest = strip_titles(input);
    if rest.is_ascii() {
        // In place: copy, then compact the kept bytes to the front.
        out.extend_from_slice(rest.as_bytes());
        let mut kept = 0;
        for i in 0..out.len() {
            let b = out[i];
            out[kept] = b.to_ascii_lowercase();
            kept += usize::from(b.is_ascii_alphanumeric());
        }
        out.truncate(kept);
    } else {
        for c in rest.nfc() {
            fold(c, out);
        }
    }
    if out.is_empty() {
        return Outcome::Empty;
    }
    let only_digits = if out.is_ascii() {
        out.iter().all(u8::is_ascii_digit)
    } else {
        let s = std::str::from_utf8(out).expect("folded chars are UTF-8");
        s.chars().all(char::is_numeric)
    };
    if only_digits {
        Outcome::Invalid(Flaw::Malformed)
    } else {
        Outcome::Valid
    }
}

/// Splits a full-name column into `(last, first)`.
///
/// `Groß, Jürgen` → (`Groß`, `Jürgen`); otherwise the last white-space-separated token is the
/// last name, together with lowercase particles in front of it ([`PARTICLES`]: `Johann von
/// Goethe` → (`von Goethe`, `Johann`)), and the rest is the first name, titles included
/// (`Dr. Jürgen Groß` → (`Groß`, `Dr. Jürgen`); [`normalize`] removes them). None when there is
/// only one token or a side of the comma is empty.
pub fn split_full(input: &str) -> Option<(&str, &str)> {
    let s = input.trim();
    if let Some((last, first)) = s.split_once(',') {
        let (last, first) = (last.trim(), first.trim());
        return (!last.is_empty() && !first.is_empty()).then_some((last, first));
    }
    let mut start = last_token_start(s)?;
    loop {
        let head = s[..start].trim_end();
        match last_token_start(head) {
            Some(prev) if PARTICLES.contains(&&head[prev..]) => start = prev,
            _ => return Some((&s[start..], head)),
        }
    }
}

/// Name particles that belong to the last name when written in lowercase before it.
pub const PARTICLES: &[&str] = &[
    "von", "vom", "zu", "zum", "zur", "und", "van", "de", "der", "den", "del", "della", "di", "da",
    "du", "le", "la", "ten", "ter",
];

/// Start of the last white-space-separated token of `s`; None when `s` has only one.
fn last_token_start(s: &str) -> Option<usize> {
    let (i, c) = s.char_indices().rev().find(|(_, c)| c.is_whitespace())?;
    Some(i + c.len_utf8())
}

/// The part of `s` after its leading titles (see the module documentation).
fn strip_titles(s: &str) -> &str {
    let mut rest = s.trim_start();
    let mut after_dr = false;
    loop {
        let end = token_end(rest);
        let tail = rest[end..].trim_start();
        match title_prefix(&rest[..end], &mut after_dr) {
            0 => return rest,
            n if n < end => return &rest[n..],
            _ if tail.is_empty() => return rest,
            _ => rest = tail,
        }
    }
}

/// End of the first token of `s`: its first white space (Unicode), or its length.
fn token_end(s: &str) -> usize {
    let b = s.as_bytes();
    match b.iter().position(|&c| matches!(c, b' ' | b'\t'..=b'\r') || c >= 0x80) {
        Some(i) if b[i] >= 0x80 => i + s[i..].find(char::is_whitespace).unwrap_or(s.len() - i),
        Some(i) => i,
        None => s.len(),
    }
}

/// Length of the longest run of title pieces at the start of `token`, 0 if none.
fn title_prefix(token: &str, after_dr: &mut bool) -> usize {
    let t = token.as_bytes();
    // Fast rejection: a title starts with one of few bytes, and a title piece ends in `.` or
    // `)` or is a whole token of at most 4 bytes.
    let initial = t.first().map_or(0, u8::to_ascii_lowercase);
    if !*after_dr && !TITLE_INITIALS[usize::from(initial)]
        || t.len() > 4 && !t.iter().any(|&b| b == b'.' || b == b')')
    {
        return 0;
    }
    let mut pos = 0;
    while pos < t.len() {
        let suffixes: &[&str] = if *after_dr { DOCTORATE_SUFFIXES } else { &[] };
        let len = longest_piece(t, pos, TITLES).max(longest_piece(t, pos, suffixes));
        if len == 0 {
            break;
        }
        *after_dr |= len >= 2 && t[pos..pos + 2].eq_ignore_ascii_case(b"dr");
        pos += len;
    }
    pos
}

/// Length of the longest piece of `list` at `t[pos..]` (0 if none): compared
/// ASCII-case-insensitively, and ending in `.` or `)` or at the end of `t`.
fn longest_piece(t: &[u8], pos: usize, list: &[&str]) -> usize {
    let rest = &t[pos..];
    let first = rest[0].to_ascii_lowercase();
    let mut best = 0;
    for piece in list.iter().map(|p| p.as_bytes()) {
        let fits = piece[0] == first
            && piece.len() > best
            && rest.len() >= piece.len()
            && rest[..piece.len()].eq_ignore_ascii_case(piece)
            && (matches!(piece[piece.len() - 1], b'.' | b')') || rest.len() == piece.len());
        if fits {
            best = piece.len();
        }
    }
    best
}

/// Appends the folded form of one NFC character (steps 2–4 of the module documentation).
fn fold(c: char, out: &mut Vec<u8>) {
    if push_special(c, out) {
        return;
    }
    for lower in c.to_lowercase() {
        if push_special(lower, out) {
            continue;
        }
        decompose_canonical(lower, |d| {
            if !push_special(d, out) && !is_combining_mark(d) && d.is_alphanumeric() {
                let mut buf = [0u8; 4];
                out.extend_from_slice(d.encode_utf8(&mut buf).as_bytes());
            }
        });
    }
}

/// Appends the ASCII spelling of a letter with a fixed transliteration; false for others.
fn push_special(c: char, out: &mut Vec<u8>) -> bool {
    let s: &[u8] = match c {
        'ä' | 'Ä' | 'æ' | 'Æ' => b"ae",
        'ö' | 'Ö' | 'œ' | 'Œ' => b"oe",
        'ü' | 'Ü' => b"ue",
        'ß' | 'ẞ' => b"ss",
        'ø' | 'Ø' => b"o",
        'ł' | 'Ł' => b"l",
        'đ' | 'Đ' | 'ð' | 'Ð' => b"d",
        'þ' | 'Þ' => b"th",
        'ı' => b"i",
        _ => return false,
    };
    out.extend_from_slice(s);
    true
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
    fn umlaut_and_ascii_spellings_are_equal() {
        let want = (Outcome::Valid, "muellerluedenscheid".to_string());
        assert_eq!(norm(" Müller-Lüdenscheid "), want);
        assert_eq!(norm("MUELLER LUEDENSCHEID"), want);
        assert_eq!(norm("Mu\u{308}ller-Lu\u{308}denscheid"), want, "decomposed umlauts");
        assert_eq!(norm("MÜLLER-LÜDENSCHEID"), want);
    }

    #[test]
    fn titles_are_removed() {
        assert_eq!(norm("Dr. Jürgen Groß"), (Outcome::Valid, "juergengross".into()));
        assert_eq!(norm("Prof. Dr. Anna-Lena Weiß"), (Outcome::Valid, "annalenaweiss".into()));
        for v in [
            "Dr. med. Hans",
            "Dr. rer. nat. Hans",
            "Dipl.-Ing. Hans",
            "Dipl.-Kfm. Hans",
            "Mag. Hans",
            "B.Sc. Hans",
            "M.Sc. Hans",
            "Herr Hans",
            "Frau Hans",
            "DR HANS",
            "Prof Dr Hans",
            "Dr.Hans",
            "Prof.Dr.med. Hans",
            "Dipl.-Ing. (FH) Hans",
        ] {
            assert_eq!(norm(v), (Outcome::Valid, "hans".into()), "{v}");
        }
    }

    #[test]
    fn a_title_counts_only_before_another_token() {
        assert_eq!(norm("Herr").1, "herr");
        assert_eq!(norm("Dr.").1, "dr");
        assert_eq!(norm("Drost Hans").1, "drosthans");
        assert_eq!(norm("Ma Li").1, "mali", "Ma is a name, M.A. a title");
        assert_eq!(norm("Hans med.").1, "hansmed", "faculty only after Dr");
    }

    #[test]
    fn other_diacritics_are_stripped() {
        for (v, want) in [
            ("José", "jose"),
            ("Łukasz Wałęsa", "lukaszwalesa"),
            ("Søren Kierkegaard", "sorenkierkegaard"),
            ("Ærø", "aero"),
            ("Dvořák", "dvorak"),
            ("O'Brien", "obrien"),
            ("Ǿ", "o"),
        ] {
            assert_eq!(norm(v), (Outcome::Valid, want.to_string()), "{v}");
        }
    }

    #[test]
    fn non_latin_letters_are_kept_in_lowercase() {
        assert_eq!(norm("ΣΩΚΡΆΤΗΣ").1, "σωκρατησ");
        assert_eq!(norm("Иван").1, "иван");
    }

    #[test]
    fn empty_and_digit_only_names() {
        for v in ["", "  ", " - ", "'"] {
            assert_eq!(norm(v), (Outcome::Empty, String::new()), "{v:?}");
        }
        assert_eq!(norm("12345").0, Outcome::Invalid(Flaw::Malformed));
        assert_eq!(norm("Hans 2").0, Outcome::Valid);
    }

    #[test]
    fn full_names_split_into_last_and_first() {
        assert_eq!(split_full("Groß, Jürgen"), Some(("Groß", "Jürgen")));
        assert_eq!(split_full(" Jürgen Groß "), Some(("Groß", "Jürgen")));
        assert_eq!(split_full("Dr. Jürgen Groß"), Some(("Groß", "Dr. Jürgen")));
        assert_eq!(split_full("Anna-Lena  Weiß"), Some(("Weiß", "Anna-Lena")));
        assert_eq!(
            split_full("Johann Wolfgang von Goethe"),
            Some(("von Goethe", "Johann Wolfgang"))
        );
        assert_eq!(split_full("von Goethe"), Some(("Goethe", "von")));
        for v in ["Groß", "  Groß ", "Groß,", ", Jürgen", ""] {
            assert_eq!(split_full(v), None, "{v:?}");
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
        fn normalisation_is_idempotent_on_name_noise(
            s in "[ ]{0,2}((Dr|Prof|Herr|Dipl)[.-]{0,2} ?){0,2}[a-zA-ZäöüÄÖÜßẞéłøǾıİΣς한하' .-]{0,24}[\u{300}-\u{36f}]?"
        ) {
            assert_idempotent(&s)?;
        }

        #[test]
        fn case_spaces_and_hyphens_do_not_change_the_value(
            a in "[a-zäöüßé]{5,10}", b in "[a-zäöüßé]{5,10}", sep in "[ -]{1,3}", pad in " {0,2}"
        ) {
            let clean = format!("{a}{b}");
            let noisy = format!("{pad}{}{sep}{}{pad}", a.to_uppercase(), b);
            prop_assert_eq!(norm(&clean), norm(&noisy));
        }
    }
}
