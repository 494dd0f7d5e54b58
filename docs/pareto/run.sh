#!/usr/bin/env bash
# The learning-curve report (best model per CPU budget) and the latency-vs-AP charts
# at 0.25, 0.5, 1 and 2 CPU-hours of training, 640x640 and 416x416 (docs/benchmark.md).
# CPU hours = iterations x clean s/iter on one basis, the run that timed Feather GN-all,
# RTMDet-Ins-tiny and the tiny Feather side by side (rice_speed_tiny.json). The dense
# GN-all twin was timed against Feather GN-all in another run (rice_speed_gn.json:
# 4.028 / 3.397 s/iter), so its s/iter is that ratio on the same basis:
# 4.351 x 4.028 / 3.397 = 5.16 (docs/training_speed.md).
# Latency: the rice configs these curves trained, one benchmark run (docs/benchmark/rice/).
# OUT=DIR writes DIR/curves/rice.* and DIR/pareto/* instead of docs/ (tests).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-docs}
mkdir -p "$OUT/curves" "$OUT/pareto"
$PY tools/curves_report.py docs/curves/*_rice.json --out "$OUT/curves/rice" \
    --s-per-iter docs/training_speed/rice_speed_tiny.json \
    --speed-entry feather_rice=feather-gn rtmdet-ins-tiny_rice=rtmdet tiny_rice=tiny \
    --s-per-iter-value dense_rice=5.16 --budgets 0.25 0.5 1 2
C=cpu-1xb2-300it_rice-leaf
for B in 0.25 0.5 1 2; do
  for S in 640x640 416x416; do
    $PY tools/pareto_chart.py --benchmarks docs/benchmark/rice/results.json \
      --reference rtmdet-ins_tiny_scratch-$C --size $S --ap "$OUT/curves/rice_budgets.json" --budget $B \
      --rename feather_rice=mask-rcnn_r50-dws_fpn_dws-mask_gn-all_scratch-$C \
               dense_rice=mask-rcnn_r50_fpn_gn-all_scratch-$C \
               tiny_rice=mask-rcnn_r18-dws_fpn-dws-c128_rpn-dws_light-box_dws-mask-2x128_scratch-$C \
               rtmdet-ins-tiny_rice=rtmdet-ins_tiny_scratch-$C --allow-missing \
      --out "$OUT/pareto/rice_${B}h_$S" --title "rice val segm mAP after $B CPU-hours of training vs CPU latency at $S"
  done
done
cat "$OUT/curves/rice.md" "$OUT"/pareto/*.md
