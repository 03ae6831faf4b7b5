//! The Spark example (`examples/spark/leakmatch_spark.py`) on Spark in local mode: shards piped
//! through `RDD.pipe`, merged; equal to one scan; a damaged filter fails the job with the
//! tool's exit code; no value of the dump in Spark's output. Skipped (with a message) when
//! pyspark or java is missing (`.ci/run` installs pyspark).

use std::process::{Command, Output};
use std::time::Instant;

use serde_json::Value;

use crate::workdir::{contains, Workdir};

fn available() -> bool {
    let ok = |cmd: &str, args: &[&str]| {
        Command::new(cmd).args(args).output().map(|o| o.status.success()).unwrap_or(false)
    };
    ok("java", &["-version"]) && ok("python3", &["-c", "import pyspark"])
}

fn driver(wd: &Workdir, key: &str, filter: &str) -> Output {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/spark/leakmatch_spark.py");
    Command::new("python3")
        .current_dir(wd.root())
        .args([script, "--leakmatch", env!("CARGO_BIN_EXE_leakmatch"), "--key-file", key])
        .args(["--filter", filter, "--shards", "4", "--master", "local[2]", "--json"])
        .arg("g/leak.csv")
        .env_remove("LEAKMATCH_KEY_FILE")
        .output()
        .expect("run python3")
}

/// A report without what differs between a scan and a merge (time, paths, whole-file hash).
fn comparable(mut v: Value) -> Value {
    let o = v.as_object_mut().unwrap();
    o.remove("timing");
    for i in o["inputs"].as_array_mut().unwrap() {
        let i = i.as_object_mut().unwrap();
        i.remove("sha256");
        i.remove("path");
    }
    for f in o["filters"].as_array_mut().unwrap() {
        f.as_object_mut().unwrap().remove("path");
    }
    v
}

/// Values of the dump's rows (not its header) that must never appear in any output.
fn dump_values(wd: &Workdir) -> Vec<String> {
    let leak = std::fs::read_to_string(wd.path("g/leak.csv")).unwrap();
    let fields = leak.lines().skip(1).take(50).flat_map(|l| l.split([';', ',', '\t', '|']));
    fields.map(|v| v.trim_matches('"').to_string()).filter(|v| v.len() >= 8).collect()
}

#[test]
fn spark_shards_merge_to_the_single_scan_and_fail_with_the_tools_exit_code() {
    if !available() {
        eprintln!("spark test skipped: needs java and python3 with pyspark (pip install pyspark)");
        return;
    }
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.ok(&["generate", "--out-dir", "g", "--customers", "5000", "--leak", "3000", "--seed", "3"]);
    wd.ok(&["build", "-q", "--key-file", &key, "--out", "f.lmf", "g/customers.csv"]);
    let single: Value =
        wd.json(&["scan", "-q", "--json", "--key-file", &key, "--filter", "f.lmf", "g/leak.csv"]);
    let start = Instant::now();
    let out = driver(&wd, &key, "f.lmf");
    eprintln!("spark run (4 shards, local[2]): {:.1} s", start.elapsed().as_secs_f64());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "spark driver failed: {stderr}");
    let merged: Value = serde_json::from_slice(&out.stdout).expect("the merged JSON report");
    assert_eq!(comparable(merged), comparable(single));

    let mut damaged = std::fs::read(wd.path("f.lmf")).unwrap();
    damaged[5000] ^= 0x10;
    wd.write("damaged.lmf", damaged);
    let bad = driver(&wd, &key, "damaged.lmf");
    assert_eq!(bad.status.code(), Some(2), "{}", String::from_utf8_lossy(&bad.stderr));

    for v in dump_values(&wd) {
        for o in [&out, &bad] {
            assert!(
                !contains(&o.stdout, &v) && !contains(&o.stderr, &v),
                "a dump value in Spark's output"
            );
        }
    }
}
