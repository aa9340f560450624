"""Symmetric int8 per output channel: how train_e5_full stores the fine-tuned matrices
(`NAME.int8` + `NAME.scale`) and how build_e5_onnx reads them back. One expression for
both, so training reports the numbers that ship."""

from __future__ import annotations

import numpy as np


def quantize_int8(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per output channel (row of an [out, in] matrix)."""
    scale = np.maximum(np.abs(w).max(axis=1), 1e-12).astype(np.float32) / 127.0
    q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def dequantize_int8(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return q.astype(np.float32) * scale.astype(np.float32)[:, None]


def encoder_tensors(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The fine-tuned encoder tensors as float32: fp16/fp32 ones as they are, int8 matrices
    (`NAME.int8` + per-output-channel `NAME.scale`, from train_e5_full) dequantised with
    the same expression the trainer evaluated (int8.dequantize_int8)."""
    out = {}
    for k, v in tensors.items():
        if not k.startswith("encoder.") or k.endswith(".scale"):
            continue
        if k.endswith(".int8"):
            name = k[: -len(".int8")]
            out[name] = dequantize_int8(v, tensors[name + ".scale"])
        else:
            out[k] = v.astype(np.float32)
    return out
