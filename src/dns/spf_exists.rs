//! `exists:` settled before mail-auth evaluates a record. mail-auth 0.13's cache
//! interface cannot say "this name has no address" (an empty answer from a cache counts
//! as present), so every `exists:` would match. Instead each record handed to mail-auth
//! has its `exists:` terms decided here: the target is expanded with the evaluation's
//! own values (RFC 7208 section 7: `%{i}`, `%{s}`, `%{d}`, `%{p}`...), its A records
//! asked through our [`Lookup`] (section 5.7: an A query, whatever the client's family),
//! and the term becomes `all` with the same qualifier when there is one, or is dropped
//! when there is none; both are what the term would do at that place.

use super::decl::RType;
use super::lookup::Lookup;
use super::name::DName;
use super::record::Data;
use mail_auth::spf::{Directive, Macro, Mechanism, Spf, Variables};
use std::net::IpAddr;

/// The include that takes the place of an `exists:` beyond the tenth of one record: the
/// cache answers it with a parse error, so mail-auth gives `permerror` if evaluation
/// gets that far (a receiver would have passed RFC 7208's ten lookups by then), and no
/// record makes us ask more than ten names.
pub const OVER_LIMIT: &str = "over-the-lookup-limit.firstboot.invalid";

/// Who an SPF evaluation is for: the values `exists:` targets expand from.
#[derive(Debug, Clone)]
pub struct SpfWho {
    /// The client address (`%{i}`, `%{c}`, `%{v}`).
    pub ip: IpAddr,
    /// The envelope sender, `local@domain` (`%{s}`, `%{l}`, `%{o}`).
    pub sender: String,
    /// The HELO name (`%{h}`, and `%{r}`, the receiving host).
    pub helo: String,
}

/// The name an `exists:` target expands to for `who`, in the record of `domain`, with
/// `validated` as `%{p}`.
pub fn target(m: &Macro, who: &SpfWho, domain: &str, validated: &str) -> String {
    let mut vars = Variables::new();
    vars.set_ip(&who.ip);
    vars.set_sender(who.sender.as_bytes().to_vec());
    vars.set_domain(domain.as_bytes().to_vec());
    vars.set_helo_domain(who.helo.as_bytes().to_vec());
    vars.set_host_domain(who.helo.as_bytes().to_vec());
    vars.set_validated_domain(validated.as_bytes().to_vec());
    m.eval(&vars, domain, false).into_owned()
}

/// `%{p}`, the validated name of `ip` (RFC 7208 sections 5.5 and 7.3): of its PTR names
/// (the first 10), those whose own addresses include `ip`; the one that is `domain` or
/// under it, else the first, else `unknown`.
pub fn validated(look: &Lookup, ip: IpAddr, domain: &str) -> Result<String, String> {
    let mut valid = Vec::new();
    for name in look.ptr(ip)?.into_iter().take(10) {
        if look.addrs(&name)?.contains(&ip) {
            valid.push(name);
        }
    }
    let under = DName::parse(domain)
        .ok()
        .and_then(|d| valid.iter().find(|n| n.is_under(&d)));
    Ok(under
        .or(valid.first())
        .map_or_else(|| "unknown".to_string(), |n| n.as_str().to_string()))
}

/// Whether `name` has an A record, as an `exists:` asks it. A name that is not a
/// domain name has none; a server that cannot be asked is the error.
fn has_a(look: &Lookup, name: &str) -> Result<bool, String> {
    let Ok(n) = DName::parse(name.trim_end_matches('.')) else {
        return Ok(false);
    };
    let got = look.get(&n, RType::A)?;
    Ok(got.records.iter().any(|(_, d)| matches!(d, Data::A(_))))
}

/// `spf` (the record of `domain`) with each `exists:` decided for `who`: `all` with its
/// qualifier where the target has an A record, gone where it has none. `None` when the
/// record has no `exists:` to settle (use it as it is).
pub fn settle(look: &Lookup, who: &SpfWho, domain: &str, spf: &Spf) -> Result<Option<Spf>, String> {
    let domain = domain.trim_end_matches('.');
    let mut changed = false;
    // `%{p}` costs PTR and address lookups: made once, and only for a target using it.
    let mut p: Option<String> = None;
    let mut kept: Vec<Directive> = Vec::with_capacity(spf.directives.len());
    let mut settled = 0;
    for d in spf.directives.iter() {
        match &d.mechanism {
            Mechanism::Exists { .. } if settled == super::spf::MAX_LOOKUPS => {
                kept.push(Directive {
                    qualifier: d.qualifier.clone(),
                    mechanism: Mechanism::Include {
                        macro_string: Macro::Literal(OVER_LIMIT.as_bytes().into()),
                    },
                });
            }
            Mechanism::Exists { macro_string } => {
                changed = true;
                settled += 1;
                if macro_string.needs_ptr() && p.is_none() {
                    p = Some(validated(look, who.ip, domain)?);
                }
                let name = target(macro_string, who, domain, p.as_deref().unwrap_or(""));
                if has_a(look, &name)? {
                    kept.push(Directive {
                        qualifier: d.qualifier.clone(),
                        mechanism: Mechanism::All,
                    });
                }
            }
            _ => kept.push(d.clone()),
        }
    }
    Ok(changed.then(|| Spf {
        directives: kept.into(),
        ..spf.clone()
    }))
}
