//! Package installation behind the [`Packages`] trait: [`SystemPackages`] drives
//! apt-get (noninteractive, debconf preseeding, `apt-get update` once per run before the
//! first install: cloud images boot with empty package lists) or dnf (Debian package
//! names mapped to their RHEL-family names); tests use `host::fake`.

use super::{HostError, Runner};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Installs and queries packages.
pub trait Packages: Send + Sync {
    /// Whether a package (by its Debian name) is installed.
    fn installed(&self, name: &str) -> Result<bool, HostError>;
    /// Install packages (Debian names), preseeding debconf answers first (apt only).
    fn install(&self, names: &[String], debconf: &[String]) -> Result<(), HostError>;
}

/// The live system's package manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageManager {
    /// Debian family.
    Apt,
    /// RHEL family.
    Dnf,
}

impl PackageManager {
    /// apt-get if present, else dnf.
    pub fn detect() -> Result<Self, HostError> {
        if which::which("apt-get").is_ok() {
            Ok(PackageManager::Apt)
        } else if which::which("dnf").is_ok() {
            Ok(PackageManager::Dnf)
        } else {
            Err(HostError::NoPackageManager)
        }
    }
}

/// Debian package names (as manifests write them) that differ on the RHEL family
/// (Fedora; RHEL, Alma and Rocky with EPEL, see [`EPEL`]). Several Debian packages can be
/// one RHEL package (Dovecot's protocols); an install asks for it once. A name not listed
/// is the same on both.
pub const DNF_NAMES: [(&str, &str); 7] = [
    ("cron", "cronie"),
    ("libsasl2-modules", "cyrus-sasl-plain"),
    ("postfix-policyd-spf-python", "pypolicyd-spf"),
    ("dovecot-core", "dovecot"),
    ("dovecot-imapd", "dovecot"),
    ("dovecot-pop3d", "dovecot"),
    ("dovecot-lmtpd", "dovecot"),
];

/// RHEL-family packages that RHEL, Alma and Rocky ship only in EPEL (Fedora has them in
/// its own repositories): installing one first installs `epel-release` when missing.
pub const EPEL: [&str; 6] = [
    "certbot",
    "fail2ban",
    "opendkim",
    "opendkim-tools",
    "opendmarc",
    "pypolicyd-spf",
];

/// The RHEL-family names of `names`, each once, in order.
pub fn dnf_names(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let native = native_name(PackageManager::Dnf, n).to_string();
        if !out.contains(&native) {
            out.push(native);
        }
    }
    out
}

/// The package's name for `pm`.
pub fn native_name(pm: PackageManager, name: &str) -> &str {
    match pm {
        PackageManager::Apt => name,
        PackageManager::Dnf => DNF_NAMES
            .iter()
            .find(|(deb, _)| *deb == name)
            .map_or(name, |(_, rpm)| rpm),
    }
}

/// apt-get or dnf on the running system, through the command runner.
pub struct SystemPackages {
    runner: Runner,
    manager: OnceLock<Option<PackageManager>>,
    updated: AtomicBool,
    /// Whether EPEL was looked for (dnf), so a run asks at most once.
    epel_checked: AtomicBool,
}

impl SystemPackages {
    /// Detect the package manager when first needed.
    pub fn new(runner: Runner) -> Self {
        SystemPackages {
            runner,
            manager: OnceLock::new(),
            updated: AtomicBool::new(false),
            epel_checked: AtomicBool::new(false),
        }
    }

    /// With a known package manager (tests drive it with a fake command runner).
    pub fn with_manager(runner: Runner, pm: PackageManager) -> Self {
        let s = SystemPackages::new(runner);
        let _ = s.manager.set(Some(pm));
        s
    }

    fn manager(&self) -> Result<PackageManager, HostError> {
        self.manager
            .get_or_init(|| PackageManager::detect().ok())
            .ok_or(HostError::NoPackageManager)
    }
}

impl SystemPackages {
    /// EPEL enabled when a package needs it: `epel-release` installed if missing (Alma,
    /// Rocky and CentOS Stream carry it in their own repositories). Where it cannot be
    /// installed (Fedora needs none; RHEL takes it from a URL) the install goes on and a
    /// missing package then fails with dnf's own message, after a warning saying why.
    fn ensure_epel(&self) -> Result<(), HostError> {
        if self.epel_checked.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        if self
            .runner
            .run(&argv(&["rpm", "-q", "epel-release"]), None, &[])?
            .success()
        {
            return Ok(());
        }
        let out = self
            .runner
            .run(&argv(&["dnf", "install", "-y", "epel-release"]), None, &[])?;
        if !out.success() {
            tracing::warn!(
                "EPEL could not be enabled (dnf install epel-release failed); on RHEL enable it by hand (the epel-release RPM from dl.fedoraproject.org) if packages are missing"
            );
        }
        Ok(())
    }
}

const APT_ENV: [(&str, &str); 2] = [
    ("DEBIAN_FRONTEND", "noninteractive"),
    ("APT_LISTCHANGES_FRONTEND", "none"),
];

fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

impl Packages for SystemPackages {
    fn installed(&self, name: &str) -> Result<bool, HostError> {
        let pm = self.manager()?;
        let name = native_name(pm, name);
        Ok(match pm {
            PackageManager::Apt => {
                let out = self.runner.run(
                    &argv(&["dpkg-query", "-W", "-f=${Status}", name]),
                    None,
                    &[],
                )?;
                out.success() && out.stdout.contains("install ok installed")
            }
            PackageManager::Dnf => self
                .runner
                .run(&argv(&["rpm", "-q", name]), None, &[])?
                .success(),
        })
    }

    fn install(&self, names: &[String], debconf: &[String]) -> Result<(), HostError> {
        let pm = self.manager()?;
        match pm {
            PackageManager::Apt => {
                if !self.updated.load(Ordering::SeqCst) {
                    self.runner
                        .run_ok(&argv(&["apt-get", "update", "-q"]), None, &APT_ENV)?;
                    self.updated.store(true, Ordering::SeqCst);
                }
                if !debconf.is_empty() {
                    let sel = debconf.join("\n") + "\n";
                    let cmd = argv(&["debconf-set-selections"]);
                    self.runner.run_ok(&cmd, Some(sel.as_bytes()), &[])?;
                }
                let mut cmd = argv(&["apt-get", "install", "-y", "-q", "--no-install-recommends"]);
                cmd.push("-o".into());
                cmd.push("Dpkg::Options::=--force-confold".into());
                cmd.extend(names.iter().cloned());
                self.runner.run_ok(&cmd, None, &APT_ENV).map(|_| ())
            }
            PackageManager::Dnf => {
                let names = dnf_names(names);
                if names.iter().any(|n| EPEL.contains(&n.as_str())) {
                    self.ensure_epel()?;
                }
                let mut cmd = argv(&["dnf", "install", "-y"]);
                cmd.extend(names);
                self.runner.run_ok(&cmd, None, &[]).map(|_| ())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::{exit, FakeExec};
    use std::sync::Arc;
    use std::time::Duration;

    fn packages(pm: PackageManager) -> (SystemPackages, Arc<FakeExec>) {
        let exec = Arc::new(FakeExec::default());
        for prog in ["apt-get", "dnf", "debconf-set-selections"] {
            exec.on(prog, Box::new(|_, _| exit(0, "")));
        }
        exec.on(
            "rpm",
            Box::new(|argv, _| exit(i32::from(argv[2] != "cronie"), "")),
        );
        let runner = Runner::with_exec(Duration::from_secs(1), Default::default(), exec.clone());
        (SystemPackages::with_manager(runner, pm), exec)
    }

    #[test]
    fn apt_updates_the_package_lists_once_before_the_first_install() {
        let (p, exec) = packages(PackageManager::Apt);
        p.install(
            &["postfix".into()],
            &["postfix postfix/main_mailer_type select No configuration".into()],
        )
        .unwrap();
        p.install(&["cron".into()], &[]).unwrap();
        let calls = exec.calls();
        assert_eq!(calls[0], "apt-get update -q", "{calls:?}");
        assert_eq!(
            calls
                .iter()
                .filter(|c| c.starts_with("apt-get update"))
                .count(),
            1
        );
        assert!(calls[1].starts_with("debconf-set-selections"), "{calls:?}");
        assert!(calls[2].starts_with("apt-get install") && calls[2].ends_with(" postfix"));
        assert!(calls[3].ends_with(" cron"), "{calls:?}");
    }

    #[test]
    fn a_failed_update_is_an_error_and_is_tried_again() {
        let (p, exec) = packages(PackageManager::Apt);
        exec.on("apt-get", Box::new(|_, _| exit(100, "")));
        assert!(p.install(&["postfix".into()], &[]).is_err());
        exec.on("apt-get", Box::new(|_, _| exit(0, "")));
        p.install(&["postfix".into()], &[]).unwrap();
        let updates = exec
            .calls()
            .iter()
            .filter(|c| c.starts_with("apt-get update"))
            .count();
        assert_eq!(updates, 2);
    }

    #[test]
    fn dnf_installs_and_queries_the_rhel_names() {
        let (p, exec) = packages(PackageManager::Dnf);
        assert!(p.installed("cron").unwrap(), "cron is cronie there");
        assert!(!p.installed("postfix").unwrap());
        p.install(&["certbot".into(), "cron".into()], &[]).unwrap();
        let calls = exec.calls();
        assert_eq!(
            calls,
            [
                "rpm -q cronie",
                "rpm -q postfix",
                "rpm -q epel-release",
                "dnf install -y epel-release",
                "dnf install -y certbot cronie"
            ]
        );
        assert_eq!(native_name(PackageManager::Apt, "cron"), "cron");
    }

    #[test]
    fn dnf_enables_epel_once_and_asks_for_dovecot_once() {
        let (p, exec) = packages(PackageManager::Dnf);
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        p.install(
            &names(&["dovecot-core", "dovecot-imapd", "dovecot-lmtpd", "postfix"]),
            &[],
        )
        .unwrap();
        p.install(&names(&["opendkim", "postfix-policyd-spf-python"]), &[])
            .unwrap();
        p.install(&names(&["fail2ban"]), &[]).unwrap();
        assert_eq!(
            exec.calls(),
            [
                "dnf install -y dovecot postfix",
                "rpm -q epel-release",
                "dnf install -y epel-release",
                "dnf install -y opendkim pypolicyd-spf",
                "dnf install -y fail2ban",
            ]
        );
    }

    #[test]
    fn epel_already_there_is_not_installed_again() {
        let (p, exec) = packages(PackageManager::Dnf);
        exec.on("rpm", Box::new(|_, _| exit(0, "")));
        p.install(&["certbot".into()], &[]).unwrap();
        assert_eq!(
            exec.calls(),
            ["rpm -q epel-release", "dnf install -y certbot"]
        );
    }
}
