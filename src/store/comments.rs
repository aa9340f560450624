//! Comments: intake in one transaction, the public thread, single-comment reads.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Row, SqliteExecutor};

use super::{DbError, articles, authors, format_time, moderation, now, verdicts};
use crate::domain::comment::NewComment;
use crate::scoring::{Status, Verdict};

/// Why a comment cannot be accepted, found when checking it against stored state.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("article is closed to new comments")]
    ArticleClosed,
    #[error("parent comment does not exist in this article")]
    ParentNotFound,
    #[error("parent comment was removed")]
    ParentRemoved,
    #[error(transparent)]
    Db(#[from] DbError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inserted {
    pub id: i64,
    pub status: Status,
    /// True when this was a duplicate of a recent identical post (nothing was stored).
    pub duplicate: bool,
}

/// Extra facts stored with a comment.
#[derive(Debug, Clone, Default)]
pub struct IntakeMeta {
    pub client_ip: Option<String>,
    pub language: Option<String>,
    /// Identical posts by the same author to the same article within this many seconds
    /// are answered with the first comment's id. 0 disables.
    pub duplicate_window_secs: u64,
    /// No webhook endpoint is configured: write no outbox events for this comment (the
    /// delivery worker would only delete them again, and both cost the single writer).
    pub skip_webhook_events: bool,
}

pub fn body_hash(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

/// Checks that need stored state: article open, parent present and not removed.
pub async fn check_placement(db: &sqlx::SqlitePool, new: &NewComment) -> Result<(), IntakeError> {
    let mut conn = db.acquire().await?;
    check_placement_on(&mut conn, new).await
}

async fn check_placement_on(
    conn: &mut sqlx::SqliteConnection,
    new: &NewComment,
) -> Result<(), IntakeError> {
    if let Some(article) = articles::get(&mut *conn, new.article_id.as_str()).await?
        && article.closed
    {
        return Err(IntakeError::ArticleClosed);
    }
    if let Some(parent_id) = new.parent_id {
        let row = sqlx::query("SELECT article_id, status FROM comments WHERE id = ?")
            .bind(parent_id)
            .fetch_optional(&mut *conn)
            .await?;
        match row {
            None => return Err(IntakeError::ParentNotFound),
            Some(r) if r.get::<&str, _>("article_id") != new.article_id.as_str() => {
                return Err(IntakeError::ParentNotFound);
            }
            Some(r) if r.get::<&str, _>("status") == "removed" => {
                return Err(IntakeError::ParentRemoved);
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A recent identical comment by the same author on the same article, if any.
async fn find_duplicate(
    conn: &mut sqlx::SqliteConnection,
    new: &NewComment,
    hash: &str,
    window_secs: u64,
) -> Result<Option<Inserted>, DbError> {
    if window_secs == 0 {
        return Ok(None);
    }
    let since =
        format_time(time::OffsetDateTime::now_utc() - time::Duration::seconds(window_secs as i64));
    let row = sqlx::query(
        "SELECT id, status FROM comments
         WHERE article_id = ? AND author_key = ? AND body_hash = ? AND created_at >= ?
         ORDER BY id LIMIT 1",
    )
    .bind(new.article_id.as_str())
    .bind(new.author_key())
    .bind(hash)
    .bind(since)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| Inserted {
        id: r.get("id"),
        status: Status::parse(r.get("status")).unwrap_or(Status::Pending),
        duplicate: true,
    }))
}

/// Store a scored comment and its verdict in one transaction.
pub async fn insert(
    db: impl sqlx::Acquire<'_, Database = sqlx::Sqlite>,
    new: &NewComment,
    verdict: &Verdict,
    meta: &IntakeMeta,
) -> Result<Inserted, IntakeError> {
    let mut tx = db.begin().await?;
    let inserted = insert_in(&mut tx, new, verdict, meta).await?;
    tx.commit().await?;
    Ok(inserted)
}

/// The body of [`insert`], for callers that commit many comments in one transaction.
/// It refuses a comment (`ArticleClosed`, `ParentNotFound`, `ParentRemoved`) only before
/// its first write: group commit relies on that to need no savepoint per comment.
pub async fn insert_in(
    conn: &mut sqlx::SqliteConnection,
    new: &NewComment,
    verdict: &Verdict,
    meta: &IntakeMeta,
) -> Result<Inserted, IntakeError> {
    let hash = body_hash(&new.body);
    if let Some(dup) = find_duplicate(conn, new, &hash, meta.duplicate_window_secs).await? {
        return Ok(dup);
    }
    // Re-checked inside the transaction: the parent may have been removed meanwhile.
    check_placement_on(conn, new).await?;
    articles::ensure(&mut *conn, new.article_id.as_str()).await?;
    let author_key = new.author_key();
    authors::ensure(&mut *conn, &author_key, &new.author_name).await?;
    let t = now();
    let max_score = verdict.scores.0.iter().copied().fold(0.0f32, f32::max);
    let id = sqlx::query(
        "INSERT INTO comments (article_id, parent_id, author_key, author_name, author_email, body, body_hash,
                               status, max_score, language, client_ip, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(new.article_id.as_str())
    .bind(new.parent_id)
    .bind(&author_key)
    .bind(&new.author_name)
    .bind(&new.author_email)
    .bind(&new.body)
    .bind(&hash)
    .bind(verdict.verdict.as_str())
    .bind(max_score as f64)
    .bind(&meta.language)
    .bind(&meta.client_ip)
    .bind(&t)
    .bind(&t)
    .execute(&mut *conn)
    .await?
    .last_insert_rowid();
    verdicts::insert(&mut *conn, id, verdict).await?;
    if verdict.verdict != Status::Published {
        let summary = reasons_summary(&verdict.reasons);
        moderation::append(
            &mut *conn,
            &moderation::LogEntry {
                comment_id: Some(id),
                author_key: None,
                moderator_id: None,
                actor: "system".into(),
                action: match verdict.verdict {
                    Status::Removed => "auto_remove".into(),
                    _ => "auto_hold".into(),
                },
                reason: None,
                note: (!summary.is_empty()).then_some(summary),
                old_status: None,
                new_status: Some(verdict.verdict.as_str().into()),
            },
        )
        .await?;
    }
    // Webhook events commit with the comment, so none is lost or sent for a rollback.
    if !meta.skip_webhook_events {
        super::outbox::comment_created(&mut *conn, id, verdict).await?;
    }
    Ok(Inserted {
        id,
        status: verdict.verdict,
        duplicate: false,
    })
}

/// One line naming each reason, e.g. `threshold toxic; rule threats_en`.
pub fn reasons_summary(reasons: &[crate::scoring::policy::Reason]) -> String {
    reasons
        .iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .map(|v| {
            let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or("reason");
            let detail = ["label", "list", "term"]
                .iter()
                .filter_map(|k| v.get(*k).and_then(|x| x.as_str()))
                .collect::<Vec<_>>()
                .join(" ");
            if detail.is_empty() {
                kind.to_string()
            } else {
                format!("{kind} {detail}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A stored comment with everything the moderation views need about itself.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Comment {
    pub id: i64,
    pub article_id: String,
    pub parent_id: Option<i64>,
    pub author_key: String,
    pub author_name: String,
    pub author_email: Option<String>,
    pub body: String,
    pub status: Status,
    pub reported: bool,
    pub report_count: i64,
    pub max_score: f64,
    pub language: Option<String>,
    pub moderated_by: Option<i64>,
    pub moderated_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

pub const COMMENT_COLUMNS: &str = "id, article_id, parent_id, author_key, author_name, author_email, body, status, \
     reported, report_count, max_score, language, moderated_by, moderated_at, created_at, updated_at";

pub fn decode(r: &sqlx::sqlite::SqliteRow) -> Comment {
    Comment {
        id: r.get("id"),
        article_id: r.get("article_id"),
        parent_id: r.get("parent_id"),
        author_key: r.get("author_key"),
        author_name: r.get("author_name"),
        author_email: r.get("author_email"),
        body: r.get("body"),
        status: Status::parse(r.get("status")).unwrap_or(Status::Pending),
        reported: r.get::<i64, _>("reported") != 0,
        report_count: r.get("report_count"),
        max_score: r.get("max_score"),
        language: r.get("language"),
        moderated_by: r.get("moderated_by"),
        moderated_at: r.get("moderated_at"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

pub async fn get(db: impl SqliteExecutor<'_>, id: i64) -> Result<Option<Comment>, DbError> {
    let sql = format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE id = ?");
    let row = sqlx::query(&sql).bind(id).fetch_optional(db).await?;
    Ok(row.as_ref().map(decode))
}

/// The public thread as stored: visible comments (published, and removed placeholders),
/// oldest first. Replies under a comment that is not visible are not shown.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ThreadNode {
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: String,
    pub removed: bool,
    #[schema(no_recursion)]
    pub replies: Vec<ThreadNode>,
}

pub const REMOVED_PLACEHOLDER: &str = "Comment removed for violating comments policy";

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Thread {
    pub article_id: String,
    pub count: usize,
    pub comments: Vec<ThreadNode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<i64>,
}

/// Load the thread. Top-level comments are paged by id (`after`, `limit`); each comes with
/// its whole visible reply tree. `count` covers the whole thread.
pub async fn thread(
    db: &sqlx::SqlitePool,
    article_id: &str,
    hide_reported: bool,
    after: Option<i64>,
    limit: usize,
) -> Result<Thread, DbError> {
    // One row holding the whole thread as a JSON array: sqlx hands each result row from
    // its worker thread to the caller separately (a copy of every value and a thread
    // wake-up per few rows), which made a 500-comment thread cost ~4 ms of CPU.
    let packed: Option<String> = sqlx::query_scalar(
        "SELECT json_group_array(json_array(id, parent_id, author_name, body, status, reported, created_at))
         FROM comments WHERE article_id = ? AND status IN ('published', 'removed')",
    )
    .bind(article_id)
    .fetch_one(db)
    .await?;
    type Packed = (i64, Option<i64>, String, String, String, i64, String);
    let rows: Vec<Packed> = serde_json::from_str(packed.as_deref().unwrap_or("[]"))
        .map_err(|e| DbError::Decode(Box::new(e)))?;

    struct Row0 {
        id: i64,
        parent: Option<i64>,
        node: ThreadNode,
    }
    let mut visible: Vec<Row0> = Vec::with_capacity(rows.len());
    for (id, parent, author_name, body, status, reported, created_at) in rows {
        let removed = status == "removed";
        if !removed && hide_reported && reported != 0 {
            continue;
        }
        visible.push(Row0 {
            id,
            parent,
            node: ThreadNode {
                id,
                author_name: (!removed).then_some(author_name),
                body: if removed {
                    REMOVED_PLACEHOLDER.to_string()
                } else {
                    body
                },
                created_at,
                removed,
                replies: Vec::new(),
            },
        });
    }

    // Assemble bottom-up: children always have larger ids than their parents, so
    // walking in descending id order attaches every child before its parent moves.
    visible.sort_by_key(|r| r.id);
    let index: std::collections::HashMap<i64, usize> =
        visible.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let mut nodes: Vec<Option<ThreadNode>> = Vec::with_capacity(visible.len());
    let mut parents = Vec::with_capacity(visible.len());
    for r in visible {
        parents.push(r.parent);
        nodes.push(Some(r.node));
    }
    let mut roots = Vec::new();
    for i in (0..nodes.len()).rev() {
        let node = nodes[i].take().expect("each node is moved once");
        match parents[i] {
            None => roots.push(node),
            // A parent that is not visible (pending or hidden) hides its subtree.
            Some(p) => {
                if let Some(parent) = index.get(&p).and_then(|&pi| nodes[pi].as_mut()) {
                    parent.replies.push(node);
                }
            }
        }
    }
    // Children were pushed newest first.
    fn order(nodes: &mut [ThreadNode]) {
        nodes.sort_by(|a, b| (&a.created_at, a.id).cmp(&(&b.created_at, b.id)));
        for n in nodes.iter_mut() {
            order(&mut n.replies);
        }
    }
    order(&mut roots);
    fn count(nodes: &[ThreadNode]) -> usize {
        nodes.iter().map(|n| 1 + count(&n.replies)).sum()
    }
    let total = count(&roots);

    let start = match after {
        Some(a) => roots
            .iter()
            .position(|n| n.id == a)
            .map(|p| p + 1)
            .unwrap_or(0),
        None => 0,
    };
    let page: Vec<ThreadNode> = roots.into_iter().skip(start).take(limit + 1).collect();
    let (comments, next_cursor) = if page.len() > limit {
        let mut page = page;
        page.truncate(limit);
        let last = page.last().map(|n| n.id);
        (page, last)
    } else {
        (page, None)
    };
    Ok(Thread {
        article_id: article_id.to_string(),
        count: total,
        comments,
        next_cursor,
    })
}

/// Forget client IPs of comments and reports older than `days`; returns rows changed.
pub async fn forget_old_ips(db: &sqlx::SqlitePool, days: u32) -> Result<u64, DbError> {
    let cutoff =
        format_time(time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(days)));
    let mut tx = db.begin().await?;
    let a = sqlx::query(
        "UPDATE comments SET client_ip = NULL WHERE client_ip IS NOT NULL AND created_at < ?",
    )
    .bind(&cutoff)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let b = sqlx::query(
        "UPDATE reports SET client_ip = NULL WHERE client_ip IS NOT NULL AND created_at < ?",
    )
    .bind(&cutoff)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(a + b)
}
