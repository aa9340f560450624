//! `[console]`: the moderator web console's sessions and behaviour.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Mark the session cookie `Secure`. Keep on in production (behind TLS); browsers also
    /// accept Secure cookies from http://localhost and http://127.0.0.1.
    pub secure_cookies: bool,
    /// A session ends after this long without a request.
    pub session_idle_minutes: u64,
    /// A session ends this long after sign-in, however active.
    pub session_max_hours: u64,
    /// How long an approve/remove can be undone in the browser before it is sent.
    pub undo_seconds: u64,
    /// Origins allowed to embed the public thread page `/articles/{id}` in a frame
    /// (CSP `frame-ancestors`); empty forbids framing.
    pub thread_frame_ancestors: Vec<String>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            secure_cookies: true,
            session_idle_minutes: 120,
            session_max_hours: 12,
            undo_seconds: 5,
            thread_frame_ancestors: Vec::new(),
        }
    }
}
