//! `GET /$discovery/rest?version=v1alpha1`: a Google API Discovery document for the
//! routes modgate serves, so Google's generated clients (Python `googleapiclient`, Node
//! `googleapis`) work against modgate by changing only their discovery URL. Its `rootUrl`
//! is this server as the client reached it (`Host`, and `X-Forwarded-Proto` for the
//! scheme behind a TLS proxy).
//!
//! It follows Perspective's own document (service `commentanalyzer`, version `v1alpha1`,
//! methods `commentanalyzer.comments.analyze` and `.suggestscore`), trimmed to the fields
//! modgate reads and answers.

use axum::Json;
use axum::extract::Query;
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::PerspectiveError;

pub const VERSION: &str = "v1alpha1";

#[derive(Deserialize)]
pub struct DiscoveryQuery {
    version: Option<String>,
}

pub async fn document(
    Query(query): Query<DiscoveryQuery>,
    headers: HeaderMap,
) -> Result<Json<Value>, PerspectiveError> {
    if let Some(version) = query.version.as_deref()
        && version != VERSION
    {
        return Err(PerspectiveError::not_found(format!(
            "No discovery document for version {version}; this server has {VERSION}."
        )));
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '"']))
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
    {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    Ok(Json(describe(&format!("{scheme}://{host}/"))))
}

/// The document for a server at `root_url` (ending in `/`).
pub fn describe(root_url: &str) -> Value {
    let string = |description: &str| json!({"type": "string", "description": description});
    let method = |name: &str, request: &str, response: &str, description: &str| {
        json!({
            "id": format!("commentanalyzer.comments.{name}"),
            "path": format!("{VERSION}/comments:{name}"),
            "flatPath": format!("{VERSION}/comments:{name}"),
            "httpMethod": "POST",
            "description": description,
            "parameters": {},
            "parameterOrder": [],
            "request": {"$ref": request},
            "response": {"$ref": response},
        })
    };
    json!({
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": format!("commentanalyzer:{VERSION}"),
        "name": "commentanalyzer",
        "canonicalName": "Comment Analyzer",
        "version": VERSION,
        "revision": env!("CARGO_PKG_VERSION"),
        "title": "Perspective Comment Analyzer API (modgate)",
        "description": "Perspective-compatible comment scoring served by modgate.",
        "ownerDomain": "modgate",
        "ownerName": "modgate",
        "protocol": "rest",
        "rootUrl": root_url,
        "servicePath": "",
        "baseUrl": root_url,
        "batchPath": "batch",
        "parameters": {
            "key": {
                "type": "string",
                "location": "query",
                "description": "API key from `modgate apikey add NAME` (or the X-Goog-Api-Key header)."
            },
            "alt": {
                "type": "string",
                "location": "query",
                "default": "json",
                "enum": ["json"],
                "enumDescriptions": ["Responses with Content-Type of application/json"],
                "description": "Data format for response."
            },
            "prettyPrint": {
                "type": "boolean",
                "location": "query",
                "default": "true",
                "description": "Accepted and ignored."
            },
            "fields": {
                "type": "string",
                "location": "query",
                "description": "Accepted and ignored: responses are whole."
            },
            "quotaUser": {
                "type": "string",
                "location": "query",
                "description": "Accepted and ignored."
            }
        },
        "schemas": {
            "TextEntry": {
                "id": "TextEntry",
                "type": "object",
                "properties": {
                    "text": string("UTF-8 text; at most `[perspective] max_text_bytes`."),
                    "type": {
                        "type": "string",
                        "enum": ["TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML"],
                        "description": "Only plain text is scored."
                    }
                }
            },
            "Context": {
                "id": "Context",
                "type": "object",
                "properties": {
                    "entries": {"type": "array", "items": {"$ref": "TextEntry"}},
                    "articleAndParentComment": {"type": "object", "additionalProperties": {"type": "any"}}
                }
            },
            "AttributeParameters": {
                "id": "AttributeParameters",
                "type": "object",
                "properties": {
                    "scoreType": {
                        "type": "string",
                        "enum": ["SCORE_TYPE_UNSPECIFIED", "PROBABILITY"]
                    },
                    "scoreThreshold": {"type": "number", "format": "float"}
                }
            },
            "AnalyzeCommentRequest": {
                "id": "AnalyzeCommentRequest",
                "type": "object",
                "properties": {
                    "comment": {"$ref": "TextEntry"},
                    "context": {"$ref": "Context"},
                    "requestedAttributes": {
                        "type": "object",
                        "additionalProperties": {"$ref": "AttributeParameters"}
                    },
                    "languages": {"type": "array", "items": {"type": "string"}},
                    "doNotStore": {"type": "boolean"},
                    "clientToken": {"type": "string"},
                    "sessionId": {"type": "string"},
                    "communityId": {"type": "string"},
                    "spanAnnotations": {"type": "boolean"},
                    "dropUnsupportedAttributes": {"type": "boolean"}
                }
            },
            "Score": {
                "id": "Score",
                "type": "object",
                "properties": {
                    "value": {"type": "number", "format": "float"},
                    "type": {"type": "string", "enum": ["PROBABILITY"]}
                }
            },
            "SpanScore": {
                "id": "SpanScore",
                "type": "object",
                "properties": {
                    "begin": {"type": "integer", "format": "int32", "description": "UTF-16 code units."},
                    "end": {"type": "integer", "format": "int32", "description": "UTF-16 code units."},
                    "score": {"$ref": "Score"}
                }
            },
            "AttributeScores": {
                "id": "AttributeScores",
                "type": "object",
                "properties": {
                    "summaryScore": {"$ref": "Score"},
                    "spanScores": {"type": "array", "items": {"$ref": "SpanScore"}}
                }
            },
            "AnalyzeCommentResponse": {
                "id": "AnalyzeCommentResponse",
                "type": "object",
                "properties": {
                    "attributeScores": {
                        "type": "object",
                        "additionalProperties": {"$ref": "AttributeScores"}
                    },
                    "languages": {"type": "array", "items": {"type": "string"}},
                    "detectedLanguages": {"type": "array", "items": {"type": "string"}},
                    "clientToken": {"type": "string"}
                }
            },
            "SuggestCommentScoreRequest": {
                "id": "SuggestCommentScoreRequest",
                "type": "object",
                "properties": {
                    "comment": {"$ref": "TextEntry"},
                    "context": {"$ref": "Context"},
                    "attributeScores": {
                        "type": "object",
                        "additionalProperties": {"$ref": "AttributeScores"}
                    },
                    "languages": {"type": "array", "items": {"type": "string"}},
                    "communityId": {"type": "string"},
                    "clientToken": {"type": "string"},
                    "sessionId": {"type": "string"}
                }
            },
            "SuggestCommentScoreResponse": {
                "id": "SuggestCommentScoreResponse",
                "type": "object",
                "properties": {
                    "clientToken": {"type": "string"},
                    "detectedLanguages": {"type": "array", "items": {"type": "string"}},
                    "requestedLanguages": {"type": "array", "items": {"type": "string"}}
                }
            }
        },
        "resources": {
            "comments": {
                "methods": {
                    "analyze": method(
                        "analyze",
                        "AnalyzeCommentRequest",
                        "AnalyzeCommentResponse",
                        "Analyzes the provided text and returns scores for requested attributes."
                    ),
                    "suggestscore": method(
                        "suggestscore",
                        "SuggestCommentScoreRequest",
                        "SuggestCommentScoreResponse",
                        "Suggest comment scores as training data (kept as moderator feedback)."
                    )
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_resolves_and_methods_point_at_served_routes() {
        let doc = describe("http://example.test/");
        let schemas = doc["schemas"].as_object().unwrap();
        let mut refs = Vec::new();
        fn collect(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        out.push(r.clone());
                    }
                    m.values().for_each(|v| collect(v, out));
                }
                Value::Array(a) => a.iter().for_each(|v| collect(v, out)),
                _ => {}
            }
        }
        collect(&doc, &mut refs);
        assert!(refs.len() > 10);
        for r in refs {
            assert!(schemas.contains_key(&r), "{r}");
        }
        let methods = doc["resources"]["comments"]["methods"].as_object().unwrap();
        let paths: Vec<&str> = methods
            .values()
            .map(|m| m["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            [
                "v1alpha1/comments:analyze",
                "v1alpha1/comments:suggestscore"
            ]
        );
    }
}
