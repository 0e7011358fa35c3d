"""Measured G(r), the selected candidate's fit and the difference, with the fit range.

The text at the top right names what is shown, its Rw and refined parameters, one
line each, each shortened with "…" to the plot's width (a training structure's long
name never pushes Rw off a narrow plot)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetricsF

from deepstruc_gui.model.candidate import Candidate
from deepstruc_gui.science.pdf_io import PDFData

#: the difference curve sits this far below zero, in units of the data's largest |G|
DIFF_OFFSET = -0.72


class PDFPanel(pg.PlotWidget):
    """Observes data and selection; the draggable region sends a new fit range."""

    fit_range_changed = Signal(float, float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent=parent, background="w")
        self.setLabel("bottom", "r (Å)")
        self.setLabel("left", "G(r)")
        self.showGrid(x=True, y=True, alpha=0.15)
        # top right, below the what / Rw / parameters text
        self.legend = self.addLegend(offset=(-5, 62), labelTextSize="9pt")
        self.obs = self.plot(
            pen=None,
            symbol="o",
            symbolSize=3,
            symbolBrush="#1F4E99",
            symbolPen=None,
            name="measured",
        )
        self.calc = self.plot(pen=pg.mkPen("#D62728", width=2), name="fit")
        self.diff = self.plot(pen=pg.mkPen("#2CA02C", width=1.2), name="difference")
        self.zero = pg.InfiniteLine(angle=0, pen=pg.mkPen("#888", width=0.8))
        self.addItem(self.zero, ignoreBounds=True)
        self.region = pg.LinearRegionItem(
            values=(2.0, 30.0), brush=(100, 100, 100, 25), movable=True
        )
        self.region.sigRegionChangeFinished.connect(self._region_changed)
        self.addItem(self.region, ignoreBounds=True)
        self.info = pg.TextItem("", color="#000", anchor=(1, 0), fill=(255, 255, 255, 160))
        self.info.setParentItem(self.getPlotItem().vb)
        self._lines: list[str] = []  # the info text's lines before shortening
        self.getPlotItem().vb.sigResized.connect(self._place_info)
        self._updating = False
        self._data: PDFData | None = None

    def set_data(self, data: PDFData | None) -> None:
        self._data = data
        if data is None:
            self.obs.setData([], [])
        else:
            self.obs.setData(data.r, data.g)
        self.show_candidate(None)
        if data is not None:
            # one fixed view that holds the data and, below, the difference curve of
            # any fit: following the curves (auto-range) re-measured the 5,000-point
            # data at every live preview and halved the previews per second
            top = self._top()
            self.setXRange(float(data.r.min()), float(data.r.max()), padding=0.01)
            self.setYRange(DIFF_OFFSET * top - top, 1.1 * top, padding=0)

    def set_fit_range(self, rmin: float, rmax: float) -> None:
        self._updating = True
        self.region.setRegion((rmin, rmax))
        self._updating = False

    def show_candidate(self, c: Candidate | None, title: str = "") -> None:
        if c is None or self._data is None or len(c.r) == 0:
            self.calc.setData([], [])
            self.diff.setData([], [])
            self._lines = []
            self._place_info()
            return
        obs = np.interp(c.r, self._data.r, self._data.g)
        offset = DIFF_OFFSET * self._top()
        self.calc.setData(c.r, c.gcalc)
        self.diff.setData(c.r, obs - c.gcalc + offset)
        self.zero.setPos(offset)
        title = title.strip().rstrip(":").strip()
        self._lines = [title] if title else []
        self._lines += [
            f"Rw = {c.rw:.4f}   {c.n_atoms} atoms ({c.nearest_type})",
            f"scale {c.scale:.4g}   expansion {c.expansion:.4f}   Biso {c.biso:.3f} Å²",
        ]
        self._place_info()

    def _place_info(self, *_) -> None:
        """Each line shortened with "…" to the plot's width, at its top right."""
        rect = self.getPlotItem().vb.boundingRect()
        metrics = QFontMetricsF(self.info.textItem.font())
        room = max(rect.width() - 20, 40)
        lines = [metrics.elidedText(t, Qt.TextElideMode.ElideRight, room) for t in self._lines]
        self.info.setText("\n".join(lines))
        self.info.setPos(rect.width() - 5, 5)

    def _top(self) -> float:
        return max(float(np.abs(self._data.g).max()), 1e-9) if self._data is not None else 1.0

    @property
    def curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {
            name: item.getData()
            for name, item in (
                ("measured", self.obs),
                ("fit", self.calc),
                ("difference", self.diff),
            )
        }

    def _region_changed(self) -> None:
        if not self._updating:
            lo, hi = self.region.getRegion()
            self.fit_range_changed.emit(float(lo), float(hi))
