use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

#[derive(clap::Args)]
pub struct EvalArgs {
    pub file: PathBuf,
    #[arg(long)]
    pub text_col: String,
    #[arg(long)]
    pub label_col: String,
    #[arg(long)]
    pub positive: Option<String>,
    #[arg(long)]
    pub group_col: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(_config: Option<&Path>, _args: EvalArgs) -> Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
