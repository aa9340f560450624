//! Rule lists compiled into one Aho-Corasick automaton and one RegexSet.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Slur,
    Threat,
    Profanity,
    Insult,
    Spam,
    Custom,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Exception: suppresses other hits that overlap it.
    Allow,
    /// Publish, but record the hit.
    Flag,
    /// Hold for moderator review.
    Hold,
    Remove,
}

/// One rule that fired, with its span as char offsets into the ORIGINAL text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleHit {
    pub list: String,
    pub category: Category,
    pub term: String,
    pub action: Action,
    pub start: usize,
    pub end: usize,
}
