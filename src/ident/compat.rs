//! Unicode compatibility forms of ASCII-shaped identifiers (`kvnr`, `phone`, `iban`).
//!
//! Values copied from word processors, PDFs or East Asian input methods carry full-width
//! letters and digits (`０１７１`, `ＤＥ８９`), full-width punctuation (`＋`, `（`) and
//! typographic dashes. NFKC maps the full-width forms to ASCII; it is safe for these kinds
//! because their valid forms are ASCII only, so no two different valid values can meet. The
//! dashes U+2010–U+2015 and the minus sign U+2212 are not NFKC-equivalent to `-` but are read
//! as hyphens, as libphonenumber does.
//!
//! Only the normalisers' non-ASCII paths call this: ASCII input never pays for it.

use unicode_normalization::char::decompose_compatible;

/// The ASCII byte a non-ASCII character stands for in an ASCII-shaped identifier: `b' '` for
/// white space, `b'-'` for a dash, otherwise its NFKC form when that is one ASCII character.
/// None for anything else.
pub fn ascii_byte(c: char) -> Option<u8> {
    if c.is_whitespace() {
        return Some(b' ');
    }
    if matches!(c, '\u{2010}'..='\u{2015}' | '\u{2212}') {
        return Some(b'-');
    }
    // NFKC of one character is its compatibility decomposition recomposed; a one-character
    // ASCII decomposition composes with nothing, so the decomposition decides.
    let (mut first, mut count) = (None, 0);
    decompose_compatible(c, |d| {
        first = first.or(Some(d));
        count += 1;
    });
    match first {
        Some(d) if count == 1 && d.is_ascii() => Some(d as u8),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_forms_dashes_and_spaces_map_to_ascii() {
        for (c, want) in [
            ('\u{ff10}', b'0'),
            ('\u{ff19}', b'9'),
            ('\u{ff24}', b'D'),
            ('\u{ff45}', b'e'),
            ('\u{ff0b}', b'+'),
            ('\u{ff08}', b'('),
            ('\u{ff0e}', b'.'),
            ('\u{2011}', b'-'),
            ('\u{2212}', b'-'),
            ('\u{a0}', b' '),
            ('\u{3000}', b' '),
        ] {
            assert_eq!(ascii_byte(c), Some(want), "{c:?}");
        }
    }

    #[test]
    fn other_characters_have_no_ascii_form() {
        for c in ['ä', 'ß', '½', '\u{200b}', '€', '\u{0301}', '中'] {
            assert_eq!(ascii_byte(c), None, "{c:?}");
        }
    }
}
