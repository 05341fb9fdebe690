//! `dkim_key`: the DKIM signing key, an RSA key generated in-process (`rsa` crate) and
//! written as PKCS#1 PEM, mode 0600, owned by `opendkim` when that account exists (else
//! root). Idempotent: an existing key is kept as it is, even if `bits` changed (rotating
//! a DKIM key needs its new record published first, so it is never done implicitly).
//! The file is backed up (recorded absent), so a rollback removes it. The key is never
//! shown. On an offline tree nothing is generated: a key baked into an image would be
//! shared by every machine made from it.

use crate::backup::Backup;
use crate::host::HostError;
use crate::steps::templated::Templated;
use crate::steps::{offline, Change, Planned, RunState, Step, StepCx, StepError};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, LineEnding};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde::Deserialize;

/// Generate the DKIM private key if it does not exist.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkimKey {
    /// In-tree path of the private key (`/etc/opendkim/keys/<domain>/<selector>.private`).
    pub path: String,
    /// Key size in bits (a number or its text, as rendered from `mail.dkim.bits`).
    pub bits: Templated<u32>,
    /// Owner (and group) of the key and its directory when that account exists.
    #[serde(default = "default_owner")]
    pub owner: String,
}

fn default_owner() -> String {
    "opendkim".into()
}

fn invalid(msg: String) -> StepError {
    StepError::Invalid(msg)
}

impl DkimKey {
    fn bits(&self) -> Result<usize, StepError> {
        let bits = *self.bits.get()? as usize;
        match (1024..=4096).contains(&bits) {
            true => Ok(bits),
            false => Err(invalid(format!("bits {bits} is not 1024 to 4096"))),
        }
    }

    /// `opendkim:opendkim` when the account exists, else `root:root` (`None`: ownership
    /// cannot be enforced, e.g. not running as root).
    fn ids(&self, cx: &StepCx) -> Result<(Option<(u32, u32)>, String), StepError> {
        match cx.host.owner_ids(&self.owner, &self.owner) {
            Ok(Some(ids)) => Ok((Some(ids), self.owner.clone())),
            Ok(None) => Ok((None, self.owner.clone())),
            Err(HostError::UnknownAccount { .. }) => {
                Ok((cx.host.owner_ids("root", "root")?, "root".into()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The size of the key already at `path`, if there is one.
    fn existing(&self, cx: &StepCx) -> Result<Option<usize>, StepError> {
        let Some(data) = cx.host.root.read(&self.path)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&data);
        let key = rsa::PrivateKey::from_pkcs1_pem(&text)
            .map_err(|e| e.to_string())
            .or_else(|_| rsa::PrivateKey::from_pkcs8_pem(&text).map_err(|e| e.to_string()))
            .map_err(|_| {
                invalid(format!(
                    "{} exists but is not an RSA private key in PEM; move it away to have a new key made",
                    self.path
                ))
            })?;
        Ok(Some(key.n().bit_width() as usize))
    }
}

impl Step for DkimKey {
    fn target(&self) -> String {
        format!("action dkim_key {}", self.path)
    }

    fn plan(&self, cx: &StepCx, _run: &mut RunState) -> Result<Planned, StepError> {
        let bits = self.bits()?;
        if !cx.host.is_live() {
            return Ok(offline(
                self.target(),
                &format!("generate a {bits}-bit RSA key on the running system"),
            ));
        }
        Ok(match self.existing(cx)? {
            Some(have) if have == bits => {
                Planned::new(self.target(), Change::None, format!("{have}-bit key present"))
            }
            Some(have) => Planned::new(
                self.target(),
                Change::None,
                format!("{have}-bit key present, kept (mail.dkim.bits is {bits}: rotate it by hand, publishing the new record first)"),
            ),
            None => {
                let (_, owner) = self.ids(cx)?;
                Planned::new(
                    self.target(),
                    Change::Create { diff: None },
                    format!("generate a {bits}-bit RSA key (0600 {owner}:{owner})"),
                )
            }
        })
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        crate::steps::apply_planned(self, cx, run, |run| {
            let bits = self.bits()?;
            let (ids, _) = self.ids(cx)?;
            let root = &cx.host.root;
            backup.create_parents(&self.path, 0o750, ids)?;
            let key = rsa::PrivateKey::new(&mut getrandom::SysRng, bits)
                .map_err(|e| invalid(format!("cannot generate a {bits}-bit RSA key: {e}")))?;
            let pem = key
                .to_pkcs1_pem(LineEnding::LF)
                .map_err(|e| invalid(format!("cannot encode the key: {e}")))?;
            backup.record_file(&self.path)?;
            root.write_atomic(&self.path, pem.as_bytes(), 0o600, ids)?;
            run.changed.insert(self.path.clone());
            Ok(())
        })
    }
}
