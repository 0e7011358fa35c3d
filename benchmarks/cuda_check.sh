#!/usr/bin/env bash
# One check on a machine with a CUDA GPU (never in CI): the engine, fitter, search and
# model tests with torch's default device on the GPU, then the benchmarks' figures.
#   bash benchmarks/cuda_check.sh [LOG_DIR]
# Needs torch with CUDA, torch_geometric, h5py, scipy and the project's pure-Python
# dependencies (ase, periodictable, tqdm, watchdog) importable; Qt is not needed.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-cuda-check}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 - <<'EOF' 2>&1 | tee "$out/device.txt"
import torch
from deepstruc_gui.science.debye import default_device
assert torch.cuda.is_available(), "no CUDA device"
print("torch", torch.__version__, "on", torch.cuda.get_device_name(), "default", default_device())
EOF
# GUI and subprocess-heavy tests are left out: they test the window and the launcher
tests=$(ls tests/test_*.py | grep -v -E 'gui|window|view|banner|series_panel|landscape_layer|installer|selftest|distributed')
python3 -m pytest -q -p no:cacheprovider -p no:qt $tests 2>&1 | tee "$out/tests.txt" | tail -40
for bench in benchmarks/bench_pdf_fit.py benchmarks/bench_landscape.py benchmarks/bench_large.py; do
  [ -f "$bench" ] || continue
  echo "== $bench"
  timeout 240 python3 "$bench" 2>&1 | tee "$out/$(basename "$bench" .py).txt" | tail -25
done
