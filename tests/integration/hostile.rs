//! Hostile input (issue #11): crafted files against the promises of the loaders and writers —
//! bounded memory, no raw value in any output, one line on stderr with exit code 2, outputs
//! never replacing a device or an input.

use std::io::Write;
use std::process::{Output, Stdio};

use crate::formats::setup;
use crate::workdir::{contains, Workdir};

/// A value planted in crafted inputs that must appear in no output.
pub const MARKER: &str = "planted.marker.4711@example.org";

/// Asserts exit code 2, exactly one line on stderr containing `want`, and no marker in
/// stdout, stderr or any file of the work folder other than the inputs named.
pub fn refused(wd: &Workdir, out: &Output, want: &str, inputs: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(want), "{want:?} not in: {err}");
    no_marker(wd, out, inputs);
}

/// No [`MARKER`] in the output streams or in any file but the named inputs.
pub fn no_marker(wd: &Workdir, out: &Output, inputs: &[&str]) {
    assert!(!contains(&out.stdout, MARKER) && !contains(&out.stderr, MARKER));
    for (p, bytes) in wd.all_files() {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !inputs.contains(&name.as_str()) {
            assert!(!contains(&bytes, MARKER), "marker in {}", p.display());
        }
    }
}

/// Runs `leakmatch args` with `stdin`, sampling the peak RSS (kB) from `/proc` while it runs.
pub fn run_measured(wd: &Workdir, args: &[&str], stdin: Vec<u8>) -> (Output, u64) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("leakmatch"))
        .current_dir(wd.root())
        .env_remove("LEAKMATCH_KEY_FILE")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || pipe.write_all(&stdin));
    let mut peak_kb = 0u64;
    while child.try_wait().unwrap().is_none() {
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(l) = s.lines().find(|l| l.starts_with("VmHWM:")) {
                peak_kb = l.split_whitespace().nth(1).unwrap().parse().unwrap();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = writer.join().unwrap();
    (child.wait_with_output().unwrap(), peak_kb)
}

fn dump_with_marker() -> String {
    format!("E-Mail;KVNR\n{MARKER};A123456780\njuergen.mueller@example.de;Z987654321\n")
}

/// A zstd frame header declaring a window of 2^`log` bytes, then one raw block of `body`.
fn zstd_frame_with_window(log: u32, body: &[u8]) -> Vec<u8> {
    let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, ((log - 10) as u8) << 3];
    let block = 1u32 | (body.len() as u32) << 3; // last block, raw
    f.extend_from_slice(&block.to_le_bytes()[..3]);
    f.extend_from_slice(body);
    f
}

#[test]
fn zstd_frame_declaring_a_two_tib_window_is_refused_with_bounded_memory() {
    let (wd, key) = setup();
    let good = zstd::encode_all(dump_with_marker().as_bytes(), 1).unwrap();
    let mut bomb = good.clone();
    bomb.extend(zstd_frame_with_window(41, &vec![b'x'; 1 << 20]));
    wd.write("bomb.zst", &bomb);
    let args = ["scan", "--quiet", "--json", "--key-file", &key, "--filter", "f.lmf"];
    for (input, stdin) in [("bomb.zst", Vec::new()), ("-", bomb.clone())] {
        let (out, peak_kb) = run_measured(&wd, &[&args[..], &[input]].concat(), stdin);
        refused(&wd, &out, "window larger than 128 MiB", &["bomb.zst"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("read {input}:")));
        assert!(peak_kb < 200 * 1024, "{input}: peak RSS {peak_kb} kB");
    }
}

#[test]
fn concatenated_zstd_frames_and_gzip_members_are_read_whole_from_files_and_stdin() {
    let (wd, key) = setup();
    let text = dump_with_marker();
    let (head, tail) = text.split_at(text.find('\n').unwrap() + 1 + 10);
    let mut zst = zstd::encode_all(head.as_bytes(), 1).unwrap();
    zst.extend(zstd::encode_all(tail.as_bytes(), 3).unwrap());
    let mut gz = Vec::new();
    for part in [head, tail] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(part.as_bytes()).unwrap();
        gz.extend(e.finish().unwrap());
    }
    wd.write("two.zst", &zst);
    wd.write("two.gz", &gz);
    let args = ["scan", "--quiet", "--json", "--key-file", &key, "--filter", "f.lmf"];
    for (name, bytes) in [("two.zst", zst), ("two.gz", gz)] {
        for (input, stdin) in [(name, Vec::new()), ("-", bytes)] {
            let (out, _) = run_measured(&wd, &[&args[..], &[input]].concat(), stdin);
            assert!(
                out.status.success(),
                "{name} {input}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["records"]["total"], 2, "{name} via {input}: both frames read");
            no_marker(&wd, &out, &["two.zst", "two.gz"]);
        }
    }
}
