//! Package installation: apt-get (noninteractive, debconf preseeding) or dnf.

use super::{HostError, Runner};

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

    /// Whether a package is installed.
    pub fn installed(&self, runner: &Runner, name: &str) -> Result<bool, HostError> {
        let argv: Vec<String> = match self {
            PackageManager::Apt => vec![
                "dpkg-query".into(),
                "-W".into(),
                "-f=${Status}".into(),
                name.into(),
            ],
            PackageManager::Dnf => vec!["rpm".into(), "-q".into(), name.into()],
        };
        let out = runner.run(&argv, None, &[])?;
        Ok(match self {
            PackageManager::Apt => out.success() && out.stdout.contains("install ok installed"),
            PackageManager::Dnf => out.success(),
        })
    }

    /// Install packages, preseeding debconf answers first (apt only).
    pub fn install(
        &self,
        runner: &Runner,
        names: &[String],
        debconf: &[String],
    ) -> Result<(), HostError> {
        match self {
            PackageManager::Apt => {
                if !debconf.is_empty() {
                    let sel = debconf.join("\n") + "\n";
                    runner.run_ok(
                        &["debconf-set-selections".to_string()],
                        Some(sel.as_bytes()),
                        &[],
                    )?;
                }
                let mut argv: Vec<String> =
                    ["apt-get", "install", "-y", "-q", "--no-install-recommends"]
                        .iter()
                        .map(|s| s.to_string())
                        .collect();
                argv.push("-o".into());
                argv.push("Dpkg::Options::=--force-confold".into());
                argv.extend(names.iter().cloned());
                let env = [
                    ("DEBIAN_FRONTEND", "noninteractive"),
                    ("APT_LISTCHANGES_FRONTEND", "none"),
                ];
                runner.run_ok(&argv, None, &env).map(|_| ())
            }
            PackageManager::Dnf => {
                let mut argv: Vec<String> = vec!["dnf".into(), "install".into(), "-y".into()];
                argv.extend(names.iter().cloned());
                runner.run_ok(&argv, None, &[]).map(|_| ())
            }
        }
    }
}
