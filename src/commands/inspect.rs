//! `leakmatch inspect F.lmf [--json] [--key-file K]`: everything in the header and metadata.
//! Needs no key; with a key (or `$LEAKMATCH_KEY_FILE`) it also checks the key id and the MAC.

use serde::Serialize;

use crate::config::InspectConfig;
use crate::error;
use crate::filter::{FilterFile, Metadata, OpenOptions};
use crate::ident::Kind;
use crate::num::thousands;
use crate::token::{Key, KeyError};

#[derive(Serialize)]
struct Inspection<'a> {
    path: String,
    file_bytes: u64,
    key_id: String,
    created_unix: u64,
    /// `created_unix` as a UTC date and time (`2026-10-01 12:00:00 UTC`).
    created: String,
    tool_version: &'a str,
    label: &'a str,
    role: &'static str,
    snapshot_date: Option<&'a str>,
    sections: Vec<SectionView>,
    /// The kinds `build` makes when `--kinds` is not given (when the input has their fields).
    default_kinds: Vec<&'static str>,
    /// What the pair kinds cost, or what the filter cannot show without them.
    pair_kinds: String,
    metadata: &'a Metadata,
    /// `verified`, `not checked (no key)`; OPRF filters: `integrity verified (public check key)`.
    mac: &'static str,
    /// `keyed` (format version 1) or `oprf` (version 2: RFC 9497 VOPRF, ristretto255-SHA512).
    tokens: &'static str,
    /// OPRF filters: the key service's public key (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    oprf_public_key: Option<String>,
}

#[derive(Serialize)]
struct SectionView {
    kind: &'static str,
    k: u32,
    blocks: u64,
    bytes: u64,
    inserted: u64,
    /// Distinct values estimated from the bits alone.
    estimated_distinct: f64,
    fill: f64,
    target_fpr: f64,
    achieved_fpr: f64,
}

pub fn run(cfg: &InspectConfig) -> anyhow::Result<u8> {
    let f = FilterFile::open(&cfg.filter, &OpenOptions::default())?;
    let key = match Key::load_from(cfg.key_file.as_deref()) {
        Ok(k) => Some(k),
        Err(KeyError::Missing) => None,
        Err(e) => return Err(e.into()),
    };
    let pk = f.header.prf.oprf_public_key();
    match (&key, pk) {
        (Some(k), None) => {
            f.check_key(&k.id())?;
            f.verify_mac(&k.mac_key())?;
        }
        (Some(k), Some(pk)) => {
            crate::scan::mode::local_mode(k, pk, &f.path)?;
            f.verify_mac(&pk.check_key())?;
        }
        (None, Some(pk)) => f.verify_mac(&pk.check_key())?,
        (None, None) => {}
    }
    let sections = f
        .sections
        .iter()
        .map(|s| {
            let bloom = f.section(s.kind).expect("listed section exists");
            let bits = s.params.blocks * 512;
            SectionView {
                kind: s.kind.name(),
                k: s.params.k,
                blocks: s.params.blocks,
                bytes: s.params.bytes(),
                inserted: s.inserted,
                estimated_distinct: bloom.estimate_count(),
                fill: bloom.ones() as f64 / bits as f64,
                target_fpr: s.target_fpr,
                achieved_fpr: s.achieved_fpr,
            }
        })
        .collect();
    let view = Inspection {
        path: cfg.filter.display().to_string(),
        file_bytes: f.file_len,
        key_id: hex::encode(f.header.key_id),
        created_unix: f.header.created_unix,
        created: crate::num::unix_time(f.header.created_unix),
        tool_version: &f.header.tool_version,
        label: &f.header.label,
        role: f.header.role.name(),
        snapshot_date: f.header.snapshot_date.as_deref(),
        sections,
        default_kinds: Kind::DEFAULT.iter().map(|k| k.name()).collect(),
        pair_kinds: crate::commands::build::pair_cost(&f.sections, f.file_len),
        metadata: &f.meta,
        mac: match (pk, &key) {
            (Some(_), _) => "integrity verified (OPRF filter: public check key)",
            (None, Some(_)) => "verified",
            (None, None) => "not checked (no key)",
        },
        tokens: if pk.is_some() { "oprf" } else { "keyed" },
        oprf_public_key: pk.map(|p| p.hex()),
    };
    let out = if cfg.json { serde_json::to_string_pretty(&view)? + "\n" } else { text(&view) };
    crate::commands::plumbing::write_stdout(&out)?;
    Ok(error::SUCCESS)
}

fn text(v: &Inspection<'_>) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(o, "{}: leakmatch filter, {} bytes", v.path, thousands(v.file_bytes));
    let _ = writeln!(o, "  label          {}", v.label);
    let _ = writeln!(o, "  role           {}", v.role);
    let _ = writeln!(o, "  snapshot date  {}", v.snapshot_date.unwrap_or("-"));
    let _ = writeln!(o, "  created        {}", v.created);
    let _ = writeln!(o, "  tool version   {}", v.tool_version);
    let _ = writeln!(o, "  key id         {}", v.key_id);
    let _ = writeln!(o, "  MAC            {}", v.mac);
    let _ = writeln!(o, "  tokens         {}", v.tokens);
    if let Some(pk) = &v.oprf_public_key {
        let _ =
            writeln!(o, "  key service    public key {pk} (RFC 9497 VOPRF, ristretto255-SHA512)");
    }
    let _ = writeln!(o, "  rows           {}", thousands(v.metadata.rows));
    let mut rows =
        vec![["kind", "inserted", "est. distinct", "k", "bytes", "fill", "target", "FPR"]
            .map(String::from)
            .to_vec()];
    for s in &v.sections {
        rows.push(vec![
            s.kind.to_string(),
            thousands(s.inserted),
            crate::num::count(s.estimated_distinct),
            s.k.to_string(),
            thousands(s.bytes),
            format!("{:.1} %", 100.0 * s.fill),
            format!("{:.1e}", s.target_fpr),
            crate::num::prob(s.achieved_fpr),
        ]);
    }
    o.push('\n');
    crate::report::text::table(&mut o, "  ", &rows, &[]);
    let _ = writeln!(o, "  {}", v.pair_kinds);
    let _ = writeln!(o, "  build's default kinds: {}", v.default_kinds.join(","));
    for (kind, st) in &v.metadata.kinds {
        let inv: Vec<String> =
            st.invalid.iter().map(|(w, n)| format!("{w} {}", thousands(*n))).collect();
        let _ = writeln!(
            o,
            "  {kind}: {} valid; invalid: {}",
            thousands(st.valid),
            if inv.is_empty() { "-".into() } else { inv.join(", ") }
        );
    }
    let by = &v.metadata.birth_years;
    let buckets: Vec<String> = by
        .buckets
        .iter()
        .map(|(y, n)| format!("{y}–{}: {}", y + by.bucket_years - 1, thousands(*n)))
        .collect();
    let _ = writeln!(
        o,
        "\n  birth years ({}-year buckets, buckets under {} suppressed: {} people): {}",
        by.bucket_years,
        by.min_count,
        thousands(by.suppressed),
        if buckets.is_empty() { "-".into() } else { buckets.join(", ") }
    );
    o
}
