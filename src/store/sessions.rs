//! Moderator console sessions, stored by the SHA-256 of their cookie secret (the web
//! layer makes and checks the secrets; see `web::session`).

use super::moderators::{Moderator, Role};
use super::{DbError, Pool};

/// A new session row. Times are RFC 3339 (see [`super::now`]).
pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub moderator_id: i64,
    pub created_at: &'a str,
    pub expires_at: &'a str,
    pub user_agent: Option<&'a str>,
}

/// Delete sessions expired at `now` or idle since `idle_since`, then store `new`.
pub async fn create(
    db: &Pool,
    new: &NewSession<'_>,
    now: &str,
    idle_since: &str,
) -> Result<(), DbError> {
    on_pool!(db, p => {
        sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(now)
            .bind(idle_since)
            .execute(p)
            .await?;
    });
    on_pool!(db, p => {
        sqlx::query(
            "INSERT INTO console_sessions (id_hash, moderator_id, created_at, last_seen_at, expires_at, user_agent)
             VALUES ($1, $2, $3, $3, $4, $5)",
        )
        .bind(new.id_hash)
        .bind(new.moderator_id)
        .bind(new.created_at)
        .bind(new.expires_at)
        .bind(new.user_agent)
        .execute(p)
        .await?;
    });
    Ok(())
}

/// The moderator of a live session (enabled, not expired at `now`, seen after
/// `idle_since`) and when it was last seen.
pub async fn live(
    db: &Pool,
    id_hash: &str,
    now: &str,
    idle_since: &str,
) -> Result<Option<(Moderator, String)>, DbError> {
    let row: Option<(i64, String, String, String)> = on_pool!(db, p => {
        sqlx::query_as(
            "SELECT m.id, m.name, m.role, s.last_seen_at FROM console_sessions s
             JOIN moderators m ON m.id = s.moderator_id
             WHERE s.id_hash = $1 AND m.disabled = 0 AND s.expires_at > $2 AND s.last_seen_at > $3",
        )
        .bind(id_hash)
        .bind(now)
        .bind(idle_since)
        .fetch_optional(p)
        .await?
    });
    Ok(row.map(|(id, name, role, last_seen)| {
        let role = Role::parse(&role).unwrap_or(Role::Moderator);
        (Moderator { id, name, role }, last_seen)
    }))
}

/// Record that the session was used at `now` (its idle timer restarts).
pub async fn touch(db: &Pool, id_hash: &str, now: &str) -> Result<(), DbError> {
    on_pool!(db, p => {
        sqlx::query("UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(id_hash)
            .execute(p)
            .await?;
    });
    Ok(())
}

pub async fn delete(db: &Pool, id_hash: &str) -> Result<(), DbError> {
    on_pool!(db, p => {
        sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(p)
            .await?;
    });
    Ok(())
}
