use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

#[derive(clap::Args)]
pub struct ScoreArgs {
    /// Text to score; read from stdin when absent.
    pub text: Option<String>,
}

pub fn run(_config: Option<&Path>, _args: ScoreArgs) -> Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
