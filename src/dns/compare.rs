//! Wanted records against what a server answers. Records are grouped in units a
//! publication owns: the whole RRset of a name and type, except TXT records starting
//! with a `v=` tag (SPF, DKIM, DMARC...), which own only the TXT records of the same tag
//! at that name, so other TXT records there (site verifications...) are left alone.

use super::decl::{Publish, RType};
use super::name::DName;
use super::query::{query, Answer};
use super::record::{Data, Record};
use super::wire::Client;
use super::DnsError;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Records the server must hold exactly.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Owner name.
    pub name: DName,
    /// Type.
    pub rtype: RType,
    /// For tagged TXT: the tag (`v=spf1`).
    pub tag: Option<String>,
    /// Who publishes it.
    pub publish: Publish,
    /// What we want, with TTLs.
    pub wanted: Vec<(u32, Data)>,
}

impl Unit {
    /// `TYPE name` (and the tag), for messages.
    pub fn label(&self) -> String {
        match &self.tag {
            Some(t) => format!("{} {} ({t})", self.rtype.as_str(), self.name),
            None => format!("{} {}", self.rtype.as_str(), self.name),
        }
    }

    /// Whether a record the server holds belongs to this unit.
    pub fn owns(&self, d: &Data) -> bool {
        d.rtype() == self.rtype && (self.tag.is_none() || d.txt_tag() == self.tag)
    }
}

/// Group the ready records into units, in their order.
pub fn units<'a>(records: impl IntoIterator<Item = &'a Record>) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    for r in records {
        let Some(d) = r.data() else { continue };
        let tag = d.txt_tag();
        match out
            .iter_mut()
            .find(|u| u.name == r.name && u.rtype == r.rtype && u.tag == tag)
        {
            Some(u) => u.wanted.push((r.ttl, d.clone())),
            None => out.push(Unit {
                name: r.name.clone(),
                rtype: r.rtype,
                tag,
                publish: r.publish,
                wanted: vec![(r.ttl, d.clone())],
            }),
        }
    }
    out
}

/// How a unit compares with the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The server holds exactly these records.
    Ok,
    /// The server holds none of them (the name or the RRset does not exist).
    Missing,
    /// The server holds other records (or other TTLs).
    Different,
}

impl Verdict {
    /// `ok`, `missing`, `different`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Missing => "missing",
            Verdict::Different => "different",
        }
    }
}

/// A unit, what the server holds of it, and the verdict.
#[derive(Debug, Clone)]
pub struct Compared {
    /// The unit.
    pub unit: Unit,
    /// The server's records of this unit, with TTLs.
    pub found: Vec<(u32, Data)>,
    /// The verdict.
    pub verdict: Verdict,
}

impl Compared {
    /// The server's records as text (`3600 10 mail.example.test.`).
    pub fn found_text(&self) -> Vec<String> {
        self.found
            .iter()
            .map(|(ttl, d)| format!("{ttl} {d}"))
            .collect()
    }
}

fn sorted(v: &[(u32, Data)], ttl: bool) -> Vec<(u32, Data)> {
    let mut s: Vec<(u32, Data)> = v
        .iter()
        .map(|(t, d)| (if ttl { *t } else { 0 }, d.clone()))
        .collect();
    s.sort();
    s.dedup();
    s
}

/// The verdict for `unit` given the server's answer. TTLs count only when `ttl` is set,
/// the answer is authoritative (a resolver's cached TTLs count down) and the record is
/// ours to publish (the provider picks the TTL of a PTR).
pub fn judge(unit: &Unit, answer: &Answer, ttl: bool) -> Compared {
    let found: Vec<(u32, Data)> = answer
        .records
        .iter()
        .filter(|(_, d)| unit.owns(d))
        .cloned()
        .collect();
    let with_ttl = ttl && answer.authoritative && unit.publish == Publish::Dns;
    let verdict = if found.is_empty() {
        Verdict::Missing
    } else if sorted(&found, with_ttl) == sorted(&unit.wanted, with_ttl) {
        Verdict::Ok
    } else {
        Verdict::Different
    };
    Compared {
        unit: unit.clone(),
        found,
        verdict,
    }
}

/// Compare every unit with what `server` answers (one query per name and type).
pub fn compare(
    c: Client,
    server: IpAddr,
    units: &[Unit],
    ttl: bool,
) -> Result<Vec<Compared>, DnsError> {
    // Each distinct question once, all at once (one thread each): a round trip in all.
    let mut keys: Vec<(DName, RType)> = units.iter().map(|u| (u.name.clone(), u.rtype)).collect();
    keys.sort();
    keys.dedup();
    let mut answers: BTreeMap<(DName, RType), Result<Answer, DnsError>> = std::thread::scope(|s| {
        let running: Vec<_> = keys
            .into_iter()
            .map(|k| s.spawn(move || (query(c, server, &k.0, k.1), k)))
            .collect();
        running
            .into_iter()
            .filter_map(|t| t.join().ok())
            .map(|(a, k)| (k, a))
            .collect()
    });
    let mut out = Vec::new();
    for u in units {
        let key = (u.name.clone(), u.rtype);
        let answer = match answers.get(&key) {
            Some(Ok(a)) => a.clone(),
            Some(Err(_)) => match answers.remove(&key) {
                Some(Err(e)) => return Err(e),
                _ => Answer::default(),
            },
            None => Answer::default(),
        };
        out.push(judge(u, &answer, ttl));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::record::RecordValue;

    fn rec(name: &str, rtype: RType, v: &str) -> Record {
        Record {
            name: DName::parse(name).unwrap(),
            rtype,
            ttl: 3600,
            publish: Publish::Dns,
            value: RecordValue::Ready(Data::parse(rtype, v).unwrap()),
        }
    }

    #[test]
    fn units_are_the_rrsets_of_a_name_and_type() {
        let recs = [
            rec("mail.example.test", RType::A, "192.0.2.10"),
            rec("www.example.test", RType::A, "192.0.2.10"),
            rec("mail.example.test", RType::A, "192.0.2.11"),
            rec("mail.example.test", RType::Aaaa, "2001:db8::10"),
        ];
        let got: Vec<(String, usize)> = units(&recs)
            .iter()
            .map(|u| (u.label(), u.wanted.len()))
            .collect();
        assert_eq!(
            got,
            [
                ("A mail.example.test.".to_string(), 2),
                ("A www.example.test.".to_string(), 1),
                ("AAAA mail.example.test.".to_string(), 1),
            ]
        );
    }

    #[test]
    fn tagged_txt_owns_only_its_tag() {
        let recs = [
            rec("example.test", RType::Txt, "v=spf1 ip4:192.0.2.10 -all"),
            rec("example.test", RType::Mx, "10 mail.example.test"),
        ];
        let us = units(&recs);
        assert_eq!(us.len(), 2);
        assert_eq!(us[0].tag.as_deref(), Some("v=spf1"));
        let answer = Answer {
            records: vec![
                (300, Data::Txt("google-site-verification=abc".into())),
                (3600, Data::Txt("v=spf1 ip4:192.0.2.10 -all".into())),
            ],
            nxdomain: false,
            authoritative: true,
        };
        assert_eq!(judge(&us[0], &answer, true).verdict, Verdict::Ok);
        let other = Answer {
            records: vec![(3600, Data::Txt("v=spf1 mx ~all".into()))],
            ..answer.clone()
        };
        let c = judge(&us[0], &other, true);
        assert_eq!(c.verdict, Verdict::Different);
        assert_eq!(c.found_text(), ["3600 \"v=spf1 mx ~all\""]);
        let short_ttl = Answer {
            records: vec![(300, Data::Txt("v=spf1 ip4:192.0.2.10 -all".into()))],
            ..answer.clone()
        };
        assert_eq!(judge(&us[0], &short_ttl, true).verdict, Verdict::Different);
        assert_eq!(judge(&us[0], &short_ttl, false).verdict, Verdict::Ok);
        assert_eq!(judge(&us[1], &answer, true).verdict, Verdict::Missing);
    }

    /// A fake authoritative server holding `held`, counting the questions it gets.
    fn server(
        held: Vec<Record>,
    ) -> (
        crate::host::fake::NetHandler,
        std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    ) {
        use crate::dns::wire::{to_name, to_rdata, to_type};
        use hickory_proto::op::{Message, OpCode};
        use hickory_proto::rr::Record as Rr;
        let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = asked.clone();
        let handler: crate::host::fake::NetHandler = Box::new(move |_, _, bytes: &[u8]| {
            let q = Message::from_vec(bytes).map_err(std::io::Error::other)?;
            let question = q.queries[0].clone();
            log.lock().unwrap().push(format!(
                "{} {}",
                question.name.to_ascii(),
                question.query_type
            ));
            let mut a = Message::response(q.metadata.id, OpCode::Query);
            a.metadata.authoritative = true;
            a.add_query(question.clone());
            for r in &held {
                let d = r.data().unwrap();
                let name = to_name(&r.name).unwrap();
                if name == question.name && to_type(r.rtype) == question.query_type {
                    a.add_answer(Rr::from_rdata(name, r.ttl, to_rdata(d).unwrap()));
                }
            }
            a.to_vec().map_err(std::io::Error::other)
        });
        (handler, asked)
    }

    #[test]
    fn compare_judges_every_unit_in_order_asking_once_per_name_and_type() {
        let dir = tempfile::tempdir().unwrap();
        let (host, fakes) = crate::host::fake::host(dir.path());
        let (handler, asked) = server(vec![
            rec("example.test", RType::Mx, "10 mail.example.test"),
            rec("example.test", RType::Txt, "v=spf1 mx -all"),
            rec("example.test", RType::Txt, "site-verification=abc"),
        ]);
        *fakes.net.handler.lock().unwrap() = Some(std::sync::Arc::new(handler));
        let wanted = [
            rec("example.test", RType::Mx, "10 mail.example.test"),
            rec("example.test", RType::Txt, "v=spf1 ip4:192.0.2.10 -all"),
            rec("example.test", RType::Txt, "v=DMARC1; p=none"),
            rec("mail.example.test", RType::A, "192.0.2.10"),
        ];
        let server_ip: IpAddr = "192.0.2.53".parse().unwrap();
        let got = compare(
            Client::new(host.net.as_ref()),
            server_ip,
            &units(&wanted),
            true,
        )
        .unwrap();
        let verdicts: Vec<(String, &str)> = got
            .iter()
            .map(|c| (c.unit.label(), c.verdict.as_str()))
            .collect();
        assert_eq!(
            verdicts,
            [
                ("MX example.test.".to_string(), "ok"),
                ("TXT example.test. (v=spf1)".to_string(), "different"),
                ("TXT example.test. (v=dmarc1)".to_string(), "missing"),
                ("A mail.example.test.".to_string(), "missing"),
            ]
        );
        assert_eq!(got[1].found_text(), ["3600 \"v=spf1 mx -all\""]);
        // Asked at once: in any order, each question once.
        let mut asked = asked.lock().unwrap().clone();
        asked.sort();
        assert_eq!(
            asked,
            [
                "example.test. MX",
                "example.test. TXT",
                "mail.example.test. A"
            ]
        );
    }
}
