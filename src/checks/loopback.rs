//! The `mail_loopback` check (`mail.loopback`): a message goes out through the host's
//! own submission path and a receiver's verdict on it is DKIM, SPF and DMARC pass.
//! 1. `sendmail` submits it (pickup, cleanup, the OpenDKIM milter, as for any mail that
//!    leaves) with this host's secret hold header ([`crate::hold_rule`]): Postfix's
//!    `header_checks` put it in the hold queue once signed, so it is never delivered;
//!    its signed copy is read with `postcat` and the queue entry deleted;
//! 2. that copy is judged in-process as a receiving MTA would (`dns::receive`,
//!    mail-auth through our DNS client): its DKIM signature against the key the DNS
//!    serves, SPF with the envelope sender for each address the mail leaves from (the
//!    host's public addresses and HELO name; in relay mode the smarthost's addresses and
//!    name), DMARC alignment and policy. This works in every mode and reads no mailbox.
//!
//! It is not sent to the host's own port 25: the host trusts its own addresses (it
//! signs mail from them instead of verifying it), so it is no receiver to ask. A DKIM,
//! SPF or DMARC fail fails; none or temperror (a record not visible yet) is pending.

use super::dnsq::{lookup, public_addresses, server, smarthost_addrs};
use super::loopback_msg::{message, strip_delivery, verdict};
use super::queue::parse as parse_queue;
use super::{Check, CheckCx, CheckResult, CheckStatus};
use crate::dns::decl::RType;
use crate::dns::name::DName;
use crate::dns::receive::judge;
use crate::hold_rule::secret;
use serde::Deserialize;
use std::time::{Duration, Instant};

fn wait_seconds() -> u64 {
    20
}

/// A loopback message from `from` to `to`, held by the rule in `hold_file`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopbackCheck {
    /// Sender (an address of the signed domain); the envelope sender adds `+<token>`.
    pub from: String,
    /// Recipient (the message is held, never delivered to it).
    pub to: String,
    /// The `header_checks` table holding the hold rule ([`crate::hold_rule`]).
    pub hold_file: String,
    /// The smarthost in relay mode (empty: none): mail leaves from its addresses, with
    /// its name as HELO, so the message is judged as coming from there.
    #[serde(default)]
    pub relay_host: String,
    /// The host's public IPv4 address (empty: none): the message is judged from it.
    #[serde(default)]
    pub ipv4: String,
    /// The host's public IPv6 address (empty: none).
    #[serde(default)]
    pub ipv6: String,
    /// The host's name: its HELO name.
    pub hostname: String,
    /// The DKIM key record's name (`<selector>._domainkey.<domain>`; empty: unknown),
    /// asked while the message is being signed.
    #[serde(default)]
    pub dkim_record: String,
    /// Server to ask (empty: the first nameserver of /etc/resolv.conf).
    #[serde(default)]
    pub server: String,
    /// How long Postfix may take to hold it (default 20).
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

    /// The secret of the hold rule (an error saying what is wrong when there is none).
    fn secret(&self, cx: &CheckCx) -> Result<String, String> {
        let file = self.hold_file.trim();
        let data = cx.host.root.read(file).map_err(|e| e.to_string())?;
        let Some(data) = data else {
            return Err(format!("{file} is missing: nothing holds the probe"));
        };
        match secret(&String::from_utf8_lossy(&data)) {
            Some(s) => Ok(s.to_string()),
            None => Err(format!("{file} holds no hold rule")),
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

    /// Wait until the probe of `sender` is in the hold queue: its queue id.
    fn held(&self, cx: &CheckCx, sender: &str) -> Result<String, String> {
        let end = Instant::now() + Duration::from_secs(self.wait_seconds);
        let mut seen = String::new();
        loop {
            let queued = parse_queue(&self.run_cmd(cx, &["postqueue", "-j"], None)?)?;
            let probe = queued
                .into_iter()
                .find(|m| m.sender.eq_ignore_ascii_case(sender));
            match probe {
                Some(m) if m.queue_name == "hold" => return Ok(m.queue_id),
                Some(m) => seen = format!(" (it is in the {} queue)", m.queue_name),
                None => {}
            }
            if Instant::now() >= end {
                return Err(format!(
                    "not held within {} s{seen}: is `header_checks = regexp:{}` in main.cf?",
                    self.wait_seconds,
                    self.hold_file.trim()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Delete the probe's queue entries (any queue): `; …` to add to a failure.
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

    /// The TXT questions a receiver asks of the probe: the DKIM key, SPF of the sender's
    /// domain and of the HELO name, and DMARC at the sender's domain and each name above
    /// it (mail-auth walks up the tree).
    fn questions(&self, helo: &str) -> Vec<(DName, RType)> {
        let domain = self.from.trim().rsplit_once('@').map_or("", |(_, d)| d);
        let mut names = vec![self.dkim_record.trim(), domain, helo];
        let mut at = domain;
        let dmarc: Vec<String> = std::iter::from_fn(|| {
            let here = (!at.is_empty()).then(|| format!("_dmarc.{at}"));
            at = at.split_once('.').map_or("", |(_, up)| up);
            here
        })
        .collect();
        names.extend(dmarc.iter().map(String::as_str));
        names
            .into_iter()
            .filter_map(|n| DName::parse(n.trim_end_matches('.')).ok())
            .map(|n| (n, RType::Txt))
            .collect()
    }

    /// Submit the probe and take its signed copy out of the hold queue.
    fn signed_copy(&self, cx: &CheckCx, secret: &str) -> Result<(String, String), String> {
        let token = token();
        let sender = self.sender(&token);
        let msg = message(&self.from, &self.to, &self.hostname, &token, secret);
        let to = self.to.trim();
        self.run_cmd(
            cx,
            &["sendmail", "-i", "-N", "never", "-f", &sender, "--", to],
            Some(msg.as_bytes()),
        )?;
        let id = self
            .held(cx, &sender)
            .map_err(|e| format!("sendmail to {to}: {e}{}", self.purge(cx, &sender)))?;
        let copy = self.run_cmd(cx, &["postcat", "-bh", "-q", &id], None);
        self.run_cmd(cx, &["postsuper", "-d", &id, "hold"], None)
            .map_err(|e| format!("held probe {id} not deleted: {e}"))?;
        Ok((copy?, sender))
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
        let name = "a message sent from here passes DKIM, SPF and DMARC".to_string();
        let fail = |why: String| CheckResult::new(name.clone(), CheckStatus::Fail, why);
        if !cx.host.is_live() {
            return CheckResult::new(name, CheckStatus::Skipped, "offline root");
        }
        // Where the mail leaves from: the smarthost in relay mode, else this host.
        let relay = self.relay_host.trim().trim_end_matches('.');
        let own = match relay.is_empty() {
            true => match public_addresses(cx, &[&self.ipv4, &self.ipv6]) {
                Ok(a) => a,
                Err((st, why)) => return CheckResult::new(name, st, why),
            },
            false => Vec::new(),
        };
        let secret = match self.secret(cx) {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        let srv = match server(cx, &self.server) {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        let look = lookup(cx, srv);
        let (ips, helo) = match smarthost_addrs(&look, relay) {
            Some(Ok(a)) => (a, relay),
            Some(Err((st, why))) => return CheckResult::new(name, st, why),
            None => (own, self.hostname.trim()),
        };
        // What the judgement will ask, asked while the message is being signed.
        let ask = self.questions(helo);
        let copy = std::thread::scope(|s| {
            s.spawn(|| look.prefetch(&ask));
            self.signed_copy(cx, &secret)
        });
        let (signed, sender) = match copy {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        match judge(&look, &strip_delivery(&signed), &ips, helo, &sender) {
            Ok(judged) => {
                let (st, detail) = verdict(&judged, srv);
                CheckResult::new(name, st, detail)
            }
            Err(e) => fail(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_receiver_asks_includes_dmarc_up_the_tree() {
        let c: LoopbackCheck = serde_json::from_value(serde_json::json!({
            "from": "firstboot-loopback@example.test", "to": "a@example.test",
            "hold_file": "/h", "hostname": "mail.example.test",
            "dkim_record": "default._domainkey.example.test"}))
        .unwrap();
        let asked: Vec<String> = c
            .questions("mail.example.test")
            .iter()
            .map(|(n, t)| format!("{t:?} {}", n.fqdn()))
            .collect();
        assert_eq!(
            asked,
            [
                "Txt default._domainkey.example.test.",
                "Txt example.test.",
                "Txt mail.example.test.",
                "Txt _dmarc.example.test.",
                "Txt _dmarc.test.",
            ]
        );
    }
}
