//! A mode changed by hand is drift for that file only: each managed file keeps the mode
//! firstboot set on it, so a chmod that makes one file look like another is noticed.

mod common;
use common::rig::{rig, steps};
use firstboot::steps::Change;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;

#[test]
fn a_chmod_to_another_managed_files_mode_is_still_drift() {
    let mut r = rig();
    let s = steps(&[
        json!({"file": {"path": "/etc/a.key", "content": "key\n", "mode": "0600"}}),
        json!({"file": {"path": "/etc/b.conf", "content": "b\n", "mode": "0644"}}),
    ]);
    r.apply(&s).unwrap();
    std::fs::set_permissions(r.path("/etc/a.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let plan = r.plan(&s);
    assert!(
        matches!(plan[0].change, Change::Drift { .. }),
        "a.key was changed by hand: {:?}",
        plan[0]
    );
    assert_eq!(plan[1].change, Change::None, "{:?}", plan[1]);
}
