//! Keeps secret input values out of everything we print or log.

use std::sync::{Arc, PoisonError, RwLock};

/// Knows the secret values of this run and masks them in any text. Clones share one
/// list, so a secret learnt late (a password read from a file when a module is built)
/// is masked by every runner and log that holds a clone.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
}

/// What is printed in place of a secret.
pub const MASK: &str = "********";

impl Redactor {
    /// A redactor for these secret values (empty and very short values are ignored:
    /// masking "a" everywhere would make output unreadable and protect nothing).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let r = Redactor::default();
        r.add(secrets);
        r
    }

    /// Mask these values too, here and in every clone (same rules as [`Redactor::new`]).
    pub fn add(&self, secrets: impl IntoIterator<Item = String>) {
        let mut all = self.secrets.write().unwrap_or_else(PoisonError::into_inner);
        all.extend(secrets.into_iter().filter(|s| s.len() >= 3));
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        all.dedup();
    }

    /// `text` with every secret replaced by [`MASK`].
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        let all = self.secrets.read().unwrap_or_else(PoisonError::into_inner);
        for s in all.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }

    /// Whether `data` contains any secret value.
    pub fn touches(&self, data: &[u8]) -> bool {
        let all = self.secrets.read().unwrap_or_else(PoisonError::into_inner);
        all.iter()
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

    #[test]
    fn a_secret_added_later_is_masked_by_every_clone() {
        let r = Redactor::new(["hunter2".to_string()]);
        let clone = r.clone();
        r.add(["relay-pass-9".to_string(), "ab".to_string()]);
        assert_eq!(clone.mask("x relay-pass-9 ab"), "x ******** ab");
        assert!(clone.touches(b"..relay-pass-9.."));
    }
}
