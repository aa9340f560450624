//! Hostile requests that schemathesis (scripts/schemathesis.sh) found answered outside the
//! API's promises; each is pinned here against the real server.

mod common;

use common::spawn_app;
use modgate::store::moderators::Role;
use serde_json::Value;

/// Status, content type and JSON body (Null when the body is not JSON).
async fn get(app: &common::TestApp, token: Option<&str>, path: &str) -> (u16, String, Value) {
    let mut req = reqwest::Client::new().get(app.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, r.json().await.unwrap_or(Value::Null))
}

/// A repeated query parameter used to get axum's plain-text 400; every API error is JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_query_parameters_get_a_json_error() {
    let app = spawn_app().await;
    let admin = app.moderator_token("admin", Role::Admin).await;
    for (token, path) in [
        (None, "/api/v1/articles/a1/comments?limit=1&limit=2"),
        (
            Some(&admin),
            "/api/v1/moderation/queue?limit=null&limit=null",
        ),
        (
            Some(&admin),
            "/api/v1/moderation/counts?article_id=a&article_id=b",
        ),
        (Some(&admin), "/api/v1/moderation/log?cursor=1&cursor=2"),
        (
            Some(&admin),
            "/api/v1/moderation/webhooks/deliveries?limit=5&limit=5",
        ),
    ] {
        let (status, content_type, body) = get(&app, token.map(String::as_str), path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            content_type.starts_with("application/json"),
            "{path}: {content_type}"
        );
        assert_eq!(body["error"]["code"], "invalid_query", "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("duplicate field")
        );
    }
}

/// A path segment that is not UTF-8 once percent-decoded: JSON 400, not plain text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_utf8_path_segments_get_a_json_error() {
    let app = spawn_app().await;
    let admin = app.moderator_token("admin", Role::Admin).await;
    for (token, path) in [
        (None, "/api/v1/articles/%FF%FE"),
        (None, "/api/v1/articles/%C0%AF/comments"),
        (Some(&admin), "/api/v1/moderation/comments/%FF"),
    ] {
        let (status, content_type, body) = get(&app, token.map(String::as_str), path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            content_type.starts_with("application/json"),
            "{path}: {content_type}"
        );
        assert_eq!(body["error"]["code"], "invalid_path", "{path}: {body}");
    }
}
