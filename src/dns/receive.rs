//! A receiving MTA's verdict on a message, as `mail-auth` gives it through our own
//! client ([`super::mailauth`]): its DKIM signatures verified against the keys the DNS
//! serves, SPF evaluated for each address it may come from (MAIL FROM identity, with
//! the HELO name the sender gives), and DMARC alignment and policy from those results.
//! The message is judged as it would arrive: lines end in CRLF.

use super::lookup::Lookup;
use super::mailauth::{authenticator, block_on, not_found, resolver_error, SeamCache};
use super::query::is_refusal;
use super::spf::word;
use super::spf_exists::SpfWho;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::dmarc::{Dmarc, Policy};
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, DkimResult, DmarcResult, Parameters, ResolverCache, SpfOutput, Txt,
};
use std::borrow::Borrow;
use std::hash::Hash;
use std::marker::PhantomData;
use std::net::IpAddr;

/// One method's result: RFC 8601's word (`pass`, `fail`, `temperror`...) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror` or `permerror`.
    pub result: &'static str,
    /// What mail-auth said besides the word (empty when nothing).
    pub why: String,
    /// The key record was not found (DKIM): a record not visible yet.
    pub missing: bool,
}

impl Outcome {
    fn new(result: &'static str, why: impl Into<String>) -> Self {
        Outcome {
            result,
            why: why.into(),
            missing: false,
        }
    }
}

/// What a receiver says of a message arriving from one address.
#[derive(Debug, Clone)]
pub struct Judgement {
    /// The address the message was judged as coming from.
    pub ip: IpAddr,
    /// The best DKIM result among the signatures (`none`: unsigned).
    pub dkim: Outcome,
    /// SPF for the MAIL FROM identity.
    pub spf: Outcome,
    /// DMARC for the From: domain.
    pub dmarc: Outcome,
}

/// The TXT cache of [`SeamCache`], parsing the strings as `T` (a DKIM key, a DMARC
/// record) the way mail-auth's own lookup does: the first string that parses; none at
/// the name is "not found".
pub struct TxtAs<'c, 'l, 'a, T> {
    seam: &'c SeamCache<'l, 'a>,
    refused_is_absent: bool,
    kind: PhantomData<fn() -> T>,
}

impl<'c, 'l, 'a, T> TxtAs<'c, 'l, 'a, T> {
    /// Parse the TXT answers of `seam` as `T`.
    pub fn new(seam: &'c SeamCache<'l, 'a>) -> Self {
        TxtAs {
            seam,
            refused_is_absent: false,
            kind: PhantomData,
        }
    }

    /// A name the server refuses to answer has no record. For DMARC's walk up the tree
    /// (`_dmarc.test` after `_dmarc.example.test`): the publication server serves the
    /// domain's zone only and refuses names above it, which hold no record of ours.
    pub fn refused_is_absent(mut self) -> Self {
        self.refused_is_absent = true;
        self
    }
}

impl<T: TxtRecordParser + Into<Txt>> ResolverCache<Box<str>, Txt> for TxtAs<'_, '_, '_, T> {
    fn get<Q>(&self, q: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        Some(match self.seam.txt_strings(q) {
            Err(Some(e)) if self.refused_is_absent && is_refusal(&e) => Txt::Error(not_found()),
            Err(e) => Txt::Error(resolver_error(e)),
            Ok(txt) if txt.is_empty() => Txt::Error(not_found()),
            Ok(txt) => {
                let mut parsed = Err(mail_auth::Error::Dns(
                    mail_auth::DnsError::InvalidRecordType,
                ));
                for t in &txt {
                    parsed = T::parse(t.as_bytes());
                    if parsed.is_ok() {
                        break;
                    }
                }
                match parsed {
                    Ok(v) => v.into(),
                    Err(e) => Txt::Error(e),
                }
            }
        })
    }
    fn remove<Q>(&self, _: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }
    fn insert(&self, _: Box<str>, _: Txt, _: std::time::Instant) {}
}

/// A message with every line ending in CRLF, as SMTP carries it (a Maildir copy has
/// bare LFs).
pub fn crlf(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len() + msg.len() / 32);
    for l in msg.split_inclusive('\n') {
        let l = l.strip_suffix('\n').unwrap_or(l);
        let l = l.strip_suffix('\r').unwrap_or(l);
        out.push_str(l);
        out.push_str("\r\n");
    }
    out
}

fn dkim_outcome(r: &DkimResult) -> Outcome {
    match r {
        DkimResult::Pass => Outcome::new("pass", ""),
        DkimResult::Neutral(e) => Outcome::new("neutral", e.to_string()),
        DkimResult::Fail(e) => Outcome::new("fail", e.to_string()),
        DkimResult::TempError(e) => Outcome::new("temperror", e.to_string()),
        DkimResult::PermError(e) => Outcome {
            missing: matches!(
                e,
                mail_auth::Error::Dns(mail_auth::DnsError::RecordNotFound(_))
            ),
            ..Outcome::new("permerror", e.to_string())
        },
        DkimResult::None => Outcome::new("none", "no DKIM-Signature"),
    }
}

fn dmarc_outcome(r: &DmarcResult, policy: Policy) -> Outcome {
    let p = match policy {
        Policy::None => "p=none",
        Policy::Quarantine => "p=quarantine",
        Policy::Reject => "p=reject",
        Policy::Unspecified => "",
    };
    match r {
        DmarcResult::Pass => Outcome::new("pass", p),
        DmarcResult::Fail(e) => Outcome::new("fail", format!("{p} {e}").trim().to_string()),
        DmarcResult::TempError(e) => Outcome::new("temperror", e.to_string()),
        DmarcResult::PermError(e) => Outcome::new("permerror", e.to_string()),
        DmarcResult::None => Outcome::new("none", "no DMARC record"),
    }
}

/// Judge `message` (RFC 5322, any line ending) as a receiver would when it arrives
/// from each of `ips`, with HELO `helo` and envelope sender `mail_from`, resolving
/// through `look`; an error when the message does not parse or mail-auth cannot start.
pub fn judge(
    look: &Lookup,
    message: &str,
    ips: &[IpAddr],
    helo: &str,
    mail_from: &str,
) -> Result<Vec<Judgement>, String> {
    let auth = authenticator()?;
    let raw = crlf(message);
    let msg = AuthenticatedMessage::parse(raw.as_bytes())
        .ok_or_else(|| "the message does not parse as RFC 5322".to_string())?;
    let seam = SeamCache::new(look, ips.to_vec());
    let keys = TxtAs::<DomainKey>::new(&seam);
    let dkim = block_on(auth.verify_dkim(Parameters::new(&msg).with_txt_cache(&keys)));
    let best = dkim
        .iter()
        .find(|o| *o.result() == DkimResult::Pass)
        .or(dkim.first());
    let dkim_word = match best {
        Some(o) => {
            let mut w = dkim_outcome(o.result());
            if let Some(s) = o.signature() {
                w.why = format!("d={} s={} {}", s.d, s.s, w.why).trim().to_string();
            }
            w
        }
        None => dkim_outcome(&DkimResult::None),
    };
    let from_domain = mail_from.rsplit_once('@').map_or("", |(_, d)| d);
    let dmarc_txt = TxtAs::<Dmarc>::new(&seam).refused_is_absent();
    let mut out = Vec::new();
    for ip in ips {
        let who = SpfWho {
            ip: *ip,
            sender: mail_from.to_string(),
            helo: helo.to_string(),
        };
        let spf_seam = SeamCache::for_spf(look, who);
        let spf: SpfOutput = block_on(
            auth.verify_spf(
                Parameters::new(SpfParameters::verify_mail_from(*ip, helo, helo, mail_from))
                    .with_txt_cache(&spf_seam)
                    .with_mx_cache(&spf_seam)
                    .with_ptr_cache(&spf_seam)
                    .with_ipv4_cache(&spf_seam)
                    .with_ipv6_cache(&spf_seam),
            ),
        );
        let dmarc = block_on(
            auth.verify_dmarc(
                Parameters::new(DmarcParameters {
                    message: &msg,
                    dkim_output: &dkim,
                    dkim2_output: None,
                    rfc5321_mail_from_domain: from_domain,
                    spf_output: &spf,
                })
                .with_txt_cache(&dmarc_txt)
                .with_ipv4_cache(&seam),
            ),
        );
        out.push(Judgement {
            ip: *ip,
            dkim: dkim_word.clone(),
            spf: Outcome::new(word(&spf.result()), format!("smtp.mailfrom={from_domain}")),
            dmarc: dmarc_outcome(&dmarc.result(), dmarc.policy()),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::crlf;

    #[test]
    fn every_line_ends_in_crlf_once() {
        assert_eq!(crlf("a\nb\r\nc"), "a\r\nb\r\nc\r\n");
        assert_eq!(crlf("a\n\nbody\n"), "a\r\n\r\nbody\r\n");
        assert_eq!(crlf(""), "");
    }
}
