//! The ground truth of a generated leak and its exact accumulation over chunks.

// Reviewed (#11): synthetic data: per-kind fixed arrays; `seen` bit sets sized for the generated
// customer count.
#![allow(clippy::indexing_slicing)]

use std::collections::BTreeMap;

use super::leak::{Hits, Mix};
use crate::ident::Kind;

/// The single kinds the truth counts, in the order of [`Tally::matches`].
const SINGLE: [Kind; 4] = [Kind::Kvnr, Kind::Email, Kind::Phone, Kind::NameDob];

/// What a generated leak really contains (written to `truth.json`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Truth {
    /// Seed the data was generated from.
    pub seed: u64,
    /// Number of customers.
    pub customers: u64,
    /// Number of leak rows (without header).
    pub leak_rows: u64,
    /// Rows drawn from customers (duplicates included).
    pub real_rows: u64,
    /// Rows with invented identities.
    pub fabricated_rows: u64,
    /// Rows mixing two customers.
    pub recombined_rows: u64,
    /// Rows of another population.
    pub other_rows: u64,
    /// Per kind name (`kvnr`, `email`, `phone`, `name_dob`, `kvnr+name_dob`): exact number of
    /// leak rows whose normalised value of that kind is valid and belongs to a customer.
    pub matches: BTreeMap<String, u64>,
    /// Per kind name: number of distinct customers hit by that kind.
    pub distinct_matches: BTreeMap<String, u64>,
    /// Rows where at least one of kvnr, email, phone, name_dob belongs to a customer.
    pub rows_matched_any: u64,
    /// Rows where at least two of kvnr, email, phone, name_dob belong to a customer (not
    /// necessarily the same one).
    pub rows_matched_two_plus: u64,
    /// Distinct customers any of whose kvnr, email, phone or name_dob appears in the leak.
    pub distinct_customers: u64,
    /// Dates of the snapshots written (empty without `--snapshots`).
    #[serde(default)]
    pub snapshot_dates: Vec<String>,
    /// Date of the snapshot the leak was taken from.
    #[serde(default)]
    pub leak_snapshot: Option<String>,
    /// Customers in `canaries.csv`.
    #[serde(default)]
    pub canaries: u64,
    /// Leak rows any of whose kvnr, email, phone or name_dob belongs to a canary.
    #[serde(default)]
    pub canary_rows: u64,
}

/// Counts of one chunk of rows, merged in chunk order.
#[derive(Debug, Default)]
pub struct Tally {
    /// Rows matching kvnr, email, phone, name_dob, kvnr+name_dob.
    matches: [u64; 5],
    any: u64,
    two_plus: u64,
    /// (kind position in `SINGLE`, customer) of every hit, for the distinct counts.
    hits: Vec<(u8, u64)>,
}

impl Tally {
    /// Adds one row.
    pub fn add(&mut self, h: &Hits) {
        let singles = [h.kvnr, h.email, h.phone, h.name_dob];
        let mut n = 0;
        for (k, owner) in singles.iter().enumerate() {
            if let Some(c) = *owner {
                self.matches[k] += 1;
                self.hits.push((k as u8, c));
                n += 1;
            }
        }
        if h.kvnr.is_some() && h.kvnr == h.name_dob {
            self.matches[4] += 1;
        }
        self.any += u64::from(n >= 1);
        self.two_plus += u64::from(n >= 2);
    }
}

/// Merges chunk tallies; distinct customers are kept as one bit set per kind.
pub struct Builder {
    tally: Tally,
    seen: [Vec<u64>; 4],
}

impl Builder {
    /// A builder for `customers` customers (memory: `customers / 2` bytes).
    pub fn new(customers: u64) -> Builder {
        let words = customers.div_ceil(64) as usize;
        Builder { tally: Tally::default(), seen: std::array::from_fn(|_| vec![0; words]) }
    }

    /// Merges one chunk's tally.
    pub fn merge(&mut self, t: Tally) {
        for k in 0..5 {
            self.tally.matches[k] += t.matches[k];
        }
        self.tally.any += t.any;
        self.tally.two_plus += t.two_plus;
        for (k, c) in t.hits {
            self.seen[usize::from(k)][(c / 64) as usize] |= 1 << (c % 64);
        }
    }

    /// The truth for this seed, population size and category mix.
    pub fn finish(self, seed: u64, customers: u64, mix: Mix) -> Truth {
        let ones = |v: &[u64]| v.iter().map(|w| u64::from(w.count_ones())).sum::<u64>();
        let mut matches = BTreeMap::new();
        let mut distinct = BTreeMap::new();
        for (k, kind) in SINGLE.iter().enumerate() {
            matches.insert(kind.name().to_string(), self.tally.matches[k]);
            distinct.insert(kind.name().to_string(), ones(&self.seen[k]));
        }
        matches.insert(Kind::KvnrNameDob.name().to_string(), self.tally.matches[4]);
        let words = self.seen[0].len();
        let union: Vec<u64> =
            (0..words).map(|w| self.seen.iter().fold(0, |a, s| a | s[w])).collect();
        Truth {
            seed,
            customers,
            leak_rows: mix.real + mix.fabricated + mix.recombined + mix.other,
            real_rows: mix.real,
            fabricated_rows: mix.fabricated,
            recombined_rows: mix.recombined,
            other_rows: mix.other,
            matches,
            distinct_matches: distinct,
            rows_matched_any: self.tally.any,
            rows_matched_two_plus: self.tally.two_plus,
            distinct_customers: ones(&union),
            snapshot_dates: Vec::new(),
            leak_snapshot: None,
            canaries: 0,
            canary_rows: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_counts_only_when_kvnr_and_name_dob_share_the_customer() {
        let mut b = Builder::new(10);
        let mut t = Tally::default();
        t.add(&Hits { kvnr: Some(1), name_dob: Some(1), ..Hits::default() });
        t.add(&Hits { kvnr: Some(2), name_dob: Some(3), email: Some(2), phone: None });
        t.add(&Hits { phone: Some(2), ..Hits::default() });
        t.add(&Hits::default());
        b.merge(t);
        let truth = b.finish(0, 10, Mix { real: 4, ..Mix::default() });
        assert_eq!(truth.matches["kvnr+name_dob"], 1);
        assert_eq!(truth.matches["kvnr"], 2);
        assert_eq!(truth.rows_matched_any, 3);
        assert_eq!(truth.rows_matched_two_plus, 2);
        assert_eq!(truth.distinct_customers, 3);
        assert_eq!(truth.distinct_matches["name_dob"], 2);
    }
}
