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
# the science and model layers, where the device matters; the window and the CLI's
# launcher are tested on the CPU
tests="tests/test_debye.py tests/test_fitting.py tests/test_landscape.py tests/test_search.py
  tests/test_size_extension.py tests/test_pipeline.py tests/test_model.py tests/test_clusters.py
  tests/test_published_accuracy.py tests/test_evaluation.py tests/test_particle_size.py"
# shellcheck disable=SC2086
timeout 270 python3 -m pytest -q -p no:cacheprovider -p no:qt --continue-on-collection-errors \
  -o addopts="" $tests 2>&1 | tee "$out/tests.txt" | tail -40
for bench in benchmarks/bench_pdf_fit.py benchmarks/bench_landscape.py benchmarks/bench_large.py; do
  [ -f "$bench" ] || continue
  echo "== $bench"
  timeout 80 python3 "$bench" 2>&1 | tee "$out/$(basename "$bench" .py).txt" | tail -25
done
