//! Learning from the moderators: every approve and remove is a label from the newsroom's
//! own readers. From the decisions ([`crate::store::decisions`]) this module computes
//!
//! - [`agreement`]: how often moderators overrule the system (false holds, misses), per
//!   model, rules version, language and week, with examples;
//! - [`calibration`]: the thresholds the decisions imply, per label and language;
//! - [`export`]: the decisions as training rows for `python -m modgate_models.train_e5_full --decisions`.
//!
//! Decisions made on verdicts of an older model or rules version are kept apart: they say
//! how the old model did, not how the current one does.

pub mod agreement;
pub mod calibration;
pub mod export;

use crate::domain::FieldError;
use crate::domain::Language;
use crate::store::decisions::{DecisionFilter, DecisionRow, VerdictInForce};

/// The model ids and rules version now in force.
#[derive(Debug, Clone, Default)]
pub struct CurrentVersions {
    pub model_ids: Vec<String>,
    pub rules_version: String,
}

impl CurrentVersions {
    /// Whether `verdict` came from the model and rules now in force.
    pub fn is_current(&self, verdict: &VerdictInForce) -> bool {
        verdict.rules_version == self.rules_version && self.model_ids.contains(&verdict.model_id)
    }
}

/// What a decision says about the system's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The system held (or removed) it and a moderator approved or restored it.
    FalseHold,
    /// The system held it and a moderator removed it.
    ConfirmedHold,
    /// The system published it, readers reported it, and a moderator removed it.
    Miss,
    /// The system published it, readers reported it, and a moderator kept it.
    KeptAfterReports,
    /// Anything else (a published comment removed without reports, one never scored, or
    /// held only because scoring failed).
    Other,
}

/// How a decision relates to the verdict in force.
pub fn outcome(row: &DecisionRow) -> Outcome {
    use crate::domain::Status;
    let Some(v) = &row.verdict else {
        return Outcome::Other;
    };
    let approved = matches!(row.action.as_str(), "approve" | "restore");
    match v.status {
        Status::Pending | Status::Removed if v.unscored => Outcome::Other,
        Status::Pending | Status::Removed if approved => Outcome::FalseHold,
        Status::Pending | Status::Removed => Outcome::ConfirmedHold,
        Status::Published if !row.reported => Outcome::Other,
        Status::Published if approved => Outcome::KeptAfterReports,
        Status::Published => Outcome::Miss,
    }
}

/// Whether a removal says the comment was abusive: spam and off-topic removals say
/// nothing about toxicity, so they count as neither side.
pub fn removed_as_abuse(row: &DecisionRow) -> Option<bool> {
    match row.action.as_str() {
        "approve" | "restore" => Some(false),
        "remove" => match row.reason.as_deref() {
            Some("spam") | Some("off_topic") => None,
            _ => Some(true),
        },
        _ => None,
    }
}

/// Which decisions to read: `since` (a date, `2026-11-30`, or an RFC 3339 time) and a
/// `language` code, checked.
pub fn filter(since: Option<&str>, language: Option<&str>) -> Result<DecisionFilter, FieldError> {
    let since = match since.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => {
            // A date, or a date followed by `T` and a time; compared with stored times as text.
            let date_ok = s.get(..10).is_some_and(|d| {
                time::Date::parse(d, &time::format_description::well_known::Iso8601::DATE).is_ok()
            });
            if !date_ok || !(s.len() == 10 || s.as_bytes()[10] == b'T') {
                return Err(FieldError::new(
                    "since",
                    "invalid",
                    format!("must be a date like 2026-11-30 or an RFC 3339 time, got `{s}`"),
                ));
            }
            Some(s.to_string())
        }
    };
    let language = match language.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(l) => Some(
            Language::parse(l)
                .ok_or_else(|| {
                    FieldError::new(
                        "language",
                        "invalid",
                        format!("must be a detected language: {}", Language::codes()),
                    )
                })?
                .code()
                .to_string(),
        ),
    };
    Ok(DecisionFilter { since, language })
}

/// ISO week of an RFC 3339 time: `2026-W49`.
pub fn iso_week(at: &str) -> String {
    let part = |range: std::ops::Range<usize>| at.get(range).and_then(|p| p.parse::<i32>().ok());
    let date = match (part(0..4), part(5..7), part(8..10)) {
        (Some(y), Some(m), Some(d)) => time::Month::try_from(m as u8)
            .ok()
            .and_then(|m| time::Date::from_calendar_date(y, m, d as u8).ok()),
        _ => None,
    };
    match date {
        Some(d) => {
            let (year, week, _) = d.to_iso_week_date();
            format!("{year}-W{week:02}")
        }
        None => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks() {
        assert_eq!(iso_week("2026-12-04T10:00:00.000Z"), "2026-W49");
        assert_eq!(iso_week("2027-01-01T00:00:00.000Z"), "2026-W53");
        assert_eq!(iso_week("garbage"), "unknown");
    }
}
