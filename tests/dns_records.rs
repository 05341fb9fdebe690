//! The records 8-dns_config computes, through the real binary on temporary roots:
//! SPF with both address families, DMARC options, TLSA from a certificate (pending until
//! it exists), PTR as a provider request, the zone fragment and table a run leaves, and
//! strict checking of `records:` in manifests.

mod common;
use common::*;
use serde_json::Value;

fn records_json(t: &Tree, extra: &[&str]) -> Value {
    let mut args = vec!["records", "--profile", "standard", "--json"];
    args.extend_from_slice(extra);
    let o = t.fb(&args);
    ok(&o);
    serde_json::from_slice(&o.stdout).expect("records --json is JSON")
}

/// `(type, name) -> value` of every record of 8-dns_config.
fn by_name(v: &Value) -> Vec<(String, String, String, String)> {
    v["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "8-dns_config")
        .expect("8-dns_config has records")["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["type"].as_str().unwrap().to_string(),
                r["name"].as_str().unwrap().to_string(),
                r["value"].as_str().unwrap_or("").to_string(),
                format!(
                    "{}/{}",
                    r["publish"].as_str().unwrap(),
                    r["status"].as_str().unwrap()
                ),
            )
        })
        .collect()
}

fn value_of(recs: &[(String, String, String, String)], t: &str, name: &str) -> Option<String> {
    recs.iter()
        .find(|r| r.0 == t && r.1 == name)
        .map(|r| r.2.clone())
}

#[test]
fn spf_and_dmarc_from_inputs_with_both_address_families() {
    let t = Tree::new(&format!(
        "{CONFIG}dns:\n  spf_policy: \"~all\"\n  spf_extra: [\"include:_spf.relay.test\"]\n  dmarc: {{policy: reject, pct: 50, ruf: forensic@example.test, fo: d, adkim: s, aspf: s}}\n  tls_rpt: {{enabled: true}}\n  mta_sts: {{enabled: true, id: \"20240101\"}}\n"
    ));
    let recs = by_name(&records_json(&t, &["--only", "dns"]));
    assert_eq!(
        value_of(&recs, "TXT", "example.test.").as_deref(),
        Some("v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 include:_spf.relay.test ~all")
    );
    assert_eq!(
        value_of(&recs, "TXT", "mail.example.test.").as_deref(),
        Some("v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 ~all"),
        "the HELO name has its own SPF, without the relay's"
    );
    assert_eq!(
        value_of(&recs, "TXT", "_dmarc.example.test.").as_deref(),
        Some("v=DMARC1; p=reject; pct=50; rua=mailto:admin@example.test; ruf=mailto:forensic@example.test; fo=d; adkim=s; aspf=s")
    );
    assert_eq!(
        value_of(&recs, "TXT", "_smtp._tls.example.test.").as_deref(),
        Some("v=TLSRPTv1; rua=mailto:admin@example.test")
    );
    assert_eq!(
        value_of(&recs, "TXT", "_mta-sts.example.test.").as_deref(),
        Some("v=STSv1; id=20240101")
    );
    assert_eq!(
        value_of(&recs, "MX", "example.test.").as_deref(),
        Some("10 mail.example.test.")
    );
    assert_eq!(
        value_of(&recs, "A", "mail.example.test.").as_deref(),
        Some("192.0.2.10")
    );
    assert_eq!(
        value_of(&recs, "AAAA", "mail.example.test.").as_deref(),
        Some("2001:db8::10")
    );
    let ptr4 = recs
        .iter()
        .find(|r| r.0 == "PTR" && r.1 == "10.2.0.192.in-addr.arpa.")
        .expect("PTR of the IPv4 address");
    assert_eq!(
        (ptr4.2.as_str(), ptr4.3.as_str()),
        ("mail.example.test.", "provider/ready")
    );
    assert!(recs
        .iter()
        .any(|r| r.0 == "PTR" && r.1.ends_with(".8.b.d.0.1.0.0.2.ip6.arpa.")));
    // --only dns still knows 7-ssl_config's outputs (they depend on inputs only): the
    // TLSA record is declared, pending until the certificate exists.
    assert!(
        recs.iter().any(|r| r.0 == "TLSA" && r.3 == "dns/pending"),
        "{recs:?}"
    );
}

#[test]
fn ipv4_only_host_and_defaults() {
    let t = Tree::new("domain: example.test\nipv4: 192.0.2.10\n");
    let recs = by_name(&records_json(&t, &["--only", "dns"]));
    assert_eq!(
        value_of(&recs, "TXT", "example.test.").as_deref(),
        Some("v=spf1 ip4:192.0.2.10 -all")
    );
    assert_eq!(
        value_of(&recs, "TXT", "_dmarc.example.test.").as_deref(),
        Some(
            "v=DMARC1; p=quarantine; pct=100; rua=mailto:postmaster@example.test; fo=1; adkim=r; aspf=r"
        )
    );
    assert!(!recs.iter().any(|r| r.0 == "AAAA"));
    assert_eq!(
        value_of(&recs, "A", "example.test."),
        None,
        "no address for the bare domain unless dns.apex_address"
    );
    assert_eq!(recs.iter().filter(|r| r.0 == "PTR").count(), 1);
    assert!(!recs
        .iter()
        .any(|r| r.1.starts_with("_mta-sts") || r.1.starts_with("_smtp._tls")));
}

#[test]
fn tlsa_is_pending_until_the_certificate_exists_then_hashes_its_key() {
    let t = Tree::new(CONFIG);
    let recs = by_name(&records_json(&t, &[]));
    let tlsa = recs
        .iter()
        .find(|r| r.0 == "TLSA")
        .expect("a TLSA record with 7-ssl_config selected");
    assert_eq!(tlsa.1, "_25._tcp.mail.example.test.");
    assert_eq!(tlsa.3, "dns/pending");
    let table = stdout(&t.fb(&["records", "--profile", "standard"]));
    assert!(table.contains("certificate not issued yet"), "{table}");

    let fixtures = format!("{}/tests/fixtures/dns", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read_to_string(format!("{fixtures}/cert.pem")).unwrap();
    let want = std::fs::read_to_string(format!("{fixtures}/cert.spki-sha256")).unwrap();
    t.write("/etc/firstboot/ssl/mail.example.test.crt", &pem);
    let recs = by_name(&records_json(&t, &[]));
    let tlsa = recs.iter().find(|r| r.0 == "TLSA").unwrap();
    assert_eq!(tlsa.2, format!("3 1 1 {}", want.trim()));
    assert_eq!(tlsa.3, "dns/ready");

    t.write(
        "/etc/firstboot/ssl/mail.example.test.crt",
        "not a certificate\n",
    );
    let o = t.fb(&["records", "--profile", "standard"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("/etc/firstboot/ssl/mail.example.test.crt: not a PEM certificate"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn zone_fragment_and_table_are_grouped_and_left_by_a_run() {
    let t = Tree::new(CONFIG);
    let zone = stdout(&t.fb(&[
        "records",
        "--profile",
        "standard",
        "--only",
        "dns",
        "--zone",
    ]));
    let words = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        zone.lines()
            .any(|l| words(l) == "example.test. 3600 IN MX 10 mail.example.test."),
        "{zone}"
    );
    assert!(
        zone.contains("IN TXT   \"v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all\""),
        "{zone}"
    );
    let provider = zone
        .split("; you must add these at your DNS provider")
        .nth(1)
        .expect("a provider section");
    assert!(provider.contains("; 10.2.0.192.in-addr.arpa."), "{zone}");
    assert!(
        !zone.lines().any(|l| l.starts_with("10.2.0.192")),
        "PTR commented out: {zone}"
    );

    let table = stdout(&t.fb(&["records", "--profile", "standard", "--only", "dns"]));
    assert!(
        table.contains("publish these records in the DNS of example.test"),
        "{table}"
    );
    assert!(
        table.lines().any(|l| l.starts_with("  _dmarc  TXT")),
        "{table}"
    );
    assert!(
        table.lines().any(|l| l.starts_with("  @       MX")),
        "{table}"
    );
    assert!(
        table.contains("you must add these at your DNS provider"),
        "{table}"
    );

    let o = t.fb(&["run", "--profile", "standard", "--only", "dns"]);
    ok(&o);
    let out = stdout(&o);
    assert!(
        out.contains("DNS records (zone fragments and tables in /var/log/firstboot/dns/)"),
        "{out}"
    );
    assert!(
        out.contains("you must add these at your DNS provider"),
        "{out}"
    );
    assert_eq!(t.read("/var/log/firstboot/dns/8-dns_config.zone"), zone);
    assert_eq!(t.read("/var/log/firstboot/dns/8-dns_config.txt"), table);
    // A second plan has nothing to write.
    let write_records_change = || {
        let o = t.fb(&[
            "plan",
            "--profile",
            "standard",
            "--only",
            "dns",
            "--force",
            "--json",
        ]);
        ok(&o);
        let plan: Value = serde_json::from_slice(&o.stdout).unwrap();
        let step = plan["modules"][0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["target"]
                    .as_str()
                    .unwrap()
                    .starts_with("action write_records")
            })
            .unwrap()
            .clone();
        step["change"].as_str().unwrap().to_string()
    };
    assert_eq!(write_records_change(), "none");
    // The table edited by hand (the zone fragment as written): rewritten, not "up to date".
    t.write("/var/log/firstboot/dns/8-dns_config.txt", "edited\n");
    assert_ne!(write_records_change(), "none");
    ok(&t.fb(&["run", "--profile", "standard", "--only", "dns", "--force"]));
    assert_eq!(t.read("/var/log/firstboot/dns/8-dns_config.txt"), table);
}

fn catalog_errors(module_yaml: &str) -> String {
    let t = Tree::new(CONFIG);
    let dir = t.path("/mods/8-dns_config");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("module.yaml"), module_yaml).unwrap();
    let o = t.fb(&[
        "--modules-dir",
        dir.parent().unwrap().to_str().unwrap(),
        "list",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    stderr(&o)
}

#[test]
fn records_in_manifests_are_checked_when_the_catalog_loads() {
    let err = catalog_errors(
        "name: dns\ndescription: bad records\nrecords:\n  - {name: example.test, type: TXT, value: x, dkim_key: /k}\n  - {name: example.test, type: MX, value: \"ten mail.example.test\"}\n  - {name: \"bad name\", type: A, value: 192.0.2.1}\n  - {name: example.test, type: TXT, tlsa_cert: /c}\n  - {name: example.test, type: TLSA, tlsa_cert: relative/c.pem}\nsteps:\n  - action: {write_records: {origin: example.test, records: []}}\nchecks:\n  - records: {}\n",
    );
    for want in [
        "records[0].value: give exactly one of `value`, `tlsa_cert`, `dkim_key`",
        "records[1].value: expected a preference (0-65535) before the host, got \"ten\"",
        "records[2].name: \"bad name\": label \"bad name\" may only hold letters",
        "records[3].tlsa_cert: only a TLSA record is computed from a certificate",
        "records[4].tlsa_cert: \"relative/c.pem\" is not an absolute path",
        "steps[0].action: unknown field `records`, expected `origin`",
    ] {
        assert!(err.contains(want), "expected {want:?} in:\n{err}");
    }
    let err = catalog_errors(
        "name: dns\ndescription: bad type\nrecords:\n  - {name: example.test, type: SPF, value: x}\n",
    );
    assert!(
        err.contains("records[0].type: unknown variant `SPF`"),
        "{err}"
    );
    let err = catalog_errors(
        "name: dns\ndescription: no records\nsteps:\n  - action: {publish_records: {server: 192.0.2.53, zone: example.test, tsig_name: k, tsig_secret_file: /k}}\n",
    );
    assert!(
        err.contains("steps[0].action: works on the module's DNS records, but the module declares no `records:`"),
        "{err}"
    );
}

#[test]
fn the_mail_module_declares_its_dkim_record_from_its_key() {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::EncodePublicKey;
    let t = Tree::new(&format!("{CONFIG}mail:\n  dkim: {{selector: s2024}}\n"));
    let v = records_json(&t, &[]);
    let mail = v["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "9-mail_config")
        .expect("9-mail_config has records");
    let dkim = &mail["records"][0];
    assert_eq!(dkim["name"], "s2024._domainkey.example.test.");
    assert_eq!(dkim["status"], "pending", "{dkim}");
    assert!(dkim["reason"]
        .as_str()
        .unwrap()
        .contains("DKIM key not generated yet"));
    // An offline tree gets no key: it would be shared by every machine of the image.
    let o = t.fb(&["plan", "--profile", "standard", "--only", "mail"]);
    assert!(
        stdout(&o).contains("action dkim_key /etc/opendkim/keys/example.test/s2024.private: generate a 2048-bit RSA key on the running system (offline root"),
        "{}",
        stdout(&o)
    );

    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
    let pem = key.to_pkcs1_pem(Default::default()).unwrap();
    t.write("/etc/opendkim/keys/example.test/s2024.private", &pem);
    let v = records_json(&t, &[]);
    let mail = v["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "9-mail_config")
        .unwrap();
    let dkim = &mail["records"][0];
    let spki = key.to_public_key().to_public_key_der().unwrap();
    use data_encoding::BASE64;
    let want = format!("v=DKIM1; k=rsa; p={}", BASE64.encode(spki.as_bytes()));
    assert_eq!(dkim["value"].as_str(), Some(want.as_str()));
    let strings: Vec<&str> = dkim["strings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(strings.len(), 2);
    assert!(strings.iter().all(|s| s.len() <= 255));
    assert_eq!(strings.concat(), want);
    let zone = stdout(&t.fb(&[
        "records",
        "--profile",
        "standard",
        "--only",
        "mail",
        "--zone",
    ]));
    assert!(
        zone.contains(&format!("IN TXT   \"{}\" \"{}\"", strings[0], strings[1])),
        "{zone}"
    );
}

#[test]
fn apex_address_publishes_the_bare_domain_once() {
    let t = Tree::new(&format!("{CONFIG}dns:\n  apex_address: true\n"));
    let recs = by_name(&records_json(&t, &["--only", "dns"]));
    assert_eq!(
        value_of(&recs, "A", "example.test.").as_deref(),
        Some("192.0.2.10")
    );
    assert_eq!(
        value_of(&recs, "AAAA", "example.test.").as_deref(),
        Some("2001:db8::10")
    );
    assert_eq!(
        value_of(&recs, "A", "mail.example.test.").as_deref(),
        Some("192.0.2.10")
    );
    // A host named like its domain has those records already: not declared twice.
    let t = Tree::new(&format!(
        "{CONFIG}hostname: example.test\ndns:\n  apex_address: true\n"
    ));
    let recs = by_name(&records_json(&t, &["--only", "dns"]));
    assert!(
        !recs.iter().any(|r| r.1 == "mail.example.test."),
        "{recs:?}"
    );
    assert_eq!(
        recs.iter()
            .filter(|r| r.0 == "A" && r.1 == "example.test.")
            .count(),
        1,
        "{recs:?}"
    );
}

/// Under an offline root publication is only planned: how many records would be sent and
/// how many wait for a file (the TLSA record for the certificate, the DKIM record for its
/// key), in each module that publishes.
#[test]
fn an_offline_plan_counts_records_to_send_and_pending() {
    let t = Tree::new(&format!(
        "{CONFIG}dns:\n  publish:\n    server: 192.0.2.53\n    tsig_name: firstboot\n    tsig_secret_file: /etc/firstboot/tsig.key\n"
    ));
    t.write(
        "/etc/firstboot/tsig.key",
        "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=\n",
    );
    let o = t.fb(&["plan", "--profile", "standard"]);
    ok(&o);
    let out = stdout(&o);
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("action publish_records"))
        .map(str::trim)
        .collect();
    assert_eq!(
        lines,
        [
            "- action publish_records (example.test at 192.0.2.53): send 6 records to 192.0.2.53; 1 pending until the file it is computed from exists (offline root: recorded, not run)",
            "- action publish_records (example.test at 192.0.2.53): send 0 records to 192.0.2.53; 1 pending until the file it is computed from exists (offline root: recorded, not run)",
        ],
        "{out}"
    );

    // Once the certificate exists, 8-dns_config has nothing pending.
    let fixtures = format!("{}/tests/fixtures/dns", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read_to_string(format!("{fixtures}/cert.pem")).unwrap();
    t.write("/etc/firstboot/ssl/mail.example.test.crt", &pem);
    let o = t.fb(&["plan", "--profile", "standard", "--only", "dns"]);
    ok(&o);
    let out = stdout(&o);
    assert!(
        out.contains("- action publish_records (example.test at 192.0.2.53): send 7 records to 192.0.2.53 (offline root: recorded, not run)"),
        "{out}"
    );
}

#[test]
fn a_failing_action_is_named_in_the_error() {
    let t = Tree::new(CONFIG);
    // Where the records' directory should be, a file: writing the zone fragment fails.
    t.write("/var/log/firstboot/dns", "not a directory\n");
    let o = t.fb(&["run", "--profile", "standard", "--only", "dns"]);
    assert_ne!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(
        err.contains("action write_records (/var/log/firstboot/dns)"),
        "{err}"
    );
}
