#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and benchmarks: an unprivileged cluster in a
# temporary directory on a free loopback port, trust authentication, gone at `stop`.
#
#   eval "$(scripts/postgres.sh start)"   # exports MODGATE_TEST_POSTGRES and MODGATE_PG_DIR
#   scripts/postgres.sh stop "$MODGATE_PG_DIR"
#
# `start --durable` keeps PostgreSQL's default durability (fsync, synchronous commit), for
# benchmarks that compare it with SQLite's synchronous=FULL; the tests need none.
#
# PostgreSQL comes from Debian's `postgresql` package (.ci/run installs it). PostgreSQL
# refuses to run as root; as root, the cluster runs as the package's `postgres` user.
set -euo pipefail

bindir() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/pg_ctl" ] || { echo "PostgreSQL is not installed (Debian: apt-get install postgresql)" >&2; exit 1; }
  echo "$d"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
  start)
    bin=$(bindir)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/modgate-pg.XXXXXX")
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U modgate --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # fsync off: a test server needs no durability (the SQLite crash test covers ours).
    durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${2:-}" = --durable ] && durability=""
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 $durability" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "export MODGATE_TEST_POSTGRES=postgres://modgate@127.0.0.1:$port/postgres"
    echo "export MODGATE_PG_DIR=$dir"
    ;;
  stop)
    dir=${2:?usage: $0 stop DIR}
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start [--durable] | stop DIR" >&2
    exit 2
    ;;
esac
