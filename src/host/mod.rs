//! The host boundary: every file, command, package, service and account operation goes
//! through here, so an offline `--root` tree and tests need to swap nothing above it.

pub mod accounts;
pub mod open;
pub mod packages;
pub mod root;
pub mod runner;
pub mod services;

pub use accounts::Accounts;
pub use packages::PackageManager;
pub use root::{Meta, Root};
pub use runner::{CommandOutput, Runner};
pub use services::ServiceManager;

use std::path::Path;

/// A failure at the host boundary, always naming what it was acting on.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// A filesystem operation failed.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was attempted (read, write, rename...).
        op: &'static str,
        /// The host path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Something other than a regular file where firstboot reads or writes one.
    #[error("{path} is {what}, not a regular file")]
    NotRegular {
        /// The host path.
        path: String,
        /// What it is instead (a FIFO, a directory, a symbolic link...).
        what: &'static str,
    },
    /// A file larger than firstboot accepts.
    #[error("{path} is larger than {limit} bytes")]
    TooLarge {
        /// The host path.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// A path that would escape the root.
    #[error("path {0} is not allowed (it must be absolute and contain no `..`)")]
    BadPath(String),
    /// A command could not be started or did not finish.
    #[error("command `{cmd}` {reason}")]
    Command {
        /// The command line (secrets masked).
        cmd: String,
        /// Why it failed (exit status and the end of its stderr, or timeout).
        reason: String,
    },
    /// A user or group name that does not exist.
    #[error("unknown {kind} `{name}`")]
    UnknownAccount {
        /// `user` or `group`.
        kind: &'static str,
        /// The name looked up.
        name: String,
    },
    /// Neither apt-get nor dnf is available.
    #[error("no supported package manager found (apt-get or dnf)")]
    NoPackageManager,
}

impl HostError {
    /// An I/O error on `path`.
    pub fn io(op: &'static str, path: &Path, source: std::io::Error) -> Self {
        HostError::Io {
            op,
            path: path.display().to_string(),
            source,
        }
    }
}

/// Everything a step may touch on the host.
pub struct Host {
    /// The file tree.
    pub root: Root,
    /// Runs commands with a timeout, output to the module log.
    pub runner: Runner,
    /// Users and groups.
    pub accounts: Accounts,
    /// Whether we are root (only then are owners enforced).
    pub privileged: bool,
    /// Accounts already reported missing from an offline tree (each is said once).
    missing_accounts: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl Host {
    /// The host for `root` (`/` is the live system).
    pub fn new(root: Root, runner: Runner) -> Self {
        let accounts = Accounts::new(root.clone());
        Host {
            root,
            runner,
            accounts,
            privileged: nix::unistd::geteuid().is_root(),
            missing_accounts: Default::default(),
        }
    }

    /// Whether commands, packages and services may be acted on (live system only).
    pub fn is_live(&self) -> bool {
        self.root.is_live()
    }

    /// uid/gid to enforce for `owner:group`, or `None` when ownership cannot be enforced:
    /// not running as root, or an offline tree that lacks the account (its package was
    /// not installed there). On the live system an unknown account is an error.
    pub fn owner_ids(&self, owner: &str, group: &str) -> Result<Option<(u32, u32)>, HostError> {
        if !self.privileged {
            return Ok(None);
        }
        match self.accounts.ids(owner, group) {
            Ok(ids) => Ok(Some(ids)),
            Err(HostError::UnknownAccount { kind, name }) if !self.is_live() => {
                let first = self
                    .missing_accounts
                    .lock()
                    .map(|mut seen| seen.insert(format!("{kind} {name}")))
                    .unwrap_or(false);
                if first {
                    tracing::warn!(
                        "{kind} `{name}` does not exist in the offline tree; owner left as is"
                    );
                }
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The package manager of the live system.
    pub fn packages(&self) -> Result<PackageManager, HostError> {
        PackageManager::detect()
    }

    /// The service manager of the live system.
    pub fn services(&self) -> ServiceManager {
        ServiceManager::detect()
    }
}
