//! SQLite storage, one module per aggregate. Writes go through a single-connection pool
//! (SQLite has one writer anyway; this avoids `SQLITE_BUSY` between our own writers),
//! reads through a separate pool.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Connection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

pub mod apikeys;
pub mod articles;
pub mod authors;
pub mod comments;
pub mod decisions;
pub mod feedback;
pub mod moderation;
pub mod moderators;
pub mod outbox;
pub mod queue;
pub mod reports;
pub mod rescore;
pub mod verdicts;
pub mod versions;
pub mod writer;

pub use sqlx::Error as DbError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug)]
pub struct Store {
    write: SqlitePool,
    read: SqlitePool,
    versions: Arc<versions::ThreadVersions>,
    options: SqliteConnectOptions,
}

impl Store {
    /// Open (creating if missing) the database file and apply migrations.
    pub async fn open(path: &Path) -> Result<Store, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(DbError::Io)?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            // WAL: readers never block the writer. synchronous=FULL: an acknowledged
            // comment survives power loss, not just a process crash.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // No ping on every acquire (sqlx's default): an in-process SQLite connection cannot
        // drop, and the ping is one more round trip to the connection's worker thread.
        // Every row this process changes goes through this one connection: its update
        // hook feeds the thread versions (see `versions`). Kept open for good, so the
        // `PRAGMA data_version` baseline stays meaningful.
        let versions = Arc::new(versions::ThreadVersions::default());
        let hooked = Arc::clone(&versions);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                let versions = Arc::clone(&hooked);
                Box::pin(async move {
                    versions.connected();
                    let mut handle = conn.lock_handle().await?;
                    handle.set_update_hook(move |change| {
                        versions.row_changed(change.table, change.rowid);
                    });
                    Ok(())
                })
            })
            // Statement journals (a multi-row INSERT needs one) in memory rather than in a
            // temporary file; a larger page cache than the default 2 MB, so that commit
            // groups do not re-read their index pages from the file.
            .connect_with(
                options
                    .clone()
                    .pragma("temp_store", "memory")
                    .pragma("cache_size", "-16384"),
            )
            .await?;
        MIGRATOR.run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone().read_only(true))
            .await?;
        Ok(Store {
            write,
            read,
            versions,
            options,
        })
    }

    /// Move WAL checkpoints off the writer: SQLite otherwise copies the WAL into the
    /// database file (and syncs it) inside the COMMIT that crosses 1,000 pages, on the
    /// single writer's path. A separate connection checkpoints every `every` instead
    /// (PASSIVE: it never waits for, nor blocks, the writer or readers) until the store
    /// closes. It changes no rows. Durability is unchanged: a commit is durable once it is
    /// in the WAL.
    pub async fn checkpoint_in_background(&self, every: Duration) -> Result<(), DbError> {
        let mut conn = SqliteConnection::connect_with(&self.options).await?;
        sqlx::query("PRAGMA wal_autocheckpoint = 0")
            .execute(&self.write)
            .await?;
        let write = self.write.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if write.is_closed() {
                    break;
                }
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&mut conn)
                    .await
                {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
            }
            let _ = conn.close().await;
        });
        Ok(())
    }

    pub fn writer(&self) -> &SqlitePool {
        &self.write
    }

    pub fn reader(&self) -> &SqlitePool {
        &self.read
    }

    /// Versions of the public threads, for caching them (see `versions`).
    pub fn versions(&self) -> &versions::ThreadVersions {
        &self.versions
    }

    /// True when the database takes the write lock (for `/readyz`).
    pub async fn is_writable(&self) -> bool {
        let check = async {
            let mut conn = self.write.acquire().await?;
            sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
            sqlx::query("ROLLBACK").execute(&mut *conn).await?;
            Ok::<_, DbError>(())
        };
        tokio::time::timeout(Duration::from_secs(2), check)
            .await
            .is_ok_and(|r| r.is_ok())
    }

    pub async fn close(&self) {
        self.read.close().await;
        // Checkpoint so the WAL is folded into the main file on a clean shutdown.
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.write)
            .await;
        self.write.close().await;
    }
}

/// Current UTC time as RFC 3339 with milliseconds (sorts correctly as text).
pub fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

pub fn format_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}
