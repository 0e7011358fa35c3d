"""What the latent map's training points mean: their colours (the paper's per type, or
the fcc fraction of a stacking map), the legend that says so, and the structure-type
names drawn at the clusters' centres.

The names sit on a light, slightly see-through box with a thin rim of their colour,
so they read where they cross the scattered points (the map's ground is white on
screen and in the PNG/SVG exports and the figure, so one box suits all). Their
on-screen boxes are obstacles the σ labels keep clear of
(:func:`deepstruc_gui.gui.views.ellipse_labels.place_on_ellipses`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor

from deepstruc_gui.gui.views.ellipse_labels import text_rect
from deepstruc_gui.model.bundle import LatentMap

#: the paper's colours
TYPE_COLOURS = {
    "fcc": "#19ADFF", "bcc": "#4F8F00", "sc": "#941100", "octahedral": "#212121",
    "icosahedral": "#005493", "decahedral": "#FF950E", "hcp": "#FF8AD8",
    "faulted": "#9E7BFF",
}  # fmt: skip
#: the training points' opacity (0–255): overlapping clusters stay visible
POINT_ALPHA = 150
#: behind each type name: white, a little see-through (the points show as a hint)
NAME_FILL = (255, 255, 255, 200)
#: the rim of a type name's box: its colour, faint
NAME_RIM_ALPHA = 110
#: the gap (px) σ labels keep from a name's box, besides their own margin
NAME_CLEARANCE = 2.0
#: drawn above the training and sampled points, below the markers of the selected and
#: the shown point (z 18) and the σ labels (z 20)
NAME_Z = 5


def type_colour(kind: str) -> QColor:
    """The paper's colour of a structure type (grey for one it does not name)."""
    return QColor(TYPE_COLOURS.get(kind, "#888888"))


def point_style(latent_map: LatentMap) -> tuple[np.ndarray, list, pg.ColorMap | None]:
    """Each training point's size (px, (n,): grows as √atoms) and brush, and the colour
    map of a stacking map's fcc fraction (None: coloured by type)."""
    n = np.asarray(latent_map.n_atoms, float)
    sizes = 4 + 10 * np.sqrt(n / max(n.max(), 1))
    stacking = np.isfinite(latent_map.fcc_fraction).any() and "faulted" in latent_map.types
    cmap = pg.colormap.get("CET-D1") if stacking else None
    if cmap is not None:
        colours = [
            cmap.map(float(f), mode="qcolor") if np.isfinite(f) else QColor("#888")
            for f in latent_map.fcc_fraction
        ]
    else:
        colours = [type_colour(t) for t in latent_map.types]
    brushes = [pg.mkBrush(c.red(), c.green(), c.blue(), POINT_ALPHA) for c in colours]
    return sizes, brushes, cmap


def fill_legend(legend: pg.LegendItem, latent_map: LatentMap, cmap: pg.ColorMap | None) -> None:
    """The colours (types, or the fcc fraction with ``cmap``) and a size key."""
    if cmap is not None:  # the legend says what the colours say: the fcc fraction
        for f, name in ((0.0, "fcc fraction 0 (hcp)"), (0.5, "0.5"), (1.0, "1 (fcc)")):
            sample = pg.ScatterPlotItem(
                symbol="o", size=9, brush=pg.mkBrush(cmap.map(f, mode="qcolor")), pen=None
            )
            legend.addItem(sample, name)
    else:
        for kind in dict.fromkeys(latent_map.types):
            sample = pg.ScatterPlotItem(
                symbol="o", size=9, brush=pg.mkBrush(type_colour(kind)), pen=pg.mkPen(None)
            )
            legend.addItem(sample, kind)
    n = np.asarray(latent_map.n_atoms, float)
    for atoms in sorted({int(n.min()), int(np.median(n)), int(n.max())}):  # size key
        sample = pg.ScatterPlotItem(
            symbol="o",
            size=float(4 + 10 * np.sqrt(atoms / max(n.max(), 1))),
            brush=pg.mkBrush("#BBBBBB"),
            pen=pg.mkPen("#555"),
        )
        legend.addItem(sample, f"{atoms} atoms")


class TypeNames:
    """The type names on ``plot`` (a pyqtgraph ``PlotItem`` or ``PlotWidget``), one
    ``pg.TextItem`` per type at the median of its training points (``items``)."""

    def __init__(self, plot) -> None:
        self.plot = plot
        self.items: list[pg.TextItem] = []

    def set_map(self, latent_map: LatentMap | None) -> None:
        """Name the types of ``latent_map`` (none for None or an empty map)."""
        for item in self.items:
            self.plot.removeItem(item)
        self.items = []
        if latent_map is None or len(latent_map) == 0:
            return
        types = np.asarray(latent_map.types)
        for kind in dict.fromkeys(latent_map.types):
            at = np.median(latent_map.mu[types == kind], axis=0)
            colour = type_colour(kind)
            rim = QColor(colour)
            rim.setAlpha(NAME_RIM_ALPHA)
            item = pg.TextItem(
                kind,
                color=colour.darker(150),
                anchor=(0.5, 0.5),
                fill=pg.mkBrush(*NAME_FILL),
                border=pg.mkPen(rim, width=1),
            )
            item.setPos(float(at[0]), float(at[1]))
            item.setZValue(NAME_Z)
            self.plot.addItem(item)
            self.items.append(item)

    def scene_rects(self, vb: pg.ViewBox) -> list[QRectF]:
        """The scene rectangle each shown name covers at ``vb``'s present transform
        (computed from its position, not from the item, whose own transform follows
        a zoom only when it is next painted), grown by :data:`NAME_CLEARANCE` px."""
        c = NAME_CLEARANCE
        return [
            text_rect(item, vb.mapViewToScene(item.pos()), item.anchor).adjusted(-c, -c, c, c)
            for item in self.items
            if item.isVisible()
        ]

    def texts(self) -> Sequence[str]:
        return [item.textItem.toPlainText() for item in self.items]
