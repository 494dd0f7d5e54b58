#!/usr/bin/env bash
# The learning-curve report (best model per CPU budget) and the latency-vs-AP charts
# at 0.25, 0.5 and 1 CPU-hours of training, 640x640 and 416x416 (docs/benchmark.md).
# The dense GN-all run has no clean benchmark s/iter yet: 4.97 is the median of
# its own run's per-interval s/iter, alone on the machine (docs/curves.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
$PY tools/curves_report.py docs/curves/*_rice.json --out docs/curves/rice \
    --s-per-iter docs/training_speed/rice_speed.json docs/training_speed/rice_speed_tiny.json \
    --speed-entry feather_rice=feather-gn rtmdet-ins-tiny_rice=rtmdet tiny_rice=tiny \
    --s-per-iter-value dense_rice=4.97 --budgets 0.25 0.5 1 2
mkdir -p docs/pareto
for B in 0.25 0.5 1; do
  for S in 640x640 416x416; do
    $PY tools/pareto_chart.py --benchmarks docs/benchmark/tiny/results.json docs/benchmark/repeat/results.json \
      --reference rtmdet-ins-tiny --size $S --ap docs/curves/rice_budgets.json --budget $B \
      --rename feather_rice=feather rtmdet-ins-tiny_rice=rtmdet-ins-tiny tiny_rice=tiny dense_rice=baseline --allow-missing \
      --out docs/pareto/rice_${B}h_$S --title "rice val segm mAP after $B CPU-hours of training vs CPU latency at $S"
  done
done
cat docs/curves/rice.md
cat docs/pareto/*.md
