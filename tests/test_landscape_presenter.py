"""The landscape / Refine-here / warnings presenter and the series presenter, driven
with a fake worker and a fake view (no Qt)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from deepstruc_gui.gui.landscape_presenter import LandscapePresenter
from deepstruc_gui.gui.requests import (
    ComputeLandscape,
    Failed,
    LandscapeUpdate,
    Refine,
    Refined,
    RefineStep,
    Solved,
)
from deepstruc_gui.gui.series_presenter import SeriesPresenter
from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.model.diagnostics import Diagnostic
from deepstruc_gui.science.pdf_io import read_pdf
from deepstruc_gui.state.session import Session

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


class FakeJobs:
    def __init__(self) -> None:
        self.sent = []

    def submit(self, request):
        self.sent.append(request)
        return request

    def cancel(self, lane=None) -> None:
        pass

    def is_current(self, request) -> bool:
        return True

    busy = False


class FakeView:
    def __init__(self) -> None:
        self.calls = []

    def __getattr__(self, name):
        return lambda *args, **kw: self.calls.append((name, *args))

    def last(self, name):
        return [c for c in self.calls if c[0] == name][-1]


def candidate(rw: float, z=(0.0, 0.0), source: str = "model") -> Candidate:
    return Candidate(
        latent=np.asarray(z, float),
        positions=np.zeros((3, 3)),
        n_atoms=3,
        rw=rw,
        scale=1.0,
        expansion=1.0,
        biso=0.5,
        qdamp=0.03,
        delta2=0.0,
        nearest_type="fcc",
        r=np.linspace(2, 30, 10),
        gcalc=np.zeros(10),
        source=source,
    )


def make(bundle=None):
    session, jobs, view = Session(), FakeJobs(), FakeView()
    bundle = bundle or SimpleNamespace(metadata={})
    presenter = LandscapePresenter(session, jobs, view, lambda: "config", lambda: bundle)
    return session, jobs, view, presenter


def test_loading_data_shows_its_warnings_and_clears_the_landscape() -> None:
    session, _jobs, view, presenter = make()
    session.landscape = "old"
    session.set_data(read_pdf(EXAMPLES / "JQ_S1.gr"))
    assert session.landscape is None
    assert view.last("show_landscape") == ("show_landscape", None)
    assert view.last("show_refine_path") == ("show_refine_path", None)
    shown = view.last("show_warnings")[1]
    assert all(isinstance(w, Diagnostic) for w in shown)
    # after the search: everything the search rests on, findings included
    finding = SimpleNamespace(code="region-disagrees", message="the data fit best far …")
    presenter.deliver(object(), Solved([*shown, finding], [], "landscape and region"))
    assert view.last("show_warnings")[1][-1] is finding


def test_landscape_snapshots_replace_each_other_and_are_kept_for_the_session() -> None:
    session, _jobs, view, presenter = make()
    session.set_data(read_pdf(EXAMPLES / "JQ_S1.gr"))
    request = presenter.compute()
    assert isinstance(request, ComputeLandscape) and request.fit_config == "config"
    for snap in ("first", "complete"):
        presenter.deliver(request, LandscapeUpdate(snap))
    assert session.landscape == "complete"
    assert view.last("show_landscape") == ("show_landscape", "complete")
    presenter.deliver(request, Failed("ValueError: no overlap"))
    assert view.last("show_error")[1] == "The Rw landscape failed"


def test_refine_here_starts_at_the_selection_adds_and_selects_and_undo_restores() -> None:
    session, _jobs, view, presenter = make()
    session.set_data(read_pdf(EXAMPLES / "JQ_S1.gr"))
    session.set_prior(np.array([0.1, 0.2]), np.array([0.3, 0.3]))
    before = [candidate(0.5, (1.0, 1.0)), candidate(0.6, (2.0, 2.0))]
    session.set_candidates(before)
    session.select(1)
    request = presenter.refine_here()
    assert isinstance(request, Refine) and request.z == (2.0, 2.0)
    presenter.deliver(request, RefineStep(np.array([[2.0, 2.0], [1.9, 2.0]])))
    assert np.allclose(view.last("show_refine_path")[1], [[2.0, 2.0], [1.9, 2.0]])
    path = np.array([[2.0, 2.0], [1.9, 2.0], [1.8, 1.9]])
    best = candidate(0.3, (1.8, 1.9))
    presenter.deliver(request, Refined(path, np.array([0.6, 0.4, 0.3]), best, before[1]))
    assert session.candidates[0] is best and session.selected == 0
    assert len(session.candidates) == 3
    assert np.allclose(view.last("show_refine_path")[1], path)
    assert presenter.can_undo_refine
    presenter.undo_refine()
    assert session.candidates == before and session.selected == 1
    assert view.last("show_refine_path") == ("show_refine_path", None)
    assert not presenter.can_undo_refine


def test_refine_here_from_a_size_extension_candidate_starts_at_the_marker() -> None:
    session, _jobs, _view, presenter = make()
    session.set_data(read_pdf(EXAMPLES / "JQ_S1.gr"))
    session.set_prior(np.array([0.1, 0.2]), np.array([0.3, 0.3]))
    session.set_candidates([candidate(0.2, (np.nan, np.nan), "size-extension")])
    session.select(0)
    assert presenter.refine_here().z == (0.1, 0.2)  # the marker sits on the prior mean


def test_refine_here_without_data_says_so_and_sends_nothing() -> None:
    _session, jobs, view, presenter = make()
    assert presenter.refine_here() is None
    assert not jobs.sent
    assert "load data" in view.last("show_status")[1]


def test_series_presenter_checks_the_folder_and_shows_a_frame(tmp_path) -> None:
    view = FakeView()
    presenter = SeriesPresenter(view, lambda: tmp_path / "model")
    assert not presenter.watch(tmp_path / "missing")
    assert view.last("show_error")[1] == "Cannot watch this folder"
    assert presenter.watch(tmp_path, "*.gr", settle=0.1)
    assert view.last("start_watch")[1:] == (tmp_path, "*.gr", tmp_path / "model")
    c = candidate(0.2)
    presenter.frame_selected(SimpleNamespace(frame=3, file="/x/f_3.gr", candidate=c, error=""))
    _name, record, label = view.last("show_frame")
    assert record.candidate is c and label == "frame 3 (f_3.gr): "
    restored = SimpleNamespace(frame=4, file="/x/f_4.gr", candidate=None, error="")
    presenter.frame_selected(restored)
    assert "not kept" in view.last("show_status")[1]
    assert not SeriesPresenter(view, lambda: None).watch(tmp_path)
