"""The training recipes of e5-toxic-full and its seeded held-out split, shared by
train_e5_full (which trains with them) and held_out_rows (which writes the rows it held
out, for choosing policy settings on training data the model has not seen)."""

from __future__ import annotations

import numpy as np

from modgate_models.data import SEED

# The share of row groups held out for operating points (a paraphrase pair is one group).
HELD_OUT = 0.12

RECIPES = {
    # A CPU-sized run: about 40k rows, one epoch (about an hour on two cores).
    "cpu": {"full": False, "epochs": 1, "batch": 32, "lr": 5e-5, "bf16": False, "repeat_ru": 1, "identity_repeat": 2},
    # The full recipe for one GPU: every row, three epochs, bf16 matmuls.
    "gpu": {"full": True, "epochs": 3, "batch": 128, "lr": 5e-5, "bf16": True, "repeat_ru": 3, "identity_repeat": 3},
}


def held_out_mask(groups: np.ndarray) -> np.ndarray:
    """The seeded held-out split, by group: a paraphrase pair stays on one side."""
    uniq = np.unique(groups)
    held_groups = set(uniq[np.random.default_rng(SEED).random(len(uniq)) < HELD_OUT].tolist())
    return np.array([g in held_groups for g in groups])
