//! Every file in `samples/` with a `NAME.truth.json` sidecar is scanned against a filter of
//! `samples/customers.csv` (fresh key) and must give the sidecar's records, malformed, valid
//! and hits per kind (kinds the sidecar leaves out: none valid; the filter holds the base
//! kinds the sidecars describe). A new sample needs no code.

use std::path::PathBuf;

use serde_json::Value;

use crate::workdir::Workdir;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples")
}

#[test]
fn every_sample_matches_its_truth_sidecar() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    let customers = samples().join("customers.csv");
    // The sidecars count the base kinds (the default set's pair kinds are tested elsewhere).
    let kinds = "kvnr,email,phone,name_dob";
    let customers = customers.to_str().unwrap();
    wd.ok(&["build", "--quiet", "--key-file", &key, "--out", "f.lmf", "--kinds", kinds, customers]);
    let mut checked = 0;
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(samples()).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for truth_path in entries.iter().filter(|p| p.to_string_lossy().ends_with(".truth.json")) {
        let sample = PathBuf::from(truth_path.to_string_lossy().trim_end_matches(".truth.json"));
        let truth: Value = serde_json::from_slice(&std::fs::read(truth_path).unwrap()).unwrap();
        let name = sample.file_name().unwrap().to_string_lossy().into_owned();
        let out = wd.ok(&[
            "scan",
            "--quiet",
            "--json",
            "--key-file",
            &key,
            "--filter",
            "f.lmf",
            sample.to_str().unwrap(),
        ]);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["records"]["total"], truth["records"], "{name}: records");
        assert_eq!(v["records"]["malformed"], truth["malformed"], "{name}: malformed");
        for k in v["filters"][0]["kinds"].as_array().unwrap() {
            let kind = k["kind"].as_str().unwrap();
            let want = |what: &str| truth[what][kind].as_u64().unwrap_or(0);
            assert_eq!(k["valid"].as_u64().unwrap(), want("valid"), "{name}: valid {kind}");
            assert_eq!(k["hits"].as_u64().unwrap(), want("hits"), "{name}: hits {kind}");
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} samples found");
}
