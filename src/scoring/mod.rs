//! The scoring core: normalisation → rules → classifier → policy → verdict.

use serde::{Deserialize, Serialize};

pub mod batcher;
pub mod classifier;
pub mod language;
pub mod normalize;
pub mod pipeline;
pub mod policy;
pub mod rules;

use classifier::Scores;
use rules::RuleHit;

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
    pub verdict: Status,
    pub scores: Scores,
    pub hits: Vec<RuleHit>,
    pub reasons: Vec<policy::Reason>,
    pub model_id: String,
    pub rules_version: String,
    /// The detected language, which scoped the rule lists and chose the thresholds.
    #[serde(default)]
    pub language: Option<language::Language>,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
