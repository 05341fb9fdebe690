//! Inputs from cloud-init's instance data (tests/fixtures/cloud-init/instance-data.json, an
//! EC2 instance's, trimmed): the host name and public addresses fill what the config
//! leaves out, the config file always wins, and a malformed file is exit 2 naming it,
//! with nothing changed on the host.

mod common;
use common::*;

const DATA: &str = "/run/cloud-init/instance-data.json";
const BARE: &str = "domain: example.test\nadmin_email: admin@example.test\n";

fn fixture() -> String {
    let p = format!(
        "{}/tests/fixtures/cloud-init/instance-data.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(p).expect("fixture")
}

#[test]
fn hostname_and_public_addresses_come_from_instance_data() {
    let t = Tree::new(BARE);
    t.write(DATA, &fixture());
    ok(&t.fb(&["run", "--profile", "standard"]));
    assert_eq!(t.read("/etc/hostname"), "mx.example.test\n");
    let hosts = t.read("/etc/hosts");
    assert!(
        hosts.contains("198.51.100.7 mx.example.test mx\n2001:db8:5::9 mx.example.test mx\n"),
        "public addresses (not the private 172.31.5.9):\n{hosts}"
    );
    let rec = stdout(&t.fb(&["records"]));
    assert!(
        rec.contains("198.51.100.7") && rec.contains("2001:db8:5::9"),
        "{rec}"
    );
    // The run is stamped with cloud-init's instance id.
    assert!(t
        .read("/var/lib/firstboot/instance.json")
        .contains("i-0f1e2d3c4b5a69788"));
}

#[test]
fn the_config_file_wins() {
    let t = Tree::new(&format!(
        "{BARE}hostname: mail2.example.test\nipv4: 192.0.2.10\n"
    ));
    t.write(DATA, &fixture());
    ok(&t.fb(&["run", "--profile", "standard"]));
    assert_eq!(t.read("/etc/hostname"), "mail2.example.test\n");
    let hosts = t.read("/etc/hosts");
    assert!(
        hosts.contains("192.0.2.10 mail2.example.test mail2\n2001:db8:5::9 mail2.example.test"),
        "ipv4 from the config, ipv6 (left out there) from the instance data:\n{hosts}"
    );
}

#[test]
fn a_cloud_internal_name_is_not_the_mail_hosts_name() {
    let t = Tree::new(BARE);
    t.write(
        DATA,
        &fixture().replace(
            "\"mx.example.test\"",
            "\"ip-172-31-5-9.eu-west-1.compute.internal\"",
        ),
    );
    ok(&t.fb(&["run", "--profile", "standard"]));
    assert_eq!(
        t.read("/etc/hostname"),
        "mail.example.test\n",
        "the default"
    );
}

#[test]
fn malformed_instance_data_is_exit_2_naming_the_file_and_changes_nothing() {
    for (text, says) in [
        (
            "{\n \"v1\": {\n  \"instance_id\": \"i-1\",,\n",
            "instance-data.json:3: not valid JSON",
        ),
        (
            "{\"v1\": {\"local_hostname\": [\"mx.example.test\"]}}",
            "instance-data.json: v1.local_hostname: must be a string",
        ),
        (
            "{\"ds\": {\"meta_data\": {\"public-ipv4\": \"198.51.100.300\"}}}",
            "instance-data.json: ds.meta_data.public-ipv4: `198.51.100.300` is not an IPv4 address",
        ),
        (
            "{\"v1\": {\"local_hostname\": \"mx_1.example.test\"}}",
            "instance-data.json: v1.local_hostname (as hostname)",
        ),
    ] {
        let t = Tree::new(BARE);
        t.write(DATA, text);
        let before = t.snapshot(false);
        for args in [
            &["run", "--profile", "standard"][..],
            &["plan", "--profile", "standard"],
        ] {
            let o = t.fb(args);
            assert_eq!(o.status.code(), Some(2), "{args:?} {text}: {}", stderr(&o));
            let err = stderr(&o);
            assert!(err.contains(says), "{text}\nwanted {says}\n{err}");
            assert!(err.contains(&t.path(DATA).display().to_string()), "{err}");
        }
        assert_eq!(before, t.snapshot(false), "nothing changed");
    }
}
