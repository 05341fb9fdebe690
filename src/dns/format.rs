//! Records for people: a zone-file fragment (paste into a zone; TXT split into quoted
//! 255-byte strings) and a table for DNS panels (names relative to the domain, TXT whole),
//! each grouped into what to publish, what is pending, and what to ask the provider for.

use super::decl::Publish;
use super::name::DName;
use super::record::{Data, Record, RecordValue};

fn groups(records: &[Record]) -> (Vec<&Record>, Vec<&Record>, Vec<&Record>) {
    let publish = records
        .iter()
        .filter(|r| r.publish == Publish::Dns && r.data().is_some())
        .collect();
    let pending = records.iter().filter(|r| r.data().is_none()).collect();
    let provider = records
        .iter()
        .filter(|r| r.publish == Publish::Provider && r.data().is_some())
        .collect();
    (publish, pending, provider)
}

fn pending_reason(r: &Record) -> &str {
    match &r.value {
        RecordValue::Pending(why) => why,
        RecordValue::Ready(_) => "",
    }
}

/// The zone fragment of one module's records. Provider records are commented out: they
/// belong to somebody else's zone (the reverse zone of the address block).
pub fn zone(module: &str, records: &[Record]) -> String {
    let (publish, pending, provider) = groups(records);
    let width = |rs: &[&Record]| rs.iter().map(|r| r.name.fqdn().len()).max().unwrap_or(0);
    let (w, wp) = (width(&publish).max(width(&pending)), width(&provider));
    let mut out = format!("; DNS records of {module} (firstboot)\n");
    for r in &publish {
        out.push_str(&r.zone_line(w));
        out.push('\n');
    }
    if !pending.is_empty() {
        out.push_str("; pending, computed once their source exists:\n");
        for r in &pending {
            out.push_str(&format!("; {}  ({})\n", r.zone_line(w), pending_reason(r)));
        }
    }
    if !provider.is_empty() {
        out.push_str("; you must add these at your DNS provider (not in this zone):\n");
        for r in &provider {
            out.push_str(&format!("; {}\n", r.zone_line(wp)));
        }
    }
    out
}

fn table_rows(rows: &[[String; 4]], out: &mut String) {
    let mut w = [0usize; 3];
    for r in rows {
        for (i, wi) in w.iter_mut().enumerate() {
            *wi = (*wi).max(r[i].len());
        }
    }
    for r in rows {
        let line = format!(
            "  {:w0$}  {:w1$}  {:w2$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

fn header() -> [String; 4] {
    ["name".into(), "type".into(), "ttl".into(), "value".into()]
}

/// The table of one module's records for a DNS panel of `origin` (the domain).
pub fn table(module: &str, origin: &DName, records: &[Record]) -> String {
    let (publish, pending, provider) = groups(records);
    let mut out = String::new();
    if !publish.is_empty() {
        out.push_str(&format!(
            "{module}: publish these records in the DNS of {}\n",
            origin.as_str()
        ));
        let mut rows = vec![header()];
        let mut long = false;
        for r in &publish {
            let value = r.data().map(Data::plain).unwrap_or_default();
            long |= value.len() > 255;
            rows.push([
                r.name.relative_to(origin),
                r.rtype.as_str().into(),
                r.ttl.to_string(),
                value,
            ]);
        }
        table_rows(&rows, &mut out);
        if long {
            out.push_str(
                "  (a TXT value longer than 255 bytes must be entered whole: a panel that cuts it \
                 breaks it; in a zone file it is split into quoted 255-byte strings)\n",
            );
        }
    }
    if !pending.is_empty() {
        out.push_str(&format!("{module}: pending\n"));
        let rows: Vec<[String; 4]> = pending
            .iter()
            .map(|r| {
                [
                    r.name.relative_to(origin),
                    r.rtype.as_str().into(),
                    r.ttl.to_string(),
                    pending_reason(r).into(),
                ]
            })
            .collect();
        table_rows(&rows, &mut out);
    }
    if !provider.is_empty() {
        out.push_str(&format!(
            "{module}: you must add these at your DNS provider (reverse DNS is set by whoever owns the address)\n"
        ));
        let rows: Vec<[String; 4]> = provider
            .iter()
            .map(|r| {
                [
                    r.name.fqdn(),
                    r.rtype.as_str().into(),
                    r.ttl.to_string(),
                    r.data().map(Data::plain).unwrap_or_default(),
                ]
            })
            .collect();
        table_rows(&rows, &mut out);
    }
    out
}
