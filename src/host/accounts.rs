//! Users and groups: looked up through NSS (nix) on the live system and in the tree's
//! own /etc/passwd and /etc/group under an offline root; created with useradd/groupadd.

use super::{HostError, Root, Runner};

/// Account lookups and creation for one root.
#[derive(Debug, Clone)]
pub struct Accounts {
    root: Root,
}

impl Accounts {
    /// Accounts of `root`.
    pub fn new(root: Root) -> Self {
        Accounts { root }
    }

    fn lookup_file(&self, file: &str, name: &str) -> Result<Option<u32>, HostError> {
        let Some(data) = self.root.read(file)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&data);
        Ok(text.lines().find_map(|l| {
            let mut f = l.split(':');
            (f.next() == Some(name))
                .then(|| f.nth(1).and_then(|id| id.parse().ok()))
                .flatten()
        }))
    }

    /// uid of a user, if it exists.
    pub fn uid(&self, name: &str) -> Result<Option<u32>, HostError> {
        if self.root.is_live() {
            let u = nix::unistd::User::from_name(name).ok().flatten();
            return Ok(u.map(|u| u.uid.as_raw()));
        }
        match self.lookup_file("/etc/passwd", name)? {
            None if name == "root" => Ok(Some(0)),
            other => Ok(other),
        }
    }

    /// gid of a group, if it exists.
    pub fn gid(&self, name: &str) -> Result<Option<u32>, HostError> {
        if self.root.is_live() {
            let g = nix::unistd::Group::from_name(name).ok().flatten();
            return Ok(g.map(|g| g.gid.as_raw()));
        }
        match self.lookup_file("/etc/group", name)? {
            None if name == "root" => Ok(Some(0)),
            other => Ok(other),
        }
    }

    /// uid and gid for owner/group names, failing on unknown ones.
    pub fn ids(&self, owner: &str, group: &str) -> Result<(u32, u32), HostError> {
        let uid = self.uid(owner)?.ok_or_else(|| HostError::UnknownAccount {
            kind: "user",
            name: owner.to_string(),
        })?;
        let gid = self.gid(group)?.ok_or_else(|| HostError::UnknownAccount {
            kind: "group",
            name: group.to_string(),
        })?;
        Ok((uid, gid))
    }

    /// Create a system group (live system only).
    pub fn create_group(&self, runner: &Runner, name: &str) -> Result<(), HostError> {
        let argv = ["groupadd", "--system", name].map(String::from).to_vec();
        runner.run_ok(&argv, None, &[]).map(|_| ())
    }

    /// Create a system user with its own primary group and no login.
    pub fn create_user(
        &self,
        runner: &Runner,
        name: &str,
        group: &str,
        home: &str,
    ) -> Result<(), HostError> {
        let argv = [
            "useradd",
            "--system",
            "--gid",
            group,
            "--home-dir",
            home,
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ]
        .map(String::from)
        .to_vec();
        runner.run_ok(&argv, None, &[]).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_lookup_reads_tree_files() {
        let t = tempfile::tempdir().unwrap();
        let r = Root::new(t.path());
        std::fs::create_dir(t.path().join("etc")).unwrap();
        std::fs::write(
            t.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nopendkim:x:110:115::/run:/bin/false\n",
        )
        .unwrap();
        std::fs::write(t.path().join("etc/group"), "opendkim:x:115:\n").unwrap();
        let a = Accounts::new(r);
        assert_eq!(a.ids("opendkim", "opendkim").unwrap(), (110, 115));
        assert!(a.uid("nobody-here").unwrap().is_none());
    }
}
