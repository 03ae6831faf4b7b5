//! `leakmatch compare A.lmf B.lmf [--json]`: |A|, |B| and |A ∩ B| per kind from the bits
//! alone, without the key (separated mode, README "Scale-out and separated mode"). Estimators and the interval (parametric
//! bootstrap at the filters' geometry): `crate::filter::compare`.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::commands::plumbing::write_stdout;
use crate::config::CompareConfig;
use crate::error;
use crate::error::UsageError;
use crate::filter::compare::{compare_sections, SizeEstimate};
use crate::filter::{FilterFile, OpenOptions};
use crate::num::thousands;

/// Version of the `--json` schema.
pub const SCHEMA_VERSION: u32 = 1;

/// What `compare` found.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub schema_version: u32,
    pub key_id: String,
    pub a: FilterName,
    pub b: FilterName,
    /// How the interval was made.
    pub interval: String,
    pub kinds: Vec<KindComparison>,
    /// Kinds only one filter has (not compared).
    pub unpaired: Vec<String>,
}

/// Names a filter (header fields only).
#[derive(Clone, Debug, Serialize)]
pub struct FilterName {
    pub path: String,
    pub label: String,
    pub role: String,
}

/// One kind's sizes and overlap.
#[derive(Clone, Debug, Serialize)]
pub struct KindComparison {
    pub kind: String,
    pub k: u32,
    pub blocks: u64,
    pub a: SizeEstimate,
    pub b: SizeEstimate,
    pub intersection: SizeEstimate,
    /// The sections' false-positive rates from their fill: above [`OVERLOADED_FPR`] a filter
    /// holds far more than it was sized for and the estimates lose precision.
    pub a_fpr: f64,
    pub b_fpr: f64,
}

/// FPR above which `compare` warns that a filter is overloaded.
pub const OVERLOADED_FPR: f64 = 1e-2;

pub fn run(cfg: &CompareConfig) -> anyhow::Result<u8> {
    let c = compare(cfg)?;
    let out = if cfg.json {
        serde_json::to_string_pretty(&c).expect("serialisable") + "\n"
    } else {
        render(&c)
    };
    write_stdout(&out)?;
    Ok(error::SUCCESS)
}

fn name(f: &FilterFile) -> FilterName {
    FilterName {
        path: f.path.display().to_string(),
        label: f.header.label.clone(),
        role: f.header.role.name().to_string(),
    }
}

/// Opens both filters (no key), refuses other key ids or geometries, compares each kind.
pub fn compare(cfg: &CompareConfig) -> anyhow::Result<Comparison> {
    let open = |p: &Path| FilterFile::open(p, &OpenOptions::default());
    let (a, b) = (open(&cfg.a)?, open(&cfg.b)?);
    if a.header.key_id != b.header.key_id {
        anyhow::bail!(UsageError(format!(
            "{} (key id {}) and {} (key id {}) were built with different keys: their bits cannot be compared",
            a.path.display(),
            hex::encode(a.header.key_id),
            b.path.display(),
            hex::encode(b.header.key_id)
        )));
    }
    let mut kinds = Vec::new();
    let mut unpaired = Vec::new();
    for s in &a.sections {
        let (Some(x), Some(y)) = (a.section(s.kind), b.section(s.kind)) else {
            unpaired.push(s.kind.name().to_string());
            continue;
        };
        if x.params() != y.params() {
            anyhow::bail!(UsageError(format!(
                "kind {}: {} has geometry {} but {} has {}; build the second with --like {}",
                s.kind,
                a.path.display(),
                x.params(),
                b.path.display(),
                y.params(),
                a.path.display()
            )));
        }
        let o = compare_sections(x, y, cfg.simulations, cfg.seed).expect("same geometry");
        let (k, blocks) = (x.params().k, x.params().blocks);
        let kind = s.kind.name().to_string();
        let (a_fpr, b_fpr) = (x.achieved_fpr(), y.achieved_fpr());
        let (a_est, b_est, intersection) = (o.a, o.b, o.intersection);
        kinds.push(KindComparison {
            kind,
            k,
            blocks,
            a: a_est,
            b: b_est,
            intersection,
            a_fpr,
            b_fpr,
        });
    }
    unpaired.extend(
        b.sections
            .iter()
            .filter(|s| a.section(s.kind).is_none())
            .map(|s| s.kind.name().to_string()),
    );
    if kinds.is_empty() {
        anyhow::bail!(UsageError(format!(
            "{} and {} have no identifier kind in common",
            a.path.display(),
            b.path.display()
        )));
    }
    let interval = format!(
        "95 % parametric bootstrap: {} simulated filter pairs at the same k and block load (seed {})",
        cfg.simulations, cfg.seed
    );
    Ok(Comparison {
        schema_version: SCHEMA_VERSION,
        key_id: hex::encode(a.header.key_id),
        a: name(&a),
        b: name(&b),
        interval,
        kinds,
        unpaired,
    })
}

/// The text rendering.
pub fn render(c: &Comparison) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "A: {} ('{}', {})", c.a.path, c.a.label, c.a.role);
    let _ = writeln!(o, "B: {} ('{}', {})", c.b.path, c.b.label, c.b.role);
    let _ = writeln!(o, "key id {}; estimated from the bits alone ({})\n", c.key_id, c.interval);
    let _ = writeln!(
        o,
        "  {:<18}{:>12}{:>12}{:>14}   95 % CI of |A ∩ B|",
        "kind", "|A|", "|B|", "|A ∩ B|"
    );
    let n = |x: f64| thousands(x.max(0.0).round() as u64);
    for k in &c.kinds {
        let i = &k.intersection;
        let _ = writeln!(
            o,
            "  {:<18}{:>12}{:>12}{:>14}   {} – {}",
            k.kind,
            n(k.a.estimate),
            n(k.b.estimate),
            n(i.estimate),
            n(i.ci_low),
            n(i.ci_high)
        );
    }
    if c.kinds.iter().any(|k| k.a_fpr.max(k.b_fpr) > OVERLOADED_FPR) {
        let _ = writeln!(
            o,
            "\nWarning: a filter holds far more than it was sized for (FPR above {OVERLOADED_FPR}); \
             the estimates lose precision. Build both with the same --expected, sized for the larger set."
        );
    }
    if !c.unpaired.is_empty() {
        let _ = writeln!(o, "\nIn one filter only (not compared): {}", c.unpaired.join(", "));
    }
    o
}
