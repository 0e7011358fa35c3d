#!/usr/bin/env bash
# Set up (first time only) and start DeepStruc GUI on the bundled default model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/deepstruc-gui "$@"
