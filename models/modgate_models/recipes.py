"""The training recipes of e5-toxic-full, its seeded held-out split and the rows a run
selected, shared by train_e5_full (which trains with them), held_out_rows (which writes
the rows it held out, for choosing policy settings on training data the model has not
seen) and the cascade study (which needs rows the model never saw)."""

from __future__ import annotations

import hashlib

import numpy as np

from modgate_models import identity_swap
from modgate_models.data import SEED, SOURCES_FULL, select_grouped

# The share of row groups held out for operating points (a paraphrase pair is one group).
HELD_OUT = 0.12

# What every CPU-sized run shares: one epoch, batch 32, fp32, identity-contrast rows twice.
_CPU = {"full": False, "epochs": 1, "batch": 32, "bf16": False, "repeat_ru": 1, "identity_repeat": 2}
# A run that continues another (--init its head directory) at a lower peak rate, on rows no
# earlier run of its chain selected; its held-out rows are the chain's first run's, so every
# run's held-out figures compare row for row. The training rows of the sources the first
# run took whole (`replay`) are shown again, so their domains are not forgotten; `caps`
# overrides the source caps.
_CONTINUE = {**_CPU, "lr": 3e-5, "replay": ["jigsaw2018_train_sample", "ru_vk_distorted_toxicity", "en_toxigen_seeds"]}

RECIPES = {
    # A CPU-sized run: about 40k rows, one epoch (about an hour on two cores).
    "cpu": {**_CPU, "lr": 5e-5},
    # A second epoch on about 40k rows the first never selected, with all of the harmless
    # Wikipedia identity sentences the first run left.
    "cpu-continue": {**_CONTINUE, "continues": "cpu", "caps": {"en_identity_mentions_wikipedia": 4000}},
    # A third epoch on rows neither earlier run selected: the rest of the Civil Comments and
    # Russian paraphrase rows (closest to news comments; Russian had no other new rows left),
    # and more of the hate sets' contrast cases.
    "cpu-continue-2": {
        **_CONTINUE,
        "continues": "cpu-continue",
        "caps": {"toxic_spans_civil_comments": 9000, "ru_paradetox_russe2022": 10000, "davidson2017": 1000},
    },
    # A short fourth pass: identity-term swaps (modgate_models.identity_swap) of rows no run
    # held out, for the words the training text hardly names harmlessly, beside a replayed
    # fifth of the CPU sample so the operating points stay where they were.
    "cpu-identity-swap": {
        **_CPU,
        "lr": 2e-5,
        "continues": "cpu-continue",
        "swap": {"per_target": 150, "rare_below": 100, "replay_share": 0.2},
    },
    # The full recipe for one GPU: every row, three epochs, bf16 matmuls.
    "gpu": {"full": True, "epochs": 3, "batch": 128, "lr": 5e-5, "bf16": True, "repeat_ru": 3, "identity_repeat": 3},
}


def first_recipe(name: str) -> str:
    """The recipe whose run started `name`'s chain: its selection fixes the held-out rows."""
    while RECIPES[name].get("continues"):
        name = RECIPES[name]["continues"]
    return name


def held_out_mask(groups: np.ndarray) -> np.ndarray:
    """The seeded held-out split, by group: a paraphrase pair stays on one side."""
    uniq = np.unique(groups)
    held_groups = set(uniq[np.random.default_rng(SEED).random(len(uniq)) < HELD_OUT].tolist())
    return np.array([g in held_groups for g in groups])


def selection_digest(texts: list[str]) -> str:
    """data.json's `selected_texts_sha256`: which rows a run selected, in order."""
    return hashlib.sha256("\x00".join(texts).encode("utf-8")).hexdigest()


def _run_rows(train_dir: str, name: str) -> dict:
    """The rows a recipe's run selected (texts, y, sources, groups, held: its held-out mask,
    listing: its data list), and `every_texts` / `every_groups` of every run in its chain,
    which a run continuing it must not select again."""
    recipe = RECIPES[name]
    if recipe.get("continues"):
        return _continue(train_dir, recipe, [], 0)
    texts, y, sources, groups, listing = select_grouped(train_dir, SOURCES_FULL, full=recipe["full"])
    held = held_out_mask(groups)
    return {"texts": texts, "y": y, "sources": sources, "groups": groups, "held": held, "listing": listing, "every_texts": texts, "every_groups": groups}


def _continue(train_dir: str, recipe: dict, extra: list, limit: int, earlier_digest: str | None = None) -> dict:
    earlier = _run_rows(train_dir, recipe["continues"])
    t1, y1, s1, g1 = earlier["texts"], earlier["y"], earlier["sources"], earlier["groups"]
    if earlier_digest is not None and selection_digest(t1) != earlier_digest:
        raise SystemExit(
            f"the earlier run's rows rebuilt from {train_dir} are not the ones its data.json lists "
            f"(selected_texts_sha256 differs): other training files, or a run with --decisions"
        )
    held1 = np.flatnonzero(earlier["held"])
    if recipe.get("swap"):
        t2, y2, s2, g2, listing2 = _swapped_rows(train_dir, recipe["swap"], extra, (g1[held1], [t1[i] for i in held1]))
    else:
        caps = recipe.get("caps", {})
        sources_new = [(name, rel, caps.get(name, cap)) for name, rel, cap in SOURCES_FULL] + extra
        exclude = (earlier["every_groups"], earlier["every_texts"])
        t2, y2, s2, g2, listing2 = select_grouped(train_dir, sources_new, full=False, exclude=exclude)
    held_set = set(held1.tolist())
    replay = [i for i in range(len(t1)) if s1[i] in recipe.get("replay", ()) and i not in held_set]
    t2, y2 = t2 + [t1[i] for i in replay], np.concatenate([y2, y1[replay]])
    s2, g2 = np.concatenate([s2, s1[replay]]), np.concatenate([g2, g1[replay]])
    listing2.append({"replayed_from_earlier_run": {name: int((s1[replay] == name).sum()) for name in recipe.get("replay", ())}})
    if limit:
        t2, y2, s2, g2 = t2[:limit], y2[:limit], s2[:limit], g2[:limit]
        held1 = held1[: max(1, limit // 8)]
    texts = t2 + [t1[i] for i in held1]
    groups = np.concatenate([g2, g1[held1]])
    return {
        "texts": texts,
        "y": np.concatenate([y2, y1[held1]]),
        "sources": np.concatenate([s2, s1[held1]]),
        "groups": groups,
        "held": np.concatenate([np.zeros(len(t2), dtype=bool), np.ones(len(held1), dtype=bool)]),
        "listing": {
            "earlier_run": {"recipe": recipe["continues"], "rows": len(t1), "held_out_rows": int(len(held1)), "files": earlier["listing"]},
            "new_rows": listing2,
        },
        "every_texts": earlier["every_texts"] + texts,
        "every_groups": np.concatenate([earlier["every_groups"], groups]),
    }


def _swapped_rows(train_dir: str, swap: dict, extra: list, held: tuple) -> tuple:
    """A swap run's rows: identity-term swaps of every row outside the chain's held-out rows
    (`held`: their groups and texts), then a seeded stratified sample of ordinary rows (the
    CPU caps times `replay_share`) and any `extra` sources whole, none of them held out."""
    texts, y, sources, groups, pool = select_grouped(train_dir, SOURCES_FULL, full=True, exclude=held)
    st, sy, picked, sg, summary = identity_swap.augment(texts, y, groups, swap["per_target"], swap["rare_below"], SEED)
    sample = [(name, rel, round(cap * swap["replay_share"])) for name, rel, cap in SOURCES_FULL]
    rt, ry, rs, rg, listing = select_grouped(train_dir, sample + extra, exclude=held)
    swapped = {"identity_swaps": {"rows": len(st), **swap, "classes": summary, "drawn_from": pool}}
    return st + rt, np.concatenate([sy, ry]), np.concatenate([sources[picked], rs]), np.concatenate([sg, rg]), [swapped] + listing


def continued_rows(train_dir: str, recipe: dict, extra: list, limit: int, earlier_digest: str | None = None):
    """The rows of a run that continues an earlier one: new rows no run before it selected
    (stratified, the same caps unless the recipe overrides them), the earlier run's training
    rows from the `replay` sources, and the earlier run's held-out rows, still held out (so a
    chain of runs keeps its first run's). `earlier_digest` (the earlier run's data.json
    `selected_texts_sha256`) must match the earlier rows rebuilt here, or the held-out rows
    would not be the ones that run held out. Returns texts, labels, sources, groups, the
    data list (both runs) and the held-out mask."""
    r = _continue(train_dir, recipe, extra, limit, earlier_digest)
    return r["texts"], r["y"], r["sources"], r["groups"], r["listing"], r["held"]


def held_out_selection(train_dir: str, name: str) -> tuple[list[str], list[str]]:
    """The texts and sources of the rows a recipe held out and never trained on (a continued
    run keeps the earlier run's), in selection order."""
    texts, _, sources, groups, _ = select_grouped(train_dir, SOURCES_FULL, full=RECIPES[first_recipe(name)]["full"])
    held = np.flatnonzero(held_out_mask(groups))
    return [texts[i] for i in held], [str(sources[i]) for i in held]


def selected_texts(train_dir: str, name: str) -> list[str]:
    """Every text a recipe selected, trained on or held out, earlier runs included."""
    return _run_rows(train_dir, name)["every_texts"]
