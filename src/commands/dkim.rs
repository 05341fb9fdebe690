//! `firstboot dkim rotate` and `firstboot dkim status`: a DKIM key rotation in stages,
//! one stage per call, each recorded so a re-run continues where the last one stopped.
//!
//! 1. start: a new selector's key is made and its record published beside the signing
//!    one (`mail.dkim.next`); signing does not change.
//! 2. switch, once the new record resolves: the new selector signs, the old one stays
//!    published (`mail.dkim.retired`) so mail signed with it still verifies.
//! 3. withdraw, `mail.dkim.retire_after` later: the old record is deleted from the zone
//!    (by the same TSIG update 8-dns_config uses, or by hand when it does not publish).
//!
//! Each stage changes the inputs firstboot itself keeps (`src/overrides.rs`) and runs
//! 9-mail_config again, so keys, records, checks, backup and rollback are the module's
//! own; a stage whose run fails puts the overrides back. A run never makes a key by
//! itself for a selector that already has one.

use crate::cli::{Cli, Selection};
use crate::dns::compare::{compare, Unit, Verdict};
use crate::dns::publish::{load_key, send, update_message, warn_if_readable};
use crate::dns::query::system_server;
use crate::dns::wire::Client;
use crate::dns::{DName, Publish, RType};
use crate::engine::{prepare, Prepared};
use crate::error::{Error, Result};
use crate::host::Root;
use crate::logging::Logs;
use crate::overrides::Overrides;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::net::IpAddr;

/// Where a rotation stands, beside the overrides: when signing moved on.
const ROTATION_FILE: &str = "/var/lib/firstboot/dkim-rotation.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Rotation {
    /// Unix time signing moved to the new selector.
    switched_at: Option<u64>,
}

/// The DKIM inputs as resolved now.
struct Dkim {
    domain: String,
    selector: String,
    next: Option<String>,
    retired: Option<String>,
    retire_after: u64,
}

fn dkim(p: &Prepared) -> Result<Dkim> {
    let v = &p.inputs.values;
    let d = &v["mail"]["dkim"];
    let s = |x: &Value| x.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let retire_after = s(&d["retire_after"]).unwrap_or_else(|| "7d".into());
    Ok(Dkim {
        domain: s(&v["domain"]).unwrap_or_default(),
        selector: s(&d["selector"]).unwrap_or_else(|| "default".into()),
        next: s(&d["next"]),
        retired: s(&d["retired"]),
        retire_after: crate::inputs::kinds::duration_secs(&retire_after).map_err(Error::Usage)?,
    })
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn load_rotation(root: &Root) -> Result<Rotation> {
    Ok(match root.read(ROTATION_FILE)? {
        Some(d) => serde_json::from_slice(&d).map_err(|e| {
            Error::Usage(format!(
                "{ROTATION_FILE} is unreadable ({e}); remove it to restart the clock of the current stage"
            ))
        })?,
        None => Rotation::default(),
    })
}

fn save_rotation(root: &Root, r: &Rotation) -> Result<()> {
    crate::state::ensure_state_dir(root)?;
    let json = serde_json::to_vec_pretty(r).unwrap_or_default();
    Ok(root.write_atomic(ROTATION_FILE, &json, 0o600, None)?)
}

/// A DNS failure of a rotation stage: a failure of 9-mail_config's work (exit 1).
fn dns(e: crate::dns::DnsError) -> Error {
    Error::Module {
        module: "9-mail_config".into(),
        reason: format!("dkim rotation: {e}"),
    }
}

fn when(t: u64) -> String {
    crate::timefmt::rfc3339(t)
}

/// Apply `edit` to the overrides (under the lock), run 9-mail_config, and put the
/// overrides back if that run fails.
fn stage(cli: &Cli, sel: &Selection, logs: &Logs, edit: impl Fn(&mut Overrides)) -> Result<()> {
    let root = Root::new(&cli.root);
    let before = {
        let _lock = crate::lock::acquire(&root)?;
        let before = Overrides::load(&root)?;
        let mut after = before.clone();
        edit(&mut after);
        after.save(&root)?;
        before
    };
    let mut only = sel.clone();
    only.only = vec!["mail".into()];
    let result = super::run::run(
        cli,
        &only,
        super::run::Flags {
            force: true,
            ..Default::default()
        },
        logs,
    );
    if result.is_err() {
        let _lock = crate::lock::acquire(&root)?;
        before.save(&root)?;
        eprintln!("the rotation stays where it was: 9-mail_config did not apply this stage");
    }
    result
}

/// The server a record is asked of: the publication server, else the system resolver.
fn server(p: &Prepared) -> Result<IpAddr> {
    let publish = &p.inputs.values["dns"]["publish"]["server"];
    match publish.as_str().and_then(|s| s.parse().ok()) {
        Some(ip) => Ok(ip),
        None => system_server(&p.host.root).map_err(dns),
    }
}

fn dkim_unit(domain: &str, selector: &str, wanted: Vec<(u32, crate::dns::Data)>) -> Result<Unit> {
    let name = DName::parse(&format!("{selector}._domainkey.{domain}")).map_err(Error::Usage)?;
    Ok(Unit {
        name,
        rtype: RType::Txt,
        // As `Data::txt_tag` spells it (lower case), so the unit owns the DKIM records.
        tag: crate::dns::Data::Txt("v=DKIM1".into()).txt_tag(),
        publish: Publish::Dns,
        wanted,
    })
}

/// Whether the record of `selector` is answered as it should be; else what was found.
fn answered(p: &Prepared, d: &Dkim, selector: &str) -> Result<std::result::Result<(), String>> {
    let Some((_, built)) = p.modules().find(|(m, _)| m.name() == "mail") else {
        return Err(Error::Usage("profile has no mail module".into()));
    };
    let owner = format!("{selector}._domainkey.{}", d.domain);
    let Some(typed) = built
        .built
        .records
        .iter()
        .find(|t| t.name.as_str().trim_end_matches('.') == owner)
    else {
        return Ok(Err(format!("{owner} is not declared")));
    };
    let record = typed.compute(&p.host.root).map_err(dns)?;
    let Some(data) = record.data().cloned() else {
        return Ok(Err(format!("the key of {owner} does not exist yet")));
    };
    let server = server(p)?;
    let unit = dkim_unit(&d.domain, selector, vec![(record.ttl, data)])?;
    let client = Client::new(p.host.net.as_ref());
    match compare(client, server, &[unit], false) {
        Ok(c) if c[0].verdict == Verdict::Ok => Ok(Ok(())),
        Ok(c) => Ok(Err(format!(
            "{owner} is {} at {server}",
            c[0].verdict.as_str()
        ))),
        Err(e) => Ok(Err(format!("{server} could not be asked: {e}"))),
    }
}

/// Delete the record of `selector` from the zone when firstboot publishes; else say what
/// to remove by hand.
fn withdraw(p: &Prepared, d: &Dkim, selector: &str) -> Result<String> {
    let pubv = &p.inputs.values["dns"]["publish"];
    let owner = format!("{selector}._domainkey.{}", d.domain);
    let Some(server) = pubv["server"]
        .as_str()
        .and_then(|s| s.parse::<IpAddr>().ok())
    else {
        return Ok(format!(
            "remove the TXT record {owner} at your DNS provider (firstboot does not publish here)"
        ));
    };
    let text = |k: &str| pubv[k].as_str().unwrap_or_default().to_string();
    let key = load_key(
        &p.host.root,
        &text("tsig_name"),
        &text("tsig_algorithm"),
        &text("tsig_secret_file"),
    )
    .map_err(dns)?;
    warn_if_readable(&p.host.root, &text("tsig_secret_file"));
    let zone = DName::parse(&text("zone")).map_err(Error::Usage)?;
    let client = || Client::new(p.host.net.as_ref());
    let unit = dkim_unit(&d.domain, selector, vec![])?;
    let compared = compare(client(), server, &[unit], false).map_err(dns)?;
    if compared[0].found.is_empty() {
        return Ok(format!("{owner} was already gone from {server}"));
    }
    let msg = update_message(&zone, &[&compared[0]]).map_err(dns)?;
    send(client(), server, &zone, msg, &key).map_err(dns)?;
    Ok(format!("withdrew {owner} from {server} (zone {zone})"))
}

/// One stage of a rotation (see the module doc).
pub fn rotate(cli: &Cli, sel: &Selection, new: Option<&str>, logs: &Logs) -> Result<()> {
    let last = super::last_profile(cli)?;
    let p = prepare(&super::options(cli, Some(sel)), last.as_deref())?;
    if !p.host.is_live() {
        return Err(Error::Usage(
            "dkim rotate works on the running system only: keys are made and records published per instance, not in an image (--root)".into(),
        ));
    }
    let d = dkim(&p)?;
    let root = p.host.root.clone();
    match (&d.next, &d.retired) {
        (None, None) => {
            let new = match new {
                Some(n) => n.to_string(),
                None => format!("s{}", &when(now())[..10].replace('-', "")),
            };
            crate::inputs::text::token(&new).map_err(|e| Error::Usage(format!("--selector: {e}")))?;
            if new == d.selector {
                return Err(Error::Usage(format!(
                    "--selector: {new} is the selector signing now; give another"
                )));
            }
            stage(cli, sel, logs, |o| o.set("mail.dkim.next", Some(json!(new))))?;
            let p = prepare(&super::options(cli, Some(sel)), last.as_deref())?;
            let record = match answered(&p, &d, &new)? {
                Ok(()) => "its record is answered".to_string(),
                Err(why) => format!("its record is not answered yet ({why}; `firstboot records` shows it)"),
            };
            println!(
                "dkim: {new} made, {record}; {} still signs. Run `firstboot dkim rotate` again once {new}._domainkey.{} resolves",
                d.selector, d.domain
            );
        }
        (Some(next), None) => {
            if let Err(why) = answered(&p, &d, next)? {
                println!("dkim: waiting: {why}; signing stays with {} (run again later)", d.selector);
                return Ok(());
            }
            let (old, next) = (d.selector.clone(), next.clone());
            // The clock first: a kill after the switch must never leave a retired
            // selector without it (it would be withdrawn at once).
            save_rotation(&root, &Rotation { switched_at: Some(now()) })?;
            if let Err(e) = stage(cli, sel, logs, |o| {
                o.set("mail.dkim.selector", Some(json!(next)));
                o.set("mail.dkim.retired", Some(json!(old)));
                o.set("mail.dkim.next", None);
            }) {
                root.remove_file(ROTATION_FILE)?;
                return Err(e);
            }
            println!(
                "dkim: {next} signs now; {old} stays published until {} (then run `firstboot dkim rotate` to withdraw it)",
                when(now() + d.retire_after)
            );
        }
        (None, Some(retired)) => {
            // No clock (lost, or a retired selector set by hand): it starts now.
            let since = match load_rotation(&root)?.switched_at {
                Some(t) => t,
                None => {
                    save_rotation(&root, &Rotation { switched_at: Some(now()) })?;
                    now()
                }
            };
            if now() < since + d.retire_after {
                println!(
                    "dkim: {} signs; {retired} is withdrawn after {} (mail.dkim.retire_after)",
                    d.selector,
                    when(since + d.retire_after)
                );
                return Ok(());
            }
            stage(cli, sel, logs, |o| o.set("mail.dkim.retired", None))?;
            let said = match withdraw(&p, &d, retired) {
                Ok(s) => s,
                Err(e) => {
                    // Still published: keep it declared, so a re-run tries again.
                    let _lock = crate::lock::acquire(&root)?;
                    let mut o = Overrides::load(&root)?;
                    o.set("mail.dkim.retired", Some(json!(retired)));
                    o.save(&root)?;
                    return Err(e);
                }
            };
            root.remove_file(ROTATION_FILE)?;
            println!("dkim: {said}; the rotation to {} is complete", d.selector);
        }
        (Some(n), Some(r)) => {
            return Err(Error::Usage(format!(
                "mail.dkim.next ({n}) and mail.dkim.retired ({r}) are both set: finish one rotation before starting another (remove one of them from the config)"
            )))
        }
    }
    Ok(())
}

/// Where the rotation stands.
pub fn status(cli: &Cli, sel: &Selection) -> Result<()> {
    let last = super::last_profile(cli)?;
    let p = prepare(&super::options(cli, Some(sel)), last.as_deref())?;
    let d = dkim(&p)?;
    println!("signing selector: {}", d.selector);
    match (&d.next, &d.retired) {
        (Some(n), _) => println!(
            "rotation: {n} made and published, signing moves to it once it resolves (`firstboot dkim rotate`)"
        ),
        (None, Some(r)) => match load_rotation(&p.host.root)?.switched_at {
            Some(since) => println!(
                "rotation: {r} retired, published until {} (`firstboot dkim rotate` then withdraws it)",
                when(since + d.retire_after)
            ),
            None => println!(
                "rotation: {r} retired, with no clock yet: the next `firstboot dkim rotate` starts mail.dkim.retire_after"
            ),
        },
        (None, None) => println!("rotation: none in progress"),
    }
    Ok(())
}
