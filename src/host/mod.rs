//! The host boundary: every file, command, package, service, account, host name and
//! network operation goes through here, so an offline `--root` tree and tests need to
//! swap nothing above it. Packages, services, commands, the host name and the network
//! are traits ([`Seams`]) with scripted fakes in [`fake`].

pub mod accounts;
pub mod fake;
pub mod net;
pub mod offline;
pub mod open;
pub mod packages;
pub mod root;
pub mod runner;
pub mod services;
pub mod system;

pub use accounts::Accounts;
pub use net::Network;
pub use packages::{PackageManager, Packages};
pub use root::{Meta, Root};
pub use runner::{CommandOutput, Runner};
pub use services::{ServiceManager, Services};
pub use system::Kernel;

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
    /// An operation on the running system asked for through the host of an offline
    /// tree: refused, nothing was done.
    #[error("cannot {op}: {reason}")]
    Offline {
        /// What was asked (set the host name to X, install P, restart S...).
        op: String,
        /// `offline root R: not acting on the running system`.
        reason: String,
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
    /// The running kernel's host name.
    pub kernel: Box<dyn Kernel>,
    /// DNS exchanges.
    pub net: Box<dyn Network>,
    packages: Box<dyn Packages>,
    services: Box<dyn Services>,
    live: bool,
    /// Accounts already reported missing from an offline tree (each is said once).
    missing_accounts: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

/// What a [`Host`] acts through besides its root and runner: real ones for a run,
/// scripted fakes in tests (`host::fake`).
pub struct Seams {
    /// Package manager.
    pub packages: Box<dyn Packages>,
    /// Service manager.
    pub services: Box<dyn Services>,
    /// Host name.
    pub kernel: Box<dyn Kernel>,
    /// Network.
    pub net: Box<dyn Network>,
}

impl Host {
    /// The host for `root` (`/` is the live system). For an offline tree the kernel,
    /// package, service and command seams refuse whatever would act on the running
    /// system ([`offline`]): the steps' `is_live()` guards are not the only defence.
    pub fn new(root: Root, runner: Runner) -> Self {
        let live = root.is_live();
        let (runner, seams) = if live {
            let seams = Seams {
                packages: Box::new(packages::SystemPackages::new(runner.clone())),
                services: Box::new(services::SystemServices::new(
                    runner.clone(),
                    ServiceManager::detect(),
                )),
                kernel: Box::new(system::LiveKernel),
                net: Box::new(net::LiveNetwork),
            };
            (runner, seams)
        } else {
            let runner =
                runner.with_backend(std::sync::Arc::new(offline::RefuseExec(root.clone())));
            let seams = Seams {
                packages: Box::new(offline::RefusePackages(root.clone())),
                services: Box::new(offline::RefuseServices(root.clone())),
                kernel: Box::new(offline::TreeKernel(root.clone())),
                net: Box::new(net::LiveNetwork),
            };
            (runner, seams)
        };
        let mut h = Host::with_seams(root, runner, seams, live);
        h.privileged = nix::unistd::geteuid().is_root();
        h
    }

    /// A host acting through `seams`; `live` says whether packages, services, commands
    /// and the network are acted on (a fake host is live while its files go to a
    /// temporary root). Owners are not enforced.
    pub fn with_seams(root: Root, runner: Runner, seams: Seams, live: bool) -> Self {
        let accounts = Accounts::new(root.clone());
        Host {
            root,
            runner,
            accounts,
            privileged: false,
            kernel: seams.kernel,
            net: seams.net,
            packages: seams.packages,
            services: seams.services,
            live,
            missing_accounts: Default::default(),
        }
    }

    /// Whether commands, packages and services may be acted on (the live system, or a
    /// host made of fakes).
    pub fn is_live(&self) -> bool {
        self.live
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

    /// The package manager.
    pub fn packages(&self) -> &dyn Packages {
        self.packages.as_ref()
    }

    /// The service manager.
    pub fn services(&self) -> &dyn Services {
        self.services.as_ref()
    }
}
