//! Recovery never makes things worse: a rollback with a missing backup copy leaves the
//! file alone and says so, a second rollback changes nothing, drift protection survives a
//! rollback, a kill after the state save is recovered without a false drift, leftovers of
//! killed writes are removed, and the zone fragments are rolled back with the rest.

mod common;
use common::*;

/// Run firstboot with `args`, killed (abort) at failpoint `point`.
fn kill_at(t: &Tree, args: &[&str], point: &str) {
    let killed = t.fb_env(args, &[("FIRSTBOOT_FAILPOINT", point)]);
    assert!(
        killed.status.code().is_none(),
        "not killed at {point}: {}",
        stderr(&killed)
    );
}

fn code(o: &std::process::Output) -> Option<i32> {
    o.status.code()
}

/// The backup directory of `module`'s latest run.
fn latest_backup(t: &Tree, module: &str) -> std::path::PathBuf {
    let base = t.path("/var/log/firstboot/backups");
    let mut runs: Vec<_> = std::fs::read_dir(&base)
        .unwrap()
        .flatten()
        .map(|e| e.path().join(module))
        .filter(|p| p.join("manifest.json").exists())
        .collect();
    runs.sort();
    runs.pop().expect("a backup")
}

/// The copy of `path` in a backup (from its manifest).
fn copy_of(backup: &std::path::Path, path: &str) -> std::path::PathBuf {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    let e = m["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == path)
        .unwrap_or_else(|| panic!("{path} in the manifest"));
    backup.join("files").join(e["copy"].as_str().unwrap())
}

#[test]
fn rollback_with_a_missing_backup_copy_names_it_and_leaves_the_file_as_it_is() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    let written_hosts = t.read("/etc/hosts");
    let b = latest_backup(&t, "8-dns_config");
    std::fs::remove_file(copy_of(&b, "/etc/hosts")).unwrap();
    let o = t.fb(&["rollback", "dns", "--force"]);
    assert_eq!(code(&o), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("/etc/hosts"), "{err}");
    assert!(err.contains("missing"), "{err}");
    // The error itself (not only the log lines before it) says what was not restored.
    let error = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("an error line: {err}"));
    assert!(
        error.contains("could not restore: /etc/hosts: its backup copy")
            && error.contains("is missing"),
        "{error}"
    );
    assert_eq!(t.read("/etc/hosts"), written_hosts, "never emptied");
    // The rest was restored all the same.
    assert_eq!(t.read("/etc/hostname"), "debian\n");
    assert!(!t.exists("/etc/mailname"));
    assert!(
        !stdout(&o).contains("rolled back to before"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_second_rollback_of_the_same_run_changes_nothing() {
    let t = Tree::new(CONFIG);
    let before = t.snapshot(true);
    ok(&t.fb(&["run", "--profile", "standard"]));
    ok(&t.fb(&["rollback", "dns"]));
    let after_first = t.snapshot(true);
    let o = t.fb(&["rollback", "dns"]);
    ok(&o);
    assert!(stdout(&o).contains("already rolled back"), "{}", stdout(&o));
    assert_eq!(after_first, t.snapshot(true), "nothing touched");
    assert_eq!(before["/etc/hostname"], after_first["/etc/hostname"]);
}

#[test]
fn a_file_firstboot_wrote_once_stays_protected_after_a_rollback() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    ok(&t.fb(&["rollback", "dns"]));
    t.write("/etc/hostname", "hand.example.test\n");
    t.write("/etc/mailname", "hand.example.test\n");
    let plan = stdout(&t.fb(&["plan", "--profile", "standard", "--force"]));
    assert!(plan.contains("! file /etc/hostname"), "{plan}");
    assert!(plan.contains("! file /etc/mailname"), "{plan}");
    let o = t.fb(&["run", "--profile", "standard", "--force"]);
    assert_eq!(code(&o), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("edited by hand"), "{}", stderr(&o));
    assert_eq!(t.read("/etc/hostname"), "hand.example.test\n");
    // Untouched since the rollback: firstboot's to rewrite, no drift.
    let t2 = Tree::new(CONFIG);
    ok(&t2.fb(&["run", "--profile", "standard"]));
    ok(&t2.fb(&["rollback", "dns"]));
    ok(&t2.fb(&["run", "--profile", "standard"]));
    assert_eq!(t2.read("/etc/hostname"), "mail.example.test\n");
}

#[test]
fn a_kill_between_the_state_save_and_the_journal_end_does_not_leave_a_false_drift() {
    for n in ["1", "2"] {
        let t = Tree::new(CONFIG);
        // Nothing of 9-mail_config exists before: also with a pre-existing main.cf.
        if n == "2" {
            t.write("/etc/postfix/main.cf", "# distribution default\n");
        }
        kill_at(
            &t,
            &["run", "--profile", "advanced", "-q"],
            &format!("abort-after-state-save:{n}"),
        );
        assert!(t.exists("/var/lib/firstboot/inflight.json"));
        let next = t.fb(&["run", "--profile", "advanced"]);
        ok(&next);
        assert!(
            stdout(&next).contains("was rolled back first"),
            "{}",
            stdout(&next)
        );
        let again = t.fb(&["run", "--profile", "advanced", "--force"]);
        ok(&again);
        assert_eq!(t.read("/etc/hostname"), "mail.example.test\n");
    }
}

#[test]
fn recovery_removes_the_temp_files_of_an_interrupted_write_and_only_those() {
    let t = Tree::new(CONFIG);
    let before = t.snapshot(true);
    // Killed after the first change of the run (inside 7-ssl_config).
    kill_at(
        &t,
        &["run", "--profile", "standard"],
        "abort-after-changes:1",
    );
    // What a kill between a temp write and its rename leaves (a private key, say).
    let inflight: serde_json::Value =
        serde_json::from_str(&t.read("/var/lib/firstboot/inflight.json")).unwrap();
    assert_eq!(inflight["module"], "7-ssl_config");
    let b = latest_backup(&t, "7-ssl_config");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.join("manifest.json")).unwrap()).unwrap();
    let e = &m["entries"][0];
    let path = e["path"].as_str().unwrap().to_string();
    let leftover = if e["kind"] == "dir-created" || e["is_dir"] == true {
        format!("{path}/.mail.example.test.key.firstboot-99999")
    } else {
        let (dir, name) = path.rsplit_once('/').unwrap();
        format!("{dir}/.{name}.firstboot-99999")
    };
    t.write(&leftover, "PRIVATE KEY");
    t.write("/etc/.hosts.swp", "someone else's");
    ok(&t.fb(&["rollback", "ssl"]));
    assert!(!t.exists(&leftover), "{leftover} removed");
    assert_eq!(t.read("/etc/.hosts.swp"), "someone else's");
    std::fs::remove_file(t.path("/etc/.hosts.swp")).unwrap();
    let after = t.snapshot(true);
    same_contents(&before, &after).unwrap();
}

#[test]
fn a_corrupt_inflight_marker_stops_the_run_and_says_what_to_do() {
    let t = Tree::new(CONFIG);
    t.write("/var/lib/firstboot/inflight.json", "{\"run_id\": ");
    let o = t.fb(&["run", "--profile", "standard"]);
    assert_eq!(code(&o), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("firstboot rollback MODULE --run RUN"),
        "{}",
        stderr(&o)
    );
    assert_eq!(t.read("/etc/hostname"), "debian\n", "nothing ran");
}

#[test]
fn rolling_back_dns_takes_its_zone_fragments_back_too() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    assert!(t.exists("/var/log/firstboot/dns/8-dns_config.zone"));
    ok(&t.fb(&["rollback", "dns"]));
    assert!(!t.exists("/var/log/firstboot/dns/8-dns_config.zone"));
    assert!(!t.exists("/var/log/firstboot/dns/8-dns_config.txt"));
}

#[test]
fn rollback_of_a_run_a_recovery_just_rolled_back_is_not_a_refusal() {
    let t = Tree::new(CONFIG);
    let before = t.snapshot(true);
    kill_at(
        &t,
        &["run", "--profile", "advanced"],
        "abort-after-changes:2",
    );
    let o = t.fb(&["rollback", "ssl"]);
    ok(&o);
    assert!(stdout(&o).contains("now rolled back"), "{}", stdout(&o));
    same_contents(&before, &t.snapshot(true)).unwrap();
}

#[test]
fn status_lists_an_interrupted_module_once() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    // The only change a forced re-run makes is 8-dns_config's /etc/mailname.
    std::fs::remove_file(t.path("/etc/mailname")).unwrap();
    kill_at(
        &t,
        &["run", "--profile", "standard", "--force"],
        "abort-after-changes:1",
    );
    let s = stdout(&t.fb(&["status"]));
    assert_eq!(s.matches("8-dns_config").count(), 1, "{s}");
    assert!(s.contains("interrupted"), "{s}");
}

#[test]
fn rollback_right_after_a_kill_before_the_first_backup_says_it_is_rolled_back() {
    let t = Tree::new(CONFIG);
    let before = t.snapshot(true);
    kill_at(
        &t,
        &["run", "--profile", "standard"],
        "abort-after-changes:1",
    );
    // As if the kill had come before the module's first backup record.
    let inflight: serde_json::Value =
        serde_json::from_str(&t.read("/var/lib/firstboot/inflight.json")).unwrap();
    let module = inflight["module"].as_str().unwrap().to_string();
    let b = latest_backup(&t, &module);
    // Put the one change back by hand first, then drop the backup: nothing had changed.
    ok(&t.fb(&["rollback", &module]));
    t.write(
        "/var/lib/firstboot/inflight.json",
        &serde_json::to_string(&inflight).unwrap(),
    );
    std::fs::remove_dir_all(&b).unwrap();
    t.write("/var/lib/firstboot/.state.json.firstboot-4242", "{}");
    // A kill during the module's first backup write: its temp copy, no manifest yet.
    let tmp_copy = format!("{}/files/.0000.firstboot-4242", b.display());
    std::fs::create_dir_all(b.join("files")).unwrap();
    std::fs::write(&tmp_copy, "original").unwrap();
    let o = t.fb(&["rollback", &module]);
    ok(&o);
    assert!(stdout(&o).contains("now rolled back"), "{}", stdout(&o));
    assert!(!t.exists("/var/lib/firstboot/inflight.json"));
    assert!(!t.exists("/var/lib/firstboot/.state.json.firstboot-4242"));
    assert!(
        !std::path::Path::new(&tmp_copy).exists(),
        "{tmp_copy} removed"
    );
    same_contents(&before, &t.snapshot(true)).unwrap();
}

#[test]
fn plan_after_a_kill_shows_the_rollback_the_next_run_starts_with() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    std::fs::remove_file(t.path("/etc/mailname")).unwrap();
    kill_at(
        &t,
        &["run", "--profile", "standard", "--force"],
        "abort-after-changes:1",
    );
    assert!(t.exists("/etc/mailname"), "the killed run wrote it");
    let plan = stdout(&t.fb(&["plan", "--profile", "standard"]));
    assert!(
        plan.contains("8-dns_config (dns): will run again: a killed run left it half-applied"),
        "{plan}"
    );
    assert!(
        plan.contains("~ file /etc/mailname: written by the killed run"),
        "{plan}"
    );
}
