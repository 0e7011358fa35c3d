"""The 3-D view's orientation triad and scale bar, its PNG export, the size/DPI choice
of image exports (remembered), and the fit plot's text at 1024 px, on the real window
(OpenGL: run under ``xvfb-run -a -s "-screen 0 1600x1000x24"``)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog
from window_helpers import action, loaded

from deepstruc_gui.gui.views.image_size import ImageSize, ImageSizeDialog
from deepstruc_gui.gui.views.structure_overlays import AXES_BOX, MARGIN


def _answer(monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))


def _size(monkeypatch, width: int | None = None, dpi: int | None = None) -> list[ImageSize]:
    """Answer the size dialog (after recording what it offered) with ``width``/``dpi``."""
    offered: list[ImageSize] = []

    def exec_(self) -> bool:
        offered.append(self.choice())
        if width:
            self.width_box.setValue(width)
        if dpi:
            self.dpi_box.setValue(dpi)
        return True

    monkeypatch.setattr(ImageSizeDialog, "exec", exec_)
    return offered


def _dpi(image: QImage) -> float:
    return image.dotsPerMeterX() * 0.0254


def _gl_view(window):
    sv = window.structure_view
    if sv.canvas is None:
        if os.environ.get("DISPLAY"):
            pytest.fail("a display is set but the 3-D view found no OpenGL context")
        pytest.skip("no display: run under xvfb-run for the OpenGL tests")
    return sv


def _canvas_scale(sv) -> float:
    """Canvas pixels per Å across the screen at the camera centre, from where the
    atoms' own transform puts the centre and the centre + each unit axis: the three
    projected lengths of an orthonormal triad satisfy l₁² + l₂² + l₃² = 2 s²."""
    tr = sv._markers.get_transform("visual", "canvas")
    c = np.asarray(sv.view.camera.center, float)
    p = tr.map(np.vstack([c, c + np.eye(3)]))
    xy = p[:, :2] / p[:, 3:4]
    lengths = np.linalg.norm(xy[1:] - xy[0], axis=1)
    return float(np.sqrt((lengths**2).sum() / 2))


@pytest.mark.gl
def test_the_3d_view_shows_axes_and_a_true_scale_bar(make_window, qtbot) -> None:
    from vispy.scene.visuals import XYZAxis

    window = loaded(make_window, qtbot)
    sv = _gl_view(window)
    assert sv.atom_count > 0
    # the triad: vispy's XYZAxis, visible, in the canvas's scene, drawn bottom left
    axis = sv.axes.axis
    assert isinstance(axis, XYZAxis) and sv.axes.visible
    node, chain = axis, []
    while node is not None:
        chain.append(node)
        node = node.parent
    assert sv.canvas.scene in chain
    img = sv.canvas.render()[..., :3].astype(int)
    h = img.shape[0]
    corner = img[h - AXES_BOX - MARGIN : h, 0 : AXES_BOX + MARGIN]
    r, g, b = corner[..., 0], corner[..., 1], corner[..., 2]
    assert ((r > 150) & (g < 90) & (b < 90)).sum() > 10, "no red x axis drawn"
    assert ((g > 100) & (r < 90) & (b < 90)).sum() > 10, "no green y axis drawn"
    assert ((b > 150) & (r < 90) & (g < 120)).sum() > 10, "no blue z axis drawn"
    # the triad turns with the structure
    sv.view.camera.azimuth = 120.0
    assert sv.axes.box.camera.azimuth == pytest.approx(120.0)
    # the bar: a round number of Å, as long as that many Å at the centre
    bar = sv.scale_bar
    value = float(bar.label.split()[0])
    assert bar.label == f"{value:g} Å at centre"
    assert bar.pixels == pytest.approx(value * _canvas_scale(sv), rel=0.02)
    assert 0 < bar.pixels <= 0.25 * sv.canvas.size[0]
    row = sv.canvas.render()[..., :3].astype(int)[h - MARGIN]
    w = row.shape[0]
    dark = (row < 120).all(axis=-1)
    assert dark[int(w - MARGIN - bar.pixels * 0.9) : w - MARGIN - 2].all(), "bar not drawn"
    # zooming out shrinks the Å on screen: the bar follows
    before = _canvas_scale(sv)
    sv.view.camera.distance *= 3
    assert _canvas_scale(sv) == pytest.approx(before / 3, rel=0.05)
    assert sv.scale_bar.pixels == pytest.approx(
        float(sv.scale_bar.label.split()[0]) * _canvas_scale(sv), rel=0.02
    )
    # no structure: no triad and no bar
    sv.set_structure(None)
    assert not sv.axes.visible and not sv.scale_bar.line.visible


@pytest.mark.gl
def test_3d_view_and_plot_exports_at_the_chosen_size_remembered(
    make_window, qtbot, tmp_path, monkeypatch
) -> None:
    window = loaded(make_window, qtbot)
    sv = _gl_view(window)
    w0, h0 = sv.canvas.size
    path = tmp_path / "view3d.png"
    _answer(monkeypatch, path)
    offered = _size(monkeypatch, width=900, dpi=150)
    action(window, "3-D View").trigger()
    assert window.errors == [], window.errors
    image = QImage(str(path))
    assert (image.width(), image.height()) == (900, round(900 * h0 / w0))
    assert _dpi(image) == pytest.approx(150, abs=0.5)
    step = 6
    light = np.array([[image.pixelColor(x, y).lightness() for x in range(0, 900, step)]
                      for y in range(0, image.height(), step)])  # fmt: skip
    drawn = light < 200
    assert 0.05 < drawn.mean() < 0.9  # the atoms, not a blank or a flood
    # the structure fills the image as it fills the view (not the screen-sized view in
    # a corner of a larger image), the triad and the bar at its corners, scaled
    ys, xs = np.nonzero(drawn)
    assert xs.max() - xs.min() > 0.6 * drawn.shape[1] and ys.max() - ys.min() > 0.6 * drawn.shape[0]
    shown = sv.canvas.render()[..., :3].astype(int)
    shown_drawn = (shown < 200).any(axis=-1).mean()
    assert drawn.mean() == pytest.approx(shown_drawn, abs=0.05)
    f = 900 / w0
    top = image.height() - int((AXES_BOX + MARGIN) * f)
    corner = [image.pixelColor(x, y) for x in range(0, int(AXES_BOX * f))
              for y in range(top, image.height())]  # fmt: skip
    assert sum(c.red() > 150 and c.green() < 90 and c.blue() < 90 for c in corner) > 10 * f
    assert (sv.canvas.size[0], sv.canvas.size[1]) == (w0, h0)  # the view is back as it was
    assert sv.axes.factor == sv.scale_bar.factor == 1.0
    assert offered[0].width == 2 * w0  # the first offer: twice the screen size
    action(window, "3-D View").trigger()
    assert (offered[1].width, offered[1].dpi) == (900, 150)  # remembered

    # the map as PNG at a chosen width; the figure at its own remembered width
    png = tmp_path / "map.png"
    _answer(monkeypatch, png)
    _size(monkeypatch, width=1000, dpi=600)
    action(window, "Latent Map").trigger()
    image = QImage(str(png))
    assert image.width() == 1000 and _dpi(image) == pytest.approx(600, abs=0.5)
    figure = tmp_path / "figure.png"
    _answer(monkeypatch, figure)
    offered = _size(monkeypatch, width=1600)
    action(window, "Figure").trigger()
    assert offered[0].dpi == 600  # the last DPI chosen, any kind
    image = QImage(str(figure))
    assert (image.width(), image.height()) == (1600, 800)
    assert window.errors == [], window.errors
    assert window.settings.value("image_width/figure") in (1600, "1600")


def test_a_long_title_is_shortened_and_rw_stays_readable_at_1024_px(make_window, qtbot) -> None:
    window = loaded(make_window, qtbot)
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() <= 1024, timeout=5000)
    qtbot.wait(50)
    c = window.session.candidates[0]
    window.presenter.preview_label = (
        "decahedron · 187 Pt atoms · bond 2.77 Å (the longest name a training point has): "
    )
    window.session.set_preview(c)
    panel = window.pdf_panel
    vb = panel.getPlotItem().vb
    lines = panel.info.toPlainText().split("\n")
    assert lines[0].startswith("decahedron") and lines[0].endswith("…")
    assert lines[1].startswith(f"Rw = {c.rw:.4f}")
    # everything written sits inside the plot (nothing is cut at its left edge)
    text = panel.info.mapRectToScene(panel.info.boundingRect())
    box = vb.sceneBoundingRect()
    assert box.left() <= text.left() and text.right() <= box.right() + 1
    # a wider plot gives more of the name back
    window.resize(1600, 900)
    qtbot.waitUntil(
        lambda: len(panel.info.toPlainText().split("\n")[0]) > len(lines[0]), timeout=5000
    )


def test_the_size_dialog_says_the_printed_size_and_cancel_writes_nothing(
    make_window, qtbot, tmp_path, monkeypatch
) -> None:
    dialog = ImageSizeDialog(None, "size", 0.5, 1200, 300)
    qtbot.addWidget(dialog)
    assert dialog.choice() == ImageSize(1200, 600, 300)
    assert dialog.summary.text() == "1200 × 600 px = 10.2 × 5.1 cm at 300 DPI"
    dialog.dpi_box.setValue(150)
    assert dialog.summary.text().endswith("20.3 × 10.2 cm at 150 DPI")
    window = loaded(make_window, qtbot)
    path = tmp_path / "map.png"
    _answer(monkeypatch, path)
    monkeypatch.setattr(ImageSizeDialog, "exec", lambda self: False)  # Cancel
    action(window, "Latent Map").trigger()
    assert not path.exists() and window.errors == []
    assert window.settings.value("image_width/map") is None  # a cancel is not a choice
