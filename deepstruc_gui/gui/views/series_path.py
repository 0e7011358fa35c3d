"""A series' path on the latent map: its frames' best points joined in order.

One pyqtgraph item to add to the latent map's plot (``plot.addItem(item)``): a grey
line through the points in frame order and the points coloured by frame (viridis,
first frame dark, last bright), so a phase transition shows as a jump from one
structure's region to another's. Clicking a point emits its frame number.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal

COLORMAP = "viridis"


class SeriesPathItem(pg.GraphicsObject):
    """Points (n, 2) joined in order, coloured by frame; ``frame_clicked(int)``.

    :meth:`set_path` replaces the path; ``frames`` are the frame numbers the points
    belong to (default 1…n), shown in the tooltips and emitted on a click.
    """

    frame_clicked = Signal(int)

    def __init__(self, size: float = 9.0) -> None:
        super().__init__()
        self.size = size
        self.frames = np.zeros(0, dtype=int)
        self.points = np.zeros((0, 2))
        self.line = pg.PlotCurveItem(pen=pg.mkPen("#555555", width=1.5))
        self.line.setParentItem(self)
        self.scatter = pg.ScatterPlotItem(pxMode=True, hoverable=True, tip=self._tip)
        self.scatter.setParentItem(self)
        self.scatter.sigClicked.connect(self._clicked)
        self.setZValue(20)  # above the map's training points

    # --- data ----------------------------------------------------------------------
    def set_path(self, points: np.ndarray, frames: np.ndarray | None = None) -> None:
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        frames = np.arange(1, len(points) + 1) if frames is None else np.asarray(frames, int)
        if frames.shape != (len(points),):
            raise ValueError(f"{len(frames)} frame numbers for {len(points)} points")
        keep = np.isfinite(points).all(axis=1)
        self.points, self.frames = points[keep], frames[keep]
        self.prepareGeometryChange()
        self.line.setData(self.points[:, 0], self.points[:, 1])
        self.scatter.setData(
            pos=self.points,
            data=self.frames,
            size=self.size,
            brush=self.brushes(len(self.points)),
            pen=pg.mkPen("k", width=0.5),
        )
        self.update()

    def clear(self) -> None:
        self.set_path(np.zeros((0, 2)))

    @staticmethod
    def colours(n: int) -> list:
        """QColors of n frames in order along the colormap."""
        cmap = pg.colormap.get(COLORMAP)
        return [cmap.map(k / max(n - 1, 1), mode="qcolor") for k in range(n)]

    def brushes(self, n: int) -> list:
        return [pg.mkBrush(c) for c in self.colours(n)]

    # --- QGraphicsItem -----------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return self.childrenBoundingRect()

    def paint(self, painter, option, widget=None) -> None:  # the children draw
        pass

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        """Range of the points along axis ``ax`` (for the plot's auto-range)."""
        if len(self.points) == 0:
            return None
        return float(self.points[:, ax].min()), float(self.points[:, ax].max())

    # --- interaction -------------------------------------------------------------
    def _tip(self, x: float, y: float, data) -> str:
        return f"frame {data}\nz = ({x:.3f}, {y:.3f})"

    def _clicked(self, _item, spots, *_args) -> None:
        if len(spots):
            self.frame_clicked.emit(int(spots[0].data()))
