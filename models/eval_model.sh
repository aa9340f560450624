#!/usr/bin/env bash
# Evaluates a model directory with `modgate eval` on the held-out evaluation sets in
# ../shared/eval (HateCheck, bias_madlibs, Jigsaw 2018 test samples, Jigsaw 2020 multilingual test), using the project's
# config.toml (rules, policy, identity counterfactual) with only [model] changed.
#   models/eval_model.sh [shipped|MODEL_DIR|bilstm] [OUT_DIR]   (default: config.toml as shipped;
#   any ONNX model directory, e.g. models/e5-toxic-int8, replaces the default model and drops
#   [model.languages])
# Needs target/debug/modgate (cargo build; MODGATE_BIN=target/release/modgate is faster) and
# models/fetch-models.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="${1:-shipped}"
out="${2:-$root/target/eval/$(basename "$model")}"
eval_dir="$root/../shared/eval"
[ -d "$eval_dir" ] || { echo "skip: $eval_dir is absent" >&2; exit 0; }
bin="${MODGATE_BIN:-$root/target/debug/modgate}"
mkdir -p "$out"
config="$out/config.toml"
# Absolute rule paths so the copy works from another directory.
sed -e "s#\"rules/#\"$root/rules/#g" "$root/config.toml" > "$config"
# The [model] section's backend and dir (absolute), and no [model.languages] routes unless
# the shipped config is evaluated (modgate_models.eval_config: standard library only).
PYTHONPATH="$root/models${PYTHONPATH:+:$PYTHONPATH}" python3 -m modgate_models.eval_config "$config" "$model" "$root"
run() { # NAME FILE ARGS...
  local name="$1" file="$2"
  shift 2
  "$bin" --config "$config" eval "$file" "$@" --json > "$out/$name.json"
  # The table too (a second pass over the file) unless EVAL_JSON_ONLY is set.
  [ -n "${EVAL_JSON_ONLY:-}" ] || "$bin" --config "$config" eval "$file" "$@" > "$out/$name.txt" 2>/dev/null || true
  echo "$out/$name.json"
}
run hatecheck "$eval_dir/hatecheck_en/test_suite_cases.csv" --text-col test_case --label-col label_gold --positive hateful --group-col functionality
run jigsaw_ibm "$eval_dir/jigsaw2018_test_samples/ibm_max_test_examples.csv" --text-col comment_text --label-col toxic
run jigsaw_detoxify "$eval_dir/jigsaw2018_test_samples/detoxify_dummy_test_labelled.csv" --text-col comment_text --label-col toxic
run jigsaw2020 "$eval_dir/jigsaw_multilingual_2020/test6000_labelled.csv" --text-col text --label-col toxic --group-col lang
if [ -z "${SKIP_MADLIBS:-}" ]; then
  run bias_madlibs "$eval_dir/bias_madlibs/bias_madlibs_77k.csv" --text-col Text --label-col Label --positive BAD --group-by-identity-term
fi
