//! The loopback message and what came back: composing it, removing what delivery added
//! before it is sent again, and reading the receiving side's Authentication-Results.

use super::CheckStatus;

/// The probe message (Postfix adds Date and Message-ID on submission).
pub fn message(from: &str, to: &str, hostname: &str, token: &str) -> String {
    format!(
        "From: <{from}>\nTo: <{to}>\nSubject: firstboot loopback {token}\n\n\
         A probe of firstboot validate on {hostname} (check mail.loopback), removed once read.\n\
         token {token}\n"
    )
}

/// Header names delivery and the first leg's checks added; they are dropped before the
/// second leg so that only what the second leg adds is read.
const DELIVERY: [&str; 5] = [
    "return-path",
    "delivered-to",
    "authentication-results",
    "received-spf",
    "x-original-to",
];

/// Split a message into unfolded headers and the body.
fn split(msg: &str) -> (Vec<String>, &str) {
    let msg_lf = msg;
    let (head, body) = match msg_lf.find("\n\n") {
        Some(i) => (&msg_lf[..i], &msg_lf[i + 2..]),
        None => (msg_lf, ""),
    };
    let mut headers: Vec<String> = Vec::new();
    for l in head.lines() {
        let l = l.trim_end_matches('\r');
        match headers.last_mut() {
            Some(h) if l.starts_with([' ', '\t']) => {
                h.push('\n');
                h.push_str(l);
            }
            _ => headers.push(l.to_string()),
        }
    }
    (headers, body)
}

fn named(h: &str) -> String {
    h.split(':')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The message without the headers delivery added (folding kept).
pub fn strip_delivery(msg: &str) -> String {
    let (headers, body) = split(msg);
    let mut out: Vec<&str> = headers
        .iter()
        .filter(|h| !DELIVERY.contains(&named(h).as_str()))
        .map(String::as_str)
        .collect();
    out.push("");
    format!("{}\n{body}", out.join("\n"))
}

/// What the receiving side said for DKIM, SPF and DMARC (`none` when it said nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// dkim=...
    pub dkim: String,
    /// spf=... (or Received-SPF).
    pub spf: String,
    /// dmarc=...
    pub dmarc: String,
}

impl Verdict {
    /// Pass when all three pass; fail when one says fail (or softfail: a record is there
    /// and says no); otherwise pending: none, neutral, temperror or permerror while a
    /// record is not visible yet (propagation is not the host's fault).
    pub fn status(&self) -> CheckStatus {
        let all = [&self.dkim, &self.spf, &self.dmarc];
        if all.iter().all(|r| *r == "pass") {
            CheckStatus::Pass
        } else if all
            .iter()
            .any(|r| ["fail", "softfail"].contains(&r.as_str()))
        {
            CheckStatus::Fail
        } else {
            CheckStatus::Pending
        }
    }

    /// `dkim=pass spf=pass dmarc=pass`.
    pub fn detail(&self) -> String {
        format!("dkim={} spf={} dmarc={}", self.dkim, self.spf, self.dmarc)
    }
}

/// The results in `msg`'s Authentication-Results headers from `authserv_id` (others
/// could be forged by a sender), and its Received-SPF. A method with several results
/// counts as pass when one of them passes.
pub fn auth_results(msg: &str, authserv_id: &str) -> Verdict {
    let (headers, _) = split(msg);
    let mut found: Vec<(String, String)> = Vec::new();
    for h in &headers {
        let name = named(h);
        let value = h
            .split_once(':')
            .map_or("", |(_, v)| v)
            .replace(['\n', '\r', '\t'], " ");
        if name == "received-spf" {
            let r = value
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            found.push(("spf".into(), r));
        }
        if name != "authentication-results" {
            continue;
        }
        let mut parts = value.split(';');
        let id = parts
            .next()
            .unwrap_or("")
            .split_whitespace()
            .next()
            .unwrap_or("");
        if !id.eq_ignore_ascii_case(authserv_id) {
            continue;
        }
        for p in parts {
            if let Some((method, rest)) = p.trim().split_once('=') {
                let result = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                found.push((method.trim().to_ascii_lowercase(), result));
            }
        }
    }
    let pick = |m: &str| {
        let rs: Vec<&String> = found
            .iter()
            .filter(|(k, _)| k == m)
            .map(|(_, r)| r)
            .collect();
        match rs.iter().find(|r| r.as_str() == "pass") {
            Some(r) => r.to_string(),
            None => rs.first().map_or("none".to_string(), |r| r.to_string()),
        }
    };
    Verdict {
        dkim: pick("dkim"),
        spf: pick("spf"),
        dmarc: pick("dmarc"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACK: &str = "Return-Path: <firstboot-loopback@example.test>\n\
Delivered-To: alice@example.test\n\
Authentication-Results: mail.example.test; dmarc=pass (p=quarantine dis=none)\n\
\theader.from=example.test\n\
Authentication-Results: mail.example.test; spf=pass smtp.mailfrom=example.test\n\
Authentication-Results: mail.example.test;\n\
\tdkim=pass (2048-bit key; unprotected) header.d=example.test header.i=@example.test\n\
Authentication-Results: evil.example; dkim=fail\n\
Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.10\n\
DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=default;\n\
\th=from:to:subject; b=abc\n\
From: <firstboot-loopback@example.test>\n\
Subject: firstboot loopback 0011\n\
\n\
token 0011\n\
.leading dot\n";

    #[test]
    fn results_from_our_authserv_id_count_forged_ones_do_not() {
        let v = auth_results(BACK, "mail.example.test");
        assert_eq!(v.detail(), "dkim=pass spf=pass dmarc=pass");
        assert_eq!(v.status(), CheckStatus::Pass);
        let other = auth_results(BACK, "mx.example.net");
        assert_eq!(other.dkim, "none");
        assert_eq!(other.spf, "pass", "Received-SPF counts");
        assert_eq!(other.status(), CheckStatus::Pending);
        let bad = BACK.replace("dkim=pass (2048", "dkim=fail (2048");
        let v = auth_results(&bad, "mail.example.test");
        assert_eq!(v.dkim, "fail");
        assert_eq!(v.status(), CheckStatus::Fail);
        let none = auth_results("Subject: x\n\nbody\n", "mail.example.test");
        assert_eq!(none.detail(), "dkim=none spf=none dmarc=none");
    }

    #[test]
    fn delivery_headers_are_stripped_and_the_signature_and_body_kept() {
        let s = strip_delivery(BACK);
        for gone in [
            "Return-Path",
            "Delivered-To",
            "Authentication-Results",
            "Received-SPF",
        ] {
            assert!(!s.contains(gone), "{gone} left in {s}");
        }
        assert!(
            s.starts_with(
                "DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=default;\n\th=from"
            ),
            "{s}"
        );
        assert!(s.ends_with("\n\ntoken 0011\n.leading dot\n"), "{s}");
        let m = message(
            "a@example.test",
            "b@example.test",
            "mail.example.test",
            "t0k",
        );
        assert!(m.starts_with(
            "From: <a@example.test>\nTo: <b@example.test>\nSubject: firstboot loopback t0k\n\n"
        ));
    }
}
