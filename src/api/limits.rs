//! Per-key rate limits for public posting, reporting and sign-in (fixed one-minute windows).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::error::ApiError;
use crate::config::LimitsConfig;

const WINDOW: Duration = Duration::from_secs(60);

/// Counts per key in the current window. Old windows are dropped as keys are touched,
/// and the whole map is swept when it grows, so memory stays bounded by active clients.
#[derive(Default)]
struct Windows {
    map: HashMap<String, (Instant, u32)>,
}

impl Windows {
    /// `Err(seconds to wait)` when `key` already used `limit` requests in its window.
    fn hit(&mut self, key: &str, limit: u32, now: Instant) -> Result<(), u64> {
        if limit == 0 {
            return Ok(());
        }
        if self.map.len() > 100_000 {
            self.map
                .retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = self.map.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= limit {
            let wait = WINDOW.saturating_sub(now.duration_since(entry.0));
            return Err(wait.as_secs() + 1);
        }
        entry.1 += 1;
        Ok(())
    }
}

pub struct Limits {
    config: Mutex<LimitsConfig>,
    windows: Mutex<Windows>,
}

impl Limits {
    pub fn new(config: LimitsConfig) -> Self {
        Limits {
            config: Mutex::new(config),
            windows: Mutex::new(Windows::default()),
        }
    }

    pub fn reconfigure(&self, config: LimitsConfig) {
        *self.config.lock().expect("limits config lock") = config;
    }

    fn check(&self, keys: &[(String, u32)], what: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut windows = self.windows.lock().expect("limits lock");
        for (key, limit) in keys {
            if let Err(wait) = windows.hit(key, *limit, now) {
                return Err(ApiError::too_many(
                    wait,
                    format!("too many {what}; try again in {wait} s"),
                ));
            }
        }
        Ok(())
    }

    pub fn check_post(&self, ip: Option<&str>, author_key: &str) -> Result<(), ApiError> {
        let c = self.config.lock().expect("limits config lock").clone();
        let mut keys = vec![(
            format!("post-author:{author_key}"),
            c.posts_per_minute_per_author,
        )];
        if let Some(ip) = ip {
            keys.insert(0, (format!("post-ip:{ip}"), c.posts_per_minute_per_ip));
        }
        self.check(&keys, "comments")
    }

    pub fn check_report(&self, ip: Option<&str>) -> Result<(), ApiError> {
        let limit = self
            .config
            .lock()
            .expect("limits config lock")
            .reports_per_minute_per_ip;
        match ip {
            Some(ip) => self.check(&[(format!("report-ip:{ip}"), limit)], "reports"),
            None => Ok(()),
        }
    }

    pub fn check_sign_in(&self, ip: Option<&str>, name: &str) -> Result<(), ApiError> {
        let limit = self
            .config
            .lock()
            .expect("limits config lock")
            .sign_in_attempts_per_minute;
        let mut keys = vec![(format!("signin-name:{}", name.to_lowercase()), limit)];
        if let Some(ip) = ip {
            keys.push((format!("signin-ip:{ip}"), limit));
        }
        self.check(&keys, "sign-in attempts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_limits_and_resets() {
        let mut w = Windows::default();
        let t0 = Instant::now();
        assert!(w.hit("k", 2, t0).is_ok());
        assert!(w.hit("k", 2, t0).is_ok());
        let wait = w.hit("k", 2, t0).unwrap_err();
        assert!((1..=61).contains(&wait));
        assert!(w.hit("other", 2, t0).is_ok());
        assert!(w.hit("k", 2, t0 + WINDOW).is_ok());
        assert!(w.hit("k", 0, t0).is_ok(), "0 disables");
    }
}
