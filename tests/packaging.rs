//! What packaging/ ships agrees with the binary: the cloud-init example's config is one
//! firstboot accepts, the example installs the package before running it, the unit runs
//! once per instance after cloud-init, and the package metadata installs what the
//! binary generates. (`cloud-init schema`: .ci/run; the packages themselves: packaging/test-deb.sh and
//! packaging/test-rpm.sh, also run by .ci/run.)

mod common;
use common::*;

fn repo_file(p: &str) -> String {
    std::fs::read_to_string(format!("{}/{p}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[test]
fn the_cloud_init_example_writes_a_config_firstboot_accepts_and_installs_the_package() {
    let text = repo_file("packaging/cloud-init/user-data.yaml");
    assert!(text.starts_with("#cloud-config\n"));
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("YAML");
    assert_eq!(doc["preserve_hostname"], serde_yaml::Value::Bool(true));
    let files = doc["write_files"].as_sequence().expect("write_files");
    let config = files
        .iter()
        .find(|f| f["path"].as_str() == Some("/etc/firstboot/config.yaml"))
        .and_then(|f| f["content"].as_str())
        .expect("the example writes /etc/firstboot/config.yaml");
    let t = Tree::new(config);
    // No --profile: the example's config names it, as the unit and runcmd rely on.
    let o = t.fb(&["plan"]);
    ok(&o);
    assert!(stdout(&o).contains("profile advanced"), "{}", stdout(&o));
    let run = doc["runcmd"][0].as_str().expect("one runcmd script");
    let install = run
        .find("apt-get install -y /run/firstboot.deb")
        .expect("installs the package");
    let check = run.find("sha256sum -c").expect("checks the download");
    let start = run.find("\nfirstboot run").expect("runs firstboot");
    assert!(
        run.starts_with("set -e\n") && check < install && install < start,
        "{run}"
    );
}

#[test]
fn the_unit_runs_once_per_instance_after_cloud_init_with_the_configs_profile() {
    let unit = repo_file("packaging/systemd/firstboot.service");
    let line = |key: &str| {
        unit.lines()
            .find(|l| l.starts_with(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key}= in the unit"))
            .to_string()
    };
    assert_eq!(
        line("ExecStart"),
        "ExecStart=/usr/bin/firstboot run --once-per-instance"
    );
    assert!(line("After").contains("cloud-final.service"));
    assert!(line("After").contains("network-online.target"));
    assert_eq!(line("Type"), "Type=oneshot");
    assert!(
        !unit.contains("--profile"),
        "the profile comes from the config"
    );
}

#[test]
fn the_packages_install_what_assets_sh_generates_from_the_binary() {
    let cargo = repo_file("Cargo.toml");
    let script = repo_file("packaging/assets.sh");
    for builder in ["packaging/build-deb.sh", "packaging/build-rpm.sh"] {
        assert!(
            repo_file(builder).contains("bash packaging/assets.sh"),
            "{builder} packages what assets.sh made"
        );
    }
    for (made_by, asset) in [
        ("man >\"$out/firstboot.8\"", "target/packaging/firstboot.8"),
        (
            "completions bash >",
            "target/packaging/completions/firstboot.bash",
        ),
        (
            "completions zsh >",
            "target/packaging/completions/_firstboot",
        ),
        (
            "completions fish >",
            "target/packaging/completions/firstboot.fish",
        ),
    ] {
        assert!(script.contains(made_by), "assets.sh makes {asset}");
        assert!(
            cargo.matches(asset).count() == 2,
            "{asset} in both deb and rpm assets"
        );
    }
    assert!(cargo.contains("conf-files = []"), "no conffiles");
    assert!(cargo.contains("unit-scripts = \"packaging/systemd\""));
    // What assets.sh asks of the binary works.
    for args in [
        &["man"][..],
        &["completions", "bash"],
        &["completions", "zsh"],
        &["completions", "fish"],
    ] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_firstboot"))
            .args(args)
            .output()
            .expect("run firstboot");
        ok(&o);
        assert!(
            o.stdout.len() > 1000,
            "{args:?} prints something substantial"
        );
    }
}
