//! What rule lists are made of and what a match reports; `crate::scoring::rules` compiles
//! and runs them.

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
    /// The term or regex as written in the config.
    pub term: String,
    pub action: Action,
    pub start: usize,
    pub end: usize,
}

impl RuleHit {
    /// Whether an `allow` hit among `hits` overlaps this one, which takes this one out of
    /// force. The single place the allow rule is written: rule matching records such hits
    /// as suppressed, and the policy ignores them.
    pub fn allowed_by(&self, hits: &[RuleHit]) -> bool {
        self.action != Action::Allow
            && hits
                .iter()
                .any(|a| a.action == Action::Allow && a.start < self.end && self.start < a.end)
    }
}

/// Which steps run. All on by default; a rule list may switch some off
/// (`normalize = { leet = false }`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Flags {
    pub html: bool,
    pub invisible: bool,
    pub apostrophes: bool,
    pub nfkc: bool,
    pub marks: bool,
    pub confusables: bool,
    pub case_fold: bool,
    pub separators: bool,
    pub leet: bool,
    pub squeeze: bool,
}

impl Default for Flags {
    fn default() -> Self {
        Flags {
            html: true,
            invisible: true,
            apostrophes: true,
            nfkc: true,
            marks: true,
            confusables: true,
            case_fold: true,
            separators: true,
            leet: true,
            squeeze: true,
        }
    }
}
