//! An offline `--root` run (an image build) never acts on the machine running it: steps
//! that would run a command, set the host name, install a package, touch a service or
//! change accounts are recorded, not run (the seams behind them refuse besides, see
//! `src/host/offline.rs`).

mod common;
use common::*;

#[test]
fn an_offline_run_records_the_steps_that_act_and_runs_none() {
    let t = Tree::new(CONFIG);
    let outside = tempfile::tempdir().unwrap();
    let marker = outside.path().join("the-command-ran");
    let modules = tempfile::tempdir().unwrap();
    let dir = modules.path().join("10-monitoring");
    std::fs::create_dir_all(&dir).unwrap();
    let yaml = std::fs::read_to_string(format!(
        "{}/10-monitoring/module.yaml",
        fixture_modules("offline-acts")
    ))
    .unwrap()
    .replace("@MARKER@", &marker.display().to_string());
    std::fs::write(dir.join("module.yaml"), yaml).unwrap();
    let machine = nix::unistd::gethostname().unwrap();

    let md = modules.path().to_str().unwrap();
    let o = t.fb(&[
        "--modules-dir",
        md,
        "run",
        "--profile",
        "advanced",
        "--only",
        "monitoring",
    ]);
    ok(&o);
    let out = format!("{}{}", stdout(&o), stderr(&o));
    for step in [
        &format!("command sh -c touch {}: run", marker.display()),
        "action set_hostname: set running host name to offline-fixture.invalid",
        "package firstboot-offline-fixture: install if missing",
        "service firstboot-offline-fixture: start if not running",
        "member postfix in group opendkim: add once the group exists",
        "group firstboot-offline-fixture: create if missing",
        "user firstboot-offline-fixture: create if missing",
    ] {
        let line = format!("{step} (offline root: recorded, not run)");
        assert!(out.contains(&line), "expected {line:?} in:\n{out}");
    }
    assert_eq!(
        t.read("/etc/fixture/offline.conf"),
        "written into the tree\n"
    );
    assert!(!marker.exists(), "the command ran on the machine");
    assert_eq!(nix::unistd::gethostname().unwrap(), machine);
}
