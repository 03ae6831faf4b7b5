//! Scale-out: range shards, partials, merge, union of filters built on shards.

use leakmatch::filter::{FilterFile, OpenOptions};
use serde_json::Value;

use crate::workdir::{contains, Workdir};

/// Generated base and leak (the leak has quoted fields and dialect noise), key, filter.
fn setup() -> (Workdir, String) {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.ok(&["generate", "--out-dir", "g", "--customers", "6000", "--leak", "3000", "--seed", "11"]);
    wd.ok(&[
        "build",
        "-q",
        "--key-file",
        &key,
        "--out",
        "f.lmf",
        "--expected",
        "6000",
        "g/customers.csv",
    ]);
    (wd, key)
}

/// A report without what legitimately differs between a scan and a merge.
fn comparable(mut v: Value) -> Value {
    let o = v.as_object_mut().unwrap();
    o.remove("timing");
    for i in o["inputs"].as_array_mut().unwrap() {
        i.as_object_mut().unwrap().remove("sha256");
    }
    v
}

fn partials(wd: &Workdir, key: &str, n: usize) -> Vec<String> {
    let plan = wd.ok(&["plan", "--shards", &n.to_string(), "g/leak.csv"]);
    let ranges: Vec<&str> = plan.lines().collect();
    assert_eq!(ranges.len(), n);
    let mut out = Vec::new();
    for (i, r) in ranges.iter().enumerate() {
        let (id, file) = (format!("shard-{i}"), format!("p{i}.json"));
        wd.ok(&[
            "scan",
            "-q",
            "--key-file",
            key,
            "--filter",
            "f.lmf",
            "--range",
            r,
            "--shard-id",
            &id,
            "--partial",
            &file,
            "g/leak.csv",
        ]);
        out.push(file);
    }
    out
}

fn merge_json(wd: &Workdir, parts: &[String]) -> Value {
    let mut args = vec!["merge", "--json", "-q"];
    args.extend(parts.iter().map(String::as_str));
    serde_json::from_str(&wd.ok(&args)).unwrap()
}

#[test]
fn merge_of_range_shards_equals_one_scan() {
    let (wd, key) = setup();
    let single: Value = serde_json::from_str(&wd.ok(&[
        "scan",
        "-q",
        "--json",
        "--key-file",
        &key,
        "--filter",
        "f.lmf",
        "g/leak.csv",
    ]))
    .unwrap();
    for n in [1, 3, 7] {
        let parts = partials(&wd, &key, n);
        assert_eq!(comparable(merge_json(&wd, &parts)), comparable(single.clone()), "{n} shards");
    }
}

#[test]
fn a_repeated_partial_is_counted_once_and_partials_hold_no_value() {
    let (wd, key) = setup();
    let parts = partials(&wd, &key, 2);
    let once = merge_json(&wd, &parts);
    let mut twice = parts.clone();
    twice.push(parts[0].clone());
    assert_eq!(comparable(merge_json(&wd, &twice)), comparable(once.clone()));
    let leak = std::fs::read_to_string(wd.path("g/leak.csv")).unwrap();
    let row = leak.lines().nth(5).unwrap();
    let values: Vec<&str> = row.split([',', ';', '\t', '|']).filter(|v| v.len() >= 6).collect();
    assert!(!values.is_empty());
    let mut args = vec!["merge", "-q", "--html", "merged.html"];
    args.extend(parts.iter().map(String::as_str));
    let text = wd.ok(&args);
    let html = std::fs::read_to_string(wd.path("merged.html")).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>")
            && html.contains(&once["verdict"]["label"].as_str().unwrap().to_string())
    );
    let mut outputs: Vec<(String, Vec<u8>)> =
        parts.iter().map(|p| (p.clone(), std::fs::read(wd.path(p)).unwrap())).collect();
    outputs.push(("merged.html".into(), html.into_bytes()));
    outputs.push(("merge stdout".into(), text.into_bytes()));
    for (name, bytes) in &outputs {
        for v in &values {
            assert!(!contains(bytes, v.trim_matches('"')), "a value of the dump is in {name}");
        }
    }
}

#[test]
fn refuses_partials_of_other_filters_naming_the_file() {
    let (wd, key) = setup();
    let parts = partials(&wd, &key, 2);
    wd.ok(&[
        "build",
        "-q",
        "--key-file",
        &key,
        "--out",
        "g.lmf",
        "--expected",
        "9000",
        "g/customers.csv",
    ]);
    wd.ok(&[
        "scan",
        "-q",
        "--key-file",
        &key,
        "--filter",
        "g.lmf",
        "--shard-id",
        "x",
        "--partial",
        "other.json",
        "g/leak.csv",
    ]);
    let out = wd.run(&["merge", &parts[0], "other.json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("other.json") && err.contains("geometry"), "{err}");
    let out = wd.run(&["merge", &parts[0], "g/truth.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a leakmatch partial"));
}

#[test]
fn union_of_filters_built_on_shards_equals_the_one_pass_filter_bit_for_bit() {
    let (wd, key) = setup();
    let base = std::fs::read_to_string(wd.path("g/customers.csv")).unwrap();
    let mut lines = base.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let mut names = Vec::new();
    for (i, part) in rows.chunks(rows.len() / 3 + 1).enumerate() {
        let name = format!("c{i}.csv");
        wd.write(&name, format!("{header}\n{}\n", part.join("\n")));
        let out = format!("f{i}.lmf");
        wd.ok(&["build", "-q", "--key-file", &key, "--like", "f.lmf", "--out", &out, &name]);
        names.push(out);
    }
    let mut args = vec!["union", "--key-file", key.as_str(), "--out", "u.lmf"];
    args.extend(names.iter().map(String::as_str));
    wd.ok(&args);
    let open = |p: &str| FilterFile::open(&wd.path(p), &OpenOptions::default()).unwrap();
    let (one, union) = (open("f.lmf"), open("u.lmf"));
    assert_eq!(one.sections.len(), union.sections.len());
    for s in &one.sections {
        let (a, b) = (one.section(s.kind).unwrap(), union.section(s.kind).unwrap());
        assert_eq!(a.params(), b.params());
        assert!(a.blocks() == b.blocks(), "{}: bits differ", s.kind);
        let u = union.section_info(s.kind).unwrap();
        assert_eq!((u.inserted, u.achieved_fpr), (s.inserted, s.achieved_fpr));
    }
    wd.ok(&["scan", "-q", "--key-file", &key, "--filter", "u.lmf", "g/leak.csv"]);
}

#[test]
fn union_refuses_filters_of_other_geometry() {
    let (wd, key) = setup();
    wd.ok(&[
        "build",
        "-q",
        "--key-file",
        &key,
        "--out",
        "g.lmf",
        "--expected",
        "100",
        "g/customers.csv",
    ]);
    let out = wd.run(&["union", "--key-file", &key, "--out", "u.lmf", "f.lmf", "g.lmf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("g.lmf: kinds or geometry differ"));
    assert!(!wd.path("u.lmf").exists());
}
