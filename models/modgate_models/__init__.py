"""modgate's model tooling: obtain, convert, build, train and check the model files that
modgate's Rust backends read.

Commands (each `python -m modgate_models.<command>`, run from models/ or with the package
installed; `--help` where they take options):

    convert_bilstm     the Keras BiLSTM of PyPI toxic-comment-classifier -> safetensors + vocab
    build_minilm_onnx  all-MiniLM-L6-v2 (+ trained head) -> ONNX model directory
    build_e5_onnx      multilingual-e5-small + committed fine-tuned layers -> ONNX model directory
    train_head         the minilm-toxic head
    train_e5           the top layers of e5-toxic
    train_e5_full      all twelve layers of e5-toxic-full
    held_out_rows      the rows train_e5_full held out, as a CSV for `modgate eval`
                       (--identity-swaps: the same rows with identity terms swapped)
    held_out_policy    where the identity-term counterfactual helps, from an eval dump
    cascade_study      how early e5-toxic-full's layers can decide (scores of training rows)
    train_cascade      the exit head of e5-toxic-full's cascade, from cascade_study's scores
    depth_stub         an untrained K-layer copy of a head, to measure a student's speed
    vocabulary_study   trimming the tokenizer to the pieces training text uses
    onnx_reference     reference logits for tests/it/onnx.rs
    reference_bilstm   numpy forward pass of the converted BiLSTM
    bench_onnx         the Python side of benches/onnx.rs
    eval_config        the config.toml copy models/eval_model.sh evaluates with

Shared helpers (commands import only these, never each other): paths, hashing, data,
metrics, recipes, int8, graph, e5_q4, onnx_dir, thresholds, identity_swap.

Importing the package imports nothing else: each command loads its own dependencies (see
the extras in models/pyproject.toml).
"""

COMMANDS = (
    "bench_onnx",
    "build_e5_onnx",
    "cascade_study",
    "depth_stub",
    "build_minilm_onnx",
    "convert_bilstm",
    "eval_config",
    "held_out_policy",
    "held_out_rows",
    "onnx_reference",
    "reference_bilstm",
    "train_e5",
    "train_e5_full",
    "train_cascade",
    "train_head",
    "vocabulary_study",
)
HELPERS = ("data", "e5_q4", "graph", "hashing", "identity_swap", "int8", "metrics", "onnx_dir", "paths", "recipes", "thresholds")
