#!/usr/bin/env bash
# int8 variants of a trained model against its fp32 export, on rice val:
# bbox/segm AP of each (feather_runtime, the runtime it is meant for) and
# its file size. Writes OUT_DIR/<variant>.json.
#   bash docs/benchmark/int8_rice.sh [CONFIG CHECKPOINT OUT_DIR]
# Default: the tiny Feather long run's committed checkpoint copy
# (docs/curves.md) into docs/benchmark/int8_rice_tiny. The Feather GN-all
# results in docs/benchmark/int8_rice/ came from that run's iteration-1000
# checkpoint, which is gone with the machine that trained it.
# VARIANTS=nncf: only the fp32 file and OpenVINO NNCF's (the fastest int8).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
CFG=${1:-configs/feather_mask_rcnn/mask-rcnn_r18-dws_fpn-dws-c128_rpn-dws_light-box_dws-mask-2x128_scratch-cpu-1xb2-300it_rice-leaf.py}
CKPT=${2:-docs/curves/resume/tiny_rice.pth}
OUT=${3:-docs/benchmark/int8_rice_tiny}
if [ ! -f "$CKPT" ]; then
  echo "error: checkpoint $CKPT not found; train the model first (bash docs/curves/run.sh) or pass CONFIG CHECKPOINT OUT_DIR" >&2
  exit 2
fi
TMP=work_dirs/int8_rice/$(basename "$OUT")
mkdir -p "$OUT" "$TMP"
RICE=data/rice_leaf_disease
CALIB=$(ls $RICE/images/*.jpg | head -8)
export_variant() { name=$1; shift
  $PY tools/export_onnx.py "$CFG" --checkpoint "$CKPT" --out $TMP/fp32.onnx \
      --calib-images $CALIB "$@" > $TMP/$name.log 2>&1; }
evaluate() { name=$1 model=$2 backend=$3
  $PY tools/eval_onnx.py "$model" --ann-file $RICE/annotations/val.json \
      --img-dir $RICE/images --backend "$backend" --threads 2 \
      --out "$OUT/$name.json" > /dev/null; }
[ -f $TMP/fp32.onnx ] || $PY tools/export_onnx.py "$CFG" --checkpoint "$CKPT" --out $TMP/fp32.onnx
evaluate fp32 $TMP/fp32.onnx onnxruntime
evaluate fp32-openvino $TMP/fp32.onnx openvino
if [ "${VARIANTS:-all}" != nncf ]; then
  export_variant qdq-u8s8 --int8 $TMP/qdq-u8s8.onnx --int8-format qdq
  export_variant qdq-s8s8 --int8 $TMP/qdq-s8s8.onnx --int8-types s8s8 --int8-format qdq
  export_variant qdq-u8s8-rr --int8 $TMP/qdq-u8s8-rr.onnx --reduce-range --int8-format qdq
  export_variant qoperator-u8s8 --int8 $TMP/qoperator-u8s8.onnx --int8-format qoperator
  for v in qdq-u8s8 qdq-s8s8 qdq-u8s8-rr qoperator-u8s8; do
    evaluate $v $TMP/$v.onnx onnxruntime
  done
fi
export_variant openvino-nncf --int8-openvino $TMP/openvino-nncf.xml
evaluate openvino-nncf $TMP/openvino-nncf.xml openvino
# The same IR with oneDNN capped at AVX2 (int8 without VNNI, where u8 x s8
# products can saturate); on a CPU without AVX-512 this equals the line above.
ONEDNN_MAX_CPU_ISA=AVX2 evaluate openvino-nncf-avx2 $TMP/openvino-nncf.xml openvino
echo "checkpoint: $CKPT" > $OUT/checkpoint.txt
$PY -c "import sys, torch; print('iteration:', torch.load(sys.argv[1], map_location='cpu', weights_only=False)['meta']['iter'])" \
    "$CKPT" >> $OUT/checkpoint.txt
for f in $OUT/*.json; do
  $PY -c "import json,sys; m=json.load(open(sys.argv[1])); print(sys.argv[1], 'bbox', m.get('bbox_mAP'), 'segm', m.get('segm_mAP'))" "$f"
done
