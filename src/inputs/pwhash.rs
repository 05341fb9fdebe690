//! The `password_hash` kind: a password hash in Dovecot's scheme form
//! (`{ARGON2ID}$argon2id$...`, `{SHA512-CRYPT}$6$...`), as a passwd-file line holds it.
//! Messages never show the value: it is a secret.

/// Schemes accepted, strongest first; all are salted and slow (no plain or MD5 forms).
pub const SCHEMES: &[&str] = &[
    "ARGON2ID",
    "ARGON2I",
    "BLF-CRYPT",
    "SHA512-CRYPT",
    "SHA256-CRYPT",
];

/// `s` when it is `{SCHEME}hash` with a known scheme and a hash that fits on one
/// passwd-file field (no whitespace, no `:`); the reason otherwise, without the value.
pub fn password_hash(s: &str) -> Result<String, String> {
    let names = SCHEMES.join(", ");
    let Some(rest) = s.strip_prefix('{') else {
        return Err(format!(
            "the value (hidden) is not in Dovecot's scheme form {{SCHEME}}hash; schemes: {names} \
             (make one with `doveadm pw -s ARGON2ID` or `firstboot mailbox add`)"
        ));
    };
    let Some((scheme, hash)) = rest.split_once('}') else {
        return Err("the value (hidden) has no closing '}' after its scheme".into());
    };
    if !SCHEMES.contains(&scheme) {
        return Err(format!(
            "the value (hidden) uses scheme {{{}}}, not one of: {names}",
            scheme
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(20)
                .collect::<String>()
        ));
    }
    if !hash.starts_with('$') || hash.len() < 20 {
        return Err(format!(
            "the value (hidden) is not a {scheme} hash (it must start with '$' and hold a salt and a digest)"
        ));
    }
    if hash
        .chars()
        .any(|c| c.is_whitespace() || c == ':' || c.is_control())
    {
        return Err("the value (hidden) holds a space or ':' (a passwd-file field cannot)".into());
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARGON: &str =
        "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo";

    #[test]
    fn accepts_dovecot_schemes() {
        assert!(password_hash(ARGON).is_ok());
        assert!(password_hash("{SHA512-CRYPT}$6$saltsalt$0123456789abcdefghij").is_ok());
    }

    #[test]
    fn refuses_other_forms_without_showing_them() {
        for bad in [
            "hunter2hunter2",
            "{PLAIN}hunter2hunter2hunter2",
            "{MD5}$1$abcdefgh$hunter2hunter2hunter",
            "{SHA512-CRYPT}$6$salt:x:0:0:root:/root",
            "{ARGON2ID}$argon2id$v=19 hunter2 and more",
            "{SHA512-CRYPT}short",
            "{ARGON2ID",
        ] {
            let e = password_hash(bad).unwrap_err();
            assert!(!e.contains("hunter2"), "{e}");
            assert!(e.contains("(hidden)"), "{e}");
        }
    }

    #[test]
    fn a_hash_needs_a_dollar_and_twenty_characters() {
        // 20 characters after the scheme: the shortest accepted; 19: refused.
        let twenty = "{SHA512-CRYPT}$6$salt$0123456789ab";
        assert_eq!(twenty.len() - "{SHA512-CRYPT}".len(), 20);
        assert!(password_hash(twenty).is_ok());
        let e = password_hash("{SHA512-CRYPT}$6$salt$0123456789a").unwrap_err();
        assert!(e.contains("not a SHA512-CRYPT hash"), "{e}");
        // Long enough but not starting with '$': refused all the same.
        let e = password_hash("{SHA512-CRYPT}6$saltsalt$0123456789abcdefghij").unwrap_err();
        assert!(e.contains("must start with '$'"), "{e}");
    }
}
