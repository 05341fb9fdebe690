//! `acme_cert` on the live host: plan (the CA is never asked), apply in a run (files
//! through the managed, backed-up path) and `renew` for `firstboot acme renew` between
//! runs (atomic writes, then the services reloaded).

use super::{key_pair, AcmeCert, Renewal};
use crate::acme::{pem_tail, Standing, State};
use crate::backup::Backup;
use crate::steps::managed;
use crate::steps::{Change, Planned, RunState, Step, StepCx, StepError};
use crate::tls::fmt_time;

impl AcmeCert {
    pub(super) fn plan_live(&self, cx: &StepCx, run: &mut RunState) -> Result<Planned, StepError> {
        let names = self.names()?;
        let key_now = cx.host.root.read(&self.key)?;
        let (_, key_pem, made) = key_pair(key_now.as_deref())?;
        let k = managed::plan(cx, run, &self.wanted(cx, &self.key, &key_pem))?;
        let s = self.standing(cx.host, &key_pem)?;
        if self.good(&s) && !k.change.is_change() {
            return Ok(Planned::new(self.target(), Change::None, self.kept(&s)));
        }
        let key_note = if made {
            "make a key (ECDSA P-256), then "
        } else {
            ""
        };
        let summary = match &s {
            Standing::Issued { .. } if self.good(&s) => self.kept(&s),
            _ => format!(
                "{key_note}ask {} for a certificate for {} with the kept key (certbot --csr, http-01 on port 80); a self-signed stand-in with that key until it succeeds",
                self.directory,
                names.join(", ")
            ),
        };
        Ok(Planned::new(self.target(), Change::Act, summary))
    }

    fn kept(&self, s: &Standing) -> String {
        match s {
            Standing::Issued { days, not_after } => format!(
                "certificate from the CA valid until {} ({days} days), covers {}, key kept; renewed from {}",
                fmt_time(*not_after),
                self.names().unwrap_or_default().join(", "),
                fmt_time(not_after - i64::from(self.renew_days) * 86_400)
            ),
            _ => String::new(),
        }
    }

    pub(super) fn apply_live(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        let host = cx.host;
        let names = self.names()?;
        let key_now = host.root.read(&self.key)?;
        let (kp, key_pem, made) = key_pair(key_now.as_deref())?;
        let k = managed::apply(cx, run, backup, &self.wanted(cx, &self.key, &key_pem))?;
        let s = self.standing(host, &key_pem)?;
        let now = crate::tls::now();
        let cert_now = host.root.read(&self.cert)?;
        let key_note = if made {
            "new ECDSA P-256 key"
        } else {
            "key kept"
        };
        let (cert, chain, summary, asked) = if self.good(&s) {
            let cert = cert_now.clone().unwrap_or_default();
            let chain = host
                .root
                .read(&self.chain)?
                .unwrap_or_else(|| pem_tail(&cert));
            (cert, chain, self.kept(&s), false)
        } else {
            let mut state = State::load(&host.root);
            match self.ask(host, &names, &key_pem) {
                Ok(i) => {
                    state.succeeded(now);
                    state.save(&host.root)?;
                    let summary = format!(
                        "certificate issued by {} for {} ({key_note}), valid until {}",
                        self.directory,
                        names.join(", "),
                        fmt_time(i.not_after)
                    );
                    (i.fullchain, i.chain, summary, true)
                }
                Err(why) => {
                    state.failed(now, &why);
                    state.save(&host.root)?;
                    let next = Self::next_line(&state);
                    let (cert, chain, what) = match &s {
                        // Still valid: served until the retries renew it.
                        Standing::Issued { .. } => {
                            let cert = cert_now.clone().unwrap_or_default();
                            let chain = host.root.read(&self.chain)?.unwrap_or_default();
                            (cert, chain, "the CA's certificate on disk is kept")
                        }
                        _ => {
                            let c = self.stand_in(host, &kp, &names, &s)?;
                            (c.clone(), c, "a self-signed stand-in made with the kept key is installed (a TLSA 3 1 1 record stays valid)")
                        }
                    };
                    let summary =
                        format!("WARNING: no certificate from the CA yet: {why}; {what}; {next}");
                    tracing::warn!("{summary}");
                    (cert, chain, summary, true)
                }
            }
        };
        let c = managed::apply(cx, run, backup, &self.wanted(cx, &self.cert, &cert))?;
        let ch = managed::apply(cx, run, backup, &self.wanted(cx, &self.chain, &chain))?;
        let changed = [&k, &c, &ch].iter().any(|p| p.change.is_change());
        if c.change.is_change() && cert_now.is_some() {
            self.reload(host)?;
        }
        let change = match (&c.change, changed || asked) {
            (Change::Create { .. }, _) => Change::Create { diff: None },
            (_, true) => Change::Act,
            (_, false) => Change::None,
        };
        Ok(Planned::new(self.target(), change, summary))
    }

    /// What `firstboot acme renew` does: nothing while the CA's certificate is good
    /// (`force`: renew it anyway) or the backoff says later (`now`: ask at once);
    /// otherwise ask the CA, install what it issued and reload the running services, or
    /// count the failure (a missing or unusable certificate is replaced by a stand-in,
    /// so the paths keep existing).
    pub fn renew(
        &self,
        host: &crate::host::Host,
        force: bool,
        now_flag: bool,
    ) -> Result<Renewal, StepError> {
        if !host.is_live() {
            return Err(StepError::Invalid(
                "an offline root has no CA to ask: run `firstboot acme renew` on the host".into(),
            ));
        }
        let names = self.names()?;
        let key_pem = host.root.read(&self.key)?.ok_or_else(|| {
            StepError::Invalid(format!(
                "{} does not exist: run `firstboot run --only ssl` first (it makes the key)",
                self.key
            ))
        })?;
        let (kp, _, made) = key_pair(Some(&key_pem))?;
        if made {
            return Err(StepError::Invalid(format!(
                "{} is not a key firstboot can read (PKCS#8 PEM); it is never replaced here",
                self.key
            )));
        }
        let s = self.standing(host, &key_pem)?;
        let now = crate::tls::now();
        if let (Standing::Issued { not_after, .. }, true) = (&s, self.good(&s) && !force) {
            let due = not_after - i64::from(self.renew_days) * 86_400;
            return Ok(Renewal::NotDue {
                not_after: *not_after,
                due,
            });
        }
        let mut state = State::load(&host.root);
        if !state.may_try(now) && !now_flag && !force {
            return Ok(Renewal::Waiting {
                next_try: state.next_try.unwrap_or(now),
                last_error: state.last_error.clone(),
            });
        }
        let root = &host.root;
        let ids = host.owner_ids("root", "root")?;
        match self.ask(host, &names, &key_pem) {
            Ok(i) => {
                root.write_atomic(&self.cert, &i.fullchain, 0o644, ids)?;
                root.write_atomic(&self.chain, &i.chain, 0o644, ids)?;
                state.succeeded(now);
                state.save(root)?;
                Ok(Renewal::Installed {
                    not_after: i.not_after,
                    reloaded: self.reload(host)?,
                })
            }
            Err(why) => {
                state.failed(now, &why);
                state.save(root)?;
                // Not the CA's: a stand-in that stays valid (made again before it runs out).
                if !matches!(s, Standing::Issued { .. }) {
                    let c = self.stand_in(host, &kp, &names, &s)?;
                    if root.read(&self.cert)?.as_deref() != Some(&c[..]) {
                        root.write_atomic(&self.cert, &c, 0o644, ids)?;
                        root.write_atomic(&self.chain, &c, 0o644, ids)?;
                        self.reload(host)?;
                    }
                }
                Ok(Renewal::Failed {
                    why: state.last_error.clone().unwrap_or_default(),
                    next_try: state.next_try.unwrap_or(now),
                })
            }
        }
    }
}
