//! Forensics (README "Forensics and verdict"): signals computed from the merged tallies, and the verdict they lead to.
//!
//! Every signal refers to the **main filter**: among the `customers` filters with the most
//! kinds (so that pair kinds are used when some filter has them), the one with the highest
//! false-positive-corrected matched-row rate.
//!
//! | signal | definition |
//! |---|---|
//! | match rate per kind | `true_rate(valid, hits, fpr)`: FP-corrected share, Wilson 95 % interval |
//! | strong matches | rows hit by ≥ 2 independent kinds; share of matched rows, Wilson |
//! | people | max over independent kinds of (distinct matching tokens − expected FPs) |
//! | KVNR validity | valid / (valid + wrong check digit) among KVNR-shaped values, Wilson |
//! | valid-but-unknown KVNRs | valid KVNRs − FP-corrected KVNR matches (interval from it) |
//! | recombined rows | `kvnr` and `name_dob` hit, `kvnr+name_dob` misses; share of rows where both parts hit, Wilson |
//! | duplicates | rows − distinct rows (token sets), [`crate::tally::RowSample`] |
//! | birth years | total variation distance ½·Σ|d_b − c_b| over the filter's published buckets |
//! | canary | rows hitting a `canary` filter vs. its expected false positives |
//! | snapshots | matched-row rate per dated filter; the best fit has the highest rate |
//!
//! # Verdict thresholds
//!
//! Chosen from `leakmatch generate` simulations (20,000 customers, 4,000 leak rows, seeds
//! 1–3, filter with `kvnr,email,phone,name_dob,kvnr+name_dob`; the three seeds agree to
//! ±0.005). Point estimate [95 % interval]:
//!
//! | case (`generate` flags) | matched-row rate | KVNR validity | recombined share | verdict |
//! |---|---|---|---|---|
//! | genuine (defaults: 60 % real, 5 % fabricated) | 0.600 [0.585, 0.615] | 0.955 [0.948, 0.961] | 0.000 [0, 0.002] | genuine-extract |
//! | small genuine share (`--overlap 0.1`) | 0.100 [0.091, 0.110] | 0.954 | 0.000 | genuine-extract |
//! | fabricated (`--overlap 0.2 --fabricated 0.6`) | 0.200 | 0.460 [0.444, 0.475] | 0.000 | likely-fabricated |
//! | padded (`--overlap 0.5 --fabricated 0.2`) | 0.500 | 0.820 [0.807, 0.831] | 0.000 | likely-fabricated |
//! | recombined (`--overlap 0.3 --recombined 0.3`) | 0.600 | 0.954 | 0.500 [0.480, 0.521] | recombined |
//! | partly recombined (`--overlap 0.5 --recombined 0.1`) | 0.600 | 0.955 | 0.169 [0.154, 0.185] | recombined |
//! | another insurer (`--overlap 0`) | 0.000 [0, 0.001] | 0.955 | – | other-population |
//! | a trace of customers (`--overlap 0.01`) | 0.010 [0.007, 0.014] | 0.955 | – | other-population |
//!
//! Birth-year distance was ≤ 0.072 in every case (the generator draws all populations from
//! one distribution), duplicates 0–1.2 % of rows. The thresholds sit between the cases with
//! the intervals' width to spare: a KVNR validity bound of 0.85 flags dumps with more than
//! ≈ 17 % invented KVNRs (random KVNRs pass the check digit one time in ten); a recombined
//! share of 0.10 tolerates the rare genuine row whose KVNR and name belong to two people
//! (data-entry errors) while a compilation of several sources shows 15–50 %.
//!
//! # Preconditions: a label only where the filters hold its evidence
//!
//! | label | evidence it needs (checked in [`verdict`]) | without it |
//! |---|---|---|
//! | any label | ≥ [`MIN_ROWS`] probed rows | `inconclusive`, "scan more rows / map the columns" |
//! | `likely-fabricated` | ≥ [`MIN_KVNR_SHAPED`] KVNR-shaped values in the dump | not assessed; the reason says so and names `--map kvnr=COLUMN` |
//! | `recombined` | a pair kind in the main filter whose both parts hit in ≥ [`MIN_PAIR_ROWS`] rows | not assessed |
//! | `genuine-extract` | pair-consistency evidence: a pair kind whose both parts hit in ≥ [`MIN_PAIR_ROWS`] rows and whose recombined share has an upper bound ≤ [`RECOMBINED_SHARE`] | `inconclusive` with the reason "no pair kind in filter X: genuine extract and recombination cannot be told apart" and the `leakmatch build --kinds ...` command that adds the pairs (or: too few rows with both parts; or: an interval that straddles the threshold) |
//! | `other-population` | the matched-row rate of ≥ [`MIN_ROWS`] rows | – |
//! | dating (best snapshot) | ≥ [`MIN_DATED_FILTERS`] dated filters | no best snapshot; the reason names `build --snapshot-date` |
//!
//! Every reason carries the signal, its value and its threshold (in `signal`, `value`,
//! `threshold` and in its sentence); a reason for missing evidence also carries the `remedy`.
//! A canary proof of origin shows where the data comes from, not that a row's identifiers
//! belong together: it rules out `other-population` but does not replace the pair evidence.
//!
//! # Rules, in order
//!
//! 1. fewer than [`MIN_ROWS`] probed rows → `inconclusive`;
//! 2. ≥ [`MIN_KVNR_SHAPED`] KVNR-shaped values and KVNR validity upper bound <
//!    [`FABRICATED_VALIDITY`] → `likely-fabricated`;
//! 3. a pair kind with ≥ [`MIN_PAIR_ROWS`] both-parts rows and recombined share lower bound
//!    > [`RECOMBINED_SHARE`] → `recombined`;
//! 4. matched-row rate upper bound < [`OTHER_POPULATION_RATE`] and no canary proof →
//!    `other-population`;
//! 5. (matched-row rate lower bound > [`GENUINE_RATE`] and strong share ≥
//!    [`GENUINE_STRONG_SHARE`], or canary proof) and birth-year distance ≤ [`BIRTH_TVD`] and
//!    pair-consistency evidence → `genuine-extract`;
//! 6. otherwise `inconclusive`, with the missing evidence among the reasons.
//!
//! The last reason is always the dating: the best-fitting of ≥ [`MIN_DATED_FILTERS`] dated
//! filters and whether its interval is apart from the next one's, or what is missing.

#[cfg(test)]
mod chunking_tests;
mod filters;
pub(crate) mod gdpr;
mod signals;

use serde::{Deserialize, Serialize};

use crate::estimate::Estimate;
use crate::ident::Kind;

pub use filters::{FilterReport, KindReport};
pub use signals::{analyse, birth_fit, meaning, verdict, Input};

/// Fewest probed rows for any verdict but `inconclusive`.
pub const MIN_ROWS: u64 = 50;
/// Fewest KVNR-shaped values for `likely-fabricated` to be assessed (with 50 values a dump of
/// random KVNRs has a validity upper bound ≈ 0.2, a genuine one a lower bound ≈ 0.9).
pub const MIN_KVNR_SHAPED: u64 = 50;
/// Fewest rows where both parts of a pair kind hit, for pair-consistency evidence: with 50
/// rows and no miss, the recombined share's upper 95 % bound is 0.071 < [`RECOMBINED_SHARE`].
pub const MIN_PAIR_ROWS: u64 = 50;
/// Fewest dated filters (`build --snapshot-date`) to tell when the data was taken.
pub const MIN_DATED_FILTERS: usize = 2;
/// KVNR validity (upper 95 % bound) below this: fabricated. Real extracts ≈ 100 %, random ≈ 10 %.
pub const FABRICATED_VALIDITY: f64 = 0.85;
/// Share of both-parts-hit rows whose pair misses (lower 95 % bound) above this: recombined.
pub const RECOMBINED_SHARE: f64 = 0.10;
/// Matched-row rate (upper 95 % bound) below this: another population.
pub const OTHER_POPULATION_RATE: f64 = 0.02;
/// Matched-row rate (lower 95 % bound) above this for a genuine extract.
pub const GENUINE_RATE: f64 = 0.05;
/// Share of matched rows hit by two or more independent kinds, for a genuine extract.
pub const GENUINE_STRONG_SHARE: f64 = 0.5;
/// Birth-year total variation distance above this contradicts a genuine extract.
pub const BIRTH_TVD: f64 = 0.25;

/// Everything forensics adds to the report (flattened into its top level).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Forensics {
    /// The signals of the main filter.
    pub signals: Signals,
    /// The verdict and its reasons.
    pub verdict: Verdict,
    /// Label of the best-fitting dated filter (highest matched-row rate), when at least
    /// [`MIN_DATED_FILTERS`] filters are dated.
    pub best_snapshot: Option<String>,
    /// Per dated filter, in order of the filters: its matched-row rate.
    pub snapshots: Vec<SnapshotFit>,
    /// Hits on `canary` filters.
    pub canary: Canary,
    /// GDPR categories and counts of affected subjects and records.
    pub gdpr: gdpr::Gdpr,
}

/// The verdict and what decided it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// `genuine-extract`, `recombined`, `likely-fabricated`, `other-population`, `inconclusive`.
    pub label: String,
    /// What the label means for the responder, in one sentence.
    pub meaning: String,
    /// The signals compared with their thresholds; the last one is the dating.
    pub reasons: Vec<Reason>,
}

/// One signal compared with one threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable name of the signal (`matched_rate`, `kvnr_validity`, `recombined_share`, ...).
    pub signal: String,
    /// The signal's value (a rate, a count or a distance, per signal).
    pub value: f64,
    /// The threshold the value was compared with.
    pub threshold: f64,
    /// Human-readable sentence with the signal's value and its threshold (numbers only,
    /// never values).
    pub text: String,
    /// When the reason is missing evidence: what would get it (a command or a column to map).
    #[serde(default)]
    pub remedy: Option<String>,
}

/// The signals of the main filter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    /// Label of the main filter (empty when there is none).
    pub filter: String,
    /// Rows probed against the main filter.
    pub rows_probed: u64,
    /// FP-corrected matched-row rate.
    pub matched_rate: Estimate,
    /// FP-corrected match rate per kind of the main filter.
    pub match_rate_by_kind: Vec<KindRate>,
    /// Rows hit by two or more independent kinds.
    pub strong_matches: u64,
    /// Strong matches as a share of matched rows.
    pub strong_share: Estimate,
    /// Distinct affected people.
    pub people: People,
    /// Valid KVNRs among KVNR-shaped values (valid + wrong check digit); `None` without any.
    pub kvnr_validity: Option<Share>,
    /// Valid KVNRs that are not customers (valid − FP-corrected matches).
    pub kvnr_valid_unknown: Option<Estimate>,
    /// Pair consistency per pair kind of the main filter.
    pub recombined: Vec<PairSignal>,
    /// Repeated rows inside the dump.
    pub duplicates: Duplicates,
    /// The dump's birth years against the base's histogram; `None` when either side has none.
    pub birth_years: Option<BirthYearFit>,
    /// With `--claimed-size`: whether the claim fits the customer base.
    pub claimed: Option<ClaimedFit>,
}

/// A claimed full-set size against the customer base: a sample at matched-row rate θ of a
/// set of N rows implies at least θ_low·N customer rows; more than the base holds means the
/// claim is exaggerated (or the set is not one extract of this base).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimedFit {
    /// The claimed size, in records (`--claimed-size`).
    pub claimed: u64,
    /// Lower 95 % bound of customer rows the claim implies (matched-row rate low × claimed).
    pub implied_low: f64,
    /// Customers in the main filter (largest inserted count of its kinds).
    pub base: u64,
    /// `implied_low` is above `base`: the claim is exaggerated.
    pub exaggerated: bool,
}

/// The FP-corrected match rate of one kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindRate {
    /// The kind.
    pub kind: Kind,
    /// Valid values of the kind probed.
    pub valid: u64,
    /// Of those, values that hit.
    pub hits: u64,
    /// FP-corrected share of valid values that truly match, with its Wilson interval.
    pub rate: Estimate,
}

/// Distinct affected people.
///
/// For the kind with the most: its distinct matching tokens `D` (exact up to
/// `scan --exact-distinct`, else a sketch with its interval) less the false positives among
/// them, by [`crate::estimate::true_matches`] with `D` as the hits (a false positive is a
/// distinct non-member value that hits: at most `Binomial(n − T, p)` of them). The interval
/// combines the sketch's interval (if any) and the false positives' law.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct People {
    /// Max over independent kinds of distinct matching tokens minus expected false positives.
    pub estimate: f64,
    /// Lower 95 % bound of `estimate`.
    #[serde(default)]
    pub ci_low: f64,
    /// Upper 95 % bound of `estimate`.
    #[serde(default)]
    pub ci_high: f64,
    /// The kind that gave the maximum; none when no independent kind was probed (written as
    /// its name, or `""` for none).
    #[serde(with = "kind_or_empty")]
    pub kind: Option<Kind>,
    /// The count is exact: counted without a sketch, and its 95 % interval is one number
    /// (no false positive is expected to matter). Otherwise approximate, with its interval.
    pub exact: bool,
    /// The definition of the count, in one sentence.
    pub definition: String,
}

/// A proportion with its Wilson interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// Rows (or values) in the part.
    pub part: u64,
    /// Rows (or values) in the whole.
    pub whole: u64,
    /// `part / whole`, with its Wilson interval.
    pub share: Estimate,
}

/// Pair consistency of one pair kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairSignal {
    /// Name of the pair kind (e.g. `kvnr+name_dob`).
    pub pair: String,
    /// Rows where both parts hit (and the pair was probed).
    pub both_parts: u64,
    /// Of those, rows whose pair missed: recombined rows.
    pub pair_missed: u64,
    /// `pair_missed / both_parts`, with its Wilson interval.
    pub share: Estimate,
}

/// Repeated rows inside the dump.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Duplicates {
    /// Rows with at least one valid identifier.
    pub rows: u64,
    /// Rows repeating an earlier row: an integer, exact when `exact`, else estimated from a
    /// sample and rounded.
    pub duplicates: u64,
    /// `duplicates / rows` (0 when `rows` is 0).
    pub share: f64,
    /// Exact (at most [`crate::tally::ROW_SAMPLE`] distinct rows), not estimated from a sample.
    pub exact: bool,
}

/// The dump's birth years against the customer base's published histogram.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BirthYearFit {
    /// Width of the base's buckets, in years.
    pub bucket_years: u16,
    /// `(bucket start, dump share, base share)` over the base's published buckets.
    pub buckets: Vec<(u16, f64, f64)>,
    /// Total variation distance ½·Σ|dump − base| over those buckets (shares renormalised to
    /// the published buckets on both sides).
    pub tvd: f64,
    /// Dump rows with a birth year inside the base's published buckets.
    pub dump_rows: u64,
}

/// One dated filter's fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotFit {
    /// The filter's label.
    pub label: String,
    /// Its snapshot date, `YYYY-MM-DD`.
    pub snapshot_date: String,
    /// Its FP-corrected matched-row rate.
    pub matched_rate: Estimate,
}

/// Hits on `canary` filters: planted records, proof of origin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Canary {
    /// Per `canary` filter, in order of the filters.
    pub filters: Vec<CanaryHits>,
    /// True when some canary filter has more hits than its false positives explain.
    pub proof_of_origin: bool,
}

/// One canary filter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CanaryHits {
    /// The filter's label.
    pub label: String,
    /// Rows with a hit of any kind.
    pub rows_hit: u64,
    /// Distinct planted records hit (max over kinds of distinct matching tokens).
    pub planted_hit: f64,
    /// Expected false-positive rows.
    pub expected_false: f64,
    /// `rows_hit` is above the expected false positives by more than ~3 sigma (Poisson).
    pub significant: bool,
}

/// Serde of [`People::kind`]: the kind's name, or `""` for none (report schema 2).
mod kind_or_empty {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::ident::Kind;

    pub fn serialize<S: Serializer>(k: &Option<Kind>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.map_or("", Kind::name))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Kind>, D::Error> {
        match String::deserialize(d)?.as_str() {
            "" => Ok(None),
            name => Kind::from_name(name)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("unknown identifier kind")),
        }
    }
}

#[cfg(test)]
mod people_serde_tests {
    use super::People;
    use crate::ident::Kind;

    fn people(kind: Option<Kind>) -> People {
        People {
            estimate: 3.0,
            ci_low: 3.0,
            ci_high: 3.0,
            kind,
            exact: true,
            definition: String::new(),
        }
    }

    #[test]
    fn the_kind_is_written_by_name_or_empty_and_read_back() {
        for kind in Kind::ALL.into_iter().map(Some).chain([None]) {
            let json = serde_json::to_value(people(kind)).unwrap();
            assert_eq!(json["kind"], kind.map_or("", Kind::name));
            let back: People = serde_json::from_value(json).unwrap();
            assert_eq!(back.kind, kind);
        }
        let mut json = serde_json::to_value(people(None)).unwrap();
        json["kind"] = "jan@example.de".into();
        let err = serde_json::from_value::<People>(json).unwrap_err().to_string();
        assert!(err.contains("unknown identifier kind") && !err.contains("jan@"), "{err}");
    }
}
