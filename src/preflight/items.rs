//! The preflight items, one function each; every warning says what to ask for.

use super::{ports, Target, MIN_FREE_MIB};
use crate::checks::smtp_client::Session;
use crate::checks::{CheckResult, CheckStatus};
use crate::dns::query::{query, system_server};
use crate::dns::record::Data;
use crate::dns::wire::Client;
use crate::dns::{DName, RType};
use crate::host::Host;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

fn pass(name: &str, d: impl Into<String>) -> CheckResult {
    CheckResult::new(name.into(), CheckStatus::Pass, d)
}

fn warn(name: &str, d: impl Into<String>) -> CheckResult {
    CheckResult::new(name.into(), CheckStatus::Warn, d)
}

fn skip(name: &str, d: impl Into<String>) -> CheckResult {
    CheckResult::new(name.into(), CheckStatus::Skipped, d)
}

/// The system resolver and a client on the host's network.
fn resolver(host: &Host, timeout: Duration) -> Result<(IpAddr, Client<'_>), String> {
    let server = system_server(&host.root).map_err(|e| e.to_string())?;
    Ok((
        server,
        Client {
            net: host.net.as_ref(),
            timeout,
        },
    ))
}

/// The addresses `name` resolves to (A and AAAA).
pub fn addresses(host: &Host, name: &str, timeout: Duration) -> Result<Vec<IpAddr>, String> {
    let (server, c) = resolver(host, timeout)?;
    let dn = DName::parse(name)?;
    let mut out = Vec::new();
    for t in [RType::A, RType::Aaaa] {
        let a = query(c, server, &dn, t).map_err(|e| e.to_string())?;
        out.extend(a.records.iter().filter_map(|(_, d)| match d {
            Data::A(ip) => Some(IpAddr::V4(*ip)),
            Data::Aaaa(ip) => Some(IpAddr::V6(*ip)),
            _ => None,
        }));
    }
    Ok(out)
}

/// `HOST[:PORT]`, a domain (its lowest MX) or an address: where to try port 25.
fn probe_addr(host: &Host, probe: &str, timeout: Duration) -> Result<SocketAddr, String> {
    if let Ok(a) = probe.parse::<SocketAddr>() {
        return Ok(a);
    }
    let (name, port) = match probe.rsplit_once(':') {
        Some((n, p)) if !n.contains(':') => (
            n,
            p.parse::<u16>()
                .map_err(|_| format!("{p:?} is not a port"))?,
        ),
        _ => (probe, 25),
    };
    if let Ok(ip) = name.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let (server, c) = resolver(host, timeout)?;
    let dn = DName::parse(name)?;
    let mx = query(c, server, &dn, RType::Mx).map_err(|e| e.to_string())?;
    let target = mx
        .records
        .iter()
        .filter_map(|(_, d)| match d {
            Data::Mx {
                preference,
                exchange,
            } => Some((*preference, exchange.as_str().to_string())),
            _ => None,
        })
        .min()
        .map_or(name.to_string(), |(_, x)| x);
    let ip = addresses(host, &target, timeout)?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{target} has no address"))?;
    Ok(SocketAddr::new(ip, port))
}

/// Outbound port 25: an SMTP greeting from the probe target.
pub fn outbound_25(host: &Host, t: &Target, timeout: Duration) -> Vec<CheckResult> {
    let n = "outbound port 25";
    let addr = match probe_addr(host, &t.probe, timeout) {
        Ok(a) => a,
        Err(e) => {
            return vec![warn(
                n,
                format!(
                    "cannot find the probe target {}: {e}; give another with smtp_probe",
                    t.probe
                ),
            )]
        }
    };
    vec![match Session::open(host.net.as_ref(), addr, timeout) {
        Ok((s, greeting)) => {
            s.quit();
            pass(n, format!("{} ({addr}) greets: {}", t.probe, greeting.first()))
        }
        Err(e) => warn(n, format!(
            "{e}: outbound TCP port 25 looks blocked; ask your provider to open outbound port 25 (many clouds block it until asked), or use mail.mode relay through a smarthost on 587/465"
        )),
    }]
}

/// A PTR for each public address, naming the host.
pub fn ptr(host: &Host, t: &Target, timeout: Duration) -> Vec<CheckResult> {
    if t.addresses.is_empty() {
        return vec![skip(
            "reverse DNS (PTR)",
            "no public address configured (ipv4, ipv6)",
        )];
    }
    let resolver = resolver(host, timeout);
    t.addresses
        .iter()
        .map(|ip| {
            let n = format!("reverse DNS (PTR) of {ip}");
            let ask = format!("ask your provider to set the PTR of {ip} to {}", t.hostname);
            let (server, c) = match &resolver {
                Ok(r) => *r,
                Err(e) => return warn(&n, format!("cannot resolve: {e}")),
            };
            match query(c, server, &DName::reverse(*ip), RType::Ptr) {
                Err(e) => warn(&n, format!("cannot resolve: {e}")),
                Ok(a) => {
                    let names: Vec<String> = a
                        .records
                        .iter()
                        .filter_map(|(_, d)| match d {
                            Data::Ptr(p) => Some(p.as_str().to_string()),
                            _ => None,
                        })
                        .collect();
                    if names.iter().any(|p| p.eq_ignore_ascii_case(&t.hostname)) {
                        pass(&n, format!("{ip} -> {}", t.hostname))
                    } else if names.is_empty() {
                        warn(
                            &n,
                            format!(
                                "{ip} has no PTR (receivers reject or junk mail from it): {ask}"
                            ),
                        )
                    } else {
                        warn(
                            &n,
                            format!("{ip} -> {}, not {}: {ask}", names.join(", "), t.hostname),
                        )
                    }
                }
            }
        })
        .collect()
}

/// Ports 25 and 80 free, or held by what firstboot sets up (Postfix's `master` on 25).
pub fn ports(t: &Target) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for (port, ours, why) in [
        (25u16, &["master"][..], "Postfix"),
        (80, &[][..], "certbot's http-01 challenge"),
    ] {
        let n = format!("port {port}");
        if port == 80 && !t.acme {
            out.push(skip(&n, "not needed (ssl.provider is not acme)"));
            continue;
        }
        let held = ports::holders(port);
        let other: Vec<&String> = held
            .iter()
            .filter(|h| !ours.contains(&h.as_str()))
            .collect();
        out.push(if held.is_empty() {
            pass(&n, "free")
        } else if other.is_empty() {
            pass(
                &n,
                format!(
                    "held by {} (ours)",
                    held.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        } else {
            let names: Vec<&str> = other.iter().map(|s| s.as_str()).collect();
            warn(
                &n,
                format!(
                    "held by {}: {why} needs it; stop and remove that service first",
                    names.join(", ")
                ),
            )
        });
    }
    out
}

/// The host name resolves, to the configured addresses.
pub fn fqdn(host: &Host, t: &Target, timeout: Duration) -> Vec<CheckResult> {
    let n = format!("{} resolves", t.hostname);
    let publish = format!("publish A/AAAA records {} -> {} (8-dns_config does when dns.publish is set; else at your DNS provider)",
        t.hostname, t.addresses.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "));
    vec![match addresses(host, &t.hostname, timeout) {
        Err(e) => warn(&n, format!("cannot resolve: {e}")),
        Ok(found) if found.is_empty() => warn(&n, format!("no address: {publish}")),
        Ok(found) => {
            let shown = found
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let missing: Vec<&IpAddr> = t.addresses.iter().filter(|a| !found.contains(a)).collect();
            if missing.is_empty() {
                pass(&n, shown)
            } else {
                warn(
                    &n,
                    format!(
                        "resolves to {shown}, not to {}: {publish}",
                        missing
                            .iter()
                            .map(|a| a.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            }
        }
    }]
}

/// Free space under `/` and `/var` of the root.
pub fn disk(host: &Host) -> Vec<CheckResult> {
    ["/", "/var"]
        .iter()
        .map(|p| {
            let n = format!("free disk on {p}");
            let path = host.root.base().join(p.trim_start_matches('/'));
            match nix::sys::statvfs::statvfs(&path) {
                Err(e) => warn(&n, format!("cannot stat {}: {e}", path.display())),
                Ok(s) => {
                    let free = s.blocks_available() * s.fragment_size() / (1024 * 1024);
                    if free >= MIN_FREE_MIB {
                        pass(&n, format!("{free} MiB free"))
                    } else {
                        warn(&n, format!("{free} MiB free, under {MIN_FREE_MIB} MiB: ask your provider for a larger disk"))
                    }
                }
            }
        })
        .collect()
}

/// Provider acme: the host name resolves to this host, and port 80 is free for certbot.
pub fn acme(host: &Host, t: &Target, timeout: Duration) -> Vec<CheckResult> {
    let n = "ACME feasible";
    if !t.acme {
        return vec![skip(n, "ssl.provider is not acme")];
    }
    let ours = match addresses(host, &t.hostname, timeout) {
        Ok(found) => found.iter().any(|a| t.addresses.contains(a)),
        Err(_) => false,
    };
    if !ours {
        let why = format!("{} does not resolve to this host yet: the CA cannot reach it; publish its A/AAAA record first", t.hostname);
        return vec![warn(n, why)];
    }
    let held = ports::holders(80);
    if !held.is_empty() {
        let who = held.into_iter().collect::<Vec<_>>().join(", ");
        return vec![warn(
            n,
            format!("port 80 is held by {who}: certbot --standalone needs it free"),
        )];
    }
    vec![pass(n, format!("{} resolves here and port 80 is free; make sure your provider lets inbound TCP 80 in (not visible from the host)", t.hostname))]
}
