#!/usr/bin/env bash
# NNCF int8 against fp32 in OpenVINO, with oneDNN's kernels capped at AVX2
# (ONEDNN_MAX_CPU_ISA: the int8 path of a CPU without AVX-512/VNNI) and
# uncapped ("native": the CPU's own ISA, VNNI where it has it), alternating,
# 3 invocations x 3 repetitions each; then the pooled int8/fp32 ratios. On a
# CPU without AVX-512 both passes run the same AVX2 kernels (6 invocations of
# the real thing). Run alone on the machine.
#   bash docs/benchmark/int8_isa.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
OUT=${1:-work_dirs/benchmark_int8_isa}
B="--names tiny feather --reference feather --runtimes openvino openvino-int8
   --sizes 640x640 --threads 2 --runs 5 --repeat 3"
# One invocation into OUT/NAME, with the env assignments given; the files the
# first one exported are reused by the others.
bench() { dir=$OUT/$1; shift
  if [ -d "$OUT/avx2cap1/onnx" ] && [ ! -d "$dir/onnx" ]; then
    mkdir -p "$dir" && cp -r "$OUT/avx2cap1/onnx" "$dir/"
  fi
  env "$@" $PY tools/benchmark.py $B --out-dir "$dir"; }
for k in 1 2 3; do
  bench avx2cap$k ONEDNN_MAX_CPU_ISA=AVX2
  bench native$k
done
$PY - "$OUT" <<'PY'
import json, statistics, sys
out = sys.argv[1]
for tag in ('avx2cap', 'native'):
    for cfg in ('feather', 'tiny'):
        ratios = []
        for k in (1, 2, 3):
            for rep in json.load(open(f'{out}/{tag}{k}/results.json'))['repeats']:
                lat = rep[cfg]['sizes']['640x640']['latency']
                ratios.append(lat['openvino-int8']['total'] / lat['openvino']['total'])
        print(f'{tag} {cfg}: int8/fp32 {statistics.median(ratios):.2f} '
              f'({min(ratios):.2f}-{max(ratios):.2f}, n={len(ratios)})')
PY
