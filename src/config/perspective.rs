//! `[perspective]`: the Perspective-compatible `/v1alpha1/comments:*` endpoints.

use serde::Deserialize;

use super::ConfigError;
use super::locate::{Index, Key, Locator};
use crate::domain::Language;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PerspectiveConfig {
    /// Keep analyzed texts and their scores (never for requests with `doNotStore: true`).
    pub store_requests: bool,
    /// Languages accepted (ISO 639-1 codes modgate detects). Empty, the default: every
    /// language the configured models read. A request is refused when none of its
    /// `languages` is accepted, or when its text is in a language that is not.
    pub languages: Vec<String>,
    /// Scoring budget per request; over it the request fails with 503 instead of waiting
    /// (Coral Talk gives up after 800 ms).
    pub timeout_ms: u64,
    /// Longest `comment.text` in UTF-8 bytes (Perspective allows 20 KB).
    pub max_text_bytes: usize,
    /// Requests scored at once; more are refused with 429 so comment intake keeps its
    /// share of the classifier. Read at start-up.
    pub max_concurrent: usize,
    /// Origins (`https://news.example.org`) whose pages may call these routes from the
    /// browser (CORS); `["*"]` allows any. Empty, the default: no CORS headers. Read at
    /// start-up.
    pub cors_origins: Vec<String>,
}

impl Default for PerspectiveConfig {
    fn default() -> Self {
        PerspectiveConfig {
            store_requests: false,
            languages: Vec::new(),
            timeout_ms: 700,
            max_text_bytes: 20 * 1024,
            max_concurrent: 64,
            cors_origins: Vec::new(),
        }
    }
}

impl PerspectiveConfig {
    pub fn validate(&self, loc: &Locator<'_>) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        for (i, lang) in self.languages.iter().enumerate() {
            if !Language::ALL.iter().any(|l| l.code() == lang) {
                errors.push(loc.value_error(
                    &[Key("perspective"), Key("languages"), Index(i)],
                    format!(
                        "perspective.languages: `{lang}` is not a language modgate detects ({})",
                        Language::codes()
                    ),
                ));
            }
        }
        for (i, origin) in self.cors_origins.iter().enumerate() {
            let ok = origin == "*"
                || ((origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin.ends_with('/')
                    && axum::http::HeaderValue::from_str(origin).is_ok());
            if !ok {
                errors.push(loc.value_error(
                    &[Key("perspective"), Key("cors_origins"), Index(i)],
                    format!(
                        "perspective.cors_origins: `{origin}` is not an origin like \"https://news.example.org\" (scheme and host, no path) or \"*\""
                    ),
                ));
            }
        }
        for (name, value) in [
            ("timeout_ms", self.timeout_ms as usize),
            ("max_text_bytes", self.max_text_bytes),
            ("max_concurrent", self.max_concurrent),
        ] {
            if value == 0 {
                errors.push(loc.value_error(
                    &[Key("perspective"), Key(name)],
                    format!("perspective.{name} must be at least 1"),
                ));
            }
        }
        errors
    }
}
