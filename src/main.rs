//! `modgate` command line: serve, score, eval, rescore, moderator, apikey, check-config.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "modgate", version, about = "Self-hosted comment moderation")]
struct Cli {
    /// Config file (default: $MODGATE_CONFIG, else ./config.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve,
    /// Score one text (argument or stdin) and print the verdict as JSON.
    Score(modgate::cli::score::ScoreArgs),
    /// Evaluate scores and verdicts against a labelled CSV file.
    Eval(modgate::cli::eval::EvalArgs),
    /// Manage moderator accounts.
    #[command(subcommand)]
    Moderator(modgate::cli::moderator::ModeratorCommand),
    /// Manage API keys for the Perspective-compatible endpoints.
    #[command(subcommand)]
    Apikey(modgate::cli::apikey::ApiKeyCommand),
    /// Re-score stored comments with the current model and rules.
    Rescore(modgate::cli::rescore::RescoreArgs),
    /// Print the thresholds moderators' decisions imply, per label and language, and the
    /// config.toml lines to paste (never changes the config).
    Calibrate(modgate::cli::learning::CalibrateArgs),
    /// Write moderators' decisions as a CSV of training rows.
    ExportDecisions(modgate::cli::learning::ExportArgs),
    /// Copy an SQLite database into an empty PostgreSQL one and check every table.
    MigrateSqliteToPostgres(modgate::cli::migrate::MigrateArgs),
    /// Validate a config file; errors are printed as FILE:LINE:COL: message.
    CheckConfig {
        /// Config file to check (default: the --config / MODGATE_CONFIG / ./config.toml).
        file: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve => modgate::cli::serve::run(cli.config.as_deref()),
        Command::Score(args) => modgate::cli::score::run(cli.config.as_deref(), args),
        Command::Eval(args) => modgate::cli::eval::run(cli.config.as_deref(), args),
        Command::Rescore(args) => modgate::cli::rescore::run(cli.config.as_deref(), args),
        Command::Moderator(cmd) => modgate::cli::moderator::run(cli.config.as_deref(), cmd),
        Command::Apikey(cmd) => modgate::cli::apikey::run(cli.config.as_deref(), cmd),
        Command::Calibrate(args) => modgate::cli::learning::calibrate(cli.config.as_deref(), args),
        Command::ExportDecisions(args) => {
            modgate::cli::learning::export_decisions(cli.config.as_deref(), args)
        }
        Command::MigrateSqliteToPostgres(args) => modgate::cli::migrate::run(args),
        Command::CheckConfig { file } => {
            modgate::cli::check_config::run(file.as_deref().or(cli.config.as_deref()))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
