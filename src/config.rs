//! Validated configuration: what the command line asked for, checked once, in plain types.
//! Library code takes these; it never sees clap.

use std::path::{Path, PathBuf};

use crate::cli::{self, CliCommand};
use crate::dump::ColumnOverride;
use crate::filter::Role;
use crate::ident::{self, Kind};
use crate::output;
use crate::synth::SynthConfig;

use crate::error::UsageError;

/// One validated command.
#[derive(Debug)]
pub enum Command {
    Keygen {
        out: PathBuf,
        quiet: bool,
    },
    Build(BuildConfig),
    Inspect(InspectConfig),
    Scan(ScanConfig),
    /// `force`: replace generated files already in `out_dir`.
    Generate {
        out_dir: PathBuf,
        synth: SynthConfig,
        force: bool,
        quiet: bool,
    },
    Demo {
        dir: PathBuf,
        json: bool,
        quiet: bool,
    },
    Bench(BenchConfig),
    Merge(MergeConfig),
    Plan {
        shards: u64,
        dump: PathBuf,
    },
    Compare(CompareConfig),
    Union {
        key_file: Option<PathBuf>,
        out: PathBuf,
        filters: Vec<PathBuf>,
        quiet: bool,
    },
    /// A shell completion script for the named shell.
    Completions {
        shell: String,
    },
    /// The manual page, of one command when named.
    Man {
        command: Option<String>,
    },
    KeyServer(KeyServerConfig),
}

/// `key-server`: the key file and the service's settings.
#[derive(Debug)]
pub struct KeyServerConfig {
    pub key_file: Option<PathBuf>,
    pub server: crate::oprf::server::ServerConfig,
}

fn key_service(a: cli::KeyServiceArgs) -> Option<crate::scan::mode::KeyService> {
    a.key_server
        .map(|url| crate::scan::mode::KeyService { url, token_file: a.key_server_token_file })
}

/// Most shards `plan` splits a dump into.
pub const MAX_SHARDS: u64 = 100_000;
/// Most worker threads `scan -j` accepts.
pub const MAX_THREADS: usize = 4096;

#[derive(Debug)]
pub struct MergeConfig {
    pub report: ReportOptions,
    pub quiet: bool,
    /// `--allow-partial`: merge a shard set that leaves bytes unread.
    pub allow_partial: bool,
    pub partials: Vec<PathBuf>,
}

#[derive(Debug)]
pub struct CompareConfig {
    pub json: bool,
    /// Simulated filter pairs for the interval, at least 2.
    pub simulations: usize,
    pub seed: u64,
    pub a: PathBuf,
    pub b: PathBuf,
}

/// Checks a shard id: 1 to 128 letters, digits or `._:-` (it is written to partials and
/// errors, so it must not be able to carry data).
pub fn check_shard_id(id: &str) -> Result<(), UsageError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(usage("--shard-id: 1 to 128 letters, digits or . _ : -"))
    }
}

/// Parses `START..END` (byte offsets, START <= END).
pub fn parse_range(s: &str) -> Result<(u64, u64), UsageError> {
    let bad = || usage(format!("--range: expected START..END (byte offsets), got '{s}'"));
    let (a, b) = s.split_once("..").ok_or_else(bad)?;
    let (a, b) =
        (a.trim().parse::<u64>().map_err(|_| bad())?, b.trim().parse::<u64>().map_err(|_| bad())?);
    if a > b {
        return Err(bad());
    }
    Ok((a, b))
}

#[derive(Debug)]
pub struct BuildConfig {
    /// Key file; `None` means `$LEAKMATCH_KEY_FILE`.
    pub key_file: Option<PathBuf>,
    pub out: PathBuf,
    /// Requested kinds; `None`: every default kind the inputs provide.
    pub kinds: Option<Vec<Kind>>,
    pub overrides: Vec<ColumnOverride>,
    /// Target false-positive rate per kind, in (0, 0.5).
    pub fpr: f64,
    /// Expected customers; `None`: count rows first.
    pub expected: Option<u64>,
    pub label: String,
    pub role: Role,
    /// Replace `out` if it exists.
    pub force: bool,
    /// `YYYY-MM-DD`.
    pub snapshot_date: Option<String>,
    pub mmap: bool,
    pub quiet: bool,
    pub inputs: Vec<PathBuf>,
    /// Copy kinds and geometry from this filter (`--like`).
    pub like: Option<PathBuf>,
    /// `--format`; `None` detects it from the content.
    pub format: Option<crate::dump::Format>,
    /// `--oprf`: OPRF tokens evaluated locally with the key's OPRF key.
    pub oprf: bool,
    /// `--key-server`: OPRF tokens through the key service (no key here).
    pub key_server: Option<crate::scan::mode::KeyService>,
    /// `--birth-year-min-count`: smallest birth-year bucket published.
    pub birth_min_count: u64,
    /// `--birth-year-noise ε`: discrete Laplace noise on the histogram (ε-DP), if given.
    pub birth_noise: Option<f64>,
}

#[derive(Debug)]
pub struct InspectConfig {
    pub key_file: Option<PathBuf>,
    pub json: bool,
    pub filter: PathBuf,
}

/// How a report is presented (`scan`, `merge`): [`cli::ReportArgs`], checked.
#[derive(Debug, Default)]
pub struct ReportOptions {
    /// `--json`: JSON on stdout instead of text.
    pub json: bool,
    /// `--html FILE`: also an HTML page.
    pub html: Option<PathBuf>,
    /// `--claimed-size N`.
    pub claimed_size: Option<u64>,
    /// `--alert-above RATE`: threshold on the lower bound of the matched-row rate, in [0, 1].
    pub alert_above: Option<f64>,
}

impl ReportOptions {
    fn from_cli(a: cli::ReportArgs) -> Result<ReportOptions, UsageError> {
        Ok(ReportOptions {
            json: a.json,
            html: a.html,
            claimed_size: a.claimed_size,
            alert_above: a.alert_above.map(|r| share("--alert-above", r)).transpose()?,
        })
    }
}

#[derive(Debug)]
pub struct ScanConfig {
    pub key_file: Option<PathBuf>,
    pub filters: Vec<PathBuf>,
    pub overrides: Vec<ColumnOverride>,
    pub report: ReportOptions,
    pub mmap: bool,
    /// `--format`; `None` detects it from the content.
    pub format: Option<crate::dump::Format>,
    pub threads: Option<usize>,
    pub quiet: bool,
    /// Benchmark baseline: parse only (no key, no filters needed).
    pub parse_only: bool,
    /// `--emit-matches`: where to write matching records' positions (JSON lines).
    pub emit_matches: Option<PathBuf>,
    pub dumps: Vec<PathBuf>,
    /// `--shard-id` and `--partial`: write a partial result instead of the report.
    pub shard: Option<(String, PathBuf)>,
    /// `--range START..END`: only records starting inside these bytes of the one dump.
    pub range: Option<(u64, u64)>,
    /// `--key-server`: OPRF tokens through the key service (no key here).
    pub key_server: Option<crate::scan::mode::KeyService>,
    /// `--exact-distinct N`: distinct matching tokens counted exactly up to N per filter and
    /// kind, a HyperLogLog past it ([`crate::sketch`]); at least 1.
    pub exact_distinct: u64,
}

#[derive(Debug)]
pub struct BenchConfig {
    pub quiet: bool,
    pub dir: PathBuf,
    pub customers: u64,
    pub leaks: Vec<u64>,
    pub json: bool,
    /// Also run the same jobs in DuckDB and measure the floor of a KVNR scan.
    pub against_duckdb: bool,
}

fn usage(msg: impl Into<String>) -> UsageError {
    UsageError(msg.into())
}

fn overrides(maps: &[String]) -> Result<Vec<ColumnOverride>, UsageError> {
    maps.iter()
        .map(|m| m.parse::<ColumnOverride>().map_err(|e| usage(format!("--map {m}: {e}"))))
        .collect()
}

fn share(name: &str, v: f64) -> Result<f64, UsageError> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(usage(format!("{name} must be between 0 and 1, got {v}")))
    }
}

/// Checks a `YYYY-MM-DD` date.
pub fn check_date(s: &str) -> Result<(), UsageError> {
    let mut out = Vec::new();
    let ok = s.len() == 10
        && s.as_bytes().get(4) == Some(&b'-')
        && ident::date::normalize(s, &mut out) == ident::Outcome::Valid
        && out == s.as_bytes();
    if ok {
        Ok(())
    } else {
        Err(usage(format!("--snapshot-date: expected a date YYYY-MM-DD, got '{s}'")))
    }
}

impl Command {
    /// Validates parsed arguments.
    pub fn from_cli(cli: cli::Cli) -> Result<Command, UsageError> {
        if cli.max_filter_gib == 0 {
            return Err(usage("--max-filter-gib must be at least 1"));
        }
        // Process-wide: every filter loader's default (`filter::OpenOptions::default`).
        crate::filter::set_max_filter_len(cli.max_filter_gib.saturating_mul(1 << 30));
        let quiet = cli.quiet;
        Ok(match cli.command {
            CliCommand::Keygen { out } => Command::Keygen { out, quiet },
            CliCommand::Completions { shell } => Command::Completions { shell },
            CliCommand::Man { command } => Command::Man { command },
            CliCommand::Build(a) => {
                if !(a.fpr > 0.0 && a.fpr < 0.5) {
                    return Err(usage(format!("--fpr must be in (0, 0.5), got {}", a.fpr)));
                }
                if let Some(d) = &a.snapshot_date {
                    check_date(d)?;
                }
                if a.birth_year_noise.is_some_and(|e| !(e > 0.0 && e <= 10.0)) {
                    return Err(usage("--birth-year-noise must be in (0, 10]"));
                }
                if a.like.is_some() && (a.kinds.is_some() || a.expected.is_some()) {
                    return Err(usage(
                        "--like copies kinds and geometry: leave out --kinds and --expected",
                    ));
                }
                let kinds =
                    a.kinds.as_deref().map(ident::parse_kinds).transpose().map_err(usage)?;
                Command::Build(BuildConfig {
                    key_file: a.key.key_file,
                    out: a.out,
                    kinds,
                    overrides: overrides(&a.map)?,
                    fpr: a.fpr,
                    expected: a.expected,
                    label: a.label,
                    role: Role::from_name(&a.role).ok_or_else(|| usage("unknown role"))?,
                    force: a.force,
                    snapshot_date: a.snapshot_date,
                    mmap: !a.no_mmap,
                    quiet,
                    inputs: a.inputs,
                    like: a.like,
                    birth_min_count: a.birth_year_min_count,
                    birth_noise: a.birth_year_noise,
                    format: crate::dump::Format::from_name(&a.format).map_err(usage)?,
                    oprf: a.oprf,
                    key_server: key_service(a.service),
                })
            }
            CliCommand::Inspect(a) => Command::Inspect(InspectConfig {
                key_file: a.key_file,
                json: a.json,
                filter: a.filter,
            }),
            CliCommand::Scan(a) => {
                if let Some(id) = &a.shard_id {
                    check_shard_id(id)?;
                }
                if a.threads.is_some_and(|n| n == 0 || n > MAX_THREADS) {
                    return Err(usage(format!(
                        "-j/--threads must be between 1 and {MAX_THREADS} (leave it out to use all cores)"
                    )));
                }
                let range = a.range.as_deref().map(parse_range).transpose()?;
                if range.is_some() && a.dumps.len() != 1 {
                    return Err(usage("--range needs exactly one dump"));
                }
                let sharded = range.is_some() || a.shard_id.is_some();
                if sharded && (a.emit_matches.is_some() || a.report.html.is_some()) {
                    return Err(usage(
                        "--emit-matches and --html belong to a whole scan, not to --range or \
                         --shard-id",
                    ));
                }
                Command::Scan(ScanConfig {
                    key_file: a.key.key_file,
                    filters: a.filters,
                    overrides: overrides(&a.map)?,
                    report: ReportOptions::from_cli(a.report)?,
                    mmap: !a.no_mmap,
                    format: crate::dump::Format::from_name(&a.format).map_err(usage)?,
                    threads: a.threads,
                    quiet,
                    parse_only: a.parse_only,
                    emit_matches: a.emit_matches,
                    dumps: a.dumps,
                    shard: a.shard_id.zip(a.partial),
                    range,
                    key_server: key_service(a.service),
                    exact_distinct: a.exact_distinct.max(1),
                })
            }
            CliCommand::Merge(a) => Command::Merge(MergeConfig {
                report: ReportOptions::from_cli(a.report)?,
                quiet,
                allow_partial: a.allow_partial,
                partials: a.partials,
            }),
            CliCommand::Plan(a) => {
                if a.shards == 0 || a.shards > MAX_SHARDS {
                    return Err(usage(format!("--shards must be between 1 and {MAX_SHARDS}")));
                }
                Command::Plan { shards: a.shards, dump: a.dump }
            }
            CliCommand::Compare(a) => Command::Compare(CompareConfig {
                json: a.json,
                simulations: a.simulations.max(2),
                seed: a.seed,
                a: a.a,
                b: a.b,
            }),
            CliCommand::Union(a) => {
                Command::Union { key_file: a.key.key_file, out: a.out, filters: a.filters, quiet }
            }
            CliCommand::Generate(a) => {
                let synth = SynthConfig {
                    customers: a.customers,
                    leak: a.leak,
                    overlap: share("--overlap", a.overlap)?,
                    fabricated: share("--fabricated", a.fabricated)?,
                    recombined: share("--recombined", a.recombined)?,
                    other_population: share(
                        "--overlap + --fabricated + --recombined",
                        1.0 - a.overlap - a.fabricated - a.recombined,
                    )?,
                    seed: a.seed,
                    snapshots: a.snapshots,
                    canaries: a.canaries,
                };
                Command::Generate { out_dir: a.out_dir, synth, force: a.force, quiet }
            }
            CliCommand::KeyServer(a) => {
                let listen = a.listen.parse().map_err(|_| {
                    usage(format!(
                        "--listen: expected HOST:PORT (e.g. 127.0.0.1:8631), got '{}'",
                        a.listen
                    ))
                })?;
                if a.budget_window == 0 || a.max_batch == 0 {
                    return Err(usage("--budget-window and --max-batch must be at least 1"));
                }
                Command::KeyServer(KeyServerConfig {
                    key_file: a.key.key_file,
                    server: crate::oprf::server::ServerConfig {
                        listen,
                        clients: a.clients,
                        budget: a.budget,
                        window: std::time::Duration::from_secs(a.budget_window),
                        max_batch: a.max_batch.min(1 << 16),
                        audit_log: a.audit_log,
                        stop_after: a.stop_after.map(std::time::Duration::from_secs),
                    },
                })
            }
            CliCommand::Demo(a) => Command::Demo { dir: a.dir, json: a.json, quiet },
            CliCommand::Bench(a) => {
                let leaks = a
                    .leaks
                    .split(',')
                    .map(|s| {
                        s.trim()
                            .parse::<u64>()
                            .map_err(|_| usage(format!("--leaks: '{s}' is not a count")))
                    })
                    .collect::<Result<_, _>>()?;
                Command::Bench(BenchConfig {
                    quiet,
                    dir: a.dir,
                    customers: a.customers,
                    leaks,
                    json: a.json,
                    against_duckdb: a.against_duckdb,
                })
            }
        })
    }
}

/// The key file a command reads: `--key-file` or `$LEAKMATCH_KEY_FILE`.
pub fn key_path(key_file: Option<&Path>) -> Option<PathBuf> {
    key_file
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os(crate::token::KEY_FILE_ENV).map(PathBuf::from))
}

/// The files `scan` reads (key, filters, dumps) and those it writes (`--html`,
/// `--emit-matches`, `--partial`).
impl ScanConfig {
    pub fn check_outputs(&self) -> Result<(), output::OutputError> {
        let key = key_path(self.key_file.as_deref());
        let mut inputs: Vec<&Path> =
            self.filters.iter().chain(&self.dumps).map(|p| p.as_path()).collect();
        inputs.extend(key.as_deref());
        let partial =
            self.shard.as_ref().map(|(_, p)| p.as_path()).filter(|p| p.as_os_str() != "-");
        let outputs: Vec<&Path> = self
            .report
            .html
            .iter()
            .chain(&self.emit_matches)
            .map(|p| p.as_path())
            .chain(partial)
            .collect();
        output::check_all(&outputs, &inputs)
    }

    /// The inputs, for [`output::write()`].
    pub fn inputs(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.filters.iter().chain(&self.dumps).cloned().collect();
        v.extend(key_path(self.key_file.as_deref()));
        v
    }
}

/// `build` reads its key, its inputs and `--like`; writes `--out`.
impl BuildConfig {
    pub fn check_outputs(&self) -> Result<(), output::OutputError> {
        output::check(&self.out, &output::refs(&self.inputs()))
    }

    pub fn inputs(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.inputs.iter().chain(&self.like).cloned().collect();
        v.extend(key_path(self.key_file.as_deref()));
        v
    }
}

/// `merge` reads partials; writes `--html`.
impl MergeConfig {
    pub fn check_outputs(&self) -> Result<(), output::OutputError> {
        output::check_all(
            &self.report.html.iter().map(|p| p.as_path()).collect::<Vec<_>>(),
            &output::refs(&self.partials),
        )
    }
}
