//! From one parsed record to the normalised value of every base kind: the bridge that `build`
//! and `scan` workers call per row.
//!
//! [`FieldMap`] says which column holds which [`Field`]; an [`Extractor`] owns one reusable
//! buffer per base kind and runs the normalisers of the kinds it was asked for.
//!
//! `name_dob` is `last|first|yyyy-mm-dd` with names normalised by [`name::normalize`] and the
//! date by [`date::normalize`]; `name_dob_phonetic` is `cologne(last)|cologne(first)|date`.
//! Names come from the last/first-name columns when either has text, otherwise from the
//! full-name column via [`name::split_full`]. Outcome of both: Empty when last, first and date
//! are all empty; the date's flaw when the date is invalid; Malformed when a name is missing,
//! empty or invalid, or the date is missing, while something else is present.

// Reviewed (#11): `columns`, `wanted`, `outcomes`, `values` are `[_; KINDS]`/`[_; FIELDS]` arrays
// indexed by `Kind::index()`/`Field::index()`.
#![allow(clippy::indexing_slicing)]

use super::{date, email, iban, kvnr, name, phone, phonetic, Field, Flaw, Kind, Outcome};

/// Column (0-based) of each Field in one input, or None.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldMap {
    /// Indexed by [`Field::index`].
    columns: [Option<usize>; 8],
}

impl FieldMap {
    /// The column of field `f`, if mapped.
    pub fn get(&self, f: Field) -> Option<usize> {
        self.columns[f.index()]
    }

    /// Maps field `f` to column `col`.
    pub fn set(&mut self, f: Field, col: usize) {
        self.columns[f.index()] = Some(col);
    }

    /// Whether the fields a kind needs are mapped: `name_dob` and `name_dob_phonetic` need
    /// (last and first name, or a full name) and a birth date; pair kinds need both parts.
    pub fn provides(&self, kind: Kind) -> bool {
        let has = |f: Field| self.get(f).is_some();
        if let Some((a, b)) = kind.parts() {
            return self.provides(a) && self.provides(b);
        }
        match kind {
            Kind::Kvnr => has(Field::Kvnr),
            Kind::Email => has(Field::Email),
            Kind::Phone => has(Field::Phone),
            Kind::Iban => has(Field::Iban),
            _ => {
                let names = (has(Field::LastName) && has(Field::FirstName)) || has(Field::FullName);
                names && has(Field::BirthDate)
            }
        }
    }
}

/// The normaliser signature shared by the single-field kinds.
type Normalizer = fn(&str, &mut Vec<u8>) -> Outcome;

/// Single-field base kinds: the field they read and their normaliser.
const SIMPLE: [(Kind, Field, Normalizer); 4] = [
    (Kind::Kvnr, Field::Kvnr, kvnr::normalize),
    (Kind::Email, Field::Email, email::normalize),
    (Kind::Phone, Field::Phone, phone::normalize),
    (Kind::Iban, Field::Iban, iban::normalize),
];

/// Per-worker normaliser state with one reusable buffer per base kind.
///
/// Deliberately not `Debug`: its buffers hold raw identifier values.
pub struct Extractor {
    /// Base kinds to compute, by [`Kind::index`].
    wanted: [bool; Kind::ALL.len()],
    /// Outcome per base kind after the last [`Extractor::run`].
    outcomes: [Outcome; Kind::ALL.len()],
    /// Normalised value per base kind (empty unless the outcome is Valid for composed kinds).
    values: [Vec<u8>; Kind::ALL.len()],
    /// Scratch: normalised last name, first name and birth date, and a phonetic code.
    last: Vec<u8>,
    first: Vec<u8>,
    date: Vec<u8>,
    code: Vec<u8>,
    birth_year: Option<u16>,
}

impl Extractor {
    /// `kinds` may include pair kinds; the extractor computes every base kind they need.
    pub fn new(kinds: &[Kind]) -> Extractor {
        let mut wanted = [false; Kind::ALL.len()];
        for &kind in kinds {
            match kind.parts() {
                Some((a, b)) => [a, b].iter().for_each(|k| wanted[k.index()] = true),
                None => wanted[kind.index()] = true,
            }
        }
        Extractor {
            wanted,
            outcomes: [Outcome::Empty; Kind::ALL.len()],
            values: Default::default(),
            last: Vec::new(),
            first: Vec::new(),
            date: Vec::new(),
            code: Vec::new(),
            birth_year: None,
        }
    }

    /// Normalises one record. `field(f)` returns the (decoded, UTF-8) text of field `f` of this
    /// record, or None if not mapped / missing in a ragged row.
    pub fn run<'r>(&mut self, field: impl Fn(Field) -> Option<&'r str>) {
        for (kind, f, normalize) in SIMPLE {
            let i = kind.index();
            if self.wanted[i] {
                self.outcomes[i] = normalize(field(f).unwrap_or(""), &mut self.values[i]);
            }
        }
        let date_outcome = date::normalize(field(Field::BirthDate).unwrap_or(""), &mut self.date);
        self.birth_year = match date_outcome {
            Outcome::Valid => date::birth_year(&self.date),
            _ => None,
        };
        let (dob, phon) = (Kind::NameDob.index(), Kind::NameDobPhonetic.index());
        if !self.wanted[dob] && !self.wanted[phon] {
            return;
        }
        let (last, first) = names(&field);
        let outcome = combine(
            name::normalize(last, &mut self.last),
            name::normalize(first, &mut self.first),
            date_outcome,
        );
        self.values[dob].clear();
        self.values[phon].clear();
        self.outcomes[dob] = outcome;
        self.outcomes[phon] = outcome;
        if outcome == Outcome::Valid {
            if self.wanted[dob] {
                let parts = [&self.last[..], b"|", &self.first, b"|", &self.date];
                parts.iter().for_each(|p| self.values[dob].extend_from_slice(p));
            }
            if self.wanted[phon] {
                self.compose_phonetic();
            }
        }
    }

    /// Writes `cologne(last)|cologne(first)|date` into the phonetic kind's buffer.
    fn compose_phonetic(&mut self) {
        let v = &mut self.values[Kind::NameDobPhonetic.index()];
        phonetic::cologne(&self.last, &mut self.code);
        v.extend_from_slice(&self.code);
        v.push(b'|');
        phonetic::cologne(&self.first, &mut self.code);
        v.extend_from_slice(&self.code);
        v.push(b'|');
        v.extend_from_slice(&self.date);
    }

    /// After `run`: outcome and normalised value for a base kind (None if never requested).
    /// For pair kinds returns None (pairs are combined at token level by the caller).
    /// Tokenise the value only when the outcome is Valid.
    pub fn get(&self, kind: Kind) -> Option<(Outcome, &[u8])> {
        let i = kind.index();
        (kind.parts().is_none() && self.wanted[i]).then(|| (self.outcomes[i], &self.values[i][..]))
    }

    /// Birth year of the record when the date was valid.
    pub fn birth_year(&self) -> Option<u16> {
        self.birth_year
    }
}

/// Last and first name of a record: from their own columns when either has text, else split
/// from the full name (a single-token full name is taken as the last name).
fn names<'r>(field: &impl Fn(Field) -> Option<&'r str>) -> (&'r str, &'r str) {
    let (last, first) = (field(Field::LastName), field(Field::FirstName));
    let has_text = |s: Option<&str>| s.is_some_and(super::has_text);
    if has_text(last) || has_text(first) {
        return (last.unwrap_or(""), first.unwrap_or(""));
    }
    match field(Field::FullName) {
        Some(full) => name::split_full(full).unwrap_or((full, "")),
        None => ("", ""),
    }
}

/// The outcome of `name_dob` from those of its three parts (see the module documentation).
fn combine(last: Outcome, first: Outcome, date: Outcome) -> Outcome {
    match (last, first, date) {
        (Outcome::Empty, Outcome::Empty, Outcome::Empty) => Outcome::Empty,
        (_, _, Outcome::Invalid(flaw)) => Outcome::Invalid(flaw),
        (Outcome::Valid, Outcome::Valid, Outcome::Valid) => Outcome::Valid,
        _ => Outcome::Invalid(Flaw::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `ex` on a record given as (field, text) pairs.
    fn run(ex: &mut Extractor, record: &[(Field, &str)]) {
        let record = record.to_vec();
        ex.run(|f| record.iter().find(|(g, _)| *g == f).map(|(_, v)| *v));
    }

    fn value(ex: &Extractor, kind: Kind) -> (Outcome, String) {
        let (o, v) = ex.get(kind).expect("kind requested");
        (o, String::from_utf8(v.to_vec()).unwrap())
    }

    #[test]
    fn full_name_and_split_names_give_the_same_name_dob() {
        let mut ex = Extractor::new(&[Kind::NameDob, Kind::NameDobPhonetic]);
        let want = (Outcome::Valid, "gross|juergen|1961-03-15".to_string());
        let want_phonetic = (Outcome::Valid, "478|0746|1961-03-15".to_string());
        let split = [
            (Field::LastName, "Groß"),
            (Field::FirstName, "Jürgen"),
            (Field::BirthDate, "15.03.1961"),
        ];
        for record in [
            &split[..],
            &[(Field::FullName, "Dr. Jürgen Groß"), (Field::BirthDate, "1961-03-15")],
            &[(Field::FullName, "GROSS, JUERGEN"), (Field::BirthDate, "19610315")],
            &[
                (Field::LastName, ""),
                (Field::FullName, "Jürgen Groß"),
                (Field::BirthDate, "15/03/1961"),
            ],
        ] {
            run(&mut ex, record);
            assert_eq!(value(&ex, Kind::NameDob), want, "{record:?}");
            assert_eq!(value(&ex, Kind::NameDobPhonetic), want_phonetic, "{record:?}");
            assert_eq!(ex.birth_year(), Some(1961));
        }
    }

    #[test]
    fn name_dob_outcomes_follow_their_parts() {
        let mut ex = Extractor::new(&[Kind::NameDob]);
        let cases: [(&[(Field, &str)], Outcome); 6] = [
            (&[], Outcome::Empty),
            (&[(Field::LastName, " "), (Field::BirthDate, "")], Outcome::Empty),
            (
                &[
                    (Field::LastName, "Groß"),
                    (Field::FirstName, "Jürgen"),
                    (Field::BirthDate, "15.03.61"),
                ],
                Outcome::Invalid(Flaw::AmbiguousYear),
            ),
            (
                &[(Field::LastName, "Groß"), (Field::BirthDate, "15.03.1961")],
                Outcome::Invalid(Flaw::Malformed),
            ),
            (
                &[(Field::LastName, "Groß"), (Field::FirstName, "Jürgen")],
                Outcome::Invalid(Flaw::Malformed),
            ),
            (
                &[(Field::FullName, "Groß"), (Field::BirthDate, "31.02.1961")],
                Outcome::Invalid(Flaw::ImplausibleDate),
            ),
        ];
        for (record, want) in cases {
            run(&mut ex, record);
            assert_eq!(ex.get(Kind::NameDob).unwrap().0, want, "{record:?}");
            if want != Outcome::Valid {
                assert!(ex.get(Kind::NameDob).unwrap().1.is_empty());
            }
        }
        assert_eq!(ex.birth_year(), None);
    }

    #[test]
    fn simple_kinds_and_pair_parts_are_computed() {
        let mut ex = Extractor::new(&[Kind::KvnrNameDob, Kind::Phone]);
        run(
            &mut ex,
            &[
                (Field::Kvnr, "a123456780"),
                (Field::Phone, "0171 1234567"),
                (Field::Email, "a@b.de"),
                (Field::LastName, "Weiß"),
                (Field::FirstName, "Anna"),
                (Field::BirthDate, "1980-01-02"),
            ],
        );
        assert_eq!(value(&ex, Kind::Kvnr), (Outcome::Valid, "A123456780".into()));
        assert_eq!(value(&ex, Kind::Phone), (Outcome::Valid, "+491711234567".into()));
        assert_eq!(value(&ex, Kind::NameDob), (Outcome::Valid, "weiss|anna|1980-01-02".into()));
        assert!(ex.get(Kind::Email).is_none(), "not requested");
        assert!(ex.get(Kind::KvnrNameDob).is_none(), "pairs are combined by the caller");
        run(&mut ex, &[(Field::Kvnr, "A123456781")]);
        assert_eq!(ex.get(Kind::Kvnr).unwrap().0, Outcome::Invalid(Flaw::CheckDigit));
        assert_eq!(ex.get(Kind::Phone).unwrap().0, Outcome::Empty, "missing in a ragged row");
    }

    #[test]
    fn field_map_knows_what_each_kind_needs() {
        let mut map = FieldMap::default();
        assert!(!map.provides(Kind::Kvnr));
        map.set(Field::Kvnr, 0);
        map.set(Field::LastName, 2);
        map.set(Field::BirthDate, 3);
        assert_eq!(map.get(Field::LastName), Some(2));
        assert!(map.provides(Kind::Kvnr));
        assert!(!map.provides(Kind::NameDob), "first name missing");
        assert!(!map.provides(Kind::KvnrNameDob));
        map.set(Field::FullName, 4);
        assert!(map.provides(Kind::NameDob) && map.provides(Kind::NameDobPhonetic));
        assert!(map.provides(Kind::KvnrNameDob));
        assert!(!map.provides(Kind::EmailNameDob));
    }

    /// A deterministic synthetic leak (`;`, German names with umlauts) of `rows` rows.
    fn leak_csv(rows: u64) -> String {
        let cfg = crate::synth::SynthConfig { leak: rows, ..Default::default() };
        let mut csv = Vec::new();
        crate::synth::write_leak(&cfg, &mut csv).unwrap();
        String::from_utf8(csv).unwrap()
    }

    /// The rows of `csv` split into their six fields (KVNR, last name, first name, birth date,
    /// e-mail, phone), borrowed from the one buffer as a scan's are.
    fn leak_rows(csv: &str) -> Vec<[&str; 6]> {
        let fields = |line| <[&str; 6]>::try_from(str::split(line, ';').collect::<Vec<_>>());
        csv.lines().skip(1).map(|line| fields(line).unwrap()).collect()
    }

    /// Normalises every value of one column; not inlined, so callgrind attributes its cost.
    #[inline(never)]
    fn work_column(normalize: Normalizer, values: &[&str], buf: &mut Vec<u8>) -> usize {
        let mut valid = 0;
        for &v in values {
            valid += usize::from(normalize(std::hint::black_box(v), buf) == Outcome::Valid);
        }
        valid
    }

    #[inline(never)]
    fn work_name(values: &[&str], buf: &mut Vec<u8>) -> usize {
        work_column(name::normalize, values, buf)
    }
    #[inline(never)]
    fn work_email(values: &[&str], buf: &mut Vec<u8>) -> usize {
        work_column(email::normalize, values, buf)
    }
    #[inline(never)]
    fn work_phone(values: &[&str], buf: &mut Vec<u8>) -> usize {
        work_column(phone::normalize, values, buf)
    }
    #[inline(never)]
    fn work_date(values: &[&str], buf: &mut Vec<u8>) -> usize {
        work_column(date::normalize, values, buf)
    }
    #[inline(never)]
    fn work_kvnr(values: &[&str], buf: &mut Vec<u8>) -> usize {
        work_column(kvnr::normalize, values, buf)
    }

    /// Whole records with the default kinds, as a scan worker runs them.
    #[inline(never)]
    fn work_record(rows: &[[&str; 6]], ex: &mut Extractor) -> usize {
        let mut valid = 0;
        for row in rows {
            ex.run(|f| {
                let col = match f {
                    Field::Kvnr => 0,
                    Field::LastName => 1,
                    Field::FirstName => 2,
                    Field::BirthDate => 3,
                    Field::Email => 4,
                    Field::Phone => 5,
                    _ => return None,
                };
                Some(std::hint::black_box(row[col]))
            });
            valid += usize::from(ex.get(Kind::NameDob).unwrap().0 == Outcome::Valid);
        }
        valid
    }

    /// Cost per value on 200,000 rows of a synthetic leak (names: both columns, 400,000
    /// values). Wall time: `cargo test --release --lib ident::extract -- --ignored
    /// --nocapture` (noisy on a shared machine). Instructions: run the test binary under
    /// `valgrind --tool=callgrind` and read the inclusive cost of the `work_*` functions,
    /// divided by `ROUNDS` × the value count printed.
    #[test]
    #[ignore]
    fn measure_per_value() {
        const ROUNDS: usize = 3;
        let csv = leak_csv(200_000);
        let rows = leak_rows(&csv);
        let col = |c: usize| rows.iter().map(|r| r[c]).collect::<Vec<_>>();
        let names: Vec<&str> = rows.iter().flat_map(|r| [r[1], r[2]]).collect();
        let (kvnrs, dates, emails, phones) = (col(0), col(3), col(4), col(5));
        let mut buf = Vec::with_capacity(64);
        let mut ex = Extractor::new(&Kind::DEFAULT);
        let time = |label: &str, n: usize, f: &mut dyn FnMut() -> usize| {
            let mut best = f64::MAX;
            for _ in 0..ROUNDS {
                let start = std::time::Instant::now();
                assert!(f() > 0);
                best = best.min(start.elapsed().as_nanos() as f64 / n as f64);
            }
            eprintln!("{label}: {n} values x {ROUNDS} rounds, best {best:.1} ns/value");
        };
        time("name", names.len(), &mut || work_name(&names, &mut buf));
        time("email", emails.len(), &mut || work_email(&emails, &mut buf));
        time("phone", phones.len(), &mut || work_phone(&phones, &mut buf));
        time("date", dates.len(), &mut || work_date(&dates, &mut buf));
        time("kvnr", kvnrs.len(), &mut || work_kvnr(&kvnrs, &mut buf));
        time("record", rows.len(), &mut || work_record(&rows, &mut ex));
    }
}
