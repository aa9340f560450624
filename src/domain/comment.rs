//! A new comment as posted by a reader.

use serde_json::{Map, Value};

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

impl NewComment {
    /// Key identifying an author for standing and history: the e-mail when given, else the name.
    pub fn author_key(&self) -> String {
        author_key(&self.author_name, self.author_email.as_deref())
    }

    /// Parse the JSON body of `POST /api/v1/comments`.
    pub fn parse(value: &Value, cfg: CommentRules<'_>) -> Result<NewComment, FieldError> {
        let obj = value.as_object().ok_or_else(|| {
            FieldError::new("body", "invalid_type", "request body must be a JSON object")
        })?;
        let required = |f: &str| cfg.required_fields.iter().any(|r| r == f);

        let article_raw = string_field(obj, "article_id", true)?;
        let article_id = ArticleId::parse("article_id", article_raw.unwrap_or_default())?;

        let parent_id = match obj.get("parent_id") {
            None | Some(Value::Null) if required("parent_id") => {
                return Err(FieldError::new("parent_id", "required", "is required"));
            }
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_i64() {
                Some(id) if id > 0 => Some(id),
                _ => {
                    return Err(FieldError::new(
                        "parent_id",
                        "invalid",
                        "must be a positive integer comment id or null",
                    ));
                }
            },
            Some(_) => {
                return Err(FieldError::new(
                    "parent_id",
                    "invalid_type",
                    "must be an integer or null",
                ));
            }
        };

        let author_name = match string_field(obj, "author_name", required("author_name"))? {
            Some(name) => parse_author_name(name)?,
            None => ANONYMOUS.to_string(),
        };

        let author_email = match string_field(obj, "author_email", required("author_email"))? {
            Some(email) => Some(parse_email(email)?),
            None => None,
        };

        let body_raw = string_field(obj, "body", true)?.unwrap_or_default();
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

/// A string field; `Ok(None)` when absent/null/blank and not required.
fn string_field<'a>(
    obj: &'a Map<String, Value>,
    field: &'static str,
    required: bool,
) -> Result<Option<&'a str>, FieldError> {
    match obj.get(field) {
        None | Some(Value::Null) => {
            if required {
                Err(FieldError::new(field, "required", "is required"))
            } else {
                Ok(None)
            }
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            if required {
                Err(FieldError::new(field, "empty", "must not be empty"))
            } else {
                Ok(None)
            }
        }
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(FieldError::new(field, "invalid_type", "must be a string")),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg() -> CommentRules<'static> {
        static REQUIRED: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
            vec!["article_id".into(), "author_name".into(), "body".into()]
        });
        CommentRules {
            max_chars: 1500,
            required_fields: &REQUIRED,
        }
    }

    #[test]
    fn parses_a_valid_comment_and_trims() {
        let c = NewComment::parse(
            &json!({"article_id": " a1 ", "parent_id": null, "author_name": " Ann ", "body": "  hi  "}),
            cfg(),
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
                json!({"article_id": "a", "author_name": "A", "body": "x", "author_email": "nope"}),
                "author_email",
                "invalid",
            ),
        ];
        for (input, field, code) in cases {
            let err = NewComment::parse(&input, cfg()).unwrap_err();
            assert_eq!((err.field, err.code), (field, code), "input {input}");
        }
    }

    #[test]
    fn length_counts_scalar_values_not_bytes() {
        let body = "ж".repeat(1500);
        assert!(
            NewComment::parse(
                &json!({"article_id": "a", "author_name": "A", "body": body}),
                cfg()
            )
            .is_ok()
        );
    }
}
