"""Teaching › Side by Side on the real window with the shipped model: a training point
picked on the map is drawn next to what the decoder gives at its point, with the
Hungarian-matched error the paper reports (OpenGL: run under
``xvfb-run -a -s "-screen 0 1600x1000x24"``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from window_helpers import action

from deepstruc_gui.model.evaluation import matched_mae
from deepstruc_gui.model.reconstruction import training_structure

MODELS = Path(__file__).resolve().parents[1] / "resources" / "models"


@pytest.fixture
def shipped_window(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from deepstruc_gui.gui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "autosave_path", staticmethod(lambda: tmp_path / "auto.json"))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(models={"mmnp": MODELS / "mmnp"}, settings=settings)
    window.errors = []
    window.show_error = lambda title, message: window.errors.append((title, message))
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitUntil(lambda: window.bundle is not None, timeout=60000)
    yield window
    window.close()
    assert window.worker_thread.thread.wait(30000), "worker thread left running"


def _drawn(structure_view) -> float:
    img = structure_view.canvas.render()[..., :3].astype(int)
    return float((img < 200).any(axis=-1).mean())


@pytest.mark.gl
def test_a_picked_training_point_is_shown_next_to_its_reconstruction(shipped_window, qtbot):
    from deepstruc_gui.model.bundle import ModelBundle
    from deepstruc_gui.model.inference import Predictor

    window = shipped_window
    m = window.bundle.latent_map
    index = next(
        i for i, (t, n) in enumerate(zip(m.types, m.n_atoms, strict=True))
        if t == "decahedral" and 30 <= n <= 80
    )  # fmt: skip
    action(window, "Side by Side").trigger()
    side = window.side_by_side
    assert side.dock.isVisible() and side.view is not None
    window.map_view.training_point_clicked.emit(index)
    view = side.view
    qtbot.waitUntil(
        lambda: view.reconstruction is not None and view.reconstruction.index == index,
        timeout=60000,
    )
    if view.truth_view.canvas is None:
        if os.environ.get("DISPLAY"):
            pytest.fail("a display is set but the 3-D views found no OpenGL context")
        pytest.skip("no display: run under xvfb-run for the OpenGL tests")
    # the truth: the training structure as the library built it, the map's atom count
    truth = training_structure(m.names[index])
    assert view.truth_view.atom_count == len(truth) == int(m.n_atoms[index])
    np.testing.assert_allclose(view.truth_view.positions, truth)
    # the reconstruction: the decoder at the structure's point and bond length
    bond = float(m.names[index].rsplit("_", 1)[1])
    decoded = Predictor(ModelBundle.load(MODELS / "mmnp")).decode(m.mu[index][None], bond)[0]
    assert view.decoded_view.atom_count == len(decoded) > 0
    np.testing.assert_allclose(view.decoded_view.positions, decoded, atol=1e-5)
    # the error written under them is the Hungarian-paired MAE of these two
    mae = matched_mae(decoded, truth)
    assert f"(MAE) {mae:.3f} Å" in view.error.text()
    assert f"{len(truth)} atoms → {len(decoded)} decoded" in view.error.text()
    assert view.error.isVisible()
    # both structures are drawn, at one scale (the larger frames both), turning together
    assert _drawn(view.truth_view) > 0.01 and _drawn(view.decoded_view) > 0.01
    a, b = view.truth_view.view.camera, view.decoded_view.view.camera
    assert a.distance == b.distance
    a.azimuth = 75.0
    assert b.azimuth == pytest.approx(75.0)
    # and their PDFs, each max-normalised
    _, gt = view.truth_curve.getData()
    _, gd = view.decoded_curve.getData()
    assert np.abs(gt).max() == pytest.approx(1.0) and np.abs(gd).max() == pytest.approx(1.0)
    assert window.errors == []


def test_a_map_without_buildable_names_says_why_it_cannot_compare(make_window, qtbot):
    window = make_window()  # the random test model names its points "decahedral_12"
    action(window, "Side by Side").trigger()
    window.map_view.training_point_clicked.emit(12)
    view = window.side_by_side.view
    qtbot.waitUntil(lambda: "cannot compare" in view.message.text(), timeout=20000)
    name = window.bundle.latent_map.names[12]
    assert name in view.message.text() and view.reconstruction is None
    assert window.errors == []  # said in the view, not a dialog
