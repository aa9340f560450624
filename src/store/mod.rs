//! Storage, one module per aggregate, on SQLite (the embedded default) or PostgreSQL (for
//! several instances sharing one database). Queries are written once where the dialects
//! agree ([`on_pool`], [`on_conn`] compile a body for each); where they differ, both
//! versions sit side by side in the module that owns the query.
//!
//! On SQLite, writes go through a single-connection pool (SQLite has one writer anyway;
//! this avoids `SQLITE_BUSY` between our own writers), reads through a separate pool.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};

/// Run `$body` once per dialect with `$c` bound to that dialect's pool: the body is
/// written once and type-checked against SQLite and PostgreSQL both.
#[macro_export]
macro_rules! on_pool {
    ($pool:expr, $c:ident => $body:expr) => {
        match $pool {
            $crate::store::Pool::Sqlite($c) => $body,
            $crate::store::Pool::Postgres($c) => $body,
        }
    };
}

/// As [`on_pool`], with `$c` bound to the dialect's `&mut` connection (use `&mut *$c`).
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn.re() {
            $crate::store::Conn::Sqlite($c) => $body,
            $crate::store::Conn::Postgres($c) => $body,
        }
    };
}

pub mod apikeys;
pub mod articles;
pub mod authors;
pub mod comments;
pub mod copy;
pub mod db;
pub mod decisions;
pub mod feedback;
pub mod moderation;
pub mod moderators;
pub mod outbox;
pub mod queue;
pub mod reports;
pub mod rescore;
pub mod sessions;
pub mod verdicts;
pub mod versions;
pub mod writer;

pub use db::{Conn, Dialect, Pool, PoolConn, Tx};
pub use sqlx::Error as DbError;

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Where the data lives: an SQLite file (one process, the embedded default) or a
/// PostgreSQL database (shared by several instances).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL URL, and the most connections this process keeps open to it.
    Postgres {
        url: String,
        max_connections: u32,
    },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            // Never print a password.
            Location::Postgres { url, .. } => match url::Url::parse(url) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    write!(f, "{u}")
                }
                Err(_) => write!(f, "postgres://…"),
            },
        }
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    write: Pool,
    read: Pool,
    versions: Arc<versions::ThreadVersions>,
    /// SQLite only: for the background checkpointer's own connection.
    sqlite_options: Option<SqliteConnectOptions>,
}

impl Store {
    /// Open the database at `location`, creating an SQLite file if missing, and apply
    /// migrations.
    pub async fn connect(location: &Location) -> Result<Store, DbError> {
        match location {
            Location::Sqlite(path) => Store::open(path).await,
            Location::Postgres {
                url,
                max_connections,
            } => Store::open_postgres(url, *max_connections).await,
        }
    }

    /// Open (creating if missing) an SQLite database file and apply migrations.
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
        SQLITE_MIGRATOR.run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone().read_only(true))
            .await?;
        Ok(Store {
            write: Pool::Sqlite(write),
            read: Pool::Sqlite(read),
            versions,
            sqlite_options: Some(options),
        })
    }

    /// Connect to a PostgreSQL database (`postgres://user:password@host:port/name`) and
    /// apply migrations. Several instances may share it: migrations take PostgreSQL's
    /// advisory lock, so instances starting together apply them once.
    pub async fn open_postgres(url: &str, max_connections: u32) -> Result<Store, DbError> {
        let options = PgConnectOptions::from_str(url)?.application_name("modgate");
        // Unlike SQLite, PostgreSQL takes concurrent writers; one pool serves writes and
        // reads. The writer path still groups comment inserts (one commit per group).
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        POSTGRES_MIGRATOR.run(&pool).await?;
        let versions = Arc::new(versions::ThreadVersions::default());
        // Until the listener (`versions::watch`) is in place, nothing is served from cache.
        versions.blind();
        Ok(Store {
            write: Pool::Postgres(pool.clone()),
            read: Pool::Postgres(pool),
            versions,
            sqlite_options: None,
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.write.dialect()
    }

    /// Move WAL checkpoints off the writer: SQLite otherwise copies the WAL into the
    /// database file (and syncs it) inside the COMMIT that crosses 1,000 pages, on the
    /// single writer's path. A separate connection checkpoints every `every` instead
    /// (PASSIVE: it never waits for, nor blocks, the writer or readers) until the store
    /// closes. It changes no rows. Durability is unchanged: a commit is durable once it is
    /// in the WAL. Nothing to do on PostgreSQL, which checkpoints by itself.
    pub async fn checkpoint_in_background(&self, every: Duration) -> Result<(), DbError> {
        let (Some(options), Pool::Sqlite(write)) = (&self.sqlite_options, &self.write) else {
            return Ok(());
        };
        let mut conn = SqliteConnection::connect_with(options).await?;
        sqlx::query("PRAGMA wal_autocheckpoint = 0")
            .execute(write)
            .await?;
        let write = write.clone();
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

    pub fn writer(&self) -> &Pool {
        &self.write
    }

    pub fn reader(&self) -> &Pool {
        &self.read
    }

    /// Versions of the public threads, for caching them (see `versions`).
    pub fn versions(&self) -> &versions::ThreadVersions {
        &self.versions
    }

    /// True when the database takes writes (for `/readyz`).
    pub async fn is_writable(&self) -> bool {
        let check = async {
            let mut conn = self.write.acquire().await?;
            match conn.conn() {
                Conn::Sqlite(c) => {
                    sqlx::query("BEGIN IMMEDIATE").execute(&mut *c).await?;
                    sqlx::query("ROLLBACK").execute(&mut *c).await?;
                }
                // A standby answers reads but refuses writes.
                Conn::Postgres(c) => {
                    let standby: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
                        .fetch_one(&mut *c)
                        .await?;
                    if standby {
                        return Err(DbError::Protocol("database is a read-only standby".into()));
                    }
                }
            }
            Ok::<_, DbError>(())
        };
        tokio::time::timeout(Duration::from_secs(2), check)
            .await
            .is_ok_and(|r| r.is_ok())
    }

    pub async fn close(&self) {
        self.read.close().await;
        if let Pool::Sqlite(write) = &self.write {
            // Checkpoint so the WAL is folded into the main file on a clean shutdown.
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(write)
                .await;
        }
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
