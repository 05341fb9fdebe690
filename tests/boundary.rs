//! The `--root` boundary: links, FIFOs, devices and huge files in the tree never make
//! firstboot read, write or block outside it (each test is a reproduction from the
//! fault-injection round).

mod common;
use common::*;
use std::os::unix::fs::symlink;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Run firstboot against `t`, killing it (and failing) if it has not finished in 20 s.
fn fb_bounded(t: &Tree, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_firstboot"))
        .arg("--root")
        .arg(t.root())
        .args(args)
        .env_remove("FIRSTBOOT_FAILPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start firstboot");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("firstboot {args:?} still running after 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn mkfifo(p: &std::path::Path) {
    nix::unistd::mkfifo(p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
}

fn exit2_saying(o: &Output, what: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    assert!(
        stderr(o).contains(what),
        "expected {what:?} in:\n{}",
        stderr(o)
    );
}

#[test]
fn a_config_linked_to_a_machine_file_is_never_read() {
    let t = Tree::new(CONFIG);
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("shadow");
    std::fs::write(&secret, "root:$6$machine-secret-hash:19000:0:99999:7:::\n").unwrap();
    std::fs::remove_file(t.path("/etc/firstboot/config.yaml")).unwrap();
    symlink(&secret, t.path("/etc/firstboot/config.yaml")).unwrap();
    let o = t.fb(&["plan", "--profile", "standard"]);
    exit2_saying(&o, "which does not exist inside the root");
    assert!(
        !stderr(&o).contains("machine-secret-hash"),
        "{}",
        stderr(&o)
    );
    assert!(!stdout(&o).contains("machine-secret-hash"));
    // A link that stays inside the tree is followed there.
    t.write("/srv/config.yaml", CONFIG);
    std::fs::remove_file(t.path("/etc/firstboot/config.yaml")).unwrap();
    symlink("/srv/config.yaml", t.path("/etc/firstboot/config.yaml")).unwrap();
    ok(&t.fb(&["plan", "--profile", "standard"]));
}

#[test]
fn a_fifo_as_config_or_managed_file_is_an_error_not_a_hang() {
    let t = Tree::new(CONFIG);
    std::fs::remove_file(t.path("/etc/firstboot/config.yaml")).unwrap();
    mkfifo(&t.path("/etc/firstboot/config.yaml"));
    let o = fb_bounded(&t, &["plan", "--profile", "standard"]);
    exit2_saying(&o, "it is a FIFO; the config must be a regular file");

    // A managed file that is a FIFO stops the run before its first change (7-ssl_config
    // runs before the module managing /etc/mailname).
    let t = Tree::new(CONFIG);
    mkfifo(&t.path("/etc/mailname"));
    let before = t.snapshot(false);
    let o = fb_bounded(&t, &["run", "--profile", "standard"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("module 8-dns_config cannot manage /etc/mailname:")
            && stderr(&o).contains("mailname is a FIFO, not a regular file"),
        "{}",
        stderr(&o)
    );
    assert!(before == t.snapshot(false), "nothing changed");
    let o = fb_bounded(&t, &["plan", "--profile", "standard"]);
    assert!(
        stderr(&o).contains("is a FIFO, not a regular file"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn device_and_oversized_configs_are_refused() {
    let t = Tree::new(CONFIG);
    let o = fb_bounded(
        &t,
        &["plan", "--profile", "standard", "--config", "/dev/zero"],
    );
    exit2_saying(&o, "it is a character device");
    let big = t.path("/big.yaml");
    std::fs::write(&big, format!("{CONFIG}#{}\n", "x".repeat(16 << 20))).unwrap();
    let o = fb_bounded(
        &t,
        &[
            "plan",
            "--profile",
            "standard",
            "--config",
            big.to_str().unwrap(),
        ],
    );
    exit2_saying(&o, "it is larger than 16 MiB");
    // An explicit --config on this machine is the user's choice and keeps working.
    let mine = t.path("/mine.yaml");
    std::fs::write(&mine, CONFIG).unwrap();
    ok(&t.fb(&[
        "plan",
        "--profile",
        "standard",
        "--config",
        mine.to_str().unwrap(),
    ]));
}

#[test]
fn a_linked_lock_creates_nothing_outside() {
    let t = Tree::new(CONFIG);
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("x");
    std::fs::create_dir_all(t.path("/var/lib/firstboot")).unwrap();
    symlink(&victim, t.path("/var/lib/firstboot/lock")).unwrap();
    let o = t.fb(&["run", "--profile", "standard"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("is a symbolic link"), "{}", stderr(&o));
    assert!(!victim.exists(), "the run created a file outside the root");
    assert_eq!(t.read("/etc/hostname"), "debian\n");
}

#[test]
fn a_log_file_that_cannot_be_opened_stops_the_run_before_any_change() {
    let t = Tree::new(CONFIG);
    std::fs::create_dir_all(t.path("/var/log/firstboot/8-dns_config.log")).unwrap();
    let before = t.snapshot(true);
    let o = fb_bounded(&t, &["run", "--profile", "standard"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("8-dns_config.log is a directory, not a regular file"),
        "{}",
        stderr(&o)
    );
    same_contents(&before, &t.snapshot(true)).unwrap();
}

#[test]
fn linked_log_files_and_log_directories_write_nothing_outside() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "untouched\n").unwrap();
    let t = Tree::new(CONFIG);
    std::fs::create_dir_all(t.path("/var/log/firstboot")).unwrap();
    symlink(&victim, t.path("/var/log/firstboot/firstboot.log")).unwrap();
    let o = t.fb(&["run", "--profile", "standard"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a symbolic link"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched\n");
    assert_eq!(t.read("/etc/hostname"), "debian\n");

    // A linked log directory resolves inside the tree, like the backups below it.
    let t = Tree::new(CONFIG);
    std::fs::create_dir_all(t.path("/srv/logs")).unwrap();
    symlink(outside.path(), t.path("/var/log/firstboot")).unwrap();
    let o = t.fb(&["run", "--profile", "standard"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("which does not exist inside the root"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
    std::fs::remove_file(t.path("/var/log/firstboot")).unwrap();
    symlink("/srv/logs", t.path("/var/log/firstboot")).unwrap();
    ok(&t.fb(&["run", "--profile", "standard"]));
    assert!(t.read("/srv/logs/firstboot.log").contains("run"));
    assert!(t.exists("/srv/logs/8-dns_config.log"));
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn modules_d_in_the_tree_holds_no_links_out_and_no_fifos() {
    let t = Tree::new(CONFIG);
    let md = t.path("/etc/firstboot/modules.d");
    copy_dir(std::path::Path::new(&fixture_modules("failing-check")), &md);
    ok(&t.fb(&["plan", "--profile", "advanced"]));

    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("module.yaml");
    std::fs::write(&secret, "machine-secret-line: 1\n").unwrap();
    std::fs::create_dir_all(md.join("11-extra")).unwrap();
    symlink(&secret, md.join("11-extra/module.yaml")).unwrap();
    let o = t.fb(&["plan", "--profile", "advanced"]);
    exit2_saying(
        &o,
        "is a link; links are not followed there in an offline tree",
    );
    assert!(
        !stderr(&o).contains("machine-secret-line"),
        "{}",
        stderr(&o)
    );

    std::fs::remove_file(md.join("11-extra/module.yaml")).unwrap();
    mkfifo(&md.join("11-extra/module.yaml"));
    let o = fb_bounded(&t, &["plan", "--profile", "advanced"]);
    exit2_saying(&o, "is not a regular file or a directory");
}

#[test]
fn a_fifo_or_link_to_one_in_a_modules_dir_is_an_error_not_a_hang() {
    // `--modules-dir` is a path on this machine the user chose (links are followed), but
    // a FIFO there, or a link to one, is refused by name instead of blocking the read.
    let t = Tree::new(CONFIG);
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        std::path::Path::new(&fixture_modules("failing-check")),
        dir.path(),
    );
    let md = dir.path().to_str().unwrap().to_string();
    ok(&t.fb(&["--modules-dir", &md, "plan", "--profile", "advanced"]));

    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    std::fs::create_dir_all(dir.path().join("11-extra/templates")).unwrap();
    symlink(&fifo, dir.path().join("11-extra/module.yaml")).unwrap();
    let o = fb_bounded(&t, &["--modules-dir", &md, "plan", "--profile", "advanced"]);
    exit2_saying(
        &o,
        "module.yaml: cannot read: it is a FIFO, not a regular file",
    );

    std::fs::remove_file(dir.path().join("11-extra/module.yaml")).unwrap();
    std::fs::write(
        dir.path().join("11-extra/module.yaml"),
        "name: extra\ndescription: x\n",
    )
    .unwrap();
    mkfifo(&dir.path().join("11-extra/templates/t.tera"));
    let o = fb_bounded(&t, &["--modules-dir", &md, "plan", "--profile", "advanced"]);
    exit2_saying(&o, "t.tera: cannot read: it is a FIFO, not a regular file");
}
