//! Which public threads may have changed since a point in time, so that a serialised
//! thread can be kept in memory until a write touches its article.
//!
//! A thread's version is a pair: a generation per article and a global generation. Both
//! only grow. An entry cached at version `v` is served while the article's version is
//! still `v`; every change to a `comments` row moves the version of that comment's article
//! (or the global one) before anyone is told the change happened.
//!
//! Why this is complete:
//! - Every write of this process goes through the single writer connection (the read pool
//!   is opened read-only). SQLite's update hook on that connection sees every row changed
//!   in `comments`, whoever made the change.
//! - The writer's comment paths ([`super::writer`]) run as *accounted* writes: after COMMIT
//!   and before the connection is released or the caller answered, they bump the articles
//!   they changed and declare the comment ids. A changed row they did not declare bumps the
//!   global generation instead (and is logged: it would be a bug in the declaration).
//! - A change outside an accounted write (a retention job, the background re-score, a test
//!   writing directly) marks the versions *unsettled*: readers neither serve nor fill the
//!   cache until the next accounted write or the [`watch`] task, both holding the writer
//!   connection (so that write has ended), bump the global generation.
//! - Another process (the CLI `rescore` or `moderator` while the server runs) writes
//!   through its own connection. [`watch`] polls `PRAGMA data_version` on the writer
//!   connection, which changes exactly when another connection committed, and bumps the
//!   global generation: such writes show within one poll interval.
//!
//! On PostgreSQL, several instances write, and an instance's own accounted writes may run
//! at once on several connections (no update hook there: only their bumps matter). A trigger on `comments` notifies every change's
//! article at COMMIT (`pg_notify('modgate_threads', article_id)`), and [`watch`] keeps a
//! LISTEN connection that bumps that article's version. This instance's own accounted
//! writes still bump before answering; another instance's (or the CLI's) show once their
//! notification arrives, typically within milliseconds. While the listening connection is
//! down, nothing is served from or put into the cache, and everything is retired when it
//! is back, since notifications may have been missed meanwhile.
//!
//! Ordering: a reader takes the version *before* it reads the database and caches the
//! result under that version. A writer bumps *after* COMMIT returned. So a result read
//! from a snapshot without a commit carries a version older than that commit's bump.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::time::Duration;

/// Article generations are kept in this many stripes (an article shares its stripe with
/// others: a write then also retires their cached threads, which costs a re-read, never a
/// stale answer). Fixed memory however many articles exist.
const STRIPES: usize = 4096;

/// How often [`watch`] looks for commits by other processes: the longest a cached thread
/// can lag behind one.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    global: u64,
    article: u64,
}

impl Version {
    /// True when `self` was taken no earlier than `other` (both counters only grow).
    pub fn not_older_than(&self, other: &Version) -> bool {
        self.global >= other.global && self.article >= other.article
    }
}

#[derive(Debug)]
pub struct ThreadVersions {
    stripes: Box<[AtomicU64]>,
    global: AtomicU64,
    /// A `comments` row changed outside an accounted write and no global bump followed yet.
    unsettled: AtomicBool,
    /// An accounted write holds the writer connection.
    accounting: AtomicBool,
    /// Comment ids the update hook saw changing during the current accounted write.
    touched: Mutex<Vec<i64>>,
    /// The writer connection was (re)opened: the data_version baseline is gone.
    reconnected: AtomicBool,
    /// Other writers' changes cannot be seen now (PostgreSQL, before the listener is up
    /// or while it reconnects): nothing may be served from or put into a cache.
    blind: AtomicBool,
}

impl Default for ThreadVersions {
    fn default() -> Self {
        ThreadVersions {
            stripes: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
            global: AtomicU64::new(0),
            unsettled: AtomicBool::new(false),
            accounting: AtomicBool::new(false),
            touched: Mutex::new(Vec::new()),
            reconnected: AtomicBool::new(false),
            blind: AtomicBool::new(false),
        }
    }
}

fn stripe(article_id: &str) -> usize {
    // FNV-1a: cheap, and only spreads articles over stripes.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in article_id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % STRIPES as u64) as usize
}

impl ThreadVersions {
    /// The version of `article_id`'s thread now, or `None` while a change is unsettled
    /// (then nothing may be served from or put into a cache).
    pub fn current(&self, article_id: &str) -> Option<Version> {
        if self.unsettled.load(SeqCst) || self.blind.load(SeqCst) {
            return None;
        }
        Some(Version {
            global: self.global.load(SeqCst),
            article: self.stripes[stripe(article_id)].load(SeqCst),
        })
    }

    /// Retire every cached thread.
    pub fn bump_all(&self) {
        self.global.fetch_add(1, SeqCst);
    }

    pub(super) fn bump(&self, article_id: &str) {
        self.stripes[stripe(article_id)].fetch_add(1, SeqCst);
    }

    /// Called by SQLite's update hook on the writer connection for every changed row.
    pub(super) fn row_changed(&self, table: &str, rowid: i64) {
        if table != "comments" {
            return;
        }
        if self.accounting.load(SeqCst) {
            self.touched
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(rowid);
        } else {
            self.unsettled.store(true, SeqCst);
        }
    }

    /// PostgreSQL: no change notifications until [`Self::see`].
    pub(super) fn blind(&self) {
        self.blind.store(true, SeqCst);
    }

    /// PostgreSQL: notifications flow again; whatever was missed meanwhile is retired.
    fn see(&self) {
        self.bump_all();
        self.blind.store(false, SeqCst);
    }

    /// Called when the writer connection is opened.
    pub(super) fn connected(&self) {
        self.reconnected.store(true, SeqCst);
        self.unsettled.store(true, SeqCst);
    }

    /// Settle earlier unaccounted changes. Only while holding the writer connection: no
    /// write of ours is in progress then, so every unaccounted change has ended.
    fn settle(&self) {
        if self.unsettled.load(SeqCst) {
            // Bump first: a reader that sees `unsettled` cleared also sees the new global.
            self.bump_all();
            self.unsettled.store(false, SeqCst);
        }
    }

    /// Start an accounted write. Only while holding the writer connection, before the
    /// first statement; end it with [`Accounted::finish`] after COMMIT, before releasing
    /// the connection.
    pub fn begin(&self) -> Accounted<'_> {
        self.settle();
        self.touched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        self.accounting.store(true, SeqCst);
        Accounted {
            versions: self,
            done: false,
        }
    }
}

/// An accounted write in progress (see the module comment).
pub struct Accounted<'a> {
    versions: &'a ThreadVersions,
    done: bool,
}

impl Accounted<'_> {
    /// The transaction committed: bump `articles` (every article whose comments or facts
    /// it changed) and check that it changed no comment outside `comment_ids`.
    pub fn finish<'s>(
        mut self,
        articles: impl IntoIterator<Item = &'s str>,
        comment_ids: impl IntoIterator<Item = i64>,
    ) {
        let v = self.versions;
        for a in articles {
            v.bump(a);
        }
        let mut touched = std::mem::take(
            &mut *v
                .touched
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if !touched.is_empty() {
            let mut declared: Vec<i64> = comment_ids.into_iter().collect();
            declared.sort_unstable();
            touched.retain(|id| declared.binary_search(id).is_err());
            if !touched.is_empty() {
                tracing::warn!(
                    comments = ?touched,
                    "write changed comments it did not declare; all cached threads retired"
                );
                v.bump_all();
            }
        }
        v.accounting.store(false, SeqCst);
        self.done = true;
    }
}

impl Drop for Accounted<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Failed or abandoned before `finish`: whatever it touched is rolled back, but
            // retiring everything is cheap and needs no argument.
            let v = self.versions;
            let touched = std::mem::take(
                &mut *v
                    .touched
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            if !touched.is_empty() {
                v.bump_all();
            }
            v.accounting.store(false, SeqCst);
        }
    }
}

/// Settle unaccounted changes and notice commits by other connections (other processes),
/// every `every` on SQLite, as notified on PostgreSQL, until the store closes. See the
/// module comment.
pub async fn watch(store: super::Store, every: Duration) {
    match store.writer() {
        super::Pool::Sqlite(_) => watch_sqlite(store, every).await,
        super::Pool::Postgres(pool) => listen_postgres(pool.clone(), store, every).await,
    }
}

async fn watch_sqlite(store: super::Store, every: Duration) {
    let mut last: Option<i64> = None;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if store.writer().is_closed() {
            return;
        }
        let Ok(mut conn) = store.writer().acquire().await else {
            continue;
        };
        let super::Conn::Sqlite(conn) = conn.conn() else {
            return;
        };
        let versions = store.versions();
        versions.settle();
        let Ok(now) = sqlx::query_scalar::<_, i64>("PRAGMA data_version")
            .fetch_one(&mut *conn)
            .await
        else {
            versions.bump_all();
            continue;
        };
        if versions.reconnected.swap(false, SeqCst) {
            last = None;
        }
        if last.is_some_and(|l| l != now) || last.is_none() {
            versions.bump_all();
        }
        last = Some(now);
    }
}

/// The channel `comments_changed()` (migrations/postgres) notifies.
const CHANNEL: &str = "modgate_threads";

async fn listen_postgres(pool: sqlx::PgPool, store: super::Store, every: Duration) {
    let versions = store.versions();
    loop {
        if pool.is_closed() {
            return;
        }
        versions.blind();
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "thread-change listener cannot connect; cache off");
                tokio::time::sleep(every).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN failed; cache off");
            tokio::time::sleep(every).await;
            continue;
        }
        // Listening from here on: anything committed before is retired now.
        versions.see();
        loop {
            // Wake now and then to notice that the store closed.
            match tokio::time::timeout(every * 4, listener.try_recv()).await {
                Err(_) if pool.is_closed() => return,
                Err(_) => {}
                Ok(Ok(Some(n))) => versions.bump(n.payload()),
                // The connection dropped: notifications may be lost until a new LISTEN.
                Ok(Ok(None)) | Ok(Err(_)) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounted_write_bumps_only_its_articles() {
        let v = ThreadVersions::default();
        let a0 = v.current("a").unwrap();
        let b0 = v.current("b-other").unwrap();
        let w = v.begin();
        v.row_changed("comments", 7);
        v.row_changed("verdicts", 99);
        w.finish(["a"], [7]);
        let a1 = v.current("a").unwrap();
        assert_ne!(a0, a1);
        assert!(a1.not_older_than(&a0));
        if stripe("a") != stripe("b-other") {
            assert_eq!(v.current("b-other").unwrap(), b0);
        }
    }

    #[test]
    fn undeclared_comment_retires_everything() {
        let v = ThreadVersions::default();
        let b0 = v.current("b").unwrap();
        let w = v.begin();
        v.row_changed("comments", 7);
        v.row_changed("comments", 8);
        w.finish(["a"], [7]);
        assert_ne!(v.current("b").unwrap(), b0);
    }

    #[test]
    fn unaccounted_change_blocks_caching_until_settled() {
        let v = ThreadVersions::default();
        let a0 = v.current("a").unwrap();
        v.row_changed("comments", 1);
        assert_eq!(v.current("a"), None);
        drop(v.begin());
        let a1 = v.current("a").unwrap();
        assert_ne!(a0, a1);
    }

    #[test]
    fn abandoned_write_retires_everything() {
        let v = ThreadVersions::default();
        let a0 = v.current("a").unwrap();
        let w = v.begin();
        v.row_changed("comments", 3);
        drop(w);
        assert_ne!(v.current("a").unwrap(), a0);
        assert!(!v.accounting.load(SeqCst));
    }
}
