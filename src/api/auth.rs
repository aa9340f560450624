//! Moderator authentication: `Authorization: Bearer TOKEN` for the JSON API.
//! A verified token is remembered briefly (by SHA-256 of the token) so argon2 runs once per
//! token per minute, not once per request; every request still re-reads the account by
//! its id and current token id, so a rotated or revoked token, a disabled account or a
//! changed role takes effect on the next request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::app::AppState;
use crate::store::moderators::{self, Role};

const CACHE_TTL: Duration = Duration::from_secs(60);

/// SHA-256 of a verified token → the moderator id it belonged to and when it was verified.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<[u8; 32], (i64, Instant)>>,
}

impl TokenCache {
    fn get(&self, key: &[u8; 32]) -> Option<i64> {
        let entries = self.entries.lock().expect("token cache lock");
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(id, _)| *id)
    }

    fn put(&self, key: [u8; 32], moderator_id: i64) {
        let mut entries = self.entries.lock().expect("token cache lock");
        if entries.len() > 10_000 {
            entries.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
        }
        entries.insert(key, (moderator_id, Instant::now()));
    }

    fn forget(&self, key: &[u8; 32]) {
        self.entries.lock().expect("token cache lock").remove(key);
    }

    /// Forget every cached token (after a token rotation or account change).
    pub fn clear(&self) {
        self.entries.lock().expect("token cache lock").clear();
    }
}

/// An authenticated moderator (any role).
#[derive(Debug, Clone)]
pub struct Moderator(pub moderators::Moderator);

/// An authenticated admin.
#[derive(Debug, Clone)]
pub struct Admin(pub moderators::Moderator);

pub async fn authenticate(
    parts: &Parts,
    app: &AppState,
) -> Result<moderators::Moderator, ApiError> {
    if let Some(m) = parts.extensions.get::<moderators::Moderator>() {
        // Set by the web console's session layer.
        return Ok(m.clone());
    }
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer token"))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("Authorization must be: Bearer TOKEN"))?;
    let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    if let Some(id) = app.token_cache.get(&key) {
        return match moderators::by_verified_token(app.store.reader(), id, token).await? {
            Some(m) => Ok(m),
            None => {
                app.token_cache.forget(&key);
                Err(ApiError::unauthorized("invalid or revoked token"))
            }
        };
    }
    let m = moderators::by_token(app.store.reader(), token)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid or revoked token"))?;
    app.token_cache.put(key, m.id);
    Ok(m)
}

impl FromRequestParts<AppState> for Moderator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, app).await.map(Moderator)
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let m = authenticate(parts, app).await?;
        if m.role != Role::Admin {
            return Err(ApiError::forbidden("this action needs the admin role"));
        }
        Ok(Admin(m))
    }
}
