//! One firstboot at a time: an exclusive lock on /var/lib/firstboot/lock, released when
//! the process exits (even when killed).

use crate::host::{HostError, Root};
use std::fs::File;

/// The lock file, inside the root.
pub const LOCK_FILE: &str = "/var/lib/firstboot/lock";

/// A held lock.
pub struct Lock {
    _file: File,
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("another firstboot is already running on this tree (lock {0} is held); wait for it to finish")]
    Busy(String),
    /// The lock file could not be opened.
    #[error(transparent)]
    Host(#[from] HostError),
}

/// Take the lock without waiting. The state directory is created if needed (two runs
/// starting together both get this far; the lock decides between them).
pub fn acquire(root: &Root) -> Result<Lock, LockError> {
    for d in ["/var", "/var/lib", crate::state::STATE_DIR] {
        root.ensure_dir(
            d,
            if d == crate::state::STATE_DIR {
                0o700
            } else {
                0o755
            },
        )?;
    }
    let file = root.open_own(LOCK_FILE, 0o600)?;
    let path = || root.path(LOCK_FILE).unwrap_or_default();
    match file.try_lock() {
        Ok(()) => Ok(Lock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(LockError::Busy(path().display().to_string()))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(HostError::io("lock", &path(), e).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_at_the_lock_is_refused_and_nothing_outside_is_created() {
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("x");
        std::fs::create_dir_all(t.path().join("var/lib/firstboot")).unwrap();
        std::os::unix::fs::symlink(&victim, t.path().join("var/lib/firstboot/lock")).unwrap();
        let e = acquire(&Root::new(t.path())).err().map(|e| e.to_string());
        assert!(
            e.as_deref().is_some_and(|e| e.contains("symbolic link")),
            "{e:?}"
        );
        assert!(!victim.exists(), "created a file outside the root");
    }

    #[test]
    fn racing_runs_on_a_fresh_root_get_the_lock_message() {
        // Many threads start together on a tree without /var: each creates the
        // directories; exactly one holds the lock, the others are told it is held.
        for _ in 0..20 {
            let t = tempfile::tempdir().unwrap();
            let root = Root::new(t.path());
            let barrier = std::sync::Barrier::new(4);
            let results: Vec<Result<Lock, String>> = std::thread::scope(|s| {
                let hs: Vec<_> = (0..4)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            acquire(&root).map_err(|e| e.to_string())
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
            for r in results.iter().filter_map(|r| r.as_ref().err()) {
                assert!(r.contains("already running"), "{r}");
            }
        }
    }
}
