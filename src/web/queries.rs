//! Small read queries only the console needs (filter choices).

use sqlx::Row;

use crate::store::DbError;

pub struct ArticleChoice {
    pub id: String,
    pub title: Option<String>,
}

/// Articles that have comments, newest first (for the article filter).
pub async fn articles_with_comments(
    db: &sqlx::SqlitePool,
    limit: i64,
) -> Result<Vec<ArticleChoice>, DbError> {
    let rows = sqlx::query(
        "SELECT a.id, a.title FROM articles a
         WHERE EXISTS (SELECT 1 FROM comments c WHERE c.article_id = a.id)
         ORDER BY a.created_at DESC, a.id LIMIT ?",
    )
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(|r| ArticleChoice {
            id: r.get("id"),
            title: r.get("title"),
        })
        .collect())
}
