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

#[test]
fn recombined_dump_is_recombined_with_default_kinds_and_inconclusive_without_pairs() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    let gen = ["generate", "--out-dir", "g", "--customers", "20000", "--leak", "4000"];
    wd.ok(&[&gen[..], &["--seed", "4", "--overlap", "0.3", "--recombined", "0.3"]].concat());
    build(&wd, &key, "default.lmf", "g/customers.csv", &[]);
    let inspect = wd.ok(&["inspect", "--json", "default.lmf"]);
    let inspect: Value = serde_json::from_str(&inspect).unwrap();
    let kinds: Vec<&str> = inspect["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"kvnr+name_dob") && kinds.contains(&"email+name_dob"), "{kinds:?}");
    let v = scan(&wd, &key, &["--filter", "default.lmf", "g/leak.csv"]);
    assert_eq!(v["verdict"]["label"], "recombined", "{:#}", v["verdict"]);

    build(&wd, &key, "nopairs.lmf", "g/customers.csv", &["--kinds", "kvnr,email,phone,name_dob"]);
    let v = scan(&wd, &key, &["--filter", "nopairs.lmf", "g/leak.csv"]);
    assert_eq!(v["verdict"]["label"], "inconclusive", "{:#}", v["verdict"]);
    let reasons = v["verdict"]["reasons"].as_array().unwrap();
    let r = reasons.iter().find(|r| r["signal"] == "pair_kinds").expect("missing-evidence reason");
    let text = r["text"].as_str().unwrap();
    assert!(text.contains("no pair kind in filter 'nopairs.lmf'"), "{text}");
    assert!(text.contains("cannot be told apart"), "{text}");
    assert!(r["remedy"].as_str().unwrap().contains("leakmatch build --kinds"), "{r}");
}

#[test]
fn build_summary_states_what_the_pair_kinds_cost() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write("c.csv", crate::workdir::customers_csv());
    let out = wd.run(&["build", "--key-file", &key, "--out", "f.lmf", "c.csv"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let line = err.lines().find(|l| l.contains("pair kinds")).expect("pair cost line");
    assert!(
        line.contains("kvnr+name_dob, email+name_dob") && line.contains("bytes extra"),
        "{line}"
    );
    let text = wd.ok(&["inspect", "f.lmf"]);
    assert!(text.contains("build's default kinds: kvnr,email,phone,name_dob,kvnr+name_dob"));
    let out = wd.run(&["build", "--key-file", &key, "--out", "g.lmf", "--kinds", "kvnr", "c.csv"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no pair kind"));
}

#[test]
fn gdpr_categories_count_values_in_matched_rows_not_columns() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    let mut customers = String::from("KVNR;Nachname;Vorname;Geburtsdatum\n");
    let mut dump = String::from("KVNR;Nachname;Vorname;Geburtsdatum;Straße;Diagnose\n");
    let kvnrs = ["A123456780", "Z987654321", "M234567898"];
    for (i, k) in kvnrs.iter().enumerate() {
        customers.push_str(&format!("{k};Meier;Hans{i};01.02.196{i}\n"));
    }
    // Row 1: a matched customer with a diagnosis; row 2: matched, no address, no diagnosis;
    // row 3: not a customer, with a diagnosis (not counted: not a matched row).
    dump.push_str("A123456780;Meier;Hans0;01.02.1960;Hauptstr. 1;J45\n");
    dump.push_str("Z987654321;Meier;Hans1;01.02.1961;;\n");
    dump.push_str("B000000000;Otto;Paul;03.04.1975;Weg 2;E11\n");
    wd.write("c.csv", customers);
    wd.write("d.csv", dump);
    build(&wd, &key, "f.lmf", "c.csv", &[]);
    let v = scan(&wd, &key, &["--filter", "f.lmf", "d.csv"]);
    let g = &v["gdpr"];
    let cat = |name: &str| {
        let cats = g["categories"].as_array().unwrap();
        cats.iter().find(|c| c["category"] == name).cloned()
    };
    let records = |name: &str| cat(name).map(|c| c["records"]["estimate"].as_f64().unwrap());
    assert_eq!(records("name"), Some(2.0));
    assert_eq!(records("address"), Some(1.0), "the empty street cell is not counted");
    assert_eq!(records("health"), Some(1.0), "only the matched row's diagnosis");
    assert_eq!(cat("health").unwrap()["art9"], true);
    assert_eq!(g["records"]["exact"], true);
    assert_eq!(g["subjects"]["estimate"], 2.0);
    let summary = g["summary"].as_str().unwrap();
    assert!(
        summary.contains("Art. 9 GDPR") && summary.contains("2 distinct data subjects"),
        "{summary}"
    );
    for raw in ["J45", "Hauptstr", "Meier", "A123456780"] {
        assert!(!summary.contains(raw));
    }
    // The same rows without any diagnosis value: no Art. 9 flag though the column is there.
    wd.write(
        "e.csv",
        "KVNR;Nachname;Vorname;Geburtsdatum;Diagnose\nA123456780;Meier;Hans0;01.02.1960;\n",
    );
    let v = scan(&wd, &key, &["--filter", "f.lmf", "e.csv"]);
    assert_eq!(v["gdpr"]["art9"], false, "{:#}", v["gdpr"]);
    let text = wd.ok(&[
        "scan",
        "--quiet",
        "--key-file",
        &key,
        "--filter",
        "f.lmf",
        "--html",
        "r.html",
        "d.csv",
    ]);
    let html = std::fs::read_to_string(wd.path("r.html")).unwrap();
    assert!(text.contains("For the notification (paste):"));
    assert!(html.contains("id=\"gdpr-summary\""));
    assert!(html.contains(&crate_escape(summary)), "the same paragraph in HTML");
}

fn crate_escape(s: &str) -> String {
    leakmatch::report::html::escape(s)
}

/// Every interval of the JSON report contains its point, and the text and HTML print the
/// same rounded numbers.
#[test]
fn intervals_hold_their_points_and_print_alike_in_text_json_and_html() {
    let (wd, key, _) = case(&["--seed", "13", "--overlap", "0.3", "--recombined", "0.2"]);
    let args = ["--filter", "f.lmf", "--claimed-size", "50000", "g/leak.csv"];
    let v = scan(&wd, &key, &args);
    let mut seen = 0;
    fn walk(v: &Value, seen: &mut usize) {
        match v {
            Value::Object(o) => {
                if let (Some(e), Some(lo), Some(hi)) = (
                    o.get("estimate").and_then(Value::as_f64),
                    o.get("ci_low").and_then(Value::as_f64),
                    o.get("ci_high").and_then(Value::as_f64),
                ) {
                    assert!(lo <= e && e <= hi, "point outside its interval: {v}");
                    *seen += 1;
                }
                o.values().for_each(|x| walk(x, seen));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, seen)),
            _ => {}
        }
    }
    walk(&v, &mut seen);
    assert!(seen > 20, "{seen} intervals");
    let mut text_args = vec!["scan", "--quiet", "--key-file", &key, "--html", "r.html"];
    text_args.extend_from_slice(&args);
    let text = wd.ok(&text_args);
    assert!(text.ends_with('\n'));
    let html = std::fs::read_to_string(wd.path("r.html")).unwrap();
    let m = &v["signals"]["matched_rate"];
    let pct = |x: &Value| format!("{:.2} %", 100.0 * x.as_f64().unwrap());
    let printed =
        format!("{} (95 % CI {} – {})", pct(&m["estimate"]), pct(&m["ci_low"]), pct(&m["ci_high"]));
    assert!(text.contains(&printed), "text has {printed}");
    for e in [&m["estimate"], &m["ci_low"], &m["ci_high"]] {
        assert!(html.contains(&pct(e)), "html has {}", pct(e));
    }
    let r = &v["signals"]["recombined"][0]["share"];
    for e in [&r["estimate"], &r["ci_low"], &r["ci_high"]] {
        assert!(text.contains(&pct(e)), "text has {}", pct(e));
    }
}

#[test]
fn text_reports_end_with_a_newline_on_every_path() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write("c.csv", crate::workdir::customers_csv());
    build(&wd, &key, "f.lmf", "c.csv", &[]);
    wd.write("empty.csv", "");
    wd.write("header.csv", "KVNR;Nachname\n");
    wd.write("one.csv", "KVNR\nA123456780\n");
    for (dump, extra) in [
        ("empty.csv", &[][..]),
        ("header.csv", &[][..]),
        ("one.csv", &["--alert-above", "0.5", "--claimed-size", "10"][..]),
        ("c.csv", &["--alert-above", "0"][..]),
    ] {
        let mut args = vec!["scan", "--quiet", "--key-file", &key, "--filter", "f.lmf"];
        args.extend_from_slice(extra);
        args.push(dump);
        let out = wd.run(&args);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.ends_with('\n') && !text.ends_with("\n\n\n"), "{dump}: {text:?}");
    }
}

#[test]
fn invalid_text_in_a_category_cell_keeps_the_record_and_counts_the_cell() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write(
        "c.csv",
        "KVNR;Nachname;Vorname;Geburtsdatum\nA123456780;Meier;Hans;01.02.1960\n\
         Z987654321;Otto;Paul;03.04.1975\n",
    );
    build(&wd, &key, "f.lmf", "c.csv", &[]);
    // UTF-8 by its BOM. Row 1: a matched customer whose diagnosis cell is not valid UTF-8
    // (the record stays, the cell counts as a value); row 2: invalid text in the KVNR cell
    // (an identifier: the record is malformed, as before).
    let mut dump = b"\xEF\xBB\xBFKVNR;Nachname;Vorname;Geburtsdatum;Diagnose\n".to_vec();
    dump.extend_from_slice(b"A123456780;Meier;Hans;01.02.1960;J\xFF45\n");
    dump.extend_from_slice(b"Z98765432\xFF;Otto;Paul;03.04.1975;E11\n");
    wd.write("d.csv", dump);
    let v = scan(&wd, &key, &["--filter", "f.lmf", "d.csv"]);
    assert_eq!(v["records"]["total"], 2, "{:#}", v["records"]);
    assert_eq!(v["records"]["malformed"], 1, "only the bad KVNR cell: {:#}", v["records"]);
    assert_eq!(v["records"]["matched_any"], 1, "{:#}", v["records"]);
    let cats = v["gdpr"]["categories"].as_array().unwrap();
    let health = cats.iter().find(|c| c["category"] == "health").expect("health category");
    assert_eq!(health["records"]["estimate"], 1.0, "{health:#}");
}
