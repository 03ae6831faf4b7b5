use std::os::unix::fs::PermissionsExt;

use crate::workdir::Workdir;

#[test]
fn keygen_writes_owner_only_key_and_refuses_to_overwrite() {
    let wd = Workdir::new();
    wd.ok(&["keygen", "--out", "k"]);
    let meta = std::fs::metadata(wd.path("k")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(wd.path("k")).unwrap();
    assert_eq!(text.trim().len(), 64);
    let before = text.clone();
    let out = wd.run(&["keygen", "--out", "k"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read_to_string(wd.path("k")).unwrap(), before);
}

#[test]
fn refuses_group_readable_key_with_fix() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write("c.csv", crate::workdir::customers_csv());
    std::fs::set_permissions(wd.path("k"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = wd.run(&["build", "--key-file", &key, "--out", "f.lmf", "c.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chmod 600"), "{err}");
    assert!(!wd.path("f.lmf").exists());
}

#[test]
fn key_from_environment_and_missing_key_error() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write("c.csv", crate::workdir::customers_csv());
    let out = wd.run(&["build", "--out", "f.lmf", "c.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LEAKMATCH_KEY_FILE"));
    let out = wd
        .cmd()
        .env("LEAKMATCH_KEY_FILE", &key)
        .args(["build", "--quiet", "--out", "f.lmf", "c.csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(wd.path("f.lmf").exists());
}
