//! Parallel, deterministic writing of the files, and [`generate`].

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

use super::leak::{Plan, HEADER};
use super::perm::mix;
use super::population::{push_customer_row, Population};
use super::truth::{Builder, Tally};
use super::{
    SynthConfig, SynthError, Truth, CANARIES_FILE, CUSTOMERS_FILE, LEAK_FILE, SNAPSHOTS_DIR,
    TRUTH_FILE,
};

/// Rows per chunk: the unit of parallel work and of RNG seeding.
pub const CHUNK_ROWS: u64 = 16_384;
/// Chunks produced in parallel before they are written in order (bounds memory).
const WINDOW_CHUNKS: u64 = 64;
/// Output buffer size.
const WRITE_BUFFER: usize = 8 << 20;
/// RNG stream tag of the leak.
const LEAK_STREAM: u64 = 0x1ea4;

/// Produces `rows` rows in chunks in parallel, writing them to `w` in order and handing each
/// chunk's result to `fold` in order. `make(chunk, rows, buf)` appends the chunk's bytes.
/// While one window of chunks is written, the next one is computed on the rayon pool.
fn write_chunked<T, M, F>(rows: u64, w: &mut impl Write, make: M, mut fold: F) -> io::Result<()>
where
    T: Send,
    M: Fn(u64, std::ops::Range<u64>, &mut Vec<u8>) -> T + Sync,
    F: FnMut(T),
{
    let chunks = rows.div_ceil(CHUNK_ROWS);
    let window = |start: u64| -> Vec<(Vec<u8>, T)> {
        let end = (start + WINDOW_CHUNKS).min(chunks);
        (start..end)
            .into_par_iter()
            .map(|ch| {
                let range = ch * CHUNK_ROWS..((ch + 1) * CHUNK_ROWS).min(rows);
                let mut buf = Vec::with_capacity(CHUNK_ROWS as usize * 96);
                let t = make(ch, range, &mut buf);
                (buf, t)
            })
            .collect()
    };
    let mut current = window(0);
    let mut start = 0;
    while start < chunks {
        start += WINDOW_CHUNKS;
        let mut next = None;
        let written = rayon::in_place_scope(|s| {
            if start < chunks {
                s.spawn(|_| next = Some(window(start)));
            }
            current.drain(..).try_for_each(|(buf, t)| {
                fold(t);
                w.write_all(&buf)
            })
        });
        written?;
        current = next.unwrap_or_default();
    }
    Ok(())
}

fn writer_error(source: io::Error) -> SynthError {
    SynthError::Io { path: PathBuf::from("<writer>"), source }
}

/// Header of the customer files.
const CUSTOMER_HEADER: &[u8] = b"kvnr,last_name,first_name,birth_date,email,phone\n";

/// Writes `customers.csv` (header `kvnr,last_name,first_name,birth_date,email,phone`) to `w`:
/// the snapshot the leak is taken from. Returns the number of customers written.
pub fn write_customers(cfg: &SynthConfig, w: impl Write) -> Result<u64, SynthError> {
    write_snapshot(cfg, cfg.leak_snapshot(), w)
}

/// Writes snapshot `s` of the customer base (see [`SynthConfig::snapshots`]) to `w`.
pub fn write_snapshot(cfg: &SynthConfig, s: u32, mut w: impl Write) -> Result<u64, SynthError> {
    cfg.mix()?;
    let pop = Population::new(cfg.seed, cfg.population());
    let offset = u64::from(s) * cfg.churn();
    w.write_all(CUSTOMER_HEADER).map_err(writer_error)?;
    let make = |_ch, range: std::ops::Range<u64>, buf: &mut Vec<u8>| {
        range.for_each(|i| push_customer_row(buf, &pop.customer(offset + i)));
    };
    write_chunked(cfg.customers, &mut w, make, |()| {}).map_err(writer_error)?;
    w.flush().map_err(writer_error)?;
    Ok(cfg.customers)
}

/// The leak's plan.
fn plan(cfg: &SynthConfig, mix: super::leak::Mix) -> Plan {
    let offset = u64::from(cfg.leak_snapshot()) * cfg.churn();
    let pop = Population::new(cfg.seed, cfg.population());
    Plan::new(cfg.seed, pop, mix, offset, cfg.customers)
}

/// Writes `canaries.csv`: the customers the first `cfg.canaries` real leak rows draw.
pub fn write_canaries(cfg: &SynthConfig, mut w: impl Write) -> Result<u64, SynthError> {
    let plan = plan(cfg, cfg.mix()?);
    let mut buf = CUSTOMER_HEADER.to_vec();
    (0..cfg.canaries).for_each(|q| push_customer_row(&mut buf, &plan.canary(q)));
    w.write_all(&buf).and_then(|()| w.flush()).map_err(writer_error)?;
    Ok(cfg.canaries)
}

/// Writes `leak.csv` (German dialect: `;`, header `Versichertennummer;Nachname;Vorname;
/// Geburtsdatum;E-Mail;Telefon`, dates `dd.mm.yyyy`) to `w` and returns the truth.
pub fn write_leak(cfg: &SynthConfig, mut w: impl Write) -> Result<Truth, SynthError> {
    let mix_counts = cfg.mix()?;
    let plan = plan(cfg, mix_counts);
    let mut builder = Builder::new(cfg.customers);
    let mut canary_rows = 0;
    w.write_all(HEADER).map_err(writer_error)?;
    let make = |ch, range: std::ops::Range<u64>, buf: &mut Vec<u8>| {
        let mut rng = Pcg64Mcg::seed_from_u64(mix(mix(cfg.seed, LEAK_STREAM), ch));
        let mut scratch = Vec::with_capacity(16);
        let mut tally = Tally::default();
        let mut canaries = 0u64;
        for pos in range {
            let hits = plan.write_row(&mut rng, pos, buf, &mut scratch);
            let owners = [hits.kvnr, hits.email, hits.phone, hits.name_dob];
            let canary = |c: &Option<u64>| c.is_some_and(|c| plan.is_canary(c, cfg.canaries));
            canaries += u64::from(owners.iter().any(canary));
            tally.add(&hits);
            buf.push(b'\n');
        }
        (tally, canaries)
    };
    let fold = |(t, c): (Tally, u64)| {
        builder.merge(t);
        canary_rows += c;
    };
    write_chunked(cfg.leak, &mut w, make, fold).map_err(writer_error)?;
    w.flush().map_err(writer_error)?;
    let mut truth = builder.finish(cfg.seed, cfg.customers, mix_counts);
    truth.canaries = cfg.canaries;
    truth.canary_rows = canary_rows;
    if cfg.snapshots >= 2 {
        truth.snapshot_dates = (0..cfg.snapshots).map(SynthConfig::snapshot_date).collect();
        truth.leak_snapshot = Some(SynthConfig::snapshot_date(cfg.leak_snapshot()));
    }
    Ok(truth)
}

/// Writes `customers.csv`, `leak.csv` and `truth.json` into `dir` (created if missing), each
/// atomically (temporary file in `dir`, then rename). Returns the truth.
pub fn generate(cfg: &SynthConfig, dir: &Path) -> Result<Truth, SynthError> {
    cfg.mix()?;
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SynthError::Io { path, source }
    };
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    atomic_write(&dir.join(CUSTOMERS_FILE), |w| write_customers(cfg, w).map(drop))?;
    if cfg.canaries > 0 {
        atomic_write(&dir.join(CANARIES_FILE), |w| write_canaries(cfg, w).map(drop))?;
    }
    if cfg.snapshots >= 2 {
        let snaps = dir.join(SNAPSHOTS_DIR);
        fs::create_dir_all(&snaps).map_err(io_err(&snaps))?;
        for s in 0..cfg.snapshots {
            let name = format!("customers_{}.csv", SynthConfig::snapshot_date(s));
            atomic_write(&snaps.join(name), |w| write_snapshot(cfg, s, w).map(drop))?;
        }
    }
    let mut truth = None;
    atomic_write(&dir.join(LEAK_FILE), |w| {
        truth = Some(write_leak(cfg, w)?);
        Ok(())
    })?;
    let truth = truth.expect("set by the leak writer");
    atomic_write(&dir.join(TRUTH_FILE), |w| {
        serde_json::to_writer_pretty(&mut *w, &truth)
            .map_err(io::Error::from)
            .map_err(writer_error)?;
        w.write_all(b"\n").map_err(writer_error)
    })?;
    Ok(truth)
}

/// Writes `path` through a temporary file in the same directory, renamed into place on success.
fn atomic_write<F>(path: &Path, body: F) -> Result<(), SynthError>
where
    F: FnOnce(&mut BufWriter<&mut fs::File>) -> Result<(), SynthError>,
{
    let err = |source| SynthError::Io { path: path.to_path_buf(), source };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    {
        let mut w = BufWriter::with_capacity(WRITE_BUFFER, tmp.as_file_mut());
        body(&mut w).map_err(|e| match e {
            SynthError::Io { source, .. } => err(source),
            other => other,
        })?;
        w.flush().map_err(err)?;
    }
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::recount::{norm_kvnr, read_customers, recount};
    use super::*;

    fn small(seed: u64) -> SynthConfig {
        SynthConfig {
            customers: 20_000,
            leak: 5_000,
            overlap: 0.55,
            fabricated: 0.1,
            recombined: 0.1,
            other_population: 0.25,
            seed,
            snapshots: 0,
            canaries: 0,
        }
    }

    fn bytes(cfg: &SynthConfig) -> (Vec<u8>, Vec<u8>, Truth) {
        let (mut c, mut l) = (Vec::new(), Vec::new());
        write_customers(cfg, &mut c).unwrap();
        let t = write_leak(cfg, &mut l).unwrap();
        (c, l, t)
    }

    #[test]
    fn same_seed_gives_identical_bytes_whatever_the_thread_count() {
        let cfg = SynthConfig { customers: 40_000, leak: 20_000, ..small(5) };
        let many = bytes(&cfg);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let one = pool.install(|| bytes(&cfg));
        assert_eq!(many, one);
        assert_eq!(many, bytes(&cfg));
        assert!(many.0.len() > 40_000 * 50 && many.1.len() > 20_000 * 50);
    }

    #[test]
    fn different_seed_gives_different_files() {
        let (a, b) = (bytes(&small(1)), bytes(&small(2)));
        assert_ne!(a.0, b.0);
        assert_ne!(a.1, b.1);
    }

    #[test]
    fn truth_equals_a_recount_of_the_files_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let truth = generate(&small(7), dir.path()).unwrap();
        let customers = read_customers(dir.path());
        assert_eq!(customers.kvnr.len(), 20_000);
        let (recounted, _) = recount(dir.path(), &customers, truth.clone());
        assert_eq!(recounted, truth);
        let stored: Truth =
            serde_json::from_slice(&fs::read(dir.path().join(TRUTH_FILE)).unwrap()).unwrap();
        assert_eq!(stored, truth);
        // the mix is what was asked for, and every kind has hits and misses
        assert_eq!((truth.real_rows, truth.fabricated_rows), (2750, 500));
        assert_eq!((truth.recombined_rows, truth.other_rows), (500, 1250));
        for kind in ["kvnr", "email", "phone", "name_dob", "kvnr+name_dob"] {
            assert!((1000..truth.leak_rows).contains(&truth.matches[kind]), "{kind}");
        }
        assert!(truth.matches["kvnr"] > truth.matches["kvnr+name_dob"] + 400);
        assert!(truth.distinct_customers < truth.real_rows + 2 * truth.recombined_rows);
    }

    #[test]
    fn customer_kvnrs_are_valid_and_never_test_identities() {
        let cfg = SynthConfig { customers: 50_000, leak: 0, ..small(11) };
        let mut out = Vec::new();
        write_customers(&cfg, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in text.lines().skip(1) {
            let v = norm_kvnr(&line[..10]).unwrap_or_else(|o| panic!("{o:?}"));
            assert!(!v.starts_with("X0000"));
        }
    }

    #[test]
    fn fabricated_kvnrs_mostly_fail_the_check_digit() {
        let cfg = SynthConfig { overlap: 0.0, fabricated: 1.0, recombined: 0.0, ..small(3) };
        let dir = tempfile::tempdir().unwrap();
        let truth = generate(&cfg.other_is_rest(), dir.path()).unwrap();
        let (_, outcomes) = recount(dir.path(), &read_customers(dir.path()), truth.clone());
        let bad = outcomes["check_digit"] as f64;
        let share = bad / (bad + outcomes["valid"] as f64);
        assert!((0.86..0.94).contains(&share), "{share}");
        assert_eq!(truth.matches["email"] + truth.matches["phone"], 0);
    }

    #[test]
    fn recombined_rows_hit_kvnr_and_name_dob_but_never_the_pair() {
        let cfg = SynthConfig { overlap: 0.0, recombined: 1.0, fabricated: 0.0, ..small(4) }
            .other_is_rest();
        let truth = write_leak(&cfg, io::sink()).unwrap();
        assert_eq!(truth.matches["kvnr+name_dob"], 0);
        assert!(truth.matches["kvnr"] > 4_800 && truth.matches["name_dob"] > 4_800);
        assert!(truth.rows_matched_two_plus > 4_900);
    }

    #[test]
    fn other_population_hits_nothing() {
        let cfg = SynthConfig { overlap: 0.0, fabricated: 0.0, recombined: 0.0, ..small(6) };
        let truth = write_leak(&cfg.other_is_rest(), io::sink()).unwrap();
        assert_eq!(truth.rows_matched_any, 0);
        assert_eq!(truth.other_rows, 5_000);
    }

    #[test]
    fn rejects_shares_not_adding_up_and_too_many_customers() {
        let bad = SynthConfig { overlap: 0.9, ..SynthConfig::default() };
        assert!(matches!(write_leak(&bad, io::sink()), Err(SynthError::Config(_))));
        let big =
            SynthConfig { customers: super::super::MAX_CUSTOMERS + 1, ..SynthConfig::default() };
        assert!(matches!(write_customers(&big, io::sink()), Err(SynthError::Config(_))));
        let lonely = SynthConfig { customers: 1, recombined: 0.1, ..small(1) }.other_is_rest();
        assert!(matches!(write_leak(&lonely, io::sink()), Err(SynthError::Config(_))));
    }

    #[test]
    fn mix_counts_add_up_and_round_to_the_requested_shares() {
        let cfg = SynthConfig {
            leak: 1001,
            overlap: 1.0 / 3.0,
            fabricated: 1.0 / 3.0,
            recombined: 0.0,
            ..small(1)
        };
        let m = cfg.other_is_rest().mix().unwrap();
        assert_eq!(m.real + m.fabricated + m.recombined + m.other, 1001);
        for (n, share) in [(m.real, 1.0 / 3.0), (m.fabricated, 1.0 / 3.0), (m.other, 1.0 / 3.0)] {
            assert!((n as f64 - 1001.0 * share).abs() <= 1.0, "{n}");
        }
        let d = SynthConfig::default().mix().unwrap();
        assert_eq!((d.real, d.fabricated, d.recombined, d.other), (198_000, 16_500, 0, 115_500));
    }

    #[test]
    fn snapshots_overlap_with_churn_and_the_leak_comes_from_the_middle_one() {
        let cfg = SynthConfig { snapshots: 3, canaries: 30, ..small(12) };
        let dir = tempfile::tempdir().unwrap();
        let truth = generate(&cfg, dir.path()).unwrap();
        assert_eq!(truth.leak_snapshot.as_deref(), Some("2023-07-01"));
        assert_eq!(truth.snapshot_dates, ["2023-01-01", "2023-07-01", "2024-01-01"]);
        let read = |d: &str| {
            fs::read_to_string(dir.path().join(SNAPSHOTS_DIR).join(format!("customers_{d}.csv")))
                .unwrap()
        };
        let snaps: Vec<String> = truth.snapshot_dates.iter().map(|d| read(d)).collect();
        assert_eq!(snaps[1].as_bytes(), fs::read(dir.path().join(CUSTOMERS_FILE)).unwrap());
        // snapshot s+1 drops the first `churn` customers of s and adds `churn` new ones
        let rows = |s: &str| s.lines().skip(1).map(String::from).collect::<Vec<_>>();
        let (a, b) = (rows(&snaps[0]), rows(&snaps[1]));
        let churn = cfg.churn() as usize;
        assert_eq!(a[churn..], b[..a.len() - churn]);
        assert!(!b.contains(&a[0]));
        let (recounted, _) = recount(dir.path(), &read_customers(dir.path()), truth.clone());
        assert_eq!(recounted, truth);
    }

    #[test]
    fn canaries_are_customers_planted_in_the_leak_and_counted_exactly() {
        let cfg = SynthConfig { canaries: 40, ..small(13) };
        let dir = tempfile::tempdir().unwrap();
        let truth = generate(&cfg, dir.path()).unwrap();
        assert_eq!(truth.canaries, 40);
        assert!((30..=60).contains(&truth.canary_rows), "{}", truth.canary_rows);
        // Recount with the canaries as the customer file: rows hitting them.
        let only = tempfile::tempdir().unwrap();
        fs::copy(dir.path().join(CANARIES_FILE), only.path().join(CUSTOMERS_FILE)).unwrap();
        fs::copy(dir.path().join(LEAK_FILE), only.path().join(LEAK_FILE)).unwrap();
        let (recounted, _) = recount(only.path(), &read_customers(only.path()), truth.clone());
        assert_eq!(recounted.rows_matched_any, truth.canary_rows);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(6))]
        #[test]
        fn truth_equals_recount_for_any_seed(seed: u64, overlap in 0.0..0.7f64, recombined in 0.0..0.2f64) {
            let cfg = SynthConfig { customers: 3_000, leak: 2_000, overlap, recombined, fabricated: 0.1, ..small(seed) };
            let cfg = cfg.other_is_rest();
            let dir = tempfile::tempdir().unwrap();
            let truth = generate(&cfg, dir.path()).unwrap();
            let (recounted, _) = recount(dir.path(), &read_customers(dir.path()), truth.clone());
            proptest::prop_assert_eq!(recounted, truth);
        }
    }

    /// Timing: `cargo test --release --lib synth -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn time_default_config() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SynthConfig::default();
        let t0 = std::time::Instant::now();
        write_customers(
            &cfg,
            BufWriter::with_capacity(WRITE_BUFFER, fs::File::create(dir.path().join("c")).unwrap()),
        )
        .unwrap();
        let tc = t0.elapsed();
        let t1 = std::time::Instant::now();
        write_leak(
            &cfg,
            BufWriter::with_capacity(WRITE_BUFFER, fs::File::create(dir.path().join("l")).unwrap()),
        )
        .unwrap();
        let tl = t1.elapsed();
        let (bc, bl) = (
            fs::metadata(dir.path().join("c")).unwrap().len(),
            fs::metadata(dir.path().join("l")).unwrap().len(),
        );
        let mb = |b: u64, t: std::time::Duration| b as f64 / 1e6 / t.as_secs_f64();
        eprintln!("threads {}", rayon::current_num_threads());
        eprintln!(
            "customers: {} rows {:.1} MB in {tc:.2?} = {:.0} MB/s, {:.2} M rows/s",
            cfg.customers,
            bc as f64 / 1e6,
            mb(bc, tc),
            cfg.customers as f64 / 1e6 / tc.as_secs_f64()
        );
        eprintln!(
            "leak: {} rows {:.1} MB in {tl:.2?} = {:.0} MB/s",
            cfg.leak,
            bl as f64 / 1e6,
            mb(bl, tl)
        );
        eprintln!("25M customers extrapolated: {:.1} s", tc.as_secs_f64() * 25.0);
    }
}
