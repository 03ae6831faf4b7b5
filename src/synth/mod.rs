//! Deterministic synthetic customer base and leak with exact ground truth (`generate`, `demo`,
//! benchmarks; README "Commands").
//!
//! [`generate`] writes `customers.csv` (the insurer's clean export), `leak.csv` (a noisy German
//! export of mixed origin) and `truth.json` ([`Truth`]); with [`SynthConfig::canaries`] also
//! `canaries.csv` (planted customers for a `canary` filter), with [`SynthConfig::snapshots`]
//! dated customer files in `snapshots/` (the leak is taken from one of them). Everything is a
//! pure function of the [`SynthConfig`]: rows are produced in fixed chunks of [`CHUNK_ROWS`], each with its own RNG
//! seeded from `(seed, chunk index)`, by rayon workers, and written in order, so the bytes do
//! not depend on the thread count. No value is, or is derived from, real personal data.
//!
//! # Why the truth is exact
//!
//! The truth counts what the product's normalisers (docs/normalisation.md) will find, without calling the
//! ones that are not the generator's to know. It rests on these assumptions:
//!
//! 1. **Noise is normalisation-neutral.** The leak only varies case, surrounding spaces, spaces
//!    inside KVNRs, the German phone spellings `0171 …`, `0171/…`, `+49 (0)171/…`, `0049171…`,
//!    `+49 171 …`, and dates `dd.mm.yyyy` / `d.m.yyyy` (module `dialect`). A customer's value stays
//!    valid and normalises to the same form as in `customers.csv`. E-mail: trim + lower case;
//!    phone: E.164 with default region DE; names: NFC, case fold, `ä→ae ö→oe ü→ue ß→ss`, other
//!    diacritics stripped; date: ISO.
//! 2. **Strangers are disjoint by construction** (module `population`): KVNRs and (name, date)
//!    triples of other-population rows come from outside the image of the customer
//!    bijections; stranger e-mails use other domains, stranger phones other prefixes.
//! 3. **Random values are decided exactly.** Fabricated KVNRs are run through
//!    [`crate::ident::kvnr::normalize`] and, when valid, looked up by inverting the bijection;
//!    fabricated (last, first, date) triples are looked up the same way. The name lists are
//!    unique under their canonical form, so a triple stands for exactly one `name_dob` value.
//! 4. **A field left empty or a date that does not exist** (31 April) never matches.
//!
//! `kvnr+name_dob` matches when the row's KVNR and name/date belong to the *same* customer;
//! recombined rows (KVNR and e-mail of `a`, name, date and phone of `b ≠ a`) hit `kvnr` and
//! `name_dob` but not the pair.

mod dialect;
mod leak;
mod names;
mod perm;
mod population;
#[cfg(test)]
mod recount;
mod run;
mod truth;

pub use leak::DUPLICATE_SHARE;
pub use population::MAX_CUSTOMERS;
pub use run::{generate, write_canaries, write_customers, write_leak, write_snapshot, CHUNK_ROWS};
pub use truth::Truth;

/// File names written by [`generate`].
pub const CUSTOMERS_FILE: &str = "customers.csv";
/// See [`CUSTOMERS_FILE`].
pub const LEAK_FILE: &str = "leak.csv";
/// See [`CUSTOMERS_FILE`].
pub const TRUTH_FILE: &str = "truth.json";
/// Planted canary customers (with `canaries > 0`).
pub const CANARIES_FILE: &str = "canaries.csv";
/// Folder of dated snapshots (with `snapshots ≥ 2`).
pub const SNAPSHOTS_DIR: &str = "snapshots";

/// What to generate. Shares are of leak rows and must add up to 1.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SynthConfig {
    /// Number of customers (at most [`MAX_CUSTOMERS`]).
    pub customers: u64,
    /// Number of leak rows.
    pub leak: u64,
    /// Share of leak rows that are real customers (some of them repeated, see
    /// [`DUPLICATE_SHARE`]).
    pub overlap: f64,
    /// Share of rows with invented identities (random KVNR-shaped values, ~90 % wrong check
    /// digit, random names and dates, foreign e-mails and phones).
    pub fabricated: f64,
    /// Share of rows mixing two customers: KVNR and e-mail of one, name, date and phone of
    /// another.
    pub recombined: f64,
    /// Share of rows of another insurer's people: valid KVNRs and name/date values that are
    /// not customers'.
    pub other_population: f64,
    /// Seed of everything.
    pub seed: u64,
    /// Dated snapshots of the customer base (0 or 1: none). With N ≥ 2, snapshot `s` holds
    /// customers `s·churn .. s·churn + customers` (churn: a fifth of the base per step), each
    /// written to `snapshots/customers_<date>.csv`; the leak and `customers.csv` are taken
    /// from snapshot `(N − 1) / 2`, which the truth names.
    #[serde(default)]
    pub snapshots: u32,
    /// Planted canary customers written to `canaries.csv`: the customers the first real
    /// rows draw, so most of them are in the leak (the truth counts the rows hitting them).
    #[serde(default)]
    pub canaries: u64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            customers: 1_000_000,
            leak: 330_000,
            overlap: 0.6,
            fabricated: 0.05,
            recombined: 0.0,
            other_population: 0.35,
            seed: 42,
            snapshots: 0,
            canaries: 0,
        }
    }
}

impl SynthConfig {
    /// Customers leaving (and joining) between two snapshots.
    pub fn churn(&self) -> u64 {
        self.customers / 5
    }

    /// The population all snapshots draw from.
    pub fn population(&self) -> u64 {
        self.customers + u64::from(self.snapshots.saturating_sub(1)) * self.churn()
    }

    /// The snapshot the leak and `customers.csv` are taken from.
    pub fn leak_snapshot(&self) -> u32 {
        self.snapshots.saturating_sub(1) / 2
    }

    /// The date of snapshot `s`: half-yearly from 2023-01-01.
    pub fn snapshot_date(s: u32) -> String {
        format!("{}-{:02}-01", 2023 + s / 2, if s.is_multiple_of(2) { 1 } else { 7 })
    }

    /// Sets `other_population` to whatever the other three shares leave.
    pub fn other_is_rest(mut self) -> Self {
        self.other_population = 1.0 - self.overlap - self.fabricated - self.recombined;
        self
    }

    /// Checks bounds and shares; returns the row count of each category.
    fn mix(&self) -> Result<leak::Mix, SynthError> {
        let shares = [self.overlap, self.fabricated, self.recombined, self.other_population];
        if shares.iter().any(|s| !(0.0..=1.0).contains(s)) {
            return Err(SynthError::Config("every share must lie in 0..=1".into()));
        }
        let sum: f64 = shares.iter().sum();
        if (sum - 1.0).abs() > 1e-6 {
            return Err(SynthError::Config(format!("the four shares add up to {sum}, not 1")));
        }
        if self.population() > MAX_CUSTOMERS || self.snapshots > 24 {
            return Err(SynthError::Config(format!("at most {MAX_CUSTOMERS} customers")));
        }
        if self.leak >= 1 << 32 {
            return Err(SynthError::Config("at most 2^32 - 1 leak rows".into()));
        }
        // Cumulative rounding: counts are monotone in the shares and add up to `leak`.
        let upto = |s: f64| ((self.leak as f64 * s).round() as u64).min(self.leak);
        let c1 = upto(shares[0]);
        let c2 = upto(shares[0] + shares[1]).max(c1);
        let c3 = upto(shares[0] + shares[1] + shares[2]).max(c2);
        let mix =
            leak::Mix { real: c1, fabricated: c2 - c1, recombined: c3 - c2, other: self.leak - c3 };
        if self.canaries > self.customers {
            return Err(SynthError::Config("more canaries than customers".into()));
        }
        if mix.real > 0 && self.customers == 0 || mix.recombined > 0 && self.customers < 2 {
            return Err(SynthError::Config("too few customers for real or recombined rows".into()));
        }
        Ok(mix)
    }
}

/// Errors of the generator. They name files, never values.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The configuration cannot be generated.
    #[error("invalid synthetic data configuration: {0}")]
    Config(String),
    /// Writing an output failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file (or `<writer>` for a caller's writer).
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}
