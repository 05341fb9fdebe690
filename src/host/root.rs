//! The root every path goes through (`/` on a live system, `--root DIR` for an offline
//! tree). Writes are atomic: temp file, fsync, rename, fsync the directory.

use super::HostError;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// Metadata of a file as firstboot records and restores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// Permission bits (e.g. 0o644).
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// Whether it is a symbolic link (the other fields are the link's own).
    pub is_symlink: bool,
}

/// The filesystem tree firstboot manages.
#[derive(Debug, Clone)]
pub struct Root {
    base: PathBuf,
}

impl Root {
    /// A root at `base` (`/` for the running system).
    pub fn new(base: impl Into<PathBuf>) -> Self {
        Root { base: base.into() }
    }

    /// Whether this is the running system (services and packages can be touched).
    pub fn is_live(&self) -> bool {
        self.base == Path::new("/")
    }

    /// The root directory itself.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// Host path of an absolute in-tree path; `..` components are refused. Under an
    /// offline root, symlinks in the directories leading to it are resolved inside the
    /// tree (an absolute link in an image points into the image, never at the build
    /// machine); the final component is left as it is.
    pub fn path(&self, p: impl AsRef<Path>) -> Result<PathBuf, HostError> {
        self.resolve(p.as_ref(), false)
    }

    /// Like [`Root::path`], but a final symlink is followed too (inside the tree).
    pub fn follow(&self, p: impl AsRef<Path>) -> Result<PathBuf, HostError> {
        self.resolve(p.as_ref(), true)
    }

    fn resolve(&self, p: &Path, follow_last: bool) -> Result<PathBuf, HostError> {
        let bad = || HostError::BadPath(p.display().to_string());
        let mut todo: Vec<std::ffi::OsString> = Vec::new();
        for c in p.components() {
            match c {
                Component::RootDir | Component::CurDir => {}
                Component::Normal(s) => todo.push(s.to_os_string()),
                Component::ParentDir | Component::Prefix(_) => return Err(bad()),
            }
        }
        todo.reverse();
        let mut out = self.base.clone();
        let mut hops = 0;
        while let Some(c) = todo.pop() {
            if c == ".." {
                if out != self.base {
                    out.pop();
                }
                continue;
            }
            let next = out.join(&c);
            let last = todo.is_empty();
            if self.is_live() || (last && !follow_last) {
                out = next;
                continue;
            }
            match fs::symlink_metadata(&next) {
                Ok(m) if m.file_type().is_symlink() => {
                    hops += 1;
                    let target =
                        fs::read_link(&next).map_err(|e| HostError::io("readlink", &next, e))?;
                    if hops > 40 {
                        return Err(bad());
                    }
                    if target.is_absolute() {
                        out = self.base.clone();
                    }
                    for tc in target.components().rev() {
                        match tc {
                            Component::Normal(s) => todo.push(s.to_os_string()),
                            Component::ParentDir => todo.push("..".into()),
                            _ => {}
                        }
                    }
                }
                _ => out = next,
            }
        }
        Ok(out)
    }

    /// Contents of a regular file, or `None` when it does not exist. A FIFO, device,
    /// socket or directory is refused without blocking.
    pub fn read(&self, p: impl AsRef<Path>) -> Result<Option<Vec<u8>>, HostError> {
        let full = self.follow(&p)?;
        super::open::read_regular(&full, None, !self.is_live())
    }

    /// Like [`Root::read`], refusing a file larger than `limit` bytes.
    pub fn read_capped(
        &self,
        p: impl AsRef<Path>,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, HostError> {
        let full = self.follow(&p)?;
        super::open::read_regular(&full, Some(limit), !self.is_live())
    }

    /// Open one of firstboot's own files (lock, logs) for appending, creating it with
    /// `mode`; directories leading to it resolve inside the tree, and a symbolic link or
    /// anything but a regular file at the path itself is refused.
    pub fn open_own(&self, p: impl AsRef<Path>, mode: u32) -> Result<fs::File, HostError> {
        super::open::open_own(&self.path(&p)?, mode)
    }

    /// Create a directory unless one is there already (also when another process made
    /// it a moment ago); a link to a directory inside the tree counts as one.
    pub fn ensure_dir(&self, p: impl AsRef<Path>, mode: u32) -> Result<(), HostError> {
        let full = self.path(&p)?;
        match fs::create_dir(&full) {
            Ok(()) => fs::set_permissions(&full, fs::Permissions::from_mode(mode))
                .map_err(|e| HostError::io("chmod", &full, e)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let target = self.follow(&p)?;
                match fs::symlink_metadata(&target) {
                    Ok(m) if m.is_dir() => Ok(()),
                    Ok(_) => Err(HostError::io(
                        "mkdir",
                        &full,
                        std::io::Error::other("it exists and is not a directory"),
                    )),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(HostError::io(
                        "mkdir",
                        &full,
                        std::io::Error::other(format!(
                            "it is a link to {}, which does not exist inside the root",
                            fs::read_link(&full).unwrap_or_default().display()
                        )),
                    )),
                    Err(e) => Err(HostError::io("stat", &target, e)),
                }
            }
            Err(e) => Err(HostError::io("mkdir", &full, e)),
        }
    }

    /// Metadata (not following a final symlink), or `None` when absent.
    pub fn meta(&self, p: impl AsRef<Path>) -> Result<Option<Meta>, HostError> {
        let full = self.path(&p)?;
        match fs::symlink_metadata(&full) {
            Ok(m) => Ok(Some(Meta {
                mode: m.mode() & 0o7777,
                uid: m.uid(),
                gid: m.gid(),
                is_dir: m.is_dir(),
                is_symlink: m.file_type().is_symlink(),
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(HostError::io("stat", &full, e)),
        }
    }

    /// Write `data` atomically with `mode` (and owner when given).
    pub fn write_atomic(
        &self,
        p: impl AsRef<Path>,
        data: &[u8],
        mode: u32,
        owner: Option<(u32, u32)>,
    ) -> Result<(), HostError> {
        let full = self.path(&p)?;
        let dir = full
            .parent()
            .ok_or_else(|| HostError::BadPath(full.display().to_string()))?;
        let name = full.file_name().unwrap_or_default().to_string_lossy();
        let tmp = dir.join(format!(".{name}.firstboot-{}", std::process::id()));
        let result = (|| {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(|e| HostError::io("create", &tmp, e))?;
            fill(&mut f, &tmp, data, mode, owner)?;
            fs::rename(&tmp, &full).map_err(|e| HostError::io("rename", &full, e))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result?;
        sync_dir(dir)
    }

    /// Rewrite an existing regular file where it is (no temp copy: a rollback on a full
    /// file system), then set `mode` (and owner when given) and fsync it.
    pub fn write_in_place(
        &self,
        p: impl AsRef<Path>,
        data: &[u8],
        mode: u32,
        owner: Option<(u32, u32)>,
    ) -> Result<(), HostError> {
        let full = self.path(&p)?;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&full)
            .map_err(|e| HostError::io("open", &full, e))?;
        fill(&mut f, &full, data, mode, owner)
    }

    /// Modification time as (seconds, nanoseconds) since the epoch, or `None` when absent.
    pub fn mtime(&self, p: impl AsRef<Path>) -> Result<Option<(i64, u32)>, HostError> {
        let full = self.path(&p)?;
        match fs::symlink_metadata(&full) {
            Ok(m) => Ok(Some((m.mtime(), m.mtime_nsec() as u32))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(HostError::io("stat", &full, e)),
        }
    }

    /// Set the modification time (restoring a backed-up file exactly).
    pub fn set_mtime(
        &self,
        p: impl AsRef<Path>,
        (secs, nanos): (i64, u32),
    ) -> Result<(), HostError> {
        let full = self.follow(&p)?;
        let t = if secs >= 0 {
            std::time::UNIX_EPOCH + std::time::Duration::new(secs as u64, nanos)
        } else {
            std::time::UNIX_EPOCH
        };
        let f = fs::File::options()
            .write(true)
            .open(&full)
            .map_err(|e| HostError::io("open", &full, e))?;
        f.set_modified(t)
            .map_err(|e| HostError::io("set mtime of", &full, e))
    }

    /// Target of a symbolic link, as written in the link.
    pub fn read_link(&self, p: impl AsRef<Path>) -> Result<PathBuf, HostError> {
        let full = self.path(&p)?;
        fs::read_link(&full).map_err(|e| HostError::io("readlink", &full, e))
    }

    /// Replace whatever is at `p` by a symbolic link to `target`.
    pub fn make_symlink(&self, p: impl AsRef<Path>, target: &Path) -> Result<(), HostError> {
        let full = self.path(&p)?;
        self.remove_file(&p)?;
        std::os::unix::fs::symlink(target, &full).map_err(|e| HostError::io("symlink", &full, e))
    }

    /// Set permission bits.
    pub fn set_mode(&self, p: impl AsRef<Path>, mode: u32) -> Result<(), HostError> {
        let full = self.follow(&p)?;
        fs::set_permissions(&full, fs::Permissions::from_mode(mode))
            .map_err(|e| HostError::io("chmod", &full, e))
    }

    /// Set owner and group.
    pub fn set_owner(&self, p: impl AsRef<Path>, uid: u32, gid: u32) -> Result<(), HostError> {
        let full = self.path(&p)?;
        std::os::unix::fs::lchown(&full, Some(uid), Some(gid))
            .map_err(|e| HostError::io("chown", &full, e))
    }

    /// Create one directory (the parent must exist).
    pub fn create_dir(&self, p: impl AsRef<Path>, mode: u32) -> Result<(), HostError> {
        let full = self.path(&p)?;
        fs::create_dir(&full).map_err(|e| HostError::io("mkdir", &full, e))?;
        fs::set_permissions(&full, fs::Permissions::from_mode(mode))
            .map_err(|e| HostError::io("chmod", &full, e))
    }

    /// Remove a file; absent is fine.
    pub fn remove_file(&self, p: impl AsRef<Path>) -> Result<(), HostError> {
        let full = self.path(&p)?;
        match fs::remove_file(&full) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(HostError::io("remove", &full, e))
            }
            _ => Ok(()),
        }
    }

    /// Remove a directory if it is empty; returns whether it was removed.
    pub fn remove_empty_dir(&self, p: impl AsRef<Path>) -> Result<bool, HostError> {
        let full = self.path(&p)?;
        match fs::remove_dir(&full) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => Ok(false),
            Err(e) => Err(HostError::io("rmdir", &full, e)),
        }
    }

    /// Missing ancestors of `p` (outermost first), which creating `p` would create.
    pub fn missing_parents(&self, p: impl AsRef<Path>) -> Result<Vec<PathBuf>, HostError> {
        let mut missing = Vec::new();
        let mut cur = p.as_ref().parent();
        while let Some(d) = cur {
            if d == Path::new("/") || d.as_os_str().is_empty() || self.meta(d)?.is_some() {
                break;
            }
            missing.push(d.to_path_buf());
            cur = d.parent();
        }
        missing.reverse();
        Ok(missing)
    }
}

/// Write `data` at the start of `f` (cut to its length), set owner and mode, fsync.
fn fill(
    f: &mut fs::File,
    path: &Path,
    data: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), HostError> {
    f.write_all(data)
        .map_err(|e| HostError::io("write", path, e))?;
    f.set_len(data.len() as u64)
        .map_err(|e| HostError::io("truncate", path, e))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::fchown(&*f, Some(uid), Some(gid))
            .map_err(|e| HostError::io("chown", path, e))?;
    }
    f.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| HostError::io("chmod", path, e))?;
    f.sync_all().map_err(|e| HostError::io("fsync", path, e))
}

fn sync_dir(dir: &Path) -> Result<(), HostError> {
    let d = fs::File::open(dir).map_err(|e| HostError::io("open", dir, e))?;
    d.sync_all().map_err(|e| HostError::io("fsync", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_under_root_and_refuses_parent_dirs() {
        let r = Root::new("/tmp/x");
        assert_eq!(
            r.path("/etc/hosts").unwrap(),
            PathBuf::from("/tmp/x/etc/hosts")
        );
        assert!(r.path("/etc/../../shadow").is_err());
    }

    #[test]
    fn offline_symlinks_resolve_inside_the_tree() {
        let t = tempfile::tempdir().unwrap();
        let host_side = tempfile::tempdir().unwrap();
        std::fs::write(host_side.path().join("secret"), "machine file").unwrap();
        std::fs::create_dir_all(t.path().join("etc/real")).unwrap();
        std::fs::write(t.path().join("etc/real/hosts"), "tree file").unwrap();
        // An absolute link in an image means "inside the image", never the build machine.
        let abs = host_side.path().join("secret");
        std::os::unix::fs::symlink(&abs, t.path().join("etc/escape")).unwrap();
        std::os::unix::fs::symlink("/etc/real", t.path().join("etc/dir")).unwrap();
        std::os::unix::fs::symlink("../../../../etc/real/hosts", t.path().join("etc/rel")).unwrap();
        let r = Root::new(t.path());
        assert!(
            r.read("/etc/escape").unwrap().is_none(),
            "did not read the machine's file"
        );
        assert_eq!(r.read("/etc/dir/hosts").unwrap().unwrap(), b"tree file");
        assert_eq!(r.read("/etc/rel").unwrap().unwrap(), b"tree file");
        assert_eq!(
            r.path("/etc/dir/hosts").unwrap(),
            t.path().join("etc/real/hosts")
        );
    }

    #[test]
    fn atomic_write_sets_mode_and_leaves_no_temp() {
        let t = tempfile::tempdir().unwrap();
        let r = Root::new(t.path());
        r.write_atomic("/f", b"hi", 0o640, None).unwrap();
        assert_eq!(r.read("/f").unwrap().unwrap(), b"hi");
        assert_eq!(r.meta("/f").unwrap().unwrap().mode, 0o640);
        assert_eq!(fs::read_dir(t.path()).unwrap().count(), 1);
    }
}
