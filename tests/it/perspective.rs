//! The Perspective-compatible endpoints over real HTTP, with the real model and SQLite.
//!
//! Request bodies are replayed exactly as the clients send them:
//! - Coral Talk: coralproject/talk, src/core/server/services/comments/pipeline/phases/toxic.ts
//!   (`getScore`) and src/core/server/services/perspective/perspective.ts (`formatBody`).
//! - Perspective's documentation: conversationai/perspectiveapi, 1-get-started/sample.md
//!   (the Python sample, which posts without a Content-Type header) and 2-api/methods.md
//!   (the AnalyzeComment and SuggestCommentScore examples); error messages from
//!   2-api/limits.md.

use crate::common;

use std::process::Command;

use common::{TestApp, project_root, spawn_with, test_config};
use modgate::api::perspective::attributes::{self, Attribute};
use modgate::scoring::language;
use modgate::store::apikeys;
use serde_json::{Value, json};

async fn spawn(configure: impl FnOnce(&mut modgate::config::Config)) -> TestApp {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(&dir.path().join("modgate.db"));
    configure(&mut config);
    spawn_with(config, dir).await
}

async fn new_key(app: &TestApp, name: &str) -> String {
    apikeys::add(app.state.store.writer(), name)
        .await
        .unwrap()
        .1
}

async fn analyze(app: &TestApp, key: &str, body: &Value) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(&format!("/v1alpha1/comments:analyze?key={key}")))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// What the endpoint should answer for `attribute` on the whole of `text`: the
/// classifier's score, raised by the configured rule lists' hits.
async fn expected(app: &TestApp, text: &str, attribute: Attribute) -> f64 {
    let scored = app.state.batcher.score(text.to_string()).await.unwrap();
    let floors = attributes::floors(
        &app.state
            .live()
            .scorer
            .check_rules(text, language::detect(text)),
    );
    let end = text.chars().count();
    f64::from(attributes::raise(
        attribute.score(&scored.scores),
        attribute,
        &floors,
        0,
        end,
    ))
}

fn assert_close(got: &Value, want: f64, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {got}"));
    assert!((got - want).abs() < 1e-5, "{what}: got {got}, want {want}");
}

fn assert_error(body: &Value, code: u16, status: &str, message: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["status"], status, "{body}");
    assert_eq!(body["error"]["message"], message, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coral_talk_request_is_answered_like_perspective() {
    let app = spawn(|c| c.perspective.store_requests = true).await;
    let key = new_key(&app, "coral").await;
    let text = "You are a stupid idiot and everyone hates you";
    // coral: toxic.ts getScore(): POST `${endpoint}/comments:analyze?key=${key}` with
    // Content-Type: application/json and this body (model defaults to TOXICITY, doNotStore
    // to true).
    let body = json!({
        "comment": { "text": text },
        "languages": ["en"],
        "doNotStore": true,
        "requestedAttributes": { "TOXICITY": {} },
    });
    let (code, res) = analyze(&app, &key, &body).await;
    assert_eq!(code, 200, "{res}");
    // Coral reads data.attributeScores[model].summaryScore.value and holds when > 0.8.
    let summary = &res["attributeScores"]["TOXICITY"]["summaryScore"];
    assert_eq!(summary["type"], "PROBABILITY");
    assert_close(
        &summary["value"],
        expected(&app, text, Attribute::Toxicity).await,
        "TOXICITY",
    );
    assert!(
        summary["value"].as_f64().unwrap() > 0.8,
        "an abusive comment is held by Coral: {res}"
    );
    let spans = res["attributeScores"]["TOXICITY"]["spanScores"]
        .as_array()
        .unwrap();
    assert_eq!(
        spans.len(),
        1,
        "one span over the whole text without spanAnnotations"
    );
    assert_eq!(
        (spans[0]["begin"].as_u64(), spans[0]["end"].as_u64()),
        (Some(0), Some(text.chars().count() as u64))
    );
    assert_eq!(spans[0]["score"], *summary);
    assert_eq!(
        res["attributeScores"].as_object().unwrap().len(),
        1,
        "only what was requested"
    );
    assert_eq!(res["languages"], json!(["en"]));
    assert_eq!(res["detectedLanguages"], json!(["en"]));
    assert!(res.get("clientToken").is_none());

    // doNotStore: nothing about the request is written, even with store_requests on.
    for table in [
        "perspective_requests",
        "perspective_feedback",
        "comments",
        "webhook_events",
    ] {
        assert_eq!(app.count_rows(table).await, 0, "{table}");
    }
    // Without doNotStore the text and scores are kept (store_requests = true here).
    let body = json!({"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}, "clientToken": "c-1"});
    let (code, res) = analyze(&app, &key, &body).await;
    assert_eq!(code, 200, "{res}");
    assert_eq!(res["clientToken"], "c-1");
    let row: (String, String, String) =
        modgate::on_pool!(app.state.store.reader(), p => sqlx::query_as("SELECT text, scores, client_token FROM perspective_requests")
            .fetch_one(p)
            .await)
            .unwrap();
    assert_eq!(row.0, text);
    let scores: Value = serde_json::from_str(&row.1).unwrap();
    assert_close(
        &scores["TOXICITY"],
        res["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
            .as_f64()
            .unwrap(),
        "stored",
    );
    assert_eq!(row.2, "c-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_not_stored_by_default() {
    let app = spawn(|_| {}).await;
    let key = new_key(&app, "site").await;
    let body = json!({"comment": {"text": "Nice article, thanks."}, "requestedAttributes": {"TOXICITY": {}}});
    let (code, res) = analyze(&app, &key, &body).await;
    assert_eq!(code, 200, "{res}");
    assert_eq!(app.count_rows("perspective_requests").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn perspective_documentation_requests() {
    let app = spawn(|_| {}).await;
    let key = new_key(&app, "docs").await;

    // sample.md, "Using Python": requests.post(url=url, data=json.dumps(data_dict)) sends
    // the JSON with no Content-Type header.
    let body = r#"{"comment": {"text": "what kind of idiot name is foo?"}, "languages": ["en"], "requestedAttributes": {"TOXICITY": {}}}"#;
    let r = app
        .client
        .post(app.url(&format!("/v1alpha1/comments:analyze?key={key}")))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let res: Value = r.json().await.unwrap();
    let want = expected(&app, "what kind of idiot name is foo?", Attribute::Toxicity).await;
    assert_close(
        &res["attributeScores"]["TOXICITY"]["summaryScore"]["value"],
        want,
        "sample.md",
    );
    assert_eq!(res["languages"], json!(["en"]));

    // methods.md AnalyzeComment example asks for TOXICITY and UNSUBSTANTIAL; modgate has
    // no UNSUBSTANTIAL model, so it answers Perspective's unknown-attribute error...
    let text = "What kind of idiot name is foo? Sorry, I like your name.";
    let (code, res) = analyze(
        &app,
        &key,
        &json!({"comment": {"text": text}, "languages": ["en"], "requestedAttributes": {"TOXICITY": {}, "UNSUBSTANTIAL": {}}}),
    )
    .await;
    assert_eq!(code, 400);
    assert_error(
        &res,
        400,
        "INVALID_ARGUMENT",
        "Unknown requested attribute: UNSUBSTANTIAL (supported: TOXICITY, SEVERE_TOXICITY, IDENTITY_ATTACK, INSULT, PROFANITY, THREAT; set dropUnsupportedAttributes to skip others)",
    );
    // ...unless asked to drop what it does not support, as Perspective does.
    let (code, res) = analyze(
        &app,
        &key,
        &json!({"comment": {"text": text}, "languages": ["en"], "dropUnsupportedAttributes": true,
                "requestedAttributes": {"TOXICITY": {}, "UNSUBSTANTIAL": {}, "FLIRTATION": {}, "sexually_explicit": {}}}),
    )
    .await;
    assert_eq!(code, 200, "{res}");
    let keys: Vec<&String> = res["attributeScores"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["TOXICITY", "sexually_explicit"],
        "mapped ones kept, as sent"
    );
    assert_close(
        &res["attributeScores"]["sexually_explicit"]["summaryScore"]["value"],
        expected(&app, text, Attribute::Profanity).await,
        "SEXUALLY_EXPLICIT reads the obscene label",
    );

    // The same text with spanAnnotations: the documented spans [0,31) and [32,56).
    let (code, res) = analyze(
        &app,
        &key,
        &json!({"comment": {"text": text}, "languages": ["en"], "spanAnnotations": true,
                "requestedAttributes": {"TOXICITY": {}, "INSULT": {}}}),
    )
    .await;
    assert_eq!(code, 200, "{res}");
    for attr in ["TOXICITY", "INSULT"] {
        let spans = res["attributeScores"][attr]["spanScores"]
            .as_array()
            .unwrap();
        let bounds: Vec<(u64, u64)> = spans
            .iter()
            .map(|s| (s["begin"].as_u64().unwrap(), s["end"].as_u64().unwrap()))
            .collect();
        assert_eq!(bounds, [(0, 31), (32, 56)], "{attr}");
    }
    // Each span is the sentence scored alone (raised by rule hits inside it).
    let spans = &res["attributeScores"]["INSULT"]["spanScores"];
    assert_close(
        &spans[0]["score"]["value"],
        expected(&app, "What kind of idiot name is foo?", Attribute::Insult).await,
        "span 1",
    );
    assert_close(
        &spans[1]["score"]["value"],
        expected(&app, "Sorry, I like your name.", Attribute::Insult).await,
        "span 2",
    );
    assert!(
        spans[0]["score"]["value"].as_f64() > spans[1]["score"]["value"].as_f64(),
        "{spans}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn span_offsets_are_utf16_units() {
    let app = spawn(|_| {}).await;
    let key = new_key(&app, "spans").await;
    let sentences = ["Hello 👋🏽!", "You are a complete idiot 🤬.", "Ok"];
    let text = sentences.join(" ");
    for span_annotations in [true, false] {
        let (code, res) = analyze(
            &app,
            &key,
            &json!({"comment": {"text": text}, "spanAnnotations": span_annotations, "requestedAttributes": {"TOXICITY": {}}}),
        )
        .await;
        assert_eq!(code, 200, "{res}");
        let spans = res["attributeScores"]["TOXICITY"]["spanScores"]
            .as_array()
            .unwrap();
        // What JavaScript's `text.substring(begin, end)` gives for each span.
        let units: Vec<u16> = text.encode_utf16().collect();
        let sliced: Vec<String> = spans
            .iter()
            .map(|s| {
                let (b, e) = (s["begin"].as_u64().unwrap(), s["end"].as_u64().unwrap());
                String::from_utf16(&units[b as usize..e as usize]).unwrap()
            })
            .collect();
        if span_annotations {
            assert_eq!(sliced, sentences, "{res}");
            // "👋🏽" is two code points and four UTF-16 units.
            assert_eq!(spans[1]["begin"], 12);
        } else {
            assert_eq!(sliced, [text.as_str()], "one span over the whole text");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn score_threshold_filters_attributes() {
    let app = spawn(|_| {}).await;
    let key = new_key(&app, "thresholds").await;
    let text = "Go back to where you came from, you filthy animals, or I will hurt you.";
    let mut requested = serde_json::Map::new();
    let mut want = Vec::new();
    for (attribute, threshold) in [
        (Attribute::Toxicity, 0.0f32),
        (Attribute::SevereToxicity, 1.0),
        (Attribute::IdentityAttack, 0.05),
        (Attribute::Insult, 0.5),
        (Attribute::Profanity, 0.5),
        (Attribute::Threat, 0.01),
    ] {
        let score = expected(&app, text, attribute).await;
        requested.insert(
            attribute.name().into(),
            json!({"scoreType": "PROBABILITY", "scoreThreshold": threshold}),
        );
        want.push((attribute.name(), score >= f64::from(threshold)));
    }
    let (code, res) = analyze(
        &app,
        &key,
        &json!({"comment": {"text": text}, "requestedAttributes": requested}),
    )
    .await;
    assert_eq!(code, 200, "{res}");
    let scores = res["attributeScores"].as_object().unwrap();
    for (name, present) in want {
        assert_eq!(scores.contains_key(name), present, "{name}: {res}");
    }
    assert!(
        scores.contains_key("TOXICITY"),
        "threshold 0 keeps the attribute"
    );

    // Every attribute below its threshold: attributeScores is empty, so a client reading
    // attributeScores[name] gets nothing rather than a missing field. A threshold may
    // come as a string (proto3 JSON).
    let (code, res) = analyze(
        &app,
        &key,
        &json!({"comment": {"text": "Thank you for the thoughtful reporting."},
                "requestedAttributes": {"TOXICITY": {"scoreThreshold": 0.99}, "THREAT": {"scoreThreshold": "0.99"}}}),
    )
    .await;
    assert_eq!(code, 200, "{res}");
    assert_eq!(res["attributeScores"], json!({}), "{res}");
    assert_eq!(res["languages"], json!(["en"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_use_perspective_shape() {
    let app = spawn(|_| {}).await;
    let key = new_key(&app, "errors").await;
    let ok = json!({"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}});

    // Missing key.
    let (code, res) = app.post_json("/v1alpha1/comments:analyze", &ok).await;
    assert_eq!(code, 401);
    assert_error(
        &res,
        401,
        "UNAUTHENTICATED",
        "The request is missing a valid API key.",
    );
    // Unknown key, and a key that only looks like ours.
    for bad in ["AIzaSyDefinitelyNotAKey", "mgk_0000000000000000_deadbeef"] {
        let (code, res) = analyze(&app, bad, &ok).await;
        assert_eq!(code, 403, "{bad}");
        assert_error(
            &res,
            403,
            "PERMISSION_DENIED",
            "API key not valid. Please pass a valid API key.",
        );
    }
    // The key also works in the header Google's client libraries use.
    let r = app
        .client
        .post(app.url("/v1alpha1/comments:analyze"))
        .header("x-goog-api-key", &key)
        .json(&ok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // Malformed JSON.
    let r = app
        .client
        .post(app.url(&format!("/v1alpha1/comments:analyze?key={key}")))
        .header("content-type", "application/json")
        .body(r#"{"comment": {"text": "hi"}, "requestedAttributes": {"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let res: Value = r.json().await.unwrap();
    assert_eq!(res["error"]["status"], "INVALID_ARGUMENT");
    assert!(
        res["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid JSON payload received."),
        "{res}"
    );

    let cases = [
        (
            json!({"comment": {}, "requestedAttributes": {"TOXICITY": {}}}),
            "Comment must be non-empty.",
            "COMMENT_EMPTY",
        ),
        (
            json!({"requestedAttributes": {"TOXICITY": {}}}),
            "Comment must be non-empty.",
            "COMMENT_EMPTY",
        ),
        (
            json!({"comment": {"text": "hi"}}),
            "Missing requested_attributes",
            "NO_REQUESTED_ATTRIBUTES",
        ),
        (
            json!({"comment": {"text": "hi"}, "requestedAttributes": {"FLIRTATION": {}}}),
            "Unknown requested attribute: FLIRTATION (supported: TOXICITY, SEVERE_TOXICITY, IDENTITY_ATTACK, INSULT, PROFANITY, THREAT; set dropUnsupportedAttributes to skip others)",
            "INVALID_REQUEST",
        ),
        // The BiLSTM these tests run reads English only: German is refused, and so is
        // Russian sent as "en" (as Coral sends it) rather than scored by an English model.
        (
            json!({"comment": {"text": "Ты дурак"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["en"]}),
            "Attribute TOXICITY does not support request languages: ru",
            "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
        ),
        (
            json!({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["de"]}),
            "Attribute TOXICITY does not support request languages: de",
            "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
        ),
        (
            json!({"comment": {"text": "x".repeat(20 * 1024 + 1)}, "requestedAttributes": {"TOXICITY": {}}}),
            "Comment text too long.",
            "COMMENT_TOO_LONG",
        ),
    ];
    for (body, message, error_type) in cases {
        let (code, res) = analyze(&app, &key, &body).await;
        assert_eq!(code, 400, "{res}");
        assert_error(&res, 400, "INVALID_ARGUMENT", message);
        let detail = &res["error"]["details"][0];
        assert_eq!(
            detail["@type"],
            "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
        );
        assert_eq!(detail["errorType"], error_type, "{res}");
    }
    let (_, res) = analyze(
        &app,
        &key,
        &json!({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["de"]}),
    )
    .await;
    assert_eq!(
        res["error"]["details"][0]["languageNotSupportedByAttributeError"],
        json!({"attribute": "TOXICITY", "requestedLanguages": ["de"], "detectedLanguages": ["en"]})
    );
    // Other routes under /v1alpha1 are not found, in Perspective's shape too.
    let (code, res) = app
        .post_json(&format!("/v1alpha1/comments:classify?key={key}"), &ok)
        .await;
    assert_eq!(code, 404);
    assert_error(
        &res,
        404,
        "NOT_FOUND",
        "The requested URL /v1alpha1/comments:classify was not found on this server.",
    );
    let r = app
        .client
        .get(app.url(&format!("/v1alpha1/comments:analyze?key={key}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let res: Value = r.json().await.unwrap();
    assert_eq!(res["error"]["code"], 405, "{res}");
    // Text of white space only is scored, as Perspective does (only "" is empty).
    let (code, res) = analyze(
        &app,
        &key,
        &json!({"comment": {"text": " \u{a0} "}, "requestedAttributes": {"TOXICITY": {}}}),
    )
    .await;
    assert_eq!(code, 200, "{res}");
    assert!(res["attributeScores"]["TOXICITY"]["summaryScore"]["value"].is_number());
}

/// Coral Talk 9.11.8 (coralproject/talk 8bf2ad78), services/perspective/perspective.ts:
/// `url = new URL(endpoint); url.pathname = path.join(url.pathname, "/comments:analyze");
/// url.searchParams.set("key", key)`, posted by its axios wrapper (services/fetch/axios.ts)
/// with `Content-Type: application/json`, `User-Agent: Coral Perspective/9.11.8`, axios's
/// own `Accept`, an 800 ms timeout and no redirects followed.
fn coral_url(endpoint: &str, operation: &str, key: &str) -> String {
    let mut url = reqwest::Url::parse(endpoint.trim()).unwrap();
    // Node's path.join: one slash between the parts, whatever the endpoint ends with.
    let path = format!("{}/{operation}", url.path().trim_end_matches('/'));
    url.set_path(&path);
    url.query_pairs_mut().append_pair("key", key.trim());
    url.to_string()
}

fn coral_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(800))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn coral_analyze(
    client: &reqwest::Client,
    url: &str,
    text: &str,
    language: &str,
) -> (u16, Value) {
    // formatBody(): the model (TOXICITY by default), doNotStore, and convertLanguage()'s
    // answer: en, es, fr, de or pt, and "en" for every other locale, Russian included.
    let body = json!({
        "comment": {"text": text},
        "doNotStore": true,
        "requestedAttributes": {"TOXICITY": {}},
        "languages": [language],
    });
    let r = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "Coral Perspective/9.11.8")
        .header("Accept", "application/json, text/plain, */*")
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{language}: Coral gives up (and publishes unscored): {e}"));
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coral_is_answered_in_every_language_it_sends() {
    // The shipped config: the multilingual model reads all of these.
    let app = common::spawn_shipped().await;
    let key = new_key(&app, "coral").await;
    let client = coral_client();
    let cases = [
        // (Coral's language, text, detected, abusive)
        (
            "en",
            "You are a stupid idiot and everyone hates you",
            "en",
            true,
        ),
        ("en", "Thank you for the careful reporting.", "en", false),
        ("es", "Eres un idiota y te odio", "es", true),
        (
            "es",
            "Gracias por el artículo, muy interesante",
            "es",
            false,
        ),
        (
            "fr",
            "Tu es un imbécile et tout le monde te déteste",
            "fr",
            true,
        ),
        ("fr", "Merci pour cet article très intéressant", "fr", false),
        (
            "de",
            "Du bist ein dummer Idiot und alle hassen dich",
            "de",
            true,
        ),
        ("de", "Danke für den interessanten Artikel", "de", false),
        ("pt", "Você é um idiota e todos te odeiam", "pt", true),
        (
            "pt",
            "Obrigado pelo artigo, muito interessante",
            "pt",
            false,
        ),
        // Coral sends "en" for a Russian-language site: the text decides.
        ("en", "Ты тупой идиот, все тебя ненавидят", "ru", true),
        ("en", "Спасибо за статью, очень интересно.", "ru", false),
    ];
    for endpoint in [app.url("/v1alpha1"), app.url("/v1alpha1/")] {
        let url = coral_url(&endpoint, "comments:analyze", &key);
        assert!(url.contains("/v1alpha1/comments:analyze?key="), "{url}");
        for (language, text, detected, abusive) in cases {
            let (code, res) = coral_analyze(&client, &url, text, language).await;
            assert_eq!(code, 200, "{language} {text}: {res}");
            // What toxic.ts reads, and holds when strictly above 0.8 (its default).
            let score = res["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
                .as_f64()
                .unwrap_or_else(|| panic!("{text}: no score: {res}"));
            assert_eq!(res["detectedLanguages"], json!([detected]), "{text}");
            assert_eq!(res["languages"], json!([language]), "echoed as sent");
            if abusive {
                assert!(score > 0.8, "{text}: {score} would be published by Coral");
            } else {
                assert!(score < 0.5, "{text}: {score}");
            }
        }
    }
    // Without languages the text's own is detected and reported.
    let (code, res) = analyze(
        &app,
        &key,
        &json!({"comment": {"text": "Eres un idiota y te odio"}, "requestedAttributes": {"TOXICITY": {}}}),
    )
    .await;
    assert_eq!(code, 200, "{res}");
    assert_eq!(res["detectedLanguages"], json!(["es"]));
    assert_eq!(res["languages"], json!(["es"]));
    // Kazakh and Uzbek when named, including Cyrillic text their letters leave open.
    for (lang, text) in [
        ("kk", "Рахмет"),
        ("uz", "Бошингни кесаман"),
        ("ru-RU", "Рахмет"),
    ] {
        let (code, res) = analyze(
            &app,
            &key,
            &json!({"comment": {"text": text}, "languages": [lang], "requestedAttributes": {"TOXICITY": {}}}),
        )
        .await;
        assert_eq!(code, 200, "{lang}: {res}");
        assert_eq!(res["languages"], json!([lang]));
        let primary = &lang[..2];
        assert_eq!(res["detectedLanguages"], json!([primary]), "{lang}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coral_feedback_is_stored_as_sent() {
    let app = spawn(|_| {}).await;
    let key = new_key(&app, "coral").await;
    // formatBody() for comments:suggestscore, sent by events/listeners/perspective.ts when
    // a moderator approves (0) or rejects (1) a comment.
    let context =
        json!({"url": "https://news.example.org/story?commentID=c-42", "Coral_comment_id": "c-42"});
    let body = json!({
        "comment": {"text": "You are an idiot"},
        "context": {"entries": [{"text": context.to_string()}]},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
        "languages": ["en"],
        "communityId": "Coral:https://news.example.org",
        "clientToken": "comment:c-42",
    });
    let url = coral_url(&app.url("/v1alpha1/"), "comments:suggestscore", &key);
    let r = coral_client()
        .post(&url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "Coral Perspective/9.11.8")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let res: Value = r.json().await.unwrap();
    assert_eq!(res["clientToken"], "comment:c-42");
    let row: (String, String, String, String) =
        modgate::on_pool!(app.state.store.reader(), p => sqlx::query_as(
        "SELECT attribute_scores, community_id, client_token, context FROM perspective_feedback",
    )
    .fetch_one(p)
    .await)
        .unwrap();
    let scores: Value = serde_json::from_str(&row.0).unwrap();
    assert_eq!(scores["TOXICITY"]["summaryScore"]["value"], 1);
    assert_eq!(row.1, "Coral:https://news.example.org");
    assert_eq!(row.2, "comment:c-42");
    let stored_context: Value = serde_json::from_str(&row.3).unwrap();
    assert_eq!(stored_context["entries"][0]["text"], context.to_string());

    // The moderators' agreement figures count it against modgate's own score of the text:
    // rejected on the site, and over Coral's 0.8 here (held), so not a miss.
    let admin = app
        .moderator_token("editor", modgate::store::moderators::Role::Admin)
        .await;
    let (code, stats) = app.mod_get(&admin, "/api/v1/moderation/stats").await;
    assert_eq!(code, 200, "{stats}");
    let ours = expected(&app, "You are an idiot", Attribute::Toxicity).await;
    let group = &stats["perspective"][0];
    assert_eq!(
        (
            &group["attribute"],
            &group["feedback"],
            &group["rejected"],
            &group["approved"]
        ),
        (&json!("TOXICITY"), &json!(1), &json!(1), &json!(0)),
        "{stats}"
    );
    assert_eq!(group["misses"], json!(usize::from(ours <= 0.8)), "{stats}");
    assert_eq!(group["language"], "en");
    assert_eq!(group["current"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_only_for_configured_origins() {
    let app = spawn(|c| c.perspective.cors_origins = vec!["https://news.example.org".into()]).await;
    let key = new_key(&app, "browser").await;
    let preflight = |origin: &'static str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                app.url("/v1alpha1/comments:analyze"),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "content-type,x-goog-api-key",
            )
            .send()
    };
    let r = preflight("https://news.example.org").await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let allowed = |r: &reqwest::Response| {
        r.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_string())
    };
    assert_eq!(allowed(&r).as_deref(), Some("https://news.example.org"));
    let methods = r.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(methods.contains("POST"), "{methods}");
    let r = preflight("https://evil.example").await.unwrap();
    assert_eq!(allowed(&r), None);
    // The actual request carries the header too; other routes never do.
    let r = app
        .client
        .post(app.url(&format!("/v1alpha1/comments:analyze?key={key}")))
        .header("Origin", "https://news.example.org")
        .json(&json!({"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(allowed(&r).as_deref(), Some("https://news.example.org"));
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("Origin", "https://news.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed(&r), None);
    // Not configured: no CORS headers at all.
    let plain = spawn(|_| {}).await;
    let r = plain
        .client
        .post(plain.url("/v1alpha1/comments:analyze"))
        .header("Origin", "https://news.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed(&r), None);
}

/// Google's Python client library, built from modgate's discovery document, against the
/// live service. Needs the client installed (scripts/test.sh does); skips otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_api_python_client_works_from_the_discovery_document() {
    let Some(python) = std::env::var_os("MODGATE_GOOGLE_CLIENT_PYTHON") else {
        eprintln!(
            "skipped: MODGATE_GOOGLE_CLIENT_PYTHON is not set (scripts/test.sh installs google-api-python-client and sets it)"
        );
        return;
    };
    let app = spawn(|_| {}).await;
    let key = new_key(&app, "google-client").await;
    let (code, doc) = app.get_json("/$discovery/rest?version=v1alpha1").await;
    assert_eq!(code, 200);
    assert_eq!(doc["rootUrl"], app.url("/"), "{doc}");
    let (code, _) = app.get_json("/$discovery/rest?version=v1").await;
    assert_eq!(code, 404);

    let text = "You are a stupid idiot and everyone hates you";
    let (discovery_url, key_arg) = (app.url("/$discovery/rest?version=v1alpha1"), key.clone());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(project_root().join("tests/perspective_client.py"))
            .arg(discovery_url)
            .arg(key_arg)
            .arg(text)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_close(
        &got["analyze"]["attributeScores"]["TOXICITY"]["summaryScore"]["value"],
        expected(&app, text, Attribute::Toxicity).await,
        "analyze through googleapiclient",
    );
    assert_eq!(got["suggestscore"]["clientToken"], "py-1");
    assert_eq!(app.count_rows("perspective_feedback").await, 1);
    // A wrong key fails inside the library with the 403 Perspective answers.
    assert_eq!(got["bad_key_status"], 403, "{got}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_hits_raise_scores() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let path = project_root().join("config.toml");
    let source = std::fs::read_to_string(&path).unwrap()
        + r#"
[[rules.list]]
name = "perspective_test_threats"
category = "threat"
action = "hold"
terms = ["know where you live"]
"#;
    let mut config =
        modgate::config::Config::parse(&path, &source).unwrap_or_else(|e| panic!("{e:?}"));
    config.database.path = dir.path().join("modgate.db");
    config.server.bind = "127.0.0.1:0".parse().unwrap();
    let app = spawn_with(config, dir).await;
    let key = new_key(&app, "rules").await;
    let text = "Nice photo of your house. I know where you live.";
    let (code, res) = analyze(
        &app,
        &key,
        &json!({"comment": {"text": text}, "spanAnnotations": true,
                "requestedAttributes": {"THREAT": {}, "TOXICITY": {}, "INSULT": {}}}),
    )
    .await;
    assert_eq!(code, 200, "{res}");
    let scores = &res["attributeScores"];
    assert!(
        scores["THREAT"]["summaryScore"]["value"].as_f64().unwrap() >= 0.85,
        "{res}"
    );
    assert!(
        scores["TOXICITY"]["summaryScore"]["value"]
            .as_f64()
            .unwrap()
            >= 0.85,
        "{res}"
    );
    // Only the sentence with the hit is raised.
    let spans = scores["THREAT"]["spanScores"].as_array().unwrap();
    assert_eq!(spans.len(), 2);
    assert!(spans[0]["score"]["value"].as_f64().unwrap() < 0.85, "{res}");
    assert!(
        spans[1]["score"]["value"].as_f64().unwrap() >= 0.85,
        "{res}"
    );
    // INSULT has no hit from a threat list: the model's own score.
    let model_insult = app
        .state
        .batcher
        .score(text.to_string())
        .await
        .unwrap()
        .scores;
    assert_close(
        &scores["INSULT"]["summaryScore"]["value"],
        f64::from(Attribute::Insult.score(&model_insult)),
        "INSULT",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggest_score_stores_feedback() {
    let app = spawn(|_| {}).await;
    let key = new_key(&app, "feedback").await;
    let url = app.url(&format!("/v1alpha1/comments:suggestscore?key={key}"));

    // methods.md SuggestCommentScore example.
    let body = json!({
        "comment": {"text": "I guess it comes down a simple choice: Get busy living, or get busy dying."},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0}}},
        "communityId": "/forum/movies",
        "clientToken": "comment-53922"
    });
    let r = app.client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"clientToken": "comment-53922"})
    );

    // Coral Talk's formatBody() for comments:suggestscore: the comment's moderation status
    // as the attribute, its ids and URL as a context entry.
    let context_entry = json!({
        "url": "https://news.example.kz/story?commentID=c-42",
        "reply_to_id_Coral_comment_id": null,
        "Coral_comment_id": "c-42"
    })
    .to_string();
    let body = json!({
        "comment": {"text": "Stink in Russia, you Russian swine"},
        "context": {"entries": [{"text": context_entry}]},
        "attributeScores": {"DELETED": {"summaryScore": {"value": 1}}},
        "languages": ["en"],
        "communityId": "Coral:https://news.example.kz",
        "clientToken": "comment:c-42"
    });
    let r = app.client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"clientToken": "comment:c-42"})
    );

    type FeedbackRow = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<FeedbackRow> = modgate::on_pool!(app.state.store.reader(), p => sqlx::query_as(
        "SELECT text, attribute_scores, languages, community_id, client_token, context FROM perspective_feedback ORDER BY id",
    )
    .fetch_all(p)
    .await)
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        serde_json::from_str::<Value>(&rows[0].1).unwrap(),
        json!({"TOXICITY": {"summaryScore": {"value": 0}}})
    );
    assert_eq!(rows[0].3.as_deref(), Some("/forum/movies"));
    assert_eq!(rows[1].0, "Stink in Russia, you Russian swine");
    assert_eq!(rows[1].2.as_deref(), Some(r#"["en"]"#));
    assert_eq!(rows[1].4.as_deref(), Some("comment:c-42"));
    let context: Value = serde_json::from_str(rows[1].5.as_deref().unwrap()).unwrap();
    assert_eq!(context["entries"][0]["text"], context_entry);

    // Feedback needs a text and scores.
    let r = app
        .client
        .post(&url)
        .json(&json!({"comment": {"text": "x"}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": 7}}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = app
        .client
        .post(&url)
        .json(&json!({"attributeScores": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["message"],
        "Comment must be non-empty."
    );
    assert_eq!(app.count_rows("perspective_feedback").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_model_answers_unavailable() {
    let app = spawn(|c| c.model.dir = "does/not/exist".into()).await;
    let key = new_key(&app, "nomodel").await;
    let (code, res) = analyze(
        &app,
        &key,
        &json!({"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}}),
    )
    .await;
    assert_eq!(code, 503, "{res}");
    assert_error(
        &res,
        503,
        "UNAVAILABLE",
        "The service is currently unavailable.",
    );
}

/// `modgate apikey add|list|revoke` against the database of a running service: the key
/// works at once, and a revoked key is refused at once even though it was cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apikey_cli_adds_lists_and_revokes() {
    let app = spawn(|_| {}).await;
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_modgate"))
            .args([
                "--config",
                project_root().join("config.toml").to_str().unwrap(),
            ])
            .args(args)
            .env("MODGATE_DATABASE", &app.database)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let key = cli(&["apikey", "add", "coral-prod"]).trim().to_string();
    assert!(key.starts_with("mgk_"), "{key}");
    let stored: String =
        modgate::on_pool!(app.state.store.reader(), p => sqlx::query_scalar("SELECT key_hash FROM api_keys WHERE name = 'coral-prod'")
            .fetch_one(p)
            .await)
            .unwrap();
    assert!(
        stored.starts_with("$argon2") && !stored.contains(&key),
        "only a hash is stored"
    );

    let ok = json!({"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}});
    assert_eq!(analyze(&app, &key, &ok).await.0, 200);
    assert!(cli(&["apikey", "list"]).starts_with("coral-prod\t"));

    cli(&["apikey", "revoke", "coral-prod"]);
    let (code, res) = analyze(&app, &key, &ok).await;
    assert_eq!(code, 403, "{res}");
    let listed = cli(&["apikey", "list"]);
    assert!(
        !listed.trim_end().ends_with("\t-"),
        "revoked keys show when: {listed}"
    );
}
