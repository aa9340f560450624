#!/usr/bin/env bash
# Fetch the model files if missing, then run every test (unit, integration, browser), then
# schemathesis against a live server (scripts/schemathesis.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
models/fetch-models.sh
cargo test --locked --all-targets "$@"
scripts/schemathesis.sh
