//! Separated mode: a filter of the dump, compared with the customers' filter without the key.

use serde_json::Value;

use crate::workdir::Workdir;

#[test]
fn compare_of_dump_filter_covers_the_known_overlap() {
    let wd = Workdir::new();
    // A fixed key: with a random one, four 95 % intervals all cover their truth only ~81 % of
    // the time; interval coverage itself is tested over many trials in `filter::compare`.
    let key = wd.fixed_key("k", 0x5a);
    wd.ok(&["generate", "--out-dir", "g", "--customers", "8000", "--leak", "4000", "--seed", "5"]);
    wd.ok(&["build", "-q", "--key-file", &key, "--out", "c.lmf", "g/customers.csv"]);
    wd.ok(&[
        "build",
        "-q",
        "--key-file",
        &key,
        "--role",
        "dump",
        "--like",
        "c.lmf",
        "--out",
        "d.lmf",
        "g/leak.csv",
    ]);
    let out = wd.ok(&["compare", "--json", "c.lmf", "d.lmf"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let truth: Value =
        serde_json::from_slice(&std::fs::read(wd.path("g/truth.json")).unwrap()).unwrap();
    let mut checked = 0;
    for k in v["kinds"].as_array().unwrap() {
        let kind = k["kind"].as_str().unwrap();
        let Some(t) = truth["distinct_matches"][kind].as_f64() else { continue };
        let i = &k["intersection"];
        let (lo, hi) = (i["ci_low"].as_f64().unwrap(), i["ci_high"].as_f64().unwrap());
        assert!(lo <= t && t <= hi, "{kind}: truth {t} outside [{lo}, {hi}]");
        assert!(hi - lo < 0.05 * t, "{kind}: interval too wide: [{lo}, {hi}]");
        checked += 1;
    }
    assert!(checked >= 4, "kinds checked: {checked}");
    assert!(wd.ok(&["compare", "c.lmf", "d.lmf"]).contains("|A ∩ B|"));
}

#[test]
fn compare_refuses_other_keys_and_geometries() {
    let wd = Workdir::new();
    let (k1, k2) = (wd.keygen("k1"), wd.keygen("k2"));
    wd.ok(&["generate", "--out-dir", "g", "--customers", "500", "--leak", "100"]);
    wd.ok(&["build", "-q", "--key-file", &k1, "--out", "a.lmf", "g/customers.csv"]);
    wd.ok(&["build", "-q", "--key-file", &k2, "--out", "b.lmf", "g/customers.csv"]);
    wd.ok(&["build", "-q", "--key-file", &k1, "--out", "c.lmf", "--expected", "9", "g/leak.csv"]);
    let out = wd.run(&["compare", "a.lmf", "b.lmf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("different keys"));
    let out = wd.run(&["compare", "a.lmf", "c.lmf"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("geometry") && err.contains("--like"), "{err}");
}
