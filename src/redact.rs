//! Keeps secret input values out of everything we print or log.

/// Knows the secret values of this run and masks them in any text.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

/// What is printed in place of a secret.
pub const MASK: &str = "********";

impl Redactor {
    /// A redactor for these secret values (empty and very short values are ignored:
    /// masking "a" everywhere would make output unreadable and protect nothing).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= 3).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    /// `text` with every secret replaced by [`MASK`].
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }

    /// Whether `data` contains any secret value.
    pub fn touches(&self, data: &[u8]) -> bool {
        self.secrets
            .iter()
            .any(|s| data.windows(s.len()).any(|w| w == s.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_longest_first() {
        let r = Redactor::new(["hunter2".to_string(), "hunter2-long".to_string()]);
        assert_eq!(
            r.mask("pw=hunter2-long;x=hunter2"),
            "pw=********;x=********"
        );
        assert!(r.touches(b"xx hunter2 yy"));
        assert!(!r.touches(b"nothing here"));
    }
}
