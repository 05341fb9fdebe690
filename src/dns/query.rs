//! Asking a server what it holds for one name and type; finding the system resolver
//! (`/etc/resolv.conf`) and a zone's authoritative server.

use super::decl::RType;
use super::name::DName;
use super::record::Data;
use super::wire::{exchange, from_name, from_rdata, rcode_name, to_name, to_type, Client};
use super::DnsError;
use crate::host::Root;
use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::RecordType;
use std::net::IpAddr;

/// What a server answered for one name and type.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// The records of that name and type, with their TTLs.
    pub records: Vec<(u32, Data)>,
    /// The name does not exist at all.
    pub nxdomain: bool,
    /// The server is authoritative for it (its TTLs are the configured ones).
    pub authoritative: bool,
}

/// Ask `server` for the `rtype` records of `name`.
pub fn query(c: Client, server: IpAddr, name: &DName, rtype: RType) -> Result<Answer, DnsError> {
    let m = ask(c, server, name, to_type(rtype))?;
    let records = m
        .answers
        .iter()
        .filter_map(|r| {
            let (n, d) = (from_name(&r.name)?, from_rdata(&r.data)?);
            (n == *name && d.rtype() == rtype).then_some((r.ttl, d))
        })
        .collect();
    Ok(Answer {
        records,
        nxdomain: m.metadata.response_code == ResponseCode::NXDomain,
        authoritative: m.metadata.authoritative,
    })
}

/// Whether an error of [`Lookup`](super::lookup::Lookup) is the server refusing the
/// question (REFUSED: not a name it serves, and it does not recurse).
pub fn is_refusal(err: &str) -> bool {
    err.contains(" answered REFUSED for ")
}

/// One question to `server` (EDNS, recursion desired: it may be a resolver); an answer
/// code other than NOERROR or NXDOMAIN is an error.
fn ask(c: Client, server: IpAddr, name: &DName, rtype: RecordType) -> Result<Message, DnsError> {
    let mut msg = Message::query();
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(to_name(name)?, rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(1232).set_version(0);
    msg.edns = Some(edns);
    let answer = exchange(c, server, &msg)?;
    match answer.metadata.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain => Ok(answer),
        rc => Err(DnsError::Rcode {
            server: server.to_string(),
            rcode: rcode_name(rc),
            what: format!("{rtype} {name}"),
        }),
    }
}

/// The first `nameserver` of the root's `/etc/resolv.conf`.
pub fn system_server(root: &Root) -> Result<IpAddr, DnsError> {
    let none = || DnsError::NoServer("no nameserver in /etc/resolv.conf".into());
    let text = root
        .read("/etc/resolv.conf")
        .map_err(|e| DnsError::NoServer(e.to_string()))?
        .ok_or_else(none)?;
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|rest| rest.trim().split('%').next()?.parse().ok())
        .next()
        .ok_or_else(none)
}

/// An address of the first name server of `zone`, found through `resolver`.
pub fn authoritative_server(c: Client, resolver: IpAddr, zone: &DName) -> Result<IpAddr, DnsError> {
    let names = ns_names(c, resolver, zone).map_err(|e| {
        DnsError::NoServer(format!(
            "cannot find the name servers of {zone} through {resolver} ({e}); give --server"
        ))
    })?;
    for n in names {
        for t in [RType::A, RType::Aaaa] {
            if let Ok(a) = query(c, resolver, &n, t) {
                for (_, d) in a.records {
                    match d {
                        Data::A(ip) => return Ok(IpAddr::V4(ip)),
                        Data::Aaaa(ip) => return Ok(IpAddr::V6(ip)),
                        _ => {}
                    }
                }
            }
        }
    }
    Err(DnsError::NoServer(format!(
        "no address for a name server of {zone} through {resolver}; give --server"
    )))
}

fn ns_names(c: Client, resolver: IpAddr, zone: &DName) -> Result<Vec<DName>, DnsError> {
    Ok(ask(c, resolver, zone, RecordType::NS)?
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            hickory_proto::rr::RData::NS(ns) => from_name(&ns.0),
            _ => None,
        })
        .collect())
}

/// What a server says of a zone's DNSSEC: whether it marked its answer authentic (AD:
/// a validating resolver checked the signatures) and how many DNSKEY records the zone
/// publishes (a signed zone has at least one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dnssec {
    /// The answer carried the AD bit.
    pub authentic: bool,
    /// DNSKEY records at the apex.
    pub dnskeys: usize,
}

/// Ask `server` for the DNSKEY records of `zone` with the DO and AD bits set.
pub fn dnssec(c: Client, server: IpAddr, zone: &DName) -> Result<Dnssec, DnsError> {
    let mut msg = Message::query();
    msg.metadata.recursion_desired = true;
    msg.metadata.authentic_data = true;
    msg.add_query(Query::query(to_name(zone)?, RecordType::DNSKEY));
    let mut edns = Edns::new();
    edns.set_max_payload(1232)
        .set_version(0)
        .set_dnssec_ok(true);
    msg.edns = Some(edns);
    let answer = exchange(c, server, &msg)?;
    match answer.metadata.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain => Ok(Dnssec {
            authentic: answer.metadata.authentic_data,
            dnskeys: answer
                .answers
                .iter()
                .filter(|r| r.record_type() == RecordType::DNSKEY)
                .count(),
        }),
        rc => Err(DnsError::Rcode {
            server: server.to_string(),
            rcode: rcode_name(rc),
            what: format!("DNSKEY {zone}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_told_from_other_answer_codes() {
        let e = |rcode: &str| {
            DnsError::Rcode {
                server: "192.0.2.53".into(),
                rcode: rcode.into(),
                what: "TXT _dmarc.test.".into(),
            }
            .to_string()
        };
        assert!(is_refusal(&e("REFUSED")));
        assert!(!is_refusal(&e("SERVFAIL")));
        assert!(!is_refusal("no answer from 192.0.2.53 (timed out)"));
    }
}
