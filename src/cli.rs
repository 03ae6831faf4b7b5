//! The command line, declared with clap's derive API. Nothing outside this module imports clap:
//! [`Cli::into_command`] turns the parsed arguments into a validated [`crate::config::Command`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Check a leaked data dump against keyed Bloom filters of a customer base, without
/// spreading the personal data.
#[derive(Debug, Parser)]
#[command(name = "leakmatch", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: CliCommand,
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
    /// kvnr,email,phone,name_dob].
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
    /// Expected number of customers (sizes the filter); default: rows counted in a first pass.
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
    /// Print nothing on stderr but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Customer CSV files.
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
    /// Print one JSON object (schema in `src/report/json.rs`) instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// The dump is a sample of a claimed full set of N records: extrapolate to N.
    #[arg(long, value_name = "N")]
    pub claimed_size: Option<u64>,
    /// Exit with code 3 when the lower bound of the estimated matched-row rate exceeds RATE (0..1).
    #[arg(long, value_name = "RATE")]
    pub alert_above: Option<f64>,
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
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Skip verifying filter checksums on load (faster for huge filters; not recommended).
    #[arg(long)]
    pub no_verify: bool,
    /// No progress bar and no throughput line on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Benchmark baseline: read, chunk, parse and decode only; no tokens, no probes, no report.
    #[arg(long, hide = true)]
    pub parse_only: bool,
    /// Leaked dump files (`-` for stdin).
    #[arg(required = true, value_name = "DUMP")]
    pub dumps: Vec<PathBuf>,
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
}
