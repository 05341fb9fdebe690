//! What the terminal shows: each progress line once (stdout), log lines on stderr only
//! with `-v` and never repeating a progress line, a plan legend and each step's
//! line, and `list --json`.

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
        "x remove",
        "! edited by hand",
        "> act",
        "- not run",
    ] {
        assert!(legend.contains(sym), "{legend}");
    }
}

#[test]
fn list_json_shows_which_inputs_are_required_or_optional() {
    let t = Tree::new(CONFIG);
    let o = t.fb(&["list", "--json"]);
    ok(&o);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON on stdout");
    let g = &v["globals"];
    assert_eq!(g["domain"]["required"], true, "{}", g["domain"]);
    // A flag that is not set is left out (an absent flag means false).
    assert!(g["hostname"].get("required").is_none(), "{}", g["hostname"]);
    assert!(g["hostname"].get("optional").is_none(), "{}", g["hostname"]);
    let mail = v["modules"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["id"] == "9-mail_config"))
        .expect("9-mail_config listed");
    let relay = &mail["inputs"]["relay"];
    assert_eq!(relay["optional"], true, "{relay}");
    assert_eq!(relay["fields"]["host"]["required"], true, "{relay}");
    assert!(relay["fields"]["port"].get("required").is_none(), "{relay}");
}

#[test]
fn plan_names_each_step_with_its_mode_and_owner() {
    let t = Tree::new(CONFIG);
    let o = t.fb(&["plan", "--profile", "standard"]);
    ok(&o);
    let plan = stdout(&o);
    let line = |target: &str| {
        plan.lines()
            .find(|l| l.contains(target))
            .unwrap_or_else(|| panic!("no line for {target:?} in:\n{plan}"))
            .to_string()
    };
    // A directory and a file that give no owner are root's.
    assert_eq!(
        line("directory /etc/firstboot/ssl"),
        " + directory /etc/firstboot/ssl: create (0755 root:root)"
    );
    assert_eq!(
        line("file /etc/firstboot/ssl/ffdhe2048.pem"),
        " + file /etc/firstboot/ssl/ffdhe2048.pem: create (0644 root:root)"
    );
}
