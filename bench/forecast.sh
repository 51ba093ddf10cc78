#!/usr/bin/env bash
# W4 (shared/bench/WORKLOADS.md): `vigie forecast --backtest` on the daily and hourly series of
# gen_series.py (seeds 1-3) against statsforecast 2.1.1 (SeasonalNaive, AutoETS, MSTL), in the
# same run: MASE and sMAPE on the held-out last horizon, and whole-process wall time.
#
#   bench/forecast.sh            # makes target/bench-forecast-venv (statsforecast 2.1.1) if needed
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/venv.sh
bench_venv target/bench-forecast-venv "import statsforecast, numpy" statsforecast==2.1.1 numpy
cargo build --release --quiet -p vigie
vigie=target/release/vigie
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

seconds() { local s e; s=$(date +%s%N); "$@" > "$work/last.out" 2>&1; e=$(date +%s%N); awk -v d=$((e - s)) 'BEGIN { printf "%.2f", d / 1e9 }'; }
printf '%-10s %-30s %-28s %-28s %s\n' series "vigie MASE / sMAPE (method)" "best peer MASE (model)" "peer config" "wall vigie / peer (s)"
for seed in 1 2 3; do
  for freq in D H; do
    "$py" bench/oracle/gen_series.py --freq "$freq" --seed "$seed" -o "$work/s.csv"
    if [ "$freq" = D ]; then v=(--freq 1d --horizon 28); configs=("--horizon 28 --season 7,365"); else
      v=(--freq 1h --horizon 168); configs=("--horizon 168 --season 24,168" "--horizon 168 --season 168,24 --mase-season 24"); fi
    t_v=$(seconds "$vigie" forecast "$work/s.csv" "${v[@]}" --backtest --format json --out "$work/v.json")
    ours=$("$py" -c "import json; d=json.load(open('$work/v.json')); print(f\"{d['mase']:.3f} / {d['smape']:.1f} ({d['backtest_method']})\")")
    for config in "${configs[@]}"; do
      # shellcheck disable=SC2086
      t_p=$(seconds "$py" bench/oracle/peer_forecast_statsforecast.py "$work/s.csv" --freq "$freq" $config)
      best=$(awk '$1 ~ /^(SeasonalNaive|AutoETS|MSTL)$/ { if (b == "" || $2 < b) { b = $2; m = $1 } } END { printf "%.3f (%s)", b, m }' "$work/last.out")
      printf '%-10s %-30s %-28s %-28s %s / %s\n' "$freq s$seed" "$ours" "$best" "${config#--horizon * }" "$t_v" "$t_p"
    done
  done
done
