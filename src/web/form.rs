//! `CsrfForm<T>`: a URL-encoded console form from a signed-in moderator, accepted only
//! with the session's CSRF token. Repeated keys (`ids=1&ids=2`) parse into `Vec`s.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::session::{ConsoleSession, NoSession};
use crate::app::AppState;

pub struct CsrfForm<T> {
    pub session: ConsoleSession,
    pub form: T,
    /// The client asked for JSON (fetch from the console script) rather than a page.
    pub json: bool,
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

pub enum FormRejection {
    NoSession(NoSession),
    Refused {
        status: StatusCode,
        message: String,
        json: bool,
    },
}

impl IntoResponse for FormRejection {
    fn into_response(self) -> Response {
        match self {
            FormRejection::NoSession(n) => n.into_response(),
            FormRejection::Refused {
                status,
                message,
                json,
            } => {
                let code = if status == StatusCode::FORBIDDEN {
                    "forbidden"
                } else {
                    "invalid"
                };
                super::fail(status, code, &message, json)
            }
        }
    }
}

fn refused(status: StatusCode, message: impl Into<String>, json: bool) -> FormRejection {
    FormRejection::Refused {
        status,
        message: message.into(),
        json,
    }
}

/// Requests a browser marks as coming from another site are refused outright, whatever
/// they carry (defence in depth on top of the token and `SameSite=Strict`).
pub fn cross_site(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = FormRejection;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, FormRejection> {
        let (mut parts, body) = req.into_parts();
        let session = ConsoleSession::from_request_parts(&mut parts, app)
            .await
            .map_err(FormRejection::NoSession)?;
        let json = super::session::wants_json(&parts.headers);
        if cross_site(&parts.headers) {
            return Err(refused(
                StatusCode::FORBIDDEN,
                "cross-site request refused",
                json,
            ));
        }
        let form_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form_type {
            return Err(refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected an application/x-www-form-urlencoded form",
                json,
            ));
        }
        let bytes = Bytes::from_request(Request::from_parts(parts, body), app)
            .await
            .map_err(|e| refused(StatusCode::BAD_REQUEST, e.body_text(), json))?;
        let token: CsrfField = serde_html_form::from_bytes(&bytes)
            .map_err(|e| refused(StatusCode::BAD_REQUEST, e.to_string(), json))?;
        if !session.csrf_ok(&token.csrf) {
            return Err(refused(
                StatusCode::FORBIDDEN,
                "missing or invalid CSRF token; reload the page and try again",
                json,
            ));
        }
        let form = serde_html_form::from_bytes(&bytes)
            .map_err(|e| refused(StatusCode::BAD_REQUEST, e.to_string(), json))?;
        Ok(CsrfForm {
            session,
            form,
            json,
        })
    }
}
