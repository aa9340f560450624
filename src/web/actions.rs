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
use crate::api::moderation::{actor, decision_error, parse_expected_status};
use crate::app::AppState;
use crate::domain::moderation::{AuthorAction, DecisionAction, parse_note, parse_removal_reason};
use crate::store::{comments, queue};

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
    let action = match DecisionAction::parse(&form.action) {
        Ok(a) => a,
        Err(e) => return invalid(e.message.to_string()),
    };
    let reason = match (
        action,
        form.reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty()),
    ) {
        (DecisionAction::Remove, Some(r)) => match parse_removal_reason(r) {
            Ok(r) => Some(r),
            Err(e) => return invalid(e.message.to_string()),
        },
        (DecisionAction::Remove, None) => {
            return invalid("choose a reason to remove a comment".into());
        }
        // The bulk form always carries a reason; it means nothing for approve/restore.
        _ => None,
    };
    let note = match parse_note(form.note.as_deref()) {
        Ok(n) => n,
        Err(e) => return invalid(e.message.to_string()),
    };
    let expected = match form
        .expected_status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_expected_status)
        .transpose()
    {
        Ok(e) => e,
        Err(e) => return invalid(e.message.to_string()),
    };
    let max = app.live().config.limits.max_bulk_ids;
    if form.ids.is_empty() || form.ids.len() > max || form.ids.iter().any(|id| *id <= 0) {
        return invalid(format!("select between 1 and {max} comments"));
    }
    let results = match app
        .writer
        .decide(
            form.ids.clone(),
            action,
            expected,
            reason,
            note,
            actor(&session.moderator),
        )
        .await
    {
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
            Ok(o) => {
                app.metrics.decision(action);
                json!({"id": id, "ok": true, "status": o.status})
            }
            Err(e) => {
                let e = decision_error(e);
                json!({"id": id, "ok": false, "error": {"code": e.code, "message": e.message}})
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
    let comment = match form.comment_id {
        Some(id) => comments::get(app.store.reader(), id).await,
        None => Ok(None),
    };
    let key = match comment {
        Ok(Some(c)) => c.author_key,
        Ok(None) => {
            return fail(
                StatusCode::NOT_FOUND,
                "not_found",
                "comment not found",
                json,
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "loading a comment failed");
            return fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "could not load the comment",
                json,
            );
        }
    };
    let author = match app
        .writer
        .set_author_standing(key, action, None, None, actor(&session.moderator))
        .await
    {
        Ok(Some(a)) => a,
        Ok(None) => return fail(StatusCode::NOT_FOUND, "not_found", "author not found", json),
        Err(e) => {
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
