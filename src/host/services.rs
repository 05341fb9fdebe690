//! Services: systemctl when systemd runs (/run/systemd/system exists), else the
//! packages' init scripts through service(8), as in containers and our test hosts.

use super::{HostError, Runner};
use std::path::Path;

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
    fn as_str(self) -> &'static str {
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

    /// Whether the service is running.
    pub fn is_running(&self, runner: &Runner, name: &str) -> Result<bool, HostError> {
        let out = match self {
            ServiceManager::Systemd => runner.run(
                &argv(&["systemctl", "is-active", "--quiet", name]),
                None,
                &[],
            )?,
            ServiceManager::Init => runner.run(&argv(&["service", name, "status"]), None, &[])?,
        };
        Ok(out.success())
    }

    /// Start, reload or restart.
    pub fn act(&self, runner: &Runner, name: &str, verb: ServiceVerb) -> Result<(), HostError> {
        let v = verb.as_str();
        let cmd = match self {
            ServiceManager::Systemd => argv(&["systemctl", v, name]),
            ServiceManager::Init => argv(&["service", name, v]),
        };
        runner.run_ok(&cmd, None, &[]).map(|_| ())
    }

    /// Whether the service starts at boot (init scripts: enabled by their packages).
    pub fn is_enabled(&self, runner: &Runner, name: &str) -> Result<bool, HostError> {
        match self {
            ServiceManager::Systemd => Ok(runner
                .run(
                    &argv(&["systemctl", "is-enabled", "--quiet", name]),
                    None,
                    &[],
                )?
                .success()),
            ServiceManager::Init => Ok(true),
        }
    }

    /// Enable at boot (systemd only; init scripts are enabled by their packages).
    pub fn enable(&self, runner: &Runner, name: &str) -> Result<(), HostError> {
        match self {
            ServiceManager::Systemd => runner
                .run_ok(&argv(&["systemctl", "enable", name]), None, &[])
                .map(|_| ()),
            ServiceManager::Init => Ok(()),
        }
    }
}
