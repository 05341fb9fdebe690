//! What a user meets when the config changes after a first run: a module whose inputs
//! changed is no longer "done" (plan and run say why), the others stay done, and a hand
//! edit of a done module's file is still reported.

mod common;
use common::*;

#[test]
fn a_module_whose_inputs_changed_runs_again_and_says_why() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    assert_eq!(t.read("/etc/hostname"), "mail.example.test\n");
    t.write(
        "/etc/firstboot/config.yaml",
        &format!("{CONFIG}hostname: mx.example.test\ndns:\n  dmarc:\n    policy: reject\n"),
    );
    let plan = stdout(&t.fb(&["plan", "--profile", "standard"]));
    assert!(
        plan.contains("8-dns_config (dns): will run again: its inputs changed"),
        "{plan}"
    );
    let o = t.fb(&["run", "--profile", "standard"]);
    ok(&o);
    let out = stdout(&o);
    assert!(
        out.contains("8-dns_config: its inputs changed since its last run"),
        "{out}"
    );
    assert_eq!(t.read("/etc/hostname"), "mx.example.test\n");
    let zone = t.read("/var/log/firstboot/dns/8-dns_config.zone");
    assert!(zone.contains("p=reject"), "{zone}");
    // Once applied, the new inputs are the module's: the next run skips it again.
    let again = stdout(&t.fb(&["run", "--profile", "standard"]));
    assert!(!again.contains("inputs changed"), "{again}");
}

#[test]
fn an_input_another_module_reads_does_not_rerun_this_one() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "advanced"]));
    t.write(
        "/etc/firstboot/config.yaml",
        &format!("{CONFIG}monitoring:\n  fail2ban:\n    maxretry: 7\n"),
    );
    let out = stdout(&t.fb(&["run", "--profile", "advanced"]));
    assert!(out.contains("10-monitoring: its inputs changed"), "{out}");
    assert!(!out.contains("8-dns_config: its inputs changed"), "{out}");
    assert!(!out.contains("7-ssl_config: its inputs changed"), "{out}");
}

#[test]
fn a_done_module_still_reports_a_hand_edited_file() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    t.write("/etc/mailname", "hand.example.test\n");
    let o = t.fb(&["run", "--profile", "standard"]);
    ok(&o);
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        out.contains("/etc/mailname edited by hand since firstboot wrote it"),
        "{out}"
    );
    assert_eq!(t.read("/etc/mailname"), "hand.example.test\n", "left alone");
}

#[test]
fn a_mode_changed_by_hand_is_drift_like_an_edit() {
    use std::os::unix::fs::PermissionsExt;
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    let chmod = |m| {
        std::fs::set_permissions(t.path("/etc/mailname"), std::fs::Permissions::from_mode(m))
            .unwrap()
    };
    let mode = || {
        std::fs::metadata(t.path("/etc/mailname"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    chmod(0o600);
    let plan = stdout(&t.fb(&["plan", "--profile", "standard", "--force"]));
    assert!(
        plan.contains("! file /etc/mailname: mode 0600 -> 0644 changed by hand"),
        "{plan}"
    );
    let o = t.fb(&["run", "--profile", "standard", "--force"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("/etc/mailname"), "{}", stderr(&o));
    assert_eq!(mode(), 0o600, "left alone");
    ok(&t.fb(&["run", "--profile", "standard", "--force", "--overwrite"]));
    assert_eq!(mode(), 0o644, "reset with --overwrite");
    // Rolling back the --overwrite run brings the hand-set mode back, and with it the
    // protection: the next run stops again.
    ok(&t.fb(&["rollback", "dns"]));
    assert_eq!(mode(), 0o600);
    let o = t.fb(&["run", "--profile", "standard", "--force"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}
