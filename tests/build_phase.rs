//! The build phase: every selected module is rendered and typed before the first change
//! of a run. A value a template makes unusable is an input error naming the config key
//! (exit 2), found before 7-ssl_config or 8-dns_config changed anything.

mod common;
use common::*;

#[test]
fn a_bad_dkim_selector_is_an_input_error_before_ssl_and_dns_change_anything() {
    let t = Tree::new(&format!(
        "{CONFIG}mail:\n  mode: local\n  dkim:\n    selector: \"a b\"\n"
    ));
    let before = t.snapshot(false);
    for cmd in ["run", "plan"] {
        let o = t.fb(&[cmd, "--profile", "advanced"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{cmd}:\n{}\n{err}", stdout(&o));
        assert!(
            err.contains(
                "config.yaml:8: mail.dkim.selector: \"a b\" cannot be used in a TXT record"
            ),
            "{cmd}: names the key and its line:\n{err}"
        );
        assert_eq!(before, t.snapshot(false), "{cmd}: root unchanged");
    }
}

#[test]
fn a_problem_in_the_second_list_item_points_at_its_own_line() {
    let t = Tree::new(&format!(
        "{CONFIG}mail:\n  mode: full\n  users:\n    - name: alice\n      password_hash: \"{{SHA512-CRYPT}}$6$saltsalt$0123456789abcdefghij\"\n    - name: \"a:b\"\n      password_hash: \"{{SHA512-CRYPT}}$6$saltsalt$0123456789abcdefghik\"\n"
    ));
    let o = t.fb(&["plan", "--profile", "advanced"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    // Line 8 holds the first `name:`; the second item's is on line 10.
    assert!(err.contains("config.yaml:10: mail.users[1].name:"), "{err}");
}
