//! What every subcommand promises alike: `--profile` falls back to the last run's profile
//! (and is required before any run), and a held lock has its own exit status.

mod common;
use common::*;

#[test]
fn every_subcommand_needs_a_profile_until_a_run_recorded_one() {
    let t = Tree::new(CONFIG);
    let before = t.snapshot(false);
    for cmd in ["run", "plan", "validate", "records"] {
        let o = t.fb(&[cmd]);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("no profile given and none ran on this tree yet"),
            "{cmd}: {}",
            stderr(&o)
        );
    }
    assert_eq!(before, t.snapshot(false), "nothing written");
    ok(&t.fb(&["run", "--profile", "standard"]));
    let plan = t.fb(&["plan"]);
    ok(&plan);
    assert!(
        stdout(&plan).contains("profile standard"),
        "{}",
        stdout(&plan)
    );
    ok(&t.fb(&["run"]));
    ok(&t.fb(&["records"]));
    let v = t.fb(&["validate"]);
    assert_ne!(v.status.code(), Some(2), "{}", stderr(&v));
    assert!(stdout(&v).contains("8-dns_config"), "{}", stdout(&v));
    assert!(
        !stdout(&v).contains("10-monitoring"),
        "standard, not advanced"
    );
}

#[test]
fn the_help_documents_exit_3_and_the_profile_rule() {
    let t = Tree::new(CONFIG);
    let h = stdout(&t.fb(&["--help"]));
    assert!(h.contains("3 another firstboot is running"), "{h}");
    assert!(
        h.contains("use `profile:` from the config file, else the profile of the last run"),
        "{h}"
    );
}

#[test]
fn two_runs_started_together_on_a_fresh_root_meet_at_the_lock() {
    for _ in 0..5 {
        let t = Tree::new(CONFIG);
        std::fs::remove_dir_all(t.path("/var/lib")).unwrap();
        let start = || {
            std::process::Command::new(env!("CARGO_BIN_EXE_firstboot"))
                .arg("--root")
                .arg(t.root())
                .args(["run", "--profile", "standard", "-q"])
                .env_remove("FIRSTBOOT_FAILPOINT")
                .stderr(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("start firstboot")
        };
        let (a, b) = (start(), start());
        for o in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
            match o.status.code() {
                Some(0) => {}
                Some(3) => assert!(stderr(&o).contains("another firstboot is already running")),
                c => panic!("exit {c:?}: {}", stderr(&o)),
            }
        }
    }
}

#[test]
fn the_profile_comes_from_the_config_when_not_given() {
    // A fresh tree with no run yet: no profile anywhere is exit 2 naming both ways.
    let t = Tree::new(CONFIG);
    let o = t.fb(&["plan"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("use --profile NAME or `profile: NAME`"),
        "{}",
        stderr(&o)
    );

    // `profile: standard` in the config: plan and run need no flag.
    let t = Tree::new(&format!("profile: standard\n{CONFIG}"));
    let o = t.fb(&["plan"]);
    ok(&o);
    assert!(stdout(&o).starts_with("profile standard"), "{}", stdout(&o));
    ok(&t.fb(&["run", "-q"]));
    assert!(t.exists("/etc/postfix/main.cf"));
    // --profile still wins.
    let o = t.fb(&["plan", "--profile", "advanced"]);
    ok(&o);
    assert!(stdout(&o).starts_with("profile advanced"), "{}", stdout(&o));

    // A name that is no profile is an input error with file, line and key, even when
    // --profile is given, and nothing is written.
    let t = Tree::new(&format!("{CONFIG}profile: advancd\n"));
    for args in [&["plan"][..], &["run", "--profile", "standard"][..]] {
        let o = t.fb(args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(
                "config.yaml:5: profile: unknown profile `advancd` (known: advanced, standard)"
            ),
            "{}",
            stderr(&o)
        );
    }
    assert!(!t.exists("/var/lib/firstboot/state.json"));
    assert!(!t.exists("/var/log/firstboot"));
}

#[test]
fn the_manual_page_and_completions_come_from_the_same_cli() {
    let t = Tree::new(CONFIG);
    let o = t.fb(&["man"]);
    ok(&o);
    let man = stdout(&o);
    assert!(man.contains(".TH firstboot 8"), "{man}");
    for sub in ["run", "plan", "validate", "records", "rollback", "mailbox"] {
        assert!(
            man.contains(&format!("firstboot\\-{sub}")),
            "{sub} missing from:\n{man}"
        );
    }
    let o = t.fb(&["completions", "bash"]);
    ok(&o);
    let script = t.path("/completion.bash");
    std::fs::write(&script, &o.stdout).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(check.success(), "bash -n refused the completion script");
    assert!(stdout(&o).contains("--password-stdin"));
    let o = t.fb(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn acme_renew_without_acme_in_the_config_succeeds_saying_so_and_status_is_a_usage_error() {
    // The cron job left from an earlier config (provider acme, now self-signed) must not
    // fail every five minutes; `acme status` asked by hand is a usage error.
    let t = Tree::new(CONFIG);
    let o = t.fb(&["acme", "renew", "--profile", "standard"]);
    ok(&o);
    assert!(
        stdout(&o).contains("acme: nothing to renew: ssl.provider is not acme"),
        "{}",
        stdout(&o)
    );
    let o = t.fb(&["acme", "renew", "--profile", "standard", "--only", "mail"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--only does not apply to `firstboot acme`"),
        "{}",
        stderr(&o)
    );
    let o = t.fb(&["acme", "status", "--profile", "standard"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("ssl.provider is not acme in this config"),
        "{}",
        stderr(&o)
    );
}
