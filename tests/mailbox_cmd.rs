//! `firstboot mailbox`: edits below the config block of /etc/dovecot/users, refusals
//! with exit 2 and nothing changed, the password never shown, a backup `rollback` undoes.

mod common;

use common::{Tree, CONFIG};
use std::io::Write;
use std::process::{Command, Output, Stdio};

const USERS: &str = "/etc/dovecot/users";
const BLOCK: &str = "# BEGIN firstboot mail.users\nalice:{SHA512-CRYPT}$6$saltsalt$0123456789abcdefghij\n# END firstboot mail.users\n";
const PW: &str = "Tr0ub4dor&3-horse";

fn with_stdin(t: &Tree, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_firstboot"))
        .arg("--root")
        .arg(t.root())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn firstboot");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(input.as_bytes());
    }
    child.wait_with_output().expect("wait")
}

const MAP: &str = "/etc/postfix/vmailbox";
const MAP_BLOCK: &str =
    "# BEGIN firstboot mail.users\nalice@example.test alice\n# END firstboot mail.users\n";

fn tree() -> Tree {
    let t = Tree::new(CONFIG);
    t.write(USERS, BLOCK);
    t.write(MAP, MAP_BLOCK);
    t.write(
        "/etc/postfix/main.cf",
        "virtual_mailbox_domains = example.test\n",
    );
    t
}

/// Everything firstboot printed or wrote below the root, as one string.
fn everything(t: &Tree, outs: &[&Output]) -> String {
    let mut all = String::new();
    for o in outs {
        all.push_str(&String::from_utf8_lossy(&o.stdout));
        all.push_str(&String::from_utf8_lossy(&o.stderr));
    }
    for (p, f) in t.snapshot(false) {
        all.push_str(&p);
        all.push_str(&String::from_utf8_lossy(&f.data));
    }
    all
}

#[test]
fn add_passwd_remove_below_the_config_block() {
    let t = tree();
    let add = with_stdin(
        &t,
        &["mailbox", "add", "bob", "--password-stdin"],
        &format!("{PW}\n"),
    );
    assert_eq!(add.status.code(), Some(0), "{add:?}");
    let text = t.read(USERS);
    assert!(text.starts_with(BLOCK), "{text}");
    let bob = text
        .lines()
        .find(|l| l.starts_with("bob:"))
        .expect("bob's line");
    assert!(bob.starts_with("bob:{ARGON2ID}$argon2id$v=19$"), "{bob}");
    assert_eq!(
        t.read(MAP),
        format!("{MAP_BLOCK}bob@example.test bob\n"),
        "Postfix accepts mail for bob"
    );
    let list = t.fb(&["mailbox", "list"]);
    let shown = String::from_utf8_lossy(&list.stdout);
    assert!(
        shown.contains("alice") && shown.contains("config.yaml"),
        "{shown}"
    );
    assert!(
        shown.contains("bob") && shown.contains("mailbox add"),
        "{shown}"
    );

    let pw = with_stdin(
        &t,
        &["mailbox", "passwd", "bob", "--password-stdin"],
        "another-secret\n",
    );
    assert_eq!(pw.status.code(), Some(0), "{pw:?}");
    let after = t.read(USERS);
    assert!(
        !after.contains(bob) && after.contains("bob:{ARGON2ID}"),
        "{after}"
    );
    assert!(!everything(&t, &[&add, &pw]).contains(PW));
    assert!(!everything(&t, &[&add, &pw]).contains("another-secret"));

    let rm = t.fb(&["mailbox", "remove", "bob"]);
    assert_eq!(rm.status.code(), Some(0), "{rm:?}");
    assert_eq!(t.read(USERS), BLOCK);
    assert_eq!(t.read(MAP), MAP_BLOCK);
    // The same backup and rollback as a module: the removal is undone.
    let back = t.fb(&["rollback", "mail"]);
    assert_eq!(back.status.code(), Some(0), "{back:?}");
    assert_eq!(t.read(USERS), after);
    assert!(t.read(MAP).contains("bob@example.test bob"));
}

#[test]
fn refusals_exit_2_and_change_nothing() {
    let t = tree();
    let ok = with_stdin(
        &t,
        &["mailbox", "add", "bob", "--password-stdin"],
        &format!("{PW}\n"),
    );
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    let before = t.snapshot(false);
    let line = format!("{PW}\n");
    for (args, input, why) in [
        (vec!["add", "bob"], line.as_str(), "already exists"),
        (vec!["add", "alice"], line.as_str(), "already exists"),
        (
            vec!["passwd", "alice"],
            line.as_str(),
            "declared in config.yaml",
        ),
        (vec!["remove", "alice"], "", "declared in config.yaml"),
        (vec!["remove", "zed"], "", "no mailbox named zed"),
        (vec!["passwd", "zed"], line.as_str(), "no mailbox named zed"),
        (vec!["add", "Bob!"], line.as_str(), "not a mailbox name"),
        (vec!["add", "carol"], "short\n", "too short"),
        (vec!["add", "carol"], "", "no password given"),
    ] {
        let mut a = vec!["mailbox"];
        a.extend(&args);
        if args[0] != "remove" {
            a.push("--password-stdin");
        }
        let o = with_stdin(&t, &a, input);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
        assert!(!err.contains(PW));
        assert_eq!(t.snapshot(false), before, "{args:?} changed the tree");
    }
}

#[test]
fn without_a_users_file_says_full_mode_first() {
    let t = Tree::new(CONFIG);
    let o = with_stdin(
        &t,
        &["mailbox", "add", "bob", "--password-stdin"],
        &format!("{PW}\n"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("mail.mode full"));
    assert!(!t.exists(USERS));
}
