//! The moderators' queues: pending, reported, removed, approved.

use serde::Serialize;

use super::authors::{self, AuthorHistory};
use super::comments::{self, COMMENT_COLUMNS, Comment};
use super::reports::{self, ReportSummary};
use super::verdicts::{self, StoredVerdict};
use super::{Conn, DbError, Pool, articles};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueState {
    Pending,
    Reported,
    Removed,
    Approved,
}

impl QueueState {
    pub const ALL: [QueueState; 4] = [
        QueueState::Pending,
        QueueState::Reported,
        QueueState::Removed,
        QueueState::Approved,
    ];

    pub fn parse(s: &str) -> Option<QueueState> {
        match s {
            "pending" => Some(QueueState::Pending),
            "reported" => Some(QueueState::Reported),
            "removed" => Some(QueueState::Removed),
            "approved" => Some(QueueState::Approved),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QueueState::Pending => "pending",
            QueueState::Reported => "reported",
            QueueState::Removed => "removed",
            QueueState::Approved => "approved",
        }
    }

    fn condition(self) -> &'static str {
        match self {
            QueueState::Pending => "status = 'pending'",
            QueueState::Reported => "status = 'published' AND reported = 1",
            QueueState::Removed => "status = 'removed'",
            QueueState::Approved => "status = 'published' AND moderated_by IS NOT NULL",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Oldest,
    Newest,
    Score,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        match s {
            "oldest" => Some(Sort::Oldest),
            "newest" => Some(Sort::Newest),
            "score" => Some(Sort::Score),
            _ => None,
        }
    }
}

/// Position after the last item of a page: the sort key and the id.
#[derive(Debug, Clone, PartialEq)]
pub enum Cursor {
    Time(String, i64),
    Score(f64, i64),
}

impl Cursor {
    /// Whether this cursor continues a page of `sort` (time cursors for oldest/newest,
    /// score cursors for score).
    pub fn continues(&self, sort: Sort) -> bool {
        matches!(
            (self, sort),
            (Cursor::Time(..), Sort::Oldest | Sort::Newest) | (Cursor::Score(..), Sort::Score)
        )
    }

    pub fn encode(&self) -> String {
        match self {
            Cursor::Time(t, id) => format!("t.{t}.{id}"),
            Cursor::Score(s, id) => format!("s.{s}.{id}"),
        }
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let (kind, rest) = s.split_once('.')?;
        let (key, id) = rest.rsplit_once('.')?;
        let id = id.parse().ok()?;
        match kind {
            "t" => Some(Cursor::Time(key.to_string(), id)),
            "s" => Some(Cursor::Score(
                key.parse().ok().filter(|s: &f64| s.is_finite())?,
                id,
            )),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct QueueQuery {
    pub state: QueueState,
    pub article_id: Option<String>,
    pub language: Option<String>,
    pub sort: Sort,
    pub cursor: Option<Cursor>,
    pub limit: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleRef {
    pub id: String,
    pub title: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ParentRef {
    pub id: i64,
    pub author_name: String,
    pub body: String,
    pub status: crate::domain::Status,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuthorRef {
    pub key: String,
    pub name: String,
    pub banned: bool,
    pub premoderated: bool,
    pub history: AuthorHistory,
}

/// One queue entry with the context a moderator needs to decide.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueItem {
    pub comment: Comment,
    pub article: ArticleRef,
    pub parent: Option<ParentRef>,
    pub author: AuthorRef,
    /// Latest verdict: status, scores per label, rule hits with char spans, reasons, model id, rules version.
    #[schema(value_type = Option<Object>)]
    pub verdict: Option<StoredVerdict>,
    pub reports: ReportSummary,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    pub next_cursor: Option<String>,
}

pub async fn list(db: &Pool, q: &QueueQuery) -> Result<QueuePage, DbError> {
    // Parameters are numbered in the order they are added.
    let mut n = 0;
    let mut param = || {
        n += 1;
        format!("${n}")
    };
    let mut sql = format!(
        "SELECT {COMMENT_COLUMNS} FROM comments WHERE {}",
        q.state.condition()
    );
    if q.article_id.is_some() {
        sql.push_str(&format!(" AND article_id = {}", param()));
    }
    if q.language.is_some() {
        sql.push_str(&format!(" AND language = {}", param()));
    }
    let order = match q.sort {
        Sort::Oldest => "created_at ASC, id ASC",
        Sort::Newest => "created_at DESC, id DESC",
        Sort::Score => "max_score DESC, id ASC",
    };
    if q.cursor.is_some() {
        let after = match q.sort {
            Sort::Oldest => format!("(created_at, id) > ({}, {})", param(), param()),
            Sort::Newest => format!("(created_at, id) < ({}, {})", param(), param()),
            Sort::Score => {
                let (score, id) = (param(), param());
                format!("(max_score < {score} OR (max_score = {score} AND id > {id}))")
            }
        };
        sql.push_str(" AND ");
        sql.push_str(&after);
    }
    sql.push_str(&format!(" ORDER BY {order} LIMIT {}", param()));

    let mut found: Vec<Comment> = on_pool!(db, p => {
        let mut query = sqlx::query_as(&sql);
        if let Some(a) = &q.article_id {
            query = query.bind(a);
        }
        if let Some(l) = &q.language {
            query = query.bind(l);
        }
        match &q.cursor {
            Some(Cursor::Time(t, id)) => query = query.bind(t).bind(id),
            Some(Cursor::Score(s, id)) => query = query.bind(s).bind(id),
            None => {}
        }
        query.bind(q.limit + 1).fetch_all(p).await?
    });
    let next_cursor = if found.len() as i64 > q.limit {
        found.truncate(q.limit as usize);
        found.last().map(|c| match q.sort {
            Sort::Score => Cursor::Score(c.max_score, c.id).encode(),
            _ => Cursor::Time(c.created_at.clone(), c.id).encode(),
        })
    } else {
        None
    };
    let mut items = Vec::with_capacity(found.len());
    let mut conn = db.acquire().await?;
    for c in found {
        items.push(item(conn.conn(), c).await?);
    }
    Ok(QueuePage { items, next_cursor })
}

/// [`item`] on a connection of its own.
pub async fn read_item(db: &Pool, comment: Comment) -> Result<QueueItem, DbError> {
    item(db.acquire().await?.conn(), comment).await
}

/// The full queue entry for one comment.
pub async fn item(mut conn: Conn<'_>, comment: Comment) -> Result<QueueItem, DbError> {
    let db = &mut conn;
    let article = articles::get(db.re(), &comment.article_id).await?;
    let parent = match comment.parent_id {
        Some(pid) => comments::get(db.re(), pid).await?.map(|p| ParentRef {
            id: p.id,
            author_name: p.author_name,
            body: p.body,
            status: p.status,
        }),
        None => None,
    };
    let author = authors::get(db.re(), &comment.author_key).await?;
    let verdict = verdicts::latest(db.re(), comment.id).await?;
    let reports = reports::summary(db.re(), comment.id).await?;
    Ok(QueueItem {
        article: ArticleRef {
            id: comment.article_id.clone(),
            title: article.as_ref().and_then(|a| a.title.clone()),
            url: article.and_then(|a| a.url),
        },
        parent,
        author: match author {
            // The name this comment was posted with, not the author record's: anyone can
            // post under a known e-mail, and must not rename its author that way.
            Some(a) => AuthorRef {
                key: a.key,
                name: comment.author_name.clone(),
                banned: a.banned,
                premoderated: a.premoderated,
                history: a.history,
            },
            None => AuthorRef {
                key: comment.author_key.clone(),
                name: comment.author_name.clone(),
                banned: false,
                premoderated: false,
                history: AuthorHistory::default(),
            },
        },
        verdict,
        reports,
        comment,
    })
}

/// Number of comments in each queue, optionally for one article.
pub async fn counts(
    db: &Pool,
    article_id: Option<&str>,
) -> Result<Vec<(QueueState, i64)>, DbError> {
    let sql = format!(
        "SELECT {} FROM comments WHERE ($1 IS NULL OR article_id = $1)",
        QueueState::ALL
            .iter()
            .map(|s| format!(
                "COUNT(*) FILTER (WHERE {}) AS {}",
                s.condition(),
                s.as_str()
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (pending, reported, removed, approved): (i64, i64, i64, i64) = on_pool!(db, p => {
        sqlx::query_as(&sql).bind(article_id).fetch_one(p).await?
    });
    Ok(QueueState::ALL
        .into_iter()
        .zip([pending, reported, removed, approved])
        .collect())
}
