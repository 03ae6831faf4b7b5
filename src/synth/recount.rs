//! Test-only: recounts the truth by reading the generated files back with the csv crate and
//! small reference normalisers written from docs/normalisation.md, independent of the generator.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::{Truth, CUSTOMERS_FILE, LEAK_FILE};
use crate::ident::{kvnr, Flaw, Outcome};

/// Identifier maps of the customer file: normalised value → customer row number.
#[derive(Default)]
pub struct Customers {
    pub kvnr: HashMap<String, u64>,
    pub email: HashMap<String, u64>,
    pub phone: HashMap<String, u64>,
    pub name_dob: HashMap<String, u64>,
}

pub fn norm_kvnr(s: &str) -> Result<String, Outcome> {
    let mut out = Vec::new();
    match kvnr::normalize(s, &mut out) {
        Outcome::Valid => Ok(String::from_utf8(out).unwrap()),
        other => Err(other),
    }
}

fn norm_email(s: &str) -> Option<String> {
    let v = s.trim().to_lowercase();
    let (local, domain) = v.split_once('@')?;
    (!local.is_empty() && !domain.contains('@') && domain.contains('.')).then_some(v)
}

fn norm_phone(s: &str) -> Option<String> {
    let s = s.replace("(0)", "");
    let plus = s.trim_start().starts_with('+');
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let national = if plus {
        digits.strip_prefix("49")?.to_string()
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.strip_prefix("49")?.to_string()
    } else {
        digits.strip_prefix('0')?.to_string()
    };
    let e164 = format!("49{national}");
    (8..=15).contains(&e164.len()).then(|| format!("+{e164}"))
}

fn norm_name(s: &str) -> Option<String> {
    let mut folded = String::new();
    for c in s.nfc().flat_map(char::to_lowercase) {
        match c {
            'ä' => folded.push_str("ae"),
            'ö' => folded.push_str("oe"),
            'ü' => folded.push_str("ue"),
            'ß' => folded.push_str("ss"),
            c => folded.push(c),
        }
    }
    let v: String =
        folded.nfd().filter(|c| !is_combining_mark(*c) && !matches!(c, '-' | ' ')).collect();
    (!v.is_empty()).then_some(v)
}

fn norm_date(s: &str) -> Option<String> {
    let s = s.trim();
    let (y, m, d): (u32, u32, u32) = if let Some((y, rest)) = s.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    } else {
        let mut it = s.split('.');
        let (d, m, y) = (it.next()?, it.next()?, it.next()?);
        if y.len() != 4 {
            return None;
        }
        (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let len = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let ok =
        (1900..=2026).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= len[m as usize - 1];
    ok.then(|| format!("{y:04}-{m:02}-{d:02}"))
}

fn name_dob(last: &str, first: &str, date: &str) -> Option<String> {
    Some(format!("{}|{}|{}", norm_name(last)?, norm_name(first)?, norm_date(date)?))
}

/// Reads `customers.csv`, asserting every value is valid and unique.
pub fn read_customers(dir: &Path) -> Customers {
    let mut rd = csv::Reader::from_path(dir.join(CUSTOMERS_FILE)).unwrap();
    assert_eq!(
        rd.headers().unwrap(),
        vec!["kvnr", "last_name", "first_name", "birth_date", "email", "phone"]
    );
    let mut c = Customers::default();
    for (i, rec) in rd.records().enumerate() {
        let rec = rec.unwrap();
        let i = i as u64;
        let k = norm_kvnr(&rec[0]).unwrap_or_else(|o| panic!("customer {i}: kvnr {o:?}"));
        assert!(c.kvnr.insert(k, i).is_none(), "duplicate kvnr at {i}");
        let nd = name_dob(&rec[1], &rec[2], &rec[3]).expect("valid name_dob");
        assert!(c.name_dob.insert(nd, i).is_none(), "duplicate name_dob at {i}");
        let e = norm_email(&rec[4]).expect("valid email");
        assert!(rec[4].is_ascii() && e == rec[4], "clean ascii email at {i}");
        assert!(c.email.insert(e, i).is_none(), "duplicate email at {i}");
        let p = norm_phone(&rec[5]).expect("valid phone");
        assert!(c.phone.insert(p, i).is_none(), "duplicate phone at {i}");
    }
    c
}

/// Recounts the truth's match fields from `leak.csv`; also returns the KVNR outcomes seen.
pub fn recount(dir: &Path, c: &Customers, mut truth: Truth) -> (Truth, HashMap<&'static str, u64>) {
    let mut rd = csv::ReaderBuilder::new().delimiter(b';').from_path(dir.join(LEAK_FILE)).unwrap();
    let mut outcomes = HashMap::new();
    let mut counts = [0u64; 5];
    let (mut any, mut two) = (0, 0);
    let mut seen: [HashSet<u64>; 4] = Default::default();
    let mut rows = 0;
    for rec in rd.records() {
        let rec = rec.unwrap();
        rows += 1;
        let k = match norm_kvnr(&rec[0]) {
            Ok(v) => {
                *outcomes.entry("valid").or_default() += 1;
                c.kvnr.get(&v).copied()
            }
            Err(Outcome::Invalid(Flaw::CheckDigit)) => {
                *outcomes.entry("check_digit").or_default() += 1;
                None
            }
            Err(_) => None,
        };
        let hits = [
            k,
            norm_email(&rec[4]).and_then(|v| c.email.get(&v).copied()),
            norm_phone(&rec[5]).and_then(|v| c.phone.get(&v).copied()),
            name_dob(&rec[1], &rec[2], &rec[3]).and_then(|v| c.name_dob.get(&v).copied()),
        ];
        let n = hits.iter().flatten().count();
        for (kind, h) in hits.iter().enumerate() {
            if let Some(i) = h {
                counts[kind] += 1;
                seen[kind].insert(*i);
            }
        }
        counts[4] += u64::from(hits[0].is_some() && hits[0] == hits[3]);
        any += u64::from(n >= 1);
        two += u64::from(n >= 2);
    }
    let names = ["kvnr", "email", "phone", "name_dob", "kvnr+name_dob"];
    truth.matches = names.iter().zip(counts).map(|(n, v)| (n.to_string(), v)).collect();
    truth.distinct_matches =
        names[..4].iter().zip(&seen).map(|(n, s)| (n.to_string(), s.len() as u64)).collect();
    truth.rows_matched_any = any;
    truth.rows_matched_two_plus = two;
    truth.distinct_customers = seen.iter().flatten().collect::<HashSet<_>>().len() as u64;
    truth.leak_rows = rows;
    (truth, outcomes)
}

#[test]
fn reference_normalisers_follow_the_design_examples() {
    for p in
        ["0171 1234567", "+49 (0)171/1234567", "00491711234567", "+49 171 1234567", "0171/1234567"]
    {
        assert_eq!(norm_phone(p).as_deref(), Some("+491711234567"), "{p}");
    }
    assert_eq!(norm_name(" WEISS "), norm_name("Weiß"));
    assert_eq!(norm_name("ÇELIK"), Some("celik".into()));
    assert_eq!(norm_date("1.2.1950"), norm_date("1950-02-01"));
    assert_eq!(norm_date("31.04.1950"), None);
    assert_eq!(norm_email(" Anna.Mueller.7@Web.DE "), Some("anna.mueller.7@web.de".into()));
}
