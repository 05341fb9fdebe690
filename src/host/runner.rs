//! Runs external commands with a timeout; their output goes to the module log (via
//! tracing at debug level inside the module's span), with secrets masked.

use super::HostError;
use crate::redact::Redactor;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a finished command returned.
#[derive(Debug, Clone)]
pub struct CommandOutput {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl CommandOutput {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// What actually runs a command: [`Spawn`] on a real system, a scripted fake in tests
/// (`host::fake`). The [`Runner`] around it logs, masks and times out the same way.
pub trait Exec: Send + Sync {
    /// Run `argv` (never empty) with optional stdin and extra environment, killing it
    /// after `timeout`. The error says why it could not run or finish.
    fn exec(
        &self,
        argv: &[String],
        stdin: Option<&[u8]>,
        env: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<CommandOutput, String>;
}

/// Runs commands as processes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spawn;

impl Exec for Spawn {
    fn exec(
        &self,
        argv: &[String],
        stdin: Option<&[u8]>,
        env: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<CommandOutput, String> {
        let (prog, args) = argv.split_first().ok_or("is empty")?;
        let mut child = Command::new(prog)
            .args(args)
            .envs(env.iter().copied())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start: {e}"))?;
        if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let data = data.to_vec();
            std::thread::spawn(move || pipe.write_all(&data));
        }
        let out_t = drain(child.stdout.take());
        let err_t = drain(child.stderr.take());
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
                break s;
            }
            if start.elapsed() > timeout {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {timeout:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Ok(CommandOutput {
            code: status.code(),
            stdout: out_t.collect(),
            stderr: err_t.collect(),
        })
    }
}

/// How long output is still read once the command exited: a daemon it started (an
/// init script starting Dovecot) may hold the pipe open for as long as it runs.
const AFTER_EXIT: Duration = Duration::from_secs(1);

/// Output read from a pipe by its own thread, so far.
struct Drain {
    buf: Arc<Mutex<Vec<u8>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Drain {
    /// Everything read once the pipe closed, or within [`AFTER_EXIT`] (a daemon keeps
    /// it open: its thread is left to end with the pipe).
    fn collect(self) -> String {
        let start = Instant::now();
        while !self.thread.is_finished() && start.elapsed() < AFTER_EXIT {
            std::thread::sleep(Duration::from_millis(10));
        }
        let buf = self.buf.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// Runs commands: logs each command line and its output (secrets masked) and applies
/// the timeout, whatever [`Exec`] runs them.
#[derive(Clone)]
pub struct Runner {
    timeout: Duration,
    redactor: Redactor,
    exec: Arc<dyn Exec>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner spawning processes, killing them after `timeout`.
    pub fn new(timeout: Duration, redactor: Redactor) -> Self {
        Runner::with_exec(timeout, redactor, Arc::new(Spawn))
    }

    /// A runner handing commands to `exec` (a fake in tests).
    pub fn with_exec(timeout: Duration, redactor: Redactor, exec: Arc<dyn Exec>) -> Self {
        Runner {
            timeout,
            redactor,
            exec,
        }
    }

    /// The same runner (timeout, masking) handing commands to `exec` instead.
    pub fn with_backend(self, exec: Arc<dyn Exec>) -> Self {
        Runner { exec, ..self }
    }

    /// The command line as it may be shown (secrets masked).
    pub fn show(&self, argv: &[String]) -> String {
        self.redactor.mask(&argv.join(" "))
    }

    /// Run `argv` with optional stdin and extra environment; any exit status is returned.
    pub fn run(
        &self,
        argv: &[String],
        stdin: Option<&[u8]>,
        env: &[(&str, &str)],
    ) -> Result<CommandOutput, HostError> {
        let shown = self.show(argv);
        let fail = |reason: String| HostError::Command {
            cmd: shown.clone(),
            reason,
        };
        if argv.is_empty() {
            return Err(fail("is empty".into()));
        }
        tracing::debug!("running: {shown}");
        let out = self
            .exec
            .exec(argv, stdin, env, self.timeout)
            .map_err(|e| fail(self.redactor.mask(&e)))?;
        for line in out.stdout.lines().chain(out.stderr.lines()) {
            tracing::debug!("  | {}", self.redactor.mask(line));
        }
        Ok(out)
    }

    /// Run and require exit status 0; the error carries the end of stderr.
    pub fn run_ok(
        &self,
        argv: &[String],
        stdin: Option<&[u8]>,
        env: &[(&str, &str)],
    ) -> Result<CommandOutput, HostError> {
        let out = self.run(argv, stdin, env)?;
        if out.success() {
            return Ok(out);
        }
        let tail: Vec<&str> = out.stderr.lines().rev().take(3).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(HostError::Command {
            cmd: self.show(argv),
            reason: format!(
                "exited with {}: {}",
                out.code.map_or("a signal".to_string(), |c| c.to_string()),
                self.redactor.mask(&tail.join(" / "))
            ),
        })
    }
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> Drain {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let into = Arc::clone(&buf);
    let thread = std::thread::spawn(move || {
        let Some(mut p) = pipe else { return };
        let mut chunk = [0u8; 8192];
        while let Ok(n) = p.read(&mut chunk) {
            if n == 0 {
                break;
            }
            if let Ok(mut b) = into.lock() {
                b.extend_from_slice(&chunk[..n]);
            }
        }
    });
    Drain { buf, thread }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn runs_with_stdin_and_times_out() {
        let r = Runner::new(Duration::from_secs(5), Redactor::default());
        let out = r.run(&argv(&["cat"]), Some(b"abc"), &[]).unwrap();
        assert_eq!(out.stdout, "abc");
        let slow = Runner::new(Duration::from_millis(200), Redactor::default());
        let e = slow.run(&argv(&["sleep", "5"]), None, &[]).unwrap_err();
        assert!(e.to_string().contains("timed out"));
    }

    #[test]
    fn a_daemon_holding_the_pipe_does_not_hang_the_command() {
        // Like an init script starting Dovecot: the script exits, its daemon keeps stdout.
        let r = Runner::new(Duration::from_secs(30), Redactor::default());
        let start = Instant::now();
        let out = r
            .run(&argv(&["sh", "-c", "echo started; sleep 20 &"]), None, &[])
            .unwrap();
        assert_eq!(out.stdout, "started\n");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn failure_masks_secrets() {
        let r = Runner::new(
            Duration::from_secs(5),
            Redactor::new(["s3cret-pw".to_string()]),
        );
        let e = r
            .run_ok(
                &argv(&["sh", "-c", "echo s3cret-pw >&2; exit 3", "s3cret-pw"]),
                None,
                &[],
            )
            .unwrap_err()
            .to_string();
        assert!(!e.contains("s3cret-pw"), "{e}");
        assert!(e.contains("exited with 3"), "{e}");
    }
}
