//! The `sshd_port` fact: the port sshd listens on, read from its configuration in the
//! tree (Debian's `sshd_config` includes `sshd_config.d/*.conf` first, and the first
//! `Port` read is the first port), else 22, sshd's default. The firewall opens it and
//! fail2ban's sshd jail bans on it, so a host whose SSH moved is not locked out.

use crate::host::{HostError, Root};

const DROP_INS: &str = "/etc/ssh/sshd_config.d";
const MAIN: &str = "/etc/ssh/sshd_config";

/// The first `Port` of the drop-ins (in name order), then of the main file, else 22.
pub fn gather(root: &Root) -> Result<String, HostError> {
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
    for f in files {
        let text = match root.read(&f) {
            Ok(t) => t.unwrap_or_default(),
            // Not a regular file (a link out of the tree...): not sshd's config for us.
            Err(_) => continue,
        };
        if let Some(p) = first_port(&String::from_utf8_lossy(&text)) {
            return Ok(p.to_string());
        }
    }
    Ok("22".to_string())
}

/// The first `Port N` (or `Port=N`, any case) before any `Match` block.
fn first_port(text: &str) -> Option<u16> {
    for line in text.lines().map(str::trim) {
        let (key, value) = match line.split_once(|c: char| c.is_whitespace() || c == '=') {
            Some((k, v)) => (
                k,
                v.trim_start_matches(|c: char| c.is_whitespace() || c == '='),
            ),
            None => continue,
        };
        if key.eq_ignore_ascii_case("match") {
            return None;
        }
        if key.eq_ignore_ascii_case("port") {
            if let Some(p) = value.split_whitespace().next().and_then(|v| v.parse().ok()) {
                return Some(p);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_port_of_drop_ins_then_of_the_main_file_else_22() {
        let t = tempfile::tempdir().unwrap();
        let root = Root::new(t.path());
        assert_eq!(gather(&root).unwrap(), "22", "no sshd at all");
        std::fs::create_dir_all(t.path().join("etc/ssh/sshd_config.d")).unwrap();
        let main = "Include /etc/ssh/sshd_config.d/*.conf\n#Port 22\nport=2200\nPort 2201\n";
        std::fs::write(t.path().join("etc/ssh/sshd_config"), main).unwrap();
        assert_eq!(gather(&root).unwrap(), "2200");
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
        assert_eq!(gather(&root).unwrap(), "2022");
    }

    #[test]
    fn a_port_inside_a_match_block_or_a_comment_is_not_the_port() {
        assert_eq!(
            first_port("# Port 2222\nMatch User bob\n  Port 2300\n"),
            None
        );
        assert_eq!(first_port("Port   2222 # moved\n"), Some(2222));
        assert_eq!(first_port("Port nonsense\nPort 2\n"), Some(2));
    }
}
