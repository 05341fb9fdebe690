//! What a plan says for each live step (group, user, package, service, command) and what
//! the step hands the host, on a host made of fakes. `tests/steps_fake.rs` proves the
//! plan/apply/rollback cycle; these pin the lines a user reads and the exact commands.

mod common;
use common::rig::{rig, steps, Rig};
use firstboot::host::fake::exit;
use firstboot::steps::{Change, Planned};
use serde_json::{json, Value};

fn one(r: &Rig, body: Value) -> Planned {
    r.plan(&steps(&[body])).remove(0)
}

fn line(p: &Planned) -> (String, Change, String) {
    (p.target.clone(), p.change.clone(), p.summary.clone())
}

fn act(target: &str, summary: &str) -> (String, Change, String) {
    (target.into(), Change::Act, summary.into())
}

fn none(target: &str, summary: &str) -> (String, Change, String) {
    (target.into(), Change::None, summary.into())
}

#[test]
fn group_and_user_lines_and_commands() {
    let mut r = rig();
    r.fakes.exec.on("groupadd", Box::new(|_, _| exit(0, "")));
    r.fakes.exec.on("useradd", Box::new(|_, _| exit(0, "")));
    let group = json!({"group": {"name": "opendkim"}});
    let user = json!({"user": {"name": "opendkim", "group": "opendkim"}});
    let homed = json!({"user": {"name": "vmail", "group": "mail", "home": "/var/vmail"}});
    assert_eq!(
        line(&one(&r, group.clone())),
        act("group opendkim", "create")
    );
    assert_eq!(
        line(&one(&r, user.clone())),
        act("user opendkim", "create (group opendkim)")
    );
    r.apply(&steps(&[group.clone(), user.clone(), homed]))
        .unwrap();
    assert_eq!(
        r.fakes.exec.calls(),
        [
            "groupadd --system opendkim",
            "useradd --system --gid opendkim --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin opendkim",
            "useradd --system --gid mail --home-dir /var/vmail --no-create-home --shell /usr/sbin/nologin vmail",
        ]
    );

    // Accounts already there: nothing run.
    let mut r = rig();
    assert_eq!(
        line(&one(&r, json!({"group": {"name": "root"}}))),
        none("group root", "exists")
    );
    assert_eq!(
        line(&one(&r, json!({"user": {"name": "root", "group": "root"}}))),
        none("user root", "exists")
    );
    r.apply(&steps(&[
        json!({"group": {"name": "root"}}),
        json!({"user": {"name": "root", "group": "root"}}),
    ]))
    .unwrap();
    assert!(
        r.fakes.exec.calls().is_empty(),
        "{:?}",
        r.fakes.exec.calls()
    );
}

#[test]
fn package_lines_name_only_what_is_missing() {
    let mut r = rig();
    r.fakes
        .packages
        .installed
        .lock()
        .unwrap()
        .insert("postfix".into());
    let body = json!({"package": {"names": ["postfix", "cron", "opendkim"]}});
    assert_eq!(
        line(&one(&r, body.clone())),
        act("package postfix cron opendkim", "install cron opendkim")
    );
    r.apply(&steps(std::slice::from_ref(&body))).unwrap();
    assert_eq!(
        line(&one(&r, body)),
        none("package postfix cron opendkim", "installed")
    );
    let installed = r.fakes.packages.installed.lock().unwrap().clone();
    assert_eq!(
        installed.into_iter().collect::<Vec<_>>(),
        ["cron", "opendkim", "postfix"]
    );
}

#[test]
fn service_lines_start_enable_reload_restart() {
    let mut r = rig();
    let svc = json!({"service": {"name": "postfix"}});
    assert_eq!(
        line(&one(&r, svc.clone())),
        act("service postfix", "start, enable at boot")
    );
    // Not enabled when `enable: false`.
    let no_enable = json!({"service": {"name": "postfix", "enable": false}});
    assert_eq!(
        line(&one(&r, no_enable.clone())),
        act("service postfix", "start")
    );
    r.apply(&steps(&[no_enable])).unwrap();
    assert!(r.fakes.services.enabled.lock().unwrap().is_empty());
    assert_eq!(
        line(&one(&r, svc.clone())),
        act("service postfix", "enable at boot")
    );
    r.apply(&steps(std::slice::from_ref(&svc))).unwrap();
    assert_eq!(line(&one(&r, svc)), none("service postfix", "running"));

    // Running and notified by a changed file: reload, or restart when asked.
    let changed =
        json!({"file": {"path": "/etc/postfix/main.cf", "content": "x\n", "notify": ["postfix"]}});
    for (restart, verb) in [(false, "reload"), (true, "restart")] {
        let mut r = rig();
        r.fakes
            .services
            .running
            .lock()
            .unwrap()
            .insert("postfix".into());
        r.fakes
            .services
            .enabled
            .lock()
            .unwrap()
            .insert("postfix".into());
        let s = steps(&[
            changed.clone(),
            json!({"service": {"name": "postfix", "restart": restart}}),
        ]);
        assert_eq!(line(&r.plan(&s)[1]), act("service postfix", verb));
        r.apply(&s).unwrap();
        assert_eq!(
            *r.fakes.services.actions.lock().unwrap(),
            [format!("{verb} postfix")]
        );
    }
}

/// `status:` replaces the service manager's answer: exit 0 is running.
#[test]
fn a_service_status_command_decides_whether_it_runs() {
    let mut r = rig();
    r.fakes
        .services
        .enabled
        .lock()
        .unwrap()
        .insert("postfix".into());
    r.fakes
        .exec
        .on("postfix-status", Box::new(|_, _| exit(0, "")));
    let body = json!({"service": {"name": "postfix", "status": ["postfix-status"]}});
    assert_eq!(
        line(&one(&r, body.clone())),
        none("service postfix", "running")
    );
    r.fakes
        .exec
        .on("postfix-status", Box::new(|_, _| exit(3, "")));
    assert_eq!(
        line(&one(&r, body.clone())),
        act("service postfix", "start")
    );
    r.apply(&steps(&[body])).unwrap();
    assert_eq!(*r.fakes.services.actions.lock().unwrap(), ["start postfix"]);
}

#[test]
fn command_lines_say_why_it_runs() {
    let mut r = rig();
    r.fakes.exec.on("newaliases", Box::new(|_, _| exit(0, "")));
    let creates = json!({"command": {"argv": ["newaliases", "-v"], "creates": "/etc/aliases.db"}});
    assert_eq!(
        line(&one(&r, creates.clone())),
        act("command newaliases -v", "run (/etc/aliases.db missing)")
    );
    std::fs::write(r.path("/etc/aliases.db"), "").unwrap();
    assert_eq!(
        line(&one(&r, creates.clone())),
        none("command newaliases -v", "not needed")
    );
    r.apply(&steps(&[creates])).unwrap();
    assert!(r.fakes.exec.calls().is_empty());

    let on_change = json!({"command": {"argv": ["newaliases"], "on_change": ["/etc/aliases"]}});
    assert_eq!(
        line(&one(&r, on_change.clone())),
        none("command newaliases", "not needed")
    );
    let s = steps(&[
        json!({"file": {"path": "/etc/aliases", "content": "root: admin\n"}}),
        on_change,
    ]);
    assert_eq!(
        line(&r.plan(&s)[1]),
        act("command newaliases", "run (/etc/aliases changed)")
    );
    r.apply(&s).unwrap();
    assert_eq!(r.fakes.exec.calls(), ["newaliases"]);

    let always = json!({"command": {"argv": ["newaliases"], "always": true}});
    assert_eq!(
        line(&one(&r, always)),
        act("command newaliases", "run (always)")
    );
}

#[test]
fn member_and_action_lines_name_their_target() {
    let mut r = rig();
    std::fs::write(r.path("/etc/group"), "root:x:0:\nopendkim:x:990:\n").unwrap();
    r.fakes.exec.on("usermod", Box::new(|_, _| exit(0, "")));
    let member = json!({"member": {"user": "postfix", "group": "opendkim"}});
    assert_eq!(
        line(&one(&r, member.clone())),
        act("member postfix in group opendkim", "add")
    );
    r.apply(&steps(std::slice::from_ref(&member))).unwrap();
    assert_eq!(r.fakes.exec.calls(), ["usermod -a -G opendkim postfix"]);
    std::fs::write(r.path("/etc/group"), "root:x:0:\nopendkim:x:990:postfix\n").unwrap();
    assert_eq!(
        line(&one(&r, member)),
        none("member postfix in group opendkim", "already a member")
    );

    // An action's line is the action's own (`action NAME ...`), through the registry.
    let hostname = json!({"action": {"set_hostname": {"name": "mail.example.test"}}});
    assert_eq!(
        line(&one(&r, hostname.clone())),
        act("action set_hostname", "debian -> mail.example.test")
    );
    r.apply(&steps(std::slice::from_ref(&hostname))).unwrap();
    assert_eq!(
        line(&one(&r, hostname)),
        none("action set_hostname", "host name is mail.example.test")
    );
}
