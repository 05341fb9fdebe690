//! `self_signed_cert`: a private key and a self-signed certificate for the mail host,
//! made in-process with rcgen (ECDSA P-256). Idempotent: while the certificate on disk
//! matches its key, covers every name and has more than `renew_days` left, nothing is
//! written. Otherwise the certificate is re-issued, keeping the key when it is usable
//! (DNS records pinning the key, such as DANE `3 1 1`, stay valid). Both files go through
//! the managed-file path (`steps::managed`): backup, atomic write, drift detection. The
//! key is secret: never diffed; the certificate's plan diff is a readable description.

use crate::backup::Backup;
use crate::digest::sha256_hex;
use crate::steps::managed::{self, Wanted};
use crate::steps::{offline, Change, Planned, RunState, Step, StepCx, StepError};
use crate::tls::check::assess;
use crate::tls::names::{one_or_many, split_names, valid_cert_name};
use crate::tls::{cert_info, fmt_time, parse_chain};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use serde::Deserialize;

fn root_name() -> String {
    "root".into()
}
fn days_default() -> u32 {
    365
}
fn renew_default() -> u32 {
    30
}

/// Make (or keep) a self-signed certificate and its key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfSignedCert {
    /// In-tree path of the certificate (PEM), written 0644 root:root.
    pub cert: String,
    /// In-tree path of the private key (PKCS#8 PEM), written 0640 root:`group`.
    pub key: String,
    /// Names to cover; the first is the subject CN. An item may hold several names
    /// separated by blanks or commas; empty items are ignored.
    #[serde(deserialize_with = "one_or_many")]
    pub names: Vec<String>,
    /// Group allowed to read the key.
    #[serde(default = "root_name")]
    pub group: String,
    /// Validity of a new certificate, in days.
    #[serde(default = "days_default")]
    pub days: u32,
    /// Re-issue when fewer days than this are left.
    #[serde(default = "renew_default")]
    pub renew_days: u32,
    /// Services reloaded when the certificate or key changes.
    #[serde(default)]
    pub notify: Vec<String>,
}

/// What the files should contain after this step.
struct Decision {
    cert: Vec<u8>,
    key: Vec<u8>,
    /// The certificate on disk, described (absent or unreadable: `None`).
    old: Option<String>,
    /// The wanted certificate, described.
    new: String,
    /// Why (when something is issued) or what holds (when not).
    summary: String,
}

/// A private key (`path == key`: mode 0640, group `group`, a secret) or a certificate
/// (0644, root), as a managed file: a hand edit to it is detected like any other.
pub(super) fn key_or_cert<'a>(
    cx: &StepCx,
    path: &'a str,
    content: &[u8],
    (key, group): (&str, &'a str),
    notify: &'a [String],
) -> Wanted<'a> {
    let secret = path == key;
    let current = cx.host.root.read(path).ok().flatten();
    Wanted {
        target: format!("file {path}"),
        path,
        content: content.to_vec(),
        mode: if secret { 0o640 } else { 0o644 },
        owner: ("root", if secret { group } else { "root" }),
        notify,
        secret,
        key: path.to_string(),
        managed_hash: sha256_hex(content),
        current_managed_hash: current.as_deref().map(sha256_hex),
        current,
    }
}

/// The names a certificate of `action` must cover, split and checked (at least one).
pub(super) fn cert_names(raw: &[String], action: &str) -> Result<Vec<String>, StepError> {
    let names = split_names(raw);
    if names.is_empty() {
        return Err(invalid(format!("{action}: no names given")));
    }
    for n in &names {
        valid_cert_name(n).map_err(|e| invalid(format!("{action}: {e}")))?;
    }
    Ok(names)
}

fn invalid(msg: String) -> StepError {
    StepError::Invalid(msg)
}

impl SelfSignedCert {
    fn names(&self) -> Result<Vec<String>, StepError> {
        cert_names(&self.names, "self_signed_cert")
    }

    fn decide(&self, cx: &StepCx) -> Result<Decision, StepError> {
        let names = self.names()?;
        let root = &cx.host.root;
        let (cert, key) = (root.read(&self.cert)?, root.read(&self.key)?);
        let now = crate::tls::now();
        let a = assess(
            (&self.cert, cert.as_deref()),
            (&self.key, key.as_deref()),
            &names,
            now,
        );
        let old = a.leaf.as_ref().map(|l| l.describe());
        let days = a.days_left(now).unwrap_or(0);
        if let (true, Some(leaf), Some(cert), Some(key)) = (
            a.problems.is_empty() && days >= i64::from(self.renew_days),
            &a.leaf,
            &cert,
            &key,
        ) {
            let summary = format!(
                "valid until {} ({days} days), covers {}",
                fmt_time(leaf.not_after),
                names.join(", ")
            );
            let new = leaf.describe();
            return Ok(Decision {
                cert: cert.clone(),
                key: key.clone(),
                old,
                new,
                summary,
            });
        }
        // Keep a key rcgen can sign with; make one otherwise.
        let kept = key
            .as_deref()
            .and_then(|k| std::str::from_utf8(k).ok())
            .and_then(|k| KeyPair::from_pem(k).ok());
        let (kp, key_pem, key_note) = match (kept, key) {
            (Some(kp), Some(k)) => (kp, k, "key kept"),
            _ => {
                let kp = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                    .map_err(|e| invalid(format!("cannot generate a key: {e}")))?;
                let pem = kp.serialize_pem().into_bytes();
                (kp, pem, "new ECDSA P-256 key")
            }
        };
        let cert_pem = issue(&kp, &names, now, self.days)?.into_bytes();
        let new = parse_chain(&cert_pem)
            .and_then(|c| cert_info(&c[0]))
            .map(|i| i.describe())
            .map_err(|e| invalid(format!("generated certificate {e}")))?;
        let why = if a.problems.is_empty() {
            format!("{days} days left")
        } else {
            a.problems.join("; ")
        };
        Ok(Decision {
            cert: cert_pem,
            key: key_pem,
            old,
            new,
            summary: format!(
                "issue a self-signed certificate for {} ({key_note}): {why}",
                names.join(", ")
            ),
        })
    }

    fn wanted<'a>(&'a self, cx: &StepCx, path: &'a str, content: &[u8]) -> Wanted<'a> {
        key_or_cert(cx, path, content, (&self.key, &self.group), &self.notify)
    }

    /// Plan (or, given a backup, apply) both files and merge them into one report.
    fn run(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: Option<&mut Backup>,
    ) -> Result<Planned, StepError> {
        let d = self.decide(cx)?;
        let key_w = self.wanted(cx, &self.key, &d.key);
        let cert_w = self.wanted(cx, &self.cert, &d.cert);
        let reissue = d.cert != cx.host.root.read(&self.cert)?.unwrap_or_default();
        let (k, c) = match backup {
            Some(b) => {
                let k = managed::apply(cx, run, b, &key_w)?;
                (k, managed::apply(cx, run, b, &cert_w)?)
            }
            None => (
                managed::plan(cx, run, &key_w)?,
                managed::plan(cx, run, &cert_w)?,
            ),
        };
        let diff = || {
            managed::diff(
                cx,
                &self.cert,
                d.old.as_deref().map(str::as_bytes),
                d.new.as_bytes(),
                false,
            )
        };
        let drifted: Vec<&str> = [(&k, &self.key), (&c, &self.cert)]
            .iter()
            .filter(|(p, _)| matches!(p.change, Change::Drift { .. }))
            .map(|(_, path)| path.as_str())
            .collect();
        let (change, summary) = if !drifted.is_empty() {
            let s = format!(
                "{} edited by hand since firstboot wrote it; left alone (--overwrite replaces it)",
                drifted.join(" and ")
            );
            (Change::Drift { diff: diff() }, s)
        } else if reissue {
            let change = match c.change {
                Change::Create { .. } => Change::Create { diff: diff() },
                _ => Change::Update { diff: diff() },
            };
            (change, d.summary)
        } else if k.change.is_change() || c.change.is_change() {
            let meta: Vec<String> = [(&k, "key"), (&c, "certificate")]
                .iter()
                .filter(|(p, _)| p.change.is_change())
                .map(|(p, what)| format!("{what}: {}", p.summary))
                .collect();
            (Change::Update { diff: None }, meta.join(", "))
        } else {
            (Change::None, d.summary)
        };
        Ok(Planned::new(self.target(), change, summary))
    }
}

impl SelfSignedCert {
    /// Under an offline root (an image being built) the key is host-unique: it is not
    /// made into the image, where every instance would share it, but on the first boot
    /// of each instance.
    fn first_boot(&self) -> Result<Planned, StepError> {
        let what = format!(
            "make a key and a self-signed certificate for {} on the first boot of each instance (host-unique: never made into an image)",
            self.names()?.join(", ")
        );
        Ok(offline(self.target(), &what))
    }
}

/// A self-signed TLS server certificate for `names` (the first is the CN), valid from
/// an hour ago for `days` days, with a random serial number.
pub(crate) fn issue(
    kp: &KeyPair,
    names: &[String],
    now: i64,
    days: u32,
) -> Result<String, StepError> {
    let bad = |e: rcgen::Error| invalid(format!("cannot make the certificate: {e}"));
    let mut params = CertificateParams::new(names.to_vec()).map_err(bad)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, names[0].clone());
    params.distinguished_name = dn;
    let at = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .map_err(|e| invalid(format!("certificate validity out of range: {e}")))
    };
    params.not_before = at(now - 3600)?;
    params.not_after = at(now + i64::from(days) * 86_400)?;
    let mut serial = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut serial)
        .map_err(|_| invalid("no randomness for a serial number".into()))?;
    serial[0] = (serial[0] & 0x7f) | 0x40;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if kp.algorithm() == &rcgen::PKCS_RSA_SHA256 {
        params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    Ok(params.self_signed(kp).map_err(bad)?.pem())
}

impl Step for SelfSignedCert {
    fn target(&self) -> String {
        format!("action self_signed_cert {}", self.cert)
    }

    fn plan(&self, cx: &StepCx, run: &mut RunState) -> Result<Planned, StepError> {
        if !cx.host.is_live() {
            return self.first_boot();
        }
        self.run(cx, run, None)
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        if !cx.host.is_live() {
            return self.first_boot();
        }
        self.run(cx, run, Some(backup))
    }
}
