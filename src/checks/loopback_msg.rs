//! The loopback message and what came back: composing it, removing what delivery added
//! before it is sent again, and reading the receiving side's Authentication-Results.

use super::CheckStatus;
use crate::dns::receive::{Judgement, Outcome};
use std::net::IpAddr;

/// The probe message (Postfix adds Date and Message-ID on submission), with the hold
/// header carrying `secret` (it is held once signed, never delivered).
pub fn message(from: &str, to: &str, hostname: &str, token: &str, secret: &str) -> String {
    let hold = crate::hold_rule::HEADER;
    format!(
        "From: <{from}>\nTo: <{to}>\n{hold}: {secret}\nSubject: firstboot loopback {token}\n\n\
         A probe of firstboot validate on {hostname} (check mail.loopback), removed once read.\n\
         token {token}\n"
    )
}

/// Header names delivery added (and a receiver's results), and the hold header; they
/// are dropped before the copy is judged, as a receiver never sees them.
const DELIVERY: [&str; 6] = [
    "x-firstboot-hold",
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

fn method_status(method: &str, o: &Outcome, settling: bool) -> CheckStatus {
    use CheckStatus::{Fail, Pass, Pending};
    match (method, o.result) {
        (_, "pass") => Pass,
        (_, "temperror") => Pending,
        ("dkim", "permerror") if o.missing => Pending,
        ("spf" | "dmarc", "none") => Pending,
        // DMARC fails when neither DKIM nor SPF passed: pending while one of them is.
        ("dmarc", "fail") if settling => Pending,
        _ => Fail,
    }
}

fn rank(s: CheckStatus) -> u8 {
    match s {
        CheckStatus::Fail => 2,
        CheckStatus::Pending => 1,
        _ => 0,
    }
}

/// The check's status and detail from a receiver's judgements (one per address the
/// message may come from), asked of `server`: pass when DKIM, SPF and DMARC pass for
/// every address; fail when one fails; pending when one has no record to go by yet
/// (none, temperror, a DKIM key not found) and nothing failed.
pub fn verdict(judged: &[Judgement], server: IpAddr) -> (CheckStatus, String) {
    let mut status = CheckStatus::Pass;
    let (mut words, mut why) = (Vec::new(), Vec::new());
    for method in ["dkim", "spf", "dmarc"] {
        let mut worst: Option<(CheckStatus, &Outcome)> = None;
        let mut each = Vec::new();
        for j in judged {
            let settling = [("dkim", &j.dkim), ("spf", &j.spf)]
                .iter()
                .any(|(m, o)| method_status(m, o, false) == CheckStatus::Pending);
            let o = match method {
                "dkim" => &j.dkim,
                "spf" => &j.spf,
                _ => &j.dmarc,
            };
            let st = method_status(method, o, settling);
            each.push(format!("{} for {}", o.result, j.ip));
            if worst.is_none_or(|(w, _)| rank(st) > rank(w)) {
                worst = Some((st, o));
            }
        }
        let Some((st, o)) = worst else { continue };
        if rank(st) > rank(status) {
            status = st;
        }
        let differs = judged.len() > 1 && each.iter().any(|e| !e.starts_with(o.result));
        words.push(match differs {
            true => format!("{method}={} ({})", o.result, each.join(", ")),
            false => format!("{method}={}", o.result),
        });
        if !o.why.is_empty() {
            why.push(o.why.clone());
        }
    }
    let from: Vec<String> = judged.iter().map(|j| j.ip.to_string()).collect();
    let detail = format!(
        "{} ({}; from {}, at {server})",
        words.join(" "),
        why.join("; "),
        from.join(", ")
    );
    (status, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACK: &str = "Return-Path: <firstboot-loopback@example.test>\n\
Delivered-To: admin@example.test\n\
Authentication-Results: mail.example.test; dkim=pass\n\
Received-SPF: Pass (mailfrom) identity=mailfrom;\n\
\tclient-ip=192.0.2.10\n\
DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=default;\n\
\th=from:to:subject; b=abc\n\
From: <firstboot-loopback@example.test>\n\
Subject: firstboot loopback 0011\n\
\n\
token 0011\n\
.leading dot\n";

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
        assert!(
            !s.contains("client-ip"),
            "a folded line goes with its header: {s}"
        );
        let m = message(
            "a@example.test",
            "b@example.test",
            "mail.example.test",
            "t0k",
            "5ec",
        );
        assert!(m.starts_with(
            "From: <a@example.test>\nTo: <b@example.test>\nX-Firstboot-Hold: 5ec\nSubject: firstboot loopback t0k\n\n"
        ));
        let held = "DKIM-Signature: v=1\nX-Firstboot-Hold: 5ec\nFrom: <a@example.test>\n\nbody\n";
        assert_eq!(
            strip_delivery(held),
            "DKIM-Signature: v=1\nFrom: <a@example.test>\n\nbody\n"
        );
    }

    fn o(result: &'static str, missing: bool) -> Outcome {
        Outcome {
            result,
            why: String::new(),
            missing,
        }
    }

    fn j(ip: &str, dkim: Outcome, spf: Outcome, dmarc: Outcome) -> Judgement {
        Judgement {
            ip: ip.parse().unwrap(),
            dkim,
            spf,
            dmarc,
        }
    }

    #[test]
    fn all_pass_passes_a_fail_fails_a_record_not_visible_is_pending() {
        let srv: IpAddr = "192.0.2.53".parse().unwrap();
        let p = || o("pass", false);
        let (st, d) = verdict(&[j("192.0.2.10", p(), p(), p())], srv);
        assert_eq!(st, CheckStatus::Pass);
        assert!(d.starts_with("dkim=pass spf=pass dmarc=pass ("), "{d}");
        assert!(d.ends_with("from 192.0.2.10, at 192.0.2.53)"), "{d}");
        let (st, d) = verdict(&[j("192.0.2.10", o("fail", false), p(), p())], srv);
        assert_eq!(
            (st, d.starts_with("dkim=fail spf=pass")),
            (CheckStatus::Fail, true)
        );
        // The key record not found yet: DKIM and the DMARC fail that follows are pending.
        let (st, d) = verdict(
            &[j(
                "192.0.2.10",
                o("permerror", true),
                o("none", false),
                o("fail", false),
            )],
            srv,
        );
        assert_eq!(st, CheckStatus::Pending, "{d}");
        let (st, _) = verdict(&[j("192.0.2.10", o("permerror", false), p(), p())], srv);
        assert_eq!(
            st,
            CheckStatus::Fail,
            "a key record that does not parse fails"
        );
        let (st, _) = verdict(&[j("192.0.2.10", p(), p(), o("none", false))], srv);
        assert_eq!(st, CheckStatus::Pending, "no DMARC record visible yet");
        let (st, _) = verdict(&[j("192.0.2.10", p(), o("temperror", false), p())], srv);
        assert_eq!(st, CheckStatus::Pending, "a server not answering");
        // DMARC failing while DKIM and SPF are settled is a failure, not a wait.
        let (st, _) = verdict(&[j("192.0.2.10", p(), p(), o("fail", false))], srv);
        assert_eq!(st, CheckStatus::Fail);
    }

    #[test]
    fn addresses_that_disagree_are_each_named() {
        let srv: IpAddr = "192.0.2.53".parse().unwrap();
        let p = || o("pass", false);
        let (st, d) = verdict(
            &[
                j("192.0.2.10", p(), p(), p()),
                j("2001:db8::10", p(), o("softfail", false), p()),
            ],
            srv,
        );
        assert_eq!(st, CheckStatus::Fail);
        assert!(
            d.contains("spf=softfail (pass for 192.0.2.10, softfail for 2001:db8::10)"),
            "{d}"
        );
        // Agreeing addresses are not listed; of two failures the first is named.
        let (_, d) = verdict(
            &[
                j("192.0.2.10", p(), p(), p()),
                j("2001:db8::10", p(), p(), p()),
            ],
            srv,
        );
        assert!(
            d.starts_with("dkim=pass spf=pass dmarc=pass (") && !d.contains("pass for"),
            "{d}"
        );
        let (st, d) = verdict(
            &[
                j("192.0.2.10", p(), o("fail", false), p()),
                j("2001:db8::10", p(), o("softfail", false), p()),
            ],
            srv,
        );
        assert_eq!(st, CheckStatus::Fail);
        assert!(
            d.contains("spf=fail (fail for 192.0.2.10, softfail for 2001:db8::10)"),
            "{d}"
        );
    }
}
