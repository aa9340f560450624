//! Test harness: the real service on a random port with a temporary SQLite file, the
//! project's own config.toml and the real model files.
//!
//! With `MODGATE_TEST_POSTGRES` set to a PostgreSQL server's URL (scripts/test.sh starts
//! one), the same tests run on PostgreSQL instead: each app gets a database of its own.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use modgate::config::Config;
use modgate::startup::Application;
use modgate::store::moderators::{self, Role};
use serde_json::{Value, json};

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    /// The SQLite file (meaningless on PostgreSQL: see `database`).
    pub db_path: PathBuf,
    /// What `MODGATE_DATABASE` must say for a CLI to open this app's database.
    pub database: std::ffi::OsString,
    pub state: modgate::app::AppState,
    pub server: tokio::task::JoinHandle<()>,
    pub dir: std::sync::Arc<tempfile::TempDir>,
}

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The project's config.toml with a temporary database and a random port, scoring with the
/// BiLSTM: these tests are about the service, and the small model keeps them fast and their
/// expected verdicts stable. The models of `[model.languages]` have their own tests
/// (tests/it/e5.rs).
pub fn test_config(db: &Path) -> Config {
    let mut config = default_config(db);
    config.model.backend = modgate::config::Backend::Bilstm;
    config.model.dir = project_root().join("models/bilstm");
    config.model.languages.clear();
    // Lets a test speak for several readers (`report_from`); absent, the peer address counts.
    config.limits.trusted_proxy_header = Some("x-forwarded-for".into());
    config
}

/// The project's config.toml as shipped, with a temporary database and a random port.
pub fn default_config(db: &Path) -> Config {
    let path = project_root().join("config.toml");
    let mut config = Config::load_file(&path).unwrap_or_else(|e| panic!("config.toml: {e:?}"));
    config.database.path = db.to_path_buf();
    config.database.url = postgres_test_database();
    config.server.bind = "127.0.0.1:0".parse().unwrap();
    config
}

/// The PostgreSQL server the tests run against, if any (`MODGATE_TEST_POSTGRES`).
pub fn test_postgres() -> Option<String> {
    std::env::var("MODGATE_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A new, empty database on the test server, when there is one.
pub fn postgres_test_database() -> Option<String> {
    let server = test_postgres()?;
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "t{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    // Called from sync and async code alike: a thread of its own with its own runtime.
    let admin = server.clone();
    let create = format!("CREATE DATABASE {name}");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use sqlx::{Connection, Executor};
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("MODGATE_TEST_POSTGRES={admin}: {e}"));
            conn.execute(create.as_str()).await.unwrap();
            conn.close().await.unwrap();
        })
    })
    .join()
    .unwrap();
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&name);
    Some(url.to_string())
}

pub async fn spawn_app() -> TestApp {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let db = dir.path().join("modgate.db");
    spawn_with(test_config(&db), dir).await
}

/// The service with the project's config.toml as shipped (the multilingual transformer).
pub async fn spawn_shipped() -> TestApp {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let db = dir.path().join("modgate.db");
    spawn_with(default_config(&db), dir).await
}

fn database_env(config: &Config) -> std::ffi::OsString {
    match config.database() {
        modgate::config::Database::Sqlite(path) => path.into_os_string(),
        modgate::config::Database::Postgres { url, .. } => url.into(),
    }
}

pub async fn spawn_with(config: Config, dir: std::sync::Arc<tempfile::TempDir>) -> TestApp {
    let db_path = config.database_path();
    let database = database_env(&config);
    let app = Application::build(config).await.expect("build app");
    let addr = app.local_addr();
    let state = app.state().clone();
    let server = tokio::spawn(async move {
        app.run().await.expect("server run");
    });
    TestApp {
        addr,
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        db_path,
        database,
        state,
        server,
        dir,
    }
}

/// Sends a request; its status and JSON body (Null when the body is not JSON).
async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        send(self.client.post(self.url(path)).json(body)).await
    }

    /// A reader report on comment `id` from the client address `ip` (through the trusted
    /// proxy header `test_config` sets).
    pub async fn report_from(&self, ip: &str, id: i64, body: &Value) -> (u16, Value) {
        send(
            self.client
                .post(self.url(&format!("/api/v1/comments/{id}/reports")))
                .header("x-forwarded-for", ip)
                .json(body),
        )
        .await
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        send(self.client.get(self.url(path))).await
    }

    pub async fn post_comment(
        &self,
        article: &str,
        parent: Option<i64>,
        author: &str,
        body: &str,
    ) -> (u16, Value) {
        self.post_json(
            "/api/v1/comments",
            &json!({"article_id": article, "parent_id": parent, "author_name": author, "body": body}),
        )
        .await
    }

    /// A moderator `name` with console password `password` (and an API token, returned).
    pub async fn console_moderator(&self, name: &str, role: Role, password: &str) -> String {
        let token = self.moderator_token(name, role).await;
        moderators::set_password(self.state.store.writer(), name, password)
            .await
            .unwrap();
        token
    }

    /// Signs in to the console with a client that does not follow redirects; returns that
    /// client, the sign-in response's status and `Location`, and the session cookie
    /// (`name=value`, empty when none was set).
    pub async fn console_sign_in(
        &self,
        name: &str,
        password: &str,
        next: &str,
    ) -> (reqwest::Client, u16, String, String) {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http
            .post(self.url("/console/login"))
            .form(&[("name", name), ("password", password), ("next", next)])
            .send()
            .await
            .unwrap();
        let header = |h: &str| {
            r.headers()
                .get(h)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let location = header("location");
        let cookie = header("set-cookie")
            .split(';')
            .next()
            .unwrap_or_default()
            .to_string();
        (http, r.status().as_u16(), location, cookie)
    }

    pub async fn moderator_token(&self, name: &str, role: Role) -> String {
        let (_, token) = moderators::add(self.state.store.writer(), name, role)
            .await
            .unwrap();
        token
    }

    pub async fn mod_get(&self, token: &str, path: &str) -> (u16, Value) {
        send(self.client.get(self.url(path)).bearer_auth(token)).await
    }

    pub async fn mod_post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        send(
            self.client
                .post(self.url(path))
                .bearer_auth(token)
                .json(body),
        )
        .await
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics_text(&self) -> String {
        let r = self.client.get(self.url("/metrics")).send().await.unwrap();
        r.text().await.unwrap()
    }

    pub fn on_postgres(&self) -> bool {
        self.state.store.dialect() == modgate::store::Dialect::Postgres
    }

    /// Count rows of a table directly in the database.
    pub async fn count_rows(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        modgate::on_pool!(self.state.store.reader(), p => sqlx::query_scalar(&sql)
            .fetch_one(p)
            .await)
        .unwrap()
    }
}

/// The comment thread from the scoring-core issue (a real news article's comments).
pub const THREAD: [&str; 8] = [
    "Let these swine forage in their bogs. Kazakhstan is for Kazakhs.",
    "No more of these CSTO schmucks should be on sacred Kazakh land. So go back to your middle of nowhere if you don't want to part with your heads.",
    "Stink in Russia, you Russian swine ))",
    "Good riddance, and never you show up in Kazakhstan again.",
    "Russia sucked. The CSTO is getting out of Kazakhstan because it's way out of Russia's league. The occupation has not gone through.",
    "Kazakhstan didn't request the CSTO to waltz in here. It was a decision made by the person whose surname was Tokaev and his illegal action.",
    "The Syrian people openly asked the USA to remove al-Asad the dictator",
    "CSTO [troops] ought to return where they belong",
];

/// Run an already built application (e.g. one built with an injected classifier).
pub async fn wrap(app: Application, dir: std::sync::Arc<tempfile::TempDir>) -> TestApp {
    let addr = app.local_addr();
    let state = app.state().clone();
    let db_path = state.live().config.database_path();
    let database = database_env(&state.live().config);
    let server = tokio::spawn(async move {
        app.run().await.expect("server run");
    });
    TestApp {
        addr,
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        db_path,
        database,
        state,
        server,
        dir,
    }
}
