"""The training rows for the MiniLM head: which files of ../shared/train, which rows, and
which of modgate's six labels each source can teach (NaN = the source says nothing).

Selection is deterministic (seeded, stratified per source and label) so the data list in
models/minilm-toxic/data.json pins exactly what the committed head was trained on.
"""

from __future__ import annotations

import csv
import os
import random

import numpy as np

from modgate_models.hashing import sha256_file

LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
NAN = float("nan")
SEED = 20261128

# (name, path under train dir, rows to take at most). Caps keep the one-off embedding job
# near 40k texts (about 20 minutes on a shared 2-core machine); the hate-focused sets get
# the most rows. (Taking all 41k DynaHate rows was tried: better on held-out DynaHate rows,
# worse on held-out Jigsaw rows, so the head was kept.)
SOURCES = [
    ("dynahate_v023", "dynahate_v023/normalized.csv", 16000),
    ("hatemoji_build", "hatemoji_build/normalized.csv", 6000),
    ("measuring_hate_speech_subset", "measuring_hate_speech_subset/normalized.csv", 6000),
    ("toxic_spans_civil_comments", "toxic_spans_civil_comments/normalized.csv", 7000),
    ("jigsaw2018_train_sample", "jigsaw2018_train_sample/jigsaw2018_trainsplit_5000.csv", 5000),
    ("davidson2017", "davidson2017/labeled_data.csv", 3000),
]
# Not used: ru_vk_distorted_toxicity (Russian; the MiniLM backbone is English-only).

# The multilingual e5 model (train_e5): fewer English rows (each costs a pass through the
# 12-layer encoder) and the Russian set, all of it.
SOURCES_E5 = [
    ("dynahate_v023", "dynahate_v023/normalized.csv", 14000),
    ("hatemoji_build", "hatemoji_build/normalized.csv", 6000),
    ("measuring_hate_speech_subset", "measuring_hate_speech_subset/normalized.csv", 4000),
    ("toxic_spans_civil_comments", "toxic_spans_civil_comments/normalized.csv", 4000),
    ("jigsaw2018_train_sample", "jigsaw2018_train_sample/jigsaw2018_trainsplit_5000.csv", 5000),
    ("davidson2017", "davidson2017/labeled_data.csv", 2000),
    ("ru_vk_distorted_toxicity", "ru_vk_distorted_toxicity/normalized.csv", 3000),
]
# The fully fine-tuned e5 model (train_e5_full), every set of ../shared/train. The
# caps are the CPU-sized recipe (a stratified sample of about 40k rows: one epoch of all 12
# layers takes about an hour on two cores); the GPU recipe takes every row (cap None).
SOURCES_FULL = [
    ("dynahate_v023", "dynahate_v023/normalized.csv", 10000),
    ("hatemoji_build", "hatemoji_build/normalized.csv", 3000),
    ("measuring_hate_speech_subset", "measuring_hate_speech_subset/normalized.csv", 3500),
    ("toxic_spans_civil_comments", "toxic_spans_civil_comments/normalized.csv", 3500),
    ("jigsaw2018_train_sample", "jigsaw2018_train_sample/jigsaw2018_trainsplit_5000.csv", 5000),
    ("davidson2017", "davidson2017/labeled_data.csv", 1500),
    ("ru_vk_distorted_toxicity", "ru_vk_distorted_toxicity/normalized.csv", 3000),
    ("ru_paradetox_russe2022", "ru_paradetox_russe2022/normalized.csv", 6000),
    ("en_paradetox", "en_paradetox/normalized.csv", 2500),
    ("en_identity_mentions_wikipedia", "en_identity_mentions_wikipedia/normalized.csv", 2000),
    ("en_toxigen_seeds", "en_toxigen_seeds/normalized.csv", 700),
]
# The language each source is written in (for per-language thresholds).
SOURCE_LANGUAGE = {"ru_vk_distorted_toxicity": "ru", "ru_paradetox_russe2022": "ru"}
# Sources whose rows come in paraphrase pairs (a toxic text and neutral rewrites of it):
# a pair is sampled, and held out, as one unit.
PAIRED_SOURCES = {"ru_paradetox_russe2022", "en_paradetox"}


def _row(text: str, **labels: float) -> tuple[str, list[float]]:
    return text, [float(labels.get(l, NAN)) for l in LABELS]


def _labels_for(source: str, r: dict) -> tuple[str, list[float]] | None:
    if source == "dynahate_v023":
        if r["label_conflict"] == "1":
            return None
        hate = int(r["label_bin"])
        # "nothate" also holds some general abuse ("These people are fucking ridiculous"),
        # but mostly the benign contrast cases written to fool a model (identity mentions,
        # counter-speech); as toxic = 0 they keep `toxic` from firing on identity words.
        return _row(r["text"], identity_hate=hate, toxic=hate)
    if source == "hatemoji_build":
        if r["label_conflict"] == "1":
            return None
        hate = int(r["label"] == "hate")
        return _row(r["text"], identity_hate=hate, toxic=hate, threat=int(r["type"] == "threateninglanguage"))
    if source == "measuring_hate_speech_subset":
        if r["label_conflict"] == "1":
            return None
        hate = int(r["label"])
        return _row(r["text"], identity_hate=hate, **({"toxic": 1} if hate else {}))
    if source == "toxic_spans_civil_comments":
        if r["label_conflict"] == "1":
            return None
        toxic = int(r["label"] == "toxic")
        maj = lambda k: int(float(r[k]) >= 0.5)  # noqa: E731
        return _row(
            r["text"],
            toxic=toxic,
            insult=maj("frac_insult"),
            threat=maj("frac_threat"),
            obscene=maj("frac_profane"),
            identity_hate=maj("frac_identity_attack"),
        )
    if source == "jigsaw2018_train_sample":
        return _row(r["comment_text"], **{l: int(r[l]) for l in LABELS})
    if source == "davidson2017":
        cls = int(r["class"])  # 0 hate speech, 1 offensive, 2 neither
        return _row(r["tweet"], toxic=int(cls < 2), identity_hate=int(cls == 0))
    if source == "ru_vk_distorted_toxicity":
        if r["label_conflict"] == "1":
            return None
        return _row(r["text"], toxic=int(r["label"] == "toxic"))
    if source in ("ru_paradetox_russe2022", "en_paradetox"):
        # A neutral paraphrase is free of every kind of abuse; the toxic original is rude,
        # but which kind the set does not say.
        if r["label"] == "toxic":
            return _row(r["text"], toxic=1)
        return _row(r["text"], **{l: 0 for l in LABELS})
    if source == "en_identity_mentions_wikipedia":
        # Encyclopaedia sentences naming identity groups: none of them is abuse.
        return _row(r["text"], **{l: 0 for l in LABELS})
    if source == "en_toxigen_seeds":
        hate = int(r["label"] == "hate")
        return _row(r["text"], toxic=hate, identity_hate=hate)
    if source == MODERATOR_DECISIONS:
        return decision_labels(r)
    raise ValueError(source)


# `modgate export-decisions --out FILE.csv`: a newsroom's own moderators' decisions, added
# to the training data with `python -m modgate_models.train_e5_full --decisions FILE.csv`.
MODERATOR_DECISIONS = "moderator_decisions"


def decision_labels(r: dict) -> tuple[str, list[float]] | None:
    """A moderator's decision as labels. An approved comment is free of every kind of
    abuse; a removed one is toxic, and its removal reason names the kind when it can
    (hate_speech, threat). Spam and off-topic removals say nothing about abuse: skipped."""
    if r["decision"] == "approve":
        return _row(r["text"], **{l: 0 for l in LABELS})
    if r["decision"] != "remove":
        return None
    reason = r.get("reason", "")
    if reason in ("spam", "off_topic"):
        return None
    if reason == "hate_speech":
        return _row(r["text"], toxic=1, identity_hate=1)
    if reason == "threat":
        return _row(r["text"], toxic=1, threat=1)
    return _row(r["text"], toxic=1)


def decision_sources(paths: list[str]) -> list[tuple[str, str, None]]:
    """Source entries for exported decision files (absolute paths, every row taken)."""
    return [(MODERATOR_DECISIONS, os.path.abspath(p), None) for p in paths]


def _group_of(source: str, r: dict, i: int) -> str:
    """Rows of one group are sampled and held out together (paraphrase pairs)."""
    if source in PAIRED_SOURCES:
        return f"{source}/{r['pair_id']}"
    return f"{source}/{i}"


def text_key(text: str) -> str:
    """Two rows with this key are the same text (de-duplication across sources)."""
    return " ".join(text.lower().split())


def select_grouped(train_dir: str, source_list=SOURCES_FULL, full: bool = False, exclude=None):
    """Like select(), for train_e5_full: caps apply unless `full`, paraphrase pairs are
    taken whole (stratified by the pair's toxic member), and each row carries its group so
    the held-out split can keep pairs together. `exclude` = (groups, texts) of an earlier
    selection: its groups are not sampled and its texts are not taken again (a continued
    run sees new rows only). Returns texts, labels, sources, groups and the data list."""
    rng = random.Random(SEED)
    texts, labels, sources, groups, listing = [], [], [], [], []
    exclude_groups, seen = (set(exclude[0]), {text_key(t) for t in exclude[1]}) if exclude else (set(), set())
    for name, rel, cap in source_list:
        path = os.path.join(train_dir, rel)
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        by_group: dict[str, list] = {}
        for i, r in enumerate(rows):
            p = _labels_for(name, r)
            g = _group_of(name, r, i)
            if p is not None and p[0].strip() and g not in exclude_groups:
                by_group.setdefault(g, []).append(p)
        # Stratify groups by their label vectors so rare positives keep their share.
        strata: dict[tuple, list] = {}
        for g, members in by_group.items():
            key = tuple(sorted(tuple(np.nan_to_num(m[1], nan=-1)) for m in members))[-1:]
            strata.setdefault(key, []).append(g)
        n_rows = sum(len(m) for m in by_group.values())
        share = 1.0 if full or cap is None else min(1.0, cap / max(1, n_rows))
        take = []
        for key in sorted(strata):
            gs = sorted(strata[key])
            rng.shuffle(gs)
            take.extend(gs[: max(1, round(len(gs) * share))])
        rng.shuffle(take)
        kept, used = 0, 0
        for g in take:
            if not full and cap is not None and used >= cap:
                break
            used += len(by_group[g])
            for text, lab in by_group[g]:
                key = text_key(text)
                if key in seen:
                    continue
                seen.add(key)
                texts.append(text)
                labels.append(lab)
                sources.append(name)
                groups.append(g)
                kept += 1
        listing.append({"source": name, "file": rel, "sha256": sha256_file(path), "rows_in_file": len(rows), "rows_used": kept})
    return texts, np.array(labels, dtype=np.float32), np.array(sources), np.array(groups), listing


def select(train_dir: str, source_list=SOURCES):
    """Returns texts, labels [n, 6] (NaN = unknown), source per row, and the data list."""
    rng = random.Random(SEED)
    texts, labels, sources, listing = [], [], [], []
    seen = set()
    for name, rel, cap in source_list:
        path = os.path.join(train_dir, rel)
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        parsed = [p for p in (_labels_for(name, r) for r in rows) if p is not None and p[0].strip()]
        # Stratify by the label vector so rare positives keep their share.
        strata: dict[tuple, list] = {}
        for p in parsed:
            strata.setdefault(tuple(np.nan_to_num(p[1], nan=-1)), []).append(p)
        take = []
        share = min(1.0, cap / max(1, len(parsed)))
        for key in sorted(strata):
            group = strata[key]
            rng.shuffle(group)
            take.extend(group[: max(1, round(len(group) * share))])
        rng.shuffle(take)
        take = take[:cap]
        kept = 0
        for text, lab in take:
            key = text_key(text)
            if key in seen:
                continue
            seen.add(key)
            texts.append(text)
            labels.append(lab)
            sources.append(name)
            kept += 1
        listing.append({"source": name, "file": rel, "sha256": sha256_file(path), "rows_in_file": len(rows), "rows_used": kept})
    return texts, np.array(labels, dtype=np.float32), np.array(sources), listing
