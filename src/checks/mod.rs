//! Checks: what must hold after a module ran. They mirror steps: one [`Check`] trait,
//! one file per kind, and [`CheckKind`], the serde-tagged enum that is the only registry
//! of check kind names. [`run_checks`] runs a module's checks for both `run` (a failure
//! rolls the module back) and `validate`, with the same masking, log lines and retry.

pub mod acme;
pub mod address;
pub mod certificate;
pub mod command;
pub mod dane;
pub mod dkim;
pub mod dmarc;
mod dnsq;
pub mod dnssec;
pub mod file;
pub mod firewall;
pub mod listen;
pub mod loopback;
pub mod loopback_msg;
pub mod mx;
pub mod policy;
pub mod ptr;
pub mod queue;
pub mod records;
mod result;
mod run;
pub mod smtp;
pub mod smtp_client;
pub mod spf;
pub mod tls;
pub mod tls_cert;
pub mod tls_client;
pub mod tls_probe;

pub use result::{CheckResult, CheckStatus};
pub use run::{first_failure, run_checks, Retry};

use crate::host::Host;
use crate::redact::Redactor;
use serde::Deserialize;
use std::time::Duration;

/// What a check may use: the host boundary, the secret mask, a time limit for anything
/// that waits (commands, DNS queries), the retry policy and the DNS answers of the pass.
#[derive(Clone)]
pub struct CheckCx<'a> {
    /// The host boundary (files through its root, commands, network).
    pub host: &'a Host,
    /// Masks secrets in names and details.
    pub redactor: &'a Redactor,
    /// How long one network exchange may take.
    pub timeout: Duration,
    /// How failures of checks that may settle are retried.
    pub retry: Retry,
    /// DNS answers with records, shared by the checks of one pass ([`run_checks`] starts
    /// each pass with none).
    pub answers: crate::dns::lookup::Shared,
}

/// One check kind.
pub trait Check {
    /// Run it once against the host.
    fn run(&self, cx: &CheckCx) -> CheckResult;
    /// Whether a failure may be transient right after a service was (re)started (a
    /// daemon still binding its socket) and is worth retrying. Checks of files are not.
    fn settles(&self) -> bool {
        false
    }
    /// Whether it talks to a daemon the way a client does (leaving lines in its log). A
    /// run that changed nothing skips such checks, so a no-op run leaves no trace;
    /// `validate` and a run that changed something run them.
    fn probes(&self) -> bool {
        false
    }
}

/// A check as a module declares it: a stable id (`dns.spf`; reports, `--json` and
/// `--textfile` key on it), a hint on how to fix a failure, and the check.
#[derive(Debug, Clone)]
pub struct Declared {
    /// Stable id, unique in its module.
    pub id: String,
    /// The manifest's hint, rendered; it replaces the check's own.
    pub hint: Option<String>,
    /// A failure is reported by `run` without rolling the module back.
    pub advisory: bool,
    /// The check.
    pub kind: CheckKind,
}

impl Declared {
    /// A check with this id and no hint of the manifest's.
    pub fn new(id: impl Into<String>, kind: CheckKind) -> Self {
        Declared {
            id: id.into(),
            hint: None,
            advisory: false,
            kind,
        }
    }
}

/// A check, by kind: the only registry of check kind names.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CheckKind {
    /// Something about a file.
    File(file::FileCheck),
    /// A command's exit status and output.
    Command(command::CommandCheck),
    /// The module's DNS records resolve to what they should be.
    Records(records::RecordsCheck),
    /// A certificate and its key: match, names, expiry, chain.
    Certificate(certificate::CertificateCheck),
    /// Provider acme: warns while a self-signed stand-in waits for the CA.
    AcmeCertificate(acme::AcmeCheck),
    /// A DKIM signing key matches its published record.
    Dkim(dkim::DkimCheck),
    /// A TCP address or Unix socket accepts connections.
    Listen(listen::ListenCheck),
    /// The domain's MX records name this host.
    Mx(mx::MxCheck),
    /// The host name's A/AAAA records are the host's addresses.
    Address(address::AddressCheck),
    /// Forward-confirmed reverse DNS of the host's addresses (or of its HELO name).
    Ptr(ptr::PtrCheck),
    /// The domain's SPF record: one, parses, within 10 lookups, passes for the senders.
    Spf(spf::SpfCheck),
    /// The domain's DMARC record: one, parses, its policy (p=none warns).
    Dmarc(dmarc::DmarcCheck),
    /// The MTA-STS or TLS-RPT record, when configured.
    PolicyRecord(policy::PolicyCheck),
    /// The zone is DNSSEC-signed.
    Dnssec(dnssec::DnssecCheck),
    /// The TLSA records of port 25 match the certificate.
    Dane(dane::DaneCheck),
    /// What the SMTP server shows a stranger: banner, AUTH before TLS, relaying.
    Smtp(smtp::SmtpCheck),
    /// Postfix's queue: size, old deferrals, a refused relay AUTH.
    MailQueue(queue::QueueCheck),
    /// A message out through sendmail and back through port 25: DKIM, SPF, DMARC pass.
    MailLoopback(loopback::LoopbackCheck),
    /// TLS on a port: versions, suites and the certificate served.
    Tls(tls::TlsCheck),
    /// Our nftables table accepts exactly the TCP ports the host serves.
    Firewall(firewall::FirewallCheck),
}

impl CheckKind {
    /// The check behind the kind.
    pub fn check(&self) -> &dyn Check {
        match self {
            CheckKind::File(c) => c,
            CheckKind::Command(c) => c,
            CheckKind::Records(c) => c,
            CheckKind::Certificate(c) => c,
            CheckKind::AcmeCertificate(c) => c,
            CheckKind::Dkim(c) => c,
            CheckKind::Listen(c) => c,
            CheckKind::Mx(c) => c,
            CheckKind::Address(c) => c,
            CheckKind::Ptr(c) => c,
            CheckKind::Spf(c) => c,
            CheckKind::Dmarc(c) => c,
            CheckKind::PolicyRecord(c) => c,
            CheckKind::Dnssec(c) => c,
            CheckKind::Dane(c) => c,
            CheckKind::Smtp(c) => c,
            CheckKind::MailQueue(c) => c,
            CheckKind::MailLoopback(c) => c,
            CheckKind::Tls(c) => c,
            CheckKind::Firewall(c) => c,
        }
    }

    /// Where the module's typed records go when the module is built, for a check that
    /// works on them (the same hook steps have: `StepKind::records_slot`).
    pub fn records_slot(&mut self) -> Option<&mut Vec<crate::dns::typed::Typed>> {
        match self {
            CheckKind::Records(c) => Some(&mut c.records),
            _ => None,
        }
    }
}
