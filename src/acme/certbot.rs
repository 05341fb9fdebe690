//! Asking the CA: whether it can reach this host (every name resolves to one of the
//! host's addresses), a CSR made from the kept key, and `certbot certonly --csr` with
//! standalone http-01. certbot stays the ACME client; it never sees or makes a key, and
//! what it writes is checked (the key's certificate, for the names) before anyone
//! installs it.

use super::WORK_DIR;
use crate::host::Host;
use crate::tls::check::assess;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use std::net::IpAddr;
use std::time::Duration;

/// One request to the CA.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// ACME directory URL.
    pub directory: &'a str,
    /// Contact address registered with the CA (empty: none).
    pub email: &'a str,
    /// CA bundle for the ACME server's own HTTPS (empty: the system's).
    pub ca_bundle: &'a str,
    /// Names, the first is the subject.
    pub names: &'a [String],
    /// This host's public addresses (empty: not known, resolution is not looked at).
    pub addresses: &'a [IpAddr],
}

/// A certificate the CA issued, checked against the key and names.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Leaf and intermediates, PEM.
    pub fullchain: Vec<u8>,
    /// Intermediates, PEM.
    pub chain: Vec<u8>,
    /// End of validity of the leaf.
    pub not_after: i64,
}

/// A CSR (PEM) for `names` signed with the kept key.
pub fn csr(kp: &KeyPair, names: &[String]) -> Result<String, String> {
    let mut p = CertificateParams::new(names.to_vec()).map_err(|e| e.to_string())?;
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_default(),
    );
    p.distinguished_name = dn;
    let r = p.serialize_request(kp).map_err(|e| e.to_string())?;
    r.pem().map_err(|e| e.to_string())
}

/// Whether the CA's http-01 validation can reach this host: every name resolves (through
/// the system resolver) to one of `addresses`. The error says which name does not.
pub fn reachable(host: &Host, names: &[String], addresses: &[IpAddr]) -> Result<(), String> {
    if addresses.is_empty() {
        return Ok(());
    }
    let timeout = Duration::from_secs(5);
    for n in names {
        let found = resolve(host, n, timeout).map_err(|e| format!("cannot resolve {n}: {e}"))?;
        if !found.iter().any(|a| addresses.contains(a)) {
            let ours: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
            let seen = match found.is_empty() {
                true => "no address".to_string(),
                false => found
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            return Err(format!(
                "{n} does not resolve to this host yet ({seen}, not {}): the CA could not reach it",
                ours.join(" or ")
            ));
        }
    }
    Ok(())
}

/// The addresses `name` resolves to (A and AAAA) through the system resolver.
fn resolve(host: &Host, name: &str, timeout: Duration) -> Result<Vec<IpAddr>, String> {
    use crate::dns::query::{query, system_server};
    use crate::dns::record::Data;
    let server = system_server(&host.root).map_err(|e| e.to_string())?;
    let c = crate::dns::wire::Client {
        net: host.net.as_ref(),
        timeout,
    };
    let dn = crate::dns::DName::parse(name)?;
    let mut out = Vec::new();
    for t in [crate::dns::RType::A, crate::dns::RType::Aaaa] {
        let a = query(c, server, &dn, t).map_err(|e| e.to_string())?;
        out.extend(a.records.iter().filter_map(|(_, d)| match d {
            Data::A(ip) => Some(IpAddr::V4(*ip)),
            Data::Aaaa(ip) => Some(IpAddr::V6(*ip)),
            _ => None,
        }));
    }
    Ok(out)
}

/// The certbot command line for a CSR in [`WORK_DIR`] (paths inside the root).
fn argv(req: &Request, work: &str) -> Vec<String> {
    let mut a: Vec<String> = [
        "certbot",
        "certonly",
        "--non-interactive",
        "--standalone",
        "--preferred-challenges",
        "http",
        "--server",
        req.directory,
        "--agree-tos",
        "--no-eff-email",
    ]
    .map(String::from)
    .into();
    match req.email.is_empty() {
        true => a.push("--register-unsafely-without-email".into()),
        false => a.extend(["--email".into(), req.email.to_string()]),
    }
    for (flag, file) in [
        ("--csr", "csr.pem"),
        ("--cert-path", "cert.pem"),
        ("--fullchain-path", "fullchain.pem"),
        ("--chain-path", "chain.pem"),
    ] {
        a.extend([flag.to_string(), format!("{work}/{file}")]);
    }
    a
}

/// Ask the CA for a certificate for the kept key (`key_pem`): the names must reach this
/// host, then certbot runs with a fresh CSR; what it wrote is read back and must be a
/// certificate for that key and those names. The error is one line, masked, naming what
/// failed (never key material).
pub fn request(host: &Host, req: &Request, key_pem: &[u8]) -> Result<Issued, String> {
    reachable(host, req.names, req.addresses)?;
    let kp = std::str::from_utf8(key_pem)
        .ok()
        .and_then(|k| KeyPair::from_pem(k).ok())
        .ok_or("the kept key cannot be read")?;
    let csr = csr(&kp, req.names).map_err(|e| format!("cannot make the CSR: {e}"))?;
    let root = &host.root;
    let host_err = |e: crate::host::HostError| e.to_string();
    crate::state::ensure_state_dir(root).map_err(host_err)?;
    root.ensure_dir(WORK_DIR, 0o700).map_err(host_err)?;
    for f in ["csr.pem", "cert.pem", "fullchain.pem", "chain.pem"] {
        // certbot refuses to write over a file it is given by name.
        root.remove_file(format!("{WORK_DIR}/{f}"))
            .map_err(host_err)?;
    }
    root.write_atomic(format!("{WORK_DIR}/csr.pem"), csr.as_bytes(), 0o644, None)
        .map_err(host_err)?;
    let work = root.path(WORK_DIR).map_err(host_err)?;
    let argv = argv(req, &work.display().to_string());
    let env: Vec<(&str, &str)> = match req.ca_bundle.is_empty() {
        true => Vec::new(),
        false => vec![("REQUESTS_CA_BUNDLE", req.ca_bundle)],
    };
    host.runner.run_ok(&argv, None, &env).map_err(host_err)?;
    let read = |f: &str| root.read(format!("{WORK_DIR}/{f}")).ok().flatten();
    let fullchain = read("fullchain.pem").ok_or("certbot wrote no fullchain.pem")?;
    let a = assess(
        ("the issued certificate", Some(&fullchain)),
        ("the kept key", Some(key_pem)),
        req.names,
        crate::tls::now(),
    );
    let leaf = match (a.leaf, a.problems.is_empty()) {
        (Some(l), true) => l,
        _ => {
            return Err(format!(
                "the CA's answer is unusable: {}",
                a.problems.join("; ")
            ))
        }
    };
    let chain = read("chain.pem").unwrap_or_else(|| super::pem_tail(&fullchain));
    Ok(Issued {
        fullchain,
        chain,
        not_after: leaf.not_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::FromDer;

    #[test]
    fn certbot_gets_the_csr_and_three_paths_and_no_key() {
        let names = vec!["mail.example.test".to_string()];
        let req = Request {
            directory: "https://acme.test/dir",
            email: "",
            ca_bundle: "",
            names: &names,
            addresses: &[],
        };
        let a = argv(&req, "/w").join(" ");
        assert!(a.contains("--csr /w/csr.pem --cert-path /w/cert.pem --fullchain-path /w/fullchain.pem --chain-path /w/chain.pem"), "{a}");
        assert!(a.contains("--register-unsafely-without-email"), "{a}");
        assert!(!a.contains("key"), "{a}");
    }

    #[test]
    fn the_csr_names_every_name() {
        let kp = KeyPair::generate().unwrap();
        let names = vec!["mail.example.test".to_string(), "smtp.example.test".into()];
        let pem = csr(&kp, &names).unwrap();
        let (_, p) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
        let (_, req) =
            x509_parser::certification_request::X509CertificationRequest::from_der(&p.contents)
                .unwrap();
        let text = format!(
            "{:?}",
            req.requested_extensions().unwrap().collect::<Vec<_>>()
        );
        assert!(text.contains("smtp.example.test"), "{text}");
    }
}
