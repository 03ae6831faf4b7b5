//! The oblivious key service over loopback: servers started here on 127.0.0.1 with an
//! ephemeral port, each stopping by itself (`--stop-after`) and killed when its test ends.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::workdir::Workdir;

const TOKEN: &str = "0123456789abcdef-irfirm-token";

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `leakmatch key-server` with `key` and `extra` flags; returns once it listens.
fn server(wd: &Workdir, key: &str, extra: &[&str]) -> Server {
    let clients = wd.write("clients", format!("# name token\nirfirm {TOKEN}\n"));
    set_private(&clients);
    let bin = assert_cmd::cargo::cargo_bin("leakmatch");
    let mut child = Command::new(bin)
        .current_dir(wd.root())
        .args(["key-server", "--key-file", key, "--clients", "clients"])
        .args(["--listen", "127.0.0.1:0", "--stop-after", "300"])
        .args(extra)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start key server");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().expect("a line from the key server").unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    // Keep draining stderr (audit lines when no --audit-log) so the server never blocks.
    std::thread::spawn(move || lines.for_each(drop));
    Server { child, url }
}

fn set_private(p: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// Generated customers and leak, a key, and the customers' OPRF filter built locally.
fn case() -> (Workdir, String, Value) {
    let wd = Workdir::new();
    let key = wd.fixed_key("k", 5);
    wd.ok(&["generate", "--out-dir", "g", "--customers", "3000", "--leak", "800", "--seed", "3"]);
    wd.ok(&["build", "--quiet", "--oprf", "--key-file", &key, "--out", "f.lmf", "g/customers.csv"]);
    let truth = serde_json::from_slice(&std::fs::read(wd.path("g/truth.json")).unwrap()).unwrap();
    (wd, key, truth)
}

fn token_file(wd: &Workdir) -> String {
    let p = wd.write("token", format!("{TOKEN}\n"));
    set_private(&p);
    p.to_string_lossy().into_owned()
}

fn remote_scan(wd: &Workdir, url: &str, extra: &[&str]) -> std::process::Output {
    let tf = token_file(wd);
    let mut args = vec!["scan", "--quiet", "--key-server", url, "--key-server-token-file", &tf];
    args.extend_from_slice(extra);
    wd.run(&args)
}

#[test]
fn scan_through_the_key_service_matches_the_truth_and_the_local_scan() {
    let (wd, key, truth) = case();
    let s = server(&wd, &key, &["--audit-log", "audit.jsonl"]);
    let out = remote_scan(&wd, &s.url, &["--json", "--filter", "f.lmf", "g/leak.csv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let remote: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(remote["filters"][0]["matched_any"], truth["rows_matched_any"]);
    assert!(truth["rows_matched_any"].as_u64().unwrap() > 300, "{truth}");
    let mut compared = 0;
    for k in remote["filters"][0]["kinds"].as_array().unwrap() {
        let kind = k["kind"].as_str().unwrap();
        // Kinds the generator keeps a truth for (the base kinds and kvnr+name_dob).
        let Some(t) = truth["matches"][kind].as_f64() else { continue };
        compared += 1;
        assert_eq!(k["hits"].as_f64(), Some(t), "{kind}");
        if let Some(d) = truth["distinct_matches"][kind].as_f64() {
            assert_eq!(k["distinct_hits"].as_f64(), Some(d), "{kind}");
        }
        // Estimates equal the truth within their (here sub-unit) intervals.
        assert!(k["ci_low"].as_f64().unwrap() <= t && t <= k["ci_high"].as_f64().unwrap());
    }
    assert!(compared >= 4, "{compared} kinds compared");
    // The data owner's local OPRF scan gives the same report, number for number.
    let local: Value = wd.json(&[
        "scan",
        "--quiet",
        "--json",
        "--key-file",
        &key,
        "--filter",
        "f.lmf",
        "g/leak.csv",
    ]);
    for field in ["key_id", "records", "kinds", "filters", "signals", "verdict", "gdpr"] {
        assert_eq!(remote[field], local[field], "{field}");
    }
    // The audit log counts evaluations per client, never an element or a value.
    let audit = std::fs::read_to_string(wd.path("audit.jsonl")).unwrap();
    let evaluated: u64 = audit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .inspect(|v| assert_eq!(v["client"], "irfirm"))
        .map(|v| v["evaluated"].as_u64().unwrap())
        .sum();
    let probed: u64 = remote["filters"][0]["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| !k["kind"].as_str().unwrap().contains('+'))
        .map(|k| k["valid"].as_u64().unwrap())
        .sum();
    assert!(evaluated > 0 && evaluated <= probed, "{evaluated} vs {probed}");
    let leak = std::fs::read_to_string(wd.path("g/leak.csv")).unwrap();
    let some_mail = leak.lines().nth(1).unwrap().split(',').find(|f| f.contains('@')).unwrap();
    assert!(!audit.contains(some_mail));
}

#[test]
fn server_tokens_equal_local_tokens() {
    let (wd, key, _) = case();
    let s = server(&wd, &key, &[]);
    let tf = token_file(&wd);
    // A third party builds the same customers through the service with the same geometry:
    // every token equal means the bit arrays are equal byte for byte.
    wd.ok(&[
        "build",
        "--quiet",
        "--key-server",
        &s.url,
        "--key-server-token-file",
        &tf,
        "--like",
        "f.lmf",
        "--out",
        "r.lmf",
        "g/customers.csv",
    ]);
    let (a, b) =
        (std::fs::read(wd.path("f.lmf")).unwrap(), std::fs::read(wd.path("r.lmf")).unwrap());
    assert_eq!(a.len(), b.len());
    assert_eq!(a[4096..a.len() - 48], b[4096..b.len() - 48]);
    let inspect: Value = wd.json(&["inspect", "--json", "r.lmf"]);
    let local: Value = wd.json(&["inspect", "--json", "f.lmf"]);
    assert_eq!(inspect["key_id"], local["key_id"]);
    assert_eq!(inspect["oprf_public_key"], local["oprf_public_key"]);
}

#[test]
fn scan_through_a_service_with_another_key_is_refused_by_verification() {
    let (wd, _, _) = case();
    let other = wd.fixed_key("other", 6);
    let s = server(&wd, &other, &[]);
    let out = remote_scan(&wd, &s.url, &["--filter", "f.lmf", "g/leak.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("do not verify under the filter's public key"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn budget_refuses_the_request_that_exceeds_it() {
    let (wd, key, _) = case();
    let flags = ["--budget", "500", "--max-batch", "100", "--audit-log", "audit.jsonl"];
    let s = server(&wd, &key, &flags);
    let out = remote_scan(&wd, &s.url, &["--filter", "f.lmf", "g/leak.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HTTP 429") && err.contains("budget"), "{err}");
    assert!(out.stdout.is_empty());
    let audit = std::fs::read_to_string(wd.path("audit.jsonl")).unwrap();
    let lines: Vec<Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().any(|l| l["outcome"] == "refused: budget" && l["evaluated"] == 0));
    // Batches of 100 fit until the budget is spent exactly; the next one is refused whole.
    let used: u64 = lines.iter().map(|l| l["evaluated"].as_u64().unwrap()).sum();
    assert_eq!(used, 500);
    // A restarted service restores the window's use from its audit log: one more is refused.
    drop(s);
    let s = server(&wd, &key, &flags);
    let agent = ureq::agent();
    let (status, text) = post(&agent, &s.url, "application/octet-stream", Some(TOKEN), &blinded(1));
    assert_eq!(status, 429, "{text}");
    assert!(text.contains("500 of 500"), "{text}");
}

/// `n` valid blinded elements (multiples of the ristretto255 base point are valid too).
fn blinded(n: usize) -> Vec<u8> {
    // Elements from a real blinding: evaluate any input; body bytes are points.
    let inputs: Vec<Vec<u8>> = (0..n).map(|i| format!("\x01{i}").into_bytes()).collect();
    leakmatch::oprf::Blinded::new(&inputs).unwrap().body
}

/// POSTs to /v1/evaluate; returns the status and the body as text.
fn post(
    agent: &ureq::Agent,
    url: &str,
    ctype: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let mut req = agent.post(&format!("{url}/v1/evaluate")).set("Content-Type", ctype);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    match req.send_bytes(body) {
        Ok(r) => {
            let status = r.status();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut r.into_reader(), &mut bytes).unwrap();
            (status, format!("{} bytes", bytes.len()))
        }
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("transport: {e}"),
    }
}

/// Content type, bearer token, body, expected status, expected text.
type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, u16, &'a str);

#[test]
fn bad_requests_get_clear_http_errors_and_the_service_keeps_serving() {
    let wd = Workdir::new();
    let key = wd.fixed_key("k", 5);
    let s = server(&wd, &key, &["--max-batch", "8"]);
    let agent = ureq::agent();
    let ok = "application/octet-stream";
    let good = blinded(2);
    let mut bad_point = good.clone();
    bad_point.extend_from_slice(&[0xff; 32]);
    let cases: [Case; 6] = [
        (ok, Some(TOKEN), bad_point, 400, "element 2"),
        (ok, Some(TOKEN), good[..40].to_vec(), 400, "whole number"),
        ("application/json", Some(TOKEN), good.clone(), 415, "application/octet-stream"),
        (ok, None, good.clone(), 401, "bearer"),
        (ok, Some("0123456789abcdef-wrong"), good.clone(), 401, "bearer"),
        (ok, Some(TOKEN), blinded(9), 413, "over 8 elements"),
    ];
    for (ctype, token, body, status, says) in cases {
        let (got, text) = post(&agent, &s.url, ctype, token, &body);
        assert_eq!(got, status, "{text}");
        assert!(text.contains(says), "{status}: {text}");
    }
    // Still serving: a good batch gets 2 elements and a proof.
    assert_eq!(post(&agent, &s.url, ok, Some(TOKEN), &good), (200, "128 bytes".to_string()));
    let info: Value = serde_json::from_str(
        &agent.get(&format!("{}/v1/info", s.url)).call().unwrap().into_string().unwrap(),
    )
    .unwrap();
    assert_eq!(info["suite"], "ristretto255-SHA512");
    assert_eq!(info["max_batch"], 8);
}
