//! Verdicts: one row per scoring of a comment, with everything that decided it.

use serde::Serialize;
use sqlx::{Row, SqliteExecutor};

use super::{DbError, now};
use crate::domain::Reason;
use crate::domain::RuleHit;
use crate::domain::Scores;
use crate::domain::{Status, Verdict};

/// A verdict as stored, with when and by whom it was decided.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StoredVerdict {
    pub id: i64,
    pub status: Status,
    pub scores: Scores,
    pub hits: Vec<RuleHit>,
    pub reasons: Vec<Reason>,
    pub model_id: String,
    pub rules_version: String,
    pub decided_by: String,
    pub created_at: String,
}

pub async fn insert(
    db: impl SqliteExecutor<'_>,
    comment_id: i64,
    verdict: &Verdict,
) -> Result<i64, DbError> {
    let encode = |v: serde_json::Result<String>| v.map_err(|e| DbError::Encode(Box::new(e)));
    let id = sqlx::query(
        "INSERT INTO verdicts (comment_id, status, scores, hits, reasons, model_id, rules_version, decided_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'system', ?)",
    )
    .bind(comment_id)
    .bind(verdict.status.as_str())
    .bind(encode(serde_json::to_string(&verdict.scores))?)
    .bind(encode(serde_json::to_string(&verdict.hits))?)
    .bind(encode(serde_json::to_string(&verdict.reasons))?)
    .bind(&verdict.model_id)
    .bind(&verdict.rules_version)
    .bind(now())
    .execute(db)
    .await?
    .last_insert_rowid();
    Ok(id)
}

pub async fn latest(
    db: impl SqliteExecutor<'_>,
    comment_id: i64,
) -> Result<Option<StoredVerdict>, DbError> {
    let row = sqlx::query(
        "SELECT id, status, scores, hits, reasons, model_id, rules_version, decided_by, created_at
         FROM verdicts WHERE comment_id = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(comment_id)
    .fetch_optional(db)
    .await?;
    row.map(|r| decode(&r)).transpose()
}

fn decode(r: &sqlx::sqlite::SqliteRow) -> Result<StoredVerdict, DbError> {
    Ok(StoredVerdict {
        id: r.get("id"),
        status: Status::parse(r.get("status")).unwrap_or(Status::Pending),
        scores: json(r, "scores")?,
        hits: json(r, "hits")?,
        reasons: json(r, "reasons")?,
        model_id: r.get("model_id"),
        rules_version: r.get("rules_version"),
        decided_by: r.get("decided_by"),
        created_at: r.get("created_at"),
    })
}

fn json<T: serde::de::DeserializeOwned>(
    r: &sqlx::sqlite::SqliteRow,
    col: &str,
) -> Result<T, DbError> {
    serde_json::from_str(r.get::<&str, _>(col)).map_err(|e| DbError::Decode(Box::new(e)))
}
