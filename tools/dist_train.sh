#!/usr/bin/env bash
# Distributed training through torchrun (python -m torch.distributed.run).
#
#   bash tools/dist_train.sh CONFIG NPROC [train.py options]
#
# NPROC processes per node: one per GPU; on a machine without a GPU, NPROC
# CPU processes talking over gloo (see mmieee/utils/distributed.py).
# Several nodes: run it on each node with NNODES, NODE_RANK, MASTER_ADDR and
# PORT set (defaults: 1 node, rank 0, 127.0.0.1, 29500). PYTHON picks the
# interpreter (default: python).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG NPROC [train.py options]" >&2
  exit 2
fi
CONFIG=$1
NPROC=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

PYTHONPATH="$TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --master_port="$PORT" \
    --nproc_per_node="$NPROC" \
    "$TOOLS_DIR/train.py" "$CONFIG" --launcher pytorch "$@"
