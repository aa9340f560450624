"""Train the classification head of minilm-toxic on frozen all-MiniLM-L6-v2 sentence
embeddings, from ../shared/train only.

    python train_head.py --train-dir ../../shared/train --backbone .cache/minilm-backbone --out minilm-toxic

1. selects the rows (train_data.py; the data list with sha256 and counts goes to data.json),
2. embeds them once with ONNX Runtime through the backbone-only model built by
   build_minilm_onnx.py (cached under models/.cache, keyed by model and texts),
3. fits one L2-regularised logistic regression per label on the rows that carry it,
   choosing C on a held-out 15% of the training rows,
4. picks each label's operating point on that held-out part and shifts the label's bias so
   the point lands on modgate's default threshold for the label (config.toml
   [policy.thresholds]); a monotone shift, so rankings and ROC-AUC are unchanged,
5. writes head.safetensors (weights [384, 6], bias [6]) and head.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time

import numpy as np
from safetensors.numpy import save_file

from train_data import LABELS, SEED, select

# modgate's default hold thresholds (config.toml); labels without one keep their own scale.
DEFAULT_HOLD = {"toxic": 0.80, "severe_toxic": 0.40, "threat": 0.15, "identity_hate": 0.45}
MAX_TOKENS = 256
HELD_OUT = 0.15


def embed(model_dir: str, texts: list[str], cache_dir: str, threads: int) -> np.ndarray:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    model_path = os.path.join(model_dir, "model.onnx")
    key = hashlib.sha256()
    key.update(open(model_path, "rb").read())
    for t in texts:
        key.update(t.encode("utf-8") + b"\0")
    cache = os.path.join(cache_dir, f"emb-{key.hexdigest()[:16]}.npy")
    if os.path.exists(cache):
        return np.load(cache)

    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.enable_truncation(MAX_TOKENS)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    encs = tok.encode_batch(texts)
    order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))
    # Features: the unit mean embedding, then the per-dimension token maximum.
    out = np.zeros((len(texts), 768), dtype=np.float32)
    start = time.time()
    batch = 32
    for b in range(0, len(order), batch):
        idx = order[b : b + batch]
        seq = max(len(encs[i].ids) for i in idx)
        ids = np.zeros((len(idx), seq), dtype=np.int64)
        mask = np.zeros_like(ids)
        for j, i in enumerate(idx):
            n = len(encs[i].ids)
            ids[j, :n] = encs[i].ids
            mask[j, :n] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        out[idx] = np.concatenate(sess.run(["embedding", "token_max"], feeds), axis=1)
        if (b // batch) % 100 == 0:
            print(f"embedded {b + len(idx)}/{len(texts)} in {time.time() - start:.0f}s", flush=True)
    os.makedirs(cache_dir, exist_ok=True)
    np.save(cache, out)
    return out


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else float("nan")


def best_f1_threshold(y: np.ndarray, p: np.ndarray) -> tuple[float, dict]:
    """Threshold with the best F1 on (y, p), and precision/recall there."""
    best = (0.5, -1.0, 0.0, 0.0)
    for t in np.unique(np.quantile(p, np.linspace(0.01, 0.995, 400))):
        pred = p >= t
        tp = float((pred & (y == 1)).sum())
        prec = tp / max(1.0, pred.sum())
        rec = tp / max(1.0, (y == 1).sum())
        f1 = 2 * prec * rec / max(1e-9, prec + rec)
        if f1 > best[1]:
            best = (float(t), f1, prec, rec)
    return best[0], {"f1": best[1], "precision": best[2], "recall": best[3]}


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-dir", required=True)
    ap.add_argument("--backbone", required=True, help="dir from build_minilm_onnx.py without --head")
    ap.add_argument("--out", required=True)
    ap.add_argument("--cache", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression

    texts, y, sources, listing = select(args.train_dir)
    print(f"{len(texts)} rows: " + ", ".join(f"{d['source']} {d['rows_used']}" for d in listing), flush=True)
    x = embed(args.backbone, texts, args.cache, args.threads)

    rng = np.random.default_rng(SEED)
    held = rng.random(len(texts)) < HELD_OUT
    # Standardise features; folded back into the weights below.
    mu, sd = x[~held].mean(0), x[~held].std(0) + 1e-6
    z = (x - mu) / sd

    weights = np.zeros((x.shape[1], len(LABELS)), dtype=np.float64)
    bias = np.zeros(len(LABELS), dtype=np.float64)
    report = {}
    for j, label in enumerate(LABELS):
        known = ~np.isnan(y[:, j])
        tr, ho = known & ~held, known & held
        yt, yh = y[tr, j].astype(int), y[ho, j].astype(int)
        best = None
        for c in (0.01, 0.03, 0.1, 0.3, 1.0):
            m = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
            m.fit(z[tr], yt)
            auc = roc_auc(yh, m.decision_function(z[ho]))
            if best is None or auc > best[0]:
                best = (auc, c, m)
        # The model fitted without the held-out rows is kept, so its operating point is
        # chosen on rows it has not seen.
        auc, c, m = best
        w = m.coef_[0] / sd
        b = float(m.intercept_[0] - (m.coef_[0] * mu / sd).sum())
        p_ho = 1 / (1 + np.exp(-(x[ho] @ w + b)))
        t, at = best_f1_threshold(yh, p_ho)
        shift = 0.0
        if label in DEFAULT_HOLD:
            t = min(max(t, 1e-4), 1 - 1e-4)
            shift = logit(DEFAULT_HOLD[label]) - logit(t)
        weights[:, j] = w
        bias[j] = b + shift
        by_source = {}
        for s in np.unique(sources[ho]):
            sel = sources[ho] == s
            if 0 < yh[sel].sum() < sel.sum():
                by_source[str(s)] = round(roc_auc(yh[sel], p_ho[sel]), 4)
        report[label] = {
            "rows": int(known.sum()),
            "positives": int(y[known, j].sum()),
            "C": c,
            "held_out_rows": int(ho.sum()),
            "held_out_roc_auc": round(auc, 4),
            "held_out_roc_auc_by_source": by_source,
            "operating_point": round(t, 4),
            "at_operating_point": {k: round(v, 4) for k, v in at.items()},
            "bias_shift_to_default_threshold": round(shift, 4),
        }
        print(label, json.dumps(report[label]), flush=True)

    os.makedirs(args.out, exist_ok=True)
    head_path = os.path.join(args.out, "head.safetensors")
    save_file({"dense.weight": weights.astype(np.float32), "dense.bias": bias.astype(np.float32)}, head_path)
    meta = {
        "labels": LABELS,
        "problem_type": "multi_label_classification",
        "input": "all-MiniLM-L6-v2 mean-pooled, L2-normalised sentence embedding (384)",
        "layers": [{"weight": "dense.weight", "bias": "dense.bias", "activation": "none"}],
        "trained_on": "data.json",
        "head_sha256": hashlib.sha256(open(head_path, "rb").read()).hexdigest(),
        "method": "per-label logistic regression (scikit-learn, class_weight=balanced) on standardised frozen embeddings; "
        "C chosen on a held-out 15% of the training rows; bias shifted so the held-out best-F1 point "
        "falls on modgate's default hold threshold",
        "default_hold_thresholds": DEFAULT_HOLD,
        "max_tokens_when_training": MAX_TOKENS,
        "report": report,
    }
    json.dump(meta, open(os.path.join(args.out, "head.json"), "w"), indent=2)
    json.dump({"train_dir": "../shared/train", "seed": SEED, "held_out_share": HELD_OUT, "rows": len(texts), "files": listing},
              open(os.path.join(args.out, "data.json"), "w"), indent=2)
    print(f"wrote {head_path}")


if __name__ == "__main__":
    main()
