"""The Python side of benches/onnx.rs: comments/s of ONNX Runtime's own Python API on the
same model, texts, batch sizes and thread count, tokenisation included (Hugging Face
`tokenizers`, padding to the longest text of a batch), as the Rust backend does.

    cd models && .venv/bin/python -m modgate_models.bench_onnx --model DIR --texts texts.json --threads 1 [--seconds 5]

Prints one JSON object per batch size: {"model", "batch", "threads", "comments_per_s", "ms_per_batch"}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", required=True, help="JSON list of strings")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()

    texts = json.load(open(args.texts))
    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    max_tokens = json.load(open(os.path.join(args.model, "tokenizer_config.json")))["model_max_length"]
    tok.enable_truncation(max_tokens)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as the Rust side
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(os.path.join(args.model, "model.onnx"), opts, providers=["CPUExecutionProvider"])

    def score(batch: list[str]) -> np.ndarray:
        encs = tok.encode_batch(batch)
        seq = max(len(e.ids) for e in encs)
        ids = np.zeros((len(batch), seq), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return 1 / (1 + np.exp(-sess.run(["logits"], feeds)[0]))

    for size in (int(b) for b in args.batches.split(",")):
        batches = [texts[i : i + size] for i in range(0, len(texts) - size + 1, size)] or [texts[:size]]
        for b in batches[:3]:
            score(b)  # warm-up
        times = []
        start = time.perf_counter()
        i = 0
        while time.perf_counter() - start < args.seconds or len(times) < 5:
            t = time.perf_counter()
            score(batches[i % len(batches)])
            times.append(time.perf_counter() - t)
            i += 1
        med = statistics.median(times)
        print(json.dumps({"model": os.path.basename(os.path.normpath(args.model)), "batch": size, "threads": args.threads,
                          "comments_per_s": round(size / med, 1), "ms_per_batch": round(med * 1000, 2)}), flush=True)


if __name__ == "__main__":
    main()
