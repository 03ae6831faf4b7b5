//! Bad input: each case gives a clear error or a counted warning, never a value, and the
//! documented exit code (README "Exit codes").

use std::io::Write;
use std::process::Stdio;

use crate::formats::{scan, setup};
use crate::workdir::contains;

fn malformed(v: &serde_json::Value, reason: &str) -> u64 {
    v["records"]["malformed_by_reason"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["reason"] == reason)
        .map_or(0, |m| m["count"].as_u64().unwrap())
}

#[test]
fn empty_file_and_header_only_scan_to_zero_records() {
    let (wd, key) = setup();
    wd.write("empty.csv", "");
    wd.write("header.csv", "KVNR;E-Mail\n");
    for f in ["empty.csv", "header.csv"] {
        for extra in [&[][..], &["--no-mmap"][..]] {
            let v = scan(&wd, &key, f, extra);
            assert_eq!(v["records"]["total"], 0, "{f}");
        }
    }
}

#[test]
fn nul_bytes_and_binary_garbage_do_not_crash_or_leak() {
    let (wd, key) = setup();
    let mut garbage: Vec<u8> =
        (0..20_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    garbage.extend_from_slice(b"\nSECRETVALUE42\0\0\n");
    wd.write("g.bin", &garbage);
    wd.write("nul.csv", b"KVNR;E-Mail\nA123456780;a\0b@x.de\n\0\0\0\n");
    for f in ["g.bin", "nul.csv"] {
        let out = wd.run(&["scan", "--json", "--key-file", &key, "--filter", "f.lmf", f]);
        assert!(matches!(out.status.code(), Some(0 | 2)), "{f}: {:?}", out.status);
        assert!(!contains(&out.stdout, "SECRETVALUE42") && !contains(&out.stderr, "SECRETVALUE42"));
    }
}

#[test]
fn hundred_megabyte_line_is_skipped_and_counted_with_bounded_memory() {
    let (wd, key) = setup();
    let mut data = b"KVNR;E-Mail\nA123456780;x@y.de\n".to_vec();
    data.extend(std::iter::repeat_n(b'x', 100 << 20));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("leakmatch"))
        .current_dir(wd.root())
        .args(["scan", "--quiet", "--json", "--key-file", &key, "--filter", "f.lmf", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let mut peak_kb = 0u64;
    while child.try_wait().unwrap().is_none() {
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(l) = s.lines().find(|l| l.starts_with("VmHWM:")) {
                peak_kb = l.split_whitespace().nth(1).unwrap().parse().unwrap();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    writer.join().unwrap().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The record before the long line and the long line itself, read and counted as
    // malformed (oversized), as SQL and JSON lines count theirs.
    assert_eq!(v["records"]["total"], 2, "the record before the long line is read");
    assert_eq!(malformed(&v, "oversized"), 1);
    eprintln!("peak RSS {peak_kb} kB for a 100 MB line through stdin");
    assert!(peak_kb < 80 * 1024, "peak RSS {peak_kb} kB for a 100 MB line");
    let mut file = b"KVNR;E-Mail\nA123456780;x@y.de\n".to_vec();
    file.extend(std::iter::repeat_n(b'x', 100 << 20));
    wd.write("long.csv", file);
    for extra in [&[][..], &["--no-mmap"][..]] {
        let v = scan(&wd, &key, "long.csv", extra);
        assert_eq!((v["records"]["total"].as_u64(), malformed(&v, "oversized")), (Some(2), 1));
    }
}

#[test]
fn ragged_rows_and_mixed_line_endings_are_read_and_counted() {
    let (wd, key) = setup();
    wd.write(
        "r.csv",
        "KVNR;E-Mail;Telefon\r\nA123456780;x@y.de;0171 1\nZ987654321\rM234567898;a@b.de;1\r\n",
    );
    for extra in [&[][..], &["--no-mmap"][..]] {
        let v = scan(&wd, &key, "r.csv", extra);
        assert_eq!(v["records"]["total"], 3);
        assert_eq!(malformed(&v, "ragged"), 1);
    }
}

#[test]
fn directory_missing_and_unreadable_files_fail_with_exit_code_2() {
    let (wd, key) = setup();
    std::fs::create_dir(wd.path("dir")).unwrap();
    for f in ["dir", "missing.csv"] {
        let out = wd.run(&["scan", "--key-file", &key, "--filter", "f.lmf", f]);
        assert_eq!(out.status.code(), Some(2), "{f}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(f) && err.lines().count() <= 3, "{err}");
    }
    let p = wd.write("locked.csv", "KVNR\nA123456780\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&p).is_ok() {
        eprintln!("skipped: running as root, chmod 000 does not block reads");
        return;
    }
    let out = wd.run(&["scan", "--key-file", &key, "--filter", "f.lmf", "locked.csv"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn dump_given_twice_warns_and_counts_once() {
    let (wd, key) = setup();
    let out = wd.run(&[
        "scan",
        "--json",
        "--key-file",
        &key,
        "--filter",
        "f.lmf",
        "customers.csv",
        "customers.csv",
    ]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("given twice"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["records"]["total"], 3);
}

#[test]
fn truncated_gzip_is_a_clean_error() {
    let (wd, key) = setup();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(crate::workdir::customers_csv().repeat(200).as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    wd.write("t.csv.gz", &gz[..gz.len() / 2]);
    let out = wd.run(&["scan", "--key-file", &key, "--filter", "f.lmf", "t.csv.gz"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("t.csv.gz"));
}

#[test]
fn stray_quote_loses_only_its_record_and_is_counted() {
    let (wd, key) = setup();
    let mut s = String::from("KVNR;E-Mail\nA123456780;\"unclosed@x.de\n");
    for _ in 0..50 {
        s.push_str("Z987654321;anna.schmidt@example.de\n");
    }
    wd.write("s.csv", &s);
    for extra in [&[][..], &["--no-mmap"][..]] {
        let v = scan(&wd, &key, "s.csv", extra);
        assert_eq!(v["records"]["total"], 51, "{extra:?}: the skipped record is counted");
        assert_eq!(malformed(&v, "syntax"), 1, "{extra:?}");
        let first = &v["records"]["malformed_by_reason"].as_array().unwrap()[0]["first"];
        assert_eq!(first["line"], 2, "the warning names the line");
    }
}

/// Writes `mb` megabytes of a plain CSV dump.
fn big_csv(path: &std::path::Path, mb: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(b"KVNR;E-Mail\n").unwrap();
    let line = b"A123456780;someone.else@example.de\n";
    for _ in 0..(mb << 20) / line.len() {
        out.write_all(line).unwrap();
    }
}

#[test]
fn mapped_dump_truncated_during_the_scan_dies_by_sigbus_or_fails_cleanly() {
    use std::os::unix::process::ExitStatusExt;
    let (wd, key) = setup();
    let path = wd.path("big.csv");
    big_csv(&path, 300);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("leakmatch"))
        .current_dir(wd.root())
        .args(["scan", "--quiet", "-j", "1", "--key-file", &key, "--filter", "f.lmf", "big.csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(1000).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    match (out.status.code(), out.status.signal()) {
        (None, Some(7)) => {} // SIGBUS: the documented behaviour of a mapped file truncated.
        (Some(2), None) => assert!(err.contains("shrank") && err.contains("big.csv"), "{err}"),
        other => panic!("unexpected end {other:?}: {err}"),
    }
    assert!(out.stdout.is_empty(), "no report for a dump that changed");
}

#[test]
fn streamed_dump_truncated_during_the_scan_fails_cleanly() {
    let (wd, key) = setup();
    let path = wd.path("big.csv");
    big_csv(&path, 300);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("leakmatch"))
        .current_dir(wd.root())
        .args(["scan", "--quiet", "--no-mmap", "-j", "1", "--key-file", &key, "--filter", "f.lmf"])
        .arg("big.csv")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(1000).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("shrank") && err.contains("big.csv"), "{err}");
    assert!(out.stdout.is_empty());
}

/// Peak RSS of a scan of a `mb` MB stream piped through stdin: bounded by the filter plus a
/// constant (about 10 s for 500 MB).
#[test]
fn large_stream_through_stdin_has_bounded_memory() {
    let (wd, key) = setup();
    let mb = 500;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("leakmatch"))
        .current_dir(wd.root())
        .args(["scan", "--quiet", "--json", "--key-file", &key, "--filter", "f.lmf", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        stdin.write_all(b"KVNR;E-Mail\n").unwrap();
        let block = b"A123456780;someone.else@example.de\n".repeat(30_000);
        for _ in 0..(mb << 20) / block.len() {
            stdin.write_all(&block).unwrap();
        }
    });
    let mut peak_kb = 0u64;
    let t = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(l) = s.lines().find(|l| l.starts_with("VmHWM:")) {
                peak_kb = l.split_whitespace().nth(1).unwrap().parse().unwrap();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    writer.join().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    eprintln!("{mb} MB through stdin in {:.1} s, peak RSS {peak_kb} kB", t.elapsed().as_secs_f64());
    assert!(peak_kb < 100 * 1024, "peak RSS {peak_kb} kB");
}
