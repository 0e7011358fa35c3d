"""The search presenter without a window or a thread (Mantid Imaging style): a fake worker
records the typed requests, a fake view records what it is told, and results are
delivered by hand. What is asserted is what the next request carries."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from deepstruc_gui.gui.requests import (
    Batch,
    Decode,
    Decoded,
    Done,
    Failed,
    LoadModel,
    ModelLoaded,
    Prior,
    PriorReady,
    Request,
    Solve,
    StageProgress,
)
from deepstruc_gui.gui.search_presenter import WHOLE_MAP_HINT, SearchPresenter, batch_size_for
from deepstruc_gui.model.candidate import POOR_FIT_RW, Candidate
from deepstruc_gui.science.parameters import PDFParameters
from deepstruc_gui.science.pdf_io import read_pdf
from deepstruc_gui.state.session import Session

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "resources" / "examples" / "JQ_S1.gr"
MEAN, SIGMA = np.array([0.3, -0.2]), np.array([0.1, 0.05])


class FakeJobs:
    """The worker's contract: ids, newest per lane, cancel, busy. Runs nothing."""

    def __init__(self) -> None:
        self.sent: list[Request] = []
        self.cancelled: list[str | None] = []
        self.newest: dict[str, int] = {}
        self.busy = False

    def submit(self, request):
        request = replace(request, id=len(self.sent) + 1)
        self.sent.append(request)
        self.newest[request.lane] = request.id
        self.busy = True
        return request

    def cancel(self, lane=None) -> None:
        self.cancelled.append(lane)
        for k in list(self.newest):
            if lane is None or k == lane:
                self.newest[k] = -1

    def is_current(self, request) -> bool:
        return self.newest.get(request.lane) == request.id

    def last(self, kind: type[Request]):
        return next(r for r in reversed(self.sent) if isinstance(r, kind))


class FakeView:
    """Records every call as (name, args)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple]] = []

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name, args))

    def said(self, name: str) -> list[tuple]:
        return [args for n, args in self.calls if n == name]


def fake_bundle(name: str = "fake") -> SimpleNamespace:
    mu = np.array([[0.0, 0.0], [0.5, 0.5], [0.5, 0.5], [1.0, -1.0]])  # 3 distinct points
    latent_map = SimpleNamespace(
        mu=mu,
        names=["a", "b", "b2", "c_Pt_2.77"],
        types=["fcc"] * 4,
        n_atoms=np.array([13, 19, 19, 55]),
        metals=["Pt"] * 4,
    )
    params = PDFParameters(qmax=25.0, qdamp=0.03).to_dict()
    return SimpleNamespace(name=name, latent_map=latent_map, metadata={"pdf_parameters": params})


def candidate(rw: float, z=(0.0, 0.0)) -> Candidate:
    r = np.linspace(2, 30, 50)
    return Candidate(
        latent=np.array(z, float),
        positions=np.zeros((13, 3)),
        n_atoms=13,
        rw=rw,
        scale=1.0,
        expansion=1.0,
        biso=0.3,
        qdamp=0.03,
        delta2=2.0,
        nearest_type="fcc",
        r=r,
        gcalc=np.zeros_like(r),
    )


@pytest.fixture
def rig():
    """A presenter with a loaded model, the Pt example loaded, its prior delivered."""
    session, jobs, view = Session(), FakeJobs(), FakeView()
    models = {"fake": Path("/models/fake.pt"), "other": Path("/models/other.pt")}
    p = SearchPresenter(session, jobs, view, models)
    p.start()
    p.deliver(jobs.last(LoadModel), ModelLoaded(fake_bundle(), "cpu"))
    session.set_data(read_pdf(EXAMPLE))
    p.deliver(jobs.last(Prior), PriorReady(MEAN, SIGMA, 2.777))
    return SimpleNamespace(p=p, session=session, jobs=jobs, view=view, models=models)


def test_the_presenter_imports_no_qt() -> None:
    code = (
        "import sys, deepstruc_gui.gui.search_presenter, deepstruc_gui.gui.requests; "
        "bad = [m for m in ('PySide6', 'pyqtgraph', 'vispy') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_start_loads_a_model_then_the_data_is_placed_and_searched() -> None:
    session, jobs, view = Session(), FakeJobs(), FakeView()
    p = SearchPresenter(session, jobs, view, {"fake": Path("/m/fake.pt")})
    p.start()
    assert jobs.sent[-1].path == Path("/m/fake.pt") and jobs.sent[-1].id == 1
    assert view.said("show_device")[-1] == ("loading model fake…",)
    data = read_pdf(EXAMPLE)
    session.set_data(data)
    assert len(jobs.sent) == 1  # no model yet: nothing to ask
    p.deliver(jobs.sent[0], ModelLoaded(fake_bundle(), "cpu"))
    assert view.said("show_device")[-1] == ("fake · cpu",)
    prior = jobs.sent[-1]
    assert isinstance(prior, Prior) and prior.data is data
    p.deliver(prior, PriorReady(MEAN, SIGMA, 2.777))
    solve = jobs.sent[-1]
    assert isinstance(solve, Solve) and not solve.whole_map
    assert np.allclose(solve.center, MEAN) and np.allclose(solve.semi_axes, 3 * SIGMA)
    assert solve.n_samples == 500 and solve.batch_size == batch_size_for(500) == 125
    assert (solve.fit_config.rmin, solve.fit_config.rmax) == (2.0, 30.0)
    # the data file's header (xPDFsuite: qmax 21.998, qmin 1.0) overrides the model's
    assert solve.fit_config.params.qmax == pytest.approx(21.998245281)
    assert solve.fit_config.params.qdamp == 0.03  # the model's, not in the header
    assert view.said("start_progress")[-1] == (500,)


def test_no_model_installed_says_so() -> None:
    view = FakeView()
    SearchPresenter(Session(), FakeJobs(), view, {}).start()
    assert view.said("show_device") == [("no model installed",)]


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"sigma_multiple": 5.0}, lambda s: np.allclose(s.semi_axes, 5 * SIGMA)),
        ({"sigma_multiple": 7.0}, lambda s: np.allclose(s.semi_axes, 7 * SIGMA)),
        (
            {"free_radius": 0.7, "sigma_multiple": None},
            lambda s: np.allclose(s.semi_axes, (0.7, 0.7)),
        ),
        ({"n_samples": 1234}, lambda s: s.n_samples == 1234 and s.batch_size == 250),
        ({"n_samples": 60}, lambda s: s.n_samples == 60 and s.batch_size == 50),
        (
            {"rmin": 3.5, "rmax": 20.0},
            lambda s: (s.fit_config.rmin, s.fit_config.rmax) == (3.5, 20),
        ),
        ({"refine_qdamp": True}, lambda s: s.fit_config.refine_qdamp),
        ({"refine_delta2": True}, lambda s: s.fit_config.refine_delta2),
        ({"center": (1.0, 2.0)}, lambda s: s.center == (1.0, 2.0)),
    ],
)
def test_each_setting_changes_what_the_next_search_carries(rig, changes, check) -> None:
    before = rig.jobs.last(Solve)
    assert not check(before)
    rig.p.edit_query(changes)
    rig.p.start_solve()
    after = rig.jobs.last(Solve)
    assert after.id > before.id and check(after)
    # a live decode carries the same fit
    rig.p.decode_point((0.1, 0.2), "point ")
    assert rig.jobs.last(Decode).fit_config == after.fit_config


def test_whole_map_and_back_to_prior(rig) -> None:
    rig.p.search_whole_map()
    s = rig.jobs.last(Solve)
    assert s.whole_map and s.batch_size == batch_size_for(3)
    assert rig.view.said("start_progress")[-1] == (3,)  # distinct map points
    rig.p.release(1.0, -1.0)
    assert rig.jobs.last(Solve).center == (1.0, -1.0) and not rig.jobs.last(Solve).whole_map
    region = rig.jobs.last(Solve)
    finish(rig, region, [candidate(0.3, (1.0, -1.0)), candidate(0.4, (1.1, -1.0))])
    rig.p.back_to_prior()
    at_prior = rig.jobs.last(Solve)
    assert np.allclose(at_prior.center, MEAN)
    finish(rig, at_prior, [candidate(0.6, MEAN)])
    # the prior's search is worse than the one it replaced: said, with Undo
    assert rig.view.said("warn_worse")[-1] == (0.3, 0.6)
    assert "worse than the region search it replaced" in rig.view.said("show_status")[-1][0]
    n = len(rig.jobs.sent)
    rig.p.undo()  # restores the previous search: its table and centre, no new search
    assert len(rig.jobs.sent) == n
    assert rig.session.query.center == (1.0, -1.0)
    assert [c.rw for c in rig.session.candidates] == [0.3, 0.4]
    rig.p.redo()
    assert len(rig.jobs.sent) == n and np.allclose(rig.session.query.center, MEAN)
    assert [c.rw for c in rig.session.candidates] == [0.6]


def finish(rig, request, ranked) -> None:
    """Deliver a search's only batch and its end."""
    rig.p.deliver(request, Batch(ranked, len(ranked), len(ranked)))
    rig.p.deliver(request, Done())


def test_undo_restores_the_selection_made_in_that_search(rig) -> None:
    finish(rig, rig.jobs.last(Solve), [candidate(0.2), candidate(0.25), candidate(0.3)])
    rig.session.select(2)
    rig.p.release(0.5, 0.5)
    finish(rig, rig.jobs.last(Solve), [candidate(0.1)])
    assert not rig.view.said("warn_worse")  # better: nothing to warn about
    rig.p.undo()
    assert rig.session.selected == 2 and len(rig.session.candidates) == 3


def test_a_late_live_preview_does_not_replace_the_selection(rig) -> None:
    finish(rig, rig.jobs.last(Solve), [candidate(0.2)])
    rig.p.drag_moved(0.31, -0.2)
    rig.p.preview(0.31, -0.2)
    live = rig.jobs.last(Decode)
    rig.p.release(0.31, -0.2)
    rig.p.deliver(live, Decoded(candidate(0.9, (0.31, -0.2))))  # arrives after release
    assert not rig.session.showing_preview
    assert rig.session.shown_candidate is rig.session.selected_candidate


def test_a_clicked_point_is_what_is_shown_and_can_be_kept(rig) -> None:
    finish(rig, rig.jobs.last(Solve), [candidate(0.2), candidate(0.5)])
    rig.p.decode_training_point(3)
    clicked = candidate(0.35, (1.0, -1.0))
    rig.p.deliver(rig.jobs.last(Decode), Decoded(clicked))
    assert rig.session.shown_candidate is clicked
    rig.p.keep_shown()
    s = rig.session
    assert [c.rw for c in s.candidates] == [0.2, 0.35, 0.5] and s.selected == 1
    assert s.candidates[1].source == "kept" and s.shown_candidate is s.candidates[1]
    assert s.history.current.candidates == tuple(s.candidates)  # Undo keeps it too


def test_fit_range_refits_the_table_region_change_marks_it_outdated(rig) -> None:
    from deepstruc_gui.gui.requests import Refit

    finish(rig, rig.jobs.last(Solve), [candidate(0.2), candidate(0.5)])
    rig.jobs.busy = False
    rig.p.edit_query({"rmax": 20.0})
    refit = rig.jobs.sent[-1]
    assert isinstance(refit, Refit) and refit.fit_config.rmax == 20.0
    assert len(refit.candidates) == 2
    finish(rig, refit, [candidate(0.15), candidate(0.45)])
    assert rig.session.history.current.label == "refit" and not rig.session.outdated
    n = len(rig.jobs.sent)
    rig.p.edit_query({"sigma_multiple": 5.0})
    assert len(rig.jobs.sent) == n and rig.session.outdated  # marked, not searched
    rig.p.update()
    assert rig.jobs.last(Solve).semi_axes == tuple(5.0 * SIGMA)


def test_escape_with_nothing_running_changes_nothing(rig) -> None:
    finish(rig, rig.jobs.last(Solve), [candidate(0.2)])
    rig.jobs.busy = False
    before = (list(rig.session.candidates), len(rig.jobs.cancelled), len(rig.view.calls))
    rig.p.cancel()
    assert (list(rig.session.candidates), len(rig.jobs.cancelled), len(rig.view.calls)) == before


def test_a_cancelled_search_is_recorded_partial(rig) -> None:
    solve = rig.jobs.last(Solve)
    rig.p.deliver(solve, Batch([candidate(0.2)], 1, 500))
    rig.p.cancel()
    assert rig.session.partial and rig.session.history.current.partial
    assert "partial" in rig.session.history.current.describe()


def test_model_switch_loads_the_other_model_and_clears_results(rig) -> None:
    rig.p.deliver(rig.jobs.last(Solve), Batch([candidate(0.2)], 1, 500))
    assert rig.session.candidates
    rig.p.choose_model("other")
    assert rig.jobs.sent[-1].path == rig.models["other"]
    assert rig.session.model_name == "other" and not rig.session.candidates
    n = len(rig.jobs.sent)
    rig.p.choose_model("fake")  # the loaded one: nothing to do
    rig.p.choose_model("not installed")
    assert len(rig.jobs.sent) == n + 1 and rig.jobs.sent[-1].path == rig.models["fake"]


def test_element_is_checked_and_does_not_change_the_search(rig) -> None:
    rig.p.set_element(" au ")
    assert rig.session.element == "Au"
    rig.p.set_element("Xx")
    assert rig.session.element == "Au"
    assert rig.view.said("show_error")[-1][0] == "Unknown element"
    assert rig.view.said("show_element")[-1] == ("Au",)
    before = rig.jobs.last(Solve)
    rig.p.start_solve()
    after = rig.jobs.last(Solve)
    # the Debye fit of a one-element cluster does not depend on which element it is
    assert after.fit_config == before.fit_config and after.semi_axes == before.semi_axes


def test_batches_fill_the_session_and_done_decides_the_hint(rig) -> None:
    solve = rig.jobs.last(Solve)
    rig.p.deliver(solve, Batch([candidate(0.6), candidate(0.7)], 2, 500))
    assert [c.rw for c in rig.session.candidates] == [0.6, 0.7]
    assert rig.view.said("show_progress")[-1] == (2, 500)
    status = rig.view.said("show_status")[-1][0]
    assert status.startswith("decoding and fitting 2/500 candidates, ~")  # stage, count
    assert "s left, best Rw 0.6000" in status  # and an estimate
    assert not rig.p.solve_complete and rig.p.searching
    rig.p.deliver(solve, Done())
    assert rig.p.solve_complete and not rig.p.searching
    assert POOR_FIT_RW < 0.6 and rig.view.said("suggest_whole_map")[-1] == (True,)
    message = rig.view.said("show_status")[-1][0]
    assert "bond length read from the PDF 2.777 Å" in message and message.endswith(WHOLE_MAP_HINT)
    assert len(rig.view.said("search_finished")) == 1  # → autosave
    # the same fit after a whole-map search: no hint (there is nowhere else to look)
    rig.p.search_whole_map()
    whole = rig.jobs.last(Solve)
    rig.p.deliver(whole, Batch([candidate(0.6)], 1, 3))
    rig.p.deliver(whole, Done())
    assert rig.view.said("suggest_whole_map")[-1] == (False,)
    assert WHOLE_MAP_HINT not in rig.view.said("show_status")[-1][0]
    # a good fit in the region: no hint
    rig.p.start_solve()
    good = rig.jobs.last(Solve)
    rig.p.deliver(good, Batch([candidate(0.2)], 1, 500))
    rig.p.deliver(good, Done())
    assert rig.view.said("suggest_whole_map")[-1] == (False,)


def test_the_size_extension_shows_its_own_stage_not_a_full_bar(rig) -> None:
    """After the model's search the size extension runs: the bar and the status follow
    its stages instead of standing at 100 %."""
    solve = rig.jobs.last(Solve)
    rig.p.deliver(solve, Batch([candidate(0.3)], 500, 500))  # the model's search is done
    rig.p.deliver(solve, StageProgress("size extension: fitting 40 built clusters", 0.25))
    assert rig.view.said("show_progress")[-1] == (250, 1000)
    status = rig.view.said("show_status")[-1][0]
    assert status.startswith("size extension: fitting 40 built clusters: 25%")
    assert "best Rw 0.3000" in status
    stage = "size extension: zooming in on the best sizes (±45%, 12 clusters)"
    rig.p.deliver(solve, Batch([candidate(0.1), candidate(0.3)], 600, 1000, stage))
    assert [c.rw for c in rig.session.candidates] == [0.1, 0.3]
    assert rig.view.said("show_progress")[-1] == (600, 1000)
    assert rig.view.said("show_status")[-1][0].startswith(f"{stage}: 60%, best Rw 0.1000")
    assert rig.p.searching
    rig.p.deliver(solve, Done())
    assert not rig.p.searching


def test_cancel_stops_the_search_and_forgets_it(rig) -> None:
    rig.p.deliver(rig.jobs.last(Solve), Batch([candidate(0.3)], 1, 500))
    rig.p.cancel()
    assert rig.jobs.cancelled[-1] == "solve"
    assert not rig.p.searching and not rig.p.solve_complete
    assert rig.view.said("show_status")[-1] == ("cancelled: the table is partial", 5000)
    assert rig.view.said("hide_progress")


def test_dragging_cancels_the_search_and_decodes_one_point_at_a_time(rig) -> None:
    n_cancel = len(rig.jobs.cancelled)
    rig.p.drag_moved(0.31, -0.2)
    rig.p.drag_moved(0.32, -0.2)
    assert rig.jobs.cancelled[n_cancel:] == ["solve"]  # once, not at every move
    rig.p.preview(0.31, -0.2)
    first = rig.jobs.sent[-1]
    assert isinstance(first, Decode) and first.z == (0.31, -0.2) and first.label == "live "
    rig.p.preview(0.32, -0.2)  # first still running: these collapse into one follow-up
    rig.p.preview(0.33, -0.2)
    assert rig.jobs.sent[-1] is first
    c = candidate(0.4, first.z)
    rig.p.deliver(first, Decoded(c))
    assert rig.session.preview is c and rig.p.preview_label == "live "
    rig.p.deliver(first, Done())
    follow = rig.jobs.sent[-1]
    assert isinstance(follow, Decode) and follow.z == (0.33, -0.2)  # the newest move only
    rig.p.deliver(follow, Done())
    assert rig.jobs.sent[-1] is follow  # nothing more was asked for
    rig.p.release(0.33, -0.2)
    solve = rig.jobs.last(Solve)
    assert solve.center == (0.33, -0.2) and rig.session.can_undo


def test_a_click_on_a_training_point_decodes_it_with_its_name(rig) -> None:
    rig.p.decode_training_point(3)
    d = rig.jobs.sent[-1]
    assert (
        isinstance(d, Decode)
        and d.z == (1.0, -1.0)
        and d.label == "fcc · 55 Pt atoms · bond 2.77 Å: "
    )


def test_failures_say_what_failed(rig) -> None:
    rig.p.decode_point((0.0, 0.0), "point ")
    rig.p.deliver(rig.jobs.sent[-1], Failed("RuntimeError: decode"))
    assert not rig.view.said("show_error")  # a failed preview is not worth a dialog
    rig.p.deliver(rig.jobs.last(Solve), Failed("RuntimeError: out of memory"))
    assert rig.view.said("show_error")[-1] == (
        "The solve job failed",
        "RuntimeError: out of memory",
    )
    rig.p.load_model("other")
    rig.p.deliver(rig.jobs.sent[-1], Failed("OSError: no such file"))
    assert rig.view.said("show_device")[-1] == ("model failed to load",)
    assert rig.view.said("show_error")[-1][0] == "Cannot load the model"
