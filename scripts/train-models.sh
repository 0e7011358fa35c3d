#!/usr/bin/env bash
# Rebuild the shipped models from scratch: libraries → training → bundles → metrics.
# Deterministic up to thread scheduling; takes about 1.5 h on 2 CPU cores.
#   bash scripts/train-models.sh [MMNP_MINUTES] [STACKING_MINUTES]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
DS=.venv/bin/deepstruc-gui
MMNP_MIN="${1:-75}"
STACK_MIN="${2:-20}"
$DS data build --library mmnp -o data
$DS data build --library stacking -o data
$DS train --library data/mmnp.h5 -o runs/mmnp --max-minutes "$MMNP_MIN" \
  --bundle resources/models/mmnp --name mmnp
$DS train --library data/stacking.h5 -o runs/stacking --max-minutes "$STACK_MIN" \
  --init-from runs/mmnp --bundle resources/models/stacking --name stacking
$DS evaluate --model resources/models/mmnp --library data/mmnp.h5 --samples 100 --store
$DS evaluate --model resources/models/stacking --library data/stacking.h5 --samples 100 --store
