#!/usr/bin/env bash
# Install mmieee and its pinned stack into a virtual environment (default .venv
# in the repository root), safely on a CPU-only machine.
#
#   bash tools/install.sh            # .venv, CPU torch 2.13.0
#   VENV=none bash tools/install.sh  # into the python already on PATH
#   EXTRAS=tests,vis,deploy bash tools/install.sh   # optional tools too
#   TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128" \
#     bash tools/install.sh          # a GPU machine (docs/get_started.md)
#
# torch is installed first and pinned: requirements.txt's open `torch>=2.0` is
# then already satisfied, so pip never pulls the multi-GB CUDA build by itself.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON_BIN="${PYTHON_BIN:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
TORCHVISION_SPEC="${TORCHVISION_SPEC:-torchvision==0.28.0}"
# Optional dependency groups (setup.py extras): tests, vis, deploy.
EXTRAS="${EXTRAS:-tests}"

if [ "$VENV" != "none" ]; then
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON_BIN" -m venv "$VENV"
  fi
  PY="$VENV/bin/python"
else
  PY="$(command -v "$PYTHON_BIN")"
fi
pip_install() { "$PY" -m pip install --disable-pip-version-check -q "$@"; }

# shellcheck disable=SC2086
pip_install $TORCH_SPEC
# mmpretrain imports torchvision; its wheel would drag another torch in, so
# install it without dependencies (mmieee/utils/torchvision_compat.py makes the
# CUDA-built wheel importable next to a CPU torch).
pip_install --no-deps "$TORCHVISION_SPEC"
pip_install -e "$ROOT[$EXTRAS]"
"$PY" - <<'PY'
import torch, mmieee
print(f'mmieee {mmieee.__version__} installed; torch {torch.__version__}, '
      f'CUDA available: {torch.cuda.is_available()}')
PY
