#!/usr/bin/env bash
# What dist_train.sh and dist_test.sh share: start SCRIPT (a tool of this
# folder) as NPROC processes per node through torchrun
# (python -m torch.distributed.run), with --launcher pytorch.
#
#   bash tools/dist_launch.sh SCRIPT NPROC [SCRIPT arguments]
#
# torchrun runs through tools/misc/dist_run.py: a tool's user error ends the
# job with its one "Error: ..." message and status 2 (torchrun would add its
# traceback and a table of the failed processes).
# Python: $PYTHON if set, else the repository's .venv (made by
# tools/install.sh) when it exists, else python3 on PATH.
# Several nodes: run it on each node with NNODES, NODE_RANK, MASTER_ADDR and
# PORT set (defaults: 1 node, rank 0, 127.0.0.1, 29500). Each collective
# gives up after the config's env_cfg.dist_cfg.timeout seconds (600 in
# configs/_base_/default_runtime.py), so a frozen rank ends the job.
set -euo pipefail
SCRIPT=$1
NPROC=$2
shift 2
TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$TOOLS_DIR")"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then
    PYTHON="$ROOT/.venv/bin/python"
  else
    PYTHON=python3
  fi
fi
# torchrun's default, set here so that it does not print a banner about it
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
exec "$PYTHON" "$TOOLS_DIR/misc/dist_run.py" \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROC" \
    "$TOOLS_DIR/$SCRIPT" "$@" --launcher pytorch
