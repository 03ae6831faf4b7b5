//! Computing the signals and the verdict from merged tallies (formulas in [`super`]).

// Reviewed (#11): `filters`, `total.filters` and `descs` have one entry per filter (lengths checked
// equal when partials are merged) and `i` is a position in them; per-kind arrays by
// `Kind::index()`; `by_rate[0]`, `[1]` after `n >= MIN_DATED_FILTERS` (2).
#![allow(clippy::indexing_slicing)]

use super::*;
use crate::estimate::{self, wilson, Z95};
use crate::filter::{BirthYears, Role};
use crate::ident::{Flaw, Kind};
use crate::num::{count, thousands};
use crate::tally::FilterDesc;
use crate::tally::{FilterTally, Tally};

/// What [`analyse`] reads.
pub struct Input<'a> {
    /// The tally merged over all inputs.
    pub total: &'a Tally,
    /// The filters' reports, in the order filters were given.
    pub filters: &'a [FilterReport],
    /// The filters' descriptors, in the same order.
    pub descs: &'a [FilterDesc],
    /// `--claimed-size`.
    pub claimed_size: Option<u64>,
}

fn share(part: u64, whole: u64) -> Share {
    let (lo, hi) = wilson(part, whole, Z95);
    let p = if whole == 0 { 0.0 } else { part as f64 / whole as f64 };
    Share { part, whole, share: Estimate { estimate: p, ci_low: lo, ci_high: hi }.rounded_rate() }
}

/// Computes signals, verdict, snapshot fit, canary hits and the GDPR summary.
pub fn analyse(inp: Input<'_>) -> Forensics {
    let main = inp
        .filters
        .iter()
        .enumerate()
        .filter(|(_, f)| f.role == Role::Customers)
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
        let implied_low = (signals.matched_rate.ci_low * claimed as f64).floor();
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
    let best_snapshot = (snapshots.len() >= MIN_DATED_FILTERS)
        .then_some(&snapshots)
        .into_iter()
        .flatten()
        .max_by(|a, b| a.matched_rate.estimate.total_cmp(&b.matched_rate.estimate))
        .map(|s| s.label.clone());
    let canary = canary(inp.filters);
    let verdict = verdict(&signals, &canary, &snapshots);
    let main_counts = main.map(|i| (&inp.filters[i], &inp.total.filters[i]));
    let gdpr =
        gdpr::summary(&signals, main_counts, &format!("{} ({})", verdict.label, verdict.meaning));
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
        people: no_people(),
        kvnr_validity: None,
        kvnr_valid_unknown: None,
        recombined: Vec::new(),
        duplicates: Duplicates { rows: 0, duplicates: 0, share: 0.0, exact: true },
        birth_years: None,
        claimed: None,
    }
}

fn no_people() -> People {
    People {
        estimate: 0.0,
        ci_low: 0.0,
        ci_high: 0.0,
        kind: None,
        exact: true,
        definition: PEOPLE.into(),
    }
}

/// Distinct people of one kind (see [`People`]): the distinct count and each end of its
/// interval taken as hits of [`estimate::true_matches`].
fn people_of(k: &KindReport) -> Estimate {
    let d = |x: f64| (x.max(0.0) as u64).min(k.hits).min(k.valid);
    let point = estimate::true_matches(k.valid, d(k.distinct_hits.round()), k.fpr).estimate;
    let ci_low = estimate::true_matches(k.valid, d(k.distinct_ci_low.floor()), k.fpr).ci_low;
    let ci_high = estimate::true_matches(k.valid, d(k.distinct_ci_high.ceil()), k.fpr).ci_high;
    Estimate { estimate: point, ci_low, ci_high }.rounded_count()
}

const PEOPLE: &str = "largest number of distinct matching tokens of one independent kind \
                      (kvnr, email, phone, name_dob, iban), minus its expected false positives";

fn signals(f: &FilterReport, t: &FilterTally, d: &FilterDesc, total: &Tally) -> Signals {
    let match_rate_by_kind = f
        .kinds
        .iter()
        .map(|k| KindRate {
            kind: k.kind,
            valid: k.valid,
            hits: k.hits,
            rate: estimate::true_rate(k.valid, k.hits, k.fpr).rounded_rate(),
        })
        .collect();
    let people = f
        .kinds
        .iter()
        .filter(|k| k.kind.independent())
        .map(|k| (k, people_of(k)))
        .max_by(|a, b| a.1.estimate.total_cmp(&b.1.estimate))
        .map_or_else(no_people, |(k, e)| People {
            estimate: e.estimate,
            ci_low: e.ci_low,
            ci_high: e.ci_high,
            kind: Some(k.kind),
            exact: k.distinct_exact && e.ci_low == e.ci_high,
            definition: PEOPLE.into(),
        });
    let kc = &total.kinds[Kind::Kvnr.index()];
    let shaped = kc.valid + kc.invalid[Flaw::CheckDigit.index()];
    let kvnr = f.kinds.iter().find(|k| k.kind == Kind::Kvnr);
    let kvnr_valid_unknown = kvnr.map(|k| {
        let v = k.valid as f64;
        Estimate { estimate: v - k.estimate, ci_low: v - k.ci_high, ci_high: v - k.ci_low }
            .rounded_count()
    });
    let recombined = [Kind::KvnrNameDob, Kind::EmailNameDob]
        .iter()
        .filter(|p| f.kinds.iter().any(|k| k.kind == **p))
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
        .filter(|f| f.role == Role::Canary)
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
    Reason { signal: signal.into(), value, threshold, text, remedy: None }
}

/// A reason that names missing evidence and the command that would get it (also appended to
/// its text, so that the text report and HTML show it).
fn missing(signal: &str, value: f64, threshold: f64, text: String, remedy: String) -> Reason {
    let text = format!("{text}; {remedy}");
    Reason { signal: signal.into(), value, threshold, text, remedy: Some(remedy) }
}

fn pct(x: f64) -> String {
    format!("{:.2} %", 100.0 * x)
}

/// Applies the rules of [`super`] in order; `dated` is the number of dated filters scanned.
pub fn verdict(s: &Signals, canary: &Canary, dated: &[SnapshotFit]) -> Verdict {
    let mut reasons = Vec::new();
    let label = decide(s, canary, &mut reasons);
    reasons.push(dating_reason(dated));
    Verdict { label: label.into(), meaning: meaning(label).into(), reasons }
}

/// The first rule that fires names the label; every signal looked at becomes a reason, and
/// every precondition not met becomes a reason naming what is missing.
fn decide(s: &Signals, canary: &Canary, reasons: &mut Vec<Reason>) -> &'static str {
    if s.rows_probed < MIN_ROWS {
        let text = format!(
            "only {} rows could be probed (threshold: at least {MIN_ROWS}): no label can be given",
            thousands(s.rows_probed)
        );
        let remedy = "scan a larger part of the dump, or map its identifier columns with \
                      --map FIELD=COLUMN"
            .to_string();
        reasons.push(missing("rows_probed", s.rows_probed as f64, MIN_ROWS as f64, text, remedy));
        return "inconclusive";
    }
    match &s.kvnr_validity {
        Some(v) if v.whole >= MIN_KVNR_SHAPED => {
            reasons.push(validity_reason(v));
            if v.share.ci_high < FABRICATED_VALIDITY {
                return "likely-fabricated";
            }
        }
        v => {
            let n = v.as_ref().map_or(0, |v| v.whole);
            let text = format!(
                "only {n} KVNR-shaped values (threshold: at least {MIN_KVNR_SHAPED}): whether \
                 the identifiers are invented cannot be judged from check digits, so \
                 likely-fabricated is not assessed"
            );
            let remedy = "scan a dump with a KVNR column (map it with --map kvnr=COLUMN)".into();
            reasons.push(missing("kvnr_shaped", n as f64, MIN_KVNR_SHAPED as f64, text, remedy));
        }
    }
    for p in &s.recombined {
        reasons.push(pair_reason(p));
        if p.both_parts >= MIN_PAIR_ROWS && p.share.ci_low > RECOMBINED_SHARE {
            return "recombined";
        }
    }
    let pair_evidence = pair_evidence_reason(s);
    let m = s.matched_rate;
    let text = format!(
        "true matched-row rate {} (95 % CI {} – {}) against '{}' (threshold: upper bound < {} \
         for other-population, lower bound > {} for genuine-extract)",
        pct(m.estimate),
        pct(m.ci_low),
        pct(m.ci_high),
        s.filter,
        pct(OTHER_POPULATION_RATE),
        pct(GENUINE_RATE)
    );
    reasons.push(reason("matched_rate", m.estimate, OTHER_POPULATION_RATE, text));
    if canary.proof_of_origin {
        let rows: u64 = canary.filters.iter().map(|c| c.rows_hit).sum();
        let text = format!(
            "{} rows hit planted canary records (threshold: more than their expected false \
             positives + 3σ): proof of origin",
            thousands(rows)
        );
        reasons.push(reason("canary_rows", rows as f64, 0.0, text));
    } else if m.ci_high < OTHER_POPULATION_RATE {
        return "other-population";
    }
    reasons.extend(supporting_reasons(s));
    let strong = s.strong_share.estimate;
    let tvd = s.birth_years.as_ref().map_or(0.0, |b| b.tvd);
    let matches = m.ci_low > GENUINE_RATE && strong >= GENUINE_STRONG_SHARE;
    let real = (matches || canary.proof_of_origin) && tvd <= BIRTH_TVD;
    match pair_evidence {
        None if real => "genuine-extract",
        None => "inconclusive",
        Some(r) => {
            reasons.push(r);
            "inconclusive"
        }
    }
}

/// `None` when some pair kind shows that the dump's identifiers belong together (both parts
/// hit in at least [`MIN_PAIR_ROWS`] rows and the recombined share's upper bound is at most
/// [`RECOMBINED_SHARE`]); otherwise the reason why `genuine-extract` cannot be given.
fn pair_evidence_reason(s: &Signals) -> Option<Reason> {
    let rebuild = format!(
        "rebuild the filter with `leakmatch build --kinds {} ...` (the default set)",
        Kind::default_list()
    );
    if s.recombined.is_empty() {
        let text = format!(
            "no pair kind in filter '{}' (threshold: at least 1, e.g. kvnr+name_dob): genuine \
             extract and recombination cannot be told apart",
            s.filter
        );
        return Some(missing("pair_kinds", 0.0, 1.0, text, rebuild));
    }
    let consistent =
        |p: &&PairSignal| p.both_parts >= MIN_PAIR_ROWS && p.share.ci_high <= RECOMBINED_SHARE;
    if s.recombined.iter().any(|p| consistent(&p)) {
        return None;
    }
    let most = s.recombined.iter().max_by_key(|p| p.both_parts).expect("non-empty");
    if most.both_parts < MIN_PAIR_ROWS {
        let text = format!(
            "pair kinds in filter '{}': both parts hit in at most {} rows (threshold: at least \
             {MIN_PAIR_ROWS}): whether the identifiers belong together cannot be shown",
            s.filter, most.both_parts
        );
        let remedy = "scan a dump whose rows carry a KVNR or e-mail and name + birth date (map \
                      the columns with --map FIELD=COLUMN)"
            .to_string();
        return Some(missing(
            "pair_rows",
            most.both_parts as f64,
            MIN_PAIR_ROWS as f64,
            text,
            remedy,
        ));
    }
    let e = most.share;
    let text = format!(
        "{}: recombined share {} (95 % CI {} – {}) is neither clearly above nor clearly at most \
         {} (threshold): genuine extract and recombination cannot be told apart yet",
        most.pair,
        pct(e.estimate),
        pct(e.ci_low),
        pct(e.ci_high),
        pct(RECOMBINED_SHARE)
    );
    let remedy = "scan more rows of the dump to narrow the interval".to_string();
    Some(missing("recombined_share", e.estimate, RECOMBINED_SHARE, text, remedy))
}

/// Dating needs at least [`MIN_DATED_FILTERS`] dated filters; the reason says which fits best
/// or what is missing.
fn dating_reason(dated: &[SnapshotFit]) -> Reason {
    let n = dated.len();
    if n < MIN_DATED_FILTERS {
        let text = format!(
            "{n} dated filter(s) scanned (threshold: at least {MIN_DATED_FILTERS}): when the data \
             was taken cannot be told"
        );
        let remedy = "scan against filters built with `leakmatch build --snapshot-date \
                      YYYY-MM-DD` from customer snapshots of different dates"
            .to_string();
        return missing("dated_filters", n as f64, MIN_DATED_FILTERS as f64, text, remedy);
    }
    let mut by_rate: Vec<&SnapshotFit> = dated.iter().collect();
    by_rate.sort_by(|a, b| b.matched_rate.estimate.total_cmp(&a.matched_rate.estimate));
    let (best, next) = (by_rate[0], by_rate[1]);
    let separated = best.matched_rate.ci_low > next.matched_rate.ci_high;
    let text = format!(
        "best-fitting snapshot {} '{}' ({}, 95 % CI {} – {}) of {n} dated filters; next {} '{}' \
         ({}): {}",
        best.snapshot_date,
        best.label,
        pct(best.matched_rate.estimate),
        pct(best.matched_rate.ci_low),
        pct(best.matched_rate.ci_high),
        next.snapshot_date,
        next.label,
        pct(next.matched_rate.estimate),
        if separated {
            "the intervals do not overlap"
        } else {
            "the intervals overlap: the dating is not certain"
        }
    );
    reason("dated_filters", n as f64, MIN_DATED_FILTERS as f64, text)
}

fn validity_reason(v: &Share) -> Reason {
    let e = v.share;
    let text = format!(
        "KVNR check-digit validity {} (95 % CI {} – {}) among {} KVNR-shaped values \
         (threshold: upper bound < {} for likely-fabricated)",
        pct(e.estimate),
        pct(e.ci_low),
        pct(e.ci_high),
        thousands(v.whole),
        pct(FABRICATED_VALIDITY)
    );
    reason("kvnr_validity", e.estimate, FABRICATED_VALIDITY, text)
}

fn pair_reason(p: &PairSignal) -> Reason {
    let e = p.share;
    let text = format!(
        "{}: the pair misses in {} of {} rows where both parts hit ({}, 95 % CI {} – {}; \
         threshold: lower bound > {} with at least {MIN_PAIR_ROWS} such rows for recombined)",
        p.pair,
        thousands(p.pair_missed),
        thousands(p.both_parts),
        pct(e.estimate),
        pct(e.ci_low),
        pct(e.ci_high),
        pct(RECOMBINED_SHARE)
    );
    reason("recombined_share", e.estimate, RECOMBINED_SHARE, text)
}

/// Claimed size, strong-match share and birth-year distance.
fn supporting_reasons(s: &Signals) -> Vec<Reason> {
    let mut out = Vec::new();
    if let Some(c) = s.claimed.as_ref().filter(|c| c.exaggerated) {
        let text = format!(
            "the claimed {} rows imply at least {} customer rows, more than the {} customers \
             in the base (threshold): the claim is exaggerated or the set is not one extract of \
             this base",
            thousands(c.claimed),
            count(c.implied_low.floor()),
            thousands(c.base)
        );
        out.push(reason("claimed_implied_low", c.implied_low, c.base as f64, text));
    }
    let strong = s.strong_share.estimate;
    let text = format!(
        "{} of matched rows hit two or more independent kinds (threshold: at least {} for \
         genuine-extract)",
        pct(strong),
        pct(GENUINE_STRONG_SHARE)
    );
    out.push(reason("strong_share", strong, GENUINE_STRONG_SHARE, text));
    if let Some(b) = &s.birth_years {
        let text = format!(
            "birth-year total variation distance {:.3} to the base (threshold: at most {BIRTH_TVD} \
             for genuine-extract)",
            b.tvd
        );
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

    fn pair(both: u64, missed: u64) -> PairSignal {
        PairSignal {
            pair: "kvnr+name_dob".into(),
            both_parts: both,
            pair_missed: missed,
            share: share(missed, both).share,
        }
    }

    fn genuine() -> Signals {
        let mut s = empty_signals();
        s.filter = "f".into();
        s.rows_probed = 5000;
        s.matched_rate = est(0.6, 0.58, 0.62);
        s.strong_share = est(0.99, 0.98, 1.0);
        s.kvnr_validity = Some(Share { part: 955, whole: 1000, share: est(0.955, 0.94, 0.967) });
        s.recombined = vec![pair(2900, 0)];
        s
    }

    fn no_canary() -> Canary {
        Canary { filters: Vec::new(), proof_of_origin: false }
    }

    fn v(s: &Signals) -> Verdict {
        verdict(s, &no_canary(), &[])
    }

    fn has(v: &Verdict, signal: &str) -> bool {
        v.reasons.iter().any(|r| r.signal == signal)
    }

    #[test]
    fn rules_decide_each_label_with_reasons() {
        let g = v(&genuine());
        assert_eq!(g.label, "genuine-extract");
        assert!(has(&g, "kvnr_validity") && has(&g, "recombined_share"));
        let mut s = genuine();
        s.kvnr_validity.as_mut().unwrap().share = est(0.46, 0.43, 0.49);
        assert_eq!(v(&s).label, "likely-fabricated");
        let mut s = genuine();
        s.recombined = vec![pair(900, 360)];
        assert_eq!(v(&s).label, "recombined");
        let mut s = genuine();
        s.matched_rate = est(0.001, 0.0, 0.004);
        assert_eq!(v(&s).label, "other-population");
        let mut s = genuine();
        s.rows_probed = 10;
        assert_eq!(v(&s).label, "inconclusive");
    }

    #[test]
    fn without_a_pair_kind_genuine_becomes_inconclusive_naming_the_rebuild() {
        let mut s = genuine();
        s.recombined.clear();
        let out = v(&s);
        assert_eq!(out.label, "inconclusive");
        let r = out.reasons.iter().find(|r| r.signal == "pair_kinds").expect("missing pair");
        assert!(r.text.contains("no pair kind in filter 'f'"), "{}", r.text);
        assert!(r.text.contains("cannot be told apart"), "{}", r.text);
        let remedy = r.remedy.as_deref().unwrap();
        assert!(remedy.contains("leakmatch build --kinds") && remedy.contains("kvnr+name_dob"));
    }

    #[test]
    fn too_few_pair_rows_or_a_straddling_share_is_not_pair_evidence() {
        let mut s = genuine();
        s.recombined = vec![pair(MIN_PAIR_ROWS - 1, 0)];
        let out = v(&s);
        assert_eq!(out.label, "inconclusive");
        assert!(has(&out, "pair_rows"));
        // Many misses among few rows: not enough rows for `recombined` either.
        s.recombined = vec![pair(20, 20)];
        assert_eq!(v(&s).label, "inconclusive");
        // 6 of 60 missed: the interval straddles 10 %.
        s.recombined = vec![pair(60, 6)];
        let out = v(&s);
        assert_eq!(out.label, "inconclusive");
        let r = out.reasons.iter().rfind(|r| r.signal == "recombined_share").unwrap();
        assert!(r.remedy.is_some(), "{}", r.text);
        s.recombined = vec![pair(MIN_PAIR_ROWS, 0)];
        assert_eq!(v(&s).label, "genuine-extract");
    }

    #[test]
    fn too_few_kvnr_shaped_values_do_not_assess_fabrication() {
        let mut s = genuine();
        s.kvnr_validity =
            Some(Share { part: 4, whole: MIN_KVNR_SHAPED - 1, share: est(0.08, 0.03, 0.19) });
        let out = v(&s);
        assert_ne!(out.label, "likely-fabricated");
        let r = out.reasons.iter().find(|r| r.signal == "kvnr_shaped").unwrap();
        assert_eq!((r.value, r.threshold), ((MIN_KVNR_SHAPED - 1) as f64, MIN_KVNR_SHAPED as f64));
        assert!(r.remedy.as_deref().unwrap().contains("--map kvnr="));
        s.kvnr_validity = None;
        assert!(has(&v(&s), "kvnr_shaped"));
    }

    #[test]
    fn every_reason_states_its_threshold() {
        for s in [genuine(), {
            let mut s = genuine();
            s.recombined.clear();
            s
        }] {
            for r in v(&s).reasons {
                assert!(r.text.contains("threshold"), "{}", r.text);
            }
        }
    }

    #[test]
    fn dating_needs_two_dated_filters() {
        let fit = |label: &str, e: Estimate| SnapshotFit {
            label: label.into(),
            snapshot_date: "2026-01-01".into(),
            matched_rate: e,
        };
        let one = [fit("a", est(0.6, 0.58, 0.62))];
        let out = verdict(&genuine(), &no_canary(), &one);
        let r = out.reasons.last().unwrap();
        assert_eq!((r.signal.as_str(), r.value, r.threshold), ("dated_filters", 1.0, 2.0));
        assert!(r.remedy.as_deref().unwrap().contains("--snapshot-date"));
        let two = [fit("a", est(0.3, 0.28, 0.32)), fit("b", est(0.6, 0.58, 0.62))];
        let r = verdict(&genuine(), &no_canary(), &two).reasons.pop().unwrap();
        assert!(r.remedy.is_none() && r.text.contains("'b'") && r.text.contains("do not overlap"));
    }

    #[test]
    fn canary_proof_rules_out_other_population() {
        let mut s = genuine();
        s.matched_rate = est(0.001, 0.0, 0.004);
        let c = Canary { filters: Vec::new(), proof_of_origin: true };
        assert_eq!(verdict(&s, &c, &[]).label, "genuine-extract");
        s.recombined.clear();
        assert_eq!(verdict(&s, &c, &[]).label, "inconclusive", "origin is not pair evidence");
    }

    #[test]
    fn far_birth_years_block_a_genuine_verdict() {
        let mut s = genuine();
        s.birth_years =
            Some(BirthYearFit { bucket_years: 5, buckets: Vec::new(), tvd: 0.4, dump_rows: 10 });
        assert_eq!(v(&s).label, "inconclusive");
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
