"""Train the classification head of minilm-toxic on frozen all-MiniLM-L6-v2 sentence
embeddings, from ../shared/train only.

    python -m modgate_models.train_head --train-dir ../../shared/train --backbone .cache/minilm-backbone --out minilm-toxic

1. selects the rows (data.py; the data list with sha256 and counts goes to data.json),
2. embeds them once with ONNX Runtime through the backbone-only model built by
   build_minilm_onnx (cached under models/.cache per backbone and text),
3. fits one model per label on the rows that carry it (L2-regularised logistic regression,
   or with --hidden N a one-hidden-layer MLP), choosing the regularisation on a held-out
   15% of the training rows,
4. picks each label's operating point on that held-out part (metrics.py) and shifts the
   label's bias so the point lands on modgate's default threshold for the label (config.toml
   [policy.thresholds]); a monotone shift, so rankings and ROC-AUC are unchanged,
5. writes head.safetensors (dense layers; per-label MLPs packed block-diagonally) and
   head.json with the held-out report.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time

import numpy as np
from safetensors.numpy import save_file

from modgate_models.data import LABELS, SEED, select
from modgate_models.metrics import (
    DEFAULT_HOLD,
    OPERATING_POINT,
    best_balanced_threshold,
    best_f1_threshold,
    logit,
    precise_threshold,
    roc_auc,
)
from modgate_models.paths import MODELS_DIR

MAX_TOKENS = 256
HELD_OUT = 0.15


def embed(model_dir: str, texts: list[str], cache_dir: str, threads: int) -> np.ndarray:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    model_path = os.path.join(model_dir, "model.onnx")
    # One cache per backbone, keyed by text, so changing the selection embeds only new rows.
    model_key = hashlib.sha256(open(model_path, "rb").read()).hexdigest()[:16]
    cache = os.path.join(cache_dir, f"features-{model_key}.npz")
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    known: dict[str, np.ndarray] = {}
    if os.path.exists(cache):
        with np.load(cache) as f:
            known = dict(zip(f["keys"].tolist(), f["vecs"]))
    missing = [i for i, k in enumerate(keys) if k not in known]
    if not missing:
        return np.stack([known[k] for k in keys])
    print(f"embedding {len(missing)} of {len(texts)} texts ({len(texts) - len(missing)} cached)", flush=True)
    all_texts, texts = texts, [texts[i] for i in missing]

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
    for i, v in zip(missing, out):
        known[keys[i]] = v
    os.makedirs(cache_dir, exist_ok=True)
    np.savez(cache, keys=np.array(list(known)), vecs=np.stack(list(known.values())))
    return np.stack([known[hashlib.sha1(t.encode("utf-8")).hexdigest()] for t in all_texts])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-dir", required=True)
    ap.add_argument("--backbone", required=True, help="dir from build_minilm_onnx without --head")
    ap.add_argument("--out", required=True)
    ap.add_argument("--cache", default=os.path.join(MODELS_DIR, ".cache"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=0, help="ReLU units per label; 0 = logistic regression")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    texts, y, sources, listing = select(args.train_dir)
    print(f"{len(texts)} rows: " + ", ".join(f"{d['source']} {d['rows_used']}" for d in listing), flush=True)
    x = embed(args.backbone, texts, args.cache, args.threads)

    rng = np.random.default_rng(SEED)
    held = rng.random(len(texts)) < HELD_OUT
    # Standardise features; folded back into the weights below.
    mu, sd = x[~held].mean(0), x[~held].std(0) + 1e-6
    z = (x - mu) / sd

    hidden = args.hidden
    w1 = np.zeros((x.shape[1], len(LABELS) * max(hidden, 1)))
    b1 = np.zeros(len(LABELS) * max(hidden, 1))
    w2 = np.zeros((len(LABELS) * max(hidden, 1), len(LABELS)))
    b2 = np.zeros(len(LABELS))
    report = {}
    for j, label in enumerate(LABELS):
        known = ~np.isnan(y[:, j])
        tr, ho = known & ~held, known & held
        yt, yh = y[tr, j].astype(int), y[ho, j].astype(int)
        # Logistic regression and (with --hidden) a small MLP, whichever ranks the held-out
        # rows better: the MLP wins on the big labels, the linear model on the rare ones.
        candidates = [("logistic", c, LogisticRegression(C=c, max_iter=3000, class_weight="balanced")) for c in (0.0003, 0.001, 0.003, 0.01)]
        if hidden:
            candidates += [
                ("mlp", a, MLPClassifier((hidden,), alpha=a, early_stopping=True, random_state=SEED % 2**31, max_iter=300))
                for a in (0.3, 1.0, 3.0)
            ]
        best = None
        for kind, c, m in candidates:
            m.fit(z[tr], yt)
            auc = roc_auc(yh, m.predict_proba(z[ho])[:, 1])
            if best is None or auc > best[0]:
                best = (auc, kind, c, m)
        # The model fitted without the held-out rows is kept, so its operating point is
        # chosen on rows it has not seen.
        auc, kind, c, m = best
        # Fold the standardisation into the first layer.
        if hidden == 0:
            first_w, first_b = m.coef_[0][:, None], m.intercept_
            w1[:, j : j + 1] = first_w / sd[:, None]
            b1[j : j + 1] = first_b - (mu / sd) @ first_w
            w2[j, j] = 1.0
        elif kind == "logistic":
            # Exactly linear through the ReLU layer: z = relu(z) - relu(-z).
            base = j * hidden
            first_w, first_b = m.coef_[0] / sd, m.intercept_[0] - (m.coef_[0] * mu / sd).sum()
            w1[:, base], b1[base], w2[base, j] = first_w, first_b, 1.0
            w1[:, base + 1], b1[base + 1], w2[base + 1, j] = -first_w, -first_b, -1.0
        else:
            cols = slice(j * hidden, (j + 1) * hidden)
            first_w, first_b = m.coefs_[0], m.intercepts_[0]
            w1[:, cols] = first_w / sd[:, None]
            b1[cols] = first_b - (mu / sd) @ first_w
            w2[cols, j] = m.coefs_[1][:, 0]
            b2[j] = m.intercepts_[1][0]
        p_ho = m.predict_proba(z[ho])[:, 1]
        how, arg = OPERATING_POINT.get(label, ("f1", None))
        if how == "balanced":
            t, at = best_balanced_threshold(yh, p_ho)
        elif how == "precision":
            t, at = precise_threshold(yh, p_ho, arg)
        else:
            t, at = best_f1_threshold(yh, p_ho)
        shift = 0.0
        if label in DEFAULT_HOLD:
            t = min(max(t, 1e-4), 1 - 1e-4)
            shift = logit(DEFAULT_HOLD[label]) - logit(t)
        b2[j] += shift
        # The packed layers must reproduce the fitted model (plus the shift) exactly.
        packed = np.maximum(x[ho][:200] @ w1 + b1, 0) @ w2 + b2 if hidden else x[ho][:200] @ w1 + b1 + b2
        want = np.log(np.clip(p_ho[:200], 1e-12, 1)) - np.log(np.clip(1 - p_ho[:200], 1e-12, 1)) + shift
        assert np.abs(packed[:, j] - want).max() < 1e-3, (label, np.abs(packed[:, j] - want).max())
        by_source = {}
        for s in np.unique(sources[ho]):
            sel = sources[ho] == s
            if 0 < yh[sel].sum() < sel.sum():
                by_source[str(s)] = round(roc_auc(yh[sel], p_ho[sel]), 4)
        report[label] = {
            "rows": int(known.sum()),
            "positives": int(y[known, j].sum()),
            "model": kind,
            "regularisation": c,
            "held_out_rows": int(ho.sum()),
            "held_out_roc_auc": round(auc, 4),
            "held_out_roc_auc_by_source": by_source,
            "operating_point_rule": how if arg is None else f"{how} >= {arg}",
            "operating_point": round(t, 4),
            "at_operating_point": {k: round(v, 4) for k, v in at.items()},
            "bias_shift_to_default_threshold": round(shift, 4),
        }
        print(label, json.dumps(report[label]), flush=True)

    os.makedirs(args.out, exist_ok=True)
    head_path = os.path.join(args.out, "head.safetensors")
    if hidden == 0:
        # A linear head: the identity second layer folds away.
        tensors = {"dense.weight": w1.astype(np.float32), "dense.bias": (b1 + b2).astype(np.float32)}
        layers = [{"weight": "dense.weight", "bias": "dense.bias", "activation": "none"}]
    else:
        tensors = {
            "hidden.weight": w1.astype(np.float32),
            "hidden.bias": b1.astype(np.float32),
            "out.weight": w2.astype(np.float32),
            "out.bias": b2.astype(np.float32),
        }
        layers = [
            {"weight": "hidden.weight", "bias": "hidden.bias", "activation": "relu"},
            {"weight": "out.weight", "bias": "out.bias", "activation": "none"},
        ]
    save_file(tensors, head_path)
    meta = {
        "labels": LABELS,
        "problem_type": "multi_label_classification",
        "input": "all-MiniLM-L6-v2 mean-pooled, L2-normalised sentence embedding (384) + per-dimension max over tokens (384)",
        "layers": layers,
        "trained_on": "data.json",
        "head_sha256": hashlib.sha256(open(head_path, "rb").read()).hexdigest(),
        "method": (
            "per-label logistic regression (class_weight=balanced)" if hidden == 0
            else f"per-label MLP ({hidden} ReLU units, early stopping), packed block-diagonally"
        ) + " on standardised frozen features (scikit-learn); regularisation chosen on a held-out 15% "
        "of the training rows; bias shifted so the held-out operating point falls on modgate's default "
        "hold threshold",
        "operating_points": {k: list(v) for k, v in OPERATING_POINT.items()},
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
