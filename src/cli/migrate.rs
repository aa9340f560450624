//! `modgate migrate-sqlite-to-postgres SRC DST`: move an installation from its SQLite file
//! to PostgreSQL (before running several instances), nothing lost: every table copied in
//! one transaction, then checked row count and content per table.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::store::{Store, copy};

#[derive(clap::Args)]
pub struct MigrateArgs {
    /// The SQLite database file to copy (left unchanged).
    pub src: PathBuf,
    /// The PostgreSQL database to copy into: postgres://user:password@host:port/database.
    /// Migrated if needed; must hold no rows.
    pub dst: String,
}

/// Prints one line per table (rows, digest) on stdout.
pub fn run(args: MigrateArgs) -> Result<ExitCode> {
    if !args.src.is_file() {
        anyhow::bail!("SRC: {} is not an SQLite database file", args.src.display());
    }
    if !crate::config::is_postgres_url(&args.dst) {
        anyhow::bail!("DST must be a PostgreSQL URL (postgres://user:password@host:port/database)");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let src = Store::open(&args.src)
            .await
            .with_context(|| format!("opening {}", args.src.display()))?;
        let location = crate::store::Location::Postgres {
            url: args.dst.clone(),
            max_connections: 4,
        };
        let dst = Store::connect(&location)
            .await
            .with_context(|| format!("opening {location}"))?;
        let copied = copy::sqlite_to_postgres(&src, &dst).await;
        src.close().await;
        dst.close().await;
        let copied = copied?;
        for t in &copied {
            println!("{}\t{} rows\t{}", t.table, t.rows, t.digest);
        }
        let rows: u64 = copied.iter().map(|t| t.rows).sum();
        eprintln!(
            "copied {rows} rows in {} tables; every table's row count and content checked",
            copied.len()
        );
        Ok(ExitCode::SUCCESS)
    })
}
