"""The model action thresholds of a config.toml ([policy.thresholds] and
[policy.languages.*.thresholds]) per language, as logits: what "the model part of the
pipeline would hold or remove" means when a study counts changed verdicts."""

from __future__ import annotations

import tomllib

import numpy as np

from modgate_models.data import LABELS


def action_logits(config_path: str) -> dict[str, np.ndarray]:
    """Per language (en, ru, kk, uz), each label's lowest action threshold (hold_at or
    remove_at) as a logit, in LABELS order; inf where the label has no action."""
    policy = tomllib.load(open(config_path, "rb"))["policy"]
    base = {label: min(v.values()) for label, v in policy["thresholds"].items() if v}
    out = {}
    for lang in ("en", "ru", "kk", "uz"):
        t = dict(base)
        for label, v in policy.get("languages", {}).get(lang, {}).get("thresholds", {}).items():
            if v:
                t[label] = min(v.values())
            else:
                t.pop(label, None)
        out[lang] = np.array([np.log(t[l] / (1 - t[l])) if l in t else np.inf for l in LABELS])
    return out
