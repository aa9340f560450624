"""Fit the exit head of e5-toxic-full's cascade (models/e5-toxic-full-cascade-head/) from
the cascade study's scores of training rows (cascade_study.py `score`):

    python -m modgate_models.cascade_study score --train-dir ../../shared/train --out .cache/cascade_study.npz
    python -m modgate_models.cascade_study score --train-dir ../../shared/train --stream 2000 --out .cache/cascade_stream.npz
    python -m modgate_models.train_cascade .cache/cascade_study.npz --stream .cache/cascade_stream.npz --out e5-toxic-full-cascade-head

The head reads what the whole model's head reads (unit mean + max pooled token states),
after EXIT_AFTER layers instead of twelve, and estimates the whole model's six logits: a
ridge regression (closed form, so the same scores give the same head) fitted on 80% of
the study's pool rows (training rows the teacher's recipe never selected). Its exit rule: every
label with an action threshold in config.toml (any language) estimated below
sigmoid(logit(lowest threshold) + margin); the margin is the largest at which, on the
other 20%, rows the whole model would hold or remove but the first stage would decide
alone stay within BUDGET of all rows. Changed verdicts are then counted on the recipe's
held-out rows, and the compute saved on the load harness's mix.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os

import numpy as np

from modgate_models.data import LABELS
from modgate_models.paths import MODELS_DIR
from modgate_models.thresholds import action_logits

EXIT_AFTER = 4  # chosen in the study (docs/onnx.md, "A cascade"): the most compute saved
BUDGET = 0.0005  # share of validation rows whose verdict the exit may change
RIDGE = 100.0
LAYERS = 12  # the whole encoder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("study")
    ap.add_argument("--stream")
    ap.add_argument("--out", required=True)
    ap.add_argument("--config", default=os.path.join(MODELS_DIR, "..", "config.toml"))
    args = ap.parse_args()
    from safetensors.numpy import save_file

    d = np.load(args.study)
    thr = action_logits(args.config)
    th = np.stack([thr[str(l)] for l in d["lang"]])
    acts = (d["logits"] > th).any(1)
    pool = np.flatnonzero(d["split"] == "pool")
    np.random.default_rng(0).shuffle(pool)
    fit, val = pool[: int(0.8 * len(pool))], pool[int(0.8 * len(pool)):]
    held = np.flatnonzero(d["split"] == "held")

    x = d[f"f{EXIT_AFTER}"].astype(np.float64)
    mu, sd = x[fit].mean(0), x[fit].std(0) + 1e-6
    a = np.concatenate([(x[fit] - mu) / sd, np.ones((len(fit), 1))], 1)
    w = np.linalg.solve(a.T @ a + RIDGE * np.eye(a.shape[1]), a.T @ d["logits"][fit].astype(np.float64))
    # Back to raw features: z = x @ W + b.
    weight = w[:-1] / sd[:, None]
    bias = w[-1] - (mu / sd) @ w[:-1]
    weight, bias = weight.astype(np.float32), bias.astype(np.float32)
    estimate = lambda f: f.astype(np.float32) @ weight + bias  # noqa: E731

    # One bound per label for every language: the lowest threshold any language uses.
    lowest = np.min(np.stack(list(thr.values())), axis=0)
    bounded = np.isfinite(lowest)
    z = estimate(x)

    def exits(z: np.ndarray, margin: float) -> np.ndarray:
        return (z[:, bounded] < lowest[bounded] + margin).all(1)

    margin = max(m for m in np.round(np.arange(-8, 2.0001, 0.05), 2) if (exits(z[val], m) & acts[val]).mean() <= BUDGET)
    ex = exits(z, margin)
    report = {"exit_after": EXIT_AFTER, "margin": margin, "budget": BUDGET, "validation_rows": len(val)}
    report["validation"] = {"exit": round(float(ex[val].mean()), 4), "changed": int((ex & acts)[val].sum())}
    for lang in ("en", "ru"):
        rows = held[d["lang"][held] == lang]
        report[f"held_out_{lang}"] = {
            "rows": len(rows),
            "exit": round(float(ex[rows].mean()), 4),
            "exit_of_harmless": round(float(ex[rows][~acts[rows]].mean()), 4),
            "changed": int((ex & acts)[rows].sum()),
        }
    if args.stream:
        s = np.load(args.stream)
        s_th = np.stack([thr[str(l)] for l in s["lang"]])
        s_acts = (s["logits"] > s_th).any(1)
        s_ex = exits(estimate(s[f"f{EXIT_AFTER}"]), margin)
        cost = np.where(s_ex, EXIT_AFTER / LAYERS, 1.0)
        report["load_mix"] = {
            "texts": len(s_ex),
            "exit": round(float(s_ex.mean()), 4),
            "changed": int((s_ex & s_acts).sum()),
            "compute_share_token_weighted": round(float((cost * s["tokens"]).sum() / s["tokens"].sum()), 4),
        }
    sig = lambda v: float(1 / (1 + np.exp(-v)))  # noqa: E731
    exit_below = {LABELS[j]: round(sig(lowest[j] + margin), 6) for j in range(len(LABELS)) if bounded[j]}

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "exit.safetensors")
    save_file({"exit.weight": weight, "exit.bias": bias}, path)
    meta = {
        "labels": LABELS,
        "exit_after": EXIT_AFTER,
        "exit_margin": round(-float(margin), 6),
        "exit_below": exit_below,
        "exit_sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
        "teacher": "models/e5-toxic-full-int8 (one text per pass)",
        "method": f"ridge regression (lambda {RIDGE:g}, standardised features) from the unit mean and max pooled token states "
        f"after {EXIT_AFTER} layers of the int8 encoder to the teacher's six logits, on {len(fit)} training rows the teacher's recipe "
        f"never selected; exit margin {margin} (logits below the lowest action threshold of config.toml) chosen on {len(val)} "
        f"more such rows for at most {BUDGET:.2%} changed verdicts",
        "data": "modgate_models.cascade_study score (../shared/train; pool 10,000 English and 6,000 Russian rows, seed 7)",
        "report": report,
    }
    json.dump(meta, open(os.path.join(args.out, "exit.json"), "w"), indent=2)
    print(json.dumps(meta["report"], indent=2))
    print(f"exit_below = {exit_below}")


if __name__ == "__main__":
    main()
