//! How a field is spelt in the leak: the noise of a German export.
//!
//! Every variant here changes only what the product's normalisers remove (docs/normalisation.md): case,
//! surrounding spaces, spaces inside a KVNR, the spelling of a German phone number, and the
//! date format among `dd.mm.yyyy` and `d.m.yyyy`. A valid value therefore stays valid and keeps
//! its normalised form; this is the assumption the exact truth rests on.

// Reviewed (#11): synthetic data: `start` is the buffer's length before this value was appended.
#![allow(clippy::indexing_slicing)]

use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::names::Spellings;
use super::population::push_num;

/// Writes a KVNR: as is, lower case, with spaces inside, or with a stray space around it.
pub fn kvnr(rng: &mut Pcg64Mcg, out: &mut Vec<u8>, v: &[u8; 10]) {
    let pad = rng.gen_ratio(1, 20);
    if pad {
        out.push(b' ');
    }
    match rng.gen_range(0..10) {
        0 => {
            out.push(v[0].to_ascii_lowercase());
            out.extend_from_slice(&v[1..]);
        }
        1 => {
            // as printed on some letters: "A123 456 789"
            out.extend_from_slice(&v[..4]);
            out.push(b' ');
            out.extend_from_slice(&v[4..7]);
            out.push(b' ');
            out.extend_from_slice(&v[7..]);
        }
        _ => out.extend_from_slice(v),
    }
    if pad {
        out.push(b' ');
    }
}

/// Writes a name as listed, in upper or lower case, sometimes with a space around it.
pub fn name(rng: &mut Pcg64Mcg, out: &mut Vec<u8>, s: &Spellings) {
    let spelt = match rng.gen_range(0..10) {
        0 => &s.upper,
        1 => &s.lower,
        _ => s.plain,
    };
    match rng.gen_range(0..40) {
        0 => out.push(b' '),
        1 => {
            out.extend_from_slice(spelt.as_bytes());
            out.push(b' ');
            return;
        }
        _ => {}
    }
    out.extend_from_slice(spelt.as_bytes());
}

/// Writes a date as `dd.mm.yyyy`, or `d.m.yyyy` for one row in seven.
pub fn date(rng: &mut Pcg64Mcg, out: &mut Vec<u8>, (y, m, d): (u32, u32, u32)) {
    let width = if rng.gen_ratio(1, 7) { 1 } else { 2 };
    push_num(out, d.into(), width);
    out.push(b'.');
    push_num(out, m.into(), width);
    out.push(b'.');
    push_num(out, y.into(), 4);
}

/// Changes the case of the ASCII e-mail address written since `start`: unchanged, every word
/// capitalised (`Anna.Mueller.7@Web.de`), or all upper case; sometimes adds a trailing space.
pub fn email_case(rng: &mut Pcg64Mcg, out: &mut Vec<u8>, start: usize) {
    match rng.gen_range(0..10) {
        0 => out[start..].make_ascii_uppercase(),
        1 => {
            let mut boundary = true;
            for b in &mut out[start..] {
                if boundary {
                    b.make_ascii_uppercase();
                }
                boundary = matches!(*b, b'.' | b'@' | b'-');
            }
        }
        _ => {}
    }
    if rng.gen_ratio(1, 25) {
        out.push(b' ');
    }
}

/// Writes a German phone number given its national prefix (without trunk `0`) and subscriber
/// number, in one of the spellings found in German exports.
pub fn phone(rng: &mut Pcg64Mcg, out: &mut Vec<u8>, prefix: &str, subscriber: u64, width: usize) {
    let p = prefix.as_bytes();
    match rng.gen_range(0..7) {
        0 => {
            out.push(b'0');
            out.extend_from_slice(p);
            out.push(b' ');
        }
        1 => {
            out.extend_from_slice(b"+49 (0)");
            out.extend_from_slice(p);
            out.push(b'/');
        }
        2 => {
            out.extend_from_slice(b"0049");
            out.extend_from_slice(p);
        }
        3 => {
            out.extend_from_slice(b"+49 ");
            out.extend_from_slice(p);
            out.push(b' ');
        }
        4 => {
            out.push(b'0');
            out.extend_from_slice(p);
            out.push(b'/');
        }
        5 => {
            out.push(b'0');
            out.extend_from_slice(p);
        }
        _ => {
            out.extend_from_slice(b"+49");
            out.extend_from_slice(p);
        }
    }
    push_num(out, subscriber, width);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn phone_spellings_all_carry_the_same_digits_after_the_trunk() {
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        for _ in 0..100 {
            let mut out = Vec::new();
            phone(&mut rng, &mut out, "171", 1_234_567, 7);
            let digits: String = std::str::from_utf8(&out)
                .unwrap()
                .replace("(0)", "")
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            let national = digits.trim_start_matches("0049").trim_start_matches("49");
            assert_eq!(national.trim_start_matches('0'), "1711234567");
        }
    }

    #[test]
    fn kvnr_noise_keeps_the_normalised_value() {
        let mut rng = Pcg64Mcg::seed_from_u64(4);
        let v = crate::ident::kvnr::with_check_digit(b'M', b"23456789");
        for _ in 0..200 {
            let mut out = Vec::new();
            kvnr(&mut rng, &mut out, &v);
            let mut norm = Vec::new();
            let o = crate::ident::kvnr::normalize(std::str::from_utf8(&out).unwrap(), &mut norm);
            assert_eq!(o, crate::ident::Outcome::Valid);
            assert_eq!(norm, v);
        }
    }
}
