#!/usr/bin/env bash
# The cost of building pairs at paper scale on a GPU machine: 10K and 100K faces, iResNet-50 with
# random weights (the speed of trained ones), all five taps, bench/scale_bench.py --synthetic.
#
#   bench/gpu.sh [WORK_DIR]          WORK_DIR: where each run's cache goes (default: $TMPDIR or /tmp)
#
# It needs a CUDA build of torch in the Python it runs (PY=/path/to/python to choose one; the
# project's .venv has the CPU build) and LFW in ../shared/data/lfw (LFW=... to change), only for the
# 200 aligned faces that the synthetic crops are made from.
#
# Per run it prints seconds per face of the activation step and of training, cache bytes per face,
# peak RSS, peak anonymous RSS and peak GPU memory. Runs:
#   10K:  CNN MINT with cached maps (--activations cache), CNN MINT computed on the fly (live: the
#         CUDA default), MLP MINT (pooled features): cache vs live is the measurement behind the
#         CUDA default;
#   100K: CNN MINT live, MLP MINT pooled; CNN MINT cached maps only where WORK_DIR has room for
#         them (iResNet-50, all taps: ~754 KB per face in float16, ~75 GB).
# Not run on the project's build machine (it has no GPU): no figure from it is in the README yet.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
LFW=${LFW:-../shared/data/lfw}
WORK=${1:-${TMPDIR:-/tmp}}
EPOCHS=${EPOCHS:-2}
"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'bench/gpu.sh: torch sees no CUDA device (torch ' + torch.__version__ + ')')"
"$PY" -c "import torch; print('torch', torch.__version__, 'on', torch.cuda.get_device_name(0))"
mkdir -p "$WORK"
run() { "$PY" bench/scale_bench.py --synthetic --arch iresnet50 --device cuda --epochs "$EPOCHS" \
          --lfw "$LFW" --work "$WORK" "$@"; }

run --kind cnn --activations cache --sizes 10000
run --kind cnn --activations live --sizes 10000
run --kind mlp --sizes 10000
run --kind cnn --activations live --sizes 100000
run --kind mlp --sizes 100000
free_gb=$(df -Pk "$WORK" | awk 'NR==2 {print int($4 / 1000 / 1000)}')
if [ "$free_gb" -gt 85 ]; then
  run --kind cnn --activations cache --sizes 100000
else
  echo "100K faces with cached maps: skipped (${free_gb} GB free in $WORK; about 80 GB needed)"
fi
