//! Perspective request bodies, parsed and checked in the order Perspective reports
//! problems, with its messages (see its "Limits and errors" documentation).
//!
//! Field names follow the proto3 JSON mapping: lowerCamelCase, and the original
//! snake_case names are accepted too. Unknown fields are ignored.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::attributes::Attribute;
use super::error::PerspectiveError;
use super::language;
use crate::config::perspective::PerspectiveConfig;
use crate::scoring::language::Language;

#[derive(Debug, Default, Deserialize)]
struct TextEntry {
    text: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttributeParameters {
    #[serde(alias = "score_type")]
    score_type: Option<String>,
    #[serde(alias = "score_threshold")]
    score_threshold: Option<f32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAnalyze {
    comment: Option<TextEntry>,
    #[serde(alias = "requested_attributes")]
    requested_attributes: Option<BTreeMap<String, Option<AttributeParameters>>>,
    languages: Option<Vec<String>>,
    #[serde(alias = "do_not_store")]
    do_not_store: Option<bool>,
    #[serde(alias = "span_annotations")]
    span_annotations: Option<bool>,
    #[serde(alias = "client_token")]
    client_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSuggest {
    comment: Option<TextEntry>,
    #[serde(alias = "attribute_scores")]
    attribute_scores: Option<Value>,
    languages: Option<Vec<String>>,
    #[serde(alias = "community_id")]
    community_id: Option<String>,
    #[serde(alias = "client_token")]
    client_token: Option<String>,
    context: Option<Value>,
}

/// One requested attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Requested {
    /// The key as sent (echoed in the response, version suffix included).
    pub key: String,
    pub attribute: Attribute,
    pub threshold: Option<f32>,
}

/// A checked `comments:analyze` request.
#[derive(Debug, Clone, PartialEq)]
pub struct Analyze {
    pub text: String,
    pub attributes: Vec<Requested>,
    /// Echoed as `languages`: the request's, or the detected one.
    pub languages: Vec<String>,
    /// `detectedLanguages`: the detected language's code (`en` for text without letters).
    pub detected: Vec<String>,
    /// The detected language, which scopes the rule lists as for comments.
    pub language: Option<Language>,
    pub do_not_store: bool,
    pub span_annotations: bool,
    pub client_token: Option<String>,
}

/// A checked `comments:suggestscore` request.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggest {
    pub text: String,
    pub attribute_scores: Value,
    pub languages: Option<Vec<String>>,
    pub community_id: Option<String>,
    pub client_token: Option<String>,
    pub context: Option<Value>,
}

fn invalid_json(detail: impl std::fmt::Display) -> PerspectiveError {
    PerspectiveError::invalid(
        "INVALID_REQUEST",
        format!("Invalid JSON payload received. {detail}"),
    )
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, PerspectiveError> {
    // The shared parser refuses invalid UTF-8 and over-deep nesting before serde sees it.
    let value = crate::api::json::parse(body).map_err(|e| invalid_json(e.message))?;
    if !value.is_object() {
        return Err(invalid_json("The request body must be a JSON object."));
    }
    serde_json::from_value(value).map_err(invalid_json)
}

/// `comment.text` present, non-empty, plain text and within the size limit.
fn comment_text(
    comment: Option<TextEntry>,
    config: &PerspectiveConfig,
) -> Result<String, PerspectiveError> {
    let comment = comment.unwrap_or_default();
    let text = comment.text.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(PerspectiveError::invalid(
            "COMMENT_EMPTY",
            "Comment must be non-empty.",
        ));
    }
    if text.len() > config.max_text_bytes {
        return Err(PerspectiveError::invalid(
            "COMMENT_TOO_LONG",
            "Comment text too long.",
        ));
    }
    match comment.kind.as_deref() {
        None | Some("") | Some("PLAIN_TEXT") => Ok(text),
        Some("HTML") => Err(PerspectiveError::invalid(
            "INVALID_REQUEST",
            "Currently, only 'PLAIN_TEXT' comments are supported",
        )),
        Some(_) => Err(PerspectiveError::invalid(
            "INVALID_REQUEST",
            "Unknown text type",
        )),
    }
}

pub fn analyze(body: &[u8], config: &PerspectiveConfig) -> Result<Analyze, PerspectiveError> {
    let raw: RawAnalyze = parse_body(body)?;
    let text = comment_text(raw.comment, config)?;

    let requested = raw.requested_attributes.unwrap_or_default();
    if requested.is_empty() {
        return Err(PerspectiveError::invalid(
            "NO_REQUESTED_ATTRIBUTES",
            "Missing requested_attributes",
        ));
    }
    let mut attributes = Vec::with_capacity(requested.len());
    for (key, params) in requested {
        let attribute = Attribute::parse(&key).ok_or_else(|| {
            PerspectiveError::invalid(
                "INVALID_REQUEST",
                format!("Unknown requested attribute: {key}"),
            )
        })?;
        let params = params.unwrap_or_default();
        match params.score_type.as_deref() {
            None | Some("") | Some("PROBABILITY") => {}
            Some(other) => {
                return Err(PerspectiveError::invalid(
                    "INVALID_REQUEST",
                    format!("Requested score type {other} is not supported by attribute {key}"),
                ));
            }
        }
        attributes.push(Requested {
            key,
            attribute,
            threshold: params.score_threshold,
        });
    }

    let detected_language = crate::scoring::language::detect(&text);
    // Perspective always reports a language; text without letters (emoji) counts as English.
    let detected = vec![detected_language.map_or("en", Language::code).to_string()];
    let sent: Vec<String> = raw.languages.unwrap_or_default();
    let (languages, checked): (Vec<String>, Vec<String>) = if sent.is_empty() {
        (detected.clone(), detected.clone())
    } else {
        let normalized = sent.iter().map(|l| language::normalize(l)).collect();
        (sent.clone(), normalized)
    };
    // Perspective checks the text in every requested language it supports, and fails
    // only when it supports none of them.
    if !checked.iter().any(|l| config.languages.contains(l)) {
        let first = &attributes[0].key;
        let shown = if sent.is_empty() { &detected } else { &sent };
        return Err(PerspectiveError::invalid(
            "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
            format!(
                "Attribute {first} does not support request languages: {}",
                shown.join(", ")
            ),
        )
        .with_detail(
            "languageNotSupportedByAttributeError",
            serde_json::json!({
                "attribute": first,
                "requestedLanguages": sent,
                "detectedLanguages": detected,
            }),
        ));
    }

    Ok(Analyze {
        text,
        attributes,
        languages,
        detected,
        language: detected_language,
        do_not_store: raw.do_not_store.unwrap_or(false),
        span_annotations: raw.span_annotations.unwrap_or(false),
        client_token: raw.client_token,
    })
}

pub fn suggest(body: &[u8], config: &PerspectiveConfig) -> Result<Suggest, PerspectiveError> {
    let raw: RawSuggest = parse_body(body)?;
    let text = comment_text(raw.comment, config)?;
    let scores = match raw.attribute_scores {
        Some(Value::Object(m)) if !m.is_empty() => m,
        _ => {
            return Err(PerspectiveError::invalid(
                "INVALID_REQUEST",
                "Missing attribute_scores",
            ));
        }
    };
    // Attribute names are kept as sent (platforms send their own labels, e.g. Coral's
    // APPROVED/DELETED); values must be score objects with probabilities in [0, 1].
    for (name, value) in &scores {
        let summary = value
            .get("summaryScore")
            .or_else(|| value.get("summary_score"));
        let ok = value.is_object()
            && summary.is_none_or(|s| {
                s.get("value")
                    .is_none_or(|v| v.as_f64().is_some_and(|v| (0.0..=1.0).contains(&v)))
            });
        if !ok {
            return Err(PerspectiveError::invalid(
                "INVALID_REQUEST",
                format!(
                    "Invalid score for attribute {name}: summaryScore.value must be a number in [0, 1]"
                ),
            ));
        }
    }
    Ok(Suggest {
        text,
        attribute_scores: Value::Object(scores),
        languages: raw.languages.filter(|l| !l.is_empty()),
        community_id: raw.community_id,
        client_token: raw.client_token,
        context: raw.context,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> PerspectiveConfig {
        PerspectiveConfig::default()
    }

    fn err(body: &str) -> PerspectiveError {
        analyze(body.as_bytes(), &config()).unwrap_err()
    }

    #[test]
    fn documented_request_parses() {
        let a = analyze(
            br#"{"comment": {"text": "What kind of idiot name is foo?"}, "languages": ["en"],
                 "requestedAttributes": {"TOXICITY": {}, "INSULT": {"scoreThreshold": 0.5}}}"#,
            &config(),
        )
        .unwrap();
        assert_eq!(a.attributes.len(), 2);
        assert_eq!(a.attributes[0].attribute, Attribute::Insult);
        assert_eq!(a.attributes[0].threshold, Some(0.5));
        assert_eq!(a.languages, ["en"]);
        assert!(!a.do_not_store && !a.span_annotations);
    }

    #[test]
    fn snake_case_names_are_accepted() {
        let a = analyze(
            br#"{"comment": {"text": "hi"}, "requested_attributes": {"TOXICITY": null},
                 "do_not_store": true, "span_annotations": true, "client_token": "t"}"#,
            &config(),
        )
        .unwrap();
        assert!(a.do_not_store && a.span_annotations);
        assert_eq!(a.client_token.as_deref(), Some("t"));
    }

    #[test]
    fn errors_carry_perspective_messages_and_types() {
        let e = err(r#"{"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}"#);
        assert_eq!(
            (e.message.as_str(), e.error_type),
            ("Comment must be non-empty.", Some("COMMENT_EMPTY"))
        );
        let e = err(r#"{"comment": {"text": "hi"}}"#);
        assert_eq!(e.error_type, Some("NO_REQUESTED_ATTRIBUTES"));
        let e = err(r#"{"comment": {"text": "hi"}, "requestedAttributes": {"FLIRTATION": {}}}"#);
        assert_eq!(e.message, "Unknown requested attribute: FLIRTATION");
        let e = err(
            r#"{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["de", "fr"]}"#,
        );
        assert_eq!(
            e.message,
            "Attribute TOXICITY does not support request languages: de, fr"
        );
        let e = err(
            r#"{"comment": {"text": "hi", "type": "HTML"}, "requestedAttributes": {"TOXICITY": {}}}"#,
        );
        assert_eq!(
            e.message,
            "Currently, only 'PLAIN_TEXT' comments are supported"
        );
        let e = err(
            r#"{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreType": "STD_DEV_SCORE"}}}"#,
        );
        assert_eq!(
            e.message,
            "Requested score type STD_DEV_SCORE is not supported by attribute TOXICITY"
        );
        let e = err(r#"{"comment": {"text": 5}, "requestedAttributes": {"TOXICITY": {}}}"#);
        assert!(
            e.message.starts_with("Invalid JSON payload received."),
            "{}",
            e.message
        );
    }

    #[test]
    fn one_supported_language_is_enough() {
        let a = analyze(
            br#"{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["de", "en-US"]}"#,
            &config(),
        )
        .unwrap();
        assert_eq!(a.languages, ["de", "en-US"]);
    }
}
