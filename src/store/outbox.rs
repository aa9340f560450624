//! The webhook outbox. Events are written in the same transaction as the change they
//! describe, so a committed change always has its event and a restart loses none; the
//! delivery worker ([`crate::webhooks`]) fans each event out to the endpoints subscribed
//! at that time and retries failed deliveries.
//!
//! Event body (stored once, sent byte-identical on every attempt):
//! `{"id": "evt_...", "type": "comment.decided", "created_at": "...", "data": {...}}`.

use super::comments::{self, Comment};
use super::{Conn, DbError, Dialect, Pool, format_time, now};
use crate::domain::events::{CommentSnapshot, EventData};
use rand::RngCore;
use serde::Serialize;
use serde_json::{Map, Value, json};

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
    mut conn: Conn<'_>,
    comment_id: i64,
    data: &EventData,
) -> Result<String, DbError> {
    let encode = |e: serde_json::Error| DbError::Encode(Box::new(e));
    let event_type = data.event_type();
    let mut data = match serde_json::to_value(data).map_err(encode)? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Some(c) = comments::get(conn.re(), comment_id).await? {
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
    on_conn!(conn, c => {
        sqlx::query(
            "INSERT INTO webhook_events (event_id, event_type, comment_id, payload, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&event_id)
        .bind(event_type.as_str())
        .bind(comment_id)
        .bind(body.to_string())
        .bind(&created_at)
        .execute(&mut *c)
        .await?;
    });
    Ok(event_id)
}

/// Whether any event waits to be dispatched (a read, so idle polling never takes the
/// writer connection).
pub async fn has_undispatched(db: &Pool) -> Result<bool, DbError> {
    Ok(on_pool!(db, p => {
        sqlx::query("SELECT 1 FROM webhook_events WHERE dispatched_at IS NULL LIMIT 1")
            .fetch_optional(p)
            .await?
            .is_some()
    }))
}

/// Create delivery rows for events not yet dispatched: one per endpoint that
/// `subscribers(event_type)` names. Events no endpoint wants are deleted. Returns the
/// number of events handled.
pub async fn dispatch(
    db: &Pool,
    subscribers: impl Fn(&str) -> Vec<String>,
    limit: i64,
) -> Result<usize, DbError> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    // Several instances may dispatch at once on PostgreSQL: each takes events the others
    // have not locked (a delivery row is unique per event and endpoint anyway).
    let sql = format!(
        "SELECT id, event_type FROM webhook_events WHERE dispatched_at IS NULL ORDER BY id LIMIT $1{}",
        skip_locked(c.dialect())
    );
    let rows: Vec<(i64, String)> = on_conn!(c, c => {
        sqlx::query_as(&sql).bind(limit).fetch_all(&mut *c).await?
    });
    let t = now();
    let handled = rows.len();
    for (id, event_type) in rows {
        let endpoints = subscribers(&event_type);
        if endpoints.is_empty() {
            on_conn!(c, c => {
                sqlx::query("DELETE FROM webhook_events WHERE id = $1")
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
            });
            continue;
        }
        for endpoint in endpoints {
            on_conn!(c, c => {
                sqlx::query(
                    "INSERT INTO webhook_deliveries
                         (event_id, endpoint, status, next_attempt_at, created_at, updated_at)
                     VALUES ($1, $2, 'pending', $3, $3, $3)
                     ON CONFLICT (event_id, endpoint) DO NOTHING",
                )
                .bind(id)
                .bind(&endpoint)
                .bind(&t)
                .execute(&mut *c)
                .await?;
            });
        }
        on_conn!(c, c => {
            sqlx::query("UPDATE webhook_events SET dispatched_at = $1 WHERE id = $2")
                .bind(&t)
                .bind(id)
                .execute(&mut *c)
                .await?;
        });
    }
    tx.commit().await?;
    Ok(handled)
}

/// Row locks other transactions skip instead of waiting for (PostgreSQL; SQLite has one
/// writer, so there is nothing to skip).
fn skip_locked(dialect: Dialect) -> &'static str {
    dialect.pick("", " FOR UPDATE SKIP LOCKED")
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

/// Claim pending deliveries due at or before `at`, oldest due first: their next attempt
/// moves to `lease_until`, so no other pass or instance attempts them meanwhile. The
/// attempt's outcome ([`record_attempt`]) then sets the real next step; a claimant that
/// dies before that leaves the delivery to be retried once the lease runs out.
pub async fn claim_due(
    db: &Pool,
    at: time::OffsetDateTime,
    lease_until: time::OffsetDateTime,
    limit: i64,
) -> Result<Vec<Due>, DbError> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let sql = format!(
        "SELECT d.id, d.endpoint, d.attempts, e.event_id, e.event_type, e.payload
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= $1
         ORDER BY d.next_attempt_at, d.id LIMIT $2{}",
        c.dialect().pick("", " FOR UPDATE OF d SKIP LOCKED")
    );
    type DueRow = (i64, String, i64, String, String, String);
    let rows: Vec<DueRow> = on_conn!(c, c => {
        sqlx::query_as(&sql)
            .bind(format_time(at))
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
    });
    let lease = format_time(lease_until);
    for (id, ..) in &rows {
        on_conn!(c, c => {
            sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2")
                .bind(&lease)
                .bind(id)
                .execute(&mut *c)
                .await?;
        });
    }
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(
            |(delivery_id, endpoint, attempts, event_id, event_type, payload)| Due {
                delivery_id,
                endpoint,
                attempts,
                event_id,
                event_type,
                payload,
            },
        )
        .collect())
}

/// When the earliest pending delivery is due, if any.
pub async fn next_due(db: &Pool) -> Result<Option<time::OffsetDateTime>, DbError> {
    let at: Option<String> = on_pool!(db, p => {
        sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending'",
        )
        .fetch_one(p)
        .await?
    });
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
    db: &Pool,
    delivery_id: i64,
    attempt: i64,
    result: &AttemptResult,
    next: NextStep,
) -> Result<(), DbError> {
    let t = now();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    on_conn!(c, c => {
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(delivery_id)
        .bind(attempt)
        .bind(result.status_code.map(i64::from))
        .bind(&result.error)
        .bind(result.duration_ms)
        .bind(&t)
        .execute(&mut *c)
        .await?;
    });
    let (status, next_at, delivered_at) = match next {
        NextStep::Delivered => ("delivered", None, Some(t.clone())),
        NextStep::Retry(at) => ("pending", Some(format_time(at)), None),
        NextStep::Failed => ("failed", None, None),
    };
    on_conn!(c, c => {
        sqlx::query(
            "UPDATE webhook_deliveries
             SET status = $1, attempts = $2, next_attempt_at = $3, last_status_code = $4,
                 last_error = $5, delivered_at = $6, updated_at = $7
             WHERE id = $8",
        )
        .bind(status)
        .bind(attempt)
        .bind(&next_at)
        .bind(result.status_code.map(i64::from))
        .bind(&result.error)
        .bind(&delivered_at)
        .bind(&t)
        .bind(delivery_id)
        .execute(&mut *c)
        .await?;
    });
    tx.commit().await
}

/// Delete events older than `before` whose deliveries are all finished (the attempts and
/// deliveries go with them). Returns the number of events deleted.
pub async fn prune(db: &Pool, before: time::OffsetDateTime) -> Result<u64, DbError> {
    Ok(on_pool!(db, p => {
        sqlx::query(
            "DELETE FROM webhook_events
             WHERE dispatched_at IS NOT NULL AND created_at < $1
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                               WHERE d.event_id = webhook_events.id AND d.status = 'pending')",
        )
        .bind(format_time(before))
        .execute(p)
        .await?
        .rows_affected()
    }))
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
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema, sqlx::FromRow)]
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
    #[sqlx(skip)]
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
pub async fn deliveries(db: &Pool, q: &DeliveryQuery) -> Result<Vec<Delivery>, DbError> {
    let mut out: Vec<Delivery> = on_pool!(db, p => {
        sqlx::query_as(
            "SELECT d.id, e.event_id, e.event_type, e.comment_id, d.endpoint, d.status, d.attempts,
                    d.next_attempt_at, d.last_status_code, d.last_error, d.delivered_at,
                    d.created_at, d.updated_at
             FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
             WHERE ($1 IS NULL OR d.id < $1) AND ($2 IS NULL OR d.status = $2)
               AND ($3 IS NULL OR e.event_type = $3) AND ($4 IS NULL OR d.endpoint = $4)
               AND ($5 IS NULL OR e.comment_id = $5)
             ORDER BY d.id DESC LIMIT $6",
        )
        .bind(q.before)
        .bind(&q.status)
        .bind(&q.event_type)
        .bind(&q.endpoint)
        .bind(q.comment_id)
        .bind(q.limit)
        .fetch_all(p)
        .await?
    });
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<i64> = out.iter().map(|d| d.id).collect();
    type AttemptRow = (i64, i64, Option<i64>, Option<String>, i64, String);
    let attempts: Vec<AttemptRow> = match db {
        Pool::Sqlite(p) => {
            sqlx::query_as(
                "SELECT delivery_id, attempt, status_code, error, duration_ms, created_at
                 FROM webhook_attempts WHERE delivery_id IN (SELECT value FROM json_each($1))
                 ORDER BY delivery_id, id",
            )
            .bind(serde_json::to_string(&ids).expect("ids serialise"))
            .fetch_all(p)
            .await?
        }
        Pool::Postgres(p) => {
            sqlx::query_as(
                "SELECT delivery_id, attempt, status_code, error, duration_ms, created_at
                 FROM webhook_attempts WHERE delivery_id = ANY($1)
                 ORDER BY delivery_id, id",
            )
            .bind(&ids)
            .fetch_all(p)
            .await?
        }
    };
    for (id, attempt, status_code, error, duration_ms, at) in attempts {
        if let Some(d) = out.iter_mut().find(|d| d.id == id) {
            d.attempt_log.push(Attempt {
                attempt,
                status_code,
                error,
                duration_ms,
                at,
            });
        }
    }
    Ok(out)
}
