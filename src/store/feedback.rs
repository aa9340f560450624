//! What the Perspective-compatible endpoints keep: SuggestCommentScore feedback (labelled
//! examples for calibration) and, only when configured, analyzed requests.

use serde_json::Value;

use super::{DbError, now};

/// One `comments:suggestscore` request, with its JSON parts kept as sent.
#[derive(Debug, Clone)]
pub struct Feedback {
    pub api_key_id: i64,
    pub text: String,
    pub attribute_scores: Value,
    pub languages: Option<Vec<String>>,
    pub community_id: Option<String>,
    pub client_token: Option<String>,
    pub context: Option<Value>,
}

pub async fn add_feedback(db: &sqlx::SqlitePool, f: &Feedback) -> Result<i64, DbError> {
    let languages = f
        .languages
        .as_ref()
        .map(|l| serde_json::to_string(l).expect("strings serialise"));
    let id = sqlx::query(
        "INSERT INTO perspective_feedback
             (api_key_id, text, attribute_scores, languages, community_id, client_token, context, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(f.api_key_id)
    .bind(&f.text)
    .bind(f.attribute_scores.to_string())
    .bind(languages)
    .bind(&f.community_id)
    .bind(&f.client_token)
    .bind(f.context.as_ref().map(Value::to_string))
    .bind(now())
    .execute(db)
    .await?
    .last_insert_rowid();
    Ok(id)
}

/// One analyzed text and the summary scores returned for it.
#[derive(Debug, Clone)]
pub struct AnalyzedRequest {
    pub api_key_id: i64,
    pub text: String,
    pub languages: Vec<String>,
    /// `{attribute: summary score}`.
    pub scores: Value,
    pub model_id: String,
    pub client_token: Option<String>,
}

pub async fn add_request(db: &sqlx::SqlitePool, r: &AnalyzedRequest) -> Result<i64, DbError> {
    let id = sqlx::query(
        "INSERT INTO perspective_requests (api_key_id, text, languages, scores, model_id, client_token, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(r.api_key_id)
    .bind(&r.text)
    .bind(serde_json::to_string(&r.languages).expect("strings serialise"))
    .bind(r.scores.to_string())
    .bind(&r.model_id)
    .bind(&r.client_token)
    .bind(now())
    .execute(db)
    .await?
    .last_insert_rowid();
    Ok(id)
}
