//! A domain's SPF as a receiver judges it: the records at the name, the DNS lookups
//! its evaluation may take (RFC 7208 section 4.6.4: at most 10), and the result for
//! given client addresses, evaluated by `mail-auth` (`check_host`) through our own
//! client ([`super::mailauth`]). The include tree is fetched level by level, each level's
//! questions at once (with what evaluation may need from the level before), so the
//! records are fetched in as many round trips as the tree is deep.

use super::decl::RType;
use super::lookup::Lookup;
use super::mailauth::{authenticator, block_on, spf_of, SeamCache};
use super::name::DName;
use super::spf_exists::SpfWho;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::spf::{Macro, Mechanism, Spf};
use mail_auth::{Parameters, SpfResult, Txt};
use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

/// RFC 7208's limit on terms that cause DNS lookups.
pub const MAX_LOOKUPS: usize = 10;

/// What walking a record's include tree found.
#[derive(Debug, Default)]
pub struct Tree {
    /// Terms that cause a DNS lookup (include, a, mx, ptr, exists, redirect).
    pub lookups: usize,
    /// Includes or redirects whose target has no usable record.
    pub broken: Vec<String>,
}

fn literal(m: &Macro, current: &DName) -> Option<DName> {
    match m {
        Macro::None => Some(current.clone()),
        Macro::Literal(b) => DName::parse(String::from_utf8_lossy(b).trim_end_matches('.')).ok(),
        _ => None,
    }
}

/// The parsed SPF record of `domain` (mail-auth's parser), from its TXT strings.
pub fn parse(txt: &[String]) -> Result<Arc<Spf>, String> {
    match spf_of(txt) {
        Txt::Spf(s) => Ok(s),
        Txt::Error(e) => Err(e.to_string()),
        _ => Err("not an SPF record".into()),
    }
}

/// Walk the include and redirect tree of `root` (already parsed), counting lookups
/// and fetching, a level at a time, what evaluation will ask.
pub fn walk(look: &Lookup, domain: &DName, root: &Spf) -> Result<Tree, String> {
    let mut tree = Tree::default();
    let mut seen = HashSet::new();
    let mut level: Vec<(DName, Option<Arc<Spf>>)> = vec![(domain.clone(), None)];
    let mut root = Some(root);
    // What evaluation may ask (a:, mx: targets, MX hosts) rides along with the next
    // level's TXT questions, never adding a round trip of its own: what is left after
    // the last level is asked by the evaluation only if it gets that far.
    let (mut carry, mut mx_names): (Vec<(DName, RType)>, Vec<DName>) = (Vec::new(), Vec::new());
    for _ in 0..=MAX_LOOKUPS {
        if level.is_empty() {
            break;
        }
        let mut ask: Vec<_> = level.iter().map(|(d, _)| (d.clone(), RType::Txt)).collect();
        ask.append(&mut carry);
        look.prefetch(&ask);
        // MX answers of the previous level are in: their hosts go with the next batch.
        for n in mx_names.drain(..) {
            for (_, h) in look.mx(&n).unwrap_or_default() {
                carry.push((h.clone(), RType::A));
                carry.push((h, RType::Aaaa));
            }
        }
        let mut next = Vec::new();
        for (d, _) in level {
            let owned;
            let rec = match root.take() {
                Some(r) => r,
                None => match parse(&look.txt(&d)?) {
                    Ok(r) => {
                        owned = r;
                        owned.as_ref()
                    }
                    Err(e) => {
                        tree.broken.push(format!("{d}: {e}"));
                        continue;
                    }
                },
            };
            for dir in rec.directives.iter() {
                match &dir.mechanism {
                    Mechanism::Include { macro_string } => {
                        tree.lookups += 1;
                        if let Some(n) = literal(macro_string, &d) {
                            if seen.insert(n.fqdn()) {
                                next.push((n, None));
                            }
                        }
                    }
                    Mechanism::A { macro_string, .. } => {
                        tree.lookups += 1;
                        if let Some(n) = literal(macro_string, &d) {
                            carry.push((n.clone(), RType::A));
                            carry.push((n, RType::Aaaa));
                        }
                    }
                    Mechanism::Mx { macro_string, .. } => {
                        tree.lookups += 1;
                        if let Some(n) = literal(macro_string, &d) {
                            mx_names.push(n.clone());
                            carry.push((n, RType::Mx));
                        }
                    }
                    Mechanism::Ptr { .. } => tree.lookups += 1,
                    Mechanism::Exists { macro_string } => {
                        // Settled for each evaluation ([`super::spf_exists`]).
                        tree.lookups += 1;
                        // A target without macros is known now: ask it with the next level.
                        if matches!(macro_string, Macro::Literal(_)) {
                            carry.extend(literal(macro_string, &d).map(|n| (n, RType::A)));
                        }
                    }
                    _ => {}
                }
            }
            if let Some(r) = &rec.redirect {
                tree.lookups += 1;
                if let Some(n) = literal(r, &d) {
                    if seen.insert(n.fqdn()) {
                        next.push((n, None));
                    }
                }
            }
        }
        level = next;
    }
    Ok(tree)
}

/// RFC 7208's name of a result (`pass`, `softfail`...).
pub fn word(r: &SpfResult) -> &'static str {
    match r {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

/// The SPF result for mail from `postmaster@domain` sent by each of `addresses` with
/// HELO `helo`, as mail-auth's `check_host` gives it (evaluations run at once). A
/// server that could not be asked is an error, not a result.
pub fn evaluate(
    look: &Lookup,
    domain: &str,
    helo: &str,
    addresses: &[IpAddr],
) -> Result<Vec<(IpAddr, SpfResult)>, String> {
    let sender = format!("postmaster@{domain}");
    each(look, addresses, &sender, helo, |ip| {
        SpfParameters::new(ip, domain, helo, helo, &sender)
    })
}

/// The SPF result of the HELO identity (RFC 7208 section 2.3: the record at the HELO
/// name itself) for each of `addresses`, as a receiver checking HELO gets it.
pub fn evaluate_helo(
    look: &Lookup,
    helo: &str,
    addresses: &[IpAddr],
) -> Result<Vec<(IpAddr, SpfResult)>, String> {
    let sender = format!("postmaster@{helo}");
    each(look, addresses, &sender, helo, |ip| {
        SpfParameters::verify_ehlo(ip, helo, helo)
    })
}

/// `check_host` for each address with the parameters `params` gives, at once, for
/// mail from `sender` with HELO `helo` (what `exists:` targets expand from).
fn each<'x>(
    look: &Lookup,
    addresses: &[IpAddr],
    sender: &str,
    helo: &str,
    params: impl Fn(IpAddr) -> SpfParameters<'x> + Sync,
) -> Result<Vec<(IpAddr, SpfResult)>, String> {
    let auth = authenticator()?;
    let outcomes: Vec<Result<(IpAddr, SpfResult), String>> = std::thread::scope(|s| {
        let running: Vec<_> = addresses
            .iter()
            .map(|ip| {
                let (auth, params) = (&auth, &params);
                let who = SpfWho {
                    ip: *ip,
                    sender: sender.to_string(),
                    helo: helo.to_string(),
                };
                s.spawn(move || {
                    let cache = SeamCache::for_spf(look, who);
                    let p = Parameters::new(params(*ip))
                        .with_txt_cache(&cache)
                        .with_mx_cache(&cache)
                        .with_ptr_cache(&cache)
                        .with_ipv4_cache(&cache)
                        .with_ipv6_cache(&cache);
                    let result = block_on(auth.check_host(p)).result();
                    let errors = cache.errors.lock().unwrap_or_else(|e| e.into_inner());
                    match errors.first() {
                        Some(e) => Err(e.clone()),
                        None => Ok((*ip, result)),
                    }
                })
            })
            .collect();
        running
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err("an SPF evaluation panicked".to_string()))
            })
            .collect()
    });
    outcomes.into_iter().collect()
}
