//! Moderator decisions and the append-only moderation log.

use serde::Serialize;
use sqlx::{Row, SqliteExecutor};

use super::{DbError, authors, comments, now};
use crate::domain::Status;
use crate::domain::events::{Decided, EventData, ModeratorRef};
use crate::domain::moderation::{AuthorAction, DecisionAction};

#[derive(Debug, Clone, Default)]
pub struct LogEntry {
    pub comment_id: Option<i64>,
    pub author_key: Option<String>,
    pub moderator_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub old_status: Option<String>,
    pub new_status: Option<String>,
}

pub async fn append(db: impl SqliteExecutor<'_>, e: &LogEntry) -> Result<i64, DbError> {
    let id = sqlx::query(
        "INSERT INTO moderation_log (comment_id, author_key, moderator_id, actor, action, reason, note, old_status, new_status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(e.comment_id)
    .bind(&e.author_key)
    .bind(e.moderator_id)
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.reason)
    .bind(&e.note)
    .bind(&e.old_status)
    .bind(&e.new_status)
    .bind(now())
    .execute(db)
    .await?
    .last_insert_rowid();
    Ok(id)
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct LogRow {
    pub id: i64,
    pub comment_id: Option<i64>,
    pub author_key: Option<String>,
    pub actor: String,
    pub action: String,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub old_status: Option<String>,
    pub new_status: Option<String>,
    pub created_at: String,
}

/// Newest first; `before` is the id cursor from the previous page.
pub async fn list(
    db: &sqlx::SqlitePool,
    before: Option<i64>,
    limit: i64,
    comment_id: Option<i64>,
) -> Result<Vec<LogRow>, DbError> {
    let rows = sqlx::query(
        "SELECT id, comment_id, author_key, actor, action, reason, note, old_status, new_status, created_at
         FROM moderation_log
         WHERE (?1 IS NULL OR id < ?1) AND (?2 IS NULL OR comment_id = ?2)
         ORDER BY id DESC LIMIT ?3",
    )
    .bind(before)
    .bind(comment_id)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(|r| LogRow {
            id: r.get("id"),
            comment_id: r.get("comment_id"),
            author_key: r.get("author_key"),
            actor: r.get("actor"),
            action: r.get("action"),
            reason: r.get("reason"),
            note: r.get("note"),
            old_status: r.get("old_status"),
            new_status: r.get("new_status"),
            created_at: r.get("created_at"),
        })
        .collect())
}

/// Who is deciding: a moderator, or the system (re-scoring).
#[derive(Debug, Clone)]
pub struct Actor {
    pub moderator_id: Option<i64>,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error("comment not found")]
    NotFound,
    #[error("cannot {action} a comment that is {from}")]
    InvalidTransition { action: &'static str, from: Status },
    #[error("the comment is now {current}, not {expected}: someone else decided it first")]
    StatusChanged { expected: Status, current: Status },
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct DecisionOutcome {
    pub id: i64,
    pub old_status: Status,
    pub status: Status,
    pub log_id: i64,
}

/// Apply a moderator decision to one comment inside `conn`'s transaction. With `expected`
/// (the status the moderator saw), a comment whose status has changed since is refused,
/// so two moderators' decisions on one comment cannot both apply (approve then remove).
pub async fn decide_in(
    conn: &mut sqlx::SqliteConnection,
    comment_id: i64,
    action: DecisionAction,
    expected: Option<Status>,
    reason: Option<&str>,
    note: Option<&str>,
    actor: &Actor,
) -> Result<DecisionOutcome, DecisionError> {
    let comment = comments::get(&mut *conn, comment_id)
        .await?
        .ok_or(DecisionError::NotFound)?;
    if let Some(expected) = expected.filter(|e| *e != comment.status) {
        return Err(DecisionError::StatusChanged {
            expected,
            current: comment.status,
        });
    }
    let new_status = action.transition(comment.status, comment.reported).ok_or(
        DecisionError::InvalidTransition {
            action: action.as_str(),
            from: comment.status,
        },
    )?;
    let t = now();
    sqlx::query(
        "UPDATE comments SET status = ?, reported = 0, moderated_by = ?, moderated_at = ?, updated_at = ?
         WHERE id = ?",
    )
    .bind(new_status.as_str())
    .bind(actor.moderator_id)
    .bind(&t)
    .bind(&t)
    .bind(comment_id)
    .execute(&mut *conn)
    .await?;
    let log_id = append(
        &mut *conn,
        &LogEntry {
            comment_id: Some(comment_id),
            author_key: Some(comment.author_key.clone()),
            moderator_id: actor.moderator_id,
            actor: actor.name.clone(),
            action: action.as_str().into(),
            reason: reason.map(Into::into),
            note: note.map(Into::into),
            old_status: Some(comment.status.as_str().into()),
            new_status: Some(new_status.as_str().into()),
        },
    )
    .await?;
    let outcome = DecisionOutcome {
        id: comment_id,
        old_status: comment.status,
        status: new_status,
        log_id,
    };
    let decided = Decided {
        action: action.as_str().to_string(),
        old_status: outcome.old_status,
        new_status: outcome.status,
        reason: reason.map(str::to_string),
        note: note.map(str::to_string),
        moderator: actor.moderator_id.map(|id| ModeratorRef {
            id,
            name: actor.name.clone(),
        }),
        actor: actor.name.clone(),
    };
    super::outbox::enqueue(&mut *conn, comment_id, &EventData::Decided(decided)).await?;
    Ok(outcome)
}

pub async fn decide(
    db: &sqlx::SqlitePool,
    comment_id: i64,
    action: DecisionAction,
    reason: Option<&str>,
    note: Option<&str>,
    actor: &Actor,
) -> Result<DecisionOutcome, DecisionError> {
    let mut tx = db.begin().await?;
    let outcome = decide_in(&mut tx, comment_id, action, None, reason, note, actor).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Change an author's standing and log it. `Ok(None)` when the author is unknown.
pub async fn set_author_standing(
    db: &sqlx::SqlitePool,
    author_key: &str,
    action: AuthorAction,
    reason: Option<&str>,
    note: Option<&str>,
    actor: &Actor,
) -> Result<Option<authors::Author>, DbError> {
    let (flag, value) = match action {
        AuthorAction::Ban => (authors::StandingFlag::Banned, true),
        AuthorAction::Unban => (authors::StandingFlag::Banned, false),
        AuthorAction::Premoderate => (authors::StandingFlag::Premoderated, true),
        AuthorAction::Unpremoderate => (authors::StandingFlag::Premoderated, false),
    };
    let mut tx = db.begin().await?;
    let Some(_old) = authors::set_flag(&mut tx, author_key, flag, value).await? else {
        return Ok(None);
    };
    append(
        &mut *tx,
        &LogEntry {
            comment_id: None,
            author_key: Some(author_key.to_string()),
            moderator_id: actor.moderator_id,
            actor: actor.name.clone(),
            action: action.as_str().into(),
            reason: reason.map(Into::into),
            note: note.map(Into::into),
            old_status: None,
            new_status: None,
        },
    )
    .await?;
    tx.commit().await?;
    authors::get(db, author_key).await
}
