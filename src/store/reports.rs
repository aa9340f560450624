//! Reader reports; enough of them move a published comment into the reported queue.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Conn, DbError, now};
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
    mut conn: Conn<'_>,
    comment_id: i64,
    reason: &str,
    note: Option<&str>,
    client_ip: Option<&str>,
    reports_to_queue: u32,
) -> Result<ReportOutcome, ReportError> {
    let mut tx = conn.begin().await?;
    let mut c = tx.conn();
    // FOR UPDATE on PostgreSQL: two instances reporting one comment at once count in turn.
    let lock = c.dialect().pick("", " FOR UPDATE");
    let sql = format!("SELECT status, reported FROM comments WHERE id = $1{lock}");
    let row: Option<(String, i64)> = on_conn!(c, c => {
        sqlx::query_as(&sql).bind(comment_id).fetch_optional(&mut *c).await?
    });
    let Some((status, reported)) = row else {
        return Err(ReportError::NotFound);
    };
    if status != "published" {
        return Err(ReportError::NotFound);
    }
    let was_reported = reported != 0;
    // One report per comment per client address: a repeat is answered with the first
    // report and counts nothing, so one reader cannot push a comment into the queue.
    if let Some(ip) = client_ip {
        let earlier: Option<i64> = on_conn!(c, c => {
            sqlx::query_scalar(
                "SELECT id FROM reports WHERE comment_id = $1 AND client_ip = $2 ORDER BY id LIMIT 1",
            )
            .bind(comment_id)
            .bind(ip)
            .fetch_optional(&mut *c)
            .await?
        });
        if let Some(report_id) = earlier {
            let report_count = current_count(c.re(), comment_id).await?;
            return Ok(ReportOutcome {
                report_id,
                report_count,
                entered_queue: false,
                repeated: true,
            });
        }
    }
    let report_id: i64 = on_conn!(c, c => {
        sqlx::query_scalar(
            "INSERT INTO reports (comment_id, reason, note, client_ip, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(comment_id)
        .bind(reason)
        .bind(note)
        .bind(client_ip)
        .bind(now())
        .fetch_one(&mut *c)
        .await?
    });
    let count = current_count(c.re(), comment_id).await?;
    // Each time a moderator kept the comment up after reports, it takes that many more
    // reports to bring it back to the queue.
    let approvals: i64 = on_conn!(c, c => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM moderation_log
             WHERE comment_id = $1 AND action = 'approve' AND old_status = 'published'",
        )
        .bind(comment_id)
        .fetch_one(&mut *c)
        .await?
    });
    let needed = i64::from(reports_to_queue.max(1)) * (1 + approvals);
    let entered_queue = !was_reported && count >= needed;
    on_conn!(c, c => {
        sqlx::query(
            "UPDATE comments SET report_count = report_count + 1,
                    reported = CASE WHEN $1 = 1 THEN 1 ELSE reported END
             WHERE id = $2",
        )
        .bind(entered_queue as i64)
        .bind(comment_id)
        .execute(&mut *c)
        .await?;
    });
    let reported = EventData::Reported {
        report: Report {
            id: report_id,
            reason: reason.to_string(),
            note: note.map(str::to_string),
        },
        report_count: count,
        entered_queue,
    };
    super::outbox::enqueue(c.re(), comment_id, &reported).await?;
    if entered_queue {
        super::outbox::enqueue(
            c.re(),
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
async fn current_count(mut conn: Conn<'_>, comment_id: i64) -> Result<i64, DbError> {
    Ok(on_conn!(conn, c => {
        sqlx::query_scalar(
            "SELECT COUNT(DISTINCT coalesce(r.client_ip, 'report:' || r.id))
               FROM reports r JOIN comments c ON c.id = r.comment_id
              WHERE r.comment_id = $1 AND (c.moderated_at IS NULL OR r.created_at > c.moderated_at)",
        )
        .bind(comment_id)
        .fetch_one(&mut *c)
        .await?
    }))
}

#[derive(Debug, Clone, Serialize, PartialEq, Default, utoipa::ToSchema)]
pub struct ReportSummary {
    pub count: i64,
    pub reasons: BTreeMap<String, i64>,
    pub notes: Vec<String>,
}

pub async fn summary(mut conn: Conn<'_>, comment_id: i64) -> Result<ReportSummary, DbError> {
    let rows: Vec<(String, Option<String>)> = on_conn!(conn, c => {
        sqlx::query_as("SELECT reason, note FROM reports WHERE comment_id = $1 ORDER BY id")
            .bind(comment_id)
            .fetch_all(&mut *c)
            .await?
    });
    let mut s = ReportSummary::default();
    for (reason, note) in rows {
        s.count += 1;
        *s.reasons.entry(reason).or_default() += 1;
        if let Some(n) = note {
            s.notes.push(n);
        }
    }
    Ok(s)
}
