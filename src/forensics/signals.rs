//! Computing the signals and the verdict from merged tallies (formulas in [`super`]).

use super::*;
use crate::estimate::{self, wilson, Z95};
use crate::filter::BirthYears;
use crate::ident::{Flaw, Kind};
use crate::report::num::{count, thousands};
use crate::report::{FilterDesc, FilterReport};
use crate::scan::INDEPENDENT;
use crate::tally::{FilterTally, Tally};

/// What [`analyse`] reads.
pub struct Input<'a> {
    pub total: &'a Tally,
    pub filters: &'a [FilterReport],
    pub descs: &'a [FilterDesc],
    /// Per input: the GDPR categories its columns hold, and its tally.
    pub inputs: Vec<(&'a [String], &'a Tally)>,
    /// `--claimed-size`.
    pub claimed_size: Option<u64>,
}

fn share(part: u64, whole: u64) -> Share {
    let (lo, hi) = wilson(part, whole, Z95);
    let p = if whole == 0 { 0.0 } else { part as f64 / whole as f64 };
    Share { part, whole, share: Estimate { estimate: p, ci_low: lo, ci_high: hi } }
}

/// Computes signals, verdict, snapshot fit, canary hits and the GDPR summary.
pub fn analyse(inp: Input<'_>) -> Forensics {
    let main = inp
        .filters
        .iter()
        .enumerate()
        .filter(|(_, f)| f.role == "customers")
        .max_by(|a, b| {
            let key = |f: &FilterReport| (f.kinds.len(), f.matched_rate.estimate);
            let (ka, kb) = (key(a.1), key(b.1));
            ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
        })
        .map(|(i, _)| i);
    let mut signals = main.map_or_else(empty_signals, |i| {
        signals(&inp.filters[i], &inp.total.filters[i], &inp.descs[i], inp.total)
    });
    if let (Some(i), Some(claimed)) = (main, inp.claimed_size) {
        let base = inp.filters[i].kinds.iter().map(|k| k.filter_count).max().unwrap_or(0);
        let implied_low = signals.matched_rate.ci_low * claimed as f64;
        let exaggerated = implied_low > base as f64;
        signals.claimed = Some(ClaimedFit { claimed, implied_low, base, exaggerated });
    }
    let snapshots: Vec<SnapshotFit> = inp
        .filters
        .iter()
        .filter_map(|f| {
            Some(SnapshotFit {
                label: f.label.clone(),
                snapshot_date: f.snapshot_date.clone()?,
                matched_rate: f.matched_rate,
            })
        })
        .collect();
    let best_snapshot = snapshots
        .iter()
        .max_by(|a, b| a.matched_rate.estimate.total_cmp(&b.matched_rate.estimate))
        .map(|s| s.label.clone());
    let canary = canary(inp.filters);
    let verdict = verdict(&signals, &canary);
    let gdpr = gdpr::summary(&signals, main, &inp.inputs);
    Forensics { signals, verdict, best_snapshot, snapshots, canary, gdpr }
}

fn empty_signals() -> Signals {
    let zero = Estimate { estimate: 0.0, ci_low: 0.0, ci_high: 1.0 };
    Signals {
        filter: String::new(),
        rows_probed: 0,
        matched_rate: zero,
        match_rate_by_kind: Vec::new(),
        strong_matches: 0,
        strong_share: zero,
        people: People {
            estimate: 0.0,
            kind: String::new(),
            exact: true,
            definition: PEOPLE.into(),
        },
        kvnr_validity: None,
        kvnr_valid_unknown: None,
        recombined: Vec::new(),
        duplicates: Duplicates { rows: 0, duplicates: 0, share: 0.0, exact: true },
        birth_years: None,
        claimed: None,
    }
}

const PEOPLE: &str = "largest number of distinct matching tokens of one independent kind \
                      (kvnr, email, phone, name_dob, iban), minus its expected false positives";

fn signals(f: &FilterReport, t: &FilterTally, d: &FilterDesc, total: &Tally) -> Signals {
    let match_rate_by_kind = f
        .kinds
        .iter()
        .map(|k| KindRate {
            kind: k.kind.clone(),
            valid: k.valid,
            hits: k.hits,
            rate: estimate::true_rate(k.valid, k.hits, k.fpr),
        })
        .collect();
    let people = f
        .kinds
        .iter()
        .filter(|k| Kind::from_name(&k.kind).is_some_and(|k| INDEPENDENT.contains(&k)))
        .map(|k| (k, (k.distinct_hits - k.expected_false_positives).max(0.0)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(
            People { estimate: 0.0, kind: String::new(), exact: true, definition: PEOPLE.into() },
            |(k, n)| People {
                estimate: n,
                kind: k.kind.clone(),
                exact: k.distinct_exact,
                definition: PEOPLE.into(),
            },
        );
    let kc = &total.kinds[Kind::Kvnr.index()];
    let shaped = kc.valid + kc.invalid[Flaw::CheckDigit.index()];
    let kvnr = f.kinds.iter().find(|k| k.kind == Kind::Kvnr.name());
    let kvnr_valid_unknown = kvnr.map(|k| {
        let v = k.valid as f64;
        Estimate { estimate: v - k.estimate, ci_low: v - k.ci_high, ci_high: v - k.ci_low }
    });
    let recombined = [Kind::KvnrNameDob, Kind::EmailNameDob]
        .iter()
        .filter(|p| f.kinds.iter().any(|k| k.kind == p.name()))
        .map(|p| {
            let (both, missed) = (t.pair_both[p.index()], t.pair_missed[p.index()]);
            PairSignal {
                pair: p.name().into(),
                both_parts: both,
                pair_missed: missed,
                share: share(missed, both).share,
            }
        })
        .collect();
    let rs = &total.row_sample;
    let dups = rs.duplicates();
    Signals {
        filter: filter_name(f),
        rows_probed: f.rows_probed,
        matched_rate: f.matched_rate,
        match_rate_by_kind,
        strong_matches: f.matched_two_plus,
        strong_share: share(f.matched_two_plus, f.matched_any).share,
        people,
        kvnr_validity: (shaped > 0).then(|| share(kc.valid, shaped)),
        kvnr_valid_unknown,
        recombined,
        duplicates: Duplicates {
            rows: rs.rows,
            duplicates: dups.round().max(0.0) as u64,
            share: if rs.rows == 0 { 0.0 } else { dups / rs.rows as f64 },
            exact: rs.is_exact(),
        },
        birth_years: birth_fit(&total.birth_years, &d.meta.birth_years),
        claimed: None,
    }
}

/// A filter's label, or its file name when it has none (not the full path, so that reports of
/// shards scanned from other folders agree).
fn filter_name(f: &FilterReport) -> String {
    if !f.label.is_empty() {
        return f.label.clone();
    }
    let path = std::path::Path::new(&f.path);
    path.file_name().map_or(f.path.clone(), |n| n.to_string_lossy().into_owned())
}

/// Total variation distance between the dump's birth years (per year from 1900) and the
/// base's published buckets, both renormalised over those buckets.
pub fn birth_fit(dump: &[u64], base: &BirthYears) -> Option<BirthYearFit> {
    let width = base.bucket_years.max(1);
    let base_n: u64 = base.buckets.iter().map(|b| b.1).sum();
    let in_bucket = |start: u16| -> u64 {
        (start..start.saturating_add(width))
            .filter_map(|y| dump.get(usize::from(y.checked_sub(1900)?)))
            .sum()
    };
    let dump_counts: Vec<u64> = base.buckets.iter().map(|b| in_bucket(b.0)).collect();
    let dump_n: u64 = dump_counts.iter().sum();
    if base_n == 0 || dump_n == 0 {
        return None;
    }
    let buckets: Vec<(u16, f64, f64)> = base
        .buckets
        .iter()
        .zip(&dump_counts)
        .map(|(b, &d)| (b.0, d as f64 / dump_n as f64, b.1 as f64 / base_n as f64))
        .collect();
    let tvd = 0.5 * buckets.iter().map(|b| (b.1 - b.2).abs()).sum::<f64>();
    Some(BirthYearFit { bucket_years: width, buckets, tvd, dump_rows: dump_n })
}

fn canary(filters: &[FilterReport]) -> Canary {
    let filters: Vec<CanaryHits> = filters
        .iter()
        .filter(|f| f.role == "canary")
        .map(|f| {
            let expected_false: f64 = f.kinds.iter().map(|k| k.expected_false_positives).sum();
            let planted_hit = f.kinds.iter().map(|k| k.distinct_hits).fold(0.0, f64::max);
            // Significant: more rows than the false positives explain at ~3 sigma (Poisson).
            let bar = expected_false + 3.0 * expected_false.sqrt() + 0.5;
            CanaryHits {
                label: f.label.clone(),
                rows_hit: f.matched_any,
                planted_hit,
                expected_false,
                significant: f.matched_any as f64 > bar,
            }
        })
        .collect();
    let proof_of_origin = filters.iter().any(|c| c.significant);
    Canary { filters, proof_of_origin }
}

fn reason(signal: &str, value: f64, threshold: f64, text: String) -> Reason {
    Reason { signal: signal.into(), value, threshold, text }
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

/// Applies the rules of [`super`] in order.
pub fn verdict(s: &Signals, canary: &Canary) -> Verdict {
    let mut reasons = Vec::new();
    let label = decide(s, canary, &mut reasons);
    Verdict { label: label.into(), meaning: meaning(label).into(), reasons }
}

/// The first rule that fires names the label; every signal looked at becomes a reason.
fn decide(s: &Signals, canary: &Canary, reasons: &mut Vec<Reason>) -> &'static str {
    if s.rows_probed < MIN_ROWS {
        let text = format!(
            "only {} rows could be probed (< {})",
            thousands(s.rows_probed),
            thousands(MIN_ROWS)
        );
        reasons.push(reason("rows_probed", s.rows_probed as f64, MIN_ROWS as f64, text));
        return "inconclusive";
    }
    if let Some(v) = &s.kvnr_validity {
        reasons.push(validity_reason(v));
        if v.share.ci_high < FABRICATED_VALIDITY {
            return "likely-fabricated";
        }
    }
    for p in &s.recombined {
        reasons.push(pair_reason(p));
        if p.both_parts > 0 && p.share.ci_low > RECOMBINED_SHARE {
            return "recombined";
        }
    }
    let m = s.matched_rate;
    let text = format!(
        "true matched-row rate {} (95 % CI {} – {}) against '{}'",
        pct(m.estimate),
        pct(m.ci_low),
        pct(m.ci_high),
        s.filter
    );
    reasons.push(reason("matched_rate", m.estimate, OTHER_POPULATION_RATE, text));
    if canary.proof_of_origin {
        let rows: u64 = canary.filters.iter().map(|c| c.rows_hit).sum();
        let text = format!("{} rows hit planted canary records: proof of origin", thousands(rows));
        reasons.push(reason("canary_rows", rows as f64, 0.0, text));
    } else if m.ci_high < OTHER_POPULATION_RATE {
        return "other-population";
    }
    reasons.extend(supporting_reasons(s));
    let strong = s.strong_share.estimate;
    let tvd = s.birth_years.as_ref().map_or(0.0, |b| b.tvd);
    let matches = m.ci_low > GENUINE_RATE && strong >= GENUINE_STRONG_SHARE;
    if (matches || canary.proof_of_origin) && tvd <= BIRTH_TVD {
        return "genuine-extract";
    }
    "inconclusive"
}

fn validity_reason(v: &Share) -> Reason {
    let e = v.share;
    let text = format!(
        "KVNR check-digit validity {} (95 % CI {} – {}) among {} KVNR-shaped values",
        pct(e.estimate),
        pct(e.ci_low),
        pct(e.ci_high),
        thousands(v.whole)
    );
    reason("kvnr_validity", e.estimate, FABRICATED_VALIDITY, text)
}

fn pair_reason(p: &PairSignal) -> Reason {
    let e = p.share;
    let text = format!(
        "{}: the pair misses in {} of {} rows where both parts hit ({}, 95 % CI {} – {})",
        p.pair,
        thousands(p.pair_missed),
        thousands(p.both_parts),
        pct(e.estimate),
        pct(e.ci_low),
        pct(e.ci_high)
    );
    reason("recombined_share", e.estimate, RECOMBINED_SHARE, text)
}

/// Claimed size, strong-match share and birth-year distance.
fn supporting_reasons(s: &Signals) -> Vec<Reason> {
    let mut out = Vec::new();
    if let Some(c) = s.claimed.as_ref().filter(|c| c.exaggerated) {
        let text = format!(
            "the claimed {} rows imply at least {} customer rows, more than the {} customers \
             in the base: the claim is exaggerated or the set is not one extract of this base",
            thousands(c.claimed),
            count(c.implied_low.floor()),
            thousands(c.base)
        );
        out.push(reason("claimed_implied_low", c.implied_low, c.base as f64, text));
    }
    let strong = s.strong_share.estimate;
    let text = format!("{} of matched rows hit two or more independent kinds", pct(strong));
    out.push(reason("strong_share", strong, GENUINE_STRONG_SHARE, text));
    if let Some(b) = &s.birth_years {
        let text = format!("birth-year total variation distance {:.3} to the base", b.tvd);
        out.push(reason("birth_year_tvd", b.tvd, BIRTH_TVD, text));
    }
    out
}

/// What a verdict label means for the responder.
pub fn meaning(label: &str) -> &'static str {
    match label {
        "genuine-extract" => "the dump holds the insurer's customers with identifiers that belong together: treat it as a real extract of the customer base",
        "recombined" => "identifiers of real customers, but combined across people: a compilation (e.g. of several older leaks), not one extract",
        "likely-fabricated" => "many identifiers cannot exist (wrong check digits): largely invented data",
        "other-population" => "almost no row belongs to the customer base: most likely another organisation's people",
        _ => "the signals do not support a firm conclusion; see the reasons",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(e: f64, lo: f64, hi: f64) -> Estimate {
        Estimate { estimate: e, ci_low: lo, ci_high: hi }
    }

    fn genuine() -> Signals {
        let mut s = empty_signals();
        s.rows_probed = 5000;
        s.matched_rate = est(0.6, 0.58, 0.62);
        s.strong_share = est(0.99, 0.98, 1.0);
        s.kvnr_validity = Some(Share { part: 955, whole: 1000, share: est(0.955, 0.94, 0.967) });
        s
    }

    fn no_canary() -> Canary {
        Canary { filters: Vec::new(), proof_of_origin: false }
    }

    #[test]
    fn rules_decide_each_label_with_reasons() {
        let v = verdict(&genuine(), &no_canary());
        assert_eq!(v.label, "genuine-extract");
        assert!(v.reasons.iter().any(|r| r.signal == "kvnr_validity"));
        let mut s = genuine();
        s.kvnr_validity.as_mut().unwrap().share = est(0.46, 0.43, 0.49);
        assert_eq!(verdict(&s, &no_canary()).label, "likely-fabricated");
        let mut s = genuine();
        let share = est(0.4, 0.37, 0.43);
        s.recombined = vec![PairSignal {
            pair: "kvnr+name_dob".into(),
            both_parts: 900,
            pair_missed: 360,
            share,
        }];
        assert_eq!(verdict(&s, &no_canary()).label, "recombined");
        let mut s = genuine();
        s.matched_rate = est(0.001, 0.0, 0.004);
        assert_eq!(verdict(&s, &no_canary()).label, "other-population");
        let mut s = genuine();
        s.rows_probed = 10;
        assert_eq!(verdict(&s, &no_canary()).label, "inconclusive");
    }

    #[test]
    fn canary_proof_rules_out_other_population() {
        let mut s = genuine();
        s.matched_rate = est(0.001, 0.0, 0.004);
        let c = Canary { filters: Vec::new(), proof_of_origin: true };
        assert_eq!(verdict(&s, &c).label, "genuine-extract");
    }

    #[test]
    fn far_birth_years_block_a_genuine_verdict() {
        let mut s = genuine();
        s.birth_years =
            Some(BirthYearFit { bucket_years: 5, buckets: Vec::new(), tvd: 0.4, dump_rows: 10 });
        assert_eq!(verdict(&s, &no_canary()).label, "inconclusive");
    }

    #[test]
    fn birth_fit_is_total_variation_distance_over_published_buckets() {
        let base = BirthYears {
            bucket_years: 10,
            min_count: 1,
            buckets: vec![(1950, 50), (1960, 50)],
            suppressed: 0,
            noise_epsilon: None,
        };
        let mut dump = vec![0u64; 200];
        dump[55] = 30; // 1955
        dump[62] = 10; // 1962
        dump[90] = 99; // 1990: not a published bucket, ignored
        let fit = birth_fit(&dump, &base).unwrap();
        assert!((fit.tvd - 0.25).abs() < 1e-12, "{}", fit.tvd);
        assert_eq!(fit.dump_rows, 40);
        assert!(birth_fit(&[0; 200], &base).is_none());
    }
}
