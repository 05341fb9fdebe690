//! Bad input exits 2 with every problem named by file, key and reason, and the root is
//! left exactly as it was.

mod common;
use common::*;

fn rejected(config: &str, expect: &[&str]) -> String {
    let t = Tree::new(config);
    let before = t.snapshot(false);
    let o = t.fb(&["run", "--profile", "standard"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "stdout:\n{}\nstderr:\n{}",
        stdout(&o),
        stderr(&o)
    );
    let err = stderr(&o);
    let file = t.path("/etc/firstboot/config.yaml").display().to_string();
    assert!(err.contains(&file), "names the file:\n{err}");
    for e in expect {
        assert!(err.contains(e), "expected {e:?} in:\n{err}");
    }
    assert_eq!(before, t.snapshot(false), "root unchanged");
    err
}

#[test]
fn unknown_key_is_named_with_its_line() {
    rejected(
        &format!("{CONFIG}mail:\n  mode: local\n  relya: {{host: x.test}}\n"),
        &["config.yaml:7: mail.relya: unknown key `relya`"],
    );
}

#[test]
fn bad_ipv4() {
    rejected(
        "domain: example.test\nipv4: 192.0.2.300\n",
        &["config.yaml:2: ipv4: \"192.0.2.300\" is not an IPv4 address"],
    );
}

#[test]
fn port_out_of_range() {
    rejected(
        &format!(
            "{CONFIG}mail:\n  mode: relay\n  relay:\n    host: smtp.example.net\n    port: 70000\n"
        ),
        &["config.yaml:9: mail.relay.port: 70000 is out of range 1–65535"],
    );
}

#[test]
fn newline_in_a_value_cannot_smuggle_a_directive() {
    rejected(
        &format!("{CONFIG}mail:\n  relay: {{host: smtp.example.net, username: \"me\\nmydestination = evil.test\"}}\n"),
        &["mail.relay.username", "control character"],
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let err = rejected(
        "domain: example.test\nipv4: 1.2.3\nbogus: true\ndns:\n  spf_policy: \"?all\"\n  dmarc: {pct: 101}\n",
        &["ipv4:", "bogus:", "dns.spf_policy:", "dns.dmarc.pct:", "4 problems found"],
    );
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("config.yaml:")).collect();
    let mut sorted = lines.clone();
    sorted.sort_by_key(|l| l.split(':').nth(1).and_then(|n| n.parse::<u32>().ok()));
    assert_eq!(lines, sorted, "ordered by line");
}

#[test]
fn missing_required_and_conditionally_required_inputs() {
    rejected(
        "ipv4: 192.0.2.10\nmail: {mode: relay}\n",
        &[
            "domain: is missing (required: The mail domain",
            "mail.relay: is required when mail.mode == \"relay\"",
        ],
    );
}

#[test]
fn yaml_syntax_error_names_the_line() {
    rejected("domain: example.test\nmail: [\n", &["config.yaml:"]);
}

#[test]
fn usage_errors_exit_2() {
    let t = Tree::new(CONFIG);
    let o = t.fb(&["run", "--profile", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown profile `nope`"));
    let o = t.fb(&["run", "--profile", "standard", "--only", "monitoring"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not in profile `standard`"),
        "{}",
        stderr(&o)
    );
    let o = t.fb(&["run"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn defaults_and_facts_fill_what_the_config_leaves_out() {
    let t = Tree::new("domain: Example.TEST.\n");
    t.write("/etc/hostname", "vm1.example.test\n");
    let o = t.fb(&["plan", "--profile", "standard", "--json"]);
    ok(&o);
    // hostname defaults to mail.<domain> (normalised), ipv4 falls back to 127.0.1.1 offline.
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let hosts = v["modules"][1]["steps"][1]["diff"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        hosts.contains("+127.0.1.1 mail.example.test mail"),
        "{hosts}"
    );
}

#[test]
fn broken_manifests_are_reported_with_file_and_key() {
    let t = Tree::new(CONFIG);
    let fx = fixture_modules("bad-manifest");
    let o = t.fb(&["--modules-dir", &fx, "list"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    for e in [
        "10-monitoring/module.yaml: inputs.level: enum input lists no values",
        "10-monitoring/module.yaml: inputs.names: list input declares no items",
        "10-monitoring/module.yaml: inputs.tuning: map input declares no fields",
        "10-monitoring/module.yaml: inputs.probe: fact must be one of fqdn, ipv4, ipv6",
        "steps[0].file: mode must be a quoted octal string",
        "steps[1].file: unknown field `contnet`",
        "steps[2].command: command `/bin/true` has no guard",
        "steps[3].template: no template `missing.tera`",
        "steps[4].file: file /etc/both: give exactly one of `template` and `content`",
        "steps[5].file: file /etc/neither: give exactly one of `template` and `content`",
        "steps[6].block: block /etc/both: give exactly one of `template` and `content`",
        "steps[7].block: block /etc/neither: give exactly one of `template` and `content`",
        "steps[8].block: block marker must be one non-empty line",
        "steps[9].command: command: argv is empty",
        "nonumber/module.yaml",
    ] {
        assert!(err.contains(e), "expected {e:?} in:\n{err}");
    }
    assert!(!err.contains("inputs.self"), "fact: fqdn is valid:\n{err}");
}

#[test]
fn a_root_that_is_not_a_directory_is_a_usage_error() {
    let t = Tree::new(CONFIG);
    let missing = t.path("/no/such/dir");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_firstboot"))
        .arg("--root")
        .arg(&missing)
        .args(["run", "--profile", "standard"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not a directory"), "{}", stderr(&o));
    assert!(!missing.exists());
}

#[test]
fn a_key_given_twice_is_an_error_naming_both_lines() {
    rejected(
        "domain: example.test\nipv4: 192.0.2.10\ndomain: other.test\n",
        &[
            "config.yaml:3:",
            "duplicate key `domain` (first on line 1, again on line 3)",
        ],
    );
    rejected(
        &format!(
            "{CONFIG}mail: {{mode: relay, relay: {{host: a.test,\n  port: 25, host: b.test}}}}\n"
        ),
        &["duplicate key `host` in mail.relay (first on line 5, again on line 6)"],
    );
}

#[test]
fn a_tab_in_the_indentation_says_indent_with_spaces() {
    rejected(
        &format!("{CONFIG}mail:\n\tmode: full\n"),
        &["config.yaml:6:", "indent with spaces"],
    );
}

#[test]
fn a_deeply_nested_config_is_refused_at_once() {
    let start = std::time::Instant::now();
    let deep = format!(
        "{CONFIG}x: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    rejected(&deep, &["nested more than 64 levels deep"]);
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_missing_required_input_is_reported_once_without_knock_on_errors() {
    let err = rejected(
        "ipv4: 192.0.2.10\n",
        &[
            "domain: is missing (required: The mail domain",
            "1 problem found",
        ],
    );
    assert!(!err.contains("dns.mailname"), "{err}");
    assert!(!err.contains("hostname"), "{err}");
}

#[test]
fn a_range_error_gives_the_range() {
    rejected(
        &format!("{CONFIG}mail:\n  dkim: {{bits: 512}}\n"),
        &["mail.dkim.bits: 512 is out of range 1024–4096"],
    );
}

#[test]
fn spf_mechanisms_are_checked_one_by_one_and_as_a_whole() {
    rejected(
        &format!(
            "{CONFIG}dns:\n  spf_extra: [\"\", \"+all\", \"a:\\\"x\\\"\", \"ip4:192.0.2.0/24 -all\", include:_spf.example.net]\n"
        ),
        &[
            "dns.spf_extra[0]: \"\" is not an SPF mechanism",
            "dns.spf_extra[1]: \"+all\" is not an SPF mechanism: `all` is the policy",
            "dns.spf_extra[2]:",
            "dns.spf_extra[3]:",
            "4 problems found",
        ],
    );
    let many = vec!["mx"; 100_000];
    let err = rejected(
        &format!("{CONFIG}dns:\n  spf_extra: [{}]\n", many.join(", ")),
        &["dns.spf_extra: the SPF mechanisms take", "under 450 bytes"],
    );
    assert!(err.len() < 1000, "short message: {} bytes", err.len());
    let long = format!("include:{}.example.net", "a".repeat(60_000));
    let err = rejected(
        &format!("{CONFIG}dns:\n  spf_extra: [\"{long}\"]\n"),
        &["dns.spf_extra[0]:", "…"],
    );
    assert!(
        err.len() < 1000,
        "value cut in the message: {} bytes",
        err.len()
    );
}

#[test]
fn ids_group_names_and_mailbox_names_are_checked() {
    let err = rejected(
        &format!(
            "{CONFIG}dns:\n  mta_sts: {{id: \"1; p=x\"}}\nssl:\n  group: \"ssl\u{202E}cert\"\nmail:\n  users:\n    - {{name: \"a:b:0:0\", password_hash: x}}\n"
        ),
        &[
            "dns.mta_sts.id: \"1; p=x\" is not an id: use 1 to 32 letters and digits",
            "ssl.group:",
            "U+202E",
            "mail.users[0].name: \"a:b:0:0\" is not a mailbox name",
        ],
    );
    assert!(!err.contains('\u{202E}'), "the raw character is not echoed");
    rejected(
        &format!(
            "{CONFIG}mail:\n  users:\n    - {{name: ann, password_hash: \"{H}\"}}\n    - {{name: bob, password_hash: \"{H}\"}}\n    - {{name: ann, password_hash: \"{H}\"}}\n"
        ),
        &["mail.users[2].name: \"ann\" is used twice (also mail.users[0])"],
    );
}

const H: &str = "{SHA512-CRYPT}$6$saltsalt$0123456789abcdefghij";

#[test]
fn a_password_hash_must_be_in_dovecot_scheme_form_and_is_never_shown() {
    let err = rejected(
        &format!(
            "{CONFIG}mail:\n  users:\n    - {{name: ann, password_hash: \"{H}\"}}\n    - {{name: bob, password_hash: \"hunter2-plain\"}}\n    - {{name: cy, password_hash: \"{{MD5}}$1$hunter2$abcdefghijklmnop\"}}\n"
        ),
        &[
            "mail.users[1].password_hash: the value (hidden) is not in Dovecot's scheme form",
            "mail.users[2].password_hash: the value (hidden) uses scheme {MD5}, not one of: ARGON2ID",
        ],
    );
    assert!(!err.contains("hunter2"), "{err}");
    assert!(!err.contains("mail.users[0]"), "{err}");
}

#[test]
fn a_huge_bad_value_is_cut_in_the_message() {
    let err = rejected(
        &format!("{CONFIG}hostname: \"{}\"\n", "x".repeat(900 * 1024)),
        &["hostname:", "…"],
    );
    assert!(err.len() < 1000, "{} bytes", err.len());
}

#[test]
fn unknown_names_list_the_known_ones_as_words() {
    let t = Tree::new(CONFIG);
    let o = t.fb(&["plan", "--profile", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown profile `nope` (known: advanced, standard)"),
        "{}",
        stderr(&o)
    );
    for args in [
        &["plan", "--profile", "standard", "--only", "nope"][..],
        &["rollback", "nope"][..],
    ] {
        let o = t.fb(args);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("unknown module `nope` (known: 7-ssl_config (ssl), 8-dns_config (dns), 9-mail_config (mail), 10-monitoring (monitoring))"),
            "{}",
            stderr(&o)
        );
    }
}
