//! Diagnostics: every input problem with its file, key path, line and reason, collected
//! and reported together (the way Ignition and cloud-init's schema validation do).

use std::fmt;

/// One problem found in a user-supplied file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the value came from (config file, manifest, profile).
    pub file: String,
    /// Dotted key path, e.g. `mail.relay.port` or `mail.users[1].name`.
    pub key: String,
    /// 1-based line, when it could be located.
    pub line: Option<usize>,
    /// Why the value is refused.
    pub reason: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        // A problem of the whole file (unreadable, not YAML) has no key.
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// A list of diagnostics, printed one per line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Add one problem.
    pub fn push(&mut self, file: &str, key: &str, reason: impl Into<String>) {
        self.0.push(Diagnostic {
            file: file.to_string(),
            key: key.to_string(),
            line: None,
            reason: reason.into(),
        });
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Fill in line numbers for diagnostics of `file` by locating their keys in `text`
    /// (from the key paths' positions, list items counted; a text search otherwise).
    pub fn locate_in(&mut self, file: &str, text: &str) {
        let mut index = None;
        for d in self
            .0
            .iter_mut()
            .filter(|d| d.file == file && d.line.is_none())
        {
            let lines = index.get_or_insert_with(|| crate::yamllines::Lines::of(text));
            d.line = lines.line(&d.key).or_else(|| locate_key(text, &d.key));
        }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        let mut sorted: Vec<&Diagnostic> = self.0.iter().collect();
        sorted.sort_by(|a, b| (&a.file, a.line, &a.key).cmp(&(&b.file, b.line, &b.key)));
        writeln!(f, "{n} problem{} found:", if n == 1 { "" } else { "s" })?;
        for d in sorted {
            writeln!(f, "  {d}")?;
        }
        Ok(())
    }
}

/// Best-effort line of a dotted key path in block- or flow-style YAML text.
///
/// Walks the path segment by segment, each found at or after the line of the previous
/// one; list indices (`users[1]`) are skipped. Returns the line of the deepest segment found.
pub fn locate_key(text: &str, path: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0usize;
    let mut found = None;
    for seg in path.split('.') {
        let name = seg.split('[').next().unwrap_or(seg);
        if name.is_empty() {
            continue;
        }
        let needle_block = format!("{name}:");
        let hit = lines.iter().enumerate().skip(from).find(|(_, l)| {
            let t = l.trim_start().trim_start_matches("- ");
            t.starts_with(&needle_block) || contains_flow_key(l, name)
        });
        match hit {
            Some((i, _)) => {
                found = Some(i + 1);
                from = i;
            }
            None => break,
        }
    }
    found
}

fn contains_flow_key(line: &str, name: &str) -> bool {
    ["{", ", ", ",", "{ "]
        .iter()
        .any(|p| line.contains(&format!("{p}{name}:")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_nested_block_and_flow_keys() {
        let text = "domain: a.test\nmail:\n  mode: full\n  relay: {host: x, port: 70000}\n";
        assert_eq!(locate_key(text, "mail.relay.port"), Some(4));
        assert_eq!(locate_key(text, "mail.mode"), Some(3));
        assert_eq!(locate_key(text, "domain"), Some(1));
        assert_eq!(locate_key(text, "nothere"), None);
    }

    #[test]
    fn list_items_point_at_their_own_line() {
        let text = "mail:\n  users:\n    - name: a\n      password_hash: x\n    - name: \"b:c\"\n";
        let mut d = Diagnostics::default();
        d.push("c.yaml", "mail.users[1].name", "bad");
        d.locate_in("c.yaml", text);
        assert_eq!(d.0[0].line, Some(5));
    }

    #[test]
    fn a_problem_of_the_whole_file_prints_without_an_empty_key() {
        let d = |key: &str, line| Diagnostic {
            file: "c.yaml".into(),
            key: key.into(),
            line,
            reason: "bad".into(),
        };
        assert_eq!(d("", Some(3)).to_string(), "c.yaml:3: bad");
        assert_eq!(d("", None).to_string(), "c.yaml: bad");
        assert_eq!(
            d("mail.mode", Some(3)).to_string(),
            "c.yaml:3: mail.mode: bad"
        );
        assert_eq!(d("mail.mode", None).to_string(), "c.yaml: mail.mode: bad");
    }
}
