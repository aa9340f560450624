//! Query-string and path extractors whose rejections use the API's JSON error shape.
//!
//! axum's own `Query` and `Path` answer a bad request in plain text (a repeated
//! `?limit=1&limit=2`, a path segment that is not UTF-8 once decoded), which breaks the
//! promise that every API error is `{"error": {...}}` JSON.

use axum::extract::FromRequestParts;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::StatusCode;

use super::error::ApiError;

/// `axum::extract::Query`, rejected as 400 `invalid_query`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path`, rejected as 400 `invalid_path`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        // A missing path parameter is a routing bug, not the client's.
        if e.status().is_server_error() {
            return ApiError::internal(e.body_text());
        }
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_path", e.body_text())
    }
}
