#!/usr/bin/env bash
# Build the one-folder application with PyInstaller, then self-test it.
#   bash installer/build.sh        → dist/deepstruc-gui/deepstruc-gui
# The bundle ships resources/models as it is. Before any model is trained, test the
# build against a stand-in bundle outside it:
#   SELFTEST_ARGS="--model /tmp/random/random" bash installer/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PY=.venv/bin/python
"$PY" -m pip install -q --disable-pip-version-check "pyinstaller>=6.10" "pyinstaller-hooks-contrib"
"$PY" installer/make_icons.py
if [ -z "$(ls -A resources/models 2>/dev/null)" ]; then
  echo "build: warning: resources/models is empty; the bundle will ship no model" >&2
fi
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller \
  installer/deepstruc-gui.spec
built=$(( $(date +%s) - start ))
install -m 644 installer/deepstruc-gui.desktop dist/deepstruc-gui/deepstruc-gui.desktop
echo "build took ${built} s; size $(du -sh dist/deepstruc-gui | cut -f1)"
du -sh dist/deepstruc-gui/_internal/* 2>/dev/null | sort -h | tail -8
QT_QPA_PLATFORM=offscreen dist/deepstruc-gui/deepstruc-gui --self-test ${SELFTEST_ARGS:-}
