#!/usr/bin/env bash
# Fetch the model files if missing, then run every test (unit, integration, browser), the
# integration suite again on PostgreSQL, then schemathesis against a live server
# (scripts/schemathesis.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
models/fetch-models.sh

# Google's Python client for Perspective, which tests/it/perspective.rs drives through
# modgate's discovery document (PyPI; the test skips with a message when it is missing).
client_venv=target/google-api-client-venv
if [ ! -x "$client_venv/bin/python" ] || ! "$client_venv/bin/python" -c 'import googleapiclient' 2>/dev/null; then
  if python3 -m venv "$client_venv" && "$client_venv/bin/pip" install -q 'google-api-python-client==2.202.0'; then
    :
  elif [ "${MODGATE_REQUIRE_GOOGLE_CLIENT:-}" = 1 ]; then
    echo "cannot install google-api-python-client from PyPI" >&2
    exit 1
  else
    echo "warning: google-api-python-client not installed; its test will be skipped" >&2
  fi
fi
if [ -x "$client_venv/bin/python" ] && "$client_venv/bin/python" -c 'import googleapiclient' 2>/dev/null; then
  MODGATE_GOOGLE_CLIENT_PYTHON="$(pwd)/$client_venv/bin/python"
  export MODGATE_GOOGLE_CLIENT_PYTHON
fi

# The model tooling's own checks: command modules import only shared helpers; the training
# recipes' row selection (needs numpy: the venv fetch-models.sh made, where there is one).
models_python=python3
[ -x models/.venv/bin/python ] && models_python=.venv/bin/python
(cd models && "$models_python" -m unittest discover -s tests -q)
cargo test --locked --all-targets "$@"

# The integration suite again on PostgreSQL (the store for several instances), on a
# throwaway server (scripts/postgres.sh); tests/multi_instance.rs needs it too.
if pg_env=$(scripts/postgres.sh start); then
  eval "$pg_env"
  trap 'scripts/postgres.sh stop "$MODGATE_PG_DIR"' EXIT
  cargo test --locked --test it --test multi_instance "$@"
  scripts/postgres.sh stop "$MODGATE_PG_DIR"
  trap - EXIT
  unset MODGATE_TEST_POSTGRES MODGATE_PG_DIR
elif [ "${MODGATE_REQUIRE_POSTGRES:-}" = 1 ]; then
  echo "cannot start PostgreSQL for the tests" >&2
  exit 1
else
  echo "warning: PostgreSQL is not installed; the suite ran on SQLite only" >&2
fi
scripts/schemathesis.sh
