#!/usr/bin/env bash
# Fetch the model files if missing, build, and serve on the embedded defaults (config.toml).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
models/fetch-models.sh
exec cargo run --release --locked -- serve "$@"
