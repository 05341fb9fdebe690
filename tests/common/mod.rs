//! Shared helpers for integration tests: a temporary root holding a small but real /etc,
//! the firstboot binary run against it, and snapshots of the tree to compare.
#![allow(dead_code)]

pub mod dns_zone;
pub mod rig;
pub mod tls_server;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary root.
pub struct Tree {
    pub dir: tempfile::TempDir,
}

/// What a file looks like: contents hash, mode, mtime (ns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    pub data: Vec<u8>,
    pub mode: u32,
    pub mtime_ns: i128,
}

pub const HOSTS: &str = "127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n\n# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\n";

pub const CONFIG: &str =
    "domain: example.test\nipv4: 192.0.2.10\nipv6: 2001:db8::10\nadmin_email: admin@example.test\n";

impl Tree {
    /// A root with /etc/hosts, /etc/hostname, /etc/machine-id and a config file.
    pub fn new(config: &str) -> Tree {
        let t = Tree {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        t.write("/etc/hosts", HOSTS);
        t.write("/etc/hostname", "debian\n");
        t.write("/etc/machine-id", "0123456789abcdef0123456789abcdef\n");
        t.write("/etc/firstboot/config.yaml", config);
        std::fs::create_dir_all(t.path("/var/lib")).unwrap();
        std::fs::create_dir_all(t.path("/var/log")).unwrap();
        t
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.root().join(p.trim_start_matches('/'))
    }

    pub fn write(&self, p: &str, text: &str) {
        let full = self.path(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    pub fn read(&self, p: &str) -> String {
        std::fs::read_to_string(self.path(p)).unwrap_or_else(|e| panic!("read {p}: {e}"))
    }

    pub fn exists(&self, p: &str) -> bool {
        self.path(p).symlink_metadata().is_ok()
    }

    /// Run firstboot with `--root` this tree.
    pub fn fb(&self, args: &[&str]) -> Output {
        self.fb_env(args, &[])
    }

    pub fn fb_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_firstboot"));
        cmd.arg("--root")
            .arg(self.root())
            .args(args)
            .env_remove("FIRSTBOOT_FAILPOINT");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run firstboot")
    }

    /// Every file and directory below the root: path -> state (directories have empty data).
    /// `skip_own` leaves out firstboot's own logs, backups and state.
    pub fn snapshot(&self, skip_own: bool) -> BTreeMap<String, FileState> {
        let mut out = BTreeMap::new();
        walk(self.root(), self.root(), skip_own, &mut out);
        out
    }
}

fn walk(base: &Path, dir: &Path, skip_own: bool, out: &mut BTreeMap<String, FileState>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let rel = format!("/{}", p.strip_prefix(base).unwrap().display());
        if skip_own
            && (rel.starts_with("/var/log/firstboot") || rel.starts_with("/var/lib/firstboot"))
        {
            continue;
        }
        let m = p.symlink_metadata().unwrap();
        let data = if m.is_file() {
            std::fs::read(&p).unwrap()
        } else {
            Vec::new()
        };
        out.insert(
            rel,
            FileState {
                data,
                mode: m.mode() & 0o7777,
                mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
            },
        );
        if m.is_dir() {
            walk(base, &p, skip_own, out);
        }
    }
}

/// Same paths, contents and modes (mtimes ignored).
pub fn same_contents(
    a: &BTreeMap<String, FileState>,
    b: &BTreeMap<String, FileState>,
) -> Result<(), String> {
    let ka: Vec<&String> = a.keys().collect();
    let kb: Vec<&String> = b.keys().collect();
    if ka != kb {
        return Err(format!("paths differ:\n before {ka:?}\n after  {kb:?}"));
    }
    for (k, v) in a {
        let w = &b[k];
        if v.data != w.data || v.mode != w.mode {
            return Err(format!(
                "{k} differs: {:?} mode {:o} vs {:?} mode {:o}",
                String::from_utf8_lossy(&v.data),
                v.mode,
                String::from_utf8_lossy(&w.data),
                w.mode
            ));
        }
    }
    Ok(())
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Assert success, showing the output otherwise.
pub fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
}

/// A modules directory from the fixtures folder.
pub fn fixture_modules(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The context a check runs in on a test host: one attempt (no retry), `timeout` per wait.
pub fn check_cx<'a>(
    host: &'a firstboot::host::Host,
    redactor: &'a firstboot::redact::Redactor,
    timeout: std::time::Duration,
) -> firstboot::checks::CheckCx<'a> {
    firstboot::checks::CheckCx {
        host,
        redactor,
        timeout,
        retry: firstboot::checks::Retry::NONE,
        answers: Default::default(),
    }
}
