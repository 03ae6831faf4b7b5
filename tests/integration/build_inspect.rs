use serde_json::Value;

use crate::workdir::{contains, customers_csv, Workdir, CANARY_MAIL, CANARY_NAME};

fn built() -> (Workdir, String) {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write("c.csv", customers_csv());
    wd.ok(&[
        "build",
        "--key-file",
        &key,
        "--out",
        "f.lmf",
        "--label",
        "AOK Test",
        "--snapshot-date",
        "2026-10-01",
        "c.csv",
    ]);
    (wd, key)
}

#[test]
fn build_then_inspect_round_trips_header_and_counts() {
    let (wd, _) = built();
    let v: Value = wd.json(&["inspect", "--json", "f.lmf"]);
    assert_eq!(v["label"], "AOK Test");
    assert_eq!(v["role"], "customers");
    assert_eq!(v["snapshot_date"], "2026-10-01");
    assert_eq!(v["metadata"]["rows"], 3);
    let kinds: Vec<&str> =
        v["sections"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["kvnr", "email", "phone", "name_dob", "kvnr+name_dob", "email+name_dob"]);
    assert_eq!(v["default_kinds"].as_array().unwrap().len(), 6);
    assert!(v["pair_kinds"].as_str().unwrap().contains("bytes extra"), "{}", v["pair_kinds"]);
    for s in v["sections"].as_array().unwrap() {
        assert_eq!(s["inserted"], 3, "{s}");
        assert!(s["achieved_fpr"].as_f64().unwrap() < 1e-6);
    }
    assert_eq!(v["mac"], "not checked (no key)");
    let text = wd.ok(&["inspect", "f.lmf"]);
    assert!(text.contains("AOK Test") && text.contains("name_dob"), "{text}");
}

#[test]
fn inspect_with_key_verifies_mac_and_refuses_other_key() {
    let (wd, key) = built();
    let v: Value = wd.json(&["inspect", "--json", "--key-file", &key, "f.lmf"]);
    assert_eq!(v["mac"], "verified");
    let other = wd.keygen("other");
    let out = wd.run(&["inspect", "--key-file", &other, "f.lmf"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("f.lmf") && err.to_lowercase().contains("key"), "{err}");
}

#[test]
fn no_raw_value_in_anything_build_or_inspect_writes() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write("c.csv", customers_csv());
    let b = wd.run(&["build", "--key-file", &key, "--out", "f.lmf", "c.csv"]);
    let i = wd.run(&["inspect", "--json", "--key-file", &key, "f.lmf"]);
    let t = wd.run(&["inspect", "f.lmf"]);
    let mut outputs = vec![b.stdout, b.stderr, i.stdout, i.stderr, t.stdout, t.stderr];
    for (path, bytes) in wd.all_files() {
        if path.file_name().is_some_and(|n| n != "c.csv") {
            outputs.push(bytes);
        }
    }
    assert!(outputs.len() >= 8, "the filter and key were checked too");
    for needle in [CANARY_NAME, CANARY_MAIL, "canary.leakcheck", "M234567898", "zzqanarywitz"] {
        for o in &outputs {
            assert!(!contains(o, needle), "found a raw value in an output");
        }
    }
}

#[test]
fn damaged_filters_are_refused_with_their_own_messages() {
    let (wd, _) = built();
    let good = std::fs::read(wd.path("f.lmf")).unwrap();
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    cases.push(("truncated", good[..good.len() - 100].to_vec()));
    let mut padded = good.clone();
    padded.push(0);
    cases.push(("padded", padded));
    let mut flipped = good.clone();
    let mid = good.len() - 48 - 64;
    flipped[mid] ^= 0x10;
    cases.push(("flipped", flipped));
    let mut magic = good.clone();
    magic[1] = b'X';
    cases.push(("magic", magic));
    let mut messages = Vec::new();
    for (name, bytes) in &cases {
        wd.write(name, bytes);
        let out = wd.run(&["inspect", name]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(err.contains(name), "{name}: error names the file: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: one line: {err}");
        messages.push(err.replace(name, ""));
    }
    messages.sort();
    messages.dedup();
    assert_eq!(messages.len(), cases.len(), "each damage has its own message: {messages:?}");
}

#[test]
fn failed_build_leaves_no_file() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write("c.csv", "foo,bar\n1,2\n");
    let out = wd.run(&["build", "--key-file", &key, "--out", "f.lmf", "c.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!wd.path("f.lmf").exists());
    let names: Vec<_> =
        std::fs::read_dir(wd.root()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "no temp file left: {names:?}");
}

#[test]
fn map_assigns_columns_by_name_and_index() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write("c.csv", "id;mail;x\nA123456780;a@b.de;1\nZ987654321;c@d.de;2\n");
    wd.ok(&[
        "build",
        "--key-file",
        &key,
        "--out",
        "f.lmf",
        "--map",
        "kvnr=1",
        "--map",
        "email=mail",
        "c.csv",
    ]);
    let v: Value = wd.json(&["inspect", "--json", "f.lmf"]);
    let kinds: Vec<&str> =
        v["sections"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["kvnr", "email"]);
    assert_eq!(v["sections"][0]["inserted"], 2);
}

/// `scan` checks a filter's MAC only, and on failure tells damage from another key.
#[test]
fn scan_tells_a_damaged_filter_from_another_key() {
    let (wd, key) = built();
    let mut flipped = std::fs::read(wd.path("f.lmf")).unwrap();
    let mid = flipped.len() - 48 - 64;
    flipped[mid] ^= 0x10;
    wd.write("damaged.lmf", flipped);
    let other = wd.keygen("other");
    let scan = |key: &str, filter: &str| {
        let out = wd.run(&["scan", "--quiet", "--key-file", key, "--filter", filter, "c.csv"]);
        assert_eq!(out.status.code(), Some(2), "{filter}");
        String::from_utf8(out.stderr).unwrap()
    };
    let damaged = scan(&key, "damaged.lmf");
    assert!(damaged.contains("damaged.lmf") && damaged.contains("checksum mismatch"), "{damaged}");
    // Another key is caught by the key id before any hashing.
    let wrong = scan(&other, "f.lmf");
    assert!(wrong.contains("f.lmf") && !wrong.contains("checksum"), "{wrong}");
    wd.ok(&["scan", "--quiet", "--key-file", &key, "--filter", "f.lmf", "c.csv"]);
}
