//! Tests of name normalisation, with the straightforward reference implementation that the
//! fast path must equal.

use super::*;
use crate::ident::testkit;
use proptest::prelude::*;

fn norm(s: &str) -> (Outcome, String) {
    testkit::norm(normalize, s)
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
    assert_eq!(split_full("Johann Wolfgang von Goethe"), Some(("von Goethe", "Johann Wolfgang")));
    assert_eq!(split_full("von Goethe"), Some(("Goethe", "von")));
    for v in ["Groß", "  Groß ", "Groß,", ", Jürgen", ""] {
        assert_eq!(split_full(v), None, "{v:?}");
    }
}

fn assert_idempotent(s: &str) -> Result<(), TestCaseError> {
    testkit::assert_idempotent(normalize, s)
}

/// The normaliser before the table path: full Unicode path for everything but pure ASCII,
/// and the title stripping without its shortcuts.
fn reference(input: &str, out: &mut Vec<u8>) -> Outcome {
    out.clear();
    normalize_reference(strip_titles_reference(input), out)
}

fn strip_titles_reference(s: &str) -> &str {
    let mut rest = s.trim_start();
    let mut after_dr = false;
    loop {
        let end = token_end_reference(rest);
        let tail = rest[end..].trim_start();
        match title_prefix_reference(&rest[..end], &mut after_dr) {
            0 => return rest,
            n if n < end => return &rest[n..],
            _ if tail.is_empty() => return rest,
            _ => rest = tail,
        }
    }
}

/// `token_end` as first written.
fn token_end_reference(s: &str) -> usize {
    let b = s.as_bytes();
    match b.iter().position(|&c| matches!(c, b' ' | b'\t'..=b'\r') || c >= 0x80) {
        Some(i) if b[i] >= 0x80 => i + s[i..].find(char::is_whitespace).unwrap_or(s.len() - i),
        Some(i) => i,
        None => s.len(),
    }
}

/// `title_prefix` as first written (linear list scans).
fn title_prefix_reference(token: &str, after_dr: &mut bool) -> usize {
    let t = token.as_bytes();
    // Fast rejection: a title starts with one of few bytes, and a title piece ends in `.` or
    // `)` or is a whole token of at most 4 bytes.
    let initial = t.first().map_or(0, u8::to_ascii_lowercase);
    if !*after_dr && !TITLES.iter().any(|p| p.as_bytes()[0] == initial)
        || t.len() > 4 && !t.iter().any(|&b| b == b'.' || b == b')')
    {
        return 0;
    }
    let mut pos = 0;
    while pos < t.len() {
        let suffixes: &[&str] = if *after_dr { DOCTORATE_SUFFIXES } else { &[] };
        let len =
            longest_piece_reference(t, pos, TITLES).max(longest_piece_reference(t, pos, suffixes));
        if len == 0 {
            break;
        }
        *after_dr |= len >= 2 && t[pos..pos + 2].eq_ignore_ascii_case(b"dr");
        pos += len;
    }
    pos
}

/// `longest_piece` as first written.
fn longest_piece_reference(t: &[u8], pos: usize, list: &[&str]) -> usize {
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

fn assert_same_as_reference(s: &str) -> Result<(), TestCaseError> {
    let (mut fast, mut slow) = (vec![b'#'; 3], vec![b'#'; 5]);
    let want = reference(s, &mut slow);
    prop_assert_eq!(normalize(s, &mut fast), want, "outcome of {:?}", s);
    prop_assert_eq!(fast, slow, "bytes of {:?}", s);
    Ok(())
}

#[test]
fn latin_fold_table_agrees_with_the_reference_on_every_character() {
    for code in 0x80..=0x17f_u32 {
        let c = char::from_u32(code).unwrap();
        let mut slow = Vec::new();
        let outcome = normalize_reference(&c.to_string(), &mut slow);
        match LATIN_FOLD[code as usize - 0x80] {
            [FALLBACK, _] => assert!(!slow.is_ascii(), "{code:#x} folds to ASCII"),
            [0, 0] => assert_eq!(outcome, Outcome::Empty, "{code:#x}"),
            [x, 0] => assert_eq!(slow, [x], "{code:#x}"),
            entry => assert_eq!(slow, entry, "{code:#x}"),
        }
        assert_same_as_reference(&format!("Ab{c}Cd")).unwrap();
    }
}

#[test]
fn german_and_other_latin_names_take_the_table_path() {
    for v in ["Müller", "Jürgen", "Weiß", "Çelik", "Łukasz", "Øster", "Ærø", "Dvořák", "Şahin"]
    {
        let mut out = Vec::new();
        assert!(fold_latin(v, &mut out).is_some(), "{v}");
    }
    for v in ["Mu\u{308}ller", "Ħal", "李", "Σωκράτης", "Ǿ"] {
        assert!(fold_latin(v, &mut Vec::new()).is_none(), "{v}");
    }
}

#[test]
fn ascii_letters_take_the_word_path_and_nothing_else_does() {
    for v in
        ["Horn", "Oliver", "MATTHIAS", "Hagen", "Schmidt", "Brandtjuergens", "abcdefghijklmnop"]
    {
        let mut out = Vec::new();
        assert!(ascii_letters(v.as_bytes(), &mut out), "{v}");
        assert_eq!(out, v.to_ascii_lowercase().as_bytes(), "{v}");
    }
    for v in [
        "",
        "Li",
        "Kim",
        "Haas ",
        "Marie-Luise",
        "O'Brien",
        "Müller",
        "abcdefghijklmnopq",
        "Ab@d",
        "Ab[d",
        "Ab`d",
        "Ab{d",
        "A1bc",
    ] {
        assert!(!ascii_letters(v.as_bytes(), &mut Vec::new()), "{v}");
    }
}

/// Whether [`ascii_letters`] gives what [`fold_latin`] gives, and a Valid outcome, wherever it
/// takes the input.
fn assert_word_path_as_table_path(s: &str) -> Result<(), TestCaseError> {
    let (mut fast, mut slow) = (vec![b'#'; 3], vec![b'#'; 5]);
    fast.clear();
    slow.clear();
    if ascii_letters(s.as_bytes(), &mut fast) {
        prop_assert_eq!(fold_latin(s, &mut slow), Some(true), "{:?}", s);
        prop_assert_eq!(fast, slow, "bytes of {:?}", s);
    } else {
        prop_assert!(fast.is_empty(), "{:?} left bytes", s);
    }
    Ok(())
}

/// Pieces of names: letters with and without diacritics (precomposed and combining),
/// titles, separators, digits, characters outside the table and other scripts.
const POOL: &[&str] = &[
    "Dr.",
    "Dr",
    "DR",
    "dr.-ing.",
    "Prof. ",
    "Herr ",
    "Frau",
    "Hr.",
    "Dipl.-Ing.",
    "(FH)",
    "med.",
    "rer.",
    "nat.",
    "h.c.",
    "M.Sc.",
    "B.A.",
    "LL.M.",
    "Ma",
    "Drost",
    " ",
    "  ",
    "-",
    "'",
    ".",
    ")",
    "(",
    ",",
    "\t",
    "\u{a0}",
    "\u{2009}",
    "Müller",
    "Jürgen",
    "Weiß",
    "Çelik",
    "Łukasz",
    "GROSS",
    "ẞ",
    "ß",
    "İ",
    "ı",
    "ħ",
    "ŉ",
    "ſ",
    "ĳ",
    "ª",
    "²",
    "µ",
    "¼",
    "Ǿ",
    "ǿ",
    "Ș",
    "ț",
    "ё",
    "Σ",
    "ς",
    "李",
    "한",
    "ｱ",
    "Ａ",
    "١",
    "1",
    "42",
    "e",
    "E",
    "o",
    "U",
    "\u{300}",
    "\u{301}",
    "\u{308}",
    "\u{327}",
    "\u{338}",
    "\u{36f}",
    "\u{1ab0}",
    "\u{200d}",
    "\u{ffff}",
];

fn name_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(POOL).prop_map(str::to_owned),
        (0x80..=0x17f_u32).prop_map(|c| char::from_u32(c).unwrap().to_string()),
        (0x300..=0x36f_u32).prop_map(|c| char::from_u32(c).unwrap().to_string()),
        "[a-zA-Z0-9]{1,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(testkit::EQUIVALENCE_CASES))]

    #[test]
    fn table_path_equals_reference_on_any_string(s in any::<String>()) {
        assert_same_as_reference(&s)?;
    }

    #[test]
    fn word_path_equals_table_path_on_ascii_near_letters(
        s in "[a-zA-Z@\\[`{0-9 .-]{0,18}"
    ) {
        assert_word_path_as_table_path(&s)?;
        assert_same_as_reference(&s)?;
    }

    #[test]
    fn word_path_equals_table_path_on_letters(s in "[a-zA-Z]{0,18}") {
        assert_word_path_as_table_path(&s)?;
        assert_same_as_reference(&s)?;
    }

    #[test]
    fn word_path_equals_table_path_on_any_string(s in any::<String>()) {
        assert_word_path_as_table_path(&s)?;
    }

    #[test]
    fn title_filter_equals_reference_on_title_like_starts(
        s in "[ ]{0,1}(?i)(d|p|h|f|m|i|b|l|\\(|dr|pr|he|fr|hr|ma|in|di|ll|b\\.|m\\.|\\(f)[a-z. )(-]{0,3}( [a-zA-Z]{0,4})?"
    ) {
        assert_same_as_reference(&s)?;
    }

    #[test]
    fn trim_start_equals_the_std_one(s in "[ \t\n\u{a0}\u{85}\u{2009}\u{3000}a-zé]{0,6}") {
        prop_assert_eq!(trim_start(&s), s.trim_start());
    }

    #[test]
    fn table_path_equals_reference_on_name_pieces(
        pieces in prop::collection::vec(name_piece(), 0..12)
    ) {
        assert_same_as_reference(&pieces.concat())?;
    }
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
