//! Hostile requests that schemathesis (scripts/schemathesis.sh) found answered outside the
//! API's promises; each is pinned here against the real server.

use crate::common;

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

/// (path, method) of every `.route("PATH", ...)` call under src/ whose path is a JSON API
/// route; the call's arguments are read up to the balancing parenthesis, so formatting
/// across lines does not matter.
fn declared_json_routes() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, files);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let route = regex::Regex::new(r#"\.route\(\s*"([^"]+)""#).unwrap();
    let method = regex::Regex::new(r"\b(get|post|put|delete|patch)\(").unwrap();
    let mut files = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for cap in route.captures_iter(&text) {
            let path = &cap[1];
            if !(path.starts_with("/api/") || path.starts_with("/v1alpha1/")) {
                continue;
            }
            let rest = &text[cap.get(0).unwrap().end()..];
            let mut depth = 1;
            let args_end = rest
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(rest.len(), |(i, _)| i);
            for m in method.captures_iter(&rest[..args_end]) {
                out.push((path.to_string(), m[1].to_string()));
            }
        }
    }
    out
}

/// schemathesis tests only what /openapi.json documents: every JSON route must be in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_every_json_route() {
    let routes = declared_json_routes();
    assert!(routes.len() >= 15, "found {routes:?}");
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/openapi.json").await;
    assert_eq!(status, 200);
    let missing: Vec<_> = routes
        .iter()
        .filter(|(path, method)| doc["paths"][path.as_str()][method.as_str()].is_null())
        .collect();
    assert!(missing.is_empty(), "not in /openapi.json: {missing:?}");
}

/// Invented HTTP methods and paths must not become metrics series: each label value is kept
/// until restart, so an anonymous client could grow `/metrics` without bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_chosen_methods_and_paths_do_not_grow_metrics() {
    let app = spawn_app().await;
    // Warm up the routes used below so their own series exist before the baseline.
    for _ in 0..2 {
        let _ = reqwest::Client::new()
            .get(app.url("/no/such/page"))
            .send()
            .await
            .unwrap();
        let _ = app.metrics_text().await;
    }
    let before = app.metrics_text().await.lines().count();
    for i in 0..50 {
        let method =
            reqwest::Method::from_bytes(format!("X{i}{}", "M".repeat(500)).as_bytes()).unwrap();
        let r = reqwest::Client::new()
            .request(method, app.url(&format!("/invented/path/{i}")))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    let text = app.metrics_text().await;
    assert!(!text.contains("X0MMM"), "an invented method became a label");
    assert!(
        !text.contains("/invented/path"),
        "a raw path became a label"
    );
    assert!(text.contains("method=\"OTHER\""), "{text}");
    let after = text.lines().count();
    // One new histogram for (OTHER, unmatched, status) at most: 16 buckets + sum/count/+Inf.
    assert!(after <= before + 20, "{before} -> {after} lines");
}

/// A cursor from another sort order was compared with the wrong column type (500); the
/// API names the field, the console page starts from the top.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_of_another_sort_order_is_a_client_error() {
    let app = spawn_app().await;
    let admin = app.moderator_token("admin", Role::Admin).await;
    for path in [
        "/api/v1/moderation/queue?sort=score&cursor=t..1",
        "/api/v1/moderation/queue?sort=oldest&cursor=s.0.5.3",
        "/api/v1/moderation/queue?sort=score&cursor=s.NaN.3",
    ] {
        let (code, _, body) = get(&app, Some(&admin), path).await;
        assert_eq!(code, 400, "{path}: {body}");
        assert_eq!(body["error"]["field"], "cursor", "{path}: {body}");
    }
    let (code, _, body) = get(
        &app,
        Some(&admin),
        "/api/v1/moderation/queue?sort=score&cursor=s.0.5.3",
    )
    .await;
    assert_eq!(code, 200, "{body}");
}

/// Sign-in with a `next` holding a newline used to set the cookie, then fail with 500 on
/// the redirect; it now goes to the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_a_control_character_in_next_redirects_to_the_queue() {
    let app = spawn_app().await;
    app.console_moderator("nl", Role::Moderator, "a long password")
        .await;
    let (http, code, location, cookie) = app
        .console_sign_in("nl", "a long password", "/console/\n2026 INFO forged")
        .await;
    assert_eq!(code, 303);
    assert_eq!(location, "/console/queue/pending");
    // The console queue page with a foreign cursor renders from the top.
    let page = http
        .get(app.url("/console/queue/pending?sort=score&cursor=t..1"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
}

/// A body over `[limits] max_body_bytes` is refused after its first 64 KiB; the rest used
/// to stay unread, and the connection was reset under a client still sending, often
/// before it read the 413 (a flaky failure of `api::bad_inputs_are_refused…`). The server
/// now reads the rest out first (src/http/drain.rs), for every route: each such client
/// gets its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_gets_its_answer_not_a_reset() {
    let app = spawn_app().await;
    let body = format!(
        r#"{{"article_id": "a1", "author_name": "a", "body": "{}"}}"#,
        "x".repeat(900_000)
    );
    // Eight clients at once, twenty bodies each: the resets came under load.
    let clients = (0..8).map(|c| {
        let (url, body) = (app.url("/api/v1/comments"), body.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for round in 0..20 {
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("client {c}, round {round}: {e:?}"));
                assert_eq!(r.status().as_u16(), 413, "client {c}, round {round}");
                let json: Value = r.json().await.unwrap();
                assert_eq!(json["error"]["code"], "payload_too_large");
            }
        })
    });
    for c in clients.collect::<Vec<_>>() {
        c.await.unwrap();
    }
    assert_eq!(app.count_rows("comments").await, 0);
}
