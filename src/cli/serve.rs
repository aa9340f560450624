use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

pub fn run(_config: Option<&Path>) -> Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
