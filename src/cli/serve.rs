use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::startup::Application;

pub fn run(config: Option<&Path>) -> Result<ExitCode> {
    let config = super::load_config(config)?;
    crate::telemetry::init(config.server.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let app = Application::build(config).await?;
        app.run().await
    })?;
    Ok(ExitCode::SUCCESS)
}
