//! Readers' API: post a comment, read a thread, report a comment; the site sets article facts.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;

use super::types::{
    ArticleRequest, CommentAccepted, NewCommentRequest, ReportAccepted, ReportRequest,
};
use crate::app::AppState;
use crate::config::BannedAction;
use crate::domain::ArticleId;
use crate::domain::Status;
use crate::http::client_ip::ClientIp;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::json::{JsonBody, parse_fields};
use crate::http::thread_cache::{self, Lookup, ThreadKey};
use crate::store::comments::{self, IntakeError, IntakeMeta};
use crate::store::{articles, reports};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/comments", post(post_comment))
        .route("/api/v1/comments/{id}/reports", post(post_report))
        .route("/api/v1/articles/{article_id}/comments", get(get_thread))
        .route(
            "/api/v1/articles/{article_id}",
            put(put_article).get(get_article),
        )
}

fn status_message(status: Status) -> &'static str {
    match status {
        Status::Published => "Your comment is published.",
        Status::Pending => "Your comment will be published after a moderator has reviewed it.",
        Status::Removed => {
            "Your comment was not published because it violates the comments policy."
        }
    }
}

fn intake_error(e: IntakeError) -> ApiError {
    match e {
        IntakeError::ArticleClosed => ApiError::new(
            StatusCode::CONFLICT,
            "article_closed",
            "this article is closed to new comments",
        )
        .with_field("article_id"),
        IntakeError::ParentNotFound => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parent_not_found",
            "parent_id does not name a comment of this article",
        )
        .with_field("parent_id"),
        IntakeError::ParentRemoved => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parent_removed",
            "parent_id names a removed comment; replies to it are closed",
        )
        .with_field("parent_id"),
        IntakeError::Db(e) => ApiError::internal(e),
    }
}

/// `POST /api/v1/comments`: validate, score, store with its verdict, then answer.
#[utoipa::path(post, path = "/api/v1/comments", tag = "public",
    request_body = super::types::NewCommentRequest,
    responses(
        (status = 201, description = "Stored with its verdict", body = super::types::CommentAccepted),
        (status = 200, description = "Duplicate of a recent identical post: the first comment", body = super::types::CommentAccepted),
        (status = 400, description = "Malformed JSON, invalid UTF-8 or too deep", body = super::types::ErrorBody),
        (status = 403, description = "Banned author (when configured to reject)", body = super::types::ErrorBody),
        (status = 409, description = "Article closed", body = super::types::ErrorBody),
        (status = 413, description = "Body too large", body = super::types::ErrorBody),
        (status = 415, description = "Not JSON", body = super::types::ErrorBody),
        (status = 422, description = "A field is missing or invalid", body = super::types::ErrorBody),
        (status = 429, description = "Rate limited", body = super::types::ErrorBody),
    ))]
pub(crate) async fn post_comment(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<CommentAccepted>)> {
    let live = app.live();
    let request: NewCommentRequest = parse_fields(body)?;
    let new = request.validate(live.config.comments.rules())?;
    app.limits.check_post(ip.as_deref(), &new.author_key())?;

    // One read for both: standing and placement (re-checked by the writer).
    let (standing, placement) = comments::intake_facts(app.store.reader(), &new).await?;
    if standing.banned && live.config.comments.banned_authors == BannedAction::Reject {
        return Err(
            ApiError::forbidden("this author may not post comments").with_field("author_name")
        );
    }
    placement.map_err(intake_error)?;

    let scored = app.score_comment(&live, &new.body, standing).await;
    let meta = IntakeMeta {
        client_ip: ip,
        language: scored.language.clone(),
        duplicate_window_secs: live.config.limits.duplicate_window_secs,
        skip_webhook_events: live.config.webhooks.is_empty(),
    };
    let inserted = app
        .writer
        .insert_comment(new, scored.verdict, meta)
        .await
        .map_err(intake_error)?;
    app.metrics
        .comment_received(inserted.status, inserted.duplicate);
    let code = if inserted.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        code,
        Json(CommentAccepted {
            id: inserted.id,
            status: inserted.status,
            message: status_message(inserted.status).to_string(),
        }),
    ))
}

#[derive(Deserialize)]
pub(crate) struct ThreadQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v1/articles/{article_id}/comments`: the public thread.
#[utoipa::path(get, path = "/api/v1/articles/{article_id}/comments", tag = "public",
    params(
        ("article_id" = String, Path, description = "The site's article id", min_length = 1, max_length = 200, pattern = "^[^/\\u0000-\\u001F\\u007F-\\u009F]*[^\\s/\\u0000-\\u001F\\u007F-\\u009F][^/\\u0000-\\u001F\\u007F-\\u009F]*$"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "Top-level comments per page, 1..=500"),
        ("cursor" = Option<i64>, Query, description = "next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "The public thread", body = crate::store::comments::Thread),
        (status = 400, description = "Bad limit or cursor", body = super::types::ErrorBody),
        (status = 422, description = "Invalid article id", body = super::types::ErrorBody),
    ))]
pub(crate) async fn get_thread(
    State(app): State<AppState>,
    ApiPath(article_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ThreadQuery>,
) -> ApiResult<Response> {
    let article_id = ArticleId::parse("article_id", &article_id)?;
    let limit = match q.limit.as_deref() {
        None => 100,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid", "limit must be 1..=500")
                    .with_field("limit")
            })?,
    };
    let after = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid", "cursor is not valid")
                .with_field("cursor")
        })?),
    };
    let hide_reported = app.live().config.comments.hide_reported;
    let key = ThreadKey {
        article_id: article_id.as_str().to_string(),
        after,
        limit,
        hide_reported,
    };
    // Taken before the database is read: a write committed after this moves it.
    let version = app.store.versions().current(article_id.as_str());
    let load = || async {
        let thread = comments::thread(
            app.store.reader(),
            article_id.as_str(),
            hide_reported,
            after,
            limit,
        )
        .await?;
        let body = serde_json::to_vec(&thread).map_err(ApiError::internal)?;
        Ok::<_, ApiError>(Bytes::from(body))
    };
    let body = match app.thread_cache.lookup(&key, version) {
        Lookup::Hit(body) => body,
        Lookup::Wait(flight) => match thread_cache::wait(flight).await {
            Some(body) => body,
            None => load().await?,
        },
        Lookup::Load(loading) => {
            let body = load().await?;
            loading.finish(body.clone());
            body
        }
        Lookup::Uncached => load().await?,
    };
    Ok(json_response(body))
}

/// A serialised JSON body as `Json` would send it.
fn json_response(body: Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// `PUT /api/v1/articles/{article_id}`: title, URL and closing to new comments.
#[utoipa::path(put, path = "/api/v1/articles/{article_id}", tag = "public",
    params(("article_id" = String, Path, description = "The site's article id", min_length = 1, max_length = 200, pattern = "^[^/\\u0000-\\u001F\\u007F-\\u009F]*[^\\s/\\u0000-\\u001F\\u007F-\\u009F][^/\\u0000-\\u001F\\u007F-\\u009F]*$")),
    request_body = super::types::ArticleRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The article", body = crate::store::articles::Article),
        (status = 400, body = super::types::ErrorBody),
        (status = 401, body = super::types::ErrorBody),
        (status = 415, body = super::types::ErrorBody),
        (status = 422, body = super::types::ErrorBody),
    ))]
pub(crate) async fn put_article(
    State(app): State<AppState>,
    _moderator: super::auth::AnyModerator,
    ApiPath(article_id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<articles::Article>> {
    let article_id = ArticleId::parse("article_id", &article_id)?;
    let request: ArticleRequest = parse_fields(body)?;
    let update = request.validate()?;
    let article = app
        .writer
        .upsert_article(article_id.as_str(), update)
        .await?;
    Ok(Json(article))
}

#[utoipa::path(get, path = "/api/v1/articles/{article_id}", tag = "public",
    params(("article_id" = String, Path, description = "The site's article id", min_length = 1, max_length = 200, pattern = "^[^/\\u0000-\\u001F\\u007F-\\u009F]*[^\\s/\\u0000-\\u001F\\u007F-\\u009F][^/\\u0000-\\u001F\\u007F-\\u009F]*$")),
    responses(
        (status = 200, description = "The article", body = crate::store::articles::Article),
        (status = 400, description = "Path not UTF-8", body = super::types::ErrorBody),
        (status = 404, body = super::types::ErrorBody),
        (status = 422, body = super::types::ErrorBody),
    ))]
pub(crate) async fn get_article(
    State(app): State<AppState>,
    ApiPath(article_id): ApiPath<String>,
) -> ApiResult<Json<articles::Article>> {
    let article_id = ArticleId::parse("article_id", &article_id)?;
    let article = articles::read(app.store.reader(), article_id.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found("article"))?;
    Ok(Json(article))
}

/// `POST /api/v1/comments/{id}/reports`: a reader report.
#[utoipa::path(post, path = "/api/v1/comments/{id}/reports", tag = "public",
    params(("id" = i64, Path, description = "Comment id")),
    request_body = super::types::ReportRequest,
    responses(
        (status = 201, body = super::types::ReportAccepted),
        (status = 200, description = "this client had already reported the comment: the first report", body = super::types::ReportAccepted),
        (status = 400, body = super::types::ErrorBody),
        (status = 404, body = super::types::ErrorBody),
        (status = 415, body = super::types::ErrorBody),
        (status = 422, body = super::types::ErrorBody),
        (status = 429, body = super::types::ErrorBody),
    ))]
pub(crate) async fn post_report(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<ReportAccepted>)> {
    let id: i64 = id
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::not_found("comment"))?;
    app.limits.check_report(ip.as_deref())?;
    let request: ReportRequest = parse_fields(body)?;
    let (reason, note) = request.validate()?;
    let reports_to_queue = app.live().config.comments.reports_to_queue;
    let outcome = app
        .writer
        .add_report(id, reason, note, ip, reports_to_queue)
        .await
        .map_err(|e| match e {
            reports::ReportError::NotFound => ApiError::not_found("comment"),
            reports::ReportError::Db(e) => ApiError::internal(e),
        })?;
    let status = if outcome.repeated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(ReportAccepted {
            id: outcome.report_id,
            comment_id: id,
            message: "Thank you, a moderator will look at this comment.".to_string(),
        }),
    ))
}
