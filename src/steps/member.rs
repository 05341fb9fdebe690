//! `member`: a user in a supplementary group (postfix in opendkim, to reach the milter's
//! socket). Nothing to do when the user is already a member. On the live system it
//! runs `usermod -a -G` through the host's runner; under an offline root it edits the
//! tree's /etc/group (backed up first, so a rollback puts it back).

use super::{offline, Change, Planned, RunState, Step, StepCx, StepError};
use crate::backup::Backup;
use crate::digest::sha256_hex;
use serde::Deserialize;

/// The tree's group database.
const GROUP_FILE: &str = "/etc/group";

/// A user in a supplementary group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberStep {
    /// User name.
    pub user: String,
    /// Group the user must be a member of.
    pub group: String,
}

/// The members of `group` in an /etc/group text; `None` when there is no such group.
pub fn members(text: &str, group: &str) -> Option<Vec<String>> {
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() == 4 && f[0] == group).then(|| {
            f[3].split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect()
        })
    })
}

/// An /etc/group text with `user` added to `group` (the rest kept byte for byte).
pub fn with_member(text: &str, group: &str, user: &str) -> String {
    let mut out = String::with_capacity(text.len() + user.len() + 1);
    for l in text.split_inclusive('\n') {
        let (line, nl) = l.strip_suffix('\n').map_or((l, ""), |x| (x, "\n"));
        let f: Vec<&str> = line.split(':').collect();
        if f.len() == 4 && f[0] == group && !f[3].split(',').any(|m| m == user) {
            let sep = if f[3].is_empty() { "" } else { "," };
            out.push_str(&format!("{line}{sep}{user}{nl}"));
        } else {
            out.push_str(l);
        }
    }
    out
}

impl MemberStep {
    /// Whether the user is a member (`None`: the group does not exist yet).
    fn is_member(&self, cx: &StepCx) -> Result<Option<bool>, StepError> {
        if cx.host.root.is_live() {
            let g = nix::unistd::Group::from_name(&self.group).ok().flatten();
            return Ok(g.map(|g| g.mem.contains(&self.user)));
        }
        let text = cx.host.root.read(GROUP_FILE)?.unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        Ok(members(&text, &self.group).map(|m| m.contains(&self.user)))
    }
}

impl Step for MemberStep {
    fn target(&self) -> String {
        format!("member {} in group {}", self.user, self.group)
    }

    fn plan(&self, cx: &StepCx, _run: &mut RunState) -> Result<Planned, StepError> {
        Ok(match self.is_member(cx)? {
            Some(true) => Planned::new(self.target(), Change::None, "already a member"),
            _ if cx.host.is_live() => Planned::new(self.target(), Change::Act, "add"),
            None => offline(self.target(), "add once the group exists"),
            Some(false) => {
                let old = cx.host.root.read(GROUP_FILE)?.unwrap_or_default();
                let old = String::from_utf8_lossy(&old).into_owned();
                let new = with_member(&old, &self.group, &self.user);
                let diff = super::managed::diff(
                    cx,
                    GROUP_FILE,
                    Some(old.as_bytes()),
                    new.as_bytes(),
                    false,
                );
                Planned::new(
                    self.target(),
                    Change::Update { diff },
                    format!("add to {GROUP_FILE}"),
                )
            }
        })
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        let p = self.plan(cx, run)?;
        match p.change {
            Change::Act => {
                let argv = ["usermod", "-a", "-G", &self.group, &self.user].map(String::from);
                cx.host.runner.run_ok(&argv, None, &[])?;
            }
            Change::Update { .. } => {
                let root = &cx.host.root;
                let old = root.read(GROUP_FILE)?.unwrap_or_default();
                let new = with_member(&String::from_utf8_lossy(&old), &self.group, &self.user);
                let meta = root.meta(GROUP_FILE)?;
                backup.record_file(GROUP_FILE)?;
                let owner = meta.filter(|_| cx.host.privileged).map(|m| (m.uid, m.gid));
                let mode = meta.map_or(0o644, |m| m.mode);
                root.write_atomic(GROUP_FILE, new.as_bytes(), mode, owner)?;
                backup.note_written(GROUP_FILE, &sha256_hex(new.as_bytes()))?;
                run.changed.insert(GROUP_FILE.to_string());
            }
            _ => {}
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_added_once_and_the_rest_is_kept() {
        let text = "root:x:0:\nopendkim:x:990:\nmail:x:8:a,b\nlast:x:9:";
        assert_eq!(members(text, "mail").unwrap(), ["a", "b"]);
        assert_eq!(members(text, "opendkim").unwrap(), Vec::<String>::new());
        assert_eq!(members(text, "nope"), None);
        let once = with_member(text, "opendkim", "postfix");
        assert_eq!(
            once,
            "root:x:0:\nopendkim:x:990:postfix\nmail:x:8:a,b\nlast:x:9:"
        );
        assert_eq!(
            with_member(&once, "opendkim", "postfix"),
            once,
            "idempotent"
        );
        let two = with_member(text, "mail", "postfix");
        assert!(two.contains("mail:x:8:a,b,postfix\n"), "{two}");
        assert!(with_member(text, "last", "x").ends_with("last:x:9:x"));
    }
}
