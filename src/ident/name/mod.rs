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

// Reviewed (#11): 256-entry tables indexed by a `u8`; `b[i]`/`src[i]` under `i < len`, `src[i + 1]`
// after a lead byte 0xC2..=0xC5 of valid UTF-8 (a continuation follows), `code - 0x80` within
// LATIN_FOLD (U+0080..=U+017F); `dst[kept]`/`kept + 1` with `kept <= i` (in-place compaction);
// const title lists.
#![allow(clippy::indexing_slicing)]

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

/// For each first byte, the set of [`TITLES`] starting with it (bit `i` for `TITLES[i]`): a
/// token starting otherwise is rejected without a list scan, others are compared with few.
const TITLES_BY_INITIAL: [u64; 256] = index_by_initial(TITLES);

/// [`TITLES_BY_INITIAL`] for [`DOCTORATE_SUFFIXES`].
const SUFFIXES_BY_INITIAL: [u64; 256] = index_by_initial(DOCTORATE_SUFFIXES);

/// For each byte, the set of [`TITLES`] whose second byte it is (bit `i` for `TITLES[i]`).
/// Every title has at least two bytes, so a token whose first two bytes (lowercased) have no
/// title in common in this table and [`TITLES_BY_INITIAL`] starts with no title.
const TITLES_BY_SECOND: [u64; 256] = index_by_byte(TITLES, 1);

/// The entries of `list` (at most 64) by first byte, as bit sets.
const fn index_by_initial(list: &[&str]) -> [u64; 256] {
    index_by_byte(list, 0)
}

/// The entries of `list` (at most 64, each longer than `at`) by their byte `at`, as bit sets.
const fn index_by_byte(list: &[&str], at: usize) -> [u64; 256] {
    assert!(list.len() <= 64, "one bit per entry");
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < list.len() {
        table[list[i].as_bytes()[at] as usize] |= 1 << i;
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
    if ascii_letters(rest.as_bytes(), out) {
        return Outcome::Valid;
    }
    let Some(has_letter) = fold_latin(rest, out) else {
        out.clear();
        return normalize_reference(rest, out);
    };
    if out.is_empty() {
        Outcome::Empty
    } else if !has_letter {
        Outcome::Invalid(Flaw::Malformed)
    } else {
        Outcome::Valid
    }
}

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

/// Whether all 8 byte lanes of `w` are ASCII letters.
fn all_letters(w: u64) -> bool {
    let lower = w | (ONES * 0x20);
    // Setting bit 5 maps exactly `A-Z` and `a-z` into `a..=z`.
    w & HIGH == 0 && lanes_at_least(lower, b'a') == HIGH && lanes_at_least(lower, b'z' + 1) == 0
}

/// Steps 2–4 of the module documentation for 4 to 16 ASCII letters (most names): the
/// letters lowercased, read and written as two overlapping words. False (`out` untouched) for
/// anything else. [`fold_latin`] gives the same bytes for such input, and its outcome is Valid.
fn ascii_letters(s: &[u8], out: &mut Vec<u8>) -> bool {
    let n = s.len();
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    let half = |b: &[u8]| u64::from(u32::from_le_bytes(b.try_into().expect("4 bytes")));
    let (head, tail, width) = match n {
        8..=16 => (word(&s[..8]), word(&s[n - 8..]), 8),
        // One word of the first and the last 4 bytes; the tail is its upper half.
        4..=7 => {
            let w = half(&s[..4]) | half(&s[n - 4..]) << 32;
            (w, w >> 32, 4)
        }
        _ => return false,
    };
    if !(all_letters(head) && (width == 4 || all_letters(tail))) {
        return false;
    }
    let lower = |w: u64| (w | (ONES * 0x20)).to_le_bytes();
    out.extend_from_slice(&[0; 16]);
    let buf = &mut out[..16];
    buf[..8].copy_from_slice(&lower(head));
    // The tail's bytes end at `n`; for a width of 4 its upper half is zero and overwritten or
    // cut below.
    buf[n - width..n - width + 8].copy_from_slice(&lower(tail));
    out.truncate(n);
    true
}

/// Steps 2–4 of the module documentation through full Unicode normalisation (NFC, lowercase,
/// canonical decomposition): the definition of the normalised form. [`fold_latin`] gives the
/// same bytes for the text it accepts; this handles the rest (combining marks, other scripts).
fn normalize_reference(rest: &str, out: &mut Vec<u8>) -> Outcome {
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
    let mut rest = trim_start(s);
    // Most names start with two bytes no title starts with (all titles have two bytes at
    // least; a byte past the end counts as 0, which no title has).
    let lower = |i| usize::from(rest.as_bytes().get(i).map_or(0, u8::to_ascii_lowercase));
    if TITLES_BY_INITIAL[lower(0)] & TITLES_BY_SECOND[lower(1)] == 0 {
        return rest;
    }
    let mut after_dr = false;
    loop {
        let end = token_end(rest);
        let tail = trim_start(&rest[end..]);
        match title_prefix(&rest[..end], &mut after_dr) {
            0 => return rest,
            n if n < end => return &rest[n..],
            _ if tail.is_empty() => return rest,
            _ => rest = tail,
        }
    }
}

/// `str::trim_start`, with the usual ASCII case decided without decoding characters.
fn trim_start(s: &str) -> &str {
    let b = s.as_bytes();
    let lead = b.iter().take_while(|&&c| matches!(c, b' ' | b'\t'..=b'\r')).count();
    match b.get(lead) {
        Some(&c) if c >= 0x80 => s[lead..].trim_start(),
        _ => &s[lead..],
    }
}

/// End of the first token of `s`: its first white space (Unicode), or its length.
fn token_end(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] < 0x80 {
            if matches!(b[i], b' ' | b'\t'..=b'\r') {
                return i;
            }
            i += 1;
        } else {
            let c = s[i..].chars().next().expect("i is a char boundary");
            if c.is_whitespace() {
                return i;
            }
            i += c.len_utf8();
        }
    }
    b.len()
}

/// Length of the longest run of title pieces at the start of `token`, 0 if none.
fn title_prefix(token: &str, after_dr: &mut bool) -> usize {
    let t = token.as_bytes();
    // Fast rejection: a title starts with one of few bytes, and a title piece ends in `.` or
    // `)` or is a whole token of at most 4 bytes.
    let initial = t.first().map_or(0, u8::to_ascii_lowercase);
    if !*after_dr && TITLES_BY_INITIAL[usize::from(initial)] == 0
        || t.len() > 4 && !t.iter().any(|&b| b == b'.' || b == b')')
    {
        return 0;
    }
    let mut pos = 0;
    while pos < t.len() {
        let suffix = match *after_dr {
            true => longest_piece(t, pos, DOCTORATE_SUFFIXES, &SUFFIXES_BY_INITIAL),
            false => 0,
        };
        let len = longest_piece(t, pos, TITLES, &TITLES_BY_INITIAL).max(suffix);
        if len == 0 {
            break;
        }
        *after_dr |= len >= 2 && t[pos..pos + 2].eq_ignore_ascii_case(b"dr");
        pos += len;
    }
    pos
}

/// Length of the longest piece of `list` at `t[pos..]` (0 if none): compared
/// ASCII-case-insensitively, and ending in `.` or `)` or at the end of `t`. `by_initial` is
/// the [`index_by_initial`] of `list`.
fn longest_piece(t: &[u8], pos: usize, list: &[&str], by_initial: &[u64; 256]) -> usize {
    let rest = &t[pos..];
    let mut candidates = by_initial[usize::from(rest[0].to_ascii_lowercase())];
    let mut best = 0;
    while candidates != 0 {
        let piece = list[candidates.trailing_zeros() as usize].as_bytes();
        candidates &= candidates - 1;
        let fits = piece.len() > best
            && rest.len() >= piece.len()
            && rest[..piece.len()].eq_ignore_ascii_case(piece)
            && (matches!(piece[piece.len() - 1], b'.' | b')') || rest.len() == piece.len());
        if fits {
            best = piece.len();
        }
    }
    best
}

/// Marks a [`LATIN_FOLD`] entry whose character needs [`normalize_reference`].
const FALLBACK: u8 = 0xff;

/// The folded ASCII form of U+0080..=U+017F (C1 controls, Latin-1 Supplement, Latin
/// Extended-A), one entry per character, 16 per row: `-` dropped, `?` not folded to ASCII
/// (such as `ħ`, `ŋ`, `ª`, `²`: left to [`normalize_reference`]). Each entry equals what
/// [`normalize_reference`] makes of the character alone; a test checks every one.
#[rustfmt::skip]
const LATIN_FOLD_SPELLINGS: &str = concat!(
    "- - - - - - - - - - - - - - - - ", // U+0080 C1 controls
    "- - - - - - - - - - - - - - - - ", // U+0090
    "- - - - - - - - - - ? - - - - - ", // U+00A0 NBSP ¡ ¢ … ª … ¯
    "- - ? ? - ? - - - ? ? - ? ? ? - ", // U+00B0 ° ± ² ³ ´ µ … ¿
    "a a a a ae a ae c e e e e i i i i ", // U+00C0 À Á Â Ã Ä Å Æ Ç È É Ê Ë Ì Í Î Ï
    "d n o o o o oe - o u u u ue y th ss ", // U+00D0 Ð Ñ Ò Ó Ô Õ Ö × Ø Ù Ú Û Ü Ý Þ ß
    "a a a a ae a ae c e e e e i i i i ", // U+00E0 à … ï
    "d n o o o o oe - o u u u ue y th y ", // U+00F0 ð … ÿ
    "a a a a a a c c c c c c c c d d ", // U+0100 Ā ā Ă ă Ą ą Ć ć Ĉ ĉ Ċ ċ Č č Ď ď
    "d d e e e e e e e e e e g g g g ", // U+0110 Đ đ Ē ē Ĕ ĕ Ė ė Ę ę Ě ě Ĝ ĝ Ğ ğ
    "g g g g h h ? ? i i i i i i i i ", // U+0120 Ġ ġ Ģ ģ Ĥ ĥ Ħ ħ Ĩ ĩ Ī ī Ĭ ĭ Į į
    "i i ? ? j j k k ? l l l l l l ? ", // U+0130 İ ı Ĳ ĳ Ĵ ĵ Ķ ķ ĸ Ĺ ĺ Ļ ļ Ľ ľ Ŀ
    "? l l n n n n n n ? ? ? o o o o ", // U+0140 ŀ Ł ł Ń ń Ņ ņ Ň ň ŉ Ŋ ŋ Ō ō Ŏ ŏ
    "o o oe oe r r r r r r s s s s s s ", // U+0150 Ő ő Œ œ Ŕ ŕ Ŗ ŗ Ř ř Ś ś Ŝ ŝ Ş ş
    "s s t t t t ? ? u u u u u u u u ", // U+0160 Š š Ţ ţ Ť ť Ŧ ŧ Ũ ũ Ū ū Ŭ ŭ Ů ů
    "u u u u w w y y y z z z z z z ? ", // U+0170 Ű ű Ų ų Ŵ ŵ Ŷ ŷ Ÿ Ź ź Ż ż Ž ž ſ
);

/// [`LATIN_FOLD_SPELLINGS`] as a table indexed by code point − 0x80: up to two ASCII bytes
/// (`[0, 0]` dropped, `[a, 0]` one letter) or [`FALLBACK`].
const LATIN_FOLD: [[u8; 2]; 256] = fold_table(LATIN_FOLD_SPELLINGS);

/// Parses [`LATIN_FOLD_SPELLINGS`] at compile time.
const fn fold_table(spellings: &str) -> [[u8; 2]; 256] {
    let s = spellings.as_bytes();
    let mut table = [[0u8; 2]; 256];
    let (mut i, mut n) = (0, 0);
    while i < s.len() {
        let mut entry = [0u8; 2];
        let mut len = 0;
        while s[i] != b' ' {
            entry[len] = s[i];
            len += 1;
            i += 1;
        }
        i += 1;
        table[n] = match entry {
            [b'-', 0] => [0, 0],
            [b'?', 0] => [FALLBACK, 0],
            e => e,
        };
        n += 1;
    }
    assert!(n == 256, "one entry per character");
    table
}

/// Steps 2–4 of the module documentation by [`LATIN_FOLD`], for text of ASCII and
/// U+0080..=U+017F only: such text is already NFC (none of these characters composes with
/// another), so folding each character alone is exact. A folded character is never longer
/// than its UTF-8, so `out` is sized to the input and truncated. Tells whether a letter was
/// kept (every kept byte is a lowercase ASCII letter or digit, and only the letters have bit
/// 0x40); None, with `out` in an unspecified state, when a character is outside the table or
/// marked [`FALLBACK`].
fn fold_latin(rest: &str, out: &mut Vec<u8>) -> Option<bool> {
    let src = rest.as_bytes();
    // A short name sizes `out` by a fixed-length write (no memset call); `kept` stays below
    // the input's length either way.
    if src.len() <= 32 {
        out.extend_from_slice(&[0; 32]);
    } else {
        out.resize(src.len(), 0);
    }
    let dst = &mut out[..];
    let (mut kept, mut i, mut seen) = (0, 0, 0);
    while i < src.len() {
        let b = src[i];
        if b < 0x80 {
            let folded = ASCII_FOLD[usize::from(b)];
            dst[kept] = folded;
            kept += usize::from(folded != 0);
            seen |= folded;
            i += 1;
            continue;
        }
        // Lead bytes 0xC2..=0xC5 start the two-byte sequences of U+0080..=U+017F.
        if !(0xc2..=0xc5).contains(&b) {
            return None;
        }
        let code = usize::from(b & 0x1f) << 6 | usize::from(src[i + 1] & 0x3f);
        let [x, y] = LATIN_FOLD[code - 0x80];
        if x == FALLBACK {
            return None;
        }
        // kept <= i, so kept + 1 is within the buffer.
        dst[kept] = x;
        dst[kept + 1] = y;
        kept += usize::from(x != 0) + usize::from(y != 0);
        seen |= x;
        i += 2;
    }
    out.truncate(kept);
    Some(seen & 0x40 != 0)
}

/// ASCII letters and digits lowercased; 0 for every other ASCII byte (dropped).
const ASCII_FOLD: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        if (b as u8).is_ascii_alphanumeric() {
            table[b] = (b as u8).to_ascii_lowercase();
        }
        b += 1;
    }
    table
};

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
mod tests;
