#!/usr/bin/env bash
# Dense start at the tiny line's size (issue "models that learn", 4c): the
# tiny dense twin trained on all of rice (less_data_tiny.sh's
# dense_100pct_seed0 run, its final checkpoint) converted to the tiny Feather
# with calibration (tools/convert_dense_to_feather.py, 16 training images),
# evaluated as converted (OUT/converted_iter0_test.json, mmdet's test), then
# fine-tuned on the same schedule as Feather from scratch
# (feather_100pct_seed0: 2000 iterations, evaluated every 250). Compare the
# iteration where each curve first reaches 0.95x the dense model's final
# segm mAP (docs/curves.md). Needs the dense run's checkpoint, which lives
# only in the work dir of the machine that trained it; resumable there.
# OUT=DIR / WORK=DIR put the results / the converted weights elsewhere;
# further arguments go to tools/train_curve.py (e.g. --stop-at 1000 ends this
# invocation there, on the same 2000-iteration schedule; rerun to continue).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
C=configs/feather_mask_rcnn
FEATHER=$C/mask-rcnn_r18-dws_fpn-dws-c128_rpn-dws_light-box_dws-mask-2x128_scratch-cpu-1xb2-300it_rice-leaf.py
DENSE_CKPT=${DENSE_CKPT:-work_dirs/curves/dense_100pct_seed0/iter_2000.pth}
OUT=${OUT:-docs/curves/dense_start_tiny}
WORK=${WORK:-work_dirs/dense_start_tiny}
if [ ! -f "$DENSE_CKPT" ]; then
  echo "error: $DENSE_CKPT not found: run docs/curves/less_data_tiny.sh to its dense_100pct_seed0 run first (or DENSE_CKPT=path/to/dense_twin.pth)" >&2
  exit 2
fi
mkdir -p "$OUT" "$WORK"
if [ ! -f "$WORK/feather_from_dense.pth" ]; then
  $PY tools/convert_dense_to_feather.py "$DENSE_CKPT" "$FEATHER" \
      "$WORK/feather_from_dense.pth" --calib-images 16 --max-not-mapped 0 \
      --report "$OUT/convert_report.json"
fi
if [ ! -f "$OUT/converted_iter0_test.json" ]; then  # val AP before fine-tuning
  $PY -m mim test mmdet "$FEATHER" --checkpoint "$WORK/feather_from_dense.pth" \
      --work-dir "$WORK/iter0" > "$WORK/iter0.log" 2>&1 \
    || { echo "error: mim test of the converted model failed, see $WORK/iter0.log" >&2; exit 1; }
  cp "$(ls "$WORK"/iter0/*/*.json | tail -1)" "$OUT/converted_iter0_test.json"
fi
$PY tools/train_curve.py "$FEATHER" --max-iters 2000 --val-interval 250 \
    --no-stop --out "$OUT/feather_from_dense_100pct_seed0.json" \
    --cfg-options load_from="$WORK/feather_from_dense.pth" "$@"
