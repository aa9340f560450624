//! Schema of rule lists in `config.toml` and the rule files it includes.

use std::path::Path;

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesSection {}

impl RulesSection {
    /// Load included rule files and validate terms/regexes. Returns every problem found.
    pub fn resolve(&mut self, _base_dir: &Path) -> Vec<ConfigError> {
        Vec::new()
    }
}
