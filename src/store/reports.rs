//! Reader reports; enough of them move a published comment into the reported queue.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::{Row, SqliteExecutor};

use super::{DbError, now};
use crate::domain::events::{EventData, Held, Report};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("comment not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReportOutcome {
    pub report_id: i64,
    pub report_count: i64,
    /// True when this report moved the comment into the reported queue.
    pub entered_queue: bool,
    /// This client had already reported the comment: nothing new was stored.
    pub repeated: bool,
}

/// Record a report. Only published, visible comments can be reported; others are `NotFound`
/// to readers.
pub async fn add(
    db: impl sqlx::Acquire<'_, Database = sqlx::Sqlite>,
    comment_id: i64,
    reason: &str,
    note: Option<&str>,
    client_ip: Option<&str>,
    reports_to_queue: u32,
) -> Result<ReportOutcome, ReportError> {
    let mut tx = db.begin().await?;
    let row = sqlx::query("SELECT status, reported, moderated_by FROM comments WHERE id = ?")
        .bind(comment_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        return Err(ReportError::NotFound);
    };
    if row.get::<&str, _>("status") != "published" {
        return Err(ReportError::NotFound);
    }
    let was_reported = row.get::<i64, _>("reported") != 0;
    // One report per comment per client address: a repeat is answered with the first
    // report and counts nothing, so one reader cannot push a comment into the queue.
    if let Some(ip) = client_ip {
        let earlier: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM reports WHERE comment_id = ? AND client_ip = ? ORDER BY id LIMIT 1",
        )
        .bind(comment_id)
        .bind(ip)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(report_id) = earlier {
            let report_count = current_count(&mut tx, comment_id).await?;
            return Ok(ReportOutcome {
                report_id,
                report_count,
                entered_queue: false,
                repeated: true,
            });
        }
    }
    let report_id = sqlx::query(
        "INSERT INTO reports (comment_id, reason, note, client_ip, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(comment_id)
    .bind(reason)
    .bind(note)
    .bind(client_ip)
    .bind(now())
    .execute(&mut *tx)
    .await?
    .last_insert_rowid();
    let count = current_count(&mut tx, comment_id).await?;
    // Each time a moderator kept the comment up after reports, it takes that many more
    // reports to bring it back to the queue.
    let approvals: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM moderation_log
         WHERE comment_id = ? AND action = 'approve' AND old_status = 'published'",
    )
    .bind(comment_id)
    .fetch_one(&mut *tx)
    .await?;
    let needed = i64::from(reports_to_queue.max(1)) * (1 + approvals);
    let entered_queue = !was_reported && count >= needed;
    sqlx::query("UPDATE comments SET report_count = report_count + 1, reported = reported OR ? WHERE id = ?")
        .bind(entered_queue as i64)
        .bind(comment_id)
        .execute(&mut *tx)
        .await?;
    let reported = EventData::Reported {
        report: Report {
            id: report_id,
            reason: reason.to_string(),
            note: note.map(str::to_string),
        },
        report_count: count,
        entered_queue,
    };
    super::outbox::enqueue(&mut tx, comment_id, &reported).await?;
    if entered_queue {
        super::outbox::enqueue(
            &mut tx,
            comment_id,
            &EventData::Held(Held::by_reports(count)),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ReportOutcome {
        report_id,
        report_count: count,
        entered_queue,
        repeated: false,
    })
}

/// Reports since the last moderator decision, one per client address (reports without
/// an address count one each).
async fn current_count(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    comment_id: i64,
) -> Result<i64, DbError> {
    sqlx::query_scalar(
        "SELECT COUNT(DISTINCT coalesce(r.client_ip, 'report:' || r.id))
           FROM reports r JOIN comments c ON c.id = r.comment_id
          WHERE r.comment_id = ? AND (c.moderated_at IS NULL OR r.created_at > c.moderated_at)",
    )
    .bind(comment_id)
    .fetch_one(&mut **tx)
    .await
}

#[derive(Debug, Clone, Serialize, PartialEq, Default, utoipa::ToSchema)]
pub struct ReportSummary {
    pub count: i64,
    pub reasons: BTreeMap<String, i64>,
    pub notes: Vec<String>,
}

pub async fn summary(
    db: impl SqliteExecutor<'_>,
    comment_id: i64,
) -> Result<ReportSummary, DbError> {
    let rows = sqlx::query("SELECT reason, note FROM reports WHERE comment_id = ? ORDER BY id")
        .bind(comment_id)
        .fetch_all(db)
        .await?;
    let mut s = ReportSummary::default();
    for r in rows {
        s.count += 1;
        *s.reasons.entry(r.get("reason")).or_default() += 1;
        if let Some(n) = r.get::<Option<String>, _>("note") {
            s.notes.push(n);
        }
    }
    Ok(s)
}
