//! Moderator decisions and reader reports.

use serde::{Deserialize, Serialize};

use super::FieldError;
use crate::domain::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionAction {
    Approve,
    Remove,
    Restore,
}

impl DecisionAction {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "approve" => Ok(DecisionAction::Approve),
            "remove" => Ok(DecisionAction::Remove),
            "restore" => Ok(DecisionAction::Restore),
            _ => Err(FieldError::new(
                "action",
                "invalid",
                "must be one of approve, remove, restore",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionAction::Approve => "approve",
            DecisionAction::Remove => "remove",
            DecisionAction::Restore => "restore",
        }
    }

    /// The status after this action, or `None` when the transition is not allowed.
    /// Approve takes a held comment live, or clears a published comment's reports.
    pub fn transition(self, from: Status, reported: bool) -> Option<Status> {
        match (self, from) {
            (DecisionAction::Approve, Status::Pending) => Some(Status::Published),
            (DecisionAction::Approve, Status::Published) if reported => Some(Status::Published),
            (DecisionAction::Remove, Status::Pending | Status::Published) => Some(Status::Removed),
            (DecisionAction::Restore, Status::Removed) => Some(Status::Published),
            _ => None,
        }
    }
}

pub const REMOVAL_REASONS: [&str; 7] = [
    "offensive",
    "abusive",
    "spam",
    "hate_speech",
    "threat",
    "off_topic",
    "other",
];

pub const REPORT_REASONS: [&str; 4] = ["offensive", "abusive", "spam", "other"];

pub fn parse_removal_reason(s: &str) -> Result<&'static str, FieldError> {
    REMOVAL_REASONS
        .into_iter()
        .find(|r| *r == s)
        .ok_or_else(|| {
            FieldError::new(
                "reason",
                "invalid",
                format!("must be one of {}", REMOVAL_REASONS.join(", ")),
            )
        })
}

pub fn parse_report_reason(s: &str) -> Result<&'static str, FieldError> {
    REPORT_REASONS.into_iter().find(|r| *r == s).ok_or_else(|| {
        FieldError::new(
            "reason",
            "invalid",
            format!("must be one of {}", REPORT_REASONS.join(", ")),
        )
    })
}

/// An optional free-text note, at most 1000 characters.
pub fn parse_note(note: Option<&str>) -> Result<Option<String>, FieldError> {
    match note {
        None => Ok(None),
        Some(n) => super::text::clean("note", n, 1000, super::text::Lines::Many),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorAction {
    Ban,
    Unban,
    Premoderate,
    Unpremoderate,
}

impl AuthorAction {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "ban" => Ok(AuthorAction::Ban),
            "unban" => Ok(AuthorAction::Unban),
            "premoderate" => Ok(AuthorAction::Premoderate),
            "unpremoderate" => Ok(AuthorAction::Unpremoderate),
            _ => Err(FieldError::new(
                "action",
                "invalid",
                "must be one of ban, unban, premoderate, unpremoderate",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthorAction::Ban => "ban",
            AuthorAction::Unban => "unban",
            AuthorAction::Premoderate => "premoderate",
            AuthorAction::Unpremoderate => "unpremoderate",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        use DecisionAction::*;
        use Status::*;
        assert_eq!(Approve.transition(Pending, false), Some(Published));
        assert_eq!(Approve.transition(Published, true), Some(Published));
        assert_eq!(Approve.transition(Published, false), None);
        assert_eq!(Approve.transition(Removed, false), None);
        assert_eq!(Remove.transition(Removed, false), None);
        assert_eq!(Remove.transition(Published, false), Some(Removed));
        assert_eq!(Restore.transition(Removed, false), Some(Published));
        assert_eq!(Restore.transition(Pending, false), None);
    }
}
