"""Held-out evaluation shared by the trainers (train_head, train_e5, train_e5_full):
ROC-AUC, the per-label operating points and the bias shift that puts a label's operating
point on modgate's default hold threshold."""

from __future__ import annotations

import json
import math

import numpy as np

# modgate's default hold thresholds (config.toml); labels without one keep their own scale.
DEFAULT_HOLD = {"toxic": 0.80, "severe_toxic": 0.40, "threat": 0.15, "identity_hate": 0.45}


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


def best_balanced_threshold(y: np.ndarray, p: np.ndarray) -> tuple[float, dict]:
    """Threshold with the best balanced accuracy (mean of TPR and TNR): independent of the
    label's share in the training mix, which says nothing about a news site's."""
    best = (0.5, -1.0, 0.0, 0.0)
    pos, neg = max(1, (y == 1).sum()), max(1, (y == 0).sum())
    for t in np.unique(np.quantile(p, np.linspace(0.01, 0.995, 400))):
        pred = p >= t
        tpr = float((pred & (y == 1)).sum()) / pos
        tnr = float((~pred & (y == 0)).sum()) / neg
        if (tpr + tnr) / 2 > best[1]:
            best = (float(t), (tpr + tnr) / 2, tpr, tnr)
    return best[0], {"balanced_accuracy": best[1], "tpr": best[2], "tnr": best[3]}


def precise_threshold(y: np.ndarray, p: np.ndarray, precision: float) -> tuple[float, dict]:
    """Lowest threshold whose precision reaches `precision` (for labels that may remove or
    that fire rarely: few false alarms matter more than recall)."""
    order = np.argsort(-p)
    tp = np.cumsum(y[order] == 1)
    prec = tp / np.arange(1, len(p) + 1)
    # Flag at least 5 rows, so one lucky top score does not set the point.
    ok = np.nonzero((prec >= precision) & (np.arange(len(p)) >= 4))[0]
    if len(ok) == 0:
        return best_f1_threshold(y, p)
    t = float(p[order][ok[-1]])
    pred = p >= t
    return t, {
        "precision": float((pred & (y == 1)).sum() / max(1, pred.sum())),
        "recall": float((pred & (y == 1)).sum() / max(1, (y == 1).sum())),
    }


# How each label's operating point is chosen on the held-out rows.
OPERATING_POINT = {
    "toxic": ("balanced", None),
    "identity_hate": ("balanced", None),
    "severe_toxic": ("precision", 0.75),
    "threat": ("precision", 0.6),
}


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def operating_points(z, y, lang, sources, head_b, labels):
    """Per label, on held-out rows (logits `z`, gold `y` [n, labels] with NaN = unknown, the
    row's language and source): ROC-AUC and the operating point for English and Russian
    (OPERATING_POINT for English, balanced accuracy for Russian), and the bias shift that
    puts English's point on DEFAULT_HOLD, applied to `head_b` in place. Returns the report
    per label and the Russian thresholds on the shifted scale (for config.toml)."""
    report, per_language = {}, {}
    for j, label in enumerate(labels):
        yy = y[:, j]
        k = ~np.isnan(yy)
        entry = {"held_out_rows": int(k.sum()), "positives": int(np.nansum(yy))}
        for lg in ("en", "ru"):
            sel = k & (lang == lg)
            if not (sel.sum() and 0 < yy[sel].sum() < sel.sum()):
                continue
            yt, p = yy[sel].astype(int), 1 / (1 + np.exp(-z[sel, j]))
            how, arg = OPERATING_POINT.get(label, ("f1", None))
            if lg == "ru":
                how, arg = "balanced", None  # little Russian data: balanced accuracy
            pick = {"balanced": best_balanced_threshold, "precision": lambda a, b: precise_threshold(a, b, arg)}.get(how, best_f1_threshold)
            t, at = pick(yt, p)
            entry[lg] = {"roc_auc": round(roc_auc(yt, p), 4), "operating_point": round(t, 4), "at_operating_point": {a: round(v, 4) for a, v in at.items()}}
            by_source = {}
            for src in np.unique(sources[sel]):
                ss = sources[sel] == src
                if 0 < yt[ss].sum() < ss.sum():
                    by_source[str(src)] = round(roc_auc(yt[ss], p[ss]), 4)
            entry[lg]["roc_auc_by_source"] = by_source
        shift = 0.0
        if label in DEFAULT_HOLD and "en" in entry:
            t = min(max(entry["en"]["operating_point"], 1e-4), 1 - 1e-4)
            shift = logit(DEFAULT_HOLD[label]) - logit(t)
            head_b[j] += shift
            if "ru" in entry:
                # The Russian operating point after the same shift, as a config threshold.
                tr = min(max(entry["ru"]["operating_point"], 1e-4), 1 - 1e-4)
                per_language.setdefault("ru", {})[label] = round(1 / (1 + math.exp(-(logit(tr) + shift))), 4)
        entry["bias_shift_to_default_threshold"] = round(shift, 4)
        report[label] = entry
        print(label, json.dumps(entry), flush=True)
    return report, per_language
