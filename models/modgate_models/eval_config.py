"""The config.toml that models/eval_model.sh evaluates with: a copy of the project's, with
only [model] changed (backend and absolute dir), and no [model.languages] routes unless the
shipped config is evaluated. Standard library only (runs with any python3).

    python -m modgate_models.eval_config CONFIG_COPY MODEL ROOT

CONFIG_COPY is rewritten in place; MODEL is `shipped`, `bilstm` or an ONNX model directory;
ROOT is the project's root (for absolute paths).
"""

from __future__ import annotations

import re
import sys


def main() -> None:
    path, model, root = sys.argv[1:]
    s = open(path).read()
    if model == "shipped":
        backend, model_dir = re.search(r'(?m)^backend = "(\w+)"$', s).group(1), re.search(r'(?m)^dir = "([^"]+)"$', s).group(1)
        model_dir = f"{root}/{model_dir}"
    else:
        backend, model_dir = ("bilstm", f"{root}/models/bilstm") if model == "bilstm" else ("onnx", model)
        s = re.sub(r'(?ms)^\[model\.languages\]\n(^\w+ = .*?\n)*', "", s)
    s = re.sub(r'(?m)^backend = "\w+"$', f'backend = "{backend}"', s, count=1)
    s = re.sub(r'(?m)^dir = "[^"]+"$', f'dir = "{model_dir}"', s, count=1)
    s = re.sub(r'(?m)^onnx_runtime = "([^"]+)"', f'onnx_runtime = "{root}/\\1"', s, count=1)
    open(path, "w").write(s)


if __name__ == "__main__":
    main()
