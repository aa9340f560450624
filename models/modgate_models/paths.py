"""Where the models/ directory is: the default place of .cache/, .download/, the committed
heads and the built model directories, as it was for the flat scripts that lived there.
Assumes a source checkout (`python -m` from models/, or `pip install -e models/`)."""

from __future__ import annotations

import os

MODELS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
