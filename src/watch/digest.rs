//! The digest: events summed up per kind, as one plain-text mail.

use super::events::Event;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Events of one period, counted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Digest {
    /// (jail, address) → bans.
    pub bans: BTreeMap<(String, String), usize>,
    /// (service, address) → failures.
    pub auth_failures: BTreeMap<(String, String), usize>,
    /// Warning text → times seen.
    pub warnings: BTreeMap<String, usize>,
    /// Recipient → (times deferred, last reason).
    pub deferred: BTreeMap<String, (usize, String)>,
}

/// How many different lines of one kind the mail lists (the rest are counted).
const LIST: usize = 20;

impl Digest {
    /// Count one event.
    pub fn add(&mut self, e: Event) {
        match e {
            Event::Ban { jail, addr } => *self.bans.entry((jail, addr)).or_default() += 1,
            Event::AuthFailure { service, addr } => {
                *self
                    .auth_failures
                    .entry((service.into(), addr))
                    .or_default() += 1
            }
            Event::Warning(w) => *self.warnings.entry(w).or_default() += 1,
            Event::Deferred { to, reason } => {
                let d = self.deferred.entry(to).or_default();
                d.0 += 1;
                d.1 = reason;
            }
        }
    }

    /// Nothing happened (no mail is sent).
    pub fn is_empty(&self) -> bool {
        self.bans.is_empty()
            && self.auth_failures.is_empty()
            && self.warnings.is_empty()
            && self.deferred.is_empty()
    }

    /// The subject line.
    pub fn subject(&self, host: &str) -> String {
        let n = |m: usize| m;
        format!(
            "firstboot on {host}: {} ban(s), {} authentication failure(s), {} warning(s), {} deferred",
            n(self.bans.values().sum()),
            n(self.auth_failures.values().sum()),
            n(self.warnings.values().sum()),
            n(self.deferred.values().map(|d| d.0).sum()),
        )
    }

    /// The body: one section per kind that has events.
    pub fn body(&self) -> String {
        let mut out = String::new();
        section(
            &mut out,
            "Banned by fail2ban",
            self.bans
                .iter()
                .map(|((j, a), n)| format!("{a} in jail {j}{}", times(*n))),
        );
        section(
            &mut out,
            "Authentication failures",
            self.auth_failures
                .iter()
                .map(|((s, a), n)| format!("{a} ({s}){}", times(*n))),
        );
        section(
            &mut out,
            "Postfix warnings",
            self.warnings
                .iter()
                .map(|(w, n)| format!("{w}{}", times(*n))),
        );
        section(
            &mut out,
            "Deferred mail",
            self.deferred
                .iter()
                .map(|(to, (n, why))| format!("to {to}{}: {why}", times(*n))),
        );
        out
    }
}

fn times(n: usize) -> String {
    if n > 1 {
        format!(" ({n} times)")
    } else {
        String::new()
    }
}

fn section(out: &mut String, title: &str, lines: impl ExactSizeIterator<Item = String>) {
    let total = lines.len();
    if total == 0 {
        return;
    }
    let _ = writeln!(out, "{title}:");
    for l in lines.take(LIST) {
        let _ = writeln!(out, "  {l}");
    }
    if total > LIST {
        let _ = writeln!(out, "  ... and {} more", total - LIST);
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_lists_each_kind_once() {
        let mut d = Digest::default();
        assert!(d.is_empty());
        for _ in 0..3 {
            d.add(Event::AuthFailure {
                service: "smtp",
                addr: "198.51.100.20".into(),
            });
        }
        d.add(Event::Ban {
            jail: "postfix-sasl".into(),
            addr: "198.51.100.20".into(),
        });
        for i in 0..25 {
            d.add(Event::Warning(format!("warning: w{i:02}")));
        }
        assert!(!d.is_empty());
        assert_eq!(
            d.subject("mail.example.test"),
            "firstboot on mail.example.test: 1 ban(s), 3 authentication failure(s), 25 warning(s), 0 deferred"
        );
        let b = d.body();
        assert!(
            b.contains("Banned by fail2ban:\n  198.51.100.20 in jail postfix-sasl\n"),
            "{b}"
        );
        assert!(b.contains("  198.51.100.20 (smtp) (3 times)\n"), "{b}");
        assert!(b.contains("  ... and 5 more\n"), "{b}");
        assert!(!b.contains("Deferred"), "{b}");
    }
}
