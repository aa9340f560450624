//! The moderator web console (`/console/...`) and the public thread page
//! (`/articles/{id}`): server-rendered HTML (askama) with a little embedded JavaScript.
//!
//! Every page is sent with a Content-Security-Policy that allows only this origin's
//! scripts and styles: no inline script or style can run, so a comment that slips past
//! escaping still cannot execute.

use askama::Template;
use axum::Router;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::app::AppState;

mod actions;
mod assets;
mod form;
pub mod highlight;
mod layout;
mod log;
mod login;
mod queue;
pub mod session;
mod stats;
mod thread;
pub mod view;

/// The console's policy. `thread` pages send their own (they may be framed).
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(to_queue))
        .route("/console/", get(to_queue))
        .route("/console/login", get(login::page).post(login::submit))
        .route("/console/logout", post(login::logout))
        .route("/console/queue/{state}", get(queue::page))
        .route("/console/log", get(log::page))
        .route("/console/stats", get(stats::page))
        .route("/console/actions", post(actions::decide))
        .route("/console/authors", post(actions::author))
        .route("/articles/{article_id}", get(thread::page))
        .route("/static/{file}", get(assets::serve))
        .layer(middleware::map_response(security_headers))
}

async fn to_queue() -> Redirect {
    Redirect::to("/console/queue/pending")
}

async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.entry(CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CONSOLE_CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // Console pages carry comments and CSRF tokens: never cache them.
    h.entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    res
}

/// Render a template, or a plain 500 if rendering fails (it should not: templates are
/// checked at compile time; only a formatting error can make it fail).
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "page rendering failed").into_response()
        }
    }
}

/// The API's error shape, for the console's fetch calls.
pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "web/error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

/// An error as JSON (fetch) or as a small page (form post, navigation).
pub fn fail(status: StatusCode, code: &str, message: &str, json: bool) -> Response {
    if json {
        return json_error(status, code, message);
    }
    let mut res = render(&ErrorPage {
        status: status.as_u16(),
        message,
    });
    *res.status_mut() = status;
    res
}

/// Percent-encode one URL path segment (article ids may hold any character).
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(
            super::path_segment("kz-csto 2022/x?"),
            "kz-csto%202022%2Fx%3F"
        );
        assert_eq!(super::path_segment("қаз"), "%D2%9B%D0%B0%D0%B7");
    }
}
