"""The window explains itself and fits the screen: keys for every colour, readable
names, tooltips, the guide and shortcut list, an equal-aspect map that stays the
largest view at 1280×800 and 1024×700, docks back from the View menu, arrow keys."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget
from window_helpers import loaded, sent

from deepstruc_gui.gui.help import shortcut_rows
from deepstruc_gui.gui.requests import Solve
from deepstruc_gui.gui.views.candidates_table import COLUMNS


def test_keys_names_and_tooltips(make_window, qtbot) -> None:
    window = loaded(make_window, qtbot)
    m = window.map_view
    assert m.getPlotItem().vb.state["aspectLocked"] == 1.0  # a circle looks like a circle
    assert m.rw_bar.isVisible()  # the Rw colour key of the sampled points
    lo, hi = m.rw_bar.levels()
    rws = [c.rw for c in window.session.candidates]
    assert np.isclose(lo, min(rws)) and lo < hi <= max(rws) + 1e-6
    assert m.data_label.isVisible() and m.data_label.textItem.toPlainText() == "your data"
    assert np.allclose((m.data_label.pos().x(), m.data_label.pos().y()), window.session.prior_mean)
    legend = [label.text for _, label in m.legend.items]
    assert any(t.endswith(" atoms") for t in legend)  # the size key
    assert {t.textItem.toPlainText() for t in m.type_labels} == set(window.bundle.latent_map.types)
    key = window.structure_view.legend.text()  # the 3-D colour key
    assert "■" in key and window.session.selected_candidate.nearest_type in key
    tip = m._tip(0, 0, 0)
    assert "atoms" in tip and "_" not in tip  # a training name for people
    header = window.table.model()
    for k in range(len(COLUMNS)):
        assert header.headerData(k, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert {"size (Å)", "source", "warnings"} <= set(COLUMNS)
    assert header.index(0, COLUMNS.index("source")).data() == "model"
    shortcuts = dict(shortcut_rows(window.menuBar()))
    assert shortcuts["Keep Shown Structure"] == "K" and shortcuts["Solve"] == "Ctrl+R"
    assert "Shown Structure (xyz, extxyz, cif)" in shortcuts and "Back to Prior" in shortcuts


def test_the_map_is_the_largest_view_and_docks_come_back(make_window, qtbot) -> None:
    window = loaded(make_window, qtbot)
    for size in ((1280, 800), (1024, 700)):
        window.resize(*size)
        qtbot.wait(100)
        area = {
            name: w.width() * w.height()
            for name, w in (
                ("map", window.map_view),
                ("3-D", window.structure_view),
                ("fit", window.pdf_panel),
                ("table", window.table),
                ("controls", window.controls),
            )
        }
        assert max(area, key=area.get) == "map", (size, area)
    dock = next(d for d in window.findChildren(QDockWidget) if d.windowTitle() == "Candidates")
    dock.close()
    assert not dock.isVisible()
    restore = next(a for a in window.view_menu.actions() if a.text() == "Candidates")
    restore.trigger()
    assert dock.isVisible()


def test_arrow_keys_move_the_centre_and_search(make_window, qtbot) -> None:
    window = loaded(make_window, qtbot)
    before = np.array(window.session.query.center)
    semi = window.session.region_radius()
    requests = sent(window)
    window.map_view.setFocus()
    qtbot.keyClick(window.map_view, Qt.Key.Key_Right)
    assert np.allclose(window.session.query.center, before + np.array([0.25 * semi[0], 0]))
    assert isinstance(requests[-1], Solve) and np.allclose(
        requests[-1].center[0], before[0] + 0.25 * semi[0]
    )
    qtbot.keyClick(window.map_view, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    assert np.allclose(window.session.query.center, before + np.array([0.25 * semi[0], semi[1]]))


def test_near_identical_candidates_share_one_row_with_a_count(make_window, qtbot) -> None:
    from dataclasses import replace

    window = loaded(make_window, qtbot)
    best = window.session.candidates[0]
    twins = [replace(best, rw=best.rw + 0.0005 * k) for k in range(1, 4)]
    other = replace(best, rw=best.rw + 0.0005, n_atoms=best.n_atoms + 1)
    window.session.set_candidates([best, *twins, other, *window.session.candidates[1:]])
    model = window.table.model()
    similar = COLUMNS.index("similar")
    assert model.index(model.row_of(0), similar).data() == "×4"
    assert model.row_of(2) == model.row_of(0)  # a twin is shown by the best one's row
    assert model.row_of(4) != model.row_of(0)  # other atom count: its own row
    assert model.represented() == len(window.session.candidates)
    assert model.rowCount() < len(window.session.candidates)
    window.session.select(3)  # a twin chosen on the map: its group's row is selected
    assert window.table.selectionModel().selectedRows()[0].row() == model.row_of(0)


def test_tab_leaves_the_table(make_window, qtbot) -> None:
    window = loaded(make_window, qtbot)
    window.activateWindow()
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus, timeout=2000)
    qtbot.keyClick(window.table, Qt.Key.Key_Tab)
    assert not window.table.hasFocus()


def test_overlapping_training_points_offer_the_choice(make_window, qtbot) -> None:
    from types import SimpleNamespace

    window = loaded(make_window, qtbot)
    m = window.map_view
    offered, clicked = [], []
    m.choose_point = lambda indices: offered.append(indices) or indices[1]
    m.training_point_clicked.connect(clicked.append)
    points = [SimpleNamespace(data=lambda i=i: i) for i in (4, 4, 9)]
    m._map_clicked(m.map_points, points)
    assert offered == [[4, 9]] and clicked == [9]
    m._map_clicked(m.map_points, points[:1])  # one point: no question
    assert offered == [[4, 9]] and clicked == [9, 4]


def test_the_stacking_legend_keys_its_colouring(qtbot) -> None:
    from deepstruc_gui.gui.views.latent_map import LatentMapView
    from deepstruc_gui.model.bundle import LatentMap

    def latent_map(types, fcc):
        n = len(types)
        return LatentMap(
            mu=np.random.default_rng(0).random((n, 2)),
            sigma=np.ones((n, 2)),
            types=types,
            n_atoms=np.arange(10, 10 + n),
            metals=["Pt"] * n,
            names=[f"x_{k}" for k in range(n)],
            split=["train"] * n,
            fcc_fraction=np.asarray(fcc, float),
        )

    m = LatentMapView()
    qtbot.addWidget(m)
    m.set_latent_map(latent_map(["fcc", "hcp", "faulted"] * 2, np.linspace(0, 1, 6)))
    labels = [label.text for _, label in m.legend.items]
    assert labels[:3] == ["fcc fraction 0 (hcp)", "0.5", "1 (fcc)"]  # colour = fcc fraction
    m.set_latent_map(latent_map(["fcc", "hcp"] * 3, [np.nan] * 6))
    labels = [label.text for _, label in m.legend.items]
    assert labels[:2] == ["fcc", "hcp"]  # colour = type
