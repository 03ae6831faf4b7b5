//! The `--html` report: one self-contained page (inline CSS and SVG, no scripts, no network)
//! rendered from the same [`Report`] as [`super::text`] and [`super::json`], with numbers
//! formatted by [`crate::num`]. Its sections ([`SECTIONS`]): the verdict and its reasons; the
//! inputs (size, SHA-256, format, coverage, column mapping) and the scan time; per filter
//! (canary and snapshot filters included) the per-kind table; the claimed-size extrapolation
//! (flagged first when the claim exceeds the base); match rates per kind with interval bars on
//! a labelled 0–100 % axis; the snapshots with the best fit marked; the birth-year comparison
//! with labelled axes and scale; the GDPR summary; a legend of the terms. A viewport meta and
//! scalable SVGs keep it readable at 800 px. Every string is HTML-escaped; no field holds a
//! value of any input.

use std::fmt::Write as _;

use super::Report;
use crate::estimate::Estimate;
use crate::num::{self, thousands};

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
border-bottom:1px solid #ccc}h3{font-size:1em;margin-bottom:.3em}table{border-collapse:collapse}\
td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #eee;vertical-align:top}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
.wide{overflow-x:auto;max-width:100%}code.hash{word-break:break-all}\
svg{max-width:100%;height:auto}.verdict{font-size:1.4em;padding:.5em 1em;\
border-radius:.3em;display:inline-block;color:#fff}.genuine-extract{background:#b3261e}\
.recombined{background:#8a4b00}.likely-fabricated{background:#555}.other-population\
{background:#2e6b2e}.inconclusive{background:#666}.art9{color:#b3261e;font-weight:bold}\
.warn{color:#b3261e;font-weight:bold}.best{font-weight:bold}dt{font-weight:bold}\
dd{margin:0 0 .4em 1.5em}.nowrap td{white-space:nowrap}";

/// The sections of the page, in order: `id` and heading. The browser test checks that each
/// one is rendered.
pub const SECTIONS: [(&str, &str); 9] = [
    ("verdict-section", "Verdict"),
    ("inputs", "Inputs"),
    ("filters", "Filters"),
    ("claimed", "Claimed size"),
    ("rates", "Match rates"),
    ("snapshots", "Snapshots"),
    ("births", "Birth years"),
    ("gdpr", "GDPR summary"),
    ("legend", "What the numbers mean"),
];

/// Renders the page.
pub fn render(r: &Report) -> String {
    let f = &r.forensics;
    let mut o = String::new();
    let t = &r.timing;
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>leakmatch report</title><style>{STYLE}</style></head><body>\
         <h1>leakmatch scan report</h1><p>Tool {} · key id <code>{}</code> · {} records read \
         · {} in {:.2} s ({:.1} MB/s)</p>",
        escape(&r.tool_version),
        escape(&r.key_id),
        thousands(r.records.total),
        num::bytes(t.bytes),
        t.seconds,
        t.mb_per_s
    );
    let v = &f.verdict;
    let _ = write!(
        o,
        "<section id=\"verdict-section\"><h2>Verdict</h2>\
         <p id=\"verdict\" class=\"verdict {0}\">{0}</p><p>{1}.</p>\
         <p>Reasons (signals and thresholds that decided it):</p><ul>",
        escape(&v.label),
        escape(&v.meaning)
    );
    for reason in &v.reasons {
        let _ = write!(o, "<li>{}</li>", escape(&reason.text));
    }
    o.push_str("</ul></section>");
    inputs(&mut o, r);
    filters(&mut o, r);
    claimed(&mut o, r);
    rates(&mut o, r);
    snapshots(&mut o, r);
    births(&mut o, r);
    gdpr(&mut o, r);
    legend(&mut o);
    o.push_str("</body></html>\n");
    o
}

fn section(o: &mut String, id: &str) {
    let title = SECTIONS.iter().find(|s| s.0 == id).map_or(id, |s| s.1);
    let _ = write!(o, "<section id=\"{id}\"><h2>{title}</h2>");
}

fn inputs(o: &mut String, r: &Report) {
    section(o, "inputs");
    for i in &r.inputs {
        let _ = write!(
            o,
            "<h3>{}</h3><div class=\"wide\"><table>\
             <tr><td>Size</td><td>{} bytes ({})</td></tr>\
             <tr><td>SHA-256</td><td><code class=\"hash\">{}</code></td></tr>\
             <tr><td>Format</td><td>{}, delimiter <code>{}</code>, {}, {}</td></tr>\
             <tr><td>Records</td><td>{}</td></tr>",
            escape(&i.path),
            thousands(i.bytes),
            num::bytes(i.bytes),
            if i.sha256.is_empty() { "- (range shards: see the partials)" } else { &i.sha256 },
            escape(&i.format),
            escape(&i.delimiter),
            if i.header { "header" } else { "no header" },
            escape(&i.encoding),
            thousands(i.records)
        );
        if let Some(c) = &i.coverage {
            let class = if c.complete { "" } else { " class=\"warn\"" };
            let _ = write!(
                o,
                "<tr><td>Coverage</td><td{class}>{}</td></tr>",
                escape(&super::text::coverage(c))
            );
        }
        o.push_str(
            "</table></div><p>Column mapping:</p><div class=\"wide\"><table>\
             <tr><th>Field</th><th>Column</th><th>Header</th><th>Why</th></tr>",
        );
        for c in &i.columns {
            let _ = write!(
                o,
                "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                escape(c.field.name()),
                c.column,
                escape(c.header.as_deref().unwrap_or("-")),
                escape(&c.why)
            );
        }
        o.push_str("</table></div>");
    }
    o.push_str("</section>");
}

fn filters(o: &mut String, r: &Report) {
    section(o, "filters");
    for f in &r.filters {
        let date =
            f.snapshot_date.as_deref().map(|d| format!(", snapshot {d}")).unwrap_or_default();
        let _ = write!(
            o,
            "<h3>'{}' (role {}{})</h3><p><code>{}</code>, created {}</p><div class=\"wide\"><table>\
             <tr><th>Kind</th><th class=\"n\">Valid</th><th class=\"n\">Hits</th>\
             <th class=\"n\">FPR</th><th class=\"n\">Est. true</th><th class=\"n\">95 % CI</th>\
             <th class=\"n\">Distinct</th></tr>",
            escape(&f.name()),
            escape(f.role.name()),
            escape(&date),
            escape(&f.path),
            num::unix_time(f.created_unix)
        );
        for k in &f.kinds {
            let distinct = format!(
                "{}{}",
                if k.distinct_exact { "" } else { "≈" },
                num::count(k.distinct_hits)
            );
            let _ = write!(
                o,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{} – {}</td>\
                 <td class=\"n\">{}</td></tr>",
                escape(k.kind.name()),
                thousands(k.valid),
                thousands(k.hits),
                num::prob(k.fpr),
                num::count(k.estimate),
                num::count(k.ci_low.floor()),
                num::count(k.ci_high.ceil()),
                distinct
            );
        }
        let m = &f.matched_rate;
        let _ = write!(
            o,
            "</table></div><p>Rows matched by any kind: {} of {} rows probed ({}); by two or \
             more independent kinds: {}. Rows probed are the rows that hold a valid value of a \
             kind this filter has ({} rows read). True matched-row rate (FP-corrected): {} \
             (95 % CI {} – {}).</p>",
            thousands(f.matched_any),
            thousands(f.rows_probed),
            num::pct_of(f.matched_any as f64, f.rows_probed as f64),
            thousands(f.matched_two_plus),
            thousands(r.records.total),
            num::pct(m.estimate),
            num::pct(m.ci_low),
            num::pct(m.ci_high)
        );
    }
    o.push_str("</section>");
}

fn claimed(o: &mut String, r: &Report) {
    let Some(c) = &r.claimed else { return };
    section(o, "claimed");
    if c.exceeds_base {
        let _ = write!(
            o,
            "<p class=\"warn\">Claim EXAGGERATED: at the observed match rate, {} records would \
             hold more customer rows than the {} customers in '{}'.</p>\
             <p>Hypothetical extrapolation, only if the claim were true:",
            thousands(c.size),
            thousands(c.base),
            escape(&c.filter)
        );
    } else {
        let _ = write!(
            o,
            "<p>Extrapolated to the claimed {} records (filter '{}'):",
            thousands(c.size),
            escape(&c.filter)
        );
    }
    let _ = write!(
        o,
        " {} true matches (95 % CI {} – {}).</p></section>",
        num::count(c.estimate),
        num::count(c.ci_low.floor()),
        num::count(c.ci_high.ceil())
    );
}

fn snapshots(o: &mut String, r: &Report) {
    let f = &r.forensics;
    if f.snapshots.is_empty() {
        return;
    }
    section(o, "snapshots");
    o.push_str(
        "<p>Matched-row rate per dated filter: the snapshot the dump fits best tells when the \
         data was taken.</p><div class=\"wide\"><table class=\"nowrap\"><tr><th>Snapshot</th><th>Filter</th>\
         <th class=\"n\">Matched-row rate</th><th class=\"n\">95 % CI</th><th></th></tr>",
    );
    for sn in &f.snapshots {
        let best = f.best_snapshot.as_deref() == Some(sn.label.as_str());
        let e = &sn.matched_rate;
        let _ = write!(
            o,
            "<tr{}><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{} – {}</td>\
             <td>{}</td></tr>",
            if best { " class=\"best\" id=\"best-snapshot\"" } else { "" },
            escape(&sn.snapshot_date),
            escape(&sn.label),
            num::pct(e.estimate),
            num::pct(e.ci_low),
            num::pct(e.ci_high),
            if best { "← best fit" } else { "" }
        );
    }
    o.push_str("</table></div></section>");
}

fn legend(o: &mut String) {
    section(o, "legend");
    o.push_str(
        "<dl><dt>Valid</dt><dd>Values of the kind that pass its validity check; each is looked \
         up in the filter.</dd><dt>Hits</dt><dd>Values found in the filter: true matches plus \
         false positives.</dd><dt>FPR (false-positive rate)</dt><dd>The chance that a value \
         that is <em>not</em> in the customer base is still found, measured from the filter's \
         real fill. Valid × FPR false hits are expected.</dd><dt>Est. true</dt><dd>Estimated \
         true matches: hits minus the expected false positives, (h − n·p)/(1 − p), with its \
         95 % confidence interval.</dd><dt>Distinct</dt><dd>Distinct matching values (≈: \
         estimated by a sketch above the exact bound).</dd><dt>Rows probed</dt><dd>Rows that \
         hold at least one valid value of a kind the filter has; the share of rows matched is \
         of these rows.</dd><dt>Total variation distance</dt><dd>The share of the dump's rows \
         that would have to move to another birth-year bucket to match the customer base: 0 = \
         the same distribution, 1 = no overlap.</dd></dl></section>",
    );
}

fn pct(x: f64) -> String {
    num::pct(x)
}

/// The x axis of the rate chart: ticks at 0, 25, 50, 75, 100 % and its title.
fn rate_axis(o: &mut String, x0: f64, w: f64, y: f64) {
    let _ =
        write!(o, "<line x1=\"{x0}\" x2=\"{:.1}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#444\"/>", x0 + w);
    for i in 0..=4 {
        let x = x0 + w * f64::from(i) / 4.0;
        let _ = write!(
            o,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y}\" y2=\"{:.1}\" stroke=\"#444\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{} %</text>",
            y + 4.0,
            y + 16.0,
            25 * i
        );
    }
    let _ = write!(
        o,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">\
         FP-corrected match rate (bar: estimate; line: 95 % confidence interval)</text>",
        x0 + w / 2.0,
        y + 32.0
    );
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
    section(o, "rates");
    let _ = write!(
        o,
        "<p>Against '{}': false-positive-corrected share of valid values that are customers, \
         per kind, and of probed rows, with 95 % intervals.</p>",
        escape(&s.filter)
    );
    let mut rows: Vec<(String, Estimate)> =
        s.match_rate_by_kind.iter().map(|k| (k.kind.to_string(), k.rate)).collect();
    rows.push(("rows (any kind)".into(), s.matched_rate));
    for sn in &r.forensics.snapshots {
        rows.push((format!("snapshot {}", sn.snapshot_date), sn.matched_rate));
    }
    let axis_y = rows.len() as f64 * 22.0 + 6.0;
    let height = axis_y + 40.0;
    let _ = write!(
        o,
        "<svg role=\"img\" aria-label=\"match rates\" width=\"820\" height=\"{height}\" \
         viewBox=\"0 0 820 {height}\">"
    );
    for (i, (label, e)) in rows.iter().enumerate() {
        bar_row(o, 2.0 + 22.0 * i as f64, label, e);
    }
    rate_axis(o, 190.0, 420.0, axis_y);
    o.push_str("</svg>");
    let p = &s.people;
    let _ = write!(
        o,
        "<table><tr><td>Strong matches (≥ 2 independent kinds)</td><td class=\"n\">{}</td></tr>\
         <tr><td>Distinct affected people</td><td class=\"n\">{}</td></tr>\
         <tr><td>Duplicate rows in the dump</td><td class=\"n\">{}{} of {}</td></tr>",
        thousands(s.strong_matches),
        escape(&num::count_ci(p.estimate, p.ci_low, p.ci_high, p.exact)),
        if s.duplicates.exact { "" } else { "≈" },
        thousands(s.duplicates.duplicates),
        thousands(s.duplicates.rows)
    );
    if let Some(v) = &s.kvnr_validity {
        let _ = write!(
            o,
            "<tr><td>KVNR check-digit validity</td><td class=\"n\">{} of {} ({})</td></tr>",
            thousands(v.part),
            thousands(v.whole),
            pct(v.share.estimate)
        );
    }
    for pr in &s.recombined {
        let _ = write!(
            o,
            "<tr><td>Recombined rows ({})</td><td class=\"n\">{} of {}</td></tr>",
            escape(&pr.pair),
            thousands(pr.pair_missed),
            thousands(pr.both_parts)
        );
    }
    for c in &r.forensics.canary.filters {
        let _ = write!(
            o,
            "<tr><td>Canary '{}'</td><td class=\"n\">{} rows hit{}</td></tr>",
            escape(&c.label),
            thousands(c.rows_hit),
            if c.significant { " — proof of origin" } else { "" }
        );
    }
    o.push_str("</table></section>");
}

fn births(o: &mut String, r: &Report) {
    let Some(b) = &r.forensics.signals.birth_years else { return };
    section(o, "births");
    let _ = write!(
        o,
        "<p>Share of rows per {}-year bucket of birth years: dump (dark) against the customer \
         base (light). Total variation distance {:.3} (0 = the same distribution, 1 = no \
         overlap).</p>",
        b.bucket_years, b.tvd
    );
    let max = b.buckets.iter().map(|x| x.1.max(x.2)).fold(1e-9, f64::max);
    // Axis scale: a round top value in percent above the largest share.
    let top = ((max * 100.0 / 5.0).ceil() * 5.0).max(5.0) / 100.0;
    let (w, h, left, top_pad) = (24.0, 160.0, 56.0, 10.0);
    let width = left + b.buckets.len() as f64 * w + 20.0;
    let height = top_pad + h + 64.0;
    let base_y = top_pad + h;
    let _ = write!(
        o,
        "<svg role=\"img\" aria-label=\"birth years\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\">\
         <line x1=\"{left}\" x2=\"{left}\" y1=\"{top_pad}\" y2=\"{base_y}\" stroke=\"#444\"/>\
         <line x1=\"{left}\" x2=\"{:.1}\" y1=\"{base_y}\" y2=\"{base_y}\" stroke=\"#444\"/>\
         <text x=\"12\" y=\"{:.1}\" font-size=\"11\" transform=\"rotate(-90 12 {:.1})\" \
         text-anchor=\"middle\">share of rows</text>",
        width - 10.0,
        top_pad + h / 2.0,
        top_pad + h / 2.0
    );
    for i in 0..=4 {
        let v = top * f64::from(i) / 4.0;
        let y = base_y - h * v / top;
        let _ = write!(
            o,
            "<line x1=\"{:.1}\" x2=\"{left}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#444\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{:.1} %</text>",
            left - 4.0,
            left - 6.0,
            y + 3.0,
            100.0 * v
        );
    }
    for (i, (start, dump, base)) in b.buckets.iter().enumerate() {
        let x = left + 4.0 + i as f64 * w;
        let (hd, hb) = (h * dump / top, h * base / top);
        let _ = write!(
            o,
            "<rect x=\"{x}\" y=\"{:.1}\" width=\"10\" height=\"{hd:.1}\" fill=\"#24527a\"/>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"{hb:.1}\" fill=\"#a9c6e8\"/>\
             <text x=\"{x}\" y=\"{:.1}\" font-size=\"10\" transform=\"rotate(60 {x} {:.1})\">{start}</text>",
            base_y - hd,
            x + 10.0,
            base_y - hb,
            base_y + 12.0,
            base_y + 12.0
        );
    }
    let _ = write!(
        o,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">birth year \
         (bucket start)</text></svg></section>",
        left + b.buckets.len() as f64 * w / 2.0,
        height - 4.0
    );
}

fn gdpr(o: &mut String, r: &Report) {
    let g = &r.forensics.gdpr;
    let _ = write!(
        o,
        "<section id=\"gdpr\"><h2>GDPR summary</h2><p>Data subjects {}, records {}.{}</p>\
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
    o.push_str("</table></section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
