//! Partial results of shards: what `scan --shard-id ID --partial OUT.json` writes and `merge`
//! combines into the report of one scan over all shards.
//!
//! A partial is one versioned JSON object ([`SCHEMA_VERSION`], `"format": "leakmatch-partial"`):
//! the shard id, the key id, the tool version, the filters' [`FilterDesc`]s (header fields and
//! geometry, no bits) and per input its descriptor, its byte range and its merged [`Tally`]
//! (counts, first positions, and the distinct-token sketches: keyed tokens' bits, never a
//! value). Tallies merge exactly ([`Tally::merge`]), so the merged counts and estimates equal
//! those of one scan; the distinct sets are exact up to the scan's `--exact-distinct` bound
//! (merged by set union, so the merged distinct counts equal one scan's exactly) and a
//! HyperLogLog merged by register maximum above (equal to the sketch of one scan). The file
//! is created with mode 0600 (a temporary file renamed into place): it holds keyed tokens'
//! bits, for the key holder's eyes only.
//!
//! Merging ([`merge`]) refuses partials of other tool or schema versions, other keys or other
//! filters, naming the file; counts a shard id seen twice once (a retried task) unless the two
//! partials differ; refuses shards whose ranges of one input overlap. Positions of range shards
//! count records and lines from the range's start; the merge shifts them by the records and
//! lines of the earlier ranges of the same input, so they are file-wide when the ranges cover
//! the file (a gap is reported as a warning).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::tally::ByteRange;
use crate::tally::Tally;
use crate::tally::{FilterDesc, InputReport};

mod check;
pub use check::MAX_PARTIAL_LEN;

/// Version of the partial format. Bumped on any incompatible change (2: distinct sets carry
/// their bound and insert count, and hold exact sets up to `scan --exact-distinct`).
pub const SCHEMA_VERSION: u32 = 2;
/// The value of the `format` field, telling a partial from other JSON.
pub const FORMAT: &str = "leakmatch-partial";

/// The result of one shard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    /// Always [`FORMAT`]: tells a partial from other JSON.
    pub format: String,
    /// [`SCHEMA_VERSION`] of the writer; `merge` refuses other versions.
    pub schema_version: u32,
    /// Version of the leakmatch that wrote it; `merge` refuses other versions.
    pub tool_version: String,
    /// Names the shard; a shard id seen twice by `merge` is counted once.
    pub shard_id: String,
    /// Hex key id of the key the shard scanned with.
    pub key_id: String,
    /// The filters scanned against, in order (header fields and geometry, no bits).
    pub filters: Vec<FilterDesc>,
    /// The inputs the shard scanned, in order.
    pub inputs: Vec<PartialInput>,
    /// Wall time of the shard's scan (not compared between retries).
    pub seconds: f64,
}

/// One input (or one byte range of it) scanned by a shard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartialInput {
    /// As in a report; `records` counts this shard's records, and for a range shard `sha256`
    /// is the SHA-256 of the range's bytes.
    pub input: InputReport,
    /// The byte range scanned (records starting inside it); `None`: the whole input, with
    /// file-wide positions.
    pub range: Option<ByteRange>,
    /// Lines before the body (the header).
    pub body_lines: u64,
    /// Records and lines of the records read (range shards).
    pub range_records: u64,
    /// Lines of the records read (range shards).
    pub range_lines: u64,
    /// Counts, first positions and distinct-token sketches of this input (or range).
    pub tally: Tally,
}

/// The two fields a partial of another format or version is recognised by; every other value
/// is skipped.
#[derive(Deserialize)]
struct Head {
    format: Option<serde_json::Value>,
    schema_version: Option<serde_json::Value>,
}

/// Why partials cannot be read or merged. Names the file; never a value of any input.
#[derive(Debug, thiserror::Error)]
pub enum PartialError {
    /// An I/O error reading the partial.
    #[error("{path}: {source}")]
    Io {
        /// The partial file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Not JSON, or not of a partial's shape.
    #[error("{path}: not a leakmatch partial result (JSON error at line {line}, column {column})")]
    Json {
        /// The partial file.
        path: PathBuf,
        /// Line of the JSON error (1-based).
        line: usize,
        /// Column of the JSON error (1-based).
        column: usize,
    },
    /// The `format` field is not [`FORMAT`].
    #[error("{path}: not a leakmatch partial result (format field is not '{FORMAT}')")]
    NotPartial {
        /// The file.
        path: PathBuf,
    },
    /// Written with another [`SCHEMA_VERSION`].
    #[error("{path}: partial schema version {found}, this tool reads version {SCHEMA_VERSION}")]
    Schema {
        /// The partial file.
        path: PathBuf,
        /// Its schema version.
        found: u32,
    },
    /// A field that must agree between partials (tool version, key id, ...) does not.
    #[error("{path}: {what} differs from {first} ({found} vs {expected}); partials of different {what}s cannot be merged")]
    Mismatch {
        /// The partial that differs.
        path: PathBuf,
        /// The first partial, which the others are compared with.
        first: PathBuf,
        /// Which field differs.
        what: &'static str,
        /// Its value in `path` (a version or key id, never an input's value).
        found: String,
        /// Its value in `first`.
        expected: String,
    },
    /// A filter differs from the first partial's filter at the same position.
    #[error("{path}: filter {index} ('{label}') differs from the one in {first} ({what}); partials of different filters cannot be merged")]
    Filter {
        /// The partial that differs.
        path: PathBuf,
        /// The first partial.
        first: PathBuf,
        /// Position of the filter (0-based).
        index: usize,
        /// The filter's label in `path`.
        label: String,
        /// Which part of the filter's descriptor differs.
        what: &'static str,
    },
    /// A shard id seen twice, with different content.
    #[error("{path}: shard id '{shard}' was already merged from {first} with different content")]
    ShardConflict {
        /// The later partial.
        path: PathBuf,
        /// The partial the shard id was first merged from.
        first: PathBuf,
        /// The shard id.
        shard: String,
    },
    /// Two shards' byte ranges of one input overlap.
    #[error("input {input}: bytes {start}..{end} are scanned by shard '{a}' and shard '{b}'")]
    Overlap {
        /// The input's name.
        input: String,
        /// Start of the overlap (byte offset).
        start: u64,
        /// End of the overlap (byte offset, exclusive).
        end: u64,
        /// One shard's id.
        a: String,
        /// The other shard's id.
        b: String,
    },
    /// Longer than [`MAX_PARTIAL_LEN`].
    #[error("{path}: more than {MAX_PARTIAL_LEN} bytes: not a partial result")]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// Fields contradict each other (counts, ranges, sketch sizes).
    #[error("{path}: inconsistent partial result: {what}")]
    Inconsistent {
        /// The partial file.
        path: PathBuf,
        /// What is inconsistent.
        what: String,
    },
    /// Adding its counts to the other partials' overflows.
    #[error("{path}: counts overflow when added to the other partials (tampered?)")]
    Overflow {
        /// The partial file.
        path: PathBuf,
    },
    /// No partial was given to merge.
    #[error("no partial result given")]
    Empty,
}

impl Partial {
    /// Serialises to one line of JSON (so that `RDD.pipe` sees one element per shard).
    pub fn to_line(&self) -> String {
        let mut s = serde_json::to_string(self).expect("a Partial always serialises");
        s.push('\n');
        s
    }

    /// Parses and checks the format and schema version; `path` names the source in errors.
    /// A JSON error reports its line and column only (its message may quote the input). The
    /// same decoding as [`Partial::read`], so that a file and its bytes are judged alike (a
    /// repeated key, for one, is refused by both).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Partial, PartialError> {
        let parsed = serde_json::from_slice::<Partial>(bytes);
        Partial::judge(path, parsed, || Ok(serde_json::from_slice::<Head>(bytes).ok()))
    }

    /// A decoded partial, or why not: a partial of another format or schema version (told
    /// by `head`, the light second pass over those two fields) or damaged JSON.
    fn judge(
        path: &Path,
        parsed: Result<Partial, serde_json::Error>,
        head: impl FnOnce() -> Result<Option<Head>, PartialError>,
    ) -> Result<Partial, PartialError> {
        let e = match parsed {
            Ok(p) if p.format == FORMAT && p.schema_version == SCHEMA_VERSION => return Ok(p),
            Ok(p) => {
                return Partial::check_head(path, Some(p.format), Some(p.schema_version.into()))
            }
            Err(e) if e.is_io() => {
                return Err(PartialError::Io { path: path.into(), source: e.into() })
            }
            Err(e) => e,
        };
        let json = PartialError::Json { path: path.into(), line: e.line(), column: e.column() };
        match head()? {
            Some(h) => {
                let format = h.format.as_ref().and_then(|f| f.as_str()).map(str::to_string);
                let found = h.schema_version.as_ref().and_then(|v| v.as_u64());
                match Partial::check_head(path, format, found) {
                    Err(PartialError::Schema { found, .. }) if found == SCHEMA_VERSION => Err(json),
                    other => other,
                }
            }
            None => Err(json),
        }
    }

    /// Reads a partial file of at most [`MAX_PARTIAL_LEN`] bytes, parsed as it is read (the
    /// file is never held in memory as text or as a JSON tree). A file that is not a partial
    /// is told apart from a damaged one by a second, light pass over its `format` and
    /// `schema_version` fields.
    pub fn read(path: &Path) -> Result<Partial, PartialError> {
        let io = |source| PartialError::Io { path: path.into(), source };
        let open = || -> Result<_, PartialError> {
            let f = std::fs::File::open(path).map_err(io)?;
            Ok(std::io::BufReader::new(std::io::Read::take(f, MAX_PARTIAL_LEN + 1)))
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.is_file() && meta.len() > MAX_PARTIAL_LEN {
            return Err(PartialError::TooLarge { path: path.into() });
        }
        let mut counted = Counted { inner: open()?, n: 0 };
        let parsed = serde_json::from_reader::<_, Partial>(&mut counted);
        if counted.n > MAX_PARTIAL_LEN {
            return Err(PartialError::TooLarge { path: path.into() });
        }
        // A damaged file is told from another format by a second pass over two fields (not
        // for FIFOs and devices, which cannot be read twice).
        Partial::judge(path, parsed, || {
            if !meta.is_file() {
                return Ok(None);
            }
            Ok(serde_json::from_reader::<_, Head>(open()?).ok())
        })
    }

    /// Refuses a partial whose `format` or `schema_version` is not this tool's (always an
    /// error: [`PartialError::Schema`] with this tool's version when both are right).
    fn check_head(
        path: &Path,
        format: Option<String>,
        found: Option<u64>,
    ) -> Result<Partial, PartialError> {
        if format.as_deref() != Some(FORMAT) {
            return Err(PartialError::NotPartial { path: path.into() });
        }
        let found = found.unwrap_or(0);
        Err(PartialError::Schema {
            path: path.into(),
            found: u32::try_from(found).unwrap_or(u32::MAX),
        })
    }

    /// Writes the partial to `path` through [`crate::output::write_bytes`] (atomic; a device
    /// or FIFO is written into, never replaced; none of `inputs` is overwritten), or to stdout
    /// for `-`.
    pub fn write(&self, path: &Path, inputs: &[&Path]) -> Result<(), crate::output::OutputError> {
        if path.as_os_str() == "-" {
            let mut out = std::io::stdout().lock();
            return out
                .write_all(self.to_line().as_bytes())
                .and_then(|()| out.flush())
                .map_err(|source| crate::output::OutputError::Io { path: path.into(), source });
        }
        crate::output::write_bytes(path, inputs, self.to_line().as_bytes())
    }

    /// The same shard result, ignoring wall time (a retried task's partial is equal).
    fn same_result(&self, o: &Partial) -> bool {
        let strip = |p: &Partial| Partial { seconds: 0.0, ..p.clone() };
        strip(self) == strip(o)
    }
}

/// Counts the bytes read through it (to tell a partial at the size bound from a longer one).
struct Counted<R> {
    inner: R,
    n: u64,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// Partials merged: ready for [`crate::report::Report::build`].
#[derive(Debug)]
pub struct Merged {
    /// Hex key id shared by all partials.
    pub key_id: String,
    /// The filters shared by all partials.
    pub filters: Vec<FilterDesc>,
    /// Per input (shards of one input merged): descriptor and tally.
    pub inputs: Vec<(InputReport, Tally)>,
    /// Sum of the shards' wall times.
    pub seconds: f64,
    /// Distinct shards merged, and repeated shard ids skipped.
    pub shards: usize,
    /// Repeated shard ids skipped (retried tasks with identical content).
    pub duplicates: usize,
    /// Gaps between the ranges of an input (positions after a gap are not file-wide): the
    /// shard set is incomplete; `merge` refuses it unless `--allow-partial`.
    pub warnings: Vec<String>,
}

/// Merges partial results (each with the path it was read from).
pub fn merge(parts: Vec<(PathBuf, Partial)>) -> Result<Merged, PartialError> {
    let mut by_id: BTreeMap<String, (PathBuf, Partial)> = BTreeMap::new();
    let mut duplicates = 0;
    let first = parts.first().ok_or(PartialError::Empty)?.clone();
    for (path, p) in parts {
        check::check(&path, &p)?;
        check_compatible(&first, (&path, &p))?;
        if let Some((seen, q)) = by_id.get(&p.shard_id) {
            if !q.same_result(&p) {
                let shard = p.shard_id.clone();
                return Err(PartialError::ShardConflict { path, first: seen.clone(), shard });
            }
            duplicates += 1;
            continue;
        }
        by_id.insert(p.shard_id.clone(), (path, p));
    }
    let shards = by_id.len();
    let seconds = by_id.values().map(|(_, p)| p.seconds).sum();
    let mut groups: Vec<(InputKey, Vec<(String, PartialInput)>)> = Vec::new();
    let mut paths: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (path, p) in by_id.into_values() {
        paths.insert(p.shard_id.clone(), path);
        for inp in p.inputs {
            let key = InputKey::of(&inp.input);
            match groups.iter_mut().find(|g| g.0 == key) {
                Some(g) => g.1.push((p.shard_id.clone(), inp)),
                None => groups.push((key, vec![(p.shard_id.clone(), inp)])),
            }
        }
    }
    let mut warnings = Vec::new();
    let inputs: Vec<(InputReport, Tally)> = groups
        .into_iter()
        .map(|(_, shards)| merge_input(shards, &paths, &mut warnings))
        .collect::<Result<_, _>>()?;
    // The report adds the inputs' tallies and lengths too: check that those sums fit.
    let mut all = Tally::new(first.1.filters.len());
    let mut bytes = 0u64;
    for (desc, t) in &inputs {
        let fits = bytes.checked_add(desc.bytes).map(|b| bytes = b).is_some();
        if !fits || check::checked_merge(&mut all, t).is_none() {
            return Err(PartialError::Overflow { path: first.0.clone() });
        }
    }
    let (_, f) = first;
    Ok(Merged {
        key_id: f.key_id,
        filters: f.filters,
        inputs,
        seconds,
        shards,
        duplicates,
        warnings,
    })
}

/// Refuses a partial of another tool version, key or filter set than `first`.
fn check_compatible(
    first: &(PathBuf, Partial),
    (path, p): (&Path, &Partial),
) -> Result<(), PartialError> {
    let (fpath, f) = first;
    let mismatch = |what, found: &str, expected: &str| PartialError::Mismatch {
        path: path.into(),
        first: fpath.clone(),
        what,
        found: found.to_string(),
        expected: expected.to_string(),
    };
    if p.tool_version != f.tool_version {
        return Err(mismatch("tool version", &p.tool_version, &f.tool_version));
    }
    if p.key_id != f.key_id {
        return Err(mismatch("key id", &p.key_id, &f.key_id));
    }
    if p.filters.len() != f.filters.len() {
        let (a, b) = (p.filters.len().to_string(), f.filters.len().to_string());
        return Err(mismatch("number of filter", &a, &b));
    }
    for (index, (a, b)) in p.filters.iter().zip(&f.filters).enumerate() {
        if let Some(what) = filter_difference(a, b) {
            let label = a.label.clone();
            return Err(PartialError::Filter {
                path: path.into(),
                first: fpath.clone(),
                index,
                label,
                what,
            });
        }
    }
    Ok(())
}

/// What makes two filter descriptions different filters (their paths may differ per machine).
pub fn filter_difference(a: &FilterDesc, b: &FilterDesc) -> Option<&'static str> {
    if a.key_id != b.key_id {
        Some("key id")
    } else if a
        .sections
        .iter()
        .map(|s| (&s.kind, s.k, s.blocks))
        .ne(b.sections.iter().map(|s| (&s.kind, s.k, s.blocks)))
    {
        Some("geometry")
    } else if a.label != b.label || a.role != b.role || a.snapshot_date != b.snapshot_date {
        Some("label, role or snapshot date")
    } else if a.created_unix != b.created_unix || a.sections != b.sections || a.meta != b.meta {
        Some("content")
    } else {
        None
    }
}

/// What identifies one input across shards.
#[derive(Debug, PartialEq, Eq)]
struct InputKey {
    path: String,
    bytes: u64,
    format: String,
    delimiter: String,
    encoding: String,
}

impl InputKey {
    fn of(i: &InputReport) -> InputKey {
        InputKey {
            path: i.path.clone(),
            bytes: i.bytes,
            format: i.format.clone(),
            delimiter: i.delimiter.clone(),
            encoding: i.encoding.clone(),
        }
    }
}

/// Merges the shards of one input: refuses overlapping ranges, shifts the positions of range
/// shards by the records and lines of the earlier ranges.
fn merge_input(
    mut shards: Vec<(String, PartialInput)>,
    paths: &BTreeMap<String, PathBuf>,
    warnings: &mut Vec<String>,
) -> Result<(InputReport, Tally), PartialError> {
    let Some(len) = shards.first().map(|s| s.1.input.bytes) else {
        return Err(PartialError::Empty);
    };
    let span = |i: &PartialInput| i.range.unwrap_or(ByteRange { start: 0, end: len });
    shards.sort_by_key(|(_, i)| span(i));
    let Some((_, first)) = shards.first() else {
        return Err(PartialError::Empty);
    };
    let (mut desc, filters, first_lines) =
        (first.input.clone(), first.tally.filters.len(), first.body_lines);
    let whole = shards.iter().find(|(_, i)| i.range.is_none()).map(|(_, i)| i.input.sha256.clone());
    desc.sha256 = whole.unwrap_or_default();
    let mut total = Tally::new(filters);
    let (mut records, mut lines) = (0, first_lines);
    let mut covered = 0u64;
    for (n, (id, inp)) in shards.iter().enumerate() {
        let r = span(inp);
        if n > 0 && r.start < covered && r.end > r.start {
            let prev = shards.iter().take(n).rev().find(|(_, i)| span(i).end > r.start);
            let a = prev.map_or_else(String::new, |p| p.0.clone());
            let end = covered.min(r.end);
            return Err(PartialError::Overlap {
                input: desc.path.clone(),
                start: r.start,
                end,
                a,
                b: id.clone(),
            });
        }
        if r.start > covered {
            warnings.push(format!(
                "input {}: bytes {covered}..{} are in no shard; positions after them count from the next shard",
                desc.path, r.start
            ));
        }
        let mut t = inp.tally.clone();
        if inp.range.is_some() {
            for p in t.first_malformed.iter_mut().flatten() {
                p.record += records;
                p.line += lines;
            }
            records += inp.range_records;
            lines += inp.range_lines;
        }
        if check::checked_merge(&mut total, &t).is_none() {
            let path = paths.get(id).cloned().unwrap_or_default();
            return Err(PartialError::Overflow { path });
        }
        covered = covered.max(r.end);
    }
    if covered < len {
        warnings.push(format!("input {}: bytes {covered}..{len} are in no shard", desc.path));
    }
    // Shards that cover the whole input give the report of one scan (no coverage note).
    let coverage = crate::tally::Coverage::of(shards.iter().map(|(_, i)| span(i)), len);
    desc.coverage = (!coverage.complete).then_some(coverage);
    desc.records = total.records;
    Ok((desc, total))
}

#[cfg(test)]
mod tests;
