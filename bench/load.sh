#!/usr/bin/env bash
# Load harness (not part of scripts/test.sh: a round takes about 9 minutes). Builds the release
# binary, then runs bench/load.py against 127.0.0.1 only. Arguments go to load.py, e.g.
#   bench/load.sh --duration 10 --out /tmp/modgate-load.json
# Needs oha: cargo install oha --locked --no-default-features --features native-tls
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
models/fetch-models.sh
cargo build --release --locked
# Bounded: every load step stops by itself; this is the backstop for the whole run
# (one round takes about 9 minutes).
PYTHONDONTWRITEBYTECODE=1 exec timeout 45m python3 bench/load.py "$@"
