//! Logs: warnings and errors on stderr; with files opened (run, rollback), every event
//! also goes to `/var/log/firstboot/firstboot.log` and, inside a module's span, to
//! `/var/log/firstboot/<module>.log`, secrets masked. The files are opened through
//! [`Root`] (never through a link, never outside the tree) before the first change; a
//! module log that cannot be opened later degrades to stderr with a warning, and a log
//! that cannot be written (a full disk) is said once on stderr, not silently dropped.

use crate::host::{HostError, Root};
use crate::redact::Redactor;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{filter::LevelFilter, Layer};

/// Target of the events that repeat a progress line printed on stdout (log files only).
pub const PROGRESS: &str = "progress";

/// In-tree log directory.
pub const LOG_DIR: &str = "/var/log/firstboot";

struct Files {
    root: Root,
    main: File,
    /// Module logs; `None` for one that could not be opened (already warned about).
    modules: BTreeMap<String, Option<File>>,
    redactor: Redactor,
    /// Logs a write already failed on (warned about once).
    failed: BTreeSet<String>,
}

/// Append `line` to the log `name`; the first failure on a log is said on stderr.
fn append(w: &mut impl Write, name: &str, line: &str, failed: &mut BTreeSet<String>) {
    if let Err(e) = w.write_all(line.as_bytes()) {
        if failed.insert(name.to_string()) {
            eprintln!(
                "warning: cannot write {LOG_DIR}/{name}.log: {e}; its lines are lost from here on (warnings still go to stderr)"
            );
        }
    }
}

type Shared = Arc<Mutex<Option<Files>>>;

/// Handle to open the log files once inputs are known good.
#[derive(Clone)]
pub struct Logs(Shared);

struct FileLayer(Shared);

struct ModuleId(String);

#[derive(Default)]
struct Fields {
    message: String,
    id: Option<String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "id" => self.id = Some(format!("{value:?}")),
            other => self.message.push_str(&format!(" {other}={value:?}")),
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_string(),
            "id" => self.id = Some(value.to_string()),
            other => self.message.push_str(&format!(" {other}={value}")),
        }
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for FileLayer {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut f = Fields::default();
        attrs.record(&mut f);
        if let (Some(m), Some(span)) = (f.id, ctx.span(id)) {
            span.extensions_mut().insert(ModuleId(m));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Ok(mut guard) = self.0.lock() else { return };
        let Some(files) = guard.as_mut() else { return };
        let mut f = Fields::default();
        event.record(&mut f);
        let module = ctx.event_scope(event).and_then(|scope| {
            scope
                .from_root()
                .find_map(|s| s.extensions().get::<ModuleId>().map(|m| m.0.clone()))
        });
        let line = format!(
            "{} {:5} {}{}\n",
            crate::timefmt::rfc3339_now(),
            event.metadata().level(),
            module
                .as_deref()
                .map(|m| format!("[{m}] "))
                .unwrap_or_default(),
            files.redactor.mask(&f.message)
        );
        append(&mut files.main, "firstboot", &line, &mut files.failed);
        if let Some(m) = module {
            let root = files.root.clone();
            let w = files.modules.entry(m.clone()).or_insert_with(|| {
                open_log(&root, &m)
                    .map_err(|e| eprintln!("warning: {e}; this module's log goes to stderr only"))
                    .ok()
            });
            if let Some(w) = w {
                append(w, &m, &line, &mut files.failed);
            }
        }
    }
}

/// Install the global subscriber: stderr at a level set by `-v`/`-q`, files dormant.
pub fn init(verbosity: i8) -> Logs {
    let level = match verbosity {
        i8::MIN..=-1 => LevelFilter::ERROR,
        0 => LevelFilter::WARN,
        1 => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    };
    let shared: Shared = Arc::new(Mutex::new(None));
    let console = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(level)
        // Step and check results are already on stdout (the progress lines): the log
        // files keep them, stderr does not say them twice.
        .with_filter(tracing_subscriber::filter::filter_fn(|m| {
            m.target() != PROGRESS
        }));
    let files = FileLayer(shared.clone()).with_filter(LevelFilter::from_level(Level::DEBUG));
    let _ = tracing_subscriber::registry()
        .with(console)
        .with(files)
        .try_init();
    Logs(shared)
}

fn open_log(root: &Root, name: &str) -> Result<File, HostError> {
    root.open_own(format!("{LOG_DIR}/{name}.log"), 0o640)
}

impl Logs {
    /// Start writing log files under `<root>/var/log/firstboot`: the main log and one per
    /// module in `modules` are opened now, so a problem with them stops the command
    /// before it changes anything.
    pub fn open(&self, root: &Root, redactor: Redactor, modules: &[&str]) -> Result<(), HostError> {
        for d in ["/var", "/var/log", LOG_DIR] {
            root.ensure_dir(d, if d == LOG_DIR { 0o750 } else { 0o755 })?;
        }
        let main = open_log(root, "firstboot")?;
        let mut opened = BTreeMap::new();
        for m in modules {
            opened.insert(m.to_string(), Some(open_log(root, m)?));
        }
        if let Ok(mut g) = self.0.lock() {
            *g = Some(Files {
                root: root.clone(),
                main,
                modules: opened,
                redactor,
                failed: BTreeSet::new(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_is_said_once_per_log_and_later_lines_are_still_tried() {
        let mut full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let mut failed = BTreeSet::new();
        append(&mut full, "firstboot", "a\n", &mut failed);
        append(&mut full, "firstboot", "b\n", &mut failed);
        assert_eq!(failed.iter().collect::<Vec<_>>(), ["firstboot"]);
        let mut ok: Vec<u8> = Vec::new();
        append(&mut ok, "9-mail_config", "c\n", &mut failed);
        assert_eq!(ok, b"c\n");
        assert_eq!(failed.len(), 1);
    }
}
