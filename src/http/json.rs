//! A JSON body extractor whose failures use the API error shape and name the problem.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;
use crate::domain::FieldError;

/// Deepest nesting accepted in a request body; deeper documents are refused before parsing.
pub const MAX_JSON_DEPTH: usize = 32;

/// The request body parsed as a JSON value; [`parse_fields`] reads it into a request type.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                let mime = ct
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "request body is too large",
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.body_text())
            }
        })?;
        parse(&bytes).map(JsonBody)
    }
}

pub fn parse(bytes: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_utf8",
            format!(
                "request body is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ),
        )
    })?;
    if nesting_depth(text) > MAX_JSON_DEPTH {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "too_deep",
            format!("JSON nesting deeper than {MAX_JSON_DEPTH} levels"),
        ));
    }
    serde_json::from_str(text).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!(
                "malformed JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })
}

/// A request body type whose fields are known by name, with what each must be, so a
/// value of the wrong JSON type is reported on its field ("parent_id must be an integer
/// or null") rather than as a serde message.
pub trait RequestFields: DeserializeOwned {
    /// `(field, what it must be)`, e.g. `("body", "a string")`.
    const FIELDS: &'static [(&'static str, &'static str)];
}

/// Read a JSON value into a request type. A body that is not an object, or a field of the
/// wrong type, is a [`FieldError`] with code `invalid_type` naming the field; values are
/// checked afterwards by the type's own validation. Unknown fields are ignored.
pub fn parse_fields<T: RequestFields>(value: Value) -> Result<T, FieldError> {
    if !value.is_object() {
        return Err(FieldError::new(
            "body",
            "invalid_type",
            "must be a JSON object",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let first = e.path().iter().next().map(ToString::to_string);
        match T::FIELDS
            .iter()
            .find(|(name, _)| Some(*name) == first.as_deref())
        {
            Some((name, must_be)) => {
                FieldError::new(name, "invalid_type", format!("must be {must_be}"))
            }
            None => FieldError::new("body", "invalid", e.inner().to_string()),
        }
    })
}

/// Maximum bracket nesting, ignoring brackets inside strings.
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_strings() {
        assert_eq!(nesting_depth(r#"{"a": "[[[[{{{"}"#), 1);
        assert_eq!(nesting_depth(r#"[[[]]]"#), 3);
        assert_eq!(nesting_depth(r#"{"a": "\"[" , "b": [1]}"#), 2);
    }
}
