//! Serialised public threads kept in memory, per article and query, until a write touches
//! the article. Validity comes from [`crate::store::versions`]: an entry is served only
//! while its article's version is the one it was read at. Bounded in bytes (least recently
//! used entries go first); `comments.thread_cache_mb = 0` turns it off.
//!
//! Concurrent misses of one thread share one database read: a reader that finds a read of
//! the same key in flight, started at a version not older than its own, waits for that
//! read's body instead of reading again. (That read's snapshot was taken after every
//! write the waiter must see: such a write moved the version before it was answered, and
//! the version the read started at already counts it.) Without this, every comment on a
//! busy article sent all of its concurrent readers to the database at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::watch;

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
    /// Misses answered by a concurrent read of the same thread.
    pub joined: Counter,
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

/// A database read of a thread in flight: its version and where its body will appear.
struct Flight {
    version: Version,
    id: u64,
    body: watch::Receiver<Option<Bytes>>,
}

pub struct ThreadCache {
    lru: Mutex<Lru>,
    flights: Mutex<HashMap<ThreadKey, Flight>>,
    next_flight: AtomicU64,
    metrics: CacheMetrics,
}

/// What a reader does about a thread (see [`ThreadCache::lookup`]).
pub enum Lookup<'a> {
    /// Cached at the reader's version.
    Hit(Bytes),
    /// Another reader is reading it: wait with [`wait`]; `None` means read it yourself.
    Wait(watch::Receiver<Option<Bytes>>),
    /// Read it, then hand the body to [`Loading::finish`] (cached, and given to waiters).
    Load(Loading<'a>),
    /// Versions are unsettled: read it, and neither cache nor share it.
    Uncached,
}

/// The body of the read a reader joined, or `None` if that read failed or was dropped.
pub async fn wait(mut body: watch::Receiver<Option<Bytes>>) -> Option<Bytes> {
    loop {
        if let Some(b) = body.borrow_and_update().clone() {
            return Some(b);
        }
        body.changed().await.ok()?;
    }
}

/// This reader's database read, shared with readers that join it.
pub struct Loading<'a> {
    cache: &'a ThreadCache,
    key: ThreadKey,
    version: Version,
    id: u64,
    body: watch::Sender<Option<Bytes>>,
}

impl Loading<'_> {
    /// Cache `body` and give it to the waiting readers.
    pub fn finish(self, body: Bytes) {
        self.cache
            .insert(self.key.clone(), Some(self.version), body.clone());
        self.body.send_replace(Some(body));
        // Drop removes the flight.
    }
}

impl Drop for Loading<'_> {
    fn drop(&mut self) {
        // Failed or finished: either way later readers look again. Waiters on a failed read
        // see the sender go and read for themselves.
        let mut flights = self.cache.flights();
        if flights.get(&self.key).is_some_and(|f| f.id == self.id) {
            flights.remove(&self.key);
        }
    }
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
            flights: Mutex::new(HashMap::new()),
            next_flight: AtomicU64::new(0),
            metrics,
        }
    }

    fn flights(&self) -> std::sync::MutexGuard<'_, HashMap<ThreadKey, Flight>> {
        self.flights
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Hit, join a read in flight, or read (see [`Lookup`]). Counts a hit, a join or a miss.
    pub fn lookup(&self, key: &ThreadKey, version: Option<Version>) -> Lookup<'_> {
        let Some(version) = version else {
            self.metrics.misses.inc();
            return Lookup::Uncached;
        };
        if let Some(body) = self.lock().get(key, version) {
            self.metrics.hits.inc();
            return Lookup::Hit(body);
        }
        let mut flights = self.flights();
        if let Some(f) = flights.get(key)
            && f.version.not_older_than(&version)
        {
            self.metrics.joined.inc();
            return Lookup::Wait(f.body.clone());
        }
        // None in flight, or one that started before a write this reader must see.
        self.metrics.misses.inc();
        let id = self.next_flight.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = watch::channel(None);
        flights.insert(
            key.clone(),
            Flight {
                version,
                id,
                body: rx,
            },
        );
        Lookup::Load(Loading {
            cache: self,
            key: key.clone(),
            version,
            id,
            body: tx,
        })
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

    #[tokio::test]
    async fn concurrent_misses_share_one_read_unless_it_is_too_old() {
        let versions = ThreadVersions::default();
        let cache = ThreadCache::new(1 << 20, CacheMetrics::default());
        let v0 = versions.current("a");
        let Lookup::Load(loading) = cache.lookup(&key("a"), v0) else {
            panic!("the first miss reads");
        };
        let Lookup::Wait(joined) = cache.lookup(&key("a"), v0) else {
            panic!("the second joins");
        };
        // A write to "a" after the read started: a reader that saw it must not join.
        versions.begin().finish(["a"], []);
        let v1 = versions.current("a");
        let Lookup::Load(newer) = cache.lookup(&key("a"), v1) else {
            panic!("a newer reader reads again");
        };
        let Lookup::Wait(joined_newer) = cache.lookup(&key("a"), v1) else {
            panic!("and is joined in turn");
        };
        loading.finish(Bytes::from_static(b"old"));
        assert_eq!(wait(joined).await.unwrap(), Bytes::from_static(b"old"));
        // The newer read fails: its waiters read for themselves.
        drop(newer);
        assert_eq!(wait(joined_newer).await, None);
        let Lookup::Load(retry) = cache.lookup(&key("a"), v1) else {
            panic!("nothing cached at v1, nothing in flight");
        };
        retry.finish(Bytes::from_static(b"new"));
        assert!(matches!(cache.lookup(&key("a"), v1), Lookup::Hit(b) if b == "new"));
        assert!(matches!(cache.lookup(&key("a"), None), Lookup::Uncached));
    }
}
