//! The in-flight marker: written before a module starts changing the host, removed when
//! it finished or was rolled back. Found at start-up, it means a run was killed mid-module
//! (power loss, kill -9); that module is rolled back from its backup before anything else.

use crate::host::{HostError, Root};
use serde::{Deserialize, Serialize};

/// In-tree path of the marker.
pub const INFLIGHT: &str = "/var/lib/firstboot/inflight.json";

/// A module being applied.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inflight {
    /// Run id.
    pub run_id: String,
    /// Module id.
    pub module: String,
}

/// Mark `module` as being applied (fsynced before the first change).
pub fn begin(root: &Root, run_id: &str, module: &str) -> Result<(), HostError> {
    crate::state::ensure_state_dir(root)?;
    let m = Inflight {
        run_id: run_id.to_string(),
        module: module.to_string(),
    };
    let json = serde_json::to_vec_pretty(&m).unwrap_or_default();
    root.write_atomic(INFLIGHT, &json, 0o600, None)
}

/// The module finished (applied or rolled back).
pub fn end(root: &Root) -> Result<(), HostError> {
    root.remove_file(INFLIGHT)
}

/// The interrupted module, if a previous run was killed.
pub fn pending(root: &Root) -> Result<Option<Inflight>, HostError> {
    Ok(root
        .read(INFLIGHT)?
        .and_then(|d| serde_json::from_slice(&d).ok()))
}
