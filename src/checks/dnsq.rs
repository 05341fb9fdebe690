//! What the DNS check kinds share: the server a check asks (the one given, else the
//! first nameserver of /etc/resolv.conf), a memoising [`Lookup`] on it through the
//! host's network, and reading the manifest's rendered strings (an address left empty
//! when the host has none, `true`/`false` flags).

use super::CheckCx;
use crate::dns::lookup::Lookup;
use crate::dns::name::DName;
use crate::dns::query::system_server;
use crate::dns::wire::Client;
use std::net::IpAddr;

/// The server to ask: `given`, or the system resolver when it is empty.
pub fn server(cx: &CheckCx, given: &str) -> Result<IpAddr, String> {
    match given.trim() {
        "" => system_server(&cx.host.root).map_err(|e| e.to_string()),
        s => s.parse().map_err(|_| format!("{s:?} is not an IP address")),
    }
}

/// A resolver on `server` through the host's network, bounded by the check timeout,
/// sharing answers with the other checks of the pass.
pub fn lookup<'a>(cx: &'a CheckCx, server: IpAddr) -> Lookup<'a> {
    let client = Client {
        net: cx.host.net.as_ref(),
        timeout: cx.timeout,
    };
    Lookup::new(client, server).sharing(&cx.answers)
}

/// The name a check asks about and the server it asks (see [`name`], [`server`]): the
/// first problem with either, as the failure's detail.
pub fn ask(cx: &CheckCx, at: &str, given: &str) -> Result<(DName, IpAddr), String> {
    Ok((name(at)?, server(cx, given)?))
}

/// The addresses of smarthost `relay` (a manifest string; `None` when empty) as `look`
/// answers. Pending when it has none or cannot be resolved: its records may not be
/// visible yet.
pub fn smarthost_addrs(
    look: &Lookup,
    relay: &str,
) -> Option<Result<Vec<IpAddr>, (super::CheckStatus, String)>> {
    let relay = relay.trim().trim_end_matches('.');
    if relay.is_empty() {
        return None;
    }
    let pending = super::CheckStatus::Pending;
    Some(match name(relay).and_then(|n| look.addrs(&n)) {
        Ok(a) if !a.is_empty() => Ok(a),
        Ok(_) => Err((
            pending,
            format!("smarthost {relay} has no address at {}", look.server),
        )),
        Err(e) => Err((pending, format!("cannot resolve smarthost {relay}: {e}"))),
    })
}

/// A domain name from the manifest.
pub fn name(s: &str) -> Result<DName, String> {
    DName::parse(s.trim().trim_end_matches('.'))
}

/// The addresses among `items` that are set (empty strings are not).
pub fn addresses(items: &[&str]) -> Result<Vec<IpAddr>, String> {
    items
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| format!("{s:?} is not an IP address")))
        .collect()
}

/// The host's public addresses a check compares against, or why it cannot run: skipped
/// on an offline root or when none is set, failed when one is not an address.
pub fn public_addresses(
    cx: &CheckCx,
    items: &[&str],
) -> Result<Vec<IpAddr>, (super::CheckStatus, String)> {
    use super::CheckStatus::{Fail, Skipped};
    if !cx.host.is_live() {
        return Err((Skipped, "offline root".into()));
    }
    match addresses(items) {
        Err(e) => Err((Fail, e)),
        Ok(a) if a.is_empty() => Err((Skipped, "the host has no public address set".into())),
        Ok(a) => Ok(a),
    }
}

/// A rendered flag: `true` (any case) is set, anything else is not.
pub fn flag(s: &str) -> bool {
    s.trim().eq_ignore_ascii_case("true")
}

/// A list of names or addresses for a detail line.
pub fn list<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "nothing".into();
    }
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
