"""Study: trimming the tokenizer to the pieces training text uses. What it saves, how often
tokenisation then changes on held-out training rows, and what that does to scores.

    python -m modgate_models.vocabulary_study --train-dir ../../shared/train

The pieces counted are those the full tokenizer uses on every training row except the CPU
recipe's held-out rows (recipes.held_out_mask); single-character pieces, the special
tokens and the lowest-scoring piece (the unknown-character penalty) are always kept, as
modgate's `latin-cyrillic` rule keeps them. Changes are counted on the held-out rows per
language; each changed text is scored with both tokenisations by the shipped int8 model
(models/e5-toxic-full-int8), and a verdict counts as changed when "some label reaches its
lowest action threshold" (config.toml, per language) differs. Memory is the resident-set
growth of loading each tokenizer.json with the Python binding of the same `tokenizers`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import unicodedata

import numpy as np

from modgate_models.data import SOURCE_LANGUAGE, SOURCES_FULL, select_grouped, text_key
from modgate_models.paths import MODELS_DIR
from modgate_models.recipes import held_out_mask
from modgate_models.thresholds import action_logits

WORD_START = "\u2581"


def latin_cyrillic(piece: str) -> bool:
    """Approximately modgate's rule: every letter Latin or Cyrillic (other characters are
    script-neutral); by Unicode character name, as the standard library has no scripts."""
    for c in piece:
        if c != WORD_START and unicodedata.category(c)[0] == "L":
            name = unicodedata.name(c, "")
            if not (name.startswith("LATIN") or name.startswith("CYRILLIC") or unicodedata.category(c) == "Lm"):
                return False
    return True


def rss_mb(tokenizer_path: str) -> float:
    code = (
        "import gc\nfrom tokenizers import Tokenizer\n"
        "r = lambda: int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])\n"
        f"s = open({tokenizer_path!r}).read(); a = r(); t = Tokenizer.from_str(s); del s; gc.collect(); print((r() - a) / 1024)"
    )
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-dir", required=True)
    ap.add_argument("--config", default=os.path.join(MODELS_DIR, "..", "config.toml"))
    args = ap.parse_args()

    import onnxruntime as ort
    from tokenizers import Tokenizer

    model_dir = os.path.join(MODELS_DIR, "e5-toxic-full-int8")
    tok_path = os.path.join(model_dir, "tokenizer.json")
    full = json.load(open(tok_path, encoding="utf-8"))
    vocab = full["model"]["vocab"]
    full_tok = Tokenizer.from_file(tok_path)

    cpu_texts, _, cpu_src, cpu_groups, _ = select_grouped(args.train_dir, SOURCES_FULL, full=False)
    held = held_out_mask(cpu_groups)
    held_keys = {text_key(t) for t, h in zip(cpu_texts, held) if h}
    all_texts, _, _, _, _ = select_grouped(args.train_dir, SOURCES_FULL, full=True)
    train = [t for t in all_texts if text_key(t) not in held_keys]
    used = np.zeros(len(vocab), dtype=np.int64)
    for e in full_tok.encode_batch(train):
        np.add.at(used, e.ids, 1)
    single = np.array([len(p.replace(WORD_START, "")) <= 1 for p, _ in vocab])
    script = np.array([latin_cyrillic(p) for p, _ in vocab])
    always = single.copy()
    always[:4] = True  # <s>, <pad>, </s>, <unk>
    always[int(np.argmin([s for _, s in vocab]))] = True
    rank = np.cumsum(script & ~single)  # Latin/Cyrillic pieces in score order
    print(f"{len(train)} training texts use {(used > 0).sum()} of {len(vocab)} pieces")

    held_by_lang = {
        lang: [t for t, h, s in zip(cpu_texts, held, cpu_src) if h and SOURCE_LANGUAGE.get(str(s), "en") == lang] for lang in ("en", "ru")
    }
    ref = {lang: [e.ids for e in full_tok.encode_batch(tx)] for lang, tx in held_by_lang.items()}
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(os.path.join(model_dir, "model.onnx"), opts, providers=["CPUExecutionProvider"])
    thr = action_logits(args.config)

    def probs(ids: list[int]) -> np.ndarray:
        t = np.array(ids[:512], dtype=np.int64)[None]
        z = sess.run(["logits"], {"input_ids": t, "attention_mask": np.ones_like(t), "token_type_ids": np.zeros_like(t)})[0][0]
        return z

    variants = {
        "latin-cyrillic (shipped)": script | always,
        "training pieces": (used > 0) | always,
        "training pieces + 40k Latin/Cyrillic by score": (used > 0) | (script & (rank <= 40000)) | always,
    }
    for name, keep in variants.items():
        ids = np.flatnonzero(keep)
        trimmed = dict(full, model=dict(full["model"], vocab=[vocab[i] for i in ids]))
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
            json.dump(trimmed, f, ensure_ascii=False)
        tok = Tokenizer.from_file(f.name)
        line = f"{name}: {len(ids)} pieces, {rss_mb(f.name):.0f} MB"
        os.remove(f.name)
        for lang, tx in held_by_lang.items():
            changed, flips, diffs = 0, 0, []
            for a, b in zip(ref[lang], tok.encode_batch(tx)):
                mb = [int(ids[i]) for i in b.ids]
                if mb == a:
                    continue
                changed += 1
                za, zb = probs(a), probs(mb)
                diffs.append(float(np.abs(1 / (1 + np.exp(-za)) - 1 / (1 + np.exp(-zb))).max()))
                flips += int((za > thr[lang]).any() != (zb > thr[lang]).any())
            p90 = np.quantile(diffs, 0.9) if diffs else 0.0
            line += f"; {lang}: {changed / len(tx):.1%} of {len(tx)} texts tokenised differently, |dp| p90 {p90:.3f}, verdicts changed {flips / len(tx):.2%}"
        print(line, flush=True)
        gc.collect()


if __name__ == "__main__":
    main()
