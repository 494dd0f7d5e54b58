#!/usr/bin/env bash
# Recipe ablation on rice (Feather, seed 0, 250 iterations, val every 50):
# one factor changed per run against the shipped recipe. Resumable: rerun
# to continue; finished runs return at once. Run alone on the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
C=configs/feather_mask_rcnn
OUT=docs/recipe_ablation
run() { name=$1; cfg=$2; shift 2
  $PY tools/train_curve.py "$cfg" --max-iters 250 --val-interval 50 --no-stop \
      --out $OUT/$name.json "$@"; }
run bn_lr1e-3 $C/mask-rcnn_r50-dws_fpn_dws-mask_scratch-cpu-1xb2-300it_rice-leaf.py
run gn-all_lr1e-3 $C/ablations/mask-rcnn_r50-dws_fpn_dws-mask_gn-all_scratch-cpu-1xb2-300it_rice-leaf.py
run bn_lr2e-3 $C/mask-rcnn_r50-dws_fpn_dws-mask_scratch-cpu-1xb2-300it_rice-leaf.py \
    --cfg-options optim_wrapper.optimizer.lr=0.002
run bn_lsj_lr1e-3 $C/ablations/mask-rcnn_r50-dws_fpn_dws-mask_scratch-lsj-cpu-1xb2-300it_rice-leaf.py
