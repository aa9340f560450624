//! Transformer classifiers exported to ONNX, run by ONNX Runtime (`ort`, library loaded at
//! run time) with Hugging Face `tokenizers`.
//!
//! The model directory has the Hugging Face layout: `model.onnx` (inputs `input_ids`,
//! `attention_mask`, optionally `token_type_ids`; output `logits`), `tokenizer.json` and
//! `config.json` (`id2label`, `problem_type`). Texts longer than the model's window are
//! scored as overlapping windows and each label takes its maximum over the windows. A batch
//! is padded per forward pass to its longest window; padding is masked, so a text's scores
//! do not depend on its batch beyond float rounding (~1e-7). Dynamically quantised models
//! (`DynamicQuantizeLinear`, as onnxruntime's `quantize_dynamic` writes them) are the
//! exception: one activation scale per tensor covers the whole pass, so a text's scores
//! moved by up to 0.06 with its batch-mates (e5-toxic-full-int8 on the seed thread). They
//! run one window per pass, which costs them nothing on the CPU (batch 1 was as fast per
//! comment as batch 32) and makes every verdict independent of what else was queued.
//!
//! A cascade model has two graphs instead of `model.onnx`: `first.onnx` (the first layers,
//! their token states as `hidden`, and `exit_logits`, the first stage's estimate of the
//! whole model's logits) and `rest.onnx` (`hidden`, `attention_mask` -> `logits`). Where
//! `config.json`'s `cascade.exit_below` bounds every estimate, the estimate is the
//! window's score and the other layers are skipped; everything else goes on through
//! `rest.onnx`, which gives what the whole model would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::{Tensor, ValueType};
use sha2::{Digest, Sha256};
use tokenizers::{Encoding, PostProcessor, TruncationDirection};

use crate::config::Vocabulary;
use crate::domain::{Label, Scores};

use super::{Classifier, ClassifierError};

mod meta;
pub mod runtime;
mod shared_run;
pub mod unigram;
pub mod vocabulary;

pub use meta::{Activation, Cascade, ModelMeta};
pub use unigram::PieceTokenizer;
use unigram::TokenModel;

/// Most tokens (rows × padded length) in one forward pass.
const TOKENS_PER_RUN: usize = 8192;
/// Most rows × len² in one forward pass: bounds the attention buffers (rows × heads × len²
/// floats; 48 MB with 12 heads) when a batch holds long windows.
const ATTENTION_PER_RUN: usize = 1 << 20;
/// Where the forward pass starting at `start` ends, for windows sorted longest first. A
/// pass pads every row to its longest; a window shorter than 4/5 of it starts the next
/// pass: on the CPU a bigger batch saves little, padding costs in full.
fn run_end(lengths: &[usize], start: usize) -> usize {
    let longest = lengths[start].max(1);
    let most = (TOKENS_PER_RUN / longest)
        .min(ATTENTION_PER_RUN / (longest * longest))
        .max(1);
    let mut end = start + 1;
    while end < lengths.len() && end - start < most && lengths[end] * 5 >= lengths[start] * 4 {
        end += 1;
    }
    end
}

/// Everything the backend takes from `[model]` besides the directory.
#[derive(Clone, Debug, Default)]
pub struct OnnxOptions {
    /// `libonnxruntime.so`; `None` falls back to `ORT_DYLIB_PATH`.
    pub runtime: Option<PathBuf>,
    /// Intra-op threads; 0 lets ONNX Runtime decide.
    pub threads: usize,
    /// modgate label → model label.
    pub label_map: BTreeMap<String, String>,
    pub max_tokens: Option<usize>,
    /// Most windows scored per text (0: all); see [`pick_windows`].
    pub max_windows: usize,
    /// Which SentencePiece pieces the tokenizer keeps (see [`vocabulary`]).
    pub vocabulary: Vocabulary,
    /// ONNX Runtime's graph optimisations (all by default; the onnx bench compares them).
    pub optimization: Optimization,
    /// Let a cascade model's first stage decide alone where it may (`[model] cascade`).
    pub cascade: bool,
    /// Every model action threshold of `[policy]` as (label, value, its config key): a
    /// cascade's exit rule must leave each one its margin.
    pub action_thresholds: Vec<(Label, f32, String)>,
    /// Where the options came from, for error messages.
    pub config_path: PathBuf,
}

impl OnnxOptions {
    pub fn from_config(config: &crate::config::Config) -> OnnxOptions {
        OnnxOptions {
            runtime: config.onnx_runtime_path(),
            threads: config.model.threads,
            label_map: config.model.label_map.clone(),
            max_tokens: config.model.max_tokens,
            max_windows: config.model.max_windows,
            vocabulary: config.model.vocabulary,
            optimization: Optimization::All,
            cascade: config.model.cascade,
            action_thresholds: action_thresholds(&config.policy),
            config_path: config.source.clone(),
        }
    }
}

/// Every `hold_at` / `remove_at` of `[policy.thresholds]` and `[policy.languages.*]`.
fn action_thresholds(policy: &crate::config::PolicyConfig) -> Vec<(Label, f32, String)> {
    let mut out = Vec::new();
    let mut add = |table: String, name: &str, t: &crate::config::Threshold| {
        let Some(label) = Label::parse(name) else {
            return; // rejected by config validation
        };
        for (what, v) in [("hold_at", t.hold_at), ("remove_at", t.remove_at)] {
            if let Some(v) = v {
                out.push((label, v, format!("{table}.{name}.{what}")));
            }
        }
    };
    for (name, t) in &policy.thresholds {
        add("policy.thresholds".into(), name, t);
    }
    for (lang, p) in &policy.languages {
        for (name, t) in &p.thresholds {
            add(
                format!("policy.languages.{}.thresholds", lang.get_ref()),
                name.get_ref(),
                t.get_ref(),
            );
        }
    }
    out
}

pub struct OnnxClassifier {
    model_id: String,
    tokenizer: PieceTokenizer,
    /// The model's id for each tokenizer id, when the vocabulary was trimmed.
    model_ids: Option<Vec<u32>>,
    /// One session per graph, shared by every scoring worker: concurrent batches run side
    /// by side on it (`shared_run`), with the weights in memory once.
    stages: Stages,
    meta: ModelMeta,
    /// Model output feeding each modgate label.
    outputs: [Option<usize>; 6],
    token_type_ids: bool,
    /// The graph quantises activations per pass: one window per forward pass.
    one_window_per_pass: bool,
    max_windows: usize,
    /// The exit rule, for a cascade model with `[model] cascade` on.
    exit: Option<Cascade>,
    /// Windows scored, and how many of them the first stage decided alone.
    windows_scored: AtomicU64,
    windows_exited: AtomicU64,
}

/// One session per graph: the whole model, or a cascade's two stages.
struct Stages {
    first: Session,
    rest: Option<Session>,
}

fn load_err(path: &Path, message: impl Into<String>) -> ClassifierError {
    ClassifierError::Load {
        path: path.display().to_string(),
        message: message.into(),
    }
}

impl OnnxClassifier {
    pub fn load(dir: &Path, options: &OnnxOptions) -> Result<OnnxClassifier, ClassifierError> {
        let model_path = dir.join("model.onnx");
        let (first_path, rest_path) = (dir.join("first.onnx"), dir.join("rest.onnx"));
        let cascade = !model_path.is_file() && first_path.is_file() && rest_path.is_file();
        if !model_path.is_file() && !cascade {
            return Err(load_err(
                &model_path,
                "not found: the onnx backend expects a Hugging Face style directory with model.onnx \
                 (or a cascade's first.onnx and rest.onnx), tokenizer.json and config.json \
                 (models/fetch-models.sh builds models/minilm-toxic)",
            ));
        }
        let meta = ModelMeta::read(dir, options.max_tokens)?;
        if cascade && meta.cascade.is_none() {
            return Err(load_err(
                &dir.join("config.json"),
                "first.onnx and rest.onnx need a `cascade` section (exit_margin, exit_below)",
            ));
        }
        let outputs = meta.map_labels(&options.label_map, &options.config_path)?;
        let (tokenizer, model_ids) =
            load_tokenizer(&dir.join("tokenizer.json"), options.vocabulary)?;

        let env = runtime::environment(&runtime::library_path(options.runtime.as_deref())?)?;
        let first_path = if cascade { first_path } else { model_path };
        let open = |path: &Path| open_session(env, path, options.threads, options.optimization);
        if let (Some(c), true) = (&meta.cascade, options.cascade) {
            check_exit_margins(c, &outputs, &meta, options, &dir.join("config.json"))?;
        }
        let stages = Stages {
            first: open(&first_path)?,
            rest: if cascade {
                Some(open(&rest_path)?)
            } else {
                None
            },
        };
        let token_type_ids = match &stages.rest {
            None => check_signature(&stages.first, &first_path, meta.labels.len())?,
            Some(rest) => check_cascade_signature(&stages.first, rest, &first_path, &rest_path)?,
        };

        // The id's digest covers every file that decides a score, so a verdict names exactly
        // what decided it: the graphs (a cascade's exit head is in first.onnx) with the
        // external data they name, config.json (labels, activation, a cascade's exit
        // bounds), the tokenizer's files, and a trimmed vocabulary.
        let graphs = if cascade {
            vec![&first_path, &rest_path]
        } else {
            vec![&first_path]
        };
        let mut hasher = Sha256::new();
        let mut one_window_per_pass = false;
        for graph in graphs {
            let (digest, quantised) =
                scan_model_file(graph).map_err(|e| load_err(graph, e.to_string()))?;
            hasher.update(digest.as_bytes());
            one_window_per_pass |= quantised;
        }
        for file in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
            let path = dir.join(file);
            if path.is_file() {
                let digest = file_digest(&path).map_err(|e| load_err(&path, e.to_string()))?;
                hasher.update(digest.as_bytes());
            }
        }
        if model_ids.is_some() {
            hasher.update(b"vocabulary=latin-cyrillic");
        }
        let digest = hex::encode(hasher.finalize());
        let name = dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "model".into());
        Ok(OnnxClassifier {
            model_id: format!("onnx:{name}@{}", &digest[..12]),
            tokenizer,
            model_ids,
            stages,
            outputs,
            token_type_ids,
            one_window_per_pass,
            max_windows: options.max_windows,
            exit: meta.cascade.clone().filter(|_| options.cascade),
            windows_scored: AtomicU64::new(0),
            windows_exited: AtomicU64::new(0),
            meta,
        })
    }

    /// A window's token ids as the model numbers them (the tokenizer's own ids differ
    /// when its vocabulary was trimmed).
    pub fn model_ids<'a>(&'a self, window: &'a Encoding) -> impl Iterator<Item = u32> + 'a {
        window
            .get_ids()
            .iter()
            .map(move |&id| match &self.model_ids {
                Some(map) => map[id as usize],
                None => id,
            })
    }

    /// Tokens per window (special tokens included).
    pub fn max_tokens(&self) -> usize {
        self.meta.max_tokens
    }

    /// The model's own label names, in output order.
    pub fn model_labels(&self) -> &[String] {
        &self.meta.labels
    }

    /// Windows of a text: the first `max_tokens` tokens, then further windows that overlap
    /// the previous one by a quarter window, each with the model's special tokens.
    pub fn windows(&self, text: &str) -> Result<Vec<Encoding>, ClassifierError> {
        let err = |e: tokenizers::Error| ClassifierError::Inference(format!("tokenizer: {e}"));
        // Split by hand: the tokenizer's own truncation with a stride loses windows in
        // tokenizers 0.23.2 (a 554-token text came back as 256 + 68 tokens).
        let mut whole = self.tokenizer.encode(text, false).map_err(err)?;
        let added = self
            .tokenizer
            .get_post_processor()
            .map_or(0, |p| p.added_tokens(false));
        let content = self.meta.max_tokens.saturating_sub(added).max(2);
        whole.truncate(
            content,
            (self.meta.max_tokens / 4).min(content - 1),
            TruncationDirection::Right,
        );
        let rest = whole.take_overflowing();
        std::iter::once(whole)
            .chain(rest)
            .map(|w| self.tokenizer.post_process(w, None, true).map_err(err))
            .collect()
    }

    /// Raw logits for a batch of windows (one forward pass, padded to the longest). A
    /// cascade's first stage runs on every window; the windows it may not decide alone go
    /// on through the rest of the model.
    fn logits(&self, windows: &[&Encoding]) -> Result<Vec<Vec<f32>>, ClassifierError> {
        let rows = windows.len();
        let len = windows.iter().map(|w| w.get_ids().len()).max().unwrap_or(0);
        let mut ids = vec![self.meta.pad_id; rows * len];
        let mut mask = vec![0i64; rows * len];
        let mut types = vec![0i64; rows * len];
        for (r, w) in windows.iter().enumerate() {
            for (c, (id, &ty)) in self.model_ids(w).zip(w.get_type_ids()).enumerate() {
                ids[r * len + c] = id as i64;
                mask[r * len + c] = 1;
                types[r * len + c] = ty as i64;
            }
        }
        let tensor = |shape: Vec<usize>, data: Vec<i64>| {
            Tensor::from_array((shape, data))
                .map(|t| t.into_dyn())
                .map_err(|e| ClassifierError::Inference(format!("input tensor: {e}")))
        };
        let ids = tensor(vec![rows, len], ids)?;
        let mask = tensor(vec![rows, len], mask)?;
        let types = match self.token_type_ids {
            true => Some(tensor(vec![rows, len], types)?),
            false => None,
        };
        let mut inputs = vec![("input_ids", &ids), ("attention_mask", &mask)];
        if let Some(types) = &types {
            inputs.push(("token_type_ids", types));
        }
        let width = self.meta.labels.len();
        let run_err = |e: ort::Error| ClassifierError::Inference(format!("onnx runtime: {e}"));
        let Stages { first, rest } = &self.stages;
        let Some(rest) = rest else {
            let outputs = shared_run::run(first, &inputs, &["logits"]).map_err(run_err)?;
            return read_logits(&outputs[0], "logits", rows, width);
        };

        let outputs =
            shared_run::run(first, &inputs, &["exit_logits", "hidden"]).map_err(run_err)?;
        let estimates = read_logits(&outputs[0], "exit_logits", rows, width)?;
        let go_on: Vec<usize> = (0..rows).filter(|&r| !self.exits(&estimates[r])).collect();
        self.windows_scored
            .fetch_add(rows as u64, Ordering::Relaxed);
        self.windows_exited
            .fetch_add((rows - go_on.len()) as u64, Ordering::Relaxed);
        if go_on.is_empty() {
            return Ok(estimates);
        }
        let (shape, hidden) = outputs[1]
            .try_extract_tensor::<f32>()
            .map_err(|e| ClassifierError::Inference(format!("hidden: {e}")))?;
        if shape.len() != 3 || shape[0] as usize != rows || shape[1] as usize != len {
            return Err(ClassifierError::Inference(format!(
                "hidden has shape {shape:?}, expected [{rows}, {len}, _]"
            )));
        }
        let row = len * shape[2] as usize;
        let mut states = Vec::with_capacity(go_on.len() * row);
        let mut go_on_mask = Vec::with_capacity(go_on.len() * len);
        for &r in &go_on {
            states.extend_from_slice(&hidden[r * row..(r + 1) * row]);
            // The first stage's mask, row r: its window's tokens, then padding.
            let tokens = windows[r].get_ids().len();
            go_on_mask.extend((0..len).map(|c| i64::from(c < tokens)));
        }
        let states = Tensor::from_array(([go_on.len(), len, shape[2] as usize], states))
            .map(|t| t.into_dyn())
            .map_err(|e| ClassifierError::Inference(format!("hidden tensor: {e}")))?;
        let go_on_mask = tensor(vec![go_on.len(), len], go_on_mask)?;
        let rest_outputs = shared_run::run(
            rest,
            &[("hidden", &states), ("attention_mask", &go_on_mask)],
            &["logits"],
        )
        .map_err(run_err)?;
        let whole = read_logits(&rest_outputs[0], "logits", go_on.len(), width)?;
        let mut out = estimates;
        for (r, logits) in go_on.into_iter().zip(whole) {
            out[r] = logits;
        }
        Ok(out)
    }

    /// Whether the first stage decides a window alone: the exit rule is on and every
    /// bounded label's estimated probability is below its bound.
    fn exits(&self, estimate: &[f32]) -> bool {
        self.exit.as_ref().is_some_and(|c| {
            let probs = self.probabilities(estimate);
            c.exit_below.iter().all(|&(o, bound)| probs[o] < bound)
        })
    }

    /// For a cascade with its exit rule on: windows scored so far, and how many of them the
    /// first stage decided alone.
    pub fn cascade_exits(&self) -> Option<(u64, u64)> {
        self.exit.as_ref().map(|_| {
            (
                self.windows_scored.load(Ordering::Relaxed),
                self.windows_exited.load(Ordering::Relaxed),
            )
        })
    }

    /// Logits for each text's windows, in window order (used by tests and tools).
    pub fn window_logits(&self, text: &str) -> Result<Vec<Vec<f32>>, ClassifierError> {
        let windows = self.windows(text)?;
        self.logits(&windows.iter().collect::<Vec<_>>())
    }

    fn probabilities(&self, logits: &[f32]) -> Vec<f32> {
        match self.meta.activation {
            Activation::Sigmoid => logits.iter().map(|&x| 1.0 / (1.0 + (-x).exp())).collect(),
            Activation::Softmax => {
                let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let exp: Vec<f32> = logits.iter().map(|&x| (x - max).exp()).collect();
                let sum: f32 = exp.iter().sum();
                exp.into_iter().map(|e| e / sum).collect()
            }
        }
    }
}

/// ONNX Runtime's graph optimisation levels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Optimization {
    Disable,
    /// Constant folding, redundant nodes removed.
    Basic,
    /// Plus fusions (attention, GELU, layer norm…).
    Extended,
    /// Plus layout optimisations.
    #[default]
    All,
}

impl Optimization {
    pub const ALL: [Optimization; 4] = [
        Optimization::Disable,
        Optimization::Basic,
        Optimization::Extended,
        Optimization::All,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Optimization::Disable => "disable",
            Optimization::Basic => "basic",
            Optimization::Extended => "extended",
            Optimization::All => "all",
        }
    }

    fn level(self) -> GraphOptimizationLevel {
        match self {
            Optimization::Disable => GraphOptimizationLevel::Disable,
            Optimization::Basic => GraphOptimizationLevel::Level1,
            Optimization::Extended => GraphOptimizationLevel::Level2,
            Optimization::All => GraphOptimizationLevel::All,
        }
    }
}

fn open_session(
    env: &ort::environment::Environment,
    path: &Path,
    threads: usize,
    optimization: Optimization,
) -> Result<Session, ClassifierError> {
    let configure = || -> Result<_, String> {
        let b = Session::builder(env).map_err(|e| e.to_string())?;
        let b = b
            .with_optimization_level(optimization.level())
            .map_err(|e| e.to_string())?;
        let b = b.with_intra_threads(threads).map_err(|e| e.to_string())?;
        let b = b.with_inter_threads(1).map_err(|e| e.to_string())?;
        // Spinning workers would burn the cores the web server and other requests need.
        let b = b.with_intra_op_spinning(false).map_err(|e| e.to_string())?;
        // Every batch has its own shape: an arena and memory patterns would keep the
        // largest batch's buffers for good (1.1–1.5 GB resident under load, not returned).
        let b = b.with_memory_pattern(false).map_err(|e| e.to_string())?;
        b.with_execution_providers([ort::ep::CPU::default().with_arena_allocator(false).build()])
            .map_err(|e| e.to_string())
    };
    let mut builder = configure().map_err(|e| {
        load_err(
            path,
            format!("cannot configure an ONNX Runtime session: {e}"),
        )
    })?;
    builder
        .commit_from_file(path)
        .map_err(|e| load_err(path, format!("ONNX Runtime cannot load the model: {e}")))
}

/// A `[rows, width]` float output as one row of logits per window.
fn read_logits(
    value: &ort::value::DynValue,
    name: &str,
    rows: usize,
    width: usize,
) -> Result<Vec<Vec<f32>>, ClassifierError> {
    let (shape, data) = value
        .try_extract_tensor::<f32>()
        .map_err(|e| ClassifierError::Inference(format!("{name}: {e}")))?;
    if shape.len() != 2 || shape[0] as usize != rows || shape[1] as usize != width {
        return Err(ClassifierError::Inference(format!(
            "{name} have shape {shape:?}, expected [{rows}, {width}]"
        )));
    }
    Ok(data.chunks(width).map(<[f32]>::to_vec).collect())
}

/// A file's SHA-256 (hex), read in chunks.
fn file_digest(path: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// A graph file's SHA-256 (hex), combined with those of the external data files it names
/// (`model.onnx.data` for the int8 models models/fetch-models.sh builds: ONNX Runtime
/// memory-maps them), and whether the graph quantises activations per pass.
fn scan_model_file(path: &Path) -> std::io::Result<(String, bool)> {
    let scan = scan_graph(path)?;
    if scan.locations.is_empty() {
        return Ok((scan.digest, scan.quantised));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut hasher = Sha256::new();
    hasher.update(scan.digest.as_bytes());
    for location in &scan.locations {
        hasher.update(location.as_bytes());
        hasher.update(file_digest(&dir.join(location))?.as_bytes());
    }
    Ok((hex::encode(hasher.finalize()), scan.quantised))
}

struct GraphScan {
    digest: String,
    /// Whether the graph quantises activations per pass.
    quantised: bool,
    /// External data files its initializers name, that exist beside it.
    locations: std::collections::BTreeSet<String>,
}

/// Reads a graph file in chunks (holding a whole embedded-weights file, about 120 MB, once
/// more at start-up was most of the process's peak memory): its SHA-256, whether it holds
/// the op `DynamicQuantizeLinear`, and the external data files it names. Op types and
/// external data entries are plain strings in the protobuf.
fn scan_graph(path: &Path) -> std::io::Result<GraphScan> {
    use std::io::Read;
    const OP: &[u8] = b"DynamicQuantizeLinear";
    // An external data entry {key: "location", value: NAME}: field 1 (length 8), then
    // field 2, a length and the name.
    const LOCATION: &[u8] = b"\x0a\x08location\x12";
    // What a chunk keeps of the one before, so a match split across two is found.
    const TAIL: usize = 512;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut window: Vec<u8> = Vec::new();
    let mut scan = GraphScan {
        digest: String::new(),
        quantised: false,
        locations: Default::default(),
    };
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        window.extend_from_slice(&buf[..n]);
        scan.quantised |= window.windows(OP.len()).any(|w| w == OP);
        for at in find_all(&window, LOCATION) {
            let rest = &window[at + LOCATION.len()..];
            // Names up to 127 bytes: a one-byte length.
            let Some((&len, rest)) = rest.split_first() else {
                continue;
            };
            let name = rest
                .get(..len as usize)
                .filter(|_| len < 0x80)
                .and_then(|b| std::str::from_utf8(b).ok());
            // A chance match inside raw weights names no file beside the graph.
            if let Some(name) = name.filter(|n| !n.is_empty() && dir.join(n).is_file()) {
                scan.locations.insert(name.to_string());
            }
        }
        let keep = window.len().min(TAIL);
        window.drain(..window.len() - keep);
    }
    scan.digest = hex::encode(hasher.finalize());
    Ok(scan)
}

/// Where `needle` starts in `haystack`.
fn find_all<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(move |(_, w)| *w == needle)
        .map(|(i, _)| i)
}

/// The tokenizer of a model's `tokenizer.json`, and for a trimmed vocabulary the model id
/// of each of its ids.
pub fn load_tokenizer(
    path: &Path,
    vocabulary: Vocabulary,
) -> Result<(PieceTokenizer, Option<Vec<u32>>), ClassifierError> {
    let cannot = |e: String| {
        load_err(
            path,
            format!(
                "cannot load the Hugging Face tokenizer ({e}); expected the model's tokenizer.json"
            ),
        )
    };
    let text = std::fs::read_to_string(path).map_err(|e| cannot(e.to_string()))?;
    let mut tokenizer: PieceTokenizer =
        serde_json::from_str(&text).map_err(|e| cannot(e.to_string()))?;
    drop(text);
    let trimmed = match (vocabulary, tokenizer.get_model()) {
        (Vocabulary::LatinCyrillic, TokenModel::Compact(model)) => {
            vocabulary::trim(model, tokenizer.get_added_tokens_decoder().into_keys())
        }
        _ => None,
    };
    let model_ids = trimmed.map(|(model, ids)| {
        tokenizer.with_model(TokenModel::Compact(model));
        ids
    });
    // Padding is per batch and windows are cut in `windows()`.
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(None)
        .map_err(|e| load_err(path, format!("cannot switch truncation off: {e}")))?;
    Ok((tokenizer, model_ids))
}

/// Checks inputs and output against what we feed and read; returns whether the model takes
/// `token_type_ids`.
fn check_signature(session: &Session, path: &Path, labels: usize) -> Result<bool, ClassifierError> {
    let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
    let describe = || format!("model inputs: {}", names.join(", "));
    for required in ["input_ids", "attention_mask"] {
        if !names.contains(&required) {
            return Err(load_err(
                path,
                format!("incompatible model: no `{required}` input ({})", describe()),
            ));
        }
    }
    for input in session.inputs() {
        let ok = matches!(
            input.name(),
            "input_ids" | "attention_mask" | "token_type_ids"
        );
        if !ok {
            return Err(load_err(
                path,
                format!(
                    "incompatible model: unexpected input `{}` ({})",
                    input.name(),
                    describe()
                ),
            ));
        }
        if let ValueType::Tensor { ty, .. } = input.dtype()
            && *ty != ort::value::TensorElementType::Int64
        {
            return Err(load_err(
                path,
                format!(
                    "incompatible model: input `{}` is {ty}, expected int64",
                    input.name()
                ),
            ));
        }
    }
    let logits = session
        .outputs()
        .iter()
        .find(|o| o.name() == "logits")
        .ok_or_else(|| {
            let outs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
            load_err(
                path,
                format!(
                    "incompatible model: no `logits` output (outputs: {})",
                    outs.join(", ")
                ),
            )
        })?;
    if let ValueType::Tensor { shape, .. } = logits.dtype()
        && let Some(&width) = shape.get(1)
        && width > 0
        && width as usize != labels
    {
        return Err(load_err(
            path,
            format!(
                "incompatible model: logits have {width} columns but config.json id2label names {labels} labels"
            ),
        ));
    }
    Ok(names.contains(&"token_type_ids"))
}

/// A cascade's first stage may decide alone only below each label's bound, which lies
/// `exit_margin` (in logits) under the lowest threshold it was chosen for. A configured
/// threshold closer to the bound than that, or one on a label without a bound, would be
/// checked against the first stage's estimate alone: refuse to start, naming the key.
fn check_exit_margins(
    cascade: &Cascade,
    outputs: &[Option<usize>; 6],
    meta: &ModelMeta,
    options: &OnnxOptions,
    model_config: &Path,
) -> Result<(), ClassifierError> {
    let logit = |p: f32| (p / (1.0 - p)).ln();
    for (label, value, key) in &options.action_thresholds {
        let Some(output) = outputs[label.index()] else {
            continue; // the model does not score this label
        };
        let bound = cascade.exit_below.iter().find(|(o, _)| *o == output);
        let problem = match bound {
            None => Some(format!(
                "the cascade's first stage of {} has no exit bound for {} (it was built for \
                 thresholds on {} only)",
                model_config.display(),
                meta.labels[output],
                cascade
                    .exit_below
                    .iter()
                    .map(|(o, _)| meta.labels[*o].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some(&(_, b))
                if logit(value.clamp(1e-6, 1.0 - 1e-6)) < logit(b) + cascade.exit_margin - 1e-3 =>
            {
                Some(format!(
                    "below {:.3}, the lowest threshold the cascade's exit bound ({b}, {}) \
                     leaves its margin of {} logits",
                    1.0 / (1.0 + (-(logit(b) + cascade.exit_margin)).exp()),
                    model_config.display(),
                    cascade.exit_margin
                ))
            }
            _ => None,
        };
        if let Some(problem) = problem {
            return Err(load_err(
                &options.config_path,
                format!(
                    "{key} = {value}: {problem}; comments the first stage decides alone would \
                     never be checked against it. Raise the threshold, or set [model] cascade = \
                     false to run every comment through all layers"
                ),
            ));
        }
    }
    Ok(())
}

/// A cascade's two graphs: the first takes what a whole model does and gives `hidden` and
/// `exit_logits`; the second takes `hidden` and `attention_mask` and gives `logits`.
/// Returns whether the first takes `token_type_ids`.
fn check_cascade_signature(
    first: &Session,
    rest: &Session,
    first_path: &Path,
    rest_path: &Path,
) -> Result<bool, ClassifierError> {
    let inputs = |s: &Session| {
        s.inputs()
            .iter()
            .map(|i| i.name().to_string())
            .collect::<Vec<_>>()
    };
    let outputs = |s: &Session| {
        s.outputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect::<Vec<_>>()
    };
    let require = |names: Vec<String>, wanted: &[&str], what: &str, path: &Path| match wanted
        .iter()
        .find(|w| !names.iter().any(|n| n == *w))
    {
        None => Ok(()),
        Some(missing) => Err(load_err(
            path,
            format!(
                "incompatible cascade stage: no `{missing}` {what} ({what}s: {})",
                names.join(", ")
            ),
        )),
    };
    require(
        inputs(first),
        &["input_ids", "attention_mask"],
        "input",
        first_path,
    )?;
    require(
        outputs(first),
        &["hidden", "exit_logits"],
        "output",
        first_path,
    )?;
    require(
        inputs(rest),
        &["hidden", "attention_mask"],
        "input",
        rest_path,
    )?;
    require(outputs(rest), &["logits"], "output", rest_path)?;
    Ok(inputs(first).iter().any(|n| n == "token_type_ids"))
}

impl Classifier for OnnxClassifier {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn first_stage_counts(&self) -> Vec<(String, u64, u64)> {
        self.cascade_exits()
            .map(|(windows, first)| vec![(self.model_id.clone(), windows, first)])
            .unwrap_or_default()
    }

    fn reads(&self, language: crate::domain::Language) -> bool {
        self.meta.languages.contains(&language)
    }

    /// A text costs its bytes up to what [`pick_windows`] keeps of it; four bytes a token
    /// is English's rate (Russian's is about seven), so long texts of any language reach
    /// the bound.
    fn cost(&self, text: &str) -> usize {
        let most = match self.max_windows {
            0 => usize::MAX,
            n => n * self.meta.max_tokens * 4,
        };
        text.len().min(most) + super::FIXED_TEXT_COST
    }

    fn score_batch(&self, texts: &[&str]) -> Result<Vec<Scores>, ClassifierError> {
        // (text index, window), longest first so each forward pass pads little.
        let mut windows: Vec<(usize, Encoding)> = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let all = self.windows(text)?;
            windows.extend(pick_windows(all, self.max_windows).map(|w| (i, w)));
        }
        windows.sort_by_key(|(_, w)| std::cmp::Reverse(w.get_ids().len()));

        let lengths: Vec<usize> = windows.iter().map(|(_, w)| w.get_ids().len()).collect();
        let mut scores = vec![Scores::default(); texts.len()];
        let mut start = 0;
        while start < windows.len() {
            let end = if self.one_window_per_pass {
                start + 1
            } else {
                run_end(&lengths, start)
            };
            let chunk: Vec<&Encoding> = windows[start..end].iter().map(|(_, w)| w).collect();
            for ((text, _), logits) in windows[start..end].iter().zip(self.logits(&chunk)?) {
                let probs = self.probabilities(&logits);
                let s = &mut scores[*text];
                for (slot, output) in s.0.iter_mut().zip(self.outputs) {
                    if let Some(o) = output {
                        *slot = slot.max(probs[o]);
                    }
                }
            }
            start = end;
        }
        Ok(scores)
    }
}

/// At most `max` of a text's windows (all when `max` is 0): the first and the last, and
/// the rest spread evenly between them. A forward pass costs the same per token at any
/// length here (about 0.2 ms per token, 12 layers, int8, two cores), so a 10,000-character
/// Russian comment's seven 512-token windows take 0.7 s: the cap keeps one long text
/// within a request's budget. Rule lists still read the whole text.
pub fn pick_windows<T>(windows: Vec<T>, max: usize) -> impl Iterator<Item = T> {
    let n = windows.len();
    let keep: Vec<bool> = match max {
        0 => vec![true; n],
        _ if n <= max => vec![true; n],
        1 => (0..n).map(|i| i == 0).collect(),
        _ => {
            let mut keep = vec![false; n];
            for k in 0..max {
                // k-th of `max` points spread over 0..=n-1, rounded to the nearest window.
                keep[(k * (n - 1) + (max - 1) / 2) / (max - 1)] = true;
            }
            keep
        }
    };
    windows
        .into_iter()
        .zip(keep)
        .filter_map(|(w, k)| k.then_some(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_keep_their_first_last_and_evenly_spread_windows() {
        let pick = |n: usize, max: usize| pick_windows((0..n).collect(), max).collect::<Vec<_>>();
        assert_eq!(pick(7, 0), [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(pick(3, 3), [0, 1, 2]);
        assert_eq!(pick(7, 3), [0, 3, 6]);
        assert_eq!(pick(8, 3), [0, 4, 7]);
        assert_eq!(pick(10, 4), [0, 3, 6, 9]);
        assert_eq!(pick(9, 2), [0, 8]);
        assert_eq!(pick(9, 1), [0]);
        assert_eq!(pick(0, 3), Vec::<usize>::new());
    }

    #[test]
    fn forward_passes_group_windows_of_similar_length_within_the_buffer_limits() {
        let runs = |lengths: &[usize]| {
            let mut out = Vec::new();
            let mut start = 0;
            while start < lengths.len() {
                let end = run_end(lengths, start);
                out.push(end - start);
                start = end;
            }
            out
        };
        // 100 pads 90 and 80 (≥ 80%), not 60; 60 pads 50 (83%).
        assert_eq!(runs(&[100, 90, 80, 60, 50]), [3, 2]);
        // 512 tokens: 1M / 512² = 4 windows a pass, whatever the token budget allows.
        assert_eq!(runs(&[512; 10]), [4, 4, 2]);
        // 32 tokens: 8192 / 32 = 256 a pass.
        assert_eq!(runs(&[32; 300]), [256, 44]);
        assert_eq!(runs(&[0, 0]), [2]);
    }
}
