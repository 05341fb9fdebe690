//! What the terminal shows: each progress line once (stdout), log lines on stderr only
//! with `-v` and never repeating a progress line, and a plan legend.

mod common;
use common::*;

#[test]
fn verbose_does_not_print_each_line_twice() {
    let t = Tree::new(CONFIG);
    let o = t.fb(&["-v", "run", "--profile", "standard"]);
    ok(&o);
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(out.contains("file /etc/mailname: create"), "{out}");
    assert!(!err.contains("/etc/mailname: create"), "said twice: {err}");
    assert!(err.contains("INFO"), "-v adds log lines: {err}");
    // What the progress lines leave out (unchanged steps) -v says on stderr, once.
    let again = t.fb(&["-v", "run", "--profile", "standard", "--force"]);
    ok(&again);
    let (out, err) = (stdout(&again), stderr(&again));
    assert!(!out.contains("/etc/mailname: unchanged"), "{out}");
    assert_eq!(
        err.matches("file /etc/mailname: unchanged").count(),
        1,
        "{err}"
    );
    // The log file keeps everything.
    let log = t.read("/var/log/firstboot/8-dns_config.log");
    assert!(log.contains("/etc/mailname: create"), "{log}");
    let quiet = t.fb(&["-q", "run", "--profile", "standard", "--force"]);
    ok(&quiet);
    assert_eq!(stdout(&quiet), "", "-q: no progress");
}

#[test]
fn plan_explains_its_symbols() {
    let t = Tree::new(CONFIG);
    let plan = stdout(&t.fb(&["plan", "--profile", "standard"]));
    let legend = plan.lines().nth(1).unwrap_or_default();
    for sym in [
        "+ create",
        "~ update",
        "! edited by hand",
        "> act",
        "- not run",
    ] {
        assert!(legend.contains(sym), "{legend}");
    }
}
