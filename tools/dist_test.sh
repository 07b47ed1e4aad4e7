#!/usr/bin/env bash
# Distributed evaluation through torchrun.
#
#   bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py options]
#
# NPROC processes per node (GPUs, or gloo CPU processes without a GPU); the
# metrics equal a single-process run's. Python, several nodes, timeouts: see
# tools/dist_launch.sh.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 CONFIG CHECKPOINT NPROC [test.py options]" >&2
  exit 2
fi
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
shift 3
exec bash "$(dirname "${BASH_SOURCE[0]}")/dist_launch.sh" test.py "$NPROC" \
    "$CONFIG" "$CHECKPOINT" "$@"
