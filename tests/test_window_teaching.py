"""Images for slides and papers, and the teaching mode, on the real window: plots and
the one-click figure as PNG and SVG that an image reader opens at the stated size."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QFileDialog
from window_helpers import action, loaded

from deepstruc_gui.gui.figure import FIGURE_WIDTH


def _answer(monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))


def test_plots_and_the_figure_open_as_png_and_svg(make_window, qtbot, tmp_path, monkeypatch):
    window = loaded(make_window, qtbot)
    item = window.map_view.getPlotItem()
    for text, stem in (("Latent Map", "map"), ("PDF Plot", "pdf")):
        svg = tmp_path / f"{stem}.svg"
        _answer(monkeypatch, svg)
        action(window, text).trigger()
        assert window.errors == [], window.errors
        renderer = QSvgRenderer(str(svg))
        assert renderer.isValid()
        if stem == "map":
            box = renderer.viewBoxF()
            rect = item.sceneBoundingRect()
            assert (round(box.width()), round(box.height())) == (
                int(rect.width()),
                int(rect.height()),
            )
        png = tmp_path / f"{stem}.png"
        _answer(monkeypatch, png)
        action(window, text).trigger()
        assert not QImage(str(png)).isNull()
    for suffix in (".png", ".svg"):
        path = tmp_path / f"figure{suffix}"
        _answer(monkeypatch, path)
        action(window, "Figure").trigger()
        assert window.errors == [], window.errors
        if suffix == ".png":
            image = QImage(str(path))
            assert (image.width(), image.height()) == (FIGURE_WIDTH, FIGURE_WIDTH // 2)
            # the map, the structure and the fit all drew something (not a blank page)
            pixels = np.array(
                [[image.pixelColor(x, y).lightness() for x in range(0, image.width(), 40)]
                 for y in range(0, image.height(), 40)]
            )  # fmt: skip
            half = pixels.shape[1] // 2
            assert (pixels[:, :half] < 200).any() and (pixels[:, half:] < 200).any()
        else:
            renderer = QSvgRenderer(str(path))
            assert renderer.isValid() and renderer.viewBoxF().width() == FIGURE_WIDTH
