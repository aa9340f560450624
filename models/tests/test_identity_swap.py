"""Identity-term swaps (modgate_models.identity_swap) and the cpu-identity-swap recipe: a
swap keeps the sentence, its case and its plural; rare terms get copies of rows naming the
frequent ones, labels unchanged, harmless and abusive alike; and no copy is made from a row
the chain holds out.

Needs numpy (models/.venv, made by fetch-models.sh); skipped without it."""

from __future__ import annotations

import csv
import os
import tempfile
import unittest
from unittest import mock

try:
    import numpy as np

    HAVE_NUMPY = True
except ImportError:
    HAVE_NUMPY = False

from test_recipes import _rows


@unittest.skipUnless(HAVE_NUMPY, "numpy is not installed (models/.venv from fetch-models.sh has it)")
class SwapTest(unittest.TestCase):
    def test_a_swap_keeps_case_plural_and_other_words(self):
        from modgate_models.identity_swap import swap

        self.assertEqual(swap("Muslims and muslim men, MUSLIM", "muslim", "sikh", True), "Sikhs and sikh men, SIKH")
        # Adjective classes swap the word only: "gays" and "gayety" stay.
        self.assertEqual(swap("Gay people, gays, gayety", "gay", "nonbinary", False), "Nonbinary people, gays, gayety")

    def test_rare_terms_get_rows_of_frequent_ones_with_their_labels(self):
        from modgate_models import identity_swap

        texts, labels = [], []
        for i in range(40):
            abusive = i % 4 == 0
            texts.append(f"gay people number {i} {'are vermin' if abusive else 'held a parade'}")
            labels.append([float(abusive)] * 6)
        texts += ["a nonbinary author wrote this"]
        labels += [[0.0] * 6]
        y = np.array(labels, dtype=np.float32)
        groups = np.array([f"src/{i}" for i in range(len(texts))])
        out, y_out, picked, g_out, summary = identity_swap.augment(texts, y, groups, per_target=12, rare_below=5, seed=1)
        cls = summary["sexual orientation and gender identity"]
        self.assertIn("gay", cls["from"])
        self.assertIn("nonbinary", cls["to"])
        self.assertNotIn("gay", cls["to"])
        nonbinary = [k for k, t in enumerate(out) if t.startswith("nonbinary people")]
        self.assertEqual(len(nonbinary), 12)
        for k in nonbinary:
            self.assertEqual(out[k], texts[picked[k]].replace("gay", "nonbinary"))
            np.testing.assert_array_equal(y_out[k], y[picked[k]])
            self.assertTrue(g_out[k].startswith("swap/nonbinary/src/"))
        self.assertTrue(0 < y_out[nonbinary, 0].sum() < 12, "both harmless and abusive rows are swapped")
        again = identity_swap.augment(texts, y, groups, per_target=12, rare_below=5, seed=1)
        self.assertEqual(again[0], out)


@unittest.skipUnless(HAVE_NUMPY, "numpy is not installed (models/.venv from fetch-models.sh has it)")
class SwapRecipeTest(unittest.TestCase):
    def test_no_swapped_row_comes_from_a_held_out_row(self):
        from modgate_models import recipes

        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        small = []
        for name, rel, _ in recipes.SOURCES_FULL:
            path = os.path.join(tmp.name, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            columns, rows = _rows(name)
            key = "tweet" if name == "davidson2017" else "comment_text" if name == "jigsaw2018_train_sample" else "text"
            for i, r in enumerate(rows):
                if i % 2 == 0 and not name.startswith("ru_"):
                    r[key] += " about muslims"
            with open(path, "w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, fieldnames=columns)
                w.writeheader()
                w.writerows(rows)
            small.append((name, rel, 12))
        for p in (
            mock.patch.object(recipes, "SOURCES_FULL", small),
            mock.patch.dict(
                recipes.RECIPES,
                {
                    "cpu-continue": dict(recipes.RECIPES["cpu-continue"], caps={n: 12 for n, _, _ in small}),
                    # Counts of a small folder: "muslim" is frequent, every other religion rare.
                    "cpu-identity-swap": dict(recipes.RECIPES["cpu-identity-swap"], swap={"per_target": 5, "rare_below": 3, "replay_share": 0.2}),
                },
            ),
        ):
            p.start()
            self.addCleanup(p.stop)
        texts, _, _, groups, listing, held = recipes.continued_rows(tmp.name, recipes.RECIPES["cpu-identity-swap"], [], 0)
        first_held = set(recipes.held_out_selection(tmp.name, "cpu")[0])
        self.assertEqual({t for t, h in zip(texts, held) if h}, first_held)
        swapped = [g for g, h in zip(groups, held) if not h and g.startswith("swap/")]
        self.assertTrue(swapped, "rows naming Muslims were swapped to the rare religions")
        held_groups = {g for g, h in zip(groups, held) if h}
        self.assertFalse({g.split("/", 2)[2] for g in swapped} & held_groups)
        self.assertTrue(any("sikh" in t.lower() for t in texts))
        self.assertIn("identity_swaps", listing["new_rows"][0])


if __name__ == "__main__":
    unittest.main()
