//! The `postfix_version` fact: the installed Postfix's version (`postconf -h
//! mail_version`), else the version the distribution ships (from /etc/os-release), so
//! 9-mail_config's templates write what that Postfix understands (3.5, as on RHEL 8/9 and
//! Debian 11, knows no `>=TLSv1.2` and no compatibility level 3.6), and the first run on
//! a fresh VM (Postfix not installed yet) renders what later runs will.

use crate::host::{HostError, Root};
use std::process::{Command, Stdio};

/// Postfix's `major.minor` per distribution release (`ID`, `VERSION_ID` major), for a
/// host where Postfix is not installed yet.
const SHIPPED: [(&str, &str, &str); 12] = [
    ("debian", "11", "3.5"),
    ("debian", "12", "3.7"),
    ("debian", "13", "3.10"),
    ("ubuntu", "20", "3.4"),
    ("ubuntu", "22", "3.6"),
    ("ubuntu", "24", "3.8"),
    ("rhel", "8", "3.5"),
    ("rhel", "9", "3.5"),
    ("almalinux", "9", "3.5"),
    ("rocky", "9", "3.5"),
    ("centos", "9", "3.5"),
    ("fedora", "40", "3.8"),
];

/// The Postfix version as `major.minor`, or `None` when neither Postfix nor the
/// release is known.
pub fn gather(root: &Root) -> Result<Option<String>, HostError> {
    if root.is_live() {
        if let Some(v) = installed() {
            return Ok(Some(v));
        }
    }
    let text = root.read("/etc/os-release")?.unwrap_or_default();
    Ok(shipped(&String::from_utf8_lossy(&text)).map(str::to_string))
}

/// `postconf -h mail_version` of the running system, cut to `major.minor`.
fn installed() -> Option<String> {
    let out = Command::new("postconf")
        .args(["-h", "mail_version"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then_some(())?;
    major_minor(String::from_utf8_lossy(&out.stdout).trim())
}

/// `3.7.11` → `3.7`; anything that is not a version → `None`.
pub fn major_minor(v: &str) -> Option<String> {
    let mut it = v.split('.');
    let major: u32 = it.next()?.parse().ok()?;
    let minor: u32 = it.next()?.parse().ok()?;
    Some(format!("{major}.{minor}"))
}

/// The version the release named in an os-release text ships.
pub fn shipped(os_release: &str) -> Option<&'static str> {
    let field = |k: &str| {
        os_release.lines().find_map(|l| {
            let v = l.strip_prefix(k)?.strip_prefix('=')?;
            Some(v.trim().trim_matches('"').to_string())
        })
    };
    let id = field("ID")?;
    let version = field("VERSION_ID")?;
    let major = version.split('.').next()?;
    SHIPPED
        .iter()
        .find(|(i, v, _)| *i == id && *v == major)
        .map(|(_, _, pf)| *pf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_cut_to_major_minor() {
        assert_eq!(major_minor("3.7.11").as_deref(), Some("3.7"));
        assert_eq!(major_minor("3.10").as_deref(), Some("3.10"));
        assert_eq!(major_minor("postconf: fatal"), None);
    }

    #[test]
    fn releases_map_to_what_they_ship() {
        let rhel = "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nVERSION_ID=\"9.4\"\n";
        assert_eq!(shipped(rhel), Some("3.5"));
        assert_eq!(shipped("ID=debian\nVERSION_ID=\"12\"\n"), Some("3.7"));
        assert_eq!(shipped("ID=ubuntu\nVERSION_ID=\"22.04\"\n"), Some("3.6"));
        assert_eq!(shipped("ID=plan9\nVERSION_ID=4\n"), None);
        assert_eq!(shipped("ID_LIKE=debian\n"), None);
    }

    #[test]
    fn an_offline_tree_answers_from_its_os_release() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("etc")).unwrap();
        let root = Root::new(t.path());
        assert_eq!(gather(&root).unwrap(), None);
        std::fs::write(
            t.path().join("etc/os-release"),
            "ID=debian\nVERSION_ID=\"11\"\n",
        )
        .unwrap();
        assert_eq!(gather(&root).unwrap().as_deref(), Some("3.5"));
    }
}
