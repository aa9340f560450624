//! The API's request and response bodies, in one place: each struct is what serde parses
//! or writes and what utoipa documents, so the OpenAPI document cannot drift from the code.
//! Requests are read with [`crate::http::json::parse_fields`], which names the field of a
//! type error; the `validate` methods then check values field by field.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::FieldError;
use crate::domain::comment::{CommentRules, NewComment, RawComment};
use crate::domain::moderation::{AuthorAction, parse_note, parse_report_reason};
use crate::http::json::RequestFields;
use crate::store::articles::ArticleUpdate;
use crate::usecases::{AuthorRef, Decision};

// Patterns state what `crate::domain` accepts, so schemathesis's valid examples get past
// validation: not blank after trimming, no control characters (C0, DEL, C1).

// Fields are read as sent (absent and null alike), so `validate` can say which one is
// missing or wrong; the schema still states what is required.
/// Body of `POST /api/v1/comments`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct NewCommentRequest {
    /// The site's own article id: 1..=200 characters after trimming, no control
    /// characters or '/'.
    #[schema(
        required = true,
        nullable = false,
        value_type = String,
        min_length = 1,
        max_length = 200,
        pattern = "^[^/\\u0000-\\u001F\\u007F-\\u009F]*[^\\s/\\u0000-\\u001F\\u007F-\\u009F][^/\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub article_id: Option<String>,
    /// Id of the comment this replies to (same article), or null for a top-level comment.
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub parent_id: Option<serde_json::Number>,
    /// At most 100 characters after trimming, no control characters.
    #[schema(
        required = true,
        nullable = false,
        value_type = String,
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub author_name: Option<String>,
    /// An address like name@example.org (at most 254 bytes); the pattern is a safe
    /// ASCII subset of what is accepted.
    #[schema(
        max_length = 254,
        pattern = "^[!-?A-~]+@[!-\\-/-?A-~][!-?A-~]*\\.[!-?A-~]*[!-\\-/-?A-~]$"
    )]
    pub author_email: Option<String>,
    /// Trimmed; 1..=1500 Unicode scalar values (configurable); no NUL.
    #[schema(
        required = true,
        nullable = false,
        value_type = String,
        min_length = 1,
        max_length = 1500,
        pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
    )]
    pub body: Option<String>,
}

impl RequestFields for NewCommentRequest {
    const FIELDS: &'static [(&'static str, &'static str)] = &[
        ("article_id", "a string"),
        ("parent_id", "an integer or null"),
        ("author_name", "a string"),
        ("author_email", "a string"),
        ("body", "a string"),
    ];
}

impl NewCommentRequest {
    /// The comment, checked field by field against the site's rules.
    pub fn validate(&self, rules: CommentRules<'_>) -> Result<NewComment, FieldError> {
        NewComment::parse(
            RawComment {
                article_id: self.article_id.as_deref(),
                parent_id: self.parent_id.as_ref(),
                author_name: self.author_name.as_deref(),
                author_email: self.author_email.as_deref(),
                body: self.body.as_deref(),
            },
            rules,
        )
    }
}

/// Answer to an accepted comment.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CommentAccepted {
    pub id: i64,
    pub status: crate::domain::Status,
    /// What to tell the reader, e.g. that the comment waits for a moderator.
    pub message: String,
}

/// Body of `POST /api/v1/comments/{id}/reports`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReportRequest {
    #[schema(
        required = true,
        nullable = false,
        value_type = String,
        pattern = "^(offensive|abusive|spam|other)$"
    )]
    pub reason: Option<String>,
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

impl RequestFields for ReportRequest {
    const FIELDS: &'static [(&'static str, &'static str)] =
        &[("reason", "a string"), ("note", "a string")];
}

impl ReportRequest {
    /// The report's reason and note.
    pub fn validate(&self) -> Result<(&'static str, Option<String>), FieldError> {
        let reason = self
            .reason
            .as_deref()
            .ok_or_else(|| FieldError::new("reason", "required", "is required"))?;
        Ok((
            parse_report_reason(reason)?,
            parse_note(self.note.as_deref())?,
        ))
    }
}

/// Answer to an accepted report.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReportAccepted {
    pub id: i64,
    pub comment_id: i64,
    pub message: String,
}

/// Body of `PUT /api/v1/articles/{article_id}`; absent fields are left as they are.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ArticleRequest {
    /// At most 500 characters; null clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub title: Option<Option<String>>,
    /// At most 2000 characters; null clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub url: Option<Option<String>>,
    /// Closed articles take no new comments.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>, nullable = false)]
    pub closed: Option<Option<bool>>,
}

/// A field that is present (`Some`), even as null (`Some(None)`); absent is `None` through
/// `#[serde(default)]`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl RequestFields for ArticleRequest {
    const FIELDS: &'static [(&'static str, &'static str)] = &[
        ("title", "a string or null"),
        ("url", "a string or null"),
        ("closed", "true or false"),
    ];
}

impl ArticleRequest {
    /// The change to make: each text trimmed and within its length, `closed` not null.
    pub fn validate(&self) -> Result<ArticleUpdate, FieldError> {
        let text = |field: &'static str, value: &Option<Option<String>>, max: usize| match value {
            Some(Some(s)) if s.chars().count() > max => Err(FieldError::new(
                field,
                "too_long",
                format!("must be at most {max} characters"),
            )),
            Some(v) => Ok(Some(v.as_ref().map(|s| s.trim().to_string()))),
            None => Ok(None),
        };
        let closed = match self.closed {
            Some(None) => {
                return Err(FieldError::new(
                    "closed",
                    "invalid_type",
                    "must be true or false",
                ));
            }
            Some(Some(b)) => Some(b),
            None => None,
        };
        Ok(ArticleUpdate {
            title: text("title", &self.title, 500)?,
            url: text("url", &self.url, 2000)?,
            closed,
        })
    }
}

/// Body of a moderator decision.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DecisionRequestBody {
    #[schema(
        required = true,
        nullable = false,
        value_type = String,
        pattern = "^(approve|remove|restore)$"
    )]
    pub action: Option<String>,
    /// Required for `remove`.
    #[schema(pattern = "^(offensive|abusive|spam|hate_speech|threat|off_topic|other)?$")]
    pub reason: Option<String>,
    #[schema(max_length = 1000)]
    pub note: Option<String>,
    /// The status the moderator saw; when the comment's status has changed since, the
    /// decision is refused with 409 `status_changed` (two moderators, one comment).
    #[schema(pattern = "^(pending|published|removed)$")]
    pub expected_status: Option<String>,
}

impl RequestFields for DecisionRequestBody {
    const FIELDS: &'static [(&'static str, &'static str)] = &[
        ("action", "a string"),
        ("reason", "a string"),
        ("note", "a string"),
        ("expected_status", "a string"),
    ];
}

impl DecisionRequestBody {
    pub fn validate(&self) -> Result<Decision, FieldError> {
        Decision::parse(
            self.action.as_deref(),
            self.reason.as_deref(),
            self.note.as_deref(),
            self.expected_status.as_deref(),
        )
    }
}

/// Body of a bulk decision.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BulkDecisionRequest {
    /// Positive comment ids; at most `limits.max_bulk_ids` (500 by default).
    #[schema(schema_with = comment_ids, required = true)]
    pub ids: Option<Vec<serde_json::Value>>,
    #[schema(
        required = true,
        nullable = false,
        value_type = String,
        pattern = "^(approve|remove|restore)$"
    )]
    pub action: Option<String>,
    /// Required for `remove`.
    #[schema(pattern = "^(offensive|abusive|spam|hate_speech|threat|off_topic|other)?$")]
    pub reason: Option<String>,
    #[schema(max_length = 1000)]
    pub note: Option<String>,
    /// The status the moderator saw; when the comment's status has changed since, the
    /// decision is refused with 409 `status_changed` (two moderators, one comment).
    #[schema(pattern = "^(pending|published|removed)$")]
    pub expected_status: Option<String>,
}

impl RequestFields for BulkDecisionRequest {
    const FIELDS: &'static [(&'static str, &'static str)] = &[
        ("ids", "an array of comment ids"),
        ("action", "a string"),
        ("reason", "a string"),
        ("note", "a string"),
        ("expected_status", "a string"),
    ];
}

impl BulkDecisionRequest {
    /// The decision and the ids, at most `max` of them (more is refused by the caller
    /// with 413, so it is told apart from a bad id).
    pub fn validate(&self) -> Result<(Decision, &[serde_json::Value]), FieldError> {
        let decision = Decision::parse(
            self.action.as_deref(),
            self.reason.as_deref(),
            self.note.as_deref(),
            self.expected_status.as_deref(),
        )?;
        match self.ids.as_deref() {
            None => Err(FieldError::new("ids", "required", "is required")),
            Some([]) => Err(FieldError::new("ids", "empty", "must list at least one id")),
            Some(ids) => Ok((decision, ids)),
        }
    }

    /// The ids as positive integers.
    pub fn comment_ids(ids: &[serde_json::Value]) -> Result<Vec<i64>, FieldError> {
        ids.iter()
            .map(|v| v.as_i64().filter(|n| *n > 0))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                FieldError::new("ids", "invalid", "must contain positive integer ids only")
            })
    }
}

/// One id's outcome in a bulk decision.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BulkDecisionResult {
    pub id: i64,
    pub ok: bool,
    /// When `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_status: Option<crate::domain::Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<crate::domain::Status>,
    /// When not `ok`: why (`not_found`, `status_changed`, `invalid_transition`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<BulkDecisionError>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct BulkDecisionError {
    pub code: String,
    pub message: String,
}

/// Answer to a bulk decision: one result per id, in the order sent.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BulkDecisionResponse {
    pub results: Vec<BulkDecisionResult>,
}

/// `ids` of a bulk decision: 1..=500 positive comment ids.
fn comment_ids() -> utoipa::openapi::Array {
    use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Type};
    let id = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1));
    ArrayBuilder::new()
        .items(id)
        .min_items(Some(1))
        .max_items(Some(500))
        .build()
}

/// Body of an author standing change; name the author by key or by one of their comments.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuthorStandingRequest {
    pub author_key: Option<String>,
    pub comment_id: Option<i64>,
    #[schema(
        required = true,
        nullable = false,
        value_type = String,
        pattern = "^(ban|unban|premoderate|unpremoderate)$"
    )]
    pub action: Option<String>,
    pub reason: Option<String>,
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

impl RequestFields for AuthorStandingRequest {
    const FIELDS: &'static [(&'static str, &'static str)] = &[
        ("author_key", "a string"),
        ("comment_id", "an integer"),
        ("action", "a string"),
        ("reason", "a string"),
        ("note", "a string"),
    ];
}

/// A checked author standing change.
pub struct AuthorStandingChange {
    pub author: AuthorRef,
    pub action: AuthorAction,
    pub reason: Option<String>,
    pub note: Option<String>,
}

impl AuthorStandingRequest {
    pub fn validate(&self) -> Result<AuthorStandingChange, FieldError> {
        let action = self
            .action
            .as_deref()
            .ok_or_else(|| FieldError::new("action", "required", "is required"))
            .and_then(AuthorAction::parse)?;
        // The author is named by key, or by one of their comments.
        let author = match (&self.author_key, self.comment_id) {
            (Some(k), _) => AuthorRef::Key(k.clone()),
            (None, Some(id)) => AuthorRef::Comment(id),
            (None, None) => {
                return Err(FieldError::new(
                    "author_key",
                    "required",
                    "author_key or comment_id is required",
                ));
            }
        };
        Ok(AuthorStandingChange {
            author,
            action,
            reason: self.reason.clone(),
            note: parse_note(self.note.as_deref())?,
        })
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

/// Every API error: `{"error": {"code", "message", "field"}}`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// A page of `GET /api/v1/moderation/webhooks/deliveries`, newest first.
#[derive(Serialize, ToSchema)]
pub struct DeliveriesPage {
    pub deliveries: Vec<crate::store::outbox::Delivery>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<i64>,
}

/// `comment` of a Perspective request.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PerspectiveText {
    /// Not empty (white space alone is scored), at most `perspective.max_text_bytes` bytes
    /// of UTF-8 (20,480 by default).
    #[schema(min_length = 1)]
    pub text: String,
    /// `PLAIN_TEXT` (the default, as is `TEXT_TYPE_UNSPECIFIED`); `HTML` is refused.
    #[serde(rename = "type")]
    pub kind: Option<PerspectiveTextType>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
pub enum PerspectiveTextType {
    TEXT_TYPE_UNSPECIFIED,
    PLAIN_TEXT,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
pub enum PerspectiveScoreType {
    SCORE_TYPE_UNSPECIFIED,
    PROBABILITY,
}

/// Options of one requested attribute.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PerspectiveAttributeParameters {
    pub score_type: Option<PerspectiveScoreType>,
    /// Scores below it are left out of the response (a string holding a number is
    /// accepted too, as in proto3 JSON).
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub score_threshold: Option<f32>,
}

/// The attributes to score (at least one) and their options (null for none). Names are
/// read in any case, with a version suffix (`TOXICITY@6`) or `_EXPERIMENTAL`;
/// `SEXUALLY_EXPLICIT` and `OBSCENE` read `obscene`, `ATTACK_ON_AUTHOR` and
/// `ATTACK_ON_COMMENTER` read `insult` (docs/perspective.md).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestedAttributes {
    #[serde(rename = "TOXICITY")]
    pub toxicity: Option<PerspectiveAttributeParameters>,
    #[serde(rename = "SEVERE_TOXICITY")]
    pub severe_toxicity: Option<PerspectiveAttributeParameters>,
    #[serde(rename = "IDENTITY_ATTACK")]
    pub identity_attack: Option<PerspectiveAttributeParameters>,
    #[serde(rename = "INSULT")]
    pub insult: Option<PerspectiveAttributeParameters>,
    #[serde(rename = "PROFANITY")]
    pub profanity: Option<PerspectiveAttributeParameters>,
    #[serde(rename = "THREAT")]
    pub threat: Option<PerspectiveAttributeParameters>,
}

/// Languages the shipped models read; any BCP 47 tag of them (`en-US`) is accepted as long
/// as one of the request's languages is. A hint: the text's script decides first.
/// Body of `POST /v1alpha1/comments:analyze` (Perspective's AnalyzeCommentRequest; the
/// snake_case field names are accepted too, unknown fields are ignored).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeCommentRequest {
    pub comment: PerspectiveText,
    pub requested_attributes: RequestedAttributes,
    /// Detected from the text when absent or empty.
    pub languages: Option<Vec<crate::domain::Language>>,
    pub do_not_store: Option<bool>,
    /// Score each sentence as well.
    pub span_annotations: Option<bool>,
    /// Echoed in the response.
    pub client_token: Option<String>,
    /// Leave out requested attributes modgate does not score instead of failing.
    pub drop_unsupported_attributes: Option<bool>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PerspectiveScore {
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub value: f32,
    /// Always `PROBABILITY`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A span's score; offsets are UTF-16 code units into `comment.text`, end exclusive.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PerspectiveSpanScore {
    pub begin: usize,
    pub end: usize,
    pub score: PerspectiveScore,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PerspectiveAttributeScores {
    /// Absent when empty.
    pub span_scores: Option<Vec<PerspectiveSpanScore>>,
    pub summary_score: PerspectiveScore,
}

/// Answer of `comments:analyze`.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeCommentResponse {
    /// Per requested attribute key, as sent; `{}` when every score fell below its
    /// threshold.
    pub attribute_scores: std::collections::BTreeMap<String, PerspectiveAttributeScores>,
    pub languages: Vec<String>,
    pub detected_languages: Vec<String>,
    pub client_token: Option<String>,
}

/// Body of `POST /v1alpha1/comments:suggestscore` (Perspective's
/// SuggestCommentScoreRequest), stored as labelled feedback.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestCommentScoreRequest {
    pub comment: PerspectiveText,
    /// Attribute name → `{"summaryScore": {"value": 0..=1}}`, at least one; names are kept
    /// as sent. Coral Talk sends its model name (`TOXICITY`) with 0 when a moderator
    /// approved the comment and 1 when they rejected it, and `clientToken: "comment:<id>"`.
    #[schema(schema_with = suggested_scores)]
    pub attribute_scores: std::collections::BTreeMap<String, serde_json::Value>,
    pub languages: Option<Vec<String>>,
    pub community_id: Option<String>,
    pub client_token: Option<String>,
    pub context: Option<serde_json::Value>,
}

/// Schema of `attributeScores` in a suggestscore request.
fn suggested_scores() -> utoipa::openapi::Object {
    use utoipa::openapi::{ObjectBuilder, Type};
    let value = ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(0.0))
        .maximum(Some(1.0));
    let summary = ObjectBuilder::new().property("value", value);
    let score = ObjectBuilder::new().property("summaryScore", summary);
    ObjectBuilder::new()
        .min_properties(Some(1))
        .additional_properties(Some(score))
        .build()
}

/// Answer of `comments:suggestscore`: the client token when one was sent.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestCommentScoreResponse {
    pub client_token: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PerspectiveErrorDetail {
    /// The HTTP status again.
    pub code: u16,
    pub message: String,
    /// Google status name: INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, ...
    pub status: String,
    /// `[{"@type": ..., "errorType": "COMMENT_EMPTY", ...}]` for invalid requests.
    pub details: Option<Vec<serde_json::Value>>,
}

/// Errors of the Perspective routes, in Google API style.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PerspectiveErrorBody {
    pub error: PerspectiveErrorDetail,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::http::json::parse_fields;

    fn rules() -> CommentRules<'static> {
        static REQUIRED: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
            vec!["article_id".into(), "author_name".into(), "body".into()]
        });
        CommentRules {
            max_chars: 1500,
            required_fields: &REQUIRED,
        }
    }

    fn comment(value: Value) -> Result<NewComment, FieldError> {
        parse_fields::<NewCommentRequest>(value)?.validate(rules())
    }

    #[test]
    fn parses_a_valid_comment_and_trims() {
        let c = comment(
            json!({"article_id": " a1 ", "parent_id": null, "author_name": " Ann ", "body": "  hi  "}),
        )
        .unwrap();
        assert_eq!(c.article_id.as_str(), "a1");
        assert_eq!(c.author_name, "Ann");
        assert_eq!(c.body, "hi");
        assert_eq!(c.parent_id, None);
    }

    #[test]
    fn rejects_each_bad_field() {
        let cases = [
            (json!(["not", "an", "object"]), "body", "invalid_type"),
            (
                json!({"author_name": "A", "body": "x"}),
                "article_id",
                "required",
            ),
            (
                json!({"article_id": 5, "author_name": "A", "body": "x"}),
                "article_id",
                "invalid_type",
            ),
            (
                json!({"article_id": "a", "body": "x"}),
                "author_name",
                "required",
            ),
            (
                json!({"article_id": "a", "author_name": "A", "body": "   "}),
                "body",
                "empty",
            ),
            (
                json!({"article_id": "a", "author_name": "A", "body": "x".repeat(1501)}),
                "body",
                "too_long",
            ),
            (
                json!({"article_id": "a", "author_name": "A", "body": "x", "parent_id": "1"}),
                "parent_id",
                "invalid_type",
            ),
            (
                json!({"article_id": "a", "author_name": "A", "body": "x", "parent_id": -3}),
                "parent_id",
                "invalid",
            ),
            (
                json!({"article_id": "a", "author_name": "A", "body": "x", "parent_id": 1.5}),
                "parent_id",
                "invalid",
            ),
            (
                json!({"article_id": "a", "author_name": "A", "body": "x", "author_email": "nope"}),
                "author_email",
                "invalid",
            ),
            (
                json!({"article_id": "a", "author_name": ["A"], "body": "x"}),
                "author_name",
                "invalid_type",
            ),
        ];
        for (input, field, code) in cases {
            let err = comment(input.clone()).unwrap_err();
            assert_eq!((err.field, err.code), (field, code), "input {input}");
        }
        let err = comment(json!({"article_id": "a", "author_name": "A", "body": 7})).unwrap_err();
        assert_eq!(err.message, "must be a string");
    }

    #[test]
    fn length_counts_scalar_values_not_bytes() {
        let body = "ж".repeat(1500);
        assert!(comment(json!({"article_id": "a", "author_name": "A", "body": body})).is_ok());
    }

    #[test]
    fn article_fields_tell_absent_from_null() {
        let update = parse_fields::<ArticleRequest>(json!({"title": null, "url": " u "}))
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(update.title, Some(None));
        assert_eq!(update.url, Some(Some("u".to_string())));
        assert_eq!(update.closed, None);
        for (input, field, code) in [
            (json!({"closed": null}), "closed", "invalid_type"),
            (json!({"closed": "yes"}), "closed", "invalid_type"),
            (json!({"title": 3}), "title", "invalid_type"),
            (json!({"url": "x".repeat(2001)}), "url", "too_long"),
        ] {
            let err = parse_fields::<ArticleRequest>(input.clone())
                .and_then(|r| r.validate())
                .unwrap_err();
            assert_eq!((err.field, err.code), (field, code), "input {input}");
        }
    }

    #[test]
    fn report_needs_a_known_reason() {
        let parse = |v: Value| {
            parse_fields::<ReportRequest>(v).and_then(|r| {
                r.validate()
                    .map(|(reason, note)| (reason.to_string(), note))
            })
        };
        assert_eq!(
            parse(json!({"reason": "spam", "note": " n "})).unwrap().0,
            "spam"
        );
        assert_eq!(parse(json!({})).unwrap_err().code, "required");
        assert_eq!(
            parse(json!({"reason": 1})).unwrap_err().code,
            "invalid_type"
        );
        assert_eq!(parse(json!({"reason": "meh"})).unwrap_err().field, "reason");
    }

    #[test]
    fn decisions_name_the_bad_field() {
        let bulk = |v: Value| {
            parse_fields::<BulkDecisionRequest>(v).and_then(|r| {
                let (_, ids) = r.validate()?;
                BulkDecisionRequest::comment_ids(ids)
            })
        };
        assert_eq!(
            bulk(json!({"ids": [1, 2], "action": "approve"})).unwrap(),
            [1, 2]
        );
        for (input, field, code) in [
            (json!({"ids": [1], "action": 5}), "action", "invalid_type"),
            (
                json!({"ids": "1", "action": "approve"}),
                "ids",
                "invalid_type",
            ),
            (json!({"ids": [], "action": "approve"}), "ids", "empty"),
            (json!({"action": "approve"}), "ids", "required"),
            (json!({"ids": [0], "action": "approve"}), "ids", "invalid"),
            (json!({"ids": [1], "action": "bless"}), "action", "invalid"),
        ] {
            let err = bulk(input.clone()).unwrap_err();
            assert_eq!((err.field, err.code), (field, code), "input {input}");
        }
        let author = |v: Value| parse_fields::<AuthorStandingRequest>(v).and_then(|r| r.validate());
        assert!(author(json!({"comment_id": 3, "action": "ban"})).is_ok());
        let err = author(json!({"comment_id": "3", "action": "ban"}))
            .err()
            .unwrap();
        assert_eq!((err.field, err.code), ("comment_id", "invalid_type"));
        let err = author(json!({"action": "ban"})).err().unwrap();
        assert_eq!((err.field, err.code), ("author_key", "required"));
    }
}
