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

    /// Requests counted for `key` in its current window.
    fn count(&self, key: &str, now: Instant) -> u32 {
        self.map
            .get(key)
            .filter(|(start, _)| now.duration_since(*start) < WINDOW)
            .map_or(0, |(_, n)| *n)
    }

    /// Seconds until `key`'s window ends.
    fn wait(&self, key: &str, now: Instant) -> u64 {
        self.map.get(key).map_or(1, |(start, _)| {
            WINDOW.saturating_sub(now.duration_since(*start)).as_secs() + 1
        })
    }
}

/// How long to hold a sign-in attempt for a name that is being guessed from elsewhere:
/// the right password from a clean address still gets in, guessing gets slow.
pub const SIGN_IN_SLOWDOWN: Duration = Duration::from_secs(2);

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

    /// Before a console sign-in: refused (429) when this address already failed too often
    /// for this name, or for any name; otherwise `Ok(delay)`, where the delay is
    /// [`SIGN_IN_SLOWDOWN`] while the name is failing from other addresses. Failures, not
    /// attempts, are counted ([`Limits::sign_in_failed`]), so nobody can lock a moderator
    /// out by guessing their name from somewhere else.
    pub fn check_sign_in(&self, ip: Option<&str>, name: &str) -> Result<Duration, ApiError> {
        let limit = self
            .config
            .lock()
            .expect("limits config lock")
            .sign_in_attempts_per_minute;
        if limit == 0 {
            return Ok(Duration::ZERO);
        }
        let now = Instant::now();
        let windows = self.windows.lock().expect("limits lock");
        let ip = ip.unwrap_or("-");
        let name = name.to_lowercase();
        for key in [
            format!("signin-pair:{ip}:{name}"),
            format!("signin-ip:{ip}"),
        ] {
            // One address may try several names (a shared newsroom connection), not many.
            let allowed = if key.starts_with("signin-ip:") {
                limit.saturating_mul(3)
            } else {
                limit
            };
            if windows.count(&key, now) >= allowed {
                let wait = windows.wait(&key, now);
                return Err(ApiError::too_many(
                    wait,
                    format!("too many failed sign-in attempts; try again in {wait} s"),
                ));
            }
        }
        Ok(
            if windows.count(&format!("signin-name:{name}"), now) >= limit {
                SIGN_IN_SLOWDOWN
            } else {
                Duration::ZERO
            },
        )
    }

    /// Count a failed sign-in against the (address, name) pair, the address and the name.
    pub fn sign_in_failed(&self, ip: Option<&str>, name: &str) {
        let now = Instant::now();
        let mut windows = self.windows.lock().expect("limits lock");
        let ip = ip.unwrap_or("-");
        let name = name.to_lowercase();
        for key in [
            format!("signin-pair:{ip}:{name}"),
            format!("signin-ip:{ip}"),
            format!("signin-name:{name}"),
        ] {
            let _ = windows.hit(&key, u32::MAX, now);
        }
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

    fn limits(per_minute: u32) -> Limits {
        Limits::new(LimitsConfig {
            sign_in_attempts_per_minute: per_minute,
            ..LimitsConfig::default()
        })
    }

    #[test]
    fn failures_elsewhere_slow_a_name_down_but_do_not_lock_it() {
        let l = limits(3);
        for i in 0..10 {
            let attacker = format!("10.0.0.{i}");
            assert!(l.check_sign_in(Some(&attacker), "alice").is_ok());
            l.sign_in_failed(Some(&attacker), "Alice");
        }
        // The moderator's own address has no failures: slowed, not refused.
        assert_eq!(
            l.check_sign_in(Some("192.0.2.7"), "alice").unwrap(),
            SIGN_IN_SLOWDOWN
        );
        assert_eq!(
            l.check_sign_in(Some("192.0.2.7"), "bob").unwrap(),
            Duration::ZERO
        );
    }

    #[test]
    fn one_address_failing_for_a_name_is_refused() {
        let l = limits(3);
        for _ in 0..3 {
            assert!(l.check_sign_in(Some("10.0.0.1"), "alice").is_ok());
            l.sign_in_failed(Some("10.0.0.1"), "alice");
        }
        assert_eq!(
            l.check_sign_in(Some("10.0.0.1"), "ALICE")
                .unwrap_err()
                .status
                .as_u16(),
            429
        );
        // Another name from the same address still gets its tries, up to 3x the limit.
        assert!(l.check_sign_in(Some("10.0.0.1"), "bob").is_ok());
        for _ in 0..6 {
            l.sign_in_failed(Some("10.0.0.1"), "x");
        }
        assert!(l.check_sign_in(Some("10.0.0.1"), "carol").is_err());
    }
}
