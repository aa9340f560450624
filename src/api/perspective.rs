//! A Perspective-compatible API (`commentanalyzer.googleapis.com/v1alpha1`), so platforms
//! written against Google's Perspective API (e.g. Coral Talk) can point their endpoint at
//! modgate: `POST /v1alpha1/comments:analyze` and `POST /v1alpha1/comments:suggestscore`,
//! authenticated by `?key=` (or `X-Goog-Api-Key`) with keys from `modgate apikey add`.
//!
//! Scores come from the same batched classifier as comment intake, raised by rule-list
//! hits ([`attributes::floors`]); requests are bounded in time and number so an overload
//! is answered with 429/503 instead of a hang.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{any, get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::app::AppState;
use crate::http::key_cache::KeyCache;
use crate::scoring::batcher::BatchError;
use crate::store::{apikeys, feedback};

pub mod attributes;
pub mod discovery;
pub mod error;
pub mod request;
pub mod sentences;

use attributes::{Floor, raise};
use error::PerspectiveError;
use request::Analyze;

/// Verified keys are remembered (by SHA-256 of the key) so argon2 runs once per key per
/// this long; revocation is still checked on every request.
const KEY_CACHE_TTL: Duration = Duration::from_secs(600);

/// State of these routes only: the key cache and the bound on requests in flight.
pub struct PerspectiveState {
    keys: KeyCache,
    in_flight: Semaphore,
}

impl PerspectiveState {
    pub fn new(max_concurrent: usize) -> PerspectiveState {
        PerspectiveState {
            keys: KeyCache::new(KEY_CACHE_TTL),
            in_flight: Semaphore::new(max_concurrent.max(1)),
        }
    }
}

pub fn router(app: &AppState) -> Router<AppState> {
    let config = &app.live().config.perspective;
    let shared = Arc::new(PerspectiveState::new(config.max_concurrent));
    let routes = Router::new()
        .route(
            "/v1alpha1/comments:analyze",
            post(analyze).fallback(method_not_allowed),
        )
        .route(
            "/v1alpha1/comments:suggestscore",
            post(suggest_score).fallback(method_not_allowed),
        )
        // A mistyped path under the API answers as Perspective would, not with our 404.
        .route("/v1alpha1/{*rest}", any(unknown_path))
        .route("/$discovery/rest", get(discovery::document))
        .layer(Extension(shared));
    match cors(&config.cors_origins) {
        Some(layer) => routes.layer(layer),
        None => routes,
    }
}

/// CORS for browser-side Perspective clients, when `[perspective] cors_origins` names any.
fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        // Checked by config validation.
        AllowOrigin::list(origins.iter().filter_map(|o| o.parse().ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
            .allow_headers([
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderName::from_static("x-goog-api-key"),
            ])
            .max_age(Duration::from_secs(3600)),
    )
}

async fn unknown_path(uri: axum::http::Uri) -> PerspectiveError {
    PerspectiveError::not_found(format!(
        "The requested URL {} was not found on this server.",
        uri.path()
    ))
}

async fn method_not_allowed(method: axum::http::Method) -> PerspectiveError {
    PerspectiveError::method_not_allowed(format!(
        "Method {method} is not allowed here; these routes take POST."
    ))
}

#[derive(Deserialize)]
struct KeyParam {
    key: Option<String>,
}

/// The API key's row id, from `?key=` or the `X-Goog-Api-Key` header.
async fn authenticate(
    app: &AppState,
    shared: &PerspectiveState,
    query: Result<Query<KeyParam>, QueryRejection>,
    headers: &HeaderMap,
) -> Result<i64, PerspectiveError> {
    let key = query
        .ok()
        .and_then(|Query(q)| q.key)
        .or_else(|| {
            headers
                .get("x-goog-api-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            PerspectiveError::unauthenticated("The request is missing a valid API key.")
        })?;
    let invalid =
        || PerspectiveError::permission_denied("API key not valid. Please pass a valid API key.");
    let digest = KeyCache::digest(&key);
    if let Some(id) = shared.keys.get(&digest) {
        // A cheap indexed read, so `modgate apikey revoke` applies at once.
        return match apikeys::is_active(app.store.reader(), id).await? {
            true => Ok(id),
            false => Err(invalid()),
        };
    }
    let found = apikeys::by_key(app.store.reader(), &key)
        .await?
        .ok_or_else(invalid)?;
    shared.keys.put(digest, found.id);
    Ok(found.id)
}

fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, PerspectiveError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            PerspectiveError::invalid("COMMENT_TOO_LONG", "Comment text too long.")
        } else {
            PerspectiveError::invalid("INVALID_REQUEST", e.body_text())
        }
    })
}

#[derive(Serialize)]
struct Score {
    value: f32,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl Score {
    fn probability(value: f32) -> Score {
        Score {
            value,
            kind: "PROBABILITY",
        }
    }
}

/// A span in UTF-16 code units, as Perspective's clients (JavaScript, Java, C#) index
/// strings.
#[derive(Serialize)]
struct SpanScore {
    begin: usize,
    end: usize,
    score: Score,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttributeScores {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    span_scores: Vec<SpanScore>,
    summary_score: Score,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AnalyzeResponse {
    /// Empty (`{}`) when every score fell below its `scoreThreshold`: a client reading
    /// `attributeScores[name]` gets nothing rather than a missing field.
    attribute_scores: BTreeMap<String, AttributeScores>,
    languages: Vec<String>,
    detected_languages: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_token: Option<String>,
}

/// Classifier scores for the whole text and each span, within the time budget, from the
/// model for `language`.
async fn classify(
    app: &AppState,
    texts: Vec<String>,
    language: Option<crate::domain::Language>,
    budget: Duration,
) -> Result<(Vec<crate::domain::Scores>, String), PerspectiveError> {
    // The lane's estimate covers the queue ahead and these texts themselves: over four
    // fifths of the budget (the rest is margin for the estimate), 429 at once.
    let languages = vec![language; texts.len()];
    let scored = app
        .batcher
        .score_many_in(texts, languages, Some(budget * 4 / 5));
    let scored = tokio::time::timeout(budget, scored)
        .await
        .map_err(|_| {
            PerspectiveError::unavailable(format!(
                "The service is currently unavailable: scoring took longer than {} ms.",
                budget.as_millis()
            ))
        })?
        .map_err(|e| match e {
            BatchError::Overloaded => {
                PerspectiveError::resource_exhausted("The scoring queue is full; retry shortly.")
            }
            other => {
                tracing::warn!(error = %other, "perspective request not scored");
                PerspectiveError::unavailable("The service is currently unavailable.")
            }
        })?;
    let model_id = scored
        .first()
        .map(|s| s.model_id.to_string())
        .unwrap_or_default();
    Ok((scored.into_iter().map(|s| s.scores).collect(), model_id))
}

/// `POST /v1alpha1/comments:analyze`.
#[utoipa::path(post, path = "/v1alpha1/comments:analyze", tag = "perspective",
    request_body = super::types::AnalyzeCommentRequest,
    security(("api_key" = []), ("api_key_header" = [])),
    responses(
        (status = 200, body = super::types::AnalyzeCommentResponse),
        (status = 400, description = "Invalid request (errorType in details)", body = super::types::PerspectiveErrorBody),
        (status = 401, description = "No API key", body = super::types::PerspectiveErrorBody),
        (status = 403, description = "Unknown or revoked API key", body = super::types::PerspectiveErrorBody),
        (status = 429, description = "Too many requests in flight", body = super::types::PerspectiveErrorBody),
        (status = 503, description = "Scoring over its time budget or unavailable", body = super::types::PerspectiveErrorBody),
    ))]
async fn analyze(
    State(app): State<AppState>,
    Extension(shared): Extension<Arc<PerspectiveState>>,
    query: Result<Query<KeyParam>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AnalyzeResponse>, PerspectiveError> {
    let key_id = authenticate(&app, &shared, query, &headers).await?;
    let live = app.live();
    let config = &live.config.perspective;
    let classifier = app.batcher.classifier();
    let req = request::analyze(&body_bytes(body)?, config, &|l| classifier.reads(l))?;
    let _permit = shared.in_flight.try_acquire().map_err(|_| {
        PerspectiveError::resource_exhausted("Too many requests are being scored; retry shortly.")
    })?;

    let started = Instant::now();
    let floors = attributes::floors(&live.scorer.check_rules(&req.text, req.language));
    let length = req.text.chars().count();
    let spans = if req.span_annotations {
        sentences::sentences(&req.text)
    } else {
        Vec::new()
    };
    // One classifier job: the whole text first, then each sentence (unless the text is one).
    let mut texts = vec![req.text.clone()];
    let score_spans = spans.len() > 1;
    if score_spans {
        texts.extend(spans.iter().map(|s| s.text(&req.text).to_string()));
    }
    let (scores, model_id) = classify(
        &app,
        texts,
        req.language,
        Duration::from_millis(config.timeout_ms),
    )
    .await?;

    let mut attribute_scores = BTreeMap::new();
    let mut summary = serde_json::Map::new();
    for requested in &req.attributes {
        let attribute = requested.attribute;
        let value = raise(attribute.score(&scores[0]), attribute, &floors, 0, length);
        summary.insert(requested.key.clone(), json!(value));
        let threshold = requested.threshold.unwrap_or(f32::MIN);
        if value < threshold {
            continue;
        }
        let span_scores = span_scores(&req, &spans, &scores, &floors, attribute, value)
            .into_iter()
            .filter(|s| s.score.value >= threshold)
            .collect();
        attribute_scores.insert(
            requested.key.clone(),
            AttributeScores {
                span_scores,
                summary_score: Score::probability(value),
            },
        );
    }

    if config.store_requests && !req.do_not_store {
        let kept = feedback::AnalyzedRequest {
            api_key_id: key_id,
            text: req.text.clone(),
            languages: req.languages.clone(),
            scores: Value::Object(summary),
            model_id,
            client_token: req.client_token.clone(),
        };
        feedback::add_request(app.store.writer(), &kept).await?;
    }
    tracing::debug!(
        key_id,
        attributes = req.attributes.len(),
        spans = spans.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "perspective analyze"
    );
    let response = AnalyzeResponse {
        attribute_scores,
        languages: req.languages,
        detected_languages: req.detected,
        client_token: req.client_token,
    };
    // Serialised from the typed response so scores keep their short f32 form.
    Ok(Json(response))
}

/// Per-sentence scores when `spanAnnotations` is set; otherwise one span over the whole
/// text carrying the summary score, as Perspective answers. Scored on code point spans
/// (as rule hits are), answered in UTF-16 units.
fn span_scores(
    req: &Analyze,
    spans: &[sentences::Span],
    scores: &[crate::domain::Scores],
    floors: &[Floor],
    attribute: attributes::Attribute,
    summary: f32,
) -> Vec<SpanScore> {
    if !req.span_annotations || spans.len() <= 1 {
        let (begin, end) = spans
            .first()
            .map_or((0, req.text.encode_utf16().count()), |s| s.utf16(&req.text));
        return vec![SpanScore {
            begin,
            end,
            score: Score::probability(summary),
        }];
    }
    spans
        .iter()
        .zip(&scores[1..])
        .map(|(span, s)| SpanScore {
            begin: span.utf16(&req.text).0,
            end: span.utf16(&req.text).1,
            score: Score::probability(raise(
                attribute.score(s),
                attribute,
                floors,
                span.begin,
                span.end,
            )),
        })
        .collect()
}

/// What modgate's model says of a feedback text, per attribute the client sent (as
/// `comments:analyze` would have answered: rule floors included), so the moderators'
/// agreement figures cover Perspective clients too. Scoring is best effort: when it fails
/// or runs out of budget the feedback is stored without it.
async fn score_feedback(
    app: &AppState,
    req: &request::Suggest,
) -> (Option<(Value, String)>, Option<crate::domain::Language>) {
    use crate::domain::Language;
    use crate::scoring::language::{self};
    let hints: Vec<Language> = req
        .languages
        .iter()
        .flatten()
        .filter_map(|l| Language::parse(l))
        .collect();
    let lang = language::detect_with_hint(&req.text, &hints);
    let attributes: Vec<(String, attributes::Attribute)> = req
        .attribute_scores
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, _)| attributes::Attribute::parse(name).map(|a| (name.clone(), a)))
        .collect();
    if attributes.is_empty() || !lang.is_none_or(|l| app.batcher.classifier().reads(l)) {
        return (None, lang);
    }
    let budget = Duration::from_millis(app.live().config.perspective.timeout_ms);
    let (scores, model_id) = match classify(app, vec![req.text.clone()], lang, budget).await {
        Ok(scored) => scored,
        Err(e) => {
            tracing::warn!(error = %e.message, "feedback stored without modgate's scores");
            return (None, lang);
        }
    };
    let floors = attributes::floors(&app.live().scorer.check_rules(&req.text, lang));
    let length = req.text.chars().count();
    let values: serde_json::Map<String, Value> = attributes
        .into_iter()
        .map(|(name, a)| {
            (
                name,
                json!(raise(a.score(&scores[0]), a, &floors, 0, length)),
            )
        })
        .collect();
    (Some((Value::Object(values), model_id)), lang)
}

/// `POST /v1alpha1/comments:suggestscore`: stored as labelled feedback for calibration.
#[utoipa::path(post, path = "/v1alpha1/comments:suggestscore", tag = "perspective",
    request_body = super::types::SuggestCommentScoreRequest,
    security(("api_key" = []), ("api_key_header" = [])),
    responses(
        (status = 200, body = super::types::SuggestCommentScoreResponse),
        (status = 400, description = "Invalid request (errorType in details)", body = super::types::PerspectiveErrorBody),
        (status = 401, description = "No API key", body = super::types::PerspectiveErrorBody),
        (status = 403, description = "Unknown or revoked API key", body = super::types::PerspectiveErrorBody),
    ))]
async fn suggest_score(
    State(app): State<AppState>,
    Extension(shared): Extension<Arc<PerspectiveState>>,
    query: Result<Query<KeyParam>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, PerspectiveError> {
    let key_id = authenticate(&app, &shared, query, &headers).await?;
    let live = app.live();
    let req = request::suggest(&body_bytes(body)?, &live.config.perspective)?;
    let (model_scores, language) = score_feedback(&app, &req).await;
    let row = feedback::Feedback {
        api_key_id: key_id,
        text: req.text,
        attribute_scores: req.attribute_scores,
        languages: req.languages,
        community_id: req.community_id,
        client_token: req.client_token.clone(),
        context: req.context,
        model_scores,
        language: language.map(|l| l.code().to_string()),
    };
    feedback::add_feedback(app.store.writer(), &row).await?;
    Ok(Json(match req.client_token {
        Some(token) => json!({ "clientToken": token }),
        None => json!({}),
    }))
}
