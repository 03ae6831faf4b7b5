//! The command line, declared with clap's derive API. Nothing outside this module imports clap:
//! [`crate::config::Command::from_cli`] turns the parsed arguments into a validated [`crate::config::Command`].

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

/// Check a leaked data dump against keyed Bloom filters of a customer base, without
/// spreading the personal data.
#[derive(Debug, Parser)]
#[command(name = "leakmatch", version, about, max_term_width = 100)]
pub struct Cli {
    /// Print nothing on stderr but errors: no progress bar, throughput line, summary or
    /// warning (accepted by every command, before or after its name).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: CliCommand,
    /// Largest filter file loaded, in GiB (default 64). A larger one is refused before it is
    /// mapped or hashed, so that a crafted header cannot make leakmatch hash a terabyte.
    #[arg(long, global = true, value_name = "GIB", default_value_t = 64)]
    pub max_filter_gib: u64,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Create a new secret key file (32 random bytes, hex, mode 0600).
    Keygen {
        /// Where to write the key. Refuses to overwrite an existing file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Build a filter file from customer CSV files.
    Build(BuildArgs),
    /// Show a filter file's header and metadata (no key needed).
    Inspect(InspectArgs),
    /// Stream leaked dumps against filters and report the estimated true overlap.
    Scan(ScanArgs),
    /// Write a deterministic synthetic customer base, leak and truth file.
    Generate(GenerateArgs),
    /// Run the whole flow on synthetic data: generate, keygen, build, scan, compare with truth.
    Demo(DemoArgs),
    /// Measure end-to-end throughput, peak memory and accuracy on generated data.
    Bench(BenchArgs),
    /// Merge shards' partial results (`scan --partial`) into the report of one scan.
    Merge(MergeArgs),
    /// Print byte ranges that split a dump into shards for `scan --range`.
    Plan(PlanArgs),
    /// Estimate |A|, |B| and |A ∩ B| per kind from two filters' bits alone (no key needed).
    Compare(CompareArgs),
    /// OR filters of the same geometry and key into one (a customer base built on shards).
    Union(UnionArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    ///
    /// For example: `leakmatch completions bash > ~/.local/share/bash-completion/completions/leakmatch`.
    Completions {
        /// The shell.
        #[arg(value_parser = ["bash", "zsh", "fish", "elvish", "powershell"])]
        shell: String,
    },
    /// Print the manual page (roff) on stdout: `leakmatch man | man -l -`.
    Man {
        /// A command's own page (e.g. `scan`) instead of the overview.
        command: Option<String>,
    },
    /// Serve OPRF evaluations of blinded values (RFC 9497) under the key, to authenticated
    /// clients within a query budget: scans without handing out the key.
    KeyServer(KeyServerArgs),
}

/// Where OPRF tokens come from when the key stays with its owner.
#[derive(Debug, Args)]
pub struct KeyServiceArgs {
    /// Get OPRF tokens from this key service (`leakmatch key-server`, e.g. `https://keys.example`
    /// behind a TLS proxy) instead of a key.
    ///
    /// Each distinct normalised value of the input is blinded, evaluated by the service, and
    /// checked against the public key recorded in the filter (VOPRF proofs): the service learns
    /// nothing about the values and the scanner never holds the key. Every distinct value
    /// counts against the client's query budget. Each input is read twice (values, then
    /// tokens), so stdin and pipes cannot be used. Only for filters built with `--oprf`.
    #[arg(long, value_name = "URL")]
    pub key_server: Option<String>,
    /// File holding the bearer token for --key-server, mode 0600 (default:
    /// $LEAKMATCH_KEY_SERVER_TOKEN_FILE).
    #[arg(long, value_name = "FILE", requires = "key_server")]
    pub key_server_token_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeyServerArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// Clients file: one `NAME TOKEN` per line (TOKEN at least 16 characters, e.g.
    /// `openssl rand -hex 32`), mode 0600.
    #[arg(long, value_name = "FILE")]
    pub clients: PathBuf,
    /// Address to listen on. Plain HTTP: keep it on loopback and put a TLS reverse proxy in
    /// front for other hosts (README, "Key service"). Port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8631")]
    pub listen: String,
    /// Evaluations each client may request per window (--budget-window); the request that
    /// would exceed it is refused with HTTP 429.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub budget: u64,
    /// Length of a budget window in seconds (default: one day).
    #[arg(long, value_name = "SECS", default_value_t = 86_400)]
    pub budget_window: u64,
    /// Most blinded elements in one request (larger requests get HTTP 413).
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub max_batch: usize,
    /// Append the audit log (one JSON line per request: client, counts, never elements) to
    /// FILE, and restore the current window's budget use from it at start [default: stderr,
    /// and budgets start at zero].
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Stop by itself after SECS seconds (time-boxed engagements, tests).
    #[arg(long, value_name = "SECS")]
    pub stop_after: Option<u64>,
}

/// Where the key comes from.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Key file made by `keygen` (default: $LEAKMATCH_KEY_FILE). Must be readable by its owner
    /// only. The key is never accepted on the command line.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// The filter file to write (atomically: a failed build leaves no file).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Identifier kinds to build, comma-separated [default: every default kind the input has:
    /// kvnr,email,phone,name_dob,kvnr+name_dob,email+name_dob].
    ///
    /// The pair kinds (kvnr+name_dob, email+name_dob) tell whether a row's identifiers belong
    /// to one person: a filter without them cannot tell a genuine extract from a
    /// recombination of several leaks, and scans against it give no `genuine-extract` or
    /// `recombined` verdict. Each pair adds a section of about the size of a base kind's.
    #[arg(long, value_name = "LIST")]
    pub kinds: Option<String>,
    /// Assign a field to a column: FIELD=COLUMN, by header name or 1-based index
    /// (fields: kvnr, email, phone, last_name, first_name, full_name, birth_date, iban).
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub map: Vec<String>,
    /// Target false-positive rate per kind. The default keeps the expected number of false
    /// positives of a 330,000-row scan under one per kind.
    #[arg(long, value_name = "P", default_value_t = 1e-6)]
    pub fpr: f64,
    /// Expected number of customers (sizes the filter); default: the file length divided by
    /// the mean line length of a sample (lines counted for inputs under 64 MiB and streams).
    #[arg(long, value_name = "N")]
    pub expected: Option<u64>,
    /// A label stored in the header (e.g. the insurer's name). Not secret: do not put personal data here.
    #[arg(long, default_value = "")]
    pub label: String,
    /// What the filter holds.
    #[arg(long, default_value = "customers", value_parser = ["customers", "canary", "dump"])]
    pub role: String,
    /// Date of the customer-base snapshot (YYYY-MM-DD), for dating a leak.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub snapshot_date: Option<String>,
    /// Read input files instead of memory-mapping them.
    #[arg(long)]
    pub no_mmap: bool,
    /// Input format: auto (detected from the content), csv, jsonl, combo or sql.
    #[arg(long, default_value = "auto", value_name = "FORMAT")]
    pub format: String,
    /// Replace --out if it exists (without it, an existing file is refused).
    #[arg(long)]
    pub force: bool,
    /// Copy the geometry (per-kind k and blocks) and kinds of this filter, so that the new
    /// filter can be OR'ed with it (`union`) or compared with it (`compare`). Overrides
    /// --expected and --fpr.
    #[arg(long, value_name = "FILTER")]
    pub like: Option<PathBuf>,
    /// Build an OPRF filter (format version 2): tokens are the OPRF (RFC 9497) under the key's
    /// OPRF key, evaluated here, and the filter records the key service's public key.
    ///
    /// Such a filter is scanned through `leakmatch key-server` run with the same key file
    /// (`scan --key-server URL`), so that no scanner holds the key; about 10,000 times slower
    /// per value than keyed tokens (README, "Key service").
    #[arg(long, conflicts_with = "key_server")]
    pub oprf: bool,
    #[command(flatten)]
    pub service: KeyServiceArgs,
    /// Smallest birth-year bucket (5 years) published in the filter's metadata; smaller
    /// buckets are suppressed.
    #[arg(long, value_name = "N", default_value_t = crate::filter::BIRTH_MIN_COUNT)]
    pub birth_year_min_count: u64,
    /// Add ε-differentially-private noise to the birth-year histogram.
    ///
    /// Without it, two filters of snapshots that differ by one customer reveal that
    /// person's 5-year birth bucket to anyone holding both (no key needed), whatever
    /// --birth-year-min-count is. With ε (e.g. 1), each bucket count gets discrete Laplace
    /// noise of scale 1/ε: the histogram is then ε-DP towards adding or removing one
    /// customer, and k snapshots together are kε-DP. Smaller ε: more noise, less precise
    /// birth-year fit in scans.
    #[arg(long, value_name = "EPSILON")]
    pub birth_year_noise: Option<f64>,
    /// Customer CSV files (with --role dump: dumps in any format the scan reads).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Verify the filter's MAC with this key as well (optional; also $LEAKMATCH_KEY_FILE).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// The filter file.
    pub filter: PathBuf,
}

/// How `scan` and `merge` present their report.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Print one JSON object (schema in `schema/report.v2.schema.json`) instead of the text
    /// report.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML report (inline SVG, no scripts, no network) to FILE
    /// (written atomically).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The dump is a sample of a claimed full set of N records: extrapolate to N.
    #[arg(long, value_name = "N")]
    pub claimed_size: Option<u64>,
    /// Exit with code 3 when the lower bound of the estimated matched-row rate exceeds RATE (0..1).
    #[arg(long, value_name = "RATE")]
    pub alert_above: Option<f64>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// A filter file to probe (repeatable). Every filter must carry the key's key id.
    #[arg(long = "filter", required_unless_present = "parse_only", value_name = "FILE")]
    pub filters: Vec<PathBuf>,
    /// Assign a field to a column: FIELD=COLUMN, by header name or 1-based index.
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub map: Vec<String>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Read dumps with plain reads instead of memory maps.
    ///
    /// Memory maps are faster, but if another process truncates a mapped file during the
    /// scan, the operating system kills leakmatch with SIGBUS (no report is written). Use
    /// --no-mmap for files that may change while they are scanned (e.g. still downloading).
    #[arg(long)]
    pub no_mmap: bool,
    /// Input format: auto (detected from the content), csv, jsonl, combo or sql.
    #[arg(long, default_value = "auto", value_name = "FORMAT")]
    pub format: String,
    /// Worker threads, 1 to 4096 (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Write the positions of matching records to FILE (JSON lines; protect it like the dump).
    ///
    /// One JSON object per matching record, in file order: {"input", "record", "line",
    /// "byte", "filters": [{"filter", "kinds": [...]}]} (record and line 1-based, byte the
    /// 0-based offset of the record's first byte). No values are written, but the file is an
    /// index into the dump that says which rows belong to the customers: anyone holding both
    /// can extract the affected people's records. Store and delete it like the dump itself.
    /// Written atomically (temporary file, then rename). Not available with --range or
    /// --shard-id (positions belong to a whole scan).
    #[arg(long, value_name = "FILE")]
    pub emit_matches: Option<PathBuf>,
    /// Benchmark baseline: read, chunk, parse and decode only; no normalising, tokens, probes
    /// or report.
    #[arg(long, hide = true)]
    pub parse_only: bool,
    /// Leaked dump files (`-` for stdin).
    #[arg(required = true, value_name = "DUMP")]
    pub dumps: Vec<PathBuf>,
    /// Write this shard's partial result to FILE (`-`: stdout, one JSON line) instead of the
    /// report, for `leakmatch merge`. Needs --shard-id. Holds counts, positions and keyed
    /// tokens' sketches, never a value.
    #[arg(long, value_name = "FILE", requires = "shard_id")]
    pub partial: Option<PathBuf>,
    /// Names this shard in its partial result (letters, digits, `._:-`); `merge` counts a
    /// shard id seen twice once.
    #[arg(long, value_name = "ID", requires = "partial")]
    pub shard_id: Option<String>,
    /// Count distinct matching tokens (and so distinct affected people) exactly up to N per
    /// filter and kind; past N, a HyperLogLog estimate marked ≈ with its ±1.6 % error.
    ///
    /// Memory: at most 512 KiB of sorted tokens per set; the rest is spilled to an unnamed
    /// temporary file in $TMPDIR (8 bytes per distinct matching token, gone when leakmatch
    /// ends; kept in memory, 8–16 bytes per token, if it cannot be written). Past the bound
    /// each sketch takes 16 KiB. Partial
    /// results (--partial) carry the exact sets as JSON numbers (about 20 bytes per token).
    #[arg(long, value_name = "N", default_value_t = crate::sketch::DEFAULT_EXACT_LIMIT)]
    pub exact_distinct: u64,
    /// Scan only the records that start inside bytes START..END of the one dump given
    /// (`leakmatch plan` prints ranges; adjacent ranges read every record exactly once).
    #[arg(long, value_name = "START..END")]
    pub range: Option<String>,
    #[command(flatten)]
    pub service: KeyServiceArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    #[command(flatten)]
    pub report: ReportArgs,
    /// Merge even when the range shards leave bytes of an input unread (a lost shard).
    ///
    /// Without it, a shard set with gaps is refused (exit code 2), since its counts would be
    /// of part of the dump only. With it, the report states which bytes its counts cover.
    #[arg(long)]
    pub allow_partial: bool,
    /// Partial results written by `scan --shard-id ID --partial FILE`.
    #[arg(required = true, value_name = "PARTIAL")]
    pub partials: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Number of shards, 1 to 100,000 and at most one per byte of the dump.
    #[arg(long, value_name = "N")]
    pub shards: u64,
    /// The dump to split.
    #[arg(value_name = "DUMP")]
    pub dump: PathBuf,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Simulated filter pairs for the interval (more: steadier bounds, slower).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub simulations: usize,
    /// Seed of the simulation (the same seed gives the same interval).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The first filter (e.g. the customers').
    pub a: PathBuf,
    /// The second filter (e.g. the dump's, `build --role dump --like A`).
    pub b: PathBuf,
}

#[derive(Debug, Args)]
pub struct UnionArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// The filter file to write (atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Filters built with the same key and geometry (e.g. `build --like` or `--expected`).
    #[arg(required = true, num_args = 2.., value_name = "FILTER")]
    pub filters: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory for customers.csv, leak.csv and truth.json.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Number of customers.
    #[arg(long, default_value_t = 1_000_000)]
    pub customers: u64,
    /// Number of leak rows.
    #[arg(long, default_value_t = 330_000)]
    pub leak: u64,
    /// Share of leak rows that are real customers.
    #[arg(long, default_value_t = 0.6)]
    pub overlap: f64,
    /// Share of leak rows with fabricated identities.
    #[arg(long, default_value_t = 0.05)]
    pub fabricated: f64,
    /// Share of leak rows recombined from two customers.
    #[arg(long, default_value_t = 0.0)]
    pub recombined: f64,
    /// Random seed: the same seed gives the same files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Write N dated snapshots of the customer base (with churn) to snapshots/; the leak is
    /// taken from the middle one, which truth.json names.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub snapshots: u32,
    /// Write N planted canary customers to canaries.csv; most appear in the leak (truth.json
    /// counts the rows that hit them).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub canaries: u64,
    /// Replace generated files already in --out-dir (without it, they are refused).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Work folder (reused when it already holds the generated data).
    #[arg(long, value_name = "DIR", default_value = "target/leakmatch-demo")]
    pub dir: PathBuf,
    /// Print the JSON report instead of the text report.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Work folder for generated data (large: about 2.6 GB for 25M customers).
    #[arg(long, value_name = "DIR", default_value = "target/leakmatch-bench")]
    pub dir: PathBuf,
    /// Customers in the generated base.
    #[arg(long, default_value_t = 25_000_000)]
    pub customers: u64,
    /// Leak sizes to scan, comma-separated.
    #[arg(long, default_value = "330000,10000000")]
    pub leaks: String,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also run the same jobs in DuckDB (Python package `duckdb`, installed with pip into a
    /// venv in DIR when missing) and the floor of a KVNR scan, and print the ratios.
    #[arg(long)]
    pub against_duckdb: bool,
}

/// Writes the completion script for `shell` (a name accepted by `completions`).
pub fn write_completions(shell: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use clap_complete::Shell;
    let shell = match shell {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        "elvish" => Shell::Elvish,
        _ => Shell::PowerShell,
    };
    clap_complete::generate(shell, &mut Cli::command(), "leakmatch", out);
    Ok(())
}

/// Writes the manual page of leakmatch, or of one of its commands; `None` when there is no
/// such command.
pub fn write_man_page(
    command: Option<&str>,
    out: &mut dyn std::io::Write,
) -> Option<std::io::Result<()>> {
    let mut cmd = Cli::command();
    cmd.build();
    let page = match command {
        None => cmd,
        Some(name) => {
            let sub = cmd.find_subcommand(name)?.clone();
            return Some(
                clap_mangen::Man::new(sub.bin_name(format!("leakmatch {name}")))
                    .title(format!("leakmatch-{name}"))
                    .render(out),
            );
        }
    };
    Some(clap_mangen::Man::new(page).render(out))
}
