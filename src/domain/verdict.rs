//! What scoring decides about a comment, and why.

use serde::{Deserialize, Serialize};

use super::label::{Label, Scores};
use super::language::Language;
use super::rules::{Action, Category, RuleHit};

/// Status of a comment as decided by scoring or a moderator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Published,
    /// Held for moderator review.
    Pending,
    Removed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Published => "published",
            Status::Pending => "pending",
            Status::Removed => "removed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "published" => Some(Status::Published),
            "pending" => Some(Status::Pending),
            "removed" => Some(Status::Removed),
            _ => None,
        }
    }
}

/// The explained outcome of scoring one comment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Serialised as `verdict`, the name API clients and stored rows know.
    #[serde(rename = "verdict")]
    pub status: Status,
    pub scores: Scores,
    pub hits: Vec<RuleHit>,
    pub reasons: Vec<Reason>,
    pub model_id: String,
    pub rules_version: String,
    /// The detected language, which scoped the rule lists and chose the thresholds.
    #[serde(default)]
    pub language: Option<Language>,
}

/// For reading the `status` column of stored rows.
impl TryFrom<String> for Status {
    type Error = String;

    fn try_from(s: String) -> Result<Status, String> {
        Status::parse(&s).ok_or_else(|| format!("unknown status `{s}`"))
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the author's account says about new comments. The API layer looks it up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorStanding {
    pub banned: bool,
    /// Every comment goes to the review queue first.
    pub premoderated: bool,
}

/// A machine-readable reason for a verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A model score reached a configured threshold.
    Threshold {
        label: Label,
        score: f64,
        threshold: f64,
        action: Action,
    },
    /// A rule-list term or pattern matched.
    Rule {
        list: String,
        category: Category,
        term: String,
        action: Action,
    },
    /// The model's hold/removal on `label` went away once the identity `terms` were
    /// replaced by a neutral placeholder: the terms, not the content, drove the score.
    IdentityTermSensitivity {
        terms: Vec<String>,
        label: Label,
        score: f64,
        counterfactual_score: f64,
    },
    AuthorPremoderated,
    AuthorBanned,
    /// Scoring failed or timed out; the comment waits for a moderator.
    Unscored {
        detail: String,
    },
}
