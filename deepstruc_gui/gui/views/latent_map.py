"""The latent map: training structures, the prior, the sampling region, candidates."""

from __future__ import annotations

import functools

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QColor

from deepstruc_gui.model.bundle import LatentMap

#: the paper's colours
TYPE_COLOURS = {
    "fcc": "#19ADFF", "bcc": "#4F8F00", "sc": "#941100", "octahedral": "#212121",
    "icosahedral": "#005493", "decahedral": "#FF950E", "hcp": "#FF8AD8",
    "faulted": "#9E7BFF",
}  # fmt: skip
SIGMA_LEVELS = (3, 5, 7)


RW_LEVELS = 32


@functools.cache
def rw_brushes() -> tuple:
    """Candidate colours by Rw within the search (viridis, best dark), shared brushes."""
    cmap = pg.colormap.get("viridis")
    return tuple(pg.mkBrush(cmap.map(k / (RW_LEVELS - 1), mode="qcolor")) for k in range(RW_LEVELS))


def type_colour(kind: str) -> QColor:
    return QColor(TYPE_COLOURS.get(kind, "#888888"))


def ellipse_points(center, semi_axes, n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, 2 * np.pi, n)
    return center[0] + semi_axes[0] * np.cos(t), center[1] + semi_axes[1] * np.sin(t)


class LatentMapView(pg.PlotWidget):
    """Observes the session's map, prior, query and candidates; emits user intent."""

    center_dragged = Signal(float, float)  # live, while dragging
    center_released = Signal(float, float)  # drag finished: start a solve
    radius_changed = Signal(float)  # the circle handle was dragged (free radius)
    training_point_clicked = Signal(int)  # index into the latent map
    empty_clicked = Signal(float, float)
    candidate_clicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent=parent, background="w")
        self.setLabel("bottom", "z₁")
        self.setLabel("left", "z₂")
        self.showGrid(x=True, y=True, alpha=0.15)
        self.getPlotItem().setAspectLocked(False)
        self.legend = self.addLegend(offset=(5, 5), labelTextSize="8pt")
        self.map_points = pg.ScatterPlotItem(hoverable=True, tip=self._tip, pxMode=True)
        self.map_points.sigClicked.connect(self._map_clicked)
        self.addItem(self.map_points)
        self.sample_points = pg.ScatterPlotItem(pxMode=True, symbol="o", size=6)
        self.sample_points.sigClicked.connect(self._sample_clicked)
        self.addItem(self.sample_points)
        self.selected_marker = pg.ScatterPlotItem(
            pxMode=True,
            symbol="star",
            size=18,
            brush=pg.mkBrush("#FFD400"),
            pen=pg.mkPen("k", width=1),
        )
        self.addItem(self.selected_marker)
        self.prior_curves = [
            self.plot(pen=pg.mkPen("#333", width=1.2, style=pg.QtCore.Qt.PenStyle.DashLine))
            for _ in SIGMA_LEVELS
        ]
        self.prior_labels = [
            pg.TextItem(f"{k}σ", color="#333", anchor=(0, 1)) for k in SIGMA_LEVELS
        ]
        for label in self.prior_labels:
            self.addItem(label)
        self.prior_marker = pg.ScatterPlotItem(symbol="x", size=14, pen=pg.mkPen("#000", width=2))
        self.addItem(self.prior_marker)
        self.region = pg.EllipseROI(
            [0, 0],
            [1, 1],
            movable=False,
            rotatable=False,
            resizable=False,
            pen=pg.mkPen("#D62728", width=2),
        )
        for handle in list(self.region.getHandles()):
            self.region.removeHandle(handle)
        self.region.addScaleHandle(
            [0.5 + 0.5 / np.sqrt(2), 0.5 + 0.5 / np.sqrt(2)], [0.5, 0.5], lockAspect=True
        )
        self.region.sigRegionChangeFinished.connect(self._region_resized)
        self.addItem(self.region)
        self.target = pg.TargetItem(
            pos=(0, 0),
            size=16,
            movable=True,
            pen=pg.mkPen("#D62728", width=2),
            label="centre",
            labelOpts={"color": "#D62728", "offset": (8, -8)},
        )
        self.target.sigPositionChanged.connect(self._target_moved)
        self.target.sigPositionChangeFinished.connect(self._target_released)
        self.addItem(self.target)
        self.scene().sigMouseClicked.connect(self._scene_clicked)
        self._latent_map: LatentMap | None = None
        self._semi_axes = np.array([1.0, 1.0])
        self._updating = False
        self._candidate_points = np.zeros((0, 2))
        self._show_region(False)

    # --- state → view -------------------
    def set_latent_map(self, latent_map: LatentMap | None) -> None:
        self._latent_map = latent_map
        self.legend.clear()
        if latent_map is None or len(latent_map) == 0:
            self.map_points.clear()
            return
        n = np.asarray(latent_map.n_atoms, float)
        sizes = 4 + 10 * np.sqrt(n / max(n.max(), 1))
        stacking = np.isfinite(latent_map.fcc_fraction).any() and "faulted" in latent_map.types
        if stacking:
            cmap = pg.colormap.get("CET-D1")
            colours = [
                cmap.map(float(f), mode="qcolor") if np.isfinite(f) else QColor("#888")
                for f in latent_map.fcc_fraction
            ]
        else:
            colours = [type_colour(t) for t in latent_map.types]
        brushes = [pg.mkBrush(c.red(), c.green(), c.blue(), 150) for c in colours]
        self.map_points.setData(
            pos=latent_map.mu,
            size=sizes,
            brush=brushes,
            pen=pg.mkPen(None),
            data=np.arange(len(latent_map)),
        )
        for kind in dict.fromkeys(latent_map.types):
            sample = pg.ScatterPlotItem(
                symbol="o", size=9, brush=pg.mkBrush(type_colour(kind)), pen=pg.mkPen(None)
            )
            self.legend.addItem(sample, kind)
        self.autoRange()

    def set_prior(self, mean: np.ndarray | None, sigma: np.ndarray | None) -> None:
        if mean is None or sigma is None:
            for curve in self.prior_curves:
                curve.setData([], [])
            for label in self.prior_labels:
                label.setVisible(False)
            self.prior_marker.clear()
            return
        for k, curve, label in zip(SIGMA_LEVELS, self.prior_curves, self.prior_labels, strict=True):
            x, y = ellipse_points(mean, k * np.asarray(sigma))
            curve.setData(x, y)
            label.setPos(mean[0] + k * sigma[0] * 0.71, mean[1] + k * sigma[1] * 0.71)
            label.setVisible(True)
        self.prior_marker.setData(pos=[mean])

    def set_region(self, center, semi_axes: np.ndarray) -> None:
        """Place the marker and the sampling ellipse without emitting user signals."""
        self._updating = True
        try:
            self._semi_axes = np.asarray(semi_axes, float)
            self.target.setPos(QPointF(float(center[0]), float(center[1])))
            self._place_region(center)
            self._show_region(True)
        finally:
            self._updating = False

    def set_candidates(self, latents: np.ndarray, rw: np.ndarray) -> None:
        """Candidates' map points (n, 2) coloured by Rw (n,). Rows that are not finite
        (a size-extension candidate has no map point) are not drawn; a click still
        reports the candidate's index in the full list."""
        latents = np.asarray(latents, float).reshape(-1, 2)
        rw = np.asarray(rw, float).reshape(-1)
        on_map = np.all(np.isfinite(latents), axis=1)
        index = np.flatnonzero(on_map)
        self._candidate_points = latents[on_map]
        rw = rw[on_map]
        if len(rw) == 0:
            self.sample_points.clear()
            return
        lo, hi = float(np.min(rw)), float(np.quantile(rw, 0.9)) + 1e-9
        values = np.clip((np.asarray(rw) - lo) / (hi - lo), 0, 1)
        # a few shared brushes: pyqtgraph renders one symbol per distinct brush, and a
        # brush per point made each streamed batch of a whole-map search take ~0.15 s
        palette = rw_brushes()
        brushes = [palette[k] for k in np.round(values * (RW_LEVELS - 1)).astype(int)]
        self.sample_points.setData(
            pos=self._candidate_points,
            brush=brushes,
            pen=pg.mkPen("k", width=0.3),
            data=index,
        )

    def set_selected(self, latent: np.ndarray | None) -> None:
        if latent is None or not np.all(np.isfinite(latent)):
            self.selected_marker.clear()
        else:
            self.selected_marker.setData(pos=[latent])

    # --- helpers -------------------
    def _show_region(self, visible: bool) -> None:
        self.target.setVisible(visible)
        self.region.setVisible(visible)

    def _place_region(self, center) -> None:
        a, b = self._semi_axes
        self.region.setPos((center[0] - a, center[1] - b), update=False, finish=False)
        self.region.setSize((2 * a, 2 * b), update=True, finish=False)

    def _tip(self, x, y, data) -> str:
        m = self._latent_map
        if m is None:
            return ""
        i = int(data)
        return f"{m.names[i]}\n{m.types[i]}, {int(m.n_atoms[i])} atoms"

    # --- view → intent -------------------
    def _target_moved(self) -> None:
        pos = self.target.pos()
        self._place_region((pos.x(), pos.y()))
        if not self._updating:
            self.center_dragged.emit(pos.x(), pos.y())

    def _target_released(self) -> None:
        if not self._updating:
            pos = self.target.pos()
            self.center_released.emit(pos.x(), pos.y())

    def _region_resized(self) -> None:
        if self._updating:
            return
        size = self.region.size()
        self._semi_axes = np.array([size.x(), size.y()]) / 2
        pos = self.target.pos()
        self._place_region((pos.x(), pos.y()))
        self.radius_changed.emit(float(np.sqrt(self._semi_axes.prod())))

    def _map_clicked(self, item, points, ev=None) -> None:
        if len(points):
            self.training_point_clicked.emit(int(points[0].data()))

    def _sample_clicked(self, item, points, ev=None) -> None:
        if len(points):
            self.candidate_clicked.emit(int(points[0].data()))

    def _scene_clicked(self, event) -> None:
        """A click on empty map space decodes that point (points have their own)."""
        if event.button() != pg.QtCore.Qt.MouseButton.LeftButton or event.double():
            return
        vb = self.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        for item in (self.map_points, self.sample_points):
            if len(item.pointsAt(p)):
                return
        if self.target.mapRectToScene(self.target.boundingRect()).contains(event.scenePos()):
            return
        self.empty_clicked.emit(p.x(), p.y())
