//! Admins' view of webhook deliveries: `GET /api/v1/moderation/webhooks/deliveries`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Admin;
use crate::app::AppState;
use crate::domain::EventType;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::store::outbox::{self, DeliveryQuery};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/moderation/webhooks/deliveries",
        get(get_deliveries),
    )
}

#[derive(Deserialize)]
struct Params {
    status: Option<String>,
    event_type: Option<String>,
    endpoint: Option<String>,
    comment_id: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

fn bad_param(field: &'static str, message: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid",
        format!("{field} {message}"),
    )
    .with_field(field)
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// Newest first, each with its attempts: `{"deliveries": [...], "next_cursor": id|null}`.
#[utoipa::path(get, path = "/api/v1/moderation/webhooks/deliveries", tag = "moderation", security(("bearer" = [])),
    params(
        ("status" = Option<String>, Query, pattern = "^(pending|delivered|failed)?$", description = "pending, delivered or failed"),
        ("event_type" = Option<String>, Query, pattern = "^(comment\\.(created|held|decided|reported))?$", description = "comment.created, comment.held, comment.decided or comment.reported"),
        ("endpoint" = Option<String>, Query, description = "Endpoint name"),
        ("comment_id" = Option<i64>, Query),
        ("cursor" = Option<i64>, Query, description = "next_cursor of the previous page"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "1..=500, default 50"),
    ),
    responses(
        (status = 200, body = super::types::DeliveriesPage),
        (status = 400, description = "Bad filter, cursor or limit", body = super::types::ErrorBody),
        (status = 401, description = "No or bad token", body = super::types::ErrorBody),
        (status = 403, description = "Needs the admin role", body = super::types::ErrorBody),
    ))]
async fn get_deliveries(
    State(app): State<AppState>,
    _admin: Admin,
    ApiQuery(p): ApiQuery<Params>,
) -> ApiResult<Json<Value>> {
    let status = match nonempty(&p.status) {
        None => None,
        Some(s @ ("pending" | "delivered" | "failed")) => Some(s.to_string()),
        Some(_) => return Err(bad_param("status", "must be pending, delivered or failed")),
    };
    let event_type = match nonempty(&p.event_type) {
        None => None,
        Some(t) => Some(
            EventType::parse(t)
                .ok_or_else(|| bad_param("event_type", "is not a known event type"))?
                .as_str()
                .to_string(),
        ),
    };
    let int = |field: &'static str, v: &Option<String>| -> ApiResult<Option<i64>> {
        nonempty(v)
            .map(|s| {
                s.parse::<i64>()
                    .map_err(|_| bad_param(field, "must be an integer"))
            })
            .transpose()
    };
    let limit = int("limit", &p.limit)?.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(bad_param("limit", "must be 1..=500"));
    }
    let query = DeliveryQuery {
        status,
        event_type,
        endpoint: nonempty(&p.endpoint).map(str::to_string),
        comment_id: int("comment_id", &p.comment_id)?,
        before: int("cursor", &p.cursor)?,
        limit: limit + 1,
    };
    let mut rows = outbox::deliveries(app.store.reader(), &query).await?;
    let next = (rows.len() as i64 > limit).then(|| rows[limit as usize - 1].id);
    rows.truncate(limit as usize);
    Ok(Json(json!({ "deliveries": rows, "next_cursor": next })))
}
