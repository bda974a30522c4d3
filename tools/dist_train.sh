#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NPROC [train.py args]   (NPROC processes per node: one per GPU, or CPU processes)
# Several nodes: run it on each with NNODES, NODE_RANK (0..NNODES-1), MASTER_ADDR (node 0's address) and PORT.
# The interpreter is $PYTHON, else the repository's .venv, else `python` (torchrun need not be on PATH).
# Without CUDA the processes use the gloo backend on the CPU (visiondiv.utils.cli.setup_distributed).
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -z "$PYTHON" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python; fi
fi

PYTHONPATH="$ROOT":$PYTHONPATH \
"$PYTHON" -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "${@:3}"
