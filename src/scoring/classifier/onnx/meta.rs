//! What a Hugging Face style model directory says about its outputs and input length:
//! `config.json` (`id2label`, `problem_type`, `max_position_embeddings`, `pad_token_id`,
//! and the languages it reads: `languages`, else guessed from `vocab_size`) and
//! `tokenizer_config.json` (`model_max_length`). A model cut into two stages (`first.onnx`,
//! `rest.onnx`) says where and when its first stage decides alone in `cascade`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::domain::Label;

use crate::domain::Language;
use crate::scoring::classifier::ClassifierError;

/// A vocabulary this large is a multilingual one (XLM-R's 250,002 pieces, mBERT's
/// 119,547); English BERT-style vocabularies hold about 30,000.
const MULTILINGUAL_VOCABULARY: usize = 100_000;

/// How logits become probabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `problem_type = "multi_label_classification"`: one sigmoid per label.
    Sigmoid,
    /// Anything else: softmax over all labels.
    Softmax,
}

#[derive(Debug)]
pub struct ModelMeta {
    /// Model label names in output order.
    pub labels: Vec<String>,
    pub activation: Activation,
    /// Tokens per window, special tokens included.
    pub max_tokens: usize,
    pub pad_id: i64,
    /// Languages the model reads.
    pub languages: Vec<Language>,
    /// Where a two-stage model's first stage may decide alone.
    pub cascade: Option<Cascade>,
}

/// A two-stage model's exit rule: after its first layers (config.json's `exit_after`, for
/// people: the graphs themselves are cut there) the first stage estimates the
/// whole model's logits; when every bounded label's estimate is below its bound, the
/// estimate is the score and the other layers are skipped.
#[derive(Debug, Clone)]
pub struct Cascade {
    /// How far (in logits) each bound lies below the lowest action threshold it was chosen
    /// for: thresholds must keep that distance.
    pub exit_margin: f32,
    /// (model output, probability bound).
    pub exit_below: Vec<(usize, f32)>,
}

#[derive(Deserialize)]
struct CascadeJson {
    exit_margin: f32,
    exit_below: BTreeMap<String, f32>,
}

#[derive(Deserialize)]
struct ConfigJson {
    #[serde(default)]
    id2label: BTreeMap<String, String>,
    #[serde(default)]
    problem_type: Option<String>,
    #[serde(default)]
    max_position_embeddings: Option<usize>,
    #[serde(default)]
    pad_token_id: Option<i64>,
    #[serde(default)]
    vocab_size: Option<usize>,
    /// modgate's own key: ISO 639-1 codes of the languages the model was trained to read.
    #[serde(default)]
    languages: Option<Vec<String>>,
    /// modgate's own key, for models built as two stages.
    #[serde(default)]
    cascade: Option<CascadeJson>,
}

#[derive(Deserialize)]
struct TokenizerConfigJson {
    #[serde(default)]
    model_max_length: Option<f64>,
}

fn load_err(path: &Path, message: impl Into<String>) -> ClassifierError {
    ClassifierError::Load {
        path: path.display().to_string(),
        message: message.into(),
    }
}

impl ModelMeta {
    pub fn read(
        dir: &Path,
        max_tokens_override: Option<usize>,
    ) -> Result<ModelMeta, ClassifierError> {
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            load_err(
                &path,
                format!(
                    "cannot read ({e}); expected the model's Hugging Face config.json with id2label"
                ),
            )
        })?;
        let config: ConfigJson = serde_json::from_str(&text)
            .map_err(|e| load_err(&path, format!("not a valid config.json: {e}")))?;
        let mut ids: Vec<(usize, String)> = Vec::with_capacity(config.id2label.len());
        for (k, v) in config.id2label {
            let i = k
                .parse::<usize>()
                .map_err(|_| load_err(&path, format!("id2label: key `{k}` is not a number")))?;
            ids.push((i, v));
        }
        ids.sort();
        if ids.is_empty() || ids.iter().enumerate().any(|(n, (i, _))| n != *i) {
            return Err(load_err(
                &path,
                "id2label must number the labels 0..n without gaps",
            ));
        }
        let labels: Vec<String> = ids.into_iter().map(|(_, l)| l).collect();
        let cascade = match config.cascade {
            None => None,
            Some(c) => {
                let mut exit_below = Vec::new();
                for (label, bound) in &c.exit_below {
                    let output = labels.iter().position(|l| l == label).ok_or_else(|| {
                        load_err(
                            &path,
                            format!("cascade.exit_below: the model has no label `{label}`"),
                        )
                    })?;
                    if !(*bound > 0.0 && *bound < 1.0) {
                        return Err(load_err(
                            &path,
                            format!(
                                "cascade.exit_below.{label} = {bound}: must be between 0 and 1"
                            ),
                        ));
                    }
                    exit_below.push((output, *bound));
                }
                if exit_below.is_empty() {
                    return Err(load_err(&path, "cascade.exit_below names no label"));
                }
                if c.exit_margin.is_nan() || c.exit_margin < 0.0 {
                    return Err(load_err(
                        &path,
                        format!("cascade.exit_margin = {}: must be 0 or more", c.exit_margin),
                    ));
                }
                Some(Cascade {
                    exit_margin: c.exit_margin,
                    exit_below,
                })
            }
        };
        let activation = match config.problem_type.as_deref() {
            Some("multi_label_classification") => Activation::Sigmoid,
            _ => Activation::Softmax,
        };
        let positions = config.max_position_embeddings.unwrap_or(512);
        let declared = read_model_max_length(&dir.join("tokenizer_config.json"))?;
        let max_tokens = max_tokens_override
            .or(declared.filter(|&n| n <= positions))
            .unwrap_or(positions);
        if max_tokens < 8 || max_tokens > positions {
            return Err(load_err(
                &path,
                format!(
                    "max tokens {max_tokens} must be between 8 and max_position_embeddings ({positions})"
                ),
            ));
        }
        let languages = match &config.languages {
            Some(codes) => codes
                .iter()
                .map(|c| {
                    Language::parse(c).ok_or_else(|| {
                        load_err(
                            &path,
                            format!(
                                "languages: `{c}` is not a language modgate detects ({})",
                                Language::codes()
                            ),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            None if config.vocab_size.unwrap_or(0) >= MULTILINGUAL_VOCABULARY => {
                Language::ALL.to_vec()
            }
            None => vec![Language::En],
        };
        Ok(ModelMeta {
            labels,
            activation,
            max_tokens,
            pad_id: config.pad_token_id.unwrap_or(0),
            languages,
            cascade,
        })
    }

    /// For each modgate label, the model output that feeds it (or none: the label scores 0).
    /// `label_map` entries win; other labels match a model label of the same name.
    pub fn map_labels(
        &self,
        label_map: &BTreeMap<String, String>,
        config_path: &Path,
    ) -> Result<[Option<usize>; 6], ClassifierError> {
        let mut out = [None; 6];
        for (name, target) in label_map {
            let label = Label::parse(name).ok_or_else(|| {
                load_err(
                    config_path,
                    format!("model.label_map: unknown modgate label `{name}`"),
                )
            })?;
            let index = self.labels.iter().position(|l| l == target).ok_or_else(|| {
                load_err(
                    config_path,
                    format!(
                        "model.label_map.{name} = `{target}`: the model has no such label (its labels: {})",
                        self.labels.join(", ")
                    ),
                )
            })?;
            out[label.index()] = Some(index);
        }
        for label in Label::ALL {
            if out[label.index()].is_none() && !label_map.contains_key(label.as_str()) {
                out[label.index()] = self.labels.iter().position(|l| l == label.as_str());
            }
        }
        if out.iter().all(Option::is_none) {
            return Err(load_err(
                config_path,
                format!(
                    "none of the model's labels ({}) maps to a modgate label; set [model.label_map]",
                    self.labels.join(", ")
                ),
            ));
        }
        Ok(out)
    }
}

fn read_model_max_length(path: &Path) -> Result<Option<usize>, ClassifierError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(load_err(path, format!("cannot read: {e}"))),
    };
    let config: TokenizerConfigJson =
        serde_json::from_str(&text).map_err(|e| load_err(path, format!("not valid JSON: {e}")))?;
    // Tokenizers without a limit declare a huge sentinel (1e30); ignored by the caller.
    Ok(config
        .model_max_length
        .filter(|n| *n >= 1.0 && *n < 1e9)
        .map(|n| n as usize))
}
