#!/usr/bin/env bash
# The paper's "better accuracy with less data" claim on rice at the tiny
# line's size (issue "models that learn", 4b): the tiny Feather rice recipe
# and its dense twin (mask-rcnn_r18_fpn-c128_..., the same model
# with dense convs; the four types are the only difference) on 25% and 100%
# of rice's 97 training images, three seeds each (subset and init; SEEDS
# picks them, default "0 1 2"; FRACTIONS the fractions, default "0.25 1"), one
# schedule for all: 2000 iterations, the recipe's cosine stretched to it,
# evaluated every 250 (no plateau stop: every run ends at the same lr = 0).
# Feather ~0.75 s/iter (25 min), dense twin ~1.5 (50 min; ~2.2 s/iter, 75 min,
# on the slower AVX2 machines). The subsets are
# tools/study_data_efficiency.py's nested ones. The R-50 pair
# (less_data.sh) needs ~1.5-2 CPU-hours per run and cannot resume on another
# machine; each run of this pair fits in one session.
# One run at a time, alone on the machine. Rerun to resume on the machine
# that ran it; a finished run returns at once. On a fresh checkout a run
# that was interrupted (its curve is there, its checkpoint is not) must be
# redone: RESTART=1 passes --restart to such runs only.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
C=configs/feather_mask_rcnn
FEATHER=$C/mask-rcnn_r18-dws_fpn-dws-c128_rpn-dws_light-box_dws-mask-2x128_scratch-cpu-1xb2-300it_rice-leaf.py
DENSE=$C/mask-rcnn_r18_fpn-c128_light-box_mask-2x128_scratch-cpu-1xb2-300it_rice-leaf.py
OUT=docs/curves/less_data_tiny
run() { name=$1; cfg=$2; shift 2
  restart=()
  if [ "${RESTART:-0}" = 1 ] && [ -f "$OUT/$name.json" ] && \
     [ ! -d "work_dirs/curves/$name" ]; then restart=(--restart); fi
  $PY tools/train_curve.py "$cfg" --max-iters 2000 --val-interval 250 \
      --no-stop --out "$OUT/$name.json" "${restart[@]}" "$@"; }
for seed in ${SEEDS:-0 1 2}; do
  for fraction in ${FRACTIONS:-0.25 1}; do
    pct=$($PY -c "print(round($fraction * 100))")
    for model in feather dense; do
      cfg=$FEATHER; [ $model = dense ] && cfg=$DENSE
      run ${model}_${pct}pct_seed$seed $cfg --train-fraction $fraction \
          --subset-seed $seed --seed $seed
    done
  done
done
