//! `email`: e-mail addresses.
//!
//! Normalised form, in this order:
//! 1. lowercased; trimmed (any Unicode white space); a leading `mailto:` (any case) removed; a
//!    value ending in `>` reduced to what its last `<` encloses, so that a display name goes
//!    (`Jan Muster <jan@muster.de>`, `"Muster, Jan" <jan@muster.de>`, `Jan<jan@muster.de>`)
//!    and plain `<…>` brackets too — repeated until nothing changes, so the result is a fixed
//!    point;
//! 2. Unicode NFC (decomposed `ma\u{308}rta@ko\u{308}ln.de` → `märta@köln.de`);
//! 3. a non-ASCII domain only: NFKC, lowercased again, and the IDNA label separators `。` `．`
//!    `｡` read as `.` (`jan@muster．de`, full-width letters; what IDNA's UTS #46 mapping does),
//!    kept when the address is then valid. The local part gets no NFKC: it is the receiving
//!    server's to interpret.
//!
//! No gmail-style dot/plus folding: that merges identities and belongs to a separate kind
//! (docs/normalisation.md). Punycode is not decoded (`xn--kln-sna.de` stays as written).
//!
//! Valid (as email-validator 2.4 with deliverability checks off, the reference of the test
//! vectors in `vectors/email.jsonl`; departures are listed there with their reasons):
//! - exactly one `@`; at most 254 bytes for an ASCII address;
//! - local part: non-empty dot-atom — ASCII letters, digits and `` !#$%&'*+-/=?^_`{|}~ ``,
//!   or non-ASCII letters, numbers, punctuation, symbols, and marks not in first place; no
//!   dot first, last or next to another. Quoted local parts (`"jan x"@…`) are Malformed;
//! - domain: at least two labels of ASCII `a-z 0-9 -` or non-ASCII letters, marks (not first)
//!   and numbers, none empty, none starting or ending with `-`, no `ab--` label unless it is
//!   Punycode (`xn--`), ASCII labels at most 63 bytes, an ASCII domain at most 253; a top-level
//!   label ending in a letter and not special-use ([`SPECIAL_USE`]). Address literals
//!   (`jan@[192.0.2.1]`) are Malformed.
//!
//! So white space, control and format characters (zero-width space, bidi controls, soft
//! hyphen), private-use and unassigned code points, and unquoted `(),:;<>[\]` make an address
//! Malformed.

// Reviewed (#11): 256-entry class tables indexed by a `u8`; `c[0..8]` of 8-byte `chunks_exact`;
// `label[0]`/`len() - 1` after the empty check.
#![allow(clippy::indexing_slicing)]

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

use super::{Flaw, Outcome};

/// The prefix of a mail link, compared after lowercasing.
const MAILTO: &[u8] = b"mailto:";

/// Top-level domains that never hold a deliverable address: RFC 6761 (`example`, `invalid`,
/// `localhost`, `test`), RFC 6762 (`local`), RFC 7686 (`onion`) and `arpa` (infrastructure,
/// `home.arpa` of RFC 8375 included). `example.com`, `.net` and `.org` stay valid, as RFC 6761
/// §6.5 asks and the reference does.
pub const SPECIAL_USE: [&str; 7] =
    ["arpa", "example", "invalid", "local", "localhost", "onion", "test"];

/// Normalises an e-mail address into `out` and checks its shape.
pub fn normalize(input: &str, out: &mut Vec<u8>) -> Outcome {
    out.clear();
    // ASCII: lowercasing keeps byte positions, so strip first and copy only what is left. A
    // non-ASCII byte (seen by [`strip`] at either end, else by the lowercasing pass) sends the
    // value to [`reference`].
    let (start, end) = strip(input.as_bytes(), trim_ascii);
    let Some(valid) = lowercase_checked(&input.as_bytes()[start..end], out) else {
        return reference(input, out);
    };
    if out.is_empty() {
        Outcome::Empty
    } else if valid {
        Outcome::Valid
    } else {
        Outcome::Invalid(Flaw::Malformed)
    }
}

/// The definition of the normalised form, for any input: lowercase everything, strip, NFC,
/// then NFKC on the domain if that makes the address valid. [`normalize`] gives the same
/// result for ASCII input without the Unicode passes.
#[cold]
#[inline(never)]
fn reference(input: &str, out: &mut Vec<u8>) -> Outcome {
    out.clear();
    lowercase_into(input, out);
    let (start, end) = strip(out, trim);
    if start == end {
        out.clear();
        return Outcome::Empty;
    }
    let stripped = std::str::from_utf8(&out[start..end]).expect("lowercased str stays UTF-8");
    let address: String =
        if stripped.is_ascii() { stripped.to_owned() } else { stripped.nfc().collect() };
    out.clear();
    if let Some(mapped) = with_compatible_domain(&address).filter(|a| is_valid(a)) {
        out.extend_from_slice(mapped.as_bytes());
        return Outcome::Valid;
    }
    out.extend_from_slice(address.as_bytes());
    if is_valid(&address) {
        Outcome::Valid
    } else {
        Outcome::Invalid(Flaw::Malformed)
    }
}

/// `address` with its domain (after the only `@`) in NFKC, lowercased, IDNA label separators
/// read as `.`; None without exactly one `@` or when the domain is ASCII (nothing to map).
fn with_compatible_domain(address: &str) -> Option<String> {
    let (local, domain) = address.split_once('@')?;
    if domain.is_ascii() || domain.contains('@') {
        return None;
    }
    let mut out = String::with_capacity(address.len());
    out.push_str(local);
    out.push('@');
    for c in domain.nfkc().flat_map(char::to_lowercase) {
        out.push(if matches!(c, '\u{3002}' | '\u{ff0e}' | '\u{ff61}') { '.' } else { c });
    }
    Some(out)
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

/// The byte range of `v` left after trimming (with `trim`), removing `mailto:` (any ASCII
/// case) and reducing a value that ends in `>` to what its last `<` encloses, until nothing
/// changes.
fn strip(v: &[u8], trim: impl Fn(&[u8], usize, usize) -> (usize, usize)) -> (usize, usize) {
    // The usual value: nothing to trim, no `mailto:`, not ending in `>` (any byte >= 0x80
    // takes the general path too).
    if let (Some(&first), Some(&last)) = (v.first(), v.last()) {
        if first > b' '
            && first < 0x80
            && !matches!(first, b'm' | b'M')
            && last > b' '
            && last < 0x80
            && last != b'>'
        {
            return (0, v.len());
        }
    }
    strip_general(v, trim)
}

/// [`strip`] for a value with something to strip (or possibly so).
#[cold]
#[inline(never)]
fn strip_general(v: &[u8], trim: impl Fn(&[u8], usize, usize) -> (usize, usize)) -> (usize, usize) {
    let (mut start, mut end) = trim(v, 0, v.len());
    loop {
        let s = &v[start..end];
        if s.len() >= MAILTO.len() && s[..MAILTO.len()].eq_ignore_ascii_case(MAILTO) {
            start += MAILTO.len();
        } else if let Some(open) = enclosed_from(s) {
            start += open + 1;
            end -= 1;
        } else {
            return (start, end);
        }
        (start, end) = trim(v, start, end);
    }
}

/// For a value ending in `>`, the position of its last `<`.
fn enclosed_from(s: &[u8]) -> Option<usize> {
    match s.last() {
        Some(b'>') => s.iter().rposition(|&b| b == b'<'),
        _ => None,
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

/// The ASCII characters of an unquoted local part besides letters, digits and `.` (RFC 5322
/// `atext`).
const ATEXT_SPECIALS: &[u8] = b"!#$%&'*+-/=?^_`{|}~";

/// The validity rules of the module documentation, for a lowercased, stripped, NFC address.
fn is_valid(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let ascii = address.is_ascii();
    !domain.contains('@')
        && (!ascii || address.len() <= 254)
        && is_valid_local(local)
        && is_valid_domain(domain)
}

fn is_valid_local(local: &str) -> bool {
    let safe = |(i, c): (usize, char)| {
        if c.is_ascii() {
            c.is_ascii_alphanumeric() || c == '.' || ATEXT_SPECIALS.contains(&(c as u8))
        } else {
            match c.general_category_group() {
                GeneralCategoryGroup::Letter
                | GeneralCategoryGroup::Number
                | GeneralCategoryGroup::Punctuation
                | GeneralCategoryGroup::Symbol => true,
                GeneralCategoryGroup::Mark => i > 0,
                _ => false,
            }
        }
    };
    !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().enumerate().all(safe)
}

fn is_valid_domain(domain: &str) -> bool {
    let mut labels = domain.split('.');
    let tld = labels.next_back().expect("split yields one part at least");
    (!domain.is_ascii() || domain.len() <= 253)
        && domain.contains('.')
        && domain.split('.').all(is_valid_label)
        && tld.chars().next_back().is_some_and(|c| c.is_ascii_lowercase() || !c.is_ascii())
        && !SPECIAL_USE.contains(&tld)
}

fn is_valid_label(label: &str) -> bool {
    let ok = |(i, c): (usize, char)| {
        if c.is_ascii() {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
        } else {
            match c.general_category_group() {
                GeneralCategoryGroup::Letter | GeneralCategoryGroup::Number => true,
                GeneralCategoryGroup::Mark => i > 0,
                _ => false,
            }
        }
    };
    let b = label.as_bytes();
    !label.is_empty()
        && (!label.is_ascii() || label.len() <= 63)
        && !label.starts_with('-')
        && !label.ends_with('-')
        && !(b.len() >= 4 && &b[2..4] == b"--" && !label.starts_with("xn"))
        && label.chars().enumerate().all(ok)
}

/// Per-byte classes of the ASCII check ([`lowercase_checked`]): bit [`LOCAL`] for bytes of an
/// unquoted local part (`.` included), bit [`HOST`] for bytes of a lowercase domain (`a-z 0-9
/// - .`). Non-ASCII bytes have neither.
const CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        let mut special = false;
        let mut k = 0;
        while k < ATEXT_SPECIALS.len() {
            special |= ATEXT_SPECIALS[k] == c;
            k += 1;
        }
        if c.is_ascii_alphanumeric() || special || c == b'.' {
            table[b] |= LOCAL;
        }
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.' {
            table[b] |= HOST;
        }
        b += 1;
    }
    table
};
const LOCAL: u8 = 1;
const HOST: u8 = 2;

/// The class bits ([`CLASS`]) that every byte of `v` has.
fn common_class(v: &[u8]) -> u8 {
    let class = |b: &u8| CLASS[usize::from(*b)];
    // Eight lookups per step, and-ed as one expression: fewer loop steps.
    let mut chunks = v.chunks_exact(8);
    let mut acc = u8::MAX;
    for c in &mut chunks {
        acc &= (class(&c[0]) & class(&c[1])) & (class(&c[2]) & class(&c[3]));
        acc &= (class(&c[4]) & class(&c[5])) & (class(&c[6]) & class(&c[7]));
    }
    chunks.remainder().iter().fold(acc, |acc, b| acc & class(b))
}

/// Appends `v` lowercased and tells whether it is valid as [`is_valid`] defines it; None
/// when `v` is not ASCII (then `out` holds garbage).
///
/// The common address (no two of `.` `-` `@` next to each other, a domain of at most 63
/// bytes) is decided by the class folds and its top-level label alone: every label rule that
/// needs more than that involves such a pair. Other addresses take [`is_valid_ascii_exact`].
fn lowercase_checked(v: &[u8], out: &mut Vec<u8>) -> Option<bool> {
    let scan = lowercase_scan(v, out);
    if scan.non_ascii {
        return None;
    }
    if scan.ats != 1 || out.len() > 254 {
        return Some(false);
    }
    let (local, domain) = (&out[..scan.at], &out[scan.at + 1..]);
    if scan.punct_pair || domain.len() > 63 {
        return Some(is_valid_ascii_exact(local, domain));
    }
    // No `..`, `.@`, `@.`, `@-`, `.-`, `-.` or `--`: no empty label, no label starting or
    // ending with `-` but the last one (which ends in a letter here), no `ab--` label, no dot
    // last in the local part; a domain of at most 63 bytes has no label longer than that.
    let Some(dot) = domain.iter().rposition(|&b| b == b'.') else {
        return Some(false);
    };
    let tld = &domain[dot + 1..];
    Some(
        matches!(local.first(), Some(&first) if first != b'.')
            && tld.last().is_some_and(u8::is_ascii_lowercase)
            && scan.outside_host.is_none_or(|(last, local)| local && last < scan.at)
            && !is_special_use(tld),
    )
}

/// [`lowercase_checked`]'s decision for any lowercase ASCII local part and domain, rule by
/// rule.
#[cold]
#[inline(never)]
fn is_valid_ascii_exact(local: &[u8], domain: &[u8]) -> bool {
    // No `..` anywhere: a local part is valid when it neither starts nor ends with a dot.
    !local.windows(2).any(|w| w == b"..")
        && matches!(local, [first, .., last] | [first @ last] if *first != b'.' && *last != b'.')
        && common_class(local) & LOCAL != 0
        && is_valid_domain_ascii(domain)
}

/// [`is_valid_domain`] for lowercase ASCII.
fn is_valid_domain_ascii(domain: &[u8]) -> bool {
    if domain.len() > 253 || common_class(domain) & HOST == 0 {
        return false;
    }
    let mut label = 0;
    for (dot, _) in domain.iter().enumerate().filter(|&(_, &b)| b == b'.') {
        if !is_valid_label_ascii(&domain[label..dot]) {
            return false;
        }
        label = dot + 1;
    }
    let tld = &domain[label..];
    label > 0
        && is_valid_label_ascii(tld)
        && tld[tld.len() - 1].is_ascii_lowercase()
        && !is_special_use(tld)
}

/// Whether an ASCII top-level label is one of [`SPECIAL_USE`] (length first: most are not).
fn is_special_use(tld: &[u8]) -> bool {
    (4..=9).contains(&tld.len()) && SPECIAL_USE.iter().any(|s| s.as_bytes() == tld)
}

/// [`is_valid_label`] for a label of lowercase ASCII `a-z 0-9 -`.
fn is_valid_label_ascii(label: &[u8]) -> bool {
    (1..=63).contains(&label.len())
        && label[0] != b'-'
        && label[label.len() - 1] != b'-'
        && !(label.len() >= 4 && &label[2..4] == b"--" && &label[..2] != b"xn")
}

/// What [`lowercase_scan`] found.
struct Scan {
    /// Number of `@`, counted up to 2.
    ats: u32,
    /// Position of the last `@`.
    at: usize,
    /// Two of `.` `-` `@` follow each other somewhere.
    punct_pair: bool,
    /// For the bytes other than `@` outside [`HOST`] (after lowercasing), if any: the position
    /// of the last, and whether all are in [`LOCAL`]. So the local part before the only `@`
    /// is all [`LOCAL`] and the domain after it all [`HOST`] exactly when this is None or
    /// `(last, true)` with `last` before the `@` ([`HOST`] bytes are all [`LOCAL`]).
    outside_host: Option<(usize, bool)>,
    /// Some byte is not ASCII (then the other fields mean nothing).
    non_ascii: bool,
}

/// `0x01` in every byte lane of a word.
const ONES: u64 = u64::from_ne_bytes([1; 8]);
/// The high bit of every byte lane.
const HIGH: u64 = ONES << 7;
/// A word of `a`: padding that sets no flag of [`lowercase_scan`].
const PAD: u64 = ONES * b'a' as u64;

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

/// The high bit of each byte lane of `x` within `lo..=hi` (ASCII `x`, `hi < 0x7f`).
const fn lanes_within(x: u64, lo: u8, hi: u8) -> u64 {
    lanes_at_least(x, lo) & !lanes_at_least(x, hi + 1)
}

/// The state of [`lowercase_scan`] between words.
struct Scanner {
    scan: Scan,
    /// All words or-ed together (for their high bits).
    high: u64,
    /// The `.` `-` `@` lanes of the previous word (only its last lane is read).
    punct_before: u64,
}

impl Scanner {
    /// Takes the word of the input's bytes from `base` on (the first byte lowest; padded with
    /// `a` past the end) and returns them lowercased.
    #[inline(always)]
    fn word(&mut self, base: usize, raw: u64) -> [u8; 8] {
        let scan = &mut self.scan;
        self.high |= raw;
        // Non-ASCII lanes (the value is then discarded) must not carry into the next lane.
        let x = raw & !HIGH;
        let at = lanes_equal(x, b'@');
        // `-` and `.` are 0x2d and 0x2e.
        let dash_dot = lanes_within(x, b'-', b'.');
        let punct = dash_dot | at;
        // A punctuation lane followed by one, within the word or across its start.
        scan.punct_pair |= punct & ((punct >> 8) | (self.punct_before >> 56)) != 0;
        self.punct_before = punct;
        let upper = lanes_within(x, b'A', b'Z');
        if at != 0 {
            scan.ats += 1 + u32::from(at & (at - 1) != 0);
            scan.at = base + (63 - at.leading_zeros() as usize) / 8;
        }
        let lower = x | (upper >> 2);
        let host = lanes_within(lower, b'a', b'z') | lanes_within(lower, b'0', b'9') | dash_dot;
        let mut outside = HIGH & !host & !at;
        if outside != 0 {
            let mut local = scan.outside_host.is_none_or(|(_, local)| local);
            let last = base + (63 - outside.leading_zeros() as usize) / 8;
            let bytes = lower.to_le_bytes();
            while outside != 0 {
                let lane = outside.trailing_zeros() as usize / 8;
                local &= CLASS[usize::from(bytes[lane])] & LOCAL != 0;
                outside &= outside - 1;
            }
            scan.outside_host = Some((last, local));
        }
        lower.to_le_bytes()
    }
}

/// Appends ASCII `v` lowercased to `out`, 8 bytes at a time, and reports what [`Scan`] holds.
fn lowercase_scan(v: &[u8], out: &mut Vec<u8>) -> Scan {
    let scan = Scan { ats: 0, at: 0, punct_pair: false, outside_host: None, non_ascii: false };
    let mut s = Scanner { scan, high: 0, punct_before: 0 };
    let (n, len) = (v.len(), out.len() + v.len());
    out.reserve(n + 8);
    let mut chunks = v.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let lower = s.word(base, u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        out.extend_from_slice(&lower);
        base += 8;
    }
    let rest = chunks.remainder().len();
    if rest > 0 {
        let last = if n >= 8 {
            // The last 8 bytes, shifted so that the rest starts the word, padded above it.
            let tail = u64::from_le_bytes(v[n - 8..].try_into().expect("8 bytes"));
            tail >> (8 * (8 - rest)) | PAD << (8 * rest)
        } else {
            let mut padded = PAD.to_le_bytes();
            padded[..rest].copy_from_slice(&v[..rest]);
            u64::from_le_bytes(padded)
        };
        // A whole word written, then cut: cheaper than a copy of the rest's length.
        out.extend_from_slice(&s.word(base, last));
        out.truncate(len);
    }
    let mut scan = s.scan;
    scan.ats = scan.ats.min(2);
    scan.non_ascii = s.high & HIGH != 0;
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
    fn display_names_are_dropped() {
        let want = (Outcome::Valid, "jan.muster@muster.de".to_string());
        for v in [
            "Jan Muster <jan.muster@muster.de>",
            "\"Muster, Jan\" <Jan.Muster@Muster.DE>",
            "Jan Muster<jan.muster@muster.de>",
            "Jürgen Groß <jan.muster@muster.de>",
            "\"a <b\" <jan.muster@muster.de>",
            "Jan <mailto:jan.muster@muster.de>",
            " <jan.muster@muster.de> ",
        ] {
            assert_eq!(norm(v), want, "{v}");
        }
        assert_eq!(norm("<jan@muster.de> Jan").0, Outcome::Invalid(Flaw::Malformed));
        assert_eq!(norm("Jan Muster <>").0, Outcome::Empty);
    }

    #[test]
    fn a_display_name_with_a_comma_survives_csv_quoting() {
        let csv = "id,mail\n1,\"\"\"Muster, Jan\"\" <jan@muster.de>\"\n";
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(norm(&record[1]), (Outcome::Valid, "jan@muster.de".into()));
    }

    #[test]
    fn decomposed_addresses_are_composed() {
        let want = (Outcome::Valid, "m\u{e4}rta@k\u{f6}ln.de".to_string());
        assert_eq!(norm("ma\u{308}rta@ko\u{308}ln.de"), want);
        assert_eq!(norm("M\u{c4}RTA@K\u{d6}LN.DE"), want);
        assert_eq!(norm("m\u{e4}rta@k\u{f6}ln.de"), want);
    }

    #[test]
    fn full_width_domain_forms_are_read_but_not_in_the_local_part() {
        for v in ["jan@muster\u{ff0e}de", "jan@muster\u{3002}de", "jan@\u{ff2d}USTER.de"] {
            assert_eq!(norm(v), (Outcome::Valid, "jan@muster.de".into()), "{v}");
        }
        assert_eq!(norm("\u{ff2a}an@muster.de"), (Outcome::Valid, "\u{ff4a}an@muster.de".into()));
        assert_eq!(norm("jan\u{ff20}muster.de").0, Outcome::Invalid(Flaw::Malformed));
    }

    #[test]
    fn special_use_domains_are_malformed() {
        for tld in SPECIAL_USE {
            assert_eq!(norm(&format!("jan@muster.{tld}")).0, Outcome::Invalid(Flaw::Malformed));
            assert_eq!(norm(&format!("jan@{tld}")).0, Outcome::Invalid(Flaw::Malformed));
        }
        for v in ["jan@example.com", "jan@example.org", "jan@test.de", "jan@localhost.de"] {
            assert_eq!(norm(v).0, Outcome::Valid, "{v}");
        }
    }

    #[test]
    fn hostname_rules_apply_to_the_domain() {
        for v in [
            "jan@-muster.de",
            "jan@muster-.de",
            "jan@muster.-de",
            "jan@ab--cd.de",
            "jan@mus_ter.de",
            "jan@muster.d3",
            "jan@[192.0.2.1]",
            &format!("jan@{}.de", "a".repeat(64)),
            &format!("{}@{}.de", "j".repeat(64), vec!["a".repeat(60); 4].join(".")),
        ] {
            assert_eq!(norm(v).0, Outcome::Invalid(Flaw::Malformed), "{v}");
        }
        for v in [
            "jan@mus-ter.de",
            "jan@xn--kln-sna.de",
            "jan@a1.de",
            &format!("jan@{}.de", "a".repeat(63)),
        ] {
            assert_eq!(norm(v).0, Outcome::Valid, "{v}");
        }
    }

    #[test]
    fn unsafe_characters_and_bad_dots_are_malformed() {
        for v in [
            "jan\u{200b}@muster.de",
            "jan\u{202e}@muster.de",
            "jan\u{ad}@muster.de",
            "jan\u{e000}@muster.de",
            "\u{301}jan@muster.de",
            "jan@mus\u{200b}ter.de",
            "jan@m\u{fc}\u{20ac}ster.de",
            "jan,x@muster.de",
            "jan(x)@muster.de",
            "jan:x@muster.de",
            "\"jan x\"@muster.de",
            "jan..x@muster.de",
            ".jan@muster.de",
            "jan.@muster.de",
        ] {
            assert_eq!(norm(v).0, Outcome::Invalid(Flaw::Malformed), "{v}");
        }
        for v in
            ["jan!#$%&'*+-/=?^_`{|}~@muster.de", "jan\u{20ac}@muster.de", "j\u{e4}n@m\u{fc}ster.de"]
        {
            assert_eq!(norm(v).0, Outcome::Valid, "{v}");
        }
    }

    #[test]
    fn agrees_with_email_validator_vectors() {
        let rows = testkit::check_vectors(normalize, include_str!("vectors/email.jsonl"));
        assert!(rows >= 50, "{rows}");
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

    fn assert_same_as_reference(s: &str) -> Result<(), TestCaseError> {
        let (mut fast, mut slow) = (vec![b'#'; 3], vec![b'#'; 5]);
        let want = reference(s, &mut slow);
        prop_assert_eq!(normalize(s, &mut fast), want, "outcome of {:?}", s);
        prop_assert_eq!(fast, slow, "bytes of {:?}", s);
        Ok(())
    }

    /// [`lowercase_scan`]'s word-wise lowercasing and classes against the byte-wise ones.
    fn assert_scan_as_bytewise(s: &str) -> Result<(), TestCaseError> {
        let mut out = b"##".to_vec();
        out.clear();
        let scan = lowercase_scan(s.as_bytes(), &mut out);
        prop_assert_eq!(scan.non_ascii, !s.is_ascii());
        if scan.non_ascii {
            return Ok(());
        }
        prop_assert_eq!(&out, &s.to_ascii_lowercase().into_bytes());
        let ats = out.iter().filter(|&&b| b == b'@').count();
        prop_assert_eq!(scan.ats as usize, ats.min(2));
        if ats == 1 {
            let at = out.iter().position(|&b| b == b'@').unwrap();
            prop_assert_eq!(scan.at, at);
            let bytewise =
                common_class(&out[..at]) & LOCAL != 0 && common_class(&out[at + 1..]) & HOST != 0;
            let wordwise = scan.outside_host.is_none_or(|(last, local)| local && last < at);
            prop_assert_eq!(wordwise, bytewise, "classes of {:?}", s);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(testkit::EQUIVALENCE_CASES))]

        #[test]
        fn normalisation_equals_reference_on_any_string(s in any::<String>()) {
            assert_same_as_reference(&s)?;
        }

        #[test]
        fn scan_equals_bytewise_on_ascii_addresses(
            s in "[a-zA-Z0-9._+-]{0,3}[\x00-\x7f]{0,2}[a-zA-Z0-9._+-]{0,20}@?[a-z0-9.-]{0,20}[\x00-\x7f]{0,2}[a-z.]{0,4}"
        ) {
            assert_scan_as_bytewise(&s)?;
            assert_same_as_reference(&s)?;
        }

        #[test]
        fn scan_equals_bytewise_on_any_string(s in any::<String>()) {
            assert_scan_as_bytewise(&s)?;
        }

        #[test]
        fn normalisation_equals_reference_on_long_addresses(
            local in "[a-zA-Z0-9_.!#$%&'*+/=?^`{|}~-]{1,70}", domain in "[a-zA-Z0-9.-]{1,70}",
            tld in "(de|com|local|d3|)"
        ) {
            assert_same_as_reference(&format!("{local}@{domain}.{tld}"))?;
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
        fn normalisation_equals_reference_on_dots_and_hyphens(
            s in "[a-z.]{0,17}@[a-z.-]{0,17}(de|xn--a|local)?"
        ) {
            assert_same_as_reference(&s)?;
        }

        #[test]
        fn normalisation_equals_reference_on_address_noise(
            s in "[ \t<>\"]{0,2}((?i)mailto:){0,2}[ <]{0,2}[a-zA-Z0-9ÄÖÜäöüßİ\\u{212a}.+@ <>,\"-]{0,20}[ \t>.@-]{0,3}((?i)[.](de|test|xn--a|ab--c|local))?[>]?"
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
            s in "[ <>\"]{0,2}((?i)mailto:){0,2}[ <]{0,2}[a-zA-ZÄÖÜäöüß.+@ ,\"\u{308}\u{ff0e}\u{3002}\u{ff21}-]{0,20}[ >]{0,3}"
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
