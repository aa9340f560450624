//! The OpenAPI document served at `/openapi.json`, generated from the handlers'
//! `#[utoipa::path]` annotations and the response types' `ToSchema` derives.

use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::app::AppState;

/// Body of `POST /api/v1/comments`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NewCommentRequest {
    /// The site's own article id (1..=200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub article_id: String,
    /// Id of the comment this replies to, or null for a top-level comment.
    pub parent_id: Option<i64>,
    #[schema(max_length = 100)]
    pub author_name: String,
    pub author_email: Option<String>,
    /// Trimmed; 1..=1500 Unicode scalar values (configurable).
    #[schema(min_length = 1, max_length = 1500)]
    pub body: String,
}

/// Answer to an accepted comment.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CommentAccepted {
    pub id: i64,
    pub status: crate::scoring::Status,
    pub message: String,
}

/// Body of `POST /api/v1/comments/{id}/reports`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReportRequest {
    #[schema(pattern = "^(offensive|abusive|spam|other)$")]
    pub reason: String,
    pub note: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReportAccepted {
    pub id: i64,
    pub comment_id: i64,
    pub message: String,
}

/// Body of `PUT /api/v1/articles/{article_id}`; absent fields are left as they are.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ArticleRequest {
    pub title: Option<String>,
    pub url: Option<String>,
    pub closed: Option<bool>,
}

/// Body of a moderator decision.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DecisionRequestBody {
    #[schema(pattern = "^(approve|remove|restore)$")]
    pub action: String,
    /// Required for `remove`: offensive, abusive, spam, hate_speech, threat, off_topic, other.
    pub reason: Option<String>,
    pub note: Option<String>,
}

/// Body of a bulk decision.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BulkDecisionRequest {
    pub ids: Vec<i64>,
    #[schema(pattern = "^(approve|remove|restore)$")]
    pub action: String,
    pub reason: Option<String>,
    pub note: Option<String>,
}

/// Body of an author standing change; name the author by key or by one of their comments.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuthorStandingRequest {
    pub author_key: Option<String>,
    pub comment_id: Option<i64>,
    #[schema(pattern = "^(ban|unban|premoderate|unpremoderate)$")]
    pub action: String,
    pub reason: Option<String>,
    pub note: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

/// Every API error: `{"error": {"code", "message", "field"}}`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "modgate", description = "Self-hosted comment moderation"),
    paths(
        super::public::post_comment,
        super::public::get_thread,
        super::public::post_report,
        super::public::put_article,
        super::public::get_article,
        super::moderation::get_queue,
        super::moderation::get_counts,
        super::moderation::get_comment,
        super::moderation::post_decision,
        super::moderation::post_bulk_decisions,
        super::moderation::post_author_standing,
        super::moderation::get_log,
        super::moderation::get_moderators,
        super::moderation::get_me,
        super::health::healthz,
        super::health::readyz,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
