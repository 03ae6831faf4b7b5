//! GDPR summary: approximate data subjects and records by data category in the matched rows.
//!
//! A category is present in an input when a mapped field or a column header says so (header
//! synonyms in [`SYNONYMS`], matched case-insensitively as substrings of the header). Each
//! matched row of an input counts for every category that input holds (approximate: an empty
//! cell is not checked). Subjects per category = people × (category records / matched rows).
//! Health data (Art. 9 GDPR, special categories) is flagged. Counts only, never values.

use serde::{Deserialize, Serialize};

use super::Signals;
use crate::dump::Layout;
use crate::ident::Field;
use crate::tally::Tally;

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

/// The categories an input's columns hold, in [`CATEGORIES`] order.
pub fn categories(layout: &Layout) -> Vec<String> {
    let mut found = [false; CATEGORIES.len()];
    let index = |name: &str| CATEGORIES.iter().position(|c| c.0 == name).expect("known");
    for f in Field::ALL {
        if layout.mapping.fields.get(f).is_some() {
            found[index(field_category(f))] = true;
        }
    }
    for col in &layout.columns {
        let h = col.to_lowercase();
        for (cat, words) in SYNONYMS {
            if words.iter().any(|w| h.contains(w)) {
                found[index(cat)] = true;
            }
        }
    }
    CATEGORIES.iter().zip(found).filter(|(_, f)| *f).map(|(c, _)| c.0.to_string()).collect()
}

/// The summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gdpr {
    /// Approximate data subjects (the people signal).
    pub subjects: f64,
    /// Approximate affected records (FP-corrected matched rows).
    pub records: f64,
    pub categories: Vec<CategoryCount>,
    /// Art. 9 special-category (health) data present in matched rows.
    pub art9: bool,
}

/// One category.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CategoryCount {
    pub category: String,
    pub art9: bool,
    pub records: f64,
    pub subjects: f64,
}

/// Builds the summary for the main filter `main` (index into the tallies' filters).
pub fn summary(s: &Signals, main: Option<usize>, inputs: &[(&[String], &Tally)]) -> Gdpr {
    let records = s.matched_rate.estimate * s.rows_probed as f64;
    let subjects = s.people.estimate;
    let matched = |t: &Tally| main.map_or(0, |i| t.filters.get(i).map_or(0, |f| f.matched_any));
    let all: u64 = inputs.iter().map(|(_, t)| matched(t)).sum();
    let categories: Vec<CategoryCount> = CATEGORIES
        .iter()
        .filter_map(|&(cat, art9)| {
            let raw: u64 = inputs
                .iter()
                .filter(|(c, _)| c.iter().any(|x| x == cat))
                .map(|i| matched(i.1))
                .sum();
            (raw > 0).then(|| {
                let part = raw as f64 / all.max(1) as f64;
                CategoryCount {
                    category: cat.into(),
                    art9,
                    records: records * part,
                    subjects: subjects * part,
                }
            })
        })
        .collect();
    let art9 = categories.iter().any(|c| c.art9);
    Gdpr { subjects, records, categories, art9 }
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
