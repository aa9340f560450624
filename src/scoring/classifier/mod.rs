//! Classifier interface: texts in, per-label probabilities out. Backends live in submodules.

use crate::domain::Scores;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub mod bilstm;
pub mod by_language;
pub mod onnx;

use crate::config::Backend;
use crate::domain::Language;

#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    #[error("model file {path}: {message}")]
    Load { path: String, message: String },
    #[error("inference failed: {0}")]
    Inference(String),
    /// The model has more queued than it can score in time; try again later.
    #[error("the model is busy: {0}")]
    Busy(String),
}

/// A loaded model. Shared immutably across threads; `score_batch` must give the same
/// scores for a text whether it is scored alone or in a batch.
pub trait Classifier: Send + Sync {
    /// Identity stored with every verdict: backend, name and a hash of the weights.
    fn model_id(&self) -> &str;
    /// The model that scores `text`; differs from `model_id` only when models are chosen
    /// per language (`by_language`).
    fn model_id_for(&self, _text: &str) -> &str {
        self.model_id()
    }
    /// The model that scores text in `language` (already detected, or stated by the
    /// caller); `None` is text without letters.
    fn model_id_in(&self, _language: Option<Language>) -> &str {
        self.model_id()
    }
    /// Every id `model_id_for` can answer.
    fn model_ids(&self) -> Vec<&str> {
        vec![self.model_id()]
    }
    /// For each cascade model whose first stage may decide alone: (model id, windows
    /// scored, windows its first stage decided). Empty for other models.
    fn first_stage_counts(&self) -> Vec<(String, u64, u64)> {
        Vec::new()
    }
    /// Whether a model here was trained to read `language` (Perspective requests in
    /// other languages are refused rather than scored by a model that cannot read them).
    fn reads(&self, _language: Language) -> bool {
        true
    }
    /// What scoring `text` costs, in bytes of text scored: what the batcher charges a
    /// queue for it. Models that score at most a fixed length of a text say so here.
    fn cost(&self, text: &str) -> usize {
        text.len() + FIXED_TEXT_COST
    }
    fn score_batch(&self, texts: &[&str]) -> Result<Vec<Scores>, ClassifierError>;
    /// [`Classifier::score_batch`] for texts whose languages are known; only a model
    /// chosen per language uses them.
    fn score_batch_in(
        &self,
        texts: &[&str],
        _languages: &[Option<Language>],
    ) -> Result<Vec<Scores>, ClassifierError> {
        self.score_batch(texts)
    }
}

/// What every text costs besides its bytes: a forward pass has a fixed part however short
/// the text (special and prefix tokens, the call). With it the time per unit of cost is
/// about the same for a 30-byte comment as for a 2 KB one (e5-toxic-full-int8, two cores:
/// 32 tokens 6.8 ms, 512 tokens 102 ms), so a lane that has just scored short texts does
/// not overestimate a long one, nor the reverse.
pub const FIXED_TEXT_COST: usize = 128;

/// Loads the backend named by `config.model.backend` from `config.model_dir()`, and the
/// models of `[model.languages]` (each directory once) behind a `ByLanguage` router.
pub fn load(config: &crate::config::Config) -> Result<Arc<dyn Classifier>, ClassifierError> {
    let options = onnx::OnnxOptions::from_config(config);
    let default = load_one(config.model.backend, &config.model_dir(), &options)?;
    if config.model.languages.is_empty() {
        return Ok(default);
    }
    let mut loaded: Vec<(Backend, PathBuf, Arc<dyn Classifier>)> = Vec::new();
    let mut routes = Vec::new();
    for (code, route) in &config.model.languages {
        let Some(lang) = Language::parse(code.get_ref()) else {
            continue; // rejected by config validation
        };
        let dir = config.resolve(&route.dir);
        let same = |b: &Backend, d: &PathBuf| *b == route.backend && *d == dir;
        let model = match loaded.iter().find(|(b, d, _)| same(b, d)) {
            Some((_, _, m)) => Arc::clone(m),
            None => {
                let options = onnx::OnnxOptions {
                    label_map: route.label_map.clone(),
                    max_tokens: route.max_tokens,
                    ..options.clone()
                };
                let m = load_one(route.backend, &dir, &options)?;
                loaded.push((route.backend, dir, Arc::clone(&m)));
                m
            }
        };
        routes.push((lang, model));
    }
    Ok(Arc::new(by_language::ByLanguage::new(default, routes)))
}

fn load_one(
    backend: Backend,
    dir: &Path,
    options: &onnx::OnnxOptions,
) -> Result<Arc<dyn Classifier>, ClassifierError> {
    match backend {
        Backend::Bilstm => Ok(Arc::new(bilstm::BiLstm::load(dir)?)),
        Backend::Onnx => Ok(Arc::new(onnx::OnnxClassifier::load(dir, options)?)),
    }
}

/// Stands in when no model could be loaded (files missing or broken): every call fails,
/// so comments are stored as pending/unscored instead of being published unscored.
pub struct Unavailable {
    pub reason: String,
}

pub const UNAVAILABLE_MODEL_ID: &str = "unavailable";

impl Classifier for Unavailable {
    fn model_id(&self) -> &str {
        UNAVAILABLE_MODEL_ID
    }

    fn score_batch(&self, _texts: &[&str]) -> Result<Vec<Scores>, ClassifierError> {
        Err(ClassifierError::Inference(format!(
            "no model loaded: {}",
            self.reason
        )))
    }
}
