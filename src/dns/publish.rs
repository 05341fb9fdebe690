//! Publication: one RFC 2136 UPDATE, signed with TSIG (hickory's `TSigner`), replacing
//! only the units of our records that differ on the server (delete, then add), sent
//! over TCP; the answer's signature is verified and a refusal is explained.

use super::compare::{Compared, Verdict};
use super::decl::Publish;
use super::name::DName;
use super::wire::{exchange_tcp, rcode_name, to_name, to_rdata, to_type, Client};
use super::DnsError;
use crate::host::Root;
use data_encoding::{BASE64, BASE64_NOPAD};
use hickory_proto::op::{Message, OpCode, Query, ResponseCode, UpdateMessage};
use hickory_proto::rr::rdata::tsig::TsigAlgorithm;
use hickory_proto::rr::{DNSClass, Name, Record, RecordType, TSigner};
use std::fmt;
use std::net::IpAddr;

/// Seconds of clock difference the server may accept (RFC 8945 recommends 300).
pub const FUDGE: u16 = 300;

const SECRET_KEY: &str = "dns.publish.tsig_secret_file";

/// A TSIG key. Its secret is never printed (not even by `Debug`).
pub struct TsigKey {
    name: Name,
    algorithm: TsigAlgorithm,
    secret: Vec<u8>,
}

impl fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TsigKey({} {:?}, secret hidden)",
            self.name, self.algorithm
        )
    }
}

impl TsigKey {
    /// The key's name.
    pub fn name(&self) -> String {
        self.name.to_ascii().trim_end_matches('.').to_string()
    }
}

fn config(key: &str, reason: impl Into<String>) -> DnsError {
    DnsError::Config {
        key: key.into(),
        reason: reason.into(),
    }
}

/// The TSIG algorithm of a name (`hmac-sha256`, `hmac-sha384`, `hmac-sha512`).
pub fn algorithm(name: &str) -> Result<TsigAlgorithm, DnsError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "hmac-sha256" => Ok(TsigAlgorithm::HmacSha256),
        "hmac-sha384" => Ok(TsigAlgorithm::HmacSha384),
        "hmac-sha512" => Ok(TsigAlgorithm::HmacSha512),
        other => Err(config(
            "dns.publish.tsig_algorithm",
            format!(
                "unknown TSIG algorithm {other:?} (known: hmac-sha256, hmac-sha384, hmac-sha512)"
            ),
        )),
    }
}

/// Decode a secret file's contents: the base64 secret alone (surrounding blanks ignored).
pub fn decode_secret(text: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "is not text".to_string())?;
    let t = text.trim();
    if t.is_empty() {
        return Err("is empty".into());
    }
    let bytes = BASE64
        .decode(t.as_bytes())
        .or_else(|_| BASE64_NOPAD.decode(t.as_bytes()))
        .map_err(|e| {
            format!(
                "does not hold a base64 TSIG secret (at byte {}: {}); it must hold the secret alone, \
                 as in the `secret:` of a knot.conf key",
                e.position, e.kind
            )
        })?;
    if bytes.is_empty() {
        return Err("is empty".into());
    }
    Ok(bytes)
}

/// Load a TSIG key: name, algorithm, and the secret from `secret_file` in `root`.
pub fn load_key(
    root: &Root,
    name: &str,
    algorithm_name: &str,
    secret_file: &str,
) -> Result<TsigKey, DnsError> {
    let algorithm = algorithm(algorithm_name)?;
    let name = Name::from_ascii(name.trim())
        .ok()
        .filter(|_| !name.trim().is_empty())
        .ok_or_else(|| {
            config(
                "dns.publish.tsig_name",
                format!("{name:?} is not a key name"),
            )
        })?;
    let data = root
        .read(secret_file)
        .map_err(|e| config(SECRET_KEY, format!("{secret_file}: {e}")))?
        .ok_or_else(|| config(SECRET_KEY, format!("{secret_file} does not exist")))?;
    let secret = decode_secret(&data)
        .map_err(|reason| config(SECRET_KEY, format!("{secret_file} {reason}")))?;
    Ok(TsigKey {
        name,
        algorithm,
        secret,
    })
}

/// Warn when the secret file can be read by others than its owner. Called once where a
/// key is first loaded (when a module is built, or by a command), not at each load.
pub fn warn_if_readable(root: &Root, secret_file: &str) {
    if let Ok(Some(m)) = root.meta(secret_file) {
        if m.mode & 0o077 != 0 {
            tracing::warn!(
                "{SECRET_KEY}: {secret_file} can be read by others (mode {:04o}); make it 0600",
                m.mode
            );
        }
    }
}

/// The units `publish_records` would replace: ours (`publish: dns`) that differ.
pub fn to_replace(compared: &[Compared]) -> Vec<&Compared> {
    compared
        .iter()
        .filter(|c| c.unit.publish == Publish::Dns && c.verdict != Verdict::Ok)
        .collect()
}

/// What the update changes, as `-`/`+` zone lines (no secret is involved).
pub fn describe(changes: &[&Compared]) -> String {
    let mut out = String::new();
    for c in changes {
        for (ttl, d) in &c.found {
            let line = format!("{} {ttl} IN {} {d}", c.unit.name, c.unit.rtype.as_str());
            out.push_str(&format!("-{line}\n"));
        }
        for (ttl, d) in &c.unit.wanted {
            let line = format!("{} {ttl} IN {} {d}", c.unit.name, c.unit.rtype.as_str());
            out.push_str(&format!("+{line}\n"));
        }
    }
    out
}

/// The UPDATE for `zone` replacing these units: an untagged unit's whole RRset is
/// deleted, a tagged TXT unit's records one by one, then the wanted records are added.
pub fn update_message(zone: &DName, changes: &[&Compared]) -> Result<Message, DnsError> {
    let mut msg = Message::query();
    msg.metadata.op_code = OpCode::Update;
    msg.metadata.recursion_desired = false;
    let mut z = Query::query(to_name(zone)?, RecordType::SOA);
    z.set_query_class(DNSClass::IN);
    msg.add_zone(z);
    for c in changes {
        let u = &c.unit;
        if !u.name.is_under(zone) {
            return Err(DnsError::Record {
                record: u.label(),
                reason: format!("is not in zone {zone} (dns.publish.zone)"),
            });
        }
        let name = to_name(&u.name)?;
        if u.tag.is_none() {
            let mut del = Record::update0(name.clone(), 0, to_type(u.rtype));
            del.dns_class = DNSClass::ANY;
            msg.add_update(del);
        } else {
            for (_, d) in &c.found {
                let mut del = Record::from_rdata(name.clone(), 0, to_rdata(d)?);
                del.dns_class = DNSClass::NONE;
                msg.add_update(del);
            }
        }
        for (ttl, d) in &u.wanted {
            msg.add_update(Record::from_rdata(name.clone(), *ttl, to_rdata(d)?));
        }
    }
    Ok(msg)
}

fn hint(rcode: ResponseCode, tsig: Option<u16>, key: &TsigKey, zone: &str) -> String {
    match (u16::from(rcode), tsig) {
        (_, Some(16)) => format!("check {SECRET_KEY}"),
        (_, Some(17)) => format!(
            "the server does not know key {} with this algorithm — check dns.publish.tsig_name and dns.publish.tsig_algorithm",
            key.name()
        ),
        (_, Some(18)) => "the clocks of this host and the server differ by more than 5 minutes".into(),
        (5, _) => format!(
            "the server does not let key {} update zone {zone} — check its ACL and dns.publish.zone",
            key.name()
        ),
        (9, _) => format!("the server is not authoritative for zone {zone} — check dns.publish.zone"),
        (10, _) => format!("a record is outside zone {zone} — check dns.publish.zone"),
        _ => "see the server's log".into(),
    }
}

fn tsig_error_name(code: u16) -> String {
    match code {
        16 => "BADSIG".into(),
        17 => "BADKEY".into(),
        18 => "BADTIME".into(),
        22 => "BADTRUNC".into(),
        n => format!("error {n}"),
    }
}

/// Sign `msg` with `key`, send it to `server` over TCP, and check the answer.
pub fn send(
    c: Client,
    server: IpAddr,
    zone: &DName,
    mut msg: Message,
    key: &TsigKey,
) -> Result<(), DnsError> {
    let bad = |reason: String| DnsError::Protocol {
        server: server.to_string(),
        reason,
    };
    let signer = TSigner::new(
        key.secret.clone(),
        key.algorithm.clone(),
        key.name.clone(),
        FUDGE,
    )
    .map_err(|e| bad(format!("cannot sign: {e}")))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| bad(format!("clock before 1970: {e}")))?
        .as_secs();
    let verifier = msg
        .finalize(&signer, now)
        .map_err(|e| bad(format!("cannot sign: {e}")))?;
    let bytes = msg
        .to_vec()
        .map_err(|e| bad(format!("cannot encode: {e}")))?;
    let answer_bytes = exchange_tcp(c, server, &bytes)?;
    let answer = Message::from_vec(&answer_bytes).map_err(|e| bad(e.to_string()))?;
    if answer.metadata.id != msg.metadata.id {
        return Err(bad("answer to another message".into()));
    }
    let rcode = answer.metadata.response_code;
    let tsig_error = answer
        .signature()
        .and_then(|s| s.data.error)
        .map(u16::from)
        .filter(|e| *e != 0);
    if rcode != ResponseCode::NoError || tsig_error.is_some() {
        return Err(DnsError::Refused {
            server: server.to_string(),
            rcode: rcode_name(rcode),
            tsig: tsig_error
                .map(|e| format!(" (TSIG {})", tsig_error_name(e)))
                .unwrap_or_default(),
            hint: hint(rcode, tsig_error, key, zone.as_str()),
        });
    }
    match verifier {
        Some(mut v) => v
            .verify(&answer_bytes)
            .map(|_| ())
            .map_err(|e| bad(format!("the answer's TSIG signature does not verify: {e}"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_base64_and_never_echoed() {
        assert_eq!(decode_secret(b"  c2VjcmV0\n").unwrap(), b"secret");
        assert_eq!(decode_secret(b"c2VjcmV0MQ").unwrap(), b"secret1");
        let e = decode_secret(b"not base64 at all!").unwrap_err();
        assert!(e.contains("base64"), "{e}");
        assert!(!e.contains("not base64 at all"), "{e}");
        assert_eq!(decode_secret(b"\n").unwrap_err(), "is empty");
        let e = algorithm("hmac-md5").unwrap_err().to_string();
        assert!(e.starts_with("dns.publish.tsig_algorithm:"), "{e}");
    }

    #[test]
    fn the_update_replaces_rrsets_and_only_our_tagged_txt() {
        use crate::dns::compare::{Compared, Unit, Verdict};
        use crate::dns::decl::{Publish, RType};
        use crate::dns::record::Data;
        use hickory_proto::rr::RData;
        let name = DName::parse("example.test").unwrap();
        let unit = |rtype, tag: Option<&str>, v: &str| Unit {
            name: name.clone(),
            rtype,
            tag: tag.map(str::to_string),
            publish: Publish::Dns,
            wanted: vec![(3600, Data::parse(rtype, v).unwrap())],
        };
        let mx = Compared {
            unit: unit(RType::Mx, None, "10 mail.example.test"),
            found: vec![(300, Data::parse(RType::Mx, "10 old.example.test").unwrap())],
            verdict: Verdict::Different,
        };
        let spf = Compared {
            unit: unit(RType::Txt, Some("v=spf1"), "v=spf1 -all"),
            found: vec![(300, Data::Txt("v=spf1 mx ~all".into()))],
            verdict: Verdict::Different,
        };
        let msg = update_message(&name, &[&mx, &spf]).unwrap();
        let bytes = msg.to_vec().unwrap();
        let back = Message::from_vec(&bytes).unwrap();
        assert_eq!(back.metadata.op_code, OpCode::Update);
        assert_eq!(back.queries[0].query_type(), RecordType::SOA);
        let ups: Vec<_> = back
            .authorities
            .iter()
            .map(|r| (r.dns_class, r.record_type(), r.ttl))
            .collect();
        assert_eq!(
            ups,
            [
                (DNSClass::ANY, RecordType::MX, 0),
                (DNSClass::IN, RecordType::MX, 3600),
                (DNSClass::NONE, RecordType::TXT, 0),
                (DNSClass::IN, RecordType::TXT, 3600),
            ]
        );
        let RData::TXT(gone) = &back.authorities[2].data else {
            panic!("TXT")
        };
        assert_eq!(&*gone.txt_data[0], b"v=spf1 mx ~all");
        let outside = DName::parse("example.net").unwrap();
        let e = update_message(&outside, &[&mx]).unwrap_err().to_string();
        assert!(e.contains("is not in zone example.net."), "{e}");
        let text = describe(&[&mx]);
        assert_eq!(
            text,
            "-example.test. 300 IN MX 10 old.example.test.\n+example.test. 3600 IN MX 10 mail.example.test.\n"
        );
    }
}
