//! Reading the rest of a refused request body before answering.
//!
//! A body over `[limits] max_body_bytes` is refused after its first bytes (413, in the
//! route's own error shape). hyper then closes the connection with the rest unread, and a
//! client still sending gets a connection reset, often before it reads the answer: the
//! documented JSON error never reaches it. So a refused request's unread body is read and
//! dropped first, as web servers do ("lingering close"), up to [`DRAIN_BYTES`] and
//! [`DRAIN_TIME`]; a bigger or slower body is cut off as before.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, BodyDataStream, HttpBody};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;
use tokio::sync::Mutex;

/// Most bytes read and dropped after a refusal.
pub const DRAIN_BYTES: usize = 1 << 20;
/// Longest the reading may take.
pub const DRAIN_TIME: Duration = Duration::from_secs(2);

/// Middleware: hands the route a body it reads through, and after a client-error answer
/// reads what the route left of it.
pub async fn drain_refused_body(req: Request, next: Next) -> Response {
    // Most requests (thread reads, the console's pages) have no body: nothing to drain.
    if HttpBody::is_end_stream(req.body()) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let shared = Arc::new(Mutex::new(body.into_data_stream()));
    let through = futures_util::stream::unfold(shared.clone(), |shared| async move {
        let chunk = shared.lock().await.next().await;
        chunk.map(|c| (c, shared))
    });
    let response = next
        .run(Request::from_parts(parts, Body::from_stream(through)))
        .await;
    if response.status().is_client_error() {
        let mut rest = shared.lock().await;
        let _ = tokio::time::timeout(DRAIN_TIME, drain(&mut rest)).await;
    }
    response
}

async fn drain(rest: &mut BodyDataStream) {
    let mut read = 0;
    while read <= DRAIN_BYTES {
        match rest.next().await {
            Some(Ok(chunk)) => read += chunk.len(),
            _ => return,
        }
    }
}
