//! The kinds of webhook event.

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
