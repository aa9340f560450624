#!/usr/bin/env bash
# Regenerates the hash-pinned lock files models/locks/EXTRA.txt from the extras in
# models/pyproject.toml: every package, transitive ones included, pinned with == and the
# sha256 of each of its files on PyPI, for CPython 3.11 on x86_64 Linux (where
# fetch-models.sh and CI run; pip-compile evaluates markers for the interpreter it runs on,
# so run this there). pip-compile keeps a lock's existing pins while they still satisfy the
# extra; pass --upgrade (or --upgrade-package NAME) to move them:
#   models/locks/compile.sh [pip-compile options...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
models="$(dirname "$here")"
py="${PYTHON:-python3}"
"$py" - <<'PY'
import platform, sys
if sys.version_info[:2] != (3, 11) or platform.machine() != "x86_64" or sys.platform != "linux":
    sys.exit(f"locks are for CPython 3.11 on x86_64 Linux, not {platform.python_version()} on {sys.platform}/{platform.machine()}")
PY
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$py" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check pip-tools==7.7.0
cd "$models"
for extra in convert build train e5-train; do
  CUSTOM_COMPILE_COMMAND="models/locks/compile.sh (pip-compile --extra=$extra --generate-hashes --allow-unsafe --strip-extras pyproject.toml; CPython 3.11, x86_64 Linux)" \
    "$tmp/venv/bin/pip-compile" --quiet --extra "$extra" --generate-hashes --allow-unsafe --strip-extras \
    --no-emit-index-url --no-emit-find-links --cache-dir "$tmp/cache" --output-file "locks/$extra.txt" "$@" pyproject.toml
done
