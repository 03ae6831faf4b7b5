//! A temporary work folder with helpers to write files and run `leakmatch` in it.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("write file");
        p
    }

    /// A `leakmatch` command running in this folder, with no key in the environment.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("leakmatch").expect("binary built");
        c.current_dir(self.dir.path()).env_remove("LEAKMATCH_KEY_FILE");
        c
    }

    /// Runs `leakmatch args...` and returns its output, whatever the exit code.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run leakmatch")
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "leakmatch {args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs and asserts success; parses stdout as one JSON value (`--json` outputs).
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).expect("one JSON value on stdout")
    }

    /// Creates `key` with `keygen` and returns its path as a string.
    pub fn keygen(&self, name: &str) -> String {
        self.ok(&["keygen", "--out", name]);
        self.path(name).to_string_lossy().into_owned()
    }

    /// Writes a key file with fixed bytes (mode 0600), for tests whose outcome must not
    /// depend on a random key; returns its path as a string.
    pub fn fixed_key(&self, name: &str, byte: u8) -> String {
        use std::os::unix::fs::PermissionsExt;
        let p = self.write(name, format!("{}\n", hex_byte(byte).repeat(32)));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p.to_string_lossy().into_owned()
    }

    /// Every file in the folder with its bytes (for privacy checks over all outputs).
    pub fn all_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![self.root().to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push((p.clone(), std::fs::read(&p).unwrap()));
                }
            }
        }
        out
    }
}

fn hex_byte(b: u8) -> String {
    format!("{b:02x}")
}

/// Whether `needle` occurs in `hay` (bytes).
pub fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A small customer file with a planted canary name and e-mail.
pub const CANARY_NAME: &str = "Zzqanarywitz";
pub const CANARY_MAIL: &str = "canary.leakcheck.7731@example.org";

pub fn customers_csv() -> String {
    let mut s = String::from("Versichertennummer,Nachname,Vorname,Geburtsdatum,E-Mail,Telefon\n");
    s.push_str("A123456780,Müller,Jürgen,1961-03-15,juergen.mueller@example.de,0171 1234567\n");
    s.push_str("Z987654321,Schmidt,Anna,15.04.1972,anna.schmidt@example.de,+49 (0)30 1234567\n");
    s.push_str(&format!(
        "M234567898,{CANARY_NAME},Karl,1980-01-01,{CANARY_MAIL},0049 89 7654321\n"
    ));
    s
}
