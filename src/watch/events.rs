//! What a log line is worth reporting as: a ban, an authentication failure, a Postfix
//! warning or a deferred message. Lines are matched by their stable parts (the daemon's
//! own words), whatever the timestamp format of syslog, postlogd or Dovecot's own log.

/// One reportable event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// fail2ban banned an address in a jail.
    Ban {
        /// The jail (`postfix-sasl`).
        jail: String,
        /// The banned address.
        addr: String,
    },
    /// A wrong password.
    AuthFailure {
        /// `smtp` (Postfix SASL) or `imap/pop3` (Dovecot).
        service: &'static str,
        /// The client's address.
        addr: String,
    },
    /// A Postfix warning, fatal or panic line (the text after the daemon's name).
    Warning(String),
    /// A message Postfix could not deliver yet.
    Deferred {
        /// The recipient.
        to: String,
        /// Why (the text in parentheses after `status=deferred`).
        reason: String,
    },
}

/// The event a line records, if any.
pub fn classify(line: &str) -> Option<Event> {
    if let Some(e) = ban(line) {
        return Some(e);
    }
    if line.contains("postfix/") {
        if line.contains("SASL") && line.contains("authentication failed") {
            return Some(Event::AuthFailure {
                service: "smtp",
                addr: bracketed_addr(line)?,
            });
        }
        if let Some(i) = line.find("status=deferred") {
            let to = between(line, "to=<", ">")?.to_string();
            let reason = line[i + "status=deferred".len()..]
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .to_string();
            return Some(Event::Deferred { to, reason });
        }
        for word in ["warning: ", "fatal: ", "panic: "] {
            if let Some(i) = line.find(word) {
                return Some(Event::Warning(line[i..].to_string()));
            }
        }
    }
    if (line.contains("imap-login") || line.contains("pop3-login")) && line.contains("auth failed")
    {
        return Some(Event::AuthFailure {
            service: "imap/pop3",
            addr: between(line, "rip=", ",")
                .or_else(|| line.split("rip=").nth(1))?
                .trim()
                .to_string(),
        });
    }
    None
}

/// `... [jail] Ban ADDR` from fail2ban's log (not `Restore Ban`, a ban it already made).
fn ban(line: &str) -> Option<Event> {
    if !line.contains("fail2ban.actions") {
        return None;
    }
    let i = line.find("] Ban ")?;
    let jail = line[..i].rsplit('[').next()?.to_string();
    let addr = line[i + "] Ban ".len()..].trim().to_string();
    (!addr.is_empty()).then_some(Event::Ban { jail, addr })
}

/// The address in `name[ADDR]` (Postfix's client notation).
fn bracketed_addr(line: &str) -> Option<String> {
    let w = line.find("warning: ")?;
    between(&line[w..], "[", "]").map(str::to_string)
}

/// The text between the first `open` and the next `close` after it.
fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let a = s.find(open)? + open.len();
    let b = s[a..].find(close)? + a;
    Some(&s[a..b])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_lines_of_each_daemon() {
        let cases = [
            (
                "2026-12-03 05:00:01,123 fail2ban.actions        [812]: NOTICE  [postfix-sasl] Ban 198.51.100.20",
                Some(Event::Ban { jail: "postfix-sasl".into(), addr: "198.51.100.20".into() }),
            ),
            (
                "2026-12-03 05:00:01,123 fail2ban.actions        [812]: NOTICE  [sshd] Restore Ban 198.51.100.21",
                None,
            ),
            (
                "Dec  3 05:00:00 mail postfix/submission/smtpd[123]: warning: unknown[198.51.100.20]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=alice",
                Some(Event::AuthFailure { service: "smtp", addr: "198.51.100.20".into() }),
            ),
            (
                "Dec  3 05:00:00 mail postfix/smtp[77]: 4ABC12: to=<bob@example.net>, relay=none, delay=30, status=deferred (connect to mx.example.net[198.51.100.20]:25: Connection refused)",
                Some(Event::Deferred { to: "bob@example.net".into(), reason: "connect to mx.example.net[198.51.100.20]:25: Connection refused".into() }),
            ),
            (
                "Dec  3 05:00:00 mail postfix/smtpd[9]: warning: hostname x.example does not resolve to address 203.0.113.9",
                Some(Event::Warning("warning: hostname x.example does not resolve to address 203.0.113.9".into())),
            ),
            (
                "Dec 03 05:00:00 imap-login: Info: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=198.51.100.20, lip=192.0.2.10, TLS, session=<x>",
                Some(Event::AuthFailure { service: "imap/pop3", addr: "198.51.100.20".into() }),
            ),
            ("Dec  3 05:00:00 mail postfix/smtpd[9]: connect from unknown[1.2.3.4]", None),
            ("Dec  3 05:00:00 mail sshd[9]: warning: something", None),
        ];
        for (line, want) in cases {
            assert_eq!(classify(line), want, "{line}");
        }
    }
}
