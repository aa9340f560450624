//! Moderator decisions and the append-only moderation log.

use serde::Serialize;

use super::{Conn, DbError, Pool, authors, comments, now};
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

pub async fn append(mut conn: Conn<'_>, e: &LogEntry) -> Result<i64, DbError> {
    let id = on_conn!(conn, c => {
        sqlx::query_scalar(
            "INSERT INTO moderation_log (comment_id, author_key, moderator_id, actor, action, reason, note, old_status, new_status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
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
        .fetch_one(&mut *c)
        .await?
    });
    Ok(id)
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema, sqlx::FromRow)]
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
    db: &Pool,
    before: Option<i64>,
    limit: i64,
    comment_id: Option<i64>,
) -> Result<Vec<LogRow>, DbError> {
    Ok(on_pool!(db, p => {
        sqlx::query_as(
            "SELECT id, comment_id, author_key, actor, action, reason, note, old_status, new_status, created_at
             FROM moderation_log
             WHERE ($1 IS NULL OR id < $1) AND ($2 IS NULL OR comment_id = $2)
             ORDER BY id DESC LIMIT $3",
        )
        .bind(before)
        .bind(comment_id)
        .bind(limit)
        .fetch_all(p)
        .await?
    }))
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
    mut conn: Conn<'_>,
    comment_id: i64,
    action: DecisionAction,
    expected: Option<Status>,
    reason: Option<&str>,
    note: Option<&str>,
    actor: &Actor,
) -> Result<DecisionOutcome, DecisionError> {
    let comment = comments::get_for_update(conn.re(), comment_id)
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
    on_conn!(conn, c => {
        sqlx::query(
            "UPDATE comments SET status = $1, reported = 0, moderated_by = $2, moderated_at = $3, updated_at = $4
             WHERE id = $5",
        )
        .bind(new_status.as_str())
        .bind(actor.moderator_id)
        .bind(&t)
        .bind(&t)
        .bind(comment_id)
        .execute(&mut *c)
        .await?;
    });
    let log_id = append(
        conn.re(),
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
    super::outbox::enqueue(conn, comment_id, &EventData::Decided(decided)).await?;
    Ok(outcome)
}

pub async fn decide(
    db: &Pool,
    comment_id: i64,
    action: DecisionAction,
    reason: Option<&str>,
    note: Option<&str>,
    actor: &Actor,
) -> Result<DecisionOutcome, DecisionError> {
    let mut tx = db.begin().await?;
    let outcome = decide_in(tx.conn(), comment_id, action, None, reason, note, actor).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Change an author's standing and log it. `Ok(None)` when the author is unknown.
pub async fn set_author_standing(
    db: &Pool,
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
    let Some(_old) = authors::set_flag(tx.conn(), author_key, flag, value).await? else {
        return Ok(None);
    };
    append(
        tx.conn(),
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
    authors::get(db.acquire().await?.conn(), author_key).await
}
