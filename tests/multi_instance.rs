//! Three `modgate serve` processes on one PostgreSQL database behind a round-robin client:
//! one is killed with -9 mid-load. Every acknowledged comment is stored exactly once with
//! its verdict, a decision made through one instance shows through the others within 1 s
//! (threads and queues), every stored comment's webhook event is delivered, and no outbox
//! row is left behind.
//!
//! Needs a PostgreSQL server: `MODGATE_TEST_POSTGRES` (scripts/test.sh starts one with
//! scripts/postgres.sh); skips with a message without it.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::{Connection, Executor};

const INSTANCES: usize = 3;
const COMMENTS: usize = 240;
/// The documented bound for a change to reach every instance's cached threads.
const VISIBLE_WITHIN: Duration = Duration::from_secs(1);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh database on the test server.
async fn fresh_database(server: &str) -> String {
    let name = format!("multi_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(server).await.unwrap();
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
        .await
        .unwrap();
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    admin.close().await.unwrap();
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(&name);
    url.to_string()
}

/// The shipped config on PostgreSQL, the BiLSTM (the subject is the store), rate limits
/// off (the load comes from one address) and one webhook endpoint.
fn write_config(dir: &std::path::Path, database: &str, hook: &str) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("config.toml")).unwrap();
    let mut table: toml::Table = text.parse().unwrap();
    let abs = |p: &str| root.join(p).to_string_lossy().into_owned();
    let model = table["model"].as_table_mut().unwrap();
    model.insert("backend".into(), "bilstm".into());
    model.insert("dir".into(), abs("models/bilstm").into());
    model.remove("onnx_runtime");
    model.remove("languages");
    if let Some(includes) = table["rules"]
        .as_table_mut()
        .and_then(|r| r.get_mut("include"))
        .and_then(|i| i.as_array_mut())
    {
        for inc in includes.iter_mut() {
            *inc = abs(inc.as_str().unwrap()).into();
        }
    }
    table["database"]
        .as_table_mut()
        .unwrap()
        .insert("url".into(), database.into());
    let mut limits = toml::Table::new();
    limits.insert("posts_per_minute_per_ip".into(), 0.into());
    limits.insert("posts_per_minute_per_author".into(), 0.into());
    table.insert("limits".into(), limits.into());
    let webhook: toml::Table = toml::from_str(&format!(
        r#"name = "site"
url = "{hook}"
secret = "multi-instance-secret-0123456789"
events = ["comment.created", "comment.decided"]
max_attempts = 100
retry_initial_ms = 100
retry_max_ms = 500
timeout_ms = 1000"#
    ))
    .unwrap();
    table.insert("webhooks".into(), vec![toml::Value::Table(webhook)].into());
    let path = dir.join("config.toml");
    std::fs::write(&path, toml::to_string(&table).unwrap()).unwrap();
    path
}

/// The serve processes; killed when dropped, so a failing test leaves none running.
struct Instances(Vec<Option<Child>>);

impl Drop for Instances {
    fn drop(&mut self) {
        for c in self.0.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn serve(config: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_modgate"))
        .arg("serve")
        .env("MODGATE_CONFIG", config)
        .env("MODGATE_BIND", format!("127.0.0.1:{port}"))
        .env_remove("MODGATE_DATABASE")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start modgate serve")
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("modgate did not come up on {base}");
}

/// Webhook receiver: every delivered body, by event id.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Value>>>);

async fn receiver(received: Received) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            |axum::extract::State(r): axum::extract::State<Received>, body: String| async move {
                if let Ok(v) = serde_json::from_str::<Value>(&body) {
                    r.0.lock().unwrap().push(v);
                }
                axum::http::StatusCode::NO_CONTENT
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.with_state(received))
            .await
            .unwrap()
    });
    format!("http://{addr}/hook")
}

async fn thread_shows_removed(
    client: &reqwest::Client,
    base: &str,
    article: &str,
    id: i64,
) -> bool {
    let t: Value = client
        .get(format!(
            "{base}/api/v1/articles/{article}/comments?limit=500"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    fn find(nodes: &Value, id: i64) -> Option<bool> {
        nodes.as_array()?.iter().find_map(|n| {
            if n["id"] == id {
                n["removed"].as_bool()
            } else {
                find(&n["replies"], id)
            }
        })
    }
    find(&t["comments"], id) == Some(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_one_killed_nothing_lost_or_duplicated() {
    let Some(server) = std::env::var("MODGATE_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
    else {
        eprintln!("skipped: MODGATE_TEST_POSTGRES is not set (scripts/test.sh starts a server)");
        return;
    };
    let database = fresh_database(&server).await;
    let received = Received::default();
    let hook = receiver(received.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &database, &hook);

    // A moderator, made by the CLI on PostgreSQL (which also applies the migrations once).
    let out = Command::new(env!("CARGO_BIN_EXE_modgate"))
        .args(["moderator", "add", "desk", "--role", "admin"])
        .env("MODGATE_CONFIG", &config)
        .env_remove("MODGATE_DATABASE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let ports: Vec<u16> = (0..INSTANCES).map(|_| free_port()).collect();
    let mut children = Instances(ports.iter().map(|p| Some(serve(&config, *p))).collect());
    let bases: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for base in &bases {
        wait_ready(&client, base).await;
    }

    // Load: four writers round-robin over the instances; instance 2 is killed mid-way.
    let acked: Arc<Mutex<Vec<(i64, String, String)>>> = Arc::default();
    let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (client, bases, acked, killed) = (
            client.clone(),
            bases.clone(),
            Arc::clone(&acked),
            Arc::clone(&killed),
        );
        writers.push(tokio::spawn(async move {
            for i in (w..COMMENTS).step_by(4) {
                let mut target = i % INSTANCES;
                if target == 2 && killed.load(std::sync::atomic::Ordering::SeqCst) {
                    target = i % 2;
                }
                let article = format!("multi-{}", i % 5);
                let body = format!("Reader comment number {i} on the election results.");
                let r = client
                    .post(format!("{}/api/v1/comments", bases[target]))
                    .json(&json!({"article_id": article, "author_name": format!("reader{i}"), "body": body}))
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status().is_success()
                {
                    let v: Value = r.json().await.unwrap();
                    acked
                        .lock()
                        .unwrap()
                        .push((v["id"].as_i64().unwrap(), article, body));
                }
            }
        }));
    }
    while acked.lock().unwrap().len() < COMMENTS / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut victim = children.0[2].take().unwrap();
    victim.kill().unwrap(); // SIGKILL
    victim.wait().unwrap();
    killed.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= COMMENTS * 2 / 3,
        "only {} of {COMMENTS} acknowledged",
        acked.len()
    );
    let live = [&bases[0], &bases[1]];

    // Every acknowledged comment stored exactly once, with its verdict; ids unique.
    let db = sqlx::PgPool::connect(&database).await.unwrap();
    let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT c.id, c.article_id, c.body, (SELECT COUNT(*) FROM verdicts v WHERE v.comment_id = c.id)
           FROM comments c",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let mut by_body: HashMap<&str, Vec<i64>> = HashMap::new();
    for (id, _, body, verdicts) in &rows {
        assert!(*verdicts >= 1, "comment {id} has no verdict");
        by_body.entry(body.as_str()).or_default().push(*id);
    }
    for (id, _article, body) in &acked {
        assert_eq!(
            by_body.get(body.as_str()),
            Some(&vec![*id]),
            "acknowledged comment {id} stored exactly once"
        );
    }

    // The same post sent to two instances at the same instant is stored once: both
    // answers name one comment.
    for n in 0..5 {
        let body = json!({"article_id": "multi-dup", "author_name": "twice",
                          "body": format!("Sent twice by accident, number {n}.")});
        let send = |base: &str| {
            client
                .post(format!("{base}/api/v1/comments"))
                .json(&body)
                .send()
        };
        let (a, b) = tokio::join!(send(live[0]), send(live[1]));
        let a: Value = a.unwrap().json().await.unwrap();
        let b: Value = b.unwrap().json().await.unwrap();
        assert_eq!(a["id"], b["id"], "{a} {b}");
    }
    let stored_twice: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM comments WHERE article_id = 'multi-dup'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(stored_twice, 5, "one comment per post sent twice");

    // Decisions through one instance show through the others within the bound.
    let decide = |base: &str, id: i64, action: &str| {
        let (client, token) = (client.clone(), token.clone());
        let url = format!("{base}/api/v1/moderation/comments/{id}/decision");
        let action = action.to_string();
        async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"action": action, "reason": "spam"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
    };
    for (n, (id, article, _)) in acked.iter().take(6).enumerate() {
        let through = live[n % 2];
        // Warm every instance's cached thread first, so a stale cache would show.
        for base in live {
            assert!(!thread_shows_removed(&client, base, article, *id).await);
        }
        decide(through, *id, "remove").await;
        let start = Instant::now();
        for base in live {
            while !thread_shows_removed(&client, base, article, *id).await {
                assert!(
                    start.elapsed() < VISIBLE_WITHIN,
                    "removal of {id} through {through} not visible through {base} after {:?}",
                    start.elapsed()
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        // And in the other instance's queue.
        let other = live[(n + 1) % 2];
        let q: Value = client
            .get(format!(
                "{other}/api/v1/moderation/queue?state=removed&limit=100"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let in_queue: HashSet<i64> = q["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["comment"]["id"].as_i64().unwrap())
            .collect();
        assert!(in_queue.contains(id), "{id} not in {other}'s removed queue");
    }
    // Two moderators deciding one comment through different instances: one wins.
    let (contested, _, _) = &acked[10];
    let a = client
        .post(format!(
            "{}/api/v1/moderation/comments/{contested}/decision",
            live[0]
        ))
        .bearer_auth(&token)
        .json(&json!({"action": "remove", "reason": "spam", "expected_status": "published"}))
        .send();
    let b = client
        .post(format!(
            "{}/api/v1/moderation/comments/{contested}/decision",
            live[1]
        ))
        .bearer_auth(&token)
        .json(&json!({"action": "remove", "reason": "spam", "expected_status": "published"}))
        .send();
    let (a, b) = tokio::join!(a, b);
    let codes = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    assert!(codes.contains(&200), "{codes:?}");
    let removals: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM moderation_log WHERE comment_id = $1 AND action = 'remove'",
    )
    .bind(contested)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        removals, 1,
        "one removal logged, whatever the codes {codes:?}"
    );

    // The moderation log is append-only in the database itself.
    assert!(
        sqlx::query("DELETE FROM moderation_log")
            .execute(&db)
            .await
            .is_err()
    );

    let rows: Vec<(i64,)> = sqlx::query_as("SELECT id FROM comments")
        .fetch_all(&db)
        .await
        .unwrap();
    // Webhooks: every stored comment's `comment.created` arrives (at least once; the
    // event id lets a receiver drop repeats), including the killed instance's, and no
    // delivery stays pending.
    let stored: HashSet<i64> = rows.iter().map(|r| r.0).collect();
    assert!(stored.len() >= acked.len() + 5);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got: HashSet<i64> = received
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "comment.created")
            .filter_map(|e| e["data"]["comment"]["id"].as_i64())
            .collect();
        let pending: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM webhook_events WHERE dispatched_at IS NULL)
                  + (SELECT COUNT(*) FROM webhook_deliveries WHERE status <> 'delivered')",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        let missing: Vec<_> = stored.difference(&got).collect();
        if missing.is_empty() && pending == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} comments' events not delivered ({:?}…), {pending} outbox rows not delivered",
            missing.len(),
            missing.iter().take(5).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let events = received.0.lock().unwrap().len();
    eprintln!(
        "{} acknowledged of {COMMENTS}; {} stored; {events} webhook deliveries",
        acked.len(),
        rows.len()
    );

    db.close().await;
    drop(children);
}

#[path = "common/mod.rs"]
mod common;

/// `modgate migrate-sqlite-to-postgres` moves a used SQLite database to PostgreSQL with
/// nothing lost: the service on PostgreSQL serves the same threads, logs and accounts,
/// and new ids continue after the old ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqlite_installation_moves_to_postgres() {
    let Some(server) = common::test_postgres() else {
        eprintln!("skipped: MODGATE_TEST_POSTGRES is not set (scripts/test.sh starts a server)");
        return;
    };
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = common::test_config(&dir.path().join("old.db"));
    config.database.url = None;
    let app = common::spawn_with(config.clone(), dir.clone()).await;
    assert!(!app.on_postgres());
    let token = app
        .moderator_token("desk", modgate::store::moderators::Role::Admin)
        .await;
    let mut ids = Vec::new();
    for body in common::THREAD {
        let (code, c) = app.post_comment("moved", None, "reader", body).await;
        assert_eq!(code, 201, "{c}");
        ids.push(c["id"].as_i64().unwrap());
    }
    // Replies under the harmless (published) ones.
    for parent in [ids[6], ids[7]] {
        let (code, c) = app
            .post_comment(
                "moved",
                Some(parent),
                "other",
                &format!("Agreed with {parent}."),
            )
            .await;
        assert_eq!(code, 201, "{c}");
        ids.push(c["id"].as_i64().unwrap());
    }
    let (code, _) = app
        .mod_post(
            &token,
            &format!("/api/v1/moderation/comments/{}/decision", ids[3]),
            &json!({"action": "remove", "reason": "spam"}),
        )
        .await;
    assert_eq!(code, 200);
    let (code, _) = app
        .report_from("192.0.2.9", ids[6], &json!({"reason": "spam"}))
        .await;
    assert_eq!(code, 201);
    let (_, before) = app.get_json("/api/v1/articles/moved/comments").await;
    let (_, log_before) = app.mod_get(&token, "/api/v1/moderation/log").await;
    let counts_before = {
        let mut counts = Vec::new();
        for table in modgate::store::copy::TABLES {
            counts.push(app.count_rows(table).await);
        }
        counts
    };
    app.server.abort();
    let _ = app.server.await;
    app.state.store.close().await;

    let url = common::postgres_test_database().unwrap();
    let migrate = |dst: &str| {
        Command::new(env!("CARGO_BIN_EXE_modgate"))
            .arg("migrate-sqlite-to-postgres")
            .arg(&app.db_path)
            .arg(dst)
            .output()
            .unwrap()
    };
    let out = migrate(&url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        report.lines().count(),
        modgate::store::copy::TABLES.len(),
        "{report}"
    );

    let mut on_pg = config;
    on_pg.database.url = Some(url.clone());
    let moved = common::spawn_with(on_pg, dir).await;
    assert!(moved.on_postgres());
    // Every table's rows arrived (as the command reports and as PostgreSQL counts them;
    // the service then drops webhook events no endpoint wants, so those are compared as
    // copied).
    let copied: Vec<i64> = report
        .lines()
        .map(|l| {
            l.split('\t')
                .nth(1)
                .unwrap()
                .trim_end_matches(" rows")
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(copied, counts_before, "{report}");
    for (table, before) in modgate::store::copy::TABLES.iter().zip(&counts_before) {
        if !table.starts_with("webhook_") {
            assert_eq!(moved.count_rows(table).await, *before, "{table}");
        }
    }
    let (_, after) = moved.get_json("/api/v1/articles/moved/comments").await;
    assert_eq!(after, before, "the public thread is the same");
    let (code, log_after) = moved.mod_get(&token, "/api/v1/moderation/log").await;
    assert_eq!(code, 200, "the moderator's token works on PostgreSQL");
    assert_eq!(log_after, log_before);
    let (code, c) = moved
        .post_comment("moved", None, "reader", "Posted after the move.")
        .await;
    assert_eq!(code, 201);
    assert!(c["id"].as_i64().unwrap() > *ids.iter().max().unwrap());

    // Into a database that already holds rows: refused, nothing written.
    let again = migrate(&url);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let _ = server;
}
