#!/usr/bin/env bash
# Install everything (tools/install.sh) and run the test suite.
# Extra arguments go to pytest, e.g. `bash tools/run_tests.sh -k metric`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The suite also tests the optional tools, so it needs every extra.
EXTRAS="${EXTRAS:-tests,vis,deploy}" bash tools/install.sh
VENV="${VENV:-$ROOT/.venv}"
if [ "$VENV" != "none" ]; then PY="$VENV/bin/python"; else PY="$(command -v python3)"; fi
# Lint first: cheap, and a style slip should not wait for the slow tests.
"$PY" -m flake8 mmieee tools tests configs demo
"$PY" -m isort --check-only --diff mmieee tools tests demo
# Two workers: CI has two cores; the suite uses tiny models and generated data.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec "$PY" -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
