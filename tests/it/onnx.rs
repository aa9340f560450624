//! The ONNX Runtime backend against the real files `models/fetch-models.sh` builds:
//! `models/minilm-toxic/` (MiniLM + trained head) and `models/onnxruntime/`.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use modgate::config::Config;
use modgate::domain::AuthorStanding;
use modgate::domain::Label;
use modgate::scoring::classifier::onnx::{OnnxClassifier, OnnxOptions};
use modgate::scoring::classifier::{self, Classifier, ClassifierError};
use modgate::scoring::pipeline::Scorer;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn model_dir() -> PathBuf {
    root().join("models/minilm-toxic")
}

fn library() -> PathBuf {
    root().join("models/onnxruntime/libonnxruntime.so.1.31.1")
}

fn options() -> OnnxOptions {
    OnnxOptions {
        runtime: Some(library()),
        threads: 1,
        ..OnnxOptions::default()
    }
}

fn model() -> &'static OnnxClassifier {
    static MODEL: OnceLock<OnnxClassifier> = OnceLock::new();
    MODEL.get_or_init(|| {
        OnnxClassifier::load(&model_dir(), &options())
            .unwrap_or_else(|e| panic!("{e} (run models/fetch-models.sh)"))
    })
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn assert_close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (j, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol,
            "{what}: column {j}: got {g}, want {w} (all {got:?})"
        );
    }
}

// Reference logits printed by `cd models && .venv/bin/python -m modgate_models.onnx_reference`, which runs
// the same model.onnx through ONNX Runtime's Python API and checks it against the numpy
// reference forward (models/modgate_models/graph.py) — 1.8e-6 apart. Regenerate when the committed
// head (models/minilm-toxic-head/) changes; model.onnx sha256 a90b1c8251e6….
fn reference_cases() -> Vec<(&'static str, [f32; 6])> {
    vec![
        (
            "You are a wonderful person and I enjoyed this article.",
            [-2.29731, -4.25389, -4.17444, -6.53224, -3.90673, -2.41638],
        ),
        (
            "Go back to where you came from, nobody wants your kind here!",
            [1.99439, -1.28597, -0.553975, -4.46916, 0.0614824, 1.07134],
        ),
        (
            "",
            [1.338, -3.1007, -8.02041, -4.10012, -1.33517, -0.528275],
        ),
        (
            "Ты дурак и идиот",
            [-2.00685, -4.07469, -6.14954, -4.98748, -3.90001, -1.58799],
        ),
        (
            "I will find you and I will hurt you.",
            [0.615201, -2.6604, -3.55758, -3.35199, -2.57861, -1.69912],
        ),
    ]
}

const FILLER: &str =
    "The city council met on Tuesday to discuss the new bus routes and the budget for schools.";

fn long_text() -> String {
    let mut text = vec![FILLER; 30].join(" ");
    text.push_str(" Muslims are vermin and should all be exterminated.");
    text
}

/// Logits of the three windows of `long_text()` (256, 256 and 174 tokens), same script.
const LONG_WINDOWS: [[f32; 6]; 3] = [
    [-3.03672, -5.73516, -5.02939, -7.02845, -2.55459, -4.85423],
    [-2.81341, -5.87825, -5.40341, -7.03077, -2.71753, -4.54026],
    [-1.20397, -5.07154, -4.86514, -6.03253, -2.17029, -2.68198],
];

#[test]
fn logits_match_onnx_runtime_python_and_numpy_reference() {
    for (text, want) in reference_cases() {
        let windows = model().window_logits(text).expect("scoring");
        assert_eq!(windows.len(), 1, "{text:?} fits one window");
        assert_close(text, &windows[0], &want, 1e-4);
    }
}

#[test]
fn scores_are_sigmoid_of_logits_in_label_order() {
    let cases = reference_cases();
    let texts: Vec<&str> = cases.iter().map(|(t, _)| *t).collect();
    let got = model().score_batch(&texts).expect("scoring");
    assert_eq!(model().model_labels(), Label::ALL.map(|l| l.as_str()));
    for ((text, logits), scores) in cases.iter().zip(got) {
        let want: Vec<f32> = logits.iter().map(|&x| sigmoid(x)).collect();
        assert_close(text, &scores.0, &want, 1e-5);
    }
}

#[test]
fn long_comment_is_scored_in_overlapping_windows_taking_the_maximum() {
    let text = long_text();
    let windows = model().windows(&text).expect("tokenise");
    let lengths: Vec<usize> = windows.iter().map(|w| w.get_ids().len()).collect();
    assert_eq!(lengths, [256, 256, 174]);
    assert_eq!(model().max_tokens(), 256);
    // Neighbouring windows share a quarter window (64 tokens incl. none of the specials).
    let (a, b) = (windows[0].get_ids(), windows[1].get_ids());
    assert_eq!(a[0], b[0], "each window starts with [CLS]");
    assert_eq!(
        &a[256 - 1 - 64..256 - 1],
        &b[1..1 + 64],
        "64 tokens of overlap"
    );

    let logits = model().window_logits(&text).expect("scoring");
    for (got, want) in logits.iter().zip(LONG_WINDOWS) {
        assert_close("long window", got, &want, 1e-4);
    }
    let scores = model().score_batch(&[text.as_str()]).expect("scoring")[0];
    for label in Label::ALL {
        let max = LONG_WINDOWS
            .iter()
            .map(|w| sigmoid(w[label.index()]))
            .fold(0.0, f32::max);
        assert!((scores.get(label) - max).abs() < 1e-5, "{label}");
    }
    // The hateful sentence sits past the first window, and still counts.
    let first_only = sigmoid(LONG_WINDOWS[0][Label::IdentityHate.index()]);
    assert!(scores.get(Label::IdentityHate) > first_only);
}

#[test]
fn a_text_scores_the_same_alone_and_in_a_padded_batch() {
    let long = long_text();
    let mut texts: Vec<&str> = reference_cases().iter().map(|(t, _)| *t).collect();
    texts.push(&long);
    texts.push("ok");
    let batch = model().score_batch(&texts).expect("batch");
    for (text, in_batch) in texts.iter().zip(batch) {
        let alone = model().score_batch(&[text]).expect("alone")[0];
        assert_close(text, &in_batch.0, &alone.0, 1e-5);
    }
}

#[test]
fn model_id_names_backend_model_and_weights_hash() {
    let id = model().model_id();
    let (name, hash) = id.strip_prefix("onnx:").unwrap().split_once('@').unwrap();
    assert_eq!(name, "minilm-toxic");
    assert_eq!(hash.len(), 12);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
}

fn project_config(backend: &str) -> Config {
    let mut config = Config::load_file(&root().join("config.toml")).expect("config.toml");
    // One model for every language: the subject is the backend.
    config.model.languages.clear();
    if backend == "onnx" {
        config.model.backend = modgate::config::Backend::Onnx;
        config.model.dir = model_dir();
        config.model.onnx_runtime = Some(library());
        config.model.threads = 1;
    } else {
        config.model.backend = modgate::config::Backend::Bilstm;
        config.model.dir = root().join("models/bilstm");
    }
    config
}

#[test]
fn the_same_comment_through_both_backends_carries_each_model_id() {
    let text = "Thank you for this report on the new water pipeline in Nukus.";
    let mut ids = Vec::new();
    for backend in ["bilstm", "onnx"] {
        let config = project_config(backend);
        let scorer = Scorer::from_config(&config).expect("scorer");
        let model = classifier::load(&config).unwrap_or_else(|e| panic!("{backend}: {e}"));
        let verdict = scorer
            .score_with(model.as_ref(), text, AuthorStanding::default())
            .expect("verdict");
        assert_eq!(verdict.model_id, model.model_id());
        ids.push(verdict.model_id);
    }
    assert!(ids[0].starts_with("bilstm"), "{ids:?}");
    assert!(ids[1].starts_with("onnx:minilm-toxic@"), "{ids:?}");
}

fn load_error(dir: &Path, options: &OnnxOptions) -> (String, String) {
    match OnnxClassifier::load(dir, options) {
        Err(ClassifierError::Load { path, message }) => (path, message),
        Err(e) => panic!("expected a load error, got {e}"),
        Ok(_) => panic!("expected a load error for {}", dir.display()),
    }
}

#[test]
fn a_missing_library_is_a_clear_load_error() {
    let missing = root().join("models/onnxruntime/no-such-libonnxruntime.so");
    let options = OnnxOptions {
        runtime: Some(missing.clone()),
        ..options()
    };
    let (path, message) = load_error(&model_dir(), &options);
    assert_eq!(path, missing.display().to_string());
    assert!(
        message.contains("ONNX Runtime library not found"),
        "{message}"
    );
    assert!(message.contains("models/fetch-models.sh"), "{message}");
}

/// A scratch model directory: links to the real files except those left out or replaced.
fn scratch_dir(skip: &[&str], config_json: Option<String>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "model.onnx",
        "tokenizer.json",
        "tokenizer_config.json",
        "config.json",
    ] {
        if skip.contains(&name) || (name == "config.json" && config_json.is_some()) {
            continue;
        }
        std::os::unix::fs::symlink(model_dir().join(name), dir.path().join(name)).unwrap();
    }
    if let Some(text) = config_json {
        std::fs::write(dir.path().join("config.json"), text).unwrap();
    }
    dir
}

#[test]
fn missing_model_files_name_the_file_and_what_was_expected() {
    for (skip, file, expected) in [
        ("model.onnx", "model.onnx", "Hugging Face style directory"),
        (
            "tokenizer.json",
            "tokenizer.json",
            "expected the model's tokenizer.json",
        ),
        ("config.json", "config.json", "id2label"),
    ] {
        let dir = scratch_dir(&[skip], None);
        let (path, message) = load_error(dir.path(), &options());
        assert!(path.ends_with(file), "{skip}: {path}");
        assert!(message.contains(expected), "{skip}: {message}");
    }
}

/// The int8 models keep their weights in `model.onnx.data` (memory-mapped by ONNX Runtime).
/// Without it the load fails naming the file; the model id covers it, and config.json.
#[test]
fn an_int8_model_needs_its_external_data_file_and_its_id_covers_it() {
    let int8 = root().join("models/minilm-toxic-int8");
    assert!(
        int8.join("model.onnx.data").is_file(),
        "models/fetch-models.sh writes model.onnx.data"
    );
    let dir = tempfile::tempdir().unwrap();
    // Copied, not linked: ONNX Runtime looks for external data beside the graph's real path.
    std::fs::copy(int8.join("model.onnx"), dir.path().join("model.onnx")).unwrap();
    for name in ["tokenizer.json", "tokenizer_config.json", "config.json"] {
        std::fs::copy(int8.join(name), dir.path().join(name)).unwrap();
    }
    let (path, message) = load_error(dir.path(), &options());
    assert!(path.ends_with("model.onnx"), "{path}");
    assert!(message.contains("model.onnx.data"), "{message}");

    let data = std::fs::read(int8.join("model.onnx.data")).unwrap();
    std::fs::write(dir.path().join("model.onnx.data"), &data).unwrap();
    let same = OnnxClassifier::load(dir.path(), &options()).expect("loads with its data");
    let real = OnnxClassifier::load(&int8, &options()).expect("loads");
    let id = |m: &OnnxClassifier| m.model_id().split('@').nth(1).unwrap().to_string();
    assert_eq!(id(&same), id(&real));
    // One weight byte changed: another id.
    let mut changed = data.clone();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    std::fs::write(dir.path().join("model.onnx.data"), &changed).unwrap();
    let other = OnnxClassifier::load(dir.path(), &options()).expect("loads");
    assert_ne!(id(&other), id(&real));
    // config.json decides too (labels, activation).
    std::fs::write(dir.path().join("model.onnx.data"), &data).unwrap();
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(int8.join("config.json")).unwrap()).unwrap();
    config["note"] = serde_json::json!("edited");
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let edited = OnnxClassifier::load(dir.path(), &options()).expect("loads");
    assert_ne!(id(&edited), id(&real));
}

/// config.json of the real model with its labels renamed.
fn renamed_labels_config() -> String {
    let text = std::fs::read_to_string(model_dir().join("config.json")).unwrap();
    let mut config: serde_json::Value = serde_json::from_str(&text).unwrap();
    config["id2label"] = serde_json::json!({
        "0": "toxicity", "1": "severe_toxicity", "2": "obscene", "3": "threat",
        "4": "insult", "5": "identity_attack"
    });
    config.to_string()
}

#[test]
fn label_map_connects_model_labels_and_unmapped_labels_score_zero() {
    let dir = scratch_dir(&[], Some(renamed_labels_config()));
    let text = "Go back to where you came from, nobody wants your kind here!";
    let want = model().score_batch(&[text]).unwrap()[0];

    // Same-named labels map by themselves; the renamed ones score 0.
    let plain = OnnxClassifier::load(dir.path(), &options()).expect("load");
    let got = plain.score_batch(&[text]).unwrap()[0];
    for label in Label::ALL {
        let expect = match label {
            Label::Toxic | Label::SevereToxic | Label::IdentityHate => 0.0,
            _ => want.get(label),
        };
        assert!((got.get(label) - expect).abs() < 1e-6, "{label}");
    }

    let mut mapped = options();
    mapped.label_map = [("toxic", "toxicity"), ("identity_hate", "identity_attack")]
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .into();
    let got = OnnxClassifier::load(dir.path(), &mapped)
        .expect("load")
        .score_batch(&[text])
        .unwrap()[0];
    assert!((got.get(Label::Toxic) - want.get(Label::Toxic)).abs() < 1e-6);
    assert!((got.get(Label::IdentityHate) - want.get(Label::IdentityHate)).abs() < 1e-6);
    assert_eq!(got.get(Label::SevereToxic), 0.0);

    mapped.label_map.insert("threat".into(), "violence".into());
    let (_, message) = load_error(dir.path(), &mapped);
    assert!(message.contains("no such label"), "{message}");
    assert!(
        message.contains("identity_attack"),
        "lists the model's labels: {message}"
    );
}

fn modgate_score(config: &str, env_dylib: Option<&Path>) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_modgate"));
    cmd.arg("--config")
        .arg(&path)
        .arg("score")
        .arg("Have a nice day");
    cmd.env_remove("ORT_DYLIB_PATH")
        .env_remove("MODGATE_CONFIG");
    if let Some(lib) = env_dylib {
        cmd.env("ORT_DYLIB_PATH", lib);
    }
    cmd.output().expect("run modgate")
}

#[test]
fn a_file_that_is_not_onnx_runtime_fails_with_its_path_in_a_fresh_process() {
    // A fresh process, since a loaded library stays for the life of the process.
    let not_a_library = model_dir().join("config.json");
    let config = format!(
        "[model]\nbackend = \"onnx\"\ndir = {:?}\nonnx_runtime = {:?}\n",
        model_dir(),
        not_a_library
    );
    let out = modgate_score(&config, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("cannot load ONNX Runtime"), "{stderr}");
    assert!(
        stderr.contains(&not_a_library.display().to_string()),
        "{stderr}"
    );
}

#[test]
fn ort_dylib_path_is_used_when_the_config_names_no_library() {
    let config = format!("[model]\nbackend = \"onnx\"\ndir = {:?}\n", model_dir());
    let out = modgate_score(&config, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("ORT_DYLIB_PATH is not set"), "{stderr}");

    let out = modgate_score(&config, Some(&library()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdict: serde_json::Value = serde_json::from_str(stdout.trim()).expect("verdict JSON");
    assert!(
        verdict["model_id"]
            .as_str()
            .unwrap()
            .starts_with("onnx:minilm-toxic@")
    );
}

async fn latest_verdict(app: &common::TestApp, id: i64) -> (String, String) {
    modgate::on_pool!(app.state.store.reader(), p => sqlx::query_as(
        "SELECT model_id, reasons FROM verdicts WHERE comment_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_one(p)
    .await)
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_scores_with_the_onnx_backend_through_the_batcher() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let mut config = common::test_config(&dir.path().join("m.db"));
    let onnx = project_config("onnx");
    config.model = onnx.model;
    let app = common::spawn_with(config, dir.clone()).await;
    let (code, out) = app
        .post_comment(
            "onnx",
            None,
            "ann",
            "Thank you, a clear and useful article.",
        )
        .await;
    assert_eq!(code, 201, "{out}");
    let (model_id, _) = latest_verdict(&app, out["id"].as_i64().unwrap()).await;
    assert!(model_id.starts_with("onnx:minilm-toxic@"), "{model_id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_library_the_service_starts_and_holds_comments_unscored() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let mut config = common::test_config(&dir.path().join("m.db"));
    config.model = project_config("onnx").model;
    config.model.onnx_runtime = Some(dir.path().join("libonnxruntime.so"));
    let app = common::spawn_with(config, dir.clone()).await;

    let (code, ready) = app.get_json("/readyz").await;
    assert_eq!(code, 503, "{ready}");
    assert_eq!(ready["model"], false);
    let (code, out) = app
        .post_comment("onnx", None, "ann", "Good morning, a friendly comment.")
        .await;
    assert_eq!(code, 201, "{out}");
    assert_eq!(out["status"], "pending");
    let (model_id, reasons) = latest_verdict(&app, out["id"].as_i64().unwrap()).await;
    assert_eq!(model_id, classifier::UNAVAILABLE_MODEL_ID);
    assert!(reasons.contains("unscored"), "{reasons}");
}
