#!/usr/bin/env bash
# Set up the Python environment for visiondiv: a .venv in the repo (or the active venv/conda env).
# The first run builds mmcv 2.1.0 with its compiled ops (~10 min on 2 cores); pip caches that wheel,
# and a stamp file makes every later run a no-op that takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [[ -n "${VIRTUAL_ENV:-}" || -n "${CONDA_PREFIX:-}" ]]; then
  PY=python
else
  if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
  fi
  PY="$ROOT/.venv/bin/python"
fi
PREFIX=$("$PY" -c 'import sys; print(sys.prefix)')
STAMP="$PREFIX/.visiondiv-installed"
KEY=$(cat requirements/*.txt setup.py tools/setup_env.sh | sha256sum | cut -d' ' -f1)
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$KEY" ]]; then
  exit 0
fi

# Every install resolves against the tested pins (tools/lock_requirements.sh regenerates them).
PIP=("$PY" -m pip install --disable-pip-version-check -c "$ROOT/requirements/constraints.txt")
echo "[setup] installing build prerequisites and torch into $PREFIX"
# setuptools<70: mmcv's setup.py imports pkg_resources; wheel: needed for bdist_wheel.
"${PIP[@]}" -q torch==2.13.0 wheel ninja numpy
# torch declares setuptools>=77, but mmcv's build needs <70; pip only warns about the mismatch.
"${PIP[@]}" -q 'setuptools<70' 2>&1 | grep -v 'requires setuptools' || true

if ! "$PY" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"; from mmcv.ops import box_iou_rotated' 2>/dev/null; then
  echo "[setup] installing mmcv 2.1.0 with compiled ops (first build ~10 min on 2 cores; pip caches the wheel)"
  # On a CUDA machine the same command compiles the CUDA ops too (FORCE_CUDA=1 forces it without a visible GPU).
  MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" "${PIP[@]}" --no-build-isolation mmcv==2.1.0
fi

echo "[setup] installing runtime and test requirements"
"${PIP[@]}" -q -r requirements/runtime.txt -r requirements/tests.txt
# mmengine declares opencv-python, which needs libGL; keep only the headless build.
if "$PY" -m pip show -q opencv-python >/dev/null 2>&1; then
  "$PY" -m pip uninstall -y -q opencv-python
  "${PIP[@]}" -q --force-reinstall --no-deps opencv-python-headless
fi
"${PIP[@]}" -q --no-deps --no-build-isolation -e .
"$PY" -c 'import visiondiv, mmcv.ops, mmdet, mmseg, cv2; print("[setup] ok: visiondiv", visiondiv.__version__)'
echo "$KEY" > "$STAMP"
