//! The cascade copy of the default model (`models/e5-toxic-full-cascade-int8/`: the same
//! int8 encoder cut after its exit layer, `first.onnx` + `rest.onnx`), against the whole
//! model (`models/e5-toxic-full-int8/`) that fetch-models.sh builds from the same weights.

use std::path::{Path, PathBuf};

use modgate::domain::Label;
use modgate::scoring::classifier::Classifier;
use modgate::scoring::classifier::onnx::{OnnxClassifier, OnnxOptions};
use serde_json::Value;

const WHOLE: &str = "e5-toxic-full-int8";
const CASCADE: &str = "e5-toxic-full-cascade-int8";

const TEXTS: [&str; 8] = [
    "Thank you for this clear article about the new bridge in Almaty.",
    "The budget numbers in the third paragraph look wrong to me, can you check them?",
    "Спасибо автору, хорошая статья про бюджет и дороги.",
    "Рақмет, пайдалы және түсінікті мақала.",
    "Muslims are a disease and should be deported.",
    "You people are animals, go back to your country!",
    "Ты тупой идиот, я тебя найду.",
    "I will kill you and your whole family.",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(dir: &str, cascade: bool) -> OnnxClassifier {
    let options = OnnxOptions {
        runtime: Some(root().join("models/onnxruntime/libonnxruntime.so.1.31.1")),
        threads: 1,
        cascade,
        ..OnnxOptions::default()
    };
    OnnxClassifier::load(&root().join("models").join(dir), &options)
        .unwrap_or_else(|e| panic!("{dir}: {e} (run models/fetch-models.sh)"))
}

/// The exit rule as config.json states it: (label, bound).
fn bounds(dir: &Path) -> Vec<(Label, f32)> {
    let config: Value =
        serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    config["cascade"]["exit_below"]
        .as_object()
        .expect("cascade.exit_below")
        .iter()
        .map(|(l, b)| (Label::parse(l).unwrap(), b.as_f64().unwrap() as f32))
        .collect()
}

#[test]
fn with_its_exit_off_the_cascade_scores_as_the_whole_model() {
    let whole = load(WHOLE, true);
    let cascade = load(CASCADE, false);
    assert_eq!(cascade.cascade_exits(), None);
    let a = whole.score_batch(&TEXTS).unwrap();
    let b = cascade.score_batch(&TEXTS).unwrap();
    for ((text, a), b) in TEXTS.iter().zip(&a).zip(&b) {
        for (x, y) in a.0.iter().zip(b.0.iter()) {
            assert!((x - y).abs() < 1e-4, "{text}: {a:?} vs {b:?}");
        }
    }
    assert_ne!(whole.model_id(), cascade.model_id());
    assert!(
        cascade
            .model_id()
            .starts_with("onnx:e5-toxic-full-cascade-int8@")
    );
}

#[test]
fn the_first_stage_decides_only_below_its_bounds_and_abuse_goes_through_every_layer() {
    let whole = load(WHOLE, true);
    let cascade = load(CASCADE, true);
    let bounds = bounds(&root().join("models").join(CASCADE));
    let a = whole.score_batch(&TEXTS).unwrap();
    let b = cascade.score_batch(&TEXTS).unwrap();
    let (windows, exited) = cascade.cascade_exits().expect("exit rule on");
    assert_eq!(windows, TEXTS.len() as u64);
    // Some harmless comments are decided by the first stage; never abuse.
    assert!(exited >= 1, "no comment exited early");
    for (i, (text, (a, b))) in TEXTS.iter().zip(a.iter().zip(&b)).enumerate() {
        let same =
            a.0.iter()
                .zip(b.0.iter())
                .all(|(x, y)| (x - y).abs() < 1e-4);
        if i >= 4 {
            assert!(
                same,
                "{text}: abuse must be scored by every layer: {a:?} vs {b:?}"
            );
        }
        if !same {
            // Decided by the first stage: every bounded label below its bound, and so
            // below the shipped config's lowest action threshold for it.
            for &(label, bound) in &bounds {
                assert!(
                    b.get(label) < bound,
                    "{text}: {label:?} {} >= {bound}",
                    b.get(label)
                );
            }
        }
    }
}

#[test]
fn thresholds_the_exit_rule_would_hide_refuse_the_model_by_their_key() {
    let load_with = |thresholds: Vec<(Label, f32, &str)>, cascade: bool| {
        let options = OnnxOptions {
            runtime: Some(root().join("models/onnxruntime/libonnxruntime.so.1.31.1")),
            threads: 1,
            cascade,
            action_thresholds: thresholds
                .into_iter()
                .map(|(l, v, k)| (l, v, k.to_string()))
                .collect(),
            ..OnnxOptions::default()
        };
        OnnxClassifier::load(&root().join("models").join(CASCADE), &options).map(|_| ())
    };
    // The shipped thresholds keep the margin the bounds were chosen with.
    let config = modgate::config::Config::load_file(&root().join("config.toml")).unwrap();
    let shipped = OnnxOptions::from_config(&config).action_thresholds;
    assert!(shipped.iter().any(|(l, _, _)| *l == Label::Threat));
    let borrowed: Vec<(Label, f32, &str)> = shipped
        .iter()
        .map(|(l, v, k)| (*l, *v, k.as_str()))
        .collect();
    load_with(borrowed, true).expect("the shipped thresholds");

    // Too close to a bound: named by its key.
    let err = load_with(
        vec![(
            Label::Toxic,
            0.3,
            "policy.languages.ru.thresholds.toxic.hold_at",
        )],
        true,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("policy.languages.ru.thresholds.toxic.hold_at = 0.3")
            && err.contains("cascade = false"),
        "{err}"
    );
    // A label the first stage does not bound.
    let err = load_with(
        vec![(Label::Insult, 0.9, "policy.thresholds.insult.hold_at")],
        true,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("policy.thresholds.insult.hold_at")
            && err.contains("no exit bound for insult"),
        "{err}"
    );
    // With the exit rule off every comment goes through all layers: any threshold works.
    load_with(
        vec![(Label::Insult, 0.9, "policy.thresholds.insult.hold_at")],
        false,
    )
    .unwrap();
}

/// Served with the cascade, `/metrics` counts the windows it scored and those its first
/// stage decided alone, per model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_the_first_stage_decided() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let mut config = crate::common::default_config(&dir.path().join("m.db"));
    config.model.dir = root().join("models").join(CASCADE);
    let app = crate::common::spawn_with(config, dir.clone()).await;
    for (i, body) in TEXTS.iter().enumerate() {
        let (code, out) = app
            .post_comment("cascade", None, &format!("r{i}"), body)
            .await;
        assert_eq!(code, 201, "{out}");
    }
    let text = app.metrics_text().await;
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| {
                let (n, v) = l.rsplit_once(' ')?;
                (n.starts_with(name) && n.contains("e5-toxic-full-cascade-int8"))
                    .then(|| v.parse().unwrap())
            })
            .unwrap_or_else(|| panic!("{name} not in /metrics:\n{text}"))
    };
    let windows = value("modgate_cascade_windows_total{");
    let first = value("modgate_cascade_first_stage_windows_total{");
    // Every comment once, the identity counterfactual's re-scoring of held ones besides.
    assert!(windows >= TEXTS.len() as f64, "{windows}");
    assert!(first >= 1.0 && first < windows, "{first} of {windows}");
}

/// `[model] sessions = 2` runs two scoring workers on one shared ONNX Runtime session
/// (onnx/shared_run.rs): forward passes at once must give each text exactly what one
/// pass at a time gives, for the whole model and for both stages of the cascade.
#[test]
fn forward_passes_at_once_on_one_session_score_as_one_at_a_time() {
    for (dir, cascade) in [(WHOLE, false), (CASCADE, true)] {
        let model = load(dir, cascade);
        let alone: Vec<_> = TEXTS
            .iter()
            .map(|t| model.score_batch(&[t]).unwrap()[0].0)
            .collect();
        let start = std::sync::Barrier::new(4);
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|w| {
                    let (model, alone, start) = (&model, &alone, &start);
                    s.spawn(move || {
                        for round in 0..6 {
                            // Every round starts together, so the passes overlap.
                            start.wait();
                            // Each worker starts at another text, so different texts
                            // (and both cascade stages) overlap.
                            for k in 0..TEXTS.len() {
                                let i = (k + w + round) % TEXTS.len();
                                let got = model.score_batch(&[TEXTS[i]]).unwrap()[0].0;
                                assert_eq!(got, alone[i], "{dir}: {}", TEXTS[i]);
                            }
                        }
                    })
                })
                .collect();
            for w in workers {
                w.join().unwrap();
            }
        });
    }
}
