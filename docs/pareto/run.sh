#!/usr/bin/env bash
# The learning-curve report (best model per CPU budget) and the latency-vs-AP charts
# at 0.25, 0.5, 1 and 2 CPU-hours of training, 640x640 and 416x416 (docs/benchmark.md).
# CPU hours = iterations x clean s/iter on one basis, the run that timed Feather GN-all,
# RTMDet-Ins-tiny and the tiny Feather side by side (rice_speed_tiny.json). The dense
# GN-all twin was timed against Feather GN-all in another run (rice_speed_gn.json:
# 4.028 / 3.397 s/iter), so its s/iter is that ratio on the same basis:
# 4.351 x 4.028 / 3.397 = 5.16 (docs/training_speed.md).
# Latency: the rice configs these curves trained, one benchmark run side by side with
# RTMDet-Ins-tiny; docs/benchmark/rice_int8/ (fp32 and OpenVINO NNCF int8) where it has a
# config, else docs/benchmark/rice/ (fp32 only, an AVX2 CPU). BENCH=1 first reruns the
# rice_int8 one on this machine (~12 min, alone on the CPU). An int8 point's mAP is the fp32
# curve's plus the segm change NNCF made on one checkpoint (docs/benchmark.md, int8 on rice).
# OUT=DIR writes DIR/curves/rice.* and DIR/pareto/* instead of docs/ (tests).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-docs}
mkdir -p "$OUT/curves" "$OUT/pareto"
C=cpu-1xb2-300it_rice-leaf
F=configs/feather_mask_rcnn
TINY=mask-rcnn_r18-dws_fpn-dws-c128_rpn-dws_light-box_dws-mask-2x128_scratch-$C
FEATHER=mask-rcnn_r50-dws_fpn_dws-mask_gn-all_scratch-$C
DENSE=mask-rcnn_r50_fpn_gn-all_scratch-$C
RTM=rtmdet-ins_tiny_scratch-$C
if [ "${BENCH:-0}" = 1 ]; then
  $PY tools/benchmark.py configs/rtmdet_ins/$RTM.py $F/$TINY.py $F/ablations/$FEATHER.py \
      $F/ablations/$DENSE.py --reference $RTM --runtimes onnxruntime openvino openvino-int8 \
      --sizes 640x640 416x416 --threads 2 --runs 3 --repeat 3 --out-dir work_dirs/benchmark_rice_int8
  mkdir -p docs/benchmark/rice_int8
  cp work_dirs/benchmark_rice_int8/results.json docs/benchmark/rice_int8/results.json
  $PY tools/benchmark_report.py docs/benchmark/rice_int8/results.json
fi
BENCHMARKS=(docs/benchmark/rice/results.json)
[ -f docs/benchmark/rice_int8/results.json ] && BENCHMARKS=(docs/benchmark/rice_int8/results.json "${BENCHMARKS[@]}")
I8=docs/benchmark/int8_rice
$PY tools/curves_report.py docs/curves/*_rice.json --out "$OUT/curves/rice" \
    --s-per-iter docs/training_speed/rice_speed_tiny.json \
    --speed-entry feather_rice=feather-gn rtmdet-ins-tiny_rice=rtmdet tiny_rice=tiny \
    --s-per-iter-value dense_rice=5.16 --budgets 0.25 0.5 1 2
for B in 0.25 0.5 1 2; do
  for S in 640x640 416x416; do
    $PY tools/pareto_chart.py --benchmarks "${BENCHMARKS[@]}" \
      --reference $RTM --size $S --ap "$OUT/curves/rice_budgets.json" --budget $B \
      --rename feather_rice=$FEATHER dense_rice=$DENSE tiny_rice=$TINY \
               rtmdet-ins-tiny_rice=$RTM --allow-missing \
      --int8-runtime openvino-int8 --int8-ap-change \
        $TINY=${I8}_tiny_vnni/fp32-openvino.json,${I8}_tiny_vnni/openvino-nncf.json \
        $FEATHER=$I8/fp32-openvino.json,$I8/openvino-nncf.json \
        $RTM=${I8}_rtmdet/fp32-openvino.json,${I8}_rtmdet/openvino-nncf.json \
      --out "$OUT/pareto/rice_${B}h_$S" --title "rice val segm mAP after $B CPU-hours of training vs CPU latency at $S"
  done
done
cat "$OUT/curves/rice.md" "$OUT"/pareto/*.md
