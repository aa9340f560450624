//! Never lose a comment, never fail open: injected scoring faults, model missing at start,
//! limits, duplicates, and hostile strings stored verbatim.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{spawn_app, spawn_with, test_config};
use modgate::domain::Scores;
use modgate::scoring::classifier::bilstm::BiLstm;
use modgate::scoring::classifier::{Classifier, ClassifierError};
use modgate::startup::Application;
use serde_json::{Value, json};

/// The real model, with faults injected for texts carrying a marker word.
struct Faulty {
    inner: BiLstm,
    calls: AtomicUsize,
}

impl Classifier for Faulty {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    fn score_batch(&self, texts: &[&str]) -> Result<Vec<Scores>, ClassifierError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if texts.iter().any(|t| t.contains("FAULT-PANIC")) {
            panic!("injected panic");
        }
        if texts.iter().any(|t| t.contains("FAULT-ERROR")) {
            return Err(ClassifierError::Inference("injected error".into()));
        }
        if texts.iter().any(|t| t.contains("FAULT-SLOW")) {
            std::thread::sleep(Duration::from_millis(600));
        }
        self.inner.score_batch(texts)
    }
}

async fn latest_reasons(app: &common::TestApp, id: i64) -> Value {
    let raw: String = modgate::on_pool!(app.state.store.reader(), p => sqlx::query_scalar(
        "SELECT reasons FROM verdicts WHERE comment_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_one(p)
    .await)
    .unwrap();
    serde_json::from_str(&raw).unwrap()
}

fn has_reason(reasons: &Value, kind: &str) -> bool {
    reasons
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["kind"] == kind)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoring_faults_store_the_comment_pending_unscored() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(&dir.path().join("m.db"));
    config.model.timeout_ms = 200;
    let model = Arc::new(Faulty {
        inner: BiLstm::load(&config.model_dir()).expect("model files (run models/fetch-models.sh)"),
        calls: AtomicUsize::new(0),
    });
    let app = Application::build_with_classifier(config, model.clone())
        .await
        .unwrap();
    let app = common::wrap(app, dir).await;

    for marker in ["FAULT-PANIC", "FAULT-ERROR", "FAULT-SLOW"] {
        let body = format!("A perfectly polite comment. {marker}");
        let (code, out) = app.post_comment("faults", None, "ann", &body).await;
        assert_eq!(code, 201, "{marker}: {out}");
        assert_eq!(
            out["status"], "pending",
            "{marker}: never published unscored"
        );
        let id = out["id"].as_i64().unwrap();
        let reasons = latest_reasons(&app, id).await;
        assert!(has_reason(&reasons, "unscored"), "{marker}: {reasons}");
    }
    // The service keeps scoring after a panic (once the slow batch has drained).
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (code, out) = app
        .post_comment(
            "faults",
            None,
            "bob",
            "Thanks for the clear report on the new bridge.",
        )
        .await;
    assert_eq!(code, 201);
    assert_eq!(out["status"], "published", "{out}");
    let (_, ready) = app.get_json("/readyz").await;
    assert_eq!(ready["model"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_missing_at_start_holds_comments_then_rescores_them() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let model_dir = dir.path().join("model");
    std::fs::create_dir_all(&model_dir).unwrap();
    let real = test_config(&dir.path().join("x.db")).model_dir();
    let mut config = test_config(&dir.path().join("m.db"));
    config.model.dir = model_dir.clone();
    let app = spawn_with(config, dir.clone()).await;

    let (code, ready) = app.get_json("/readyz").await;
    assert_eq!(code, 503, "{ready}");
    assert_eq!(ready["model"], false);
    assert_eq!(ready["database"], true);

    let (code, out) = app
        .post_comment(
            "nomodel",
            None,
            "ann",
            "Good morning, this is a friendly comment.",
        )
        .await;
    assert_eq!(code, 201, "{out}");
    assert_eq!(out["status"], "pending");
    let id = out["id"].as_i64().unwrap();
    assert!(has_reason(&latest_reasons(&app, id).await, "unscored"));

    // The operator installs the model files; the background job loads them and re-scores.
    for f in ["model.safetensors", "vocab.json", "provenance.json"] {
        std::fs::copy(real.join(f), model_dir.join(f)).unwrap();
    }
    let mut rescored = false;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if !has_reason(&latest_reasons(&app, id).await, "unscored") {
            rescored = true;
            break;
        }
    }
    assert!(rescored, "comment re-scored once the model loaded");
    let (_, thread) = app.get_json("/api/v1/articles/nomodel/comments").await;
    assert_eq!(
        thread["count"], 1,
        "the polite comment is published after re-scoring"
    );
    let (code, _) = app.get_json("/readyz").await;
    assert_eq!(code, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_posts_return_the_first_comment() {
    let app = spawn_app().await;
    let (code, first) = app
        .post_comment("dup", None, "ann", "Same words twice.")
        .await;
    assert_eq!(code, 201);
    let (code, second) = app
        .post_comment("dup", None, "ann", "Same words twice.")
        .await;
    assert_eq!(code, 200, "{second}");
    assert_eq!(first["id"], second["id"]);
    assert_eq!(app.count_rows("comments").await, 1);
    // Another author may say the same thing.
    let (code, third) = app
        .post_comment("dup", None, "bob", "Same words twice.")
        .await;
    assert_eq!(code, 201);
    assert_ne!(third["id"], first["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_with_retry_after() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(&dir.path().join("m.db"));
    config.limits.posts_per_minute_per_author = 3;
    config.limits.posts_per_minute_per_ip = 100;
    let app = spawn_with(config, dir).await;
    for i in 0..3 {
        let (code, _) = app
            .post_comment("rl", None, "fast", &format!("comment number {i}"))
            .await;
        assert_eq!(code, 201);
    }
    let r = app
        .client
        .post(app.url("/api/v1/comments"))
        .json(&json!({"article_id": "rl", "author_name": "fast", "body": "one more"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "rate_limited"
    );
    // Health and other authors are unaffected.
    let (code, _) = app.get_json("/healthz").await;
    assert_eq!(code, 200);
    let (code, _) = app.post_comment("rl", None, "slow", "my first").await;
    assert_eq!(code, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_requests_are_bounded() {
    let app = spawn_app().await;
    let token = app
        .moderator_token("bulk", modgate::store::moderators::Role::Moderator)
        .await;
    let max = app.state.live().config.limits.max_bulk_ids;
    let ids: Vec<i64> = (1..=(max as i64 + 1)).collect();
    let (code, out) = app
        .mod_post(
            &token,
            "/api/v1/moderation/decisions",
            &json!({"ids": ids, "action": "approve"}),
        )
        .await;
    assert_eq!(code, 413, "{out}");
    assert_eq!(out["error"]["field"], "ids");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_come_back_verbatim() {
    let app = spawn_app().await;
    let hostile = [
        "'; DROP TABLE comments; --",
        "\" OR 1=1 --",
        "Robert'); DELETE FROM verdicts WHERE ('1'='1",
        "{{7*7}} ${7*7} <%= 7*7 %> {% raw %}",
        "<script>alert(1)</script><img src=x onerror=alert(1)>",
        "gnp.exe \u{200D}\u{1F469}\u{200D}\u{1F4BB} e\u{301}\u{301}\u{301}",
    ];
    for (i, text) in hostile.iter().enumerate() {
        let (code, out) = app
            .post_comment("hostile", None, &format!("h{i}"), text)
            .await;
        assert_eq!(code, 201, "{text}: {out}");
    }
    // A bidi override would display the text reversed ("exe.png"): refused, naming the field.
    let (code, out) = app
        .post_comment("hostile", None, "h-bidi", "\u{202E}gnp.exe")
        .await;
    assert_eq!(
        (code, out["error"]["field"].as_str()),
        (422, Some("body")),
        "{out}"
    );
    let token = app
        .moderator_token("h", modgate::store::moderators::Role::Moderator)
        .await;
    let mut seen: Vec<String> = Vec::new();
    for state in ["pending", "approved", "removed"] {
        let (_, q) = app
            .mod_get(
                &token,
                &format!("/api/v1/moderation/queue?state={state}&limit=200"),
            )
            .await;
        seen.extend(
            q["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["comment"]["body"].as_str().unwrap().to_string()),
        );
    }
    let (_, thread) = app.get_json("/api/v1/articles/hostile/comments").await;
    seen.extend(
        thread["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["body"].as_str().unwrap().to_string()),
    );
    for text in hostile {
        assert!(seen.iter().any(|s| s == text), "stored verbatim: {text}");
    }
    assert!(app.count_rows("comments").await >= hostile.len() as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_api_never_returns_emails() {
    let app = spawn_app().await;
    let (code, c) = app
        .post_json("/api/v1/comments", &json!({"article_id": "mail", "author_name": "ann", "author_email": "ann@example.org", "body": "hello there"}))
        .await;
    assert_eq!(code, 201);
    let (_, thread) = app.get_json("/api/v1/articles/mail/comments").await;
    assert!(!thread.to_string().contains("ann@example.org"));
    assert!(!c.to_string().contains("ann@example.org"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_ips_of_old_comments_are_deleted() {
    let app = spawn_app().await;
    let (_, old) = app
        .post_comment("ips", None, "ann", "An old comment.")
        .await;
    let (_, new) = app.post_comment("ips", None, "bob", "A new comment.").await;
    let ip_of = |id: i64| {
        let db = app.state.store.reader().clone();
        async move {
            modgate::on_pool!(&db, p => {
                sqlx::query_scalar::<_, Option<String>>("SELECT client_ip FROM comments WHERE id = $1")
                    .bind(id)
                    .fetch_one(p)
                    .await
                    .unwrap()
            })
        }
    };
    assert_eq!(
        ip_of(old["id"].as_i64().unwrap()).await.as_deref(),
        Some("127.0.0.1")
    );
    modgate::on_pool!(app.state.store.writer(), p => sqlx::query("UPDATE comments SET created_at = '2020-01-01T00:00:00.000Z' WHERE id = $1")
        .bind(old["id"].as_i64().unwrap())
        .execute(p)
        .await.map(|r| r.rows_affected()))
        .unwrap();
    let n = modgate::store::comments::forget_old_ips(app.state.store.writer(), 30)
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(ip_of(old["id"].as_i64().unwrap()).await, None);
    assert!(ip_of(new["id"].as_i64().unwrap()).await.is_some());
}
