//! What the `records` check concludes from a server's answers: `pass` (visible and
//! right), `pending` (not visible yet, not computable yet, waiting for the provider) or
//! `fail` (visible but wrong). A verdict of this library; `src/checks/records.rs` asks
//! the server and reports it.

use super::compare::{Compared, Verdict};
use super::decl::Publish;
use super::record::{Record, RecordValue};

/// How a module's records stand at a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Every record is visible and right.
    Pass,
    /// Some are not visible yet, not computable yet, or wait for the provider.
    Pending,
    /// A record of ours is visible but wrong.
    Fail,
}

fn want(c: &Compared) -> String {
    c.unit
        .wanted
        .iter()
        .map(|(_, d)| d.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The standing and detail from the comparisons and the records (pending ones
/// included): our records different on the server fail; missing ones, records not
/// computable yet and provider records that are not right yet are pending.
pub fn judge(compared: &[Compared], records: &[Record]) -> (Standing, String) {
    let (mut ok, mut wrong, mut pending) = (0, Vec::new(), Vec::new());
    for c in compared {
        match (&c.verdict, c.unit.publish) {
            (Verdict::Ok, _) => ok += 1,
            (Verdict::Missing, Publish::Dns) => {
                pending.push(format!("{}: not visible yet", c.unit.label()))
            }
            (Verdict::Different, Publish::Dns) => wrong.push(format!(
                "{}: server has {}, want {}",
                c.unit.label(),
                c.found_text().join(", "),
                want(c)
            )),
            (v, Publish::Provider) => pending.push(format!(
                "{}: {} — ask your DNS provider for {}",
                c.unit.label(),
                if *v == Verdict::Missing {
                    "not set".to_string()
                } else {
                    format!("is {}", c.found_text().join(", "))
                },
                want(c)
            )),
        }
    }
    for r in records {
        if let RecordValue::Pending(why) = &r.value {
            pending.push(format!("{}: {why}", r.label()));
        }
    }
    let status = if !wrong.is_empty() {
        Standing::Fail
    } else if !pending.is_empty() {
        Standing::Pending
    } else {
        Standing::Pass
    };
    let mut detail = vec![format!("{ok} of {} ok", compared.len())];
    if !wrong.is_empty() {
        detail.push(format!("wrong: {}", wrong.join("; ")));
    }
    if !pending.is_empty() {
        detail.push(format!("pending: {}", pending.join("; ")));
    }
    (status, detail.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::compare::{judge as compare_one, Unit};
    use crate::dns::query::Answer;
    use crate::dns::{DName, Data, RType};

    fn unit(name: &str, rtype: RType, v: &str, publish: Publish) -> Unit {
        Unit {
            name: DName::parse(name).unwrap(),
            rtype,
            tag: None,
            publish,
            wanted: vec![(3600, Data::parse(rtype, v).unwrap())],
        }
    }

    fn answer(rtype: RType, v: &str) -> Answer {
        Answer {
            records: vec![(60, Data::parse(rtype, v).unwrap())],
            nxdomain: false,
            authoritative: false,
        }
    }

    #[test]
    fn wrong_fails_missing_and_provider_records_are_pending() {
        let mx = unit(
            "example.test",
            RType::Mx,
            "10 mail.example.test",
            Publish::Dns,
        );
        let ptr = unit(
            "10.2.0.192.in-addr.arpa",
            RType::Ptr,
            "mail.example.test",
            Publish::Provider,
        );
        let ok = compare_one(&mx, &answer(RType::Mx, "10 mail.example.test"), false);
        let missing = compare_one(&mx, &Answer::default(), false);
        let wrong = compare_one(&mx, &answer(RType::Mx, "10 other.test"), false);
        let ptr_wrong = compare_one(&ptr, &answer(RType::Ptr, "vm-1.provider.test"), false);

        assert_eq!(judge(std::slice::from_ref(&ok), &[]).0, Standing::Pass);
        let (s, d) = judge(&[ok.clone(), missing], &[]);
        assert_eq!(s, Standing::Pending);
        assert!(d.contains("MX example.test.: not visible yet"), "{d}");
        let (s, d) = judge(&[ok.clone(), ptr_wrong], &[]);
        assert_eq!(
            s,
            Standing::Pending,
            "the provider's PTR never fails the module"
        );
        assert!(
            d.contains("is 60 vm-1.provider.test. — ask your DNS provider for mail.example.test."),
            "{d}"
        );
        let (s, d) = judge(&[wrong], &[]);
        assert_eq!(s, Standing::Fail);
        assert!(
            d.contains("server has 60 10 other.test., want 10 mail.example.test."),
            "{d}"
        );
        let tlsa = Record {
            name: DName::parse("_25._tcp.mail.example.test").unwrap(),
            rtype: RType::Tlsa,
            ttl: 3600,
            publish: Publish::Dns,
            value: RecordValue::Pending("certificate not issued yet (/c)".into()),
        };
        let (s, d) = judge(&[ok], &[tlsa]);
        assert_eq!(s, Standing::Pending);
        assert!(
            d.contains("TLSA _25._tcp.mail.example.test.: certificate not issued yet"),
            "{d}"
        );
    }
}
