//! Host names and certificates: which names a certificate covers (RFC 6125 rules: a
//! wildcard stands for exactly one whole left-most label), and name lists as manifests
//! write them (one per item, or several in one rendered item separated by blanks or commas).

use crate::inputs::kinds::dns_name;
use serde::{Deserialize, Deserializer};

/// Deserialize a name list written either as one string or as a list of strings.
pub fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// The names of `items`, each item possibly holding several separated by blanks or
/// commas (what `{{ ssl.extra_names | join(sep=" ") }}` renders to), lower-cased, without
/// a final dot, duplicates removed, order kept.
pub fn split_names(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        for n in item.split(|c: char| c.is_whitespace() || c == ',') {
            let n = normalise(n);
            if !n.is_empty() && !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

fn normalise(n: &str) -> String {
    n.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Check that `name` is a host name a certificate can be issued for: a DNS name of at
/// least two labels, optionally a wildcard (`*.example.test`).
pub fn valid_cert_name(name: &str) -> Result<(), String> {
    let rest = name.strip_prefix("*.").unwrap_or(name);
    dns_name(rest).map(|_| ())
}

/// Whether the certificate name `pattern` (a DNS SAN, maybe `*.example.test`) covers
/// the host name `name`.
pub fn covers(pattern: &str, name: &str) -> bool {
    let pattern = normalise(pattern);
    let name = normalise(name);
    if pattern == name {
        return true;
    }
    let Some(suffix) = pattern.strip_prefix("*.") else {
        return false;
    };
    // The wildcard is exactly one label: `a.example.test`, not `example.test` nor
    // `a.b.example.test`; and `*.test` covers nothing (a wildcard over a bare TLD).
    match name.split_once('.') {
        Some((label, rest)) => !label.is_empty() && rest == suffix && suffix.contains('.'),
        None => false,
    }
}

/// The names of `wanted` that none of `cert_names` covers.
pub fn uncovered(cert_names: &[String], wanted: &[String]) -> Vec<String> {
    wanted
        .iter()
        .filter(|w| !cert_names.iter().any(|c| covers(c, w)))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_exactly_one_label() {
        assert!(covers("mail.example.test", "MAIL.example.test."));
        assert!(covers("*.example.test", "mail.example.test"));
        assert!(!covers("*.example.test", "example.test"));
        assert!(!covers("*.example.test", "a.b.example.test"));
        assert!(!covers("*.test", "example.test"));
        assert!(!covers("mail.example.test", "smtp.example.test"));
    }

    #[test]
    fn name_lists_split_on_blanks_and_commas() {
        let items = vec![
            "mail.example.test".to_string(),
            "smtp.example.test, imap.example.test".to_string(),
            String::new(),
            "Mail.Example.Test.".to_string(),
        ];
        assert_eq!(
            split_names(&items),
            [
                "mail.example.test",
                "smtp.example.test",
                "imap.example.test"
            ]
        );
        assert_eq!(
            uncovered(&["*.example.test".into()], &split_names(&items)),
            Vec::<String>::new()
        );
        assert_eq!(
            uncovered(&["mail.example.test".into()], &split_names(&items)),
            ["smtp.example.test", "imap.example.test"]
        );
        assert!(valid_cert_name("*.example.test").is_ok());
        assert!(valid_cert_name("bad name.test").is_err());
    }
}
