//! Secrets already verified (moderator API tokens, Perspective API keys), remembered by
//! their SHA-256 so the slow password hash (argon2) runs once per secret per `ttl`. The
//! secret itself is never kept. Callers still check on every request that what the cached
//! id names is active, so a revocation applies at once; `ttl` only bounds how long a
//! verification is trusted.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// How long a verified moderator token is trusted before argon2 checks it again.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(60);

/// More entries than this and expired ones are swept before the next insert.
const SWEEP_ABOVE: usize = 10_000;

pub struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<[u8; 32], (i64, Instant)>>,
}

impl KeyCache {
    pub fn new(ttl: Duration) -> KeyCache {
        KeyCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cache key for a secret.
    pub fn digest(secret: &str) -> [u8; 32] {
        Sha256::digest(secret.as_bytes()).into()
    }

    /// The id the secret was verified for, if it was within `ttl`.
    pub fn get(&self, key: &[u8; 32]) -> Option<i64> {
        let entries = self.entries.lock().expect("key cache lock");
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(id, _)| *id)
    }

    pub fn put(&self, key: [u8; 32], id: i64) {
        let mut entries = self.entries.lock().expect("key cache lock");
        if entries.len() > SWEEP_ABOVE {
            entries.retain(|_, (_, at)| at.elapsed() < self.ttl);
        }
        entries.insert(key, (id, Instant::now()));
    }

    pub fn forget(&self, key: &[u8; 32]) {
        self.entries.lock().expect("key cache lock").remove(key);
    }

    /// Forget every secret (after a rotation or an account change).
    pub fn clear(&self) {
        self.entries.lock().expect("key cache lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_for_its_ttl_and_forgets_on_demand() {
        let cache = KeyCache::new(Duration::from_secs(60));
        let key = KeyCache::digest("mgk_secret");
        assert_eq!(cache.get(&key), None);
        cache.put(key, 7);
        assert_eq!(cache.get(&key), Some(7));
        cache.forget(&key);
        assert_eq!(cache.get(&key), None);
        cache.put(key, 7);
        cache.clear();
        assert_eq!(cache.get(&key), None);
        let expired = KeyCache::new(Duration::ZERO);
        expired.put(key, 7);
        assert_eq!(expired.get(&key), None);
    }
}
