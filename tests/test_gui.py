"""The real window, driven as a user would: load, drag, read the table, export, close."""

from __future__ import annotations

from pathlib import Path

import ase.io
import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from deepstruc_gui.gui.requests import Batch, Decode, Done
from deepstruc_gui.state.session import Session

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"


def _mouse(widget, kind, pos: QPointF, buttons) -> None:
    event = QMouseEvent(
        kind,
        pos,
        widget.mapToGlobal(pos.toPoint()).toPointF(),
        Qt.MouseButton.LeftButton,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def drag(view, start: QPointF, end: QPointF, steps: int = 12, qtbot=None) -> None:
    """Press, move in steps with the button held, release (pyqtgraph needs buttons())."""
    vp = view.viewport()
    left = Qt.MouseButton.LeftButton
    _mouse(vp, QEvent.Type.MouseButtonPress, start, left)
    for k in range(1, steps + 1):
        p = start + (end - start) * (k / steps)
        _mouse(vp, QEvent.Type.MouseMove, p, left)
        if qtbot is not None:
            qtbot.wait(15)
    _mouse(vp, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


def wait_for_solve(qtbot, window, timeout=60000) -> None:
    qtbot.waitUntil(
        lambda: window.solve_complete and bool(window.session.candidates), timeout=timeout
    )


def test_load_drag_select_export_close(make_window, qtbot, tmp_path) -> None:
    window = make_window()
    assert window.central.currentIndex() == 0  # the welcome page first
    assert window.open_file(EXAMPLES / "JQ_S1.gr")
    assert window.central.currentIndex() == 1
    qtbot.waitUntil(lambda: window.session.prior_mean is not None, timeout=20000)
    m = window.map_view
    assert len(m.prior_curves[0].getData()[0]) > 0  # 3σ region drawn
    assert np.allclose(window.session.query.center, window.session.prior_mean)
    wait_for_solve(qtbot, window)

    # drag the centre marker with the mouse
    start_center = np.array(window.session.query.center)
    vb = m.getPlotItem().vb
    scene_start = vb.mapViewToScene(QPointF(*start_center))
    offset = np.array(window.session.region_radius()) * 0.8
    scene_end = vb.mapViewToScene(QPointF(*(start_center + offset)))
    decoded = []
    window.worker.delivered.connect(
        lambda request, result: decoded.append(result) if isinstance(request, Decode) else None
    )
    drag(
        m, m.mapFromScene(scene_start).toPointF(), m.mapFromScene(scene_end).toPointF(), qtbot=qtbot
    )
    qtbot.waitUntil(
        lambda: not np.allclose(window.session.query.center, start_center), timeout=5000
    )
    assert window.session.can_undo
    wait_for_solve(qtbot, window)
    assert decoded, "the point under the marker was decoded while dragging"

    # candidates arrive sorted by Rw
    cands = window.session.candidates
    rws = [c.rw for c in cands]
    assert rws == sorted(rws) and len(cands) == window.session.query.n_samples
    table = window.table
    assert table.model().represented() == len(cands)
    shown = [float(table.model().index(row, 1).data()) for row in range(5)]
    assert shown == sorted(shown)

    # select the third row: the 3-D view and the PDF panel follow
    table.selectRow(2)
    qtbot.waitUntil(lambda: (window.session.selected or 0) > 0)
    chosen = window.session.selected_candidate
    assert window.structure_view.atom_count == chosen.n_atoms
    _, y = window.pdf_panel.calc.getData()
    assert np.allclose(y, chosen.gcalc)
    qtbot.wait(50)  # the view holds the difference curve below the data
    low, high = window.pdf_panel.getPlotItem().vb.viewRange()[1]
    _, diff = window.pdf_panel.diff.getData()
    assert low <= diff.min() and diff.max() <= high

    # export the selected structure; ase reads it back
    from deepstruc_gui.gui.exporting import export_fit, export_structure, export_table

    export_structure(tmp_path / "c.xyz", chosen, window.session.element)
    atoms = ase.io.read(tmp_path / "c.xyz")
    assert len(atoms) == chosen.n_atoms and set(atoms.get_chemical_symbols()) == {"Pt"}
    export_fit(tmp_path / "fit.csv", chosen, window.session.data)
    export_table(tmp_path / "table.csv", window.session.candidates)
    assert len((tmp_path / "table.csv").read_text().splitlines()) == len(cands) + 1

    # undo the move: the centre returns
    window.undo()
    assert np.allclose(window.session.query.center, start_center)
    wait_for_solve(qtbot, window)

    # a screenshot for people (artifacts/ is not committed)
    (ROOT / "artifacts").mkdir(exist_ok=True)
    window.grab().save(str(ROOT / "artifacts" / "window_random_model.png"))
    assert window.errors == []


def test_malformed_file_gives_a_message_and_no_crash(make_window, qtbot, tmp_path) -> None:
    window = make_window()
    bad = tmp_path / "broken.gr"
    bad.write_text("# r G\n1.0 0.5\n1.5 abc\n")
    assert not window.open_file(bad)
    assert window.errors and "broken.gr:3" in window.errors[0][1]
    assert window.session.data is None
    assert window.open_file(EXAMPLES / "Au144PET_100K-00000.gr")  # still usable
    qtbot.waitUntil(lambda: window.session.prior_mean is not None, timeout=20000)


def test_cancel_and_stale_results_never_appear(make_window, qtbot) -> None:
    window = make_window()
    window.open_file(EXAMPLES / "JQ_S1.gr")
    qtbot.waitUntil(lambda: window.session.prior_mean is not None, timeout=20000)
    seen_ids = []
    window.worker.delivered.connect(
        lambda request, result: seen_ids.append(request.id) if isinstance(result, Batch) else None
    )
    # a big search, replaced at once by a small one: only the newest is shown
    window.session.update_query(n_samples=5000)
    window.start_solve()
    first = window.presenter.latest["solve"].id
    window.session.update_query(n_samples=60)
    window.start_solve()
    second = window.presenter.latest["solve"].id
    wait_for_solve(qtbot, window)
    assert len(window.session.candidates) == 60
    qtbot.wait(200)
    assert len(window.session.candidates) == 60  # nothing from the first job arrived later
    assert first != second and set(seen_ids) <= {first, second}
    # cancel mid-job
    window.session.update_query(n_samples=5000)
    window.start_solve()
    qtbot.waitUntil(lambda: window.worker.busy, timeout=5000)
    window.cancel_job()
    qtbot.waitUntil(lambda: not window.worker.busy, timeout=20000)
    assert len(window.session.candidates) < 5000
    assert not window.progress.isVisible()


def test_session_save_and_restore(make_window, qtbot, tmp_path) -> None:
    window = make_window()
    window.open_file(EXAMPLES / "JQ_S1.gr")
    wait_for_solve(qtbot, window)
    # the status bar says which bond length the model read (Pt: the first peak, 2.777 Å)
    assert "bond length read from the PDF 2.777 Å" in window.statusBar().currentMessage()
    # the search was autosaved (on a background thread): a crash would not lose it
    window.wait_for_autosave()
    auto = window.autosave_path()
    assert len(Session.load_file(auto)["candidates"]) == len(window.session.candidates)
    path = tmp_path / "s.dsession.json"
    window.session.save(path)
    other = make_window()
    assert other.open_session(path)
    assert len(other.session.candidates) == len(window.session.candidates)
    assert other.table.model().represented() == len(window.session.candidates)
    assert other.central.currentIndex() == 1


def test_whole_map_search_fills_the_table(make_window, qtbot) -> None:
    window = make_window()
    window.open_file(EXAMPLES / "JQ_S1.gr")
    wait_for_solve(qtbot, window)
    # a region search that fits nothing points the user to the whole map
    from deepstruc_gui.model.candidate import POOR_FIT_RW

    poor = window.session.candidates[0].rw > POOR_FIT_RW
    assert window.controls.whole_map.font().bold() == poor
    assert ("try Search whole map" in window.statusBar().currentMessage()) == poor
    window.controls.whole_map.click()
    wait_for_solve(qtbot, window)
    assert not window.controls.whole_map.font().bold()
    n_map = len(np.unique(np.round(window.bundle.latent_map.mu, 4), axis=0))
    assert len(window.session.candidates) == n_map == window.table.model().represented()
    rws = [c.rw for c in window.session.candidates]
    assert rws == sorted(rws)
    # sort by atom count, largest first, and pick the top row: that candidate is selected
    table = window.table
    best = window.session.selected_candidate  # the best is selected after a search
    table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    row = table.selectionModel().selectedRows()[0].row()  # the selection moved with it
    assert table.model().index(row, 1).data() == f"{best.rw:.4f}"
    atoms = [int(table.model().index(row, 2).data()) for row in range(50)]
    assert atoms == sorted(atoms, reverse=True)
    assert atoms[0] == max(c.n_atoms for c in window.session.candidates)
    table.selectRow(0)
    chosen = window.session.selected_candidate
    assert chosen.n_atoms == atoms[0]
    assert table.model().index(0, 0).data() == str(window.session.selected + 1)  # its rank


def test_about_names_version_device_model_and_citation(make_window) -> None:
    from deepstruc_gui import __version__

    window = make_window()
    text = window.about_text()
    assert __version__ in text and window.device_name in text and "random" in text
    assert "10.1039/d2dd00086e" in text
    # what the shipped model measured (its bundle's metrics) is stated too
    from deepstruc_gui.model.bundle import ModelBundle, resolve_model

    m = ModelBundle.load(resolve_model("mmnp")).metadata["metrics"]
    window.bundle.metadata["metrics"] = m
    text = window.about_text()
    type_right = 100 * m["type_accuracy_best_of_n"]  # the best candidate's, as the table
    assert f"On {m['n_test']} simulated test PDFs: structure type right {type_right:.1f} %" in text
    mae, median = m["mae_best_of_n"][0], m["mae_best_of_n_median"]
    assert f"best-of-100 xyz error {mae:.3f} Å (median {median:.3f} Å)" in text


def test_a_late_result_for_an_old_search_changes_nothing(make_window, qtbot) -> None:
    """A batch of an older search that reaches the GUI thread after a newer search was
    sent (the worker had already queued it) is dropped: table and state stay."""
    window = make_window()
    window.open_file(EXAMPLES / "JQ_S1.gr")
    wait_for_solve(qtbot, window)
    old = window.presenter.latest["solve"]
    stale = list(window.session.candidates[:3])
    window.session.update_query(n_samples=60)
    window.start_solve()
    wait_for_solve(qtbot, window)
    shown = list(window.session.candidates)
    selected, rows = window.session.selected, window.table.model().rowCount()
    dropped = window.worker.dropped
    window.worker.runner.produced.emit(old, Batch(stale, 3, 500))  # as the thread would
    window.worker.runner.produced.emit(old, Done())
    qtbot.wait(100)
    assert window.worker.dropped == dropped + 2
    assert window.session.candidates == shown and len(shown) == 60
    assert window.table.model().rowCount() == rows and window.session.selected == selected
    assert window.solve_complete and window.presenter.latest["solve"].id > old.id


def test_cancel_mid_search_stops_the_worker(make_window, qtbot) -> None:
    """Cancel while batches are arriving: the worker is idle within a bound and no batch
    arrives after it; what was shown stays."""
    import time

    window = make_window()
    window.open_file(EXAMPLES / "JQ_S1.gr")
    wait_for_solve(qtbot, window)
    batches = []
    window.worker.delivered.connect(
        lambda request, result: batches.append(result) if isinstance(result, Batch) else None
    )
    window.session.update_query(n_samples=20000)
    window.start_solve()
    qtbot.waitUntil(lambda: len(batches) >= 2, timeout=30000)  # real batches exist
    assert window.worker.busy and not window.solve_complete
    window.cancel_job()
    start = time.perf_counter()
    qtbot.waitUntil(lambda: not window.worker.busy, timeout=5000)
    assert time.perf_counter() - start < 5.0
    n, shown = len(batches), list(window.session.candidates)
    assert 0 < len(shown) < 20000
    qtbot.wait(300)
    assert len(batches) == n, "a batch arrived after Cancel"
    assert window.session.candidates == shown
    assert not window.progress.isVisible() and not window.solve_complete


def test_the_landscape_is_prepared_while_the_user_picks_a_file(make_window, qtbot) -> None:
    """With a model and no data, the worker decodes and histograms every map and grid
    point of the landscape in the background; it never shows as busy, and loading data
    takes the worker at once."""
    from deepstruc_gui.model.coarse import PairHistogramCache
    from deepstruc_gui.model.landscape import LandscapeSettings, grid_points
    from deepstruc_gui.model.solve import map_box, whole_map_points

    window = make_window()
    predictor = window.worker.runner.predictor
    s = LandscapeSettings()
    map_z = whole_map_points(predictor)
    points = np.vstack([map_z, grid_points(*map_box(map_z, s.margin), s.grid)])
    keys = {row.tobytes() for row in np.asarray(points, np.float32)}

    def prepared() -> int:
        cache = PairHistogramCache._by_predictor.get(predictor)
        return 0 if cache is None else len(keys & set(cache._rows))

    qtbot.waitUntil(lambda: prepared() == len(keys), timeout=120000)
    assert not window.worker.busy
    assert window.open_file(EXAMPLES / "JQ_S1.gr")
    wait_for_solve(qtbot, window)
    assert window.session.candidates
