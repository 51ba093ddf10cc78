#!/usr/bin/env bash
# W5 (shared/bench/WORKLOADS.md): `vigie dedup` on gen_tickets.py data (seed 1) against the
# datasketch MinHashLSH peer (peer_dedup_datasketch.py: char 5-grams, 128 permutations,
# threshold 0.8), in the same run: precision and recall on the planted pairs (score_dedup.py),
# then whole-process wall time and the ratio.
#
#   bench/dedup.sh                 # 100,000 and 1,000,000 tickets
#   bench/dedup.sh 100000          # sizes of your choice
# Makes target/bench-dedup-venv (datasketch 2.0.0, numpy) and keeps the generated data in
# target/bench-dedup-data (389 MB at 1M).
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/venv.sh
bench_venv target/bench-dedup-venv "import datasketch, numpy" datasketch==2.0.0 numpy==2.4.6
cargo build --release --quiet -p vigie
vigie=target/release/vigie
data=target/bench-dedup-data
mkdir -p "$data"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)

seconds() { local s e; s=$(date +%s%N); "$@" > "$work/last.out" 2>&1; e=$(date +%s%N); awk -v d=$((e - s)) 'BEGIN { printf "%.2f", d / 1e9 }'; }
score() { "$py" bench/oracle/score_dedup.py "$1" "$2" --json | "$py" -c 'import json, sys; d = json.load(sys.stdin); print("%d found, precision %.4f, recall %.4f, F1 %.4f" % (d["found"], d["precision"] or 0, d["recall"] or 0, d["f1"]))'; }

for n in "${sizes[@]}"; do
  dir="$data/t$n"
  [ -f "$dir/dup_pairs.csv" ] || "$py" bench/oracle/gen_tickets.py --n "$n" --seed 1 --out "$dir" 2>/dev/null
  planted=$(($(wc -l < "$dir/dup_pairs.csv") - 1))
  echo "== $n tickets (seed 1), $planted planted pairs"
  t_v=$(seconds "$vigie" dedup "$dir/tickets.csv" --output "$work/vigie.csv")
  echo "vigie:      $(score "$work/vigie.csv" "$dir/dup_pairs.csv"), $t_v s"
  echo "            $(tail -n 1 "$work/last.out")"
  t_p=$(seconds "$py" bench/oracle/peer_dedup_datasketch.py "$dir" -o "$work/peer.csv")
  echo "datasketch: $(score "$work/peer.csv" "$dir/dup_pairs.csv"), $t_p s"
  awk -v v="$t_v" -v p="$t_p" 'BEGIN { printf "vigie is %.1fx faster\n", p / v }'
done
