//! The in-memory thread cache against the real router and a real SQLite file: every write
//! that changes what a thread shows is visible on the next read, writes by another
//! connection (another process) show within the watch interval, and memory stays bounded.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{TestApp, spawn_app, spawn_with, test_config};
use modgate::store::moderators::Role;
use serde_json::{Value, json};

fn ids(thread: &Value) -> Vec<i64> {
    fn walk(nodes: &Value, out: &mut Vec<i64>) {
        for n in nodes.as_array().into_iter().flatten() {
            out.push(n["id"].as_i64().unwrap());
            walk(&n["replies"], out);
        }
    }
    let mut out = Vec::new();
    walk(&thread["comments"], &mut out);
    out
}

fn node(thread: &Value, id: i64) -> Option<Value> {
    fn find(nodes: &Value, id: i64) -> Option<Value> {
        nodes.as_array()?.iter().find_map(|n| {
            if n["id"] == id {
                Some(n.clone())
            } else {
                find(&n["replies"], id)
            }
        })
    }
    find(&thread["comments"], id)
}

async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app.metrics_text().await;
    text.lines()
        .find_map(|l| {
            let (n, v) = l.rsplit_once(' ')?;
            (n == name).then(|| v.parse().unwrap())
        })
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
}

async fn thread(app: &TestApp, article: &str) -> Value {
    let (code, t) = app
        .get_json(&format!("/api/v1/articles/{article}/comments?limit=500"))
        .await;
    assert_eq!(code, 200, "{t}");
    t
}

/// Unscored comments are held; the watch task settles start-up within its interval.
async fn warm(app: &TestApp, article: &str) -> Value {
    tokio::time::sleep(Duration::from_millis(600)).await;
    thread(app, article).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_comments_replies_and_removals_show_on_the_next_read() {
    let app = spawn_app().await;
    let (code, first) = app
        .post_comment("cache-a", None, "ann", "The bridge opens on Monday.")
        .await;
    assert_eq!(code, 201, "{first}");
    assert_eq!(first["status"], "published");
    let first = first["id"].as_i64().unwrap();

    let t = warm(&app, "cache-a").await;
    assert_eq!(ids(&t), vec![first]);
    let hits = metric(&app, "modgate_thread_cache_hits_total").await;
    // Served from the cache now, and still the same.
    assert_eq!(thread(&app, "cache-a").await, t);
    assert!(metric(&app, "modgate_thread_cache_hits_total").await > hits);

    // A reply: the next read shows it.
    let (code, reply) = app
        .post_comment("cache-a", Some(first), "bo", "Good to hear, thanks.")
        .await;
    assert_eq!(code, 201, "{reply}");
    let reply = reply["id"].as_i64().unwrap();
    let t = thread(&app, "cache-a").await;
    assert_eq!(ids(&t), vec![first, reply]);
    assert_eq!(t["count"], 2);
    // Cached again; a write to another article leaves it served from the cache.
    thread(&app, "cache-a").await;
    let (code, _) = app
        .post_comment("cache-other", None, "cy", "Another article entirely.")
        .await;
    assert_eq!(code, 201);
    // Neither that write nor the WAL checkpoints and external-write polls that follow it
    // retire this thread.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (hits, misses) = (
        metric(&app, "modgate_thread_cache_hits_total").await,
        metric(&app, "modgate_thread_cache_misses_total").await,
    );
    assert_eq!(ids(&thread(&app, "cache-a").await), vec![first, reply]);
    assert_eq!(
        metric(&app, "modgate_thread_cache_hits_total").await,
        hits + 1.0
    );
    assert_eq!(
        metric(&app, "modgate_thread_cache_misses_total").await,
        misses
    );

    // A moderator removes the first comment: the next read shows the placeholder, and the
    // reply under it stays.
    let token = app.moderator_token("m", Role::Moderator).await;
    let (code, out) = app
        .mod_post(
            &token,
            &format!("/api/v1/moderation/comments/{first}/decision"),
            &json!({"action": "remove", "reason": "spam"}),
        )
        .await;
    assert_eq!(code, 200, "{out}");
    let t = thread(&app, "cache-a").await;
    let removed = node(&t, first).unwrap();
    assert_eq!(removed["removed"], true);
    assert_eq!(
        removed["body"],
        "Comment removed for violating comments policy"
    );
    assert!(removed.get("author_name").is_none());
    assert!(node(&t, reply).is_some());

    // Restoring it (a bulk decision) shows it again.
    let (code, out) = app
        .mod_post(
            &token,
            "/api/v1/moderation/decisions",
            &json!({"ids": [first], "action": "restore"}),
        )
        .await;
    assert_eq!(code, 200, "{out}");
    let t = thread(&app, "cache-a").await;
    assert_eq!(node(&t, first).unwrap()["removed"], false, "{t}");

    // Another page size is another entry, and sees the same state.
    let (_, page) = app
        .get_json("/api/v1/articles/cache-a/comments?limit=1")
        .await;
    assert_eq!(page["count"], 2);
    assert_eq!(page["comments"][0]["id"], first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_hide_a_comment_when_configured() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(&dir.path().join("m.db"));
    config.comments.hide_reported = true;
    config.comments.reports_to_queue = 2;
    let app = spawn_with(config, dir).await;
    let (_, c) = app
        .post_comment("cache-rep", None, "ann", "The market opens at nine.")
        .await;
    let id = c["id"].as_i64().unwrap();
    assert_eq!(ids(&warm(&app, "cache-rep").await), vec![id]);
    for n in 1..=2 {
        let (code, out) = app
            .report_from(&format!("192.0.2.{n}"), id, &json!({"reason": "spam"}))
            .await;
        assert_eq!(code, 201, "{out}");
        let shown = ids(&thread(&app, "cache-rep").await);
        assert_eq!(shown.is_empty(), n == 2, "after {n} reports: {shown:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_posters_always_read_their_own_comment() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(&dir.path().join("m.db"));
    config.limits.posts_per_minute_per_ip = 0;
    config.limits.posts_per_minute_per_author = 0;
    let app = Arc::new(spawn_with(config, dir).await);
    warm(&app, "cache-busy").await;
    let mut tasks = Vec::new();
    for w in 0..8 {
        let app = Arc::clone(&app);
        tasks.push(tokio::spawn(async move {
            for i in 0..15 {
                // Readers keep the thread cached meanwhile.
                thread(&app, "cache-busy").await;
                let (code, c) = app
                    .post_comment(
                        "cache-busy",
                        None,
                        &format!("writer {w}"),
                        &format!("Number {i} from writer {w}, on the timetable."),
                    )
                    .await;
                assert_eq!(code, 201, "{c}");
                if c["status"] != "published" {
                    continue;
                }
                let id = c["id"].as_i64().unwrap();
                let t = thread(&app, "cache-busy").await;
                assert!(ids(&t).contains(&id), "comment {id} missing from {t}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(metric(&app, "modgate_thread_cache_hits_total").await > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_by_another_connection_show_within_the_watch_interval() {
    let app = spawn_app().await;
    let (_, c) = app
        .post_comment("cache-ext", None, "ann", "Tram line 4 is back.")
        .await;
    let id = c["id"].as_i64().unwrap();
    assert_eq!(ids(&warm(&app, "cache-ext").await), vec![id]);
    thread(&app, "cache-ext").await; // cached

    // What the CLI (or, on PostgreSQL, another instance) does: its own connection.
    let database = app.database.to_str().unwrap();
    if app.on_postgres() {
        let other = sqlx::PgPool::connect(database).await.unwrap();
        sqlx::query("UPDATE comments SET status = 'removed' WHERE id = $1")
            .bind(id)
            .execute(&other)
            .await
            .unwrap();
        other.close().await;
    } else {
        let other = sqlx::SqlitePool::connect(&format!("sqlite:{database}"))
            .await
            .unwrap();
        sqlx::query("UPDATE comments SET status = 'removed' WHERE id = $1")
            .bind(id)
            .execute(&other)
            .await
            .unwrap();
        other.close().await;
    }
    let start = Instant::now();
    loop {
        let t = thread(&app, "cache-ext").await;
        if node(&t, id).unwrap()["removed"] == true {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "another connection's write not visible after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A write on our own connection outside the writer's accounting (as a retention job or
    // the background re-score would do) is never served stale: the cache is bypassed until
    // it is settled. (On PostgreSQL every write is seen by notification, as above.)
    modgate::on_pool!(app.state.store.writer(), p => sqlx::query("UPDATE comments SET status = 'published' WHERE id = $1")
        .bind(id)
        .execute(p)
        .await.map(|r| r.rows_affected()))
        .unwrap();
    let start = Instant::now();
    loop {
        let t = thread(&app, "cache-ext").await;
        if node(&t, id).unwrap()["removed"] == false {
            break;
        }
        assert!(
            app.on_postgres() && start.elapsed() < Duration::from_secs(1),
            "unaccounted write served stale: {t}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_stays_within_its_size() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(&dir.path().join("m.db"));
    config.comments.thread_cache_mb = 1;
    config.limits.posts_per_minute_per_ip = 0;
    config.limits.posts_per_minute_per_author = 0;
    let app = spawn_with(config, dir).await;
    // 40 articles of 20 comments of ~1 kB: ~800 kB of threads at limit=500, more again
    // at the default page size, so about 1.6 MB asked of a 1 MiB cache.
    let body = "Long remarks about the timetable and the new tram depot. ".repeat(17);
    for a in 0..40 {
        for i in 0..20 {
            let (code, out) = app
                .post_comment(
                    &format!("cache-big-{a}"),
                    None,
                    &format!("author {i}"),
                    &format!("{i}: {body}"),
                )
                .await;
            assert_eq!(code, 201, "{out}");
        }
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    for round in 0..2 {
        for a in 0..40 {
            let t = thread(&app, &format!("cache-big-{a}")).await;
            assert_eq!(t["count"], 20, "round {round}");
            let (_, t) = app
                .get_json(&format!("/api/v1/articles/cache-big-{a}/comments"))
                .await;
            assert_eq!(t["count"], 20);
        }
        let bytes = metric(&app, "modgate_thread_cache_bytes").await;
        let entries = metric(&app, "modgate_thread_cache_entries").await;
        assert!(bytes <= (1 << 20) as f64, "{bytes} bytes cached");
        assert!(bytes > (1 << 19) as f64, "the cache is used: {bytes} bytes");
        assert!(entries < 80.0, "{entries} entries");
        assert_eq!(bytes as usize, app.state.thread_cache.bytes());
    }
}
