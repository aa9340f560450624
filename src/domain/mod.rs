//! The bottom layer: the values every other module shares (labels, languages, statuses,
//! verdicts, rule actions, event kinds) and typed request values, parsed once at the edge
//! (a value of these types is valid). It imports no other module of the crate.

pub mod comment;
pub mod events;
pub mod label;
pub mod language;
pub mod moderation;
pub mod rules;
pub mod text;
pub mod verdict;

pub use events::EventType;
pub use label::{Label, Scores};
pub use language::Language;
pub use rules::{Action, Category, Flags, RuleHit};
pub use verdict::{AuthorStanding, Reason, Status, Verdict};

/// A validation failure naming the offending field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field,
            code,
            message: message.into(),
        }
    }
}

/// Characters that may not appear in identifiers and names (controls other than none).
fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// A site's own article id: 1..=200 chars, no control characters or slashes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArticleId(String);

impl ArticleId {
    pub fn parse(field: &'static str, raw: &str) -> Result<ArticleId, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new(field, "empty", "must not be empty"));
        }
        if s.chars().count() > 200 {
            return Err(FieldError::new(
                field,
                "too_long",
                "must be at most 200 characters",
            ));
        }
        if has_control(s) || s.contains('/') {
            return Err(FieldError::new(
                field,
                "invalid",
                "must not contain control characters or '/'",
            ));
        }
        Ok(ArticleId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
