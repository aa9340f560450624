//! `GET /api/v1/moderation/stats` (admin): how often moderators overrule the system, per
//! model, rules version, language and week ([`crate::learning::agreement`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::Admin;
use crate::app::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::ApiQuery;
use crate::learning::{
    self,
    agreement::{self, AgreementReport},
};
use crate::store::decisions::{self, DecisionFilter};
use crate::store::feedback;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/moderation/stats", get(get_stats))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StatsParams {
    since: Option<String>,
    language: Option<String>,
}

fn bad_param(field: &'static str, message: String) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid",
        format!("{field} {message}"),
    )
    .with_field(field)
}

/// The filters, or 400 naming the field.
fn filter(since: Option<&str>, language: Option<&str>) -> Result<DecisionFilter, ApiError> {
    learning::filter(since, language).map_err(|e| bad_param(e.field, e.message))
}

#[utoipa::path(get, path = "/api/v1/moderation/stats", tag = "moderation", security(("bearer" = [])),
    params(
        ("since" = Option<String>, Query, description = "Decisions from this date (2026-11-30) or RFC 3339 time on"),
        ("language" = Option<String>, Query, pattern = "^(en|ru|kk|uz|de|es|fr|it|pt|tr)?$", description = "Only comments detected as this language"),
    ),
    responses(
        (status = 200, body = AgreementReport),
        (status = 400, body = super::types::ErrorBody),
        (status = 401, description = "No or bad token", body = super::types::ErrorBody),
        (status = 403, description = "Needs the admin role", body = super::types::ErrorBody),
    ))]
pub(crate) async fn get_stats(
    State(app): State<AppState>,
    _a: Admin,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> ApiResult<Json<AgreementReport>> {
    let filter = filter(p.since.as_deref(), p.language.as_deref())?;
    let rows = decisions::list(app.store.reader(), &filter).await?;
    let feedback = feedback::scored(
        app.store.reader(),
        filter.since.as_deref(),
        filter.language.as_deref(),
    )
    .await?;
    Ok(Json(agreement::report(
        &rows,
        &feedback,
        &app.current_versions(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_a_date_or_a_time() {
        assert!(filter(Some("2026-11-30"), None).is_ok());
        assert!(filter(Some("2026-11-30T08:00:00Z"), None).is_ok());
        assert!(filter(Some(""), None).unwrap().since.is_none());
        for bad in [
            "yesterday",
            "2026-11-30 08:00",
            "0\u{80}\u{10000}\u{10000}",
            "2026-13-01",
        ] {
            let e = filter(Some(bad), None).unwrap_err();
            assert_eq!(e.field, Some("since"), "{bad}");
        }
        assert_eq!(
            filter(None, Some("RU")).unwrap().language.as_deref(),
            Some("ru")
        );
        assert!(filter(None, Some("ja")).is_err());
    }
}
