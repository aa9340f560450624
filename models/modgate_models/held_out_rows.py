"""Write the rows train_e5_full held out (same selection, same split) as a CSV for
`modgate eval`, to choose policy settings (thresholds, the identity-term counterfactual)
on training data the model has not seen, never on ../shared/eval.

    python -m modgate_models.held_out_rows --train-dir ../../shared/train --recipe cpu --out .cache/held_out.csv

Columns: text, lang, source, toxic (1/0: the row is abusive), hate (1/0/empty: the row
attacks a group; empty where the source does not say).

With --identity-swaps, instead: every held-out row that names one frequent identity term
of a swap class, once as it is (term = that word) and once per rare term of its class with
the word replaced (modgate_models.identity_swap; term = the rare word). Grouped by `term`,
`modgate eval` then shows how each rare word is treated in the same sentences as the
frequent ones, harmless and abusive: the study of the cpu-identity-swap recipe.
"""

from __future__ import annotations

import argparse
import csv

import numpy as np

from modgate_models import identity_swap
from modgate_models.data import SOURCE_LANGUAGE, SOURCES_FULL, select_grouped
from modgate_models.recipes import RECIPES, first_recipe, held_out_mask


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-dir", required=True)
    ap.add_argument("--recipe", choices=sorted(RECIPES), default="cpu")
    ap.add_argument("--out", required=True)
    ap.add_argument("--identity-swaps", action="store_true", help="write held-out rows with identity terms swapped (see above)")
    args = ap.parse_args()
    # A continued run keeps the held-out rows of the run its chain started from.
    first = first_recipe(args.recipe)
    texts, y, sources, groups, _ = select_grouped(args.train_dir, SOURCES_FULL, full=RECIPES[first]["full"])
    held = np.flatnonzero(held_out_mask(groups))
    if args.identity_swaps:
        write_swaps(args.train_dir, args.out, [texts[i] for i in held], y[held], groups[held])
        return
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "lang", "source", "toxic", "hate"])
        for i in held:
            toxic, hate = y[i, 0], y[i, 5]
            if np.isnan(toxic):
                continue
            w.writerow([texts[i], SOURCE_LANGUAGE.get(str(sources[i]), "en"), sources[i], int(toxic), "" if np.isnan(hate) else int(hate)])
    print(f"{args.out}: {len(held)} held-out rows")


def write_swaps(train_dir: str, out: str, texts: list[str], y: np.ndarray, groups: np.ndarray) -> None:
    # Rare and frequent terms as the swap recipe finds them: in every row but these.
    pool_texts, pool_y, *_ = select_grouped(train_dir, SOURCES_FULL, full=True, exclude=(groups, texts))
    written = 0
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "toxic", "hate", "term", "class"])
        for name, p in identity_swap.plan(pool_texts, pool_y, RECIPES["cpu-identity-swap"]["swap"]["rare_below"]).items():
            for i, t in enumerate(texts):
                found = identity_swap.mentioned(t, identity_swap.CLASSES[name][1], p["plural"])
                # `toxic` as in the plain CSV (the row is abusive), from the hate label where
                # a source has no other.
                toxic = y[i, 0] if not np.isnan(y[i, 0]) else y[i, 5]
                if len(found) != 1 or not found <= set(p["sources"]) or np.isnan(toxic):
                    continue
                hate = "" if np.isnan(y[i, 5]) else int(y[i, 5])
                term = next(iter(found))
                w.writerow([t, int(toxic), hate, term, name])
                for target in p["targets"]:
                    w.writerow([identity_swap.swap(t, term, target, p["plural"]), int(toxic), hate, target, name])
                written += 1
    print(f"{out}: {written} held-out rows naming a frequent identity term, each swapped to its class's rare terms")


if __name__ == "__main__":
    main()
