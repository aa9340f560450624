//! Reading comments to re-score and applying new system verdicts to them.

use serde::Serialize;

use super::{DbError, Pool, authors, moderation, now, verdicts};
use crate::domain::AuthorStanding;
use crate::domain::events::{Decided, EventData, Held};
use crate::domain::{Status, Verdict};

/// This instance's turn at recovering unscored comments (see [`recovery_turn`]).
pub struct RecoveryTurn {
    _lock: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
}

/// Advisory lock key of the recovery of unscored comments ("modgate" + 1).
const RECOVERY_LOCK: i64 = 0x6d6f_6467_6174_6501;

/// Whether this instance may recover unscored comments now. On PostgreSQL, instances take
/// turns under a session advisory lock, so each comment is scored by one of them; the lock
/// lives on a connection that is closed, not pooled, when the turn is dropped, so it
/// cannot outlive the turn whatever ends it. Always yes on SQLite (one process).
pub async fn recovery_turn(db: &Pool) -> Result<Option<RecoveryTurn>, DbError> {
    match db {
        Pool::Sqlite(_) => Ok(Some(RecoveryTurn { _lock: None })),
        Pool::Postgres(p) => {
            let mut conn = p.acquire().await?;
            conn.close_on_drop();
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(RECOVERY_LOCK)
                .fetch_one(&mut *conn)
                .await?;
            Ok(got.then_some(RecoveryTurn { _lock: Some(conn) }))
        }
    }
}

/// A comment that may be re-scored: never one a moderator has decided on.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub body: String,
    pub status: Status,
    pub author: AuthorStanding,
}

/// Candidates in `status` (all states when `None`) with id above `after`, oldest first.
/// `only_unscored` restricts to comments whose latest verdict failed to score.
pub async fn candidates(
    db: &Pool,
    status: Option<Status>,
    only_unscored: bool,
    after: i64,
    limit: i64,
) -> Result<Vec<Candidate>, DbError> {
    let rows: Vec<(i64, String, String, String)> = on_pool!(db, p => {
        sqlx::query_as(
            "SELECT c.id, c.body, c.status, c.author_key FROM comments c
             WHERE c.moderated_by IS NULL AND c.id > $1 AND ($2 IS NULL OR c.status = $2)
               AND ($3 = 0 OR EXISTS (
                    SELECT 1 FROM verdicts v WHERE v.id = (SELECT MAX(id) FROM verdicts WHERE comment_id = c.id)
                      AND v.reasons LIKE '%\"kind\":\"unscored\"%'))
             ORDER BY c.id LIMIT $4",
        )
        .bind(after)
        .bind(status.map(Status::as_str))
        .bind(only_unscored as i64)
        .bind(limit)
        .fetch_all(p)
        .await?
    });
    let mut out = Vec::with_capacity(rows.len());
    let mut conn = db.acquire().await?;
    for (id, body, status, key) in rows {
        out.push(Candidate {
            id,
            body,
            status: Status::parse(&status).unwrap_or(Status::Pending),
            author: authors::standing(conn.conn(), &key).await?,
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub id: i64,
    pub old_status: Status,
    pub new_status: Status,
    pub verdict: Verdict,
}

/// Store a new system verdict for a comment and move it to the verdict's status.
/// Skips (returns false) if a moderator decided on it meanwhile, or, with
/// `only_if_unscored`, if its latest verdict is no longer an unscored one: several
/// instances recovering unscored comments at once then apply one new verdict each, not one
/// per instance (the comment's row lock orders them on PostgreSQL).
pub async fn apply(db: &Pool, change: &Change, only_if_unscored: bool) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    // Locked on PostgreSQL until COMMIT: a moderator's decision through another instance
    // waits for this change or wins before it (then `moderated_by` is set and this skips).
    let Some(comment) = super::comments::get_for_update(c.re(), change.id).await? else {
        return Ok(false);
    };
    if comment.moderated_by.is_some() {
        return Ok(false);
    }
    if only_if_unscored {
        let latest = verdicts::latest(c.re(), change.id).await?;
        let unscored = latest.is_some_and(|v| {
            v.reasons
                .iter()
                .any(|r| matches!(r, crate::domain::Reason::Unscored { .. }))
        });
        if !unscored {
            return Ok(false);
        }
    }
    let current = comment.status;
    verdicts::insert(c.re(), change.id, &change.verdict).await?;
    let max_score = change
        .verdict
        .scores
        .0
        .iter()
        .copied()
        .fold(0.0f32, f32::max);
    // The language too: comments stored before detection existed get theirs here.
    let language = change.verdict.language.map(|l| l.code());
    on_conn!(c, c => {
        sqlx::query(
            "UPDATE comments SET status = $1, max_score = $2, language = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(change.new_status.as_str())
        .bind(max_score as f64)
        .bind(language)
        .bind(now())
        .bind(change.id)
        .execute(&mut *c)
        .await?;
    });
    if current != change.new_status {
        moderation::append(
            c.re(),
            &moderation::LogEntry {
                comment_id: Some(change.id),
                actor: "system".into(),
                action: "rescore".into(),
                note: Some(super::comments::reasons_summary(&change.verdict.reasons)),
                old_status: Some(current.as_str().into()),
                new_status: Some(change.new_status.as_str().into()),
                ..Default::default()
            },
        )
        .await?;
    }
    // A move to `pending` is a hold; any other change a decision by the system.
    let event = if current == change.new_status {
        None
    } else if change.new_status == Status::Pending {
        Some(EventData::Held(Held::by_rescore(&change.verdict.reasons)))
    } else {
        Some(EventData::Decided(Decided {
            action: "rescore".into(),
            old_status: current,
            new_status: change.new_status,
            reason: None,
            note: Some(super::comments::reasons_summary(&change.verdict.reasons)),
            moderator: None,
            actor: "system".into(),
        }))
    };
    if let Some(event) = event {
        super::outbox::enqueue(c, change.id, &event).await?;
    }
    tx.commit().await?;
    Ok(true)
}
