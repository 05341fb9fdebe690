//! The embedded manifests and profiles, turned from YAML into JSON by `build.rs`: the
//! binary reads them with serde_json (a start-up cost of a no-op run otherwise spent on
//! YAML parsing). Files given with `--modules-dir` are still read as YAML.

use crate::yaml::YamlError;
use serde::de::DeserializeOwned;

include!(concat!(env!("OUT_DIR"), "/embedded_json.rs"));

/// Parse the embedded file at `path` (relative to the crate, e.g.
/// `modules/8-dns_config/module.yaml`): from its JSON form when the build made one, else
/// from `yaml` (then errors carry lines).
pub fn parse<T: DeserializeOwned>(path: &str, yaml: &str) -> Result<T, YamlError> {
    match JSON.iter().find(|(p, _)| *p == path) {
        Some((_, json)) => serde_json::from_str(json).map_err(|e| YamlError {
            line: None,
            message: e.to_string(),
        }),
        None => crate::yaml::parse(yaml),
    }
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;

    /// A document with map order kept (input defaults may refer to earlier inputs).
    #[derive(Debug, serde::Deserialize)]
    #[serde(untagged)]
    #[allow(dead_code)] // the fields are compared through the Debug form
    enum Ordered {
        Map(IndexMap<String, Ordered>),
        List(Vec<Ordered>),
        Other(serde_json::Value),
    }

    #[test]
    fn json_forms_say_what_the_yaml_says_in_the_same_order() {
        for (path, json) in super::JSON {
            let yaml = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            let from_yaml: Ordered = crate::yaml::parse(&yaml).unwrap();
            let from_json: Ordered = serde_json::from_str(json).unwrap();
            // IndexMap equality ignores order; the debug form shows it.
            assert_eq!(format!("{from_yaml:?}"), format!("{from_json:?}"), "{path}");
        }
    }

    #[test]
    fn every_embedded_yaml_file_has_a_json_form() {
        let names: Vec<&str> = super::JSON.iter().map(|(p, _)| *p).collect();
        assert!(names.contains(&"modules/global.yaml"), "{names:?}");
        assert!(
            names.contains(&"modules/9-mail_config/module.yaml"),
            "{names:?}"
        );
        assert!(names.contains(&"profiles/advanced.yaml"), "{names:?}");
    }
}
