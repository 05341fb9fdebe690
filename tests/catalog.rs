//! Every shipped manifest and profile loads strictly and documents every input.

use firstboot::catalog::Catalog;
use firstboot::inputs::InputDecl;

fn all_described(prefix: &str, d: &InputDecl, out: &mut Vec<String>) {
    if d.description.trim().is_empty() {
        out.push(prefix.to_string());
    }
    for (k, f) in &d.fields {
        all_described(&format!("{prefix}.{k}"), f, out);
    }
    if let Some(i) = &d.items {
        all_described(&format!("{prefix}[]"), i, out);
    }
}

#[test]
fn shipped_modules_and_profiles_load_and_are_documented() {
    let cat = Catalog::load(&[]).unwrap_or_else(|d| panic!("{d}"));
    let ids: Vec<&str> = cat.modules.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "7-ssl_config",
            "8-dns_config",
            "9-mail_config",
            "10-monitoring"
        ]
    );
    assert_eq!(
        cat.profiles["standard"].modules,
        ["7-ssl_config", "8-dns_config", "9-mail_config"]
    );
    assert_eq!(cat.profiles["advanced"].modules.len(), 4);
    for m in &cat.modules {
        m.templates
            .check()
            .unwrap_or_else(|e| panic!("{}: {e}", m.id));
    }
    let mut missing = Vec::new();
    all_described("", &cat.schema(), &mut missing);
    assert!(
        missing.is_empty(),
        "inputs without description: {missing:?}"
    );
}

#[test]
fn every_input_is_in_the_config_reference() {
    let cat = Catalog::load(&[]).unwrap_or_else(|d| panic!("{d}"));
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/config.md"))
        .expect("docs/config.md");
    let mut keys = Vec::new();
    fn walk(prefix: &str, d: &InputDecl, keys: &mut Vec<String>) {
        for (k, f) in &d.fields {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            keys.push(key.clone());
            walk(&key, f, keys);
            if let Some(i) = &f.items {
                walk(&format!("{key}[]"), i, keys);
            }
        }
    }
    walk("", &cat.schema(), &mut keys);
    let undocumented: Vec<&String> = keys
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/config.md lacks: {undocumented:?}"
    );
}

#[test]
fn every_variable_path_of_the_shipped_modules_names_an_input_or_an_earlier_output() {
    let cat = Catalog::load(&[]).unwrap_or_else(|d| panic!("{d}"));
    let mut d = firstboot::diag::Diagnostics::default();
    cat.check_refs(&mut d);
    assert!(d.is_empty(), "{d}");
}

#[test]
fn paths_are_checked_against_inputs_and_earlier_outputs() {
    let cat = Catalog::load(&[]).expect("shipped catalog");
    let schema = cat.schema();
    let outputs = std::collections::BTreeMap::from([
        ("ssl".to_string(), (7, vec!["cert".to_string()])),
        ("mail".to_string(), (9, vec!["dkim_key".to_string()])),
    ]);
    let scope = firstboot::refs::Scope {
        schema: &schema,
        outputs: &outputs,
    };
    let p = |order, path| firstboot::refs::problem(&scope, order, path);
    assert_eq!(p(9, "mail.dkim.selector"), None);
    assert_eq!(p(9, "mail.users"), None);
    assert_eq!(p(9, "outputs.ssl.cert"), None);
    assert_eq!(p(9, "outputs.ssl"), None);
    assert!(p(9, "mail.mod")
        .unwrap()
        .contains("`mail` has no input `mod`"));
    assert!(p(9, "domian")
        .unwrap()
        .contains("unknown variable `domian`"));
    assert!(p(9, "domain.x").unwrap().contains("is a domain value"));
    assert!(p(9, "outputs.ssl.crt").unwrap().contains("no output `crt`"));
    assert!(p(8, "outputs.mail.dkim_key")
        .unwrap()
        .contains("modules before it"));
    assert!(p(9, "outputs.nope.x")
        .unwrap()
        .contains("no module is named"));
}

#[test]
fn every_shipped_check_has_an_id_and_the_guide_explains_it() {
    let cat = Catalog::load(&[]).unwrap_or_else(|d| panic!("{d}"));
    let guide = std::fs::read_to_string("docs/guide.md").unwrap();
    let mut problems = Vec::new();
    for m in &cat.modules {
        for c in &m.manifest.checks {
            match &c.id {
                None => problems.push(format!("{} {}: no `id:`", m.id, c.at)),
                Some(id) if !guide.contains(&format!("`{id}`")) => {
                    problems.push(format!("{} {}: `{id}` is not in docs/guide.md", m.id, c.at))
                }
                Some(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn what_only_the_dns_host_or_provider_can_fix_never_rolls_mail_back() {
    let cat = Catalog::load(&[]).unwrap_or_else(|d| panic!("{d}"));
    let mail = cat
        .modules
        .iter()
        .find(|m| m.id == "9-mail_config")
        .unwrap();
    let advisory: Vec<&str> = mail
        .manifest
        .checks
        .iter()
        .filter(|c| c.advisory)
        .filter_map(|c| c.id.as_deref())
        .collect();
    for id in [
        "dns.mx",
        "dns.address",
        "dns.ptr",
        "dns.helo",
        "dns.spf",
        "dns.dmarc",
        "dns.mta_sts",
        "dns.tls_rpt",
        "dns.dnssec",
    ] {
        assert!(advisory.contains(&id), "{id} is not advisory: {advisory:?}");
    }
    // What the host itself serves or holds stays a reason to roll back.
    for id in ["dns.dkim", "dns.dane", "postfix.config", "tls.smtp"] {
        assert!(!advisory.contains(&id), "{id} must not be advisory");
    }
}
