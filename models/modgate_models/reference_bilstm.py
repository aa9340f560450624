"""Numpy reference forward pass of the converted BiLSTM, for checking the Rust backend.

Usage: cd models && .venv/bin/python -m modgate_models.reference_bilstm "text" ["text" ...]
"""
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file

from modgate_models.paths import MODELS_DIR

here = MODELS_DIR


def tokenize(text, vocab):
    if vocab["lower"]:
        text = text.lower()
    text = text.translate({ord(c): vocab["split"] for c in vocab["filters"]})
    ids = [vocab["word_index"].get(w) for w in text.split(vocab["split"]) if w]
    ids = [i for i in ids if i is not None and i < vocab["num_words"]][-vocab["maxlen"]:]
    return [0] * (vocab["maxlen"] - len(ids)) + ids


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm(x, W, U, b, reverse):
    h = np.zeros(U.shape[0], dtype=np.float32)
    c = np.zeros_like(h)
    out = []
    steps = range(len(x) - 1, -1, -1) if reverse else range(len(x))
    for t in steps:
        z = x[t] @ W + h @ U + b
        i, f, g, o = np.split(z, 4)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        out.append(h)
    if reverse:
        out.reverse()
    return np.stack(out)


def forward(ids, w):
    x = w["embedding"][ids]
    fw = lstm(x, w["forward.kernel"], w["forward.recurrent_kernel"], w["forward.bias"], False)
    bw = lstm(x, w["backward.kernel"], w["backward.recurrent_kernel"], w["backward.bias"], True)
    pooled = np.concatenate([fw, bw], axis=1).max(axis=0)
    hidden = np.maximum(pooled @ w["dense.kernel"] + w["dense.bias"], 0)
    return sigmoid(hidden @ w["out.kernel"] + w["out.bias"])


def main():
    d = os.path.join(here, "bilstm")
    w = load_file(os.path.join(d, "model.safetensors"))
    vocab = json.load(open(os.path.join(d, "vocab.json"), encoding="utf-8"))
    for text in sys.argv[1:]:
        probs = forward(tokenize(text, vocab), w)
        print(json.dumps(dict(zip(vocab["labels"], [round(float(p), 6) for p in probs]))))


if __name__ == "__main__":
    main()
