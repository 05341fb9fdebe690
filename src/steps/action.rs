//! `action`: built-in actions templates cannot do. Each lives in `src/steps/actions/` and
//! implements [`Step`]; this enum is their only registry.

use super::actions;
use super::{Planned, RunState, Step, StepCx, StepError};
use crate::backup::Backup;
use serde::Deserialize;

/// A built-in action, by name.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionStep {
    /// Set the running system's host name.
    SetHostname(actions::set_hostname::SetHostname),
    /// Generate the DKIM signing key (RSA) if it does not exist.
    DkimKey(actions::dkim_key::DkimKey),
    /// Publish the module's DNS records by a TSIG-signed RFC 2136 update.
    PublishRecords(actions::publish_records::PublishRecords),
    /// Write the module's DNS records as a zone fragment and a table.
    WriteRecords(actions::write_records::WriteRecords),
    /// A private key and a self-signed certificate, made in-process.
    SelfSignedCert(actions::self_signed_cert::SelfSignedCert),
    /// A certificate from an ACME CA for a kept key; a self-signed stand-in until then.
    AcmeCert(actions::acme_cert::AcmeCert),
    /// Postfix's SASL client credentials for a smarthost, from a password file.
    SaslPasswd(actions::sasl_passwd::SaslPasswd),
    /// The loopback probe's secret hold rule (a Postfix `header_checks` table).
    HoldRule(actions::hold_rule::HoldRule),
}

impl ActionStep {
    /// See [`super::StepKind::check_host_inputs`].
    pub fn check_host_inputs(&self, root: &crate::host::Root) -> Result<Vec<String>, StepError> {
        match self {
            ActionStep::PublishRecords(a) => a.check_host_inputs(root).map(|()| Vec::new()),
            ActionStep::SaslPasswd(a) => a.check_host_inputs(root),
            _ => Ok(Vec::new()),
        }
    }

    /// Where an action that works on its module's DNS records takes them.
    pub fn records_slot(&mut self) -> Option<&mut Vec<crate::dns::typed::Typed>> {
        match self {
            ActionStep::PublishRecords(a) => Some(&mut a.records),
            ActionStep::WriteRecords(a) => Some(&mut a.records),
            _ => None,
        }
    }

    fn inner(&self) -> &dyn Step {
        match self {
            ActionStep::SetHostname(a) => a,
            ActionStep::DkimKey(a) => a,
            ActionStep::PublishRecords(a) => a,
            ActionStep::WriteRecords(a) => a,
            ActionStep::SelfSignedCert(a) => a,
            ActionStep::AcmeCert(a) => a,
            ActionStep::SaslPasswd(a) => a,
            ActionStep::HoldRule(a) => a,
        }
    }
}

impl Step for ActionStep {
    fn target(&self) -> String {
        self.inner().target()
    }
    fn plan(&self, cx: &StepCx, run: &mut RunState) -> Result<Planned, StepError> {
        self.inner().plan(cx, run)
    }
    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        self.inner().apply(cx, run, backup)
    }
}
