"""Where the identity-term counterfactual still helps, decided on held-out TRAINING rows.

    python -m modgate_models.held_out_rows --train-dir ../../shared/train --out .cache/held_out.csv
    modgate --config CONFIG eval .cache/held_out.csv --text-col text --label-col toxic \
        --group-col source --dump .cache/held_out_dump.jsonl      # check on, every label
    python -m modgate_models.held_out_policy .cache/held_out_dump.jsonl

The dump holds each row's gold label and verdict, whose reasons name every label whose
model-only hold the check lowered (`identity_term_sensitivity`). Lowering the hold of a
harmless row helped; lowering that of an abusive row let it through. A label keeps the
check only where it helped more often than it hurt.
"""

from __future__ import annotations

import json
import sys
from collections import Counter


def main() -> None:
    helped, hurt = Counter(), Counter()
    by_source = Counter()
    rows = 0
    for line in open(sys.argv[1], encoding="utf-8"):
        r = json.loads(line)
        rows += 1
        v = r["verdict"]
        for reason in v["reasons"]:
            if reason["kind"] != "identity_term_sensitivity":
                continue
            label = reason["label"]
            (hurt if r["label"] else helped)[label] += 1
            by_source[(r["groups"][0] if r["groups"] else "-", label, "hurt" if r["label"] else "helped")] += 1
    print(f"{rows} held-out rows")
    keep = []
    for label in sorted(set(helped) | set(hurt)):
        verdict = "keep" if helped[label] > hurt[label] else "drop"
        if verdict == "keep":
            keep.append(label)
        print(f"  {label}: lowered {helped[label] + hurt[label]} holds: {helped[label]} harmless (helped), {hurt[label]} abusive (hurt) -> {verdict}")
    for key, n in sorted(by_source.items()):
        print(f"    {key[0]} {key[1]} {key[2]}: {n}")
    print(f"labels = {json.dumps(keep)}")


if __name__ == "__main__":
    main()
