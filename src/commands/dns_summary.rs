//! The records of a prepared run's modules (what `firstboot records` prints), and the
//! summary a run ends with: what was published or is to be published, what is pending,
//! and what to ask the DNS provider for, copy-pasteable.

use crate::dns::decl::Publish;
use crate::dns::name::DName;
use crate::dns::record::Record;
use crate::dns::typed::compute_typed;
use crate::dns::wire::Client;
use crate::dns::{format, RECORDS_DIR};
use crate::engine::Prepared;
use serde_json::Value;

/// One module's records.
#[derive(Debug, Clone)]
pub struct ModuleRecords {
    /// Module id.
    pub id: String,
    /// The domain (names in tables are relative to it).
    pub origin: DName,
    /// The records whose `when` holds.
    pub records: Vec<Record>,
    /// The server of the module's `publish_records` step, when that step runs.
    pub publish_server: Option<String>,
}

/// The server the module's `publish_records` step sends to, when its `when` holds.
fn publish_server(m: &crate::manifest::Module, ctx: &Value) -> Option<String> {
    let ctx = crate::render::Ctx::new(ctx).ok()?;
    m.manifest
        .steps
        .iter()
        .filter(|d| d.body.pointer("/action/publish_records").is_some())
        .find(|d| d.enabled(&ctx).unwrap_or(false))
        .and_then(|d| d.rendered(&ctx).ok())
        .and_then(|b| {
            b.pointer("/action/publish_records/server")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
}

/// The records of every selected module that declares some, computed against the root.
pub fn module_records(p: &Prepared) -> Result<Vec<ModuleRecords>, String> {
    let origin = p
        .inputs
        .values
        .get("domain")
        .and_then(Value::as_str)
        .ok_or("no domain configured")
        .and_then(|d| DName::parse(d).map_err(|_| "the domain is not a DNS name"))?;
    let mut out = Vec::new();
    for (m, b) in p.modules() {
        if m.manifest.records.is_empty() {
            continue;
        }
        let ctx = &b.ctx;
        // Typed when the module was built (`prepare`); only computed values read files.
        let records =
            compute_typed(&b.built.records, &p.host.root).map_err(|e| format!("{}: {e}", m.id))?;
        out.push(ModuleRecords {
            id: m.id.clone(),
            origin: origin.clone(),
            records,
            publish_server: publish_server(m, ctx),
        });
    }
    Ok(out)
}

/// What a finished run prints about DNS: per module, the records published (or the
/// table to enter by hand), the pending ones, and the provider's part.
pub fn after_run(p: &Prepared) -> Option<String> {
    let sets = module_records(p).ok()?;
    if sets.is_empty() {
        return None;
    }
    let mut out = String::from("\nDNS records");
    out.push_str(&format!(
        " (zone fragments and tables in {RECORDS_DIR}/):\n"
    ));
    for m in &sets {
        let published: Vec<&Record> = m
            .records
            .iter()
            .filter(|r| r.publish == Publish::Dns && r.data().is_some())
            .collect();
        match &m.publish_server {
            Some(s) if !published.is_empty() && p.host.is_live() => {
                // "Published" is what the server answers now, asked after the run; not
                // what the files say should be there.
                let answered = s
                    .parse::<std::net::IpAddr>()
                    .map_err(|e| e.to_string())
                    .and_then(|ip| {
                        confirmed(Client::new(p.host.net.as_ref()), ip, &published)
                            .map_err(|e| e.to_string())
                    });
                let (ok, not): (Vec<&Record>, Vec<&Record>) = match &answered {
                    Ok(yes) => published
                        .iter()
                        .partition(|r| yes.contains(&r.zone_line(0))),
                    Err(_) => (Vec::new(), published.clone()),
                };
                let width = published
                    .iter()
                    .map(|r| r.name.fqdn().len())
                    .max()
                    .unwrap_or(0);
                if !ok.is_empty() {
                    out.push_str(&format!(
                        "{}: published at {s} (sent by TSIG-signed update only where the zone differed):\n",
                        m.id
                    ));
                    for r in &ok {
                        out.push_str(&format!("  {}\n", r.zone_line(width)));
                    }
                }
                if !not.is_empty() {
                    let why = match &answered {
                        Ok(_) => format!("not answered by {s} (yet)"),
                        Err(e) => format!("not confirmed: {s} could not be asked ({e})"),
                    };
                    out.push_str(&format!("{}: {why}:\n", m.id));
                    for r in &not {
                        out.push_str(&format!("  {}\n", r.zone_line(width)));
                    }
                }
                let rest: Vec<Record> = m
                    .records
                    .iter()
                    .filter(|r| !(r.publish == Publish::Dns && r.data().is_some()))
                    .cloned()
                    .collect();
                out.push_str(&format::table(&m.id, &m.origin, &rest));
            }
            _ => out.push_str(&format::table(&m.id, &m.origin, &m.records)),
        }
    }
    Some(out)
}

/// The zone lines (unpadded) of `records` whose record set `server` answers exactly.
fn confirmed(
    client: crate::dns::wire::Client,
    server: std::net::IpAddr,
    records: &[&Record],
) -> Result<Vec<String>, crate::dns::DnsError> {
    use crate::dns::compare::{compare, units, Verdict};
    let compared = compare(client, server, &units(records.iter().copied()), true)?;
    Ok(records
        .iter()
        .filter(|r| {
            compared.iter().any(|c| {
                c.verdict == Verdict::Ok
                    && c.unit.name == r.name
                    && r.data().is_some_and(|d| c.unit.owns(d))
            })
        })
        .map(|r| r.zone_line(0))
        .collect())
}
