"""BERT encoder (all-MiniLM-L6-v2 layout) + mean pooling + L2 norm + optional dense head,
written out as an ONNX graph with onnx.helper from the safetensors weights, and the same
forward pass in numpy as the reference the graph is checked against.

No PyTorch: the weights are read with safetensors.numpy and become graph initializers.
Graph inputs: input_ids, attention_mask, token_type_ids (int64, [batch, seq]).
Outputs: `embedding` [batch, 384] (unit length, as sentence-transformers produces it) and,
when a head is given, `logits` [batch, labels].
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # LayerNormalization is a standard op from 17 on.
# Written into model.onnx as producer_name, so part of the built files' bytes and sha256:
# the names of the scripts these modules were before they became a package, kept as they were.
PRODUCER_GRAPH = "modgate minilm_graph.py"
PRODUCER_MODEL = "modgate build_minilm_onnx.py"


class Head:
    """A stack of dense layers on the sentence embedding: weights [in, out], biases [out]."""

    def __init__(self, layers: list[tuple[np.ndarray, np.ndarray, str]], labels: list[str]):
        for w, b, act in layers:
            assert w.ndim == 2 and b.shape == (w.shape[1],), "head layer shapes"
            assert act in ("none", "relu"), act
        assert layers[-1][0].shape[1] == len(labels)
        self.layers = layers
        self.labels = labels

    def forward(self, x: np.ndarray) -> np.ndarray:
        for w, b, act in self.layers:
            x = x @ w + b
            if act == "relu":
                x = np.maximum(x, 0)
        return x


def config_dims(config: dict) -> tuple[int, int, int, float]:
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    layers = config["num_hidden_layers"]
    eps = config.get("layer_norm_eps", 1e-12)
    assert config.get("hidden_act", "gelu") == "gelu", "only erf GELU is implemented"
    return hidden, heads, layers, eps


# ---------------------------------------------------------------- numpy reference


def _layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def _gelu(x):
    from math import erf

    verf = np.vectorize(erf, otypes=[np.float64])
    return 0.5 * x * (1.0 + verf(x / math.sqrt(2.0)))


def reference_forward(w: dict, config: dict, ids, mask, types=None, head: Head | None = None):
    """float64 forward pass; returns (embedding, logits or None)."""
    emb, token_max = reference_features(w, config, ids, mask, types)
    logits = head.forward(head_input(head, emb, token_max)) if head is not None else None
    return emb, logits


def reference_features(w: dict, config: dict, ids, mask, types=None):
    """float64 encoder; returns (unit mean embedding, per-dimension token maximum)."""
    hidden, n_heads, n_layers, eps = config_dims(config)
    ids = np.asarray(ids)
    mask = np.asarray(mask).astype(np.float64)
    types = np.zeros_like(ids) if types is None else np.asarray(types)
    f = {k: v.astype(np.float64) for k, v in w.items() if v.dtype != np.int64}
    bsz, seq = ids.shape
    dh = hidden // n_heads
    x = (
        f["embeddings.word_embeddings.weight"][ids]
        + f["embeddings.position_embeddings.weight"][np.arange(seq)][None]
        + f["embeddings.token_type_embeddings.weight"][types]
    )
    x = _layer_norm(x, f["embeddings.LayerNorm.weight"], f["embeddings.LayerNorm.bias"], eps)
    additive = (1.0 - mask)[:, None, None, :] * -10000.0
    for i in range(n_layers):
        p = f"encoder.layer.{i}."

        def lin(t, name):
            return t @ f[p + name + ".weight"].T + f[p + name + ".bias"]

        def split(t):
            return t.reshape(bsz, seq, n_heads, dh).transpose(0, 2, 1, 3)

        q = split(lin(x, "attention.self.query"))
        k = split(lin(x, "attention.self.key"))
        v = split(lin(x, "attention.self.value"))
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(dh) + additive
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(0, 2, 1, 3).reshape(bsz, seq, hidden)
        x = _layer_norm(
            x + lin(ctx, "attention.output.dense"),
            f[p + "attention.output.LayerNorm.weight"],
            f[p + "attention.output.LayerNorm.bias"],
            eps,
        )
        ff = lin(_gelu(lin(x, "intermediate.dense")), "output.dense")
        x = _layer_norm(x + ff, f[p + "output.LayerNorm.weight"], f[p + "output.LayerNorm.bias"], eps)
    pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
    emb = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    token_max = np.where(mask[:, :, None] > 0, x, -10000.0).max(1)
    return emb, token_max


def head_input(head: Head, emb: np.ndarray, token_max: np.ndarray) -> np.ndarray:
    """Heads read the unit mean embedding, or it concatenated with the per-dimension
    maximum over real tokens (which keeps a single strong word visible)."""
    width = head.layers[0][0].shape[0]
    return emb if width == emb.shape[1] else np.concatenate([emb, token_max], axis=1)


# ---------------------------------------------------------------- ONNX graph


class _Builder:
    def __init__(self):
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.n = 0

    def name(self, hint: str) -> str:
        self.n += 1
        return f"{hint}_{self.n}"

    def const(self, name: str, arr: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, **attrs) -> str:
        out = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


def build_graph(
    w: dict,
    config: dict,
    head: Head | None = None,
    name: str = "minilm",
    stop_after: int | None = None,
    word_blocks: tuple[np.ndarray, np.ndarray] | None = None,
) -> onnx.ModelProto:
    """`stop_after = k` builds only the first k layers and outputs their token states as
    `hidden` [batch, seq, hidden] (the frozen part of a partly fine-tuned encoder).
    `word_blocks = (q int8 [vocab, hidden], scale float16 [vocab, hidden / 32])` stores the
    word embeddings block-quantised (row = q * scale per block of 32), exactly as 4-bit
    source weights were: a quarter of the fp32 table's size, same values."""
    hidden, _, n_layers, _ = config_dims(config)
    if stop_after is not None:
        n_layers = stop_after
    g = _Builder()
    x = _embeddings(g, w, config, word_blocks)
    mask_f = _masks(g)
    x = _encoder_layers(g, w, config, x, range(n_layers))

    batch_seq = ["batch", "sequence"]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, batch_seq) for n in ("input_ids", "attention_mask", "token_type_ids")]
    if stop_after is not None:
        g.nodes.append(helper.make_node("Identity", [x], ["hidden"], name="hidden"))
        outputs = [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "sequence", hidden])]
        graph = helper.make_graph(g.nodes, name, inputs, outputs, g.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=PRODUCER_GRAPH)
        model.ir_version = 8
        return model

    outputs = _pooled_head(g, x, mask_f, hidden, head)
    graph = helper.make_graph(g.nodes, name, inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=PRODUCER_MODEL)
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def build_cascade_graphs(
    w: dict,
    config: dict,
    head: Head,
    exit_head: Head,
    exit_after: int,
    name: str,
    word_blocks: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """The same encoder and head as build_graph, cut after layer `exit_after` into two
    graphs that together compute what the whole one does:

    - `first.onnx`: input_ids, attention_mask, token_type_ids -> `hidden` (the token
      states after `exit_after` layers) and `exit_logits` (`exit_head` on their pooled
      features: the first stage's estimate of the whole model's logits);
    - `rest.onnx`: hidden, attention_mask -> `logits` (the other layers and the head).
    """
    hidden, _, n_layers, _ = config_dims(config)
    assert 0 < exit_after < n_layers
    batch_seq = ["batch", "sequence"]

    g = _Builder()
    x = _embeddings(g, w, config, word_blocks)
    mask_f = _masks(g)
    x = _encoder_layers(g, w, config, x, range(exit_after))
    g.nodes.append(helper.make_node("Identity", [x], ["hidden"], name="hidden"))
    exit_out = _pooled_head(g, x, mask_f, hidden, exit_head, logits_name="exit_logits")
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, batch_seq) for n in ("input_ids", "attention_mask", "token_type_ids")]
    outputs = [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "sequence", hidden])] + exit_out[-1:]
    first = helper.make_model(
        helper.make_graph(g.nodes, name + "-first", inputs, outputs, g.inits),
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER_MODEL,
    )

    g = _Builder()
    mask_f = _masks(g)
    x = _encoder_layers(g, w, config, "hidden", range(exit_after, n_layers))
    rest_out = _pooled_head(g, x, mask_f, hidden, head)
    inputs = [
        helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "sequence", hidden]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, batch_seq),
    ]
    rest = helper.make_model(
        helper.make_graph(g.nodes, name + "-rest", inputs, rest_out[-1:], g.inits),
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER_MODEL,
    )
    for m in (first, rest):
        m.ir_version = 8
        onnx.checker.check_model(m, full_check=True)
    return first, rest


def _embeddings(g: _Builder, w: dict, config: dict, word_blocks) -> str:
    """Word + position (0..seq) + token type embeddings, then LayerNorm."""
    hidden, _, _, eps = config_dims(config)
    f32 = lambda k: w[k].astype(np.float32)  # noqa: E731
    if word_blocks is None:
        word = g.op("Gather", [g.const("word_embeddings", f32("embeddings.word_embeddings.weight")), "input_ids"])
    else:
        q, sc = word_blocks
        blocks = sc.shape[1]
        rows_q = g.op("Cast", [g.op("Gather", [g.const("word_embeddings_q", q.astype(np.int8)), "input_ids"])], to=TensorProto.FLOAT)
        rows_s = g.op("Cast", [g.op("Gather", [g.const("word_embeddings_scale", sc.astype(np.float16)), "input_ids"])], to=TensorProto.FLOAT)
        split = g.op("Reshape", [rows_q, g.const("word_block_shape", np.array([0, 0, blocks, hidden // blocks], dtype=np.int64))])
        scaled = g.op("Mul", [split, g.op("Unsqueeze", [rows_s, g.const("axes_3", np.array([3], dtype=np.int64))])])
        word = g.op("Reshape", [scaled, g.const("word_shape", np.array([0, 0, hidden], dtype=np.int64))])
    shape = g.op("Shape", ["input_ids"])
    seq_len = g.op("Gather", [shape, g.const("one_i64", np.array(1, dtype=np.int64))], axis=0)
    positions = g.op(
        "Range", [g.const("zero_i64", np.array(0, dtype=np.int64)), seq_len, g.const("step_i64", np.array(1, dtype=np.int64))]
    )
    pos = g.op("Gather", [g.const("position_embeddings", f32("embeddings.position_embeddings.weight")), positions])
    typ = g.op("Gather", [g.const("token_type_embeddings", f32("embeddings.token_type_embeddings.weight")), "token_type_ids"])
    x = g.op("Add", [g.op("Add", [word, pos]), typ])
    return _layer_norm_node(g, w, eps, x, "embeddings.LayerNorm")


def _layer_norm_node(g: _Builder, w: dict, eps: float, t: str, prefix: str) -> str:
    return g.op(
        "LayerNormalization",
        [t, g.const(prefix + ".weight", w[prefix + ".weight"].astype(np.float32)), g.const(prefix + ".bias", w[prefix + ".bias"].astype(np.float32))],
        axis=-1,
        epsilon=eps,
    )


def _masks(g: _Builder) -> str:
    """The float mask; sets `g.additive`, the additive attention mask [batch, 1, 1, seq]:
    0 for tokens, -10000 for padding."""
    mask_f = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    mask4 = g.op("Unsqueeze", [mask_f, g.const("axes_1_2", np.array([1, 2], dtype=np.int64))])
    inverted = g.op("Sub", [g.const("one_f", np.array(1.0, dtype=np.float32)), mask4])
    g.additive = g.op("Mul", [inverted, g.const("neg_10000", np.array(-10000.0, dtype=np.float32))])
    return mask_f


def _encoder_layers(g: _Builder, w: dict, config: dict, x: str, layers: range) -> str:
    hidden, n_heads, _, eps = config_dims(config)
    dh = hidden // n_heads
    f32 = lambda k: w[k].astype(np.float32)  # noqa: E731
    additive = g.additive
    heads_shape = g.const("heads_shape", np.array([0, 0, n_heads, dh], dtype=np.int64))
    merged_shape = g.const("merged_shape", np.array([0, 0, hidden], dtype=np.int64))
    scale = g.const("scale", np.array(1.0 / math.sqrt(dh), dtype=np.float32))
    sqrt2 = g.const("sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))
    half = g.const("half", np.array(0.5, dtype=np.float32))
    one = "one_f"

    for i in layers:
        p = f"encoder.layer.{i}."

        def linear(t, lname):
            wt = g.const(p + lname + ".weight_t", np.ascontiguousarray(f32(p + lname + ".weight").T))
            return g.op("Add", [g.op("MatMul", [t, wt]), g.const(p + lname + ".bias", f32(p + lname + ".bias"))])

        def heads(t, perm):
            return g.op("Transpose", [g.op("Reshape", [t, heads_shape])], perm=perm)

        q = heads(linear(x, "attention.self.query"), [0, 2, 1, 3])
        k = heads(linear(x, "attention.self.key"), [0, 2, 3, 1])
        v = heads(linear(x, "attention.self.value"), [0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), additive])
        probs = g.op("Softmax", [scores], axis=-1)
        ctx = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, merged_shape])
        x = _layer_norm_node(g, w, eps, g.op("Add", [linear(ctx, "attention.output.dense"), x]), p + "attention.output.LayerNorm")
        inter = linear(x, "intermediate.dense")
        gelu = g.op("Mul", [g.op("Mul", [inter, half]), g.op("Add", [g.op("Erf", [g.op("Div", [inter, sqrt2])]), one])])
        x = _layer_norm_node(g, w, eps, g.op("Add", [linear(gelu, "output.dense"), x]), p + "output.LayerNorm")
    return x


def _pooled_head(g: _Builder, x: str, mask_f: str, hidden: int, head: Head | None, logits_name: str = "logits") -> list:
    """Mean pooling over real tokens, unit length (sentence-transformers' Normalize), the
    per-dimension maximum when the head reads it, and the head. Returns the graph outputs:
    `embedding` (+ `token_max` without a head), then `logits_name`."""
    one = "one_f"
    mask3 = g.op("Unsqueeze", [mask_f, g.const("axes_2", np.array([2], dtype=np.int64))])
    axes_1 = g.const("axes_1", np.array([1], dtype=np.int64))
    summed = g.op("ReduceSum", [g.op("Mul", [x, mask3]), axes_1], keepdims=0)
    count = g.op("Max", [g.op("ReduceSum", [mask3, axes_1], keepdims=0), g.const("eps9", np.array(1e-9, dtype=np.float32))])
    pooled = g.op("Div", [summed, count])
    norm = g.op("ReduceL2", [pooled], axes=[-1], keepdims=1)
    norm = g.op("Max", [norm, g.const("eps12", np.array(1e-12, dtype=np.float32))])
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["embedding"], name="embedding"))
    if head is None or head.layers[0][0].shape[0] != hidden:
        # Per-dimension maximum over real tokens: padding is pushed to -10000 first.
        pad_low = g.op("Mul", [g.op("Sub", [one, mask3]), "neg_10000"])
        masked = g.op("Add", [g.op("Mul", [x, mask3]), pad_low])
        g.nodes.append(helper.make_node("ReduceMax", [masked], ["token_max"], name="token_max", axes=[1], keepdims=0))

    outputs = [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])]
    if head is None:
        outputs.append(helper.make_tensor_value_info("token_max", TensorProto.FLOAT, ["batch", hidden]))
    else:
        t = "embedding"
        if head.layers[0][0].shape[0] != hidden:
            t = g.op("Concat", ["embedding", "token_max"], hint="head_concat", axis=1)
        for j, (hw, hb, act) in enumerate(head.layers):
            # Named head_* so quantisation can leave the head in fp32 (its input mixes
            # features of very different scales).
            mm = g.op("MatMul", [t, g.const(f"head.{j}.weight", hw.astype(np.float32))], hint="head_matmul")
            t = g.op("Add", [mm, g.const(f"head.{j}.bias", hb.astype(np.float32))], hint="head_add")
            if act == "relu":
                t = g.op("Relu", [t], hint="head_relu")
        g.nodes.append(helper.make_node("Identity", [t], [logits_name], name=logits_name))
        outputs.append(helper.make_tensor_value_info(logits_name, TensorProto.FLOAT, ["batch", len(head.labels)]))
    return outputs
