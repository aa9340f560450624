//! Articles: created on first comment; title, URL and closed flag set by the site.

use serde::Serialize;
use sqlx::{Row, SqliteExecutor};

use super::{DbError, now};

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Article {
    pub id: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub closed: bool,
    pub created_at: String,
}

pub async fn get(db: impl SqliteExecutor<'_>, id: &str) -> Result<Option<Article>, DbError> {
    let row = sqlx::query("SELECT id, title, url, closed, created_at FROM articles WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| Article {
        id: r.get("id"),
        title: r.get("title"),
        url: r.get("url"),
        closed: r.get::<i64, _>("closed") != 0,
        created_at: r.get("created_at"),
    }))
}

/// Create the article if it does not exist yet.
pub async fn ensure(db: impl SqliteExecutor<'_>, id: &str) -> Result<(), DbError> {
    sqlx::query("INSERT INTO articles (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING")
        .bind(id)
        .bind(now())
        .execute(db)
        .await?;
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
    db: impl sqlx::Acquire<'_, Database = sqlx::Sqlite>,
    id: &str,
    update: &ArticleUpdate,
) -> Result<Article, DbError> {
    let mut tx = db.begin().await?;
    ensure(&mut *tx, id).await?;
    if let Some(title) = &update.title {
        sqlx::query("UPDATE articles SET title = ? WHERE id = ?")
            .bind(title)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(url) = &update.url {
        sqlx::query("UPDATE articles SET url = ? WHERE id = ?")
            .bind(url)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(closed) = update.closed {
        sqlx::query("UPDATE articles SET closed = ? WHERE id = ?")
            .bind(closed as i64)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    let article = get(&mut *tx, id).await?.ok_or(DbError::RowNotFound)?;
    tx.commit().await?;
    Ok(article)
}
