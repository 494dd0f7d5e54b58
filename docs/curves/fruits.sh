#!/usr/bin/env bash
# Learning curves on fruits_nuts (issue "models that learn", 4a on the
# dataset of larger objects): Feather (the `make demo` recipe), its dense
# twin and RTMDet-Ins-tiny, each for the same CPU time (HOURS, default 0.2
# CPU-hours), by 3-fold cross-validation over all 18 photos (its 4 val
# photos alone decide nothing; tools/study_data_efficiency.py's folds).
# Iterations = HOURS x 3600 / the clean s/iter of each recipe on fruits,
# measured first, alone, side by side (docs/training_speed/fruits_speed.json;
# delete it to measure again), 8 evaluations per run.
# One run at a time, alone on the machine; rerun to resume. RTMDet-Ins-tiny
# keeps a compact checkpoint in docs/curves/resume/ (commit it while its run
# is unfinished: it resumes on a fresh checkout; a finished run's json is
# enough, the script skips it); a Mask R-CNN R-50 copy is too large to commit, so those
# runs (~12 min each) resume only on the machine that ran them, and on a
# fresh checkout an interrupted one must be redone: RESTART=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
HOURS=${HOURS:-0.2}
SPEED=${SPEED:-docs/training_speed/fruits_speed.json}
OUT=docs/curves/fruits
C=scratch-cpu-1xb2-300it_fruits-nuts
F=configs/feather_mask_rcnn
FEATHER=$F/mask-rcnn_r50-dws_fpn_dws-mask_$C.py
DENSE=$F/mask-rcnn_r50_fpn_$C.py
RTM=configs/rtmdet_ins/rtmdet-ins_tiny_$C.py
if [ ! -f "$SPEED" ]; then
  $PY tools/benchmark_training.py feather=$FEATHER dense=$DENSE rtmdet=$RTM \
      --repeats 3 --pairs feather/dense --out "$SPEED"
fi
# "iterations val_interval" for HOURS of the entry's median s/iter
schedule() {
  $PY -c "import json, statistics as st
runs = json.load(open('$SPEED'))['runs']['$1']
s = st.median(r['median'] for r in runs)
interval = max(5, round($HOURS * 3600 / s / 8 / 5) * 5)
print(8 * interval, interval)"; }
for fold in 0 1 2; do
  for model in feather dense rtmdet; do
    case $model in
      feather) cfg=$FEATHER;; dense) cfg=$DENSE;; rtmdet) cfg=$RTM;;
    esac
    name=${model}_fold$fold
    sched=$(schedule $model)  # fails the script if $SPEED has no entry
    read -r iters interval <<< "$sched"
    extra=()
    [ $model = rtmdet ] && extra=(--portable docs/curves/resume/rtmdet_fruits_fold$fold.pth)
    if [ "${RESTART:-0}" = 1 ] && [ -f "$OUT/$name.json" ] && \
       [ ! -d "work_dirs/curves/$name" ] && [ $model != rtmdet ]; then
      extra=(--restart); fi
    $PY tools/train_curve.py "$cfg" --max-iters "$iters" \
        --val-interval "$interval" --no-stop --folds 3 --fold $fold \
        --seed $fold --out "$OUT/$name.json" "${extra[@]}"
  done
done
# per-fold table, mean over folds at a quarter, half and all of the budget, plot
budgets=$($PY -c "print(*(round($HOURS * f, 3) for f in (0.25, 0.5, 1)))")
$PY tools/curves_report.py "$OUT"/*_fold*.json --out "$OUT/report" \
    --s-per-iter "$SPEED" --speed-entry feather=feather dense=dense rtmdet=rtmdet \
    --budgets $budgets --title "fruits_nuts, 3 folds"
