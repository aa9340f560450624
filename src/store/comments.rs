//! Comments: intake in one transaction, the public thread, single-comment reads.

use super::{Conn, DbError, Dialect, Pool, format_time, now};
use crate::domain::AuthorStanding;
use crate::domain::comment::NewComment;
use crate::domain::events::{CreatedVerdict, EventData, Held};
use crate::domain::{Status, Verdict};
use serde::Serialize;
use sha2::{Digest, Sha256};

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

/// What intake needs to know before scoring, read in one query: the author's standing and
/// whether the comment may be placed (article open, parent present and not removed).
pub async fn intake_facts(
    db: &Pool,
    new: &NewComment,
) -> Result<(AuthorStanding, Result<(), IntakeError>), DbError> {
    type Facts = (
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let (banned, premoderated, closed, parent_article, parent_status): Facts = on_pool!(db, p => {
        sqlx::query_as(
            "SELECT (SELECT banned FROM authors WHERE key = $1) AS banned,
                    (SELECT premoderated FROM authors WHERE key = $1) AS premoderated,
                    (SELECT closed FROM articles WHERE id = $2) AS closed,
                    (SELECT article_id FROM comments WHERE id = $3) AS parent_article,
                    (SELECT status FROM comments WHERE id = $3) AS parent_status",
        )
        .bind(new.author_key())
        .bind(new.article_id.as_str())
        .bind(new.parent_id)
        .fetch_one(p)
        .await?
    });
    let standing = AuthorStanding {
        banned: banned.unwrap_or(0) != 0,
        premoderated: premoderated.unwrap_or(0) != 0,
    };
    let placement = placement(
        new,
        closed.unwrap_or(0) != 0,
        parent_article.as_deref(),
        parent_status.as_deref(),
    );
    Ok((standing, placement))
}

/// The placement rules, given the stored facts.
fn placement(
    new: &NewComment,
    article_closed: bool,
    parent_article: Option<&str>,
    parent_status: Option<&str>,
) -> Result<(), IntakeError> {
    if article_closed {
        return Err(IntakeError::ArticleClosed);
    }
    if new.parent_id.is_some() {
        match parent_article {
            None => return Err(IntakeError::ParentNotFound),
            Some(a) if a != new.article_id.as_str() => return Err(IntakeError::ParentNotFound),
            Some(_) if parent_status == Some("removed") => return Err(IntakeError::ParentRemoved),
            Some(_) => {}
        }
    }
    Ok(())
}

/// Store a scored comment and its verdict in one transaction.
pub async fn insert(
    mut conn: Conn<'_>,
    new: &NewComment,
    verdict: &Verdict,
    meta: &IntakeMeta,
) -> Result<Inserted, IntakeError> {
    let mut tx = conn.begin().await?;
    let inserted = insert_group(tx.conn(), &[(new, verdict, meta)]).await?;
    tx.commit().await?;
    inserted.into_iter().next().expect("one result per comment")
}

/// One comment of a commit group.
pub type Intake<'a> = (&'a NewComment, &'a Verdict, &'a IntakeMeta);

/// Check and store a group of scored comments inside the caller's transaction, in a fixed
/// number of statements whatever the group's size: one query finds the refusals,
/// duplicates and the next comment id; one multi-statement execution writes articles,
/// authors, comments, verdicts and log rows for the whole group. One result per comment,
/// in order. A refused comment writes nothing.
///
/// The placement is checked against committed comments only: a parent cannot be in the
/// same group, since its id is first known from its own answer, sent after COMMIT.
/// What duplicate, parent and closed-article checks look up, one per comment of a group
/// (sent as one JSON array, read back with `json_each`).
#[derive(serde::Serialize)]
struct Probe<'a> {
    article_id: &'a str,
    parent_id: Option<i64>,
    author_key: &'a str,
    body_hash: &'a str,
}

/// One accepted comment of a group: its `comments`, `verdicts`, `authors` and
/// `moderation_log` rows, sent as one JSON array and read back by name with `json_each`.
#[derive(serde::Serialize)]
struct IntakeRow<'a> {
    id: i64,
    article_id: &'a str,
    parent_id: Option<i64>,
    author_key: &'a str,
    author_name: &'a str,
    author_email: Option<&'a str>,
    body: &'a str,
    body_hash: &'a str,
    status: &'static str,
    max_score: f64,
    language: Option<&'a str>,
    client_ip: Option<&'a str>,
    /// JSON texts, stored as such.
    scores: String,
    hits: String,
    reasons: String,
    model_id: &'a str,
    rules_version: &'a str,
    /// `auto_hold` / `auto_remove` for a held or removed comment; none when published.
    log_action: Option<&'static str>,
    log_note: Option<String>,
}

pub async fn insert_group(
    mut conn: Conn<'_>,
    group: &[Intake<'_>],
) -> Result<Vec<Result<Inserted, IntakeError>>, DbError> {
    let encode = |e: serde_json::Error| DbError::Encode(Box::new(e));
    let hashes: Vec<String> = group
        .iter()
        .map(|(new, _, _)| body_hash(&new.body))
        .collect();
    let keys: Vec<String> = group.iter().map(|(new, _, _)| new.author_key()).collect();
    let probe: Vec<Probe> = group
        .iter()
        .zip(hashes.iter().zip(&keys))
        .map(|((new, _, _), (body_hash, author_key))| Probe {
            article_id: new.article_id.as_str(),
            parent_id: new.parent_id,
            author_key,
            body_hash,
        })
        .collect();
    // Duplicate detection is per comment (the window is the same for all in practice).
    let window = group
        .iter()
        .map(|(_, _, meta)| meta.duplicate_window_secs)
        .max()
        .unwrap_or(0);
    let since = (window > 0).then(|| {
        format_time(time::OffsetDateTime::now_utc() - time::Duration::seconds(window as i64))
    });
    // Several instances on PostgreSQL: the same post arriving at two of them at once would
    // pass both probes before either commits. A transaction lock per (article, author,
    // body) makes the second wait for the first's COMMIT, after which its probe sees it.
    // Taken in key order, so two groups cannot deadlock.
    if let (Conn::Postgres(c), Some(_)) = (conn.re(), &since) {
        let mut keys: Vec<i64> = probe
            .iter()
            .map(|p| {
                let digest = Sha256::digest(
                    format!("{}\n{}\n{}", p.article_id, p.author_key, p.body_hash).as_bytes(),
                );
                i64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        sqlx::query("SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k")
            .bind(&keys)
            .execute(&mut *c)
            .await?;
    }
    let probe = serde_json::to_string(&probe).map_err(encode)?;
    let sql = conn.dialect().pick(SQLITE_PROBE, POSTGRES_PROBE);
    let rows: Vec<(i64, String, Option<i64>, Option<String>)> = on_conn!(conn, c => {
        sqlx::query_as(sql)
            .bind(&probe)
            .bind(&since)
            .fetch_all(&mut *c)
            .await?
    });

    #[derive(Default, Clone, Copy)]
    struct Found {
        closed: bool,
        parent_not_found: bool,
        parent_removed: bool,
        duplicate: Option<Inserted>,
    }
    let mut found = vec![Found::default(); group.len()];
    let mut next_id: i64 = 1;
    for (idx, kind, id, status) in &rows {
        if kind == "next_id" {
            next_id = id.unwrap_or(1);
            continue;
        }
        let Some(f) = usize::try_from(*idx).ok().and_then(|i| found.get_mut(i)) else {
            continue;
        };
        match kind.as_str() {
            "closed" => f.closed = true,
            "parent_not_found" => f.parent_not_found = true,
            "parent_removed" => f.parent_removed = true,
            _ => {
                f.duplicate = Some(Inserted {
                    id: id.unwrap_or_default(),
                    status: status
                        .as_deref()
                        .and_then(Status::parse)
                        .unwrap_or(Status::Pending),
                    duplicate: true,
                })
            }
        }
    }
    // Ids: SQLite has one writer (this process's), so the next ones follow the largest
    // ever used. PostgreSQL may have several instances writing: each group takes its ids
    // from the shared sequence (one per comment of the group; unused ones leave gaps).
    let mut pg_ids = match conn.re() {
        Conn::Sqlite(_) => Vec::new(),
        Conn::Postgres(c) => sqlx::query_scalar::<_, i64>(
            "SELECT nextval(pg_get_serial_sequence('comments', 'id')) FROM generate_series(1, $1)",
        )
        .bind(group.len() as i64)
        .fetch_all(&mut *c)
        .await?,
    }
    .into_iter();

    let t = now();
    let mut results = Vec::with_capacity(group.len());
    let mut rows = Vec::with_capacity(group.len());
    // Accepted comments of this group by (article, author, body), for duplicates inside it.
    let mut accepted: std::collections::HashMap<(&str, &str, &str), Inserted> =
        std::collections::HashMap::new();
    for (i, (new, verdict, meta)) in group.iter().enumerate() {
        let f = found[i];
        let dup_key = (
            new.article_id.as_str(),
            keys[i].as_str(),
            hashes[i].as_str(),
        );
        let earlier = (meta.duplicate_window_secs > 0)
            .then(|| accepted.get(&dup_key).copied())
            .flatten();
        let result = match (f.duplicate.or(earlier), f) {
            (Some(dup), _) => Ok(Inserted {
                duplicate: true,
                ..dup
            }),
            (None, Found { closed: true, .. }) => Err(IntakeError::ArticleClosed),
            (
                None,
                Found {
                    parent_not_found: true,
                    ..
                },
            ) => Err(IntakeError::ParentNotFound),
            (
                None,
                Found {
                    parent_removed: true,
                    ..
                },
            ) => Err(IntakeError::ParentRemoved),
            (None, _) => {
                let id = match conn.dialect() {
                    Dialect::Sqlite => {
                        next_id += 1;
                        next_id - 1
                    }
                    Dialect::Postgres => pg_ids
                        .next()
                        .ok_or_else(|| DbError::Protocol("sequence gave too few ids".into()))?,
                };
                let max_score = verdict.scores.0.iter().copied().fold(0.0f32, f32::max);
                let (action, note) = match verdict.status {
                    Status::Published => (None, None),
                    status => {
                        let summary = reasons_summary(&verdict.reasons);
                        let action = match status {
                            Status::Removed => "auto_remove",
                            _ => "auto_hold",
                        };
                        (Some(action), (!summary.is_empty()).then_some(summary))
                    }
                };
                rows.push(IntakeRow {
                    id,
                    article_id: new.article_id.as_str(),
                    parent_id: new.parent_id,
                    author_key: &keys[i],
                    author_name: &new.author_name,
                    author_email: new.author_email.as_deref(),
                    body: &new.body,
                    body_hash: &hashes[i],
                    status: verdict.status.as_str(),
                    max_score: max_score as f64,
                    language: meta.language.as_deref(),
                    client_ip: meta.client_ip.as_deref(),
                    scores: serde_json::to_string(&verdict.scores).map_err(encode)?,
                    hits: serde_json::to_string(&verdict.hits).map_err(encode)?,
                    reasons: serde_json::to_string(&verdict.reasons).map_err(encode)?,
                    model_id: &verdict.model_id,
                    rules_version: &verdict.rules_version,
                    log_action: action,
                    log_note: note,
                });
                let inserted = Inserted {
                    id,
                    status: verdict.status,
                    duplicate: false,
                };
                accepted.entry(dup_key).or_insert(inserted);
                Ok(inserted)
            }
        };
        results.push(result);
    }
    if rows.is_empty() {
        return Ok(results);
    }
    let rows = serde_json::to_string(&rows).map_err(encode)?;
    let sql = conn.dialect().pick(SQLITE_INSERT, POSTGRES_INSERT);
    on_conn!(conn, c => {
        sqlx::query(sql)
            .bind(&rows)
            .bind(&t)
            .execute(&mut *c)
            .await?;
    });
    // Webhook events commit with the comment, so none is lost or sent for a rollback.
    for ((_, verdict, meta), result) in group.iter().zip(&results) {
        if let Ok(inserted) = result
            && !inserted.duplicate
            && !meta.skip_webhook_events
        {
            let created = EventData::Created {
                verdict: CreatedVerdict {
                    status: verdict.status,
                    scores: verdict.scores,
                    reasons: verdict.reasons.clone(),
                    model_id: verdict.model_id.clone(),
                },
            };
            super::outbox::enqueue(conn.re(), inserted.id, &created).await?;
            if verdict.status == Status::Pending {
                let held = EventData::Held(Held::at_intake(&verdict.reasons));
                super::outbox::enqueue(conn.re(), inserted.id, &held).await?;
            }
        }
    }
    Ok(results)
}

/// The refusals, duplicates and next comment id of a group (see [`insert_group`]). A held
/// (pending) parent is answered like a missing one: readers cannot see it, and a reply
/// must not reveal that it exists nor go live under it.
const SQLITE_PROBE: &str = "SELECT -1 AS idx, 'next_id' AS kind,
                max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'comments'), 0),
                    coalesce((SELECT max(id) FROM comments), 0)) + 1 AS id,
                NULL AS status
         UNION ALL
         SELECT j.key, 'closed', NULL, NULL FROM json_each($1) j
           JOIN articles a ON a.id = j.value ->> 'article_id'
          WHERE a.closed = 1
         UNION ALL
         SELECT j.key,
                CASE WHEN p.id IS NULL OR p.article_id != j.value ->> 'article_id' OR p.status = 'pending'
                     THEN 'parent_not_found' ELSE 'parent_removed' END,
                NULL, NULL
           FROM json_each($1) j LEFT JOIN comments p ON p.id = j.value ->> 'parent_id'
          WHERE j.value ->> 'parent_id' IS NOT NULL
            AND (p.id IS NULL OR p.article_id != j.value ->> 'article_id'
                 OR p.status IN ('removed', 'pending'))
         UNION ALL
         SELECT j.key, 'duplicate', d.id, d.status FROM json_each($1) j
           JOIN comments d ON d.id = (
                SELECT id FROM comments
                 WHERE article_id = j.value ->> 'article_id' AND author_key = j.value ->> 'author_key'
                   AND body_hash = j.value ->> 'body_hash' AND created_at >= $2
                 ORDER BY id LIMIT 1)
          WHERE $2 IS NOT NULL";

/// [`SQLITE_PROBE`] for PostgreSQL, without the next id (taken from the sequence).
const POSTGRES_PROBE: &str = "WITH j AS (
             SELECT t.ord - 1 AS key, t.value
               FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(value, ord))
         SELECT j.key AS idx, 'closed' AS kind, NULL::bigint AS id, NULL::text AS status
           FROM j JOIN articles a ON a.id = j.value ->> 'article_id'
          WHERE a.closed = 1
         UNION ALL
         SELECT j.key,
                CASE WHEN p.id IS NULL OR p.article_id != j.value ->> 'article_id' OR p.status = 'pending'
                     THEN 'parent_not_found' ELSE 'parent_removed' END,
                NULL, NULL
           FROM j LEFT JOIN comments p ON p.id = (j.value ->> 'parent_id')::bigint
          WHERE j.value ->> 'parent_id' IS NOT NULL
            AND (p.id IS NULL OR p.article_id != j.value ->> 'article_id'
                 OR p.status IN ('removed', 'pending'))
         UNION ALL
         SELECT j.key, 'duplicate', d.id, d.status FROM j
           JOIN comments d ON d.id = (
                SELECT id FROM comments
                 WHERE article_id = j.value ->> 'article_id' AND author_key = j.value ->> 'author_key'
                   AND body_hash = j.value ->> 'body_hash' AND created_at >= $2
                 ORDER BY id LIMIT 1)
          WHERE $2 IS NOT NULL";

/// Writes a group's rows: every statement binds $1 (the rows, JSON) and $2 (the time). An
/// author's display_name is the first name seen: a later post under the same e-mail must
/// not rename the author for moderators (each comment keeps its own author_name).
const SQLITE_INSERT: &str = "INSERT INTO articles (id, created_at)
              SELECT DISTINCT value ->> 'article_id', $2 FROM json_each($1) WHERE true
             ON CONFLICT (id) DO NOTHING;
         INSERT INTO authors (key, display_name, created_at, updated_at)
              SELECT value ->> 'author_key', value ->> 'author_name', $2, $2
                FROM json_each($1) WHERE true
             ON CONFLICT (key) DO NOTHING;
         INSERT INTO comments (id, article_id, parent_id, author_key, author_name, author_email,
                               body, body_hash, status, max_score, language, client_ip,
                               created_at, updated_at)
              SELECT value ->> 'id', value ->> 'article_id', value ->> 'parent_id',
                     value ->> 'author_key', value ->> 'author_name', value ->> 'author_email',
                     value ->> 'body', value ->> 'body_hash', value ->> 'status',
                     value ->> 'max_score', value ->> 'language', value ->> 'client_ip', $2, $2
                FROM json_each($1);
         INSERT INTO verdicts (comment_id, status, scores, hits, reasons, model_id,
                               rules_version, decided_by, created_at)
              SELECT value ->> 'id', value ->> 'status', value ->> 'scores', value ->> 'hits',
                     value ->> 'reasons', value ->> 'model_id', value ->> 'rules_version',
                     'system', $2
                FROM json_each($1);
         INSERT INTO moderation_log (comment_id, actor, action, note, new_status, created_at)
              SELECT value ->> 'id', 'system', value ->> 'log_action', value ->> 'log_note',
                     value ->> 'status', $2
                FROM json_each($1) WHERE value ->> 'log_action' IS NOT NULL;";

/// [`SQLITE_INSERT`] for PostgreSQL: one statement (a prepared statement cannot hold
/// several), the rows read once.
const POSTGRES_INSERT: &str = "WITH r AS (
             SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
                 id bigint, article_id text, parent_id bigint, author_key text, author_name text,
                 author_email text, body text, body_hash text, status text,
                 max_score double precision, language text, client_ip text, scores text,
                 hits text, reasons text, model_id text, rules_version text, log_action text,
                 log_note text)),
         a AS (INSERT INTO articles (id, created_at)
               SELECT DISTINCT article_id, $2 FROM r
               ON CONFLICT (id) DO NOTHING),
         au AS (INSERT INTO authors (key, display_name, created_at, updated_at)
                SELECT DISTINCT ON (author_key) author_key, author_name, $2, $2
                  FROM r ORDER BY author_key, id
                ON CONFLICT (key) DO NOTHING),
         c AS (INSERT INTO comments (id, article_id, parent_id, author_key, author_name,
                                     author_email, body, body_hash, status, max_score, language,
                                     client_ip, created_at, updated_at)
               SELECT id, article_id, parent_id, author_key, author_name, author_email, body,
                      body_hash, status, max_score, language, client_ip, $2, $2
                 FROM r),
         v AS (INSERT INTO verdicts (comment_id, status, scores, hits, reasons, model_id,
                                     rules_version, decided_by, created_at)
               SELECT id, status, scores, hits, reasons, model_id, rules_version, 'system', $2
                 FROM r)
         INSERT INTO moderation_log (comment_id, actor, action, note, new_status, created_at)
         SELECT id, 'system', log_action, log_note, status, $2 FROM r
          WHERE log_action IS NOT NULL";

/// One line naming each reason, e.g. `threshold toxic; rule threats_en`.
pub fn reasons_summary(reasons: &[crate::domain::Reason]) -> String {
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
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema, sqlx::FromRow)]
pub struct Comment {
    pub id: i64,
    pub article_id: String,
    pub parent_id: Option<i64>,
    pub author_key: String,
    pub author_name: String,
    pub author_email: Option<String>,
    pub body: String,
    #[sqlx(try_from = "String")]
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

/// The columns of [`Comment`]. `reported` is compared so that it reads as a boolean on
/// both dialects (PostgreSQL's flag columns are integers, like SQLite's).
pub const COMMENT_COLUMNS: &str = "id, article_id, parent_id, author_key, author_name, author_email, body, status, \
     (reported <> 0) AS reported, report_count, max_score, language, moderated_by, moderated_at, created_at, updated_at";

pub async fn get(mut conn: Conn<'_>, id: i64) -> Result<Option<Comment>, DbError> {
    let sql = format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE id = $1");
    Ok(on_conn!(conn, c => {
        sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await?
    }))
}

pub async fn read(db: &Pool, id: i64) -> Result<Option<Comment>, DbError> {
    get(db.acquire().await?.conn(), id).await
}

/// [`get`] inside a transaction that is about to change the comment: on PostgreSQL the
/// row stays locked until COMMIT, so two instances deciding on one comment take turns
/// (SQLite's single writer already does).
pub async fn get_for_update(mut conn: Conn<'_>, id: i64) -> Result<Option<Comment>, DbError> {
    let lock = conn.dialect().pick("", " FOR UPDATE");
    let sql = format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE id = $1{lock}");
    Ok(on_conn!(conn, c => {
        sqlx::query_as(&sql).bind(id).fetch_optional(&mut *c).await?
    }))
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
    db: &Pool,
    article_id: &str,
    hide_reported: bool,
    after: Option<i64>,
    limit: usize,
) -> Result<Thread, DbError> {
    // One row holding the whole thread as a JSON array: sqlx hands each result row from
    // its worker thread to the caller separately (a copy of every value and a thread
    // wake-up per few rows), which made a 500-comment thread cost ~4 ms of CPU.
    let sql = db.dialect().pick(
        "SELECT json_group_array(json_array(id, parent_id, author_name, body, status, reported, created_at))
         FROM comments WHERE article_id = $1 AND status IN ('published', 'removed')",
        "SELECT json_agg(json_build_array(id, parent_id, author_name, body, status, reported, created_at))::text
         FROM comments WHERE article_id = $1 AND status IN ('published', 'removed')",
    );
    let packed: Option<String> = on_pool!(db, p => {
        sqlx::query_scalar(sql).bind(article_id).fetch_one(p).await?
    });
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
pub async fn forget_old_ips(db: &Pool, days: u32) -> Result<u64, DbError> {
    let cutoff =
        format_time(time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(days)));
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut changed = 0;
    for sql in [
        "UPDATE comments SET client_ip = NULL WHERE client_ip IS NOT NULL AND created_at < $1",
        "UPDATE reports SET client_ip = NULL WHERE client_ip IS NOT NULL AND created_at < $1",
    ] {
        changed += on_conn!(c, c => {
            sqlx::query(sql).bind(&cutoff).execute(&mut *c).await?.rows_affected()
        });
    }
    tx.commit().await?;
    Ok(changed)
}
