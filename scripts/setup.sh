#!/usr/bin/env bash
# Set up everything DeepStruc GUI needs on a fresh Debian machine: system packages
# for the Qt/OpenGL tests (when run as root), a local virtual environment with a
# CPU build of torch, and the package itself in editable mode. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${DEEPSTRUC_VENV:-.venv}"
PY="${PYTHON:-python3}"

SYSTEM_PACKAGES=(xvfb xauth libgl1 libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
  libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0
  libxcb-xfixes0 libxcb-xkb1 libx11-xcb1 libgl1-mesa-dri)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing system packages: ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: warning: missing system packages (install them for the OpenGL view): ${missing[*]}" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating virtual environment in $VENV"
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
FIND_LINKS=()
[ -d /opt/wheels ] && FIND_LINKS=(--find-links /opt/wheels)

stamp="$VENV/.deepstruc-setup"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # A CPU wheel of torch first: a bare requirement would pull a multi-GB CUDA build.
  if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
    echo "setup: installing torch (CPU build)"
    "${PIP[@]}" install "${FIND_LINKS[@]}" "torch==2.13.0" \
      || "${PIP[@]}" install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
  fi
  echo "setup: installing deepstruc-gui and its dependencies"
  "${PIP[@]}" install "${FIND_LINKS[@]}" -e ".[dev]"
  echo "$want" > "$stamp"
fi
