//! The crate's top-level error, and the exit status each kind maps to (CLI contract:
//! 0 success, 1 a module or check failed, 2 usage or input error with nothing changed,
//! 3 another firstboot is running on the same tree).

use crate::diag::Diagnostics;
use crate::host::HostError;
use crate::lock::LockError;

/// Anything that stops a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad config, manifest or profile: nothing was changed.
    #[error("{0}")]
    Input(Diagnostics),
    /// Bad command line use: nothing was changed.
    #[error("{0}")]
    Usage(String),
    /// Another firstboot holds the lock.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A host operation outside any module failed.
    #[error(transparent)]
    Host(#[from] HostError),
    /// A module failed and was rolled back (or stopped before changing anything).
    #[error("module {module} {reason}")]
    Module {
        /// Module id.
        module: String,
        /// What failed.
        reason: String,
    },
    /// Results could not be written where asked (`validate --textfile`).
    #[error("{0}")]
    Report(String),
    /// `validate` found failing checks.
    #[error("{0} check(s) failed")]
    Checks(usize),
    /// `preflight` found something to warn about.
    #[error("preflight: {0} warning(s)")]
    Preflight(usize),
}

impl Error {
    /// Process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Usage(_) => 2,
            Error::Lock(LockError::Busy(_)) => 3,
            _ => 1,
        }
    }
}

impl From<Diagnostics> for Error {
    fn from(d: Diagnostics) -> Self {
        Error::Input(d)
    }
}

impl From<crate::instance_data::InstanceDataError> for Error {
    fn from(e: crate::instance_data::InstanceDataError) -> Self {
        match e {
            crate::instance_data::InstanceDataError::Host(h) => Error::Host(h),
            crate::instance_data::InstanceDataError::Bad(d) => Error::Input(Diagnostics(vec![d])),
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
