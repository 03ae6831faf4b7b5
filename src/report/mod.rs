//! The scan report: one [`Report`] value, rendered as text ([`text`]) or JSON ([`json`]).
//!
//! [`Report::build`] turns merged [`Tally`]s into numbers a responder can defend: per filter
//! and kind, hits, the filter's FPR and the false-positive-corrected estimate of true matches
//! with its 95 % interval ([`crate::estimate`]). No field holds a value from any input.

// Reviewed (#11): fixed arrays indexed by `Kind::index()`, `Flaw::index()` and `Malformed as usize`
// (their lengths are the enums' variant counts).
#![allow(clippy::indexing_slicing)]

pub mod html;
pub mod json;
pub(crate) mod matches;
pub mod text;

use serde::{Deserialize, Serialize};

use crate::dump::Malformed;
use crate::estimate;
use crate::filter::Role;
pub use crate::forensics::{FilterReport, KindReport};
use crate::ident::{Flaw, Kind};
pub use crate::tally::{ColumnUse, Coverage, FilterDesc, InputReport, SectionDesc};
use crate::tally::{Pos, Tally};

/// Version of the JSON schema (see [`json`]). Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// Everything the scan found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`]: bumped on incompatible changes.
    pub schema_version: u32,
    /// Version of the leakmatch that made the report.
    pub tool_version: String,
    /// Hex key id of the key used (names the key, does not reveal it).
    pub key_id: String,
    /// The inputs scanned, in order (descriptor, detected format, columns, coverage).
    pub inputs: Vec<InputReport>,
    /// Record counts over all inputs.
    pub records: Records,
    /// Validity of the values per kind, over all inputs.
    pub kinds: Vec<KindValidity>,
    /// Per filter: hits, FPR and estimates per kind, in the order given.
    pub filters: Vec<FilterReport>,
    /// Extrapolation to `--claimed-size`, from the first `customers` filter's matched rows.
    pub claimed: Option<Claimed>,
    /// The `--alert-above` check; `None` without the flag.
    pub alert: Option<Alert>,
    /// Wall time and throughput of the scan.
    pub timing: Timing,
    /// Signals, verdict, snapshot fit, canary hits, GDPR summary ([`crate::forensics`]);
    /// flattened: `verdict`, `best_snapshot`, `canary`, ... are top-level keys.
    #[serde(flatten)]
    pub forensics: crate::forensics::Forensics,
}

/// Record counts over all inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Records {
    /// All records read.
    pub total: u64,
    /// Records that could not be parsed (skipped).
    pub malformed: u64,
    /// Malformed records per reason; reasons that did not occur are omitted.
    pub malformed_by_reason: Vec<MalformedCount>,
    /// Rows with a hit of any kind in any `customers` filter.
    pub matched_any: u64,
    /// Rows with hits of two or more independent kinds in one `customers` filter.
    pub matched_two_plus: u64,
}

/// Malformed records of one reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MalformedCount {
    /// The reason's stable name ([`Malformed::name`]).
    pub reason: String,
    /// Records malformed for this reason.
    pub count: u64,
    /// Where it first happened (input, record, line, byte).
    pub first: Option<Position>,
}

/// A place in an input: 1-based record and line, 0-based byte offset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// The input's path as given.
    pub input: String,
    /// 1-based record number.
    pub record: u64,
    /// 1-based line number.
    pub line: u64,
    /// 0-based byte offset.
    pub byte: u64,
}

/// Validity of one kind's values over all inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindValidity {
    /// The identifier kind.
    pub kind: Kind,
    /// Rows where the kind's fields were non-empty.
    pub present: u64,
    /// Values that normalised to a valid identifier.
    pub valid: u64,
    /// Invalid values by reason (`wrong_check_digit`, `test_identity`, ...); zero counts omitted.
    pub invalid: Vec<(String, u64)>,
}

/// Extrapolation of the matched-row rate to the size the leak claims.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claimed {
    /// The claimed size, `--claimed-size` records.
    pub size: u64,
    /// Name of the filter extrapolated from.
    pub filter: String,
    /// Estimated customer rows among the claimed records (false-positive-corrected).
    pub estimate: f64,
    /// Lower 95 % bound of `estimate`.
    pub ci_low: f64,
    /// Upper 95 % bound of `estimate`.
    pub ci_high: f64,
    /// Customers in the filter (the largest inserted count of its kinds).
    #[serde(default)]
    pub base: u64,
    /// The claim implies more customer rows than the base holds (at the lower bound of the
    /// matched-row rate): the claim is exaggerated, and the extrapolation is hypothetical.
    /// Reports say so before they show the extrapolation.
    #[serde(default)]
    pub exceeds_base: bool,
}

/// The result of `--alert-above`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The threshold given, a share of rows (0..=1).
    pub threshold: f64,
    /// The lower bound of the matched-row rate that was compared.
    pub rate_low: f64,
    /// `rate_low` is above `threshold`: the scan exits with the alert status.
    pub exceeded: bool,
}

/// Wall time and throughput.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Wall time in seconds (for a merge: the sum of the shards').
    pub seconds: f64,
    /// Raw bytes of all inputs.
    pub bytes: u64,
    /// `bytes` in MB (10^6 bytes) per second of `seconds`.
    pub mb_per_s: f64,
    /// Records per second of `seconds`.
    pub rows_per_s: f64,
}

/// What [`Report::build`] needs besides the tallies.
pub struct BuildContext<'a> {
    /// Hex key id of the key used.
    pub key_id: String,
    /// Per input: its descriptor and merged tally.
    pub inputs: Vec<(InputReport, Tally)>,
    /// The filters scanned against, in the order of the tallies' filter counts.
    pub filters: &'a [FilterDesc],
    /// `--claimed-size`, if given.
    pub claimed_size: Option<u64>,
    /// `--alert-above`, if given: a share of rows (0..=1).
    pub alert_above: Option<f64>,
    /// Wall time in seconds.
    pub seconds: f64,
}

impl Report {
    /// Computes every estimate from the merged tallies.
    pub fn build(ctx: BuildContext<'_>) -> Report {
        let mut total = Tally::new(ctx.filters.len());
        for (_, t) in &ctx.inputs {
            total.merge(t);
        }
        for d in total.filters.iter_mut().flat_map(|f| &mut f.distinct) {
            d.settle();
        }
        let filters: Vec<FilterReport> =
            ctx.filters.iter().zip(&total.filters).map(|(f, t)| FilterReport::of(f, t)).collect();
        let customers: Vec<&FilterReport> =
            filters.iter().filter(|f| f.role == Role::Customers).collect();
        let main = customers.first().copied().or(filters.first());
        let claimed = ctx.claimed_size.zip(main).map(|(size, f)| {
            let e = estimate::extrapolate(f.rows_probed, f.matched_any, f.row_fpr(), size)
                .rounded_count();
            Claimed {
                size,
                filter: f.name(),
                estimate: e.estimate,
                ci_low: e.ci_low,
                ci_high: e.ci_high,
                base: f.kinds.iter().map(|k| k.filter_count).max().unwrap_or(0),
                exceeds_base: false,
            }
        });
        let alert = ctx.alert_above.map(|threshold| {
            let rate_low = main.map_or(0.0, |f| f.matched_rate.ci_low);
            Alert { threshold, rate_low, exceeded: rate_low > threshold }
        });
        let bytes: u64 = ctx.inputs.iter().map(|i| i.0.bytes).sum();
        let secs = ctx.seconds.max(1e-9);
        let forensics = crate::forensics::analyse(crate::forensics::Input {
            total: &total,
            filters: &filters,
            descs: ctx.filters,
            claimed_size: ctx.claimed_size,
        });
        let claimed = claimed.map(|c| Claimed {
            exceeds_base: forensics.signals.claimed.as_ref().is_some_and(|f| f.exaggerated),
            ..c
        });
        Report {
            schema_version: SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            key_id: ctx.key_id,
            records: records(&ctx.inputs, &total, &filters),
            kinds: kind_validity(&total),
            inputs: ctx.inputs.into_iter().map(|i| i.0).collect(),
            filters,
            claimed,
            alert,
            timing: Timing {
                seconds: ctx.seconds,
                bytes,
                mb_per_s: bytes as f64 / 1e6 / secs,
                rows_per_s: total.records as f64 / secs,
            },
            forensics,
        }
    }

    /// Whether `--alert-above` was crossed.
    pub fn alert_exceeded(&self) -> bool {
        self.alert.as_ref().is_some_and(|a| a.exceeded)
    }
}

fn records(inputs: &[(InputReport, Tally)], total: &Tally, filters: &[FilterReport]) -> Records {
    let malformed_by_reason = Malformed::ALL
        .iter()
        .filter(|m| total.malformed[**m as usize] > 0)
        .map(|&m| {
            let first = inputs.iter().find_map(|(inp, t)| {
                t.first_malformed[m as usize].map(|p: Pos| Position {
                    input: inp.path.clone(),
                    record: p.record,
                    line: p.line,
                    byte: p.byte,
                })
            });
            MalformedCount {
                reason: m.name().to_string(),
                count: total.malformed[m as usize],
                first,
            }
        })
        .collect();
    let customers = || filters.iter().filter(|f| f.role == Role::Customers);
    Records {
        total: total.records,
        malformed: total.malformed_total(),
        malformed_by_reason,
        matched_any: customers().map(|f| f.matched_any).max().unwrap_or(0),
        matched_two_plus: customers().map(|f| f.matched_two_plus).max().unwrap_or(0),
    }
}

fn kind_validity(total: &Tally) -> Vec<KindValidity> {
    Kind::ALL
        .iter()
        .filter(|k| total.kinds[k.index()].present > 0)
        .map(|&k| {
            let c = &total.kinds[k.index()];
            KindValidity {
                kind: k,
                present: c.present,
                valid: c.valid,
                invalid: Flaw::ALL
                    .iter()
                    .filter(|f| c.invalid[f.index()] > 0)
                    .map(|f| (f.name().to_string(), c.invalid[f.index()]))
                    .collect(),
            }
        })
        .collect()
}
