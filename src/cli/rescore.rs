use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::domain::Status;
use crate::rescoring::{self, RescoreRun};
use crate::scoring::classifier;
use crate::scoring::pipeline::Scorer;

#[derive(clap::Args)]
pub struct RescoreArgs {
    /// Only comments in this state (published, pending or removed); default: all.
    #[arg(long, value_parser = ["published", "pending", "removed"])]
    pub state: Option<String>,
    /// Print what would change without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Only comments stored unscored (classifier unavailable at intake).
    #[arg(long)]
    pub unscored: bool,
}

/// Prints one JSON line per comment whose status changes, then a summary on stderr.
pub fn run(config: Option<&Path>, args: RescoreArgs) -> Result<ExitCode> {
    let config = super::load_config(config)?;
    let scorer = Scorer::from_config(&config).map_err(|errors| {
        anyhow::anyhow!(
            "invalid config:\n{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    let model = classifier::load(&config).context("loading the classifier")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = crate::startup::open_store(&config).await?;
        let opts = RescoreRun {
            status: args.state.as_deref().and_then(Status::parse),
            only_unscored: args.unscored,
            dry_run: args.dry_run,
            page_size: 256,
        };
        let changed = rescoring::run(&store, &scorer, model, &opts, |change| {
            println!(
                "{}",
                serde_json::json!({
                    "id": change.id,
                    "old_status": change.old_status,
                    "new_status": change.new_status,
                    "reasons": change.verdict.reasons,
                    "model_id": change.verdict.model_id,
                    "rules_version": change.verdict.rules_version,
                })
            );
        })
        .await;
        store.close().await;
        let changed = changed?;
        eprintln!(
            "{changed} comment(s) {}",
            if args.dry_run {
                "would change (dry run)"
            } else {
                "changed"
            }
        );
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
