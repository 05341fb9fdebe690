//! Services behind the [`Services`] trait: [`SystemServices`] uses systemctl when systemd
//! runs (/run/systemd/system exists), else the packages' init scripts through
//! service(8), as in containers and our test hosts; tests use `host::fake`.

use super::{HostError, Runner};
use std::path::Path;

/// Starts, reloads and queries services.
pub trait Services: Send + Sync {
    /// Whether the service is running.
    fn is_running(&self, name: &str) -> Result<bool, HostError>;
    /// Start, reload, restart or stop it.
    fn act(&self, name: &str, verb: ServiceVerb) -> Result<(), HostError>;
    /// Whether it starts at boot.
    fn is_enabled(&self, name: &str) -> Result<bool, HostError>;
    /// Make it start at boot.
    fn enable(&self, name: &str) -> Result<(), HostError>;
}

/// The live system's service manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceManager {
    /// systemd is PID 1.
    Systemd,
    /// No systemd: service(8) and /etc/init.d scripts.
    Init,
}

/// What to do to a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceVerb {
    /// Start it.
    Start,
    /// Reload its configuration.
    Reload,
    /// Restart it.
    Restart,
    /// Stop it.
    Stop,
}

impl ServiceVerb {
    /// The verb as systemctl and service(8) spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceVerb::Start => "start",
            ServiceVerb::Reload => "reload",
            ServiceVerb::Restart => "restart",
            ServiceVerb::Stop => "stop",
        }
    }
}

fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

impl ServiceManager {
    /// Detect the service manager of the running system.
    pub fn detect() -> Self {
        if Path::new("/run/systemd/system").exists() {
            ServiceManager::Systemd
        } else {
            ServiceManager::Init
        }
    }
}

/// systemctl or service(8) on the running system, through the command runner.
pub struct SystemServices {
    runner: Runner,
    manager: ServiceManager,
}

impl SystemServices {
    /// With a given service manager (see [`ServiceManager::detect`]).
    pub fn new(runner: Runner, manager: ServiceManager) -> Self {
        SystemServices { runner, manager }
    }
}

impl Services for SystemServices {
    fn is_running(&self, name: &str) -> Result<bool, HostError> {
        let cmd = match self.manager {
            ServiceManager::Systemd => argv(&["systemctl", "is-active", "--quiet", name]),
            ServiceManager::Init => argv(&["service", name, "status"]),
        };
        Ok(self.runner.run(&cmd, None, &[])?.success())
    }

    fn act(&self, name: &str, verb: ServiceVerb) -> Result<(), HostError> {
        let v = verb.as_str();
        let cmd = match self.manager {
            ServiceManager::Systemd => argv(&["systemctl", v, name]),
            ServiceManager::Init => argv(&["service", name, v]),
        };
        self.runner.run_ok(&cmd, None, &[]).map(|_| ())
    }

    fn is_enabled(&self, name: &str) -> Result<bool, HostError> {
        match self.manager {
            ServiceManager::Systemd => {
                let cmd = argv(&["systemctl", "is-enabled", "--quiet", name]);
                Ok(self.runner.run(&cmd, None, &[])?.success())
            }
            // Init scripts are enabled by their packages.
            ServiceManager::Init => Ok(true),
        }
    }

    fn enable(&self, name: &str) -> Result<(), HostError> {
        match self.manager {
            ServiceManager::Systemd => self
                .runner
                .run_ok(&argv(&["systemctl", "enable", name]), None, &[])
                .map(|_| ()),
            ServiceManager::Init => Ok(()),
        }
    }
}
