//! The OpenAPI document served at `/openapi.json`, generated from the handlers'
//! `#[utoipa::path]` annotations and the response types' `ToSchema` derives.

use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::app::AppState;

// Patterns state what `crate::domain` accepts, so schemathesis's valid examples get past
// validation: not blank after trimming, no control characters (C0, DEL, C1).

/// Body of `POST /api/v1/comments`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NewCommentRequest {
    /// The site's own article id: 1..=200 characters after trimming, no control
    /// characters or '/'.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^/\\u0000-\\u001F\\u007F-\\u009F]*[^\\s/\\u0000-\\u001F\\u007F-\\u009F][^/\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub article_id: String,
    /// Id of the comment this replies to (same article), or null for a top-level comment.
    #[schema(minimum = 1)]
    pub parent_id: Option<i64>,
    /// At most 100 characters after trimming, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub author_name: String,
    /// An address like name@example.org (at most 254 bytes); the pattern is a safe
    /// ASCII subset of what is accepted.
    #[schema(
        max_length = 254,
        pattern = "^[!-?A-~]+@[!-\\-/-?A-~][!-?A-~]*\\.[!-?A-~]*[!-\\-/-?A-~]$"
    )]
    pub author_email: Option<String>,
    /// Trimmed; 1..=1500 Unicode scalar values (configurable); no NUL.
    #[schema(
        min_length = 1,
        max_length = 1500,
        pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
    )]
    pub body: String,
}

/// Answer to an accepted comment.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CommentAccepted {
    pub id: i64,
    pub status: crate::domain::Status,
    pub message: String,
}

/// Body of `POST /api/v1/comments/{id}/reports`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReportRequest {
    #[schema(pattern = "^(offensive|abusive|spam|other)$")]
    pub reason: String,
    #[schema(max_length = 1000)]
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
    /// At most 500 characters; null clears it.
    #[schema(max_length = 500)]
    pub title: Option<String>,
    /// At most 2000 characters; null clears it.
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    /// Closed articles take no new comments.
    #[schema(nullable = false)]
    pub closed: Option<bool>,
}

/// Body of a moderator decision.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DecisionRequestBody {
    #[schema(pattern = "^(approve|remove|restore)$")]
    pub action: String,
    /// Required for `remove`.
    #[schema(pattern = "^(offensive|abusive|spam|hate_speech|threat|off_topic|other)?$")]
    pub reason: Option<String>,
    #[schema(max_length = 1000)]
    pub note: Option<String>,
    /// The status the moderator saw; when the comment's status has changed since, the
    /// decision is refused with 409 `status_changed` (two moderators, one comment).
    #[schema(pattern = "^(pending|published|removed)$")]
    pub expected_status: Option<String>,
}

/// Body of a bulk decision.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BulkDecisionRequest {
    /// Positive comment ids; at most `limits.max_bulk_ids` (500 by default).
    #[schema(schema_with = comment_ids)]
    pub ids: Vec<i64>,
    #[schema(pattern = "^(approve|remove|restore)$")]
    pub action: String,
    /// Required for `remove`.
    #[schema(pattern = "^(offensive|abusive|spam|hate_speech|threat|off_topic|other)?$")]
    pub reason: Option<String>,
    #[schema(max_length = 1000)]
    pub note: Option<String>,
    /// The status the moderator saw; when the comment's status has changed since, the
    /// decision is refused with 409 `status_changed` (two moderators, one comment).
    #[schema(pattern = "^(pending|published|removed)$")]
    pub expected_status: Option<String>,
}

/// `ids` of a bulk decision: 1..=500 positive comment ids.
fn comment_ids() -> utoipa::openapi::Array {
    use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Type};
    let id = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1));
    ArrayBuilder::new()
        .items(id)
        .min_items(Some(1))
        .max_items(Some(500))
        .build()
}

/// Body of an author standing change; name the author by key or by one of their comments.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuthorStandingRequest {
    pub author_key: Option<String>,
    pub comment_id: Option<i64>,
    #[schema(pattern = "^(ban|unban|premoderate|unpremoderate)$")]
    pub action: String,
    pub reason: Option<String>,
    #[schema(max_length = 1000)]
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

/// A page of `GET /api/v1/moderation/webhooks/deliveries`, newest first.
#[derive(Serialize, ToSchema)]
pub struct DeliveriesPage {
    pub deliveries: Vec<crate::store::outbox::Delivery>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<i64>,
}

/// `comment` of a Perspective request.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PerspectiveText {
    /// Not empty (white space alone is scored), at most `perspective.max_text_bytes` bytes
    /// of UTF-8 (20,480 by default).
    #[schema(min_length = 1)]
    pub text: String,
    /// `PLAIN_TEXT` (the default, as is `TEXT_TYPE_UNSPECIFIED`); `HTML` is refused.
    #[serde(rename = "type")]
    pub kind: Option<PerspectiveTextType>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
pub enum PerspectiveTextType {
    TEXT_TYPE_UNSPECIFIED,
    PLAIN_TEXT,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
pub enum PerspectiveScoreType {
    SCORE_TYPE_UNSPECIFIED,
    PROBABILITY,
}

/// Options of one requested attribute.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PerspectiveAttributeParameters {
    pub score_type: Option<PerspectiveScoreType>,
    /// Scores below it are left out of the response (a string holding a number is
    /// accepted too, as in proto3 JSON).
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub score_threshold: Option<f32>,
}

/// The attributes to score (at least one) and their options (null for none). Names are
/// read in any case, with a version suffix (`TOXICITY@6`) or `_EXPERIMENTAL`;
/// `SEXUALLY_EXPLICIT` and `OBSCENE` read `obscene`, `ATTACK_ON_AUTHOR` and
/// `ATTACK_ON_COMMENTER` read `insult` (docs/perspective.md).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestedAttributes {
    #[serde(rename = "TOXICITY")]
    pub toxicity: Option<PerspectiveAttributeParameters>,
    #[serde(rename = "SEVERE_TOXICITY")]
    pub severe_toxicity: Option<PerspectiveAttributeParameters>,
    #[serde(rename = "IDENTITY_ATTACK")]
    pub identity_attack: Option<PerspectiveAttributeParameters>,
    #[serde(rename = "INSULT")]
    pub insult: Option<PerspectiveAttributeParameters>,
    #[serde(rename = "PROFANITY")]
    pub profanity: Option<PerspectiveAttributeParameters>,
    #[serde(rename = "THREAT")]
    pub threat: Option<PerspectiveAttributeParameters>,
}

/// Languages the shipped models read; any BCP 47 tag of them (`en-US`) is accepted as long
/// as one of the request's languages is. A hint: the text's script decides first.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PerspectiveLanguage {
    En,
    Ru,
    Kk,
    Uz,
    De,
    Es,
    Fr,
    It,
    Pt,
    Tr,
}

/// Body of `POST /v1alpha1/comments:analyze` (Perspective's AnalyzeCommentRequest; the
/// snake_case field names are accepted too, unknown fields are ignored).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeCommentRequest {
    pub comment: PerspectiveText,
    pub requested_attributes: RequestedAttributes,
    /// Detected from the text when absent or empty.
    pub languages: Option<Vec<PerspectiveLanguage>>,
    pub do_not_store: Option<bool>,
    /// Score each sentence as well.
    pub span_annotations: Option<bool>,
    /// Echoed in the response.
    pub client_token: Option<String>,
    /// Leave out requested attributes modgate does not score instead of failing.
    pub drop_unsupported_attributes: Option<bool>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PerspectiveScore {
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub value: f32,
    /// Always `PROBABILITY`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A span's score; offsets are UTF-16 code units into `comment.text`, end exclusive.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PerspectiveSpanScore {
    pub begin: usize,
    pub end: usize,
    pub score: PerspectiveScore,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PerspectiveAttributeScores {
    /// Absent when empty.
    pub span_scores: Option<Vec<PerspectiveSpanScore>>,
    pub summary_score: PerspectiveScore,
}

/// Answer of `comments:analyze`.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeCommentResponse {
    /// Per requested attribute key, as sent; `{}` when every score fell below its
    /// threshold.
    pub attribute_scores: std::collections::BTreeMap<String, PerspectiveAttributeScores>,
    pub languages: Vec<String>,
    pub detected_languages: Vec<String>,
    pub client_token: Option<String>,
}

/// Body of `POST /v1alpha1/comments:suggestscore` (Perspective's
/// SuggestCommentScoreRequest), stored as labelled feedback.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestCommentScoreRequest {
    pub comment: PerspectiveText,
    /// Attribute name → `{"summaryScore": {"value": 0..=1}}`, at least one; names are kept
    /// as sent. Coral Talk sends its model name (`TOXICITY`) with 0 when a moderator
    /// approved the comment and 1 when they rejected it, and `clientToken: "comment:<id>"`.
    #[schema(schema_with = suggested_scores)]
    pub attribute_scores: std::collections::BTreeMap<String, serde_json::Value>,
    pub languages: Option<Vec<String>>,
    pub community_id: Option<String>,
    pub client_token: Option<String>,
    pub context: Option<serde_json::Value>,
}

/// Schema of `attributeScores` in a suggestscore request.
fn suggested_scores() -> utoipa::openapi::Object {
    use utoipa::openapi::{ObjectBuilder, Type};
    let value = ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(0.0))
        .maximum(Some(1.0));
    let summary = ObjectBuilder::new().property("value", value);
    let score = ObjectBuilder::new().property("summaryScore", summary);
    ObjectBuilder::new()
        .min_properties(Some(1))
        .additional_properties(Some(score))
        .build()
}

/// Answer of `comments:suggestscore`: the client token when one was sent.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestCommentScoreResponse {
    pub client_token: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PerspectiveErrorDetail {
    /// The HTTP status again.
    pub code: u16,
    pub message: String,
    /// Google status name: INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, ...
    pub status: String,
    /// `[{"@type": ..., "errorType": "COMMENT_EMPTY", ...}]` for invalid requests.
    pub details: Option<Vec<serde_json::Value>>,
}

/// Errors of the Perspective routes, in Google API style.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PerspectiveErrorBody {
    pub error: PerspectiveErrorDetail,
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
        super::stats::get_stats,
        super::health::healthz,
        super::health::readyz,
        super::webhooks::get_deliveries,
        super::perspective::analyze,
        super::perspective::suggest_score,
    ),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        use utoipa::openapi::{RefOr, Schema};
        let components = openapi.components.get_or_insert_with(Default::default);
        // At least one attribute. Set here: utoipa-gen 5.5.0 writes
        // `#[schema(min_properties = ..)]` out as maxProperties.
        if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut("RequestedAttributes")
        {
            o.min_properties = Some(1);
        }
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // Perspective routes: a key from `modgate apikey add`, as `?key=` or a header.
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("key"))),
        );
        components.add_security_scheme(
            "api_key_header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Goog-Api-Key"))),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
