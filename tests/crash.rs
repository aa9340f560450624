//! Every comment acknowledged with a 2xx survives `kill -9` of the real binary mid-load,
//! and no half-written rows (a comment without its verdict) exist afterwards.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The project's config with rate limits off (the load comes from one IP) and paths made
/// absolute so the copy works from a temporary directory.
fn load_config(dir: &std::path::Path) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("config.toml")).unwrap();
    let mut table: toml::Table = text.parse().unwrap();
    let abs = |p: &str| root.join(p).to_string_lossy().into_owned();
    if let Some(model) = table.get_mut("model").and_then(|m| m.as_table_mut()) {
        // Durability is the subject here: the small BiLSTM keeps up with the load.
        model.insert("backend".into(), "bilstm".into());
        model.insert("dir".into(), abs("models/bilstm").into());
        model.remove("onnx_runtime");
        model.remove("languages");
    }
    if let Some(rules) = table.get_mut("rules").and_then(|r| r.as_table_mut())
        && let Some(includes) = rules.get_mut("include").and_then(|i| i.as_array_mut())
    {
        for inc in includes.iter_mut() {
            *inc = abs(inc.as_str().unwrap()).into();
        }
    }
    let mut limits = toml::Table::new();
    limits.insert("posts_per_minute_per_ip".into(), 0.into());
    limits.insert("posts_per_minute_per_author".into(), 0.into());
    table.insert("limits".into(), limits.into());
    let path = dir.join("config.toml");
    std::fs::write(&path, toml::to_string(&table).unwrap()).unwrap();
    path
}

fn start(config: &std::path::Path, db: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_modgate"))
        .arg("serve")
        .env("MODGATE_CONFIG", config)
        .env("MODGATE_BIND", format!("127.0.0.1:{port}"))
        .env("MODGATE_DATABASE", db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start modgate serve")
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("modgate did not come up on {base}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_comments_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let config = load_config(dir.path());
    let mut child = start(&config, &db, port);
    wait_ready(&client, &base).await;

    let acked: Arc<Mutex<Vec<i64>>> = Arc::default();
    let stop_at = Instant::now() + Duration::from_millis(1500);
    let mut writers = Vec::new();
    for w in 0..8 {
        let (client, base, acked) = (client.clone(), base.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            // Bounded: stops at the deadline or on the first connection error (the kill).
            while Instant::now() < stop_at + Duration::from_secs(2) && n < 5000 {
                n += 1;
                let body = json!({"article_id": format!("crash-{}", w % 3), "author_name": format!("w{w}"), "body": format!("Comment {n} from writer {w} about the city budget.")});
                match client.post(format!("{base}/api/v1/comments")).json(&body).send().await {
                    Ok(r) if r.status().is_success() => {
                        let v: serde_json::Value = r.json().await.unwrap();
                        acked.lock().unwrap().push(v["id"].as_i64().unwrap());
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }));
    }
    tokio::time::sleep_until(stop_at.into()).await;
    child.kill().expect("SIGKILL"); // kill -9
    child.wait().unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 20,
        "load was running when killed ({} acked)",
        acked.len()
    );

    // Restart on the same database: recovery from the WAL, then check every id.
    let port2 = free_port();
    let base2 = format!("http://127.0.0.1:{port2}");
    let mut child2 = start(&config, &db, port2);
    wait_ready(&client, &base2).await;
    let mut conn = SqliteConnectOptions::new()
        .filename(&db)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    for id in &acked {
        let row = sqlx::query("SELECT c.status, v.status AS verdict FROM comments c JOIN verdicts v ON v.comment_id = c.id WHERE c.id = ?")
            .bind(id)
            .fetch_optional(&mut conn)
            .await
            .unwrap();
        let row = row.unwrap_or_else(|| panic!("acknowledged comment {id} lost"));
        assert_eq!(
            row.get::<String, _>("status"),
            row.get::<String, _>("verdict")
        );
    }
    let orphans: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM comments c WHERE NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.comment_id = c.id)")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(orphans, 0, "no comment without its verdict");
    eprintln!("{} acknowledged comments all survived kill -9", acked.len());
    child2.kill().unwrap();
    child2.wait().unwrap();
}
