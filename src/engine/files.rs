//! The user's own files under the root, read before anything else: the config file
//! (regular, at most 1 MiB, links resolved inside the tree) and the modules.d directory
//! (only directories and regular files, no links out of an offline tree).

use super::{DEFAULT_CONFIG, MAX_CONFIG, MODULES_D};
use crate::error::{Error, Result};
use crate::host::{HostError, Root};
use crate::steps::StepKind;
use std::path::{Path, PathBuf};

/// Most entries looked at under modules.d.
const MAX_ENTRIES: usize = 10_000;

/// The config file's name (for messages) and text: `--config` is a path on this machine
/// the user chose; the default is inside the root, links resolved inside the tree. Only a
/// regular file of at most [`MAX_CONFIG`] bytes is read; a missing default is no config.
pub fn read_config(root: &Root, given: Option<&Path>) -> Result<(String, Option<String>)> {
    let (file, data) = match given {
        Some(p) => (
            p.display().to_string(),
            crate::host::open::read_regular(p, Some(MAX_CONFIG), false),
        ),
        None => (
            root.path(DEFAULT_CONFIG)?.display().to_string(),
            root.read_capped(DEFAULT_CONFIG, MAX_CONFIG),
        ),
    };
    let cannot = |why: String| Error::Usage(format!("cannot read config file {file}: {why}"));
    match data {
        Ok(Some(d)) => String::from_utf8(d)
            .map(|t| (file.clone(), Some(t)))
            .map_err(|_| cannot("it is not UTF-8 text".into())),
        Ok(None) if given.is_some() => Err(cannot("no such file".into())),
        Ok(None) => match root.meta(DEFAULT_CONFIG)? {
            Some(m) if m.is_symlink => Err(cannot(format!(
                "it is a link to {}, which does not exist inside the root",
                root.read_link(DEFAULT_CONFIG)?.display()
            ))),
            _ => Ok((file, None)),
        },
        Err(HostError::NotRegular { what, .. }) => Err(cannot(format!(
            "it is {what}; the config must be a regular file"
        ))),
        Err(HostError::TooLarge { limit, .. }) => {
            Err(cannot(format!("it is larger than {} MiB", limit >> 20)))
        }
        Err(HostError::Io { source, .. }) => Err(cannot(source.to_string())),
        Err(e) => Err(cannot(e.to_string())),
    }
}

/// A problem of the config file at `key` (empty: the whole file), located in `text`.
fn config_error(file: &str, text: &str, line: Option<usize>, key: &str, reason: String) -> Error {
    let mut d = crate::diag::Diagnostics::default();
    d.0.push(crate::diag::Diagnostic {
        file: file.to_string(),
        key: key.to_string(),
        line,
        reason,
    });
    d.locate_in(file, text);
    Error::Input(d)
}

/// The config file parsed once (an empty document is an empty map); a YAML error is an
/// input error naming file and line.
pub fn parse_config(file: &str, text: &str) -> Result<serde_json::Value> {
    match crate::yaml::parse(text) {
        Ok(serde_json::Value::Null) => Ok(serde_json::Value::Object(Default::default())),
        Ok(v) => Ok(v),
        Err(e) => Err(config_error(file, text, e.line, "", e.message)),
    }
}

/// The profile the parsed config names (`profile: advanced`), checked by `known`; `None`
/// when it names none. A bad name is an input error naming file, line and key (the rest
/// of the file is checked once the profile is known).
pub fn config_profile(
    file: &str,
    text: &str,
    config: &serde_json::Value,
    known: impl Fn(&str) -> std::result::Result<(), String>,
) -> Result<Option<String>> {
    match config.get("profile") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(p)) => match known(p) {
            Ok(()) => Ok(Some(p.clone())),
            Err(why) => Err(config_error(file, text, None, "profile", why)),
        },
        Some(_) => Err(config_error(
            file,
            text,
            None,
            "profile",
            "must be a profile name".into(),
        )),
    }
}

/// The modules.d directory to load, if there is one. Under an offline root it resolves
/// inside the tree, and a link below it is refused (the catalog reads those files
/// directly); anywhere, something other than a directory or a regular file (a FIFO would
/// block the read) is refused.
pub fn modules_d(root: &Root) -> Result<Option<PathBuf>> {
    let md = root.follow(MODULES_D)?;
    if !md.is_dir() {
        return Ok(None);
    }
    let mut todo = vec![md.clone()];
    let mut seen = 0usize;
    while let Some(dir) = todo.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| HostError::io("list", &dir, e))?;
        for e in entries {
            let e = e.map_err(|e| HostError::io("list", &dir, e))?;
            let path = e.path();
            seen += 1;
            if seen > MAX_ENTRIES {
                return Err(refuse(
                    &md,
                    format!("it holds more than {MAX_ENTRIES} entries"),
                ));
            }
            let ft = e
                .file_type()
                .map_err(|err| HostError::io("stat", &path, err))?;
            if ft.is_dir() {
                todo.push(path);
            } else if ft.is_symlink() && !root.is_live() {
                return Err(refuse(
                    &md,
                    format!(
                        "{} is a link; links are not followed there in an offline tree",
                        path.display()
                    ),
                ));
            } else if !ft.is_file() && !ft.is_symlink() {
                return Err(refuse(
                    &md,
                    format!("{} is not a regular file or a directory", path.display()),
                ));
            }
        }
    }
    Ok(Some(md))
}

/// Every file the selected modules manage whole or in part (file and block steps) is a
/// regular file where it exists (links resolved inside the tree): a FIFO, device or
/// directory there is an error before the first change, not a stop between modules.
pub fn managed_are_regular(p: &super::Prepared) -> Result<()> {
    for (m, b) in p.modules() {
        for s in &b.built.steps {
            let path = match s {
                StepKind::File(f) => &f.path,
                StepKind::Block(b) => &b.path,
                _ => continue,
            };
            let full = p.host.root.follow(path)?;
            if let Ok(meta) = std::fs::symlink_metadata(&full) {
                if !meta.is_file() {
                    return Err(Error::Module {
                        module: m.id.clone(),
                        reason: format!(
                            "cannot manage {path}: {}",
                            HostError::NotRegular {
                                path: full.display().to_string(),
                                what: kind_word(&meta),
                            }
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

fn kind_word(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    match () {
        _ if t.is_dir() => "a directory",
        _ if t.is_fifo() => "a FIFO",
        _ if t.is_char_device() || t.is_block_device() => "a device",
        _ if t.is_socket() => "a socket",
        _ => "not a regular file",
    }
}

fn refuse(md: &Path, why: String) -> Error {
    Error::Usage(format!("cannot load modules from {}: {why}", md.display()))
}
