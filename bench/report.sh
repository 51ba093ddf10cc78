#!/usr/bin/env bash
# W1: `vigie report` against the DuckDB peer, in the same run on this machine.
#
#   bench/report.sh DIR...        each DIR made by gen_tickets.py (or data/boston311_2015)
#   bench/report.sh --gen N SEED  generate $SCRATCH/tN_sSEED first (SCRATCH default: target/bench-data)
#
# For each DIR: the DuckDB peer's report and wall time, DuckDB's bare parse of the file (every
# column as text, the floor of the peer), `vigie report --format json`, the agreement of the two
# reports (bench/oracle/compare_reports.py: every number equal, floats within 1e-9 relative), peak
# memory of each, and the ratios. Runs are interleaved (peer, vigie, peer, vigie...) RUNS times
# (default 3) and the best of each is kept.
#
# Needs a Python with duckdb and numpy: VIGIE_PYTHON, else target/oracle-venv (made by scripts/test).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="${VIGIE_PYTHON:-$root/target/oracle-venv/bin/python}"
oracle="$root/bench/oracle"
runs="${RUNS:-3}"
"$py" -c 'import duckdb' 2>/dev/null || { echo "error: $py lacks duckdb (run scripts/test once, or set VIGIE_PYTHON)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "error: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

if [ "${1:-}" = "--gen" ]; then
  n=$2; seed=$3; shift 3
  scratch="${SCRATCH:-$root/target/bench-data}"
  dir="$scratch/t${n}_s${seed}"
  [ -f "$dir/tickets.csv" ] || "$py" "$oracle/gen_tickets.py" --n "$n" --seed "$seed" --out "$dir"
  set -- "$dir" "$@"
fi

(cd "$root" && cargo build --release --locked -q -p vigie)
vigie="$root/target/release/vigie"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# wall seconds and peak KiB of a command: "SECONDS KIB"
measure() { /usr/bin/time -f "%e %M" -o "$out/time" "$@" > "$out/stdout" 2> "$out/stderr" || { cat "$out/stderr" >&2; return 1; }; cat "$out/time"; }
best() { sort -n | head -n 1; }

for dir in "$@"; do
  file="$dir/tickets.csv"
  size=$(du -h "$file" | cut -f1)
  echo "== $dir ($size tickets.csv, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
  cat "$file" > /dev/null   # the file in the page cache for both
  : > "$out/duck.t"; : > "$out/vigie.t"; : > "$out/parse.t"
  for _ in $(seq "$runs"); do
    measure "$py" "$oracle/peer_report_duckdb.py" "$dir" >> "$out/duck.t"; cp "$out/stdout" "$out/duck.json"
    measure "$vigie" report "$file" --format json >> "$out/vigie.t"; cp "$out/stdout" "$out/vigie.json"
    measure "$py" -c "import duckdb,sys; duckdb.sql(\"SELECT count(*) FROM read_csv('$file', header=true, all_varchar=true)\").fetchall()" >> "$out/parse.t"
  done
  read -r duck_s duck_kb < <(best < "$out/duck.t")
  read -r vigie_s vigie_kb < <(best < "$out/vigie.t")
  read -r parse_s _ < <(best < "$out/parse.t")
  agreement=$("$py" "$oracle/compare_reports.py" "$out/duck.json" "$out/vigie.json" | tail -n 1 || true)
  printf '  duckdb peer   %6.2f s  %7d MiB\n' "$duck_s" $((duck_kb / 1024))
  printf '  duckdb parse  %6.2f s  (all columns as text: the floor)\n' "$parse_s"
  printf '  vigie report  %6.2f s  %7d MiB\n' "$vigie_s" $((vigie_kb / 1024))
  awk -v d="$duck_s" -v v="$vigie_s" -v p="$parse_s" 'BEGIN { printf "  vigie is %.2fx faster than the peer; %.2fx the bare parse\n", d / v, v / p }'
  echo "  agreement: $agreement"
done
