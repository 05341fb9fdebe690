//! Steps: what a module does. Each kind lives in its own file and implements [`Step`]:
//! `plan` says what would change without changing anything, `apply` makes it so and is
//! idempotent. [`StepKind`] is the only registry of step kind names.

pub mod absent;
pub mod account;
pub mod action;
pub mod actions;
pub mod block;
pub mod command;
pub mod directory;
pub mod file;
pub mod managed;
pub mod member;
pub mod mode;
pub mod note;
pub mod ownership;
pub mod package;
pub mod service;
pub mod templated;

use crate::backup::Backup;
use crate::host::{Host, HostError};
use crate::redact::Redactor;
use crate::render::{RenderError, Templates};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Why a step could not be planned or applied.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The host refused an operation.
    #[error(transparent)]
    Host(#[from] HostError),
    /// A template failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The step's declaration is unusable with these inputs.
    #[error("{0}")]
    Invalid(String),
    /// A config input turned out unusable once the step looked at it (a secret file that
    /// holds no secret...): an input error, reported against the config key.
    #[error("{key}: {reason}")]
    Input {
        /// The config key, e.g. `dns.publish.tsig_secret_file`.
        key: String,
        /// Why (never the secret itself).
        reason: String,
    },
}

/// What a step would do (plan) or did (apply).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    /// Already as wanted.
    None,
    /// A file or directory that does not exist yet.
    Create {
        /// Unified diff (absent when the contents are secret).
        diff: Option<String>,
    },
    /// Contents or metadata differ.
    Update {
        /// Unified diff (absent when the contents are secret or only metadata changes).
        diff: Option<String>,
    },
    /// A managed file was edited by hand since firstboot wrote it.
    Drift {
        /// What the file would become (absent when secret).
        diff: Option<String>,
    },
    /// An action on the live system (install, start, run...).
    Act,
    /// A file no longer wanted, removed (backed up).
    Remove,
    /// Not done: an offline `--root` has no running system.
    Skipped,
}

impl Change {
    /// Whether applying it changes something.
    pub fn is_change(&self) -> bool {
        !matches!(self, Change::None | Change::Skipped)
    }
}

/// A planned (or applied) step: its target, change and a human summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Planned {
    /// `file /etc/hosts`, `service postfix`...
    pub target: String,
    /// The change.
    #[serde(flatten)]
    pub change: Change,
    /// One line: `create (0644 root:root)`, `reload (main.cf changed)`...
    pub summary: String,
    /// The contents change but their diff is withheld: they hold a secret.
    #[serde(skip)]
    pub hidden: bool,
}

impl Planned {
    /// Shorthand constructor.
    pub fn new(target: String, change: Change, summary: impl Into<String>) -> Self {
        Planned {
            target,
            change,
            summary: summary.into(),
            hidden: false,
        }
    }

    /// A change of contents whose diff `diff` may have been withheld as secret.
    pub fn contents(target: String, change: Change, summary: impl Into<String>) -> Self {
        let hidden = matches!(
            &change,
            Change::Create { diff: None }
                | Change::Update { diff: None }
                | Change::Drift { diff: None }
        );
        Planned {
            hidden,
            ..Planned::new(target, change, summary)
        }
    }
}

/// What steps of one module share while it is planned or applied.
#[derive(Debug, Default)]
pub struct RunState {
    /// Services to reload because one of their files changed.
    pub notified: BTreeSet<String>,
    /// Paths changed so far in this module.
    pub changed: BTreeSet<String>,
    /// Managed-content hashes after this module (drift basis for the next run).
    pub managed: BTreeMap<String, String>,
}

/// Read-only context of a step.
pub struct StepCx<'a> {
    /// The host boundary.
    pub host: &'a Host,
    /// The module's templates.
    pub templates: &'a Templates,
    /// The module id (template names are `<id>/<file>`).
    pub module_id: &'a str,
    /// The inputs and earlier modules' outputs, as templates see them.
    pub ctx: &'a serde_json::Value,
    /// Masks secrets in anything shown.
    pub redactor: &'a Redactor,
    /// Managed-content hashes from the last successful run (drift detection).
    pub last_managed: &'a BTreeMap<String, String>,
    /// Replace drifted files (keeping the edited copy in the backup).
    pub overwrite: bool,
}

/// One step kind.
pub trait Step {
    /// What it acts on, e.g. `file /etc/hosts`.
    fn target(&self) -> String;
    /// What would change; changes nothing.
    fn plan(&self, cx: &StepCx, run: &mut RunState) -> Result<Planned, StepError>;
    /// Make it so, recording originals in `backup` before any change.
    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError>;
}

/// The `apply` of a step kind whose plan says all it will do: plan again and, only when
/// that plan changes something, `make` it so (given the run's state); the plan is the
/// result. Planning first is what makes a re-run a no-op.
pub fn apply_planned(
    step: &(impl Step + ?Sized),
    cx: &StepCx,
    run: &mut RunState,
    make: impl FnOnce(&mut RunState) -> Result<(), StepError>,
) -> Result<Planned, StepError> {
    let planned = step.plan(cx, run)?;
    if planned.change.is_change() {
        make(run)?;
    }
    Ok(planned)
}

/// Every step kind, by the name used in manifests.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StepKind {
    /// A whole file from a Tera template.
    File(file::FileStep),
    /// A marked block inside a file, the rest of the file kept.
    Block(block::BlockStep),
    /// A directory with mode and owner.
    Directory(directory::DirectoryStep),
    /// Packages installed.
    Package(package::PackageStep),
    /// A system user.
    User(account::UserStep),
    /// A system group.
    Group(account::GroupStep),
    /// A user in a supplementary group.
    Member(member::MemberStep),
    /// A command, guarded so it runs only when needed.
    Command(command::CommandStep),
    /// A service running, reloaded when its files change.
    Service(service::ServiceStep),
    /// A built-in action.
    Action(action::ActionStep),
    /// A line the plan shows, nothing done.
    Note(note::NoteStep),
    /// A file that must not be there.
    Absent(absent::AbsentStep),
}

impl StepKind {
    /// Parse a rendered declaration body (`{file: {...}}`).
    pub fn from_body(body: &serde_json::Value) -> Result<StepKind, StepError> {
        let kind: StepKind =
            serde_json::from_value(body.clone()).map_err(|e| StepError::Invalid(e.to_string()))?;
        kind.as_step_validate()?;
        Ok(kind)
    }

    fn as_step_validate(&self) -> Result<(), StepError> {
        match self {
            StepKind::Command(c) => c.validate(),
            StepKind::File(f) => f.validate(),
            StepKind::Block(b) => b.validate(),
            StepKind::Note(n) => n.validate(),
            StepKind::Absent(a) => a.validate(),
            _ => Ok(()),
        }
    }

    /// The records hook: where a step that works on its module's DNS records takes
    /// them, typed, when the module is built (`None` for every other step).
    pub fn records_slot(&mut self) -> Option<&mut Vec<crate::dns::typed::Typed>> {
        match self {
            StepKind::Action(a) => a.records_slot(),
            _ => None,
        }
    }

    /// Check what the step reads from the host that no earlier step makes (a TSIG
    /// secret file...), when the module is built: a bad one is then an input error
    /// before anything changes, not a failure after earlier modules ran. Returns the
    /// secret values it read (a password), which the run's redactor then masks.
    pub fn check_host_inputs(&self, root: &crate::host::Root) -> Result<Vec<String>, StepError> {
        match self {
            StepKind::Action(a) => a.check_host_inputs(root),
            _ => Ok(Vec::new()),
        }
    }

    /// Whether the step works on its module's DNS records (see [`Self::records_slot`]).
    pub fn takes_records(&self) -> bool {
        self.clone().records_slot().is_some()
    }

    /// The step behind the kind.
    pub fn step(&self) -> &dyn Step {
        match self {
            StepKind::File(s) => s,
            StepKind::Block(s) => s,
            StepKind::Directory(s) => s,
            StepKind::Package(s) => s,
            StepKind::User(s) => s,
            StepKind::Group(s) => s,
            StepKind::Member(s) => s,
            StepKind::Command(s) => s,
            StepKind::Service(s) => s,
            StepKind::Action(s) => s,
            StepKind::Note(s) => s,
            StepKind::Absent(s) => s,
        }
    }
}

/// Shorthand for a step skipped on an offline root.
pub fn offline(target: String, what: &str) -> Planned {
    Planned::new(
        target,
        Change::Skipped,
        format!("{what} (offline root: recorded, not run)"),
    )
}
