//! Keras BiLSTM from `toxic-comment-classifier` 0.3.0 (Jigsaw 2018, MIT), converted by
//! `models/fetch-models.sh`: Embedding(20000, 50) → Bidirectional(LSTM(50)) → global max
//! pool → Dense(50, relu) → Dense(6, sigmoid). Pure Rust, CPU only.

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest, Sha256};

use crate::domain::Scores;

use super::{Classifier, ClassifierError};

mod forward;
mod kernels;
mod naive;
mod tokenizer;
mod weights;

use forward::Network;
use tokenizer::Tokenizer;
use weights::Weights;

pub const MODEL_FILE: &str = "model.safetensors";
pub const VOCAB_FILE: &str = "vocab.json";
const MODEL_NAME: &str = "bilstm-jigsaw@0.3.0";
/// Below this many texts per thread, splitting a batch costs more than it saves.
const MIN_TEXTS_PER_THREAD: usize = 4;
/// Chunks per thread when a batch is split, for load balancing.
const CHUNKS_PER_THREAD: usize = 4;

pub struct BiLstm {
    tokenizer: Tokenizer,
    weights: Weights,
    network: Network,
    model_id: String,
    threads: usize,
}

impl BiLstm {
    /// Loads `model.safetensors` and `vocab.json` from `dir`. Uses all available cores for
    /// large batches; see [`BiLstm::with_threads`].
    pub fn load(dir: &Path) -> Result<BiLstm, ClassifierError> {
        if !dir.is_dir() {
            return Err(ClassifierError::Load {
                path: dir.display().to_string(),
                message: "model directory not found; run models/fetch-models.sh to download \
                          and convert the model"
                    .into(),
            });
        }
        let vocab_path = dir.join(VOCAB_FILE);
        let model_path = dir.join(MODEL_FILE);
        for path in [&vocab_path, &model_path] {
            if !path.is_file() {
                return Err(ClassifierError::Load {
                    path: path.display().to_string(),
                    message: "not found; run models/fetch-models.sh to download and convert \
                              the model"
                        .into(),
                });
            }
        }
        let tokenizer = Tokenizer::load(&vocab_path)?;
        let bytes = std::fs::read(&model_path).map_err(|e| ClassifierError::Load {
            path: model_path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        let weights = Weights::parse(&model_path, &bytes, tokenizer.num_words())?;
        let digest = hex::encode(Sha256::digest(&bytes));
        let network = Network::new(&weights, tokenizer.maxlen());
        Ok(BiLstm {
            tokenizer,
            weights,
            network,
            model_id: format!("{MODEL_NAME}+{}", &digest[..12]),
            threads: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
        })
    }

    /// Most threads one `score_batch` call may use (at least 1).
    pub fn with_threads(mut self, threads: usize) -> BiLstm {
        self.threads = threads.max(1);
        self
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// How many words of `text` the model uses (known words, at most the last 100): 0 means
    /// the model sees the text as empty, e.g. a language it was not trained on.
    pub fn known_words(&self, text: &str) -> usize {
        let mut ids = Vec::new();
        self.tokenizer.encode(text, &mut ids);
        ids.len()
    }

    /// The plain forward pass for one text: per-step matrix–vector products over all
    /// padding steps, libm activations, no precomputed tables or caches. Slow; kept as the
    /// in-crate reference for tests and the benchmark baseline.
    pub fn score_reference(&self, text: &str) -> Scores {
        let mut ids = Vec::new();
        self.tokenizer.encode(text, &mut ids);
        let mut padded = vec![0u32; self.tokenizer.maxlen() - ids.len()];
        padded.extend_from_slice(&ids);
        Scores(naive::forward(&self.weights, &padded))
    }
}

impl Classifier for BiLstm {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    /// Trained on English only (Jigsaw 2018).
    fn reads(&self, language: crate::domain::Language) -> bool {
        language == crate::domain::Language::En
    }

    fn score_batch(&self, texts: &[&str]) -> Result<Vec<Scores>, ClassifierError> {
        let ids: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| {
                let mut ids = Vec::new();
                self.tokenizer.encode(t, &mut ids);
                ids
            })
            .collect();
        // Longest first, so sequences of similar length share steps (see forward.rs).
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
        let seqs: Vec<&[u32]> = order.iter().map(|&i| ids[i].as_slice()).collect();

        // Small chunks handed out on demand rather than one share per thread: a thread
        // whose core is busy with other work takes fewer chunks instead of holding up the
        // batch. Contiguous chunks of the sorted order keep similar lengths together.
        let threads = self.threads.min(texts.len() / MIN_TEXTS_PER_THREAD).max(1);
        let chunk = if threads == 1 {
            seqs.len().max(1)
        } else {
            seqs.len()
                .div_ceil(threads * CHUNKS_PER_THREAD)
                .max(MIN_TEXTS_PER_THREAD)
        };
        let chunks: Vec<&[&[u32]]> = seqs.chunks(chunk).collect();
        let next = AtomicUsize::new(0);
        let work = || {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(c) = chunks.get(i) else { break };
                done.push((i, self.network.run(c)));
            }
            done
        };
        let done =
            std::thread::scope(|s| {
                let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
                let mut done = work();
                for h in helpers {
                    done.extend(h.join().map_err(|_| {
                        ClassifierError::Inference("a scoring thread panicked".into())
                    })?);
                }
                Ok::<_, ClassifierError>(done)
            })?;
        let mut scores = vec![Scores::default(); texts.len()];
        for (i, result) in done {
            for (j, s) in result.into_iter().enumerate() {
                scores[order[i * chunk + j]] = Scores(s);
            }
        }
        Ok(scores)
    }
}
