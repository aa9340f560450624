//! What the Perspective-compatible endpoints keep: SuggestCommentScore feedback (labelled
//! examples for calibration) and, only when configured, analyzed requests.

use serde_json::Value;

use super::{DbError, Pool, now};

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
    /// modgate's own scores for the text, `{attribute as sent: score}`, and the model
    /// that gave them; `None` when scoring failed (the feedback is kept anyway).
    pub model_scores: Option<(Value, String)>,
    pub language: Option<String>,
}

pub async fn add_feedback(db: &Pool, f: &Feedback) -> Result<i64, DbError> {
    let languages = f
        .languages
        .as_ref()
        .map(|l| serde_json::to_string(l).expect("strings serialise"));
    let id = on_pool!(db, p => {
        sqlx::query_scalar(
            "INSERT INTO perspective_feedback
                 (api_key_id, text, attribute_scores, languages, community_id, client_token, context,
                  model_scores, model_id, language, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(f.api_key_id)
        .bind(&f.text)
        .bind(f.attribute_scores.to_string())
        .bind(&languages)
        .bind(&f.community_id)
        .bind(&f.client_token)
        .bind(f.context.as_ref().map(Value::to_string))
        .bind(f.model_scores.as_ref().map(|(s, _)| s.to_string()))
        .bind(f.model_scores.as_ref().map(|(_, m)| m.clone()))
        .bind(&f.language)
        .bind(now())
        .fetch_one(p)
        .await?
    });
    Ok(id)
}

/// One attribute of one feedback request: the client's value and modgate's score.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredFeedback {
    pub attribute: String,
    /// What the client sent (Coral: 0 approved, 1 rejected).
    pub sent: f64,
    pub model_score: f64,
    pub model_id: String,
    pub language: Option<String>,
    pub created_at: String,
    pub text: String,
}

/// Feedback that modgate scored, oldest first, one row per attribute with both values.
pub async fn scored(
    db: &Pool,
    since: Option<&str>,
    language: Option<&str>,
) -> Result<Vec<ScoredFeedback>, DbError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        attribute_scores: String,
        model_scores: String,
        model_id: String,
        language: Option<String>,
        created_at: String,
        text: String,
    }
    let rows: Vec<Row> = on_pool!(db, p => {
        sqlx::query_as(
            "SELECT attribute_scores, model_scores, model_id, language, created_at, text
               FROM perspective_feedback
              WHERE model_scores IS NOT NULL
                AND ($1 IS NULL OR created_at >= $1)
                AND ($2 IS NULL OR language = $2)
              ORDER BY id",
        )
        .bind(since)
        .bind(language)
        .fetch_all(p)
        .await?
    });
    let mut out = Vec::new();
    for r in rows {
        let sent: Value = serde_json::from_str(&r.attribute_scores).unwrap_or_default();
        let ours: Value = serde_json::from_str(&r.model_scores).unwrap_or_default();
        let Some(sent) = sent.as_object() else {
            continue;
        };
        for (attribute, value) in sent {
            let sent_value = value
                .get("summaryScore")
                .or_else(|| value.get("summary_score"))
                .and_then(|s| s.get("value"))
                .and_then(Value::as_f64);
            let (Some(sent_value), Some(model_score)) = (sent_value, ours[attribute].as_f64())
            else {
                continue;
            };
            out.push(ScoredFeedback {
                attribute: attribute.clone(),
                sent: sent_value,
                model_score,
                model_id: r.model_id.clone(),
                language: r.language.clone(),
                created_at: r.created_at.clone(),
                text: r.text.clone(),
            });
        }
    }
    Ok(out)
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

pub async fn add_request(db: &Pool, r: &AnalyzedRequest) -> Result<i64, DbError> {
    let id = on_pool!(db, p => {
        sqlx::query_scalar(
            "INSERT INTO perspective_requests (api_key_id, text, languages, scores, model_id, client_token, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(r.api_key_id)
        .bind(&r.text)
        .bind(serde_json::to_string(&r.languages).expect("strings serialise"))
        .bind(r.scores.to_string())
        .bind(&r.model_id)
        .bind(&r.client_token)
        .bind(now())
        .fetch_one(p)
        .await?
    });
    Ok(id)
}
