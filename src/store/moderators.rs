//! Moderator accounts. Tokens and passwords are stored only as argon2 hashes.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use rand::RngCore;
use serde::Serialize;

use super::{DbError, Pool, now};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Moderator,
    Admin,
}

/// For reading the `role` column.
impl TryFrom<String> for Role {
    type Error = String;

    fn try_from(s: String) -> Result<Role, String> {
        Role::parse(&s).ok_or_else(|| format!("unknown role `{s}`"))
    }
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "moderator" => Some(Role::Moderator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct Moderator {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("a moderator named {0:?} already exists")]
    Exists(String),
    #[error("no moderator named {0:?}")]
    NotFound(String),
    #[error("invalid name: {0}")]
    InvalidName(&'static str),
    #[error("hashing failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

pub fn hash_secret(secret: &str) -> Result<String, AccountError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Constant-time verification (argon2 compares digests in constant time).
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A new token: `mgt_<id>_<secret>`; the id locates the row, the whole token is hashed.
fn new_token() -> (String, String) {
    let id = random_hex(8);
    let token = format!("mgt_{id}_{}", random_hex(24));
    (id, token)
}

fn token_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("mgt_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 16 && !secret.is_empty()).then_some(id)
}

fn validate_name(name: &str) -> Result<(), AccountError> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err(AccountError::InvalidName("must be 1 to 64 characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || "._-@".contains(c))
    {
        return Err(AccountError::InvalidName(
            "use letters, digits and . _ - @ only",
        ));
    }
    Ok(())
}

/// Create a moderator; returns the account and its API token (shown once).
pub async fn add(db: &Pool, name: &str, role: Role) -> Result<(Moderator, String), AccountError> {
    validate_name(name)?;
    let (tid, token) = new_token();
    let hash = hash_secret(&token)?;
    let res: Result<i64, DbError> = on_pool!(db, p => {
        sqlx::query_scalar(
            "INSERT INTO moderators (name, role, token_id, token_hash, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(&tid)
        .bind(&hash)
        .bind(now())
        .fetch_one(p)
        .await
    });
    match res {
        Ok(id) => Ok((
            Moderator {
                id,
                name: name.to_string(),
                role,
            },
            token,
        )),
        Err(DbError::Database(e)) if e.is_unique_violation() => {
            Err(AccountError::Exists(name.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Replace a moderator's API token; returns the new token.
pub async fn rotate_token(db: &Pool, name: &str) -> Result<String, AccountError> {
    let (tid, token) = new_token();
    let hash = hash_secret(&token)?;
    let n = on_pool!(db, p => {
        sqlx::query("UPDATE moderators SET token_id = $1, token_hash = $2 WHERE name = $3")
            .bind(&tid)
            .bind(&hash)
            .bind(name)
            .execute(p)
            .await?
            .rows_affected()
    });
    if n == 0 {
        return Err(AccountError::NotFound(name.to_string()));
    }
    Ok(token)
}

pub async fn set_password(db: &Pool, name: &str, password: &str) -> Result<(), AccountError> {
    let hash = hash_secret(password)?;
    // A new password ends every console session of the account, at once and for every
    // process sharing the database (sessions are looked up on each request).
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let n = on_conn!(c, c => {
        sqlx::query("UPDATE moderators SET password_hash = $1 WHERE name = $2")
            .bind(&hash)
            .bind(name)
            .execute(&mut *c)
            .await?
            .rows_affected()
    });
    if n == 0 {
        return Err(AccountError::NotFound(name.to_string()));
    }
    on_conn!(c, c => {
        sqlx::query(
            "DELETE FROM console_sessions WHERE moderator_id = (SELECT id FROM moderators WHERE name = $1)",
        )
        .bind(name)
        .execute(&mut *c)
        .await?;
    });
    tx.commit().await?;
    Ok(())
}

/// The moderator owning this API token, if it is valid and the account is enabled.
pub async fn by_token(db: &Pool, token: &str) -> Result<Option<Moderator>, DbError> {
    let Some(tid) = token_id(token) else {
        return Ok(None);
    };
    let row: Option<(i64, String, String, String)> = on_pool!(db, p => {
        sqlx::query_as(
            "SELECT id, name, role, token_hash FROM moderators WHERE token_id = $1 AND disabled = 0",
        )
        .bind(tid)
        .fetch_optional(p)
        .await?
    });
    let Some((id, name, role, hash)) = row else {
        return Ok(None);
    };
    let token = token.to_string();
    // argon2 is deliberately slow: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || verify_secret(&token, &hash))
        .await
        .unwrap_or(false);
    ok.then(|| moderator(id, name, role)).transpose()
}

fn moderator(id: i64, name: String, role: String) -> Result<Moderator, DbError> {
    Ok(Moderator {
        id,
        name,
        role: Role::try_from(role).map_err(|e| DbError::Decode(e.into()))?,
    })
}

/// The account of a token whose secret was verified earlier (by [`by_token`]), if that
/// token is still the account's current one and the account is enabled: an indexed read,
/// no argon2, so a rotated or revoked token stops working on the next request.
pub async fn by_verified_token(
    db: &Pool,
    moderator_id: i64,
    token: &str,
) -> Result<Option<Moderator>, DbError> {
    let Some(tid) = token_id(token) else {
        return Ok(None);
    };
    Ok(on_pool!(db, p => {
        sqlx::query_as(
            "SELECT id, name, role FROM moderators WHERE id = $1 AND token_id = $2 AND disabled = 0",
        )
        .bind(moderator_id)
        .bind(tid)
        .fetch_optional(p)
        .await?
    }))
}

/// The moderator with this name and password, if they match.
pub async fn by_password(
    db: &Pool,
    name: &str,
    password: &str,
) -> Result<Option<Moderator>, DbError> {
    let row: Option<(i64, String, String, Option<String>)> = on_pool!(db, p => {
        sqlx::query_as(
            "SELECT id, name, role, password_hash FROM moderators WHERE name = $1 AND disabled = 0",
        )
        .bind(name)
        .fetch_optional(p)
        .await?
    });
    let (moderator, hash) = match row {
        Some((id, name, role, hash)) => (Some(moderator(id, name, role)?), hash),
        None => (None, None),
    };
    // Verify against a dummy hash when the account is unknown so timing does not tell.
    let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_string());
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_secret(&password, &hash))
        .await
        .unwrap_or(false);
    Ok(if ok { moderator } else { None })
}

const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2vE0QOXu0r6Hb9iUQ3M2jCyXjmm9nDRu4hpdxNnoSIk";

pub async fn list(db: &Pool) -> Result<Vec<Moderator>, DbError> {
    Ok(on_pool!(db, p => {
        sqlx::query_as("SELECT id, name, role FROM moderators WHERE disabled = 0 ORDER BY name")
            .fetch_all(p)
            .await?
    }))
}

pub async fn name_of(db: &Pool, id: i64) -> Result<Option<String>, DbError> {
    Ok(on_pool!(db, p => {
        sqlx::query_scalar("SELECT name FROM moderators WHERE id = $1")
            .bind(id)
            .fetch_optional(p)
            .await?
    }))
}
