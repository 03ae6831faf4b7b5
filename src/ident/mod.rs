//! Identifier kinds, their normalisers and validity checks (docs/normalisation.md).
//!
//! Every normaliser is a pure, idempotent function that writes the normalised form into a
//! caller's buffer (cleared first) and returns an [`Outcome`]. Only [`Outcome::Valid`] values
//! become tokens; everything else is counted by its [`Flaw`].
//!
//! Normalisers never log, panic on or return the value they were given.

mod compat;
pub mod date;
pub mod email;
pub(crate) mod extract;
pub mod iban;
pub mod kvnr;
pub mod name;
pub mod phone;
pub mod phonetic;
#[cfg(test)]
mod testkit;

pub use extract::{Extractor, FieldMap};

use std::fmt;

/// What a normaliser made of one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The buffer holds the normalised form; it may be tokenised.
    Valid,
    /// Nothing there (empty or only white space). Not counted as invalid.
    Empty,
    /// Present but unusable, for the reason given.
    Invalid(Flaw),
}

/// Longest normalised value of any kind that is valid: no real identifier comes near it
/// (an e-mail address has at most 254 bytes), and OPRF inputs must stay under 2^16 bytes
/// (RFC 9497). A longer value (a crafted 70 kB name) is [`Flaw::Malformed`].
pub const MAX_VALUE: usize = 1024;

/// Whether `s` holds text other than white space (`str::trim` leaves something). The usual
/// value starts with a printable ASCII byte: then nothing is decoded.
#[inline]
pub fn has_text(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(&b) if b > b' ' && b < 0x7F => true,
        _ => !s.trim_start().is_empty(),
    }
}

/// Why a present value was not valid. Counted per kind in the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flaw {
    /// Wrong shape for the kind (e.g. an e-mail without `@`).
    Malformed,
    /// KVNR shape `[A-Z][0-9]{9}` but the check digit is wrong (fabrication signal).
    CheckDigit,
    /// A gematik test identity (KVNR `X0000` + 0001..5000 + check digit): counted apart.
    TestIdentity,
    /// A date with a two-digit year: ambiguous, counted, never guessed.
    AmbiguousYear,
    /// A well-formed date outside 1900..=today, or a calendar date that does not exist.
    ImplausibleDate,
    /// An IBAN whose ISO 13616 mod-97 check fails.
    Checksum,
}

impl Flaw {
    /// All flaws, in report order.
    pub const ALL: [Flaw; 6] = [
        Flaw::Malformed,
        Flaw::CheckDigit,
        Flaw::TestIdentity,
        Flaw::AmbiguousYear,
        Flaw::ImplausibleDate,
        Flaw::Checksum,
    ];

    /// Stable snake_case name used in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Flaw::Malformed => "malformed",
            Flaw::CheckDigit => "wrong_check_digit",
            Flaw::TestIdentity => "test_identity",
            Flaw::AmbiguousYear => "ambiguous_year",
            Flaw::ImplausibleDate => "implausible_date",
            Flaw::Checksum => "bad_checksum",
        }
    }

    /// Dense index (position in [`Flaw::ALL`]) for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A column's meaning in a dump or customer file. Kinds are computed from fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The KVNR (Krankenversichertennummer, the health insurance number).
    Kvnr,
    /// E-mail address.
    Email,
    /// Telephone number.
    Phone,
    /// Last name.
    LastName,
    /// First name.
    FirstName,
    /// "Jürgen Groß" or "Groß, Jürgen" in one column.
    FullName,
    /// Date of birth.
    BirthDate,
    /// IBAN (bank account).
    Iban,
}

impl Field {
    /// All fields, in index order.
    pub const ALL: [Field; 8] = [
        Field::Kvnr,
        Field::Email,
        Field::Phone,
        Field::LastName,
        Field::FirstName,
        Field::FullName,
        Field::BirthDate,
        Field::Iban,
    ];

    /// Stable name used in `--map` and reports (`kvnr`, `last_name`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Field::Kvnr => "kvnr",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::LastName => "last_name",
            Field::FirstName => "first_name",
            Field::FullName => "full_name",
            Field::BirthDate => "birth_date",
            Field::Iban => "iban",
        }
    }

    /// The field with this [`name`](Self::name).
    pub fn from_name(s: &str) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.name() == s)
    }

    /// Dense index (position in [`Field::ALL`]) for per-field arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// An identifier kind: what becomes one token (docs/normalisation.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// The KVNR's unchangeable part (10 characters, check digit verified).
    Kvnr,
    /// The e-mail address, normalised.
    Email,
    /// The phone number in E.164 form.
    Phone,
    /// Last name, first name and birth date of one row, normalised.
    NameDob,
    /// As [`Kind::NameDob`], with the names in Kölner Phonetik: spelling variants match.
    NameDobPhonetic,
    /// The IBAN (check digits verified).
    Iban,
    /// KVNR and name+birth date of the same row combined: the recombination signal.
    KvnrNameDob,
    /// E-mail and name+birth date of the same row combined.
    EmailNameDob,
}

impl Kind {
    /// All kinds, in report order.
    pub const ALL: [Kind; 8] = [
        Kind::Kvnr,
        Kind::Email,
        Kind::Phone,
        Kind::NameDob,
        Kind::NameDobPhonetic,
        Kind::Iban,
        Kind::KvnrNameDob,
        Kind::EmailNameDob,
    ];

    /// The kinds `build` uses when `--kinds` is not given (each one only when the input has
    /// its fields). The pair kinds are in it: without them no verdict can tell a genuine
    /// extract from a recombination of several sources (see [`crate::forensics`]).
    pub const DEFAULT: [Kind; 6] = [
        Kind::Kvnr,
        Kind::Email,
        Kind::Phone,
        Kind::NameDob,
        Kind::KvnrNameDob,
        Kind::EmailNameDob,
    ];

    /// Whether a hit of this kind counts as independent evidence for a strong match (two or
    /// more independent kinds of one row hit): the exact single-value kinds. The phonetic
    /// name kind repeats `name_dob`, and a pair kind repeats its parts.
    #[inline]
    pub fn independent(self) -> bool {
        matches!(self, Kind::Kvnr | Kind::Email | Kind::Phone | Kind::NameDob | Kind::Iban)
    }

    /// The pair kinds (tokens of two parts of one row combined).
    pub const PAIRS: [Kind; 2] = [Kind::KvnrNameDob, Kind::EmailNameDob];

    /// [`Kind::DEFAULT`] as a comma-separated list (for help texts and messages).
    pub fn default_list() -> String {
        Kind::DEFAULT.iter().map(|k| k.name()).collect::<Vec<_>>().join(",")
    }

    /// Stable name used on the command line, in filter files, reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Kvnr => "kvnr",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::NameDob => "name_dob",
            Kind::NameDobPhonetic => "name_dob_phonetic",
            Kind::Iban => "iban",
            Kind::KvnrNameDob => "kvnr+name_dob",
            Kind::EmailNameDob => "email+name_dob",
        }
    }

    /// The kind with this [`name`](Self::name).
    pub fn from_name(s: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.name() == s)
    }

    /// The domain-separation tag hashed in front of every normalised value of this kind.
    /// Part of the token definition: never change an existing tag.
    pub fn tag(self) -> u8 {
        match self {
            Kind::Kvnr => 1,
            Kind::Email => 2,
            Kind::Phone => 3,
            Kind::NameDob => 4,
            Kind::NameDobPhonetic => 5,
            Kind::Iban => 6,
            Kind::KvnrNameDob => 7,
            Kind::EmailNameDob => 8,
        }
    }

    /// The kind with this domain-separation [`tag`](Self::tag).
    pub fn from_tag(tag: u8) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.tag() == tag)
    }

    /// For pair kinds, the two kinds whose tokens are combined.
    pub fn parts(self) -> Option<(Kind, Kind)> {
        match self {
            Kind::KvnrNameDob => Some((Kind::Kvnr, Kind::NameDob)),
            Kind::EmailNameDob => Some((Kind::Email, Kind::NameDob)),
            _ => None,
        }
    }

    /// Dense index (position in [`Kind::ALL`]) for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

by_name!(Kind, "unknown identifier kind");
by_name!(Field, "unknown field");

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a comma-separated kind list such as `kvnr,email,name_dob`.
pub fn parse_kinds(s: &str) -> Result<Vec<Kind>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let kind = Kind::from_name(part).ok_or_else(|| {
            let names: Vec<_> = Kind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown kind '{part}' (known: {})", names.join(", "))
        })?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    if out.is_empty() {
        return Err("no kind given".into());
    }
    Ok(out)
}

#[cfg(test)]
mod serde_tests {
    use std::fmt::Debug;

    use serde::{de::DeserializeOwned, Serialize};

    use super::{Field, Kind};

    /// Every value is written as its name and read back; an unknown name (here an e-mail, as
    /// file content could hold) is refused with `unknown`, without quoting it.
    fn by_name<T>(all: &[T], name: fn(&T) -> &'static str, unknown: &str)
    where
        T: Serialize + DeserializeOwned + PartialEq + Debug,
    {
        for v in all {
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(json, format!("\"{}\"", name(v)));
            assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), v);
        }
        let err = serde_json::from_str::<T>("\"jan@example.de\"").unwrap_err().to_string();
        assert!(err.contains(unknown), "{err}");
        assert!(!err.contains("jan@"), "{err}");
    }

    #[test]
    fn kinds_are_written_and_read_by_name_and_unknown_names_are_not_quoted() {
        by_name(&Kind::ALL, |k| k.name(), "unknown identifier kind");
    }

    #[test]
    fn fields_are_written_and_read_by_name_and_unknown_names_are_not_quoted() {
        by_name(&Field::ALL, |f| f.name(), "unknown field");
    }
}

#[cfg(test)]
mod has_text_tests {
    proptest::proptest! {
        /// The first-byte shortcut never changes the answer of trimming.
        #[test]
        fn has_text_is_what_trimming_leaves(s in "[ \t\r\n\u{a0}\u{3000}a-z0-9\u{e4}\u{1f600}~\u{7f}]{0,6}") {
            proptest::prop_assert_eq!(super::has_text(&s), !s.trim().is_empty());
        }

        #[test]
        fn has_text_of_any_string_is_what_trimming_leaves(s in proptest::prelude::any::<String>()) {
            proptest::prop_assert_eq!(super::has_text(&s), !s.trim().is_empty());
        }
    }
}
