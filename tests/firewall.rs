//! 10-monitoring's firewall on offline trees, through the real binary: where the tree
//! has `nft` it is on by default and opens exactly the ports of the mail mode (and of
//! ACME) and the SSH port sshd's configuration names; `/etc/nftables.conf` includes our
//! file and keeps its own lines; a tree without `nft` is left as it is and `validate`
//! says so, naming the ports to open.

mod common;
use common::*;

const NFT_FILE: &str = "/etc/nftables.d/firstboot.nft";
const DEBIAN_CONF: &str = "#!/usr/sbin/nft -f\n\nflush ruleset\n\ntable inet filter {\n}\n";

fn config(extra: &str) -> String {
    format!(
        "domain: example.test\nhostname: mail.example.test\nipv4: 192.0.2.10\n\
         admin_email: admin@example.test\n{extra}"
    )
}

/// A tree with (or without) the nft binary and Debian's /etc/nftables.conf.
fn tree(extra: &str, nft: bool) -> Tree {
    let t = Tree::new(&config(extra));
    if nft {
        t.write("/usr/sbin/nft", "");
        t.write("/etc/nftables.conf", DEBIAN_CONF);
    }
    t
}

/// The `tcp dport { ... }` line of our file.
fn ports(t: &Tree) -> String {
    let text = t.read(NFT_FILE);
    let line = text.lines().find(|l| l.contains("tcp dport")).unwrap();
    line.trim().to_string()
}

#[test]
fn with_nft_the_mode_decides_the_ports() {
    let t = tree("mail:\n  mode: full\n", true);
    ok(&t.fb(&["run", "--profile", "advanced"]));
    assert_eq!(ports(&t), "tcp dport { 22, 25, 465, 587, 993, 995 } accept");
    let conf = t.read("/etc/nftables.conf");
    assert!(conf.starts_with(DEBIAN_CONF), "Debian's lines stay: {conf}");
    assert!(
        conf.contains("\ninclude \"/etc/nftables.d/firstboot.nft\"\n"),
        "{conf}"
    );
    // Nothing left to do: the file is not written (nor loaded) again.
    let out = stdout(&t.fb(&[
        "plan",
        "--profile",
        "advanced",
        "--force",
        "--only",
        "monitoring",
    ]));
    assert!(
        out.contains(&format!("   file {NFT_FILE}: unchanged")),
        "{out}"
    );
    assert!(
        out.contains(&format!("   command nft -f {NFT_FILE}: not needed")),
        "{out}"
    );
    assert!(
        out.contains("   block /etc/nftables.conf (firstboot): unchanged"),
        "{out}"
    );

    let t = tree(
        "mail:\n  mode: local\nmonitoring:\n  fail2ban: {sshd_port: 2222}\n",
        true,
    );
    // RHEL's file gets the include too; a sshd_port given is opened beside the port
    // sshd's configuration names (sshd still listens there until it is moved).
    t.write("/etc/sysconfig/nftables.conf", "# rules of your own here\n");
    t.write("/etc/ssh/sshd_config", "Port 2200\n");
    ok(&t.fb(&["run", "--profile", "advanced"]));
    assert_eq!(ports(&t), "tcp dport { 2222, 2200, 25 } accept");
    assert_eq!(
        t.read("/etc/sysconfig/nftables.conf"),
        "# rules of your own here\n# BEGIN firstboot\ninclude \"/etc/nftables.d/firstboot.nft\"\n# END firstboot\n"
    );
}

#[test]
fn the_ssh_port_comes_from_sshds_configuration() {
    let t = tree("mail:\n  mode: local\n", true);
    t.write(
        "/etc/ssh/sshd_config",
        "Include /etc/ssh/sshd_config.d/*.conf\nPort 2200\n",
    );
    ok(&t.fb(&["run", "--profile", "advanced"]));
    assert_eq!(ports(&t), "tcp dport { 2200, 25 } accept");
    let jail = t.read("/etc/fail2ban/jail.d/firstboot.local");
    assert!(
        jail.contains("[sshd]\nenabled = true\nport = 2200\n"),
        "{jail}"
    );
}

#[test]
fn every_port_sshd_listens_on_is_opened_unless_open_ports_is_given() {
    let relay = "mail:\n  mode: relay\n  relay: {host: smtp.example.net}\n";
    let sshd = |t: &Tree| {
        t.write(
            "/etc/ssh/sshd_config.d/50-second.conf",
            "Port 2222\nListenAddress 192.0.2.10:2300\n",
        );
        t.write(
            "/etc/ssh/sshd_config",
            "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n",
        );
    };
    let t = tree(relay, true);
    sshd(&t);
    let plan = t.fb(&["plan", "--profile", "advanced"]);
    let err = String::from_utf8_lossy(&plan.stderr).to_string();
    assert!(!err.contains("sshd listens on"), "{err}");
    ok(&t.fb(&["run", "--profile", "advanced"]));
    assert_eq!(ports(&t), "tcp dport { 2222, 22, 2300 } accept");
    let jail = t.read("/etc/fail2ban/jail.d/firstboot.local");
    assert!(
        jail.contains("[sshd]\nenabled = true\nport = 2222,22,2300\n"),
        "{jail}"
    );
    // The check wants the same ports (named where firstboot does not manage it).
    let t = tree(relay, false);
    sshd(&t);
    ok(&t.fb(&["run", "--profile", "advanced"]));
    let out = stdout(&t.fb(&["validate", "monitoring", "--json"]));
    assert!(
        out.contains("it should let in tcp 22, 2222, 2300\""),
        "{out}"
    );

    // Given, the list replaces sshd's ports (the first, sshd_port, stays open).
    let t = tree(
        "mail:\n  mode: relay\n  relay: {host: smtp.example.net}\nmonitoring:\n  open_ports: [443, 2222]\n",
        true,
    );
    t.write("/etc/ssh/sshd_config", "Port 2200\nPort 2201\n");
    // sshd's second port is left out: plan and run say so, naming it.
    let plan = t.fb(&["plan", "--profile", "advanced"]);
    let err = String::from_utf8_lossy(&plan.stderr).to_string();
    assert!(err.contains("warning: sshd listens on port 2201 "), "{err}");
    let run = t.fb(&["run", "--profile", "advanced"]);
    ok(&run);
    assert!(
        stdout(&run).contains("sshd listens on port 2201 "),
        "{}",
        stdout(&run)
    );
    assert_eq!(ports(&t), "tcp dport { 2200, 443, 2222 } accept");
    let t = tree("monitoring:\n  open_ports: [0, \"x\"]\n", true);
    let out = t.fb(&["plan", "--profile", "advanced"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(err.contains("monitoring.open_ports[0]"), "{err}");
    assert!(err.contains("monitoring.open_ports[1]"), "{err}");
}

#[test]
fn acme_opens_80_and_relay_mode_only_ssh() {
    let acme = "ssl:\n  provider: acme\n  acme: {email: admin@example.test, agree_tos: true}\n";
    let t = tree(
        &format!("{acme}mail:\n  mode: relay\n  relay: {{host: smtp.example.net}}\n"),
        true,
    );
    let out = t.fb(&["plan", "--profile", "advanced"]);
    ok(&out);
    assert!(
        stdout(&out).contains("+\t\ttcp dport { 22, 80 } accept"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn without_nft_nothing_changes_and_validate_names_the_ports() {
    let t = tree("mail:\n  mode: full\n", false);
    let plan = stdout(&t.fb(&["plan", "--profile", "advanced"]));
    assert!(
        plan.contains("   note: firewall: left as it is (monitoring.firewall is none"),
        "{plan}"
    );
    ok(&t.fb(&["run", "--profile", "advanced"]));
    assert!(!t.exists(NFT_FILE));
    assert!(!t.exists("/etc/nftables.conf"));
    let out = t.fb(&["validate", "monitoring"]);
    let text = stdout(&out);
    assert!(text.contains("firewall.ports"), "{text}");
    assert!(text.contains("left as it is"), "{text}");
}

#[test]
fn none_leaves_a_host_with_nft_as_it_is() {
    let t = tree("mail:\n  mode: full\nmonitoring:\n  firewall: none\n", true);
    ok(&t.fb(&["run", "--profile", "advanced"]));
    assert!(!t.exists(NFT_FILE));
    assert_eq!(t.read("/etc/nftables.conf"), DEBIAN_CONF);
}
