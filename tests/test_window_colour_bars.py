"""The latent map's two colour keys on the real window, with the Rw landscape and the
sampled points both on: each bar in a cell of its own (no "Cell already taken"), side
by side, each labelled once with what it shows; the one-click figure shows them the
same way (no stray labels); the landscape PNG at the size/DPI asked for, z₂ up.
Run under ``xvfb-run -a -s "-screen 0 1600x1000x24"``."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog
from window_helpers import action, with_landscape

from deepstruc_gui.gui.panels import LANDSCAPE_WIDTH
from deepstruc_gui.gui.views.image_size import ImageSizeDialog
from deepstruc_gui.gui.views.landscape_layer import LABELS
from deepstruc_gui.gui.views.latent_map import RW_POINTS_LABEL

SIDES = ("left", "right", "top", "bottom")


def _bars(window):
    return window.map_view.rw_bar, window.panels.layer.colour_bar


def _answer(monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))


def _luminance(colour) -> float:
    """Rises with the value along viridis (the points' bar) and falls with it along the
    landscape's grey (both monotonic in lightness)."""
    return 0.2126 * colour.red() + 0.7152 * colour.green() + 0.0722 * colour.blue()


def _labels(bar) -> list[str]:
    """The axis titles the bar shows (all four sides of its frame)."""
    shown = []
    for side in SIDES:
        axis = bar.getAxis(side)
        if axis.label.isVisible() and axis.labelText:
            shown.append(axis.labelText)
    return shown


def test_both_colour_bars_have_cells_of_their_own_side_by_side(
    make_window, qtbot, qtlog, caplog
) -> None:
    window = with_landscape(make_window, qtbot)
    # Qt's warnings: pytest-qt's log, or vispy's logger once vispy's handler took over
    said = [r.message for r in qtlog.records] + [r.getMessage() for r in caplog.records]
    taken = [m for m in said if "already taken" in m]
    assert taken == [], taken
    points_bar, landscape_bar = _bars(window)
    plot = window.map_view.getPlotItem()
    layout = plot.layout
    # every item of the layout sits in a cell of its own (a refused item is not in it)
    cells = {}
    for row in range(layout.rowCount()):
        for column in range(layout.columnCount()):
            item = layout.itemAt(row, column)
            if item is not None:
                assert not any(item is other for other in cells.values()), (row, column)
                cells[row, column] = item
    assert len(cells) == layout.count()
    where = {
        name: [cell for cell, item in cells.items() if item is bar]
        for name, bar in (("points", points_bar), ("landscape", landscape_bar))
    }
    assert len(where["points"]) == 1 and len(where["landscape"]) == 1, where
    # both shown, beside the plot and beside each other, nothing overlapping
    assert points_bar.isVisible() and landscape_bar.isVisible()
    boxes = [bar.sceneBoundingRect() for bar in (points_bar, landscape_bar)]
    view = plot.vb.sceneBoundingRect()
    assert not boxes[0].intersects(boxes[1])
    assert all(box.left() >= view.right() for box in boxes)
    scene = window.map_view.sceneRect()
    assert all(scene.contains(box) for box in boxes)  # in view, not cut at the edge
    # each says once what it shows, beside its values
    assert _labels(points_bar) == [RW_POINTS_LABEL]
    assert _labels(landscape_bar) == [LABELS[False]]
    for bar in (points_bar, landscape_bar):  # values as they are, not in thousandths
        assert bar.axis.autoSIPrefixScale == 1.0 and "x0." not in bar.axis.labelString()
    log = window.panels.layer_controls.log
    log.setChecked(True)
    assert _labels(landscape_bar) == [LABELS[True]]
    log.setChecked(False)
    # what is drawn: the points' viridis, dark (low Rw) at the bottom, bright at the top;
    # the landscape's grey the other way round (light at low Rw), no colour in it
    qtbot.wait(50)
    image = window.map_view.grab().toImage()
    for bar, sign in ((points_bar, 1), (landscape_bar, -1)):
        inner = bar.bar.mapRectToScene(bar.bar.boundingRect())
        x = round(inner.center().x())
        top, bottom = round(inner.top()) + 3, round(inner.bottom()) - 3
        colours = [image.pixelColor(x, y) for y in range(top, bottom, 10)]
        column = sign * np.array([_luminance(c) for c in colours])
        assert column[0] > column[-1] + 100, column
        assert np.all(np.diff(column) <= 1), column
        grey = [c.saturation() < 10 for c in colours]
        assert all(grey) if bar is landscape_bar else not any(grey), grey
    # the landscape off: its bar goes, the sampled points' stays
    window.panels.layer_controls.shown.setChecked(False)
    assert not landscape_bar.isVisible() and points_bar.isVisible()


def test_the_figure_shows_each_colour_key_once(make_window, qtbot, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(ImageSizeDialog, "exec", lambda self: True)  # the offered size
    window = with_landscape(make_window, qtbot)
    svg = tmp_path / "figure.svg"
    _answer(monkeypatch, svg)
    action(window, "Figure").trigger()
    assert window.errors == [], window.errors
    # the text the figure writes: each bar's title once, no stray "Rw" of an unlabelled
    # frame side (the landscape's bar had one on each side, the left one over the
    # sampled points' bar)
    import xml.etree.ElementTree as ET

    # the points are vectors: the only pictures are the heat map, the colour bars'
    # gradients and the 3-D snapshot (each point drawn from pyqtgraph's on-screen atlas
    # embedded the whole atlas: ~0.5 MB a point, 1.6 GB after a whole-map search)
    pictures = [e for e in ET.parse(svg).iter() if e.tag.endswith("image")]
    assert len(pictures) <= 6, len(pictures)
    assert svg.stat().st_size < 5_000_000, svg.stat().st_size

    texts = ["".join(e.itertext()).strip() for e in ET.parse(svg).iter() if e.tag.endswith("text")]
    assert texts.count(RW_POINTS_LABEL) == 1, texts
    assert texts.count(LABELS[False]) == 1, texts
    assert "Rw" not in texts, texts
    png = tmp_path / "figure.png"
    _answer(monkeypatch, png)
    action(window, "Figure").trigger()
    image = QImage(str(png))
    width, height = image.width(), image.height()
    # two separate gradient bands in the map's half (not one on top of the other): the
    # points' viridis (coloured, bright at the top), then the landscape's grey (light
    # at the bottom)
    y0, y1 = int(height * 0.2), int(height * 0.8)

    def band(x, sign, coloured) -> bool:
        top, bottom = image.pixelColor(x, y0), image.pixelColor(x, y1)
        return (
            ((top.saturation() > 100 and bottom.saturation() > 100) if coloured
             else max(top.saturation(), bottom.saturation()) < 10)
            and sign * (_luminance(top) - _luminance(bottom)) > 60
            and all(
                sign * (_luminance(image.pixelColor(x, y))
                        - _luminance(image.pixelColor(x, y + 20))) >= -2
                for y in range(y0, y1, 20)
            )
        )  # fmt: skip

    runs = []
    for sign, coloured in ((1, True), (-1, False)):
        found = np.array([band(x, sign, coloured) for x in range(width // 2)], int)
        edges = np.flatnonzero(np.diff(np.r_[0, found, 0]))
        runs += list(zip(edges[::2], edges[1::2], strict=True))
    assert len(runs) == 2, runs
    assert runs[0][1] <= runs[1][0], runs  # side by side, the points' bar first
    # the bars' end values are whole: nothing is cut at the figure's top edge
    x_from, x_to = runs[0][0] - 5, min(runs[1][1] + 120, width // 2)
    first_rows = [image.pixelColor(x, y).lightness() for x in range(x_from, x_to) for y in (0, 1)]
    assert min(first_rows) > 230


def test_the_landscape_png_at_the_chosen_size_z2_up(
    make_window, qtbot, tmp_path, monkeypatch
) -> None:
    window = with_landscape(make_window, qtbot)
    land = window.session.landscape
    offered = []

    def exec_(self) -> bool:
        offered.append(self.choice())
        self.width_box.setValue(720)
        self.dpi_box.setValue(150)
        return True

    monkeypatch.setattr(ImageSizeDialog, "exec", exec_)
    png = tmp_path / "landscape.png"
    _answer(monkeypatch, png)
    action(window, "Rw Landscape").trigger()
    assert window.errors == [], window.errors
    lo, hi = land.box
    aspect = (hi[1] - lo[1]) / (hi[0] - lo[0])
    assert offered[0].width == LANDSCAPE_WIDTH
    image = QImage(str(png))
    assert (image.width(), image.height()) == (720, round(720 * aspect))
    assert abs(image.dotsPerMeterX() * 0.0254 - 150) < 0.5
    # z₂ up as on the map: the colour at each computed point follows its Rw
    w, h = image.width(), image.height()
    high = window.panels.layer.colour_bar.levels()[1]
    rw = land.best_rw
    keep = rw < high  # above the bar's top all is one colour
    x = np.clip(((land.z[:, 0] - lo[0]) / (hi[0] - lo[0]) * w).astype(int), 0, w - 1)
    y = np.clip(((hi[1] - land.z[:, 1]) / (hi[1] - lo[1]) * h).astype(int), 0, h - 1)
    seen = np.array(
        [_luminance(image.pixelColor(int(a), int(b))) for a, b in zip(x, y, strict=True)]
    )

    def ranks(v):
        return np.argsort(np.argsort(v))

    r = np.corrcoef(ranks(rw[keep]), ranks(seen[keep]))[0, 1]
    assert r < -0.9, r  # the landscape's grey: lighter where Rw is lower
    # a cancel writes nothing; the width is remembered
    monkeypatch.setattr(ImageSizeDialog, "exec", lambda self: False)
    other = tmp_path / "other.png"
    _answer(monkeypatch, other)
    action(window, "Rw Landscape").trigger()
    assert not other.exists() and window.errors == []
    assert window.settings.value("image_width/landscape") in (720, "720")
