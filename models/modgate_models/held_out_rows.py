"""Write the rows train_e5_full held out (same selection, same split) as a CSV for
`modgate eval`, to choose policy settings (thresholds, the identity-term counterfactual)
on training data the model has not seen, never on ../shared/eval.

    python -m modgate_models.held_out_rows --train-dir ../../shared/train --recipe cpu --out .cache/held_out.csv

Columns: text, lang, source, toxic (1/0: the row is abusive), hate (1/0/empty: the row
attacks a group; empty where the source does not say).
"""

from __future__ import annotations

import argparse
import csv

import numpy as np

from modgate_models.data import SOURCE_LANGUAGE, SOURCES_FULL, select_grouped
from modgate_models.recipes import RECIPES, first_recipe, held_out_mask


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-dir", required=True)
    ap.add_argument("--recipe", choices=sorted(RECIPES), default="cpu")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    # A continued run keeps the held-out rows of the run its chain started from.
    first = first_recipe(args.recipe)
    texts, y, sources, groups, _ = select_grouped(args.train_dir, SOURCES_FULL, full=RECIPES[first]["full"])
    held = np.flatnonzero(held_out_mask(groups))
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "lang", "source", "toxic", "hate"])
        for i in held:
            toxic, hate = y[i, 0], y[i, 5]
            if np.isnan(toxic):
                continue
            w.writerow([texts[i], SOURCE_LANGUAGE.get(str(sources[i]), "en"), sources[i], int(toxic), "" if np.isnan(hate) else int(hate)])
    print(f"{args.out}: {len(held)} held-out rows")


if __name__ == "__main__":
    main()
