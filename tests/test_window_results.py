"""Results that stay, on the real window: what is shown is what is exported and kept,
searches form a history that Undo restores without searching, a session opens as it
was saved, and changed settings refit or mark the table outdated."""

from __future__ import annotations

from pathlib import Path

import ase.io
import numpy as np
from PySide6.QtWidgets import QFileDialog
from window_helpers import action, loaded, same, sent, wait_for_solve

from deepstruc_gui.gui.requests import Prior, Refit, Solve
from deepstruc_gui.state.session import Session

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"
V1_FILE = ROOT / "tests" / "data" / "sessions" / "v1_jq_s1_selected_third.dsession.json"


def test_a_clicked_training_structure_is_what_is_exported_and_kept(
    make_window, qtbot, tmp_path, monkeypatch
) -> None:
    window = loaded(make_window, qtbot)
    best = window.session.selected_candidate
    m = window.bundle.latent_map
    # a training point far from the best candidate, clicked on the map
    index = int(np.argmax(np.linalg.norm(m.mu - best.latent, axis=1)))
    window.map_view.training_point_clicked.emit(index)
    qtbot.waitUntil(lambda: window.session.showing_preview, timeout=20000)
    clicked = window.session.preview
    assert np.allclose(clicked.latent, m.mu[index])
    assert window.structure_view.atom_count == clicked.n_atoms  # it is on screen
    assert np.allclose(window.pdf_panel.calc.getData()[1], clicked.gcalc)

    out = tmp_path / "shown.xyz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    action(window, "Shown Structure").trigger()
    atoms = ase.io.read(out)
    assert len(atoms) == clicked.n_atoms
    np.testing.assert_allclose(atoms.get_positions(), clicked.positions, atol=1e-4)
    assert not np.allclose(clicked.latent, best.latent)  # not table row #1
    assert str(out) in window.statusBar().currentMessage()  # the save is confirmed

    rows = window.table.model().rowCount()
    assert window.results_bar.keep_button.isEnabled()
    action(window, "Keep Shown").trigger()
    assert window.table.model().rowCount() == rows + 1
    kept = window.session.selected_candidate
    assert kept.source == "kept" and np.allclose(kept.latent, clicked.latent)
    assert window.session.shown_candidate is kept
    assert action(window, "Keep Shown").shortcut().toString() == "K"


def test_undo_restores_the_previous_search_without_searching(make_window, qtbot) -> None:
    window = loaded(make_window, qtbot)
    first = list(window.session.candidates)
    first_center = window.session.query.center
    window.table.selectRow(3)
    chosen = window.session.selected
    # a search elsewhere on the map replaces the table
    window.presenter.release(first_center[0] + 2.0, first_center[1] + 2.0)
    qtbot.waitUntil(lambda: window.session.history.index == 1, timeout=60000)
    second = list(window.session.candidates)
    assert not same(second, first)
    worse = second[0].rw > first[0].rw
    assert window.results_bar.worse.isVisibleTo(window) == worse
    requests = sent(window)
    action(window, "Undo Search").trigger()
    assert same(window.session.candidates, first) and window.session.selected == chosen
    assert window.session.query.center == first_center
    assert window.table.model().represented() == len(first)
    xy = window.map_view.sample_points.getData()
    assert np.allclose(np.c_[xy], np.array([c.latent for c in first]))  # its map points
    assert not [r for r in requests if isinstance(r, Solve)], "Undo searched again"
    action(window, "Redo Search").trigger()
    assert same(window.session.candidates, second)
    assert not action(window, "Redo Search").isEnabled()


def test_a_session_opens_as_saved_without_searching(make_window, qtbot, tmp_path) -> None:
    window = loaded(make_window, qtbot)
    window.table.selectRow(4)
    saved = window.files.save_session(tmp_path / "mine")  # the extension is added
    path = tmp_path / "mine.dsession.json"
    assert saved and path.exists() and str(path) in window.statusBar().currentMessage()
    other = make_window()
    requests = sent(other)
    assert other.open_session(path)
    qtbot.wait(500)
    assert not [r for r in requests if isinstance(r, Solve | Prior)], "it searched again"
    s, t = window.session, other.session
    assert [c.rw for c in t.candidates] == [c.rw for c in s.candidates]
    assert t.selected == s.selected and t.query == s.query
    assert other.table.model().represented() == len(s.candidates)
    assert other.table.model().index(0, 1).data() == window.table.model().index(0, 1).data()
    assert other.structure_view.atom_count == s.selected_candidate.n_atoms
    np.testing.assert_allclose(
        t.selected_candidate.positions, s.selected_candidate.positions, atol=1e-4
    )


def test_a_version_1_session_still_opens_with_its_selection(make_window, qtbot) -> None:
    window = make_window()
    requests = sent(window)
    assert window.open_session(V1_FILE)
    qtbot.wait(300)
    assert window.session.selected == 2 and len(window.session.candidates) == 3
    assert window.table.model().represented() == 3
    assert window.session.query.rmax == 8.0
    assert not [r for r in requests if isinstance(r, Solve)]
    assert Session.load_file(V1_FILE)["version"] == 1


def test_fit_range_refits_and_sigma_marks_outdated(make_window, qtbot) -> None:
    window = loaded(make_window, qtbot)
    before = {id(c): c for c in window.session.candidates}
    latents = sorted(map(tuple, np.round([c.latent for c in before.values()], 6)))
    requests = sent(window)
    window.controls.rmax.setValue(15.0)
    qtbot.waitUntil(lambda: window.session.history.current.label == "refit", timeout=30000)
    assert [type(r) for r in requests] == [Refit]  # refitted, not searched again
    refitted = window.session.candidates
    assert sorted(map(tuple, np.round([c.latent for c in refitted], 6))) == latents
    assert all(c.r.max() <= 15.0 for c in refitted)
    # a new σ preset: the table belongs to the old region, with an Update
    window.controls.presets.button(5).click()
    assert window.session.outdated and window.results_bar.update_button.isVisibleTo(window)
    assert "outdated" in window.results_bar.outdated.text()
    assert [type(r) for r in requests] == [Refit]
    window.results_bar.update_button.click()
    assert isinstance(requests[-1], Solve)
    assert np.allclose(requests[-1].semi_axes, 5 * window.session.prior_sigma)
    wait_for_solve(qtbot, window)
    assert not window.session.outdated and not window.results_bar.update_button.isVisibleTo(window)


def test_escape_with_nothing_running_changes_nothing(make_window, qtbot) -> None:
    window = loaded(make_window, qtbot)
    qtbot.waitUntil(lambda: not window.worker.busy, timeout=10000)
    shown, message = list(window.session.candidates), window.statusBar().currentMessage()
    action(window, "Cancel Job").trigger()
    assert same(window.session.candidates, shown) and not window.session.partial
    assert window.statusBar().currentMessage() == message
