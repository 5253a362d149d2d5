#!/usr/bin/env bash
# Train the composer on a rented GPU machine inside a fixed time, in one call.
#
#   training/gpu_train.sh CORPUS_DIR OUT_DIR MINUTES [cadenza train options...]
#
# CORPUS_DIR holds corpus.json and tokens/{train,val}.{bin,idx.npy} (the token arrays of `cadenza corpus`;
# the MIDI cache is not needed). The run re-plans its step count after 30 steps so that the whole
# schedule ends inside MINUTES. OUT_DIR receives what a small transfer can carry back: the best
# weights in half precision (model.safetensors, model.json: a checkpoint folder `cadenza` loads as is),
# the CSV log and the console log. Wheels in .whl/ (miditok, symusic: not on a bare GPU image) are
# installed first when present. docs/model_card.md records the runs made with it.
set -euo pipefail
corpus=$1 out=$2 minutes=$3
shift 3
mkdir -p "$out"
wheels=${CADENZA_GPU_WHEELS:-.whl}
if [ -d "$wheels" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$wheels"/*.whl
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1 PYTHONPATH=${PYTHONPATH:-$PWD}
run=${CADENZA_GPU_RUN:-/tmp/cadenza-gpu-run}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee "$out/machine.txt" || true
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' | tee -a "$out/machine.txt"
status=0
python3 -m launch.cli train --corpus "$corpus" --out "$run" --no-progress --set "time_budget_min=$minutes" "$@" \
  2>&1 | tee "$out/train.log" || status=$?
cp "$run/log.csv" "$out/log.csv" 2>/dev/null || true
python3 - "$run/best" "$out" <<'EOF'
import json, shutil, sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

best, out = Path(sys.argv[1]), Path(sys.argv[2])
if (best / "model.safetensors").exists():
    state = load_file(str(best / "model.safetensors"))
    save_file({k: v.half().contiguous() for k, v in state.items()}, str(out / "model.safetensors"))
    shutil.copy(best / "model.json", out / "model.json")
    meta = json.loads((best / "model.json").read_text())
    print("best: step", meta["training"]["step"], "val", meta["training"]["best_val_loss"])
EOF
exit $status
