//! The hold rule of the loopback probe (`mail.loopback`): a Postfix `header_checks`
//! regexp table with one rule, holding a message that carries this host's secret header
//! (`X-Firstboot-Hold: <32 hex digits>`). The probe is submitted with `sendmail`, signed
//! by the milters like any mail that leaves, and then stays in the hold queue, never
//! delivered, where `validate` reads the signed copy and deletes it. Only who can read
//! the table (root) can have a message held: a sender elsewhere cannot guess the secret.
//! Written by the `hold_rule` action, read by the `mail_loopback` check.

/// The probe's header name.
pub const HEADER: &str = "X-Firstboot-Hold";

/// The first line of every table firstboot writes.
const MANAGED: &str = "# Managed by firstboot (9-mail_config): the hold rule of `firstboot validate`'s mail.loopback probe.";

/// The table holding the rule for `secret`.
pub fn table(secret: &str) -> String {
    format!("{MANAGED}\n/^{HEADER}: {secret}$/ HOLD\n")
}

/// A table with no rule: written into an offline tree (an image), whose instances
/// each make their own secret on first boot. Postfix opens it without error.
pub fn placeholder() -> String {
    format!(
        "{MANAGED}\n# No rule yet: each machine makes its own secret when firstboot runs on it.\n"
    )
}

/// The secret of the rule in `text` (`None`: no rule, or not 32 lowercase hex digits).
pub fn secret(text: &str) -> Option<&str> {
    let start = format!("/^{HEADER}: ");
    text.lines().find_map(|l| {
        let s = l.strip_prefix(start.as_str())?.strip_suffix("$/ HOLD")?;
        let hex = s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        (s.len() == 32 && hex).then_some(s)
    })
}

/// A new secret: 16 random bytes, in hex.
pub fn new_secret() -> Result<String, String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| format!("no random bytes from the system: {e}"))?;
    Ok(hex::encode(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_gives_its_secret_back_and_nothing_else_is_a_rule() {
        let s = new_secret().unwrap();
        assert_eq!(s.len(), 32);
        assert_ne!(s, new_secret().unwrap());
        assert_eq!(secret(&table(&s)), Some(s.as_str()));
        assert_eq!(secret(&placeholder()), None);
        // Comments only (Postfix opens it, finds no rule), saying why.
        assert!(placeholder().lines().all(|l| l.starts_with("# ")));
        assert!(placeholder().contains("each machine makes its own secret"));
        assert!(table(&s).starts_with("# Managed by firstboot (9-mail_config)"));
        for bad in [
            "/^X-Firstboot-Hold: $/ HOLD",
            "/^X-Firstboot-Hold: 0123456789abcdef0123456789abcde$/ HOLD",
            "/^X-Firstboot-Hold: 0123456789abcdef0123456789abcdef0$/ HOLD",
            "/^X-Firstboot-Hold: 0123456789ABCDEF0123456789abcdef$/ HOLD",
            "/^X-Firstboot-Hold: 0123456789abcdeg0123456789abcdef$/ HOLD",
            "/^X-Firstboot-Hold: 0123456789abcdef0123456789abcdef$/ DISCARD",
            " /^X-Firstboot-Hold: 0123456789abcdef0123456789abcdef$/ HOLD",
        ] {
            assert_eq!(secret(bad), None, "{bad}");
        }
        let ok = "/^X-Firstboot-Hold: 0123456789abcdef0123456789abcdef$/ HOLD";
        assert_eq!(secret(ok), Some("0123456789abcdef0123456789abcdef"));
    }
}
