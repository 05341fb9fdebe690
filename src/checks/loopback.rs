//! The `mail_loopback` check (`mail.loopback`): a message goes out through the host's
//! own submission path and a receiver's verdict on it is DKIM, SPF and DMARC pass.
//! 1. `sendmail` (pickup, cleanup, the OpenDKIM milter, as for any local submission)
//!    delivers it to a mailbox of this host; the signed copy is read from the Maildir
//!    and removed (so is the queue entry, should delivery not happen in time);
//! 2. that copy is judged in-process as a receiving MTA would (`dns::receive`,
//!    mail-auth through our DNS client): its DKIM signature against the key the DNS
//!    serves, SPF for each public address of the host with its HELO name and the
//!    envelope sender, DMARC alignment and policy.
//!
//! It is not sent to the host's own port 25: the host trusts its own addresses (it
//! signs mail from them instead of verifying it), so it is no receiver to ask. A DKIM,
//! SPF or DMARC fail fails; none or temperror (a record not visible yet) is pending.

use super::dnsq::{lookup, server};
use super::loopback_msg::{message, strip_delivery, verdict};
use super::queue::parse as parse_queue;
use super::{Check, CheckCx, CheckResult, CheckStatus};
use crate::dns::receive::judge;
use serde::Deserialize;
use std::net::IpAddr;
use std::time::{Duration, Instant};

fn wait_seconds() -> u64 {
    20
}

/// A loopback message from `from` to `to`, whose mailbox is the Maildir `maildir`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopbackCheck {
    /// Sender (an address of the signed domain); the envelope sender adds `+<token>`.
    pub from: String,
    /// Recipient, a mailbox on this host (empty: skipped, there is none).
    pub to: String,
    /// The recipient's Maildir (its `new/` and `cur/` are watched).
    pub maildir: String,
    /// Why there is no mailbox to use, when `to` is empty (the skip's reason).
    #[serde(default)]
    pub no_mailbox: String,
    /// The host's public IPv4 address (empty: none): the message is judged from it.
    #[serde(default)]
    pub ipv4: String,
    /// The host's public IPv6 address (empty: none).
    #[serde(default)]
    pub ipv6: String,
    /// The host's name: its HELO name.
    pub hostname: String,
    /// Server to ask (empty: the first nameserver of /etc/resolv.conf).
    #[serde(default)]
    pub server: String,
    /// How long delivery may take (default 20).
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
    /// The envelope sender of one probe: `from` with `+token` in its local part, so
    /// that its queue entry can be told from any other.
    fn sender(&self, token: &str) -> String {
        match self.from.trim().rsplit_once('@') {
            Some((l, d)) => format!("{l}+{token}@{d}"),
            None => self.from.trim().to_string(),
        }
    }

    /// Wait for a file in `new/` (or `cur/`, when a client saw it) holding `token`; read
    /// it and remove it.
    fn take(&self, cx: &CheckCx, token: &str) -> Result<String, String> {
        let base = self.maildir.trim_end_matches('/');
        let dirs: Vec<_> = ["new", "cur"]
            .iter()
            .map(|d| cx.host.root.path(format!("{base}/{d}")))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let end = Instant::now() + Duration::from_secs(self.wait_seconds);
        loop {
            let entries = dirs.iter().flat_map(std::fs::read_dir);
            for e in entries.flatten().flatten() {
                let Ok(text) = std::fs::read_to_string(e.path()) else {
                    continue;
                };
                if text.contains(token) {
                    std::fs::remove_file(e.path())
                        .map_err(|err| format!("cannot remove {}: {err}", e.path().display()))?;
                    return Ok(text);
                }
            }
            if Instant::now() >= end {
                return Err(format!(
                    "not delivered to {} within {} s",
                    dirs[0].display(),
                    self.wait_seconds
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn run_cmd(&self, cx: &CheckCx, argv: &[&str], stdin: Option<&[u8]>) -> Result<String, String> {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        let out = cx
            .host
            .runner
            .run(&argv, stdin, &[])
            .map_err(|e| e.to_string())?;
        match out.code {
            Some(0) => Ok(out.stdout),
            _ => Err(format!("{} failed: {}", argv.join(" "), out.stderr.trim())),
        }
    }

    /// Delete the probe's queue entries (a delivery that did not happen in time).
    fn purge(&self, cx: &CheckCx, sender: &str) -> String {
        let listed = self
            .run_cmd(cx, &["postqueue", "-j"], None)
            .and_then(|t| parse_queue(&t));
        let ids: Vec<String> = match listed {
            Ok(q) => q
                .into_iter()
                .filter(|m| m.sender.eq_ignore_ascii_case(sender))
                .map(|m| m.queue_id)
                .collect(),
            Err(e) => return format!("; its queue entry may remain: {e}"),
        };
        let mut gone = Vec::new();
        for id in &ids {
            match self.run_cmd(cx, &["postsuper", "-d", id], None) {
                Ok(_) => gone.push(id.as_str()),
                Err(e) => return format!("; queue entry {id} remains: {e}"),
            }
        }
        match gone.is_empty() {
            true => String::new(),
            false => format!("; queue entry {} deleted", gone.join(", ")),
        }
    }

    fn probe(&self, cx: &CheckCx, ips: &[IpAddr]) -> Result<(CheckStatus, String), String> {
        let token = token();
        let sender = self.sender(&token);
        let msg = message(&self.from, &self.to, &self.hostname, &token);
        let to = self.to.trim();
        self.run_cmd(
            cx,
            &["sendmail", "-i", "-N", "never", "-f", &sender, "--", to],
            Some(msg.as_bytes()),
        )?;
        let signed = match self.take(cx, &token) {
            Ok(s) => s,
            Err(e) => return Err(format!("sendmail to {to}: {e}{}", self.purge(cx, &sender))),
        };
        let srv = server(cx, &self.server)?;
        let look = lookup(cx, srv);
        let judged = judge(
            &look,
            &strip_delivery(&signed),
            ips,
            self.hostname.trim(),
            &sender,
        )?;
        Ok(verdict(&judged, srv))
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
        let name = match self.to.trim() {
            "" => "a message sent here passes DKIM, SPF and DMARC".to_string(),
            to => format!("a message to {to} passes DKIM, SPF and DMARC"),
        };
        if !cx.host.is_live() {
            return CheckResult::new(name, CheckStatus::Skipped, "offline root");
        }
        if self.to.trim().is_empty() {
            let why = match self.no_mailbox.trim() {
                "" => "no mailbox on this host to read the message back from",
                w => w,
            };
            return CheckResult::new(name, CheckStatus::Skipped, why);
        }
        let ips = match super::dnsq::public_addresses(cx, &[&self.ipv4, &self.ipv6]) {
            Ok(a) => a,
            Err((st, why)) => return CheckResult::new(name, st, why),
        };
        match self.probe(cx, &ips) {
            Ok((s, d)) => CheckResult::new(name, s, d),
            Err(e) => CheckResult::new(name, CheckStatus::Fail, e),
        }
    }
}
