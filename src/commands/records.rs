//! `firstboot records [--json|--zone] [--diff [--server IP]]`: the DNS records the
//! selected modules need, grouped into what to publish, what is pending and what to ask
//! the DNS provider for; with `--diff`, compared with what a server answers now. Reads
//! only (and asks DNS servers with `--diff`).

use super::dns_summary::{module_records, ModuleRecords};
use crate::cli::{Cli, Selection};
use crate::dns::compare::{compare, units, Verdict};
use crate::dns::query::{authoritative_server, system_server};
use crate::dns::record::RecordJson;
use crate::dns::wire::Client;
use crate::dns::{format, Publish};
use crate::engine::prepare;
use crate::error::{Error, Result};
use serde_json::json;
use std::net::IpAddr;

/// What to print.
#[derive(Debug, Clone, Copy)]
pub struct Show {
    /// One JSON document.
    pub json: bool,
    /// A zone-file fragment.
    pub zone: bool,
    /// Compare with a server.
    pub diff: bool,
}

fn module_err(reason: String) -> Error {
    Error::Module {
        module: "(records)".into(),
        reason,
    }
}

/// Print the records.
pub fn records(cli: &Cli, sel: &Selection, show: Show, server: Option<IpAddr>) -> Result<()> {
    let last = super::last_profile(cli)?;
    let p = prepare(&super::options(cli, Some(sel)), last.as_deref())?;
    let sets = module_records(&p).map_err(module_err)?;
    if show.diff {
        let server = match server {
            Some(s) => s,
            None => default_server(&p, &sets).map_err(module_err)?,
        };
        return diff(&p, &sets, server, show.json);
    }
    if show.json {
        let modules: Vec<_> = sets
            .iter()
            .map(|m| {
                let records: Vec<RecordJson> = m.records.iter().map(RecordJson::from).collect();
                json!({"id": m.id, "origin": m.origin.fqdn(), "records": records})
            })
            .collect();
        super::print_json(&json!({ "modules": modules }));
    } else if show.zone {
        for m in &sets {
            print!("{}", format::zone(&m.id, &m.records));
        }
    } else {
        for m in &sets {
            print!("{}", format::table(&m.id, &m.origin, &m.records));
        }
    }
    Ok(())
}

/// The server a diff asks: the publication server, else the domain's first name server.
fn default_server(p: &crate::engine::Prepared, sets: &[ModuleRecords]) -> Result<IpAddr, String> {
    if let Some(s) = sets.iter().find_map(|m| m.publish_server.as_deref()) {
        return s.parse().map_err(|_| format!("{s:?} is not an IP address"));
    }
    let origin = sets
        .first()
        .map(|m| m.origin.clone())
        .ok_or("the selected modules declare no records")?;
    let resolver = system_server(&p.host.root).map_err(|e| e.to_string())?;
    authoritative_server(Client::new(p.host.net.as_ref()), resolver, &origin)
        .map_err(|e| e.to_string())
}

fn diff(
    p: &crate::engine::Prepared,
    sets: &[ModuleRecords],
    server: IpAddr,
    as_json: bool,
) -> Result<()> {
    let client = Client::new(p.host.net.as_ref());
    let mut doc = Vec::new();
    let mut counts = [0usize; 4];
    let mut text = format!("compared with {server}\n");
    for m in sets {
        let compared = compare(client, server, &units(&m.records), true)
            .map_err(|e| module_err(format!("{}: {e}", m.id)))?;
        let mut rows = Vec::new();
        text.push_str(&format!("{}\n", m.id));
        for c in &compared {
            let status = c.verdict.as_str();
            counts[match c.verdict {
                Verdict::Ok => 0,
                Verdict::Missing => 1,
                Verdict::Different => 2,
            }] += 1;
            let want: Vec<String> = c
                .unit
                .wanted
                .iter()
                .map(|(t, d)| format!("{t} {d}"))
                .collect();
            let who = if c.unit.publish == Publish::Provider {
                "  (at your DNS provider)"
            } else {
                ""
            };
            text.push_str(&format!("  {status:9}  {}{who}\n", c.unit.label()));
            if c.verdict != Verdict::Ok {
                text.push_str(&format!("      want:       {}\n", want.join(" | ")));
                if c.verdict == Verdict::Different {
                    text.push_str(&format!(
                        "      server has: {}\n",
                        c.found_text().join(" | ")
                    ));
                }
            }
            rows.push(json!({
                "name": c.unit.name.fqdn(), "type": c.unit.rtype, "publish": c.unit.publish,
                "status": status, "want": want, "found": c.found_text(),
            }));
        }
        for r in m.records.iter().filter(|r| r.data().is_none()) {
            counts[3] += 1;
            let why = match &r.value {
                crate::dns::RecordValue::Pending(w) => w.clone(),
                crate::dns::RecordValue::Ready(_) => String::new(),
            };
            text.push_str(&format!("  {:9}  {}: {why}\n", "pending", r.label()));
            rows.push(json!({
                "name": r.name.fqdn(), "type": r.rtype, "publish": r.publish,
                "status": "pending", "reason": why,
            }));
        }
        doc.push(json!({"id": m.id, "records": rows}));
    }
    if as_json {
        super::print_json(&json!({"server": server.to_string(), "modules": doc}));
    } else {
        text.push_str(&format!(
            "{} ok, {} missing, {} different, {} pending\n",
            counts[0], counts[1], counts[2], counts[3]
        ));
        print!("{text}");
    }
    Ok(())
}
