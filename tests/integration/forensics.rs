//! Forensics: verdict classes on generated cases, phonetic kind, canaries, snapshots,
//! `--emit-matches` positions, HTML in a real browser, no raw values in any output.

use serde_json::Value;

use crate::workdir::Workdir;

const KINDS: &str = "kvnr,email,phone,name_dob,kvnr+name_dob";

/// Generates with `extra` flags, builds the customers filter; returns (workdir, key, truth).
fn case(extra: &[&str]) -> (Workdir, String, Value) {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    let mut args = vec!["generate", "--out-dir", "g", "--customers", "20000", "--leak", "4000"];
    args.extend_from_slice(extra);
    wd.ok(&args);
    build(&wd, &key, "f.lmf", "g/customers.csv", &["--kinds", KINDS]);
    let truth = serde_json::from_slice(&std::fs::read(wd.path("g/truth.json")).unwrap()).unwrap();
    (wd, key, truth)
}

fn build(wd: &Workdir, key: &str, out: &str, input: &str, extra: &[&str]) {
    let mut args = vec!["build", "--quiet", "--key-file", key, "--out", out];
    args.extend_from_slice(extra);
    args.push(input);
    wd.ok(&args);
}

fn scan(wd: &Workdir, key: &str, extra: &[&str]) -> Value {
    let mut args = vec!["scan", "--quiet", "--json", "--key-file", key];
    args.extend_from_slice(extra);
    serde_json::from_str(&wd.ok(&args)).expect("one JSON object")
}

fn verdict_of(extra: &[&str], scan_extra: &[&str]) -> Value {
    let (wd, key, _) = case(extra);
    let mut args = vec!["--filter", "f.lmf"];
    args.extend_from_slice(scan_extra);
    args.push("g/leak.csv");
    scan(&wd, &key, &args)
}

#[test]
fn generated_genuine_extract_sample_is_classified_genuine() {
    let v = verdict_of(&["--seed", "3"], &["--claimed-size", "400000"]);
    assert_eq!(v["verdict"]["label"], "genuine-extract", "{:#}", v["verdict"]);
    assert!(v["claimed"]["estimate"].as_f64().unwrap() > 200_000.0);
    let reasons = v["verdict"]["reasons"].as_array().unwrap();
    assert!(reasons.iter().any(|r| r["signal"] == "claimed_implied_low"), "400k > 20k customers");
    assert_eq!(v["signals"]["claimed"]["exaggerated"], true);
    let v = verdict_of(&["--seed", "3"], &["--claimed-size", "15000"]);
    assert_eq!(v["verdict"]["label"], "genuine-extract");
    assert_eq!(v["signals"]["claimed"]["exaggerated"], false, "a sample of 15k rows fits 20k");
}

#[test]
fn generated_recombined_dump_is_classified_recombined() {
    let v = verdict_of(&["--seed", "4", "--overlap", "0.3", "--recombined", "0.3"], &[]);
    assert_eq!(v["verdict"]["label"], "recombined", "{:#}", v["verdict"]);
    let pair = &v["signals"]["recombined"][0];
    assert!(pair["pair_missed"].as_u64().unwrap() > 900, "{pair}");
}

#[test]
fn generated_fabricated_dump_is_classified_likely_fabricated() {
    let v = verdict_of(&["--seed", "5", "--overlap", "0.2", "--fabricated", "0.6"], &[]);
    assert_eq!(v["verdict"]["label"], "likely-fabricated", "{:#}", v["verdict"]);
    let share = v["signals"]["kvnr_validity"]["share"]["estimate"].as_f64().unwrap();
    assert!((0.35..0.6).contains(&share), "{share}");
}

#[test]
fn generated_other_insurers_population_is_classified_other_population() {
    let v = verdict_of(&["--seed", "6", "--overlap", "0"], &[]);
    assert_eq!(v["verdict"]["label"], "other-population", "{:#}", v["verdict"]);
}

#[test]
fn phonetic_kind_matches_spelling_variants_the_exact_kind_misses() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write(
        "c.csv",
        "Nachname;Vorname;Geburtsdatum\nMeier;Hans;01.02.1960\nSchmidt;Anna;03.04.1970\n\
         Becker;Paul;05.06.1980\n",
    );
    wd.write(
        "d.csv",
        "Nachname;Vorname;Geburtsdatum\nMayer;Hans;01.02.1960\nSchmitt;Anna;03.04.1970\n\
         Wagner;Paul;05.06.1980\n",
    );
    build(&wd, &key, "f.lmf", "c.csv", &["--kinds", "name_dob,name_dob_phonetic"]);
    let v = scan(&wd, &key, &["--filter", "f.lmf", "d.csv"]);
    let hits = |kind: &str| {
        let ks = v["filters"][0]["kinds"].as_array().unwrap();
        ks.iter().find(|k| k["kind"] == kind).expect(kind)["hits"].as_u64().unwrap()
    };
    assert_eq!(hits("name_dob"), 0);
    assert_eq!(hits("name_dob_phonetic"), 2);
}

#[test]
fn canary_hits_and_best_snapshot_are_reported() {
    let (wd, key, truth) = case(&["--seed", "8", "--snapshots", "3", "--canaries", "40"]);
    build(&wd, &key, "c.lmf", "g/canaries.csv", &["--role", "canary", "--label", "planted"]);
    let mut args = vec!["--filter".to_string(), "f.lmf".into(), "--filter".into(), "c.lmf".into()];
    for d in truth["snapshot_dates"].as_array().unwrap() {
        let d = d.as_str().unwrap();
        let out = format!("s{d}.lmf");
        let label = format!("snapshot {d}");
        let input = format!("g/snapshots/customers_{d}.csv");
        build(&wd, &key, &out, &input, &["--label", &label, "--snapshot-date", d]);
        args.extend(["--filter".into(), out]);
    }
    args.push("g/leak.csv".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let v = scan(&wd, &key, &args);
    let c = &v["canary"]["filters"][0];
    assert_eq!(c["label"], "planted");
    assert_eq!(c["rows_hit"], truth["canary_rows"]);
    assert!(truth["canary_rows"].as_u64().unwrap() >= 30);
    assert_eq!(v["canary"]["proof_of_origin"], true);
    let best = format!("snapshot {}", truth["leak_snapshot"].as_str().unwrap());
    assert_eq!(v["best_snapshot"], best.as_str());
    assert_eq!(v["snapshots"].as_array().unwrap().len(), 3);
}

#[test]
fn emitted_positions_point_at_exactly_the_matching_records() {
    let (wd, key, truth) = case(&["--seed", "9"]);
    let v = scan(&wd, &key, &["--filter", "f.lmf", "--emit-matches", "m.jsonl", "g/leak.csv"]);
    let dump = std::fs::read(wd.path("g/leak.csv")).unwrap();
    let lines: Vec<Value> = std::fs::read_to_string(wd.path("m.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, truth["rows_matched_any"].as_u64().unwrap());
    assert_eq!(v["records"]["matched_any"], truth["rows_matched_any"]);
    // Every position starts a record whose line and record numbers agree with the bytes;
    // the records there, and only they, match when scanned on their own.
    let header_end = dump.iter().position(|&b| b == b'\n').unwrap() + 1;
    let (mut hit, mut rest) = (dump[..header_end].to_vec(), dump[..header_end].to_vec());
    let mut starts = std::collections::HashSet::new();
    for l in &lines {
        let byte = l["byte"].as_u64().unwrap() as usize;
        assert_eq!(dump[byte - 1], b'\n', "{l}");
        let line = dump[..byte].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        assert_eq!(l["line"].as_u64().unwrap(), line);
        assert_eq!(l["record"].as_u64().unwrap(), line - 1);
        assert!(l["filters"][0]["kinds"].as_array().is_some_and(|k| !k.is_empty()));
        starts.insert(byte);
    }
    let mut at = header_end;
    while at < dump.len() {
        let end = at + dump[at..].iter().position(|&b| b == b'\n').unwrap() + 1;
        let out = if starts.contains(&at) { &mut hit } else { &mut rest };
        out.extend_from_slice(&dump[at..end]);
        at = end;
    }
    wd.write("hit.csv", &hit);
    wd.write("rest.csv", &rest);
    let h = scan(&wd, &key, &["--filter", "f.lmf", "hit.csv"]);
    let r = scan(&wd, &key, &["--filter", "f.lmf", "rest.csv"]);
    assert_eq!(h["records"]["matched_any"].as_u64().unwrap(), lines.len() as u64);
    assert_eq!(h["records"]["total"], h["records"]["matched_any"]);
    assert_eq!(r["records"]["matched_any"], 0);
}

/// Values of the dump long enough to be unmistakable if they leaked into an output.
fn raw_values(dump: &str) -> Vec<String> {
    let mut out: Vec<String> = dump
        .lines()
        .skip(1)
        .take(300)
        .flat_map(|l| l.split(';').map(str::trim).map(String::from).collect::<Vec<_>>())
        .filter(|v| v.len() >= 8)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn html_and_json_render_the_verdict_and_contain_no_raw_value() {
    let (wd, key, _) = case(&["--seed", "10"]);
    let args = ["--filter", "f.lmf", "--html", "r.html", "--emit-matches", "m.jsonl", "g/leak.csv"];
    let json = scan(&wd, &key, &args).to_string();
    let html = std::fs::read_to_string(wd.path("r.html")).unwrap();
    let emitted = std::fs::read_to_string(wd.path("m.jsonl")).unwrap();
    assert!(html.contains("genuine-extract") && html.contains("<svg"));
    assert!(!html.contains("<script") && !html.contains("http"));
    let values = raw_values(&std::fs::read_to_string(wd.path("g/leak.csv")).unwrap());
    assert!(values.len() > 500);
    for v in &values {
        for (name, out) in [("json", &json), ("html", &html), ("emit", &emitted)] {
            assert!(!out.contains(v.as_str()), "{name} contains a raw value");
        }
    }
    browser_renders(&wd, "r.html", "genuine-extract");
}

/// Renders `page` in headless chromium and checks the DOM shows `expect`; skipped with a
/// message when no browser is installed. Leaves `page.png` for a human look.
fn browser_renders(wd: &Workdir, page: &str, expect: &str) {
    if let Some(dom) = browser_check(wd, page, 1000, &[]) {
        assert!(dom.contains(&format!("id=\"verdict\" class=\"verdict {expect}\"")), "{dom}");
    }
}

/// Renders `page` in headless chromium `width` pixels wide: checks that the DOM holds a
/// `<section id=...>` for each of `sections` and takes a full-length screenshot (`page.png`,
/// copied to `$LEAKMATCH_KEEP_SCREENSHOT/report-{width}.png` when that is set). Returns the
/// DOM, or `None` (with a message) when no browser is installed.
pub fn browser_check(wd: &Workdir, page: &str, width: u32, sections: &[&str]) -> Option<String> {
    let chromium = std::path::Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        eprintln!("SKIPPED: headless-browser check of the HTML report: /usr/bin/chromium missing");
        return None;
    }
    let url = format!("file://{}", wd.path(page).display());
    let profile = wd.path("chromium-profile");
    let run = |extra: &[&str]| {
        std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
            ])
            .args(["--disable-component-update", "--disable-sync", "--no-first-run"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(&url)
            .output()
            .expect("run chromium")
    };
    let size = format!("--window-size={width},5000");
    let dom = run(&[&size, "--dump-dom"]);
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    for s in sections {
        assert!(dom.contains(&format!("<section id=\"{s}\">")), "section {s} rendered");
    }
    let png = wd.path("page.png");
    run(&[&size, "--hide-scrollbars", &format!("--screenshot={}", png.display())]);
    assert!(std::fs::metadata(&png).is_ok_and(|m| m.len() > 10_000), "screenshot written");
    if let Ok(dir) = std::env::var("LEAKMATCH_KEEP_SCREENSHOT") {
        std::fs::copy(&png, std::path::Path::new(&dir).join(format!("report-{width}.png")))
            .unwrap();
    }
    Some(dom)
}

#[test]
fn iban_phonetic_and_pair_kinds_work_end_to_end_and_health_columns_flag_art9() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write(
        "c.csv",
        "KVNR;E-Mail;Nachname;Vorname;Geburtsdatum;IBAN\n\
         A123456780;hans@web.de;Meier;Hans;01.02.1960;DE89 3704 0044 0532 0130 00\n\
         Z987654321;anna@gmx.de;Schmidt;Anna;03.04.1970;GB82 WEST 1234 5698 7654 32\n",
    );
    // Row 1: all of Hans; row 2: Anna's KVNR and e-mail with Hans's name (recombined).
    wd.write(
        "d.csv",
        "Versichertennummer;E-Mail;Nachname;Vorname;Geburtsdatum;IBAN;Diagnose (ICD-10)\n\
         A 123 456 780;Hans@Web.de;Mayer;Hans;1960-02-01;de89370400440532013000;J45\n\
         Z987654321;anna@gmx.de;Meier;Hans;01.02.1960;;E11\n",
    );
    let kinds = "kvnr,email,name_dob,name_dob_phonetic,iban,kvnr+name_dob,email+name_dob";
    build(&wd, &key, "f.lmf", "c.csv", &["--kinds", kinds]);
    let v = scan(&wd, &key, &["--filter", "f.lmf", "d.csv"]);
    let hits = |kind: &str| {
        let ks = v["filters"][0]["kinds"].as_array().unwrap();
        ks.iter().find(|k| k["kind"] == kind).expect(kind)["hits"].as_u64().unwrap()
    };
    assert_eq!(hits("iban"), 1);
    assert_eq!(hits("kvnr"), 2);
    assert_eq!(hits("name_dob"), 1, "Mayer is not Meier exactly");
    assert_eq!(hits("name_dob_phonetic"), 2);
    assert_eq!(hits("kvnr+name_dob"), 0, "row 1's name_dob misses, row 2 is recombined");
    assert_eq!(hits("email+name_dob"), 0);
    let pair = &v["signals"]["recombined"][0];
    assert_eq!((pair["both_parts"].as_u64(), pair["pair_missed"].as_u64()), (Some(1), Some(1)));
    assert_eq!(v["gdpr"]["art9"], true);
    let cats: Vec<&str> = v["gdpr"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    for c in ["name", "birth_date", "email", "bank", "insurance_number", "health"] {
        assert!(cats.contains(&c), "{c} in {cats:?}");
    }
    let text = wd.ok(&["scan", "--quiet", "--key-file", &key, "--filter", "f.lmf", "d.csv"]);
    assert!(text.contains("Art. 9 HEALTH DATA PRESENT") && text.contains("Verdict: inconclusive"));
    for raw in ["J45", "E11", "Meier", "Mayer", "hans@web.de", "DE89", "A123456780"] {
        assert!(!text.contains(raw) && !v.to_string().contains(raw), "raw value in a report");
    }
}
