//! One firstboot at a time: an exclusive lock on /var/lib/firstboot/lock, released when
//! the process exits (even when killed).

use crate::host::{HostError, Root};
use std::fs::File;

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

/// Take the lock without waiting.
pub fn acquire(root: &Root) -> Result<Lock, LockError> {
    crate::state::ensure_state_dir(root)?;
    let path = root.path("/var/lib/firstboot/lock")?;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| HostError::io("open", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(Lock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(LockError::Busy(path.display().to_string())),
        Err(std::fs::TryLockError::Error(e)) => Err(HostError::io("lock", &path, e).into()),
    }
}
