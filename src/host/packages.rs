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
/// (Fedora; RHEL, Alma and Rocky with EPEL for certbot and fail2ban). The shipped
/// modules install certbot, cron, postfix, fail2ban and libsasl2-modules: cron and the
/// SASL mechanisms (PLAIN, LOGIN) are named otherwise. A name not listed is the same on both.
pub const DNF_NAMES: [(&str, &str); 2] =
    [("cron", "cronie"), ("libsasl2-modules", "cyrus-sasl-plain")];

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
}

impl SystemPackages {
    /// Detect the package manager when first needed.
    pub fn new(runner: Runner) -> Self {
        SystemPackages {
            runner,
            manager: OnceLock::new(),
            updated: AtomicBool::new(false),
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
                let mut cmd = argv(&["dnf", "install", "-y"]);
                cmd.extend(names.iter().map(|n| native_name(pm, n).to_string()));
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
                "dnf install -y certbot cronie"
            ]
        );
        assert_eq!(native_name(PackageManager::Apt, "cron"), "cron");
    }
}
