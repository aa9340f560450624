//! Moderators' JSON API: queues, decisions, author standing, the moderation log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Admin, AnyModerator};
use super::types::{
    AuthorStandingRequest, BulkDecisionError, BulkDecisionRequest, BulkDecisionResponse,
    BulkDecisionResult, DecisionRequestBody,
};
use crate::app::AppState;
use crate::domain::Language;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::json::{JsonBody, parse_fields};
use crate::store::moderation;
use crate::store::queue::{self, Cursor, QueueQuery, QueueState, Sort};
use crate::store::{comments, moderators};
use crate::usecases::{self, AuthorRefused, Refused};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/moderation/queue", get(get_queue))
        .route("/api/v1/moderation/counts", get(get_counts))
        .route("/api/v1/moderation/comments/{id}", get(get_comment))
        .route(
            "/api/v1/moderation/comments/{id}/decision",
            post(post_decision),
        )
        .route("/api/v1/moderation/decisions", post(post_bulk_decisions))
        .route("/api/v1/moderation/authors", post(post_author_standing))
        .route("/api/v1/moderation/log", get(get_log))
        .route("/api/v1/moderation/moderators", get(get_moderators))
        .route("/api/v1/moderation/me", get(get_me))
}

fn bad_param(field: &'static str, message: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid",
        format!("{field} {message}"),
    )
    .with_field(field)
}

#[derive(Deserialize)]
pub struct QueueParams {
    state: Option<String>,
    article_id: Option<String>,
    language: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

impl QueueParams {
    pub fn parse(&self) -> ApiResult<QueueQuery> {
        let state = match self.state.as_deref() {
            None | Some("") => QueueState::Pending,
            Some(s) => QueueState::parse(s).ok_or_else(|| {
                bad_param("state", "must be pending, reported, removed or approved")
            })?,
        };
        let sort = match self.sort.as_deref() {
            None | Some("") => Sort::Oldest,
            Some(s) => Sort::parse(s)
                .ok_or_else(|| bad_param("sort", "must be oldest, newest or score"))?,
        };
        let cursor = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(c) => Some(Cursor::decode(c).ok_or_else(|| bad_param("cursor", "is not valid"))?),
        };
        // A cursor only continues the sort order that made it (a time cursor compared with
        // scores was a database type error, answered 500).
        if cursor.as_ref().is_some_and(|c| !c.continues(sort)) {
            return Err(bad_param("cursor", "belongs to another sort order"));
        }
        let language = match self.language.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(l) => Some(Language::parse(l).ok_or_else(|| {
                bad_param(
                    "language",
                    &format!("must be a detected language: {}", Language::codes()),
                )
            })?),
        };
        let limit = match self.limit.as_deref() {
            None | Some("") => 50,
            Some(l) => l
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=200).contains(n))
                .ok_or_else(|| bad_param("limit", "must be 1..=200"))?,
        };
        Ok(QueueQuery {
            state,
            article_id: self.article_id.clone().filter(|a| !a.is_empty()),
            language: language.map(|l| l.code().to_string()),
            sort,
            cursor,
            limit,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/moderation/queue", tag = "moderation", security(("bearer" = [])),
    params(
        ("state" = Option<String>, Query, pattern = "^(pending|reported|removed|approved)?$", description = "pending (default), reported, removed, approved"),
        ("article_id" = Option<String>, Query),
        ("language" = Option<String>, Query, pattern = "^(en|ru|kk|uz|de|es|fr|it|pt|tr)?$", description = "Detected language: en, ru, kk, uz, de, es, fr, it, pt or tr"),
        ("sort" = Option<String>, Query, pattern = "^(oldest|newest|score)?$", description = "oldest (default), newest, score"),
        ("cursor" = Option<String>, Query),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "1..=200"),
    ),
    responses(
        (status = 200, body = crate::store::queue::QueuePage),
        (status = 400, body = super::types::ErrorBody),
        (status = 401, description = "No or bad token", body = super::types::ErrorBody),
    ))]
pub(crate) async fn get_queue(
    State(app): State<AppState>,
    _m: AnyModerator,
    ApiQuery(params): ApiQuery<QueueParams>,
) -> ApiResult<Json<queue::QueuePage>> {
    let q = params.parse()?;
    Ok(Json(queue::list(app.store.reader(), &q).await?))
}

#[derive(Deserialize)]
pub(crate) struct CountParams {
    article_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/moderation/counts", tag = "moderation", security(("bearer" = [])),
    params(("article_id" = Option<String>, Query)),
    responses(
        (status = 200, description = "Queue sizes", body = std::collections::BTreeMap<String, i64>),
        (status = 400, description = "Malformed query string", body = super::types::ErrorBody),
        (status = 401, description = "No or bad token", body = super::types::ErrorBody),
    ))]
pub(crate) async fn get_counts(
    State(app): State<AppState>,
    _m: AnyModerator,
    ApiQuery(p): ApiQuery<CountParams>,
) -> ApiResult<Json<Value>> {
    let counts = queue::counts(
        app.store.reader(),
        p.article_id.as_deref().filter(|a| !a.is_empty()),
    )
    .await?;
    let map: serde_json::Map<String, Value> = counts
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), json!(n)))
        .collect();
    Ok(Json(Value::Object(map)))
}

fn parse_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::not_found("comment"))
}

#[utoipa::path(get, path = "/api/v1/moderation/comments/{id}", tag = "moderation", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = crate::store::queue::QueueItem),
        (status = 400, description = "Path not UTF-8", body = super::types::ErrorBody),
        (status = 401, description = "No or bad token", body = super::types::ErrorBody),
        (status = 404, body = super::types::ErrorBody),
    ))]
pub(crate) async fn get_comment(
    State(app): State<AppState>,
    _m: AnyModerator,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<queue::QueueItem>> {
    let id = parse_id(&id)?;
    let c = comments::read(app.store.reader(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("comment"))?;
    Ok(Json(queue::read_item(app.store.reader(), c).await?))
}

fn refused(e: Refused) -> ApiError {
    match e {
        Refused::NotFound => ApiError::not_found("comment"),
        Refused::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
        Refused::Internal(e) => ApiError::internal(e),
    }
}

#[utoipa::path(post, path = "/api/v1/moderation/comments/{id}/decision", tag = "moderation", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = super::types::DecisionRequestBody,
    responses(
        (status = 200, body = crate::store::moderation::DecisionOutcome),
        (status = 400, body = super::types::ErrorBody),
        (status = 401, description = "No or bad token", body = super::types::ErrorBody),
        (status = 404, body = super::types::ErrorBody),
        (status = 409, description = "Invalid transition, or the status changed since `expected_status`", body = super::types::ErrorBody),
        (status = 415, body = super::types::ErrorBody),
        (status = 422, body = super::types::ErrorBody),
    ))]
pub(crate) async fn post_decision(
    State(app): State<AppState>,
    AnyModerator(m): AnyModerator,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<moderation::DecisionOutcome>> {
    let id = parse_id(&id)?;
    let decision = parse_fields::<DecisionRequestBody>(body)?.validate()?;
    let outcome = usecases::decide(&app, vec![id], &decision, &m)
        .await?
        .pop()
        .expect("one result per id")
        .map_err(refused)?;
    Ok(Json(outcome))
}

#[utoipa::path(post, path = "/api/v1/moderation/decisions", tag = "moderation", security(("bearer" = [])),
    request_body = super::types::BulkDecisionRequest,
    responses(
        (status = 200, description = "One result per id", body = super::types::BulkDecisionResponse),
        (status = 400, body = super::types::ErrorBody),
        (status = 401, description = "No or bad token", body = super::types::ErrorBody),
        (status = 413, description = "Too many ids", body = super::types::ErrorBody),
        (status = 415, body = super::types::ErrorBody),
        (status = 422, body = super::types::ErrorBody),
    ))]
pub(crate) async fn post_bulk_decisions(
    State(app): State<AppState>,
    AnyModerator(m): AnyModerator,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<BulkDecisionResponse>> {
    let request: BulkDecisionRequest = parse_fields(body)?;
    let (decision, ids) = request.validate()?;
    let max = app.live().config.limits.max_bulk_ids;
    if ids.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_ids",
            format!("at most {max} ids per request (got {})", ids.len()),
        )
        .with_field("ids"));
    }
    let ids = BulkDecisionRequest::comment_ids(ids)?;
    let results = usecases::decide(&app, ids.clone(), &decision, &m).await?;
    let results = ids
        .iter()
        .zip(results)
        .map(|(&id, r)| match r {
            Ok(o) => BulkDecisionResult {
                id,
                ok: true,
                old_status: Some(o.old_status),
                status: Some(o.status),
                error: None,
            },
            Err(e) => {
                let e = refused(e);
                BulkDecisionResult {
                    id,
                    ok: false,
                    old_status: None,
                    status: None,
                    error: Some(BulkDecisionError {
                        code: e.code.to_string(),
                        message: e.message,
                    }),
                }
            }
        })
        .collect();
    Ok(Json(BulkDecisionResponse { results }))
}

#[utoipa::path(post, path = "/api/v1/moderation/authors", tag = "moderation", security(("bearer" = [])),
    request_body = super::types::AuthorStandingRequest,
    responses(
        (status = 200, description = "The author after the change", body = Object),
        (status = 400, body = super::types::ErrorBody),
        (status = 401, description = "No or bad token", body = super::types::ErrorBody),
        (status = 404, body = super::types::ErrorBody),
        (status = 415, body = super::types::ErrorBody),
        (status = 422, body = super::types::ErrorBody),
    ))]
pub(crate) async fn post_author_standing(
    State(app): State<AppState>,
    AnyModerator(m): AnyModerator,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let change = parse_fields::<AuthorStandingRequest>(body)?.validate()?;
    let author = usecases::set_author_standing(
        &app,
        change.author,
        change.action,
        change.reason,
        change.note,
        &m,
    )
    .await
    .map_err(|e| match e {
        AuthorRefused::CommentNotFound => ApiError::not_found("comment").with_field("comment_id"),
        AuthorRefused::AuthorNotFound => ApiError::not_found("author").with_field("author_key"),
        AuthorRefused::Internal(e) => ApiError::internal(e),
    })?;
    Ok(Json(json!({ "author": author })))
}

#[derive(Deserialize)]
pub(crate) struct LogParams {
    cursor: Option<String>,
    limit: Option<String>,
    comment_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/moderation/log", tag = "moderation", security(("bearer" = [])),
    params(
        ("cursor" = Option<i64>, Query),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "1..=500"),
        ("comment_id" = Option<i64>, Query),
    ),
    responses(
        (status = 200, description = "entries (newest first) and next_cursor", body = Object),
        (status = 400, body = super::types::ErrorBody),
        (status = 401, description = "No or bad token", body = super::types::ErrorBody),
    ))]
pub(crate) async fn get_log(
    State(app): State<AppState>,
    _m: AnyModerator,
    ApiQuery(p): ApiQuery<LogParams>,
) -> ApiResult<Json<Value>> {
    let before = match p.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| bad_param("cursor", "is not valid"))?,
        ),
    };
    let limit = match p.limit.as_deref() {
        None | Some("") => 50,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| bad_param("limit", "must be 1..=500"))?,
    };
    let comment_id = match p.comment_id.as_deref() {
        None | Some("") => None,
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| bad_param("comment_id", "must be an integer"))?,
        ),
    };
    let rows = moderation::list(app.store.reader(), before, limit + 1, comment_id).await?;
    let next = (rows.len() as i64 > limit).then(|| rows[limit as usize - 1].id);
    let entries: Vec<_> = rows.into_iter().take(limit as usize).collect();
    Ok(Json(json!({ "entries": entries, "next_cursor": next })))
}

#[utoipa::path(get, path = "/api/v1/moderation/moderators", tag = "moderation", security(("bearer" = [])),
    responses(
        (status = 200, body = Object),
        (status = 401, description = "No or bad token", body = super::types::ErrorBody),
        (status = 403, description = "Needs the admin role", body = super::types::ErrorBody),
    ))]
pub(crate) async fn get_moderators(
    State(app): State<AppState>,
    _a: Admin,
) -> ApiResult<Json<Value>> {
    let list = moderators::list(app.store.reader()).await?;
    Ok(Json(json!({ "moderators": list })))
}

#[utoipa::path(get, path = "/api/v1/moderation/me", tag = "moderation", security(("bearer" = [])),
    responses(
        (status = 200, body = Object),
        (status = 401, description = "No or bad token", body = super::types::ErrorBody),
    ))]
pub(crate) async fn get_me(AnyModerator(m): AnyModerator) -> Json<Value> {
    Json(json!({ "moderator": m }))
}
