//! Moderator decisions read back with what the system had decided before them: each
//! approve or remove in the moderation log, joined to the comment and to the verdict in
//! force when the moderator decided (the newest system verdict stored at or before the
//! decision). What the moderators' agreement, calibration and retraining data are made of.

use sqlx::Row;

use super::DbError;
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
pub async fn list(
    db: &sqlx::SqlitePool,
    filter: &DecisionFilter,
) -> Result<Vec<DecisionRow>, DbError> {
    let rows = sqlx::query(
        "SELECT l.id AS log_id, l.comment_id, l.action, l.reason, l.actor, l.created_at,
                c.body, c.language,
                EXISTS (SELECT 1 FROM reports r
                         WHERE r.comment_id = c.id AND r.created_at <= l.created_at) AS reported,
                v.status AS v_status, v.scores, v.reasons, v.model_id, v.rules_version
           FROM moderation_log l
           JOIN comments c ON c.id = l.comment_id
           LEFT JOIN verdicts v ON v.id = (
                SELECT max(v2.id) FROM verdicts v2
                 WHERE v2.comment_id = c.id AND v2.created_at <= l.created_at)
          WHERE l.moderator_id IS NOT NULL
            AND l.action IN ('approve', 'remove')
            AND (?1 IS NULL OR l.created_at >= ?1)
            AND (?2 IS NULL OR c.language = ?2)
          ORDER BY l.id",
    )
    .bind(&filter.since)
    .bind(&filter.language)
    .fetch_all(db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let verdict = match r.get::<Option<String>, _>("v_status") {
            None => None,
            Some(status) => {
                let scores: Scores =
                    serde_json::from_str(r.get::<&str, _>("scores")).unwrap_or_default();
                let reasons: serde_json::Value =
                    serde_json::from_str(r.get::<&str, _>("reasons")).unwrap_or_default();
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
                    model_id: r.get("model_id"),
                    rules_version: r.get("rules_version"),
                })
            }
        };
        out.push(DecisionRow {
            log_id: r.get("log_id"),
            comment_id: r.get("comment_id"),
            action: r.get("action"),
            reason: r.get("reason"),
            moderator: r.get("actor"),
            decided_at: r.get("created_at"),
            body: r.get("body"),
            language: r.get("language"),
            reported: r.get::<i64, _>("reported") != 0,
            verdict,
        });
    }
    Ok(out)
}
