//! The moderators' queues: pending, reported, removed, approved.

use serde::Serialize;
use sqlx::FromRow;
use sqlx::Row;

use super::authors::{self, AuthorHistory};
use super::comments::{self, COMMENT_COLUMNS, Comment};
use super::reports::{self, ReportSummary};
use super::verdicts::{self, StoredVerdict};
use super::{DbError, articles};

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

pub async fn list(db: &sqlx::SqlitePool, q: &QueueQuery) -> Result<QueuePage, DbError> {
    let (order, after) = match q.sort {
        Sort::Oldest => ("created_at ASC, id ASC", "(created_at, id) > (?, ?)"),
        Sort::Newest => ("created_at DESC, id DESC", "(created_at, id) < (?, ?)"),
        Sort::Score => (
            "max_score DESC, id ASC",
            "(max_score < ? OR (max_score = ? AND id > ?))",
        ),
    };
    let mut sql = format!(
        "SELECT {COMMENT_COLUMNS} FROM comments WHERE {}",
        q.state.condition()
    );
    if q.article_id.is_some() {
        sql.push_str(" AND article_id = ?");
    }
    if q.language.is_some() {
        sql.push_str(" AND language = ?");
    }
    if q.cursor.is_some() {
        sql.push_str(" AND ");
        sql.push_str(after);
    }
    sql.push_str(&format!(" ORDER BY {order} LIMIT ?"));

    let mut query = sqlx::query(&sql);
    if let Some(a) = &q.article_id {
        query = query.bind(a);
    }
    if let Some(l) = &q.language {
        query = query.bind(l);
    }
    match &q.cursor {
        Some(Cursor::Time(t, id)) => query = query.bind(t).bind(id),
        Some(Cursor::Score(s, id)) => query = query.bind(s).bind(s).bind(id),
        None => {}
    }
    let rows = query.bind(q.limit + 1).fetch_all(db).await?;
    let mut found = rows
        .iter()
        .map(Comment::from_row)
        .collect::<Result<Vec<Comment>, _>>()?;
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
    for c in found {
        items.push(item(db, c).await?);
    }
    Ok(QueuePage { items, next_cursor })
}

/// The full queue entry for one comment.
pub async fn item(db: &sqlx::SqlitePool, comment: Comment) -> Result<QueueItem, DbError> {
    let article = articles::get(db, &comment.article_id).await?;
    let parent = match comment.parent_id {
        Some(pid) => comments::get(db, pid).await?.map(|p| ParentRef {
            id: p.id,
            author_name: p.author_name,
            body: p.body,
            status: p.status,
        }),
        None => None,
    };
    let author = authors::get(db, &comment.author_key).await?;
    let verdict = verdicts::latest(db, comment.id).await?;
    let reports = reports::summary(db, comment.id).await?;
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
    db: &sqlx::SqlitePool,
    article_id: Option<&str>,
) -> Result<Vec<(QueueState, i64)>, DbError> {
    let row = sqlx::query(
        "SELECT
            SUM(status = 'pending') AS pending,
            SUM(status = 'published' AND reported = 1) AS reported,
            SUM(status = 'removed') AS removed,
            SUM(status = 'published' AND moderated_by IS NOT NULL) AS approved
         FROM comments WHERE (?1 IS NULL OR article_id = ?1)",
    )
    .bind(article_id)
    .fetch_one(db)
    .await?;
    Ok(QueueState::ALL
        .into_iter()
        .map(|s| (s, row.get::<Option<i64>, _>(s.as_str()).unwrap_or(0)))
        .collect())
}
