"""Shared fixtures. GUI fixtures close every window and fail on a leaked worker thread."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"


@pytest.fixture(scope="session")
def random_bundle(tmp_path_factory) -> Path:
    from deepstruc_gui.model.fixtures import make_random_bundle

    return make_random_bundle(tmp_path_factory.mktemp("models"), "random", seed=0)


@pytest.fixture
def make_window(qtbot, tmp_path, random_bundle, monkeypatch):
    """Build MainWindows on the random model with private settings; record errors."""
    from PySide6.QtCore import QSettings

    from deepstruc_gui.gui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "autosave_path", staticmethod(lambda: tmp_path / "auto.json"))
    windows = []

    def factory(full_search: bool = False):
        """``full_search``: the window's own search (Rw landscape + region, then the size
        extension, as ``predict``); otherwise the paper's region search without the
        extension, so a search on the random model takes seconds (JQ_S1 is beyond
        its training sizes: the extension alone takes minutes on a shared CPU)."""
        settings = QSettings(
            str(tmp_path / f"settings{len(windows)}.ini"), QSettings.Format.IniFormat
        )
        window = MainWindow(models={"random": random_bundle}, settings=settings)
        if not full_search:
            window.worker.runner.solve_overrides = {"search": "region", "size_extension": False}
        window.errors = []
        window.show_error = lambda title, message: window.errors.append((title, message))
        qtbot.addWidget(window)
        window.resize(1300, 850)
        window.show()
        qtbot.waitUntil(lambda: window.bundle is not None, timeout=20000)
        windows.append(window)
        return window

    yield factory
    for window in windows:
        window.close()
        assert window.worker_thread.thread.wait(30000), "worker thread left running"
        assert window.worker_thread.thread.isFinished()
    import threading

    assert not [t for t in threading.enumerate() if t.name.startswith("deepstruc-autosave")]
