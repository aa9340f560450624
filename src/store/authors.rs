//! Authors' standing (banned, pre-moderated) and history.

use serde::Serialize;
use sqlx::{Row, SqliteExecutor};

use super::{DbError, now};
use crate::domain::AuthorStanding;

#[derive(Debug, Clone, Serialize, PartialEq, Default, utoipa::ToSchema)]
pub struct AuthorHistory {
    pub published: i64,
    pub pending: i64,
    pub removed: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Author {
    pub key: String,
    pub name: String,
    pub banned: bool,
    pub premoderated: bool,
    pub history: AuthorHistory,
}

pub async fn standing(db: impl SqliteExecutor<'_>, key: &str) -> Result<AuthorStanding, DbError> {
    let row = sqlx::query("SELECT banned, premoderated FROM authors WHERE key = ?")
        .bind(key)
        .fetch_optional(db)
        .await?;
    Ok(row
        .map(|r| AuthorStanding {
            banned: r.get::<i64, _>("banned") != 0,
            premoderated: r.get::<i64, _>("premoderated") != 0,
        })
        .unwrap_or_default())
}

pub async fn ensure(db: impl SqliteExecutor<'_>, key: &str, name: &str) -> Result<(), DbError> {
    let t = now();
    sqlx::query(
        "INSERT INTO authors (key, display_name, created_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(name)
    .bind(&t)
    .bind(&t)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn get(db: &sqlx::SqlitePool, key: &str) -> Result<Option<Author>, DbError> {
    let Some(row) =
        sqlx::query("SELECT key, display_name, banned, premoderated FROM authors WHERE key = ?")
            .bind(key)
            .fetch_optional(db)
            .await?
    else {
        return Ok(None);
    };
    let history = history(db, key).await?;
    Ok(Some(Author {
        key: row.get("key"),
        name: row.get("display_name"),
        banned: row.get::<i64, _>("banned") != 0,
        premoderated: row.get::<i64, _>("premoderated") != 0,
        history,
    }))
}

pub async fn history(db: impl SqliteExecutor<'_>, key: &str) -> Result<AuthorHistory, DbError> {
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS n FROM comments WHERE author_key = ? GROUP BY status",
    )
    .bind(key)
    .fetch_all(db)
    .await?;
    let mut h = AuthorHistory::default();
    for r in rows {
        let n: i64 = r.get("n");
        match r.get::<String, _>("status").as_str() {
            "published" => h.published = n,
            "pending" => h.pending = n,
            "removed" => h.removed = n,
            _ => {}
        }
    }
    Ok(h)
}

/// Set a standing flag; returns the previous value, or `None` if the author is unknown.
pub async fn set_flag(
    conn: &mut sqlx::SqliteConnection,
    key: &str,
    flag: StandingFlag,
    value: bool,
) -> Result<Option<bool>, DbError> {
    let before = standing(&mut *conn, key).await?;
    let exists = sqlx::query("SELECT 1 FROM authors WHERE key = ?")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    if !exists {
        return Ok(None);
    }
    // The statement is chosen by the enum, never built from input.
    let (sql, old) = match flag {
        StandingFlag::Banned => (
            "UPDATE authors SET banned = ?, updated_at = ? WHERE key = ?",
            before.banned,
        ),
        StandingFlag::Premoderated => (
            "UPDATE authors SET premoderated = ?, updated_at = ? WHERE key = ?",
            before.premoderated,
        ),
    };
    sqlx::query(sql)
        .bind(value as i64)
        .bind(now())
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(Some(old))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandingFlag {
    Banned,
    Premoderated,
}
