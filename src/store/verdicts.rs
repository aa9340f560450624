//! Verdicts: one row per scoring of a comment, with everything that decided it.

use serde::Serialize;

use super::{Conn, DbError, now};
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
    mut conn: Conn<'_>,
    comment_id: i64,
    verdict: &Verdict,
) -> Result<i64, DbError> {
    let encode = |v: serde_json::Result<String>| v.map_err(|e| DbError::Encode(Box::new(e)));
    let scores = encode(serde_json::to_string(&verdict.scores))?;
    let hits = encode(serde_json::to_string(&verdict.hits))?;
    let reasons = encode(serde_json::to_string(&verdict.reasons))?;
    let id = on_conn!(conn, c => {
        sqlx::query_scalar(
            "INSERT INTO verdicts (comment_id, status, scores, hits, reasons, model_id, rules_version, decided_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'system', $8) RETURNING id",
        )
        .bind(comment_id)
        .bind(verdict.status.as_str())
        .bind(&scores)
        .bind(&hits)
        .bind(&reasons)
        .bind(&verdict.model_id)
        .bind(&verdict.rules_version)
        .bind(now())
        .fetch_one(&mut *c)
        .await?
    });
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    status: String,
    scores: String,
    hits: String,
    reasons: String,
    model_id: String,
    rules_version: String,
    decided_by: String,
    created_at: String,
}

pub async fn latest(mut conn: Conn<'_>, comment_id: i64) -> Result<Option<StoredVerdict>, DbError> {
    let row: Option<Row> = on_conn!(conn, c => {
        sqlx::query_as(
            "SELECT id, status, scores, hits, reasons, model_id, rules_version, decided_by, created_at
             FROM verdicts WHERE comment_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(comment_id)
        .fetch_optional(&mut *c)
        .await?
    });
    row.map(decode).transpose()
}

fn decode(r: Row) -> Result<StoredVerdict, DbError> {
    Ok(StoredVerdict {
        id: r.id,
        status: Status::parse(&r.status).unwrap_or(Status::Pending),
        scores: json(&r.scores)?,
        hits: json(&r.hits)?,
        reasons: json(&r.reasons)?,
        model_id: r.model_id,
        rules_version: r.rules_version,
        decided_by: r.decided_by,
        created_at: r.created_at,
    })
}

fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, DbError> {
    serde_json::from_str(text).map_err(|e| DbError::Decode(Box::new(e)))
}

/// [`latest`] on a connection of its own.
pub async fn read_latest(
    db: &super::Pool,
    comment_id: i64,
) -> Result<Option<StoredVerdict>, DbError> {
    latest(db.acquire().await?.conn(), comment_id).await
}
