//! Text checks shared by every string input (no control, format or line-separator
//! characters) and the narrow name kinds: `token`, `local_part`, `account`.

/// Longest part of a value echoed in a message.
pub const SHOWN_CHARS: usize = 60;

/// A value as messages show it: quoted, cut after [`SHOWN_CHARS`] characters.
pub fn quote(s: &str) -> String {
    match s.char_indices().nth(SHOWN_CHARS) {
        Some((i, _)) => format!("{:?}…", &s[..i]),
        None => format!("{s:?}"),
    }
}

/// Unicode format characters (general category Cf: bidi overrides, zero-width and
/// invisible characters) and the line and paragraph separators U+2028/U+2029: text that
/// shows differently from what it is.
pub fn is_format_char(c: char) -> bool {
    matches!(c as u32,
        0x00AD
        | 0x0600..=0x0605
        | 0x061C
        | 0x06DD
        | 0x070F
        | 0x0890..=0x0891
        | 0x08E2
        | 0x180E
        | 0x200B..=0x200F
        | 0x2028..=0x202E
        | 0x2060..=0x2064
        | 0x2066..=0x206F
        | 0xFEFF
        | 0xFFF9..=0xFFFB
        | 0x110BD
        | 0x110CD
        | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0001
        | 0xE0020..=0xE007F)
}

/// Refuse control and format characters: every string input is one line of plain text.
pub fn plain_line(s: &str, shown: &str) -> Result<(), String> {
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "{shown} contains a control character ({c:?}); values must be one line of text"
        ));
    }
    if let Some(c) = s.chars().find(|c| is_format_char(*c)) {
        return Err(format!(
            "{shown} contains an invisible formatting character (U+{:04X}); type the value plainly",
            c as u32
        ));
    }
    Ok(())
}

/// 1–32 ASCII letters and digits (an MTA-STS policy id, RFC 8461).
pub fn token(s: &str) -> Result<String, String> {
    if (1..=32).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{} is not an id: use 1 to 32 letters and digits",
            quote(s)
        ))
    }
}

/// A mailbox name: lower-case letters, digits, `.`, `_` and `-`, starting with a letter
/// or digit, no `..` or final `.`, at most 64 characters. (`+` is the recipient
/// delimiter; `:` and `@` would break the user and alias tables.)
pub fn local_part(s: &str) -> Result<String, String> {
    let bad = |why: &str| Err(format!("{} is not a mailbox name: {why}", quote(s)));
    if s.is_empty() || s.len() > 64 {
        return bad("it must have 1 to 64 characters");
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
    {
        return bad("use lower-case letters, digits, '.', '_' and '-' only");
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) || s.ends_with('.') || s.contains("..") {
        return bad("it must start with a letter or digit, and not end with '.' or hold '..'");
    }
    Ok(s.to_string())
}

/// A user or group name as useradd/groupadd accept it: a lower-case letter or `_`, then
/// lower-case letters, digits, `_` and `-`, at most 32 characters.
pub fn account(s: &str) -> Result<String, String> {
    let ok = (1..=32).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{} is not a user or group name: start with a lower-case letter or '_', then letters, digits, '_' or '-' (at most 32)",
            quote(s)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "x".repeat(10_000);
        let q = quote(&long);
        assert!(q.len() < 70 && q.ends_with('…'), "{q}");
        assert_eq!(quote("ab"), "\"ab\"");
        assert_eq!(quote(&"é".repeat(60)), format!("\"{}\"", "é".repeat(60)));
    }

    #[test]
    fn format_and_separator_characters_are_refused() {
        for c in [
            '\u{202E}',
            '\u{200B}',
            '\u{2028}',
            '\u{2029}',
            '\u{FEFF}',
            '\u{E0041}',
        ] {
            let s = format!("a{c}b");
            let e = plain_line(&s, "v").unwrap_err();
            assert!(e.contains("invisible formatting character"), "{c:?}: {e}");
        }
        assert!(plain_line("a\tb", "v").unwrap_err().contains("control"));
        assert!(plain_line("Grüße, 日本", "v").is_ok());
        assert!(!is_format_char('\u{2027}') && !is_format_char('\u{2030}'));
    }

    #[test]
    fn tokens() {
        assert!(token("20261202T1").is_ok());
        assert!(token(&"a".repeat(32)).is_ok());
        for bad in ["", "1; p=x", "a-b", &"a".repeat(33), "é"] {
            assert!(token(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mailbox_names() {
        for good in ["a", "john.doe", "x_y-z", "0a", &"a".repeat(64)] {
            assert!(local_part(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a:b:0:0",
            "a b",
            "A",
            "a+b",
            ".a",
            "a.",
            "a..b",
            "-a",
            "a@b",
            &"a".repeat(65),
        ] {
            assert!(local_part(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn account_names() {
        for good in ["ssl-cert", "_x", "a1", &"a".repeat(32)] {
            assert!(account(good).is_ok(), "{good}");
        }
        for bad in ["", "1a", "A", "a b", "a\u{202E}b", "a:b", &"a".repeat(33)] {
            assert!(account(bad).is_err(), "{bad}");
        }
    }
}
