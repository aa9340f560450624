"""Study for a cascade on the shared encoder (early exit): after its first k layers, can
e5-toxic-full say "the whole model would not act on this comment" often enough to skip
the other 12 - k layers, without changing verdicts? Training rows only for every choice;
the load harness's mix (bench/bodies.py) only measures how often a stream would exit.

    python -m modgate_models.cascade_study score --train-dir ../../shared/train --out .cache/cascade_study.npz
    python -m modgate_models.cascade_study score --train-dir ../../shared/train --stream 2000 --out .cache/cascade_stream.npz
    python -m modgate_models.cascade_study report .cache/cascade_study.npz [.cache/cascade_stream.npz]

`score` runs the shipped int8 model (the teacher, models/e5-toxic-full-int8, one text per
pass as modgate runs it) and an int8 copy of its first 6 layers over
- a seeded sample of training rows the teacher's recipe never selected (`pool`: 10,000 English,
  6,000 Russian), on which the exit head is fitted (80%) and its margin chosen (20%), and
- the recipe's own held-out rows (`held`; a continued run's are the earlier run's), on
  which the changed verdicts are counted (a recipe that selected nearly every row, like the
  GPU one, leaves no pool: then a seeded half of its held-out rows is the pool),
and stores, per text, the teacher's logits and mean (unit) + max pooled token states after
layers 2, 3, 4 and 6. `report` fits a ridge head from those features to the teacher's
logits per depth, picks the largest margin below the shipped thresholds (config.toml,
per language) at which exited rows the teacher would act on stay within a budget of the
validation rows, and prints exit rates, changed verdicts and the compute a stream saves.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

import numpy as np

from modgate_models.data import SOURCE_LANGUAGE, SOURCES_FULL, select_grouped, text_key
from modgate_models.paths import MODELS_DIR
from modgate_models.recipes import RECIPES, held_out_selection, selected_texts
from modgate_models.thresholds import action_logits

DEPTHS = (2, 3, 4, 6)
LAYERS = 12


def training_rows(train_dir: str, recipe: str, pool_en: int, pool_ru: int):
    """Texts, languages and splits: pool rows the teacher never saw (not selected by its
    recipe, nor by the run it continued), then that recipe's held-out rows."""
    seen = {text_key(t) for t in selected_texts(train_dir, recipe)}
    all_texts, _, all_src, _, _ = select_grouped(train_dir, SOURCES_FULL, full=True)
    lang_of = lambda s: SOURCE_LANGUAGE.get(str(s), "en")  # noqa: E731
    unseen = [i for i, t in enumerate(all_texts) if text_key(t) not in seen]
    rng = random.Random(7)
    en = [i for i in unseen if lang_of(all_src[i]) == "en"]
    ru = [i for i in unseen if lang_of(all_src[i]) == "ru"]
    held_texts, held_src = held_out_selection(train_dir, recipe)
    if len(en) < pool_en or len(ru) < pool_ru:
        # A recipe that trained on (nearly) every row, as the GPU recipe does: the exit head
        # is fitted on a seeded half of its held-out rows and verdicts are counted on the rest.
        order = list(range(len(held_texts)))
        rng.shuffle(order)
        half = set(order[: len(order) // 2])
        print(f"--recipe {recipe} leaves too few unseen rows: the pool is half of its {len(held_texts)} held-out rows", flush=True)
        texts = [held_texts[i] for i in order]
        langs = [lang_of(held_src[i]) for i in order]
        split = ["pool" if i in half else "held" for i in order]
        return texts, langs, split
    rng.shuffle(en)
    rng.shuffle(ru)
    pool = en[:pool_en] + ru[:pool_ru]
    texts = [all_texts[i] for i in pool] + held_texts
    langs = [lang_of(all_src[i]) for i in pool] + [lang_of(s) for s in held_src]
    split = ["pool"] * len(pool) + ["held"] * len(held_texts)
    print(f"pool: {len(pool)} of {len(en)} English and {len(ru)} Russian unseen rows; held out: {len(held_texts)}", flush=True)
    return texts, langs, split


def stream_rows(n: int):
    sys.path.insert(0, os.path.join(MODELS_DIR, "..", "bench"))
    import bodies

    b, mix = bodies.build(n, 7, bodies.default_eval_dir())
    print(bodies.describe(b, mix), flush=True)
    return [x["body"] for x in b], ["ru" if x["_source"] == "ru" else "en" for x in b], ["stream"] * len(b)


def score(args) -> None:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    from modgate_models.e5_q4 import E5Q4
    from modgate_models.graph import build_graph
    from modgate_models.int8 import encoder_tensors

    recipe = args.recipe or json.load(open(os.path.join(MODELS_DIR, "e5-toxic-full-head", "head.json")))["recipe"]
    texts, langs, split = stream_rows(args.stream) if args.stream else training_rows(args.train_dir, recipe, args.pool_en, args.pool_ru)
    model_dir = os.path.join(MODELS_DIR, "e5-toxic-full-int8")
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    ids = []
    for e in tok.encode_batch(texts):
        t = e.ids if len(e.ids) <= 512 else e.ids[:511] + e.ids[-1:]  # the first window
        ids.append(np.array(t, dtype=np.int64))

    # The first 6 layers of the same fine-tuned encoder, int8 as the shipped model is, with
    # the token states after layers 2, 3 and 4 as extra outputs.
    q4 = E5Q4(os.path.join(args.cache, "e5-small-q4.bin"))
    weights, config = q4.weights(), q4.config()
    weights.update(encoder_tensors(load_file(os.path.join(MODELS_DIR, "e5-toxic-full-head", "head.safetensors"))))
    lower = build_graph(weights, config, name="lower", stop_after=max(DEPTHS), word_blocks=q4.word_blocks())
    ends = {}
    for node in lower.graph.node:
        gamma = node.input[1] if node.op_type == "LayerNormalization" else ""
        if gamma.endswith(".output.LayerNorm.weight") and ".attention." not in gamma:
            ends[int(gamma.split(".")[2]) + 1] = node.output[0]
    for k in DEPTHS[:-1]:
        lower.graph.output.append(helper.make_tensor_value_info(ends[k], TensorProto.FLOAT, ["batch", "sequence", 384]))
    fp32, int8 = os.path.join(args.cache, "cascade-lower.onnx"), os.path.join(args.cache, "cascade-lower-int8.onnx")
    onnx.save(lower, fp32)
    quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])
    os.remove(fp32)
    outputs = [ends[k] for k in DEPTHS[:-1]] + ["hidden"]

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    teacher = ort.InferenceSession(os.path.join(model_dir, "model.onnx"), opts, providers=["CPUExecutionProvider"])
    first = ort.InferenceSession(int8, opts, providers=["CPUExecutionProvider"])
    logits = np.zeros((len(ids), 6), dtype=np.float32)
    feats = {k: np.zeros((len(ids), 768), dtype=np.float32) for k in DEPTHS}
    t0 = time.time()
    for i, t in enumerate(ids):
        feed = {"input_ids": t[None], "attention_mask": np.ones_like(t)[None], "token_type_ids": np.zeros_like(t)[None]}
        logits[i] = teacher.run(["logits"], feed)[0][0]
        for k, h in zip(DEPTHS, first.run(outputs, feed)):
            mean = h[0].mean(0)
            feats[k][i, :384] = mean / max(float(np.linalg.norm(mean)), 1e-12)
            feats[k][i, 384:] = h[0].max(0)
        if i % 2000 == 0:
            print(f"{i}/{len(ids)} texts, {time.time() - t0:.0f} s", flush=True)
    os.remove(int8)
    np.savez_compressed(args.out, logits=logits, lang=np.array(langs), split=np.array(split),
                        tokens=np.array([len(t) for t in ids]), **{f"f{k}": v for k, v in feats.items()})
    print(f"{args.out}: {len(ids)} texts in {time.time() - t0:.0f} s")


def report(args) -> None:
    d = np.load(args.study)
    thr = action_logits(args.config)
    th = np.stack([thr[str(l)] for l in d["lang"]])
    acts = (d["logits"] > th).any(1)  # the teacher's model part would hold or remove
    pool = np.flatnonzero(d["split"] == "pool")
    np.random.default_rng(0).shuffle(pool)
    fit, val = pool[: int(0.8 * len(pool))], pool[int(0.8 * len(pool)):]
    held = np.flatnonzero(d["split"] == "held")
    s = np.load(args.stream) if args.stream else None
    if s is not None:
        s_th = np.stack([thr[str(l)] for l in s["lang"]])
        s_acts = (s["logits"] > s_th).any(1)
        print(f"stream: {len(s_acts)} texts, {s['tokens'].mean():.0f} tokens on average; the teacher acts on {s_acts.mean():.1%}")
    print(f"the teacher acts on {acts[held].mean():.1%} of held-out training rows and {acts[pool].mean():.1%} of pool rows")
    print("depth | budget | held-out: exit (harmless exit) / changed verdicts en, ru | stream: exit / changed / compute")
    for k in DEPTHS:
        x = d[f"f{k}"].astype(np.float64)
        mu, sd = x[fit].mean(0), x[fit].std(0) + 1e-6
        design = lambda f: np.concatenate([(f - mu) / sd, np.ones((len(f), 1))], 1)  # noqa: E731
        a = design(x)
        w = np.linalg.solve(a[fit].T @ a[fit] + 100.0 * np.eye(a.shape[1]), a[fit].T @ d["logits"][fit])
        risk = (a @ w - th).max(1)
        for budget in (0.001, 0.002):
            margins = [m for m in np.arange(-8, 2, 0.05) if ((risk[val] < m) & acts[val]).mean() <= budget]
            m = max(margins)
            ex = risk < m
            line = f"k={k} | {budget:.1%} | {ex[held].mean():.1%} ({ex[held][~acts[held]].mean():.1%})"
            for lang in ("en", "ru"):
                rows = held[d["lang"][held] == lang]
                line += f" / {lang} {(ex & acts)[rows].mean():.2%} ({(ex & acts)[rows].sum()} of {len(rows)})"
            if s is not None:
                s_ex = (design(s[f"f{k}"].astype(np.float64)) @ w - s_th).max(1) < m
                # Compute per text in layers, weighted by tokens (a pass costs the same per token).
                cost = np.where(s_ex, k / LAYERS, 1.0)
                share = (cost * s["tokens"]).sum() / s["tokens"].sum()
                line += f" | {s_ex.mean():.1%} / {(s_ex & s_acts).mean():.2%} / {share:.2f} (x{1 / share:.2f})"
            print(line)


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    sc = sub.add_parser("score")
    sc.add_argument("--train-dir", required=True)
    sc.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        help="the teacher's recipe (default: the committed head's), whose rows the pool leaves out",
    )
    sc.add_argument("--pool-en", type=int, default=10000)
    sc.add_argument("--pool-ru", type=int, default=6000)
    sc.add_argument("--stream", type=int, default=0, help="score this many bodies of the load harness's mix instead")
    sc.add_argument("--cache", default=os.path.join(MODELS_DIR, ".cache"))
    sc.add_argument("--out", required=True)
    rp = sub.add_parser("report")
    rp.add_argument("study")
    rp.add_argument("stream", nargs="?")
    rp.add_argument("--config", default=os.path.join(MODELS_DIR, "..", "config.toml"))
    args = ap.parse_args()
    if args.command == "score":
        score(args)
    else:
        report(args)


if __name__ == "__main__":
    main()
