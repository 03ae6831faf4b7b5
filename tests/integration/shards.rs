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
    let single: Value =
        wd.json(&["scan", "-q", "--json", "--key-file", &key, "--filter", "f.lmf", "g/leak.csv"]);
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

/// Per kind of the first filter: (distinct_hits, distinct_exact, ci_low, ci_high).
fn distinct(v: &Value) -> Vec<(String, f64, bool, f64, f64)> {
    v["filters"][0]["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let f = |n: &str| k[n].as_f64().unwrap();
            let exact = k["distinct_exact"].as_bool().unwrap();
            (
                k["kind"].as_str().unwrap().to_string(),
                f("distinct_hits"),
                exact,
                f("distinct_ci_low"),
                f("distinct_ci_high"),
            )
        })
        .collect()
}

#[test]
fn distinct_counts_are_exact_below_the_bound_within_error_above_and_merge_exactly() {
    let wd = Workdir::new();
    // A fixed key: the sketch's ±1.6 % is a 95 % interval, so with a random key one kind of
    // five would fall outside it in a few runs of a hundred (coverage: `sketch`'s tests).
    let key = wd.fixed_key("k", 0x5a);
    // 12,000 rows, 60 % customers: more distinct matches per kind than the old 4,096-entry
    // exact set held, far fewer than the default bound.
    let gen = ["generate", "--out-dir", "g", "--customers", "20000", "--leak", "12000"];
    wd.ok(&[&gen[..], &["--seed", "12", "--fabricated", "0"]].concat());
    wd.ok(&["build", "-q", "--key-file", &key, "--out", "f.lmf", "g/customers.csv"]);
    let truth: Value =
        serde_json::from_slice(&std::fs::read(wd.path("g/truth.json")).unwrap()).unwrap();
    let scan = |extra: &[&str]| -> Value {
        let mut args = vec!["scan", "-q", "--json", "--key-file", &key, "--filter", "f.lmf"];
        args.extend_from_slice(extra);
        args.push("g/leak.csv");
        serde_json::from_str(&wd.ok(&args)).unwrap()
    };
    let shards = |extra: &[&str]| -> Value {
        let plan = wd.ok(&["plan", "--shards", "3", "g/leak.csv"]);
        let mut files = Vec::new();
        for (i, r) in plan.lines().enumerate() {
            let (id, file) = (format!("s{i}"), format!("p{i}.json"));
            let mut args = vec!["scan", "-q", "--key-file", &key, "--filter", "f.lmf"];
            args.extend_from_slice(extra);
            args.extend_from_slice(&["--range", r, "--shard-id", &id, "--partial", &file]);
            args.push("g/leak.csv");
            wd.ok(&args);
            files.push(file);
        }
        for f in &files {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(wd.path(f)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{f}: partials hold token bits, owner only");
        }
        merge_json(&wd, &files)
    };

    let one = scan(&[]);
    let mut checked = 0;
    for (kind, d, exact, lo, hi) in distinct(&one) {
        assert!(exact, "{kind}: below the bound the count is exact");
        assert_eq!((lo, hi), (d, d), "{kind}");
        let Some(t) = truth["distinct_matches"][&kind].as_f64() else { continue };
        assert_eq!(d, t, "{kind}: exact distinct count equals the truth");
        if t > 4096.0 {
            checked += 1;
        }
    }
    assert!(checked >= 3, "kinds above the old exact limit: {checked}");
    let people = &one["signals"]["people"];
    assert_eq!(people["exact"], true, "{people}");
    assert_eq!(distinct(&shards(&[])), distinct(&one), "merged shards: the same exact counts");

    // A tiny bound forces the sketch: approximate, within its stated error, never above hits.
    let small = scan(&["--exact-distinct", "100"]);
    let hits: Vec<f64> = small["filters"][0]["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["hits"].as_f64().unwrap())
        .collect();
    for ((kind, d, exact, lo, hi), h) in distinct(&small).into_iter().zip(hits) {
        let Some(t) = truth["distinct_matches"][&kind].as_f64() else { continue };
        assert!(!exact, "{kind}");
        assert!(lo <= t && t <= hi, "{kind}: truth {t} outside [{lo}, {hi}]");
        assert!((d - t).abs() <= 0.016 * t + 1.0, "{kind}: {d} vs {t}");
        assert!(hi <= h && d <= h, "{kind}: at most the hits");
    }
    assert_eq!(small["signals"]["people"]["exact"], false);
    assert_eq!(distinct(&shards(&["--exact-distinct", "100"])), distinct(&small));
    let text = wd.ok(&[
        "scan",
        "-q",
        "--key-file",
        &key,
        "--exact-distinct",
        "100",
        "--filter",
        "f.lmf",
        "g/leak.csv",
    ]);
    assert!(text.contains("distinct affected people: ≈"), "{text}");
}
