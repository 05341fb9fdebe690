//! `publish_records`: send the module's `publish: dns` records to an authoritative server
//! in one RFC 2136 update signed with TSIG. Plan asks the server first and is `none`
//! when it already answers exactly our records, so a re-run sends nothing; otherwise it
//! shows the records to be replaced and added (never the key). A refusal fails the step
//! with the reason and what to check. DNS changes are not part of the module's backup:
//! the step comes last so that nothing before it can fail after the update.

use crate::backup::Backup;
use crate::dns::compare::{compare, units, Compared};
use crate::dns::decl::Publish;
use crate::dns::publish::{
    describe, load_key, send, to_replace, update_message, warn_if_readable, TsigKey,
};
use crate::dns::typed::{compute_typed, Typed};
use crate::dns::wire::Client;
use crate::dns::{count, DName, DnsError, Record};
use crate::steps::templated::Templated;
use crate::steps::{offline, Change, Planned, RunState, Step, StepCx, StepError};
use serde::Deserialize;
use std::net::IpAddr;

/// Publish the module's records by a TSIG-signed dynamic update.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishRecords {
    /// Address of the authoritative server accepting updates (typed when built).
    pub server: Templated<IpAddr>,
    /// Zone to update (typed when built).
    pub zone: Templated<DName>,
    /// TSIG key name.
    pub tsig_name: String,
    /// TSIG algorithm, typed when the module is built.
    #[serde(default = "default_algorithm")]
    pub tsig_algorithm: Templated<Algorithm>,
    /// In-tree file holding the base64 secret.
    pub tsig_secret_file: String,
    /// The module's records, typed when the module is built (not written in manifests).
    #[serde(skip)]
    pub records: Vec<Typed>,
}

/// The TSIG algorithms an update may be signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// HMAC-SHA256.
    HmacSha256,
    /// HMAC-SHA384.
    HmacSha384,
    /// HMAC-SHA512.
    HmacSha512,
}

impl Algorithm {
    /// Its name (`hmac-sha256`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::HmacSha384 => "hmac-sha384",
            Algorithm::HmacSha512 => "hmac-sha512",
        }
    }
}

fn default_algorithm() -> Templated<Algorithm> {
    Algorithm::HmacSha256.into()
}

fn invalid(e: DnsError) -> StepError {
    match e {
        DnsError::Config { key, reason } => StepError::Input { key, reason },
        other => StepError::Invalid(other.to_string()),
    }
}

struct Ready {
    key: TsigKey,
    server: IpAddr,
    zone: DName,
    records: Vec<Record>,
}

impl PublishRecords {
    /// The settings read from the host that no earlier step makes (the TSIG key and its
    /// secret file), checked when the module is built, before anything changes.
    pub fn check_host_inputs(&self, root: &crate::host::Root) -> Result<(), StepError> {
        load_key(
            root,
            &self.tsig_name,
            self.tsig_algorithm.get()?.as_str(),
            &self.tsig_secret_file,
        )
        .map_err(invalid)?;
        warn_if_readable(root, &self.tsig_secret_file);
        Ok(())
    }

    /// Everything that can be checked without the network, secret file included.
    fn ready(&self, cx: &StepCx) -> Result<Ready, StepError> {
        let key = load_key(
            &cx.host.root,
            &self.tsig_name,
            self.tsig_algorithm.get()?.as_str(),
            &self.tsig_secret_file,
        )
        .map_err(invalid)?;
        let server = *self.server.get()?;
        let zone = self.zone.get()?.clone();
        let records: Vec<Record> = compute_typed(&self.records, &cx.host.root)
            .map_err(invalid)?
            .into_iter()
            .filter(|r| r.publish == Publish::Dns)
            .collect();
        if let Some(r) = records.iter().find(|r| !r.name.is_under(&zone)) {
            return Err(StepError::Invalid(format!(
                "record {} is not in zone {zone} (dns.publish.zone)",
                r.label()
            )));
        }
        Ok(Ready {
            key,
            server,
            zone,
            records,
        })
    }

    /// The server's answers for our record sets (TTLs count: it is authoritative).
    fn compared(&self, cx: &StepCx, r: &Ready) -> Result<Vec<Compared>, StepError> {
        compare(
            Client::new(cx.host.net.as_ref()),
            r.server,
            &units(&r.records),
            true,
        )
        .map_err(invalid)
    }

    /// What the update would do: `None` when the server already answers our records.
    fn planned(&self, r: &Ready, compared: &[Compared]) -> Planned {
        let pending = r.records.iter().filter(|x| x.data().is_none()).count();
        let changes = to_replace(compared);
        let later = if pending > 0 {
            format!("; {pending} pending until the file it is computed from exists")
        } else {
            String::new()
        };
        if compared.is_empty() {
            return Planned::new(
                self.target(),
                Change::None,
                format!("nothing to send yet{later}"),
            );
        }
        if changes.is_empty() {
            return Planned::new(
                self.target(),
                Change::None,
                format!(
                    "{} already answers {} of zone {}{later}",
                    r.server,
                    match compared.len() {
                        1 => "the record set".to_string(),
                        n => format!("all {n} record sets"),
                    },
                    r.zone.as_str()
                ),
            );
        }
        let diff = format!(
            "--- {server} (now)\n+++ {server} (after the update)\n{}",
            describe(&changes),
            server = r.server
        );
        Planned::new(
            self.target(),
            Change::Update { diff: Some(diff) },
            format!(
                "update zone {} at {} signed with key {}: replace {} of {}{later}",
                r.zone.as_str(),
                r.server,
                r.key.name(),
                changes.len(),
                count(compared.len(), "record set")
            ),
        )
    }
}

impl Step for PublishRecords {
    fn target(&self) -> String {
        let zone = match &self.zone {
            Templated::Ready(z) => z.as_str().to_string(),
            Templated::Pending(t) => t.clone(),
        };
        format!("action publish_records ({zone} at {})", self.server)
    }

    fn plan(&self, cx: &StepCx, _run: &mut RunState) -> Result<Planned, StepError> {
        let r = self.ready(cx)?;
        if !cx.host.is_live() {
            let ready = r.records.iter().filter(|x| x.data().is_some()).count();
            let pending = r.records.len() - ready;
            let later = if pending > 0 {
                format!("; {pending} pending until the file it is computed from exists")
            } else {
                String::new()
            };
            return Ok(offline(
                self.target(),
                &format!("send {} to {}{later}", count(ready, "record"), r.server),
            ));
        }
        Ok(self.planned(&r, &self.compared(cx, &r)?))
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        _backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        if !cx.host.is_live() {
            return self.plan(cx, run);
        }
        let r = self.ready(cx)?;
        let compared = self.compared(cx, &r)?;
        let planned = self.planned(&r, &compared);
        if !planned.change.is_change() {
            return Ok(planned);
        }
        let changes = to_replace(&compared);
        tracing::info!(
            "sending update to {} for zone {}:\n{}",
            r.server,
            r.zone,
            describe(&changes)
        );
        let msg = update_message(&r.zone, &changes).map_err(invalid)?;
        send(
            Client::new(cx.host.net.as_ref()),
            r.server,
            &r.zone,
            msg,
            &r.key,
        )
        .map_err(invalid)?;
        Ok(Planned::new(
            self.target(),
            planned.change,
            format!(
                "published {} of {} to {} (zone {}, key {})",
                changes.len(),
                count(compared.len(), "record set"),
                r.server,
                r.zone.as_str(),
                r.key.name()
            ),
        ))
    }
}
