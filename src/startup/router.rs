//! The full application router: the API's and the console's routes, and the middleware
//! every request passes through (metrics, body limit, timeout, tracing, request ids).

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::metrics::HttpLabels;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The full application router.
pub fn router(app: AppState) -> Router {
    let limits = app.live().config.limits.clone();
    Router::new()
        .merge(crate::api::routes(&app))
        .merge(crate::web::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), record_metrics))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        // Read out what a refused request left unsent, so its client gets the answer.
        .layer(middleware::from_fn(crate::http::drain::drain_refused_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(limits.request_timeout_ms),
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(app)
}

async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

/// The method as a metrics label: a client can send any token as a method, and each new
/// label value is a series kept until restart, so unknown ones share `OTHER`.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

async fn record_metrics(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method()).to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(req).await.into_response();
    app.metrics.http(
        HttpLabels {
            method,
            route,
            status: response.status().as_u16(),
        },
        started.elapsed(),
    );
    response
}
