#!/usr/bin/env bash
# One device call: install the carried wheels, train in the background for MINUTES, then copy the
# run state back through $OUT. Run from the repo root on the device, carrying .whl and the shards:
#   bash training/gpu/run.sh SHARDS RUN_DIR MINUTES [train.py options...]
# The run folder travels back as $OUT/<files>; copy them into RUN_DIR here and rerun to resume.
set -uo pipefail
data=$1; run=$2; minutes=$3; shift 3
if ! python3 -c "import soundfile, soxr" 2>/dev/null; then  # the device image lacks them; a dev machine has them
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site || exit 1
fi
export PYTHONUNBUFFERED=1
python3 training/gpu/train.py "$data" "$run" --minutes "$minutes" "$@" > "${OUT:-/tmp}/train.log" 2>&1
status=$?
nvidia-smi --query-gpu=name,utilization.gpu,memory.used --format=csv > "${OUT:-/tmp}/gpu.csv" 2>/dev/null || true
cp "$run"/state*.safetensors "$run"/log.csv "${OUT:-/tmp}/" 2>/dev/null
tail -5 "${OUT:-/tmp}/train.log"
exit $status
