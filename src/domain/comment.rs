//! A new comment as posted by a reader.

use super::text::{self, Lines};
use super::{ArticleId, FieldError, has_control};

pub const ANONYMOUS: &str = "Anonymous";

/// What a site requires of a new comment (`[comments]` in `config.toml`).
#[derive(Debug, Clone, Copy)]
pub struct CommentRules<'a> {
    /// Maximum body length in Unicode scalar values, after trimming.
    pub max_chars: usize,
    /// Fields that must be present and non-empty.
    pub required_fields: &'a [String],
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewComment {
    pub article_id: ArticleId,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_email: Option<String>,
    pub body: String,
}

/// A comment's fields as sent, before any check (absent and null are both `None`).
#[derive(Debug, Clone, Copy, Default)]
pub struct RawComment<'a> {
    pub article_id: Option<&'a str>,
    /// Any JSON number: a fraction or a negative one is refused as `invalid`.
    pub parent_id: Option<&'a serde_json::Number>,
    pub author_name: Option<&'a str>,
    pub author_email: Option<&'a str>,
    pub body: Option<&'a str>,
}

impl NewComment {
    /// Key identifying an author for standing and history: the e-mail when given, else the name.
    pub fn author_key(&self) -> String {
        author_key(&self.author_name, self.author_email.as_deref())
    }

    /// Check the fields of `POST /api/v1/comments` as sent (`api::types::NewCommentRequest`
    /// reads them from JSON), each error naming its field.
    pub fn parse(raw: RawComment<'_>, cfg: CommentRules<'_>) -> Result<NewComment, FieldError> {
        let required = |f: &str| cfg.required_fields.iter().any(|r| r == f);

        let article_raw = text_field(raw.article_id, "article_id", true)?;
        let article_id = ArticleId::parse("article_id", article_raw.unwrap_or_default())?;

        let parent_id = match raw.parent_id {
            None if required("parent_id") => {
                return Err(FieldError::new("parent_id", "required", "is required"));
            }
            None => None,
            Some(n) => match n.as_i64() {
                Some(id) if id > 0 => Some(id),
                _ => {
                    return Err(FieldError::new(
                        "parent_id",
                        "invalid",
                        "must be a positive integer comment id or null",
                    ));
                }
            },
        };

        let author_name = match text_field(raw.author_name, "author_name", required("author_name"))?
        {
            Some(name) => parse_author_name(name)?,
            None => ANONYMOUS.to_string(),
        };

        let author_email =
            match text_field(raw.author_email, "author_email", required("author_email"))? {
                Some(email) => Some(parse_email(email)?),
                None => None,
            };

        let body_raw = text_field(raw.body, "body", true)?.unwrap_or_default();
        let body = parse_body(body_raw, cfg.max_chars)?;

        Ok(NewComment {
            article_id,
            parent_id,
            author_name,
            author_email,
            body,
        })
    }
}

pub fn author_key(name: &str, email: Option<&str>) -> String {
    match email {
        Some(e) => format!("email:{}", e.to_lowercase()),
        None => format!("name:{}", name.to_lowercase()),
    }
}

/// A text field; `Ok(None)` when absent/null/blank and not required.
fn text_field<'a>(
    value: Option<&'a str>,
    field: &'static str,
    required: bool,
) -> Result<Option<&'a str>, FieldError> {
    match value {
        None if required => Err(FieldError::new(field, "required", "is required")),
        None => Ok(None),
        Some(s) if s.trim().is_empty() => {
            if required {
                Err(FieldError::new(field, "empty", "must not be empty"))
            } else {
                Ok(None)
            }
        }
        Some(s) => Ok(Some(s)),
    }
}

fn parse_author_name(raw: &str) -> Result<String, FieldError> {
    text::clean("author_name", raw, 100, Lines::One)?
        .ok_or_else(|| FieldError::new("author_name", "empty", "must not be empty"))
}

fn parse_email(raw: &str) -> Result<String, FieldError> {
    let email = raw.trim();
    let valid = email.len() <= 254
        && !has_control(email)
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(email.to_string())
    } else {
        Err(FieldError::new(
            "author_email",
            "invalid",
            "must be an e-mail address like name@example.org",
        ))
    }
}

/// Trim and check length in Unicode scalar values.
/// A comment body: 1..=`max_chars` scalar values with something visible (see
/// [`text::clean`]).
pub fn parse_body(raw: &str, max_chars: usize) -> Result<String, FieldError> {
    text::clean("body", raw, max_chars, Lines::Many)?
        .ok_or_else(|| FieldError::new("body", "empty", "must not be empty"))
}
