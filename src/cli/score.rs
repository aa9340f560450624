//! `modgate score`: one text in, one verdict JSON object out.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::domain::AuthorStanding;
use crate::scoring::classifier::{self, Classifier};
use crate::scoring::pipeline::Scorer;

#[derive(clap::Args)]
pub struct ScoreArgs {
    /// Text to score; read from stdin when absent.
    pub text: Option<String>,
}

pub fn run(config: Option<&Path>, args: ScoreArgs) -> Result<ExitCode> {
    let config = super::load_config(config)?;
    let (scorer, classifier) = load_scoring(&config)?;
    let text = match args.text {
        Some(t) => t,
        None => {
            let mut buf = String::new();
            std::io::stdin()
                .read_to_string(&mut buf)
                .context("reading the text from stdin")?;
            // `echo text | modgate score` should score "text", not "text\n".
            let trimmed = buf.strip_suffix('\n').unwrap_or(&buf);
            trimmed.strip_suffix('\r').unwrap_or(trimmed).to_string()
        }
    };
    let verdict = scorer.score_with(classifier.as_ref(), &text, AuthorStanding::default())?;
    println!("{}", serde_json::to_string(&verdict)?);
    Ok(ExitCode::SUCCESS)
}

/// The compiled rules and policy, and the configured model.
pub(crate) fn load_scoring(config: &Config) -> Result<(Scorer, Arc<dyn Classifier>)> {
    let scorer = Scorer::from_config(config).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("invalid config:\n{}", lines.join("\n"))
    })?;
    let classifier = classifier::load(config)
        .with_context(|| format!("loading the model from {}", config.model_dir().display()))?;
    Ok((scorer, classifier))
}
