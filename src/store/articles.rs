//! Articles: created on first comment; title, URL and closed flag set by the site.

use serde::Serialize;

use super::{Conn, DbError, Pool, now};

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Article {
    pub id: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub closed: bool,
    pub created_at: String,
}

type ArticleRow = (String, Option<String>, Option<String>, i64, String);

const SELECT: &str = "SELECT id, title, url, closed, created_at FROM articles WHERE id = $1";

fn article((id, title, url, closed, created_at): ArticleRow) -> Article {
    Article {
        id,
        title,
        url,
        closed: closed != 0,
        created_at,
    }
}

pub async fn get(mut conn: Conn<'_>, id: &str) -> Result<Option<Article>, DbError> {
    let row: Option<ArticleRow> = on_conn!(conn, c => {
        sqlx::query_as(SELECT).bind(id).fetch_optional(&mut *c).await?
    });
    Ok(row.map(article))
}

pub async fn read(db: &Pool, id: &str) -> Result<Option<Article>, DbError> {
    let row: Option<ArticleRow> = on_pool!(db, p => {
        sqlx::query_as(SELECT).bind(id).fetch_optional(p).await?
    });
    Ok(row.map(article))
}

/// Create the article if it does not exist yet.
pub async fn ensure(mut conn: Conn<'_>, id: &str) -> Result<(), DbError> {
    on_conn!(conn, c => {
        sqlx::query("INSERT INTO articles (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
            .bind(id)
            .bind(now())
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

/// Fields of `PUT /api/v1/articles/{id}`; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ArticleUpdate {
    pub title: Option<Option<String>>,
    pub url: Option<Option<String>>,
    pub closed: Option<bool>,
}

pub async fn upsert(
    mut conn: Conn<'_>,
    id: &str,
    update: &ArticleUpdate,
) -> Result<Article, DbError> {
    let mut tx = conn.begin().await?;
    ensure(tx.conn(), id).await?;
    let mut c = tx.conn();
    if let Some(title) = &update.title {
        on_conn!(c, c => {
            sqlx::query("UPDATE articles SET title = $1 WHERE id = $2")
                .bind(title)
                .bind(id)
                .execute(&mut *c)
                .await?;
        });
    }
    if let Some(url) = &update.url {
        on_conn!(c, c => {
            sqlx::query("UPDATE articles SET url = $1 WHERE id = $2")
                .bind(url)
                .bind(id)
                .execute(&mut *c)
                .await?;
        });
    }
    if let Some(closed) = update.closed {
        on_conn!(c, c => {
            sqlx::query("UPDATE articles SET closed = $1 WHERE id = $2")
                .bind(closed as i64)
                .bind(id)
                .execute(&mut *c)
                .await?;
        });
    }
    let article = get(c, id).await?.ok_or(DbError::RowNotFound)?;
    tx.commit().await?;
    Ok(article)
}

/// An article offered in the console's article filter.
pub struct ArticleChoice {
    pub id: String,
    pub title: Option<String>,
}

/// Articles that have comments, newest first (for the console's article filter).
pub async fn with_comments(db: &Pool, limit: i64) -> Result<Vec<ArticleChoice>, DbError> {
    let rows: Vec<(String, Option<String>)> = on_pool!(db, p => {
        sqlx::query_as(
            "SELECT a.id, a.title FROM articles a
             WHERE EXISTS (SELECT 1 FROM comments c WHERE c.article_id = a.id)
             ORDER BY a.created_at DESC, a.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(p)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, title)| ArticleChoice { id, title })
        .collect())
}
