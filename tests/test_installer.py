"""Build the standalone application and self-test it (minutes: --run-slow only)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_build_and_self_test_the_bundle() -> None:
    out = subprocess.run(
        ["bash", "installer/build.sh"], cwd=ROOT, capture_output=True, text=True, timeout=3600
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "self-test passed" in out.stdout
    assert (ROOT / "dist" / "deepstruc-gui" / "deepstruc-gui").is_file()


def test_spec_ships_models_examples_and_icons() -> None:
    spec = (ROOT / "installer" / "deepstruc-gui.spec").read_text()
    for folder in ("models", "examples", "icons"):
        assert f'"resources" / "{folder}"' in spec
    assert (ROOT / "resources" / "icons" / "deepstruc-gui.svg").is_file()
    desktop = (ROOT / "installer" / "deepstruc-gui.desktop").read_text()
    assert "Exec=deepstruc-gui" in desktop and "Icon=deepstruc-gui" in desktop
