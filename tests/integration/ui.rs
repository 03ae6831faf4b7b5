//! The responder's interface: safe shards, honest progress, numbers, the complete HTML report
//! in a real browser, the JSON Schema, CLI conventions (`--quiet`, `--force`, completions, man).

use std::io::Write as _;

use serde_json::Value;

use crate::workdir::{customers_csv, Workdir};

const KINDS: &str = "kvnr,email,phone,name_dob,kvnr+name_dob";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A generated case: 20,000 customers, a 4,000-row leak, its filter `f.lmf`.
fn case(extra: &[&str]) -> (Workdir, String, Value) {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    let mut args =
        vec!["generate", "-q", "--out-dir", "g", "--customers", "20000", "--leak", "4000"];
    args.extend_from_slice(extra);
    wd.ok(&args);
    wd.ok(&[
        "build",
        "-q",
        "--key-file",
        &key,
        "--out",
        "f.lmf",
        "--kinds",
        KINDS,
        "g/customers.csv",
    ]);
    let truth = serde_json::from_slice(&std::fs::read(wd.path("g/truth.json")).unwrap()).unwrap();
    (wd, key, truth)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn plan_and_range_refuse_compressed_and_streamed_dumps() {
    let (wd, key, _) = case(&["--seed", "21"]);
    let leak = std::fs::read(wd.path("g/leak.csv")).unwrap();
    wd.write("leak.csv.gz", gzip(&leak));
    let out = wd.run(&["plan", "--shards", "4", "leak.csv.gz"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("leak.csv.gz") && stderr(&out).contains("gzip-compressed"));
    assert!(out.stdout.is_empty(), "no ranges printed");
    let out = wd.run(&["plan", "--shards", "2", "-"]);
    assert_eq!(out.status.code(), Some(2));
    let scan = |extra: &[&str], dump: &str| {
        let mut args = vec!["scan", "-q", "--key-file", &key, "--filter", "f.lmf"];
        args.extend_from_slice(extra);
        args.extend(["--range", "0..1000", dump]);
        wd.run(&args)
    };
    let out = scan(&[], "leak.csv.gz");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--range cannot cut this input"));
    let out = scan(&["--no-mmap"], "g/leak.csv");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("streamed"));
    assert!(scan(&[], "g/leak.csv").status.success(), "a mapped plain file can be cut");
}

#[test]
fn merge_of_an_incomplete_shard_set_fails_unless_allowed_and_states_its_bytes() {
    let (wd, key, _) = case(&["--seed", "22"]);
    let plan = wd.ok(&["plan", "--shards", "4", "g/leak.csv"]);
    let ranges: Vec<&str> = plan.lines().collect();
    assert_eq!(ranges.len(), 4);
    for (i, r) in ranges.iter().enumerate() {
        let (id, out) = (format!("s{i}"), format!("p{i}.json"));
        let args = ["scan", "-q", "--key-file", &key, "--filter", "f.lmf", "--range", r];
        let mut args = args.to_vec();
        args.extend(["--shard-id", &id, "--partial", &out, "g/leak.csv"]);
        wd.ok(&args);
    }
    let full: Value = serde_json::from_str(
        &wd.ok(&["merge", "--json", "p0.json", "p1.json", "p2.json", "p3.json"]),
    )
    .unwrap();
    assert!(full["inputs"][0]["coverage"].is_null(), "all bytes read: the report of one scan");
    assert_eq!(full["records"]["total"], 4000);
    // Shard p2 lost: refused with exit 2, naming the missing bytes.
    let out = wd.run(&["merge", "--json", "p0.json", "p1.json", "p3.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let (start, end) = ranges[2].split_once("..").unwrap();
    assert!(
        stderr(&out).contains(&format!("bytes {start}..{end} are in no shard")),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--allow-partial") && out.stdout.is_empty());
    let part: Value =
        wd.json(&["merge", "-q", "--json", "--allow-partial", "p0.json", "p1.json", "p3.json"]);
    let cov = &part["inputs"][0]["coverage"];
    let (start, end): (u64, u64) = (start.parse().unwrap(), end.parse().unwrap());
    let len = std::fs::metadata(wd.path("g/leak.csv")).unwrap().len();
    assert_eq!(cov["complete"], false);
    assert_eq!(cov["bytes"], len);
    assert_eq!(cov["bytes_covered"], len - (end - start));
    assert_eq!(cov["ranges"][0]["end"], start);
    assert_eq!(cov["ranges"][1]["start"], end);
    assert!(part["records"]["total"].as_u64().unwrap() < 4000);
    let text = wd.ok(&["merge", "-q", "--allow-partial", "p0.json", "p1.json", "p3.json"]);
    assert!(text.contains("INCOMPLETE: counts cover bytes"), "{text}");
}

/// The `scanned X MB` figure of the closing throughput line.
fn scanned_mb(stderr: &str) -> String {
    let line = stderr.lines().find(|l| l.contains("scanned")).expect("a throughput line");
    line.split("scanned ").nth(1).unwrap().split(" MB").next().unwrap().to_string()
}

#[test]
fn throughput_line_counts_the_raw_bytes_of_streams() {
    let (wd, key, _) = case(&["--seed", "23"]);
    let leak = std::fs::read(wd.path("g/leak.csv")).unwrap();
    // About 2 MB, so that a count of the detection head only would show.
    let mut big_csv = leak.clone();
    let body_start = leak.iter().position(|&b| b == b'\n').unwrap() + 1;
    while big_csv.len() < 2_000_000 {
        big_csv.extend_from_slice(&leak[body_start..]);
    }
    wd.write("big.csv", &big_csv);
    let gz = gzip(&big_csv);
    wd.write("big.csv.gz", &gz);
    let mb = |n: usize| format!("{:.1}", n as f64 / 1e6);
    let args = ["scan", "--key-file", &key, "--filter", "f.lmf"];
    for (extra, dump, bytes) in [
        (None, "big.csv", big_csv.len()),
        (Some("--no-mmap"), "big.csv", big_csv.len()),
        (None, "big.csv.gz", gz.len()),
    ] {
        let mut a = args.to_vec();
        a.extend(extra);
        a.push(dump);
        let out = wd.run(&a);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(scanned_mb(&stderr(&out)), mb(bytes), "{dump} {extra:?}");
    }
    let out = wd.cmd().args(args).arg("-").write_stdin(big_csv.clone()).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(scanned_mb(&stderr(&out)), mb(big_csv.len()), "stdin");
    let report: Value = {
        let out = wd.cmd().args(args).args(["--json", "-"]).write_stdin(big_csv.clone()).output();
        serde_json::from_slice(&out.unwrap().stdout).unwrap()
    };
    assert_eq!(report["timing"]["bytes"], big_csv.len() as u64);
}

#[test]
fn a_binary_file_given_as_dump_is_refused_with_exit_2() {
    let (wd, key, _) = case(&["--seed", "24"]);
    let out = wd.run(&["scan", "-q", "--key-file", &key, "--filter", "f.lmf", "f.lmf"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("f.lmf") && err.contains("binary data") && err.lines().count() == 1);
    let out = wd.run(&["build", "-q", "--key-file", &key, "--out", "x.lmf", "f.lmf"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!wd.path("x.lmf").exists());
}

#[test]
fn claimed_size_beyond_the_base_is_called_exaggerated_before_its_extrapolation() {
    let (wd, key, _) = case(&["--seed", "25"]);
    let args = ["scan", "-q", "--key-file", &key, "--filter", "f.lmf", "--claimed-size"];
    let mut a = args.to_vec();
    a.extend(["330000", "g/leak.csv"]);
    let text = wd.ok(&a);
    let flag = text.find("EXAGGERATED").expect("flagged");
    let result = text.find("true matches (95 % CI").expect("extrapolation shown");
    assert!(flag < result, "the flag comes first:\n{text}");
    assert!(text.contains("Claimed size 330,000") && text.contains("Hypothetical"));
    a.insert(1, "--json");
    let v: Value = serde_json::from_str(&wd.ok(&a)).unwrap();
    assert_eq!(v["claimed"]["exceeds_base"], true);
    assert_eq!(v["claimed"]["base"], 20000);
    let mut a = args.to_vec();
    a.insert(1, "--json");
    a.extend(["15000", "g/leak.csv"]);
    let v: Value = serde_json::from_str(&wd.ok(&a)).unwrap();
    assert_eq!(v["claimed"]["exceeds_base"], false, "a 4,000-row sample of 15,000 fits");
}

#[test]
fn text_report_explains_its_numbers_with_separators() {
    let (wd, key, _) = case(&["--seed", "26"]);
    let text = wd.ok(&["scan", "-q", "--key-file", &key, "--filter", "f.lmf", "g/leak.csv"]);
    for words in [
        "FPR        false-positive rate",
        "est. true  estimated true matches",
        "rows probed: the ",
        "total variation distance",
        "0 = same distribution",
    ] {
        assert!(text.contains(words), "{words} in\n{text}");
    }
    assert!(text.contains("4,000 records"), "{text}");
    let v: Value =
        wd.json(&["scan", "-q", "--json", "--key-file", &key, "--filter", "f.lmf", "g/leak.csv"]);
    let d = &v["signals"]["duplicates"];
    assert!(d["duplicates"].is_u64(), "an exact count is an integer: {d}");
    let verdict = text.split("Verdict:").nth(1).unwrap();
    // Every number of 4 or more digits in the verdict lines is grouped.
    for word in verdict.split(|c: char| !c.is_ascii_digit() && c != ',' && c != '.') {
        let digits = word.trim_matches(',');
        if !digits.contains('.') && digits.len() >= 4 {
            assert!(digits.contains(','), "'{digits}' has no separator:\n{verdict}");
        }
    }
}

#[test]
fn inspect_shows_the_creation_date() {
    let (wd, _, _) = case(&["--seed", "27"]);
    let text = wd.ok(&["inspect", "f.lmf"]);
    let line = text.lines().find(|l| l.trim_start().starts_with("created")).unwrap();
    assert!(line.contains(" UTC") && line.contains("-") && !line.contains("unix"), "{line}");
    let year: u32 = line.split_whitespace().nth(1).unwrap()[..4].parse().unwrap();
    assert!((2024..2100).contains(&year), "{line}");
    let v: Value = wd.json(&["inspect", "--json", "f.lmf"]);
    assert!(v["created"].as_str().unwrap().ends_with(" UTC"));
}

/// Validates `instance` against the shipped schema; returns the error messages.
fn schema_errors(instance: &Value) -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/report.v2.schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path)).collect()
}

#[test]
fn scan_and_merge_json_match_the_shipped_schema() {
    let (wd, key, truth) = case(&["--seed", "28", "--snapshots", "2", "--canaries", "30"]);
    wd.ok(&[
        "build",
        "-q",
        "--key-file",
        &key,
        "--out",
        "c.lmf",
        "--role",
        "canary",
        "g/canaries.csv",
    ]);
    let mut args: Vec<String> =
        ["scan", "-q", "--json", "--key-file", &key, "--filter", "f.lmf", "--filter", "c.lmf"]
            .map(String::from)
            .to_vec();
    for d in truth["snapshot_dates"].as_array().unwrap() {
        let d = d.as_str().unwrap();
        let (out, input) = (format!("s{d}.lmf"), format!("g/snapshots/customers_{d}.csv"));
        wd.ok(&["build", "-q", "--key-file", &key, "--out", &out, "--snapshot-date", d, &input]);
        args.extend(["--filter".into(), out]);
    }
    args.extend(
        ["--claimed-size", "330000", "--alert-above", "0.1", "g/leak.csv"].map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = wd.run(&args);
    assert_eq!(out.status.code(), Some(3), "the alert fires: {}", stderr(&out));
    let scan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(scan["claimed"].is_object() && scan["alert"].is_object());
    assert!(scan["signals"]["birth_years"].is_object() && scan["best_snapshot"].is_string());
    assert_eq!(schema_errors(&scan), Vec::<String>::new());
    for (i, r) in wd.ok(&["plan", "--shards", "2", "g/leak.csv"]).lines().enumerate() {
        let (id, p) = (format!("s{i}"), format!("p{i}.json"));
        wd.ok(&[
            "scan",
            "-q",
            "--key-file",
            &key,
            "--filter",
            "f.lmf",
            "--range",
            r,
            "--shard-id",
            &id,
            "--partial",
            &p,
            "g/leak.csv",
        ]);
    }
    for partials in [&["p0.json", "p1.json"][..], &["p1.json"]] {
        let mut args = vec!["merge", "-q", "--json", "--allow-partial"];
        args.extend(partials);
        let merged: Value = serde_json::from_str(&wd.ok(&args)).unwrap();
        assert_eq!(merged["inputs"][0]["coverage"].is_object(), partials.len() == 1);
        assert_eq!(schema_errors(&merged), Vec::<String>::new());
    }
    // The schema has teeth: a float count, a missing section, another version are caught.
    let mut bad = scan.clone();
    bad["signals"]["duplicates"]["duplicates"] = serde_json::json!(52.5);
    assert!(!schema_errors(&bad).is_empty());
    let mut bad = scan.clone();
    bad.as_object_mut().unwrap().remove("verdict");
    assert!(!schema_errors(&bad).is_empty());
    let mut bad = scan;
    bad["schema_version"] = serde_json::json!(1);
    assert!(!schema_errors(&bad).is_empty());
}

#[test]
fn quiet_is_accepted_by_every_command_and_silences_stderr() {
    let wd = Workdir::new();
    let help = stdout(&wd.run(&["--help"]));
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 13, "{commands:?}");
    for c in &commands {
        let h = stdout(&wd.run(&[c, "--help"]));
        assert!(h.contains("--quiet"), "{c} --help lists --quiet");
    }
    let key = wd.fixed_key("k", 7);
    wd.write("c.csv", customers_csv());
    let silent = |args: &[&str]| {
        let out = wd.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?} is silent with --quiet");
        stdout(&out)
    };
    silent(&["keygen", "--quiet", "--out", "k2"]);
    silent(&["build", "--quiet", "--key-file", &key, "--out", "a.lmf", "c.csv"]);
    silent(&["--quiet", "build", "--key-file", &key, "--out", "b.lmf", "c.csv"]);
    silent(&["union", "-q", "--key-file", &key, "--out", "u.lmf", "a.lmf", "a.lmf"]);
    silent(&["generate", "-q", "--out-dir", "g", "--customers", "100", "--leak", "50"]);
    silent(&["scan", "-q", "--key-file", &key, "--filter", "a.lmf", "c.csv", "c.csv"]);
    silent(&["inspect", "-q", "a.lmf"]);
    silent(&["plan", "-q", "--shards", "2", "c.csv"]);
    silent(&["completions", "-q", "bash"]);
    silent(&["man", "-q"]);
    let out = wd.run(&["keygen", "--out", "k3"]);
    assert!(!out.stderr.is_empty(), "without --quiet keygen says what it wrote");
}

#[test]
fn build_and_generate_refuse_to_overwrite_without_force() {
    let wd = Workdir::new();
    let key = wd.fixed_key("k", 9);
    wd.write("c.csv", customers_csv());
    wd.write("f.lmf", "precious");
    let out = wd.run(&["build", "-q", "--key-file", &key, "--out", "f.lmf", "c.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("f.lmf already exists; pass --force"), "{}", stderr(&out));
    assert_eq!(std::fs::read(wd.path("f.lmf")).unwrap(), b"precious");
    wd.ok(&["build", "-q", "--force", "--key-file", &key, "--out", "f.lmf", "c.csv"]);
    assert_ne!(std::fs::read(wd.path("f.lmf")).unwrap(), b"precious");
    let gen = ["generate", "-q", "--out-dir", "g", "--customers", "100", "--leak", "50"];
    wd.ok(&gen);
    wd.write("g/leak.csv", "edited");
    let out = wd.run(&gen);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("already exists; pass --force"));
    assert_eq!(std::fs::read(wd.path("g/leak.csv")).unwrap(), b"edited");
    let mut forced = gen.to_vec();
    forced.push("--force");
    wd.ok(&forced);
    assert_ne!(std::fs::read(wd.path("g/leak.csv")).unwrap(), b"edited");
}

#[test]
fn zero_threads_and_absurd_shard_counts_are_refused() {
    let wd = Workdir::new();
    let key = wd.fixed_key("k", 3);
    wd.write("c.csv", customers_csv());
    wd.ok(&["build", "-q", "--key-file", &key, "--out", "f.lmf", "c.csv"]);
    for j in ["0", "100000"] {
        let out =
            wd.run(&["scan", "-q", "-j", j, "--key-file", &key, "--filter", "f.lmf", "c.csv"]);
        assert_eq!(out.status.code(), Some(2), "-j {j}");
        assert!(stderr(&out).contains("between 1 and"));
    }
    assert!(wd
        .run(&["scan", "-q", "-j", "1", "--key-file", &key, "--filter", "f.lmf", "c.csv"])
        .status
        .success());
    let len = std::fs::metadata(wd.path("c.csv")).unwrap().len();
    for n in ["0".to_string(), "1000000000".to_string(), (len + 1).to_string()] {
        let out = wd.run(&["plan", "--shards", &n, "c.csv"]);
        assert_eq!(out.status.code(), Some(2), "--shards {n}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
    assert_eq!(wd.ok(&["plan", "--shards", &len.to_string(), "c.csv"]).lines().count() as u64, len);
}

#[test]
fn completions_and_man_pages_describe_the_commands() {
    let wd = Workdir::new();
    let bash = wd.ok(&["completions", "bash"]);
    assert!(bash.contains("_leakmatch()") && bash.contains("--claimed-size"));
    let zsh = wd.ok(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef leakmatch"));
    let fish = wd.ok(&["completions", "fish"]);
    assert!(fish.contains("complete -c leakmatch") && fish.contains("allow-partial"));
    let man = wd.ok(&["man"]);
    assert!(man.contains(".TH leakmatch") && man.contains("scan"), "{man}");
    let scan = wd.ok(&["man", "scan"]);
    assert!(scan.contains(".TH leakmatch-scan 1") && scan.contains("claimed\\-size"), "{scan}");
    let out = wd.run(&["man", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(wd.run(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn html_report_has_every_section_and_renders_at_800_px() {
    let (wd, key, truth) = case(&["--seed", "29", "--snapshots", "3", "--canaries", "40"]);
    wd.ok(&[
        "build",
        "-q",
        "--key-file",
        &key,
        "--out",
        "c.lmf",
        "--role",
        "canary",
        "--label",
        "planted",
        "g/canaries.csv",
    ]);
    let mut args: Vec<String> =
        ["scan", "-q", "--key-file", &key, "--filter", "f.lmf", "--filter", "c.lmf"]
            .map(String::from)
            .to_vec();
    for d in truth["snapshot_dates"].as_array().unwrap() {
        let d = d.as_str().unwrap();
        let (out, input) = (format!("s{d}.lmf"), format!("g/snapshots/customers_{d}.csv"));
        let label = format!("snapshot {d}");
        wd.ok(&[
            "build",
            "-q",
            "--key-file",
            &key,
            "--out",
            &out,
            "--label",
            &label,
            "--snapshot-date",
            d,
            &input,
        ]);
        args.extend(["--filter".into(), out]);
    }
    args.extend(["--claimed-size", "330000", "--html", "r.html", "g/leak.csv"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    wd.ok(&args);
    let html = std::fs::read_to_string(wd.path("r.html")).unwrap();
    assert!(html.contains("<meta name=\"viewport\" content=\"width=device-width"));
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(wd.path("g/leak.csv")).unwrap()))
    };
    let best = format!("snapshot {}", truth["leak_snapshot"].as_str().unwrap());
    let expected = [
        sha.as_str(),
        "Column mapping",
        "'planted' (role canary)",
        "Claim EXAGGERATED",
        "id=\"best-snapshot\"",
        "← best fit",
        "FP-corrected match rate (bar: estimate",
        "share of rows",
        "birth year (bucket start)",
        "FPR (false-positive rate)",
        "Total variation distance",
    ];
    for e in expected {
        assert!(html.contains(e), "{e} in the page");
    }
    let best_row = html.split("id=\"best-snapshot\"").nth(1).unwrap();
    assert!(best_row.split("</tr>").next().unwrap().contains(&best), "the best fit is marked");
    crate::forensics::browser_check(&wd, "r.html", 800, &SECTION_IDS);
}

/// The `id`s of the HTML report's sections (`leakmatch::report::html::SECTIONS`).
const SECTION_IDS: [&str; 9] = [
    "verdict-section",
    "inputs",
    "filters",
    "claimed",
    "rates",
    "snapshots",
    "births",
    "gdpr",
    "legend",
];

#[test]
fn section_ids_match_the_renderer() {
    let ids: Vec<&str> = leakmatch::report::html::SECTIONS.iter().map(|s| s.0).collect();
    assert_eq!(ids, SECTION_IDS);
}
