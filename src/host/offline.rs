//! The seams of a [`Host`](super::Host) for an offline `--root` tree (an image build):
//! everything that would act on the running system refuses with an error naming the
//! operation, so a missing `is_live()` guard in a step fails the run instead of
//! renaming, reconfiguring or installing on the machine that builds the image.

use super::runner::{CommandOutput, Exec};
use super::services::ServiceVerb;
use super::{HostError, Kernel, Packages, Root, Services};
use std::time::Duration;

/// Why an offline root refuses, as every refusal ends.
pub fn reason(root: &Root) -> String {
    format!(
        "offline root {}: not acting on the running system",
        root.base().display()
    )
}

fn refuse(root: &Root, op: String) -> HostError {
    HostError::Offline {
        op,
        reason: reason(root),
    }
}

/// A command runner backend that never starts a process.
#[derive(Debug, Clone)]
pub struct RefuseExec(pub Root);

impl Exec for RefuseExec {
    fn exec(
        &self,
        _argv: &[String],
        _stdin: Option<&[u8]>,
        _env: &[(&str, &str)],
        _timeout: Duration,
    ) -> Result<CommandOutput, String> {
        Err(format!("refused: {}", reason(&self.0)))
    }
}

/// The host name of the tree (its /etc/hostname); setting it refuses.
#[derive(Debug, Clone)]
pub struct TreeKernel(pub Root);

impl Kernel for TreeKernel {
    fn hostname(&self) -> Result<String, HostError> {
        let data = self.0.read("/etc/hostname")?.unwrap_or_default();
        let text = String::from_utf8_lossy(&data);
        match text.lines().next().map(str::trim) {
            Some(name) if !name.is_empty() => Ok(name.to_string()),
            _ => Err(refuse(
                &self.0,
                "read the host name (the tree has no /etc/hostname)".into(),
            )),
        }
    }

    fn set_hostname(&self, name: &str) -> Result<(), HostError> {
        Err(refuse(&self.0, format!("set the host name to {name}")))
    }
}

/// Packages: the running system's package database says nothing about the tree, and
/// installing would install on the machine; both refuse.
#[derive(Debug, Clone)]
pub struct RefusePackages(pub Root);

impl Packages for RefusePackages {
    fn installed(&self, name: &str) -> Result<bool, HostError> {
        Err(refuse(&self.0, format!("query package {name}")))
    }

    fn install(&self, names: &[String], _debconf: &[String]) -> Result<(), HostError> {
        Err(refuse(&self.0, format!("install {}", names.join(" "))))
    }
}

/// Services: the tree runs none; querying or acting refuses.
#[derive(Debug, Clone)]
pub struct RefuseServices(pub Root);

impl Services for RefuseServices {
    fn is_running(&self, name: &str) -> Result<bool, HostError> {
        Err(refuse(&self.0, format!("ask whether {name} runs")))
    }

    fn act(&self, name: &str, verb: ServiceVerb) -> Result<(), HostError> {
        Err(refuse(&self.0, format!("{} {name}", verb.as_str())))
    }

    fn is_enabled(&self, name: &str) -> Result<bool, HostError> {
        Err(refuse(
            &self.0,
            format!("ask whether {name} starts at boot"),
        ))
    }

    fn enable(&self, name: &str) -> Result<(), HostError> {
        Err(refuse(&self.0, format!("enable {name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Host, Runner};
    use crate::redact::Redactor;

    fn offline_host(dir: &std::path::Path) -> Host {
        Host::new(
            Root::new(dir),
            Runner::new(Duration::from_secs(5), Redactor::default()),
        )
    }

    fn refused<T: std::fmt::Debug>(r: Result<T, HostError>, dir: &std::path::Path, op: &str) {
        let e = r.expect_err("an offline root must refuse").to_string();
        let why = format!(
            "offline root {}: not acting on the running system",
            dir.display()
        );
        assert!(e.contains(&why) && e.contains(op), "{e}");
    }

    #[test]
    fn commands_are_refused_without_starting_a_process() {
        let dir = tempfile::tempdir().unwrap();
        let h = offline_host(dir.path());
        let marker = dir.path().join("ran");
        let argv: Vec<String> = ["sh", "-c", &format!("touch {}", marker.display())]
            .map(String::from)
            .into();
        refused(h.runner.run(&argv, None, &[]), dir.path(), "touch");
        refused(h.runner.run_ok(&argv, None, &[]), dir.path(), "sh -c");
        // groupadd refuses a name with a space: harmless should the seam ever act.
        let group = h.accounts.create_group(&h.runner, "no such group!");
        refused(group, dir.path(), "groupadd --system no such group!");
        assert!(!marker.exists(), "the command ran");
    }

    #[test]
    fn the_host_name_is_the_trees_and_is_never_set() {
        let dir = tempfile::tempdir().unwrap();
        let h = offline_host(dir.path());
        refused(h.kernel.hostname(), dir.path(), "no /etc/hostname");
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/hostname"), "  \nother\n").unwrap();
        refused(h.kernel.hostname(), dir.path(), "no /etc/hostname");
        std::fs::write(dir.path().join("etc/hostname"), "image.example\n").unwrap();
        assert_eq!(h.kernel.hostname().unwrap(), "image.example");
        // The machine's own name: nothing would change should the seam ever act.
        let machine = nix::unistd::gethostname().unwrap();
        let machine = machine.to_string_lossy();
        let op = format!("set the host name to {machine}");
        refused(h.kernel.set_hostname(&machine), dir.path(), &op);
    }

    #[test]
    fn packages_and_services_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let h = offline_host(dir.path());
        let (p, s) = (h.packages(), h.services());
        let name = "firstboot-no-such-unit";
        refused(p.installed(name), dir.path(), "query package");
        refused(s.is_running(name), dir.path(), "ask whether");
        refused(s.is_enabled(name), dir.path(), "starts at boot");
        refused(s.enable(name), dir.path(), "enable firstboot-no-such-unit");
        for (verb, op) in [
            (ServiceVerb::Start, "start"),
            (ServiceVerb::Reload, "reload"),
            (ServiceVerb::Restart, "restart"),
            (ServiceVerb::Stop, "stop"),
        ] {
            refused(s.act(name, verb), dir.path(), &format!("{op} {name}"));
        }
        // Installing on the live system would first refresh its package lists: asked
        // of the refusing seam itself, never of a host that might act.
        let install = RefusePackages(Root::new(dir.path())).install(&[name.into()], &[]);
        refused(install, dir.path(), "install firstboot-no-such-unit");
    }
}
