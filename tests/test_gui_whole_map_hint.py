"""The window's "search whole map" hint, both ways: the threshold is forced so that the
same region search counts once as poor and once as good."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


def _force_threshold(monkeypatch, value: float) -> None:
    """Every GUI module that decides on POOR_FIT_RW (the window today; a presenter
    after the window is split) sees ``value``."""
    import deepstruc_gui.gui.main_window  # noqa: F401  (loads the deciding modules)

    patched = 0
    for name, module in list(sys.modules.items()):
        if name.startswith("deepstruc_gui.gui") and hasattr(module, "POOR_FIT_RW"):
            monkeypatch.setattr(module, "POOR_FIT_RW", value)
            patched += 1
    assert patched, "no GUI module decides on POOR_FIT_RW any more: update this test"


@pytest.mark.parametrize("poor", [True, False])
def test_a_poor_region_search_points_to_the_whole_map(make_window, qtbot, monkeypatch, poor):
    _force_threshold(monkeypatch, -1.0 if poor else 10.0)
    window = make_window()
    window.open_file(EXAMPLES / "JQ_S1.gr")
    qtbot.waitUntil(
        lambda: window.solve_complete and bool(window.session.candidates), timeout=60000
    )
    assert window.controls.whole_map.font().bold() is poor
    message = window.statusBar().currentMessage()
    assert ("try Search whole map" in message) is poor
    assert "candidates, best Rw" in message


def test_the_controls_highlight_the_whole_map_button_on_request(qtbot) -> None:
    from deepstruc_gui.gui.views.controls import ControlsPanel

    panel = ControlsPanel()
    qtbot.addWidget(panel)
    assert not panel.whole_map.font().bold()
    panel.suggest_whole_map(True)
    assert panel.whole_map.font().bold()
    panel.suggest_whole_map(False)
    assert not panel.whole_map.font().bold()
