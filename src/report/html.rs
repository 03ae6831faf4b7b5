//! The `--html` report: one self-contained page (inline CSS and SVG, no scripts, no network)
//! rendered from the same [`Report`] as [`super::text`] and [`super::json`]: the verdict and
//! its reasons, match rates per kind with interval bars, the birth-year comparison, the GDPR
//! summary. Every string is HTML-escaped; no field holds a value of any input.

use std::fmt::Write as _;

use super::text::thousands;
use super::Report;
use crate::estimate::Estimate;

/// Escapes `&<>"'` for text and attribute positions.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:60em;margin:2em auto;\
color:#222;padding:0 1em}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.8em;\
border-bottom:1px solid #ccc}table{border-collapse:collapse}td,th{padding:.2em .8em;\
text-align:left;border-bottom:1px solid #eee}.verdict{font-size:1.4em;padding:.5em 1em;\
border-radius:.3em;display:inline-block;color:#fff}.genuine-extract{background:#b3261e}\
.recombined{background:#8a4b00}.likely-fabricated{background:#555}.other-population\
{background:#2e6b2e}.inconclusive{background:#666}.art9{color:#b3261e;font-weight:bold}";

/// Renders the page.
pub fn render(r: &Report) -> String {
    let f = &r.forensics;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>leakmatch report</title><style>{STYLE}</style></head><body>\
         <h1>leakmatch scan report</h1><p>Tool {} · key id <code>{}</code> · {} records read</p>",
        escape(&r.tool_version),
        escape(&r.key_id),
        thousands(r.records.total)
    );
    let v = &f.verdict;
    let _ = write!(
        o,
        "<h2>Verdict</h2><p id=\"verdict\" class=\"verdict {0}\">{0}</p><p>{1}.</p>\
         <p>Reasons (signals and thresholds that decided it):</p><ul>",
        escape(&v.label),
        escape(&v.meaning)
    );
    for reason in &v.reasons {
        let _ = write!(o, "<li>{}</li>", escape(&reason.text));
    }
    o.push_str("</ul>");
    rates(&mut o, r);
    births(&mut o, r);
    gdpr(&mut o, r);
    o.push_str("</body></html>\n");
    o
}

/// A rate as percent with two decimals: the same digits as the text report and, as a
/// fraction, the JSON report (rates are rounded to 0.01 % in the [`Report`]).
fn pct(x: f64) -> String {
    format!("{:.2} %", 100.0 * x)
}

/// One row of bars: the estimate as a bar, the interval as a line with end ticks.
fn bar_row(o: &mut String, y: f64, label: &str, e: &Estimate) {
    let (x0, w) = (190.0, 420.0);
    let x = |v: f64| x0 + w * v.clamp(0.0, 1.0);
    let _ = write!(
        o,
        "<text x=\"0\" y=\"{ty}\" font-size=\"13\">{label}</text>\
         <rect x=\"{x0}\" y=\"{y}\" width=\"{bw:.1}\" height=\"14\" fill=\"#7aa6d8\"/>\
         <line x1=\"{lo:.1}\" x2=\"{hi:.1}\" y1=\"{my}\" y2=\"{my}\" stroke=\"#123\" stroke-width=\"2\"/>\
         <line x1=\"{lo:.1}\" x2=\"{lo:.1}\" y1=\"{y}\" y2=\"{yb}\" stroke=\"#123\"/>\
         <line x1=\"{hi:.1}\" x2=\"{hi:.1}\" y1=\"{y}\" y2=\"{yb}\" stroke=\"#123\"/>\
         <text x=\"{tx}\" y=\"{ty}\" font-size=\"12\">{p} ({l} – {h})</text>",
        ty = y + 12.0,
        label = escape(label),
        bw = x(e.estimate) - x0,
        lo = x(e.ci_low),
        hi = x(e.ci_high),
        my = y + 7.0,
        yb = y + 14.0,
        tx = x0 + w + 8.0,
        p = pct(e.estimate),
        l = pct(e.ci_low),
        h = pct(e.ci_high),
    );
}

fn rates(o: &mut String, r: &Report) {
    let s = &r.forensics.signals;
    let _ = write!(
        o,
        "<h2>Match rates against '{}'</h2><p>False-positive-corrected share of valid values \
         that are customers, with 95 % intervals.</p>",
        escape(&s.filter)
    );
    let mut rows: Vec<(String, Estimate)> =
        s.match_rate_by_kind.iter().map(|k| (k.kind.clone(), k.rate)).collect();
    rows.push(("rows (any kind)".into(), s.matched_rate));
    for sn in &r.forensics.snapshots {
        rows.push((format!("snapshot {}", sn.snapshot_date), sn.matched_rate));
    }
    let height = rows.len() as f64 * 22.0 + 4.0;
    let _ = write!(
        o,
        "<svg role=\"img\" width=\"820\" height=\"{height}\" viewBox=\"0 0 820 {height}\">"
    );
    for (i, (label, e)) in rows.iter().enumerate() {
        bar_row(o, 2.0 + 22.0 * i as f64, label, e);
    }
    o.push_str("</svg>");
    let p = &s.people;
    let _ = write!(
        o,
        "<table><tr><td>Strong matches (≥ 2 independent kinds)</td><td>{}</td></tr>\
         <tr><td>Distinct affected people</td><td>{}</td></tr>\
         <tr><td>Duplicate rows in the dump</td><td>{} of {}</td></tr>",
        thousands(s.strong_matches),
        escape(&super::text::count_ci(p.estimate, p.ci_low, p.ci_high, p.exact)),
        thousands(s.duplicates.duplicates.round() as u64),
        thousands(s.duplicates.rows)
    );
    if let Some(v) = &s.kvnr_validity {
        let _ = write!(
            o,
            "<tr><td>KVNR check-digit validity</td><td>{} of {} ({})</td></tr>",
            thousands(v.part),
            thousands(v.whole),
            pct(v.share.estimate)
        );
    }
    for pr in &s.recombined {
        let _ = write!(
            o,
            "<tr><td>Recombined rows ({})</td><td>{} of {}</td></tr>",
            escape(&pr.pair),
            thousands(pr.pair_missed),
            thousands(pr.both_parts)
        );
    }
    for c in &r.forensics.canary.filters {
        let _ = write!(
            o,
            "<tr><td>Canary '{}'</td><td>{} rows hit{}</td></tr>",
            escape(&c.label),
            thousands(c.rows_hit),
            if c.significant { " — proof of origin" } else { "" }
        );
    }
    o.push_str("</table>");
}

fn births(o: &mut String, r: &Report) {
    let Some(b) = &r.forensics.signals.birth_years else { return };
    let _ = write!(
        o,
        "<h2>Birth years: dump vs. customer base</h2><p>Total variation distance {:.3} over \
         {}-year buckets (dark: dump, light: base).</p>",
        b.tvd, b.bucket_years
    );
    let max = b.buckets.iter().map(|x| x.1.max(x.2)).fold(1e-9, f64::max);
    let (w, h) = (24.0, 160.0);
    let width = b.buckets.len() as f64 * w + 10.0;
    let _ = write!(o, "<svg role=\"img\" width=\"{width}\" height=\"{}\">", h + 40.0);
    for (i, (start, dump, base)) in b.buckets.iter().enumerate() {
        let x = 5.0 + i as f64 * w;
        let (hd, hb) = (h * dump / max, h * base / max);
        let _ = write!(
            o,
            "<rect x=\"{x}\" y=\"{:.1}\" width=\"10\" height=\"{hd:.1}\" fill=\"#24527a\"/>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"{hb:.1}\" fill=\"#a9c6e8\"/>\
             <text x=\"{x}\" y=\"{:.1}\" font-size=\"10\" transform=\"rotate(60 {x} {:.1})\">{start}</text>",
            h - hd,
            x + 10.0,
            h - hb,
            h + 12.0,
            h + 12.0
        );
    }
    o.push_str("</svg>");
}

fn gdpr(o: &mut String, r: &Report) {
    let g = &r.forensics.gdpr;
    let _ = write!(
        o,
        "<h2>GDPR summary</h2><p>Data subjects {}, records {}.{}</p>\
         <p id=\"gdpr-summary\">{}</p><p>Per category, counted from values present in matched \
         rows:</p><table><tr><th>Category</th><th>Records</th><th>Subjects</th></tr>",
        escape(&g.subjects.cell()),
        escape(&g.records.cell()),
        if g.art9 {
            " <span class=\"art9\">Special-category health data (Art. 9 GDPR) present.</span>"
        } else {
            ""
        },
        escape(&g.summary)
    );
    for c in &g.categories {
        let _ = write!(
            o,
            "<tr><td{}>{}</td><td>{}</td><td>{}</td></tr>",
            if c.art9 { " class=\"art9\"" } else { "" },
            escape(&c.category),
            escape(&c.records.cell()),
            escape(&c.subjects.cell())
        );
    }
    o.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
