//! Which column of a dump feeds which [`Field`] (README "Input formats"), and why.
//!
//! Columns are found by header synonyms in German and English, compared after
//! [`normalise_header`] (case, umlauts and punctuation do not matter: `E-Mail`, `e_mail` and
//! `EMAIL` are the same), and by `--map field=column` overrides by name or 1-based index, which
//! win over synonyms. Headerless files get no synonym mapping; content sniffing of columns is a
//! later addition and will report itself with its own [`Why`].
//!
//! Header names appear in reports only where they matched a synonym or `--map` named them, and
//! in errors only when they are recognised synonyms: a data row mistaken for a header must not
//! leak into a message.

use std::str::FromStr;

use super::DumpError;
use crate::ident::Field;

pub use crate::ident::FieldMap;

/// Header synonyms per field, in normalised form (see [`normalise_header`]).
const SYNONYMS: &[(Field, &[&str])] = &[
    (
        Field::Kvnr,
        &[
            "versichertennummer",
            "versichertennr",
            "vsnr",
            "kvnr",
            "krankenversichertennummer",
            "insurancenumber",
            "insuranceno",
            "memberid",
        ],
    ),
    (Field::LastName, &["nachname", "name", "familienname", "lastname", "surname", "familyname"]),
    (Field::FirstName, &["vorname", "firstname", "givenname", "forename"]),
    (Field::FullName, &["vollername", "fullname", "versicherter", "patient"]),
    (
        Field::BirthDate,
        &[
            "geburtsdatum",
            "gebdatum",
            "gebdat",
            "geburtstag",
            "dob",
            "dateofbirth",
            "birthdate",
            "birthday",
        ],
    ),
    (Field::Email, &["email", "emailadresse", "mail", "emailaddress"]),
    (
        Field::Phone,
        &["telefon", "telefonnummer", "tel", "phone", "phonenumber", "mobil", "handy", "mobile"],
    ),
    (Field::Iban, &["iban"]),
];

/// Lowercases, expands umlauts (ä→ae, ö→oe, ü→ue, ß→ss) and drops everything that is not a
/// letter or digit: `"E-Mail Adresse"` → `"emailadresse"`, `"Geb.-Datum"` → `"gebdatum"`.
pub fn normalise_header(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    for c in header.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c if c.is_alphanumeric() => out.push(c),
            _ => {}
        }
    }
    out
}

/// The field a header names, with the synonym that matched.
pub fn field_for_header(header: &str) -> Option<(Field, &'static str)> {
    let norm = normalise_header(header);
    SYNONYMS
        .iter()
        .find_map(|(field, words)| words.iter().find(|w| **w == norm).map(|w| (*field, *w)))
}

/// A column named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnRef {
    /// By header name (compared after [`normalise_header`] when no exact match exists).
    Name(String),
    /// By position: 1-based on the command line, stored 0-based.
    Index(usize),
}

/// One `--map field=column` override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnOverride {
    /// The field the column holds.
    pub field: Field,
    /// The column.
    pub column: ColumnRef,
}

impl FromStr for ColumnOverride {
    type Err = DumpError;

    /// Parses `field=column`, e.g. `kvnr=Versichertennummer` or `email=3` (1-based).
    fn from_str(spec: &str) -> Result<Self, DumpError> {
        let bad = |reason: String| DumpError::InvalidMap { spec: spec.to_owned(), reason };
        let (field, column) =
            spec.split_once('=').ok_or_else(|| bad("expected field=column".into()))?;
        let field = Field::from_name(field.trim()).ok_or_else(|| {
            let names: Vec<_> = Field::ALL.iter().map(|f| f.name()).collect();
            bad(format!("unknown field (known: {})", names.join(", ")))
        })?;
        let column = column.trim();
        let column = if column.is_empty() {
            return Err(bad("empty column".into()));
        } else if column.bytes().all(|b| b.is_ascii_digit()) {
            match column.parse::<usize>() {
                Ok(n) if n >= 1 => ColumnRef::Index(n - 1),
                _ => return Err(bad("column numbers start at 1".into())),
            }
        } else {
            ColumnRef::Name(column.to_owned())
        };
        Ok(ColumnOverride { field, column })
    }
}

/// Why a column was chosen for a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// Named by `--map`.
    Override,
    /// Its header matched this (normalised) synonym.
    HeaderSynonym(String),
    /// The format fixes it (a combo list's first column is the e-mail).
    Format(&'static str),
    /// Headerless file: this share (per mille) of the column's sampled values are valid for
    /// the field's kind (see `super::content`).
    Content {
        /// Valid values per 1000 sampled non-empty values.
        share: u16,
    },
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Why::Override => f.write_str("--map"),
            Why::HeaderSynonym(s) => write!(f, "header synonym '{s}'"),
            Why::Format(s) => write!(f, "format: {s}"),
            Why::Content { share } => {
                write!(f, "content: {}.{} % of sampled values valid", share / 10, share % 10)
            }
        }
    }
}

/// One line of the "which column fed which field" report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnReason {
    /// The field.
    pub field: Field,
    /// 0-based column index.
    pub column: usize,
    /// The column's header, if the file has one.
    pub header: Option<String>,
    /// Why this column.
    pub why: Why,
}

/// The columns feeding each field, with the reasons.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ColumnMapping {
    /// Column per field.
    pub fields: FieldMap,
    /// One reason per mapped field, overrides first, then in column order.
    pub reasons: Vec<ColumnReason>,
    /// Columns whose non-empty cells show a GDPR data category, with the category's bit
    /// (set by `scan` from `crate::dump::categories::category_columns`; empty for `build`).
    /// Readers read them too; their text is only tested for being non-empty.
    pub categories: Vec<(usize, u8)>,
}

impl ColumnMapping {
    /// The 0-based column feeding `field`, if any.
    pub fn column(&self, field: Field) -> Option<usize> {
        self.fields.get(field)
    }

    /// The distinct columns in use, ascending (what a [`super::RecordDecoder`] needs).
    pub fn columns(&self) -> Vec<usize> {
        let mut cols: Vec<usize> = Field::ALL.iter().filter_map(|&f| self.fields.get(f)).collect();
        cols.extend(self.categories.iter().map(|c| c.0));
        cols.sort_unstable();
        cols.dedup();
        cols
    }

    /// Maps `field` to `column` for `why`.
    pub fn set(&mut self, field: Field, column: usize, headers: &[String], why: Why) {
        self.fields.set(field, column);
        let header = headers.get(column).cloned();
        self.reasons.push(ColumnReason { field, column, header, why });
    }
}

/// Maps columns to fields: `overrides` first, then header synonyms for the fields and columns
/// still free. `headers` is empty for a headerless file (then only overrides by index apply).
pub fn map_columns(
    headers: &[String],
    overrides: &[ColumnOverride],
) -> Result<ColumnMapping, DumpError> {
    map_columns_by(headers, overrides, |h| h)
}

/// [`map_columns`], matching synonyms against `key(header)` (JSON lines: the last segment of
/// a dotted path); overrides still name whole headers.
pub fn map_columns_by(
    headers: &[String],
    overrides: &[ColumnOverride],
    key: impl Fn(&str) -> &str,
) -> Result<ColumnMapping, DumpError> {
    let mut mapping = ColumnMapping::default();
    for ov in overrides {
        let column = resolve(headers, ov)?;
        mapping.set(ov.field, column, headers, Why::Override);
    }
    for (column, header) in headers.iter().enumerate() {
        let Some((field, synonym)) = field_for_header(key(header)) else {
            continue;
        };
        let taken = Field::ALL.iter().any(|&f| mapping.fields.get(f) == Some(column));
        if mapping.column(field).is_none() && !taken {
            mapping.set(field, column, headers, Why::HeaderSynonym(synonym.to_owned()));
        }
    }
    Ok(mapping)
}

/// Finds the 0-based index of the column an override names. An unknown name is refused
/// without printing any header cell (a data row may have been taken for the header): only
/// the header's column count is named (#11).
fn resolve(headers: &[String], ov: &ColumnOverride) -> Result<usize, DumpError> {
    match &ov.column {
        ColumnRef::Index(i) if headers.is_empty() || *i < headers.len() => Ok(*i),
        ColumnRef::Index(i) => {
            Err(DumpError::ColumnOutOfRange { column: i + 1, count: headers.len() })
        }
        ColumnRef::Name(name) => {
            let norm = normalise_header(name);
            headers
                .iter()
                .position(|h| h == name)
                .or_else(|| headers.iter().position(|h| normalise_header(h) == norm))
                .ok_or_else(|| DumpError::UnknownColumn {
                    field: ov.field.name(),
                    name: name.clone(),
                    count: headers.len(),
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn normalises_case_umlauts_and_punctuation() {
        assert_eq!(normalise_header("E-Mail Adresse"), "emailadresse");
        assert_eq!(normalise_header("Geb.-Datum"), "gebdatum");
        assert_eq!(normalise_header("Straße/Nr."), "strassenr");
        assert_eq!(normalise_header("TELEFON_NUMMER"), "telefonnummer");
    }

    #[test]
    fn maps_german_export_by_synonyms() {
        let headers =
            strings(&["Versichertennummer", "Nachname", "Vorname", "Geburtsdatum", "Ort"]);
        let m = map_columns(&headers, &[]).unwrap();
        assert_eq!(m.column(Field::Kvnr), Some(0));
        assert_eq!(m.column(Field::LastName), Some(1));
        assert_eq!(m.column(Field::FirstName), Some(2));
        assert_eq!(m.column(Field::BirthDate), Some(3));
        assert_eq!(m.column(Field::Email), None);
        assert_eq!(m.reasons.len(), 4);
        assert_eq!(m.reasons[0].why, Why::HeaderSynonym("versichertennummer".into()));
        assert_eq!(m.columns(), vec![0, 1, 2, 3]);
    }

    #[test]
    fn maps_english_headers_regardless_of_case_and_punctuation() {
        let headers = strings(&["E-MAIL", "Date of Birth", "Phone Number", "IBAN", "member_id"]);
        let m = map_columns(&headers, &[]).unwrap();
        assert_eq!(m.column(Field::Email), Some(0));
        assert_eq!(m.column(Field::BirthDate), Some(1));
        assert_eq!(m.column(Field::Phone), Some(2));
        assert_eq!(m.column(Field::Iban), Some(3));
        assert_eq!(m.column(Field::Kvnr), Some(4));
    }

    #[test]
    fn override_by_name_wins_over_synonym() {
        let headers = strings(&["KVNR", "Nummer alt", "Mail"]);
        let ov: ColumnOverride = "kvnr=nummer ALT".parse().unwrap();
        let m = map_columns(&headers, &[ov]).unwrap();
        assert_eq!(m.column(Field::Kvnr), Some(1));
        assert_eq!(m.reasons[0].why, Why::Override);
        assert_eq!(m.reasons[0].header.as_deref(), Some("Nummer alt"));
        assert_eq!(m.column(Field::Email), Some(2));
    }

    #[test]
    fn override_by_one_based_index_is_stored_zero_based() {
        let ov: ColumnOverride = "email=3".parse().unwrap();
        assert_eq!(ov.column, ColumnRef::Index(2));
        let m = map_columns(&[], &[ov]).unwrap();
        assert_eq!(m.column(Field::Email), Some(2));
        assert_eq!(m.reasons[0].header, None);
    }

    #[test]
    fn column_claimed_by_override_is_not_reused_by_synonym() {
        let headers = strings(&["Name", "Vorname"]);
        let ov: ColumnOverride = "full_name=1".parse().unwrap();
        let m = map_columns(&headers, &[ov]).unwrap();
        assert_eq!(m.column(Field::FullName), Some(0));
        assert_eq!(m.column(Field::LastName), None);
        assert_eq!(m.column(Field::FirstName), Some(1));
    }

    #[test]
    fn unknown_override_column_names_the_count_not_the_headers() {
        let headers = strings(&["KVNR", "Mail"]);
        let ov: ColumnOverride = "phone=Handy".parse().unwrap();
        let err = map_columns(&headers, &[ov]).unwrap_err().to_string();
        assert!(err.contains("--map phone=Handy") && err.contains("2 columns"), "{err}");
        assert!(!err.contains("KVNR") && !err.contains("Mail"), "{err}");
        let ov: ColumnOverride = "phone=9".parse().unwrap();
        assert!(matches!(
            map_columns(&headers, &[ov]),
            Err(DumpError::ColumnOutOfRange { column: 9, count: 2 })
        ));
    }

    #[test]
    fn rejects_malformed_map_specs() {
        for spec in ["kvnr", "colour=1", "kvnr=0", "kvnr= "] {
            assert!(spec.parse::<ColumnOverride>().is_err(), "{spec}");
        }
    }
}

#[cfg(test)]
mod unknown_column_tests {
    use super::*;

    #[test]
    fn unknown_column_error_names_the_column_count_and_no_header_cell() {
        let headers: Vec<String> =
            ["Nachname", "Zzqanarywitz", "a@b.de"].iter().map(|s| s.to_string()).collect();
        let err = map_columns(&headers, &["email=Mail".parse().unwrap()]).unwrap_err().to_string();
        assert!(err.contains("--map email=Mail") && err.contains("3 columns"), "{err}");
        assert!(err.contains("--map email=N"), "{err}");
        for cell in &headers {
            assert!(!err.contains(cell.as_str()), "{cell} in {err}");
        }
    }

    #[test]
    fn unknown_column_in_a_headerless_file_says_to_map_by_number() {
        let err = map_columns(&[], &["kvnr=Nummer".parse().unwrap()]).unwrap_err().to_string();
        assert!(err.contains("no header row") && err.contains("--map kvnr=N"), "{err}");
    }
}
