"""The landscape heat map layer on a plot: drawn under the points, colour bar in Rw or
log₁₀ Rw, toggle and opacity from its controls, hover text, the Refine-here path."""

from __future__ import annotations

import itertools

import numpy as np
import pyqtgraph as pg
import pytest

from deepstruc_gui.gui.views.landscape_layer import (
    IMAGE_SHAPE,
    LandscapeControls,
    LandscapeLayer,
)
from deepstruc_gui.model.landscape import Landscape, grid_points


def small_landscape() -> Landscape:
    """A 20 × 20 grid with Rw lowest at (1, −1) and one fully fitted point there."""
    lo, hi = np.array([-3.0, -4.0]), np.array([5.0, 2.0])
    z = grid_points(lo, hi, 20)
    rw = 0.2 + 0.05 * ((z - [1.0, -1.0]) ** 2).sum(1)
    rw = np.clip(rw, 0, 1)
    n = len(z)
    rw_fit = np.full(n, np.nan)
    best = int(np.argmin(rw))
    rw_fit[best] = rw[best] - 0.01
    return Landscape(
        z=z,
        rw=rw,
        alpha=np.ones(n),
        biso=np.full(n, 0.3),
        n_atoms=np.where(z[:, 0] > 1, 147, 55),
        types=np.where(z[:, 0] > 1, "fcc", "icosahedral"),
        source=np.ones(n, np.int8),
        stage=np.ones(n, np.int8),
        rw_fit=rw_fit,
        box=(lo, hi),
        bond=2.77,
        complete=True,
        info={"grid": 20},
    )


@pytest.fixture
def plot(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    scatter = pg.ScatterPlotItem([0.0], [0.0])  # a training point, drawn above the map
    widget.addItem(scatter)
    widget.show()
    return widget, scatter


def test_layer_draws_the_landscape_under_the_points(plot) -> None:
    import dataclasses

    widget, scatter = plot
    layer = LandscapeLayer(widget.getPlotItem())
    assert not layer.image.isVisible()  # nothing to draw yet
    land = small_landscape()
    layer.set_landscape(land)
    assert layer.image.isVisible() and layer.colour_bar.isVisible()
    assert layer.image.image.shape == IMAGE_SHAPE
    assert layer.image.zValue() < scatter.zValue()
    rect = layer.image.mapRectToParent(layer.image.boundingRect())
    assert rect.left() == pytest.approx(-3.0) and rect.width() == pytest.approx(8.0)
    assert rect.top() == pytest.approx(-4.0) and rect.height() == pytest.approx(6.0)
    low, high = layer.colour_bar.levels()
    assert low == pytest.approx(np.nanmin(land.image(IMAGE_SHAPE)))
    assert low < high <= land.rw.max()
    assert layer.colour_bar.axis.labelText == "Rw landscape"
    # Rw all below 1: ticks still read as Rw, not in thousandths with "(x0.001)"
    layer.set_landscape(dataclasses.replace(land, rw=0.7 * land.rw, rw_fit=0.7 * land.rw_fit))
    assert layer.colour_bar.levels()[1] < 0.9
    assert "x0.001" not in layer.colour_bar.axis.labelString()
    assert layer.colour_bar.axis.autoSIPrefixScale == 1.0
    layer.set_landscape(land)

    layer.set_log(True)
    assert layer.colour_bar.axis.labelText == "log₁₀ Rw landscape"
    assert layer.colour_bar.levels()[0] == pytest.approx(np.log10(low))
    assert np.nanmax(layer.image.image) <= 0  # log10 of Rw ≤ 1
    assert np.nanmin(layer.image.image) == pytest.approx(np.log10(low))

    layer.set_landscape(None)
    assert not layer.image.isVisible()


def test_controls_toggle_log_and_opacity(plot, qtbot) -> None:
    widget, _ = plot
    layer = LandscapeLayer(widget.getPlotItem())
    controls = LandscapeControls(layer)
    qtbot.addWidget(controls)
    layer.set_landscape(small_landscape())
    controls.shown.setChecked(False)
    assert not layer.image.isVisible() and not layer.colour_bar.isVisible()
    controls.shown.setChecked(True)
    assert layer.image.isVisible()
    controls.opacity.setValue(30)
    assert layer.image.opacity() == pytest.approx(0.3)
    controls.log.setChecked(True)
    assert layer.log
    # a new snapshot keeps the user's choices
    layer.set_landscape(small_landscape())
    assert layer.log and layer.image.opacity() == pytest.approx(0.3)
    controls.shown.setChecked(False)
    layer.set_landscape(small_landscape())
    assert not layer.image.isVisible()


def test_hover_gives_rw_size_and_type(plot) -> None:
    widget, _ = plot
    layer = LandscapeLayer(widget.getPlotItem())
    assert layer.hover_text((1.0, -1.0)) == ""  # no landscape yet
    land = small_landscape()
    layer.set_landscape(land)
    best = int(np.argmin(land.rw))
    text = layer.hover_text(land.z[best])
    assert f"Rw {land.rw[best]:.3f} (coarse)" in text
    assert f"{land.rw_fit[best]:.3f} (full fit)" in text
    assert f"{land.n_atoms[best]} atoms" in text and str(land.types[best]) in text
    assert "full fit" not in layer.hover_text((-2.9, -3.9))
    assert "icosahedral" in layer.hover_text((-2.9, -3.9))
    assert layer.hover_text((50.0, 0.0)) == ""  # off the map's box
    seen: list[str] = []
    layer.hovered.connect(seen.append)
    scene_point = widget.getPlotItem().vb.mapViewToScene(pg.Point(*land.z[best]))
    layer._mouse_moved(scene_point)
    assert seen and "atoms" in seen[-1] and layer.image.toolTip() == seen[-1]


def test_refine_here_path_is_drawn_and_cleared(plot) -> None:
    widget, _ = plot
    layer = LandscapeLayer(widget.getPlotItem())
    path = np.array([[0.0, 0.0], [0.5, -0.2], [0.9, -0.8]])
    layer.set_path(path)
    x, y = layer.path.getData()
    np.testing.assert_allclose(np.column_stack([x, y]), path)
    layer.clear_path()
    x, _ = layer.path.getData()
    assert x is None or len(x) == 0


def test_heat_map_exports_as_an_image_oriented_and_sized_as_the_map(plot, tmp_path) -> None:
    import dataclasses

    from PySide6.QtGui import QImage

    widget, _ = plot
    layer = LandscapeLayer(widget.getPlotItem())
    with pytest.raises(OSError, match="no landscape"):
        layer.save_image(str(tmp_path / "none.png"))
    land = small_landscape()
    lo = land.box[0]  # the box is 8 × 6 latent units
    # Rw rises with z₂ only: high Rw (bright) at the top of the map, low at the bottom
    land = dataclasses.replace(
        land, rw=0.2 + 0.1 * (land.z[:, 1] - lo[1]), rw_fit=land.rw_fit * np.nan
    )
    layer.set_landscape(land)
    layer.save_image(str(tmp_path / "landscape.png"))
    image = QImage(str(tmp_path / "landscape.png"))
    assert (image.width(), image.height()) == (IMAGE_SHAPE[0], round(IMAGE_SHAPE[0] * 6 / 8))
    layer.save_image(str(tmp_path / "big.png"), width=800, dpi=150)
    image = QImage(str(tmp_path / "big.png"))
    assert (image.width(), image.height()) == (800, 600)
    assert image.dotsPerMeterX() * 0.0254 == pytest.approx(150, abs=0.5)
    # the landscape's grey: light at low Rw, darker as Rw rises
    colours = [image.pixelColor(400, y) for y in range(5, 600, 30)]
    column = [0.2126 * c.red() + 0.7152 * c.green() + 0.0722 * c.blue() for c in colours]
    assert column[-1] > column[0] + 100  # top dark, bottom light: z₂ up, as on the map
    assert all(a <= b + 1 for a, b in itertools.pairwise(column))
    assert all(c.saturation() < 10 for c in colours)  # grey, not viridis
