//! Static files compiled into the binary: no separate front-end server or build step.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

const FILES: [(&str, &str, &str); 3] = [
    ("console.js", JS, include_str!("static/console.js")),
    ("thread.js", JS, include_str!("static/thread.js")),
    ("site.css", CSS, include_str!("static/site.css")),
];

pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        // Short cache: a new binary's files are picked up within minutes.
        Some((_, mime, body)) => (
            [
                (CONTENT_TYPE, *mime),
                (CACHE_CONTROL, "public, max-age=300"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
