//! The normalisers' export forms end to end: a customer written one way is found in a dump
//! that writes the same identifier in another form (`docs/normalisation.md`).

use serde_json::Value;

use crate::workdir::Workdir;

#[test]
fn export_forms_of_one_customer_match_across_build_and_scan() {
    let wd = Workdir::new();
    let key = wd.keygen("k");
    wd.write(
        "c.csv",
        "KVNR,E-Mail,Telefon,IBAN\n\
         A123456780,jan.muster@muster.de,+39 02 1234 5678,DE89370400440532013000\n\
         Z987654321,m\u{e4}rta@k\u{f6}ln.de,+49 30 123456,NO9386011117947\n",
    );
    // Display name with a comma inside a quoted CSV field, a decomposed address, a tel: URI,
    // Italy's (0), the ISO print form, dotted groups, a dotted KVNR and one with no-break spaces.
    wd.write(
        "d.csv",
        "KVNR,E-Mail,Telefon,IBAN\n\
         A.123.456.780,\"\"\"Muster, Jan\"\" <Jan.Muster@Muster.DE>\",+39 (0)2 1234 5678,IBAN: DE89 3704 0044 0532 0130 00\n\
         Z\u{a0}987\u{a0}654\u{a0}321,ma\u{308}rta@ko\u{308}ln.de,tel:+49-30-123456,NO93.8601.1117.947\n\
         B111111115,jan@muster.test,tel:+49-30-123456;ext=1,DE8937040044053201300\n",
    );
    let kinds = "kvnr,email,phone,iban";
    wd.ok(&["build", "--quiet", "--key-file", &key, "--out", "f.lmf", "--kinds", kinds, "c.csv"]);
    let out =
        wd.ok(&["scan", "--quiet", "--json", "--key-file", &key, "--filter", "f.lmf", "d.csv"]);
    let v: Value = serde_json::from_str(&out).expect("one JSON object");
    let kind = |name: &str| {
        let ks = v["filters"][0]["kinds"].as_array().unwrap();
        ks.iter().find(|k| k["kind"] == name).expect(name).clone()
    };
    for name in ["kvnr", "email", "phone", "iban"] {
        assert_eq!(kind(name)["hits"], 2, "{name}");
    }
    // Row 3 holds a special-use domain, a tel: extension and a too short IBAN: not valid.
    for name in ["email", "phone", "iban"] {
        assert_eq!(kind(name)["valid"], 2, "{name}: {}", kind(name));
    }
}
