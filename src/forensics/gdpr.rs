//! GDPR summary (Art. 33(3)(a)): data subjects and records, per data category, each count
//! labelled exact or approximate with its 95 % interval, and a paragraph to paste.
//!
//! A column shows a category when it is mapped to an identifier field or its header is a
//! synonym of the category ([`crate::dump::categories::SYNONYMS`], case-insensitive substrings). The scan tests every
//! such cell for being non-empty ([`crate::dump::categories::category_columns`]), and a matched row (a hit of any kind
//! in the main filter) counts for a category only when it holds a value of it: the counts come
//! from values present in matched rows, not from the columns a file has.
//!
//! With `m` matched rows of the main filter, `t` their FP-corrected count (interval
//! `[t_lo, t_hi]`, [`crate::estimate::true_matches`]), `r` matched rows with a value of the
//! category and `P` the people signal with its interval:
//!
//! - records of the category: point `r − (m − t)·r/m`, interval `[r − (m − t_lo), r]` (the
//!   false-positive rows may all fall in the category or none);
//! - data subjects with such a row: point `P·r/m`, interval
//!   `[P_lo − (m − r), min(P_hi, r)]` (a person without such a row has all rows among the
//!   `m − r` others; no more people than rows);
//! - a count is *exact* when its interval is one number and no sketch was used.
//!
//! Health data (Art. 9 GDPR, special categories) is flagged. Counts only, never values.

// Reviewed (#11): `category_rows` is a fixed array indexed by a category below its length.
#![allow(clippy::indexing_slicing)]

use serde::{Deserialize, Serialize};

use super::FilterReport;
use super::Signals;
use crate::dump::categories::CATEGORIES;
use crate::estimate::Estimate;
use crate::num::thousands;
use crate::tally::FilterTally;

/// A count as the GDPR summary states it: the point, its 95 % interval, and whether it is
/// exact (the interval is one number and no sketch was used).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Count {
    /// Point estimate.
    pub estimate: f64,
    /// Lower 95 % bound.
    pub ci_low: f64,
    /// Upper 95 % bound.
    pub ci_high: f64,
    /// The interval is one number and no sketch was used.
    pub exact: bool,
}

impl Count {
    fn of(e: Estimate, counted: bool) -> Count {
        let e = e.rounded_count();
        Count {
            estimate: e.estimate,
            ci_low: e.ci_low,
            ci_high: e.ci_high,
            exact: counted && e.ci_low == e.ci_high,
        }
    }

    /// `2,400 (exact)` when exact, else `≈2,400 (95 % CI 2,390 – 2,410)` (the text and HTML
    /// tables).
    pub fn cell(&self) -> String {
        crate::num::count_ci(self.estimate, self.ci_low, self.ci_high, self.exact)
    }

    /// `2,400` when exact, else `about 2,400 (95 % interval 2,390 – 2,410)`.
    pub fn phrase(&self) -> String {
        let n = |x: f64| thousands(x.max(0.0) as u64);
        if self.exact {
            n(self.estimate)
        } else {
            format!(
                "about {} (95 % interval {} – {})",
                n(self.estimate),
                n(self.ci_low),
                n(self.ci_high)
            )
        }
    }
}

/// The summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gdpr {
    /// Data subjects: the people signal ([`super::People`]).
    pub subjects: Count,
    /// Affected records: FP-corrected matched rows of the main filter.
    pub records: Count,
    /// Per category with a value in at least one matched row.
    pub categories: Vec<CategoryCount>,
    /// Art. 9 special-category (health) data present in matched rows.
    pub art9: bool,
    /// One paragraph a data-protection officer can paste (numbers and intervals only).
    pub summary: String,
}

/// One category.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CategoryCount {
    /// The category's name ([`crate::dump::categories::CATEGORIES`]).
    pub category: String,
    /// Art. 9 special-category (health) data.
    pub art9: bool,
    /// Matched rows with a value of this category, FP-corrected.
    pub records: Count,
    /// Data subjects with at least one such row.
    pub subjects: Count,
}

/// Builds the summary from the main filter's report and tally (see the module docs).
pub fn summary(s: &Signals, main: Option<(&FilterReport, &FilterTally)>, verdict: &str) -> Gdpr {
    let people = Estimate {
        estimate: s.people.estimate,
        ci_low: s.people.ci_low,
        ci_high: s.people.ci_high,
    };
    let subjects = Count::of(people, s.people.exact);
    let (m, t) = match main {
        Some((f, t)) => {
            let fpr = crate::estimate::any_fpr(f.kinds.iter().map(|k| k.fpr));
            (t.matched_any as f64, crate::estimate::true_matches(t.rows_probed, t.matched_any, fpr))
        }
        None => (0.0, Estimate { estimate: 0.0, ci_low: 0.0, ci_high: 0.0 }),
    };
    let records = Count::of(t, true);
    // False-positive rows: at most m − t_low; spread over the categories in proportion.
    let false_high = (m - t.ci_low).max(0.0);
    let false_point = (m - t.estimate).max(0.0);
    let categories: Vec<CategoryCount> = CATEGORIES
        .iter()
        .enumerate()
        .filter_map(|(c, &(cat, art9))| {
            let r = main.map_or(0, |(_, t)| t.category_rows[c]) as f64;
            (r > 0.0).then(|| {
                let share = r / m.max(1.0);
                let rec = Estimate {
                    estimate: r - false_point * share,
                    ci_low: (r - false_high).max(0.0),
                    ci_high: r,
                };
                // People without a row of this category have all their rows among the
                // m − r others; none can have more such rows than there are.
                let lo = (people.ci_low - (m - r)).max(0.0);
                let hi = people.ci_high.min(r).max(lo);
                let sub = Estimate {
                    estimate: (people.estimate * share).clamp(lo, hi),
                    ci_low: lo,
                    ci_high: hi,
                };
                CategoryCount {
                    category: cat.into(),
                    art9,
                    records: Count::of(rec, true),
                    subjects: Count::of(sub, s.people.exact),
                }
            })
        })
        .collect();
    let art9 = categories.iter().any(|c| c.art9);
    let summary = paragraph(s, &records, &subjects, &categories, verdict);
    Gdpr { subjects, records, categories, art9, summary }
}

/// The plain-language paragraph: numbers and intervals, category names, no value.
fn paragraph(
    s: &Signals,
    records: &Count,
    subjects: &Count,
    cats: &[CategoryCount],
    verdict: &str,
) -> String {
    let mut o = format!(
        "A data set of {} records was checked with leakmatch against the keyed filter of our \
         customer base, without disclosing personal data. {} of its records belong to our \
         customers, concerning {} distinct data subjects",
        thousands(s.rows_probed),
        capitalise(&records.phrase()),
        subjects.phrase()
    );
    if let Some(kind) = s.people.kind {
        o.push_str(&format!(" (counted by their {})", kind_words(kind.name())));
    }
    o.push('.');
    let listed: Vec<String> = cats
        .iter()
        .map(|c| {
            let (what, records, people) =
                (category_words(&c.category), c.records.phrase(), c.subjects.phrase());
            format!("{what} ({records} records, {people} data subjects)")
        })
        .collect();
    if listed.is_empty() {
        o.push_str(" No category of personal data could be recognised in the matched records.");
    } else {
        o.push_str(&format!(" The matched records contain: {}.", listed.join("; ")));
    }
    match cats.iter().find(|c| c.art9) {
        Some(h) => o.push_str(&format!(
            " They include special categories of personal data under Art. 9 GDPR (health data) in {} records.",
            h.records.phrase()
        )),
        None => o.push_str(" No special categories of personal data (Art. 9 GDPR) were recognised."),
    }
    o.push_str(&format!(
        " Assessment of the data set: {verdict}. Figures marked \"about\" are statistical estimates \
         with 95 % intervals."
    ));
    o
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

fn category_words(category: &str) -> &str {
    match category {
        "name" => "names",
        "birth_date" => "birth dates",
        "address" => "postal addresses",
        "email" => "e-mail addresses",
        "phone" => "phone numbers",
        "bank" => "bank details",
        "insurance_number" => "health insurance numbers",
        "health" => "health data",
        c => c,
    }
}

fn kind_words(kind: &str) -> &str {
    match kind {
        "kvnr" => "health insurance numbers",
        "email" => "e-mail addresses",
        "phone" => "phone numbers",
        "name_dob" => "names and birth dates",
        "iban" => "IBANs",
        k => k,
    }
}
