//! The crate's modules import only from the stages before them (README "Code map"):
//! data flows one way, ident → dump → tally → scan → forensics → report, and no two
//! modules import each other. Read from the sources, so a backward `crate::` path fails here.

use std::collections::BTreeMap;
use std::path::Path;

/// Top-level modules in dependency order: each may use only the ones before it.
const ORDER: [&str; 19] = [
    "error",
    "num",
    "estimate",
    "sketch",
    "output",
    "ident",
    "token",
    "oprf",
    "filter",
    "dump",
    "tally",
    "scan",
    "forensics",
    "partial",
    "report",
    "synth",
    "cli",
    "config",
    "commands",
];

/// The non-test source of a file: test-only files skipped, an inline `mod tests` cut off,
/// comment lines dropped (doc links name later modules on purpose).
fn code(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    if name == "tests.rs" || name == "testkit.rs" || name.ends_with("_tests.rs") {
        return None;
    }
    let src = std::fs::read_to_string(path).ok()?;
    let src = match src.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &src[..i],
        None => &src[..],
    };
    Some(src.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n"))
}

/// `crate::NAME` paths in `text`.
fn crate_paths(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("crate::").map(move |(i, _)| {
        let rest = &text[i + 7..];
        let end =
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        &rest[..end]
    })
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn modules_import_only_from_earlier_stages() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let rank: BTreeMap<&str, usize> = ORDER.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut backward = Vec::new();
    let mut checked = 0;
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel.iter().next().unwrap().to_str().unwrap().trim_end_matches(".rs");
        if top == "lib" || top == "main" {
            continue;
        }
        let from = *rank.get(top).unwrap_or_else(|| panic!("{top}: add the module to ORDER"));
        let Some(text) = code(f) else { continue };
        for to in crate_paths(&text) {
            checked += 1;
            match rank.get(to) {
                Some(&r) if r > from => {
                    backward.push(format!("{} uses crate::{to}", rel.display()))
                }
                Some(_) => {}
                None => panic!("{}: crate::{to} is not a module in ORDER", rel.display()),
            }
        }
    }
    assert!(checked > 200, "only {checked} crate:: paths found: is the source tree there?");
    assert!(backward.is_empty(), "imports against the pipeline:\n{}", backward.join("\n"));
}

#[test]
fn the_check_sees_a_backward_import() {
    let text = "use crate::report::Report;\nfn f() { crate::ident::Kind::Kvnr; }";
    assert_eq!(crate_paths(text).collect::<Vec<_>>(), ["report", "ident"]);
}
