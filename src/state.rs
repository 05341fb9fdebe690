//! Persistent state (`/var/lib/firstboot/state.json`, written atomically): per module the
//! last run, its result, the instance it ran on, and the hashes of what it manages (the
//! basis of drift detection).

use crate::host::{HostError, Root};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// In-tree directory of state.
pub const STATE_DIR: &str = "/var/lib/firstboot";
/// In-tree path of the state file.
pub const STATE_FILE: &str = "/var/lib/firstboot/state.json";

/// How a module's last run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Applied and its checks passed.
    Ok,
    /// Failed and was rolled back.
    RolledBack,
    /// Stopped before changing anything (drift).
    Stopped,
    /// Killed mid-run; rolled back at the next start.
    Interrupted,
    /// Rolled back on request (`firstboot rollback`).
    Reverted,
}

/// One module's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModuleState {
    /// Run id of the last run.
    pub last_run: String,
    /// How it ended.
    pub result: Outcome,
    /// Instance it ran on.
    pub instance_id: String,
    /// When it ended (RFC 3339).
    pub finished_at: String,
    /// Failing step or check, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Hash of the inputs the module read when it last completed (see
    /// `engine::inputs_digest`): when they change, the module is no longer done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<String>,
    /// Hash of each managed file or block as firstboot last wrote it.
    #[serde(default)]
    pub managed: BTreeMap<String, String>,
}

/// Whether a module is done on this instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// Completed here with the same inputs: skipped unless `--force`.
    Yes,
    /// Completed here, but its inputs changed since: it runs again.
    InputsChanged,
    /// Never completed here (or its last run failed).
    No,
}

/// The whole state file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    /// Profile of the last run.
    #[serde(default)]
    pub profile: Option<String>,
    /// Per module id.
    #[serde(default)]
    pub modules: BTreeMap<String, ModuleState>,
}

/// Create /var/lib/firstboot (0700) if missing.
pub fn ensure_state_dir(root: &Root) -> Result<(), HostError> {
    for d in ["/var", "/var/lib", STATE_DIR] {
        if root.meta(d)?.is_none() {
            root.create_dir(d, if d == STATE_DIR { 0o700 } else { 0o755 })?;
        }
    }
    Ok(())
}

impl State {
    /// Load the state (empty when there is none yet).
    pub fn load(root: &Root) -> Result<State, HostError> {
        match root.read(STATE_FILE)? {
            None => Ok(State::default()),
            Some(d) => serde_json::from_slice(&d).map_err(|e| {
                HostError::io(
                    "parse",
                    &root.path(STATE_FILE).unwrap_or_default(),
                    std::io::Error::other(e),
                )
            }),
        }
    }

    /// Save atomically.
    pub fn save(&self, root: &Root) -> Result<(), HostError> {
        ensure_state_dir(root)?;
        let json = serde_json::to_vec_pretty(self).unwrap_or_default();
        root.write_atomic(STATE_FILE, &json, 0o600, None)
    }

    /// Whether `module` completed on `instance` with the inputs whose digest is `inputs`
    /// (so a plain `run` skips it). A record from before input digests were kept counts
    /// as done.
    pub fn done_on(&self, module: &str, instance: &str, inputs: &str) -> Done {
        match self.modules.get(module) {
            Some(m) if m.result == Outcome::Ok && m.instance_id == instance => {
                match m.inputs.as_deref() {
                    Some(d) if d != inputs => Done::InputsChanged,
                    _ => Done::Yes,
                }
            }
            _ => Done::No,
        }
    }

    /// Managed hashes from the module's last successful run.
    pub fn managed(&self, module: &str) -> BTreeMap<String, String> {
        self.modules
            .get(module)
            .map(|m| m.managed.clone())
            .unwrap_or_default()
    }
}
