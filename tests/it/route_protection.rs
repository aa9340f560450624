//! Walks every route the source declares (`.route("...", ...)` anywhere under src/) and
//! checks that moderation, admin and console routes refuse unauthenticated requests and
//! that admin routes refuse a moderator. A new route cannot be added unprotected unnoticed:
//! it is found here without anyone listing it.

use crate::common;

use std::path::Path;

use common::spawn_app;
use modgate::store::moderators::Role;

/// (path, methods) of every `.route(` call in the crate's source.
fn declared_routes() -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let re = regex::Regex::new(r#"\.route\(\s*"([^"]+)""#).unwrap();
    let method = regex::Regex::new(r"\b(get|post|put|delete|patch)\(").unwrap();
    fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, files);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for cap in re.captures_iter(&text) {
            // The handlers run to the call's closing parenthesis, which may be several
            // lines on (rustfmt splits long calls).
            let rest = &text[cap.get(0).unwrap().end()..];
            let mut depth = 1i32;
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
            let methods: Vec<String> = method
                .captures_iter(&rest[..args_end])
                .map(|m| m[1].to_uppercase())
                .collect();
            out.push((cap[1].to_string(), methods));
        }
    }
    out
}

/// Routes anyone may call: readers' API, health, the console's sign-in and assets, and
/// the Perspective endpoint (which checks its own API key).
fn is_public(path: &str, method: &str) -> bool {
    let public_prefixes = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/articles/",
        "/static/",
        "/console/static/",
        "/console/login",
        "/console/logout",
        "/v1alpha1/",
        // The Perspective Discovery document: public, like openapi.json.
        "/$discovery/rest",
    ];
    if public_prefixes.iter().any(|p| path.starts_with(p)) || path == "/" {
        return true;
    }
    match (method, path) {
        ("POST", "/api/v1/comments") => true,
        ("POST", "/api/v1/comments/{id}/reports") => true,
        ("GET", p) if p.starts_with("/api/v1/articles/") => true,
        _ => false,
    }
}

fn concrete(path: &str) -> String {
    let re = regex::Regex::new(r"\{[^}]+\}").unwrap();
    re.replace_all(path, "1").into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_non_public_route_refuses_anonymous_and_wrong_role() {
    let routes = declared_routes();
    assert!(routes.len() >= 25, "found the routes: {routes:?}");
    let app = spawn_app().await;
    let moderator = app.moderator_token("walker", Role::Moderator).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut checked = 0;
    for (path, methods) in &routes {
        for method in methods {
            if is_public(path, method) {
                continue;
            }
            let url = app.url(&concrete(path));
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let r = client
                .request(m.clone(), &url)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let code = r.status().as_u16();
            // A redirect must end on the sign-in page.
            let location = r
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(str::to_string);
            let to_login = match location {
                Some(loc) if (300..400).contains(&code) => {
                    let target = if loc.starts_with('/') {
                        app.url(&loc)
                    } else {
                        loc
                    };
                    let followed = reqwest::Client::new().get(&target).send().await.unwrap();
                    followed.url().path().contains("login")
                }
                _ => false,
            };
            assert!(
                code == 401 || code == 403 || to_login,
                "{method} {path} without credentials answered {code}"
            );
            checked += 1;

            // Admin-only routes refuse a moderator's token.
            if path.contains("/admin")
                || path.ends_with("/moderators")
                || path.contains("/webhooks")
                || path.contains("/apikeys")
            {
                let r = client
                    .request(m, &url)
                    .bearer_auth(&moderator)
                    .header("content-type", "application/json")
                    .body("{}")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    r.status().as_u16(),
                    403,
                    "{method} {path} with a moderator token"
                );
            }
        }
    }
    assert!(checked >= 15, "checked {checked} protected routes");
}

/// A token rotated or an account disabled outside this process (the CLI writes the
/// database directly) stops working on the next request, although the server verified
/// the old token a moment ago.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_token_stops_working_at_once() {
    let app = spawn_app().await;
    let old = app.moderator_token("rotor", Role::Moderator).await;
    let (code, _) = app.mod_get(&old, "/api/v1/moderation/counts").await;
    assert_eq!(code, 200);
    let new = modgate::store::moderators::rotate_token(app.state.store.writer(), "rotor")
        .await
        .unwrap();
    let (code, body) = app.mod_get(&old, "/api/v1/moderation/counts").await;
    assert_eq!(code, 401, "the old token still works: {body}");
    let (code, _) = app.mod_get(&new, "/api/v1/moderation/counts").await;
    assert_eq!(code, 200);
}

/// Changing a moderator's password signs out every console session of that account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_password_ends_console_sessions() {
    use modgate::store::moderators;
    let app = spawn_app().await;
    app.console_moderator("pwd", Role::Moderator, "the first password")
        .await;
    let (http, code, _, cookie) = app
        .console_sign_in("pwd", "the first password", "/console/queue/pending")
        .await;
    assert_eq!(code, 303);
    let queue = || {
        http.get(app.url("/console/queue/pending"))
            .header("cookie", &cookie)
            .send()
    };
    assert_eq!(queue().await.unwrap().status().as_u16(), 200);
    moderators::set_password(app.state.store.writer(), "pwd", "a second password")
        .await
        .unwrap();
    let r = queue().await.unwrap();
    assert_eq!(
        r.status().as_u16(),
        303,
        "the session outlived the password"
    );
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/console/login"),
        "{:?}",
        r.headers()
    );
}
