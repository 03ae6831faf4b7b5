//! The human-readable report on stdout. Renders the same [`Report`] as [`super::json`].

use std::fmt::Write as _;

use super::Report;

/// Formats a count with thin thousands separators (`330,000`).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn pct(part: f64, whole: f64) -> String {
    if whole <= 0.0 {
        return "-".into();
    }
    format!("{:.2} %", 100.0 * part / whole)
}

fn fpr(p: f64) -> String {
    if p == 0.0 {
        "0".into()
    } else {
        format!("{p:.2e}")
    }
}

/// Renders the report as text.
pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "leakmatch {} scan report (key id {})", r.tool_version, r.key_id);
    inputs(&mut o, r);
    records(&mut o, r);
    for f in &r.filters {
        filter(&mut o, f);
    }
    if let Some(c) = &r.claimed {
        let _ = writeln!(
            o,
            "\nExtrapolated to the claimed {} records (filter '{}'): {} true matches (95 % CI {} – {})",
            thousands(c.size),
            c.filter,
            thousands(c.estimate.round() as u64),
            thousands(c.ci_low.floor() as u64),
            thousands(c.ci_high.ceil() as u64)
        );
    }
    forensics(&mut o, r);
    if let Some(a) = &r.alert {
        let _ = writeln!(
            o,
            "\nAlert threshold {:.4}: lower bound of matched-row rate {:.4} → {}",
            a.threshold,
            a.rate_low,
            if a.exceeded { "EXCEEDED" } else { "not exceeded" }
        );
    }
    o
}

fn inputs(o: &mut String, r: &Report) {
    let _ = writeln!(o, "\nInputs");
    for i in &r.inputs {
        let _ = writeln!(o, "  {}  {} bytes  sha256 {}", i.path, thousands(i.bytes), i.sha256);
        let _ = writeln!(
            o,
            "    {} delimiter '{}', {}, {}, {} records",
            i.format,
            i.delimiter,
            if i.header { "header" } else { "no header" },
            i.encoding,
            thousands(i.records)
        );
        for c in &i.columns {
            let header = c.header.as_deref().map(|h| format!(" '{h}'")).unwrap_or_default();
            let _ = writeln!(o, "    {:<11} ← column {}{} ({})", c.field, c.column, header, c.why);
        }
    }
}

fn records(o: &mut String, r: &Report) {
    let rc = &r.records;
    let _ = writeln!(
        o,
        "\nRecords: {} read, {} malformed",
        thousands(rc.total),
        thousands(rc.malformed)
    );
    for m in &rc.malformed_by_reason {
        let at = m
            .first
            .as_ref()
            .map(|p| {
                format!(
                    " (first: {} record {}, line {}, byte {})",
                    p.input, p.record, p.line, p.byte
                )
            })
            .unwrap_or_default();
        let _ = writeln!(o, "  {:<10} {:>12}{at}", m.reason, thousands(m.count));
    }
    let _ = writeln!(o, "\nValues            present        valid  invalid");
    for k in &r.kinds {
        let invalid: Vec<String> =
            k.invalid.iter().map(|(w, n)| format!("{w} {}", thousands(*n))).collect();
        let _ = writeln!(
            o,
            "  {:<16}{:>9}{:>13}  {}",
            k.kind,
            thousands(k.present),
            thousands(k.valid),
            if invalid.is_empty() { "-".to_string() } else { invalid.join(", ") }
        );
    }
}

fn filter(o: &mut String, f: &super::FilterReport) {
    let date = f.snapshot_date.as_deref().map(|d| format!(", snapshot {d}")).unwrap_or_default();
    let _ = writeln!(o, "\nFilter '{}' ({}, role {}{date})", f.label, f.path, f.role);
    let _ = writeln!(
        o,
        "  {:<18}{:>10}{:>10}{:>10}{:>11}{:>25}{:>11}",
        "kind", "valid", "hits", "FPR", "est. true", "95 % CI", "distinct"
    );
    for k in &f.kinds {
        let ci = format!(
            "{} – {}",
            thousands(k.ci_low.floor() as u64),
            thousands(k.ci_high.ceil() as u64)
        );
        let distinct = if k.distinct_exact {
            thousands(k.distinct_hits as u64)
        } else {
            format!("≈{}", thousands(k.distinct_hits.round() as u64))
        };
        let _ = writeln!(
            o,
            "  {:<18}{:>10}{:>10}{:>10}{:>11}{:>25}{:>11}",
            k.kind,
            thousands(k.valid),
            thousands(k.hits),
            fpr(k.fpr),
            thousands(k.estimate.round() as u64),
            ci,
            distinct
        );
    }
    let _ = writeln!(
        o,
        "  rows matched by any kind: {} of {} ({}), by two or more independent kinds: {} ({})",
        thousands(f.matched_any),
        thousands(f.rows_probed),
        pct(f.matched_any as f64, f.rows_probed as f64),
        thousands(f.matched_two_plus),
        pct(f.matched_two_plus as f64, f.rows_probed as f64),
    );
    for k in f.kinds.iter().filter(|k| !k.distinct_exact) {
        let _ = writeln!(
            o,
            "  ≈ distinct {}: more matching values than the exact bound (--exact-distinct); \
             HyperLogLog estimate, 95 % CI {} – {} (±{:.1} %)",
            k.kind,
            thousands(k.distinct_ci_low as u64),
            thousands(k.distinct_ci_high as u64),
            100.0 * crate::sketch::HLL_ERROR_95
        );
    }
    let _ = writeln!(o, "  true matched-row rate: {}", ci(&f.matched_rate));
}

/// A count with its interval: `2,400 (exact)` when the interval is one number, else
/// `≈2,400 (95 % CI 2,390 – 2,410)`.
pub fn count_ci(estimate: f64, low: f64, high: f64, exact: bool) -> String {
    let n = |x: f64| thousands(x.max(0.0) as u64);
    if exact && low == high {
        format!("{} (exact)", n(estimate))
    } else {
        format!("≈{} (95 % CI {} – {})", n(estimate), n(low), n(high))
    }
}

fn ci(e: &crate::estimate::Estimate) -> String {
    format!(
        "{:.2} % (95 % CI {:.2} – {:.2} %)",
        100.0 * e.estimate,
        100.0 * e.ci_low,
        100.0 * e.ci_high
    )
}

/// The forensic signals, the verdict and the GDPR summary.
fn forensics(o: &mut String, r: &Report) {
    let f = &r.forensics;
    let s = &f.signals;
    let _ = writeln!(o, "\nForensics (main filter '{}')", s.filter);
    for k in &s.match_rate_by_kind {
        let _ = writeln!(o, "  match rate {:<18} {}", k.kind, ci(&k.rate));
    }
    let _ = writeln!(
        o,
        "  strong matches: {} rows, {} of matched rows",
        thousands(s.strong_matches),
        ci(&s.strong_share)
    );
    let p = &s.people;
    let _ = writeln!(
        o,
        "  distinct affected people: {} (distinct matching {} values, FP-corrected; the most of \
         any independent kind)",
        count_ci(p.estimate, p.ci_low, p.ci_high, p.exact),
        p.kind
    );
    if let Some(v) = &s.kvnr_validity {
        let _ = writeln!(
            o,
            "  KVNR check-digit validity: {} valid of {} KVNR-shaped: {}",
            thousands(v.part),
            thousands(v.whole),
            ci(&v.share)
        );
    }
    if let Some(u) = &s.kvnr_valid_unknown {
        let _ = writeln!(
            o,
            "  valid but unknown KVNRs: {} (95 % CI {} – {})",
            thousands(u.estimate.round().max(0.0) as u64),
            thousands(u.ci_low.floor().max(0.0) as u64),
            thousands(u.ci_high.ceil().max(0.0) as u64)
        );
    }
    for pr in &s.recombined {
        let _ = writeln!(
            o,
            "  recombined rows ({}): {} of {} rows where both parts hit: {}",
            pr.pair,
            thousands(pr.pair_missed),
            thousands(pr.both_parts),
            ci(&pr.share)
        );
    }
    let d = &s.duplicates;
    let _ = writeln!(
        o,
        "  duplicate rows: {}{} of {} ({:.2} %)",
        if d.exact { "" } else { "≈" },
        thousands(d.duplicates.round() as u64),
        thousands(d.rows),
        100.0 * d.share
    );
    if let Some(b) = &s.birth_years {
        let _ = writeln!(
            o,
            "  birth years vs. customer base: total variation distance {:.3} over {} buckets of {} years",
            b.tvd,
            b.buckets.len(),
            b.bucket_years
        );
    }
    if let Some(c) = &s.claimed {
        let _ = writeln!(
            o,
            "  claimed {} rows imply ≥ {} customer rows; the base has {}{}",
            thousands(c.claimed),
            thousands(c.implied_low.floor().max(0.0) as u64),
            thousands(c.base),
            if c.exaggerated { " → claim EXAGGERATED" } else { "" }
        );
    }
    for c in &f.canary.filters {
        let _ = writeln!(
            o,
            "  canary '{}': {} rows hit (expected false {:.3}){}",
            c.label,
            thousands(c.rows_hit),
            c.expected_false,
            if c.significant { " → PROOF OF ORIGIN" } else { "" }
        );
    }
    for sn in &f.snapshots {
        let best = f.best_snapshot.as_deref() == Some(sn.label.as_str());
        let mark = if best { "  ← best fit" } else { "" };
        let _ = writeln!(
            o,
            "  snapshot {} '{}': {}{mark}",
            sn.snapshot_date,
            sn.label,
            ci(&sn.matched_rate)
        );
    }
    let g = &f.gdpr;
    let _ = writeln!(
        o,
        "\nGDPR summary: data subjects {}, records {}{}",
        g.subjects.cell(),
        g.records.cell(),
        if g.art9 { "; Art. 9 HEALTH DATA PRESENT" } else { "" }
    );
    let _ = writeln!(o, "  per category, counted from values present in matched rows:");
    for c in &g.categories {
        let _ = writeln!(
            o,
            "  {:<18} records {}, subjects {}{}",
            c.category,
            c.records.cell(),
            c.subjects.cell(),
            if c.art9 { " (Art. 9)" } else { "" }
        );
    }
    let _ = writeln!(o, "\n  For the notification (paste):");
    for line in wrap(&g.summary, 96) {
        let _ = writeln!(o, "  {line}");
    }
    let v = &f.verdict;
    let _ = writeln!(o, "\nVerdict: {} — {}", v.label, v.meaning);
    for reason in &v.reasons {
        let _ = writeln!(o, "  - {}", reason.text);
    }
}

/// Greedy word wrap at `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().expect("one line");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(330_000), "330,000");
        assert_eq!(thousands(25_000_000), "25,000,000");
    }
}
