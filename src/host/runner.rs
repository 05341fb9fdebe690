//! Runs external commands with a timeout; their output goes to the module log (via
//! tracing at debug level inside the module's span), with secrets masked.

use super::HostError;
use crate::redact::Redactor;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
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

/// Runs commands.
#[derive(Debug, Clone)]
pub struct Runner {
    timeout: Duration,
    redactor: Redactor,
}

impl Runner {
    /// A runner killing commands after `timeout`.
    pub fn new(timeout: Duration, redactor: Redactor) -> Self {
        Runner { timeout, redactor }
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
        let (prog, args) = argv.split_first().ok_or_else(|| fail("is empty".into()))?;
        tracing::debug!("running: {shown}");
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
            .map_err(|e| fail(format!("could not start: {e}")))?;
        if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let data = data.to_vec();
            std::thread::spawn(move || pipe.write_all(&data));
        }
        let out_t = drain(child.stdout.take());
        let err_t = drain(child.stderr.take());
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().map_err(|e| fail(e.to_string()))? {
                break s;
            }
            if start.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!("timed out after {:?}", self.timeout)));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = out_t.join().unwrap_or_default();
        let stderr = err_t.join().unwrap_or_default();
        for line in stdout.lines().chain(stderr.lines()) {
            tracing::debug!("  | {}", self.redactor.mask(line));
        }
        Ok(CommandOutput {
            code: status.code(),
            stdout,
            stderr,
        })
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

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
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
