#!/usr/bin/env bash
# Distributed training through torchrun.
#
#   bash tools/dist_train.sh CONFIG NPROC [train.py options]
#
# NPROC processes per node: one per GPU; on a machine without a GPU, NPROC
# CPU processes talking over gloo (see mmieee/utils/distributed.py).
# Python, several nodes, timeouts: see tools/dist_launch.sh.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG NPROC [train.py options]" >&2
  exit 2
fi
CONFIG=$1
NPROC=$2
shift 2
exec bash "$(dirname "${BASH_SOURCE[0]}")/dist_launch.sh" train.py "$NPROC" \
    "$CONFIG" "$@"
