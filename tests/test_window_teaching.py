"""Images for slides and papers, and the teaching mode, on the real window: plots and
the one-click figure as PNG and SVG that an image reader opens at the stated size."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QDockWidget, QFileDialog
from window_helpers import action, loaded

from deepstruc_gui.gui.figure import FIGURE_WIDTH


def _answer(monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))


def test_plots_and_the_figure_open_as_png_and_svg(make_window, qtbot, tmp_path, monkeypatch):
    from deepstruc_gui.gui.views.image_size import ImageSizeDialog

    monkeypatch.setattr(ImageSizeDialog, "exec", lambda self: True)  # the offered size
    window = loaded(make_window, qtbot)
    item = window.map_view.getPlotItem()
    for text, stem in (("Latent Map", "map"), ("PDF Plot", "pdf")):
        svg = tmp_path / f"{stem}.svg"
        _answer(monkeypatch, svg)
        action(window, text).trigger()
        assert window.errors == [], window.errors
        renderer = QSvgRenderer(str(svg))
        assert renderer.isValid()
        # points drawn as vectors, not each with pyqtgraph's whole symbol atlas in it
        assert svg.read_text().count("<image") <= 3 and svg.stat().st_size < 10_000_000
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


def test_morph_between_two_points_plays_and_exports(
    make_window, qtbot, tmp_path, monkeypatch
) -> None:
    import imageio.v3 as iio

    from deepstruc_gui.gui.teaching import MORPH_WIDTH
    from deepstruc_gui.gui.views.image_size import ImageSizeDialog

    window = loaded(make_window, qtbot)
    start = window.session.selected_candidate.latent.copy()
    action(window, "Set Morph Start").trigger()
    m = window.bundle.latent_map
    end_index = int(np.argmax(np.linalg.norm(m.mu - start, axis=1)))
    window.map_view.training_point_clicked.emit(end_index)  # a training structure
    qtbot.waitUntil(lambda: window.session.showing_preview, timeout=20000)
    assert window.teaching.morph_to_shown(n_frames=6) is not None
    qtbot.waitUntil(lambda: len(window.teaching.frames) == 6, timeout=30000)
    frames = window.teaching.frames
    assert np.allclose(frames[0].latent, start) and np.allclose(frames[-1].latent, m.mu[end_index])
    qtbot.waitUntil(lambda: not window.teaching.timer.isActive(), timeout=10000)  # it played
    assert window.session.preview is frames[-1]
    assert window.presenter.preview_label.startswith("morph 6/6")
    # Teaching › Export Morph: the file, then the frames' size and DPI (the image-size
    # dialog every image export uses, remembered)
    offered = []

    def exec_(self) -> bool:
        offered.append(self.choice())
        self.width_box.setValue(640)
        self.dpi_box.setValue(200)
        return True

    monkeypatch.setattr(ImageSizeDialog, "exec", exec_)
    _answer(monkeypatch, tmp_path / "morph.gif")
    action(window, "Export Morph").trigger()
    assert window.errors == [], window.errors
    assert offered[0].width == MORPH_WIDTH and offered[0].height == MORPH_WIDTH // 2
    gif = iio.imread(tmp_path / "morph.gif", index=None)
    assert gif.shape[:3] == (6, 320, 640)
    pngs = sorted(tmp_path.glob("morph_*.png"))
    assert len(pngs) == 6
    for png in pngs:
        image = QImage(str(png))
        assert (image.width(), image.height()) == (640, 320)
        assert image.dotsPerMeterX() * 0.0254 == pytest.approx(200, abs=0.5)
    assert window.settings.value("image_width/morph") in (640, "640")
    monkeypatch.setattr(ImageSizeDialog, "exec", lambda self: False)  # Cancel
    _answer(monkeypatch, tmp_path / "again.gif")
    action(window, "Export Morph").trigger()
    assert not (tmp_path / "again.gif").exists() and not list(tmp_path.glob("again_*"))


def test_hover_decodes_under_the_cursor_and_presentation_hides_controls(make_window, qtbot) -> None:
    window = loaded(make_window, qtbot)
    action(window, "Decode Under Cursor").trigger()
    assert window.map_view.hover_decode
    window.map_view.hovered.emit(0.3, -0.4)
    qtbot.waitUntil(
        lambda: (
            window.session.showing_preview
            and np.allclose(window.session.preview.latent, (0.3, -0.4))
        ),
        timeout=20000,
    )
    assert window.presenter.preview_label == "hover "
    shown = [d for d in window.findChildren(QDockWidget) if d.isVisible()]
    assert shown  # controls, table … (the series dock stays hidden until a folder is watched)
    action(window, "Presentation Mode").trigger()
    assert not any(d.isVisible() for d in window.findChildren(QDockWidget))
    action(window, "Presentation Mode").trigger()
    assert all(d.isVisible() for d in shown)
