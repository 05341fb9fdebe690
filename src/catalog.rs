//! The catalog: modules and profiles embedded in the binary, plus module directories
//! that add or override them (`--modules-dir`, `/etc/firstboot/modules.d`). Everything
//! is parsed strictly and all problems are reported together.

use crate::checks::CheckKind;
use crate::diag::{Diagnostic, Diagnostics};
use crate::inputs::InputDecl;
use crate::manifest::{Manifest, Module};
use crate::profile::Profile;
use crate::render::Templates;
use crate::steps::StepKind;
use include_dir::{include_dir, Dir};
use indexmap::IndexMap;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

static MODULES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/modules");
static PROFILES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/profiles");

/// `modules/global.yaml`: inputs at the top of the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlobalFile {
    inputs: IndexMap<String, InputDecl>,
}

/// All modules, profiles and global inputs.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Inputs at the top level of the config.
    pub globals: IndexMap<String, InputDecl>,
    /// Modules in run order.
    pub modules: Vec<Module>,
    /// Profiles by name.
    pub profiles: BTreeMap<String, Profile>,
}

/// A module directory before parsing.
struct RawModule {
    id: String,
    source: String,
    manifest: String,
    templates: Vec<(String, String)>,
}

fn embedded_modules() -> Vec<RawModule> {
    MODULES
        .dirs()
        .map(|d| {
            let id = d.path().to_string_lossy().into_owned();
            let manifest = d
                .get_file(d.path().join("module.yaml"))
                .and_then(|f| f.contents_utf8())
                .unwrap_or_default()
                .to_string();
            let mut templates = Vec::new();
            if let Some(t) = d.get_dir(d.path().join("templates")) {
                collect_embedded(t, &d.path().join("templates"), &id, &mut templates);
            }
            RawModule {
                id,
                source: "embedded:modules".into(),
                manifest,
                templates,
            }
        })
        .collect()
}

fn collect_embedded(dir: &Dir, base: &Path, id: &str, out: &mut Vec<(String, String)>) {
    for f in dir.files() {
        let rel = f.path().strip_prefix(base).unwrap_or(f.path());
        let text = f.contents_utf8().unwrap_or_default().to_string();
        out.push((format!("{id}/{}", rel.display()), text));
    }
    for d in dir.dirs() {
        collect_embedded(d, base, id, out);
    }
}

fn dir_modules(dir: &Path, diags: &mut Diagnostics) -> Vec<RawModule> {
    let src = dir.display().to_string();
    let Ok(rd) = std::fs::read_dir(dir) else {
        diags.push(&src, "", "cannot read modules directory");
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten().filter(|e| e.path().is_dir()) {
        let id = e.file_name().to_string_lossy().into_owned();
        let mpath = e.path().join("module.yaml");
        let manifest = match read_text(&mpath) {
            Ok(t) => t,
            Err(why) => {
                diags.push(&mpath.display().to_string(), "", why);
                continue;
            }
        };
        let mut templates = Vec::new();
        let tdir = e.path().join("templates");
        collect_fs(&tdir, &tdir, &id, &mut templates, diags);
        out.push(RawModule {
            id,
            source: src.clone(),
            manifest,
            templates,
        });
    }
    out
}

fn collect_fs(
    dir: &Path,
    base: &Path,
    id: &str,
    out: &mut Vec<(String, String)>,
    diags: &mut Diagnostics,
) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_fs(&p, base, id, out, diags);
            continue;
        }
        match read_text(&p) {
            Ok(text) => {
                let rel = p.strip_prefix(base).unwrap_or(&p);
                out.push((format!("{id}/{}", rel.display()), text));
            }
            Err(why) => diags.push(&p.display().to_string(), "", why),
        }
    }
}

/// Most bytes of one manifest or template read from a modules directory.
const MAX_MODULE_FILE: u64 = 1024 * 1024;

/// A manifest or template from a modules directory: a regular UTF-8 file of at most
/// [`MAX_MODULE_FILE`] bytes (a FIFO is refused, never waited on).
fn read_text(p: &Path) -> Result<String, String> {
    match crate::host::open::read_regular(p, Some(MAX_MODULE_FILE), false) {
        Ok(Some(d)) => String::from_utf8(d).map_err(|_| "cannot read: it is not UTF-8 text".into()),
        Ok(None) => Err("cannot read: no such file".into()),
        Err(crate::host::HostError::NotRegular { what, .. }) => {
            Err(format!("cannot read: it is {what}, not a regular file"))
        }
        Err(crate::host::HostError::TooLarge { limit, .. }) => Err(format!(
            "cannot read: it is larger than {} KiB",
            limit / 1024
        )),
        Err(e) => Err(format!("cannot read: {e}")),
    }
}

fn yaml_diag(file: &str, e: crate::yaml::YamlError) -> Diagnostic {
    Diagnostic {
        file: file.to_string(),
        key: String::new(),
        line: e.line,
        reason: e.message,
    }
}

fn parse_module(raw: RawModule, diags: &mut Diagnostics) -> Option<Module> {
    let file = format!("{}/{}/module.yaml", raw.source, raw.id);
    let Some(order) = Module::order_of(&raw.id) else {
        diags.push(
            &file,
            "(directory)",
            format!(
                "module directory `{}` must be named NN-name, e.g. 9-mail_config",
                raw.id
            ),
        );
        return None;
    };
    let parsed = if raw.source.starts_with("embedded:") {
        crate::embedded::parse(&format!("modules/{}/module.yaml", raw.id), &raw.manifest)
    } else {
        crate::yaml::parse(&raw.manifest)
    };
    let manifest: Manifest = match parsed {
        Ok(m) => m,
        Err(e) => {
            diags.0.push(yaml_diag(&file, e));
            return None;
        }
    };
    let before = diags.0.len();
    let mut problems = Vec::new();
    for (k, d) in &manifest.inputs {
        d.problems(&format!("inputs.{k}"), &mut problems);
    }
    problems.extend(crate::dns::declared::problems(
        &manifest.records,
        manifest.checks.iter().map(|d| (d.at.clone(), &d.body)),
    ));
    for (k, r) in problems {
        diags.push(&file, &k, r);
    }
    // Templates are parsed when first rendered, or by `check_refs` (see `Catalog::load`).
    let templates = Templates::lazy(&raw.templates);
    for s in &manifest.steps {
        match StepKind::from_body(&s.body) {
            Err(e) => diags.push(&file, &format!("{}.{}", s.at, s.kind), e.to_string()),
            Ok(k) if k.takes_records() && manifest.records.is_empty() => diags.push(
                &file,
                &format!("{}.{}", s.at, s.kind),
                "works on the module's DNS records, but the module declares no `records:`",
            ),
            Ok(_) => {}
        }
        check_templates(&raw.id, s, &templates, &file, diags);
    }
    for c in &manifest.checks {
        if let Err(e) = serde_json::from_value::<CheckKind>(c.body.clone()) {
            diags.push(&file, &format!("{}.{}", c.at, c.kind), e.to_string());
        }
    }
    (diags.0.len() == before).then(|| Module {
        id: raw.id,
        order,
        manifest,
        templates,
        source: raw.source,
        text: raw.manifest.into(),
    })
}

/// Every `template:` of a declaration names a template of the module.
fn check_templates(
    id: &str,
    d: &crate::manifest::Decl,
    t: &Templates,
    file: &str,
    diags: &mut Diagnostics,
) {
    for name in d.templates() {
        if !t.has(&format!("{id}/{name}")) {
            diags.push(
                file,
                &format!("{}.template", d.at),
                format!("no template `{name}` in {id}/templates/"),
            );
        }
    }
}

impl Catalog {
    /// Load embedded modules and profiles, then `extra` module directories in order
    /// (a module with the same id replaces the earlier one).
    pub fn load(extra: &[PathBuf]) -> Result<Catalog, Diagnostics> {
        let mut diags = Diagnostics::default();
        let gfile = "embedded:modules/global.yaml";
        let globals = MODULES
            .get_file("global.yaml")
            .and_then(|f| f.contents_utf8())
            .map(|t| crate::embedded::parse::<GlobalFile>("modules/global.yaml", t))
            .unwrap_or_else(|| {
                Err(crate::yaml::YamlError {
                    line: None,
                    message: "missing".into(),
                })
            });
        let globals = match globals {
            Ok(g) => g.inputs,
            Err(e) => {
                diags.0.push(yaml_diag(gfile, e));
                IndexMap::new()
            }
        };
        let mut raws = embedded_modules();
        for d in extra {
            for r in dir_modules(d, &mut diags) {
                raws.retain(|x| x.id != r.id);
                raws.push(r);
            }
        }
        let mut modules: Vec<Module> = raws
            .into_iter()
            .filter_map(|r| parse_module(r, &mut diags))
            .collect();
        modules.sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
        let mut seen = BTreeMap::new();
        for m in &modules {
            if let Some(other) = seen.insert(m.name().to_string(), m.id.clone()) {
                diags.push(
                    &m.manifest_path(),
                    "name",
                    format!("short name `{}` is also used by {other}", m.name()),
                );
            }
            if globals.contains_key(m.name()) {
                diags.push(
                    &m.manifest_path(),
                    "name",
                    format!("short name `{}` clashes with a global input", m.name()),
                );
            }
        }
        let mut cat = Catalog {
            globals,
            modules,
            profiles: BTreeMap::new(),
        };
        // The embedded catalog as shipped is checked whole by the test suite; a catalog
        // with a module from a directory is checked whole now, before anything runs.
        if !extra.is_empty()
            && cat
                .modules
                .iter()
                .any(|m| !m.source.starts_with("embedded:"))
        {
            cat.check_refs(&mut diags);
        }
        for m in &cat.modules {
            diags.locate_in(&m.manifest_path(), &m.text);
        }
        for f in PROFILES.files() {
            let name = f
                .path()
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let file = format!("embedded:profiles/{}", f.path().display());
            let text = f.contents_utf8().unwrap_or_default();
            let path = format!("profiles/{}", f.path().display());
            match crate::embedded::parse::<Profile>(&path, text) {
                Err(e) => diags.0.push(yaml_diag(&file, e)),
                Ok(mut p) => {
                    for (i, m) in p.modules.iter_mut().enumerate() {
                        match cat.module(m) {
                            Some(found) => *m = found.id.clone(),
                            None => diags.push(
                                &file,
                                &format!("modules[{i}]"),
                                format!("unknown module `{m}`"),
                            ),
                        }
                    }
                    cat.profiles.insert(name, p);
                }
            }
        }
        if diags.is_empty() {
            Ok(cat)
        } else {
            Err(diags)
        }
    }

    /// Check every variable path and template reference of every module (see
    /// [`crate::refs`]), and parse the templates of modules from directories.
    pub fn check_refs(&self, diags: &mut Diagnostics) {
        crate::refs::check_all(&self.modules, &self.schema(), diags);
    }

    /// A module by full id (`9-mail_config`) or short name (`mail`).
    pub fn module(&self, name: &str) -> Option<&Module> {
        self.modules
            .iter()
            .find(|m| m.id == name || m.name() == name)
    }

    /// The schema of the whole config file: globals plus one section per module.
    pub fn schema(&self) -> InputDecl {
        let mut fields = self.globals.clone();
        for m in &self.modules {
            fields.insert(
                m.name().to_string(),
                InputDecl::map(&m.manifest.description, m.manifest.inputs.clone()),
            );
        }
        InputDecl::map("firstboot configuration", fields)
    }
}
