//! What a person watching a run sees: an indicatif progress bar with colour on a
//! terminal, plain timestamped lines otherwise (cloud-init console, pipes, CI).

use crate::checks::{CheckResult, CheckStatus};
use crate::steps::{Change, Planned};
use console::style;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Receives progress events from a run.
pub trait Reporter {
    /// A module starts with `steps` steps.
    fn module_start(&mut self, id: &str, steps: usize);
    /// A step finished.
    fn step(&mut self, s: &Planned);
    /// A check finished.
    fn check(&mut self, r: &CheckResult);
    /// A module ended.
    fn module_end(&mut self, id: &str, ok: bool, how: &str);
    /// A module was skipped (done on this instance).
    fn skipped(&mut self, id: &str);
    /// Anything else worth a line.
    fn note(&mut self, msg: &str);
}

/// Pick the reporter for stdout: a terminal gets progress bars, unless `quiet`.
pub fn for_stdout(quiet: bool) -> Box<dyn Reporter> {
    if std::io::stdout().is_terminal() && !quiet {
        Box::new(Tty { bar: None })
    } else {
        Box::new(Plain { quiet })
    }
}

fn step_line(s: &Planned) -> Option<String> {
    match s.change {
        Change::None => None,
        _ => Some(format!("{}: {}", s.target, s.summary)),
    }
}

/// Plain timestamped lines.
pub struct Plain {
    quiet: bool,
}

impl Plain {
    fn line(&self, msg: &str) {
        if !self.quiet {
            println!("{} {msg}", crate::timefmt::rfc3339_now());
        }
    }
}

impl Reporter for Plain {
    fn module_start(&mut self, id: &str, steps: usize) {
        self.line(&format!("{id}: start ({steps} steps)"));
    }
    fn step(&mut self, s: &Planned) {
        if let Some(l) = step_line(s) {
            self.line(&format!("  {l}"));
        }
    }
    fn check(&mut self, r: &CheckResult) {
        let status = format!("{:?}", r.status).to_lowercase();
        self.line(&format!("  check {}: {status} {}", r.name, r.detail));
    }
    fn module_end(&mut self, id: &str, _ok: bool, how: &str) {
        self.line(&format!("{id}: {how}"));
    }
    fn skipped(&mut self, id: &str) {
        self.line(&format!(
            "{id}: already done on this instance, skipped (--force re-runs it)"
        ));
    }
    fn note(&mut self, msg: &str) {
        self.line(msg);
    }
}

/// A progress bar per module, lines above it.
pub struct Tty {
    bar: Option<ProgressBar>,
}

impl Tty {
    fn println(&self, msg: String) {
        match &self.bar {
            Some(b) => b.println(msg),
            None => println!("{msg}"),
        }
    }
}

impl Reporter for Tty {
    fn module_start(&mut self, id: &str, steps: usize) {
        let bar = ProgressBar::new(steps as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix:.bold} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(id.to_string());
        self.bar = Some(bar);
    }
    fn step(&mut self, s: &Planned) {
        if let Some(l) = step_line(s) {
            self.println(format!("  {} {l}", style("~").yellow()));
        }
        if let Some(b) = &self.bar {
            b.set_message(s.target.clone());
            b.inc(1);
        }
    }
    fn check(&mut self, r: &CheckResult) {
        let mark = match r.status {
            CheckStatus::Pass => style("pass").green(),
            CheckStatus::Fail => style("FAIL").red().bold(),
            CheckStatus::Skipped => style("skip").dim(),
            CheckStatus::Pending => style("pending").yellow(),
            CheckStatus::Warn => style("WARN").yellow().bold(),
        };
        self.println(format!(
            "  check {mark} {} {}",
            r.name,
            style(&r.detail).dim()
        ));
    }
    fn module_end(&mut self, id: &str, ok: bool, how: &str) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        let how = if ok {
            style(how).green()
        } else {
            style(how).red().bold()
        };
        println!("{} {how}", style(id).bold());
    }
    fn skipped(&mut self, id: &str) {
        println!(
            "{} {}",
            style(id).bold(),
            style("already done on this instance, skipped").dim()
        );
    }
    fn note(&mut self, msg: &str) {
        self.println(format!("{} {msg}", style("note:").yellow()));
    }
}
