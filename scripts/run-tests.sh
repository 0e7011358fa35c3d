#!/usr/bin/env bash
# Set up (first time only) and run the whole test suite, ruff and the import
# contracts. OpenGL tests run on a virtual X server when one can be started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
ruff check deepstruc_gui tests benchmarks scripts installer
lint-imports
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null 2>&1; then
  exec xvfb-run -a -s "-screen 0 1600x1000x24" python -m pytest "$@"
fi
exec python -m pytest "$@"
