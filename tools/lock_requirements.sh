#!/usr/bin/env bash
# Regenerate requirements/constraints.txt from the environment that passed `make test`.
# To upgrade: edit requirements/*.txt (or `pip install -U <pkg>` in .venv), run `make test`, then
# `make lock`, re-measure the numbers the README states, and commit the new constraints with them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-$(pwd)/.venv/bin/python}
{
  echo '# Exact versions tested with visiondiv; tools/setup_env.sh installs with `pip -c` on this file.'
  echo '# Regenerate with `make lock` (tools/lock_requirements.sh) after an upgrade; see README "Pinned environment".'
  echo '# torch is pinned by tools/setup_env.sh itself (torch==2.13.0): its local tag (+cpu, +cuXXX) differs by'
  echo '# machine. setuptools is left to setup_env.sh too: torch declares setuptools>=77, mmcv builds with <70.'
  "$PY" -m pip freeze --disable-pip-version-check --exclude-editable --all \
    | grep -v -E '^(pip|visiondiv|torch|setuptools)=='
} > requirements/constraints.txt
echo "wrote requirements/constraints.txt ($(grep -c '==' requirements/constraints.txt) pins)"
