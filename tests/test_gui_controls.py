"""The real window's controls, clicked as a user would, with a fake worker that records
the typed requests: each control changes what the next request carries. No thread, no
torch in the loop: the model bundle is loaded here and handed over as the worker would."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from deepstruc_gui.gui.requests import (
    Decode,
    LoadModel,
    ModelLoaded,
    Prior,
    PriorReady,
    Solve,
)
from deepstruc_gui.state.events import Event

EXAMPLE = Path(__file__).resolve().parents[1] / "resources" / "examples" / "JQ_S1.gr"
MEAN, SIGMA = np.array([0.2, -0.1]), np.array([0.12, 0.07])


class FakeWorker:
    def __init__(self) -> None:
        self.sent = []
        self.newest: dict[str, int] = {}
        self.delivered = Event()
        self.busy = False

    def submit(self, request):
        request = replace(request, id=len(self.sent) + 1)
        self.sent.append(request)
        self.newest[request.lane] = request.id
        return request

    def cancel(self, lane=None) -> None:
        for k in list(self.newest):
            if lane is None or k == lane:
                self.newest[k] = -1

    def is_current(self, request) -> bool:
        return self.newest.get(request.lane) == request.id

    def last(self, kind):
        return next(r for r in reversed(self.sent) if isinstance(r, kind))


class FakeThread:
    def __init__(self) -> None:
        self.worker = FakeWorker()

    def stop(self, timeout_ms: int = 0) -> bool:
        return True


@pytest.fixture
def window(qtbot, tmp_path, random_bundle, monkeypatch):
    from deepstruc_gui.gui.main_window import MainWindow
    from deepstruc_gui.model.bundle import ModelBundle

    monkeypatch.setattr(MainWindow, "autosave_path", staticmethod(lambda: tmp_path / "a.json"))
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    models = {"random": random_bundle, "other": random_bundle.parent / "other"}
    w = MainWindow(models=models, settings=settings, worker_thread=FakeThread())
    w.errors = []
    w.show_error = lambda title, message: w.errors.append((title, message))
    qtbot.addWidget(w)
    w.show()
    fake = w.worker
    assert fake.sent[-1].path == random_bundle  # the first model is asked for at once
    fake.delivered.emit(fake.sent[-1], ModelLoaded(ModelBundle.load(random_bundle), "cpu"))
    assert w.open_file(EXAMPLE)
    fake.delivered.emit(fake.last(Prior), PriorReady(MEAN, SIGMA, 2.777))
    assert isinstance(fake.sent[-1], Solve)
    yield w
    w.close()


def solve_after(window, action) -> Solve:
    before = window.worker.last(Solve)
    action()
    window.controls.solve.click()
    after = window.worker.last(Solve)
    assert after.id > before.id, "Solve sent nothing"
    return after


def test_sigma_presets_and_free_radius(window) -> None:
    c = window.controls
    assert np.allclose(window.worker.last(Solve).semi_axes, 3 * SIGMA)
    for k in (5, 7, 3):
        s = solve_after(window, c.presets.button(k).click)
        assert np.allclose(s.semi_axes, k * SIGMA)
    s = solve_after(window, lambda: c.radius.setValue(0.42))
    assert np.allclose(s.semi_axes, (0.42, 0.42))
    assert c.presets.checkedId() == 0  # the "radius" button shows it
    # the circle's handle on the map sets the free radius too
    s = solve_after(window, lambda: window.map_view.radius_changed.emit(0.33))
    assert np.allclose(s.semi_axes, (0.33, 0.33)) and c.radius.value() == pytest.approx(0.33)


def test_samples_fit_range_and_refine_boxes(window) -> None:
    c = window.controls
    s = solve_after(window, lambda: c.samples.setValue(1300))
    assert s.n_samples == 1300 and s.batch_size == 250
    s = solve_after(window, lambda: (c.rmin.setValue(3.0), c.rmax.setValue(18.5)))
    assert (s.fit_config.rmin, s.fit_config.rmax) == (3.0, 18.5)
    assert window.pdf_panel.region.getRegion() == pytest.approx((3.0, 18.5))
    # dragging the fit range on the PDF plot does the same
    s = solve_after(window, lambda: window.pdf_panel.region.setRegion((4.0, 22.0)))
    assert (s.fit_config.rmin, s.fit_config.rmax) == (4.0, 22.0)
    assert not s.fit_config.refine_qdamp and not s.fit_config.refine_delta2
    s = solve_after(window, c.refine_qdamp.click)
    assert s.fit_config.refine_qdamp and not s.fit_config.refine_delta2
    s = solve_after(window, c.refine_delta2.click)
    assert s.fit_config.refine_qdamp and s.fit_config.refine_delta2


def test_element_model_switch_back_to_prior_and_whole_map(window) -> None:
    c, fake = window.controls, window.worker
    c.element.setText("au")
    c.element.editingFinished.emit()
    assert window.session.element == "Au" and not window.errors
    c.element.setText("Qq")
    c.element.editingFinished.emit()
    assert window.errors[-1][0] == "Unknown element" and c.element.text() == "Au"
    # the centre moved, then Back to prior searches at the prior's mean again
    window.map_view.center_released.emit(0.9, 0.4)
    assert fake.last(Solve).center == (0.9, 0.4)
    c.back.click()
    assert np.allclose(fake.last(Solve).center, MEAN)
    c.whole_map.click()
    assert fake.last(Solve).whole_map
    # a click on the map decodes that point with the current fit
    window.map_view.empty_clicked.emit(0.5, 0.25)
    d = fake.last(Decode)
    assert d.z == (0.5, 0.25) and d.fit_config == fake.last(Solve).fit_config
    # switching the model asks for the other bundle and forgets the results
    c.model.setCurrentText("other")
    load = fake.sent[-1]
    assert isinstance(load, LoadModel) and load.path.name == "other"
    assert window.session.model_name == "other" and window.session.prior_mean is None
