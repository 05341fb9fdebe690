//! The `smtp` check: what the host's SMTP server shows a stranger, asked on its public
//! address (never 127.0.0.1, which `mynetworks` trusts). Three probes:
//! - `banner`: the greeting names the host (`220 mail.example.test ...`);
//! - `auth_before_tls`: EHLO before STARTTLS offers no AUTH (a password would cross in
//!   clear);
//! - `open_relay`: RCPT to a foreign domain without AUTH is refused with 5xx, plainly and
//!   with the classic tricks (percent hack, bang path, quoted local part, two `@`).
//!   Each RCPT is followed by RSET and the session by QUIT: no message is ever sent.

use super::smtp_client::{Reply, Session};
use super::{Check, CheckCx, CheckResult, CheckStatus};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};

/// What is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Probe {
    /// The greeting names the host.
    Banner,
    /// No AUTH offered before STARTTLS.
    AuthBeforeTls,
    /// No relaying to a foreign domain without AUTH.
    OpenRelay,
}

fn smtp_port() -> u16 {
    25
}

fn foreign() -> String {
    "example.com".into()
}

/// An SMTP probe of `address`:`port`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpCheck {
    /// What is probed.
    pub probe: Probe,
    /// The host's public address (empty: skipped, there is none configured).
    pub address: String,
    /// The port (default 25).
    #[serde(default = "smtp_port")]
    pub port: u16,
    /// The host's name: what the banner must name, and the name said in EHLO.
    pub hostname: String,
    /// The host's mail domain (the tricks address it: `user%foreign@domain`).
    #[serde(default)]
    pub domain: String,
    /// The foreign domain relaying is tried to (default `example.com`).
    #[serde(default = "foreign")]
    pub foreign: String,
}

/// The recipients tried by the open relay probe: a trick's name and the address.
pub fn relay_tricks(domain: &str, foreign: &str) -> Vec<(&'static str, String)> {
    let u = "firstboot-relay-probe";
    let mut v = vec![("foreign domain", format!("{u}@{foreign}"))];
    if !domain.is_empty() {
        v.extend([
            ("percent hack", format!("{u}%{foreign}@{domain}")),
            ("bang path", format!("{foreign}!{u}@{domain}")),
            ("quoted local part", format!("\"{u}@{foreign}\"@{domain}")),
            ("two @", format!("{u}@{foreign}@{domain}")),
        ]);
    }
    v
}

impl SmtpCheck {
    fn name(&self) -> String {
        let what = match self.probe {
            Probe::Banner => "SMTP banner names the host",
            Probe::AuthBeforeTls => "no AUTH before STARTTLS",
            Probe::OpenRelay => "no relaying without AUTH",
        };
        match self.address.trim() {
            "" => format!("{what} (port {})", self.port),
            a => format!("{what} ({a}:{})", self.port),
        }
    }

    fn ehlo(&self, s: &mut Session) -> Result<Reply, String> {
        let r = s.command(&format!("EHLO {}", self.hostname))?;
        match r.code {
            250 => Ok(r),
            _ => Err(format!("EHLO refused: {}", r.first())),
        }
    }

    fn banner(&self, greeting: &Reply) -> (CheckStatus, String) {
        let named = greeting.lines[0].split_whitespace().next().unwrap_or("");
        if greeting.code == 220 && named.eq_ignore_ascii_case(&self.hostname) {
            (CheckStatus::Pass, greeting.first())
        } else {
            let why = format!(
                "greeting is {:?}, expected 220 {}",
                greeting.first(),
                self.hostname
            );
            (CheckStatus::Fail, why)
        }
    }

    fn auth_before_tls(&self, s: &mut Session) -> Result<(CheckStatus, String), String> {
        let ehlo = self.ehlo(s)?;
        let tls = if ehlo.offers("STARTTLS") {
            "STARTTLS offered"
        } else {
            "no STARTTLS offered"
        };
        Ok(match ehlo.offers("AUTH") {
            true => (
                CheckStatus::Fail,
                format!("AUTH offered before STARTTLS ({tls})"),
            ),
            false => (
                CheckStatus::Pass,
                format!("no AUTH before STARTTLS ({tls})"),
            ),
        })
    }

    fn open_relay(&self, s: &mut Session) -> Result<(CheckStatus, String), String> {
        self.ehlo(s)?;
        let mut relayed = Vec::new();
        let mut soft = Vec::new();
        let tricks = relay_tricks(self.domain.trim(), &self.foreign);
        for (trick, rcpt) in &tricks {
            let from = s.command("MAIL FROM:<>")?;
            if from.code != 250 {
                // Refused before any recipient: nothing can be relayed in this session.
                let why = format!("MAIL FROM refused: {}", from.first());
                return Ok(if from.code >= 500 {
                    (CheckStatus::Pass, why)
                } else {
                    (CheckStatus::Warn, why)
                });
            }
            let r = s.command(&format!("RCPT TO:<{rcpt}>"))?;
            match r.code {
                200..=299 => relayed.push(format!("{trick} <{rcpt}>: {}", r.first())),
                400..=499 => soft.push(format!("{trick}: {}", r.first())),
                _ => {}
            }
            s.command("RSET")?;
        }
        Ok(if !relayed.is_empty() {
            (
                CheckStatus::Fail,
                format!("open relay: accepted {}", relayed.join("; ")),
            )
        } else if !soft.is_empty() {
            let why = format!(
                "only temporarily refused (4xx, not 5xx): {}",
                soft.join("; ")
            );
            (CheckStatus::Warn, why)
        } else {
            let why = format!(
                "{} recipient(s) refused with 5xx (foreign domain and tricks)",
                tricks.len()
            );
            (CheckStatus::Pass, why)
        })
    }
}

impl Check for SmtpCheck {
    fn settles(&self) -> bool {
        true
    }

    fn probes(&self) -> bool {
        true
    }

    fn run(&self, cx: &CheckCx) -> CheckResult {
        let name = self.name();
        if !cx.host.is_live() {
            return CheckResult::new(name, CheckStatus::Skipped, "offline root");
        }
        let address = self.address.trim();
        if address.is_empty() {
            let why = "no public address configured (ipv4 or ipv6): nothing to probe";
            return CheckResult::new(name, CheckStatus::Skipped, why);
        }
        let ip: IpAddr = match address.parse() {
            Ok(ip) => ip,
            Err(_) => {
                let why = format!("{address:?} is not an IP address");
                return CheckResult::new(name, CheckStatus::Fail, why);
            }
        };
        let addr = SocketAddr::new(ip, self.port);
        let (mut s, greeting) = match Session::open(cx.host.net.as_ref(), addr, cx.timeout) {
            Ok(x) => x,
            // Nothing answered at all: a firewall drops the packets on the way to our
            // own address, which says nothing about Postfix (and rolling back would
            // not help); refused or garbled, Postfix is not serving there.
            Err(e) if e.timed_out => {
                let why = format!("{e} (a firewall drops it?): not probed");
                return CheckResult::new(name, CheckStatus::Warn, why);
            }
            Err(e) => return CheckResult::new(name, CheckStatus::Fail, e.detail),
        };
        let outcome = match self.probe {
            Probe::Banner => Ok(self.banner(&greeting)),
            _ if greeting.code != 220 => Err(format!("greeting is {:?}", greeting.first())),
            Probe::AuthBeforeTls => self.auth_before_tls(&mut s),
            Probe::OpenRelay => self.open_relay(&mut s),
        };
        s.quit();
        match outcome {
            Ok((status, detail)) => CheckResult::new(name, status, detail),
            Err(e) => CheckResult::new(name, CheckStatus::Fail, e),
        }
    }
}

#[cfg(test)]
#[path = "smtp_tests.rs"]
mod tests;
