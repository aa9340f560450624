//! Moderator decisions read back with what the system had decided before them: each
//! approve or remove in the moderation log, joined to the comment and to the verdict in
//! force when the moderator decided (the newest system verdict stored at or before the
//! decision). What the moderators' agreement, calibration and retraining data are made of.

use super::{DbError, Pool};
use crate::domain::Scores;
use crate::domain::Status;

/// One moderator decision on a comment.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRow {
    /// The moderation log row.
    pub log_id: i64,
    pub comment_id: i64,
    /// `approve` or `remove`.
    pub action: String,
    pub reason: Option<String>,
    pub moderator: String,
    pub decided_at: String,
    pub body: String,
    pub language: Option<String>,
    /// Whether readers had reported the comment before the decision.
    pub reported: bool,
    /// The system's verdict in force at the decision; `None` for a comment never scored.
    pub verdict: Option<VerdictInForce>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VerdictInForce {
    pub status: Status,
    pub scores: Scores,
    /// Labels whose threshold held or removed the comment (`reasons` of kind `threshold`).
    pub threshold_labels: Vec<String>,
    /// `unscored` among the verdict's reasons: held because scoring failed.
    pub unscored: bool,
    pub model_id: String,
    pub rules_version: String,
}

/// Which decisions to read.
#[derive(Debug, Clone, Default)]
pub struct DecisionFilter {
    /// Decisions at or after this time (RFC 3339 or a date, compared as text).
    pub since: Option<String>,
    /// Only comments detected as this language code.
    pub language: Option<String>,
}

/// Every approve and remove by a moderator, oldest first.
pub async fn list(db: &Pool, filter: &DecisionFilter) -> Result<Vec<DecisionRow>, DbError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        log_id: i64,
        comment_id: i64,
        action: String,
        reason: Option<String>,
        actor: String,
        created_at: String,
        body: String,
        language: Option<String>,
        reported: i64,
        v_status: Option<String>,
        scores: Option<String>,
        reasons: Option<String>,
        model_id: Option<String>,
        rules_version: Option<String>,
    }
    let rows: Vec<Row> = on_pool!(db, p => sqlx::query_as(
        "SELECT l.id AS log_id, l.comment_id, l.action, l.reason, l.actor, l.created_at,
                c.body, c.language,
                CASE WHEN EXISTS (SELECT 1 FROM reports r
                         WHERE r.comment_id = c.id AND r.created_at <= l.created_at)
                     THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS reported,
                v.status AS v_status, v.scores, v.reasons, v.model_id, v.rules_version
           FROM moderation_log l
           JOIN comments c ON c.id = l.comment_id
           LEFT JOIN verdicts v ON v.id = (
                SELECT max(v2.id) FROM verdicts v2
                 WHERE v2.comment_id = c.id AND v2.created_at <= l.created_at)
          WHERE l.moderator_id IS NOT NULL
            AND l.action IN ('approve', 'remove')
            AND ($1 IS NULL OR l.created_at >= $1)
            AND ($2 IS NULL OR c.language = $2)
          ORDER BY l.id",
    )
    .bind(&filter.since)
    .bind(&filter.language)
    .fetch_all(p)
    .await?);
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let verdict = match r.v_status {
            None => None,
            Some(status) => {
                let scores: Scores =
                    serde_json::from_str(r.scores.as_deref().unwrap_or("")).unwrap_or_default();
                let reasons: serde_json::Value =
                    serde_json::from_str(r.reasons.as_deref().unwrap_or("")).unwrap_or_default();
                let reasons = reasons.as_array().cloned().unwrap_or_default();
                let threshold_labels = reasons
                    .iter()
                    .filter(|x| x["kind"] == "threshold")
                    .filter_map(|x| x["label"].as_str().map(str::to_string))
                    .collect();
                let unscored = reasons.iter().any(|x| x["kind"] == "unscored");
                Some(VerdictInForce {
                    status: Status::parse(&status).ok_or_else(|| {
                        DbError::Decode(format!("verdict status `{status}`").into())
                    })?,
                    scores,
                    threshold_labels,
                    unscored,
                    model_id: r.model_id.unwrap_or_default(),
                    rules_version: r.rules_version.unwrap_or_default(),
                })
            }
        };
        out.push(DecisionRow {
            log_id: r.log_id,
            comment_id: r.comment_id,
            action: r.action,
            reason: r.reason,
            moderator: r.actor,
            decided_at: r.created_at,
            body: r.body,
            language: r.language,
            reported: r.reported != 0,
            verdict,
        });
    }
    Ok(out)
}
