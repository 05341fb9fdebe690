//! The engine: select modules from a profile, resolve their inputs, then plan or run
//! them in order with backup, checks and rollback.

pub mod build;
pub mod files;
pub mod inputs_digest;
pub mod module;
pub mod plan;
pub mod run;

use crate::catalog::Catalog;
use crate::checks::{CheckCx, Retry};
use crate::error::{Error, Result};
use crate::facts::Facts;
use crate::host::{Host, Root, Runner};
use crate::inputs::{resolve, InstanceLayer, Resolved, Sources};
use crate::manifest::Module;
use crate::redact::Redactor;
use std::path::PathBuf;
use std::time::Duration;

/// Default config file, inside the root.
pub const DEFAULT_CONFIG: &str = "/etc/firstboot/config.yaml";
/// Largest config file read (16 MiB: room for 10,000 mailboxes with Argon2 hashes, about
/// 1.5 MB, many times over; a bound so `/dev/zero` or a runaway file is refused).
pub const MAX_CONFIG: u64 = 16 * 1024 * 1024;
/// Extra modules directory, inside the root.
pub const MODULES_D: &str = "/etc/firstboot/modules.d";

/// What the user asked for, before anything is checked.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Tree to manage (`/` is the live system).
    pub root: PathBuf,
    /// Config file (default: /etc/firstboot/config.yaml inside the root).
    pub config: Option<PathBuf>,
    /// Profile name.
    pub profile: Option<String>,
    /// Restrict to these modules (id or short name).
    pub only: Vec<String>,
    /// Directories adding or overriding modules.
    pub modules_dirs: Vec<PathBuf>,
    /// Command timeout.
    pub timeout: Duration,
}

/// Everything checked and resolved: from here on, nothing refers to raw input.
pub struct Prepared {
    /// Modules and profiles.
    pub catalog: Catalog,
    /// The profile's modules, in run order (inputs and outputs are resolved for all).
    pub profile_modules: Vec<Module>,
    /// Selected modules (`--only`), in run order.
    pub selected: Vec<Module>,
    /// Profile name.
    pub profile: String,
    /// Resolved inputs.
    pub inputs: Resolved,
    /// Host facts.
    pub facts: Facts,
    /// The host boundary.
    pub host: Host,
    /// Masks secrets.
    pub redactor: Redactor,
    /// The config file's name and text, for input errors found later (by a step).
    pub config: (String, Option<String>),
    /// Every selected module, rendered and typed (in the order of `selected`).
    pub built: Vec<build::BuiltModule>,
}

impl Prepared {
    /// Each selected module with its template context (inputs plus earlier outputs).
    pub fn contexts(&self) -> Result<Vec<(&Module, serde_json::Value)>, build::BuildError> {
        module::contexts(&self.profile_modules, &self.selected, &self.inputs.values)
    }

    /// Each selected module with its context and built steps and checks, in run order.
    pub fn modules(&self) -> impl Iterator<Item = (&Module, &build::BuiltModule)> {
        self.built.iter().map(|b| (&self.selected[b.index], b))
    }

    /// Build every selected module; every problem is an input error (exit 2) naming the
    /// config key or the manifest declaration.
    fn build_all(&mut self) -> Result<()> {
        let schema = self.catalog.schema();
        let mut errs = Vec::new();
        let ctxs = self.contexts().unwrap_or_else(|e| {
            errs.push(e);
            Vec::new()
        });
        let mut built = Vec::new();
        for (index, (m, ctx)) in ctxs.into_iter().enumerate() {
            let env = build::Env {
                ctx: &ctx,
                schema: Some(&schema),
                root: Some(&self.host.root),
                redactor: Some(&self.redactor),
            };
            match build::build(m, &env) {
                Ok(b) => built.push(build::BuiltModule {
                    index,
                    ctx,
                    built: b,
                }),
                Err(e) => errs.extend(e),
            }
        }
        let mut diags = crate::diag::Diagnostics::default();
        for e in errs {
            let (file, key, reason) = match e {
                build::BuildError::Input { key, reason } => (self.config.0.clone(), key, reason),
                build::BuildError::Manifest { file, at, reason } => (file, at, reason),
            };
            let reason = self.redactor.mask(&reason);
            // Two modules reading the same input report it once.
            let seen = |d: &crate::diag::Diagnostic| {
                (&d.file, &d.key, &d.reason) == (&file, &key, &reason)
            };
            if !diags.0.iter().any(seen) {
                diags.push(&file, &key, reason);
            }
        }
        if !diags.is_empty() {
            if let Some(t) = &self.config.1 {
                diags.locate_in(&self.config.0, t);
            }
            for m in &self.selected {
                diags.locate_in(&m.manifest_path(), &m.text);
            }
            return Err(Error::Input(diags));
        }
        self.built = built;
        Ok(())
    }

    /// What a module's checks run with; checks that may settle are retried when the
    /// module started, reloaded or restarted a service (`backup` records which).
    pub fn check_cx(&self, backup: &crate::backup::BackupManifest) -> CheckCx<'_> {
        let touched = !backup.services.is_empty() || !backup.started.is_empty();
        CheckCx {
            host: &self.host,
            redactor: &self.redactor,
            timeout: crate::dns::wire::TIMEOUT,
            retry: Retry::after_services(touched),
            answers: Default::default(),
        }
    }

    /// An input error found after resolution (by a step), located in the config file.
    pub fn input_error(&self, key: &str, reason: &str) -> Error {
        let mut d = crate::diag::Diagnostics::default();
        d.push(&self.config.0, key, reason);
        if let Some(t) = &self.config.1 {
            d.locate_in(&self.config.0, t);
        }
        Error::Input(d)
    }
}

/// "unknown module" naming the modules there are (id and short name).
pub fn unknown_module(catalog: &Catalog, name: &str) -> Error {
    let known: Vec<String> = catalog
        .modules
        .iter()
        .map(|m| format!("{} ({})", m.id, m.name()))
        .collect();
    Error::Usage(format!(
        "unknown module `{name}` (known: {})",
        known.join(", ")
    ))
}

/// Load, select and resolve. Reads only; any problem is an input error (exit 2).
pub fn prepare(opts: &Options, fallback_profile: Option<&str>) -> Result<Prepared> {
    if !opts.root.is_dir() {
        return Err(Error::Usage(format!(
            "--root {} is not a directory (create it first, or give the image's root)",
            opts.root.display()
        )));
    }
    let root = Root::new(&opts.root);
    let mut dirs = Vec::new();
    if let Some(md) = files::modules_d(&root)? {
        dirs.push(md);
    }
    dirs.extend(opts.modules_dirs.iter().cloned());
    let catalog = Catalog::load(&dirs)?;
    let (config_file, config_text) = files::read_config(&root, opts.config.as_deref())?;
    let known = || {
        let k: Vec<&str> = catalog.profiles.keys().map(String::as_str).collect();
        k.join(", ")
    };
    // Parsed once, here; `resolve` checks it against the schema. The profile it names is
    // checked even under --profile (a wrong name there is a mistake worth hearing of).
    let config_value = match config_text.as_deref() {
        Some(text) => Some(files::parse_config(&config_file, text)?),
        None => None,
    };
    let in_config = match (config_text.as_deref(), &config_value) {
        (Some(text), Some(v)) => files::config_profile(&config_file, text, v, |p| {
            catalog
                .profiles
                .contains_key(p)
                .then_some(())
                .ok_or_else(|| format!("unknown profile `{p}` (known: {})", known()))
        })?,
        _ => None,
    };
    let profile = opts
        .profile
        .clone()
        .or(in_config)
        .or_else(|| fallback_profile.map(str::to_string))
        .ok_or_else(|| {
            Error::Usage(format!(
                "no profile given and none ran on this tree yet: use --profile NAME or `profile: NAME` in {config_file} (known: {})",
                known()
            ))
        })?;
    let prof = catalog
        .profiles
        .get(&profile)
        .ok_or_else(|| Error::Usage(format!("unknown profile `{profile}` (known: {})", known())))?;
    let mut selected: Vec<Module> = catalog
        .modules
        .iter()
        .filter(|m| prof.modules.contains(&m.id))
        .cloned()
        .collect();
    let profile_modules = selected.clone();
    if !opts.only.is_empty() {
        for o in &opts.only {
            let m = catalog
                .module(o)
                .ok_or_else(|| unknown_module(&catalog, o))?;
            if !selected.iter().any(|s| s.id == m.id) {
                return Err(Error::Usage(format!(
                    "module `{o}` is not in profile `{profile}`"
                )));
            }
        }
        selected.retain(|m| opts.only.iter().any(|o| *o == m.id || o == m.name()));
    }
    let instance_data = crate::instance_data::InstanceData::load(&root)?;
    let facts = Facts::gather(&root, instance_data.as_ref())?;
    let mut fill: Vec<String> = catalog.globals.keys().cloned().collect();
    fill.extend(profile_modules.iter().map(|m| m.name().to_string()));
    let profile_file = format!("embedded:profiles/{profile}.yaml");
    let overrides = crate::overrides::Overrides::load(&root)?;
    let overrides_file = root
        .path(crate::overrides::OVERRIDES_FILE)?
        .display()
        .to_string();
    let overrides_value = overrides.as_value();
    // cloud-init's instance data fills what the config leaves out.
    let (instance_values, instance_keys) = instance_data
        .as_ref()
        .map(|d| d.layer(config_value.as_ref()))
        .unwrap_or_default();
    let inputs = resolve(
        &catalog.schema(),
        &fill,
        &Sources {
            config_file: &config_file,
            config_text: config_text.as_deref(),
            config: config_value.as_ref(),
            profile_file: &profile_file,
            profile_defaults: &prof.defaults,
            facts: &facts,
            overrides: (!overrides.0.is_empty())
                .then_some((overrides_file.as_str(), &overrides_value)),
            instance: instance_data.as_ref().map(|d| InstanceLayer {
                file: &d.file,
                values: &instance_values,
                keys: &instance_keys,
            }),
        },
    )?;
    let redactor = Redactor::new(inputs.secrets.clone());
    let host = Host::new(root, Runner::new(opts.timeout, redactor.clone()));
    let mut p = Prepared {
        catalog,
        profile_modules,
        selected,
        profile,
        inputs,
        facts,
        host,
        redactor,
        config: (config_file, config_text),
        built: Vec::new(),
    };
    p.build_all()?;
    Ok(p)
}
