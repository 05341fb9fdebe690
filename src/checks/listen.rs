//! The `listen` check: a socket in the LISTEN state on a TCP port, or a listening Unix
//! socket at a path (a milter's): the daemon behind it runs. Read from the kernel's
//! tables (`/proc/net/tcp`, `tcp6`, `unix`) rather than by connecting, so a check leaves
//! no trace in the daemon's log and a no-op re-run stays a no-op. A daemon may still be
//! binding right after a (re)start, so failures are retried then.

use super::{Check, CheckCx, CheckResult, CheckStatus};
use serde::Deserialize;

/// A listening socket: exactly one of `port` and `unix`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenCheck {
    /// Name shown in reports.
    pub name: String,
    /// TCP port listened on (any address, IPv4 or IPv6).
    #[serde(default)]
    pub port: Option<u16>,
    /// Path of a Unix socket.
    #[serde(default)]
    pub unix: Option<String>,
}

/// Whether a `/proc/net/tcp` or `tcp6` text has a socket listening on `port`.
pub fn tcp_listens(table: &str, port: u16) -> bool {
    table.lines().skip(1).any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 3
            && f[3] == "0A"
            && f[1]
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                == Some(port)
    })
}

/// Whether a `/proc/net/unix` text has a listening socket bound at `path`.
pub fn unix_listens(table: &str, path: &str) -> bool {
    table.lines().skip(1).any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        // Num RefCount Protocol Flags Type St Inode Path; Flags 00010000: accepting.
        f.len() > 7
            && u32::from_str_radix(f[3], 16).is_ok_and(|fl| fl & 0x0001_0000 != 0)
            && f[7] == path
    })
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

impl ListenCheck {
    fn probe(&self) -> Result<String, String> {
        match (self.port, &self.unix) {
            (Some(p), None) => {
                let on = ["/proc/net/tcp", "/proc/net/tcp6"]
                    .iter()
                    .any(|t| tcp_listens(&read(t), p));
                match on {
                    true => Ok(format!("TCP port {p} listening")),
                    false => Err(format!("nothing listens on TCP port {p}")),
                }
            }
            (None, Some(path)) => match unix_listens(&read("/proc/net/unix"), path) {
                true => Ok(format!("{path} listening")),
                false => Err(format!("nothing listens on {path}")),
            },
            _ => Err("give exactly one of `port` and `unix`".into()),
        }
    }
}

impl Check for ListenCheck {
    fn settles(&self) -> bool {
        true
    }

    fn run(&self, cx: &CheckCx) -> CheckResult {
        if !cx.host.is_live() {
            return CheckResult::new(self.name.clone(), CheckStatus::Skipped, "offline root");
        }
        match self.probe() {
            Ok(d) => CheckResult::new(self.name.clone(), CheckStatus::Pass, d),
            Err(d) => CheckResult::new(self.name.clone(), CheckStatus::Fail, d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
";
    const UNIX: &str = "Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 20 /var/spool/postfix/opendkim/opendkim.sock
0000000000000000: 00000003 00000000 00000000 0001 03 21 /run/other.sock
";

    #[test]
    fn tcp_listeners_are_found_by_port_in_listen_state_only() {
        assert!(tcp_listens(TCP, 25));
        // 8080 is there, but an established connection, not a listener.
        assert!(!tcp_listens(TCP, 8080));
        assert!(!tcp_listens(TCP, 587));
        assert!(!tcp_listens("", 25));
        // A short (truncated) line is skipped, never indexed past its end.
        assert!(!tcp_listens(
            "header\n   0: 00000000:0019 00000000:0000\n",
            25
        ));
    }

    #[test]
    fn unix_listeners_are_found_by_path_with_the_accepting_flag() {
        assert!(unix_listens(
            UNIX,
            "/var/spool/postfix/opendkim/opendkim.sock"
        ));
        assert!(!unix_listens(UNIX, "/run/other.sock"));
        assert!(!unix_listens(UNIX, "/run/absent.sock"));
        // A line without a path (an unnamed socket) is skipped.
        assert!(!unix_listens(
            "header\n0000000000000000: 00000002 00000000 00010000 0001 01 20\n",
            "/run/absent.sock"
        ));
    }

    #[test]
    fn this_process_listening_is_seen() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let c = ListenCheck {
            name: "x".into(),
            port: Some(port),
            unix: None,
        };
        assert!(c.probe().is_ok());
        drop(l);
        // Closed: not seen, unless another test's socket took the freed port meanwhile
        // (tests run in parallel): then binding it must fail too.
        if c.probe().is_ok() {
            assert!(
                std::net::TcpListener::bind(("127.0.0.1", port)).is_err(),
                "a closed port seen listening"
            );
        }
        let d = tempfile::tempdir().unwrap();
        let sock = d.path().join("s.sock");
        let u = ListenCheck {
            name: "u".into(),
            port: None,
            unix: Some(sock.display().to_string()),
        };
        assert!(u.probe().is_err());
        let _ul = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert!(u.probe().is_ok());
    }
}
