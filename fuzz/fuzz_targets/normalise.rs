//! Every normaliser (`src/ident/`): kvnr, email, phone, iban, date, name, and the record
//! extractor that combines them (name + birth date, phonetic codes, full-name splitting).
//!
//! Oracles:
//! - no normaliser panics, on any text;
//! - idempotence: a valid output is UTF-8 and normalising it again gives the same output,
//!   again valid;
//! - the extractor's base kinds agree with the normalisers run alone on the same fields.
#![no_main]

use leakmatch::ident::{
    date, email, iban, kvnr, name, phone, phonetic, Extractor, Field, Kind, Outcome,
};
use libfuzzer_sys::fuzz_target;

type Normalise = fn(&str, &mut Vec<u8>) -> Outcome;

const ALL: [(&str, Normalise); 6] = [
    ("kvnr", kvnr::normalize),
    ("email", email::normalize),
    ("phone", phone::normalize),
    ("iban", iban::normalize),
    ("date", date::normalize),
    ("name", name::normalize),
];

fn idempotent(what: &str, f: Normalise, input: &str) -> (Outcome, Vec<u8>) {
    let mut out = Vec::new();
    let outcome = f(input, &mut out);
    if outcome != Outcome::Valid {
        return (outcome, out);
    }
    let text =
        std::str::from_utf8(&out).unwrap_or_else(|_| panic!("{what}: valid output is not UTF-8"));
    let mut again = Vec::new();
    let second = f(text, &mut again);
    assert_eq!(second, Outcome::Valid, "{what}: a normalised value is not valid");
    assert!(again == out, "{what}: normalising twice changes the value");
    (outcome, out)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut results = Vec::new();
    for (what, f) in ALL {
        results.push(idempotent(what, f, &text));
    }
    let (name_outcome, name_out) = &results[5];
    if *name_outcome == Outcome::Valid {
        let mut code = Vec::new();
        phonetic::cologne(name_out, &mut code);
    }
    let _ = name::split_full(&text);

    // The extractor over fields cut from the input at TAB bytes.
    let fields: Vec<&str> = text.split('\t').collect();
    let field = |f: Field| fields.get(f.index()).copied();
    let mut ex = Extractor::new(&Kind::ALL);
    ex.run(field);
    for (kind, f, i) in [
        (Kind::Kvnr, Field::Kvnr, 0),
        (Kind::Email, Field::Email, 1),
        (Kind::Phone, Field::Phone, 2),
        (Kind::Iban, Field::Iban, 3),
    ] {
        let (outcome, value) = ex.get(kind).expect("a wanted base kind");
        let mut alone = Vec::new();
        let want = ALL[i].1(field(f).unwrap_or(""), &mut alone);
        assert_eq!(outcome, want, "{kind}: extractor and normaliser disagree");
        if want == Outcome::Valid {
            assert!(value == &alone[..], "{kind}: extractor and normaliser values differ");
        }
    }
    let _ = ex.get(Kind::NameDob);
    let _ = ex.get(Kind::NameDobPhonetic);
    let _ = ex.birth_year();
});
