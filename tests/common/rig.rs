//! A host made of fakes (`firstboot::host::fake`) with its files in a temporary root,
//! and the step context to plan and apply steps on it as `run` does.

use firstboot::backup::{Backup, BackupManifest};
use firstboot::host::fake::{host, Fakes};
use firstboot::host::Host;
use firstboot::redact::Redactor;
use firstboot::render::Templates;
use firstboot::steps::{Planned, RunState, StepCx, StepError, StepKind};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The fake host, its fakes and a step context's parts.
pub struct Rig {
    pub dir: tempfile::TempDir,
    pub host: Host,
    pub fakes: Fakes,
    pub templates: Templates,
    pub redactor: Redactor,
    pub ctx: Value,
    pub last: BTreeMap<String, String>,
}

/// A fresh rig: /etc/hosts, /etc/issue, /etc/passwd and /etc/group in the tree.
pub fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    for (p, text) in [
        ("etc/hosts", "127.0.0.1\tlocalhost\n"),
        ("etc/issue", "Debian\n"),
        ("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
        ("etc/group", "root:x:0:\n"),
    ] {
        let full = dir.path().join(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    let (host, fakes) = host(dir.path());
    Rig {
        dir,
        host,
        fakes,
        templates: Templates::new(&[]).unwrap(),
        redactor: Redactor::default(),
        ctx: json!({}),
        last: BTreeMap::new(),
    }
}

impl Rig {
    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p.trim_start_matches('/'))
    }
    pub fn read(&self, p: &str) -> Option<String> {
        std::fs::read_to_string(self.path(p)).ok()
    }
    pub fn cx(&self) -> StepCx<'_> {
        StepCx {
            host: &self.host,
            templates: &self.templates,
            module_id: "1-test",
            ctx: &self.ctx,
            redactor: &self.redactor,
            last_managed: &self.last,
            overwrite: false,
        }
    }
    pub fn plan(&self, steps: &[StepKind]) -> Vec<Planned> {
        let mut run = RunState::default();
        let cx = self.cx();
        steps
            .iter()
            .map(|s| s.step().plan(&cx, &mut run).unwrap())
            .collect()
    }
    /// Apply in order as `run` does; the backup manifest either way.
    pub fn apply(
        &mut self,
        steps: &[StepKind],
    ) -> Result<BackupManifest, Box<(StepError, BackupManifest)>> {
        let mut backup = Backup::new(self.host.root.clone(), "20260101T000000Z-1", "1-test");
        let mut run = RunState::default();
        let cx = self.cx();
        for s in steps {
            if let Err(e) = s.step().apply(&cx, &mut run, &mut backup) {
                return Err(Box::new((e, backup.manifest().clone())));
            }
        }
        let m = backup.manifest().clone();
        self.last = run.managed;
        Ok(m)
    }
}

/// Type step declarations.
pub fn steps(bodies: &[Value]) -> Vec<StepKind> {
    bodies
        .iter()
        .map(|b| StepKind::from_body(b).unwrap())
        .collect()
}
