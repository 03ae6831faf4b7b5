//! `leakmatch scan`: dumps × filters → [`Report`] on stdout, exit code from `--alert-above`.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::commands::plumbing::{self, sha256, sha256_of};
use crate::commands::progress::Progress;
use crate::config::ScanConfig;
use crate::error;
use crate::error::UsageError;
use crate::output;
use crate::partial::{ByteRange, Partial, PartialInput};
use crate::report::{BuildContext, ColumnUse, FilterDesc, InputReport, Report};
use crate::scan::{self, Prepared, Prober, Tokenize};
use crate::tally::Tally;

pub fn run(cfg: &ScanConfig) -> anyhow::Result<u8> {
    if let Some(n) = cfg.threads {
        rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global().ok();
    }
    if cfg.parse_only {
        parse_only(cfg)?;
        return Ok(error::SUCCESS);
    }
    cfg.check_outputs()?;
    let inputs = cfg.inputs();
    let inputs = output::refs(&inputs);
    if let Some((id, out)) = &cfg.shard {
        scan_inputs(cfg)?.into_partial(id).write(out, &inputs)?;
        return Ok(error::SUCCESS);
    }
    let report = scan(cfg)?;
    plumbing::emit_report(&report, &cfg.report, &inputs)
}

/// The benchmark baseline: the same reading, chunking, parsing and decoding as a scan, with
/// no normalising, tokens or probes. Prints records and MB/s on stderr.
pub fn parse_only(cfg: &ScanConfig) -> anyhow::Result<Tally> {
    let pipeline = Tokenize::parse_only();
    let mut total = Tally::new(0);
    let mut bytes = 0;
    let progress = Progress::new(None, true, "parse");
    for path in &cfg.dumps {
        let input = Prepared::open_as(path, cfg.mmap, cfg.format, &cfg.overrides)?;
        let t = scan::run_input(&input, &pipeline, 0, &scan::Discard, &|_| {})?;
        input.source.finish()?;
        // After the read: a stream's length is the raw bytes read so far.
        bytes += input.source.len() as u64;
        total.merge(&t);
    }
    let secs = progress.elapsed();
    eprintln!(
        "leakmatch: parsed {:.1} MB, {} rows in {secs:.2} s ({:.1} MB/s)",
        bytes as f64 / 1e6,
        total.records,
        bytes as f64 / 1e6 / secs.max(1e-9)
    );
    Ok(total)
}

/// Runs the scan described by `cfg` and builds its report: the merge of the one shard it is
/// (so that a scan and a merge of shards share one path).
pub fn scan(cfg: &ScanConfig) -> anyhow::Result<Report> {
    let partial = scan_inputs(cfg)?.into_partial("scan");
    let m = crate::partial::merge(vec![(PathBuf::from("-"), partial)])?;
    Ok(Report::build(BuildContext {
        key_id: m.key_id,
        inputs: m.inputs,
        filters: &m.filters,
        claimed_size: cfg.report.claimed_size,
        alert_above: cfg.report.alert_above,
        seconds: m.seconds,
    }))
}

/// What a scan counted, before the report: the shard's partial result.
pub struct Scanned {
    pub key_id: String,
    pub filters: Vec<FilterDesc>,
    pub inputs: Vec<PartialInput>,
    pub seconds: f64,
}

impl Scanned {
    /// The partial result of shard `id`.
    pub fn into_partial(self, id: &str) -> Partial {
        Partial {
            format: crate::partial::FORMAT.to_string(),
            schema_version: crate::partial::SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            shard_id: id.to_string(),
            key_id: self.key_id,
            filters: self.filters,
            inputs: self.inputs,
            seconds: self.seconds,
        }
    }
}

/// The bytes of `input` that `range` (clipped to its length) selects.
fn clip(input: &Prepared, range: Option<(u64, u64)>) -> std::ops::Range<u64> {
    let len = input.source.len() as u64;
    range.map_or(0..len, |(s, e)| s.min(len)..e.min(len))
}

/// Scans one input (or its range) and describes it.
fn scan_one(
    cfg: &ScanConfig,
    input: &Prepared,
    pipeline: &Tokenize,
    filters: usize,
    sink: &dyn scan::Sink,
    progress: &Progress,
) -> anyhow::Result<PartialInput> {
    let context = || format!("scanning {}", input.source.path.display());
    let body_lines = input.layout.dialect.body_lines;
    let Some(r) = cfg.range.map(|r| clip(input, Some(r))) else {
        let (sha, tally) = rayon::join(
            || sha256(&input.source),
            || scan::run_input(input, pipeline, filters, sink, &progress.tracker(&input.source)),
        );
        let tally = tally.with_context(context)?;
        // Streamed inputs are hashed over their raw bytes while read; this also fails if the
        // stream broke off or the file shrank during the scan.
        let sha = input.source.finish()?.unwrap_or(sha);
        let (range_records, range_lines) = (tally.records, 0);
        let input = describe(input, sha, &tally, &cfg.overrides);
        return Ok(PartialInput {
            input,
            range: None,
            body_lines,
            range_records,
            range_lines,
            tally,
        });
    };
    let target = scan::chunk_target((r.end - r.start) as usize);
    let (sha, scanned) = rayon::join(
        || sha256_of(&input.source, r.start as usize..r.end as usize),
        || {
            scan::run_input_range(
                input,
                pipeline,
                filters,
                sink,
                &progress.tracker(&input.source),
                r.clone(),
                target,
            )
        },
    );
    let s = scanned.with_context(context)?;
    Ok(PartialInput {
        input: describe(input, sha, &s.tally, &cfg.overrides),
        range: Some(ByteRange { start: r.start, end: r.end }),
        body_lines,
        range_records: s.counts.records,
        range_lines: s.counts.lines,
        tally: s.tally,
    })
}

/// Runs the scan described by `cfg`: per input, its descriptor and tally.
pub fn scan_inputs(cfg: &ScanConfig) -> anyhow::Result<Scanned> {
    let (filters, mode) = crate::scan::mode::open_for_scan(
        &cfg.filters,
        cfg.key_file.as_deref(),
        cfg.key_server.as_ref(),
        cfg.quiet,
    )?;
    let labels: Vec<String> = filters
        .iter()
        .map(|f| match f.header.label.as_str() {
            "" => f.path.display().to_string(),
            l => l.to_string(),
        })
        .collect();
    let mut emitted = Vec::new();
    let mut seen = Vec::new();
    let mut inputs = Vec::new();
    for path in &cfg.dumps {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if path.as_os_str() != "-" && seen.contains(&canonical) {
            if !cfg.quiet {
                eprintln!("leakmatch: warning: {} given twice; scanned once", path.display());
            }
            continue;
        }
        seen.push(canonical);
        crate::scan::mode::check_rereadable(&mode, path)?;
        let mut input = Prepared::open_as(path, cfg.mmap, cfg.format, &cfg.overrides)?;
        if let Some(why) = cfg.range.and(input.source.range_refusal()) {
            return Err(UsageError(format!(
                "{}: --range cannot cut this input: {why}; scan it whole",
                path.display()
            ))
            .into());
        }
        input.layout.mapping.categories = crate::dump::categories::category_columns(&input.layout);
        inputs.push(input);
    }
    let total = match cfg.range {
        Some(_) => inputs.iter().map(|i| clip(i, cfg.range)).map(|r| Some(r.end - r.start)).sum(),
        None => inputs.iter().map(|i| i.source.expected_len()).sum::<Option<u64>>(),
    };
    let progress = Progress::new(total, cfg.quiet, "scan");
    let mut results = Vec::new();
    for input in &inputs {
        let kinds = scan::probe_kinds(&filters, &input.layout.mapping.fields);
        let source = mode.source(&kinds, |collect| first_pass(cfg, &input.source.path, collect))?;
        let pipeline = Tokenize::new(source, &kinds);
        let prober = Prober::new(&filters)
            .collect_matches(cfg.emit_matches.is_some())
            .exact_distinct(cfg.exact_distinct);
        let mut scanned = scan_one(cfg, input, &pipeline, filters.len(), &prober, &progress)?;
        crate::scan::mode::check_complete(pipeline.source(), &input.source.path)?;
        let matches = std::mem::take(&mut scanned.tally.matches);
        let name = input.source.path.display().to_string();
        crate::report::matches::write_matches(&mut emitted, &name, &matches, &labels)?;
        results.push(scanned);
    }
    if let Some(path) = &cfg.emit_matches {
        output::write_bytes(path, &output::refs(&cfg.inputs()), &emitted)?;
    }
    let rows = results.iter().map(|r| r.tally.records).sum();
    // Raw bytes read (of a stream: all of it, compressed bytes for gzip/zstd), or of a range.
    let bytes = match cfg.range {
        Some(_) => results.iter().filter_map(|r| r.range).map(|r| r.end - r.start).sum(),
        None => inputs.iter().map(|i| i.source.len() as u64).sum(),
    };
    let seconds = progress.finish("scanned", bytes, rows);
    if let (Some(why), false) = (crate::sketch::spill_failure(), cfg.quiet) {
        eprintln!("leakmatch: warning: {why}");
    }
    let filters = filters.iter().map(FilterDesc::of).collect();
    Ok(Scanned { key_id: hex::encode(mode.key_id()), filters, inputs: results, seconds })
}

/// The first of the two passes over an input in `--key-server` mode: the same records as
/// the scan (the same range), read by a pipeline that only collects values.
fn first_pass(cfg: &ScanConfig, path: &Path, collect: &Tokenize) -> anyhow::Result<()> {
    let input = Prepared::open_as(path, cfg.mmap, cfg.format, &cfg.overrides)?;
    let none = scan::Discard;
    match cfg.range.map(|r| clip(&input, Some(r))) {
        None => scan::run_input(&input, collect, 0, &none, &|_| {}).map(drop),
        Some(r) => {
            let target = scan::chunk_target((r.end - r.start) as usize);
            scan::run_input_range(&input, collect, 0, &none, &|_| {}, r, target).map(drop)
        }
    }
    .with_context(|| format!("reading {}", path.display()))
}

/// The header of a mapped column, if it may be shown: a CSV header cell only when it is a
/// recognised synonym, since a data row mistaken for a header must not reach the report; an
/// SQL column name (a dump's schema may be made of data too) when it is a recognised synonym
/// or a `--map` named it by name (not by number); a JSON path only when `--map` named it or every segment is a recognised synonym,
/// since object keys are data (`{"<an e-mail>": {"phone": ...}}`). A column not shown is
/// reported by its number alone.
fn shown_header(
    input: &Prepared,
    r: &crate::dump::ColumnReason,
    overrides: &[crate::dump::ColumnOverride],
) -> Option<String> {
    use crate::dump::{columns::field_for_header, ColumnRef, Format, Why};
    let header = r.header.clone()?;
    let named =
        || overrides.iter().any(|o| o.field == r.field && matches!(o.column, ColumnRef::Name(_)));
    let shown = match input.layout.format {
        Format::Delimited => field_for_header(&header).is_some(),
        Format::Sql => field_for_header(&header).is_some() || (r.why == Why::Override && named()),
        Format::JsonLines => {
            r.why == Why::Override || header.split('.').all(|s| field_for_header(s).is_some())
        }
        Format::Combo => true,
    };
    shown.then_some(header)
}

fn describe(
    input: &Prepared,
    sha256: String,
    tally: &Tally,
    overrides: &[crate::dump::ColumnOverride],
) -> InputReport {
    let d = &input.layout.dialect;
    InputReport {
        path: input.source.path.display().to_string(),
        bytes: input.source.len() as u64,
        sha256,
        format: match input.source.packing() {
            crate::dump::stream::Packing::Plain => input.layout.format.name().to_string(),
            p => format!("{} ({})", input.layout.format.name(), p.name()),
        },
        delimiter: match d.delimiter {
            b'\t' => "\\t".to_string(),
            c => (c as char).to_string(),
        },
        header: d.has_header,
        encoding: match input.source.utf16() {
            Some(e) => e.name().to_ascii_lowercase(),
            None => d.encoding.name().to_string(),
        },
        records: tally.records,
        columns: input
            .layout
            .mapping
            .reasons
            .iter()
            .map(|r| ColumnUse {
                field: r.field,
                column: r.column + 1,
                header: shown_header(input, r, overrides),
                why: r.why.to_string(),
            })
            .collect(),
        categories: crate::dump::categories::categories(&input.layout),
        coverage: None,
    }
}
