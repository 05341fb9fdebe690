//! Full mode's users: password hashes (secret inputs) never reach plan output, diffs,
//! logs or backups' manifests, though the users file itself holds them.

mod common;

use common::{stderr, stdout, Tree, CONFIG};

const HASH: &str =
    "{SHA512-CRYPT}$6$planmasksalt$Zq7Ujv1tD0m4QkqS9WvJq2bL3xYh8cNfP0aRr5sT6uV7wX8yZ9A0b1C2d3E4f5G6h7I8j9K0l1M2n3O4p5Q6r";

#[test]
fn plan_run_and_logs_never_show_a_password_hash() {
    let t = Tree::new(&format!(
        "{CONFIG}mail:\n  mode: full\n  users:\n    - {{name: alice, password_hash: \"{HASH}\"}}\n"
    ));
    let plan = t.fb(&["plan", "--profile", "advanced"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let shown = format!("{}{}", stdout(&plan), stderr(&plan));
    assert!(
        shown.contains("contents hidden: they hold a secret"),
        "{shown}"
    );
    assert!(
        !shown.contains("planmasksalt"),
        "plan shows a hash: {shown}"
    );
    let run = t.fb(&["run", "--profile", "advanced"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(t
        .read("/etc/dovecot/users")
        .contains(&format!("alice:{HASH}")));
    for (path, f) in t.snapshot(false) {
        if path.starts_with("/var/log/firstboot") && !path.contains("/files/") {
            let text = String::from_utf8_lossy(&f.data);
            assert!(!text.contains("planmasksalt"), "{path} holds a hash");
        }
    }
    let again = t.fb(&["plan", "--profile", "advanced", "--force", "--json"]);
    assert!(!stdout(&again).contains("planmasksalt"));
}
