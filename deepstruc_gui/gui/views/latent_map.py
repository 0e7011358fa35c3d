"""The latent map: training structures, the prior, the sampling region, candidates."""

from __future__ import annotations

import functools

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal

from deepstruc_gui.gui.views.colour_bars import add_colour_bar, set_bar_label
from deepstruc_gui.gui.views.ellipse_labels import place_on_ellipses, text_rect
from deepstruc_gui.gui.views.map_key import TypeNames, fill_legend, point_style
from deepstruc_gui.model.bundle import LatentMap
from deepstruc_gui.model.names import readable_name

SIGMA_LEVELS = (3, 5, 7)
#: where on its ring each σ label goes first (degrees, 0 = +z₁, 90 = +z₂): apart from
#: each other and from "your data" (left of the prior's mean) and "centre" (right)
SIGMA_ANGLES = (100, 65, 30)
#: the sampled points: viridis by Rw with a thin dark rim, so that they stand out on
#: the (grey) Rw landscape, on white and on the training points alike
POINT_SIZE = 7
POINT_OUTLINE = pg.mkPen("#202020", width=1.0)
#: the "centre" label's places beside its marker, tried in turn until one misses "your
#: data": (offset in px, x right and y up as pyqtgraph's ``TargetLabel``; anchor)
CENTRE_PLACES = (((8, -8), (0, 0.5)), ((-8, -8), (1, 0.5)), ((0, 10), (0.5, 1)),
                 ((0, -10), (0.5, 0)))  # fmt: skip


RW_LEVELS = 32
#: what the candidates' colour bar shows (the landscape's bar says its own)
RW_POINTS_LABEL = "Rw of the sampled points"


@functools.cache
def rw_brushes() -> tuple:
    """Candidate colours by Rw within the search (viridis, best dark), shared brushes."""
    cmap = pg.colormap.get("viridis")
    return tuple(pg.mkBrush(cmap.map(k / (RW_LEVELS - 1), mode="qcolor")) for k in range(RW_LEVELS))


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
    hovered = Signal(float, float)  # the cursor over the map, when ``hover_decode`` is on

    def __init__(self, parent=None) -> None:
        super().__init__(parent=parent, background="w")
        self.setLabel("bottom", "z₁")
        self.setLabel("left", "z₂")
        self.showGrid(x=True, y=True, alpha=0.15)
        # equal aspect: a circle in latent units looks like one, and what is dragged is
        # what is searched
        self.getPlotItem().setAspectLocked(True, ratio=1.0)
        self.legend = self.addLegend(
            offset=(5, 5), labelTextSize="8pt", brush=pg.mkBrush(255, 255, 255, 220)
        )
        self.rw_bar = pg.ColorBarItem(
            values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"), interactive=False, width=12
        )
        set_bar_label(self.rw_bar, RW_POINTS_LABEL)
        add_colour_bar(self.getPlotItem(), self.rw_bar)  # the landscape's goes beside it
        self.rw_bar.setVisible(False)
        self.map_points = pg.ScatterPlotItem(hoverable=True, tip=self._tip, pxMode=True)
        self.map_points.sigClicked.connect(self._map_clicked)
        self.addItem(self.map_points)
        self.sample_points = pg.ScatterPlotItem(pxMode=True, symbol="o", size=POINT_SIZE)
        self.sample_points.sigClicked.connect(self._sample_clicked)
        self.addItem(self.sample_points)
        self.selected_marker = pg.ScatterPlotItem(
            pxMode=True,
            symbol="star",
            size=18,
            brush=pg.mkBrush("#FFD400"),
            pen=pg.mkPen("k", width=1),
        )
        self.selected_marker.setZValue(18)  # above the type names' boxes
        self.addItem(self.selected_marker)
        self.prior_curves = [
            self.plot(pen=pg.mkPen("#333", width=1.2, style=pg.QtCore.Qt.PenStyle.DashLine))
            for _ in SIGMA_LEVELS
        ]
        self.prior_labels = [
            pg.TextItem(f"{k}σ", color="#333", anchor=(0, 1), fill=pg.mkBrush(255, 255, 255, 170))
            for k in SIGMA_LEVELS
        ]
        for label in self.prior_labels:
            label.setZValue(20)  # above the points and the landscape
            label.setVisible(False)
            self.addItem(label)
        self._prior_key = pg.PlotDataItem(pen=self.prior_curves[0].opts["pen"])
        self.prior_marker = pg.ScatterPlotItem(symbol="x", size=14, pen=pg.mkPen("#000", width=2))
        self.addItem(self.prior_marker)
        self.data_label = pg.TextItem(
            "your data", color="#000", anchor=(1.05, -0.1), fill=pg.mkBrush(255, 255, 255, 200)
        )
        self.data_label.setVisible(False)
        self.addItem(self.data_label)
        self.decoded_marker = pg.ScatterPlotItem(
            symbol="+", size=16, pen=pg.mkPen("#D62728", width=2), pxMode=True
        )
        self.decoded_marker.setZValue(18)
        self.addItem(self.decoded_marker)
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
            labelOpts={
                "color": "#D62728",
                "offset": CENTRE_PLACES[0][0],
                "anchor": CENTRE_PLACES[0][1],
                "fill": pg.mkBrush(255, 255, 255, 200),  # readable on the grey landscape
            },
        )
        self.target.sigPositionChanged.connect(self._target_moved)
        self.target.sigPositionChangeFinished.connect(self._target_released)
        self.addItem(self.target)
        self.scene().sigMouseClicked.connect(self._scene_clicked)
        self.hover_decode = False
        self.scene().sigMouseMoved.connect(self._scene_moved)
        self.setFocusPolicy(pg.QtCore.Qt.FocusPolicy.StrongFocus)

        self._latent_map: LatentMap | None = None
        self.type_names = TypeNames(self)
        self._semi_axes = np.array([1.0, 1.0])
        self._updating = False
        self._candidate_points = np.zeros((0, 2))
        self._prior: tuple[np.ndarray, np.ndarray] | None = None
        self._show_region(False)
        vb = self.getPlotItem().vb
        vb.sigTransformChanged.connect(self.place_prior_labels)
        vb.sigResized.connect(self.place_prior_labels)

    # --- state → view -------------------
    def set_axis_titles(self, x: str, y: str) -> None:
        """Axis titles: z₁, z₂, or what a designed map's axes carry
        (:func:`deepstruc_gui.model.map_fit.map_axis_titles`)."""
        self.setLabel("bottom", x)
        self.setLabel("left", y)

    def set_latent_map(self, latent_map: LatentMap | None) -> None:
        self._latent_map = latent_map
        self.legend.clear()
        self.type_names.set_map(latent_map)
        if latent_map is None or len(latent_map) == 0:
            self.map_points.clear()
            self.place_prior_labels()
            return
        sizes, brushes, cmap = point_style(latent_map)
        self.map_points.setData(
            pos=latent_map.mu,
            size=sizes,
            brush=brushes,
            pen=pg.mkPen(None),
            data=np.arange(len(latent_map)),
        )
        fill_legend(self.legend, latent_map, cmap)
        # the dashed rings, named whether or not their own labels find room
        self.legend.addItem(self._prior_key, "prior 3σ/5σ/7σ")
        self.legend.setColumnCount(2)  # half as tall: covers less of the map
        self.autoRange()
        self.place_prior_labels()

    @property
    def type_labels(self) -> list[pg.TextItem]:
        """The structure-type names on the map (:class:`~.map_key.TypeNames`)."""
        return self.type_names.items

    def set_prior(self, mean: np.ndarray | None, sigma: np.ndarray | None) -> None:
        if mean is None or sigma is None:
            self._prior = None
            for curve in self.prior_curves:
                curve.setData([], [])
            for label in self.prior_labels:
                label.setVisible(False)
            self.prior_marker.clear()
            self.data_label.setVisible(False)
            return
        self._prior = (np.asarray(mean, float), np.asarray(sigma, float))
        for k, curve in zip(SIGMA_LEVELS, self.prior_curves, strict=True):
            x, y = ellipse_points(mean, k * np.asarray(sigma))
            curve.setData(x, y)
        self.prior_marker.setData(pos=[mean])
        self.data_label.setPos(float(mean[0]), float(mean[1]))
        self.data_label.setVisible(True)
        self.place_prior_labels()

    def place_prior_labels(self, *_) -> None:
        """Put the 3σ/5σ/7σ labels on their rings where they overlap neither each
        other, "your data", "centre" nor a type name (and, where there is room, not
        the legend); one with no such place at this zoom is hidden (the legend names
        the rings). Redone on every zoom, pan, resize and move of the centre."""
        if self._prior is None:
            return
        vb = self.getPlotItem().vb
        hard = [
            text_rect(self.data_label, vb.mapViewToScene(self.data_label.pos()),
                      self.data_label.anchor)
        ]  # fmt: skip
        if self.target.isVisible():
            hard.append(self._place_centre_label(vb, hard[0]))
        hard += self.type_names.scene_rects(vb)
        soft = [self.legend.sceneBoundingRect()] if self.legend.isVisible() else []
        mean, sigma = self._prior
        place_on_ellipses(
            vb, self.prior_labels, mean, [k * sigma for k in SIGMA_LEVELS], SIGMA_ANGLES,
            hard, soft,
        )  # fmt: skip

    def _place_centre_label(self, vb: pg.ViewBox, data_box: QRectF) -> QRectF:
        """Put "centre" beside its marker where it misses "your data" (right of the
        marker unless that overlaps); returns its scene rect."""
        label = self.target.label()
        at = vb.mapViewToScene(self.target.pos())
        for offset, anchor in CENTRE_PLACES:
            point = at + QPointF(offset[0], -offset[1])  # screen y runs down
            box = text_rect(label, point, anchor)
            if not box.adjusted(-2, -2, 2, 2).intersects(data_box):
                break
        if (label.offset.x(), label.offset.y()) != offset or tuple(label.anchor) != anchor:
            label.offset = pg.Point(*offset)
            label.setAnchor(anchor)
            label.viewTransformChanged()  # moves to the new offset
        return box

    def set_region(self, center, semi_axes: np.ndarray) -> None:
        """Place the marker and the sampling ellipse without emitting user signals."""
        self._updating = True
        try:
            self._semi_axes = np.asarray(semi_axes, float)
            self.target.setPos(QPointF(float(center[0]), float(center[1])))
            self._place_region(center)
            self._show_region(True)
            self.place_prior_labels()
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
            self.rw_bar.setVisible(False)
            return
        lo, hi = float(np.min(rw)), float(np.quantile(rw, 0.9)) + 1e-9
        self.rw_bar.setLevels((lo, hi))
        self.rw_bar.setVisible(True)
        values = np.clip((np.asarray(rw) - lo) / (hi - lo), 0, 1)
        # a few shared brushes: pyqtgraph renders one symbol per distinct brush, and a
        # brush per point made each streamed batch of a whole-map search take ~0.15 s
        palette = rw_brushes()
        brushes = [palette[k] for k in np.round(values * (RW_LEVELS - 1)).astype(int)]
        self.sample_points.setData(
            pos=self._candidate_points,
            brush=brushes,
            pen=POINT_OUTLINE,
            data=index,
        )

    def set_decoded(self, latent: np.ndarray | None) -> None:
        """Mark the point whose structure is shown (a map click, a preview)."""
        if latent is None:
            self.decoded_marker.clear()
        else:
            self.decoded_marker.setData(pos=[np.asarray(latent, float)])

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
        metal = m.metals[i] if i < len(m.metals) else None
        return readable_name(m.names[i], m.types[i], m.n_atoms[i], metal)

    # --- view → intent -------------------
    def keyPressEvent(self, event) -> None:
        """Arrow keys move the centre marker a quarter of the region (Shift: a whole
        region) and search there; Ctrl+Up/Down grow/shrink the region's radius."""
        Key, Mod = pg.QtCore.Qt.Key, pg.QtCore.Qt.KeyboardModifier
        steps = {Key.Key_Left: (-1, 0), Key.Key_Right: (1, 0), Key.Key_Up: (0, 1),
                 Key.Key_Down: (0, -1)}  # fmt: skip
        step = steps.get(event.key())
        if step is None or not self.target.isVisible():
            super().keyPressEvent(event)
            return
        event.accept()
        if event.modifiers() & Mod.ControlModifier:
            if step[1]:
                factor = 1.2 if step[1] > 0 else 1 / 1.2
                self.radius_changed.emit(float(np.sqrt(self._semi_axes.prod())) * factor)
            return
        scale = 1.0 if event.modifiers() & Mod.ShiftModifier else 0.25
        pos = self.target.pos()
        x = pos.x() + step[0] * scale * self._semi_axes[0]
        y = pos.y() + step[1] * scale * self._semi_axes[1]
        self.set_region((x, y), self._semi_axes)
        self.center_released.emit(float(x), float(y))

    def _target_moved(self) -> None:
        pos = self.target.pos()
        self._place_region((pos.x(), pos.y()))
        self.place_prior_labels()
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
        """A click on training points: one decodes it; overlapping ones offer the choice."""
        indices = list(dict.fromkeys(int(p.data()) for p in points))
        if len(indices) > 1:
            chosen = self.choose_point(indices)
            indices = [] if chosen is None else [chosen]
        if indices:
            self.training_point_clicked.emit(indices[0])

    def choose_point(self, indices: list[int]) -> int | None:
        """A menu of the overlapping training structures at the cursor (tests replace it)."""
        from PySide6.QtGui import QCursor
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self)
        for i in indices[:20]:
            menu.addAction(self._tip(0, 0, i)).setData(i)
        picked = menu.exec(QCursor.pos())
        return None if picked is None else int(picked.data())

    def _sample_clicked(self, item, points, ev=None) -> None:
        if len(points):
            self.candidate_clicked.emit(int(points[0].data()))

    def _scene_moved(self, pos) -> None:
        if self.hover_decode:
            vb = self.getPlotItem().vb
            if vb.sceneBoundingRect().contains(pos):
                p = vb.mapSceneToView(pos)
                self.hovered.emit(p.x(), p.y())

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
