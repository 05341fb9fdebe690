//! A users file as two parts: the block rendered from config.yaml's `mail.users` (the
//! config is its truth; `firstboot run` rewrites it) and the lines after it, which
//! `firstboot mailbox` adds, changes and removes (the file is their truth; a run leaves
//! them alone). Dovecot's passwd-file (`name:hash`) and Postfix's mailbox map
//! (`name@domain name`) have this shape. Pure text editing: the command does the I/O.

use super::CONFIG_MARKER;
use thiserror::Error;

/// Why an edit is refused (the command exits 2, nothing changed).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EditError {
    /// The name is already a mailbox.
    #[error("mailbox {0} already exists")]
    Exists(String),
    /// The name is no mailbox.
    #[error("no mailbox named {0} (see `firstboot mailbox list`)")]
    Unknown(String),
    /// The name comes from config.yaml: change it there.
    #[error(
        "mailbox {0} is declared in config.yaml (mail.users): change or remove it there, then run `firstboot run --force --only mail`"
    )]
    FromConfig(String),
}

/// Where a mailbox comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// config.yaml's `mail.users` (the managed block).
    Config,
    /// `firstboot mailbox add` (a line below the block).
    Command,
}

/// The users file, parsed.
#[derive(Debug, Clone)]
pub struct UsersFile {
    /// Lines up to and including the block's end marker (kept as they are).
    head: Vec<String>,
    /// Names in the block.
    config: Vec<String>,
    /// Lines after the block: `name:hash` entries, comments kept.
    own: Vec<String>,
}

fn begin() -> String {
    format!("# BEGIN {CONFIG_MARKER}")
}
fn end() -> String {
    format!("# END {CONFIG_MARKER}")
}

fn name_of(line: &str) -> Option<&str> {
    let l = line.trim_start();
    if l.is_empty() || l.starts_with('#') {
        return None;
    }
    l.split(|c: char| c == ':' || c == '@' || c.is_whitespace())
        .next()
}

impl UsersFile {
    /// Parse `text`: everything up to the block's end marker is the head, the rest ours.
    pub fn parse(text: &str) -> UsersFile {
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let (b, e) = (begin(), end());
        let start = lines.iter().position(|l| l.trim_end() == b);
        let stop = start.and_then(|s| {
            lines[s..]
                .iter()
                .position(|l| l.trim_end() == e)
                .map(|i| i + s)
        });
        let (head, own, config) = match (start, stop) {
            (Some(s), Some(e)) => {
                let config = lines[s + 1..e]
                    .iter()
                    .filter_map(|l| name_of(l).map(str::to_string))
                    .collect();
                (lines[..=e].to_vec(), lines[e + 1..].to_vec(), config)
            }
            _ => (Vec::new(), lines, Vec::new()),
        };
        UsersFile { head, config, own }
    }

    /// Every mailbox with where it comes from, in file order.
    pub fn list(&self) -> Vec<(String, Source)> {
        let cfg = self.config.iter().map(|n| (n.clone(), Source::Config));
        let own = self
            .own
            .iter()
            .filter_map(|l| name_of(l).map(|n| (n.to_string(), Source::Command)));
        cfg.chain(own).collect()
    }

    fn source(&self, name: &str) -> Option<Source> {
        self.list()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }

    fn own_index(&self, name: &str) -> Result<usize, EditError> {
        match self.source(name) {
            None => Err(EditError::Unknown(name.into())),
            Some(Source::Config) => Err(EditError::FromConfig(name.into())),
            Some(Source::Command) => Ok(self
                .own
                .iter()
                .position(|l| name_of(l) == Some(name))
                .unwrap_or(self.own.len())),
        }
    }

    /// Add `name` as `line` (which starts with the name).
    pub fn add(&mut self, name: &str, line: String) -> Result<(), EditError> {
        if self.source(name).is_some() {
            return Err(EditError::Exists(name.into()));
        }
        self.own.push(line);
        Ok(())
    }

    /// Replace the line of `name` (one of ours) by `line`.
    pub fn replace(&mut self, name: &str, line: String) -> Result<(), EditError> {
        let i = self.own_index(name)?;
        self.own[i] = line;
        Ok(())
    }

    /// Remove `name` (one of ours).
    pub fn remove(&mut self, name: &str) -> Result<(), EditError> {
        let i = self.own_index(name)?;
        self.own.remove(i);
        Ok(())
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for l in self.head.iter().chain(&self.own) {
            out.push_str(l);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str =
        "# BEGIN firstboot mail.users\nalice:{X}a\n# END firstboot mail.users\nbob:{X}b\n";

    #[test]
    fn sources_and_round_trip() {
        let f = UsersFile::parse(FILE);
        assert_eq!(
            f.list(),
            vec![
                ("alice".into(), Source::Config),
                ("bob".into(), Source::Command)
            ]
        );
        assert_eq!(f.render(), FILE);
    }

    #[test]
    fn edits_only_lines_below_the_block() {
        let mut f = UsersFile::parse(FILE);
        f.add("carol", "carol:{X}c".into()).unwrap();
        f.replace("bob", "bob:{X}b2".into()).unwrap();
        assert_eq!(
            f.render(),
            "# BEGIN firstboot mail.users\nalice:{X}a\n# END firstboot mail.users\nbob:{X}b2\ncarol:{X}c\n"
        );
        f.remove("bob").unwrap();
        assert!(!f.render().contains("bob"));
    }

    #[test]
    fn postfix_map_lines_are_named_too() {
        let f = UsersFile::parse(
            "# BEGIN firstboot mail.users\nalice@example.test alice\n# END firstboot mail.users\nbob@example.test bob\n",
        );
        let names: Vec<String> = f.list().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["alice", "bob"]);
    }

    #[test]
    fn refusals() {
        let mut f = UsersFile::parse(FILE);
        assert_eq!(
            f.add("alice", "z:{X}z".into()),
            Err(EditError::Exists("alice".into()))
        );
        assert_eq!(
            f.add("bob", "z:{X}z".into()),
            Err(EditError::Exists("bob".into()))
        );
        assert_eq!(
            f.replace("alice", "z:{X}z".into()),
            Err(EditError::FromConfig("alice".into()))
        );
        assert_eq!(
            f.remove("alice"),
            Err(EditError::FromConfig("alice".into()))
        );
        assert_eq!(f.remove("zed"), Err(EditError::Unknown("zed".into())));
        assert_eq!(f.render(), FILE);
    }
}
