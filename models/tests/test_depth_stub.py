"""`depth_stub` keeps every (depth / K)-th layer of a head, renumbered from 0, with the rest
of the head unchanged, and records its depth for `build_e5_onnx`.

Needs numpy and safetensors (models/.venv); skipped without them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest

try:
    import numpy as np
    from safetensors.numpy import load_file, save_file

    HAVE_DEPS = True
except ImportError:
    HAVE_DEPS = False


@unittest.skipUnless(HAVE_DEPS, "needs numpy and safetensors (models/.venv)")
class DepthStubTest(unittest.TestCase):
    def test_keeps_every_third_layer_renumbered(self):
        with tempfile.TemporaryDirectory() as tmp:
            head = os.path.join(tmp, "head")
            os.makedirs(head)
            tensors = {f"encoder.layer.{i}.output.dense.bias": np.full(3, i, np.float32) for i in range(12)}
            tensors["head.weight"] = np.ones((6, 4), np.float32)
            save_file(tensors, os.path.join(head, "head.safetensors"))
            with open(os.path.join(head, "head.json"), "w") as f:
                json.dump({"labels": ["toxic"]}, f)
            out = os.path.join(tmp, "stub")
            subprocess.run(
                [sys.executable, "-m", "modgate_models.depth_stub", "--head", head, "--layers", "4", "--out", out],
                check=True, capture_output=True, cwd=os.path.join(os.path.dirname(__file__), ".."),
            )
            stub = load_file(os.path.join(out, "head.safetensors"))
            kept = {name: int(v[0]) for name, v in stub.items() if name.startswith("encoder.")}
            self.assertEqual(kept, {f"encoder.layer.{j}.output.dense.bias": i for j, i in enumerate([0, 3, 6, 9])})
            self.assertTrue((stub["head.weight"] == 1).all())
            with open(os.path.join(out, "head.json")) as f:
                meta = json.load(f)
            self.assertEqual(meta["num_hidden_layers"], 4)
            self.assertIn("untrained", meta["student_of"])


if __name__ == "__main__":
    unittest.main()
