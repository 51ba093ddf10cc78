#!/usr/bin/env bash
# W3 (shared/bench/WORKLOADS.md, SIMULATION.md): `vigie simulate` on the reference scenario
# (30 days, ~100,000 tickets, 50 agents in shifts) against Ciw 3.2.7 and SimPy 4.1.2, in the same
# run: agreement of the 100 replications with the stored 500-replication runs of both peers
# (compare_sim.py), then wall time.
#
# The peers need 2.5–4.5 s (Ciw) and 0.7–1.8 s (SimPy) a replication, so they run PEER_REPS
# replications here (default 4) on as many cores as vigie uses, and their time for 100 is that
# per-replication time × 100 (stated as such in the output).
#
#   bench/simulate.sh            # makes target/bench-sim-venv (ciw, simpy, numpy) if needed
#   PEER_REPS=10 bench/simulate.sh
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/venv.sh
bench_venv target/bench-sim-venv "import ciw, simpy, numpy" ciw==3.2.7 simpy==4.1.2 numpy
cargo build --release --quiet -p vigie
vigie=target/release/vigie
scenario=bench/oracle/scenario_w3.toml
cores=$(nproc)
peer_reps=${PEER_REPS:-4}
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== agreement: vigie, 100 replications (seeds 1000-1099), against the stored peer runs"
"$vigie" simulate "$scenario" --format json --out "$work/vigie.json" 2>/dev/null
for peer in ciw simpy; do
  "$py" bench/oracle/compare_sim.py "$work/vigie.json" "bench/oracle/results/${peer}_500.summary.json" | \
    awk 'NR == 1 || / DISAGREE$/ || / overlap-only$/ || /pairs with/'
done

echo "== wall time, $cores cores"
seconds() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); awk -v d=$((e - s)) 'BEGIN { printf "%.3f", d / 1e9 }'; }
best() { local best=""; for _ in 1 2 3; do local t; t=$(seconds "$@"); best=$(awk -v a="$t" -v b="$best" 'BEGIN { print (b == "" || a < b) ? a : b }'); done; echo "$best"; }
t_vigie=$(best "$vigie" simulate "$scenario" --replications 100 --format json --out "$work/v.json")
t_vigie1=$(best "$vigie" simulate "$scenario" --replications 100 --threads 1 --format json --out "$work/v1.json")
t_ciw=$(seconds "$py" bench/oracle/peer_sim_ciw.py "$scenario" --reps "$peer_reps" --jobs "$cores")
t_simpy=$(seconds "$py" bench/oracle/peer_sim_simpy.py "$scenario" --reps "$peer_reps" --jobs "$cores")
awk -v v="$t_vigie" -v v1="$t_vigie1" -v c="$t_ciw" -v s="$t_simpy" -v n="$peer_reps" -v k="$cores" 'BEGIN {
  c100 = c / n * 100; s100 = s / n * 100
  printf "vigie simulate, 100 reps, %d threads   %8.2f s (best of 3)\n", k, v
  printf "vigie simulate, 100 reps, 1 thread     %8.2f s (best of 3)\n", v1
  printf "Ciw,   %d reps on %d processes          %8.2f s -> %.1f s for 100\n", n, k, c, c100
  printf "SimPy, %d reps on %d processes          %8.2f s -> %.1f s for 100\n", n, k, s, s100
  printf "vigie is %.0fx faster than Ciw and %.0fx faster than SimPy (100 replications, %d cores each)\n", c100 / v, s100 / v, k
}'
