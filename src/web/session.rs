//! Console sign-in sessions.
//!
//! The cookie holds 32 random bytes; the database holds only their SHA-256, so a copy of the
//! database does not sign anyone in. The CSRF token of a session is an HMAC of a constant
//! keyed by the cookie secret: the server can recompute it on every request without
//! storing it, and a page from another origin cannot know it.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::{ACCEPT, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::{Cookie, SameSite};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::store::moderators::Moderator;
use crate::store::sessions::{self, NewSession};
use crate::store::{DbError, Pool, format_time, now};

pub const COOKIE_NAME: &str = "modgate_session";
/// The cookie is only sent to console routes.
const COOKIE_PATH: &str = "/console";
/// `last_seen_at` is written at most this often, not on every request.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
const CSRF_CONTEXT: &[u8] = b"modgate console csrf v1";

/// A signed-in moderator and the secret of their session.
#[derive(Clone)]
pub struct ConsoleSession {
    pub moderator: Moderator,
    secret: String,
}

impl std::fmt::Debug for ConsoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSession")
            .field("moderator", &self.moderator)
            .finish_non_exhaustive()
    }
}

impl ConsoleSession {
    fn csrf_mac(&self) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes())
            .expect("HMAC takes any key length");
        mac.update(CSRF_CONTEXT);
        mac
    }

    /// The token every state-changing console request must carry.
    pub fn csrf_token(&self) -> String {
        hex::encode(self.csrf_mac().finalize().into_bytes())
    }

    /// Constant-time check of a submitted token.
    pub fn csrf_ok(&self, given: &str) -> bool {
        match hex::decode(given.trim()) {
            Ok(bytes) => self.csrf_mac().verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }

    /// Hash under which this session is stored.
    fn id_hash(&self) -> String {
        id_hash(&self.secret)
    }
}

fn id_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn new_secret() -> String {
    let mut buf = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

fn ago(d: Duration) -> String {
    format_time(time::OffsetDateTime::now_utc() - d)
}

fn from_now(d: Duration) -> String {
    format_time(time::OffsetDateTime::now_utc() + d)
}

/// Session lifetimes from `[console]`.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Lifetimes {
    pub fn from_config(c: &crate::config::console::ConsoleConfig) -> Lifetimes {
        Lifetimes {
            idle: Duration::from_secs(c.session_idle_minutes.max(1) * 60),
            absolute: Duration::from_secs(c.session_max_hours.max(1) * 3600),
        }
    }
}

/// Start a session for `moderator`; returns it with the cookie secret. Expired sessions
/// are swept at the same time, so the table does not grow without bound.
pub async fn create(
    db: &Pool,
    moderator: Moderator,
    user_agent: Option<&str>,
    life: Lifetimes,
) -> Result<ConsoleSession, DbError> {
    let session = ConsoleSession {
        moderator,
        secret: new_secret(),
    };
    let t = now();
    let user_agent = user_agent.map(|ua| ua.chars().take(300).collect::<String>());
    let new = NewSession {
        id_hash: &session.id_hash(),
        moderator_id: session.moderator.id,
        created_at: &t,
        expires_at: &from_now(life.absolute),
        user_agent: user_agent.as_deref(),
    };
    sessions::create(db, &new, &t, &ago(life.idle)).await?;
    Ok(session)
}

/// The live session for a cookie secret, refreshing its idle timer.
pub async fn lookup(
    app: &AppState,
    secret: &str,
    life: Lifetimes,
) -> Result<Option<ConsoleSession>, DbError> {
    let found = sessions::live(
        app.store.reader(),
        &id_hash(secret),
        &now(),
        &ago(life.idle),
    )
    .await?;
    let Some((moderator, last_seen)) = found else {
        return Ok(None);
    };
    let session = ConsoleSession {
        moderator,
        secret: secret.to_string(),
    };
    if last_seen < ago(TOUCH_EVERY) {
        sessions::touch(app.store.writer(), &session.id_hash(), &now()).await?;
    }
    Ok(Some(session))
}

/// End a session (sign-out).
pub async fn delete(db: &Pool, session: &ConsoleSession) -> Result<(), DbError> {
    sessions::delete(db, &session.id_hash()).await
}

/// `Set-Cookie` for a new session (`Some`) or for clearing it (`None`).
pub fn set_cookie(session: Option<&ConsoleSession>, secure: bool, life: Lifetimes) -> HeaderValue {
    let (value, max_age) = match session {
        Some(s) => (s.secret.clone(), life.absolute.as_secs() as i64),
        None => (String::new(), 0),
    };
    let cookie = Cookie::build((COOKIE_NAME, value))
        .path(COOKIE_PATH)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("cookie is a valid header value")
}

/// The session cookie's value, if the request carries one.
pub fn cookie_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME && !c.value().is_empty())
        .map(|c| c.value().to_string())
}

/// True when the client asked for JSON (the console's fetch calls) rather than a page.
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// Why a console request has no session: pages go to the sign-in form, fetch calls get 401.
pub enum NoSession {
    Redirect(String),
    Unauthorized,
    Failed,
}

impl IntoResponse for NoSession {
    fn into_response(self) -> Response {
        match self {
            NoSession::Redirect(to) => Redirect::to(&to).into_response(),
            NoSession::Unauthorized => super::json_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "your console session has ended; sign in again",
            ),
            NoSession::Failed => super::json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "could not check the session",
            ),
        }
    }
}

/// Where the sign-in page sends the moderator back to: only console paths of this site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        // No control characters: a newline would make the Location header invalid (500).
        Some(n)
            if n.starts_with("/console/")
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/console/queue/pending".to_string(),
    }
}

pub fn login_redirect(path_and_query: &str) -> String {
    let next = safe_next(Some(path_and_query));
    format!(
        "/console/login?{}",
        serde_html_form::to_string([("next", next.as_str())]).unwrap_or_default()
    )
}

impl FromRequestParts<AppState> for ConsoleSession {
    type Rejection = NoSession;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, NoSession> {
        if let Some(s) = parts.extensions.get::<ConsoleSession>() {
            return Ok(s.clone());
        }
        let life = Lifetimes::from_config(&app.live().config.console);
        let found = match cookie_secret(&parts.headers) {
            Some(secret) => lookup(app, &secret, life).await.map_err(|e| {
                tracing::error!(error = %e, "session lookup failed");
                NoSession::Failed
            })?,
            None => None,
        };
        match found {
            Some(s) => {
                parts.extensions.insert(s.clone());
                Ok(s)
            }
            None if wants_json(&parts.headers) => Err(NoSession::Unauthorized),
            None => {
                let target = if parts.method == axum::http::Method::GET {
                    parts
                        .uri
                        .path_and_query()
                        .map(|p| p.as_str())
                        .unwrap_or("/console/queue/pending")
                } else {
                    "/console/queue/pending"
                };
                Err(NoSession::Redirect(login_redirect(target)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::moderators::Role;

    fn session(secret: &str) -> ConsoleSession {
        ConsoleSession {
            moderator: Moderator {
                id: 1,
                name: "m".into(),
                role: Role::Moderator,
            },
            secret: secret.into(),
        }
    }

    #[test]
    fn csrf_token_is_per_session_and_checked() {
        let a = session("secret-a");
        let b = session("secret-b");
        assert!(a.csrf_ok(&a.csrf_token()));
        assert!(!a.csrf_ok(&b.csrf_token()));
        assert!(!a.csrf_ok(""));
        assert!(!a.csrf_ok("not hex"));
        assert_ne!(a.csrf_token(), a.secret, "token does not reveal the secret");
    }

    #[test]
    fn next_with_control_characters_goes_to_the_queue() {
        assert_eq!(safe_next(Some("/console/\nx")), "/console/queue/pending");
        assert_eq!(safe_next(Some("/console/\u{7f}")), "/console/queue/pending");
        assert_eq!(
            safe_next(Some("/console/queue/pending?article_id=қаз")),
            "/console/queue/pending?article_id=қаз"
        );
    }

    #[test]
    fn next_only_goes_to_console_paths() {
        assert_eq!(safe_next(Some("/console/log")), "/console/log");
        assert_eq!(
            safe_next(Some("https://evil.example/")),
            "/console/queue/pending"
        );
        assert_eq!(
            safe_next(Some("//evil.example/console/")),
            "/console/queue/pending"
        );
        assert_eq!(safe_next(None), "/console/queue/pending");
    }

    #[test]
    fn cookie_is_strict_httponly_and_scoped() {
        let life = Lifetimes {
            idle: Duration::from_secs(60),
            absolute: Duration::from_secs(3600),
        };
        let s = session("abc");
        let v = set_cookie(Some(&s), true, life);
        let v = v.to_str().unwrap();
        for part in [
            "modgate_session=abc",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/console",
            "Max-Age=3600",
        ] {
            assert!(v.contains(part), "{v} lacks {part}");
        }
        let cleared = set_cookie(None, false, life);
        assert!(cleared.to_str().unwrap().contains("Max-Age=0"));
        assert!(!cleared.to_str().unwrap().contains("Secure"));
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; modgate_session=xyz; b=2"),
        );
        assert_eq!(cookie_secret(&headers).as_deref(), Some("xyz"));
    }
}
