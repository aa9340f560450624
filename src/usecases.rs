//! What moderators do, written once for both front ends: the JSON API (`api::moderation`)
//! and the console (`web::actions`) parse their own transport (JSON body, form) and call
//! these, so the checks, the write, the metrics and the refusals are the same whichever
//! way a moderator acts.

use crate::app::AppState;
use crate::domain::FieldError;
use crate::domain::Status;
use crate::domain::moderation::{AuthorAction, DecisionAction, parse_note, parse_removal_reason};
use crate::store::authors::Author;
use crate::store::moderation::{Actor, DecisionError, DecisionOutcome};
use crate::store::moderators::Moderator;
use crate::store::{DbError, comments};

/// How the moderation log names a moderator.
pub fn actor(m: &Moderator) -> Actor {
    Actor {
        moderator_id: Some(m.id),
        name: m.name.clone(),
    }
}

/// A decision on comments, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub action: DecisionAction,
    /// Required to remove; checked against the removal reasons when given.
    pub reason: Option<&'static str>,
    pub note: Option<String>,
    /// The status the moderator saw; the decision is refused if it has changed since.
    pub expected_status: Option<Status>,
}

impl Decision {
    /// From the fields as sent. A blank reason counts as none; `action` and
    /// `expected_status` must be exact when present.
    pub fn parse(
        action: Option<&str>,
        reason: Option<&str>,
        note: Option<&str>,
        expected_status: Option<&str>,
    ) -> Result<Decision, FieldError> {
        let action = action
            .ok_or_else(|| FieldError::new("action", "required", "is required"))
            .and_then(DecisionAction::parse)?;
        let reason = reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(parse_removal_reason)
            .transpose()?;
        if action == DecisionAction::Remove && reason.is_none() {
            return Err(FieldError::new(
                "reason",
                "required",
                "is required to remove a comment",
            ));
        }
        let note = parse_note(note)?;
        let expected_status = expected_status
            .map(|s| {
                Status::parse(s).ok_or_else(|| {
                    FieldError::new(
                        "expected_status",
                        "invalid",
                        "must be pending, published or removed",
                    )
                })
            })
            .transpose()?;
        Ok(Decision {
            action,
            reason,
            note,
            expected_status,
        })
    }
}

/// Why one comment's decision was refused.
#[derive(Debug)]
pub enum Refused {
    NotFound,
    /// `invalid_transition` or `status_changed`, with the message to show.
    Conflict {
        code: &'static str,
        message: String,
    },
    Internal(DbError),
}

impl From<DecisionError> for Refused {
    fn from(e: DecisionError) -> Refused {
        match e {
            DecisionError::NotFound => Refused::NotFound,
            e @ DecisionError::InvalidTransition { .. } => Refused::Conflict {
                code: "invalid_transition",
                message: e.to_string(),
            },
            e @ DecisionError::StatusChanged { .. } => Refused::Conflict {
                code: "status_changed",
                message: e.to_string(),
            },
            DecisionError::Db(e) => Refused::Internal(e),
        }
    }
}

/// Apply `decision` to each of `ids` (one transaction; each id succeeds or is refused on
/// its own) and count the ones applied.
pub async fn decide(
    app: &AppState,
    ids: Vec<i64>,
    decision: &Decision,
    by: &Moderator,
) -> Result<Vec<Result<DecisionOutcome, Refused>>, DbError> {
    let results = app
        .writer
        .decide(
            ids,
            decision.action,
            decision.expected_status,
            decision.reason,
            decision.note.clone(),
            actor(by),
        )
        .await?;
    Ok(results
        .into_iter()
        .map(|r| {
            if r.is_ok() {
                app.metrics.decision(decision.action);
            }
            r.map_err(Refused::from)
        })
        .collect())
}

/// Whom an author-standing change is about.
pub enum AuthorRef {
    Key(String),
    /// The author of this comment.
    Comment(i64),
}

/// Why an author-standing change was refused.
#[derive(Debug)]
pub enum AuthorRefused {
    /// No such comment (the author was named by a comment).
    CommentNotFound,
    AuthorNotFound,
    Internal(DbError),
}

impl From<DbError> for AuthorRefused {
    fn from(e: DbError) -> AuthorRefused {
        AuthorRefused::Internal(e)
    }
}

/// Ban, pre-moderate or lift either for an author.
pub async fn set_author_standing(
    app: &AppState,
    author: AuthorRef,
    action: AuthorAction,
    reason: Option<String>,
    note: Option<String>,
    by: &Moderator,
) -> Result<Author, AuthorRefused> {
    let key = match author {
        AuthorRef::Key(k) => k,
        AuthorRef::Comment(id) => {
            comments::read(app.store.reader(), id)
                .await?
                .ok_or(AuthorRefused::CommentNotFound)?
                .author_key
        }
    };
    app.writer
        .set_author_standing(key, action, reason, note, actor(by))
        .await?
        .ok_or(AuthorRefused::AuthorNotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_checked_field_by_field() {
        let d = Decision::parse(
            Some("remove"),
            Some("spam"),
            Some(" a note "),
            Some("pending"),
        )
        .unwrap();
        assert_eq!(d.action, DecisionAction::Remove);
        assert_eq!(d.reason, Some("spam"));
        assert_eq!(d.expected_status, Some(Status::Pending));
        let field = |r: Result<Decision, FieldError>| r.unwrap_err().field;
        assert_eq!(field(Decision::parse(None, None, None, None)), "action");
        assert_eq!(
            field(Decision::parse(Some("remove"), Some(""), None, None)),
            "reason"
        );
        assert_eq!(
            field(Decision::parse(Some("approve"), Some("bogus"), None, None)),
            "reason"
        );
        assert_eq!(
            field(Decision::parse(Some("approve"), None, None, Some("gone"))),
            "expected_status"
        );
        assert_eq!(
            field(Decision::parse(Some("approve"), None, None, Some(""))),
            "expected_status"
        );
        assert_eq!(field(Decision::parse(Some(""), None, None, None)), "action");
    }
}
