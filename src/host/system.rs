//! The running kernel's host name behind the [`Kernel`] trait ([`LiveKernel`] calls
//! gethostname/sethostname; tests use `host::fake`).

use super::HostError;

/// Reads and sets the running system's host name.
pub trait Kernel: Send + Sync {
    /// The current host name.
    fn hostname(&self) -> Result<String, HostError>;
    /// Set the host name.
    fn set_hostname(&self, name: &str) -> Result<(), HostError>;
}

/// The running kernel (nix).
#[derive(Debug, Clone, Copy, Default)]
pub struct LiveKernel;

impl Kernel for LiveKernel {
    fn hostname(&self) -> Result<String, HostError> {
        nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .map_err(|e| HostError::io("gethostname", std::path::Path::new("-"), e.into()))
    }

    fn set_hostname(&self, name: &str) -> Result<(), HostError> {
        nix::unistd::sethostname(name)
            .map_err(|e| HostError::io("sethostname", std::path::Path::new(name), e.into()))
    }
}
