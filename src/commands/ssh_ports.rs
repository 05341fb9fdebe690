//! The warning `plan` and `run` give when the firewall 10-monitoring loads would drop a
//! port sshd listens on: `monitoring.open_ports` was given (it replaces the ports read
//! from sshd's configuration) without one of them. `monitoring.fail2ban.sshd_port` is
//! always let in, so SSH stays reachable there; the others would be cut off.

use serde_json::Value;

/// The warning for these resolved inputs and the `sshd_ports` fact (the ports sshd's
/// configuration names, space-separated), if any: the firewall managed, and a port
/// sshd listens on let in by neither `sshd_port` nor `open_ports`.
pub fn warning(values: &Value, sshd_ports: &str) -> Option<String> {
    if values.pointer("/monitoring/firewall")?.as_str()? != "nftables" {
        return None;
    }
    let mut open = vec![values.pointer("/monitoring/fail2ban/sshd_port")?.as_u64()?];
    let given = values
        .pointer("/monitoring/open_ports")
        .and_then(Value::as_array);
    open.extend(given.into_iter().flatten().filter_map(Value::as_u64));
    let missing: Vec<&str> = sshd_ports
        .split_whitespace()
        .filter(|w| w.parse::<u64>().is_ok_and(|p| !open.contains(&p)))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let (noun, list) = match missing.as_slice() {
        [one] => ("port", one.to_string()),
        more => ("ports", more.join(", ")),
    };
    Some(format!(
        "sshd listens on {noun} {list} (its configuration under /etc/ssh), which the firewall \
         will drop: monitoring.open_ports replaces the ports read from sshd's configuration; \
         add {list} to it, or SSH on {list} is cut off"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(firewall: &str, open: &[u64]) -> Value {
        json!({"monitoring": {"firewall": firewall, "fail2ban": {"sshd_port": 22},
               "open_ports": open}})
    }

    #[test]
    fn warns_for_each_sshd_port_the_firewall_would_drop() {
        let w = warning(&values("nftables", &[443]), "22 2222").unwrap();
        assert!(w.contains("port 2222 "), "{w}");
        assert!(!w.contains("22,"), "{w}");
        let w = warning(&values("nftables", &[]), "2222 2223 22").unwrap();
        assert!(w.contains("ports 2222, 2223 "), "{w}");
        assert!(warning(&values("nftables", &[443, 2222]), "22 2222").is_none());
        assert!(warning(&values("none", &[443]), "22 2222").is_none());
        assert!(warning(&values("nftables", &[443]), "").is_none());
        assert!(warning(&json!({"mail": {}}), "22 2222").is_none());
    }
}
