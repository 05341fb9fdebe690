//! A failing check is logged at WARN, a passing one at INFO.
//!
//! Alone in its own test binary on purpose: tracing caches, per call site, whether any
//! subscriber wants its events. A test of another file running on a second thread with no
//! subscriber could make that cache say "nobody" for the WARN call site just before this
//! test's thread-local subscriber looks, and the line would go missing (it did, 1 run in 3).

use firstboot::checks::{run_checks, CheckCx, Declared};
use firstboot::host::fake::host;
use firstboot::redact::Redactor;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn a_failing_check_is_logged_at_warn_a_passing_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _) = host(dir.path());
    std::fs::write(dir.path().join("here"), "x").unwrap();
    let checks: Vec<Declared> = ["/here", "/absent"]
        .iter()
        .map(|p| {
            Declared::new(
                *p,
                serde_json::from_value(json!({"file": {"path": p}})).unwrap(),
            )
        })
        .collect();
    let buf = Arc::new(Mutex::new(Vec::<u8>::new()));
    let w = buf.clone();
    let sub = tracing_subscriber::fmt()
        .with_ansi(false)
        .without_time()
        .with_writer(move || Sink(w.clone()))
        .finish();
    let redactor = Redactor::default();
    let cx = CheckCx {
        host: &h,
        redactor: &redactor,
        timeout: Duration::from_millis(200),
        retry: firstboot::checks::Retry::NONE,
        answers: Default::default(),
    };
    tracing::subscriber::with_default(sub, || run_checks(&cx, &checks, &mut |_| {}));
    let log = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
    let line = |p: &str| {
        log.lines()
            .find(|l| l.contains(p))
            .unwrap_or("")
            .to_string()
    };
    assert!(
        line("check /absent file /absent: FAIL").contains("WARN"),
        "{log}"
    );
    assert!(
        line("check /here file /here: PASS").contains("INFO"),
        "{log}"
    );
}

/// A log writer into a shared buffer.
struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
