#!/usr/bin/env bash
# Create (or update) the project's virtual environment in the order that works.
#
# Idempotent: each step is skipped when what it installs is already there, so a
# second run costs seconds. Usage:
#   bash tools/setup_env.sh            # venv in ./.venv (VENV=... to change)
# Variables:
#   VENV        venv path (default: .venv in the repo root)
#   PYTHON      interpreter used to create the venv (default: python3)
#   TORCH_SPEC  torch requirement (default: the pin in requirements.txt, the CPU wheel; a loose
#               spec pulls a multi-GB CUDA build)
#   FORCE_CUDA  1 builds mmcv's CUDA ops too (needs nvcc and a CUDA torch);
#               default 0 builds the CPU ops only.
#   MAX_JOBS    parallel compile jobs for mmcv (default: number of cores)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
# The torch pin lives in requirements.txt (the one place for pins).
TORCH_SPEC="${TORCH_SPEC:-$(grep -E '^torch==' "$ROOT/requirements.txt")}"
FORCE_CUDA="${FORCE_CUDA:-0}"
MAX_JOBS="${MAX_JOBS:-$(nproc)}"

log() { printf '[setup] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating venv at $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --disable-pip-version-check -q)

has() { "$PY" - "$@" <<'PYEOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
name, want = sys.argv[1], sys.argv[2]
sys.exit(0 if version(name).startswith(want) else 1)
PYEOF
}

# 1. torch, pinned: pip's resolver would otherwise pick a CUDA build.
if has torch "${TORCH_SPEC#torch==}"; then log "torch present"; else
  log "installing $TORCH_SPEC"; "${PIP[@]}" "$TORCH_SPEC"; fi

# 2. Build tools: mmcv's setup.py imports pkg_resources (gone in setuptools>=70).
if "$PY" -c "import pkg_resources, wheel, numpy, ninja" >/dev/null 2>&1; then
  log "build tools present"; else
  log "installing build tools"; "${PIP[@]}" "setuptools<70" wheel numpy ninja; fi

# 3. mmcv 2.1.0 with compiled ops (PyPI has only an sdist; about 11 min on 2 cores,
#    pip caches the built wheel so a reinstall on the same machine is fast).
if "$PY" -c "from mmcv.ops import RoIAlign, nms; import mmcv; assert mmcv.__version__ == '2.1.0'" >/dev/null 2>&1; then
  log "mmcv 2.1.0 with ops present"; else
  log "building mmcv 2.1.0 with ops (FORCE_CUDA=$FORCE_CUDA, MAX_JOBS=$MAX_JOBS); this takes ~11 min on 2 cores"
  MMCV_WITH_OPS=1 FORCE_CUDA="$FORCE_CUDA" MAX_JOBS="$MAX_JOBS" \
    "${PIP[@]}" --no-build-isolation mmcv==2.1.0
fi

# 4. The rest of the stack and this package (editable).
if "$PY" -c "import mmdet, feather_mmdet, pycocotools, mim, pytest, seaborn" >/dev/null 2>&1 \
   && has mmdet 3.3.0; then
  log "mmdet, feather_mmdet and test tools present"; else
  log "installing requirements and feather_mmdet"
  # Not requirements.txt: re-resolving torch would upgrade setuptools.
  "${PIP[@]}" -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt"
  "${PIP[@]}" --no-build-isolation --no-deps -e "$ROOT"
fi

# 5. Deployment: ONNX export (mmdeploy 1.3.1, --no-deps: its protobuf pin
#    conflicts with current onnx) and the torch-free runtimes.
if "$PY" -c "import onnx, onnxruntime, openvino, nncf, mmdeploy, aenum" >/dev/null 2>&1 \
   && has mmdeploy 1.3.1; then
  log "deploy tools present"; else
  log "installing deploy tools (onnx, onnxruntime, openvino, mmdeploy 1.3.1)"
  "${PIP[@]}" -r "$ROOT/requirements/deploy.txt"
  "${PIP[@]}" --no-deps -r "$ROOT/requirements/deploy-nodeps.txt"
fi

"$PY" -c "import pkg_resources" 2>/dev/null || {
  echo "[setup] pkg_resources is missing (setuptools>=70 got installed); mmengine 0.10 needs it: run \"$PY -m pip install 'setuptools<70'\"" >&2
  exit 1; }
"$PY" -c "import torch, mmcv, mmdet, mmengine; print('[setup] ready: torch', torch.__version__, '| mmcv', mmcv.__version__, '| mmengine', mmengine.__version__, '| mmdet', mmdet.__version__)"
