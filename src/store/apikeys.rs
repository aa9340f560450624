//! API keys for the Perspective-compatible endpoints. A key is shown once at creation;
//! only its argon2 hash is stored, like moderator tokens.

use rand::RngCore;
use serde::Serialize;

use super::moderators::{hash_secret, verify_secret};
use super::{DbError, Pool, now};

#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("an active API key named {0:?} already exists")]
    Exists(String),
    #[error("no active API key named {0:?}")]
    NotFound(String),
    #[error("invalid name: {0}")]
    InvalidName(&'static str),
    #[error("hashing failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A new key `mgk_<id>_<secret>`: the id locates the row, the whole key is hashed.
fn new_key() -> (String, String) {
    let id = random_hex(8);
    let key = format!("mgk_{id}_{}", random_hex(24));
    (id, key)
}

fn key_id(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("mgk_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 16 && !secret.is_empty()).then_some(id)
}

fn validate_name(name: &str) -> Result<(), KeyError> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err(KeyError::InvalidName("must be 1 to 64 characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || "._-@:".contains(c))
    {
        return Err(KeyError::InvalidName(
            "use letters, digits and . _ - @ : only",
        ));
    }
    Ok(())
}

/// Create a key; returns its record and the key itself (shown once).
pub async fn add(db: &Pool, name: &str) -> Result<(ApiKey, String), KeyError> {
    validate_name(name)?;
    let (kid, key) = new_key();
    let secret = key.clone();
    let hash = tokio::task::spawn_blocking(move || hash_secret(&secret))
        .await
        .map_err(|e| KeyError::Hash(e.to_string()))?
        .map_err(|e| KeyError::Hash(e.to_string()))?;
    let t = now();
    let res: Result<i64, DbError> = on_pool!(db, p => {
        sqlx::query_scalar(
            "INSERT INTO api_keys (name, key_id, key_hash, created_at) VALUES ($1, $2, $3, $4)
             RETURNING id",
        )
        .bind(name)
        .bind(&kid)
        .bind(&hash)
        .bind(&t)
        .fetch_one(p)
        .await
    });
    match res {
        Ok(id) => Ok((
            ApiKey {
                id,
                name: name.to_string(),
                created_at: t,
                revoked_at: None,
            },
            key,
        )),
        Err(DbError::Database(e)) if e.is_unique_violation() => {
            Err(KeyError::Exists(name.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Revoke the active key with this name.
pub async fn revoke(db: &Pool, name: &str) -> Result<(), KeyError> {
    let n = on_pool!(db, p => {
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(name)
            .execute(p)
            .await?
            .rows_affected()
    });
    if n == 0 {
        return Err(KeyError::NotFound(name.to_string()));
    }
    Ok(())
}

/// All keys, active first, then revoked; by name.
pub async fn list(db: &Pool) -> Result<Vec<ApiKey>, DbError> {
    Ok(on_pool!(db, p => {
        sqlx::query_as(
            "SELECT id, name, created_at, revoked_at FROM api_keys
             ORDER BY revoked_at IS NOT NULL, name, id",
        )
        .fetch_all(p)
        .await?
    }))
}

/// The active key matching `key`, if any. Runs argon2 only for a well-formed key whose id
/// exists, and off the async workers.
pub async fn by_key(db: &Pool, key: &str) -> Result<Option<ApiKey>, DbError> {
    let Some(kid) = key_id(key) else {
        return Ok(None);
    };
    let row: Option<(i64, String, String, Option<String>, String)> = on_pool!(db, p => {
        sqlx::query_as(
            "SELECT id, name, created_at, revoked_at, key_hash FROM api_keys
             WHERE key_id = $1 AND revoked_at IS NULL",
        )
        .bind(kid)
        .fetch_optional(p)
        .await?
    });
    let Some((id, name, created_at, revoked_at, hash)) = row else {
        return Ok(None);
    };
    let key = key.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_secret(&key, &hash))
        .await
        .unwrap_or(false);
    Ok(ok.then_some(ApiKey {
        id,
        name,
        created_at,
        revoked_at,
    }))
}

/// Whether the key with this row id is still active (for cached keys).
pub async fn is_active(db: &Pool, id: i64) -> Result<bool, DbError> {
    Ok(on_pool!(db, p => {
        sqlx::query("SELECT 1 FROM api_keys WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .fetch_optional(p)
            .await?
            .is_some()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_format_round_trips() {
        let (id, key) = new_key();
        assert_eq!(key_id(&key), Some(id.as_str()));
        assert_eq!(key_id("AIzaSyExample"), None);
        assert_eq!(key_id("mgk_short_x"), None);
    }
}
