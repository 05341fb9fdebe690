//! Which processes listen on a TCP port: the socket inodes in LISTEN state from
//! `/proc/net/tcp` and `tcp6`, matched against the `socket:[INODE]` links in
//! `/proc/PID/fd`, named by `/proc/PID/comm`.

use std::collections::BTreeSet;

/// The inodes of sockets listening on `port` in a `/proc/net/tcp` or `tcp6` text.
pub fn listening_inodes(table: &str, port: u16) -> BTreeSet<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let p = f
                .get(1)?
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())?;
            (f.get(3) == Some(&"0A") && p == port).then(|| f.get(9)?.parse().ok())?
        })
        .collect()
}

/// The names of the processes holding a listening socket on TCP `port` (empty: the port
/// is free). A socket whose owner cannot be seen (another namespace, no permission)
/// shows as `?`.
pub fn holders(port: u16) -> BTreeSet<String> {
    let mut inodes = BTreeSet::new();
    for t in ["/proc/net/tcp", "/proc/net/tcp6"] {
        inodes.extend(listening_inodes(
            &std::fs::read_to_string(t).unwrap_or_default(),
            port,
        ));
    }
    if inodes.is_empty() {
        return BTreeSet::new();
    }
    let mut found = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name();
        let Some(pid) = pid
            .to_str()
            .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"));
        for fd in fds.into_iter().flatten().flatten() {
            let Ok(link) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let link = link.to_string_lossy().to_string();
            let inode = link
                .strip_prefix("socket:[")
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(i) = inode.filter(|i| inodes.contains(i)) {
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                found.insert(comm.trim().to_string());
                seen.insert(i);
            }
        }
    }
    if seen.len() < inodes.len() {
        found.insert("?".into());
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_are_found_by_port_and_state() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0
   1: 0100007F:0050 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 77 1 0 20 4 30 10 -1
";
        assert_eq!(listening_inodes(table, 25), BTreeSet::from([4242]));
        assert!(
            listening_inodes(table, 80).is_empty(),
            "an established socket is no listener"
        );
    }

    #[test]
    fn this_process_is_found_holding_its_port() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = holders(port);
        assert!(!h.is_empty(), "{h:?}");
        drop(l);
        assert!(holders(port).is_empty());
    }
}
