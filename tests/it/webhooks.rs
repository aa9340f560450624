//! Webhooks end to end: a real HTTP receiver (a small axum server on a local port) gets
//! signed events from a running modgate, failures are retried, and events survive a
//! restart of modgate on the same database.

use crate::common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::{TestApp, spawn_with, test_config};
use modgate::config::Config;
use modgate::config::webhooks::WebhookConfig;
use modgate::startup::Application;
use modgate::store::moderators::Role;
use modgate::webhooks::signing;
use serde_json::{Value, json};

const SECRET: &str = "test-webhook-secret-0123456789";

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
    /// The status the receiver answered.
    answered: u16,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

#[derive(Default)]
struct ReceiverState {
    got: Mutex<Vec<Received>>,
    /// Statuses to answer, in order; 200 once used up.
    script: Mutex<Vec<u16>>,
    /// While set, answer 503 ("down").
    down: Mutex<bool>,
}

#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    state: Arc<ReceiverState>,
}

impl Receiver {
    async fn start(script: Vec<u16>) -> Receiver {
        async fn hook(
            State(s): State<Arc<ReceiverState>>,
            headers: HeaderMap,
            body: Bytes,
        ) -> StatusCode {
            let answered = if *s.down.lock().unwrap() {
                503
            } else {
                let mut script = s.script.lock().unwrap();
                if script.is_empty() {
                    200
                } else {
                    script.remove(0)
                }
            };
            s.got.lock().unwrap().push(Received {
                headers,
                body,
                answered,
            });
            StatusCode::from_u16(answered).unwrap()
        }
        let state = Arc::new(ReceiverState {
            script: Mutex::new(script),
            ..Default::default()
        });
        let router = axum::Router::new()
            .route("/hook", post(hook))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Receiver { addr, state }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn got(&self) -> Vec<Received> {
        self.state.got.lock().unwrap().clone()
    }

    /// Wait (at most 30 s) until `done` holds for what was received.
    async fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        for _ in 0..600 {
            let got = self.got();
            if done(&got) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "receiver never got {what}; got {:#?}",
            self.got().iter().map(Received::json).collect::<Vec<_>>()
        );
    }
}

fn endpoint(name: &str, url: String, events: &[&str]) -> WebhookConfig {
    WebhookConfig {
        name: Some(name.to_string()),
        url,
        secret: SECRET.to_string(),
        events: events.iter().map(|e| e.to_string()).collect(),
        max_attempts: 5,
        retry_initial_ms: 50,
        retry_max_ms: 200,
        timeout_ms: 2_000,
    }
}

async fn spawn(hooks: Vec<WebhookConfig>) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(&dir.path().join("modgate.db"));
    config.webhooks = hooks;
    spawn_with(config, dir).await
}

fn assert_signed(r: &Received) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = r.header("x-modgate-signature");
    assert_eq!(
        signing::verify(SECRET.as_bytes(), header, &r.body, now, 300),
        Ok(()),
        "signature {header} over {}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.header("content-type"), "application/json");
    let body = r.json();
    assert_eq!(r.header("x-modgate-event"), body["type"]);
    assert_eq!(r.header("x-modgate-delivery"), body["id"]);
    assert!(body["id"].as_str().unwrap().starts_with("evt_"));
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
}

fn of_type<'a>(got: &'a [Received], event: &str, comment: i64) -> Vec<&'a Received> {
    got.iter()
        .filter(|r| {
            r.answered == 200
                && r.json()["type"] == event
                && r.json()["data"]["comment"]["id"] == comment
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_events_follow_a_comment_through_moderation() {
    let all = Receiver::start(Vec::new()).await;
    let decided_only = Receiver::start(Vec::new()).await;
    let app = spawn(vec![
        endpoint("all", all.url(), &[]),
        endpoint("decisions", decided_only.url(), &["comment.decided"]),
    ])
    .await;

    // Held at intake: comment.created, then comment.held (queue pending).
    let (code, held) = app
        .post_comment(
            "kz-1",
            None,
            "troll",
            "Stink in Russia, you Russian swine ))",
        )
        .await;
    assert_eq!(code, 201, "{held}");
    assert_eq!(held["status"], "pending", "{held}");
    let held_id = held["id"].as_i64().unwrap();
    // A moderator approves it: comment.decided with the moderator and action.
    let token = app.moderator_token("aigerim", Role::Moderator).await;
    let (code, out) = app
        .mod_post(
            &token,
            &format!("/api/v1/moderation/comments/{held_id}/decision"),
            &json!({"action": "approve", "note": "satire"}),
        )
        .await;
    assert_eq!(code, 200, "{out}");
    // A published comment reported three times (reports_to_queue = 3): three
    // comment.reported, and comment.held (queue reported) with the third.
    let (code, ok) = app
        .post_comment(
            "kz-1",
            None,
            "reader",
            "Good riddance, and never you show up in Kazakhstan again.",
        )
        .await;
    assert_eq!(code, 201, "{ok}");
    assert_eq!(ok["status"], "published");
    let ok_id = ok["id"].as_i64().unwrap();
    for n in 0..3 {
        let (code, out) = app
            .report_from(
                &format!("192.0.2.{n}"),
                ok_id,
                &json!({"reason": "abusive", "note": "rude"}),
            )
            .await;
        assert_eq!(code, 201, "{out}");
    }

    let got = all
        .wait_for("the whole story", |g| {
            of_type(g, "comment.decided", held_id).len() == 1
                && of_type(g, "comment.held", ok_id).len() == 1
                && of_type(g, "comment.reported", ok_id).len() == 3
        })
        .await;
    got.iter().for_each(assert_signed);

    let created = of_type(&got, "comment.created", held_id);
    assert_eq!(created.len(), 1);
    let data = &created[0].json()["data"];
    assert_eq!(
        data["comment"]["body"],
        "Stink in Russia, you Russian swine ))"
    );
    assert_eq!(data["comment"]["article_id"], "kz-1");
    assert_eq!(data["verdict"]["status"], "pending");
    assert!(data["verdict"]["scores"]["toxic"].is_number());
    assert!(
        data["comment"].get("author_email").is_none() && data["comment"].get("client_ip").is_none()
    );

    let held_ev = of_type(&got, "comment.held", held_id);
    assert_eq!(held_ev.len(), 1);
    assert_eq!(held_ev[0].json()["data"]["queue"], "pending");
    assert_eq!(held_ev[0].json()["data"]["cause"], "intake");

    let decided = of_type(&got, "comment.decided", held_id)[0].json();
    assert_eq!(decided["data"]["action"], "approve");
    assert_eq!(decided["data"]["old_status"], "pending");
    assert_eq!(decided["data"]["new_status"], "published");
    assert_eq!(decided["data"]["note"], "satire");
    assert_eq!(decided["data"]["moderator"]["name"], "aigerim");
    assert_eq!(decided["data"]["comment"]["status"], "published");

    // Deliveries run concurrently, so arrival order is not event order.
    let mut reported: Vec<Value> = of_type(&got, "comment.reported", ok_id)
        .iter()
        .map(|r| r.json())
        .collect();
    reported.sort_by_key(|r| r["data"]["report_count"].as_i64());
    let counts: Vec<i64> = reported
        .iter()
        .map(|r| r["data"]["report_count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [1, 2, 3]);
    let entered: Vec<bool> = reported
        .iter()
        .map(|r| r["data"]["entered_queue"].as_bool().unwrap())
        .collect();
    assert_eq!(entered, [false, false, true]);
    assert_eq!(reported[0]["data"]["report"]["reason"], "abusive");
    assert_eq!(reported[0]["data"]["report"]["note"], "rude");
    let into_queue = of_type(&got, "comment.held", ok_id)[0].json();
    assert_eq!(into_queue["data"]["queue"], "reported");
    assert_eq!(of_type(&got, "comment.created", ok_id).len(), 1);

    // The filtered endpoint gets the decision only.
    let only = decided_only
        .wait_for("the decision", |g| !g.is_empty())
        .await;
    assert!(
        only.iter().all(|r| r.json()["type"] == "comment.decided"),
        "{:?}",
        only.iter().map(Received::json).collect::<Vec<_>>()
    );
    assert_eq!(
        only[0].json()["id"],
        decided["id"],
        "same event, same id, for every endpoint"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deliveries_are_retried_and_logged() {
    let flaky = Receiver::start(vec![500, 500]).await;
    // Nothing listens on this port: connection errors until attempts run out.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut dead = endpoint(
        "dead",
        format!("http://{closed}/hook"),
        &["comment.created"],
    );
    dead.max_attempts = 2;
    let app = spawn(vec![
        endpoint("flaky", flaky.url(), &["comment.created"]),
        dead,
    ])
    .await;

    let (code, c) = app
        .post_comment("kz-2", None, "reader", "Thanks for the detailed report.")
        .await;
    assert_eq!(code, 201, "{c}");
    let got = flaky
        .wait_for("a 200 after two 500s", |g| {
            g.iter().any(|r| r.answered == 200)
        })
        .await;
    assert_eq!(
        got.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [500, 500, 200]
    );
    let attempts: Vec<&str> = got.iter().map(|r| r.header("x-modgate-attempt")).collect();
    assert_eq!(attempts, ["1", "2", "3"]);
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "every attempt sends the same body"
    );
    got.iter().for_each(assert_signed);

    // The admin delivery log.
    let admin = app.moderator_token("admin", Role::Admin).await;
    let path = "/api/v1/moderation/webhooks/deliveries";
    let mut log = Value::Null;
    for _ in 0..600 {
        let (code, body) = app.mod_get(&admin, &format!("{path}?endpoint=dead")).await;
        assert_eq!(code, 200, "{body}");
        if body["deliveries"][0]["status"] == "failed" {
            log = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dead = &log["deliveries"][0];
    assert_eq!(dead["attempts"], 2, "{log}");
    assert!(
        dead["last_error"]
            .as_str()
            .unwrap()
            .starts_with("connection failed"),
        "{log}"
    );
    assert!(dead["next_attempt_at"].is_null());
    assert_eq!(dead["attempt_log"].as_array().unwrap().len(), 2);

    let (_, log) = app
        .mod_get(&admin, &format!("{path}?endpoint=flaky&status=delivered"))
        .await;
    let flaky_row = &log["deliveries"][0];
    assert_eq!(flaky_row["event_type"], "comment.created");
    assert_eq!(flaky_row["comment_id"], c["id"]);
    assert_eq!(flaky_row["attempts"], 3);
    assert_eq!(flaky_row["last_status_code"], 200);
    let codes: Vec<i64> = flaky_row["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 200]);
    assert_eq!(
        flaky_row["attempt_log"][0]["error"],
        "endpoint answered HTTP 500"
    );
    assert!(flaky_row["delivered_at"].is_string());

    // Admins only; bad filters are refused.
    let moderator = app.moderator_token("mod", Role::Moderator).await;
    assert_eq!(app.mod_get(&moderator, path).await.0, 403);
    assert_eq!(
        app.client
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        app.mod_get(&admin, &format!("{path}?status=lost")).await.0,
        400
    );
    let (_, page) = app.mod_get(&admin, &format!("{path}?limit=1")).await;
    assert_eq!(page["deliveries"].as_array().unwrap().len(), 1);
    assert!(page["next_cursor"].is_i64(), "{page}");
}

/// A modgate that can be stopped gracefully (as on SIGTERM) from the test.
struct Running {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn start(config: Config) -> Running {
    let app = Application::build(config).await.expect("build app");
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app.run_until(async {
            let _ = stopped.await;
        })
        .await
        .expect("server run");
    });
    Running { base, stop, task }
}

impl Running {
    async fn shut_down(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undelivered_events_survive_a_restart() {
    let receiver = Receiver::start(Vec::new()).await;
    *receiver.state.down.lock().unwrap() = true;
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir.path().join("modgate.db"));
    let mut hook = endpoint("site", receiver.url(), &["comment.created"]);
    hook.max_attempts = 1000;
    config.webhooks = vec![hook];

    // First run: the receiver is down, the delivery fails and stays pending.
    let first = start(config.clone()).await;
    let client = reqwest::Client::new();
    let posted: Value = client
        .post(format!("{}/api/v1/comments", first.base))
        .json(&json!({"article_id": "kz-3", "author_name": "reader", "body": "Looking forward to the follow-up."}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let comment_id = posted["id"].as_i64().unwrap();
    receiver
        .wait_for("a first, failed attempt", |g| !g.is_empty())
        .await;
    first.shut_down().await;

    let store = modgate::startup::open_store(&config).await.unwrap();
    let (event_id, status): (String, String) = modgate::on_pool!(store.reader(), p => {
        sqlx::query_as(
            "SELECT e.event_id, d.status FROM webhook_events e JOIN webhook_deliveries d ON d.event_id = e.id",
        )
        .fetch_one(p)
        .await
        .unwrap()
    });
    assert_eq!(status, "pending", "still owed after the stop");
    store.close().await;

    // Second run on the same database, receiver back up: the same event arrives.
    *receiver.state.down.lock().unwrap() = false;
    let second = start(config).await;
    let got = receiver
        .wait_for("the event after the restart", |g| {
            g.iter().any(|r| r.answered == 200)
        })
        .await;
    let delivered = got.iter().find(|r| r.answered == 200).unwrap();
    assert_signed(delivered);
    let body = delivered.json();
    assert_eq!(body["id"], event_id.as_str());
    assert_eq!(body["data"]["comment"]["id"], comment_id);
    assert!(
        delivered
            .header("x-modgate-attempt")
            .parse::<u32>()
            .unwrap()
            >= 2
    );
    second.shut_down().await;
}
