#!/usr/bin/env bash
# Fewer test proposals for the tiny Feather on rice (docs/benchmark.md):
# 1. val AP of the tiny Feather's long-run checkpoint with the rice recipe's
#    300 test proposals / 100 detections and with the test50 variant (50 / 50),
#    and of RTMDet-Ins-tiny's long-run checkpoint (its last point, for scale):
#    OUT/<config name>.json (mmengine's test metrics), OUT/ap.json;
# 2. with BENCH=1, latency of the five rice configs side by side
#    (~10 min; the committed OUT/results.json is one such run);
# 3. latency vs AP at 640x640 and 416x416: OUT/chart_<size>.{md,png}.
# Both checkpoints default to the long runs' committed copies (docs/curves.md).
#   bash docs/benchmark/rice_test50/run.sh [TINY_CHECKPOINT RTMDET_CHECKPOINT]
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-docs/benchmark/rice_test50}
TINY_CKPT=${1:-docs/curves/resume/tiny_rice.pth}
RTM_CKPT=${2:-docs/curves/resume/rtmdet-ins-tiny_rice.pth}
for f in "$TINY_CKPT" "$RTM_CKPT"; do
  [ -f "$f" ] || { echo "error: checkpoint $f not found; train first (bash docs/curves/run.sh) or pass TINY_CHECKPOINT RTMDET_CHECKPOINT" >&2; exit 2; }
done
C=configs/feather_mask_rcnn
R=cpu-1xb2-300it_rice-leaf
TINY=$C/mask-rcnn_r18-dws_fpn-dws-c128_rpn-dws_light-box_dws-mask-2x128_scratch-$R.py
FAST=$C/mask-rcnn_r18-dws_fpn-dws-c128_rpn-dws-test50_light-box_dws-mask-2x128_scratch-$R.py
RTM=configs/rtmdet_ins/rtmdet-ins_tiny_scratch-$R.py
mkdir -p "$OUT" work_dirs/rice_test50
evaluate() { cfg=$1 ckpt=$2
  name=$(basename "$cfg" .py); work=work_dirs/rice_test50/$name
  rm -rf "$work"
  $PY -m mim test mmdet "$cfg" --checkpoint "$ckpt" --work-dir "$work" > "$work.log" 2>&1 \
    || { echo "error: mim test failed for $cfg, see $work.log" >&2; exit 1; }
  cp "$(ls "$work"/*/*.json | tail -1)" "$OUT/$name.json"
  echo "$name: $($PY -c "import sys, torch; print(torch.load(sys.argv[1], map_location='cpu', weights_only=False)['meta']['iter'])" "$ckpt") iterations ($ckpt)" >> "$OUT/checkpoints.txt"
}
rm -f "$OUT/checkpoints.txt"
evaluate $TINY "$TINY_CKPT"
evaluate $FAST "$TINY_CKPT"
evaluate $RTM "$RTM_CKPT"
$PY -c "
import json, os, sys
out = sys.argv[1]
ap = {os.path.basename(c)[:-3]: json.load(open(os.path.join(out, os.path.basename(c)[:-3] + '.json')))['coco/segm_mAP'] for c in sys.argv[2:]}
json.dump(ap, open(os.path.join(out, 'ap.json'), 'w'), indent=1); print(ap)" "$OUT" $TINY $FAST $RTM
if [ "${BENCH:-0}" = 1 ]; then
  $PY tools/benchmark.py $RTM $TINY $FAST \
      $C/ablations/mask-rcnn_r50-dws_fpn_dws-mask_gn-all_scratch-$R.py \
      $C/ablations/mask-rcnn_r50_fpn_gn-all_scratch-$R.py \
      --reference rtmdet-ins_tiny_scratch-$R --runtimes onnxruntime openvino \
      --sizes 640x640 416x416 --threads 2 --runs 3 --repeat 3 --out-dir work_dirs/benchmark_rice_test50
  cp work_dirs/benchmark_rice_test50/results.json "$OUT/results.json"
  $PY tools/benchmark_report.py "$OUT/results.json"
fi
for S in 640x640 416x416; do
  $PY tools/pareto_chart.py --benchmarks "$OUT/results.json" --reference rtmdet-ins_tiny_scratch-$R \
      --size $S --ap "$OUT/ap.json" --out "$OUT/chart_$S" \
      --title "rice val segm mAP of the long runs' last checkpoints vs CPU latency at $S"
done
cat "$OUT"/chart_*.md
