#!/usr/bin/env bash
# W6 (live server) with the shared harness: wrk drives `vigie serve` through the four
# operations of shared/bench/loadtest (create, update, list, fetch) at 32 connections, and
# re-reads the acknowledged writes afterwards.
#
#   bench/w6.sh BACKEND N OPS REPS DURATION LABEL
#   e.g. bench/w6.sh sqlite 1000 create,update,list,fetch 3 20 base
#        bench/w6.sh sqlite 1000000 list 3 20 1M
#        bench/w6.sh postgres 1000 create,update,list,fetch 3 20 base
#
# BACKEND is sqlite (a file under $SCRATCH) or postgres (a database on $VIGIE_BENCH_PG_URL,
# default postgres://postgres@127.0.0.1:5432/test). The dataset is the peer's (README of the
# harness): N open tickets in one queue, loaded by `vigie bench-data`, plus an admin token.
# Before every run the store is restored from a pristine copy (SQLite: the file; PostgreSQL:
# CREATE DATABASE ... TEMPLATE), as the peer's runs reset theirs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
shared_bench="${SHARED_BENCH:-$root/../shared/bench}"
scratch="${SCRATCH:-/tmp/vigie-w6}"
bin="$root/target/release/vigie"
port="${W6_PORT:-8080}"
pg_admin="${VIGIE_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
pg_server="${pg_admin%/*}"

mkdir -p "$scratch"

db_url() { # the working store
  case "$1" in
    sqlite) echo "$scratch/work.db" ;;
    postgres) echo "$pg_server/vigie_w6_work" ;;
  esac
}

stop_server() {
  if [ -f "$scratch/server.pid" ]; then
    kill "$(cat "$scratch/server.pid")" 2>/dev/null || true
    while kill -0 "$(cat "$scratch/server.pid")" 2>/dev/null; do sleep 0.1; done
    rm -f "$scratch/server.pid"
  fi
}

start_server() {
  # Detached from our output: the harness waits for the reset command's output to close.
  setsid "$bin" serve --db "$(db_url "$1")" --listen "127.0.0.1:$port" </dev/null >/dev/null 2>>"$scratch/server.log" &
  echo $! >"$scratch/server.pid"
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0
    sleep 0.1
  done
  echo "error: the server did not become ready (see $scratch/server.log)" >&2
  exit 1
}

reset() { # restore the pristine dataset and (re)start the server
  local backend="$1"
  stop_server
  case "$backend" in
    sqlite) rm -f "$scratch"/work.db*; cp "$scratch/pristine.db" "$scratch/work.db" ;;
    postgres)
      psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS vigie_w6_work WITH (FORCE)" \
        -c "CREATE DATABASE vigie_w6_work TEMPLATE vigie_w6_pristine" ;;
  esac
  start_server "$backend"
}

prepare() { # load N tickets into a pristine store, make a token and the target profile
  local backend="$1" n="$2" url
  stop_server
  case "$backend" in
    sqlite) rm -f "$scratch"/pristine.db*; url="$scratch/pristine.db" ;;
    postgres)
      psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS vigie_w6_pristine WITH (FORCE)" -c "CREATE DATABASE vigie_w6_pristine"
      url="$pg_server/vigie_w6_pristine" ;;
  esac
  local started=$SECONDS
  "$bin" bench-data --db "$url" --n "$n" --ids-out "$scratch/ids.txt"
  echo "loaded $n tickets in $((SECONDS - started)) s" >&2
  local token
  token="$("$bin" token create --db "$url" --role admin --name w6-bench)"
  python3 - "$shared_bench/loadtest/targets/vigie.json" "$scratch/target.json" "$port" "$token" <<'PY'
import json, sys
source, out, port, token = sys.argv[1:]
target = json.load(open(source))
target["base_url"] = f"http://127.0.0.1:{port}"
target["headers"]["Authorization"] = f"Bearer {token}"
json.dump(target, open(out, "w"), indent=2)
PY
}

case "${1:-}" in
  reset) reset "$2"; exit 0 ;;
esac

backend="$1" n="$2" ops="$3" reps="$4" duration="$5" label="$6"
command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
(cd "$root" && cargo build --release --quiet)
prepare "$backend" "$n"
rm -rf "$scratch/acks"
trap stop_server EXIT
mkdir -p "$here/results"
python3 "$shared_bench/loadtest/run_w6.py" --target "$scratch/target.json" --label "vigie $backend: $label" \
  --ops "$ops" --reps "$reps" --duration "$duration" --connections 32 --threads 2 \
  --ids-file "$scratch/ids.txt" --reset rep --reset-cmd "$here/w6.sh reset $backend" \
  --verify-sample 2000 --acks-dir "$scratch/acks" --out "$here/results/w6-$backend-$label.json"
# The server still holds the last repetition's state: check its acknowledged writes ourselves
# (see check_acks.py for why the harness's own update check cannot be used with vigie).
token="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["headers"]["Authorization"].split()[1])' "$scratch/target.json")"
last_op="${ops##*,}"
case "$last_op" in
  create|update) python3 "$here/check_acks.py" "http://127.0.0.1:$port" "$token" "$scratch/acks" "$last_op" "$((reps - 1))" ;;
esac
