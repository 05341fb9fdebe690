//! The `sshd_port` and `sshd_ports` facts: the ports sshd listens on, read from its
//! configuration in the tree (Debian's `sshd_config` includes `sshd_config.d/*.conf`
//! first). sshd listens on every `Port` it reads (the option adds up, it is not "first
//! one wins") and on the port of each `ListenAddress` that names one; `sshd_port` is the
//! first `Port` read, else 22, sshd's default. The firewall opens them all and
//! fail2ban's sshd jail bans on all of them, so a host whose SSH moved, or listens on a
//! second port, is not locked out.

use crate::host::{HostError, Root};

const DROP_INS: &str = "/etc/ssh/sshd_config.d";
const MAIN: &str = "/etc/ssh/sshd_config";

/// The text of sshd's configuration files: the drop-ins in name order, then the main file.
fn texts(root: &Root) -> Result<Vec<String>, HostError> {
    let mut files: Vec<String> = match std::fs::read_dir(root.path(DROP_INS)?) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".conf"))
            .map(|n| format!("{DROP_INS}/{n}"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files.push(MAIN.to_string());
    let mut out = Vec::new();
    for f in files {
        // Missing, or not a regular file (a link out of the tree...): not sshd's
        // config for us.
        if let Ok(Some(t)) = root.read(&f) {
            out.push(String::from_utf8_lossy(&t).into_owned());
        }
    }
    Ok(out)
}

/// The `sshd_port` and `sshd_ports` facts, from one read of sshd's configuration: the
/// first `Port` of the drop-ins (in name order), then of the main file, else 22; and
/// every port sshd listens on, in the order read, each once (space-separated): each
/// `Port` (else 22) and each `ListenAddress` port, none without any configuration file
/// (no sshd installed).
pub fn gather(root: &Root) -> Result<(String, String), HostError> {
    let texts = texts(root)?;
    let first = texts
        .iter()
        .find_map(|t| ports(t).0.first().copied())
        .unwrap_or(22);
    Ok((first.to_string(), every_port(&texts)))
}

/// Every port the configuration `texts` make sshd listen on (see [`gather`]).
fn every_port(texts: &[String]) -> String {
    if texts.is_empty() {
        return String::new();
    }
    let (mut port, mut listen) = (Vec::new(), Vec::new());
    for t in texts {
        let (p, l) = ports(t);
        port.extend(p);
        listen.extend(l);
    }
    if port.is_empty() {
        port.push(22);
    }
    let mut all: Vec<u16> = Vec::new();
    for p in port.into_iter().chain(listen) {
        if !all.contains(&p) {
            all.push(p);
        }
    }
    let words: Vec<String> = all.iter().map(u16::to_string).collect();
    words.join(" ")
}

/// The port of a `ListenAddress` value: `host:port`, `[v6]:port`; none for a bare
/// address (it listens on the `Port`s).
fn listen_port(value: &str) -> Option<u16> {
    let v = value.split_whitespace().next()?;
    let rest = match v.strip_prefix('[') {
        Some(r) => r.split_once(']')?.1,
        // An IPv6 address without brackets (no port) has more colons after the first:
        // what follows it is no number.
        None => &v[v.find(':')?..],
    };
    rest.strip_prefix(':')?.parse().ok().filter(|p| *p > 0)
}

/// The `Port N` values (`Port=N`, any case) and `ListenAddress` ports of one file,
/// before any `Match` block (neither is allowed inside one).
fn ports(text: &str) -> (Vec<u16>, Vec<u16>) {
    let (mut port, mut listen) = (Vec::new(), Vec::new());
    for line in text.lines().map(str::trim) {
        let (key, value) = match line.split_once(|c: char| c.is_whitespace() || c == '=') {
            Some((k, v)) => (
                k,
                v.trim_start_matches(|c: char| c.is_whitespace() || c == '='),
            ),
            None => continue,
        };
        if key.eq_ignore_ascii_case("match") {
            break;
        }
        if key.eq_ignore_ascii_case("port") {
            if let Some(p) = value.split_whitespace().next().and_then(|v| v.parse().ok()) {
                port.push(p);
            }
        } else if key.eq_ignore_ascii_case("listenaddress") {
            listen.extend(listen_port(value));
        }
    }
    (port, listen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_port_of_drop_ins_then_of_the_main_file_else_22() {
        let t = tempfile::tempdir().unwrap();
        let root = Root::new(t.path());
        assert_eq!(gather(&root).unwrap().0, "22", "no sshd at all");
        std::fs::create_dir_all(t.path().join("etc/ssh/sshd_config.d")).unwrap();
        let main = "Include /etc/ssh/sshd_config.d/*.conf\n#Port 22\nport=2200\nPort 2201\n";
        std::fs::write(t.path().join("etc/ssh/sshd_config"), main).unwrap();
        assert_eq!(gather(&root).unwrap().0, "2200");
        std::fs::write(
            t.path().join("etc/ssh/sshd_config.d/50-cloud.conf"),
            "Port 2022\n",
        )
        .unwrap();
        std::fs::write(
            t.path().join("etc/ssh/sshd_config.d/10-x.conf"),
            "PasswordAuthentication no\n",
        )
        .unwrap();
        std::fs::write(
            t.path().join("etc/ssh/sshd_config.d/60-y.conf"),
            "Port 2023\n",
        )
        .unwrap();
        assert_eq!(gather(&root).unwrap().0, "2022");
    }

    #[test]
    fn a_port_inside_a_match_block_or_a_comment_is_not_the_port() {
        let first = |t: &str| ports(t).0.first().copied();
        assert_eq!(first("# Port 2222\nMatch User bob\n  Port 2300\n"), None);
        assert_eq!(first("Port   2222 # moved\n"), Some(2222));
        assert_eq!(first("Port = 2223\n"), Some(2223));
        assert_eq!(first("ListenAddress = [::1]:2224\n"), None);
        assert_eq!(ports("ListenAddress = [::1]:2224\n").1, [2224]);
        assert_eq!(first("Port nonsense\nPort 2\n"), Some(2));
    }

    #[test]
    fn every_port_sshd_listens_on_is_gathered_once() {
        let t = tempfile::tempdir().unwrap();
        let root = Root::new(t.path());
        assert_eq!(gather(&root).unwrap().1, "", "no sshd at all");
        std::fs::create_dir_all(t.path().join("etc/ssh/sshd_config.d")).unwrap();
        std::fs::write(
            t.path().join("etc/ssh/sshd_config.d/50-x.conf"),
            "Port 2222\nListenAddress 192.0.2.1:2200\nListenAddress [2001:db8::1]:2201\n",
        )
        .unwrap();
        let main = "Port 22\nPort 2222\nListenAddress 2001:db8::2\nListenAddress 0.0.0.0\nMatch User x\n  Port 9\n";
        std::fs::write(t.path().join("etc/ssh/sshd_config"), main).unwrap();
        assert_eq!(gather(&root).unwrap().1, "2222 22 2200 2201");
        assert_eq!(gather(&root).unwrap().0, "2222");
        // Only ListenAddress ports: the Port default, 22, is still counted (a bare
        // address would listen on it).
        std::fs::write(t.path().join("etc/ssh/sshd_config.d/50-x.conf"), "").unwrap();
        std::fs::write(t.path().join("etc/ssh/sshd_config"), "# all default\n").unwrap();
        assert_eq!(gather(&root).unwrap().1, "22", "sshd's own default");
        std::fs::write(
            t.path().join("etc/ssh/sshd_config"),
            "ListenAddress 10.0.0.1:2022\n",
        )
        .unwrap();
        assert_eq!(gather(&root).unwrap().1, "22 2022");
    }

    #[test]
    fn listen_address_ports() {
        assert_eq!(listen_port("192.0.2.1:2200"), Some(2200));
        assert_eq!(listen_port("[2001:db8::1]:2201 rdomain x"), Some(2201));
        assert_eq!(listen_port("2001:db8::1"), None);
        assert_eq!(listen_port("[2001:db8::1]"), None);
        assert_eq!(listen_port("host.example:0"), None);
        assert_eq!(listen_port("0.0.0.0"), None);
    }
}
