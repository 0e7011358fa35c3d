"""The series panel on a real watched folder, its state, and the path on the latent map."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from deepstruc_gui.model.series import FrameRecord, read_records_csv
from deepstruc_gui.state.series import SeriesState

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_series import write_series  # noqa: E402  (the benchmark's frame simulator)


def record(frame: int, rw: float = 0.1, ok: bool = True) -> FrameRecord:
    if not ok:
        return FrameRecord(frame, f"/x/f{frame}.gr", "t", status="error", error="bad line 3")
    return FrameRecord(frame, f"/x/f{frame}.gr", "t", rw=rw, type="fcc", n_atoms=100 + frame,
                       scale=1.0, expansion=1.0, biso=0.3, bond_length=2.77, z1=frame, z2=-frame,
                       search="warm", warnings=[{"code": "poor-fit", "message": "m"}])  # fmt: skip


def test_state_keeps_frames_path_and_selection_and_round_trips():
    state = SeriesState()
    seen = []
    state.records_changed.connect(lambda: seen.append(len(state.records)))
    state.start("/beamline/run7", "*.gr")
    for k, ok in ((1, True), (2, False), (3, True)):
        state.add(record(k, 0.1 * k, ok))
    assert seen == [0, 1, 2, 3] and state.watching
    assert np.allclose(state.column("rw"), [0.1, np.nan, 0.3], equal_nan=True)
    frames, points = state.path()
    assert frames.tolist() == [1, 3] and points.tolist() == [[1, -1], [3, -3]]
    state.select(2)
    assert state.selected_record.frame == 3
    with pytest.raises(IndexError):
        state.select(5)
    again = SeriesState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again.folder == Path("/beamline/run7") and not again.watching
    assert [r.to_dict() for r in again.records] == [r.to_dict() for r in state.records]


def test_series_path_item_joins_points_in_order_coloured_by_frame(qtbot):
    import pyqtgraph as pg

    from deepstruc_gui.gui.views.series_path import SeriesPathItem

    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    item = SeriesPathItem()
    plot.addItem(item)
    points = np.array([[0.0, 0.0], [0.1, 0.0], [np.nan, 1.0], [2.0, 1.0]])
    item.set_path(points, np.array([1, 2, 3, 4]))
    x, y = item.line.getData()
    assert x.tolist() == [0.0, 0.1, 2.0] and y.tolist() == [0.0, 0.0, 1.0]  # NaN frame left out
    brushes = [s.brush().color().name() for s in item.scatter.points()]
    assert brushes[0] != brushes[-1] and len(set(brushes)) == 3
    assert item.dataBounds(0) == (0.0, 2.0)
    clicked = []
    item.frame_clicked.connect(clicked.append)
    item._clicked(item.scatter, [item.scatter.points()[2]])
    assert clicked == [4]
    with pytest.raises(ValueError):
        item.set_path(points, np.array([1, 2]))


def test_panel_follows_a_real_folder_and_stops_in_one_click(qtbot, tmp_path):
    """Frames already there and one written while watching arrive in the table, the
    plots and the path; choosing one emits its candidate; Stop ends the thread; the
    table exports to CSV and the plots to PNG and SVG."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    from deepstruc_gui.gui.views.series_panel import SeriesPanel
    from deepstruc_gui.model.pipeline import SolveSettings
    from deepstruc_gui.model.series import SeriesSettings

    folder, staging = tmp_path / "run", tmp_path / "staging"
    folder.mkdir()
    staging.mkdir()
    truth = write_series(staging, 3)
    for path, _kind, _n in truth[:2]:
        (folder / path.name).write_bytes(path.read_bytes())
    panel = SeriesPanel()
    qtbot.addWidget(panel)
    panel.show()
    settings = SeriesSettings(
        search=SolveSettings(samples=30, search="region", size_extension=False), warm_samples=6
    )
    threads = []
    panel.state.records_changed.connect(lambda: threads.append(threading.current_thread()))
    panel.watch(folder, settings=settings, settle=0.3, give_up=2.0)
    assert panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: len(panel.state.records) == 2, timeout=120_000)
    (folder / truth[2][0].name).write_bytes(truth[2][0].read_bytes())
    qtbot.waitUntil(lambda: len(panel.state.records) == 3, timeout=120_000)
    assert panel.model.rowCount() == 3
    assert [panel.model.index(k, 3).data() for k in range(3)] == [k for _p, k, _n in truth]
    x, y = panel.curves["rw"].getData()
    assert x.tolist() == [1, 2, 3] and np.all(y > 0)
    assert len(panel.path_item.points) == 3
    from deepstruc_gui.gui.views.latent_map import LatentMapView

    latent_map = LatentMapView()  # the window's map takes the path as one item
    qtbot.addWidget(latent_map)
    latent_map.addItem(panel.path_item)
    latent_map.autoRange()
    (x0, x1), _ = latent_map.viewRange()
    assert x0 <= panel.path_item.points[:, 0].min() and panel.path_item.points[:, 0].max() <= x1
    assert set(threads) == {threading.main_thread()}  # the view changed on the GUI thread

    with qtbot.waitSignal(panel.frame_selected, timeout=5000) as chosen:
        panel.table.selectRow(2)
    assert chosen.args[0].candidate.n_atoms == truth[2][2]
    assert len(panel.fit_calc.getData()[0]) > 100
    with qtbot.waitSignal(panel.frame_selected, timeout=5000) as chosen:
        panel.path_item.frame_clicked.emit(1)
    assert chosen.args[0].frame == 1

    runner = panel.runner
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert not panel.state.watching and not panel.stop_button.isEnabled()
    assert runner.thread.wait(60_000) and runner.thread.isFinished()

    rows = read_records_csv(panel.export_table(tmp_path / "out" / "series.csv"))
    assert [r["type"] for r in rows] == [k for _p, k, _n in truth]
    png = panel.export_plots(tmp_path / "plots.png")
    assert not QImage(str(png)).isNull()
    svg = panel.export_plots(tmp_path / "plots.svg")
    assert "<svg" in svg.read_text(encoding="utf-8")[:2000]
    with pytest.raises(ValueError):
        panel.export_plots(tmp_path / "plots.bmp")
    errors = []
    panel.show_error = lambda title, message: errors.append(message)
    panel._guarded(panel.export_plots, str(tmp_path / "plots.jpg"))
    assert errors and "plots.jpg" in errors[0]
    assert panel.shutdown()
