//! `sasl_passwd`: Postfix's SASL client credentials for a smarthost. The password is
//! read from a file (the config names it, never holds it) when the module is built
//! (a missing, empty, unreadable or multi-line file is then an input error naming the
//! config key) and joins the run's secrets, so it is masked in every log and error.
//! The table `[host]:port user:password` is written 0600 root:root and compiled with
//! `postmap` into a 0600 `.db`. Neither file is diffed, shown or hashed into the state
//! (a hash of a short password can be brute-forced): the table is derived from the
//! password file, compared with it on every plan, and rewritten when they differ. Both
//! files are backed up, so a rollback puts the previous credentials back.

use crate::backup::Backup;
use crate::host::{HostError, Root};
use crate::steps::{offline, Change, Planned, RunState, Step, StepCx, StepError};
use serde::Deserialize;

/// Largest password file read.
const MAX_PASSWORD_FILE: u64 = 4096;

/// Write and compile the SASL password table of one smarthost.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaslPasswd {
    /// In-tree path of the table (`/etc/postfix/sasl_passwd`); the map is `<path>.db`.
    pub path: String,
    /// The lookup key, exactly as in `relayhost` (`[smtp.example.net]:587`).
    pub next_hop: String,
    /// SASL user name.
    pub username: String,
    /// In-tree file holding the password alone (one line).
    pub password_file: String,
    /// The config key that names `password_file`, for errors (`mail.relay.password_file`).
    pub input: String,
    /// Services reloaded when the credentials change.
    #[serde(default)]
    pub notify: Vec<String>,
}

impl SaslPasswd {
    fn db(&self) -> String {
        format!("{}.db", self.path)
    }

    fn input_error(&self, reason: String) -> StepError {
        StepError::Input {
            key: self.input.clone(),
            reason,
        }
    }

    /// The password, checked: one line (a final newline is dropped), not empty, no
    /// control character, no leading or trailing blank (Postfix would trim it).
    pub fn password(&self, root: &Root) -> Result<String, StepError> {
        let file = &self.password_file;
        let data = match root.read_capped(file, MAX_PASSWORD_FILE) {
            Ok(Some(d)) => d,
            Ok(None) => return Err(self.input_error(format!("{file} does not exist"))),
            Err(HostError::NotRegular { what, .. }) => {
                return Err(self.input_error(format!("{file} is {what}, not a file")))
            }
            Err(HostError::TooLarge { limit, .. }) => {
                return Err(self.input_error(format!(
                    "{file} is larger than {limit} bytes; it must hold the password alone"
                )))
            }
            Err(HostError::Io { source, .. }) => {
                return Err(self.input_error(format!("cannot read {file}: {source}")))
            }
            Err(e) => return Err(self.input_error(e.to_string())),
        };
        let text = String::from_utf8(data)
            .map_err(|_| self.input_error(format!("{file} is not UTF-8 text")))?;
        let line = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        if line.is_empty() {
            return Err(self.input_error(format!("{file} is empty; it must hold the password")));
        }
        if line.contains(['\n', '\r']) {
            return Err(self.input_error(format!(
                "{file} holds more than one line; it must hold the password alone"
            )));
        }
        if line.chars().any(char::is_control) {
            return Err(self.input_error(format!("{file} holds a control character")));
        }
        if line.starts_with(char::is_whitespace) || line.ends_with(char::is_whitespace) {
            return Err(self.input_error(format!(
                "the password in {file} starts or ends with a blank, which Postfix would drop"
            )));
        }
        Ok(line.to_string())
    }

    /// The password when the module is built (see [`crate::steps::StepKind::check_host_inputs`]),
    /// with a warning, once, when the file can be read by others than its owner.
    pub fn check_host_inputs(&self, root: &Root) -> Result<Vec<String>, StepError> {
        let password = self.password(root)?;
        if let Ok(Some(m)) = root.meta(&self.password_file) {
            if m.mode & 0o077 != 0 {
                tracing::warn!(
                    "{}: {} can be read by others (mode {:04o}); make it 0600",
                    self.input,
                    self.password_file,
                    m.mode
                );
            }
        }
        Ok(vec![password])
    }

    /// What the table must hold.
    fn table(&self, password: &str) -> Vec<u8> {
        format!(
            "# Managed by firstboot (9-mail_config) from {}: change that file, not this one.\n{} {}:{}\n",
            self.password_file, self.next_hop, self.username, password
        )
        .into_bytes()
    }

    /// What differs between the host and what we want (empty: nothing).
    fn differences(&self, cx: &StepCx, want: &[u8]) -> Result<Vec<&'static str>, StepError> {
        let root = &cx.host.root;
        let mut out = Vec::new();
        match root.read(&self.path)? {
            None => out.push("table missing"),
            Some(have) if have != want => out.push("credentials changed"),
            Some(_) => {}
        }
        if root.meta(&self.path)?.is_some_and(|m| m.mode != 0o600) {
            out.push("table mode not 0600");
        }
        match (
            root.meta(self.db())?,
            root.mtime(&self.path)?,
            root.mtime(self.db())?,
        ) {
            (None, _, _) => out.push("map missing"),
            (Some(m), src, db) => {
                if m.mode != 0o600 {
                    out.push("map mode not 0600");
                }
                if db < src {
                    out.push("map older than the table");
                }
            }
        }
        Ok(out)
    }
}

impl Step for SaslPasswd {
    fn target(&self) -> String {
        format!("action sasl_passwd {}", self.path)
    }

    fn plan(&self, cx: &StepCx, run: &mut RunState) -> Result<Planned, StepError> {
        if !cx.host.is_live() {
            return Ok(offline(
                self.target(),
                "write the SASL credentials and postmap them on the running system",
            ));
        }
        let password = self.password(&cx.host.root)?;
        let differences = self.differences(cx, &self.table(&password))?;
        if differences.is_empty() {
            return Ok(Planned::new(self.target(), Change::None, "unchanged"));
        }
        run.changed.insert(self.path.clone());
        run.changed.insert(self.db());
        run.notified.extend(self.notify.iter().cloned());
        let change = match cx.host.root.meta(&self.path)? {
            None => Change::Create { diff: None },
            Some(_) => Change::Update { diff: None },
        };
        Ok(Planned::contents(
            self.target(),
            change,
            format!(
                "{}: write (0600 root:root) and postmap {}",
                differences.join(", "),
                self.db()
            ),
        ))
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        crate::steps::apply_planned(self, cx, run, |_| {
            let root = &cx.host.root;
            let ids = cx.host.owner_ids("root", "root")?;
            let password = self.password(root)?;
            backup.create_parents(&self.path, 0o755, None)?;
            backup.record_file(&self.path)?;
            backup.record_file(&self.db())?;
            root.write_atomic(&self.path, &self.table(&password), 0o600, ids)?;
            // postmap keeps the mode of a map that exists: make it private before it holds
            // anything, so the password is never in a file others may read.
            match root.meta(self.db())? {
                None => root.write_atomic(self.db(), b"", 0o600, ids)?,
                Some(_) => root.set_mode(self.db(), 0o600)?,
            }
            let table = root.path(&self.path)?.display().to_string();
            cx.host
                .runner
                .run_ok(&["postmap".into(), format!("hash:{table}")], None, &[])?;
            root.set_mode(self.db(), 0o600)?;
            backup.note_services(&self.notify)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(file: &str) -> SaslPasswd {
        SaslPasswd {
            path: "/etc/postfix/sasl_passwd".into(),
            next_hop: "[smtp.example.net]:587".into(),
            username: "me@example.test".into(),
            password_file: file.into(),
            input: "mail.relay.password_file".into(),
            notify: vec![],
        }
    }

    fn root_with(contents: &[u8]) -> (tempfile::TempDir, Root) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/pw"), contents).unwrap();
        let root = Root::new(dir.path());
        (dir, root)
    }

    fn reason(contents: &[u8]) -> String {
        let (_d, root) = root_with(contents);
        match step("/etc/pw").password(&root) {
            Err(StepError::Input { key, reason }) => {
                assert_eq!(key, "mail.relay.password_file");
                assert!(!reason.contains("s3cret"), "{reason}");
                reason
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_line_is_the_password_and_the_table_holds_it() {
        let (_d, root) = root_with(b"s3cret pass\n");
        let s = step("/etc/pw");
        let pw = s.password(&root).unwrap();
        assert_eq!(pw, "s3cret pass");
        let table = String::from_utf8(s.table(&pw)).unwrap();
        assert!(table.ends_with("\n[smtp.example.net]:587 me@example.test:s3cret pass\n"));
    }

    #[test]
    fn unusable_password_files_are_input_errors() {
        assert!(reason(b"").contains("is empty"));
        assert!(reason(b"\n").contains("is empty"));
        assert!(reason(b"s3cret\nmore\n").contains("more than one line"));
        assert!(reason(b"s3cret\x07").contains("control character"));
        assert!(reason(b" s3cret").contains("blank"));
        assert!(reason(&[b'x'; 5000]).contains("larger than"));
        let (_d, root) = root_with(b"x");
        let missing = step("/etc/nope").password(&root).unwrap_err().to_string();
        assert!(missing.contains("/etc/nope does not exist"), "{missing}");
        let dir = step("/etc").password(&root).unwrap_err().to_string();
        assert!(dir.contains("/etc is a directory"), "{dir}");
    }
}
