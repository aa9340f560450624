//! `modgate apikey`: keys for the Perspective-compatible endpoints.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::store::apikeys;

#[derive(clap::Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it (shown once; only its hash is stored).
    Add { name: String },
    /// Revoke the active key with this name; requests with it get 403 at once.
    Revoke { name: String },
    /// List keys: name, created, revoked.
    List,
}

pub fn run(config: Option<&Path>, cmd: ApiKeyCommand) -> Result<ExitCode> {
    let config = super::load_config(config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = crate::startup::open_store(&config).await?;
        let result = match cmd {
            ApiKeyCommand::Add { name } => {
                apikeys::add(store.writer(), &name).await.map(|(k, key)| {
                    eprintln!("created API key `{}`; the key (shown once):", k.name);
                    println!("{key}");
                })
            }
            ApiKeyCommand::Revoke { name } => {
                apikeys::revoke(store.writer(), &name).await.map(|()| {
                    eprintln!("revoked API key `{name}`");
                })
            }
            ApiKeyCommand::List => apikeys::list(store.reader())
                .await
                .map(|keys| {
                    for k in keys {
                        let revoked = k.revoked_at.as_deref().unwrap_or("-");
                        println!("{}\t{}\t{}", k.name, k.created_at, revoked);
                    }
                })
                .map_err(Into::into),
        };
        store.close().await;
        result.map_err(anyhow::Error::from)
    })?;
    Ok(ExitCode::SUCCESS)
}
