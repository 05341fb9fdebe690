//! The `firewall` check: our nftables table is loaded, its input chain drops by default
//! and accepts exactly the TCP ports the host serves (`nft -j list table ...`). A host
//! whose firewall firstboot does not manage is skipped, saying which ports to open.

use super::{Check, CheckCx, CheckResult, CheckStatus};
use crate::steps::templated::Templated;
use serde::{de::Error as _, Deserialize, Deserializer};
use serde_json::Value;
use std::collections::BTreeSet;

/// TCP ports, written as a list or as text (`"22 25 80"`, `"22, 25"`): a template
/// renders to text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ports(pub BTreeSet<u16>);

impl std::fmt::Display for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all: Vec<String> = self.0.iter().map(u16::to_string).collect();
        f.write_str(&all.join(", "))
    }
}

impl<'de> Deserialize<'de> for Ports {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let port = |s: &str| {
            s.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| D::Error::custom(format!("{s:?} is not a port (1-65535)")))
        };
        match Value::deserialize(d)? {
            Value::String(s) => s
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .map(port)
                .collect::<Result<_, _>>()
                .map(Ports),
            Value::Array(a) => a
                .iter()
                .map(|v| port(&v.to_string()))
                .collect::<Result<_, _>>()
                .map(Ports),
            other => Err(D::Error::custom(format!("expected ports, got {other}"))),
        }
    }
}

/// Our table, and the TCP ports its input chain must accept (no more, no fewer).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallCheck {
    /// Family and name of the table (`inet firstboot`).
    pub table: String,
    /// The TCP ports the host serves.
    pub tcp_ports: Templated<Ports>,
    /// Whether firstboot manages the firewall; when not, the check is skipped.
    #[serde(default = "managed")]
    pub managed: Templated<bool>,
}

fn managed() -> Templated<bool> {
    Templated::Ready(true)
}

/// What an input chain accepts, as read from nft's JSON.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Accepts {
    /// A chain hooked on input has policy drop.
    pub policy_drop: bool,
    /// TCP destination ports accepted.
    pub tcp: BTreeSet<u16>,
    /// Accepted port ranges and unconditional accepts, as text.
    pub wide: Vec<String>,
}

/// Read `nft -j list table` output: the input chains' policy and accepted TCP ports.
pub fn accepts(json: &str) -> Result<Accepts, String> {
    let doc: Value = serde_json::from_str(json).map_err(|e| format!("nft -j output: {e}"))?;
    let items = doc["nftables"]
        .as_array()
        .ok_or("nft -j output: no `nftables` list")?;
    let mut input = BTreeSet::new();
    let mut a = Accepts::default();
    for c in items.iter().filter_map(|i| i.get("chain")) {
        if c["hook"] == "input" {
            input.insert(c["name"].as_str().unwrap_or_default().to_string());
            a.policy_drop |= c["policy"] == "drop";
        }
    }
    for r in items.iter().filter_map(|i| i.get("rule")) {
        let chain = r["chain"].as_str().unwrap_or_default();
        let Some(expr) = r["expr"].as_array() else {
            continue;
        };
        if !input.contains(chain) || !expr.iter().any(|e| e.get("accept").is_some()) {
            continue;
        }
        let matches: Vec<&Value> = expr.iter().filter_map(|e| e.get("match")).collect();
        if matches.is_empty() {
            a.wide.push(format!("every packet (rule {})", r["handle"]));
        }
        for m in matches {
            let p = &m["left"]["payload"];
            if p["protocol"] != "tcp" || p["field"] != "dport" {
                continue;
            }
            let right = &m["right"];
            if m["op"] == "!=" {
                // Every port but those: as good as open.
                a.wide.push(format!("tcp dport != {right}"));
                continue;
            }
            let elems = match right.get("set").and_then(Value::as_array) {
                Some(s) => s.clone(),
                None => vec![right.clone()],
            };
            for e in elems {
                match e.as_u64().and_then(|n| u16::try_from(n).ok()) {
                    Some(n) => {
                        a.tcp.insert(n);
                    }
                    None => a.wide.push(format!("tcp {}", e.get("range").unwrap_or(&e))),
                }
            }
        }
    }
    Ok(a)
}

impl FirewallCheck {
    fn verdict(&self, want: &Ports, got: &Accepts) -> CheckResult {
        let name = format!("firewall (nftables table {})", self.table);
        let missing: Vec<String> = want.0.difference(&got.tcp).map(u16::to_string).collect();
        let mut extra: Vec<String> = got.tcp.difference(&want.0).map(u16::to_string).collect();
        extra.extend(got.wide.iter().cloned());
        let mut wrong = Vec::new();
        if !got.policy_drop {
            wrong.push("no input chain with policy drop: every port is open".to_string());
        }
        if !missing.is_empty() {
            wrong.push(format!("served but not open: tcp {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            wrong.push(format!("open but not served: {}", extra.join(", ")));
        }
        match wrong.is_empty() {
            true => CheckResult::pass_if(name, true, format!("tcp {want} open, the rest dropped")),
            false => CheckResult::pass_if(name, false, wrong.join("; ")),
        }
    }
}

impl Check for FirewallCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        let name = format!("firewall (nftables table {})", self.table);
        let (want, on) = match (self.tcp_ports.get(), self.managed.get()) {
            (Ok(w), Ok(on)) => (w, *on),
            (Err(e), _) | (_, Err(e)) => return CheckResult::pass_if(name, false, e.to_string()),
        };
        if !on {
            return CheckResult::new(
                name,
                CheckStatus::Skipped,
                format!("not managed here: the host's firewall is left as it is; it should let in tcp {want}"),
            );
        }
        if !cx.host.is_live() {
            return CheckResult::new(name, CheckStatus::Skipped, "offline root");
        }
        let mut argv = vec![
            "nft".to_string(),
            "-j".into(),
            "list".into(),
            "table".into(),
        ];
        argv.extend(self.table.split_whitespace().map(str::to_string));
        let out = match cx.host.runner.run(&argv, None, &[]) {
            Ok(o) if o.success() => o,
            Ok(o) => {
                // nft's first line says why; the next ones point at the words.
                let why = o
                    .stderr
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                let why = why.trim().to_string();
                let detail = format!("table {} is not loaded: {why}", self.table);
                return CheckResult::pass_if(name, false, detail);
            }
            Err(e) => return CheckResult::pass_if(name, false, e.to_string()),
        };
        match accepts(&out.stdout) {
            Ok(got) => self.verdict(want, &got),
            Err(e) => CheckResult::pass_if(name, false, e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_read_from_text_or_a_list_and_refuse_what_is_not_a_port() {
        let p: Ports = serde_json::from_value(serde_json::json!("25, 22 80")).unwrap();
        assert_eq!(p.to_string(), "22, 25, 80");
        let p: Ports = serde_json::from_value(serde_json::json!([993, 25])).unwrap();
        assert_eq!(p.to_string(), "25, 993");
        for bad in ["0", "70000", "smtp"] {
            assert!(
                serde_json::from_value::<Ports>(serde_json::json!(bad)).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn ranges_and_unconditional_accepts_count_as_open() {
        let json = r#"{"nftables": [
          {"chain": {"family": "inet", "table": "t", "name": "in", "hook": "input", "policy": "accept"}},
          {"rule": {"chain": "in", "handle": 4, "expr": [{"accept": null}]}},
          {"rule": {"chain": "in", "handle": 5, "expr": [{"match": {"op": "==",
            "left": {"payload": {"protocol": "tcp", "field": "dport"}},
            "right": {"set": [25, {"range": [1000, 2000]}]}}}, {"accept": null}]}},
          {"rule": {"chain": "in", "handle": 6, "expr": [{"match": {"op": "!=",
            "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, {"drop": null}]}}
        ]}"#;
        let a = accepts(json).unwrap();
        assert!(!a.policy_drop);
        assert_eq!(a.tcp, BTreeSet::from([25]));
        assert_eq!(a.wide, vec!["every packet (rule 4)", "tcp [1000,2000]"]);
    }

    #[test]
    fn only_tcp_destination_ports_an_input_chain_accepts_count() {
        let m = |proto: &str, field: &str, op: &str, port: u16| {
            serde_json::json!({"match": {"op": op,
                "left": {"payload": {"protocol": proto, "field": field}}, "right": port}})
        };
        let rule = |chain: &str, h: u32, e: serde_json::Value, verdict: &str| serde_json::json!({"rule": {"chain": chain, "handle": h, "expr": [e, {verdict: null}]}});
        let json = serde_json::json!({"nftables": [
          {"chain": {"name": "in", "hook": "input", "policy": "drop"}},
          {"chain": {"name": "out", "hook": "output", "policy": "accept"}},
          rule("in", 1, m("tcp", "dport", "==", 25), "accept"),
          rule("in", 2, m("tcp", "dport", "==", 2525), "drop"),
          rule("out", 3, m("tcp", "dport", "==", 587), "accept"),
          rule("in", 4, m("udp", "dport", "==", 53), "accept"),
          rule("in", 5, m("tcp", "sport", "==", 110), "accept"),
          rule("in", 6, m("tcp", "dport", "!=", 143), "accept"),
        ]})
        .to_string();
        let a = accepts(&json).unwrap();
        assert!(a.policy_drop);
        assert_eq!(a.tcp, BTreeSet::from([25]), "{a:?}");
        assert_eq!(
            a.wide,
            vec!["tcp dport != 143"],
            "accepting all but one is open"
        );
    }

    #[test]
    fn a_declaration_without_managed_is_managed() {
        let c: FirewallCheck = serde_json::from_value(
            serde_json::json!({"table": "inet firstboot", "tcp_ports": "22"}),
        )
        .unwrap();
        assert!(*c.managed.get().unwrap());
    }
}
