//! The front-end relay (`mail.forward`, seed 003) through the real binary on temporary
//! roots: relay_domains, the transport table and trusted networks in main.cf; the inputs
//! refused where they cannot work (relay mode, the mail domain itself, no domain, a
//! network with host bits), exit 2 naming the key, nothing written.

mod common;
use common::*;

fn forward(fields: &str) -> String {
    format!("{CONFIG}mail:\n  forward: {{host: mx.example.net{fields}}}\n")
}

#[test]
fn forwarded_domains_go_to_the_internal_host() {
    let t = Tree::new(&forward(
        ", port: 2525, domains: [home.example.test, b.example.org], networks: [198.51.100.0/24, \"2001:db8:1::/64\"]",
    ));
    ok(&t.fb(&["run", "--profile", "standard", "--only", "mail"]));
    let main = t.read("/etc/postfix/main.cf");
    for line in [
        "mynetworks = 127.0.0.0/8 [::1]/128 198.51.100.0/24 [2001:db8:1::]/64",
        "relay_domains = home.example.test, b.example.org",
        "transport_maps = hash:/etc/postfix/transport",
        "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
    ] {
        assert!(main.lines().any(|l| l == line), "{line:?} missing:\n{main}");
    }
    let transport = t.read("/etc/postfix/transport");
    assert!(transport.contains("\nhome.example.test smtp:[mx.example.net]:2525\nb.example.org smtp:[mx.example.net]:2525\n"), "{transport}");
}

#[test]
fn without_forward_nothing_of_it() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard", "--only", "mail"]));
    let main = t.read("/etc/postfix/main.cf");
    assert!(
        main.contains("mynetworks = 127.0.0.0/8 [::1]/128\n"),
        "{main}"
    );
    assert!(
        !main.contains("relay_domains") && !main.contains("transport_maps"),
        "{main}"
    );
    assert!(!t.exists("/etc/postfix/transport"));
}

fn rejected(config: &str, expect: &str) {
    let t = Tree::new(config);
    let before = t.snapshot(false);
    let o = t.fb(&["plan", "--profile", "standard", "--only", "mail"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(expect),
        "expected {expect:?} in:\n{}",
        stderr(&o)
    );
    assert_eq!(before, t.snapshot(false), "root unchanged");
}

#[test]
fn unusable_forward_inputs_are_refused() {
    rejected(
        &format!("{CONFIG}mail:\n  mode: relay\n  relay: {{host: smtp.example.net}}\n  forward: {{host: mx.example.net, domains: [a.example.org]}}\n"),
        "config.yaml:8: mail.forward: needs mail.mode local or full",
    );
    rejected(
        &forward(", domains: [example.test]"),
        "mail.forward.domains: must list at least one domain, and not the mail domain itself",
    );
    rejected(
        &forward(", domains: []"),
        "mail.forward.domains: must list at least one domain",
    );
    rejected(
        &forward(", domains: [a.example.org], networks: [192.0.2.1/24]"),
        "mail.forward.networks[0]: \"192.0.2.1/24\" has host bits set beyond /24",
    );
    rejected(&forward(""), "mail.forward.domains: is missing");
}
