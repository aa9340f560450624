//! `[[webhooks]]`: endpoints that receive signed comment events.

use std::collections::HashSet;

use serde::Deserialize;

use super::ConfigError;
use super::locate::{Index, Key, Locator};
use crate::domain::EventType;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Name in the delivery log; defaults to the url. Deliveries find their endpoint by
    /// name, so renaming an endpoint fails its pending deliveries.
    #[serde(default)]
    pub name: Option<String>,
    /// `http://` or `https://` URL that receives a POST per event.
    pub url: String,
    /// HMAC-SHA256 key for `X-Modgate-Signature` (at least 16 characters).
    pub secret: String,
    /// Event types to send (`comment.created`, `comment.held`, `comment.decided`,
    /// `comment.reported`); empty sends all.
    #[serde(default)]
    pub events: Vec<String>,
    /// Attempts before a delivery is marked failed.
    #[serde(default = "defaults::max_attempts")]
    pub max_attempts: u32,
    /// Wait before the first retry; doubles per attempt up to `retry_max_ms`.
    #[serde(default = "defaults::retry_initial_ms")]
    pub retry_initial_ms: u64,
    #[serde(default = "defaults::retry_max_ms")]
    pub retry_max_ms: u64,
    /// Per-attempt timeout (connect + response).
    #[serde(default = "defaults::timeout_ms")]
    pub timeout_ms: u64,
}

mod defaults {
    pub fn max_attempts() -> u32 {
        20
    }
    pub fn retry_initial_ms() -> u64 {
        10_000
    }
    pub fn retry_max_ms() -> u64 {
        3_600_000
    }
    pub fn timeout_ms() -> u64 {
        5_000
    }
}

impl WebhookConfig {
    /// The endpoint's name in the delivery log.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.url)
    }

    /// Whether this endpoint receives events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|e| e == event_type)
    }
}

/// Problems in the `[[webhooks]]` tables, located at the offending value where possible.
pub fn validate(hooks: &[WebhookConfig], loc: &Locator<'_>) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let mut names = HashSet::new();
    for (i, hook) in hooks.iter().enumerate() {
        let at = |key: &str, message: String| {
            loc.value_error(&[Key("webhooks"), Index(i), Key(key)], message)
        };
        let url_ok = reqwest::Url::parse(&hook.url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !url_ok {
            errors.push(at(
                "url",
                format!(
                    "webhooks.url: `{}` is not an http:// or https:// URL",
                    hook.url
                ),
            ));
        }
        if hook.secret.chars().count() < 16 {
            errors.push(at(
                "secret",
                format!(
                    "webhooks ({}): secret must be at least 16 characters (e.g. `openssl rand -hex 32`)",
                    hook.name()
                ),
            ));
        }
        for (j, event) in hook.events.iter().enumerate() {
            if EventType::parse(event).is_none() {
                let all: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
                errors.push(loc.value_error(
                    &[Key("webhooks"), Index(i), Key("events"), Index(j)],
                    format!(
                        "webhooks.events: unknown event `{event}` (expected one of {})",
                        all.join(", ")
                    ),
                ));
            }
        }
        for (what, value) in [
            ("max_attempts", u64::from(hook.max_attempts)),
            ("retry_initial_ms", hook.retry_initial_ms),
            ("timeout_ms", hook.timeout_ms),
        ] {
            if value == 0 {
                errors.push(at(
                    what,
                    format!("webhooks ({}): {what} must be at least 1", hook.name()),
                ));
            }
        }
        if hook.retry_max_ms < hook.retry_initial_ms {
            errors.push(at(
                "retry_max_ms",
                format!(
                    "webhooks ({}): retry_max_ms is below retry_initial_ms",
                    hook.name()
                ),
            ));
        }
        if !names.insert(hook.name().to_string()) {
            errors.push(at(
                if hook.name.is_some() { "name" } else { "url" },
                format!("webhooks: two endpoints are named `{}`", hook.name()),
            ));
        }
    }
    errors
}
