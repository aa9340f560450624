//! Moderator authentication: `Authorization: Bearer TOKEN` for the JSON API.
//! A verified token is remembered briefly (by SHA-256 of the token) so argon2 runs once per
//! token per minute, not once per request; every request still re-reads the account by
//! its id and current token id, so a rotated or revoked token, a disabled account or a
//! changed role takes effect on the next request.

use crate::http::key_cache::KeyCache;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::store::moderators::{self, Role};

/// An authenticated moderator (any role).
#[derive(Debug, Clone)]
pub struct AnyModerator(pub moderators::Moderator);

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
    let key = KeyCache::digest(token);
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

impl FromRequestParts<AppState> for AnyModerator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, app).await.map(AnyModerator)
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
