//! [`run_checks`]: the one way checks run, for `run` and `validate` alike: each result is
//! masked, logged (a failure at WARN) and reported, and a check that may settle is
//! retried when a service was just (re)started.

use super::{CheckCx, CheckResult, CheckStatus, Declared};
use std::time::Duration;

/// How failures of checks that may settle are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Extra attempts after the first.
    pub retries: u32,
    /// Wait between attempts.
    pub delay: Duration,
}

impl Retry {
    /// No retry: one attempt.
    pub const NONE: Retry = Retry {
        retries: 0,
        delay: Duration::ZERO,
    };

    /// The policy for a module's checks: a daemon started, reloaded or restarted by the
    /// module gets a few seconds to open its sockets; otherwise one attempt.
    pub fn after_services(touched: bool) -> Retry {
        if touched {
            Retry {
                retries: 5,
                delay: Duration::from_secs(1),
            }
        } else {
            Retry::NONE
        }
    }
}

/// Run `checks` concurrently (one thread each: they wait on the network and on
/// commands, not on the CPU) and return their results in declaration order; `report`
/// sees each final result in that order. Ids and hints come from the declarations,
/// names, details and hints are masked, every result is logged (`check ID NAME: STATUS
/// detail`, failures at WARN, in order), and a failing check that may settle is retried
/// by `cx.retry`.
pub fn run_checks(
    cx: &CheckCx,
    checks: &[Declared],
    report: &mut dyn FnMut(&CheckResult),
) -> Vec<CheckResult> {
    let span = tracing::Span::current();
    // A pass of its own: DNS answers from an earlier pass (a `--wait` round) are not reused.
    let cx = &CheckCx {
        answers: Default::default(),
        ..cx.clone()
    };
    // An offline root (an image build) only reads files: nothing to wait on, and one
    // after another keeps the run's file accesses in a fixed order (the crash harness
    // kills it at the n-th call and must meet the same call each time).
    let raw: Vec<CheckResult> = if !cx.host.is_live() {
        checks.iter().map(|d| run_one(cx, d)).collect()
    } else {
        concurrently(cx, checks, &span)
    };
    let mut out = Vec::with_capacity(raw.len());
    for (mut r, d) in raw.into_iter().zip(checks) {
        r.id = d.id.clone();
        if d.hint.is_some() {
            r.hint = d.hint.clone();
        }
        r.name = cx.redactor.mask(&r.name);
        r.detail = cx.redactor.mask(&r.detail);
        r.hint = r.hint.map(|h| cx.redactor.mask(&h));
        if r.status == CheckStatus::Fail {
            tracing::warn!(
                "check {} {}: {} {}",
                r.id,
                r.name,
                r.status.word(),
                r.detail
            );
        } else {
            tracing::info!(target: "progress", "check {} {}: {} {}", r.id, r.name, r.status.word(), r.detail);
        }
        report(&r);
        out.push(r);
    }
    out
}

/// Each check on a thread of its own, results in declaration order.
fn concurrently(cx: &CheckCx, checks: &[Declared], span: &tracing::Span) -> Vec<CheckResult> {
    std::thread::scope(|s| {
        let running: Vec<_> = checks
            .iter()
            .map(|d| {
                let span = span.clone();
                s.spawn(move || span.in_scope(|| run_one(cx, d)))
            })
            .collect();
        running
            .into_iter()
            .zip(checks)
            .map(|(t, d)| {
                t.join().unwrap_or_else(|_| {
                    CheckResult::new(d.id.clone(), CheckStatus::Fail, "the check panicked")
                })
            })
            .collect()
    })
}

/// One check, retried while it fails and may still settle.
fn run_one(cx: &CheckCx, d: &Declared) -> CheckResult {
    let check = d.kind.check();
    let mut r = check.run(cx);
    let mut left = if check.settles() { cx.retry.retries } else { 0 };
    while r.status == CheckStatus::Fail && left > 0 {
        tracing::info!(
            "check {}: failed ({}); retrying in {:?}",
            d.id,
            cx.redactor.mask(&r.detail),
            cx.retry.delay
        );
        std::thread::sleep(cx.retry.delay);
        left -= 1;
        r = check.run(cx);
    }
    r
}

/// The error a module fails with when one of its checks failed: the first failure, by
/// name and (masked) detail.
pub fn first_failure(results: &[CheckResult]) -> Result<(), String> {
    match results.iter().find(|r| r.status == CheckStatus::Fail) {
        Some(r) => Err(format!("check `{}` failed: {}", r.name, r.detail)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{command::CommandCheck, file::FileCheck, CheckKind};
    use crate::host::{Host, Root, Runner};
    use crate::redact::Redactor;

    fn host(root: &std::path::Path, redactor: &Redactor) -> Host {
        Host::new(
            Root::new(root),
            Runner::new(Duration::from_secs(10), redactor.clone()),
        )
    }

    fn cx<'a>(host: &'a Host, redactor: &'a Redactor, retry: Retry) -> CheckCx<'a> {
        CheckCx {
            host,
            redactor,
            timeout: Duration::from_secs(1),
            retry,
            answers: Default::default(),
        }
    }

    #[test]
    fn results_are_masked_and_reported_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "hunter2-secret\n").unwrap();
        let redactor = Redactor::new(["hunter2-secret".to_string()]);
        let h = host(dir.path(), &redactor);
        let checks = [
            Declared::new(
                "pw.contains",
                CheckKind::File(FileCheck {
                    path: "/pw".into(),
                    exists: true,
                    contains: Some("hunter2-secret-not-there".into()),
                    mode: None,
                    live_only: false,
                }),
            ),
            Declared::new(
                "absent",
                CheckKind::File(FileCheck {
                    path: "/absent".into(),
                    exists: false,
                    contains: None,
                    mode: None,
                    live_only: false,
                }),
            ),
        ];
        let mut seen = Vec::new();
        let out = run_checks(&cx(&h, &redactor, Retry::NONE), &checks, &mut |r| {
            seen.push(r.status)
        });
        assert_eq!(seen, [CheckStatus::Fail, CheckStatus::Pass]);
        assert!(!out[0].detail.contains("hunter2"), "{}", out[0].detail);
        assert!(
            out[0].detail.contains("does not contain"),
            "{}",
            out[0].detail
        );
        let err = first_failure(&out).unwrap_err();
        assert!(err.starts_with("check `file /pw` failed"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(first_failure(&out[1..]).is_ok());
    }

    #[test]
    fn a_check_that_settles_is_retried_only_under_a_retry_policy() {
        let dir = tempfile::tempdir().unwrap();
        let count = dir.path().join("count");
        // Fails twice, then passes: a daemon that needs a moment after its restart.
        let script = format!(
            "n=$(cat {0} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {0}; [ $n -ge 3 ]",
            count.display()
        );
        let check = [Declared::new(
            "settles",
            CheckKind::Command(CommandCheck {
                argv: vec!["sh".into(), "-c".into(), script],
                name: Some("settles".into()),
                expect_exit: 0,
                stdout_contains: None,
                stdout_equals: None,
            }),
        )];
        let redactor = Redactor::new(Vec::new());
        let h = host(std::path::Path::new("/"), &redactor);
        let once = run_checks(&cx(&h, &redactor, Retry::NONE), &check, &mut |_| {});
        assert_eq!(once[0].status, CheckStatus::Fail);
        let retry = Retry {
            retries: 3,
            delay: Duration::from_millis(1),
        };
        let again = run_checks(&cx(&h, &redactor, retry), &check, &mut |_| {});
        assert_eq!(again[0].status, CheckStatus::Pass, "{}", again[0].detail);
        assert_eq!(std::fs::read_to_string(&count).unwrap().trim(), "3");
        assert_eq!(Retry::after_services(false), Retry::NONE);
        assert!(Retry::after_services(true).retries > 0);
    }
}
