//! Console actions: decisions on comments (one or many) and author standing.
//!
//! Undo is client-side: the console script holds an approve/remove for a few seconds
//! before posting it here, and `u` cancels it unsent (as Gmail does). So no "unapprove"
//! transition is needed, and what reaches the server and the log is only what the
//! moderator let stand. Forms posted without the script apply at once.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::fail;
use super::form::CsrfForm;
use super::session::safe_next;
use crate::app::AppState;
use crate::domain::moderation::AuthorAction;
use crate::store::queue;
use crate::usecases::{self, AuthorRef, AuthorRefused, Decision, Refused};

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    ids: Vec<i64>,
    reason: Option<String>,
    note: Option<String>,
    /// The status the page showed (the console always sends it).
    expected_status: Option<String>,
    back: Option<String>,
}

async fn counts_json(app: &AppState) -> Value {
    match queue::counts(app.store.reader(), None).await {
        Ok(c) => c
            .into_iter()
            .map(|(s, n)| (s.as_str().to_string(), json!(n)))
            .collect(),
        Err(_) => Value::Null,
    }
}

pub async fn decide(State(app): State<AppState>, f: CsrfForm<DecisionForm>) -> Response {
    let CsrfForm {
        session,
        form,
        json,
    } = f;
    let invalid = |m: String| fail(StatusCode::UNPROCESSABLE_ENTITY, "invalid", &m, json);
    // The bulk form always carries a reason; it means nothing for approve or restore. A
    // blank expected status is a page that did not send one.
    let reason = form.reason.as_deref().filter(|_| form.action == "remove");
    let expected = form
        .expected_status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let decision = match Decision::parse(
        Some(form.action.as_str()),
        reason,
        form.note.as_deref(),
        expected,
    ) {
        Ok(d) => d,
        Err(e) => return invalid(format!("{} {}", e.field, e.message)),
    };
    let max = app.live().config.limits.max_bulk_ids;
    if form.ids.is_empty() || form.ids.len() > max || form.ids.iter().any(|id| *id <= 0) {
        return invalid(format!("select between 1 and {max} comments"));
    }
    let results =
        match usecases::decide(&app, form.ids.clone(), &decision, &session.moderator).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "console decision failed");
                return fail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the decision was not saved",
                    json,
                );
            }
        };
    let results: Vec<Value> = form
        .ids
        .iter()
        .zip(results)
        .map(|(id, r)| match r {
            Ok(o) => json!({"id": id, "ok": true, "status": o.status}),
            Err(Refused::NotFound) => json!({"id": id, "ok": false,
                "error": {"code": "not_found", "message": "comment not found"}}),
            Err(Refused::Conflict { code, message }) => {
                json!({"id": id, "ok": false, "error": {"code": code, "message": message}})
            }
            Err(Refused::Internal(e)) => {
                tracing::error!(error = %e, id, "console decision failed");
                json!({"id": id, "ok": false,
                    "error": {"code": "internal", "message": "the decision was not saved"}})
            }
        })
        .collect();
    if json {
        let counts = counts_json(&app).await;
        Json(json!({"results": results, "counts": counts})).into_response()
    } else {
        Redirect::to(&safe_next(form.back.as_deref())).into_response()
    }
}

#[derive(Deserialize)]
pub struct AuthorForm {
    #[serde(default)]
    action: String,
    comment_id: Option<i64>,
    back: Option<String>,
}

/// Ban / pre-moderate (or lift either) the author of a comment.
pub async fn author(State(app): State<AppState>, f: CsrfForm<AuthorForm>) -> Response {
    let CsrfForm {
        session,
        form,
        json,
    } = f;
    let action = match AuthorAction::parse(&form.action) {
        Ok(a) => a,
        Err(e) => {
            return fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                &e.message,
                json,
            );
        }
    };
    let Some(comment_id) = form.comment_id else {
        return fail(
            StatusCode::NOT_FOUND,
            "not_found",
            "comment not found",
            json,
        );
    };
    let changed = usecases::set_author_standing(
        &app,
        AuthorRef::Comment(comment_id),
        action,
        None,
        None,
        &session.moderator,
    )
    .await;
    let author = match changed {
        Ok(a) => a,
        Err(AuthorRefused::CommentNotFound) => {
            return fail(
                StatusCode::NOT_FOUND,
                "not_found",
                "comment not found",
                json,
            );
        }
        Err(AuthorRefused::AuthorNotFound) => {
            return fail(StatusCode::NOT_FOUND, "not_found", "author not found", json);
        }
        Err(AuthorRefused::Internal(e)) => {
            tracing::error!(error = %e, "changing author standing failed");
            return fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the change was not saved",
                json,
            );
        }
    };
    if json {
        Json(json!({ "author": author })).into_response()
    } else {
        Redirect::to(&safe_next(form.back.as_deref())).into_response()
    }
}
