#!/usr/bin/env bash
# W2 (shared/bench/WORKLOADS.md): `vigie staffing` on a year of half-hour arrivals against the
# pyworkforce peer and the exact reference (erlangc_reference.py), in the same run: agreement
# per interval, then whole-process wall time (median of runs, bench/wall.py) and the ratio.
#
#   bench/staffing.sh            # makes target/bench-venv (pyworkforce 0.5.1, numpy) if needed
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/venv.sh
bench_venv target/bench-venv "import pyworkforce, numpy" pyworkforce==0.5.1 numpy
cargo build --release --quiet -p vigie
vigie=target/release/vigie
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$py" bench/oracle/gen_arrivals.py --seed 1 -o "$work/arrivals.csv"
ARGS=(--aht-seconds 300 --target-sl 0.8 --target-seconds 20 --interval-minutes 30 --shrinkage 0.3 --max-occupancy 0.85)

echo "== agreement (17,520 half-hour intervals)"
"$vigie" staffing "$work/arrivals.csv" "${ARGS[@]}" --format csv --out "$work/vigie.csv"
"$py" bench/oracle/peer_staffing_pyworkforce.py "$work/arrivals.csv" "${ARGS[@]}" -o "$work/pyworkforce.csv" >/dev/null
"$py" bench/oracle/erlangc_reference.py "$work/arrivals.csv" "${ARGS[@]}" -o "$work/reference.csv" --compare "$work/vigie.csv" | tail -n +2
"$py" bench/oracle/erlangc_reference.py "$work/arrivals.csv" "${ARGS[@]}" --compare "$work/pyworkforce.csv" | tail -n +2 | head -1
cmp -s "$work/vigie.csv" "$work/reference.csv" && echo "vigie's CSV is byte for byte the reference's"

# Whole process, wall clock: the median of several runs, each forked from one Python process
# (bench/wall.py; its own cost is the /bin/true line).
echo "== whole process, median of runs (ms)"
t_true=$("$py" bench/wall.py 41 /bin/true)
t_vigie=$("$py" bench/wall.py 41 "$vigie" staffing "$work/arrivals.csv" "${ARGS[@]}" --format csv --out "$work/v.csv")
t_peer=$("$py" bench/wall.py 5 "$py" bench/oracle/peer_staffing_pyworkforce.py "$work/arrivals.csv" "${ARGS[@]}" -o "$work/p.csv")
t_ref=$("$py" bench/wall.py 5 "$py" bench/oracle/erlangc_reference.py "$work/arrivals.csv" "${ARGS[@]}" -o "$work/r.csv")
echo "/bin/true (the harness)  $t_true"
echo "vigie staffing          $t_vigie"
echo "pyworkforce (peer)      $t_peer"
echo "erlangc_reference.py    $t_ref"
awk -v v="$t_vigie" -v p="$t_peer" -v r="$t_ref" 'BEGIN { printf "vigie is %.0fx faster than pyworkforce, %.0fx than the reference\n", p / v, r / v }'
