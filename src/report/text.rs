//! The human-readable report on stdout. Renders the same [`Report`] as [`super::json`].

// Reviewed (#11): `widths` has one entry per column of the table being rendered.
#![allow(clippy::indexing_slicing)]

use std::fmt::Write as _;

use super::Report;

use crate::num::{count, count_ci, pct, pct_of, prob, thousands};

/// Renders the report as text.
pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "leakmatch {} scan report (key id {})", r.tool_version, r.key_id);
    inputs(&mut o, r);
    records(&mut o, r);
    for f in &r.filters {
        filter(&mut o, f, r.records.total);
    }
    if !r.filters.is_empty() {
        o.push_str(LEGEND);
    }
    if let Some(c) = &r.claimed {
        claimed(&mut o, c);
    }
    forensics(&mut o, r);
    if let Some(a) = &r.alert {
        let _ = writeln!(
            o,
            "\nAlert threshold {}: lower bound of matched-row rate {} → {}",
            pct(a.threshold),
            pct(a.rate_low),
            if a.exceeded { "EXCEEDED" } else { "not exceeded" }
        );
    }
    o
}

/// What the filter tables' columns mean, in plain words.
pub const LEGEND: &str = "
  valid      values of the kind that pass its validity check; each is looked up in the filter
  hits       values found in the filter: true matches plus false positives
  FPR        false-positive rate: the chance that a value NOT in the customer base is still found
             (measured from the filter's real fill); valid × FPR false hits are expected
  est. true  estimated true matches: hits minus the expected false positives, (h − n·p)/(1 − p),
             with its 95 % confidence interval
  distinct   distinct matching values (≈: estimated by a sketch above the exact bound)
";

/// The extrapolation to `--claimed-size`; a claim the customer base cannot hold is said first.
fn claimed(o: &mut String, c: &super::Claimed) {
    if c.exceeds_base {
        let _ = writeln!(
            o,
            "\nClaimed size {}: EXAGGERATED — at the observed match rate it would hold more \
             customer rows than the {} customers in filter '{}'.\n  Hypothetical extrapolation \
             (only if the claim were true): {} true matches (95 % CI {} – {})",
            thousands(c.size),
            thousands(c.base),
            c.filter,
            count(c.estimate),
            count(c.ci_low.floor()),
            count(c.ci_high.ceil())
        );
    } else {
        let _ = writeln!(
            o,
            "\nExtrapolated to the claimed {} records (filter '{}'): {} true matches (95 % CI {} – {})",
            thousands(c.size),
            c.filter,
            count(c.estimate),
            count(c.ci_low.floor()),
            count(c.ci_high.ceil())
        );
    }
}

/// Rows of cells laid out in columns as wide as their widest cell, two spaces apart, so that
/// counts never run together; the first column and the columns in `left` are left-aligned,
/// the others right-aligned.
pub fn table(o: &mut String, indent: &str, rows: &[Vec<String>], left: &[usize]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width = |c: usize| {
        rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)
    };
    let widths: Vec<usize> = (0..cols).map(width).collect();
    for row in rows {
        let mut line = String::from(indent);
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c].saturating_sub(cell.chars().count());
            if c == 0 {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else if left.contains(&c) {
                line.push_str("  ");
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str("  ");
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
        }
        let _ = writeln!(o, "{}", line.trim_end());
    }
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
        if let Some(c) = &i.coverage {
            let _ = writeln!(o, "    {}", coverage(c));
        }
        for c in &i.columns {
            let header = c.header.as_deref().map(|h| format!(" '{h}'")).unwrap_or_default();
            let _ = writeln!(
                o,
                "    {:<11} ← column {}{} ({})",
                c.field.name(),
                c.column,
                header,
                c.why
            );
        }
    }
}

/// One line saying which bytes of an input range shards read.
pub fn coverage(c: &super::Coverage) -> String {
    let ranges: Vec<String> =
        c.ranges.iter().map(|r| format!("{}..{}", thousands(r.start), thousands(r.end))).collect();
    let ranges = if ranges.is_empty() { "none".to_string() } else { ranges.join(", ") };
    let share = pct_of(c.bytes_covered as f64, c.bytes as f64);
    if c.complete {
        format!("byte ranges {ranges}: all {} bytes covered", thousands(c.bytes))
    } else {
        format!(
            "INCOMPLETE: counts cover bytes {ranges} only ({} of {} bytes, {share})",
            thousands(c.bytes_covered),
            thousands(c.bytes)
        )
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
                    p.input,
                    thousands(p.record),
                    thousands(p.line),
                    thousands(p.byte)
                )
            })
            .unwrap_or_default();
        let _ = writeln!(o, "  {:<10} {:>12}{at}", m.reason, thousands(m.count));
    }
    let mut rows = vec![vec!["Values".into(), "present".into(), "valid".into(), "invalid".into()]];
    for k in &r.kinds {
        let invalid: Vec<String> =
            k.invalid.iter().map(|(w, n)| format!("{w} {}", thousands(*n))).collect();
        rows.push(vec![
            k.kind.to_string(),
            thousands(k.present),
            thousands(k.valid),
            if invalid.is_empty() { "-".to_string() } else { invalid.join(", ") },
        ]);
    }
    o.push('\n');
    table(o, "", &rows, &[3]);
}

fn filter(o: &mut String, f: &super::FilterReport, total_rows: u64) {
    let date = f.snapshot_date.as_deref().map(|d| format!(", snapshot {d}")).unwrap_or_default();
    let _ = writeln!(o, "\nFilter '{}' ({}, role {}{date})", f.name(), f.path, f.role);
    let mut rows = vec![["kind", "valid", "hits", "FPR", "est. true", "95 % CI", "distinct"]
        .map(String::from)
        .to_vec()];
    for k in &f.kinds {
        let ci = format!("{} – {}", count(k.ci_low.floor()), count(k.ci_high.ceil()));
        let distinct = if k.distinct_exact {
            count(k.distinct_hits)
        } else {
            format!("≈{}", count(k.distinct_hits))
        };
        rows.push(vec![
            k.kind.to_string(),
            thousands(k.valid),
            thousands(k.hits),
            prob(k.fpr),
            count(k.estimate),
            ci,
            distinct,
        ]);
    }
    table(o, "  ", &rows, &[]);
    let _ = writeln!(
        o,
        "  rows matched by any kind: {} of {} rows probed ({}), by two or more independent kinds: \
         {} ({})\n  (rows probed: the {} of {} rows read that hold a valid value of a kind this \
         filter has; other rows cannot match)",
        thousands(f.matched_any),
        thousands(f.rows_probed),
        pct_of(f.matched_any as f64, f.rows_probed as f64),
        thousands(f.matched_two_plus),
        pct_of(f.matched_two_plus as f64, f.rows_probed as f64),
        thousands(f.rows_probed),
        thousands(total_rows),
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
    let _ = writeln!(o, "  true matched-row rate (FP-corrected): {}", ci(&f.matched_rate));
}

fn ci(e: &crate::estimate::Estimate) -> String {
    format!("{} (95 % CI {} – {})", pct(e.estimate), pct(e.ci_low), pct(e.ci_high))
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
    let people = count_ci(p.estimate, p.ci_low, p.ci_high, p.exact);
    let _ = match p.kind {
        Some(kind) => writeln!(
            o,
            "  distinct affected people: {people} (distinct matching {} values, FP-corrected; \
             the most of any independent kind)",
            kind.name()
        ),
        None => writeln!(
            o,
            "  distinct affected people: {people} (no independent kind — kvnr, email, phone, \
             name_dob, iban — was probed)"
        ),
    };
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
        "  duplicate rows: {}{} of {} ({})",
        if d.exact { "" } else { "≈" },
        thousands(d.duplicates),
        thousands(d.rows),
        pct(d.share)
    );
    if let Some(b) = &s.birth_years {
        let _ = writeln!(
            o,
            "  birth years vs. customer base: total variation distance {:.3} over {} buckets of {} years\n    \
             (share of the dump's rows that would have to move to another bucket to match the base: \
             0 = same distribution, 1 = no overlap)",
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
    use crate::estimate::Estimate;

    fn kind(name: &str, n: u64) -> super::super::KindReport {
        super::super::KindReport {
            kind: crate::ident::Kind::from_name(name).unwrap(),
            valid: n,
            hits: n - 1,
            fpr: 1.234e-6,
            expected_false_positives: 12.0,
            estimate: (n - 13) as f64,
            ci_low: (n - 20) as f64,
            ci_high: (n - 5) as f64,
            distinct_hits: (n - 2) as f64,
            distinct_exact: false,
            distinct_ci_low: (n - 3) as f64,
            distinct_ci_high: (n - 1) as f64,
            filter_count: 25_000_000,
        }
    }

    #[test]
    fn filter_table_columns_stay_apart_at_ten_million_and_beyond() {
        let f = super::super::FilterReport {
            path: "f.lmf".into(),
            label: String::new(),
            role: crate::filter::Role::Customers,
            snapshot_date: None,
            created_unix: 0,
            kinds: vec![kind("kvnr+name_dob", 12_345_678_901), kind("email", 10_000_000)],
            rows_probed: 12_345_678_901,
            matched_any: 10_000_000,
            matched_two_plus: 9_999_999,
            matched_rate: Estimate { estimate: 0.5, ci_low: 0.4, ci_high: 0.6 },
        };
        let mut o = String::new();
        filter(&mut o, &f, 12_345_678_901);
        let lines: Vec<&str> = o.trim_start().lines().collect();
        assert!(lines[0].contains("Filter 'f.lmf'"), "named by its file: {o}");
        for line in &lines[1..4] {
            let cells: Vec<&str> = line.split("  ").filter(|c| !c.trim().is_empty()).collect();
            assert_eq!(cells.len(), 7, "seven columns two spaces apart: {line:?}");
        }
        assert!(lines[2].contains("12,345,678,901") && lines[2].contains("≈12,345,678,899"));
        // Right-aligned: every line of the table ends in the same column.
        let width = |l: &str| l.chars().count();
        assert_eq!(width(lines[1]), width(lines[2]));
        assert_eq!(width(lines[2]), width(lines[3]));
    }

    #[test]
    fn incomplete_coverage_says_which_bytes() {
        use crate::tally::ByteRange;
        let c = super::super::Coverage::of(
            [
                ByteRange { start: 0, end: 10 },
                ByteRange { start: 10, end: 20 },
                ByteRange { start: 30, end: 4000 },
            ],
            4000,
        );
        assert_eq!(c.ranges.len(), 2, "adjacent ranges joined");
        assert_eq!(c.bytes_covered, 3990);
        assert!(!c.complete);
        assert_eq!(
            coverage(&c),
            "INCOMPLETE: counts cover bytes 0..20, 30..4,000 only (3,990 of 4,000 bytes, 99.75 %)"
        );
    }
}
