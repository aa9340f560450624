//! Copying a whole SQLite database into an empty PostgreSQL one (`modgate
//! migrate-sqlite-to-postgres`), in one PostgreSQL transaction, then checking every table
//! row by row: the same number of rows and the same content digest on both sides.

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, SqlitePool};

use super::{DbError, Pool, Store};

/// Every table, parents before children (foreign keys hold at every insert).
pub const TABLES: [&str; 14] = [
    "articles",
    "authors",
    "moderators",
    "comments",
    "verdicts",
    "reports",
    "moderation_log",
    "console_sessions",
    "api_keys",
    "perspective_requests",
    "perspective_feedback",
    "webhook_events",
    "webhook_deliveries",
    "webhook_attempts",
];

/// Rows sent per INSERT.
const BATCH: usize = 1000;

/// One table as copied and as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    pub table: &'static str,
    pub rows: u64,
    /// SHA-256 over the rows' normalised JSON, order-independent (summed per row), the
    /// same on both sides or the copy fails.
    pub digest: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the source must be an SQLite database and the destination PostgreSQL")]
    Dialects,
    #[error("the destination is not empty: {table} has {rows} rows")]
    NotEmpty { table: &'static str, rows: i64 },
    #[error("{table}: {source_rows} rows in SQLite but {copied_rows} in PostgreSQL")]
    CountMismatch {
        table: &'static str,
        source_rows: u64,
        copied_rows: u64,
    },
    #[error(
        "{table}: the copied rows differ from the source (digest {source_digest} vs {copied_digest})"
    )]
    ContentMismatch {
        table: &'static str,
        source_digest: String,
        copied_digest: String,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Copy `src` (SQLite) into `dst` (PostgreSQL, migrated, empty), then verify.
pub async fn sqlite_to_postgres(src: &Store, dst: &Store) -> Result<Vec<TableCopy>, CopyError> {
    let (Pool::Sqlite(from), Pool::Postgres(to)) = (src.reader(), dst.writer()) else {
        return Err(CopyError::Dialects);
    };
    let mut tx = to.begin().await?;
    for table in TABLES {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut *tx)
            .await?;
        if rows > 0 {
            return Err(CopyError::NotEmpty { table, rows });
        }
    }
    for table in TABLES {
        let columns = columns(&mut tx, table).await?;
        copy_table(from, &mut tx, table, &columns).await?;
    }
    restart_identities(from, &mut tx).await?;
    tx.commit().await?;

    let mut report = Vec::with_capacity(TABLES.len());
    let mut conn = to.acquire().await?;
    for table in TABLES {
        let columns = columns(&mut conn, table).await?;
        let (source_rows, source_digest) = digest_sqlite(from, table, &columns).await?;
        let (copied_rows, copied_digest) = digest_postgres(&mut conn, table).await?;
        if source_rows != copied_rows {
            return Err(CopyError::CountMismatch {
                table,
                source_rows,
                copied_rows,
            });
        }
        if source_digest != copied_digest {
            return Err(CopyError::ContentMismatch {
                table,
                source_digest,
                copied_digest,
            });
        }
        report.push(TableCopy {
            table,
            rows: source_rows,
            digest: source_digest,
        });
    }
    Ok(report)
}

/// The destination's columns of `table`, in order (both schemas have the same ones).
async fn columns(conn: &mut PgConnection, table: &str) -> Result<Vec<String>, DbError> {
    sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(conn)
    .await
}

/// `json_object('a', a, 'b', b, …)` over `columns` (SQLite).
fn json_object(columns: &[String]) -> String {
    let pairs: Vec<String> = columns.iter().map(|c| format!("'{c}', {c}")).collect();
    format!("json_object({})", pairs.join(", "))
}

async fn copy_table(
    from: &SqlitePool,
    to: &mut PgConnection,
    table: &str,
    columns: &[String],
) -> Result<(), DbError> {
    let select = format!(
        "SELECT {} FROM {table} ORDER BY rowid",
        json_object(columns)
    );
    let insert = format!(
        "INSERT INTO {table} ({cols}) SELECT {cols} FROM jsonb_populate_recordset(NULL::{table}, $1::jsonb)",
        cols = columns.join(", ")
    );
    let mut rows = sqlx::query_scalar::<_, String>(&select).fetch(from);
    let mut batch: Vec<String> = Vec::with_capacity(BATCH);
    loop {
        let next = rows.try_next().await?;
        let done = next.is_none();
        if let Some(row) = next {
            batch.push(row);
        }
        if batch.len() == BATCH || (done && !batch.is_empty()) {
            let array = format!("[{}]", batch.join(","));
            sqlx::query(&insert).bind(array).execute(&mut *to).await?;
            batch.clear();
        }
        if done {
            return Ok(());
        }
    }
}

/// New ids continue after the largest one SQLite ever gave (its `sqlite_sequence`), so no
/// id is reused.
async fn restart_identities(from: &SqlitePool, to: &mut PgConnection) -> Result<(), DbError> {
    let used: Vec<(String, i64)> = sqlx::query_as("SELECT name, seq FROM sqlite_sequence")
        .fetch_all(from)
        .await?;
    let used: BTreeMap<String, i64> = used.into_iter().collect();
    let identities: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns
          WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'",
    )
    .fetch_all(&mut *to)
    .await?;
    for table in identities {
        let max: Option<i64> = sqlx::query_scalar(&format!("SELECT MAX(id) FROM {table}"))
            .fetch_one(&mut *to)
            .await?;
        let last = max.unwrap_or(0).max(used.get(&table).copied().unwrap_or(0));
        if last > 0 {
            sqlx::query("SELECT setval(pg_get_serial_sequence($1, 'id'), $2)")
                .bind(&table)
                .bind(last)
                .execute(&mut *to)
                .await?;
        }
    }
    Ok(())
}

/// Row count and order-independent digest of a table's rows as normalised JSON.
#[derive(Default)]
struct Digest256 {
    rows: u64,
    sum: [u64; 4],
}

impl Digest256 {
    fn add(&mut self, json: &str) -> Result<(), DbError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| DbError::Decode(Box::new(e)))?;
        // Keys sorted (serde_json's map), numbers as f64: SQLite writes 1.0 where
        // PostgreSQL writes 1, and both mean the same stored value.
        let canonical = normalise(value).to_string();
        let hash = Sha256::digest(canonical.as_bytes());
        for (i, chunk) in hash.chunks(8).enumerate() {
            let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            self.sum[i] = self.sum[i].wrapping_add(word);
        }
        self.rows += 1;
        Ok(())
    }

    fn finish(self) -> (u64, String) {
        let hex: String = self.sum.iter().map(|w| format!("{w:016x}")).collect();
        (self.rows, hex)
    }
}

fn normalise(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Number(n), Value::Number),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, normalise(v))).collect()),
        Value::Array(a) => Value::Array(a.into_iter().map(normalise).collect()),
        other => other,
    }
}

async fn digest_sqlite(
    from: &SqlitePool,
    table: &str,
    columns: &[String],
) -> Result<(u64, String), DbError> {
    let select = format!("SELECT {} FROM {table}", json_object(columns));
    let mut rows = sqlx::query_scalar::<_, String>(&select).fetch(from);
    let mut digest = Digest256::default();
    while let Some(row) = rows.try_next().await? {
        digest.add(&row)?;
    }
    Ok(digest.finish())
}

async fn digest_postgres(to: &mut PgConnection, table: &str) -> Result<(u64, String), DbError> {
    let select = format!("SELECT to_jsonb(t)::text FROM {table} t");
    let mut rows = sqlx::query_scalar::<_, String>(&select).fetch(&mut *to);
    let mut digest = Digest256::default();
    while let Some(row) = rows.try_next().await? {
        digest.add(&row)?;
    }
    Ok(digest.finish())
}
