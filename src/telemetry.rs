//! Logging setup: text or JSON lines, filtered by `RUST_LOG` (default `info`).
//!
//! Values a client controls end up in log fields (a sign-in name, a request id), so the
//! text format escapes control and bidi characters in every field: a newline in a name must
//! not write a genuine-looking second line, nor an ESC sequence repaint the operator's
//! terminal. (The JSON format already escapes them as JSON strings.)

use std::fmt::Write as _;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::{Writer, debug_fn};

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (e.g. in tests) is harmless; keep the first subscriber.
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.fmt_fields(escaped_fields()).try_init(),
    };
}

/// The text format's field formatter: `name=value` separated by spaces, the message bare,
/// each value with control and bidi characters escaped ([`escape_controls`]).
pub fn escaped_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> {
    debug_fn(
        |w: &mut Writer<'_>, field: &tracing::field::Field, value: &dyn std::fmt::Debug| {
            let raw = format!("{value:?}");
            let text = escape_controls(&raw);
            if field.name() == "message" {
                w.write_str(&text)
            } else {
                write!(w, "{}={}", field.name(), text)
            }
        },
    )
    .delimited(" ")
}

/// `text` with every control character (C0, DEL, C1: newline, carriage return, ESC, BEL…)
/// and every bidi override or isolate written as `\u{…}`.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let needs =
        |c: char| c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(needs) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_escaped_and_the_rest_kept() {
        assert_eq!(escape_controls("alice"), "alice");
        assert_eq!(escape_controls("Айгерім ☕"), "Айгерім ☕");
        assert_eq!(
            escape_controls("mallory\n2026 INFO x\u{1b}[2J\u{7}\u{202e}"),
            "mallory\\u{a}2026 INFO x\\u{1b}[2J\\u{7}\\u{202e}"
        );
    }

    /// The installed formatter, end to end through a subscriber: a forged second line in a
    /// field value stays on the event's one line.
    #[test]
    fn a_newline_in_a_field_does_not_start_a_log_line() {
        #[derive(Clone, Default)]
        struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .fmt_fields(escaped_fields())
            .finish();
        let name = "mallory\n2026-12-04T17:30:00Z  INFO modgate::web::login: console sign-in moderator=alice\u{1b}[0m";
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(moderator = %name, "console sign-in failed");
        });
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(
            out.contains("console sign-in failed moderator=mallory\\u{a}2026"),
            "{out}"
        );
        assert!(!out.contains('\u{1b}'), "{out}");
    }
}
