//! A `block` step with `if_exists` leaves a missing file alone (its package makes it)
//! and edits the file once it is there.

mod common;
use common::*;

const MODULE: &str = "name: monitoring\ndescription: A block in a package's file.\nsteps:\n  - block:\n      path: /etc/pkg/app.conf\n      content: \"setting = 1\"\n      if_exists: true\n";

#[test]
fn if_exists_skips_a_missing_file_and_edits_an_existing_one() {
    let t = Tree::new(CONFIG);
    let mods = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(mods.path().join("10-monitoring")).unwrap();
    std::fs::write(mods.path().join("10-monitoring/module.yaml"), MODULE).unwrap();
    let md = mods.path().to_str().unwrap();
    let args = [
        "--modules-dir",
        md,
        "run",
        "--profile",
        "advanced",
        "--only",
        "monitoring",
    ];

    let o = t.fb(&args);
    ok(&o);
    assert!(
        stdout(&o).contains(
            "block /etc/pkg/app.conf (firstboot): /etc/pkg/app.conf does not exist (its package makes it); left alone"
        ),
        "{}",
        stdout(&o)
    );
    assert!(!t.path("/etc/pkg").exists(), "nothing created");

    std::fs::create_dir_all(t.path("/etc/pkg")).unwrap();
    std::fs::write(t.path("/etc/pkg/app.conf"), "# the package's own\n").unwrap();
    // The module is done on this instance: run it again.
    let again: Vec<&str> = args.iter().copied().chain(["--force"]).collect();
    ok(&t.fb(&again));
    assert_eq!(
        std::fs::read_to_string(t.path("/etc/pkg/app.conf")).unwrap(),
        "# the package's own\n# BEGIN firstboot\nsetting = 1\n# END firstboot\n"
    );
}
