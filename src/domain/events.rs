//! Webhook events: their kinds and the shape of their `data`. The outbox (`store::outbox`)
//! writes them in the same transaction as the change they describe; `webhooks` delivers.

use serde::Serialize;

use super::label::Scores;
use super::verdict::{Reason, Status};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A comment was stored (any status).
    Created,
    /// A comment entered a moderation queue: held at intake, moved to `pending` by
    /// re-scoring, or reported into the `reported` queue.
    Held,
    /// A comment's status was decided: by a moderator (approve, remove, restore) or by
    /// re-scoring (published/removed).
    Decided,
    /// A reader reported a comment.
    Reported,
}

impl EventType {
    pub const ALL: [EventType; 4] = [
        EventType::Created,
        EventType::Held,
        EventType::Decided,
        EventType::Reported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Created => "comment.created",
            EventType::Held => "comment.held",
            EventType::Decided => "comment.decided",
            EventType::Reported => "comment.reported",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// The comment as webhooks show it: no e-mail, author key or IP.
#[derive(Clone, Debug, Serialize)]
pub struct CommentSnapshot {
    pub id: i64,
    pub article_id: String,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub body: String,
    pub status: Status,
    pub reported: bool,
    pub report_count: i64,
    pub language: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// An event's `data`, without the `comment` snapshot the outbox adds when it writes the
/// event (so the snapshot is the comment as committed with the change). The wire format
/// is documented in docs/webhooks.md.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum EventData {
    /// `comment.created`: the verdict the comment was stored with.
    Created { verdict: CreatedVerdict },
    /// `comment.held`: the comment entered a queue.
    Held(Held),
    /// `comment.decided`: a moderator or re-scoring changed the status.
    Decided(Decided),
    /// `comment.reported`: a reader reported the comment.
    Reported {
        report: Report,
        report_count: i64,
        entered_queue: bool,
    },
}

impl EventData {
    pub fn event_type(&self) -> EventType {
        match self {
            EventData::Created { .. } => EventType::Created,
            EventData::Held(_) => EventType::Held,
            EventData::Decided(_) => EventType::Decided,
            EventData::Reported { .. } => EventType::Reported,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CreatedVerdict {
    pub status: Status,
    pub scores: Scores,
    pub reasons: Vec<Reason>,
    pub model_id: String,
}

/// Why a comment entered a queue: at intake or by re-scoring (`pending`, with the
/// verdict's reasons), or by reader reports (`reported`).
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Held {
    Scored {
        queue: &'static str,
        cause: &'static str,
        reasons: Vec<Reason>,
    },
    Reports {
        queue: &'static str,
        cause: &'static str,
        report_count: i64,
    },
}

impl Held {
    pub fn at_intake(reasons: &[Reason]) -> Held {
        Held::Scored {
            queue: "pending",
            cause: "intake",
            reasons: reasons.to_vec(),
        }
    }

    pub fn by_rescore(reasons: &[Reason]) -> Held {
        Held::Scored {
            queue: "pending",
            cause: "rescore",
            reasons: reasons.to_vec(),
        }
    }

    pub fn by_reports(report_count: i64) -> Held {
        Held::Reports {
            queue: "reported",
            cause: "reports",
            report_count,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Decided {
    /// `approve`, `remove`, `restore`… or `rescore`.
    pub action: String,
    pub old_status: Status,
    pub new_status: Status,
    pub reason: Option<String>,
    pub note: Option<String>,
    /// The moderator, or `None` for the system (re-scoring) and admin tokens.
    pub moderator: Option<ModeratorRef>,
    pub actor: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModeratorRef {
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub id: i64,
    pub reason: String,
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip() {
        for e in EventType::ALL {
            assert_eq!(EventType::parse(e.as_str()), Some(e));
        }
        assert_eq!(EventType::parse("comment.deleted"), None);
    }
}

#[cfg(test)]
mod shape_tests {
    use super::*;

    /// The `data` of each event as receivers see it (docs/webhooks.md), keys sorted as the
    /// outbox stores them.
    #[test]
    fn event_data_serialises_to_the_documented_shapes() {
        let held = serde_json::to_value(EventData::Held(Held::by_reports(3))).unwrap();
        assert_eq!(
            held.to_string(),
            r#"{"cause":"reports","queue":"reported","report_count":3}"#
        );
        let decided = EventData::Decided(Decided {
            action: "remove".into(),
            old_status: Status::Pending,
            new_status: Status::Removed,
            reason: Some("spam".into()),
            note: None,
            moderator: Some(ModeratorRef {
                id: 7,
                name: "alice".into(),
            }),
            actor: "alice".into(),
        });
        assert_eq!(decided.event_type(), EventType::Decided);
        assert_eq!(
            serde_json::to_value(decided).unwrap().to_string(),
            r#"{"action":"remove","actor":"alice","moderator":{"id":7,"name":"alice"},"new_status":"removed","note":null,"old_status":"pending","reason":"spam"}"#
        );
    }
}
