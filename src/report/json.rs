//! The `--json` report: one object, `schema_version` 2 (2: GDPR counts as objects with
//! interval and `exact`, `gdpr.summary`, people's interval, reasons' `remedy`, distinct
//! intervals).
//!
//! The machine-readable schema is `schema/report.v2.schema.json` (JSON Schema draft 2020-12,
//! shipped in the repository and checked against real `scan --json` and `merge --json` output
//! by the integration tests). Within a version fields may be added; a removed or changed field
//! bumps the version. Exact counts are integers.
//!
//! ```text
//! {
//!   "schema_version": 2,            // bumped on incompatible changes
//!   "tool_version": "0.1.0",
//!   "key_id": "hex(16 bytes)",
//!   "inputs": [{ "path", "bytes", "sha256", "format", "delimiter", "header", "encoding",
//!                "records", "columns": [{ "field", "column" (1-based), "header", "why" }],
//!                "coverage": null | { "ranges": [{ "start", "end" }], "bytes_covered", "bytes",
//!                                     "complete" } }],
//!   ("coverage": null when every byte was read, by one scan or by shards covering the input;
//!   else the bytes read, after `scan --range` or `merge --allow-partial` of a set with gaps)
//!   ("encoding": "utf-8", "utf-8-bom", "windows-1252", or "utf-16le"/"utf-16be" for text found
//!   by its byte-order mark and read as UTF-8)
//!   "records": { "total", "malformed", "matched_any", "matched_two_plus",
//!                "malformed_by_reason": [{ "reason", "count",
//!                                          "first": { "input", "record", "line", "byte" } }] },
//!   "kinds": [{ "kind", "present", "valid", "invalid": [["wrong_check_digit", n], ...] }],
//!   "filters": [{ "path", "label", "role", "snapshot_date", "created_unix",
//!                 "rows_probed", "matched_any", "matched_two_plus",
//!                 "matched_rate": { "estimate", "ci_low", "ci_high" },
//!                 "kinds": [{ "kind", "valid", "hits", "fpr", "expected_false_positives",
//!                             "estimate", "ci_low", "ci_high", "distinct_hits",
//!                             "distinct_exact", "distinct_ci_low", "distinct_ci_high",
//!                             "filter_count" }] }],
//!   "claimed": null | { "size", "filter", "estimate", "ci_low", "ci_high", "base",
//!                       "exceeds_base" },   // exceeds_base: the extrapolation is hypothetical
//!   "alert": null | { "threshold", "rate_low", "exceeded" },
//!   "timing": { "seconds", "bytes", "mb_per_s", "rows_per_s" },
//!   // forensics (crate::forensics), inputs[].categories: GDPR categories of its columns
//!   "signals": { "filter", "rows_probed", "matched_rate": {estimate, ci_low, ci_high},
//!                "match_rate_by_kind": [{ "kind", "valid", "hits", "rate": {…} }],
//!                "strong_matches", "strong_share": {…},
//!                "people": { "estimate", "ci_low", "ci_high", "kind", "exact", "definition" },
//!                "kvnr_validity": null | { "part", "whole", "share": {…} },
//!                "kvnr_valid_unknown": null | {…},
//!                "recombined": [{ "pair", "both_parts", "pair_missed", "share": {…} }],
//!                "duplicates": { "rows", "duplicates" (integer), "share", "exact" },
//!                "birth_years": null | { "bucket_years", "buckets": [[start, dump, base]],
//!                                        "tvd", "dump_rows" },
//!                "claimed": null | { "claimed", "implied_low", "base", "exaggerated" } },
//!   "verdict": { "label", "meaning",
//!                "reasons": [{ "signal", "value", "threshold", "text", "remedy": null | "…" }] },
//!   "best_snapshot": null | "label",
//!   "snapshots": [{ "label", "snapshot_date", "matched_rate": {…} }],
//!   "canary": { "proof_of_origin", "filters": [{ "label", "rows_hit", "planted_hit",
//!                                                "expected_false", "significant" }] },
//!   "gdpr": { "subjects": count, "records": count, "art9", "summary": "paragraph",
//!             "categories": [{ "category", "art9", "records": count, "subjects": count }] }
//!   // count = { "estimate", "ci_low", "ci_high", "exact" } (crate::forensics::gdpr::Count)
//! }
//! ```
//!
//! `records.matched_any` / `matched_two_plus` are the largest over `customers` filters;
//! `matched_rate` is the false-positive-corrected share of probed rows that truly match, and
//! `alert.rate_low` its lower 95 % bound. Estimates are counts of records (rows), not people;
//! `distinct_hits` counts distinct matching tokens (exact when `distinct_exact`, else a
//! sketch with its interval; never above `hits`). Counts' intervals are whole numbers, rates
//! have four decimals ([`crate::estimate::Estimate::rounded_rate`]), and every `estimate`
//! lies inside its own `[ci_low, ci_high]`. No field holds a value of any input.

use super::Report;

/// Renders the report as one pretty-printed JSON object with a trailing newline.
pub fn render(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).expect("a Report always serialises");
    s.push('\n');
    s
}
