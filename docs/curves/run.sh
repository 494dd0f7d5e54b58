#!/usr/bin/env bash
# The decisive runs on rice (issue "models that learn", 4a), one at a time,
# each to its plateau (last third < 5% relative segm mAP gain) or its cap:
# Mask R-CNNs capped at 3400 iterations (~4-5 CPU-hours), RTMDet-Ins-tiny
# at the same CPU time, then the tiny Feather. Resumable: rerun this script after an interruption;
# a finished run returns at once. Run alone on the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
C=configs/feather_mask_rcnn
run() { name=$1; cfg=$2; shift 2
  $PY tools/train_curve.py "$cfg" --val-interval 200 --min-iters 1000 \
      --out docs/curves/$name.json "$@"; }
# The Mask R-CNNs with the recipe the ablation chose (docs/recipe_ablation.md).
run feather_rice $C/ablations/mask-rcnn_r50-dws_fpn_dws-mask_gn-all_scratch-cpu-1xb2-300it_rice-leaf.py --max-iters 3400
run dense_rice $C/ablations/mask-rcnn_r50_fpn_gn-all_scratch-cpu-1xb2-300it_rice-leaf.py --max-iters 3400
run rtmdet-ins-tiny_rice configs/rtmdet_ins/rtmdet-ins_tiny_scratch-cpu-1xb2-300it_rice-leaf.py \
    --max-iters 20000 --val-interval 1000
# The tiny Feather of the CPU latency line, with its shipped rice recipe.
run tiny_rice $C/mask-rcnn_r18-dws_fpn-dws-c128_rpn-dws_light-box_dws-mask-2x128_scratch-cpu-1xb2-300it_rice-leaf.py \
    --max-iters 12000 --val-interval 500
