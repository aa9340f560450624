"""A chain of continued CPU runs (cpu -> cpu-continue -> cpu-continue-2) on a small
synthetic training folder: each run selects only rows no earlier run selected, every run
keeps the first run's held-out rows (never trained on), paraphrase pairs stay whole, and a
run refuses earlier rows that are not the ones its predecessor recorded.

Needs numpy (models/.venv, made by fetch-models.sh); skipped without it."""

from __future__ import annotations

import csv
import os
import tempfile
import unittest
from unittest import mock

try:
    import numpy  # noqa: F401

    HAVE_NUMPY = True
except ImportError:
    HAVE_NUMPY = False

ROWS = 60
LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


def _rows(name: str) -> tuple[list[str], list[dict]]:
    """Columns and rows in the shape data.py reads each source; every text unique."""
    out = []
    for i in range(ROWS):
        text, flag = f"{name} comment number {i}", i % 3 == 0
        if name == "dynahate_v023":
            out.append({"text": text, "label_bin": int(flag), "label_conflict": 0})
        elif name == "hatemoji_build":
            out.append({"text": text, "label": "hate" if flag else "nothate", "type": "none", "label_conflict": 0})
        elif name in ("measuring_hate_speech_subset", "ru_vk_distorted_toxicity"):
            label = (1 if flag else 0) if name.startswith("measuring") else ("toxic" if flag else "neutral")
            out.append({"text": text, "label": label, "label_conflict": 0})
        elif name == "toxic_spans_civil_comments":
            f = "0.6" if flag else "0.0"
            out.append({"text": text, "label": "toxic" if flag else "non-toxic", "label_conflict": 0, "frac_insult": f, "frac_threat": "0", "frac_profane": f, "frac_identity_attack": "0"})
        elif name == "jigsaw2018_train_sample":
            out.append({"comment_text": text, **{label: int(flag and label == "toxic") for label in LABELS}})
        elif name == "davidson2017":
            out.append({"tweet": text, "class": 1 if flag else 2})
        elif name in ("ru_paradetox_russe2022", "en_paradetox"):
            out.append({"text": text, "label": "toxic" if i % 2 == 0 else "neutral", "pair_id": i // 2})
        elif name == "en_toxigen_seeds":
            out.append({"text": text, "label": "hate" if flag else "benign"})
        else:
            out.append({"text": text})
    return list(out[0]), out


@unittest.skipUnless(HAVE_NUMPY, "numpy is not installed (models/.venv from fetch-models.sh has it)")
class ContinuedRunsTest(unittest.TestCase):
    def setUp(self):
        from modgate_models import recipes

        self.recipes = recipes
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        small = []
        for name, rel, _ in recipes.SOURCES_FULL:
            path = os.path.join(self.tmp.name, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            columns, rows = _rows(name)
            with open(path, "w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, fieldnames=columns)
                w.writeheader()
                w.writerows(rows)
            # Caps well under the file, so each run leaves rows for the next one.
            small.append((name, rel, 12))
        patch = mock.patch.object(recipes, "SOURCES_FULL", small)
        patch.start()
        self.addCleanup(patch.stop)
        caps = {name: 12 for name, _, _ in small}
        for name in ("cpu-continue", "cpu-continue-2"):
            patched = dict(recipes.RECIPES[name], caps=caps)
            p = mock.patch.dict(recipes.RECIPES, {name: patched})
            p.start()
            self.addCleanup(p.stop)

    def _run(self, name: str, earlier_digest=None):
        r = self.recipes
        if r.RECIPES[name].get("continues"):
            texts, _, sources, groups, _, held = r.continued_rows(self.tmp.name, r.RECIPES[name], [], 0, earlier_digest)
        else:
            texts, _, sources, groups, _ = r.select_grouped(self.tmp.name, r.SOURCES_FULL, full=False)
            held = r.held_out_mask(groups)
        return texts, list(sources), list(groups), list(held)

    def test_each_run_takes_new_rows_and_keeps_the_first_held_out_rows(self):
        r = self.recipes
        runs = {name: self._run(name) for name in ("cpu", "cpu-continue", "cpu-continue-2")}
        held = {name: [t for t, h in zip(run[0], run[3]) if h] for name, run in runs.items()}
        self.assertTrue(held["cpu"], "the first run holds rows out")
        self.assertEqual(held["cpu"], held["cpu-continue"])
        self.assertEqual(held["cpu"], held["cpu-continue-2"])
        self.assertEqual(held["cpu"], r.held_out_selection(self.tmp.name, "cpu-continue-2")[0])

        replayed = set(r.RECIPES["cpu-continue-2"]["replay"])
        earlier: set[str] = set()
        trained: set[str] = set()
        for name, (texts, sources, groups, is_held) in runs.items():
            new = [t for t, s, h in zip(texts, sources, is_held) if not h and (name == "cpu" or s not in replayed)]
            self.assertTrue(new, f"{name} selects new rows")
            self.assertFalse(earlier & set(new), f"{name} selects a row an earlier run selected")
            earlier |= set(texts)
            trained |= {t for t, h in zip(texts, is_held) if not h}
            # A paraphrase pair is selected whole and falls on one side of the split.
            sides: dict[str, set] = {}
            for g, h in zip(groups, is_held):
                sides.setdefault(g, set()).add(h)
            pairs = [g for g in sides if g.startswith(("ru_paradetox_russe2022/", "en_paradetox/"))]
            self.assertTrue(pairs)
            for g in pairs:
                self.assertEqual(len(sides[g]), 1, g)
                self.assertEqual(groups.count(g), 2, g)
        self.assertFalse(trained & set(held["cpu"]), "a held-out row was trained on")
        self.assertEqual(set(r.selected_texts(self.tmp.name, "cpu-continue-2")), earlier)

    def test_a_run_refuses_earlier_rows_its_predecessor_did_not_record(self):
        r = self.recipes
        digest = r.selection_digest(self._run("cpu-continue")[0])
        self._run("cpu-continue-2", earlier_digest=digest)
        with self.assertRaises(SystemExit):
            self._run("cpu-continue-2", earlier_digest="0" * 64)


if __name__ == "__main__":
    unittest.main()
