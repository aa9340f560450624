use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::config::Config;

pub fn run(file: Option<&Path>) -> Result<ExitCode> {
    let path = Config::resolve_path(file);
    match crate::startup::check_config_file(&path) {
        Ok(_) => {
            println!("{}: ok", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            Ok(ExitCode::from(1))
        }
    }
}
