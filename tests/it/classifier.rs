//! The BiLSTM backend against the real model files in `models/bilstm/` (run
//! `models/fetch-models.sh` first; without them these tests fail with that instruction).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use modgate::domain::Scores;
use modgate::scoring::classifier::bilstm::BiLstm;
use modgate::scoring::classifier::{Classifier, ClassifierError};

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/bilstm")
}

fn model() -> &'static BiLstm {
    static MODEL: OnceLock<BiLstm> = OnceLock::new();
    MODEL.get_or_init(|| BiLstm::load(&model_dir()).unwrap_or_else(|e| panic!("{e}")))
}

fn score_one(text: &str) -> Scores {
    model().score_batch(&[text]).expect("scoring")[0]
}

fn assert_close(text: &str, got: Scores, want: [f32; 6], tol: f32) {
    for (j, (g, w)) in got.0.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol,
            "{text:?}: label {j}: got {g}, want {w} (scores {:?})",
            got.0
        );
    }
}

const LONG_NEUTRAL: &str =
    "The city council met on Tuesday to discuss the new bus routes and the budget for schools.";

fn long_neutral() -> String {
    [LONG_NEUTRAL; 8].join(" ")
}

/// Texts and scores from the numpy reference forward pass:
/// `cd models && .venv/bin/python -m modgate_models.reference_bilstm TEXT` (printed rounded to 6 places).
fn reference_cases() -> Vec<(String, [f32; 6])> {
    vec![
        (
            "You are so dumb and stupid!".into(),
            [0.98894, 0.072568, 0.620429, 0.019348, 0.866407, 0.040729],
        ),
        // Empty, unknown words only and punctuation only all become 100 padding ids.
        (
            "".into(),
            [0.067534, 0.002373, 0.029382, 0.001006, 0.015355, 0.004006],
        ),
        (
            "qwxzv blorptastic fnordle zzyzx".into(),
            [0.067534, 0.002373, 0.029382, 0.001006, 0.015355, 0.004006],
        ),
        (
            "!!! ??? ... --- (:) [] {}".into(),
            [0.067534, 0.002373, 0.029382, 0.001006, 0.015355, 0.004006],
        ),
        (
            "Ты такой тупой и глупый! Иди отсюда, идиот.".into(),
            [0.179759, 0.008637, 0.10689, 0.00412, 0.071407, 0.010256],
        ),
        (
            "Thank you for the thoughtful article about water policy in Tashkent.".into(),
            [0.008648, 1.2e-05, 0.001238, 1.8e-05, 0.001729, 0.000122],
        ),
        (
            "I will find you and kill you, you worthless piece of garbage".into(),
            [0.943951, 0.150171, 0.455479, 0.185887, 0.68306, 0.111066],
        ),
        // 140 words: only the last 100 ids count, so the leading insult is cut off…
        (
            format!("You idiot, shut up! {}", long_neutral()),
            [0.000701, 3e-06, 0.000177, 2e-06, 0.000108, 5.5e-05],
        ),
        // …and a trailing one is kept.
        (
            format!("{} You idiot, shut up!", long_neutral()),
            [0.627923, 0.006798, 0.26721, 0.003702, 0.244962, 0.018112],
        ),
        (
            "Sen ahmoqsan. Bu maqola juda yaxshi yozilgan, rahmat muallifga!".into(),
            [0.051263, 0.001329, 0.021863, 0.001014, 0.012616, 0.002616],
        ),
    ]
}

#[test]
fn matches_published_scores() {
    let text = "You are so dumb and stupid!";
    let want = [0.9889, 0.0726, 0.6204, 0.0193, 0.8664, 0.0407];
    assert_close(text, score_one(text), want, 1e-3);
}

#[test]
fn matches_numpy_reference_one_at_a_time() {
    for (text, want) in reference_cases() {
        assert_close(&text, score_one(&text), want, 1e-4);
    }
}

#[test]
fn matches_numpy_reference_in_one_batch() {
    let cases = reference_cases();
    let texts: Vec<&str> = cases.iter().map(|(t, _)| t.as_str()).collect();
    let got = model().score_batch(&texts).expect("scoring");
    assert_eq!(got.len(), cases.len());
    for ((text, want), got) in cases.iter().zip(got) {
        assert_close(text, got, *want, 1e-4);
    }
}

#[test]
fn plain_reference_path_matches_numpy_reference() {
    for (text, want) in reference_cases() {
        assert_close(&text, model().score_reference(&text), want, 1e-4);
    }
}

/// `n` texts of mixed lengths (0 to over 100 words) and languages.
fn mixed_texts(n: usize) -> Vec<String> {
    const WORDS: &str = "you are the best stupid article idiot thanks government kill привет \
                         дурак rahmat people hate love news fuck why qwxzv !!! Tashkent water bad";
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    (0..n)
        .map(|i| {
            let len = (i * 37) % 130;
            (0..len)
                .map(|j| words[(i * 7 + j * 13 + j * j) % words.len()])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn batch_scores_equal_single_scores() {
    // 150 texts: more than one 64-row pass per thread.
    let texts = mixed_texts(150);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let singles: Vec<Scores> = refs.iter().map(|t| score_one(t)).collect();
    for (text, single) in texts.iter().zip(&singles).step_by(5) {
        // The fast path (tables, padding cache, fast activations) against the plain one.
        assert_close(text, *single, model().score_reference(text).0, 1e-4);
    }
    for threads in [1, 2, 3] {
        let batch = model_with_threads(threads)
            .score_batch(&refs)
            .expect("batch");
        assert_eq!(batch.len(), texts.len());
        for ((text, b), single) in texts.iter().zip(&batch).zip(&singles) {
            // Each row's arithmetic is independent of the rest of the batch, so the
            // scores are identical, not just close.
            assert_eq!(b, single, "{text:?} with {threads} threads");
        }
    }
}

fn model_with_threads(threads: usize) -> BiLstm {
    BiLstm::load(&model_dir())
        .expect("load")
        .with_threads(threads)
}

#[test]
fn empty_batch_gives_no_scores() {
    assert!(model().score_batch(&[]).expect("scoring").is_empty());
}

#[test]
fn model_id_names_model_and_weights_hash() {
    let id = model().model_id();
    let hash = id
        .strip_prefix("bilstm-jigsaw@0.3.0+")
        .unwrap_or_else(|| panic!("unexpected model id {id}"));
    assert_eq!(hash.len(), 12);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
}

fn load_error(dir: &Path) -> (String, String) {
    match BiLstm::load(dir) {
        Err(ClassifierError::Load { path, message }) => (path, message),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("loaded from {}", dir.display()),
    }
}

#[test]
fn missing_model_dir_says_how_to_get_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope");
    let (path, message) = load_error(&missing);
    assert_eq!(path, missing.display().to_string());
    assert!(message.contains("models/fetch-models.sh"), "{message}");

    let (path, message) = load_error(dir.path());
    assert!(path.ends_with("vocab.json"), "{path}");
    assert!(message.contains("models/fetch-models.sh"), "{message}");
}

#[test]
fn wrong_tensor_shape_names_file_and_tensor() {
    use safetensors::tensor::{Dtype, TensorView};
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("vocab.json"),
        r#"{"num_words": 3, "filters": "!", "lower": true, "split": " ", "maxlen": 5,
            "labels": ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"],
            "word_index": {"a": 1, "b": 2}}"#,
    )
    .expect("write vocab");
    let embedding = vec![0u8; 3 * 50 * 4];
    let kernel = vec![0u8; 50 * 199 * 4];
    let tensors = [
        (
            "embedding",
            TensorView::new(Dtype::F32, vec![3, 50], &embedding).expect("view"),
        ),
        (
            "forward.kernel",
            TensorView::new(Dtype::F32, vec![50, 199], &kernel).expect("view"),
        ),
    ];
    let bytes = safetensors::serialize(tensors, None).expect("serialize");
    std::fs::write(dir.path().join("model.safetensors"), bytes).expect("write model");

    let (path, message) = load_error(dir.path());
    assert!(path.ends_with("model.safetensors"), "{path}");
    assert!(
        message.contains("forward.kernel") && message.contains("[50, 199]"),
        "{message}"
    );
}

#[test]
fn garbage_model_file_is_a_load_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        model_dir().join("vocab.json"),
        dir.path().join("vocab.json"),
    )
    .expect("copy");
    std::fs::write(dir.path().join("model.safetensors"), b"not a model").expect("write");
    let (path, message) = load_error(dir.path());
    assert!(path.ends_with("model.safetensors"), "{path}");
    assert!(message.contains("safetensors"), "{message}");
}
