//! `firstboot acme renew` and `firstboot acme status`: the ACME certificate between runs.
//! Both read the config as `run` would and find 7-ssl_config's `acme_cert` step, so the
//! paths, names and CA are exactly the run's; `renew` holds the firstboot lock while it
//! works.

use crate::acme::{Standing, State, CRON_FILE};
use crate::cli::{AcmeAction, Cli, Selection};
use crate::engine::{prepare, Prepared};
use crate::error::{Error, Result};
use crate::logging::Logs;
use crate::steps::action::ActionStep;
use crate::steps::actions::acme_cert::{AcmeCert, Renewal};
use crate::steps::StepKind;
use crate::tls::fmt_time;

/// Run an `acme` action.
pub fn acme(cli: &Cli, action: &AcmeAction, logs: &Logs) -> Result<()> {
    match action {
        AcmeAction::Renew { sel, now, force } => renew(cli, sel, (*now, *force), logs),
        AcmeAction::Status { sel } => status(cli, sel),
    }
}

/// The config as `run` reads it, 7-ssl_config alone.
fn prepared(cli: &Cli, sel: &Selection) -> Result<Prepared> {
    if !sel.only.is_empty() {
        return Err(Error::Usage(
            "--only does not apply to `firstboot acme`: it works on the module whose steps ask for the ACME certificate".into(),
        ));
    }
    let last = super::last_profile(cli)?;
    let mut sel = sel.clone();
    sel.only = vec!["ssl".into()];
    prepare(&super::options(cli, Some(&sel)), last.as_deref())
}

/// The `acme_cert` step of the prepared modules and the id of the module holding it
/// (`None`: the config asks for no ACME certificate).
fn step(p: &Prepared) -> Option<(&AcmeCert, &str)> {
    p.built.iter().find_map(|b| {
        b.built.steps.iter().find_map(|s| match s {
            StepKind::Action(ActionStep::AcmeCert(a)) => Some((a, p.selected[b.index].id.as_str())),
            _ => None,
        })
    })
}

const NOT_ACME: &str = "ssl.provider is not acme in this config: there is no ACME certificate";

/// A result line: on stdout (unless --quiet) and in the log files.
fn say(cli: &Cli, msg: &str) {
    tracing::info!(target: "progress", "{msg}");
    if !cli.quiet {
        println!("{msg}");
    }
}

fn renew(cli: &Cli, sel: &Selection, (now, force): (bool, bool), logs: &Logs) -> Result<()> {
    let p = prepared(cli, sel)?;
    // Nothing to renew (the provider changed since the cron job was written): a success
    // that says so, not an error mailed by cron every five minutes.
    let Some((a, id)) = step(&p) else {
        say(
            cli,
            &format!(
                "acme: nothing to renew: {NOT_ACME} (the next `firstboot run` removes /etc/cron.d/firstboot-acme)"
            ),
        );
        return Ok(());
    };
    let _lock = crate::lock::acquire(&p.host.root)?;
    if let Err(e) = logs.open(&p.host.root, p.redactor.clone(), &[id]) {
        tracing::warn!("{e}; logging to stderr only");
    }
    let span = tracing::info_span!("module", id = %id);
    let _g = span.enter();
    let progress = |m: &str| say(cli, m);
    let failed = |e: crate::steps::StepError| Error::Module {
        module: id.into(),
        reason: format!("acme renew: {e}"),
    };
    match a.renew(&p.host, force, now).map_err(failed)? {
        Renewal::NotDue { not_after, due } => progress(&format!(
            "acme: the CA's certificate is valid until {}; not due before {}",
            fmt_time(not_after),
            fmt_time(due)
        )),
        Renewal::Waiting {
            next_try,
            last_error,
        } => progress(&format!(
            "acme: next try from {} (backoff; --now asks at once); last error: {}",
            fmt_time(next_try),
            last_error.as_deref().unwrap_or("none")
        )),
        Renewal::Installed {
            not_after,
            reloaded,
        } => progress(&format!(
            "acme: installed a certificate from {} valid until {} at {}; reloaded: {}",
            a.directory,
            fmt_time(not_after),
            a.cert,
            match reloaded.is_empty() {
                true => "nothing running".to_string(),
                false => reloaded.join(", "),
            }
        )),
        Renewal::Failed { why, next_try } => {
            let reason = format!(
                "acme renew: the CA issued no certificate: {why}; next try from {}",
                fmt_time(next_try)
            );
            tracing::info!("{reason}");
            return Err(Error::Module {
                module: id.into(),
                reason,
            });
        }
    }
    Ok(())
}

fn status(cli: &Cli, sel: &Selection) -> Result<()> {
    let p = prepared(cli, sel)?;
    let (a, _) = step(&p).ok_or_else(|| Error::Usage(NOT_ACME.into()))?;
    let root = &p.host.root;
    let key = root.read(&a.key)?;
    let cert = match key.as_deref() {
        None => format!("no key yet at {} (run `firstboot run --only ssl`)", a.key),
        Some(k) => match a.standing(&p.host, k) {
            Ok(Standing::Issued { days, not_after }) => format!(
                "from the CA, valid until {} ({days} days)",
                fmt_time(not_after)
            ),
            Ok(Standing::StandIn { days }) => {
                format!("self-signed stand-in ({days} days left): ACME has not succeeded yet")
            }
            Ok(Standing::Unusable(why)) => format!("unusable: {why}"),
            Err(e) => e.to_string(),
        },
    };
    let s = State::load(root);
    let t = |v: Option<i64>| v.map_or("-".to_string(), fmt_time);
    println!("certificate: {} ({})", a.cert, cert);
    println!("key:         {} (kept)", a.key);
    println!("CA:          {}", a.directory);
    println!("failures:    {}", s.failures);
    println!("last try:    {}", t(s.last_try));
    println!("last error:  {}", s.last_error.as_deref().unwrap_or("-"));
    println!("next try:    {}", t(s.next_try));
    println!("issued:      {}", t(s.issued));
    let cron = match root.read(CRON_FILE)? {
        Some(_) => "installed",
        None => "missing (run `firstboot run --only ssl`)",
    };
    println!("cron:        {CRON_FILE} {cron}");
    Ok(())
}
