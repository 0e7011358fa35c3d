"""The Rw landscape drawn under the latent map: a heat map with its colour bar.

:class:`LandscapeLayer` adds a pyqtgraph ``ImageItem`` (below the map's training
points), a ``ColorBarItem`` in Rw (linear or log₁₀; a perceptually uniform grey of
its own, :func:`colour_map`, light where Rw is low), the path of a "Refine here" and
a hover text (Rw, atoms, type of the nearest computed point) to any ``PlotItem``.
:class:`LandscapeControls` is the toggle, log switch and opacity slider for it.
Neither computes anything: they draw a
:class:`~deepstruc_gui.model.landscape.Landscape` handed to them (snapshots arrive
while it is computed; each replaces the last).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QWidget

from deepstruc_gui.gui.views.colour_bars import add_colour_bar, set_bar_label

if TYPE_CHECKING:  # model.landscape imports torch; the window must start without it
    from deepstruc_gui.model.landscape import Landscape

#: pixels of the heat map per axis
IMAGE_SHAPE = (240, 240)
#: the colour map: colorcet's perceptually uniform linear grey (CET-L1), a part of it
#: run backwards: low Rw light, high Rw mid grey. The sampled points over it are
#: coloured by viridis (low Rw dark): no colour means an Rw on both bars, and where
#: landscape and points agree they contrast (dark good points on light good ground,
#: yellow poor points on dark poor ground). Never black: dark text stays readable
COLOUR_MAP = "CET-L1"
#: the part of CET-L1 used (its lightness 0 … 1): from :data:`GREY_RANGE`\[0] (high
#: Rw) to :data:`GREY_RANGE`\[1] (low Rw)
GREY_RANGE = (0.45, 0.95)


def colour_map() -> pg.ColorMap:
    """The landscape's colour map: grey, light at the lowest Rw (see :data:`COLOUR_MAP`)."""
    cmap = pg.colormap.get(COLOUR_MAP).getSubset(GREY_RANGE[0], GREY_RANGE[1] - GREY_RANGE[0])
    cmap.reverse()
    cmap.name = "Rw landscape (CET-L1 grey, reversed)"
    return cmap


#: the colour bar's label, linear (False) or log₁₀ (True): what the heat map shows
LABELS = {False: "Rw landscape", True: "log₁₀ Rw landscape"}


class LandscapeLayer(QObject):
    """Heat map of a landscape on ``plot`` (a ``pg.PlotItem``), under its other items.

    Signals: ``hovered(str)`` — the text for the point under the mouse (empty off the
    landscape). Methods: :meth:`set_landscape`, :meth:`set_log`, :meth:`set_shown`,
    :meth:`set_opacity`, :meth:`set_path` / :meth:`clear_path`, :meth:`render_image`,
    :meth:`save_image`.
    """

    hovered = Signal(str)

    def __init__(self, plot: pg.PlotItem, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.plot = plot
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setZValue(-100)  # below the training points and everything else
        self.image.setOpacity(0.8)
        plot.addItem(self.image)
        self.colour_bar = pg.ColorBarItem(colorMap=colour_map(), interactive=False, width=14)
        self.colour_bar.setImageItem(self.image)
        set_bar_label(self.colour_bar, LABELS[False])
        add_colour_bar(plot, self.colour_bar)  # its own cell, beside any bar already there
        self.path = pg.PlotDataItem(
            pen=pg.mkPen("#D62728", width=2),
            symbol="o",
            symbolSize=6,
            symbolBrush="#D62728",
        )
        self.path.setZValue(50)
        plot.addItem(self.path)
        self.landscape: Landscape | None = None
        self.log = False
        self._shown = True
        plot.scene().sigMouseMoved.connect(self._mouse_moved)
        self._set_visible(False)

    # --- state → view ---------------------------------------------------------------
    def set_landscape(self, landscape: Landscape | None) -> None:
        """Draw ``landscape`` (a snapshot or the complete one); None clears."""
        self.landscape = landscape
        self._redraw()

    def set_log(self, log: bool) -> None:
        """Colour by log₁₀ Rw (True) or Rw (False)."""
        self.log = bool(log)
        self._redraw()

    def set_shown(self, shown: bool) -> None:
        """The user's toggle: hide or show the heat map and its colour bar."""
        self._shown = bool(shown)
        self._set_visible(self._shown and self.landscape is not None and len(self.landscape) > 0)

    def set_opacity(self, opacity: float) -> None:
        """Opacity of the heat map, 0 (invisible) … 1 (opaque)."""
        self.image.setOpacity(float(np.clip(opacity, 0.0, 1.0)))

    def set_path(self, path: np.ndarray) -> None:
        """The latent points (k, 2) a "Refine here" went through, start first."""
        path = np.asarray(path, dtype=float).reshape(-1, 2)
        self.path.setData(path[:, 0], path[:, 1])

    def clear_path(self) -> None:
        self.path.setData([], [])

    def aspect(self) -> float:
        """Height / width of the landscape's box in latent units (1 without one)."""
        if self.landscape is None:
            return 1.0
        lo, hi = self.landscape.box
        return float((hi[1] - lo[1]) / max(hi[0] - lo[0], 1e-12))

    def render_image(self, width: int | None = None) -> QImage:
        """The heat map as drawn (colour-mapped, NaN transparent), oriented as on the map
        (z₂ up) and shaped as its box, ``width`` pixels wide (default: one pixel per
        cell across); cells stay sharp (nearest, no smoothing between Rw values).
        ``OSError`` without a landscape."""
        if self.image.image is None:
            raise OSError("no landscape to export")
        self.image.render()  # the colour-mapped QImage, even while hidden
        if self.image.qimage is None:
            raise OSError("the landscape could not be drawn")
        # the QImage's first row is the lowest z₂; a file's first row is its top
        image = self.image.qimage.flipped(Qt.Orientation.Vertical)
        width = int(width or image.width())
        height = max(1, round(width * self.aspect()))
        return image.scaled(
            width,
            height,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.FastTransformation,
        )

    def save_image(self, path: str, width: int | None = None, dpi: int | None = None) -> None:
        """:meth:`render_image` (``width`` px wide) to a PNG with ``dpi`` in it, written
        atomically; ``OSError`` when there is no landscape or it cannot be written."""
        from deepstruc_gui.gui.exporting import png_bytes
        from deepstruc_gui.util.atomic import atomic_write_bytes

        try:
            image = self.render_image(width)
        except OSError as error:
            raise OSError(f"{path}: {error}") from None
        atomic_write_bytes(path, png_bytes(image, dpi))

    def hover_text(self, z) -> str:
        """Rw (coarse, and of the full fit where it ran), atoms and type of the computed
        point nearest ``z``; empty when no landscape or ``z`` lies off its box."""
        land = self.landscape
        if land is None or len(land) == 0:
            return ""
        lo, hi = land.box
        z = np.asarray(z, dtype=float)
        if np.any(z < lo) or np.any(z > hi):
            return ""
        i = land.nearest(z)
        text = f"Rw {land.rw[i]:.3f} (coarse)"
        if np.isfinite(land.rw_fit[i]):
            text += f", {land.rw_fit[i]:.3f} (full fit)"
        return f"{text}; {int(land.n_atoms[i])} atoms, {land.types[i]}"

    # --- internals --------------------------------------------------------------------
    def _set_visible(self, visible: bool) -> None:
        self.image.setVisible(visible)
        self.colour_bar.setVisible(visible)

    def _redraw(self) -> None:
        land = self.landscape
        if land is None or len(land) == 0:
            self.image.clear()
            self._set_visible(False)
            return
        values = land.image(IMAGE_SHAPE)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            self._set_visible(False)
            return
        if self.log:
            values = np.log10(np.clip(values, 1e-4, None))
            finite = np.log10(np.clip(finite, 1e-4, None))
        low, high = float(finite.min()), float(np.percentile(finite, 90))
        if high <= low:
            high = low + 1e-6
        self.image.setImage(values, autoLevels=False)
        self.colour_bar.setLevels((low, high))
        set_bar_label(self.colour_bar, LABELS[self.log])
        lo, hi = land.box
        self.image.setRect(QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]))
        self._set_visible(self._shown)

    def _mouse_moved(self, position: QPointF) -> None:
        if not self.image.isVisible():
            return
        point = self.plot.vb.mapSceneToView(position)
        text = self.hover_text((point.x(), point.y()))
        self.image.setToolTip(text)
        self.hovered.emit(text)


class LandscapeControls(QWidget):
    """Toggle, log switch and opacity slider for a :class:`LandscapeLayer`."""

    def __init__(self, layer: LandscapeLayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer = layer
        self.shown = QCheckBox("Rw landscape")
        self.shown.setChecked(True)
        self.shown.setToolTip("Show how well the data fit everywhere on the map")
        self.log = QCheckBox("log")
        self.log.setToolTip("Colour by log₁₀ Rw")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(round(layer.image.opacity() * 100))
        self.opacity.setToolTip("Opacity of the landscape")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.shown, self.log, QLabel("opacity"), self.opacity):
            layout.addWidget(widget)
        self.shown.toggled.connect(layer.set_shown)
        self.log.toggled.connect(layer.set_log)
        self.opacity.valueChanged.connect(lambda v: layer.set_opacity(v / 100))
