//! Authors' standing (banned, pre-moderated) and history.

use serde::Serialize;

use super::{Conn, DbError, now};
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

pub async fn standing(mut conn: Conn<'_>, key: &str) -> Result<AuthorStanding, DbError> {
    let row: Option<(i64, i64)> = on_conn!(conn, c => {
        sqlx::query_as("SELECT banned, premoderated FROM authors WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(row
        .map(|(banned, premoderated)| AuthorStanding {
            banned: banned != 0,
            premoderated: premoderated != 0,
        })
        .unwrap_or_default())
}

pub async fn ensure(mut conn: Conn<'_>, key: &str, name: &str) -> Result<(), DbError> {
    let t = now();
    on_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO authors (key, display_name, created_at, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(name)
        .bind(&t)
        .bind(&t)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

pub async fn get(mut conn: Conn<'_>, key: &str) -> Result<Option<Author>, DbError> {
    let row: Option<(String, String, i64, i64)> = on_conn!(conn, c => {
        sqlx::query_as("SELECT key, display_name, banned, premoderated FROM authors WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *c)
            .await?
    });
    let Some((key, name, banned, premoderated)) = row else {
        return Ok(None);
    };
    let history = history(conn, &key).await?;
    Ok(Some(Author {
        key,
        name,
        banned: banned != 0,
        premoderated: premoderated != 0,
        history,
    }))
}

pub async fn history(mut conn: Conn<'_>, key: &str) -> Result<AuthorHistory, DbError> {
    let rows: Vec<(String, i64)> = on_conn!(conn, c => {
        sqlx::query_as(
            "SELECT status, COUNT(*) AS n FROM comments WHERE author_key = $1 GROUP BY status",
        )
        .bind(key)
        .fetch_all(&mut *c)
        .await?
    });
    let mut h = AuthorHistory::default();
    for (status, n) in rows {
        match status.as_str() {
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
    mut conn: Conn<'_>,
    key: &str,
    flag: StandingFlag,
    value: bool,
) -> Result<Option<bool>, DbError> {
    let before = standing(conn.re(), key).await?;
    let exists = on_conn!(conn, c => {
        sqlx::query("SELECT 1 FROM authors WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *c)
            .await?
            .is_some()
    });
    if !exists {
        return Ok(None);
    }
    // The statement is chosen by the enum, never built from input.
    let (sql, old) = match flag {
        StandingFlag::Banned => (
            "UPDATE authors SET banned = $1, updated_at = $2 WHERE key = $3",
            before.banned,
        ),
        StandingFlag::Premoderated => (
            "UPDATE authors SET premoderated = $1, updated_at = $2 WHERE key = $3",
            before.premoderated,
        ),
    };
    on_conn!(conn, c => {
        sqlx::query(sql)
            .bind(value as i64)
            .bind(now())
            .bind(key)
            .execute(&mut *c)
            .await?;
    });
    Ok(Some(old))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandingFlag {
    Banned,
    Premoderated,
}
