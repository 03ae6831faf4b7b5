//! Hostile input (issue #11): crafted files against the promises of the loaders and writers —
//! bounded memory, no raw value in any output, one line on stderr with exit code 2, outputs
//! never replacing a device or an input.

use std::io::Write;
use std::process::{Output, Stdio};

use crate::formats::setup;
use crate::workdir::{contains, Workdir};

/// A value planted in crafted inputs that must appear in no output.
pub const MARKER: &str = "planted.marker.4711@example.org";

/// Asserts exit code 2, exactly one line on stderr containing `want`, and no marker in
/// stdout, stderr or any file of the work folder other than the inputs named.
pub fn refused(wd: &Workdir, out: &Output, want: &str, inputs: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(want), "{want:?} not in: {err}");
    no_marker(wd, out, inputs);
}

/// No [`MARKER`] in the output streams or in any file but the named inputs.
pub fn no_marker(wd: &Workdir, out: &Output, inputs: &[&str]) {
    assert!(!contains(&out.stdout, MARKER) && !contains(&out.stderr, MARKER));
    for e in std::fs::read_dir(wd.root()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if inputs.contains(&name.as_str()) || !p.is_file() {
            continue;
        }
        assert!(!contains(&std::fs::read(&p).unwrap(), MARKER), "marker in {}", p.display());
    }
}

/// Runs `leakmatch args` with `stdin`, sampling the peak RSS (kB) from `/proc` while it runs.
pub fn run_measured(wd: &Workdir, args: &[&str], stdin: Vec<u8>) -> (Output, u64) {
    let (out, peak, _) = run_sampled(wd, args, stdin);
    (out, peak)
}

/// [`run_measured`], also returning the largest anonymous RSS sampled (kB): memory the
/// process allocated, apart from the pages of a mapped input.
pub fn run_sampled(wd: &Workdir, args: &[&str], stdin: Vec<u8>) -> (Output, u64, u64) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("leakmatch"))
        .current_dir(wd.root())
        .env_remove("LEAKMATCH_KEY_FILE")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || pipe.write_all(&stdin));
    let (mut peak_kb, mut anon_kb) = (0u64, 0u64);
    let field = |s: &str, name: &str| -> Option<u64> {
        let l = s.lines().find(|l| l.starts_with(name))?;
        l.split_whitespace().nth(1)?.parse().ok()
    };
    while child.try_wait().unwrap().is_none() {
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            peak_kb = peak_kb.max(field(&s, "VmHWM:").unwrap_or(0));
            anon_kb = anon_kb.max(field(&s, "RssAnon:").unwrap_or(0));
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = writer.join().unwrap();
    (child.wait_with_output().unwrap(), peak_kb, anon_kb)
}

fn dump_with_marker() -> String {
    format!("E-Mail;KVNR\n{MARKER};A123456780\njuergen.mueller@example.de;Z987654321\n")
}

/// A zstd frame header declaring a window of 2^`log` bytes, then one raw block of `body`.
fn zstd_frame_with_window(log: u32, body: &[u8]) -> Vec<u8> {
    let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, ((log - 10) as u8) << 3];
    let block = 1u32 | (body.len() as u32) << 3; // last block, raw
    f.extend_from_slice(&block.to_le_bytes()[..3]);
    f.extend_from_slice(body);
    f
}

#[test]
fn zstd_frame_declaring_a_two_tib_window_is_refused_with_bounded_memory() {
    let (wd, key) = setup();
    let good = zstd::encode_all(dump_with_marker().as_bytes(), 1).unwrap();
    let mut bomb = good.clone();
    bomb.extend(zstd_frame_with_window(41, &vec![b'x'; 1 << 20]));
    wd.write("bomb.zst", &bomb);
    let args = ["scan", "--quiet", "--json", "--key-file", &key, "--filter", "f.lmf"];
    for (input, stdin) in [("bomb.zst", Vec::new()), ("-", bomb.clone())] {
        let (out, peak_kb) = run_measured(&wd, &[&args[..], &[input]].concat(), stdin);
        refused(&wd, &out, "window larger than 128 MiB", &["bomb.zst"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("read {input}:")));
        assert!(peak_kb < 200 * 1024, "{input}: peak RSS {peak_kb} kB");
    }
}

#[test]
fn concatenated_zstd_frames_and_gzip_members_are_read_whole_from_files_and_stdin() {
    let (wd, key) = setup();
    let text = dump_with_marker();
    let (head, tail) = text.split_at(text.find('\n').unwrap() + 1 + 10);
    let mut zst = zstd::encode_all(head.as_bytes(), 1).unwrap();
    zst.extend(zstd::encode_all(tail.as_bytes(), 3).unwrap());
    let mut gz = Vec::new();
    for part in [head, tail] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(part.as_bytes()).unwrap();
        gz.extend(e.finish().unwrap());
    }
    wd.write("two.zst", &zst);
    wd.write("two.gz", &gz);
    let args = ["scan", "--quiet", "--json", "--key-file", &key, "--filter", "f.lmf"];
    for (name, bytes) in [("two.zst", zst), ("two.gz", gz)] {
        for (input, stdin) in [(name, Vec::new()), ("-", bytes)] {
            let (out, _) = run_measured(&wd, &[&args[..], &[input]].concat(), stdin);
            assert!(
                out.status.success(),
                "{name} {input}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["records"]["total"], 2, "{name} via {input}: both frames read");
            no_marker(&wd, &out, &["two.zst", "two.gz"]);
        }
    }
}

/// Makes a FIFO in the work folder and a thread reading it whole.
fn fifo_with_reader(wd: &Workdir, name: &str) -> Option<std::thread::JoinHandle<Vec<u8>>> {
    let p = wd.path(name);
    let made = std::process::Command::new("mkfifo").arg(&p).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo unavailable: test skipped");
        return None;
    }
    Some(std::thread::spawn(move || std::fs::read(p).unwrap()))
}

#[test]
fn every_writer_writes_into_a_fifo_and_never_replaces_it() {
    use std::os::unix::fs::FileTypeExt;
    let (wd, key) = setup();
    wd.write("d.csv", dump_with_marker());
    let base = ["scan", "--quiet", "--key-file", &key, "--filter", "f.lmf"];
    let cases: [(&str, Vec<&str>); 4] = [
        ("html", vec!["--html"]),
        ("matches", vec!["--emit-matches"]),
        ("partial", vec!["--shard-id", "s0", "--partial"]),
        ("filter", vec![]),
    ];
    for (name, flag) in cases {
        let Some(reader) = fifo_with_reader(&wd, name) else { return };
        let out = if name == "filter" {
            wd.run(&["build", "--quiet", "--force", "--key-file", &key, "--out", name, "d.csv"])
        } else {
            wd.run(&[&base[..], &flag, &[name, "d.csv"]].concat())
        };
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let meta = std::fs::symlink_metadata(wd.path(name)).unwrap();
        assert!(meta.file_type().is_fifo(), "{name}: the FIFO was replaced");
        let got = reader.join().unwrap();
        assert!(!got.is_empty(), "{name}: written into the FIFO");
        assert!(!contains(&got, MARKER), "{name}");
        std::fs::remove_file(wd.path(name)).unwrap();
    }
}

#[test]
fn an_output_that_is_an_input_by_path_or_inode_is_refused_with_exit_code_2() {
    let (wd, key) = setup();
    let dump = dump_with_marker();
    wd.write("d.csv", &dump);
    std::fs::hard_link(wd.path("d.csv"), wd.path("alias.csv")).unwrap();
    std::os::unix::fs::symlink(wd.path("f.lmf"), wd.path("filter-link")).unwrap();
    let filter = std::fs::read(wd.path("f.lmf")).unwrap();
    let scan = ["scan", "--quiet", "--key-file", &key, "--filter", "f.lmf"];
    let cases: Vec<Vec<&str>> = vec![
        [&scan[..], &["--html", "d.csv", "d.csv"]].concat(),
        [&scan[..], &["--emit-matches", "./alias.csv", "d.csv"]].concat(),
        [&scan[..], &["--shard-id", "s", "--partial", "filter-link", "d.csv"]].concat(),
        [&scan[..], &["--html", "k", "d.csv"]].concat(),
        [&scan[..], &["--html", "same.html", "--emit-matches", "same.html", "d.csv"]].concat(),
        vec!["build", "--quiet", "--key-file", &key, "--out", "alias.csv", "d.csv"],
        vec!["union", "--key-file", &key, "--out", "filter-link", "f.lmf", "f.lmf"],
        vec!["merge", "--html", "d.csv", "d.csv"],
    ];
    for args in cases {
        let out = wd.run(&args);
        refused(&wd, &out, "refusing to overwrite", &["d.csv", "alias.csv"]);
        assert_eq!(std::fs::read(wd.path("d.csv")).unwrap(), dump.as_bytes(), "{args:?}");
        assert_eq!(std::fs::read(wd.path("f.lmf")).unwrap(), filter, "{args:?}");
        assert!(!wd.path("same.html").exists());
    }
    let out = wd.run(&[&scan[..], &["--html", ".", "d.csv"]].concat());
    refused(&wd, &out, "is a directory", &["d.csv", "alias.csv"]);
}

#[test]
fn a_failed_write_is_exit_code_1_with_the_os_text_once() {
    let (wd, key) = setup();
    wd.write("d.csv", dump_with_marker());
    let out = wd.run(&[
        "scan",
        "--quiet",
        "--key-file",
        &key,
        "--filter",
        "f.lmf",
        "--html",
        "no/dir/r.html",
        "d.csv",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!((err.lines().count(), err.matches("os error").count()), (1, 1), "{err}");
    assert!(err.contains("writing no/dir/r.html"), "{err}");
    let out = wd.run(&["scan", "--key-file", "missing.key", "--filter", "f.lmf", "d.csv"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!((out.status.code(), err.matches("os error").count()), (Some(2), 1), "{err}");
}

#[test]
fn one_huge_sql_tuple_is_skipped_as_oversized_without_being_copied() {
    let (wd, key) = setup();
    let mut sql =
        format!("INSERT INTO t (email, note) VALUES ('{MARKER}', 'x'),('c@d.de', '").into_bytes();
    sql.extend(std::iter::repeat_n(b'y', 200 << 20));
    sql.extend_from_slice(b"'),('e@f.de','z');\nINSERT INTO t (email) VALUES ('g@h.de');\n");
    wd.write("big.sql", &sql);
    drop(sql);
    let args = ["scan", "--quiet", "--json", "--key-file", &key, "--filter", "f.lmf", "big.sql"];
    let (out, peak_kb, anon_kb) = run_sampled(&wd, &args, Vec::new());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let oversized = v["records"]["malformed_by_reason"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["reason"] == "oversized")
        .map(|m| m["count"].clone());
    assert_eq!(oversized, Some(1.into()), "{v}");
    assert_eq!(v["records"]["total"], 3, "the tuple before, the oversized one, the one after");
    no_marker(&wd, &out, &["big.sql"]);
    eprintln!(
        "200 MiB tuple: peak RSS {peak_kb} kB (mapped pages included), anonymous {anon_kb} kB"
    );
    assert!(anon_kb < 80 * 1024, "anonymous RSS {anon_kb} kB: the tuple was copied");
}

#[test]
fn a_sparse_filter_claiming_a_terabyte_is_refused_before_hashing_with_bounded_memory() {
    let (wd, key) = setup();
    let args = ["build", "--quiet", "--key-file", &key, "--kinds", "kvnr", "--out", "one.lmf"];
    wd.ok(&[&args[..], &["customers.csv"]].concat());
    let mut bytes = std::fs::read(wd.path("one.lmf")).unwrap();
    let meta_len = u64::from(u32::from_le_bytes(bytes[36..40].try_into().unwrap()));
    bytes[256 + 8..256 + 16].copy_from_slice(&(1u64 << 34).to_le_bytes());
    bytes.truncate(4096 + meta_len.next_multiple_of(64) as usize);
    let f = wd.write("tb.lmf", &bytes);
    let len = 4096 + meta_len.next_multiple_of(64) + (1u64 << 40) + 48;
    std::fs::OpenOptions::new().write(true).open(&f).unwrap().set_len(len).unwrap();
    wd.write("d.csv", dump_with_marker());
    let cases: [(&[&str], &str); 3] = [
        (&["inspect", "tb.lmf"], "more than the 68719476736 bytes allowed"),
        (&["inspect", "--max-filter-gib", "2048", "tb.lmf"], "sparse file"),
        (&["scan", "--key-file", &key, "--filter", "tb.lmf", "d.csv"], "--max-filter-gib"),
    ];
    for (args, want) in cases {
        let start = std::time::Instant::now();
        let (out, peak_kb) = run_measured(&wd, args, Vec::new());
        refused(&wd, &out, want, &["d.csv", "tb.lmf"]);
        assert!(peak_kb < 100 * 1024, "{args:?}: peak RSS {peak_kb} kB");
        assert!(start.elapsed().as_secs() < 20, "{args:?}: refused before hashing");
    }
}

#[test]
fn merge_refuses_tampered_huge_and_endless_partials_and_plan_absurd_shard_counts() {
    let (wd, key) = setup();
    wd.write("d.csv", dump_with_marker());
    let scan = ["scan", "--quiet", "--key-file", &key, "--filter", "f.lmf"];
    for (id, range) in [("a", "0..40"), ("b", "40..100000")] {
        let out = format!("{id}.json");
        wd.ok(&[&scan[..], &["--range", range, "--shard-id", id, "--partial", &out, "d.csv"]]
            .concat());
    }
    wd.ok(&["merge", "--json", "a.json", "b.json"]);
    let original: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wd.path("b.json")).unwrap()).unwrap();
    type Tamper = fn(&mut serde_json::Value);
    let cases: [(Tamper, &str); 3] = [
        (|v| v["inputs"][0]["tally"]["filters"][0]["hits"][0] = 1_000_000.into(), "hits > probed"),
        (|v| v["inputs"][0]["tally"]["filters"][0]["distinct"] = serde_json::json!([]), "distinct"),
        (|v| v["inputs"][0]["tally"]["records"] = u64::MAX.into(), "overflow"),
    ];
    for (tamper, want) in cases {
        let mut v = original.clone();
        tamper(&mut v);
        if want == "overflow" {
            let mut a: serde_json::Value =
                serde_json::from_slice(&std::fs::read(wd.path("a.json")).unwrap()).unwrap();
            a["inputs"][0]["tally"]["records"] = u64::MAX.into();
            wd.write("a2.json", a.to_string());
        } else {
            wd.write("a2.json", std::fs::read(wd.path("a.json")).unwrap());
        }
        wd.write("bad.json", v.to_string());
        let out = wd.run(&["merge", "a2.json", "bad.json"]);
        refused(&wd, &out, want, &["d.csv"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(".json"), "names the file: {err}");
    }
    let out = wd.run(&["merge", "a.json", "/dev/zero"]);
    refused(&wd, &out, "/dev/zero: not a leakmatch partial", &["d.csv"]);
    let big = wd.path("big.json");
    std::fs::File::create(&big).unwrap().set_len(3 << 30).unwrap();
    let (out, peak_kb) = run_measured(&wd, &["merge", "a.json", "big.json"], Vec::new());
    refused(&wd, &out, "big.json: more than", &["d.csv", "big.json"]);
    assert!(peak_kb < 100 * 1024, "peak RSS {peak_kb} kB");
    std::fs::remove_file(&big).unwrap();
    let out = wd.run(&["plan", "--shards", "18446744073709551615", "d.csv"]);
    refused(&wd, &out, "--shards must be between 1 and 100000", &["d.csv"]);
}

#[test]
fn json_object_keys_that_are_data_never_reach_a_report_or_partial() {
    let (wd, key) = setup();
    let line = format!(
        "{{\"{MARKER}\": {{\"telefon\": \"0171 1234567\"}}, \"email\": \"juergen.mueller@example.de\"}}\n"
    );
    wd.write("d.jsonl", line.repeat(3));
    let scan = ["scan", "--quiet", "--key-file", &key, "--filter", "f.lmf"];
    let text = wd.run(&[&scan[..], &["d.jsonl"]].concat());
    assert!(text.status.success());
    let shown = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(shown.contains("'email'"), "a synonym path is shown: {shown}");
    no_marker(&wd, &text, &["d.jsonl"]);
    let json = wd.run(&[&scan[..], &["--json", "d.jsonl"]].concat());
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let cols = &v["inputs"][0]["columns"];
    assert!(cols
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["field"] == "phone" && c["header"].is_null()));
    no_marker(&wd, &json, &["d.jsonl"]);
    wd.ok(&[&scan[..], &["--shard-id", "s", "--partial", "p.json", "d.jsonl"]].concat());
    let merged = wd.run(&["merge", "--json", "p.json"]);
    assert!(merged.status.success());
    no_marker(&wd, &merged, &["d.jsonl"]);
    let mapped = format!("phone={MARKER}.telefon");
    let out = wd.run(&[&scan[..], &["--map", &mapped, "d.jsonl"]].concat());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(MARKER),
        "a path named by --map is shown"
    );
}

#[test]
fn map_to_a_column_number_past_a_headerless_file_is_an_error() {
    let (wd, key) = setup();
    wd.write("h.csv", "A123456780;x@y.de;1;2;3;4;5\nZ987654321;c@d.de;1;2;3;4;5\n");
    let out =
        wd.run(&["scan", "--key-file", &key, "--filter", "f.lmf", "--map", "email=99", "h.csv"]);
    refused(&wd, &out, "column 99 does not exist (the file has 7 columns)", &["h.csv"]);
}

#[test]
fn map_naming_a_column_not_in_the_header_names_the_count_never_a_header_cell() {
    // Header cells can be data (a data row taken for the header), so none reaches the error:
    // a header row holding a planted name, and a file whose first row is data.
    let (wd, key) = setup();
    let planted = "Zzqmarkerwitz4711";
    wd.write("h.csv", format!("E-Mail;KVNR;{planted};a;b;c;d\nx@y.de;A123456780;1;2;3;4;5\n"));
    wd.write("d.csv", format!("{MARKER};A123456780;1;2;3;4;5\nc@d.de;Z987654321;1;2;3;4;5\n"));
    for (file, count) in [("h.csv", "the header has 7 columns"), ("d.csv", "no header row")] {
        let args = ["scan", "--key-file", &key, "--filter", "f.lmf", "--map", "email=Mail", file];
        let out = wd.run(&args);
        refused(&wd, &out, "no column named by --map email=Mail", &["h.csv", "d.csv"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(count) && err.contains("--map email=N"), "{err}");
        for cell in [planted, "E-Mail", "KVNR", "A123456780"] {
            assert!(!err.contains(cell), "header cell {cell} in: {err}");
        }
    }
}

#[test]
fn a_key_path_that_is_a_fifo_is_refused_at_once() {
    use std::os::unix::fs::PermissionsExt;
    let (wd, _) = setup();
    let fifo = wd.path("fifo.key");
    if !std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()) {
        eprintln!("mkfifo unavailable: test skipped");
        return;
    }
    std::fs::set_permissions(&fifo, std::fs::Permissions::from_mode(0o600)).unwrap();
    wd.write("d.csv", dump_with_marker());
    let start = std::time::Instant::now();
    let out = wd.run(&["scan", "--key-file", "fifo.key", "--filter", "f.lmf", "d.csv"]);
    refused(&wd, &out, "fifo.key: not a regular file", &["d.csv"]);
    assert!(start.elapsed().as_secs() < 10, "did not block on the FIFO");
}

#[test]
fn sigterm_while_a_filter_is_written_leaves_no_temporary_file() {
    let (wd, key) = setup();
    let temps = |wd: &Workdir| {
        std::fs::read_dir(wd.root())
            .unwrap()
            .filter(|e| {
                e.as_ref().unwrap().file_name().to_string_lossy().starts_with(".leakmatch-")
            })
            .count()
    };
    for signal in ["-TERM", "-INT"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("leakmatch"))
            .current_dir(wd.root())
            .args(["build", "--quiet", "--key-file", &key, "--expected", "100000000"])
            .args(["--kinds", "kvnr,email", "--out", "big.lmf", "customers.csv"])
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while temps(&wd) == 0 && child.try_wait().unwrap().is_none() {
            assert!(start.elapsed().as_secs() < 120, "no temporary file appeared");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let pid = child.id().to_string();
        std::process::Command::new("kill").args([signal, &pid]).status().unwrap();
        let status = child.wait().unwrap();
        if status.success() {
            eprintln!("the build finished before the signal: nothing to check");
            continue;
        }
        assert_eq!(temps(&wd), 0, "{signal}: a temporary file was left");
        assert!(!wd.path("big.lmf").exists(), "{signal}: no half-written filter");
    }
}

#[test]
fn birth_year_noise_is_recorded_in_the_filter_and_bounded() {
    let (wd, key) = setup();
    let build = ["build", "--quiet", "--key-file", &key, "--out", "n.lmf"];
    let out = wd.run(&[&build[..], &["--birth-year-noise", "0", "customers.csv"]].concat());
    refused(&wd, &out, "--birth-year-noise must be in (0, 10]", &[]);
    wd.ok(&[
        &build[..],
        &["--birth-year-noise", "1", "--birth-year-min-count", "50"],
        &["customers.csv"],
    ]
    .concat());
    let v: serde_json::Value = wd.json(&["inspect", "--json", "n.lmf"]);
    let years = &v["metadata"]["birth_years"];
    assert_eq!((&years["noise_epsilon"], &years["min_count"]), (&1.0.into(), &50.into()), "{v}");
}

/// A 70 kB name made the local OPRF build panic (RFC 9497 inputs stay under 2^16 bytes); now
/// any normalised value over `ident::MAX_VALUE` bytes is invalid (malformed) in every mode,
/// so keyed and OPRF filters agree on what they hold.
#[test]
fn an_overlong_value_is_malformed_not_a_panic_in_oprf_and_keyed_mode() {
    let wd = Workdir::new();
    let key = wd.keygen("k.key");
    let long = "a".repeat(70_000);
    let csv = format!(
        "KVNR;Nachname;Vorname;Geburtsdatum\nA123456780;{long};Jan;01.02.1970\n\
         B234567897;Meier;Eva;02.03.1980\n"
    );
    wd.write("c.csv", csv);
    for (out, mode) in [("o.lmf", "--oprf"), ("k.lmf", "--quiet")] {
        let run = wd.run(&["build", "--key-file", &key, mode, "--out", out, "c.csv"]);
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(0), "{mode}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let r = wd.json(&["scan", "--key-file", &key, "--filter", "k.lmf", "--json", "c.csv"]);
    let kinds = r["kinds"].as_array().unwrap();
    let name_dob = kinds.iter().find(|k| k["kind"] == "name_dob").unwrap();
    assert_eq!(name_dob["valid"], 1, "{name_dob}");
    assert_eq!(name_dob["invalid"], serde_json::json!([["malformed", 1]]), "{name_dob}");
}

/// The `first` position of the malformed reason `reason` in a JSON report, with its count.
fn first_malformed(v: &serde_json::Value, reason: &str) -> (u64, serde_json::Value) {
    let m = v["records"]["malformed_by_reason"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["reason"] == reason)
        .unwrap_or_else(|| panic!("no {reason} in {v}"));
    (m["count"].as_u64().unwrap(), m["first"].clone())
}

#[test]
fn an_oversized_csv_or_jsonl_record_is_counted_once_with_its_position() {
    let (wd, key) = setup();
    let long = "y".repeat(2 << 20);
    // Quote-free (memchr split) and with a quoted field (CSV state machine), mapped and
    // streamed: record 2 on line 3 is oversized and holds the marker.
    let head = "KVNR;E-Mail\nA123456780;x@y.de\n";
    let plain = format!("{head}Z987654321;{MARKER};{long}\nM234567898;a@b.de\n");
    let quoted = format!("{head}Z987654321;{MARKER};{long}\n\"M234567898\";\"a@b.de\"\n");
    let jsonl = format!(
        "{{\"kvnr\":\"A123456780\"}}\n\n{{\"email\":\"{MARKER}\",\"x\":\"{long}\"}}\n{{\"kvnr\":\"M234567898\"}}\n"
    );
    wd.write("plain.csv", &plain);
    wd.write("quoted.csv", &quoted);
    wd.write("long.jsonl", &jsonl);
    let inputs = ["plain.csv", "quoted.csv", "long.jsonl"];
    for (input, line, byte) in
        [("plain.csv", 3, head.len()), ("quoted.csv", 3, head.len()), ("long.jsonl", 3, 23)]
    {
        for extra in [&[][..], &["--no-mmap"][..]] {
            let mut args = vec!["scan", "--quiet", "--json", "--key-file", &key, "--filter"];
            args.extend_from_slice(&["f.lmf"]);
            args.extend_from_slice(extra);
            args.push(input);
            let out = wd.run(&args);
            assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["records"]["total"], 3, "{input} {extra:?}");
            let (count, first) = first_malformed(&v, "oversized");
            assert_eq!(count, 1, "{input} {extra:?}: counted once");
            assert_eq!(first["record"], 2, "{input} {extra:?}: {first}");
            assert_eq!(first["line"], line, "{input} {extra:?}: {first}");
            assert_eq!(first["byte"], byte, "{input} {extra:?}: {first}");
            no_marker(&wd, &out, &inputs);
            let text: Vec<&str> = args.iter().copied().filter(|a| *a != "--json").collect();
            let text = wd.run(&text);
            assert_eq!(text.status.code(), Some(0));
            no_marker(&wd, &text, &inputs);
        }
    }
}

#[test]
fn an_sql_column_name_is_shown_only_when_a_synonym_or_named_by_map() {
    let (wd, key) = setup();
    // Column names are the dump's, as data is: one made of data must not reach any output.
    let planted = "planted_marker_4711";
    let sql = format!(
        "INSERT INTO t (`{planted}`, `E-Mail`) VALUES ('a@b.de', 'c@d.de'), ('e@f.de', 'g@h.de');\n"
    );
    wd.write("m.sql", &sql);
    let base = ["scan", "--quiet", "--key-file", &key, "--filter", "f.lmf"];
    let by_number = [&base[..], &["--json", "--map", "email=1", "m.sql"]].concat();
    let v = wd.json(&by_number);
    let cols = v["inputs"][0]["columns"].as_array().unwrap();
    assert_eq!(cols.len(), 1, "{v}");
    assert_eq!((cols[0]["column"].as_u64(), cols[0]["header"].as_str()), (Some(1), None), "{v}");
    let text = wd.run(&[&base[..], &["--map", "email=1", "m.sql"]].concat());
    let partial =
        [&base[..], &["--map", "email=1", "--shard-id", "a", "--partial", "p.json", "m.sql"]];
    let partial = wd.run(&partial.concat());
    for out in [&text, &partial] {
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(!contains(&out.stdout, planted) && !contains(&out.stderr, planted));
    }
    assert!(!contains(&std::fs::read(wd.root().join("p.json")).unwrap(), planted));
    // A synonym is shown; so is a column the user named.
    let v = wd.json(&[&base[..], &["--json", "m.sql"]].concat());
    assert_eq!(v["inputs"][0]["columns"][0]["header"], "E-Mail", "{v}");
    let map = format!("email={planted}");
    let by_name = [&base[..], &["--json", "--map", &map, "m.sql"]].concat();
    let v = wd.json(&by_name);
    assert_eq!(v["inputs"][0]["columns"][0]["header"], planted, "{v}");
}
