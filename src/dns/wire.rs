//! Between our records and hickory-proto's wire types, and a small blocking transport
//! over the host's [`Network`]: UDP with a retry and TCP when the answer is truncated;
//! TCP for updates. Timeouts are short (a first boot must not hang on an unreachable
//! server).

use super::decl::RType;
use super::name::DName;
use super::record::{txt_chunks, Data};
use super::DnsError;
use crate::host::net::{Network, Transport};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{self, tlsa};
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// How long to wait for one answer.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// hickory's name for ours.
pub fn to_name(d: &DName) -> Result<Name, DnsError> {
    Name::from_ascii(d.fqdn()).map_err(|e| DnsError::Record {
        record: d.fqdn(),
        reason: e.to_string(),
    })
}

/// Ours for hickory's, when it is a name we can hold.
pub fn from_name(n: &Name) -> Option<DName> {
    DName::parse(&n.to_ascii()).ok()
}

/// hickory's record type for ours.
pub fn to_type(t: RType) -> RecordType {
    match t {
        RType::A => RecordType::A,
        RType::Aaaa => RecordType::AAAA,
        RType::Cname => RecordType::CNAME,
        RType::Mx => RecordType::MX,
        RType::Txt => RecordType::TXT,
        RType::Tlsa => RecordType::TLSA,
        RType::Ptr => RecordType::PTR,
        RType::Srv => RecordType::SRV,
    }
}

/// hickory's record data for ours (TXT split into 255-byte character-strings).
pub fn to_rdata(d: &Data) -> Result<RData, DnsError> {
    Ok(match d {
        Data::A(a) => RData::A(rdata::A(*a)),
        Data::Aaaa(a) => RData::AAAA(rdata::AAAA(*a)),
        Data::Cname(n) => RData::CNAME(rdata::CNAME(to_name(n)?)),
        Data::Ptr(n) => RData::PTR(rdata::PTR(to_name(n)?)),
        Data::Mx {
            preference,
            exchange,
        } => RData::MX(rdata::MX::new(*preference, to_name(exchange)?)),
        Data::Srv {
            priority,
            weight,
            port,
            target,
        } => RData::SRV(rdata::SRV::new(*priority, *weight, *port, to_name(target)?)),
        Data::Txt(t) => RData::TXT(rdata::TXT::new(txt_chunks(t))),
        Data::Tlsa {
            usage,
            selector,
            matching,
            data,
        } => RData::TLSA(rdata::TLSA::new(
            tlsa::CertUsage::from(*usage),
            tlsa::Selector::from(*selector),
            tlsa::Matching::from(*matching),
            data.clone(),
        )),
    })
}

/// Our data for hickory's, for the types we publish (`None` for any other).
pub fn from_rdata(r: &RData) -> Option<Data> {
    Some(match r {
        RData::A(a) => Data::A(a.0),
        RData::AAAA(a) => Data::Aaaa(a.0),
        RData::CNAME(n) => Data::Cname(from_name(&n.0)?),
        RData::PTR(n) => Data::Ptr(from_name(&n.0)?),
        RData::MX(mx) => Data::Mx {
            preference: mx.preference,
            exchange: from_name(&mx.exchange)?,
        },
        RData::SRV(s) => Data::Srv {
            priority: s.priority,
            weight: s.weight,
            port: s.port,
            target: from_name(&s.target)?,
        },
        RData::TXT(t) => {
            let bytes: Vec<u8> = t.txt_data.iter().flat_map(|s| s.iter().copied()).collect();
            Data::Txt(String::from_utf8_lossy(&bytes).into_owned())
        }
        RData::TLSA(t) => Data::Tlsa {
            usage: t.cert_usage.into(),
            selector: t.selector.into(),
            matching: t.matching.into(),
            data: t.cert_data.clone(),
        },
        _ => return None,
    })
}

/// The mnemonic of a response code (`NOERROR`, `NOTAUTH`...).
pub fn rcode_name(rc: ResponseCode) -> String {
    match u16::from(rc) {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        6 => "YXDOMAIN".into(),
        7 => "YXRRSET".into(),
        8 => "NXRRSET".into(),
        9 => "NOTAUTH".into(),
        10 => "NOTZONE".into(),
        n => format!("RCODE{n}"),
    }
}

fn net(server: SocketAddr, e: std::io::Error) -> DnsError {
    DnsError::Network {
        server: server.ip().to_string(),
        reason: e.to_string(),
    }
}

/// What DNS exchanges go through: the host's network and the time one may take.
#[derive(Clone, Copy)]
pub struct Client<'a> {
    /// The host's network (real sockets, or a fake in tests).
    pub net: &'a dyn Network,
    /// How long to wait for one answer.
    pub timeout: Duration,
}

impl<'a> Client<'a> {
    /// A client with the default [`TIMEOUT`].
    pub fn new(net: &'a dyn Network) -> Self {
        Client {
            net,
            timeout: TIMEOUT,
        }
    }
}

/// Send `msg` over UDP (two tries), then over TCP when the answer is truncated.
pub fn exchange(c: Client, server: IpAddr, msg: &Message) -> Result<Message, DnsError> {
    let addr = SocketAddr::new(server, 53);
    let bytes = encode(addr, msg)?;
    let mut last = None;
    for _ in 0..2 {
        match c.net.dns_exchange(Transport::Udp, addr, &bytes, c.timeout) {
            Ok(b) => {
                let answer = decode(addr, &b)?;
                if answer.metadata.id != msg.metadata.id {
                    continue;
                }
                if answer.metadata.truncation {
                    return exchange_tcp(c, server, &bytes).and_then(|b| decode(addr, &b));
                }
                return Ok(answer);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(net(
        addr,
        last.unwrap_or_else(|| std::io::Error::other("no matching answer")),
    ))
}

/// The wire form of a message.
pub fn encode(server: SocketAddr, msg: &Message) -> Result<Vec<u8>, DnsError> {
    msg.to_vec().map_err(|e| DnsError::Protocol {
        server: server.ip().to_string(),
        reason: format!("cannot encode the message: {e}"),
    })
}

fn decode(server: SocketAddr, b: &[u8]) -> Result<Message, DnsError> {
    Message::from_vec(b).map_err(|e| DnsError::Protocol {
        server: server.ip().to_string(),
        reason: e.to_string(),
    })
}

/// Send wire bytes over TCP (two-byte length prefix) and return the answer's bytes.
pub fn exchange_tcp(c: Client, server: IpAddr, bytes: &[u8]) -> Result<Vec<u8>, DnsError> {
    let addr = SocketAddr::new(server, 53);
    c.net
        .dns_exchange(Transport::Tcp, addr, bytes, c.timeout)
        .map_err(|e| net(addr, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_survives_the_wire_types() {
        let long = "v=DKIM1; k=rsa; p=".to_string() + &"A".repeat(600);
        for text in [
            "192.0.2.10",
            "10 mail.example.test",
            "3 1 1 0000000000000000000000000000000000000000000000000000000000000001",
            long.as_str(),
        ] {
            let rtype = if text.starts_with("192") {
                RType::A
            } else if text.starts_with("10 ") {
                RType::Mx
            } else if text.starts_with("3 ") {
                RType::Tlsa
            } else {
                RType::Txt
            };
            let d = Data::parse(rtype, text).unwrap();
            let r = to_rdata(&d).unwrap();
            if let RData::TXT(t) = &r {
                assert_eq!(t.txt_data.len(), 3);
                assert!(t.txt_data.iter().all(|s| s.len() <= 255));
            }
            assert_eq!(from_rdata(&r), Some(d));
        }
    }
}
