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

/// The interrupted module, if a previous run was killed. A marker that exists but cannot
/// be read is an error saying what to do, never "nothing was interrupted".
pub fn pending(root: &Root) -> Result<Option<Inflight>, HostError> {
    let Some(d) = root.read(INFLIGHT)? else {
        return Ok(None);
    };
    serde_json::from_slice(&d).map(Some).map_err(|e| {
        HostError::io(
            "understand",
            &root.path(INFLIGHT).unwrap_or_default(),
            std::io::Error::other(format!(
                "{e}. A run was interrupted but the module it was changing is unknown: \
                 find it under /var/log/firstboot/backups/ (the newest run), undo it with \
                 `firstboot rollback MODULE --run RUN`, then delete {INFLIGHT}"
            )),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_marker_is_an_error_not_nothing() {
        let t = tempfile::tempdir().unwrap();
        let r = Root::new(t.path());
        assert!(pending(&r).unwrap().is_none());
        begin(&r, "run1", "8-dns_config").unwrap();
        assert_eq!(pending(&r).unwrap().unwrap().module, "8-dns_config");
        r.write_atomic(INFLIGHT, b"{\"run_id\": tru", 0o600, None)
            .unwrap();
        let e = pending(&r).unwrap_err().to_string();
        assert!(e.contains("firstboot rollback MODULE --run RUN"), "{e}");
        end(&r).unwrap();
        assert!(pending(&r).unwrap().is_none());
    }
}
