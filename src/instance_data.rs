//! cloud-init's instance data (`/run/cloud-init/instance-data.json`): the instance id,
//! the local host name and the public addresses the cloud reports. Read once, strictly:
//! a file that is not JSON, or a key we read holding the wrong kind of value, is an input
//! error naming the file and the key (exit 2, nothing changed), never silently ignored.

use crate::diag::Diagnostic;
use crate::host::{HostError, Root};
use serde_json::Value;
use std::net::{Ipv4Addr, Ipv6Addr};

/// In-tree path of cloud-init's (non-sensitive) instance data.
pub const INSTANCE_DATA_FILE: &str = "/run/cloud-init/instance-data.json";

/// What firstboot takes from the instance data; `None` where the cloud says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceData {
    /// The file, as a host path (for messages).
    pub file: String,
    /// `v1.instance_id`.
    pub instance_id: Option<String>,
    /// `v1.local_hostname`.
    pub local_hostname: Option<String>,
    /// The first public IPv4 address found (see [`IPV4_KEYS`]), and the key it came from.
    pub public_ipv4: Option<(Ipv4Addr, String)>,
    /// The first public IPv6 address found (see [`IPV6_KEYS`]), and the key it came from.
    pub public_ipv6: Option<(Ipv6Addr, String)>,
}

/// Why the instance data cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InstanceDataError {
    /// The file could not be read.
    #[error(transparent)]
    Host(#[from] HostError),
    /// Not JSON, or a key we read has the wrong kind of value.
    #[error("{0}")]
    Bad(Diagnostic),
}

/// Where a public IPv4 address is looked for, in order (JSON pointers): cloud-init's
/// standard key, then the datasource metadata of EC2-style clouds (AWS, OpenStack,
/// Hetzner) and of DigitalOcean.
pub const IPV4_KEYS: &[&str] = &[
    "/v1/public_ipv4",
    "/ds/meta_data/public-ipv4",
    "/ds/meta_data/public_ipv4",
    "/ds/meta_data/interfaces/public/0/ipv4/ip_address",
];

/// Where a public IPv6 address is looked for, in order (JSON pointers); EC2's is under
/// the primary interface's MAC (`ds.meta_data.mac`), looked up separately.
pub const IPV6_KEYS: &[&str] = &[
    "/v1/public_ipv6",
    "/ds/meta_data/public-ipv6",
    "/ds/meta_data/public_ipv6",
    "/ds/meta_data/interfaces/public/0/ipv6/ip_address",
];

/// `/v1/public_ipv4` as `v1.public_ipv4`.
fn dotted(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

impl InstanceData {
    /// Read the instance data under `root`; `None` when cloud-init wrote none.
    pub fn load(root: &Root) -> Result<Option<InstanceData>, InstanceDataError> {
        let Some(bytes) = root.read(INSTANCE_DATA_FILE)? else {
            return Ok(None);
        };
        let file = root.path(INSTANCE_DATA_FILE)?.display().to_string();
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            InstanceDataError::Bad(Diagnostic {
                file: file.clone(),
                key: String::new(),
                line: Some(e.line()).filter(|l| *l > 0),
                reason: format!("not valid JSON: {e}"),
            })
        })?;
        Self::from_value(file, &v).map(Some)
    }

    /// The fields of an already parsed instance-data document.
    pub fn from_value(file: String, v: &Value) -> Result<InstanceData, InstanceDataError> {
        let bad = |pointer: &str, reason: String| {
            InstanceDataError::Bad(Diagnostic {
                file: file.clone(),
                key: dotted(pointer),
                line: None,
                reason,
            })
        };
        // A string, or nothing; an empty string (a cloud with no public address says "")
        // is nothing too.
        let text = |pointer: &str| -> Result<Option<String>, InstanceDataError> {
            match v.pointer(pointer) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
                Some(other) => Err(bad(pointer, format!("must be a string, found {other}"))),
            }
        };
        let instance_id = text("/v1/instance_id")?;
        let local_hostname = text("/v1/local_hostname")?;
        let mut public_ipv4 = None;
        for k in IPV4_KEYS {
            if let Some(s) = text(k)? {
                let a = s
                    .parse::<Ipv4Addr>()
                    .map_err(|_| bad(k, format!("`{s}` is not an IPv4 address")))?;
                public_ipv4 = Some((a, dotted(k)));
                break;
            }
        }
        let mut v6_keys: Vec<String> = IPV6_KEYS.iter().map(|k| k.to_string()).collect();
        if let Some(mac) = text("/ds/meta_data/mac")? {
            v6_keys.push(format!("/ds/meta_data/network/interfaces/macs/{mac}/ipv6s"));
        }
        let mut public_ipv6 = None;
        for k in &v6_keys {
            // EC2 lists an interface's addresses one per line.
            let first = match v.pointer(k) {
                Some(Value::Array(a)) => a.first().cloned(),
                other => other.cloned(),
            };
            let s = match first {
                None | Some(Value::Null) => continue,
                Some(Value::String(s)) => s,
                Some(other) => return Err(bad(k, format!("must be a string, found {other}"))),
            };
            let Some(s) = s.split_whitespace().next() else {
                continue;
            };
            let a = s
                .parse::<Ipv6Addr>()
                .map_err(|_| bad(k, format!("`{s}` is not an IPv6 address")))?;
            public_ipv6 = Some((a, dotted(k)));
            break;
        }
        Ok(InstanceData {
            file,
            instance_id,
            local_hostname,
            public_ipv4,
            public_ipv6,
        })
    }
}

impl InstanceData {
    /// The inputs the instance data gives (`hostname`, `ipv4`, `ipv6`), for a config
    /// whose `domain` is `domain`, with the key each came from. The local host name is
    /// used only when it is `domain` or a name under it: a cloud's internal name
    /// (`ip-10-0-0-5.ec2.internal`) must not become the mail host's name.
    pub fn inputs(&self, domain: Option<&str>) -> Vec<(&'static str, String, String)> {
        let mut out = Vec::new();
        let in_domain = |h: &str| {
            let (h, d) = (
                h.trim_end_matches('.').to_ascii_lowercase(),
                domain.map(str::to_ascii_lowercase),
            );
            d.is_some_and(|d| h.contains('.') && (h == d || h.ends_with(&format!(".{d}"))))
        };
        match &self.local_hostname {
            Some(h) if in_domain(h) => out.push((
                "hostname",
                h.trim_end_matches('.').to_ascii_lowercase(),
                "v1.local_hostname".to_string(),
            )),
            Some(h) => tracing::info!(
                "{}: v1.local_hostname `{h}` is not a name under the mail domain: not used as hostname",
                self.file
            ),
            None => {}
        }
        if let Some((a, k)) = &self.public_ipv4 {
            out.push(("ipv4", a.to_string(), k.clone()));
        }
        if let Some((a, k)) = &self.public_ipv6 {
            out.push(("ipv6", a.to_string(), k.clone()));
        }
        out
    }
}

impl InstanceData {
    /// The inputs this instance data gives that `config` (the parsed config file) leaves
    /// out, as a config-shaped map, and the instance-data key each came from.
    pub fn layer(&self, config: Option<&Value>) -> (Value, Vec<(String, String)>) {
        let domain = config.and_then(|c| c.get("domain")).and_then(Value::as_str);
        let mut values = serde_json::Map::new();
        let mut keys = Vec::new();
        for (input, value, from) in self.inputs(domain) {
            if config
                .and_then(|c| c.get(input))
                .is_some_and(|v| !v.is_null())
            {
                continue; // the config file wins
            }
            tracing::info!("{input} = {value}, from {} ({from})", self.file);
            values.insert(input.to_string(), Value::String(value));
            keys.push((input.to_string(), from));
        }
        (Value::Object(values), keys)
    }
}

/// This instance's id: cloud-init's `v1.instance_id`, else the one cloud-init keeps in
/// `/var/lib/cloud/data/instance-id`, else `/etc/machine-id`; `None` when none says.
pub fn instance_id(root: &Root, data: Option<&InstanceData>) -> Result<Option<String>, HostError> {
    if let Some(id) = data.and_then(|d| d.instance_id.clone()) {
        return Ok(Some(id));
    }
    for f in ["/var/lib/cloud/data/instance-id", "/etc/machine-id"] {
        if let Some(id) = first_line(root, f)? {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// The first line of an in-tree file, trimmed; `None` when missing or empty.
pub fn first_line(root: &Root, path: &str) -> Result<Option<String>, HostError> {
    Ok(root.read(path)?.and_then(|d| {
        String::from_utf8_lossy(&d)
            .lines()
            .next()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<InstanceData, InstanceDataError> {
        InstanceData::from_value("i.json".into(), &v)
    }

    #[test]
    fn standard_and_datasource_keys() {
        let d = parse(json!({
            "v1": {"instance_id": "i-1", "local_hostname": "mx.example.org", "public_ipv4": ""},
            "ds": {"meta_data": {"public-ipv4": "198.51.100.7", "mac": "0a:01",
                "network": {"interfaces": {"macs": {"0a:01": {"ipv6s": "2001:db8::7\n2001:db8::8"}}}}}}
        }))
        .unwrap();
        assert_eq!(d.instance_id.as_deref(), Some("i-1"));
        assert_eq!(d.local_hostname.as_deref(), Some("mx.example.org"));
        let (v4, k4) = d.public_ipv4.unwrap();
        assert_eq!(
            (v4.to_string(), k4.as_str()),
            ("198.51.100.7".into(), "ds.meta_data.public-ipv4")
        );
        let (v6, k6) = d.public_ipv6.unwrap();
        assert_eq!(v6.to_string(), "2001:db8::7");
        assert_eq!(k6, "ds.meta_data.network.interfaces.macs.0a:01.ipv6s");
    }

    #[test]
    fn wrong_kinds_name_the_key() {
        let e = parse(json!({"v1": {"instance_id": 7}}))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "i.json: v1.instance_id: must be a string, found 7");
        let e = parse(json!({"v1": {"public_ipv4": "2001:db8::1"}}))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "i.json: v1.public_ipv4: `2001:db8::1` is not an IPv4 address"
        );
    }

    #[test]
    fn not_json_names_file_and_line() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("run/cloud-init")).unwrap();
        std::fs::write(
            t.path().join("run/cloud-init/instance-data.json"),
            "{\n\"v1\": {,\n",
        )
        .unwrap();
        let e = InstanceData::load(&Root::new(t.path()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("instance-data.json:2: not valid JSON"), "{e}");
    }

    #[test]
    fn instance_id_falls_back_to_machine_id() {
        let t = tempfile::tempdir().unwrap();
        let root = Root::new(t.path());
        assert_eq!(instance_id(&root, None).unwrap(), None);
        std::fs::create_dir(t.path().join("etc")).unwrap();
        std::fs::write(t.path().join("etc/machine-id"), "abc\n").unwrap();
        assert_eq!(instance_id(&root, None).unwrap().as_deref(), Some("abc"));
        let d = parse(json!({"v1": {"instance_id": "i-9"}})).unwrap();
        assert_eq!(
            instance_id(&root, Some(&d)).unwrap().as_deref(),
            Some("i-9")
        );
    }
}
