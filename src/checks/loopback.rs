//! The `mail_loopback` check: a message goes out through the host's own submission path
//! and comes back through its front door, and the receiving side says DKIM, SPF and
//! DMARC pass. Two legs, both through the real daemons:
//! 1. `sendmail` (pickup, cleanup, OpenDKIM signing as for any local submission)
//!    delivers it to a mailbox; the signed copy is read from the Maildir and removed;
//! 2. that copy (without the headers delivery added) is handed over SMTP to the host's
//!    public address on port 25, as a stranger would: OpenDKIM verifies it, OpenDMARC
//!    evaluates SPF and DMARC and adds Authentication-Results; the delivered copy is
//!    read and removed.
//!
//! Each wait is bounded by `wait_seconds`. A result of none, neutral, temperror or
//! permerror (a record not visible yet) is pending, not a failure.

use super::loopback_msg::{auth_results, message, strip_delivery, Verdict};
use super::smtp_client::Session;
use super::{Check, CheckCx, CheckResult, CheckStatus};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

fn wait_seconds() -> u64 {
    20
}

/// A loopback message from `from` to `to`, whose mailbox is the Maildir `maildir`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopbackCheck {
    /// Envelope and header sender (an address of the signed domain).
    pub from: String,
    /// Recipient, a mailbox on this host (empty: skipped, there is none).
    pub to: String,
    /// The recipient's Maildir (its `new/` is watched).
    pub maildir: String,
    /// The host's public address (port 25 is asked there).
    pub address: String,
    /// The host's name: EHLO, and the authserv-id whose results count.
    pub hostname: String,
    /// How long each delivery may take (default 20).
    #[serde(default = "wait_seconds")]
    pub wait_seconds: u64,
}

fn token() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        b = t.map_or(0, |d| d.as_nanos() as u64).to_be_bytes();
    }
    hex::encode(b)
}

impl LoopbackCheck {
    /// Wait for a file in `new/` (or `cur/`, when a client saw it) holding `token`; read
    /// it and remove it.
    fn take(&self, cx: &CheckCx, token: &str) -> Result<String, String> {
        let base = self.maildir.trim_end_matches('/');
        let dir = cx
            .host
            .root
            .path(format!("{base}/new"))
            .map_err(|e| e.to_string())?;
        let cur = cx
            .host
            .root
            .path(format!("{base}/cur"))
            .map_err(|e| e.to_string())?;
        let end = Instant::now() + Duration::from_secs(self.wait_seconds);
        loop {
            let entries = [&dir, &cur].into_iter().flat_map(std::fs::read_dir);
            for e in entries.flatten().flatten() {
                let Ok(text) = std::fs::read_to_string(e.path()) else {
                    continue;
                };
                if text.contains(token) {
                    let _ = std::fs::remove_file(e.path());
                    return Ok(text);
                }
            }
            if Instant::now() >= end {
                return Err(format!(
                    "not delivered to {} within {} s",
                    dir.display(),
                    self.wait_seconds
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn submit(&self, cx: &CheckCx, msg: &str) -> Result<(), String> {
        let argv: Vec<String> = ["sendmail", "-i", "-f", &self.from, "--", &self.to]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let out = cx
            .host
            .runner
            .run(&argv, Some(msg.as_bytes()), &[])
            .map_err(|e| e.to_string())?;
        match out.code {
            Some(0) => Ok(()),
            _ => Err(format!("sendmail failed: {}", out.stderr.trim())),
        }
    }

    fn resend(&self, cx: &CheckCx, ip: IpAddr, msg: &str) -> Result<(), String> {
        let addr = SocketAddr::new(ip, 25);
        let (mut s, greeting) =
            Session::open(cx.host.net.as_ref(), addr, cx.timeout).map_err(|e| e.detail)?;
        let mut step = |cmd: &str, want: u16| -> Result<(), String> {
            let r = s.command(cmd)?;
            match r.code == want {
                true => Ok(()),
                false => Err(format!(
                    "{} answered {}",
                    cmd.split(':').next().unwrap_or(cmd),
                    r.first()
                )),
            }
        };
        if greeting.code != 220 {
            return Err(format!("greeting is {:?}", greeting.first()));
        }
        step(&format!("EHLO {}", self.hostname), 250)?;
        step(&format!("MAIL FROM:<{}>", self.from), 250)?;
        step(&format!("RCPT TO:<{}>", self.to), 250)?;
        step("DATA", 354)?;
        let mut body = String::new();
        for l in msg.lines() {
            if l.starts_with('.') {
                body.push('.');
            }
            body.push_str(l);
            body.push_str("\r\n");
        }
        body.push('.');
        step(&body, 250)?;
        s.quit();
        Ok(())
    }

    fn probe(&self, cx: &CheckCx, ip: IpAddr) -> Result<(CheckStatus, String), String> {
        let token = token();
        self.submit(cx, &message(&self.from, &self.to, &self.hostname, &token))?;
        let signed = self
            .take(cx, &token)
            .map_err(|e| format!("leg 1 (sendmail): {e}"))?;
        if !signed.to_ascii_lowercase().contains("\ndkim-signature:") {
            return Ok((
                CheckStatus::Fail,
                "leg 1: the message left unsigned (no DKIM-Signature)".into(),
            ));
        }
        self.resend(cx, ip, &strip_delivery(&signed))
            .map_err(|e| format!("leg 2 (port 25): {e}"))?;
        let back = self
            .take(cx, &token)
            .map_err(|e| format!("leg 2 (port 25): {e}"))?;
        let v: Verdict = auth_results(&back, &self.hostname);
        Ok((v.status(), v.detail()))
    }
}

impl Check for LoopbackCheck {
    fn settles(&self) -> bool {
        true
    }

    fn probes(&self) -> bool {
        true
    }

    fn run(&self, cx: &CheckCx) -> CheckResult {
        let name = format!("loopback message to {} signed and verified", self.to.trim());
        if !cx.host.is_live() {
            return CheckResult::new(name, CheckStatus::Skipped, "offline root");
        }
        if self.to.trim().is_empty() || self.address.trim().is_empty() {
            let why = "needs a mailbox on this host (mail.users) and a public address (ipv4)";
            return CheckResult::new(name, CheckStatus::Skipped, why);
        }
        let ip: IpAddr = match self.address.trim().parse() {
            Ok(ip) => ip,
            Err(_) => {
                return CheckResult::new(
                    name,
                    CheckStatus::Fail,
                    format!("{:?} is not an IP address", self.address),
                )
            }
        };
        match self.probe(cx, ip) {
            Ok((s, d)) => CheckResult::new(name, s, d),
            Err(e) => CheckResult::new(name, CheckStatus::Fail, e),
        }
    }
}

#[cfg(test)]
#[path = "loopback_tests.rs"]
mod tests;
