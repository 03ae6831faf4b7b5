//! Every input format, mapped and streamed (file, `--no-mmap`, stdin, gzip, zstd): same counts.

use std::io::Write;

use serde_json::Value;

use crate::workdir::{contains, customers_csv, Workdir};

/// A workdir with a key and a filter of `customers_csv()`; returns it and the key path.
pub fn setup() -> (Workdir, String) {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write("customers.csv", customers_csv());
    wd.ok(&["build", "--quiet", "--key-file", &key, "--out", "f.lmf", "customers.csv"]);
    (wd, key)
}

/// Scans `input` with extra args; returns the JSON report.
pub fn scan(wd: &Workdir, key: &str, input: &str, extra: &[&str]) -> Value {
    let mut args = vec!["scan", "--quiet", "--json", "--key-file", key, "--filter", "f.lmf"];
    args.extend_from_slice(extra);
    args.push(input);
    serde_json::from_str(&wd.ok(&args)).expect("one JSON object")
}

/// Records, malformed, and (kind, valid, hits) of the report: what must not depend on how
/// the input was read.
pub fn counts(v: &Value) -> (Value, Value, Vec<(String, u64, u64)>) {
    let kinds = v["filters"][0]["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kind"].as_str().unwrap().to_owned(),
                k["valid"].as_u64().unwrap(),
                k["hits"].as_u64().unwrap(),
            )
        })
        .collect();
    (v["records"]["total"].clone(), v["records"]["malformed"].clone(), kinds)
}

fn hits(v: &Value, kind: &str) -> u64 {
    counts(v).2.iter().find(|k| k.0 == kind).map_or(0, |k| k.2)
}

/// Scans `name` mapped, with `--no-mmap`, through stdin, gzipped and zstd-compressed; all
/// must give the same counts. Returns the mapped report.
fn same_every_way(wd: &Workdir, key: &str, name: &str) -> Value {
    let bytes = std::fs::read(wd.path(name)).unwrap();
    let mapped = scan(wd, key, name, &[]);
    let streamed = scan(wd, key, name, &["--no-mmap"]);
    assert_eq!(counts(&streamed), counts(&mapped), "{name}: --no-mmap");
    let out = wd
        .cmd()
        .args(["scan", "--quiet", "--json", "--key-file", key, "--filter", "f.lmf", "-"])
        .write_stdin(bytes.clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdin: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(counts(&stdin), counts(&mapped), "{name}: stdin");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).unwrap();
    wd.write("packed.bin", gz.finish().unwrap());
    let gzipped = scan(wd, key, "packed.bin", &[]);
    assert_eq!(counts(&gzipped), counts(&mapped), "{name}: gzip");
    let plain_format = mapped["inputs"][0]["format"].as_str().unwrap().to_string();
    assert_eq!(gzipped["inputs"][0]["format"], format!("{plain_format} (gzip)"));
    let zst = zstd::encode_all(&bytes[..], 1).unwrap();
    wd.write("packed.bin", zst);
    let v = scan(wd, key, "packed.bin", &[]);
    assert_eq!(counts(&v), counts(&mapped), "{name}: zstd");
    assert_eq!(v["inputs"][0]["format"], format!("{plain_format} (zstd)"));
    assert_eq!(v["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    mapped
}

#[test]
fn jsonl_with_nested_keys_is_read_the_same_every_way() {
    let (wd, key) = setup();
    wd.write(
        "d.jsonl",
        "{\"kvnr\":\"A123456780\",\"contact\":{\"mail\":\"juergen.mueller@example.de\"}}\n\
         {\"kvnr\":\"Z987654321\",\"contact\":{\"mail\":\"nobody@example.de\"}}\n\
         {broken\n",
    );
    let v = same_every_way(&wd, &key, "d.jsonl");
    assert_eq!(v["inputs"][0]["format"], "jsonl");
    assert_eq!((hits(&v, "kvnr"), hits(&v, "email")), (2, 1));
    assert_eq!(v["records"]["malformed"], 1);
    let m = scan(&wd, &key, "d.jsonl", &["--map", "email=contact.mail", "--format", "jsonl"]);
    assert_eq!(hits(&m, "email"), 1);
}

#[test]
fn combo_list_is_read_the_same_every_way() {
    let (wd, key) = setup();
    wd.write("c.txt", "juergen.mueller@example.de:pw1\nanna.schmidt@example.de;a:b\nx@y.de|z\n");
    let v = same_every_way(&wd, &key, "c.txt");
    assert_eq!(v["inputs"][0]["format"], "combo");
    assert_eq!(hits(&v, "email"), 2);
    assert_eq!(v["records"]["total"], 3);
}

#[test]
fn mysql_insert_dump_is_read_the_same_every_way() {
    let (wd, key) = setup();
    wd.write(
        "m.sql",
        "-- MySQL dump 10.13\n\
         CREATE TABLE `kunden` (\n  `id` int NOT NULL,\n  `kvnr` varchar(10),\n  `email` varchar(99),\n  PRIMARY KEY (`id`)\n);\n\
         INSERT INTO `kunden` VALUES (1,'A123456780','juergen.mueller@example.de'),(2,'Z987654321','it\\'s;(x)'),(3,NULL,'anna.schmidt@example.de');\n\
         INSERT INTO `kunden` (`email`, `id`) VALUES ('nobody@example.de', 4);\n",
    );
    let v = same_every_way(&wd, &key, "m.sql");
    assert_eq!(v["inputs"][0]["format"], "sql");
    assert_eq!(v["records"]["total"], 4);
    assert_eq!((hits(&v, "kvnr"), hits(&v, "email")), (2, 2));
}

#[test]
fn postgres_copy_dump_is_read_the_same_every_way() {
    let (wd, key) = setup();
    wd.write(
        "p.sql",
        "--\n-- PostgreSQL database dump\n--\nSET statement_timeout = 0;\n\
         COPY public.versicherte (id, versichertennummer, email) FROM stdin;\n\
         1\tA123456780\tjuergen.mueller@example.de\n2\t\\N\tanna.schmidt@example.de\n3\tM234567898\tx\\ty@z.de\n\\.\n\
         INSERT INTO public.versicherte (id, email) VALUES (4, 'o''brien@example.de');\n",
    );
    let v = same_every_way(&wd, &key, "p.sql");
    assert_eq!(v["records"]["total"], 4);
    assert_eq!((hits(&v, "kvnr"), hits(&v, "email")), (2, 2));
}

#[test]
fn headerless_csv_is_mapped_by_content_with_the_share_in_the_report() {
    let (wd, key) = setup();
    wd.write(
        "h.csv",
        "A123456780;juergen.mueller@example.de;x\nZ987654321;anna.schmidt@example.de;y\n",
    );
    let v = same_every_way(&wd, &key, "h.csv");
    let why: Vec<&str> = v["inputs"][0]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["why"].as_str().unwrap())
        .collect();
    assert!(why.iter().any(|w| w.contains("100.0 %")), "{why:?}");
    assert_eq!((hits(&v, "kvnr"), hits(&v, "email")), (2, 2));
    let text = wd.ok(&["scan", "--quiet", "--key-file", &key, "--filter", "f.lmf", "h.csv"]);
    assert!(text.contains("content"), "{text}");
}

#[test]
fn utf16_dump_is_decoded_and_reported_as_utf16() {
    let (wd, key) = setup();
    for (name, bom, big) in [("le.csv", [0xFF, 0xFE], false), ("be.csv", [0xFE, 0xFF], true)] {
        let mut raw = bom.to_vec();
        for u in customers_csv().encode_utf16() {
            raw.extend_from_slice(&if big { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        wd.write(name, raw);
        let v = scan(&wd, &key, name, &[]);
        assert_eq!(v["records"]["total"], 3);
        assert_eq!(hits(&v, "email"), 3);
        let expected = if big { "utf-16be" } else { "utf-16le" };
        assert_eq!(v["inputs"][0]["encoding"], expected, "{name}");
    }
}

#[test]
fn combo_password_appears_in_no_output() {
    let (wd, key) = setup();
    let pw = "Pw-sekret-99317";
    wd.write(
        "c.txt",
        format!("juergen.mueller@example.de:{pw}\nbroken-line-{pw}\nx@y.de;{pw}:{pw}\n"),
    );
    for extra in [&[][..], &["--json"][..], &["--no-mmap"][..]] {
        let mut args = vec!["scan", "--key-file", &key, "--filter", "f.lmf"];
        args.extend_from_slice(extra);
        args.push("c.txt");
        let out = wd.run(&args);
        assert!(out.status.success());
        assert!(!contains(&out.stdout, pw) && !contains(&out.stderr, pw), "{extra:?}");
        assert!(!contains(&out.stdout, "pw") || !contains(&out.stdout, "99317"));
    }
    for (path, bytes) in wd.all_files() {
        if !path.ends_with("c.txt") {
            assert!(!contains(&bytes, pw), "{}", path.display());
        }
    }
}

#[test]
fn build_reads_streams_and_asks_for_expected_when_it_cannot_count() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    let csv = customers_csv();
    let out = wd
        .cmd()
        .args(["build", "--quiet", "--key-file", &key, "--out", "s.lmf", "-"])
        .write_stdin(csv.clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let big = csv.repeat(20_000);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(big.as_bytes()).unwrap();
    wd.write("big.csv.gz", gz.finish().unwrap());
    let out = wd.run(&["build", "--quiet", "--key-file", &key, "--out", "g.lmf", "big.csv.gz"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--expected"));
    assert!(!wd.path("g.lmf").exists(), "nothing half-written");
    wd.ok(&[
        "build",
        "--quiet",
        "--key-file",
        &key,
        "--out",
        "g.lmf",
        "--expected",
        "100",
        "big.csv.gz",
    ]);
}

#[test]
fn format_flag_that_does_not_fit_is_a_usage_error() {
    let (wd, key) = setup();
    let out = wd.run(&[
        "scan",
        "--key-file",
        &key,
        "--filter",
        "f.lmf",
        "--format",
        "jsonl",
        "customers.csv",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("jsonl") && err.contains("customers.csv"), "{err}");
    assert!(!err.contains("A123456780"));
    let out = wd.run(&[
        "scan",
        "--key-file",
        &key,
        "--filter",
        "f.lmf",
        "--format",
        "xml",
        "customers.csv",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn fifo_is_streamed() {
    let (wd, key) = setup();
    let fifo = wd.path("leak.fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let writer = std::thread::spawn(move || std::fs::write(fifo, customers_csv()).unwrap());
    let v = scan(&wd, &key, "leak.fifo", &[]);
    writer.join().unwrap();
    assert_eq!(v["records"]["total"], 3);
    assert_eq!(hits(&v, "email"), 3);
}

/// `--parse-only` (the benchmark baseline) counts the same rows and bytes whether the dump
/// is mapped or streamed: a stream's size is known only after it was read.
#[test]
fn parse_only_reports_rows_and_size_for_mapped_and_streamed_input() {
    let wd = Workdir::new();
    let csv = customers_csv();
    let (header, body) = csv.split_once('\n').unwrap();
    let text = format!("{header}\n{}", body.repeat(40_000));
    let rows = 40_000 * body.lines().count();
    wd.write("d.csv", &text);
    let line = |out: std::process::Output| {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stderr).unwrap()
    };
    let expected = format!("parsed {:.1} MB, {rows} rows", text.len() as f64 / 1e6);
    let mapped = line(wd.run(&["scan", "--parse-only", "d.csv"]));
    let streamed = line(wd.run(&["scan", "--parse-only", "--no-mmap", "d.csv"]));
    let stdin = line(
        wd.cmd().args(["scan", "--parse-only", "-"]).write_stdin(text.clone()).output().unwrap(),
    );
    for (how, got) in [("mapped", mapped), ("--no-mmap", streamed), ("stdin", stdin)] {
        assert!(got.contains(&expected), "{how}: {got} (expected {expected})");
    }
}
