//! Subcommands of the `modgate` binary. Each returns the process exit code.

pub mod apikey;
pub mod check_config;
pub mod eval;
pub mod learning;
pub mod migrate;
pub mod moderator;
pub mod rescore;
pub mod score;
pub mod serve;

use std::path::Path;

use anyhow::{Context, Result};

use crate::config::Config;

/// Load the config named by `--config`, `MODGATE_CONFIG` or `./config.toml`, printing
/// every problem as FILE:LINE:COL.
pub fn load_config(cli: Option<&Path>) -> Result<Config> {
    let path = Config::resolve_path(cli);
    crate::startup::load_config(&path)
        .map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("invalid config:\n{}", lines.join("\n"))
        })
        .with_context(|| format!("loading {}", path.display()))
}
