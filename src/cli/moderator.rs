use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::store::moderators::{self, Role};

#[derive(clap::Subcommand)]
pub enum ModeratorCommand {
    /// Create a moderator account and print its API token (shown once).
    Add {
        name: String,
        #[arg(long, default_value = "moderator", value_parser = ["moderator", "admin"])]
        role: String,
    },
    /// Set the web console password (prompted, or one line on stdin).
    Passwd { name: String },
    /// Replace a moderator's API token and print the new one.
    Token { name: String },
    /// List moderator accounts.
    List,
}

pub fn run(config: Option<&Path>, cmd: ModeratorCommand) -> Result<ExitCode> {
    let config = super::load_config(config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = crate::startup::open_store(&config).await?;
        let result = match cmd {
            ModeratorCommand::Add { name, role } => {
                let role = Role::parse(&role).expect("clap checked the role");
                let (m, token) = moderators::add(store.writer(), &name, role).await?;
                eprintln!(
                    "created {} `{}`; its API token (shown once):",
                    m.role.as_str(),
                    m.name
                );
                println!("{token}");
                Ok(())
            }
            ModeratorCommand::Passwd { name } => {
                let password = read_password()?;
                if password.chars().count() < 10 {
                    bail!("the password must be at least 10 characters");
                }
                moderators::set_password(store.writer(), &name, &password).await?;
                eprintln!("password set for `{name}`");
                Ok(())
            }
            ModeratorCommand::Token { name } => {
                let token = moderators::rotate_token(store.writer(), &name).await?;
                eprintln!("new API token for `{name}` (the old one no longer works):");
                println!("{token}");
                Ok(())
            }
            ModeratorCommand::List => {
                for m in moderators::list(store.reader()).await? {
                    println!("{}\t{}", m.name, m.role.as_str());
                }
                Ok(())
            }
        };
        store.close().await;
        result
    })?;
    Ok(ExitCode::SUCCESS)
}

fn read_password() -> Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")?;
        let second = rpassword::prompt_password("Repeat: ")?;
        if first != second {
            bail!("the passwords differ");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}
