//! 9-mail_config writes what the host's Postfix understands: on a release shipping
//! Postfix 3.5 (RHEL 9) the `!SSLv2, ...` protocol form and compatibility level 2, on
//! one shipping 3.6+ `>=TLSv1.2` and level 3.6; `mail.postfix_version` overrides the fact.

mod common;
use common::*;

fn main_cf(os_release: &str, extra: &str) -> String {
    let t = Tree::new(&format!("{CONFIG}{extra}"));
    t.write("/etc/os-release", os_release);
    ok(&t.fb(&["run", "--profile", "standard", "--only", "mail"]));
    t.read("/etc/postfix/main.cf")
}

#[test]
fn postfix_3_5_gets_the_exclusion_form() {
    let cf = main_cf("ID=\"rhel\"\nVERSION_ID=\"9.4\"\n", "");
    assert!(cf.contains("\ncompatibility_level = 2\n"), "{cf}");
    assert!(
        cf.contains("\nsmtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1\n"),
        "{cf}"
    );
    assert!(
        cf.contains("\nsmtp_tls_mandatory_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1\n"),
        "{cf}"
    );
    assert!(!cf.contains(">=TLSv1.2"), "{cf}");
}

#[test]
fn postfix_3_7_gets_the_minimum_form() {
    let cf = main_cf("ID=debian\nVERSION_ID=\"12\"\n", "");
    assert!(cf.contains("\ncompatibility_level = 3.6\n"), "{cf}");
    assert!(
        cf.contains("\nsmtpd_tls_mandatory_protocols = >=TLSv1.2\n"),
        "{cf}"
    );
    assert!(!cf.contains("!SSLv2"), "{cf}");
}

#[test]
fn the_input_overrides_the_fact() {
    let cf = main_cf(
        "ID=debian\nVERSION_ID=\"12\"\n",
        "mail:\n  postfix_version: \"3.5\"\n",
    );
    assert!(cf.contains("\ncompatibility_level = 2\n"), "{cf}");
    assert!(cf.contains("!TLSv1.1"), "{cf}");
}
