//! The per-instance stamp (`/var/lib/firstboot/instance.json`): which instance a complete
//! run of a whole profile last succeeded on. `firstboot run --once-per-instance` (the
//! systemd unit's command) does nothing while the stamp names this instance, so later
//! boots of the same instance cost nothing and apply nothing; an instance cloned from an
//! image has a new id, so it runs again. Like cloud-init's per-instance semaphores.

use crate::host::{HostError, Root};
use serde::{Deserialize, Serialize};

/// In-tree path of the stamp.
pub const STAMP_FILE: &str = "/var/lib/firstboot/instance.json";

/// Instance id used when nothing names the instance: never stamped (a clone of an image
/// without a machine id would otherwise look like the image).
pub const UNKNOWN_INSTANCE: &str = "unknown";

/// The last complete, successful run on an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// The instance it ran on.
    pub instance_id: String,
    /// Its run id.
    pub run: String,
    /// Its profile.
    pub profile: String,
    /// When it finished (RFC 3339).
    pub finished_at: String,
}

impl Stamp {
    /// The stamp, if there is one. An unreadable or corrupt stamp is no stamp (the run
    /// it would skip goes ahead, and a plain run skips what is done anyway), said at WARN.
    pub fn load(root: &Root) -> Result<Option<Stamp>, HostError> {
        let Some(bytes) = root.read(STAMP_FILE)? else {
            return Ok(None);
        };
        match serde_json::from_slice(&bytes) {
            Ok(s) => Ok(Some(s)),
            Err(e) => {
                tracing::warn!(
                    "{}: not a firstboot stamp ({e}); treated as absent",
                    root.path(STAMP_FILE)?.display()
                );
                Ok(None)
            }
        }
    }

    /// Write the stamp atomically (0600, like the state).
    pub fn save(&self, root: &Root) -> Result<(), HostError> {
        crate::state::ensure_state_dir(root)?;
        let json = serde_json::to_vec_pretty(self).unwrap_or_default();
        root.write_atomic(STAMP_FILE, &json, 0o600, None)
    }

    /// Whether this stamp says `instance` is provisioned.
    pub fn covers(&self, instance: &str) -> bool {
        instance != UNKNOWN_INSTANCE && self.instance_id == instance
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(id: &str) -> Stamp {
        Stamp {
            instance_id: id.into(),
            run: "r".into(),
            profile: "standard".into(),
            finished_at: "t".into(),
        }
    }

    #[test]
    fn saved_stamp_loads_and_covers_its_instance_only() {
        let t = tempfile::tempdir().unwrap();
        let root = Root::new(t.path());
        assert_eq!(Stamp::load(&root).unwrap(), None);
        stamp("i-1").save(&root).unwrap();
        let s = Stamp::load(&root).unwrap().unwrap();
        assert!(s.covers("i-1"));
        assert!(!s.covers("i-2"));
        assert!(!stamp(UNKNOWN_INSTANCE).covers(UNKNOWN_INSTANCE));
    }

    #[test]
    fn corrupt_stamp_is_no_stamp() {
        let t = tempfile::tempdir().unwrap();
        let root = Root::new(t.path());
        std::fs::create_dir_all(t.path().join("var/lib/firstboot")).unwrap();
        std::fs::write(t.path().join("var/lib/firstboot/instance.json"), "{").unwrap();
        assert_eq!(Stamp::load(&root).unwrap(), None);
    }
}
