//! Serialised public threads kept in memory, per article and query, until a write touches
//! the article. Validity comes from [`crate::store::versions`]: an entry is served only
//! while its article's version is the one it was read at. Bounded in bytes (least recently
//! used entries go first); `comments.thread_cache_mb = 0` turns it off.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use axum::body::Bytes;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;

use crate::store::versions::Version;

/// What a thread response depends on besides the stored comments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ThreadKey {
    pub article_id: String,
    pub after: Option<i64>,
    pub limit: usize,
    pub hide_reported: bool,
}

/// Counters and gauges shown in `/metrics`.
#[derive(Clone, Default)]
pub struct CacheMetrics {
    pub hits: Counter,
    pub misses: Counter,
    pub bytes: Gauge,
    pub entries: Gauge,
}

struct Entry {
    body: Bytes,
    version: Version,
    tick: u64,
    size: usize,
}

struct Lru {
    map: HashMap<ThreadKey, Entry>,
    /// Last use → key; the first is the least recently used.
    order: BTreeMap<u64, ThreadKey>,
    tick: u64,
    bytes: usize,
    max_bytes: usize,
}

/// Bookkeeping per entry beyond the body (key, maps).
const OVERHEAD: usize = 160;

pub struct ThreadCache {
    lru: Mutex<Lru>,
    metrics: CacheMetrics,
}

impl ThreadCache {
    pub fn new(max_bytes: usize, metrics: CacheMetrics) -> ThreadCache {
        ThreadCache {
            lru: Mutex::new(Lru {
                map: HashMap::new(),
                order: BTreeMap::new(),
                tick: 0,
                bytes: 0,
                max_bytes,
            }),
            metrics,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru> {
        self.lru
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached body for `key` if it was read at `version`. Counts a hit or a miss.
    pub fn get(&self, key: &ThreadKey, version: Option<Version>) -> Option<Bytes> {
        let found = version.and_then(|v| self.lock().get(key, v));
        match found {
            Some(_) => self.metrics.hits.inc(),
            None => self.metrics.misses.inc(),
        };
        found
    }

    /// Keep `body`, read at `version` (taken before the database was read).
    pub fn insert(&self, key: ThreadKey, version: Option<Version>, body: Bytes) {
        let Some(version) = version else { return };
        let mut lru = self.lock();
        lru.insert(key, version, body);
        self.metrics.bytes.set(lru.bytes as i64);
        self.metrics.entries.set(lru.map.len() as i64);
    }

    /// New size limit (config reload); 0 empties and disables the cache.
    pub fn set_max_bytes(&self, max_bytes: usize) {
        let mut lru = self.lock();
        lru.max_bytes = max_bytes;
        lru.evict();
        self.metrics.bytes.set(lru.bytes as i64);
        self.metrics.entries.set(lru.map.len() as i64);
    }

    /// Bytes held now (bodies plus bookkeeping).
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Lru {
    fn get(&mut self, key: &ThreadKey, version: Version) -> Option<Bytes> {
        let tick = self.tick + 1;
        let entry = self.map.get_mut(key)?;
        if entry.version != version {
            // Older than what the reader saw: it can never be served again. (A newer one,
            // put there by a reader that started later, stays.)
            if !entry.version.not_older_than(&version) {
                self.remove(key);
            }
            return None;
        }
        self.tick = tick;
        let old = std::mem::replace(&mut entry.tick, tick);
        let body = entry.body.clone();
        if let Some(k) = self.order.remove(&old) {
            self.order.insert(tick, k);
        }
        Some(body)
    }

    fn insert(&mut self, key: ThreadKey, version: Version, body: Bytes) {
        let size = body.len() + key.article_id.len() + OVERHEAD;
        // One entry may use at most an eighth of the cache.
        if size.saturating_mul(8) > self.max_bytes {
            return;
        }
        if let Some(old) = self.map.get(&key) {
            if old.version.not_older_than(&version) {
                return;
            }
            self.remove(&key);
        }
        self.tick += 1;
        self.order.insert(self.tick, key.clone());
        self.map.insert(
            key,
            Entry {
                body,
                version,
                tick: self.tick,
                size,
            },
        );
        self.bytes += size;
        self.evict();
    }

    fn remove(&mut self, key: &ThreadKey) {
        if let Some(e) = self.map.remove(key) {
            self.order.remove(&e.tick);
            self.bytes -= e.size;
        }
    }

    fn evict(&mut self) {
        while self.bytes > self.max_bytes {
            let Some((_, key)) = self.order.pop_first() else {
                break;
            };
            if let Some(e) = self.map.remove(&key) {
                self.bytes -= e.size;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::versions::ThreadVersions;

    fn key(a: &str) -> ThreadKey {
        ThreadKey {
            article_id: a.into(),
            after: None,
            limit: 100,
            hide_reported: false,
        }
    }

    #[test]
    fn serves_until_the_version_moves_and_stays_bounded() {
        let versions = ThreadVersions::default();
        // Room for exactly ten entries of 1,000 bytes under keys like "article-10".
        let max = 10 * (1000 + OVERHEAD + 10);
        let cache = ThreadCache::new(max, CacheMetrics::default());
        let v = versions.current("a");
        assert!(cache.get(&key("a"), v).is_none());
        cache.insert(key("a"), v, Bytes::from(vec![b'x'; 1000]));
        assert_eq!(cache.get(&key("a"), v).unwrap().len(), 1000);

        // An accounted write to "a" retires it.
        let w = versions.begin();
        w.finish(["a"], []);
        assert!(cache.get(&key("a"), versions.current("a")).is_none());
        assert_eq!(cache.len(), 0);

        for i in 10..60 {
            let k = key(&format!("article-{i}"));
            cache.insert(
                k.clone(),
                versions.current(&k.article_id),
                Bytes::from(vec![b'y'; 1000]),
            );
            assert!(cache.bytes() <= max);
        }
        assert_eq!(cache.len(), 10);
        // The most recent ones are kept.
        let k = key("article-59");
        assert!(cache.get(&k, versions.current(&k.article_id)).is_some());
        let k = key("article-10");
        assert!(cache.get(&k, versions.current(&k.article_id)).is_none());
        cache.set_max_bytes(0);
        assert!(cache.is_empty());
        assert_eq!(cache.bytes(), 0);
    }
}
