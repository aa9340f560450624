//! Headless Chromium through ChromeDriver for the browser tests.
//!
//! ChromeDriver runs as a child process on a free port and is killed when the [`Driver`]
//! drops. When Chromium or ChromeDriver is missing the tests skip, unless
//! `MODGATE_REQUIRE_BROWSER=1` (CI), where a missing browser is a failure.
#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

pub const CHROMIUM: &str = "/usr/bin/chromium";

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// The chromedriver binary, or `None` (after printing why) when the test must skip.
/// Panics when a browser is required but missing.
pub fn available() -> Option<PathBuf> {
    let driver = on_path("chromedriver");
    let chromium = Path::new(CHROMIUM).is_file();
    match (driver, chromium) {
        (Some(d), true) => Some(d),
        _ => {
            let msg = "chromium and chromedriver are not installed \
                       (apt-get install -y chromium chromium-driver)";
            if std::env::var("MODGATE_REQUIRE_BROWSER").as_deref() == Ok("1") {
                panic!("MODGATE_REQUIRE_BROWSER=1 but {msg}");
            }
            eprintln!("SKIP browser test: {msg}");
            None
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// A running ChromeDriver and a browser session on it.
pub struct Driver {
    child: Child,
    pub client: Client,
    _profile: tempfile::TempDir,
}

impl Driver {
    pub async fn start(chromedriver: &Path) -> Driver {
        let port = free_port();
        // Its own process group, so the browsers it starts can be ended with it.
        let mut child = Command::new(chromedriver)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        // Wait until it answers (a start-up wait, not an assertion on timing).
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = http.get(format!("{url}/status")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            if Instant::now() > deadline {
                kill_group(&mut child);
                panic!("chromedriver did not start on port {port}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let profile = tempfile::tempdir().expect("profile dir");
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--window-size=1280,720".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": CHROMIUM, "args": args }),
        );
        let client = match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                kill_group(&mut child);
                panic!("starting a Chromium session failed: {e}");
            }
        };
        let driver = Driver {
            child,
            client,
            _profile: profile,
        };
        driver.set_viewport(1280, 720).await;
        driver
    }

    /// Size the window so the page itself (the viewport) is `width`×`height`, which is
    /// what screenshots capture.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        let frame = self
            .client
            .execute(
                "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]",
                vec![],
            )
            .await
            .expect("window frame size");
        let dw = frame[0].as_u64().unwrap_or(0) as u32;
        let dh = frame[1].as_u64().unwrap_or(0) as u32;
        self.client
            .set_window_size(width + dw, height + dh)
            .await
            .expect("resize window");
    }

    /// End the browser session, then ChromeDriver.
    pub async fn quit(self) {
        let _ = self.client.clone().close().await;
        // Drop ends ChromeDriver.
    }
}

/// End ChromeDriver and every process it started (its process group).
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Also on a failed assertion: never leave a chromedriver or browser behind.
        kill_group(&mut self.child);
    }
}

/// `target/screenshots/NAME.png` (the directory is created).
pub fn screenshot_path(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir.join(format!("{name}.png"))
}

/// ChromeDriver's DevTools passthrough (`goog/cdp/execute`): one Chrome DevTools Protocol
/// command for the session's page.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &reqwest::Url,
        session_id: Option<&str>,
    ) -> Result<reqwest::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _url: &reqwest::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(json!({"cmd": self.cmd, "params": self.params}).to_string()),
        )
    }
}

/// From now on every page the browser loads records the Content-Security-Policy
/// violations it raises (in `window.__cspViolations`), from its first byte on.
pub async fn record_csp_violations(c: &Client) {
    let source = "window.__cspViolations = []; document.addEventListener('securitypolicyviolation', \
                  e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));";
    c.issue_cmd(Cdp {
        cmd: "Page.addScriptToEvaluateOnNewDocument",
        params: json!({ "source": source }),
    })
    .await
    .expect("DevTools command through ChromeDriver");
}

/// The violations the current page has raised (see [`record_csp_violations`]).
pub async fn csp_violations(c: &Client) -> serde_json::Value {
    c.execute("return window.__cspViolations || null", vec![])
        .await
        .expect("script runs")
}
