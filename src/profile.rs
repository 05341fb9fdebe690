//! Profiles (`profiles/<name>.yaml`): which modules run, and default inputs.

use serde::Deserialize;

/// A parsed profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// One line on who the profile is for.
    pub description: String,
    /// Modules, by id or short name (run in numeric order whatever the order here).
    pub modules: Vec<String>,
    /// Default inputs, shaped like the config file.
    #[serde(default)]
    pub defaults: serde_json::Map<String, serde_json::Value>,
}
