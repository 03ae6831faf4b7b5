use serde_json::Value;

use crate::workdir::{contains, customers_csv, Workdir};

/// Generates a small base and leak, builds the filter; returns (workdir, key path, truth).
/// Generated customers and leak (seed 7) and a filter of them under a fixed key: a Bloom
/// false positive (the exact-hit checks allow none) depends on the key, so a random key
/// would make those checks fail now and then; a fixed one makes every run the same.
fn generated(customers: &str, leak: &str) -> (Workdir, String, Value) {
    let wd = Workdir::new();
    let key = wd.fixed_key("k", 0x2c);
    wd.ok(&["generate", "--out-dir", "g", "--customers", customers, "--leak", leak, "--seed", "7"]);
    wd.ok(&[
        "build",
        "--quiet",
        "--key-file",
        &key,
        "--out",
        "f.lmf",
        "--kinds",
        "kvnr,email,phone,name_dob,kvnr+name_dob",
        "g/customers.csv",
    ]);
    let truth: Value =
        serde_json::from_slice(&std::fs::read(wd.path("g/truth.json")).unwrap()).unwrap();
    (wd, key, truth)
}

fn scan_json(wd: &Workdir, args: &[&str]) -> Value {
    serde_json::from_str(&wd.ok(args)).expect("scan --json prints one JSON object")
}

#[test]
fn estimates_cover_the_truth_and_are_exact_when_fpr_is_negligible() {
    let (wd, key, truth) = generated("20000", "6000");
    let v = scan_json(
        &wd,
        &["scan", "--quiet", "--json", "--key-file", &key, "--filter", "f.lmf", "g/leak.csv"],
    );
    assert_eq!(v["schema_version"], leakmatch::report::SCHEMA_VERSION);
    assert_eq!(v["records"]["total"], truth["leak_rows"]);
    let f = &v["filters"][0];
    let mut checked = 0;
    for k in f["kinds"].as_array().unwrap() {
        let kind = k["kind"].as_str().unwrap();
        let Some(t) = truth["matches"][kind].as_f64() else { continue };
        let (lo, hi, est, fpr, valid) = (
            k["ci_low"].as_f64().unwrap(),
            k["ci_high"].as_f64().unwrap(),
            k["estimate"].as_f64().unwrap(),
            k["fpr"].as_f64().unwrap(),
            k["valid"].as_f64().unwrap(),
        );
        assert!(lo <= t && t <= hi, "{kind}: truth {t} outside [{lo}, {hi}]");
        if valid * fpr < 0.01 {
            assert_eq!(k["hits"].as_f64().unwrap(), t, "{kind}: exact hits when FP are negligible");
            assert!((est - t).abs() < 0.5, "{kind}: estimate {est} vs {t}");
        }
        checked += 1;
    }
    assert!(checked >= 4, "kinds compared with truth: {checked}");
    assert_eq!(v["records"]["matched_any"], truth["rows_matched_any"]);
    assert_eq!(v["records"]["matched_two_plus"], truth["rows_matched_two_plus"]);
}

#[test]
fn claimed_size_extrapolates_with_interval() {
    let (wd, key, _) = generated("5000", "2000");
    let v = scan_json(
        &wd,
        &[
            "scan",
            "--quiet",
            "--json",
            "--key-file",
            &key,
            "--filter",
            "f.lmf",
            "--claimed-size",
            "330000",
            "g/leak.csv",
        ],
    );
    let c = &v["claimed"];
    let (est, lo, hi) = (
        c["estimate"].as_f64().unwrap(),
        c["ci_low"].as_f64().unwrap(),
        c["ci_high"].as_f64().unwrap(),
    );
    let rate = v["filters"][0]["matched_any"].as_f64().unwrap()
        / v["filters"][0]["rows_probed"].as_f64().unwrap();
    assert!((est - rate * 330_000.0).abs() / est < 0.01, "{est} vs {}", rate * 330_000.0);
    assert!(lo < est && est < hi && hi <= 330_000.0);
}

#[test]
fn alert_above_exits_3_only_when_lower_bound_exceeds() {
    let (wd, key, _) = generated("5000", "2000");
    let args = |rate: &'static str| {
        vec![
            "scan",
            "--quiet",
            "--key-file",
            key.as_str(),
            "--filter",
            "f.lmf",
            "--alert-above",
            rate,
            "g/leak.csv",
        ]
    };
    assert_eq!(wd.run(&args("0.1")).status.code(), Some(3));
    assert_eq!(wd.run(&args("0.99")).status.code(), Some(0));
    assert_eq!(wd.run(&args("1.5")).status.code(), Some(2));
}

#[test]
fn filter_with_other_key_is_refused_naming_it() {
    let (wd, _, _) = generated("2000", "500");
    let other = wd.keygen("other");
    let out = wd.run(&["scan", "--key-file", &other, "--filter", "f.lmf", "g/leak.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("f.lmf") && err.contains("key id"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn windows_1252_and_utf8_dumps_give_the_same_counts() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write("c.csv", customers_csv());
    wd.ok(&["build", "--quiet", "--key-file", &key, "--out", "f.lmf", "c.csv"]);
    let utf8 = "Nachname;Vorname;Geburtsdatum\nMüller;Jürgen;15.03.1961\nSchmidt;Anna;1972-04-15\nGroß;Jörg;01.01.1990\n";
    wd.write("u.csv", utf8);
    let (cp, _, bad) = encoding_rs::WINDOWS_1252.encode(utf8);
    assert!(!bad);
    wd.write("w.csv", &cp);
    let a = scan_json(
        &wd,
        &["scan", "--quiet", "--json", "--key-file", &key, "--filter", "f.lmf", "u.csv"],
    );
    let b = scan_json(
        &wd,
        &["scan", "--quiet", "--json", "--key-file", &key, "--filter", "f.lmf", "w.csv"],
    );
    assert_eq!(a["inputs"][0]["encoding"], "utf-8");
    assert_eq!(b["inputs"][0]["encoding"], "windows-1252");
    assert_eq!(a["filters"][0]["kinds"], b["filters"][0]["kinds"]);
    let name_dob = a["filters"][0]["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "name_dob")
        .unwrap();
    assert_eq!(name_dob["hits"], 2);
}

#[test]
fn canary_in_dump_appears_in_no_output() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write("c.csv", customers_csv());
    wd.ok(&["build", "--quiet", "--key-file", &key, "--out", "f.lmf", "c.csv"]);
    let canary = "Qxcanaryvogel";
    let mail = "qx.canary.4411@leak.example";
    wd.write(
        "d.csv",
        format!("KVNR,Nachname,Vorname,Geburtsdatum,E-Mail\nB111111115,{canary},Udo,1950-05-05,{mail}\nA123456780,Müller,Jürgen,1961-03-15,x\n\"broken,{canary}\n"),
    );
    let text = wd.run(&["scan", "--key-file", &key, "--filter", "f.lmf", "d.csv"]);
    let json = wd.run(&["scan", "--json", "--key-file", &key, "--filter", "f.lmf", "d.csv"]);
    for o in [&text.stdout, &text.stderr, &json.stdout, &json.stderr] {
        for needle in [canary, mail, "B111111115", "qxcanaryvogel"] {
            assert!(!contains(o, needle), "raw value leaked into output");
        }
    }
    assert!(text.status.success());
}

#[test]
fn dump_given_twice_is_scanned_once() {
    let (wd, key, truth) = generated("2000", "500");
    let out = wd
        .cmd()
        .args([
            "scan",
            "--json",
            "--key-file",
            &key,
            "--filter",
            "f.lmf",
            "g/leak.csv",
            "./g/leak.csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("given twice"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["records"]["total"], truth["leak_rows"]);
}

#[test]
fn text_report_names_columns_and_estimates() {
    let (wd, key, _) = generated("2000", "500");
    let text = wd.ok(&["scan", "--quiet", "--key-file", &key, "--filter", "f.lmf", "g/leak.csv"]);
    for needle in ["Versichertennummer", "kvnr", "name_dob", "95 % CI", "sha256", "delimiter ';'"] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
}

#[test]
fn a_data_row_taken_for_a_header_is_not_printed() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write("c.csv", customers_csv());
    wd.ok(&["build", "--quiet", "--key-file", &key, "--out", "f.lmf", "c.csv"]);
    wd.write("d.csv", "Qxzanarybaum;Ottilie\nA123456780;Anna\nZ987654321;Berta\n");
    let args = ["scan", "--key-file", &key, "--filter", "f.lmf", "--map", "kvnr=1", "d.csv"];
    let text = wd.run(&args);
    let mut json_args = args.to_vec();
    json_args.insert(1, "--json");
    let json = wd.run(&json_args);
    assert!(text.status.success() && json.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains("column 1"));
    for o in [&text.stdout, &text.stderr, &json.stdout, &json.stderr] {
        assert!(!contains(o, "Qxzanarybaum") && !contains(o, "Ottilie"), "a header cell leaked");
    }
}

#[test]
fn distinct_sets_spilled_to_disk_count_what_sets_in_memory_count() {
    // More distinct matching KVNRs than one set keeps in memory (SPILL_AT = 65,536), so the
    // default scan writes sorted runs to its temporary file; with an unusable $TMPDIR the same
    // scan keeps them in memory, warns once, and must report the same numbers.
    let (wd, key, _) = generated("120000", "150000");
    let args = ["scan", "--json", "--key-file", &key, "--filter", "f.lmf", "g/leak.csv"];
    let spilled = wd.run(&args);
    assert!(spilled.status.success());
    assert!(!contains(&spilled.stderr, "spill"), "{}", String::from_utf8_lossy(&spilled.stderr));
    let in_memory = wd.cmd().env("TMPDIR", wd.path("no-such-dir")).args(args).output().unwrap();
    assert!(in_memory.status.success());
    let err = String::from_utf8_lossy(&in_memory.stderr);
    assert_eq!(err.matches("warning: could not create the distinct-count spill file").count(), 1);
    assert!(err.contains("kept in memory"), "{err}");
    let report = |out: &[u8]| {
        let mut v: Value = serde_json::from_slice(out).unwrap();
        v.as_object_mut().unwrap().remove("timing");
        v
    };
    let (a, b) = (report(&spilled.stdout), report(&in_memory.stdout));
    assert_eq!(a, b);
    let kinds = a["filters"][0]["kinds"].as_array().unwrap();
    let kvnr = kinds.iter().find(|k| k["kind"] == "kvnr").unwrap();
    let distinct = kvnr["distinct_hits"].as_f64().unwrap();
    assert!(distinct > 65_536.0, "the spill path was taken: {kvnr}");
    assert_eq!(kvnr["distinct_exact"], Value::Bool(true));

    // `merge` reads the same sets back from a partial: it spills them too, and without a
    // usable $TMPDIR it warns the same way and counts the same.
    let mut shard = args.to_vec();
    shard.extend(["--shard-id", "all", "--partial", "p.json"]);
    wd.ok(&shard);
    let merge = ["merge", "--json", "p.json"];
    let merged = wd.run(&merge);
    assert!(merged.status.success());
    assert!(!contains(&merged.stderr, "spill"), "{}", String::from_utf8_lossy(&merged.stderr));
    let merged_in_memory =
        wd.cmd().env("TMPDIR", wd.path("no-such-dir")).args(merge).output().unwrap();
    assert!(merged_in_memory.status.success());
    let err = String::from_utf8_lossy(&merged_in_memory.stderr);
    assert_eq!(err.matches("warning: could not create the distinct-count spill file").count(), 1);
    let (m, n) = (report(&merged.stdout), report(&merged_in_memory.stdout));
    assert_eq!(m, n);
    assert_eq!(m["filters"][0]["kinds"], a["filters"][0]["kinds"], "merge counts as the scan");
}

#[test]
fn a_filter_of_pair_kinds_only_says_no_independent_kind_was_probed() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.ok(&["generate", "--out-dir", "g", "--customers", "2000", "--leak", "1000", "--seed", "3"]);
    let build = ["build", "-q", "--key-file", &key, "--kinds", "kvnr+name_dob", "--out", "f.lmf"];
    wd.ok(&[&build[..], &["g/customers.csv"]].concat());
    let text = wd.ok(&["scan", "--key-file", &key, "--filter", "f.lmf", "g/leak.csv"]);
    let line = text.lines().find(|l| l.contains("distinct affected people")).unwrap();
    assert!(line.contains("no independent kind"), "{line}");
    assert!(!line.contains("matching  values"), "{line}");
}
