//! Per filter and kind: hits, the filter's FPR and the false-positive-corrected estimate of
//! true matches with its 95 % interval, computed from a filter's descriptor and merged tally.

// Reviewed (#11): per-kind arrays indexed by a kind index below KINDS (`distinct` checked to KINDS
// when read).
#![allow(clippy::indexing_slicing)]

use serde::{Deserialize, Serialize};

use crate::estimate::{self, Estimate};
use crate::filter::Role;
use crate::ident::Kind;
use crate::tally::{FilterDesc, FilterTally};

/// One filter's results: its descriptor, rows probed and matched, and per kind the estimates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FilterReport {
    /// The filter file's path as given.
    pub path: String,
    /// The filter's label.
    pub label: String,
    /// What the filter was built from.
    pub role: Role,
    /// Date of the customer snapshot, `YYYY-MM-DD`.
    pub snapshot_date: Option<String>,
    /// Creation time, seconds since the Unix epoch.
    pub created_unix: u64,
    /// Per section (kind), in file order.
    pub kinds: Vec<KindReport>,
    /// Rows with at least one valid probed value.
    pub rows_probed: u64,
    /// Rows with a hit of any kind.
    pub matched_any: u64,
    /// Rows with hits of two or more independent kinds.
    pub matched_two_plus: u64,
    /// False-positive-corrected share of probed rows that are true matches (rounded as every
    /// rate in the report: [`Estimate::rounded_rate`]; counts: [`Estimate::rounded_count`]).
    pub matched_rate: Estimate,
}

/// One kind of one filter: hits, FPR and the estimate of true matches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindReport {
    /// The identifier kind.
    pub kind: Kind,
    /// Valid values probed.
    pub valid: u64,
    /// Of those, values that hit.
    pub hits: u64,
    /// The filter section's false-positive rate (from its real block fill).
    pub fpr: f64,
    /// Expected false positives among the probes, `valid · fpr`.
    pub expected_false_positives: f64,
    /// Estimated true matches with a 95 % interval.
    pub estimate: f64,
    /// Lower 95 % bound of `estimate`.
    pub ci_low: f64,
    /// Upper 95 % bound of `estimate`.
    pub ci_high: f64,
    /// Distinct matching tokens (≈ distinct affected people for this kind): exact up to
    /// `scan --exact-distinct`, a HyperLogLog estimate past it; never more than `hits`.
    pub distinct_hits: f64,
    /// `distinct_hits` was counted exactly (no sketch).
    pub distinct_exact: bool,
    /// 95 % interval of `distinct_hits` (one point when exact; ±1.6 % for a sketch, clamped
    /// to what is certain).
    #[serde(default)]
    pub distinct_ci_low: f64,
    /// Upper end of the 95 % interval of `distinct_hits`.
    #[serde(default)]
    pub distinct_ci_high: f64,
    /// The filter's customers of this kind (inserted count).
    pub filter_count: u64,
}

impl FilterReport {
    /// Per-row false-positive probability of the filter: a row is a false match when any of
    /// its probed kinds is (upper bound: as if every row had every kind).
    pub fn row_fpr(&self) -> f64 {
        estimate::any_fpr(self.kinds.iter().map(|k| k.fpr))
    }

    /// How reports name the filter: its label, or its file name when it has none.
    pub fn name(&self) -> String {
        if !self.label.is_empty() {
            return self.label.clone();
        }
        let path = std::path::Path::new(&self.path);
        path.file_name().map_or(self.path.clone(), |n| n.to_string_lossy().into_owned())
    }

    /// The estimates of one filter from its descriptor and merged tally.
    pub fn of(f: &FilterDesc, t: &FilterTally) -> FilterReport {
        let kinds: Vec<KindReport> = f
            .sections
            .iter()
            .map(|s| {
                let kind = s.kind;
                let i = kind.index();
                let (n, h, p) = (t.probed[i], t.hits[i], s.achieved_fpr);
                let e = estimate::true_matches(n, h, p).rounded_count();
                let d = &t.distinct[i];
                let (lo, hi) = d.interval();
                let distinct =
                    Estimate { estimate: d.count(), ci_low: lo, ci_high: hi }.rounded_count();
                KindReport {
                    kind: s.kind,
                    valid: n,
                    hits: h,
                    fpr: p,
                    expected_false_positives: n as f64 * p,
                    estimate: e.estimate,
                    ci_low: e.ci_low,
                    ci_high: e.ci_high,
                    distinct_hits: distinct.estimate,
                    distinct_exact: d.is_exact(),
                    distinct_ci_low: distinct.ci_low,
                    distinct_ci_high: distinct.ci_high,
                    filter_count: s.inserted,
                }
            })
            .collect();
        let mut r = FilterReport {
            path: f.path.clone(),
            label: f.label.clone(),
            role: f.role,
            snapshot_date: f.snapshot_date.clone(),
            created_unix: f.created_unix,
            kinds,
            rows_probed: t.rows_probed,
            matched_any: t.matched_any,
            matched_two_plus: t.matched_two_plus,
            matched_rate: Estimate { estimate: 0.0, ci_low: 0.0, ci_high: 0.0 },
        };
        r.matched_rate =
            estimate::true_rate(t.rows_probed, t.matched_any, r.row_fpr()).rounded_rate();
        r
    }
}
