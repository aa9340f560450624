//! Operability routes: liveness, readiness, Prometheus metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::app::AppState;
use crate::scoring::classifier::UNAVAILABLE_MODEL_ID;
use crate::store::queue;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Object)))]
pub(crate) async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database takes a write lock and the classifier answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready", body = Object), (status = 503, description = "Not ready", body = Object)))]
pub(crate) async fn readyz(State(app): State<AppState>) -> impl IntoResponse {
    let database = app.store.is_writable().await;
    let model = app.batcher.model_id().as_ref() != UNAVAILABLE_MODEL_ID;
    let live = app.live();
    let body = json!({
        "status": if database && model { "ready" } else { "not_ready" },
        "database": database,
        "model": model,
        "model_id": app.batcher.model_id().as_ref(),
        "rules_version": live.scorer.rules_version(),
    });
    let code = if database && model {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    if let Ok(counts) = queue::counts(app.store.reader(), None).await {
        for (state, n) in counts {
            app.metrics.set_queue_size(state.as_str(), n);
        }
    }
    for (model, wait) in app.batcher.expected_waits() {
        app.metrics.set_scoring_wait(&model, wait);
    }
    for (model, windows, first_stage) in app.batcher.classifier().first_stage_counts() {
        app.metrics.set_cascade_counts(&model, windows, first_stage);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.encode(),
    )
}
