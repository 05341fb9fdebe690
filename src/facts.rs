//! Host facts: the lowest-precedence source of inputs (FQDN, primary addresses) and the
//! instance id that decides whether a module already ran on this machine.

use crate::host::{HostError, Root};
use crate::instance_data::{first_line, InstanceData};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What we know about the host before reading the config.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Facts {
    /// Fully qualified host name, when the host has one with a dot.
    pub fqdn: Option<String>,
    /// Primary IPv4 address (that of the default route's interface).
    pub ipv4: Option<String>,
    /// Primary global IPv6 address.
    pub ipv6: Option<String>,
    /// Postfix `major.minor`: the installed one's, else what the release ships.
    pub postfix_version: Option<String>,
    /// cloud-init instance id, else /etc/machine-id, else `unknown`.
    pub instance_id: String,
    /// Where the live host's logs are read from: `systemd` (the journal, and no syslog
    /// daemon writing /var/log/syslog or /var/log/messages, as on Debian 12's cloud
    /// images), else `auto` (log files). Unknown on an offline root.
    pub log_backend: Option<String>,
    /// The firewall firstboot can manage here: `nftables` when the tree has the `nft`
    /// binary (Debian 12 and RHEL 9 install it by default), else `none`.
    pub firewall: String,
    /// The port sshd listens on, from its configuration in the tree, else 22.
    pub sshd_port: String,
    /// Every port sshd listens on (space-separated): each `Port` (else 22) and each
    /// `ListenAddress` port; empty when the tree has no sshd configuration.
    pub sshd_ports: String,
}

/// The facts a manifest input may name.
pub const NAMES: [&str; 8] = [
    "fqdn",
    "ipv4",
    "ipv6",
    "postfix_version",
    "log_backend",
    "firewall",
    "sshd_port",
    "sshd_ports",
];

/// `nftables` when `root` has the nft binary, else `none`.
fn firewall(root: &Root) -> Result<String, HostError> {
    for p in ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"] {
        if root.meta(p)?.is_some() {
            return Ok("nftables".to_string());
        }
    }
    Ok("none".to_string())
}

/// `systemd` when `root` has the journal's socket and no syslog file, else `auto`.
fn log_backend(root: &Root) -> Result<String, HostError> {
    let has = |p: &str| root.meta(p).map(|m| m.is_some());
    let journal = has("/run/systemd/journal/socket")?;
    let syslog = has("/var/log/syslog")? || has("/var/log/messages")?;
    Ok(if journal && !syslog {
        "systemd"
    } else {
        "auto"
    }
    .to_string())
}

impl Facts {
    /// Gather facts for `root` (with cloud-init's instance data, when there is some);
    /// network facts only on the live system.
    pub fn gather(root: &Root, data: Option<&InstanceData>) -> Result<Facts, HostError> {
        let instance_id = crate::instance_data::instance_id(root, data)?
            .unwrap_or_else(|| crate::stamp::UNKNOWN_INSTANCE.to_string());
        let mut fqdn = data
            .and_then(|d| d.local_hostname.clone())
            .filter(|h| h.contains('.'));
        if fqdn.is_none() {
            fqdn = if root.is_live() {
                nix::unistd::gethostname()
                    .ok()
                    .map(|h| h.to_string_lossy().into_owned())
            } else {
                first_line(root, "/etc/hostname")?
            }
            .filter(|h| h.contains('.'));
        }
        let (ipv4, ipv6) = if root.is_live() {
            (
                primary_v4().map(|a| a.to_string()),
                primary_v6().map(|a| a.to_string()),
            )
        } else {
            (None, None)
        };
        let (sshd_port, sshd_ports) = crate::sshd_fact::gather(root)?;
        Ok(Facts {
            fqdn,
            ipv4,
            ipv6,
            postfix_version: crate::postfix_fact::gather(root)?,
            instance_id,
            log_backend: if root.is_live() {
                Some(log_backend(root)?)
            } else {
                None
            },
            firewall: firewall(root)?,
            sshd_port,
            sshd_ports,
        })
    }

    /// The fact named in a manifest (one of [`NAMES`]).
    pub fn get(&self, name: &str) -> Option<&str> {
        match name {
            "fqdn" => self.fqdn.as_deref(),
            "ipv4" => self.ipv4.as_deref(),
            "ipv6" => self.ipv6.as_deref(),
            "postfix_version" => self.postfix_version.as_deref(),
            "log_backend" => self.log_backend.as_deref(),
            "firewall" => Some(self.firewall.as_str()).filter(|f| !f.is_empty()),
            "sshd_port" => Some(self.sshd_port.as_str()).filter(|f| !f.is_empty()),
            // Empty is a value here: no port (no sshd), an empty list.
            "sshd_ports" => Some(self.sshd_ports.as_str()),
            _ => None,
        }
    }
}

/// Interface of the IPv4 default route, from /proc/net/route.
fn default_iface_v4() -> Option<String> {
    let text = std::fs::read_to_string("/proc/net/route").ok()?;
    text.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() > 2 && f[1] == "00000000").then(|| f[0].to_string())
    })
}

/// Interface of the IPv6 default route, from /proc/net/ipv6_route.
fn default_iface_v6() -> Option<String> {
    let text = std::fs::read_to_string("/proc/net/ipv6_route").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() == 10
            && f[0] == "00000000000000000000000000000000"
            && f[1] == "00"
            && f[9] != "lo")
            .then(|| f[9].to_string())
    })
}

fn iface_addrs(iface: &str) -> Vec<IpAddr> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    addrs
        .filter(|a| a.interface_name == iface)
        .filter_map(|a| {
            let s = a.address?;
            if let Some(v4) = s.as_sockaddr_in() {
                Some(IpAddr::V4(v4.ip()))
            } else {
                s.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
            }
        })
        .collect()
}

fn primary_v4() -> Option<Ipv4Addr> {
    iface_addrs(&default_iface_v4()?)
        .into_iter()
        .find_map(|a| match a {
            IpAddr::V4(v) if !v.is_loopback() => Some(v),
            _ => None,
        })
}

fn primary_v6() -> Option<Ipv6Addr> {
    iface_addrs(&default_iface_v6()?)
        .into_iter()
        .find_map(|a| match a {
            IpAddr::V6(v) if !v.is_loopback() && (v.segments()[0] & 0xffc0) != 0xfe80 => Some(v),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_gives_its_own_fact() {
        let f = Facts {
            fqdn: Some("fqdn".into()),
            ipv4: Some("ipv4".into()),
            ipv6: Some("ipv6".into()),
            postfix_version: Some("postfix_version".into()),
            instance_id: "not a fact inputs name".into(),
            log_backend: Some("log_backend".into()),
            firewall: "firewall".into(),
            sshd_port: "sshd_port".into(),
            sshd_ports: "sshd_ports".into(),
        };
        for name in NAMES {
            assert_eq!(f.get(name), Some(name));
        }
        assert_eq!(f.get("instance_id"), None);
        let empty = Facts::default();
        assert_eq!(empty.get("sshd_port"), None);
        assert_eq!(empty.get("firewall"), None);
        assert_eq!(empty.get("sshd_ports"), Some(""), "no sshd: an empty list");
    }

    #[test]
    fn offline_root_uses_tree_files_only() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("etc")).unwrap();
        std::fs::write(t.path().join("etc/machine-id"), "abc123\n").unwrap();
        std::fs::write(t.path().join("etc/hostname"), "mx.example.test\n").unwrap();
        let f = Facts::gather(&Root::new(t.path()), None).unwrap();
        assert_eq!(f.instance_id, "abc123");
        assert_eq!(f.fqdn.as_deref(), Some("mx.example.test"));
        assert!(f.ipv4.is_none());
        assert!(f.log_backend.is_none(), "not guessed for an image");
        assert_eq!(f.firewall, "none", "no nft in the tree");
        std::fs::create_dir_all(t.path().join("usr/sbin")).unwrap();
        std::fs::write(t.path().join("usr/sbin/nft"), "").unwrap();
        let f = Facts::gather(&Root::new(t.path()), None).unwrap();
        assert_eq!(f.firewall, "nftables", "an image with nft");
    }

    #[test]
    fn the_journal_without_a_syslog_file_means_the_systemd_backend() {
        let t = tempfile::tempdir().unwrap();
        let root = Root::new(t.path());
        assert_eq!(log_backend(&root).unwrap(), "auto");
        std::fs::create_dir_all(t.path().join("run/systemd/journal")).unwrap();
        std::fs::write(t.path().join("run/systemd/journal/socket"), "").unwrap();
        assert_eq!(log_backend(&root).unwrap(), "systemd");
        std::fs::create_dir_all(t.path().join("var/log")).unwrap();
        std::fs::write(t.path().join("var/log/messages"), "").unwrap();
        assert_eq!(log_backend(&root).unwrap(), "auto");
    }
}
