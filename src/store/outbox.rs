//! The webhook outbox. Events are written in the same transaction as the change they
//! describe, so a committed change always has its event and a restart loses none; the
//! delivery worker ([`crate::webhooks`]) fans each event out to the endpoints subscribed
//! at that time and retries failed deliveries.
//!
//! Event body (stored once, sent byte-identical on every attempt):
//! `{"id": "evt_...", "type": "comment.decided", "created_at": "...", "data": {...}}`.

use rand::RngCore;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::{Row, SqliteConnection};

use super::comments::{self, Comment};
use super::{DbError, format_time, now};
use crate::domain::events::{CommentSnapshot, EventData};

fn snapshot(c: &Comment) -> CommentSnapshot {
    CommentSnapshot {
        id: c.id,
        article_id: c.article_id.clone(),
        parent_id: c.parent_id,
        author_name: c.author_name.clone(),
        body: c.body.clone(),
        status: c.status,
        reported: c.reported,
        report_count: c.report_count,
        language: c.language.clone(),
        created_at: c.created_at.clone(),
        updated_at: c.updated_at.clone(),
    }
}

fn new_event_id() -> String {
    let mut buf = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    format!("evt_{}", hex::encode(buf))
}

/// Write one event about `comment_id` inside `conn`'s transaction; its `data` gets the
/// comment's state as of this transaction as `comment`. The body is stored once and sent
/// byte-identical on every attempt (keys sorted, as `serde_json::Value` writes them).
pub async fn enqueue(
    conn: &mut SqliteConnection,
    comment_id: i64,
    data: &EventData,
) -> Result<String, DbError> {
    let encode = |e: serde_json::Error| DbError::Encode(Box::new(e));
    let event_type = data.event_type();
    let mut data = match serde_json::to_value(data).map_err(encode)? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Some(c) = comments::get(&mut *conn, comment_id).await? {
        data.insert(
            "comment".into(),
            serde_json::to_value(snapshot(&c)).map_err(encode)?,
        );
    }
    let event_id = new_event_id();
    let created_at = now();
    let body = json!({
        "id": event_id,
        "type": event_type.as_str(),
        "created_at": created_at,
        "data": data,
    });
    sqlx::query(
        "INSERT INTO webhook_events (event_id, event_type, comment_id, payload, created_at)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&event_id)
    .bind(event_type.as_str())
    .bind(comment_id)
    .bind(body.to_string())
    .bind(&created_at)
    .execute(&mut *conn)
    .await?;
    Ok(event_id)
}

/// Whether any event waits to be dispatched (a read, so idle polling never takes the
/// writer connection).
pub async fn has_undispatched(db: &sqlx::SqlitePool) -> Result<bool, DbError> {
    let row = sqlx::query("SELECT 1 FROM webhook_events WHERE dispatched_at IS NULL LIMIT 1")
        .fetch_optional(db)
        .await?;
    Ok(row.is_some())
}

/// Create delivery rows for events not yet dispatched: one per endpoint that
/// `subscribers(event_type)` names. Events no endpoint wants are deleted. Returns the
/// number of events handled.
pub async fn dispatch(
    db: &sqlx::SqlitePool,
    subscribers: impl Fn(&str) -> Vec<String>,
    limit: i64,
) -> Result<usize, DbError> {
    let mut tx = db.begin().await?;
    let rows = sqlx::query(
        "SELECT id, event_type FROM webhook_events WHERE dispatched_at IS NULL ORDER BY id LIMIT ?",
    )
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    let t = now();
    let handled = rows.len();
    for row in rows {
        let id: i64 = row.get("id");
        let endpoints = subscribers(row.get("event_type"));
        if endpoints.is_empty() {
            sqlx::query("DELETE FROM webhook_events WHERE id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            continue;
        }
        for endpoint in endpoints {
            sqlx::query(
                "INSERT OR IGNORE INTO webhook_deliveries
                     (event_id, endpoint, status, next_attempt_at, created_at, updated_at)
                 VALUES (?, ?, 'pending', ?, ?, ?)",
            )
            .bind(id)
            .bind(&endpoint)
            .bind(&t)
            .bind(&t)
            .bind(&t)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE webhook_events SET dispatched_at = ? WHERE id = ?")
            .bind(&t)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(handled)
}

/// A delivery whose next attempt is due.
#[derive(Debug, Clone)]
pub struct Due {
    pub delivery_id: i64,
    pub endpoint: String,
    /// Attempts made so far.
    pub attempts: i64,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
}

/// Pending deliveries due at or before `at`, oldest due first.
pub async fn due(
    db: &sqlx::SqlitePool,
    at: time::OffsetDateTime,
    limit: i64,
) -> Result<Vec<Due>, DbError> {
    let rows = sqlx::query(
        "SELECT d.id, d.endpoint, d.attempts, e.event_id, e.event_type, e.payload
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= ?
         ORDER BY d.next_attempt_at, d.id LIMIT ?",
    )
    .bind(format_time(at))
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Due {
            delivery_id: r.get("id"),
            endpoint: r.get("endpoint"),
            attempts: r.get("attempts"),
            event_id: r.get("event_id"),
            event_type: r.get("event_type"),
            payload: r.get("payload"),
        })
        .collect())
}

/// When the earliest pending delivery is due, if any.
pub async fn next_due(db: &sqlx::SqlitePool) -> Result<Option<time::OffsetDateTime>, DbError> {
    let at: Option<String> = sqlx::query_scalar(
        "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending'",
    )
    .fetch_one(db)
    .await?;
    Ok(at.and_then(|s| {
        time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339).ok()
    }))
}

/// What one attempt ended with.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// What happens to the delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NextStep {
    Delivered,
    Retry(time::OffsetDateTime),
    /// No attempts left (or the endpoint is gone).
    Failed,
}

/// Log an attempt and move the delivery on, in one transaction.
pub async fn record_attempt(
    db: &sqlx::SqlitePool,
    delivery_id: i64,
    attempt: i64,
    result: &AttemptResult,
    next: NextStep,
) -> Result<(), DbError> {
    let t = now();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms, created_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(delivery_id)
    .bind(attempt)
    .bind(result.status_code.map(i64::from))
    .bind(&result.error)
    .bind(result.duration_ms)
    .bind(&t)
    .execute(&mut *tx)
    .await?;
    let (status, next_at, delivered_at) = match next {
        NextStep::Delivered => ("delivered", None, Some(t.clone())),
        NextStep::Retry(at) => ("pending", Some(format_time(at)), None),
        NextStep::Failed => ("failed", None, None),
    };
    sqlx::query(
        "UPDATE webhook_deliveries
         SET status = ?, attempts = ?, next_attempt_at = ?, last_status_code = ?, last_error = ?,
             delivered_at = ?, updated_at = ?
         WHERE id = ?",
    )
    .bind(status)
    .bind(attempt)
    .bind(next_at)
    .bind(result.status_code.map(i64::from))
    .bind(&result.error)
    .bind(delivered_at)
    .bind(&t)
    .bind(delivery_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Delete events older than `before` whose deliveries are all finished (the attempts and
/// deliveries go with them). Returns the number of events deleted.
pub async fn prune(db: &sqlx::SqlitePool, before: time::OffsetDateTime) -> Result<u64, DbError> {
    let n = sqlx::query(
        "DELETE FROM webhook_events
         WHERE dispatched_at IS NOT NULL AND created_at < ?
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                           WHERE d.event_id = webhook_events.id AND d.status = 'pending')",
    )
    .bind(format_time(before))
    .execute(db)
    .await?
    .rows_affected();
    Ok(n)
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Attempt {
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub at: String,
}

/// A delivery and its attempts, for the admin delivery log.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub event_id: String,
    pub event_type: String,
    pub comment_id: Option<i64>,
    pub endpoint: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub attempt_log: Vec<Attempt>,
}

/// Filters of the delivery log.
#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    pub status: Option<String>,
    pub event_type: Option<String>,
    pub endpoint: Option<String>,
    pub comment_id: Option<i64>,
    /// Id cursor: deliveries with a smaller id.
    pub before: Option<i64>,
    pub limit: i64,
}

/// Newest first.
pub async fn deliveries(
    db: &sqlx::SqlitePool,
    q: &DeliveryQuery,
) -> Result<Vec<Delivery>, DbError> {
    let rows = sqlx::query(
        "SELECT d.id, e.event_id, e.event_type, e.comment_id, d.endpoint, d.status, d.attempts,
                d.next_attempt_at, d.last_status_code, d.last_error, d.delivered_at,
                d.created_at, d.updated_at
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
         WHERE (?1 IS NULL OR d.id < ?1) AND (?2 IS NULL OR d.status = ?2)
           AND (?3 IS NULL OR e.event_type = ?3) AND (?4 IS NULL OR d.endpoint = ?4)
           AND (?5 IS NULL OR e.comment_id = ?5)
         ORDER BY d.id DESC LIMIT ?6",
    )
    .bind(q.before)
    .bind(&q.status)
    .bind(&q.event_type)
    .bind(&q.endpoint)
    .bind(q.comment_id)
    .bind(q.limit)
    .fetch_all(db)
    .await?;
    let mut out: Vec<Delivery> = rows
        .iter()
        .map(|r| Delivery {
            id: r.get("id"),
            event_id: r.get("event_id"),
            event_type: r.get("event_type"),
            comment_id: r.get("comment_id"),
            endpoint: r.get("endpoint"),
            status: r.get("status"),
            attempts: r.get("attempts"),
            next_attempt_at: r.get("next_attempt_at"),
            last_status_code: r.get("last_status_code"),
            last_error: r.get("last_error"),
            delivered_at: r.get("delivered_at"),
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
            attempt_log: Vec::new(),
        })
        .collect();
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<i64> = out.iter().map(|d| d.id).collect();
    let attempts = sqlx::query(
        "SELECT delivery_id, attempt, status_code, error, duration_ms, created_at
         FROM webhook_attempts WHERE delivery_id IN (SELECT value FROM json_each(?))
         ORDER BY delivery_id, id",
    )
    .bind(serde_json::to_string(&ids).expect("ids serialise"))
    .fetch_all(db)
    .await?;
    for r in attempts {
        let id: i64 = r.get("delivery_id");
        if let Some(d) = out.iter_mut().find(|d| d.id == id) {
            d.attempt_log.push(Attempt {
                attempt: r.get("attempt"),
                status_code: r.get("status_code"),
                error: r.get("error"),
                duration_ms: r.get("duration_ms"),
                at: r.get("created_at"),
            });
        }
    }
    Ok(out)
}
