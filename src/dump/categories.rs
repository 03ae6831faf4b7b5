//! GDPR data categories of a dump's columns: which columns hold a name, an address, health
//! data, ... (by the identifier field mapped to them, or by header synonyms). A scan tests
//! these cells for being non-empty; forensics counts the categories of matched rows.

// Reviewed (#11): `found` is a 256-entry table indexed by a `u8`.
#![allow(clippy::indexing_slicing)]

use crate::dump::Layout;
use crate::ident::Field;

/// Data categories, in report order: (name, Art. 9 special category).
pub const CATEGORIES: [(&str, bool); 8] = [
    ("name", false),
    ("birth_date", false),
    ("address", false),
    ("email", false),
    ("phone", false),
    ("bank", false),
    ("insurance_number", false),
    ("health", true),
];

/// Header synonyms (lower case, German and English) per category.
pub const SYNONYMS: [(&str, &[&str]); 8] = [
    ("name", &["name", "vorname", "nachname", "surname", "familienname"]),
    ("birth_date", &["geburt", "birth", "dob", "geb."]),
    (
        "address",
        &[
            "strasse",
            "straße",
            "street",
            "adresse",
            "address",
            "plz",
            "postleitzahl",
            "zip",
            "ort",
            "city",
            "wohnort",
            "hausnummer",
        ],
    ),
    ("email", &["mail"]),
    ("phone", &["telefon", "phone", "handy", "mobil", "tel.", "fax"]),
    ("bank", &["iban", "bic", "konto", "bank", "account"]),
    (
        "insurance_number",
        &[
            "versichertennummer",
            "kvnr",
            "versicherungsnummer",
            "insurance",
            "rvnr",
            "sozialversicherung",
        ],
    ),
    (
        "health",
        &[
            "diagnose",
            "diagnosis",
            "icd",
            "befund",
            "medikation",
            "medikament",
            "medication",
            "krankenkasse",
            "krankheit",
            "therapie",
            "behandlung",
            "arzt",
            "pflegegrad",
            "behinderung",
            "allergie",
            "blutgruppe",
            "ops-code",
            "health",
        ],
    ),
];

fn field_category(f: Field) -> &'static str {
    match f {
        Field::Kvnr => "insurance_number",
        Field::Email => "email",
        Field::Phone => "phone",
        Field::LastName | Field::FirstName | Field::FullName => "name",
        Field::BirthDate => "birth_date",
        Field::Iban => "bank",
    }
}

/// Index of a category in [`CATEGORIES`].
fn index(name: &str) -> usize {
    CATEGORIES.iter().position(|c| c.0 == name).expect("known category")
}

/// The categories of each column header, by [`SYNONYMS`].
fn header_categories(header: &str) -> impl Iterator<Item = usize> + '_ {
    let h = header.to_lowercase();
    SYNONYMS
        .iter()
        .filter(move |(_, words)| words.iter().any(|w| h.contains(w)))
        .map(|(cat, _)| index(cat))
}

/// The categories an input's columns hold, in [`CATEGORIES`] order (what its columns say,
/// shown per input; the counts come from values, see [`category_columns`]).
pub fn categories(layout: &Layout) -> Vec<String> {
    let mut found = [false; CATEGORIES.len()];
    for (_, bit) in category_columns(layout) {
        found[usize::from(bit)] = true;
    }
    CATEGORIES.iter().zip(found).filter(|(_, f)| *f).map(|(c, _)| c.0.to_string()).collect()
}

/// The columns whose non-empty cells show a category, each with the category's index: the
/// columns mapped to identifier fields, and every column whose header is a synonym of a
/// category (address, health, ...). A scan tests each such cell of every record for being
/// non-empty, so a category counts for a matched row only when the row holds a value of it.
pub fn category_columns(layout: &Layout) -> Vec<(usize, u8)> {
    let mut out: Vec<(usize, u8)> = Vec::new();
    let mut add = |col: usize, cat: usize| {
        let bit = cat as u8;
        if !out.contains(&(col, bit)) {
            out.push((col, bit));
        }
    };
    for f in Field::ALL {
        if let Some(col) = layout.mapping.fields.get(f) {
            add(col, index(field_category(f)));
        }
    }
    for (col, header) in layout.columns.iter().enumerate() {
        for cat in header_categories(header) {
            add(col, cat);
        }
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::Source;

    #[test]
    fn recognises_health_and_address_columns_by_header() {
        let csv = "KVNR;Nachname;Vorname;Geburtsdatum;Straße;PLZ;ICD-10 Diagnose;Medikation\n\
                   A123456780;Meier;Jan;01.02.1970;x;1;y;z\n";
        let src = Source::from_bytes("t.csv", csv.as_bytes().to_vec());
        let layout = Layout::detect(src.head(), None, &[]).unwrap();
        let cats = categories(&layout);
        for c in ["name", "birth_date", "address", "insurance_number", "health"] {
            assert!(cats.contains(&c.to_string()), "{c} in {cats:?}");
        }
        assert!(!cats.contains(&"bank".to_string()));
    }
}
