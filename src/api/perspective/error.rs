//! Perspective's error shape (Google API style):
//! `{"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT",
//!   "details": [{"@type": "type.googleapis.com/google.commentanalyzer.v1alpha1.Error",
//!                "errorType": "COMMENT_EMPTY"}]}}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

const ERROR_DETAIL_TYPE: &str = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error";

#[derive(Debug)]
pub struct PerspectiveError {
    pub status: StatusCode,
    pub message: String,
    /// Perspective's `ErrorType` (`COMMENT_EMPTY`, ...), sent in `details`.
    pub error_type: Option<&'static str>,
    /// Extra fields of the detail object (e.g. `languageNotSupportedByAttributeError`).
    pub detail: Map<String, Value>,
    pub retry_after: Option<u64>,
}

impl PerspectiveError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        PerspectiveError {
            status,
            message: message.into(),
            error_type: None,
            detail: Map::new(),
            retry_after: None,
        }
    }

    /// 400 INVALID_ARGUMENT with Perspective's error type.
    pub fn invalid(error_type: &'static str, message: impl Into<String>) -> Self {
        PerspectiveError {
            error_type: Some(error_type),
            ..Self::new(StatusCode::BAD_REQUEST, message)
        }
    }

    pub fn with_detail(mut self, key: &str, value: Value) -> Self {
        self.detail.insert(key.to_string(), value);
        self
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, message)
    }

    pub fn resource_exhausted(message: impl Into<String>) -> Self {
        PerspectiveError {
            retry_after: Some(1),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, message)
        }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        PerspectiveError {
            retry_after: Some(1),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "perspective endpoint failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error encountered.",
        )
    }

    /// The canonical Google status name for an HTTP status.
    fn status_name(&self) -> &'static str {
        match self.status {
            StatusCode::BAD_REQUEST => "INVALID_ARGUMENT",
            StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
            StatusCode::FORBIDDEN => "PERMISSION_DENIED",
            StatusCode::NOT_FOUND => "NOT_FOUND",
            StatusCode::METHOD_NOT_ALLOWED => "UNIMPLEMENTED",
            StatusCode::TOO_MANY_REQUESTS => "RESOURCE_EXHAUSTED",
            StatusCode::SERVICE_UNAVAILABLE => "UNAVAILABLE",
            _ => "INTERNAL",
        }
    }
}

impl IntoResponse for PerspectiveError {
    fn into_response(self) -> Response {
        let mut error = json!({
            "code": self.status.as_u16(),
            "message": self.message,
            "status": self.status_name(),
        });
        if let Some(error_type) = self.error_type {
            let mut detail = Map::new();
            detail.insert("@type".into(), json!(ERROR_DETAIL_TYPE));
            detail.insert("errorType".into(), json!(error_type));
            detail.extend(self.detail);
            error["details"] = json!([detail]);
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<crate::store::DbError> for PerspectiveError {
    fn from(e: crate::store::DbError) -> Self {
        PerspectiveError::internal(e)
    }
}
