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
use crate::config::perspective::PerspectiveConfig;
use crate::domain::Language;

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
    /// A number, or a string holding one (the proto3 JSON mapping allows both).
    #[serde(alias = "score_threshold")]
    score_threshold: Option<Value>,
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
    #[serde(alias = "drop_unsupported_attributes")]
    drop_unsupported_attributes: Option<bool>,
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
    /// The text's language as read with the request's languages as a hint
    /// ([`crate::scoring::language::detect_with_hint`]): it picks the model and scopes the
    /// rule lists, as the detected language does for comments.
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
    let value = crate::http::json::parse(body).map_err(|e| invalid_json(e.message))?;
    if !value.is_object() {
        return Err(invalid_json("The request body must be a JSON object."));
    }
    serde_json::from_value(value).map_err(invalid_json)
}

/// `comment.text` present, non-empty, plain text and within the size limit. Text of only
/// white space is scored, as Perspective does: it answers `COMMENT_EMPTY` for an empty or
/// missing text only, and Coral Talk skips only the empty string.
fn comment_text(
    comment: Option<TextEntry>,
    config: &PerspectiveConfig,
) -> Result<String, PerspectiveError> {
    let comment = comment.unwrap_or_default();
    let text = comment.text.unwrap_or_default();
    if text.is_empty() {
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
        None | Some("") | Some("PLAIN_TEXT") | Some("TEXT_TYPE_UNSPECIFIED") => Ok(text),
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

/// `scoreThreshold`: a number in [0, 1], or a string holding one.
fn score_threshold(key: &str, value: Option<Value>) -> Result<Option<f32>, PerspectiveError> {
    let number = match &value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    match number {
        Some(t) if (0.0..=1.0).contains(&t) => Ok(Some(t as f32)),
        _ => Err(PerspectiveError::invalid(
            "INVALID_REQUEST",
            format!(
                "requestedAttributes.{key}.scoreThreshold must be a number between 0 and 1, got {}",
                value.unwrap_or(Value::Null)
            ),
        )),
    }
}

/// What the request names: its attributes (unsupported ones dropped when the request
/// asks for that, as Perspective does with `dropUnsupportedAttributes`).
fn requested_attributes(
    requested: BTreeMap<String, Option<AttributeParameters>>,
    drop_unsupported: bool,
) -> Result<Vec<Requested>, PerspectiveError> {
    let mut attributes = Vec::with_capacity(requested.len());
    for (key, params) in requested {
        let Some(attribute) = Attribute::parse(&key) else {
            if drop_unsupported {
                continue;
            }
            return Err(PerspectiveError::invalid(
                "INVALID_REQUEST",
                format!(
                    "Unknown requested attribute: {key} (supported: {}; set dropUnsupportedAttributes to skip others)",
                    Attribute::ALL.map(Attribute::name).join(", ")
                ),
            ));
        };
        let params = params.unwrap_or_default();
        match params.score_type.as_deref() {
            None | Some("") | Some("PROBABILITY") | Some("SCORE_TYPE_UNSPECIFIED") => {}
            Some(other) => {
                return Err(PerspectiveError::invalid(
                    "INVALID_REQUEST",
                    format!("Requested score type {other} is not supported by attribute {key}"),
                ));
            }
        }
        let threshold = score_threshold(&key, params.score_threshold)?;
        attributes.push(Requested {
            key,
            attribute,
            threshold,
        });
    }
    Ok(attributes)
}

/// A checked `comments:analyze` request. `reads` says which languages the configured
/// models read; `config.languages`, when set, narrows them.
pub fn analyze(
    body: &[u8],
    config: &PerspectiveConfig,
    reads: &dyn Fn(Language) -> bool,
) -> Result<Analyze, PerspectiveError> {
    let raw: RawAnalyze = parse_body(body)?;
    let text = comment_text(raw.comment, config)?;

    let requested = raw.requested_attributes.unwrap_or_default();
    if requested.is_empty() {
        return Err(PerspectiveError::invalid(
            "NO_REQUESTED_ATTRIBUTES",
            "Missing requested_attributes",
        ));
    }
    let attributes =
        requested_attributes(requested, raw.drop_unsupported_attributes.unwrap_or(false))?;

    let supported = |l: Language| {
        reads(l) && (config.languages.is_empty() || config.languages.iter().any(|c| c == l.code()))
    };
    let sent: Vec<String> = raw.languages.unwrap_or_default();
    // Only languages that can be scored are hints: ["de", "en"] to an English-only model
    // reads unclear text as English.
    let hints: Vec<Language> = sent
        .iter()
        .filter_map(|l| Language::parse(l))
        .filter(|&l| supported(l))
        .collect();
    let language = crate::scoring::language::detect_with_hint(&text, &hints);
    // Perspective always reports a language; text without letters (emoji) counts as English.
    let detected = vec![language.map_or("en", Language::code).to_string()];
    let languages = if sent.is_empty() {
        detected.clone()
    } else {
        sent.clone()
    };
    // Perspective checks the text in every requested language it supports, and fails
    // only when it supports none of them; the text's own language must be readable too,
    // so Cyrillic text sent as "en" never reaches a model that reads only English.
    let hint_ok = sent.is_empty() || !hints.is_empty();
    let text_ok = language.is_none_or(supported);
    if !hint_ok || !text_ok {
        let first = attributes
            .first()
            .map_or("TOXICITY", |a| a.key.as_str())
            .to_string();
        let shown = if hint_ok { &detected } else { &sent };
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
        language,
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
    // Attribute names are kept as sent (Coral Talk sends its model name, TOXICITY, with 0
    // for a comment its moderators approved and 1 for one they rejected); values must be
    // score objects with probabilities in [0, 1].
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

    fn every_language(_: Language) -> bool {
        true
    }

    fn english_only(l: Language) -> bool {
        l == Language::En
    }

    fn parse(body: &str) -> Result<Analyze, PerspectiveError> {
        analyze(body.as_bytes(), &config(), &every_language)
    }

    fn err(body: &str) -> PerspectiveError {
        parse(body).unwrap_err()
    }

    #[test]
    fn documented_request_parses() {
        let a = parse(
            r#"{"comment": {"text": "What kind of idiot name is foo?"}, "languages": ["en"],
                 "requestedAttributes": {"TOXICITY": {}, "INSULT": {"scoreThreshold": 0.5}}}"#,
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
        let a = parse(
            r#"{"comment": {"text": "hi"}, "requested_attributes": {"TOXICITY": null},
                 "do_not_store": true, "span_annotations": true, "client_token": "t"}"#,
        )
        .unwrap();
        assert!(a.do_not_store && a.span_annotations);
        assert_eq!(a.client_token.as_deref(), Some("t"));
    }

    #[test]
    fn unspecified_enums_strings_and_white_space_mean_the_defaults() {
        let a = parse(
            r#"{"comment": {"text": " \u00a0 ", "type": "TEXT_TYPE_UNSPECIFIED"},
                 "requestedAttributes": {"toxicity": {"scoreType": "SCORE_TYPE_UNSPECIFIED", "scoreThreshold": "0.25"}}}"#,
        )
        .unwrap();
        assert_eq!(a.text, " \u{a0} ");
        assert_eq!(a.attributes[0].key, "toxicity", "echoed as sent");
        assert_eq!(a.attributes[0].threshold, Some(0.25));
        let e = err(
            r#"{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": "high"}}}"#,
        );
        assert_eq!(
            e.message,
            "requestedAttributes.TOXICITY.scoreThreshold must be a number between 0 and 1, got \"high\""
        );
    }

    #[test]
    fn unsupported_attributes_are_dropped_when_asked() {
        let a = parse(
            r#"{"comment": {"text": "hi"}, "dropUnsupportedAttributes": true,
                 "requestedAttributes": {"FLIRTATION": {}, "SEXUALLY_EXPLICIT": {}, "TOXICITY_EXPERIMENTAL": {}}}"#,
        )
        .unwrap();
        let got: Vec<(&str, Attribute)> = a
            .attributes
            .iter()
            .map(|r| (r.key.as_str(), r.attribute))
            .collect();
        assert_eq!(
            got,
            [
                ("SEXUALLY_EXPLICIT", Attribute::Profanity),
                ("TOXICITY_EXPERIMENTAL", Attribute::Toxicity)
            ]
        );
        let e = err(r#"{"comment": {"text": "hi"}, "requestedAttributes": {"FLIRTATION": {}}}"#);
        assert!(
            e.message
                .starts_with("Unknown requested attribute: FLIRTATION"),
            "{}",
            e.message
        );
    }

    #[test]
    fn errors_carry_perspective_messages_and_types() {
        let e = err(r#"{"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}"#);
        assert_eq!(
            (e.message.as_str(), e.error_type),
            ("Comment must be non-empty.", Some("COMMENT_EMPTY"))
        );
        let e = err(r#"{"comment": {}, "requestedAttributes": {"TOXICITY": {}}}"#);
        assert_eq!(e.error_type, Some("COMMENT_EMPTY"));
        let e = err(r#"{"comment": {"text": "hi"}}"#);
        assert_eq!(e.error_type, Some("NO_REQUESTED_ATTRIBUTES"));
        let e = err(
            r#"{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["ja", "zh"]}"#,
        );
        assert_eq!(
            e.message,
            "Attribute TOXICITY does not support request languages: ja, zh"
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
    fn the_languages_coral_sends_are_accepted_and_are_hints() {
        for lang in ["en", "es", "fr", "de", "pt"] {
            let body = format!(
                r#"{{"comment": {{"text": "idiota"}}, "requestedAttributes": {{"TOXICITY": {{}}}}, "languages": ["{lang}"]}}"#
            );
            let a = parse(&body).unwrap();
            assert_eq!(a.languages, [lang]);
            assert_eq!(a.language.map(Language::code), Some(lang), "hinted");
        }
        // Coral sends "en" for Russian: the script decides.
        let a = parse(
            r#"{"comment": {"text": "Ты дурак"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["en"]}"#,
        )
        .unwrap();
        assert_eq!(a.language, Some(Language::Ru));
        assert_eq!(a.detected, ["ru"]);
        assert_eq!(a.languages, ["en"]);
    }

    #[test]
    fn languages_the_models_cannot_read_are_refused() {
        let english = |body: &str| analyze(body.as_bytes(), &config(), &english_only);
        let e = english(
            r#"{"comment": {"text": "Ты дурак"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["en"]}"#,
        )
        .unwrap_err();
        assert_eq!(e.error_type, Some("LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"));
        assert_eq!(
            e.message,
            "Attribute TOXICITY does not support request languages: ru"
        );
        let e = english(
            r#"{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["de"]}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Attribute TOXICITY does not support request languages: de"
        );
        assert!(english(r#"{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["de", "en-US"]}"#).is_ok());
        // `[perspective] languages` narrows what the models read.
        let narrow = PerspectiveConfig {
            languages: vec!["en".into()],
            ..config()
        };
        assert!(
            analyze(
                br#"{"comment": {"text": "Eres un idiota y te odio"}, "requestedAttributes": {"TOXICITY": {}}}"#,
                &narrow,
                &every_language
            )
            .is_err()
        );
    }
}
